"""Analytics events that arrive late: 100ms stamps ``beam.recording.success`` a few seconds after the session's
end (``analytics/recording-events.mdx``: stopped_at 06:18:24.821, timestamp 06:18:29.46), and client error
events can reach it later still.

Each ended session (with peers) gets, deterministically from its id: a ``beam.recording.success`` stamped
2-10 s after its end (when it had a recording, else with some probability), visible 5-90 s after its
timestamp; and 0-2 client error events stamped 5 s-2 min after its end, visible 1-20 minutes after it.
A late event is in the API, the ground truth and ``total`` only once the workspace clock reaches its arrival.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from dataclasses import dataclass, field

from .clock import MINUTE, NS, fmt_ts, parse_ts, quantize
from .context import Context
from .ids import uuid_hex
from .vocab import ACTIONS, ERRORS

LATE_ERROR_TYPES = ("client.disconnected", "client.publish.failed", "client.subscribe.failed", "client.connect.failed")
BEAM_WITHOUT_RECORDING = 0.3  # chance of a beam event for a session without a recording job


@dataclass(order=True)
class LateEvent:
    arrival_ns: int
    id: str
    room_id: str = field(compare=False)
    session_id: str = field(compare=False)
    type: str = field(compare=False)
    ts_ns: int = field(compare=False)
    peer_id: str = field(compare=False)
    user_id: str = field(compare=False)
    body: dict = field(compare=False, repr=False)  # the event as the API answers it

    def summary(self) -> dict:
        return {"id": self.id, "room_id": self.room_id, "session_id": self.session_id, "type": self.type,
                "timestamp": fmt_ts(self.ts_ns), "arrival": fmt_ts(self.arrival_ns)}  # fmt: skip


class LateEvents:
    """Makes the late events of ended sessions and holds those not arrived yet."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.pending: list[LateEvent] = []  # a heap by arrival

    def _rng(self, session_id: str) -> random.Random:
        h = hashlib.blake2b(b"%s|late|%s" % (self.ctx.seed_bytes, session_id.encode()), digest_size=32).digest()
        return random.Random(int.from_bytes(h, "big"))

    def _id(self, session_id: str, k: int) -> str:
        h = hashlib.blake2b(b"%s|late-id|%s|%d" % (self.ctx.seed_bytes, session_id.encode(), k), digest_size=16)
        return uuid_hex(h.hexdigest())

    def make(self, session: dict, room: dict, recording: dict | None, beam_rtmp_url: str) -> list[LateEvent]:
        """The late events of an ended session (none without peers)."""
        peers = list(session["peers"].values())
        if not peers or session["active"]:
            return []
        rng = self._rng(session["id"])
        end = parse_ts(session["updated_at"])
        start = parse_ts(session["created_at"])
        out = []
        if recording is not None or rng.random() < BEAM_WITHOUT_RECORDING:
            ts = end + rng.randrange(2 * NS, 10 * NS)
            out.append(self._beam(session, room, recording, peers, rng, start, end, ts, beam_rtmp_url))
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            ts = end + rng.randrange(5 * NS, 120 * NS)
            out.append(self._client_error(session, room, peers, rng, ts, len(out)))
        return out

    def _beam(self, session, room, recording, peers, rng, start, end, ts, rtmp_url) -> LateEvent:
        sid = session["id"]
        if recording is not None:
            beam_id = recording["id"]
            started = parse_ts(recording["started_at"])
            stopped = end if recording["stopped_at"].startswith("0001") else parse_ts(recording["stopped_at"])
            by = recording["started_by"]
            peer = next((p for p in peers if p["id"] == by), peers[0])
        else:
            started = start + 3 * NS
            stopped = end
            beam_id = f"{started // NS:08x}{rng.getrandbits(64):016x}"
            peer = peers[0]
        path = f"s3://recordings-bucket/beam/{beam_id}/rec.mp4"
        data = {
            "beam_id": beam_id,
            "room_id": room["id"],
            "session_id": sid,
            "peer_id": peer["id"],
            "template_id": room["template_id"],
            "created_at": fmt_ts(started - NS),
            "duration": max(1, (stopped - started) // NS),
            "started_at": fmt_ts(started),
            "stopped_at": fmt_ts(stopped),
            "max_width": 1280,
            "max_height": 720,
            "recording_path": path,
            "recording_presigned_url": f"https://recordings-bucket.s3.example.com/beam/{beam_id}/rec.mp4"
            f"?sig={rng.getrandbits(64):016x}",
            "meeting_url": f"https://sandbox.app.100ms.live/preview/{room['id']}?skip_preview=true",
            "rtmp": [{"url": rtmp_url}] if rng.random() < 0.5 else [],  # the beam also streamed out
            "session_started_at": session["created_at"],
            "size": rng.randrange(10_000, 800_000_000),
        }
        eid = self._id(sid, 0)
        stamp = fmt_ts(quantize(ts, rng.random()))
        body = {"version": "2.0", "id": eid, "timestamp": stamp, "type": "beam.recording.success", "data": data}
        arrival = ts + rng.randrange(5 * NS, 90 * NS)
        return LateEvent(arrival, eid, room["id"], sid, "beam.recording.success", ts, peer["id"], peer["user_id"],
                         body)  # fmt: skip

    def _client_error(self, session, room, peers, rng, ts, k) -> LateEvent:
        ctx = self.ctx
        etype = rng.choice(LATE_ERROR_TYPES)
        peer = rng.choice(peers)
        code, name, message, domain = rng.choice(ERRORS)
        web = rng.random() < 0.6
        data = {
            "user_id": peer["user_id"],
            "user_name": peer["name"],
            "peer_id": peer["id"],
            "account_id": ctx.customer_id,
            "room_id": room["id"],
            "session_id": session["id"],
            "room_name": room["name"],
            "template_id": room["template_id"],
            "role": peer["role"],
            "error_code": code,
            "error_name": name,
            "error_message": message,
            "error_description": f"{message} ({etype})",
            "domain": domain,
            "is_terminal": etype == "client.disconnected",
            "action": ACTIONS[etype],
            "agent": {
                "sdk": "web" if web else "android",
                "sdk_version": f"0.{rng.randrange(12)}.{rng.randrange(20)}",
                "os": "macOS" if web else "Android",
                "os_version": f"{rng.randrange(15) + 1}.0",
                "device_model": "" if web else "Pixel 7",
                "framework": "react" if web else "android",
                "framework_version": "18.2.0" if web else "",
                "framework_sdk_version": "",
                "is_prebuilt": rng.random() < 0.5,
                "domain": "sandbox.app.100ms.live",
                "string": "",
            },
        }
        if etype == "client.publish.failed":
            data["audio"] = {"enabled": True, "codec": "opus"}
            data["video"] = {"enabled": rng.random() < 0.5, "codec": "vp8", "width": 640, "height": 360}
            data["devices"] = {"videoInput": ["FaceTime HD Camera"], "audioInput": ["MacBook Pro Microphone"],
                               "audioOutput": ["MacBook Pro Speakers"]}  # fmt: skip
        eid = self._id(session["id"], k + 1)
        body = {
            "version": "2.0",
            "id": eid,
            "timestamp": fmt_ts(quantize(ts, rng.random())),
            "type": etype,
            "data": data,
        }
        arrival = ts + rng.randrange(MINUTE, 20 * MINUTE)
        return LateEvent(arrival, eid, room["id"], session["id"], etype, ts, peer["id"], peer["user_id"], body)

    def hold(self, late: list[LateEvent]) -> None:
        for e in late:
            heapq.heappush(self.pending, e)

    def due(self, until_ns: int) -> list[LateEvent]:
        """The held events that have arrived by ``until_ns``, in arrival order (they leave the heap)."""
        out = []
        while self.pending and self.pending[0].arrival_ns <= until_ns:
            out.append(heapq.heappop(self.pending))
        return out
