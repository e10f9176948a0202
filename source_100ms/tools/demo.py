"""The README's demo: a full sync of every stream of a local sandbox workspace.

Starts the sandbox on a free loopback port, runs `source-100ms discover` and `read` through the installed
executable, writes each stream's records to `demo_output/<stream>.jsonl`, and prints a summary that compares
what was read with what the sandbox holds.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

from source_100ms.sandbox import Sandbox
from source_100ms.tools import protocol


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m source_100ms.tools.demo", description=__doc__)
    parser.add_argument("--scale", default="small", choices=["small", "medium", "large"])
    parser.add_argument("--output", default="demo_output", help="folder for the JSONL files")
    args = parser.parse_args(argv)

    with Sandbox(seed=1, scale=args.scale) as sandbox:
        config = sandbox.config()
        print(f"sandbox: {args.scale} workspace at {sandbox.url}")
        catalog = protocol.discover_catalog(config)
        started = time.monotonic()
        result = protocol.run("read", config, catalog=protocol.configured_catalog(catalog))
        seconds = time.monotonic() - started
        truth = sandbox.ground_truth()
        requests = sum(v for k, v in sandbox.request_counts().items() if k.startswith("GET"))

    if result.returncode != 0 or result.errors():
        print(f"the read failed: {json.dumps(result.errors(), indent=1)[:4000]}", file=sys.stderr)
        return 1

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    by_stream = result.records_by_stream()
    keys = {s["name"]: s.get("source_defined_primary_key") or [] for s in catalog["streams"]}
    print(f"\n{'stream':<24}{'records':>9}{'in sandbox':>12}  check")
    ok = True
    for name in sorted(keys):
        rows = by_stream.get(name, [])
        with (out / f"{name}.jsonl").open("w") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")
        read_keys = protocol.primary_key_values(rows, keys[name])
        expected = truth.get(name, [])
        counts = collections.Counter(json.dumps(k) for k in read_keys)
        same = sorted(counts) == sorted(json.dumps(k) for k in expected) and max(counts.values(), default=1) == 1
        ok &= same
        print(f"{name:<24}{len(rows):>9}{len(expected):>12}  {'same ids' if same else 'DIFFERENT'}")
    total = sum(len(v) for v in by_stream.values())
    print(f"\n{total} records in {seconds:.1f} s with {requests} requests; JSONL files in {out.resolve()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
