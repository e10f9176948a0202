"""Identifiers in the forms 100ms uses: 24-hex ObjectIds that start with their creation second, UUIDv4s
(peers, tracks, analytics events) and 3-3-3 lowercase room codes."""

from __future__ import annotations

import random

from .clock import NS


def object_id(sec_ns: int, rng: random.Random) -> str:
    """A Mongo ObjectId: 8 hex digits of creation second, then 16 random ones (so ids sort by creation)."""
    return f"{sec_ns // NS:08x}{rng.getrandbits(64):016x}"


def uuid_from_int(n: int) -> str:
    """UUIDv4 text from 128 bits (version and variant bits forced)."""
    n &= ~(0xF000 << 64)
    n |= 0x4000 << 64
    n &= ~(0xC000 << 48)
    n |= 0x8000 << 48
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uuid4s(rng: random.Random) -> str:
    return uuid_from_int(rng.getrandbits(128))


def uuid_hex(s: str) -> str:
    """UUIDv4 text from 32 hex digits (version and variant forced), the same as ``uuid_from_int``."""
    return f"{s[:8]}-{s[8:12]}-4{s[13:16]}-{'89ab'[int(s[16], 16) & 3]}{s[17:20]}-{s[20:32]}"


def room_code(rng: random.Random) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    s = "".join(letters[rng.randrange(26)] for _ in range(9))
    return f"{s[:3]}-{s[3:6]}-{s[6:]}"
