"""The sandbox's workspace data, re-exported from ``model`` (where it is split by what each part models)."""

from __future__ import annotations

from .model.clock import DAY, HOUR, MINUTE, NS, ZERO_TIME, fmt_ts, parse_ts, quantize, to_ns
from .model.events import RoomEvents, Segment
from .model.ids import object_id, room_code, uuid4s
from .model.store import Collection
from .model.vocab import EVENT_TYPES, SCALES
from .model.workspace import Workspace

__all__ = [
    "DAY", "EVENT_TYPES", "HOUR", "MINUTE", "NS", "SCALES", "ZERO_TIME", "Collection", "RoomEvents", "Segment",
    "Workspace", "fmt_ts", "object_id", "parse_ts", "quantize", "room_code", "to_ns", "uuid4s",
]  # fmt: skip
