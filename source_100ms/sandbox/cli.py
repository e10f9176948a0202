"""`source-100ms sandbox ...`: serve a sandbox until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

import orjson

from .data import SCALES
from .server import FAULT_KINDS, Sandbox


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
        help=f"comma-separated fault kinds among {','.join(FAULT_KINDS)} (default: all)",
    )
    p.add_argument("--events-total", type=int, default=None, help="total analytics events to serve")
    p.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds sent with injected 429s")
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
