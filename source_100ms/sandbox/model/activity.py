"""What happens when the workspace clock moves on: active sessions end (peers leave), recordings finish
processing and get their assets, new rooms and sessions appear, and analytics events accrue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .clock import HOUR, MINUTE, NS, fmt_ts, parse_ts
from .events import RoomEvents, Segment

if TYPE_CHECKING:
    from .workspace import Workspace

STREAMS = ("rooms", "sessions", "session_peers", "recordings", "recording_assets", "analytics_events")


class Changes:
    """What an advance created and changed, by stream (keys as primary keys)."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self.created: dict[str, list] = {k: [] for k in STREAMS}
        self.changed: dict[str, list] = {k: [] for k in STREAMS}

    def note_assets(self, pairs) -> None:
        for a, _ in pairs:
            self.created["recording_assets"].append(a["id"])

    def add_events(self, room_id: str, seg: Segment) -> None:
        events = self.ws.events
        re = events.room_events.setdefault(room_id, RoomEvents())
        first = re.total
        re.append(seg)
        for i in range(first, re.total):
            self.created["analytics_events"].append(events.event_id(room_id, i))

    def result(self, clock: int) -> dict:
        self.created["recording_assets"] = sorted(set(self.created["recording_assets"]))
        self.created["recordings"] = list(dict.fromkeys(self.created["recordings"]))
        self.changed["recordings"] = list(dict.fromkeys(self.changed["recordings"]))
        self.changed["sessions"] = list(dict.fromkeys(self.changed["sessions"]))
        out: dict = {k: {"created": self.created[k], "changed": self.changed[k]} for k in STREAMS}
        out["clock"] = fmt_ts(clock)
        return out


class Activity:
    """Advances a workspace's clock: steadily (a few sessions per advance) or, for a busy workspace, at the
    timeline's rate (``timeline.py``)."""

    def __init__(self, ws: Workspace):
        self.ws = ws

    def advance(self, minutes: float = 60) -> dict:
        ws = self.ws
        ctx = ws.ctx
        old = ctx.now_ns
        new = old + int(minutes * MINUTE)
        if new <= old:
            raise ValueError("minutes must be positive")
        ctx.now_ns = new
        ch = Changes(ws)
        if ws.timeline is not None:
            ws.timeline.advance(old, new, ch)
            self._new_rooms(old, new, minutes, ch)
        else:
            self._steady(old, new, minutes, ch)
        # late events that arrived by now
        ch.created["analytics_events"].extend(e.id for e in ws.events.release(new))
        return ch.result(new)

    def _new_rooms(self, old: int, new: int, minutes: float, ch: Changes) -> None:
        ws = self.ws
        ctx, rooms = ws.ctx, ws.rooms_part
        tids = list(ws.templates.asc)
        for _ in range(max(1, round(minutes / 240))):
            c = ctx.uniform_ns(old + 1, new)
            room = rooms.make(c, True, ctx.rng.choice(tids), c)
            rooms.add(room, c)
            ch.created["rooms"].append(room["id"])

    def _steady(self, old: int, new: int, minutes: float, ch: Changes) -> None:
        ws = self.ws
        ctx = ws.ctx
        rng = ctx.rng
        sessions, media, events, rooms = ws.sessions_part, ws.media, ws.events, ws.rooms_part
        created, changed = ch.created, ch.changed
        note_assets, add_events = ch.note_assets, ch.add_events
        per_session = events.avg_events_per_session
        # 1. active sessions: end some (all older than 12 h), the rest keep going
        busy_rooms = set()
        for sid in list(sessions.active):
            s = sessions.coll.objects[sid]
            start = sessions.coll.created_ns[sid]
            must_end = new - start >= 12 * HOUR
            if must_end or rng.random() < 0.6:
                end = min(ctx.uniform_ns(old + 1, new), start + 12 * HOUR - NS)
                end = max(end, old + 1)
                for p in s["peers"].values():
                    if "left_at" not in p:
                        p["left_at"] = ctx.ts(max(end - rng.randrange(0, 10 * NS), parse_ts(p["joined_at"]) + NS))
                        changed["session_peers"].append([sid, p["id"]])
                s["updated_at"] = ctx.ts(end)
                sessions.mark_ended(sid)
                changed["sessions"].append(sid)
                busy_rooms.add(s["room_id"])
                if s["peers"]:
                    add_events(s["room_id"], events.segment(s, old, end, max(1, per_session // 3)))
                for rid_ in media.recordings.by_session.get(sid, []):
                    rec = media.recordings.objects[rid_]
                    if rec["status"] == "running":
                        note_assets(media.complete_recording(rec, s, new))
                        changed["recordings"].append(rec["id"])
                for coll in (media.live_streams, media.external_streams):
                    for xid in coll.by_session.get(sid, []):
                        x = coll.objects[xid]
                        if x["status"] == "running":
                            x["status"] = "completed"
                            x["stopped_at"] = ctx.ts(end)
                            x["updated_at"] = ctx.ts(end + NS)
                events.schedule(s)
            else:
                busy_rooms.add(s["room_id"])
                if s["peers"]:
                    add_events(s["room_id"], events.segment(s, old, new, max(1, per_session // 4)))
        # 2. post-processing recordings finish
        for rid_ in list(media.recordings.asc):
            rec = media.recordings.objects[rid_]
            if rec["status"] == "post_processing":
                s = sessions.coll.objects[rec["session_id"]]
                note_assets(media.complete_recording(rec, s, new))
                changed["recordings"].append(rec["id"])
        # 3. a new room
        self._new_rooms(old, new, minutes, ch)
        # 4. new sessions
        rate = ws.params["sessions"] / (60 * 24 * 60)
        n_new = max(3, round(rate * minutes * rng.uniform(0.7, 1.3)))
        candidates = [r for r in rooms.enabled if r not in busy_rooms and r not in sessions.active_by_room]
        rng.shuffle(candidates)
        for rid in candidates[:n_new]:
            room = rooms.coll.objects[rid]
            start = ctx.uniform_ns(old + 1, new - 1)
            r_start = rooms.coll.created_ns[rid]
            start = max(start, r_start + NS)
            if start >= new:
                continue
            if rng.random() < 0.5:
                end = None
            else:
                end = min(start + rng.randrange(MINUTE, 2 * HOUR), new)
            s = sessions.make(room, start, end, new)
            sessions.add(s, start)
            sid = s["id"]
            created["sessions"].append(sid)
            created["session_peers"].extend([sid, p] for p in s["peers"])
            n_asset = len(media.recording_assets)
            before = set(media.recordings.by_session.get(sid, []))
            media.session_extras(s, new)
            after = set(media.recordings.by_session.get(sid, []))
            created["recordings"].extend(sorted(after - before))
            if len(media.recording_assets) > n_asset:
                created["recording_assets"].extend(media.recording_assets.by_session.get(sid, []))
            if s["peers"]:
                seg_end = new if end is None else parse_ts(s["updated_at"])
                add_events(rid, events.segment(s, start, seg_end, per_session))
            if end is not None:
                events.schedule(s)
