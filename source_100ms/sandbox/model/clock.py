"""Time as the sandbox keeps it and as 100ms renders it.

Times are integer nanoseconds since the epoch. 100ms (Go ``time.Time``) renders them as RFC3339 UTC with the
trailing zeros of the fraction trimmed (``2022-09-08T15:07:37.83Z``), so the number of fraction digits varies
from record to record; ``quantize`` drops digits so that generated records show that variety.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

NS = 1_000_000_000
MINUTE = 60 * NS
HOUR = 60 * MINUTE
DAY = 24 * HOUR
ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time: how 100ms renders a time that was never set


_MINUTE_BASES: dict[int, str] = {}


def fmt_ts(ns: int) -> str:
    """RFC3339 UTC, Go style: fraction with trailing zeros trimmed, none when zero.

    The text up to the minute is kept per minute: times are rendered by the million (events, sessions, peers)
    and most share their minute with others."""
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
    """A clock given as a datetime, an RFC3339 string or epoch seconds; None is the current minute."""
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
