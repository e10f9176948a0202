"""Rooms and their room codes, as ``GET /v2/rooms`` and ``GET /v2/room-codes/room/{room_id}`` answer them."""

from __future__ import annotations

from .clock import DAY, NS, ZERO_TIME, fmt_ts
from .context import Context
from .ids import object_id, room_code
from .store import Collection, insert_sorted
from .templates import Templates
from .vocab import REGIONS, ROOM_WORDS


class Rooms:
    """The workspace's rooms (enabled and disabled) and the room codes of each (one per role)."""

    def __init__(self, ctx: Context, templates: Templates):
        self.ctx = ctx
        self.templates = templates
        self.coll = Collection()
        self.enabled: list[str] = []
        self.disabled: list[str] = []
        self.by_template: dict[str, list[str]] = {}
        self.by_name: dict[str, str] = {}
        self.room_codes: dict[str, list[dict]] = {}  # room_id -> codes sorted by code ascending
        self._names_used: set[str] = set()
        self._codes_used: set[str] = set()

    def _room_name(self) -> str:
        rng = self.ctx.rng
        while True:
            name = f"{rng.choice(ROOM_WORDS)}-{rng.randrange(1000):03d}"
            if name not in self._names_used:
                self._names_used.add(name)
                return name

    def make(self, created: int, enabled: bool, tid: str, updated: int | None) -> dict:
        ctx = self.ctx
        rng = ctx.rng
        rid = object_id(created, rng)
        tpl = self.templates.coll.objects[tid]
        created_s = ctx.ts(created)
        room = {
            "id": rid,
            "name": self._room_name(),
            "enabled": enabled,
            "description": rng.choice(["", "Weekly meeting room", "Customer support calls", "Live class"]),
            "customer_id": ctx.customer_id,
            "app_id": ctx.app_id,
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
            "updated_at": ZERO_TIME if updated is None else (created_s if updated == created else ctx.ts(updated)),
            "large_room": rng.random() < 0.1,
            "size": rng.choice([0, 0, 100, 2500]),
            "max_duration_seconds": rng.choice([0, 3600, 10000, 43200]),
            "polls": [],
            "webhook": {"url": "", "headers": {}}
            if rng.random() < 0.7
            else {"url": "https://hooks.example.com/100ms", "headers": {"x-source": "sandbox"}},
            "customer": ctx.customer_id,
        }
        self._add_secrets(room)
        return room

    def _add_secrets(self, room: dict) -> None:
        """As documented: storage credentials in ``recording_info.upload_info``; webhook headers with secret
        values (from the secret stream, so the room's other values are as they were without them)."""
        ctx = self.ctx
        upload = room["recording_info"].get("upload_info")
        if upload is not None:
            upload["credentials"] = {"key": ctx.mint("storage-key"), "secret": ctx.mint("storage-secret")}
        hook = room["webhook"]
        if hook["url"]:
            hook["headers"]["Authorization"] = f"Bearer {ctx.mint('webhook-token')}"
            hook["headers"]["X-Api-Key"] = ctx.mint("webhook-key")

    def beam_rtmp_key(self, room_id: str) -> str:
        """The stream key a room's beam (recording/streaming bot) sends to, in beam events' ``rtmp[].url``."""
        return self.ctx.keyed_secret("rtmp-key", "beam", room_id)

    def add(self, room: dict, created: int) -> None:
        rid = room["id"]
        self.coll.add(room, created)
        insert_sorted(self.enabled if room["enabled"] else self.disabled, rid)
        insert_sorted(self.by_template.setdefault(room["template_id"], []), rid)
        self.by_name[room["name"]] = rid
        self._gen_room_codes(room, created)

    def _gen_room_codes(self, room: dict, created: int) -> None:
        ctx = self.ctx
        rng = ctx.rng
        roles = list(self.templates.coll.objects[room["template_id"]]["roles"])
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
                    "created_at": ctx.ts(c_created),
                    "updated_at": ctx.ts(c_created if enabled else c_created + rng.randrange(DAY)),
                }
            )
        codes.sort(key=lambda c: c["code"])
        self.room_codes[room["id"]] = codes

    def disable(self, room_id: str) -> dict:
        """Disable a room now: it leaves the enabled rooms, ``enabled`` becomes false, ``updated_at`` the clock.

        Raises KeyError for an unknown room; disabling a disabled room changes nothing.
        """
        room = self.coll.objects[room_id]
        if not room["enabled"]:
            return {"room_id": room_id, "changed": False, "updated_at": room["updated_at"]}
        ctx = self.ctx
        prev = room["updated_at"]
        at = ctx.now_ns
        updated = fmt_ts(at)
        if updated == prev:  # updated_at must change, even when the room was updated at this very instant
            updated = fmt_ts(at + 1_000_000)
        room["enabled"] = False
        room["updated_at"] = updated
        self.enabled.remove(room_id)
        insert_sorted(self.disabled, room_id)
        return {"room_id": room_id, "changed": True, "updated_at": updated}
