"""Analytics events (``GET /v2/analytics/events``), computed on demand rather than stored.

Each room keeps a list of *segments* (one per stretch of session activity, in the order they were added)
with an event count; event ``i`` of a room is computed from a hash of ``(seed, room_id, i)`` and the segment
it falls in, so millions of events cost little memory.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson

from .clock import DAY, NS, fmt_ts, parse_ts
from .context import Context
from .ids import uuid_from_int, uuid_hex
from .late_events import LateEvent, LateEvents
from .rooms import Rooms
from .sessions import Sessions
from .vocab import ACTIONS, ERRORS, EVENT_TYPES_CLIENT, EVENT_TYPES_TRACK

if TYPE_CHECKING:
    from .media import Media

_TRACK_SET = frozenset(EVENT_TYPES_TRACK)


@dataclass
class Segment:
    """A stretch of one session's activity that carries ``count`` analytics events; or (``late`` set) a batch
    of late events that arrived together, given explicitly."""

    session_id: str
    start_ns: int
    end_ns: int
    count: int
    pjoin: list[int]  # joined_at ns of the peers, ascending
    peers: list[dict]  # peer dicts in the same order
    session_created: str
    late: list[LateEvent] | None = None


@dataclass
class RoomEvents:
    offsets: list[int] = field(default_factory=list)  # start index of each segment
    segs: list[Segment] = field(default_factory=list)
    total: int = 0

    def append(self, seg: Segment) -> None:
        if seg.count <= 0:
            return
        self.offsets.append(self.total)
        self.segs.append(seg)
        self.total += seg.count


class Events:
    """The analytics events of every room: on-time ones, computed per segment, and late ones (``late_events``)
    appended in batches as they arrive. A visible event keeps its index, so snapshot cursors stay valid."""

    def __init__(self, ctx: Context, rooms: Rooms, sessions: Sessions, media: Media):
        self.ctx = ctx
        self.rooms = rooms
        self.sessions = sessions
        self.media = media
        self.room_events: dict[str, RoomEvents] = {}
        self.avg_events_per_session = 5
        self._frag_cache: dict[tuple[int, int], str] = {}
        self.late = LateEvents(ctx)

    # ----------------------------------------------------------------- late events

    def late_of(self, session: dict) -> list[LateEvent]:
        """The late events of an ended session (all of them, arrived or not)."""
        sid = session["id"]
        recs = [self.media.recordings.objects[r] for r in self.media.recordings.by_session.get(sid, [])]
        rec = next((r for r in reversed(recs) if r["status"] != "failed"), None)
        room = self.rooms.coll.objects[session["room_id"]]
        return self.late.make(session, room, rec, self.beam_rtmp_url(room["id"]))

    def add_late(self, room_id: str, batch: list[LateEvent]) -> None:
        """Make a batch of arrived late events visible at the end of a room's list."""
        if not batch:
            return
        seg = Segment(batch[0].session_id, batch[0].ts_ns, batch[-1].ts_ns, len(batch), [], [], "", late=batch)
        self.room_events.setdefault(room_id, RoomEvents()).append(seg)

    def release(self, until_ns: int) -> list[LateEvent]:
        """Late events that arrived by ``until_ns`` become visible; returned in arrival order."""
        due = self.late.due(until_ns)
        by_room: dict[str, list[LateEvent]] = {}
        for e in due:
            by_room.setdefault(e.room_id, []).append(e)
        for room_id, batch in by_room.items():
            self.add_late(room_id, batch)
        return due

    def schedule(self, session: dict) -> None:
        """A session just ended: hold its late events until they arrive (``release``)."""
        self.late.hold(self.late_of(session))

    def late_visible(self) -> int:
        return sum(seg.count for re in self.room_events.values() for seg in re.segs if seg.late is not None)

    def is_late(self, room_id: str, i: int) -> bool:
        return self._locate(room_id, i)[0].late is not None

    def pending(self) -> list[dict]:
        """The late events not arrived yet, in arrival order."""
        return [e.summary() for e in sorted(self.late.pending)]

    # ----------------------------------------------------------------- on-time events

    def segment(self, session: dict, start: int, end: int, count: int) -> Segment:
        pj = self.sessions.peer_join_ns
        peers = sorted(session["peers"].values(), key=lambda p: pj[p["id"]])
        return Segment(
            session_id=session["id"],
            start_ns=start,
            end_ns=end,
            count=count,
            pjoin=[pj[p["id"]] for p in peers],
            peers=peers,
            session_created=session["created_at"],
        )

    def generate(self, total: int) -> None:
        horizon = self.ctx.now_ns - 30 * DAY
        eligible = []
        for sid in self.sessions.coll.asc:
            s = self.sessions.coll.objects[sid]
            if s["peers"] and self.sessions.coll.created_ns[sid] >= horizon:
                eligible.append(s)
        self.avg_events_per_session = max(1, total // max(1, len(eligible)))
        if not eligible or total <= 0:
            return
        weights = [len(s["peers"]) + 2 for s in eligible]
        wsum = sum(weights)
        counts = [total * w // wsum for w in weights]
        rem = total - sum(counts)
        order = sorted(range(len(eligible)), key=lambda i: -(total * weights[i] % wsum))
        for i in order[:rem]:
            counts[i] += 1
        per_room: dict[str, list[tuple[int, dict, int]]] = {}
        for s, c in zip(eligible, counts, strict=True):
            per_room.setdefault(s["room_id"], []).append((self.sessions.coll.created_ns[s["id"]], s, c))
        now = self.ctx.now_ns
        for rid, items in per_room.items():
            items.sort(key=lambda x: x[0])
            re = self.room_events.setdefault(rid, RoomEvents())
            for start, s, c in items:
                end = now if s["active"] else parse_ts(s["updated_at"])
                re.append(self.segment(s, start, end, c))
                if not s["active"]:
                    late = self.late_of(s)
                    self.add_late(rid, sorted(e for e in late if e.arrival_ns <= now))
                    self.late.hold(e for e in late if e.arrival_ns > now)

    def beam_rtmp_url(self, room_id: str) -> str:
        return f"rtmp://a.rtmp.example.com/live2/{self.rooms.beam_rtmp_key(room_id)}"

    def rooms_with_beam_rtmp(self) -> list[str]:
        """Rooms with a visible beam event that names an RTMP URL (and so the room's beam stream key)."""
        out = []
        for room_id, re in self.room_events.items():
            for i in range(re.total):
                if self.event_type(room_id, i) == "beam.recording.success" and self.beam_rtmp(room_id, i):
                    out.append(room_id)
                    break
        return out

    def _event_hash(self, room_id: str, i: int) -> bytes:
        return hashlib.blake2b(b"%s|%s|%d" % (self.ctx.seed_bytes, room_id.encode(), i), digest_size=32).digest()

    def _locate(self, room_id: str, i: int) -> tuple[Segment, int]:
        re = self.room_events[room_id]
        k = bisect.bisect_right(re.offsets, i) - 1
        return re.segs[k], i - re.offsets[k]

    def event_id(self, room_id: str, i: int) -> str:
        seg, j = self._locate(room_id, i)
        if seg.late is not None:
            return seg.late[j].id
        return uuid_hex(self._event_hash(room_id, i).hex())

    def event_type(self, room_id: str, i: int) -> str:
        seg, j = self._locate(room_id, i)
        if seg.late is not None:
            return seg.late[j].type
        return _event_type(self._event_hash(room_id, i))

    def beam_rtmp(self, room_id: str, i: int) -> bool:
        """Whether beam event i of a room names an RTMP URL."""
        seg, j = self._locate(room_id, i)
        if seg.late is not None:
            return bool(seg.late[j].body["data"].get("rtmp"))
        return not self._event_hash(room_id, i)[23] & 1

    def event_meta(self, room_id: str, i: int) -> tuple[str, str, str, str]:
        """(type, session_id, peer_id, user_id) of event i of a room, cheaply."""
        seg, j = self._locate(room_id, i)
        if seg.late is not None:
            e = seg.late[j]
            return e.type, e.session_id, e.peer_id, e.user_id
        h = self._event_hash(room_id, i)
        ts = seg.start_ns + (seg.end_ns - seg.start_ns) * (j + 1) // (seg.count + 1)
        peer = self._event_peer(seg, ts, h)
        return _event_type(h), seg.session_id, peer["id"], peer["user_id"]

    @staticmethod
    def _event_peer(seg: Segment, ts: int, h: bytes) -> dict:
        n = bisect.bisect_right(seg.pjoin, ts)
        if n == 0:
            return seg.peers[0]
        return seg.peers[h[17] % n]

    def event(self, room_id: str, i: int) -> dict:
        return orjson.loads(self.event_json(room_id, i))

    def event_json(self, room_id: str, i: int) -> str:
        """Event i of a room as JSON text. Track events (most of them) take a fast path built from
        cached per-peer fragments; the others are built as dicts."""
        seg, j = self._locate(room_id, i)
        if seg.late is not None:
            return orjson.dumps(seg.late[j].body).decode()
        h = self._event_hash(room_id, i)
        etype = _event_type(h)
        if etype not in _TRACK_SET:
            return orjson.dumps(self._event_dict(room_id, i)).decode()
        span = seg.end_ns - seg.start_ns
        raw = seg.start_ns + span * (j + 1) // (seg.count + 1)
        n = bisect.bisect_right(seg.pjoin, raw)
        pidx = 0 if n == 0 else h[17] % n
        key = (id(seg), pidx)
        frag = self._frag_cache.get(key)
        if frag is None:
            peer = seg.peers[pidx]
            room = self.rooms.coll.objects[room_id]
            common = {
                "room_id": room_id,
                "session_id": seg.session_id,
                "room_name": room["name"],
                "peer_id": peer["id"],
                "user_id": peer["user_id"],
                "user_name": peer["name"],
                "joined_at": peer["joined_at"],
                "role": peer["role"],
            }
            frag = orjson.dumps(common).decode()[1:-1]
            if len(self._frag_cache) > 200_000:
                self._frag_cache.clear()
            self._frag_cache[key] = frag
        ts = raw
        spacing = span // (seg.count + 1)
        step = (1, 1, 1, 10, 1000, 1_000_000)[h[16] % 6]
        if step < spacing:
            ts = raw - raw % step
        hx = h.hex()
        ts_s = fmt_ts(ts)
        started = fmt_ts(max(seg.start_ns, ts - (h[22] + 1) * 1_000_003))
        stopped = f',"stopped_at":"{ts_s}"' if etype == "track.remove.success" else ""
        return (
            f'{{"version":"2.0","id":"{uuid_hex(hx)}","timestamp":"{ts_s}","type":"{etype}","data":{{{frag},'
            f'"track_id":"{uuid_hex(hx[32:64])}","stream_id":"{uuid_hex(hx[20:52])}",'
            f'"type":"{"audio" if h[19] & 1 else "video"}","source":"{"screen" if h[20] < 30 else "regular"}",'
            f'"mute":{"true" if h[21] & 1 else "false"},"started_at":"{started}"{stopped}}}}}'
        )

    def _event_dict(self, room_id: str, i: int) -> dict:
        seg, j = self._locate(room_id, i)
        h = self._event_hash(room_id, i)
        raw = seg.start_ns + (seg.end_ns - seg.start_ns) * (j + 1) // (seg.count + 1)
        peer = self._event_peer(seg, raw, h)
        ts = raw
        # Mostly nanoseconds as in the reference example; sometimes micro- or milliseconds. The step stays
        # below the spacing of consecutive events so that timestamps stay ascending within a room.
        spacing = (seg.end_ns - seg.start_ns) // (seg.count + 1)
        step = (1, 1, 1, 10, 1000, 1_000_000)[h[16] % 6]
        if step < spacing:
            ts = raw - raw % step
        etype = _event_type(h)
        room = self.rooms.coll.objects[room_id]
        ts_s = fmt_ts(ts)
        hx = h.hex()
        if etype in EVENT_TYPES_TRACK:
            data = {
                "room_id": room_id,
                "session_id": seg.session_id,
                "room_name": room["name"],
                "peer_id": peer["id"],
                "user_id": peer["user_id"],
                "user_name": peer["name"],
                "joined_at": peer["joined_at"],
                "role": peer["role"],
                "track_id": uuid_from_int(int(hx[32:64], 16)),
                "stream_id": uuid_from_int(int(hx[20:52], 16)),
                "type": "audio" if h[19] & 1 else "video",
                "source": "screen" if h[20] < 30 else "regular",
                "mute": bool(h[21] & 1),
                "started_at": fmt_ts(max(seg.start_ns, ts - (h[22] + 1) * 1_000_003)),
            }
            if etype == "track.remove.success":
                data["stopped_at"] = ts_s
        elif etype == "beam.recording.success":
            started = seg.start_ns + 3 * NS
            beam_id = f"{started // NS:08x}{hx[40:56]}"
            data = {
                "beam_id": beam_id,
                "room_id": room_id,
                "session_id": seg.session_id,
                "peer_id": peer["id"],
                "template_id": room["template_id"],
                "created_at": fmt_ts(started - NS),
                "duration": max(1, (ts - started) // NS),
                "started_at": fmt_ts(started),
                "stopped_at": ts_s,
                "max_width": 1280,
                "max_height": 720,
                "recording_path": f"s3://recordings-bucket/beam/{beam_id}/rec.mp4",
                "recording_presigned_url": f"https://recordings-bucket.s3.example.com/beam/{beam_id}/rec.mp4?sig={hx[:16]}",
                "meeting_url": f"https://sandbox.app.100ms.live/preview/{room_id}?skip_preview=true",
                "rtmp": [] if h[23] & 1 else [{"url": self.beam_rtmp_url(room_id)}],
                "session_started_at": seg.session_created,
                "size": int.from_bytes(h[24:28], "big") % 800_000_000 + 10_000,
            }
        else:
            code, name, message, domain = ERRORS[h[19] % len(ERRORS)]
            data = {
                "user_id": peer["user_id"],
                "user_name": peer["name"],
                "peer_id": peer["id"],
                "account_id": self.ctx.customer_id,
                "room_id": room_id,
                "room_name": room["name"],
                "template_id": room["template_id"],
                "role": peer["role"],
                "error_code": code,
                "error_name": name,
                "error_message": message,
                "error_description": f"{message} ({etype})",
                "domain": domain,
                "is_terminal": bool(h[21] & 1),
                "action": ACTIONS[etype],
                "agent": {
                    "sdk": "web" if h[22] & 1 else "android",
                    "sdk_version": f"0.{h[23] % 12}.{h[24] % 20}",
                    "os": "macOS" if h[22] & 1 else "Android",
                    "os_version": f"{h[25] % 15 + 1}.0",
                    "device_model": "" if h[22] & 1 else "Pixel 7",
                    "framework": "react" if h[22] & 1 else "android",
                    "framework_version": "18.2.0" if h[22] & 1 else "",
                    "framework_sdk_version": "",
                    "is_prebuilt": bool(h[26] & 1),
                    "domain": "sandbox.app.100ms.live",
                    "string": "",
                },
            }
            if h[27] >= 40:  # session_id may be absent
                data["session_id"] = seg.session_id
            if etype == "client.publish.failed":
                data["audio"] = {"enabled": True, "codec": "opus"}
                data["video"] = {"enabled": bool(h[28] & 1), "codec": "vp8", "width": 640, "height": 360}
                data["devices"] = {
                    "videoInput": ["FaceTime HD Camera"],
                    "audioInput": ["MacBook Pro Microphone"],
                    "audioOutput": ["MacBook Pro Speakers"],
                }
        return {"version": "2.0", "id": uuid_from_int(int(hx[:32], 16)), "timestamp": ts_s, "type": etype,
                "data": data}  # fmt: skip

    def events_total(self) -> int:
        return sum(re.total for re in self.room_events.values())


if TYPE_CHECKING:
    from .media import Media

_TRACK_SET = frozenset(EVENT_TYPES_TRACK)
_MINUTE_BASES: dict[int, str] = {}


def _event_type(h: bytes) -> str:
    b = h[18]
    if b < 90:
        return "track.add.success"
    if b < 150:
        return "track.update.success"
    if b < 215:
        return "track.remove.success"
    if b < 225:
        return "beam.recording.success"
    return EVENT_TYPES_CLIENT[b % 5]
