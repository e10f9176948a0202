"""The workspace: one 100ms app's data, generated from a seed and a clock, composed of the parts in the
sibling modules. It lays out the history (rooms and their sessions over 60 days), moves the clock on
(``advance``) and says what a full read must return (``ground_truth``)."""

from __future__ import annotations

import re

import orjson

from .activity import Activity
from .clock import DAY, HOUR, MINUTE, to_ns
from .context import SECRET_MARK, Context
from .events import Events, RoomEvents
from .media import Media
from .polls import PollsAndKeys
from .rooms import Rooms
from .sessions import Sessions
from .templates import Templates
from .timeline import RECENT, Timeline
from .vocab import SCALES

SECRET_RX = re.compile(rf"{SECRET_MARK}-[a-z-]+-[0-9a-f]{{24}}")


class Workspace:
    """A deterministic 100ms workspace: same (seed, scale, now, options), same data.

    The attributes below are views of the parts' state, kept for the API handlers and for tests.
    """

    def __init__(
        self,
        seed: int = 1,
        scale: str = "small",
        now=None,
        events_total: int | None = None,
        sessions_per_hour: float | None = None,
    ):
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; use one of {', '.join(SCALES)}")
        self.scale = scale
        self.params = dict(SCALES[scale])
        if events_total is not None:
            self.params["events"] = int(events_total)
        if sessions_per_hour is not None:
            if float(sessions_per_hour) <= 0:
                raise ValueError("sessions_per_hour must be > 0")
            self.params["sessions_per_hour"] = float(sessions_per_hour)
        self.sessions_per_hour: float | None = self.params.get("sessions_per_hour")
        self.ctx = ctx = Context(seed, to_ns(now))
        self.seed = ctx.seed
        self.rng = ctx.rng
        self.start_ns = ctx.start_ns
        self.access_key = ctx.access_key
        self.app_secret = ctx.app_secret
        self.customer_id = ctx.customer_id
        self.app_id = ctx.app_id

        self.templates_part = Templates(ctx)
        self.rooms_part = Rooms(ctx, self.templates_part)
        self.sessions_part = Sessions(ctx, self.templates_part)
        self.media = Media(ctx, self.sessions_part)
        self.events = Events(ctx, self.rooms_part, self.sessions_part, self.media)
        self.polls_part = PollsAndKeys(ctx, self.rooms_part, self.sessions_part)
        self.activity = Activity(self)
        self.timeline: Timeline | None = None
        if self.sessions_per_hour is not None:
            self.timeline = Timeline(self, self.sessions_per_hour)
        self._bind_views()
        self._generate()

    def _bind_views(self) -> None:
        t, r, s, m, e, p = (self.templates_part, self.rooms_part, self.sessions_part, self.media, self.events,
                            self.polls_part)  # fmt: skip
        self.templates = t.coll
        self.template_recordings = t.recordings
        self.rooms = r.coll
        self.rooms_enabled = r.enabled
        self.rooms_disabled = r.disabled
        self.rooms_by_template = r.by_template
        self.rooms_by_name = r.by_name
        self.room_codes = r.room_codes
        self.sessions = s.coll
        self.sessions_active = s.active
        self.sessions_ended = s.ended
        self.active_session_by_room = s.active_by_room
        self.peer_join_ns = s.peer_join_ns
        self.recordings = m.recordings
        self.recording_assets = m.recording_assets
        self.live_streams = m.live_streams
        self.external_streams = m.external_streams
        self.room_events: dict[str, RoomEvents] = e.room_events
        self.stream_keys = p.stream_keys
        self.polls = p.polls
        self.poll_sessions = p.poll_sessions
        self.poll_responses = p.poll_responses
        self.poll_results = p.poll_results

    @property
    def now_ns(self) -> int:
        return self.ctx.now_ns

    @now_ns.setter
    def now_ns(self, value: int) -> None:
        self.ctx.now_ns = value

    def ts(self, ns: int) -> str:
        return self.ctx.ts(ns)

    # ----------------------------------------------------------------- generation

    def _generate(self) -> None:
        self.templates_part.generate(self.params["templates"])
        tids = list(self.templates.asc)
        room_windows = self._generate_rooms(tids)
        if self.timeline is None:
            self._generate_history(room_windows)
        else:  # a busy workspace: the history ends a day ago, the timeline fills the last day
            until = self.ctx.now_ns - RECENT
            self._generate_history([(r, ws, min(we, until)) for r, ws, we in room_windows], with_active=False)
            self.sessions_part.coll.finalize()
            self.timeline.fill(until, self.ctx.now_ns)
        self.sessions_part.finalize()
        self.media.finalize()
        self.events.generate(self.params["events"])
        self.polls_part.generate(self.params["polls"])

    def _generate_rooms(self, tids: list[str]) -> list[tuple[dict, int, int]]:
        """Rooms created over 90 days; each with the window in which it can have had sessions."""
        ctx, rooms = self.ctx, self.rooms_part
        rng, now = ctx.rng, ctx.now_ns
        plans = []
        for i in range(self.params["rooms"]):
            created = ctx.uniform_ns(now - 90 * DAY, now - 2 * HOUR)
            enabled = rng.random() >= 0.15 or i == 0
            if i == 1:
                enabled = False
            plans.append((created, enabled, tids[i % len(tids)] if i < len(tids) else rng.choice(tids)))
        plans.sort(key=lambda p: p[0])
        room_windows = []
        for created, enabled, tid in plans:
            if enabled:
                if rng.random() < 0.15:
                    updated = None
                else:
                    updated = created if rng.random() < 0.5 else ctx.uniform_ns(created, now)
                win_end = now
            else:
                disabled_at = created + int((now - created) * rng.uniform(0.3, 0.9))
                updated = disabled_at
                win_end = disabled_at
            room = rooms.make(created, enabled, tid, updated)
            rooms.add(room, created)
            win_start = max(created + MINUTE, now - 60 * DAY)
            room_windows.append((room, win_start, win_end))
        rooms.coll.finalize()
        return room_windows

    def _generate_history(self, room_windows: list[tuple[dict, int, int]], with_active: bool = True) -> None:
        """The ``sessions`` of the scale spread over the rooms' windows (60 days at most), a few of them active."""
        ctx, sessions, media = self.ctx, self.sessions_part, self.media
        rng, now = ctx.rng, ctx.now_ns
        weights = []
        for _room, ws, we in room_windows:
            w = max(0, we - ws) * rng.uniform(0.3, 1.7)
            if rng.random() < 0.1 or we - ws < HOUR:
                w = 0
            weights.append(w)
        wsum = sum(weights) or 1
        total = self.params["sessions"]
        enabled_with = [i for i, w in enumerate(weights) if w > 0 and room_windows[i][0]["enabled"]]
        n_active = max(2, round(len(enabled_with) * 0.07)) if with_active else 0
        active_rooms = set(rng.sample(enabled_with, min(n_active, len(enabled_with))))
        for i, (room, ws, we) in enumerate(room_windows):
            k = round(total * weights[i] / wsum)
            if weights[i] > 0:
                k = max(k, 1)
            if k == 0:
                continue
            active_start = None
            if i in active_rooms:
                active_start = now - rng.randrange(5 * MINUTE, 11 * HOUR)
                we = min(we, active_start - 10 * MINUTE)
                k -= 1
            span = we - ws
            if k > 0 and span > 0:
                k = min(k, span // (4 * MINUTE))
                slot = span // max(k, 1)
                for s in range(k):
                    s0 = ws + s * slot
                    start = s0 + rng.randrange(max(1, slot * 3 // 10))
                    r = rng.random()
                    if r < 0.7:
                        dur = rng.randrange(5 * MINUTE, HOUR)
                    elif r < 0.95:
                        dur = rng.randrange(HOUR, 4 * HOUR)
                    else:
                        dur = rng.randrange(4 * HOUR, 12 * HOUR)
                    dur = max(MINUTE, min(dur, slot * 6 // 10))
                    session = sessions.make(room, start, start + dur, now)
                    sessions.add(session, start)
                    media.session_extras(session, now)
            if active_start is not None:
                session = sessions.make(room, active_start, None, now)
                sessions.add(session, active_start)
                media.session_extras(session, now)

    # ----------------------------------------------------------------- the clock

    def advance(self, minutes: float = 60) -> dict:
        """Move the clock on by ``minutes``: sessions end and start, recordings complete, events arrive.

        Returns ``{stream: {"created": [keys], "changed": [keys]}, "clock": <new time>}``.
        """
        return self.activity.advance(minutes)

    # ----------------------------------------------------------------- changes made by a test

    def disable_room(self, room_id: str) -> dict:
        """Disable a room at the workspace clock (as the dashboard or ``POST /v2/rooms/{id}`` would): it leaves
        ``rooms_enabled``, ``enabled`` becomes false and ``updated_at`` changes; its room codes (and stream key)
        then answer 403 "Room is disabled" and leave the ground truth. KeyError for an unknown room."""
        return self.rooms_part.disable(room_id)

    # ----------------------------------------------------------------- secrets

    def secrets(self) -> list[str]:
        """Every secret value the API can currently answer, sorted; each contains ``sbxsecret``.

        Storage credentials of templates (settings, HLS and browser recordings, recording configs) and rooms,
        webhook header values, RTMP stream keys (template destinations, external streams, beam events) and the
        stream keys of enabled rooms. A test scans a connector's output for any of them.
        """
        found: set[str] = set()
        docs = [self.templates.objects, self.template_recordings, self.rooms.objects, self.external_streams.objects]
        docs.append({rid: k for rid, k in self.stream_keys.items() if rid in self.rooms.objects
                     and self.rooms.objects[rid]["enabled"]})  # fmt: skip
        for doc in docs:
            found.update(SECRET_RX.findall(orjson.dumps(doc).decode()))
        for rid in self.events.rooms_with_beam_rtmp():
            found.add(self.rooms_part.beam_rtmp_key(rid))
        return sorted(found)

    # ----------------------------------------------------------------- events

    def event_id(self, room_id: str, i: int) -> str:
        return self.events.event_id(room_id, i)

    def event_meta(self, room_id: str, i: int) -> tuple[str, str, str, str]:
        return self.events.event_meta(room_id, i)

    def event(self, room_id: str, i: int) -> dict:
        return self.events.event(room_id, i)

    def event_json(self, room_id: str, i: int) -> str:
        return self.events.event_json(room_id, i)

    def events_total(self) -> int:
        return self.events.events_total()

    def pending_late_events(self) -> list[dict]:
        """Late analytics events not visible yet (``id, room_id, session_id, type, timestamp, arrival``)."""
        return self.events.pending()

    # ----------------------------------------------------------------- what a read must return

    def ground_truth(self) -> dict[str, list]:
        gt: dict[str, list] = {}
        gt["rooms"] = sorted(self.rooms.objects)
        gt["templates"] = sorted(self.templates.objects)
        gt["template_settings"] = sorted(self.templates.objects)
        dests = []
        kinds = {"rtmpDestinations": "rtmp", "hlsDestinations": "hls", "transcriptions": "transcription",
                 "browserRecordings": "browser_recording"}  # fmt: skip
        for tid, t in self.templates.objects.items():
            for key, kind in kinds.items():
                for name in t["destinations"].get(key) or {}:
                    dests.append([tid, kind, name])
        gt["templates_destinations"] = sorted(dests)
        arp = []
        for rid, sid in self.active_session_by_room.items():
            for pid, p in self.sessions.objects[sid]["peers"].items():
                if "left_at" not in p:
                    arp.append([rid, pid])
        gt["active_room_peers"] = sorted(arp)
        gt["sessions"] = sorted(self.sessions.objects)
        gt["session_peers"] = sorted([sid, pid] for sid, s in self.sessions.objects.items() for pid in s["peers"])
        ev = []
        for rid, room_ev in self.room_events.items():
            ev.extend(self.event_id(rid, i) for i in range(room_ev.total))
        gt["analytics_events"] = sorted(ev)
        gt["recordings"] = sorted(self.recordings.objects)
        gt["recording_assets"] = sorted(self.recording_assets.objects)
        gt["live_streams"] = sorted(self.live_streams.objects)
        gt["external_streams"] = sorted(self.external_streams.objects)
        gt["room_codes"] = sorted(c["code"] for rid in self.rooms_enabled for c in self.room_codes.get(rid, []))
        return gt

    def summary(self) -> dict[str, int]:
        return {
            "templates": len(self.templates),
            "rooms": len(self.rooms),
            "rooms_disabled": len(self.rooms_disabled),
            "sessions": len(self.sessions),
            "sessions_active": len(self.sessions_active),
            "session_peers": sum(len(s["peers"]) for s in self.sessions.objects.values()),
            "analytics_events": self.events_total(),
            "analytics_events_late": self.events.late_visible(),
            "analytics_events_late_pending": len(self.events.late.pending),
            "recordings": len(self.recordings),
            "recording_assets": len(self.recording_assets),
            "live_streams": len(self.live_streams),
            "external_streams": len(self.external_streams),
            "room_codes": sum(len(v) for v in self.room_codes.values()),
            "polls": len(self.polls),
            "stream_keys": len(self.stream_keys),
        }
