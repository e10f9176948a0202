"""Deterministic generation of a 100ms workspace for the sandbox.

Everything is derived from a seed and a "now": the same pair gives the same ids and values.
Times are kept internally as integer nanoseconds since the epoch and rendered the way 100ms
(Go ``time.Time``) renders them: RFC3339 UTC, trailing zeros of the fraction trimmed.

Analytics events are not materialised: each room keeps a list of *segments* (one per stretch of
session activity, in time order) with an event count, and event ``i`` of a room is computed on
demand from a hash of ``(seed, room_id, i)``.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson

NS = 1_000_000_000
MINUTE = 60 * NS
HOUR = 60 * MINUTE
DAY = 24 * HOUR
ZERO_TIME = "0001-01-01T00:00:00Z"

SCALES = {
    "small": {"templates": 4, "rooms": 25, "sessions": 400, "events": 2_000, "polls": 4},
    "medium": {"templates": 8, "rooms": 120, "sessions": 4_000, "events": 20_000, "polls": 10},
    "large": {"templates": 20, "rooms": 600, "sessions": 30_000, "events": 100_000, "polls": 30},
}

ACCESS_KEY = "65f1c0de4b1a2c3d4e5f6a7b"

ROLE_SETS = [
    ["host", "guest"],
    ["host", "guest", "viewer"],
    ["teacher", "student"],
    ["broadcaster", "co-broadcaster", "viewer-realtime", "hls-viewer"],
    ["speaker", "listener", "moderator"],
]
FIRST_NAMES = [
    "Asha", "Ben", "Chen", "Divya", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kavya", "Liam",
    "Maya", "Nikhil", "Olga", "Pablo", "Quinn", "Rhea", "Sven", "Tara", "Umar", "Vera", "Wen", "Yusuf",
]  # fmt: skip
ROOM_WORDS = [
    "standup", "townhall", "classroom", "webinar", "support", "interview", "podcast", "demo", "lobby",
    "studio", "clinic", "workshop", "review", "sync", "office-hours", "retro",
]  # fmt: skip
REGIONS = ["in", "us", "eu", "auto"]
EVENT_TYPES_TRACK = ["track.add.success", "track.update.success", "track.remove.success"]
EVENT_TYPES_CLIENT = [
    "client.publish.failed",
    "client.subscribe.failed",
    "client.join.failed",
    "client.disconnected",
    "client.connect.failed",
]
EVENT_TYPES = EVENT_TYPES_TRACK + ["beam.recording.success"] + EVENT_TYPES_CLIENT
ERRORS = [
    (1003, "WebSocketConnectionLost", "Network connection lost", "NETWORK"),
    (3001, "CantAccessCaptureDevice", "User denied permission to access capture device", "TRACK"),
    (4001, "ICEFailure", "Ice connection state FAILED", "WEBRTC"),
    (2003, "EndpointUnreachable", "Endpoint is not reachable", "INIT"),
    (3008, "AutoplayBlocked", "Autoplay blocked because the user didn't interact", "TRACK"),
]
ACTIONS = {
    "client.publish.failed": "PUBLISH",
    "client.subscribe.failed": "SUBSCRIBE",
    "client.join.failed": "JOIN",
    "client.disconnected": "RECONNECT_SIGNAL",
    "client.connect.failed": "INIT",
}


# --------------------------------------------------------------------------- time helpers


def fmt_ts(ns: int) -> str:
    """RFC3339 UTC, Go style: fraction with trailing zeros trimmed, none when zero."""
    secs, frac = divmod(ns, NS)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    if frac:
        return f"{base}.{f'{frac:09d}'.rstrip('0')}Z"
    return base + "Z"


def parse_ts(value: str) -> int:
    """Parse an RFC3339 timestamp (any number of fraction digits, Z or offset) to ns."""
    v = value.strip()
    if not v:
        raise ValueError("empty timestamp")
    frac_ns = 0
    # Keep nanoseconds that datetime would truncate.
    main = v
    tz = ""
    if v.endswith(("Z", "z")):
        main, tz = v[:-1], "+00:00"
    elif len(v) > 6 and v[-6] in "+-" and v[-3] == ":":
        main, tz = v[:-6], v[-6:]
    if "." in main:
        main, frac = main.split(".", 1)
        if not frac.isdigit() or len(frac) > 9:
            raise ValueError(f"bad fraction in {value!r}")
        frac_ns = int(frac.ljust(9, "0"))
    dt = datetime.fromisoformat(main + (tz or "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp()) * NS + frac_ns


def to_ns(now: datetime | str | int | float | None) -> int:
    if now is None:
        t = int(time.time())
        return (t - t % 60) * NS
    if isinstance(now, datetime):
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        delta = now - datetime(1970, 1, 1, tzinfo=UTC)
        return (delta // timedelta(microseconds=1)) * 1000
    if isinstance(now, str):
        return parse_ts(now)
    return int(float(now) * NS)


def quantize(ns: int, r: float) -> int:
    """Drop some fraction digits so that records show 0 to 9 fractional digits."""
    if r < 0.45:
        digits = 3
    elif r < 0.65:
        digits = 9
    elif r < 0.72:
        digits = 0
    else:
        digits = int((r - 0.72) / 0.28 * 9) + 1  # 1..9
        digits = min(digits, 9)
    step = 10 ** (9 - digits)
    return ns - ns % step


# --------------------------------------------------------------------------- id helpers


def object_id(sec_ns: int, rng: random.Random) -> str:
    return f"{sec_ns // NS:08x}{rng.getrandbits(64):016x}"


def _uuid_from_int(n: int) -> str:
    n &= ~(0xF000 << 64)
    n |= 0x4000 << 64
    n &= ~(0xC000 << 48)
    n |= 0x8000 << 48
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uuid4s(rng: random.Random) -> str:
    return _uuid_from_int(rng.getrandbits(128))


def room_code(rng: random.Random) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    s = "".join(letters[rng.randrange(26)] for _ in range(9))
    return f"{s[:3]}-{s[3:6]}-{s[6:]}"


# --------------------------------------------------------------------------- collections


class Collection:
    """Objects by id, with ascending id lists (overall and per room / session) for paging."""

    def __init__(self) -> None:
        self.objects: dict[str, dict] = {}
        self.asc: list[str] = []
        self.created_ns: dict[str, int] = {}
        self.by_room: dict[str, list[str]] = {}
        self.by_session: dict[str, list[str]] = {}

        self.bulk = True  # while generating: append, sort once in finalize()

    def add(self, obj: dict, created_ns: int, key: str = "id", room_id=None, session_id=None) -> None:
        oid = obj[key]
        self.objects[oid] = obj
        self.created_ns[oid] = created_ns
        ins = list.append if self.bulk else _insert
        ins(self.asc, oid)
        if room_id is not None:
            ins(self.by_room.setdefault(room_id, []), oid)
        if session_id is not None:
            ins(self.by_session.setdefault(session_id, []), oid)

    def finalize(self) -> None:
        self.bulk = False
        self.asc.sort()
        for lst in self.by_room.values():
            lst.sort()
        for lst in self.by_session.values():
            lst.sort()

    def __len__(self) -> int:
        return len(self.objects)


def _insert(lst: list[str], oid: str) -> None:
    if not lst or lst[-1] < oid:
        lst.append(oid)
    else:
        bisect.insort(lst, oid)


@dataclass
class Segment:
    """A stretch of one session's activity that carries ``count`` analytics events."""

    session_id: str
    start_ns: int
    end_ns: int
    count: int
    pjoin: list[int]  # joined_at ns of the peers, ascending
    peers: list[dict]  # peer dicts in the same order
    session_created: str


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


# --------------------------------------------------------------------------- the workspace


class Workspace:
    def __init__(self, seed: int = 1, scale: str = "small", now=None, events_total: int | None = None):
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; use one of {', '.join(SCALES)}")
        self.seed = int(seed)
        self.scale = scale
        self.params = dict(SCALES[scale])
        if events_total is not None:
            self.params["events"] = int(events_total)
        self.now_ns = to_ns(now)
        self.start_ns = self.now_ns
        self.rng = random.Random(self.seed)
        rng = self.rng
        self.access_key = ACCESS_KEY
        digest = hashlib.sha256(f"source-100ms-sandbox-secret-{self.seed}".encode()).digest()
        import base64

        self.app_secret = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        self.customer_id = f"{(self.now_ns - 400 * DAY) // NS:08x}{rng.getrandbits(64):016x}"
        self.app_id = f"{(self.now_ns - 400 * DAY) // NS + 5:08x}{rng.getrandbits(64):016x}"
        self._seed_bytes = str(self.seed).encode()

        self.templates = Collection()
        self.rooms = Collection()
        self.rooms_enabled: list[str] = []
        self.rooms_disabled: list[str] = []
        self.rooms_by_template: dict[str, list[str]] = {}
        self.rooms_by_name: dict[str, str] = {}
        self.sessions = Collection()
        self.sessions_active: list[str] = []
        self.sessions_ended: list[str] = []
        self.active_session_by_room: dict[str, str] = {}
        self.recordings = Collection()
        self.recording_assets = Collection()
        self.live_streams = Collection()
        self.external_streams = Collection()
        self.room_codes: dict[str, list[dict]] = {}  # room_id -> codes sorted by code ascending
        self.stream_keys: dict[str, dict] = {}
        self.polls: dict[str, dict] = {}
        self.poll_sessions: dict[str, list[dict]] = {}
        self.poll_responses: dict[str, list[dict]] = {}
        self.poll_results: dict[str, list[dict]] = {}
        self.room_events: dict[str, RoomEvents] = {}
        self.peer_join_ns: dict[str, int] = {}
        self._frag_cache: dict[tuple[int, int], str] = {}
        self._names_used: set[str] = set()
        self._codes_used: set[str] = set()
        self._generate()

    # ----------------------------------------------------------------- small random helpers

    def ts(self, ns: int) -> str:
        return fmt_ts(quantize(ns, self.rng.random()))

    def _uniform_ns(self, lo: int, hi: int) -> int:
        if hi <= lo:
            return lo
        return lo + int(self.rng.random() * (hi - lo))

    def _person(self) -> tuple[str, str]:
        rng = self.rng
        name = f"{rng.choice(FIRST_NAMES)} {chr(65 + rng.randrange(26))}."
        if rng.random() < 0.5:
            uid = f"user-{rng.randrange(100000):05d}"
        else:
            uid = uuid4s(rng)
        return name, uid

    # ----------------------------------------------------------------- templates

    def _role(self, name: str, all_roles: list[str], priority: int) -> dict:
        rng = self.rng
        publishing = name not in ("viewer", "hls-viewer", "listener", "student")
        return {
            "name": name,
            "publishParams": {
                "allowed": ["audio", "video", "screen"] if publishing else [],
                "audio": {"bitRate": 32, "codec": "opus"},
                "video": {"bitRate": rng.choice([300, 500, 800]), "codec": "vp8", "frameRate": 30,
                          "width": 640, "height": 360},
                "screen": {"codec": "vp8", "frameRate": 10, "width": 1920, "height": 1080},
                "simulcast": {
                    "video": {"layers": [{"rid": "f", "scaleResolutionDownBy": 1, "maxBitrate": 700,
                                          "maxFramerate": 25}]},
                    "screen": {},
                },
            },
            "subscribeParams": {
                "subscribeToRoles": list(all_roles),
                "maxSubsBitRate": 3200,
                "subscribeDegradation": {"packetLossThreshold": 25, "degradeGracePeriodSeconds": 1,
                                         "recoverGracePeriodSeconds": 4},
            },
            "permissions": {
                "endRoom": priority == 1, "removeOthers": priority == 1, "mute": priority == 1,
                "unmute": priority == 1, "changeRole": priority == 1, "rtmpStreaming": publishing,
                "hlsStreaming": publishing, "browserRecording": priority == 1, "sendRoomState": False,
                "pollRead": True, "pollWrite": priority == 1,
            },
            "priority": priority,
            "maxPeerCount": rng.choice([0, 0, 0, 100]),
        }  # fmt: skip

    def _destinations(self, idx: int, roles: list[str]) -> dict:
        rng = self.rng
        kind = idx % 4
        if kind == 0:
            return {}
        dest: dict = {}
        n_each = 1 if kind == 1 else rng.randint(2, 3)
        if kind in (2, 3):
            dest["rtmpDestinations"] = {}
            for _ in range(n_each):
                name = uuid4s(rng)
                dest["rtmpDestinations"][name] = {
                    "name": name,
                    "width": 1280,
                    "height": 720,
                    "maxDuration": 10800,
                    "rtmpUrls": [f"rtmp://live.example.net/app/{rng.getrandbits(32):08x}"],
                    "recordingEnabled": rng.random() < 0.5,
                    "autoStopTimeout": 300,
                }
        dest["hlsDestinations"] = {}
        for _ in range(n_each):
            name = uuid4s(rng)
            dest["hlsDestinations"][name] = {
                "name": name,
                "role": "__internal_recorder",
                "maxDuration": 14400,
                "layers": [{"width": 1280, "height": 720, "videoBitrate": 2048, "audioBitrate": 64}],
                "playlistType": rng.choice(["event", "live"]),
                "numPlaylistSegments": 5,
                "videoFrameRate": 30,
                "enableMetadataInsertion": False,
                "enableStaticUrl": rng.random() < 0.5,
                "recording": {
                    "hlsVod": True,
                    "singleFilePerLayer": False,
                    "enableZipUpload": False,
                    "layers": [],
                    "thumbnails": {"enabled": rng.random() < 0.5, "width": 1280, "height": 720,
                                   "offsets": [2], "fps": 0},
                    "presignDuration": 3600,
                },
                "autoStopTimeout": 600,
            }  # fmt: skip
        if kind == 1 and rng.random() < 0.5:
            dest["rtmpDestinations"] = {}  # present but empty
        if kind in (1, 3):
            dest["transcriptions"] = {}
            for i in range(n_each):
                name = f"transcription-{i + 1}"
                dest["transcriptions"][name] = {
                    "name": name,
                    "role": roles[0],
                    "modes": ["recorded"] if i == 0 else ["live", "caption"],
                    "outputModes": ["txt", "srt", "json"],
                    "customVocabulary": ["100ms", "webrtc"],
                    "summary": {"enabled": True, "context": "a team meeting", "temperature": 0.5,
                                "sections": [{"title": "Agenda", "format": "bullets"}]},
                    "translation": {"enabled": False, "roleLanguages": {}},
                }  # fmt: skip
        if kind == 3:
            dest["browserRecordings"] = {}
            for _ in range(n_each):
                name = uuid4s(rng)
                dest["browserRecordings"][name] = {
                    "name": name,
                    "width": 1280,
                    "height": 720,
                    "maxDuration": 3600,
                    "thumbnails": {"width": 320, "height": 180},
                    "presignDuration": 3600,
                    "role": "__internal_recorder",
                    "autoStart": False,
                    "autoStopTimeout": 300,
                }
        return dest

    def _gen_templates(self) -> None:
        rng = self.rng
        for idx in range(self.params["templates"]):
            created = self._uniform_ns(self.now_ns - 150 * DAY, self.now_ns - 95 * DAY)
            tid = object_id(created, rng)
            roles = ROLE_SETS[idx % len(ROLE_SETS)]
            if idx % 3 == 0:
                name = f"default_videoconf_{uuid4s(rng)}"
            else:
                name = f"{rng.choice(ROOM_WORDS)}-template-{idx + 1}"
            settings = {
                "region": rng.choice(REGIONS),
                "recording": None
                if idx % 2 == 0
                else {"enabled": True, "upload": {"type": "s3", "location": "recordings-bucket"}},
                "roomState": {"messageInterval": 5, "sendPeerList": idx % 2 == 1, "stopRoomStateOnJoin": True,
                              "enabled": idx % 3 != 0},
                "retry": {},
            }  # fmt: skip
            updated = created if rng.random() < 0.4 else self._uniform_ns(created, self.now_ns - DAY)
            created_s = self.ts(created)
            tpl = {
                "id": tid,
                "name": name,
                "customerId": self.customer_id,
                "roles": {r: self._role(r, roles, i + 1) for i, r in enumerate(roles)},
                "settings": settings,
                "destinations": self._destinations(idx, roles),
                "createdAt": created_s,
                "updatedAt": created_s if updated == created else self.ts(updated),
                "_id": tid,
                "customer": self.customer_id,
                "default": idx == 0,
                "appId": self.app_id,
            }
            self.templates.add(tpl, created)
        self.templates.finalize()

    # ----------------------------------------------------------------- rooms

    def _room_name(self) -> str:
        rng = self.rng
        while True:
            name = f"{rng.choice(ROOM_WORDS)}-{rng.randrange(1000):03d}"
            if name not in self._names_used:
                self._names_used.add(name)
                return name

    def _make_room(self, created: int, enabled: bool, tid: str, updated: int | None) -> dict:
        rng = self.rng
        rid = object_id(created, rng)
        tpl = self.templates.objects[tid]
        created_s = self.ts(created)
        room = {
            "id": rid,
            "name": self._room_name(),
            "enabled": enabled,
            "description": rng.choice(["", "Weekly meeting room", "Customer support calls", "Live class"]),
            "customer_id": self.customer_id,
            "app_id": self.app_id,
            "recording_source_template": rng.random() < 0.3,
            "recording_info": {"enabled": False}
            if rng.random() < 0.5
            else {
                "enabled": True,
                "upload_info": {
                    "type": "s3",
                    "location": "recordings-bucket",
                    "prefix": f"rooms/{rid}",
                    "options": {"region": "ap-south-1"},
                },
            },
            "template_id": tid,
            "template": tpl["name"],
            "region": rng.choice(REGIONS),
            "created_at": created_s,
            "updated_at": ZERO_TIME if updated is None else (created_s if updated == created else self.ts(updated)),
            "large_room": rng.random() < 0.1,
            "size": rng.choice([0, 0, 100, 2500]),
            "max_duration_seconds": rng.choice([0, 3600, 10000, 43200]),
            "polls": [],
            "webhook": {"url": "", "headers": {}}
            if rng.random() < 0.7
            else {"url": "https://hooks.example.com/100ms", "headers": {"x-source": "sandbox"}},
            "customer": self.customer_id,
        }
        return room

    def _add_room(self, room: dict, created: int) -> None:
        rid = room["id"]
        self.rooms.add(room, created)
        _insert(self.rooms_enabled if room["enabled"] else self.rooms_disabled, rid)
        _insert(self.rooms_by_template.setdefault(room["template_id"], []), rid)
        self.rooms_by_name[room["name"]] = rid
        self._gen_room_codes(room, created)

    def _gen_room_codes(self, room: dict, created: int) -> None:
        rng = self.rng
        roles = list(self.templates.objects[room["template_id"]]["roles"])
        codes = []
        for role in roles:
            while True:
                code = room_code(rng)
                if code not in self._codes_used:
                    self._codes_used.add(code)
                    break
            c_created = created + rng.randrange(1, 5 * NS)
            enabled = rng.random() >= 0.15
            codes.append(
                {
                    "code": code,
                    "room_id": room["id"],
                    "role": role,
                    "enabled": enabled,
                    "created_at": self.ts(c_created),
                    "updated_at": self.ts(c_created if enabled else c_created + rng.randrange(DAY)),
                }
            )
        codes.sort(key=lambda c: c["code"])
        self.room_codes[room["id"]] = codes

    # ----------------------------------------------------------------- sessions

    def _peer_count(self) -> int:
        r = self.rng.random()
        if r < 0.05:
            return 0
        if r < 0.65:
            return self.rng.randint(1, 6)
        if r < 0.95:
            return self.rng.randint(7, 15)
        return self.rng.randint(16, 40)

    def _make_session(self, room: dict, start: int, end: int | None, now: int) -> dict:
        """end None = active session (some peers still joined)."""
        rng = self.rng
        sid = object_id(start, rng)
        roles = list(self.templates.objects[room["template_id"]]["roles"])
        peers: dict[str, dict] = {}
        n = self._peer_count()
        horizon = end if end is not None else now
        last_left = start
        latest_join = start
        for k in range(n):
            pid = uuid4s(rng)
            name, uid = self._person()
            if k == 0:
                joined = start + rng.randrange(1, 2 * NS)
            else:
                joined = self._uniform_ns(start, start + (horizon - start) // 2)
            peer = {
                "id": pid,
                "session_id": sid,
                "name": name,
                "role": roles[0] if k == 0 else rng.choice(roles),
                "user_id": uid,
                "joined_at": self.ts(joined),
            }
            self.peer_join_ns[pid] = joined
            latest_join = max(latest_join, joined)
            if end is not None or rng.random() < 0.4:
                left = self._uniform_ns(joined + NS, horizon)
                left = min(left, horizon)
                peer["left_at"] = self.ts(left)
                last_left = max(last_left, left)
            peers[pid] = peer
        if end is not None:
            updated = max(end, last_left) + rng.randrange(1, 50_000_000)
        else:
            updated = latest_join + rng.randrange(1, 50_000_000)
        session = {
            "id": sid,
            "room_id": room["id"],
            "customer_id": self.customer_id,
            "app_id": self.app_id,
            "active": end is None,
            "peers": peers,
            "created_at": self.ts(start),
            "updated_at": self.ts(updated),
        }
        return session

    def _add_session(self, session: dict, start: int) -> None:
        sid = session["id"]
        self.sessions.add(session, start, room_id=session["room_id"])
        ins = list.append if self.sessions.bulk else _insert
        if session["active"]:
            ins(self.sessions_active, sid)
            self.active_session_by_room[session["room_id"]] = sid
        else:
            ins(self.sessions_ended, sid)

    # ----------------------------------------------------------------- recordings & streams

    def _asset(self, job_id: str, session: dict, atype: str, created: int, status: str = "completed") -> dict:
        rng = self.rng
        aid = object_id(created, rng)
        duration = rng.randint(30, 5400)
        meta: dict = {}
        thumbnails = None
        ext = "mp4"
        if atype in ("room-composite", "room-composite-legacy"):
            w, h = rng.choice([(1280, 720), (1920, 1080), (640, 360)])
            meta = {"resolution": {"width": w, "height": h}}
            if rng.random() < 0.4:
                thumbnails = [f"s3://recordings-bucket/{job_id}/thumb-{i}.png" for i in range(rng.randint(1, 3))]
        elif atype == "room-vod":
            meta = {"num_layers": str(rng.randint(1, 4)), "max_width": 1280, "max_height": 720}
            ext = "zip"
        elif atype == "chat":
            ext = "csv"
        elif atype == "transcript":
            meta = {"output_mode": rng.choice(["txt", "srt", "json"])}
            ext = meta["output_mode"]
        elif atype == "summary":
            ext = "json"
        elif atype == "track":
            peer = rng.choice(list(session["peers"].values())) if session["peers"] else None
            meta = {"track_id": uuid4s(rng), "stream_id": uuid4s(rng), "peer_id": peer["id"] if peer else "",
                    "track_type": rng.choice(["audio", "video"])}  # fmt: skip
            ext = "webm"
        elif atype == "stream":
            peer = rng.choice(list(session["peers"].values())) if session["peers"] else None
            meta = {"stream_id": uuid4s(rng), "peer_id": peer["id"] if peer else "",
                    "user_id": peer["user_id"] if peer else "", "stream_type": "regular"}  # fmt: skip
        return {
            "id": aid,
            "job_id": job_id,
            "room_id": session["room_id"],
            "session_id": session["id"],
            "type": atype,
            "path": f"s3://recordings-bucket/{session['room_id']}/{job_id}/{atype}-{aid[-6:]}.{ext}",
            "status": status,
            "size": 0 if status == "failed" else rng.randint(2_000, 900_000_000),
            "duration": 0 if status == "failed" else duration,
            "created_at": self.ts(created),
            "thumbnails": thumbnails,
            "metadata": meta,
        }

    def _add_asset(self, asset: dict, created: int) -> None:
        self.recording_assets.add(asset, created, room_id=asset["room_id"], session_id=asset["session_id"])

    def _session_times(self, session: dict) -> tuple[int, int]:
        start = self.sessions.created_ns[session["id"]]
        return start, parse_ts(session["updated_at"])

    def _make_recording(self, session: dict, status: str, now: int) -> tuple[dict, list[tuple[dict, int]]]:
        rng = self.rng
        start, end = self._session_times(session)
        created = start + rng.randrange(2 * NS, 30 * NS)
        started = created + rng.randrange(NS, 5 * NS)
        rid = object_id(created, rng)
        peers = list(session["peers"].values())
        asset_types = ["room-composite"] + [t for t in ("chat", "transcript", "summary") if rng.random() < 0.5]
        rec = {
            "id": rid,
            "room_id": session["room_id"],
            "session_id": session["id"],
            "status": status,
            "created_at": self.ts(created),
            "started_at": self.ts(started),
            "updated_at": self.ts(started),
            "stopped_at": ZERO_TIME,
            "meeting_url": f"https://sandbox.app.100ms.live/preview/{session['room_id']}?skip_preview=true",
            "started_by": rng.choice(peers)["id"] if peers and rng.random() < 0.7 else "",
            "stopped_by": "",
            "asset_types": asset_types,
        }
        assets: list[tuple[dict, int]] = []
        if status != "running":
            stopped = max(started + NS, end - rng.randrange(0, 3 * NS))
            rec["stopped_at"] = self.ts(stopped)
            rec["stopped_by"] = rng.choice(peers)["id"] if peers and rng.random() < 0.5 else ""
            done = min(stopped + rng.randrange(10 * NS, 300 * NS), now)
            rec["updated_at"] = self.ts(done if status != "post_processing" else stopped)
            assets = self._recording_assets(rec, session, status, done)
        self.recordings.add(rec, created, room_id=rec["room_id"], session_id=rec["session_id"])
        return rec, assets

    def _recording_assets(self, rec: dict, session: dict, status: str, done: int) -> list[tuple[dict, int]]:
        rng = self.rng
        out = []
        if status == "completed":
            types = list(rec["asset_types"])
            if rng.random() < 0.15:
                types.append("track")
            if rng.random() < 0.1:
                types.append("stream")
            for i, t in enumerate(types):
                c = done + i * 1_000_000 + rng.randrange(1_000_000)
                out.append((self._asset(rec["id"], session, t, c), c))
        elif status == "failed" and rng.random() < 0.3:
            c = done
            out.append((self._asset(rec["id"], session, "room-composite", c, status="failed"), c))
        for a, c in out:
            self._add_asset(a, c)
        return out

    def _complete_recording(self, rec: dict, session: dict, now: int) -> list[tuple[dict, int]]:
        rng = self.rng
        start, end = self._session_times(session)
        if rec["stopped_at"] == ZERO_TIME:
            stopped = max(parse_ts(rec["started_at"]) + NS, end - rng.randrange(0, 3 * NS))
            rec["stopped_at"] = self.ts(stopped)
        else:
            stopped = parse_ts(rec["stopped_at"])
        done = min(max(stopped + rng.randrange(10 * NS, 120 * NS), parse_ts(rec["updated_at"]) + NS), now)
        rec["status"] = "completed"
        rec["updated_at"] = self.ts(done)
        return self._recording_assets(rec, session, "completed", done)

    def _make_live_stream(self, session: dict, now: int) -> dict:
        rng = self.rng
        start, end = self._session_times(session)
        created = start + rng.randrange(5 * NS, 60 * NS)
        lid = object_id(created, rng)
        active = session["active"]
        status = "running" if active else ("failed" if rng.random() < 0.05 else "completed")
        hls_vod = rng.random() < 0.6
        ls = {
            "id": lid,
            "room_id": session["room_id"],
            "session_id": session["id"],
            "status": status,
            "destination": "hls",
            "playback": {"url": f"https://cdn.example-hls.net/beam/{lid}/master.m3u8"},
            "meeting_url": f"https://sandbox.app.100ms.live/streaming/meeting/{session['room_id']}",
            "recording": {"hls_vod": hls_vod, "single_file_per_layer": False},
            "created_at": self.ts(created),
            "started_at": self.ts(created + NS),
            "updated_at": self.ts(created + NS),
            "stopped_at": ZERO_TIME,
            "started_by": "",
            "stopped_by": "",
            "recording_assets": None,
        }
        if status != "running":
            stopped = max(created + 2 * NS, end - NS)
            ls["stopped_at"] = self.ts(stopped)
            ls["updated_at"] = self.ts(stopped + rng.randrange(NS, 30 * NS))
            if hls_vod and status == "completed":
                c = min(stopped + rng.randrange(30 * NS, 300 * NS), now)
                asset = self._asset(lid, session, "room-vod", c)
                self._add_asset(asset, c)
                ls["recording_assets"] = [asset]
        self.live_streams.add(ls, created, room_id=ls["room_id"], session_id=ls["session_id"])
        return ls

    def _make_external_stream(self, session: dict) -> dict:
        rng = self.rng
        start, end = self._session_times(session)
        created = start + rng.randrange(5 * NS, 60 * NS)
        xid = object_id(created, rng)
        status = "running" if session["active"] else ("failed" if rng.random() < 0.05 else "completed")
        xs = {
            "id": xid,
            "room_id": session["room_id"],
            "session_id": session["id"],
            "status": status,
            "destination": "rtmp",
            "rtmp_urls": [f"rtmp://a.rtmp.example.com/live2/{rng.getrandbits(48):012x}"],
            "meeting_url": f"https://sandbox.app.100ms.live/preview/{session['room_id']}?skip_preview=true",
            "recording": rng.random() < 0.3,
            "resolution": {"width": 1280, "height": 720},
            "created_at": self.ts(created),
            "started_at": self.ts(created + NS),
            "updated_at": self.ts(created + NS),
            "stopped_at": ZERO_TIME,
            "started_by": "",
            "stopped_by": "",
            "recording_assets": [],
        }
        if status != "running":
            stopped = max(created + 2 * NS, end - NS)
            xs["stopped_at"] = self.ts(stopped)
            xs["updated_at"] = self.ts(stopped + NS)
        self.external_streams.add(xs, created, room_id=xs["room_id"], session_id=xs["session_id"])
        return xs

    def _session_extras(self, session: dict, now: int) -> None:
        """Recordings, live and external streams of a freshly generated session."""
        rng = self.rng
        if not session["peers"]:
            return
        start, end = self._session_times(session)
        if session["active"]:
            if rng.random() < 0.4:
                self._make_recording(session, "running", now)
        elif rng.random() < 0.25:
            if rng.random() < 0.06:
                status = "failed"
            elif now - end < 2 * HOUR and rng.random() < 0.6:
                status = "post_processing"
            else:
                status = "completed"
            self._make_recording(session, status, now)
        if rng.random() < 0.06:
            self._make_live_stream(session, now)
        if rng.random() < 0.04:
            self._make_external_stream(session)

    # ----------------------------------------------------------------- events

    def _segment(self, session: dict, start: int, end: int, count: int) -> Segment:
        pj = self.peer_join_ns
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

    def _gen_events(self, total: int) -> None:
        horizon = self.now_ns - 30 * DAY
        eligible = []
        for sid in self.sessions.asc:
            s = self.sessions.objects[sid]
            if s["peers"] and self.sessions.created_ns[sid] >= horizon:
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
            per_room.setdefault(s["room_id"], []).append((self.sessions.created_ns[s["id"]], s, c))
        for rid, items in per_room.items():
            items.sort(key=lambda x: x[0])
            re = self.room_events.setdefault(rid, RoomEvents())
            for start, s, c in items:
                end = self.now_ns if s["active"] else parse_ts(s["updated_at"])
                re.append(self._segment(s, start, end, c))

    def _event_hash(self, room_id: str, i: int) -> bytes:
        return hashlib.blake2b(b"%s|%s|%d" % (self._seed_bytes, room_id.encode(), i), digest_size=32).digest()

    def event_id(self, room_id: str, i: int) -> str:
        return _uuid_hex(self._event_hash(room_id, i).hex())

    def event_meta(self, room_id: str, i: int) -> tuple[str, str, str, str]:
        """(type, session_id, peer_id, user_id) of event i of a room, cheaply."""
        re = self.room_events[room_id]
        k = bisect.bisect_right(re.offsets, i) - 1
        seg = re.segs[k]
        j = i - re.offsets[k]
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
        re = self.room_events[room_id]
        k = bisect.bisect_right(re.offsets, i) - 1
        seg = re.segs[k]
        j = i - re.offsets[k]
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
            room = self.rooms.objects[room_id]
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
        ts_s = fmt_ts_fast(ts)
        started = fmt_ts_fast(max(seg.start_ns, ts - (h[22] + 1) * 1_000_003))
        stopped = f',"stopped_at":"{ts_s}"' if etype == "track.remove.success" else ""
        return (
            f'{{"version":"2.0","id":"{_uuid_hex(hx)}","timestamp":"{ts_s}","type":"{etype}","data":{{{frag},'
            f'"track_id":"{_uuid_hex(hx[32:64])}","stream_id":"{_uuid_hex(hx[20:52])}",'
            f'"type":"{"audio" if h[19] & 1 else "video"}","source":"{"screen" if h[20] < 30 else "regular"}",'
            f'"mute":{"true" if h[21] & 1 else "false"},"started_at":"{started}"{stopped}}}}}'
        )

    def _event_dict(self, room_id: str, i: int) -> dict:
        re = self.room_events[room_id]
        k = bisect.bisect_right(re.offsets, i) - 1
        seg = re.segs[k]
        j = i - re.offsets[k]
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
        room = self.rooms.objects[room_id]
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
                "track_id": _uuid_from_int(int(hx[32:64], 16)),
                "stream_id": _uuid_from_int(int(hx[20:52], 16)),
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
                "rtmp": [] if h[23] & 1 else [{"url": f"rtmp://a.rtmp.example.com/live2/{hx[8:20]}"}],
                "session_started_at": seg.session_created,
                "size": int.from_bytes(h[24:28], "big") % 800_000_000 + 10_000,
            }
        else:
            code, name, message, domain = ERRORS[h[19] % len(ERRORS)]
            data = {
                "user_id": peer["user_id"],
                "user_name": peer["name"],
                "peer_id": peer["id"],
                "account_id": self.customer_id,
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
        return {"version": "2.0", "id": _uuid_from_int(int(hx[:32], 16)), "timestamp": ts_s, "type": etype,
                "data": data}  # fmt: skip

    def events_total(self) -> int:
        return sum(re.total for re in self.room_events.values())

    # ----------------------------------------------------------------- polls & stream keys

    def _gen_polls_and_keys(self) -> None:
        rng = self.rng
        enabled = list(self.rooms_enabled)
        for rid in enabled:
            if rng.random() < 0.2:
                room = self.rooms.objects[rid]
                created = parse_ts(room["created_at"]) + rng.randrange(1, HOUR)
                skid = object_id(created, rng)
                alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
                key = "".join(rng.choice(alphabet) for _ in range(20))
                self.stream_keys[rid] = {
                    "id": skid,
                    "key": key,
                    "room_id": rid,
                    "customer_id": self.customer_id,
                    "app_id": self.app_id,
                    "enabled": True,
                    "url": "rtmp://ingest.sandbox.100ms.live/live",
                    "created_at": self.ts(created),
                    "updated_at": self.ts(created),
                }
        for _ in range(self.params["polls"]):
            if not enabled:
                break
            rid = rng.choice(enabled)
            room = self.rooms.objects[rid]
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
            room_sessions = [self.sessions.objects[s] for s in self.sessions.by_room.get(rid, [])]
            for s in room_sessions[-2:]:
                if not s["peers"]:
                    continue
                s_start = self.sessions.created_ns[s["id"]]
                ps_id = object_id(s_start + 60 * NS, rng)
                psess.append({"id": ps_id, "poll_id": pid, "session_id": s["id"],
                              "started_at": self.ts(s_start + 60 * NS), "stopped_at": self.ts(s_start + 360 * NS),
                              "total_responses": 0, "unique_participants": 0})  # fmt: skip
                voters = list(s["peers"].values())[: rng.randint(1, 5)]
                for peer in voters:
                    for q in questions:
                        at = s_start + rng.randrange(61 * NS, 359 * NS)
                        resp_id = object_id(at, rng)
                        opt = rng.randint(1, 3)
                        presp.append({"id": resp_id, "poll_id": pid, "session_id": s["id"], "duration": 5,
                                      "question": q["index"], "skipped": False, "text": "", "update": False,
                                      "original_response": "", "retries": 0, "sent_at": self.ts(at),
                                      "peer_id": peer["id"], "user_id": peer["user_id"], "option": opt})  # fmt: skip
                        pres.append({"id": resp_id, "poll_id": pid, "session_id": s["id"], "question": q["index"],
                                     "duration": 5, "peer_id": peer["id"], "user_id": peer["user_id"],
                                     "score": 10 if opt == 1 else 0})  # fmt: skip
                psess[-1]["total_responses"] = len(voters) * len(questions)
                psess[-1]["unique_participants"] = len(voters)
            self.poll_sessions[pid] = sorted(psess, key=lambda x: x["id"])
            self.poll_responses[pid] = sorted(presp, key=lambda x: x["id"])
            self.poll_results[pid] = sorted(pres, key=lambda x: x["id"])

    # ----------------------------------------------------------------- generation driver

    def _generate(self) -> None:
        rng = self.rng
        now = self.now_ns
        self._gen_templates()
        tids = list(self.templates.asc)
        # rooms
        n_rooms = self.params["rooms"]
        plans = []
        for i in range(n_rooms):
            created = self._uniform_ns(now - 90 * DAY, now - 2 * HOUR)
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
                    updated = created if rng.random() < 0.5 else self._uniform_ns(created, now)
                win_end = now
            else:
                disabled_at = created + int((now - created) * rng.uniform(0.3, 0.9))
                updated = disabled_at
                win_end = disabled_at
            room = self._make_room(created, enabled, tid, updated)
            self._add_room(room, created)
            win_start = max(created + MINUTE, now - 60 * DAY)
            room_windows.append((room, win_start, win_end))
        self.rooms.finalize()
        # sessions per room
        weights = []
        for _room, ws, we in room_windows:
            w = max(0, we - ws) * rng.uniform(0.3, 1.7)
            if rng.random() < 0.1 or we - ws < HOUR:
                w = 0
            weights.append(w)
        wsum = sum(weights) or 1
        total = self.params["sessions"]
        enabled_with = [i for i, w in enumerate(weights) if w > 0 and room_windows[i][0]["enabled"]]
        n_active = max(2, round(len(enabled_with) * 0.07))
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
                    session = self._make_session(room, start, start + dur, now)
                    self._add_session(session, start)
                    self._session_extras(session, now)
            if active_start is not None:
                session = self._make_session(room, active_start, None, now)
                self._add_session(session, active_start)
                self._session_extras(session, now)
        self.sessions.finalize()
        self.sessions_active.sort()
        self.sessions_ended.sort()
        for coll in (self.recordings, self.recording_assets, self.live_streams, self.external_streams):
            coll.finalize()
        self._gen_events(self.params["events"])
        self._gen_polls_and_keys()

    # ----------------------------------------------------------------- advance

    def advance(self, minutes: float = 60) -> dict:
        rng = self.rng
        old = self.now_ns
        new = old + int(minutes * MINUTE)
        if new <= old:
            raise ValueError("minutes must be positive")
        self.now_ns = new
        created: dict[str, list] = {k: [] for k in ("rooms", "sessions", "session_peers", "recordings",
                                                     "recording_assets", "analytics_events")}  # fmt: skip
        changed: dict[str, list] = {k: [] for k in ("rooms", "sessions", "session_peers", "recordings",
                                                     "recording_assets", "analytics_events")}  # fmt: skip

        def note_assets(pairs):
            for a, _ in pairs:
                created["recording_assets"].append(a["id"])

        def add_events(room_id: str, seg: Segment) -> None:
            re = self.room_events.setdefault(room_id, RoomEvents())
            first = re.total
            re.append(seg)
            for i in range(first, re.total):
                created["analytics_events"].append(self.event_id(room_id, i))

        per_session = getattr(self, "avg_events_per_session", 5)
        # 1. active sessions: end some (all older than 12 h), the rest keep going
        busy_rooms = set()
        for sid in list(self.sessions_active):
            s = self.sessions.objects[sid]
            start = self.sessions.created_ns[sid]
            must_end = new - start >= 12 * HOUR
            if must_end or rng.random() < 0.6:
                end = min(self._uniform_ns(old + 1, new), start + 12 * HOUR - NS)
                end = max(end, old + 1)
                for p in s["peers"].values():
                    if "left_at" not in p:
                        p["left_at"] = self.ts(max(end - rng.randrange(0, 10 * NS), parse_ts(p["joined_at"]) + NS))
                        changed["session_peers"].append([sid, p["id"]])
                s["active"] = False
                s["updated_at"] = self.ts(end)
                self.sessions_active.remove(sid)
                _insert(self.sessions_ended, sid)
                self.active_session_by_room.pop(s["room_id"], None)
                changed["sessions"].append(sid)
                busy_rooms.add(s["room_id"])
                if s["peers"]:
                    add_events(s["room_id"], self._segment(s, old, end, max(1, per_session // 3)))
                for rid_ in self.recordings.by_session.get(sid, []):
                    rec = self.recordings.objects[rid_]
                    if rec["status"] == "running":
                        note_assets(self._complete_recording(rec, s, new))
                        changed["recordings"].append(rec["id"])
                for coll in (self.live_streams, self.external_streams):
                    for xid in coll.by_session.get(sid, []):
                        x = coll.objects[xid]
                        if x["status"] == "running":
                            x["status"] = "completed"
                            x["stopped_at"] = self.ts(end)
                            x["updated_at"] = self.ts(end + NS)
            else:
                busy_rooms.add(s["room_id"])
                if s["peers"]:
                    add_events(s["room_id"], self._segment(s, old, new, max(1, per_session // 4)))
        # 2. post-processing recordings finish
        for rid_ in list(self.recordings.asc):
            rec = self.recordings.objects[rid_]
            if rec["status"] == "post_processing":
                s = self.sessions.objects[rec["session_id"]]
                note_assets(self._complete_recording(rec, s, new))
                changed["recordings"].append(rec["id"])
        # 3. a new room
        tids = list(self.templates.asc)
        n_new_rooms = max(1, round(minutes / 240))
        for _ in range(n_new_rooms):
            c = self._uniform_ns(old + 1, new)
            room = self._make_room(c, True, rng.choice(tids), c)
            self._add_room(room, c)
            created["rooms"].append(room["id"])
        # 4. new sessions
        rate = self.params["sessions"] / (60 * 24 * 60)
        n_new = max(3, round(rate * minutes * rng.uniform(0.7, 1.3)))
        candidates = [r for r in self.rooms_enabled if r not in busy_rooms and r not in self.active_session_by_room]
        rng.shuffle(candidates)
        for rid in candidates[:n_new]:
            room = self.rooms.objects[rid]
            start = self._uniform_ns(old + 1, new - 1)
            r_start = self.rooms.created_ns[rid]
            start = max(start, r_start + NS)
            if start >= new:
                continue
            if rng.random() < 0.5:
                end = None
            else:
                end = min(start + rng.randrange(MINUTE, 2 * HOUR), new)
            s = self._make_session(room, start, end, new)
            self._add_session(s, start)
            sid = s["id"]
            created["sessions"].append(sid)
            created["session_peers"].extend([sid, p] for p in s["peers"])
            n_asset = len(self.recording_assets)
            before = set(self.recordings.by_session.get(sid, []))
            self._session_extras(s, new)
            after = set(self.recordings.by_session.get(sid, []))
            created["recordings"].extend(sorted(after - before))
            if len(self.recording_assets) > n_asset:
                created["recording_assets"].extend(self.recording_assets.by_session.get(sid, []))
            if s["peers"]:
                seg_end = new if end is None else parse_ts(s["updated_at"])
                add_events(rid, self._segment(s, start, seg_end, per_session))
        created["recording_assets"] = sorted(set(created["recording_assets"]))
        out = {k: {"created": created[k], "changed": changed[k]} for k in created}
        out["clock"] = fmt_ts(new)
        return out

    # ----------------------------------------------------------------- ground truth

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
        for rid, re in self.room_events.items():
            ev.extend(self.event_id(rid, i) for i in range(re.total))
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
            "recordings": len(self.recordings),
            "recording_assets": len(self.recording_assets),
            "live_streams": len(self.live_streams),
            "external_streams": len(self.external_streams),
            "room_codes": sum(len(v) for v in self.room_codes.values()),
            "polls": len(self.polls),
            "stream_keys": len(self.stream_keys),
        }


_TRACK_SET = frozenset(EVENT_TYPES_TRACK)
_MINUTE_BASES: dict[int, str] = {}


def fmt_ts_fast(ns: int) -> str:
    """fmt_ts with a cache of the minute prefix."""
    secs, frac = divmod(ns, NS)
    mins, sec = divmod(secs, 60)
    base = _MINUTE_BASES.get(mins)
    if base is None:
        if len(_MINUTE_BASES) > 100_000:
            _MINUTE_BASES.clear()
        base = _MINUTE_BASES[mins] = time.strftime("%Y-%m-%dT%H:%M:", time.gmtime(mins * 60))
    if frac:
        return f"{base}{sec:02d}.{f'{frac:09d}'.rstrip('0')}Z"
    return f"{base}{sec:02d}Z"


def _uuid_hex(s: str) -> str:
    """uuid4 text from 32 hex digits (version and variant forced), same as _uuid_from_int."""
    return f"{s[:8]}-{s[8:12]}-4{s[13:16]}-{'89ab'[int(s[16], 16) & 3]}{s[17:20]}-{s[20:32]}"


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
