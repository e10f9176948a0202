"""What every part of a generated workspace shares: the seed, the one random stream that makes generation
deterministic, the clock, the account's ids and keys, and the mint of recognisable secret values.

Features added after the first generator draw from their own streams (``secret_rng``, ``side_rng``), so that
the records the first generator made keep their values."""

from __future__ import annotations

import base64
import hashlib
import random

from .clock import DAY, NS, fmt_ts, quantize
from .ids import uuid4s
from .vocab import ACCESS_KEY, FIRST_NAMES

SECRET_MARK = "sbxsecret"  # every secret value the API answers contains it (Workspace.secrets() lists them)


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
        self.secret_rng = random.Random(f"sandbox-secrets-{self.seed}")

    def mint(self, kind: str) -> str:
        """A secret value: recognisable (``sbxsecret``), unique (96 random bits) and deterministic."""
        return f"{SECRET_MARK}-{kind}-{self.secret_rng.getrandbits(96):024x}"

    def keyed_secret(self, kind: str, *key: str) -> str:
        """A secret value derived from ``key`` (the same key gives the same secret, whatever the call order)."""
        h = hashlib.blake2b("|".join((str(self.seed), kind) + key).encode(), digest_size=12).hexdigest()
        return f"{SECRET_MARK}-{kind}-{h}"

    def side_rng(self, *key: str) -> random.Random:
        """A random stream of its own for one object, independent of the order of generation."""
        return random.Random("|".join((str(self.seed),) + key))

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
