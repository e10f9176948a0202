"""Templates (policies): roles, settings and destinations, as ``GET /v2/templates`` and its sub-resources
answer them (camelCase keys, destinations as maps of name to config)."""

from __future__ import annotations

from .clock import DAY
from .context import Context
from .ids import object_id, uuid4s
from .store import Collection
from .vocab import REGIONS, ROLE_SETS, ROOM_WORDS


class Templates:
    """The workspace's templates."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.coll = Collection()
        self.recordings: dict[str, list[dict]] = {}  # GET /v2/templates/{id}/recordings, by template id

    def _role(self, name: str, all_roles: list[str], priority: int) -> dict:
        rng = self.ctx.rng
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
        rng = self.ctx.rng
        kind = idx % 4
        if kind == 0:
            return {}
        dest: dict = {}
        n_each = 1 if kind == 1 else rng.randint(2, 3)
        if kind in (2, 3):
            dest["rtmpDestinations"] = {}
            for _ in range(n_each):
                name = uuid4s(rng)
                rng.getrandbits(32)  # was the stream key; still drawn so that what follows keeps its values
                dest["rtmpDestinations"][name] = {
                    "name": name,
                    "width": 1280,
                    "height": 720,
                    "maxDuration": 10800,
                    # the stream key is the last path segment of an RTMP URL: a secret of the streaming account
                    "rtmpUrls": [f"rtmp://live.example.net/app/{self.ctx.mint('rtmp-key')}"],
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

    def generate(self, n: int) -> None:
        rng = self.ctx.rng
        for idx in range(n):
            created = self.ctx.uniform_ns(self.ctx.now_ns - 150 * DAY, self.ctx.now_ns - 95 * DAY)
            tid = object_id(created, rng)
            roles = ROLE_SETS[idx % len(ROLE_SETS)]
            if idx % 3 == 0:
                name = f"default_videoconf_{uuid4s(rng)}"
            else:
                name = f"{rng.choice(ROOM_WORDS)}-template-{idx + 1}"
            settings = {
                "region": rng.choice(REGIONS),
                "recording": None if idx % 2 == 0 else {"enabled": True, "upload": None},
                "roomState": {"messageInterval": 5, "sendPeerList": idx % 2 == 1, "stopRoomStateOnJoin": True,
                              "enabled": idx % 3 != 0},
                "retry": {},
            }  # fmt: skip
            updated = created if rng.random() < 0.4 else self.ctx.uniform_ns(created, self.ctx.now_ns - DAY)
            created_s = self.ctx.ts(created)
            tpl = {
                "id": tid,
                "name": name,
                "customerId": self.ctx.customer_id,
                "roles": {r: self._role(r, roles, i + 1) for i, r in enumerate(roles)},
                "settings": settings,
                "destinations": self._destinations(idx, roles),
                "createdAt": created_s,
                "updatedAt": created_s if updated == created else self.ctx.ts(updated),
                "_id": tid,
                "customer": self.ctx.customer_id,
                "default": idx == 0,
                "appId": self.ctx.app_id,
            }
            self._add_storage_and_plugins(tpl, roles)
            self.coll.add(tpl, created)
        self.coll.finalize()
        for tid in self.coll.asc:
            self.recordings[tid] = self._recording_configs(self.coll.objects[tid])

    def upload(self, prefix: str) -> dict:
        """An ``upload`` object as the create-template response documents it, with storage credentials."""
        ctx = self.ctx
        return {
            "type": "s3",
            "location": "recordings-bucket",
            "prefix": prefix,
            "options": {"region": "ap-south-1"},
            "credentials": {"key": ctx.mint("storage-key"), "secretKey": ctx.mint("storage-secret")},
        }

    def _add_storage_and_plugins(self, tpl: dict, roles: list[str]) -> None:
        """Storage credentials (``settings.recording.upload``, some HLS and browser recordings) and ``plugins``.

        Drawn from the secret stream, so the rest of the template keeps the values it had without them.
        """
        srng = self.ctx.secret_rng
        rec = tpl["settings"]["recording"]
        if rec is not None:
            rec["upload"] = self.upload(f"templates/{tpl['id']}")
        dest = tpl["destinations"]
        for name, hls in (dest.get("hlsDestinations") or {}).items():
            if srng.random() < 0.5:
                hls["recording"]["upload"] = self.upload(f"hls/{tpl['id']}/{name[:8]}")
        for name, br in (dest.get("browserRecordings") or {}).items():
            if srng.random() < 0.5:
                br["upload"] = self.upload(f"browser/{tpl['id']}/{name[:8]}")
        others = roles[1:] or roles
        plugins: dict = {"whiteboard": {"permissions": {"admin": [roles[0]], "writer": [roles[0]], "reader": others}}}
        if "transcriptions" in dest:
            plugins["transcriptions"] = {"permissions": {"admin": [roles[0]]}, "mode": "caption"}
        tpl["plugins"] = plugins

    def _recording_configs(self, tpl: dict) -> list[dict]:
        """The recording configs (``GET /v2/templates/{id}/recordings``, a bare array); none without recording."""
        if tpl["settings"].get("recording") is None:
            return []
        host = next(iter(tpl["roles"]))
        return [
            {
                "name": "default",
                "role": host,
                "maxDuration": 1800,
                "presignDuration": 3600,
                "thumbnails": {"width": 1280, "height": 720, "offsets": [2], "fps": 60},
                "compositeRecording": {
                    "browserComposite": {"enabled": True, "autoStopTimeout": 500, "width": 1920, "height": 1080},
                    "customComposite": {},
                },
                "trackRecording": {},
                "streamRecording": {"width": 1920, "height": 1080},
                # where this config uploads: the template's storage, with its credentials
                "upload": tpl["settings"]["recording"]["upload"],
            }
        ]
