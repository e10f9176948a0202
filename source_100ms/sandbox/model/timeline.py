"""A busy workspace (a school or webinar platform): sessions start at a steady rate (``sessions_per_hour``)
in whichever rooms are free, last from minutes to the documented 12-hour maximum, and most are recorded.

Each session is planned whole when it starts: an active one keeps its planned end (``Sessions.planned_end``)
and ends at that time during a later ``advance``; a recording completes ``processing`` after its session
(``Media.planned_done``). A room hosts one session at a time, with a gap before the next.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .clock import HOUR, MINUTE, NS, parse_ts

if TYPE_CHECKING:
    from .activity import Changes
    from .workspace import Workspace

MAX_SESSION = 12 * HOUR - NS  # 100ms ends a session at 12 hours
RECENT = 24 * HOUR  # generation: the timeline covers the last day, the history what came before


class Timeline:
    """The steady stream of sessions of a busy workspace."""

    def __init__(self, ws: Workspace, sessions_per_hour: float):
        self.ws = ws
        self.rate = float(sessions_per_hour)
        self.free_at: dict[str, int] = {}  # room id -> when it can host its next session
        self.skipped = 0  # starts that found no free room

    # ----------------------------------------------------------------- planning

    def _duration(self) -> int:
        rng = self.ws.ctx.rng
        r = rng.random()
        if r < 0.55:
            d = rng.randrange(10 * MINUTE, HOUR)
        elif r < 0.85:
            d = rng.randrange(HOUR, 3 * HOUR)
        else:
            d = rng.randrange(3 * HOUR, 12 * HOUR)
        return min(d, MAX_SESSION)

    def _starts(self, t0: int, t1: int) -> list[int]:
        """Start times in (t0, t1], a Poisson process of ``rate`` per hour."""
        rng = self.ws.ctx.rng
        out, t = [], t0
        while True:
            t += int(rng.expovariate(self.rate) * HOUR) + 1
            if t > t1:
                return out
            out.append(t)

    def note_history(self) -> None:
        """Rooms are free after the last session of their history (plus a gap)."""
        sessions = self.ws.sessions_part
        for sid in sessions.coll.asc:
            s = sessions.coll.objects[sid]
            end = parse_ts(s["updated_at"]) if not s["active"] else self.ws.now_ns
            rid = s["room_id"]
            self.free_at[rid] = max(self.free_at.get(rid, 0), end + 5 * MINUTE)

    def _free_room(self, t: int) -> dict | None:
        ws = self.ws
        rng = ws.ctx.rng
        rooms = ws.rooms_part
        cands = [
            rid for rid in rooms.enabled if self.free_at.get(rid, 0) <= t and rooms.coll.created_ns[rid] < t - MINUTE
        ]
        if not cands:
            self.skipped += 1
            return None
        return rooms.coll.objects[rng.choice(cands)]

    def start_session(self, t: int, now: int) -> dict | None:
        """A session starting at ``t`` (``now`` is the clock it is generated at), or None if no room is free."""
        ws = self.ws
        room = self._free_room(t)
        if room is None:
            return None
        sessions = ws.sessions_part
        end = t + self._duration()
        ended = end <= now
        s = sessions.make(room, t, end if ended else None, now)
        sessions.add(s, t)
        if ended:
            end = parse_ts(s["updated_at"])
        else:
            sessions.planned_end[s["id"]] = end
        self.free_at[room["id"]] = end + ws.ctx.rng.randrange(2 * MINUTE, 20 * MINUTE)
        ws.media.busy_extras(s, now, end if ended else None)
        return s

    def fill(self, t0: int, now: int) -> None:
        """Generation: the sessions that started in (t0, now]."""
        self.note_history()
        for t in self._starts(t0, now):
            self.start_session(t, now)

    # ----------------------------------------------------------------- the clock

    def advance(self, old: int, new: int, ch: Changes) -> None:
        """Sessions end at their planned end, peers come and go, recordings complete, new sessions start."""
        ws = self.ws
        ctx = ws.ctx
        sessions, media, events, rooms = ws.sessions_part, ws.media, ws.events, ws.rooms_part
        per_session = events.avg_events_per_session
        minutes = (new - old) / MINUTE
        # 1. active sessions: end those whose time has come; in the others peers leave and join
        for sid in sorted(sessions.active, key=lambda x: sessions.planned_end.get(x, new)):
            s = sessions.coll.objects[sid]
            room = rooms.coll.objects[s["room_id"]]
            planned = sessions.planned_end.get(sid)
            if planned is None:  # not planned (a history session): end within 12 hours
                start = sessions.coll.created_ns[sid]
                planned = min(start + MAX_SESSION, new + ctx.uniform_ns(0, 2 * HOUR))
                sessions.planned_end[sid] = planned
            if planned <= new:
                self._end(s, max(planned, old + 1), old, ch, per_session)
                continue
            touched = self._comings_and_goings(s, room, old, new, minutes, ch)
            if s["peers"]:
                ch.add_events(s["room_id"], events.segment(s, old, new, max(1, per_session // 4)))
            if touched:
                ch.changed["sessions"].append(sid)
        # 2. recordings whose processing is over
        for rec_id, done in sorted(media.planned_done.items(), key=lambda x: x[1]):
            if done <= new:
                rec = media.recordings.objects[rec_id]
                ch.note_assets(media.finish_recording(rec, sessions.coll.objects[rec["session_id"]], done))
                ch.changed["recordings"].append(rec_id)
        for rec_id in list(media.recordings.asc):  # post_processing without a plan (a history recording)
            rec = media.recordings.objects[rec_id]
            if rec["status"] == "post_processing" and rec_id not in media.planned_done:
                ch.note_assets(media.complete_recording(rec, sessions.coll.objects[rec["session_id"]], new))
                ch.changed["recordings"].append(rec_id)
        # 3. new sessions
        for t in self._starts(old, new):
            s = self.start_session(t, new)
            if s is None:
                continue
            sid = s["id"]
            ch.created["sessions"].append(sid)
            ch.created["session_peers"].extend([sid, p] for p in s["peers"])
            ch.created["recordings"].extend(media.recordings.by_session.get(sid, []))
            ch.created["recording_assets"].extend(media.recording_assets.by_session.get(sid, []))
            if s["peers"]:
                seg_end = new if s["active"] else parse_ts(s["updated_at"])
                ch.add_events(s["room_id"], events.segment(s, t, seg_end, per_session))
            if not s["active"]:
                events.schedule(s)

    def _end(self, s: dict, end: int, old: int, ch: Changes, per_session: int) -> None:
        """An active session ends at ``end``: its peers leave, its recording stops, its streams complete."""
        ws = self.ws
        ctx, rng = ws.ctx, ws.ctx.rng
        sessions, media, events = ws.sessions_part, ws.media, ws.events
        sid = s["id"]
        last = end
        for p in s["peers"].values():
            if "left_at" not in p:
                left = max(end - rng.randrange(0, 10 * NS), sessions.peer_join_ns[p["id"]] + NS)
                p["left_at"] = ctx.ts(left)
                ch.changed["session_peers"].append([sid, p["id"]])
        s["updated_at"] = ctx.ts(max(last, parse_ts(s["updated_at"]) + NS) + rng.randrange(1_000_000, 50_000_000))
        sessions.mark_ended(sid)
        sessions.planned_end.pop(sid, None)
        ch.changed["sessions"].append(sid)
        self.free_at[s["room_id"]] = end + rng.randrange(2 * MINUTE, 20 * MINUTE)
        if s["peers"]:
            ch.add_events(s["room_id"], events.segment(s, old, end, max(1, per_session // 3)))
        for rec_id in media.recordings.by_session.get(sid, []):
            rec = media.recordings.objects[rec_id]
            if rec["status"] == "running":
                media.stop_recording(rec, s, end)
                ch.changed["recordings"].append(rec_id)
        for coll in (media.live_streams, media.external_streams):
            for xid in coll.by_session.get(sid, []):
                x = coll.objects[xid]
                if x["status"] == "running":
                    x["status"] = "completed"
                    x["stopped_at"] = ctx.ts(end)
                    x["updated_at"] = ctx.ts(end + NS)
        events.schedule(s)

    def _comings_and_goings(self, s: dict, room: dict, old: int, new: int, minutes: float, ch: Changes) -> bool:
        """Some peers of a long session leave, others join. Returns whether the session changed."""
        ws = self.ws
        ctx, rng = ws.ctx, ws.ctx.rng
        sessions = ws.sessions_part
        sid = s["id"]
        latest = 0  # the time of the last change
        joined = [p for p in s["peers"].values() if "left_at" not in p]
        for p in joined[1:]:  # the first peer (the host) stays
            if rng.random() < min(0.5, minutes / 600):
                left = max(ctx.uniform_ns(old + 1, new), sessions.peer_join_ns[p["id"]] + NS)
                p["left_at"] = ctx.ts(left)
                ch.changed["session_peers"].append([sid, p["id"]])
                latest = max(latest, left)
        for _ in range(min(5, int(rng.expovariate(1.0) * minutes / 30))):
            at = ctx.uniform_ns(old + 1, new)
            peer = sessions.join_peer(s, room, at)
            ch.created["session_peers"].append([sid, peer["id"]])
            latest = max(latest, at)
        if latest:
            s["updated_at"] = ctx.ts(max(latest, parse_ts(s["updated_at"]) + NS))
        return bool(latest)
