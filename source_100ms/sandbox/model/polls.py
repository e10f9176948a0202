"""Polls (with their per-session runs, responses and results) and RTMP stream keys of rooms.

There is no "list all polls" endpoint: poll ids are found in the rooms' ``polls`` field.
"""

from __future__ import annotations

from .clock import DAY, HOUR, NS, parse_ts
from .context import Context
from .ids import object_id
from .rooms import Rooms
from .sessions import Sessions


class PollsAndKeys:
    """Polls, their sessions, responses and results; and the stream key of some rooms."""

    def __init__(self, ctx: Context, rooms: Rooms, sessions: Sessions):
        self.ctx = ctx
        self.rooms = rooms
        self.sessions = sessions
        self.stream_keys: dict[str, dict] = {}
        self.polls: dict[str, dict] = {}
        self.poll_sessions: dict[str, list[dict]] = {}
        self.poll_responses: dict[str, list[dict]] = {}
        self.poll_results: dict[str, list[dict]] = {}

    def generate(self, n_polls: int) -> None:
        ts = self.ctx.ts
        rng = self.ctx.rng
        enabled = list(self.rooms.enabled)
        for rid in enabled:
            if rng.random() < 0.2:
                room = self.rooms.coll.objects[rid]
                created = parse_ts(room["created_at"]) + rng.randrange(1, HOUR)
                skid = object_id(created, rng)
                alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
                "".join(rng.choice(alphabet) for _ in range(20))  # was the key; drawn so the rest keeps its values
                key = self.ctx.mint("stream-key")
                self.stream_keys[rid] = {
                    "id": skid,
                    "key": key,
                    "room_id": rid,
                    "customer_id": self.ctx.customer_id,
                    "app_id": self.ctx.app_id,
                    "enabled": True,
                    "url": "rtmp://ingest.sandbox.100ms.live/live",
                    "created_at": self.ctx.ts(created),
                    "updated_at": self.ctx.ts(created),
                }
        for _ in range(n_polls):
            if not enabled:
                break
            rid = rng.choice(enabled)
            room = self.rooms.coll.objects[rid]
            created = parse_ts(room["created_at"]) + rng.randrange(1, DAY)
            pid = object_id(created, rng)
            room["polls"].append(pid)
            nq = rng.randint(1, 3)
            questions = []
            for qi in range(1, nq + 1):
                opts = [{"index": oi, "text": f"Option {oi}", "weight": 1 if oi == 1 else 0} for oi in range(1, 4)]
                questions.append({
                    "index": qi, "text": f"Question {qi}?", "format": "", "attachment": [], "skippable": qi > 1,
                    "duration": 0, "once": True, "weight": 10, "answer_min_len": 0, "answer_max_len": 0,
                    "type": "single-choice", "answer": {"hidden": False, "option": 1, "options": [], "text": ""},
                    "options": opts,
                })  # fmt: skip
            self.polls[pid] = {
                "id": pid,
                "title": f"Quick poll {len(self.polls) + 1}",
                "duration": rng.choice([0, 60, 300]),
                "anonymous": rng.random() < 0.3,
                "mode": "",
                "type": rng.choice(["poll", "quiz"]),
                "start": "",
                "questions": questions,
            }
            psess, presp, pres = [], [], []
            room_sessions = [self.sessions.coll.objects[s] for s in self.sessions.coll.by_room.get(rid, [])]
            for s in room_sessions[-2:]:
                if not s["peers"]:
                    continue
                s_start = self.sessions.coll.created_ns[s["id"]]
                ps_id = object_id(s_start + 60 * NS, rng)
                psess.append({"id": ps_id, "poll_id": pid, "session_id": s["id"],
                              "started_at": ts(s_start + 60 * NS), "stopped_at": ts(s_start + 360 * NS),
                              "total_responses": 0, "unique_participants": 0})  # fmt: skip
                voters = list(s["peers"].values())[: rng.randint(1, 5)]
                for peer in voters:
                    for q in questions:
                        at = s_start + rng.randrange(61 * NS, 359 * NS)
                        resp_id = object_id(at, rng)
                        opt = rng.randint(1, 3)
                        presp.append({"id": resp_id, "poll_id": pid, "session_id": s["id"], "duration": 5,
                                      "question": q["index"], "skipped": False, "text": "", "update": False,
                                      "original_response": "", "retries": 0, "sent_at": self.ctx.ts(at),
                                      "peer_id": peer["id"], "user_id": peer["user_id"], "option": opt})  # fmt: skip
                        pres.append({"id": resp_id, "poll_id": pid, "session_id": s["id"], "question": q["index"],
                                     "duration": 5, "peer_id": peer["id"], "user_id": peer["user_id"],
                                     "score": 10 if opt == 1 else 0})  # fmt: skip
                psess[-1]["total_responses"] = len(voters) * len(questions)
                psess[-1]["unique_participants"] = len(voters)
            self.poll_sessions[pid] = sorted(psess, key=lambda x: x["id"])
            self.poll_responses[pid] = sorted(presp, key=lambda x: x["id"])
            self.poll_results[pid] = sorted(pres, key=lambda x: x["id"])
