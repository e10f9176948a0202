"""What every part of a generated workspace shares: the seed, the one random stream that makes generation
deterministic, the clock, the account's ids and keys, and the mint of recognisable secret values."""

from __future__ import annotations

import base64
import hashlib
import random

from .clock import DAY, NS, fmt_ts, quantize
from .ids import uuid4s
from .vocab import ACCESS_KEY, FIRST_NAMES


class Context:
    """The shared state of one workspace's generators.

    Every generator draws from ``rng`` in a fixed order, so (seed, now, options) fixes the whole workspace.
    """

    def __init__(self, seed: int, now_ns: int):
        self.seed = int(seed)
        self.now_ns = now_ns
        self.start_ns = now_ns
        self.rng = random.Random(self.seed)
        rng = self.rng
        self.access_key = ACCESS_KEY
        digest = hashlib.sha256(f"source-100ms-sandbox-secret-{self.seed}".encode()).digest()
        self.app_secret = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        self.customer_id = f"{(now_ns - 400 * DAY) // NS:08x}{rng.getrandbits(64):016x}"
        self.app_id = f"{(now_ns - 400 * DAY) // NS + 5:08x}{rng.getrandbits(64):016x}"
        self.seed_bytes = str(self.seed).encode()

    def ts(self, ns: int) -> str:
        """A time as 100ms renders it, with a random number of fraction digits."""
        return fmt_ts(quantize(ns, self.rng.random()))

    def uniform_ns(self, lo: int, hi: int) -> int:
        if hi <= lo:
            return lo
        return lo + int(self.rng.random() * (hi - lo))

    def person(self) -> tuple[str, str]:
        rng = self.rng
        name = f"{rng.choice(FIRST_NAMES)} {chr(65 + rng.randrange(26))}."
        if rng.random() < 0.5:
            uid = f"user-{rng.randrange(100000):05d}"
        else:
            uid = uuid4s(rng)
        return name, uid
