"""`source-100ms sandbox ...`: serve a sandbox until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

import orjson

from .api import ORDERS, REPEAT_CURSOR_MODES, UNORDERED_KINDS, UNRANGED_LIMIT_KINDS
from .data import SCALES
from .server import DEFAULT_FAULT_KINDS, FAULT_KINDS, Sandbox


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="source-100ms sandbox",
        description="Serve a local, deterministic 100ms API v2 workspace on 127.0.0.1 and print a "
        "connector config (one line of JSON on stdout) that reads it.",
    )
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free port)")
    p.add_argument("--seed", type=int, default=1, help="workspace seed (default 1)")
    p.add_argument("--scale", choices=sorted(SCALES), default="small", help="workspace size (default small)")
    p.add_argument("--latency-ms", type=float, default=0.0, help="delay before each API answer, in ms")
    p.add_argument("--fault-rate", type=float, default=0.0, help="probability of an injected fault, 0..1")
    p.add_argument(
        "--fault-kinds",
        default=None,
        help=f"comma-separated fault kinds among {','.join(FAULT_KINDS)} "
        f"(default: {','.join(DEFAULT_FAULT_KINDS)}; stall and trickle only when named)",
    )
    p.add_argument(
        "--stall-seconds", type=float, default=60.0, help="how long a 'stall' fault holds the connection (default 60)"
    )
    p.add_argument(
        "--trickle-interval",
        type=float,
        default=2.0,
        help="seconds between the bytes of a 'trickle' fault's response (default 2)",
    )
    p.add_argument(
        "--events-total", type=int, default=None, help="analytics events to spread over the sessions (late ones apart)"
    )
    p.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds sent with injected 429s")
    p.add_argument(
        "--sessions-per-hour",
        type=float,
        default=None,
        help="sessions started per hour over the last day and on each advance, overriding the scale's rate "
        "(the busy scale has one); capped by the rooms free to host one",
    )
    p.add_argument(
        "--order",
        choices=ORDERS,
        default="newest-first",
        help=f"order of the lists whose order 100ms does not document ({', '.join(UNORDERED_KINDS)}); "
        "oldest-first pages ascending ids after `start` (default newest-first)",
    )
    p.add_argument(
        "--strict-time-format",
        action="store_true",
        help="answer 400 to after/before on rooms and sessions not in the documented YYYY-MM-DDTHH:mm:ss.sssZ form",
    )
    p.add_argument(
        "--reject-limit-on",
        default="",
        help=f"comma-separated lists among {','.join(UNRANGED_LIMIT_KINDS)} that answer 400 to any `limit` "
        "(their default page size is then used: 10, room codes 20)",
    )
    p.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        help="accepted API requests per sliding second; the others get 429 'rate limit exceeded, retry after N "
        "seconds' (default: no limit)",
    )
    p.add_argument(
        "--rate-limit-header",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="with --rate-limit, also send Retry-After: N; --no-rate-limit-header says the wait only in the body, "
        "as 100ms documents it (default: send it)",
    )
    p.add_argument(
        "--repeat-cursor",
        choices=REPEAT_CURSOR_MODES,
        default=None,
        help="a server bug: echo_start answers start=S with last/next S; ignore_start answers the first page again",
    )
    p.add_argument("--now", default=None, help="workspace clock, RFC3339 (default: now, to the minute)")
    p.add_argument("--config-out", default=None, help="also write the config JSON to this file")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.port < 0 or args.port > 65535:
        print("sandbox: --port must be between 0 and 65535", file=sys.stderr)
        return 2
    try:
        sb = Sandbox(
            seed=args.seed,
            scale=args.scale,
            latency_ms=args.latency_ms,
            fault_rate=args.fault_rate,
            fault_kinds=args.fault_kinds,
            now=args.now,
            events_total=args.events_total,
            retry_after_seconds=args.retry_after,
            sessions_per_hour=args.sessions_per_hour,
            order=args.order,
            strict_time_format=args.strict_time_format,
            reject_limit_on=args.reject_limit_on,
            rate_limit_per_second=args.rate_limit,
            rate_limit_header=args.rate_limit_header,
            repeat_cursor=args.repeat_cursor,
            stall_seconds=args.stall_seconds,
            trickle_interval_seconds=args.trickle_interval,
        )
    except ValueError as e:
        print(f"sandbox: {e}", file=sys.stderr)
        return 2
    try:
        sb.start(port=args.port)
    except OSError as e:
        print(f"sandbox: cannot listen on 127.0.0.1:{args.port}: {e}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        line = orjson.dumps(sb.config()).decode()
        if args.config_out:
            with open(args.config_out, "w", encoding="utf-8") as f:
                f.write(line + "\n")
        print(line, flush=True)
        print(sb.summary_text(), file=sys.stderr, flush=True)
        print("serving until Ctrl-C (SIGINT) or SIGTERM", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        sb.stop()
        for s, h in old.items():
            signal.signal(s, h)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
