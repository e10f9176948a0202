"""The benchmark of DESIGN.md section 9: three figures, each a ratio taken in one run on the same machine.

1. Throughput: `source-100ms read` of analytics events (one stream, `--events` records) against the raw floor
   (`bench/raw_floor.py`: the same pages with one HTTP session, the same RECORD lines), as records per second.
2. Latency-bound full sync: every stream of the medium workspace with 50 ms added to each request; wall time
   against the critical path (the longest chain of requests that must follow each other, times 50 ms), and
   requests made against the minimum (every list read once at 100 per page, a per-parent call only for
   parents that can have children). The start-up (launch to the first answer) is shown apart: it is a fixed
   cost of the process (Python and the CDK loading), the same for a small sync and a large one. The same sync
   is also run with no latency added: its wall time is what this machine's CPU needs for the sync, the least
   any concurrency could bring the latency-bound sync down to here.
3. Memory: peak RSS of a read of `--memory-events` analytics events, and of a quarter as many, to show it
   stays flat as the record count grows.
4. Incremental: the second sync of a busy workspace three hours after the first, requests against the minimum
   (`bench/minimum.py`: the lists, and one events chain per changed session).

Each figure is taken with the speed layer on and off (`--speedups on off`), in the same run. `--only patches`
leaves each patch of the speed layer out in turn (throughput and start-up), to show what each one still gains.

Usage: `make bench`, or `python bench/run.py [--events N] [--memory-events N] [--workers W ...] [--only ...]
[--speedups on off]`.
The sandbox serves from this process; the connector and the floor run as child processes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `bench.minimum`, when run as a script

from source_100ms.sandbox import Sandbox  # noqa: E402
from source_100ms.tools import protocol  # noqa: E402

HERE = Path(__file__).resolve().parent
PAGE = 100
LATENCY_MS = 50


def _files(config: dict, catalog: dict) -> tuple[str, str]:
    folder = tempfile.mkdtemp(prefix="bench-")
    Path(folder, "config.json").write_text(json.dumps(config))
    Path(folder, "catalog.json").write_text(json.dumps(catalog))
    return str(Path(folder, "config.json")), str(Path(folder, "catalog.json"))


def _watch_peak_rss(pid: int, peak: list[int], done: threading.Event) -> None:
    """Keep the child's VmHWM (peak RSS since its exec) up to date until it exits.

    Not `wait4`'s `ru_maxrss`: that counts the pages of this process, sandbox included, that the child
    shared between fork and exec, and reported several hundred MiB the connector never used.
    """
    status = Path(f"/proc/{pid}/status")
    while not done.is_set():
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak[0] = max(peak[0], int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError):
            return
        done.wait(0.2)


# SOURCE_100MS_SPEEDUPS for the connector's runs: "1" (the whole speed layer), "0" (none), or patch names.
SPEEDUPS = {"on": "1", "off": "0"}
_speedups = "1"


def _env() -> dict[str, str]:
    return {**os.environ, "SOURCE_100MS_SPEEDUPS": _speedups}


def _timed(args: list[str]) -> tuple[int, float, int]:
    """Run a child that prints Airbyte messages; return (records, seconds, peak RSS in KiB)."""
    started = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=1 << 20, env=_env())
    peak, done = [0], threading.Event()
    watcher = threading.Thread(target=_watch_peak_rss, args=(child.pid, peak, done), daemon=True)
    watcher.start()
    records = sum(1 for line in child.stdout if line.startswith(b'{"type":"RECORD"'))
    done.set()
    watcher.join()
    child.wait()
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"{args[0]} exited with {child.returncode}")
    return records, seconds, peak[0]


def _events_config(sandbox: Sandbox, workers: int) -> tuple[str, str]:
    rooms = sorted(room for room, events in sandbox.workspace.room_events.items() if events.total)
    config = dict(sandbox.config(), room_ids=rooms, page_size=PAGE, num_workers=workers)
    catalog = protocol.configured_catalog(protocol.discover_catalog(config), ["analytics_events"])
    return _files(config, catalog)


def throughput(events: int, workers: int) -> dict:
    with Sandbox(seed=3, scale="large", events_total=events) as sandbox:
        config_path, catalog_path = _events_config(sandbox, workers)
        floor_n, floor_s, _ = _timed([sys.executable, str(HERE / "raw_floor.py"), config_path])
        read_n, read_s, _ = _timed([protocol.executable(), "read", "--config", config_path, "--catalog", catalog_path])
    if floor_n != read_n:
        raise SystemExit(f"the floor printed {floor_n} records and the connector {read_n}: not the same work")
    return {"records": read_n, "floor_per_s": floor_n / floor_s, "connector_per_s": read_n / read_s,
            "ratio": read_s / floor_s, "workers": workers}  # fmt: skip


def _pages(n: int) -> int:
    """Requests to read a list of n items at 100 per page: a full last page needs one more to see the end."""
    return n // PAGE + 1


def minimum_and_critical_path(sandbox: Sandbox, read_started: datetime) -> tuple[int, int]:
    ws = sandbox.workspace
    rooms = list(ws.rooms.objects.values())
    enabled = [r["id"] for r in rooms if r["enabled"]]
    sessions = list(ws.sessions.objects.values())
    active = [s for s in sessions if s["active"]]
    ended = [s for s in sessions if not s["active"]]
    templates = len(ws.templates.objects)
    events = [(ws.room_events[r].total if r in ws.room_events else 0) for r in {s["room_id"] for s in sessions}]
    events_pages = [_pages(n) for n in events if n]
    codes = [_pages(len(ws.room_codes.get(r, []))) for r in enabled]
    lists = {
        "rooms": [_pages(len(enabled)), _pages(len(rooms) - len(enabled))],
        "templates": [_pages(templates)],
        "sessions": [_pages(len(active)), _pages(len(ended))],
        "recordings": [_pages(len(ws.recordings.objects))],
        "recording_assets": [_pages(len(ws.recording_assets.objects))],
        "live_streams": [_pages(len(ws.live_streams.objects))],
        "external_streams": [_pages(len(ws.external_streams.objects))],
    }
    minimum = sum(sum(v) for v in lists.values())
    minimum += 2 * templates  # settings and destinations of each template
    minimum += len({s["room_id"] for s in active})  # peers of each active room
    minimum += sum(events_pages) + sum(codes)
    # the chains: a list's pages follow each other; a child request follows the parent page that named it
    recent = [s for s in sessions if s["created_at"] >= (read_started - timedelta(days=30)).isoformat()]
    chains = [max(v) for v in lists.values()]
    chains += [lists["templates"][0] + 1, lists["sessions"][0] + 1, max(lists["rooms"][0], 1) + max(codes or [0])]
    chains += [max(_pages(len(recent)), lists["sessions"][0]) + max(events_pages or [0])]
    return minimum, max(chains)


def latency_bound(workers: int, latency_ms: int = LATENCY_MS) -> dict:
    with Sandbox(seed=3, scale="medium", latency_ms=latency_ms) as sandbox:
        config = dict(sandbox.config(), num_workers=workers)
        catalog = protocol.configured_catalog(protocol.discover_catalog(config))
        config_path, catalog_path = _files(config, catalog)
        sandbox.reset_counts()
        started = datetime.now(UTC)
        records, seconds, _ = _timed(
            [protocol.executable(), "read", "--config", config_path, "--catalog", catalog_path]
        )
        counts = sandbox.request_counts()
        # Start-up: from the launch to the first answer the sandbox gave (one latency included).
        startup = min(entry["t"] for entry in sandbox.request_log()) - started.timestamp()
        minimum, chain = minimum_and_critical_path(sandbox, started)
    made = sum(v for k, v in counts.items() if k.startswith("GET"))
    critical = chain * latency_ms / 1000
    per_critical = 1 / critical if critical else float("nan")
    return {"records": records, "seconds": seconds, "critical_path_s": critical, "time_ratio": seconds * per_critical,
            "startup_s": startup, "after_startup_ratio": (seconds - startup) * per_critical,
            "requests": made, "minimum": minimum, "request_ratio": made / minimum, "workers": workers,
            "latency_ms": latency_ms,
            "by_endpoint": {k: v for k, v in sorted(counts.items()) if k.startswith("GET")}}  # fmt: skip


def memory(events: int, workers: int) -> dict:
    out = {}
    for n in (events // 4, events):
        with Sandbox(seed=3, scale="large", events_total=n) as sandbox:
            config_path, catalog_path = _events_config(sandbox, workers)
            read_n, seconds, peak_kib = _timed(
                [protocol.executable(), "read", "--config", config_path, "--catalog", catalog_path]
            )
        out[read_n] = {"peak_rss_mib": peak_kib / 1024, "seconds": seconds}
    return out


def startup(runs: int = 5) -> float:
    """Median wall time of `source-100ms spec`: the fixed cost of every command (Python and the CDK loading)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([protocol.executable(), "spec"], capture_output=True, env=_env(), check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def incremental(workers: int) -> dict:
    """The second sync of a busy workspace three hours after the first: requests against the minimum."""
    from bench.minimum import cursor_of, second_sync_minimum

    streams = ["sessions", "session_peers", "analytics_events", "recordings", "recording_assets"]
    with Sandbox(seed=11, scale="busy", now=time.time() - 4 * 3600, strict_time_format=True) as sandbox:
        config = dict(sandbox.config(), num_workers=workers)
        catalog = protocol.configured_catalog(protocol.discover_catalog(config), streams, incremental=True)
        first = protocol.run("read", config, catalog=catalog)
        states = {}
        for state in first.states():
            states[state["stream"]["stream_descriptor"]["name"]] = state
        sandbox.advance(minutes=180)
        sandbox.reset_counts()
        started = time.perf_counter()
        second = protocol.run("read", config, catalog=catalog, state=list(states.values()))
        seconds = time.perf_counter() - started
        if first.returncode or second.returncode:
            raise SystemExit(f"an incremental read failed: {(first.errors() or second.errors())[:1]}")
        made = sum(v for k, v in sandbox.request_counts().items() if k.startswith("GET"))
        minimum = second_sync_minimum(sandbox.workspace, cursor_of(list(states.values())))
    return {"requests": made, "minimum": minimum["total"], "ratio": made / minimum["total"], "seconds": seconds,
            "records": len(second.records()), "minimum_by_endpoint": minimum}  # fmt: skip


def patch_table(events: int, workers: int) -> list[dict]:
    """Each patch of the speed layer left out in turn (all the others on), against the whole layer and none."""
    global _speedups
    from source_100ms import speedups

    rows = []
    for label, value in [("all on", "1"), ("all off", "0")] + [
        (f"without {name}", ",".join(n for n in speedups.NAMES if n != name)) for name in speedups.NAMES
    ]:
        _speedups = value
        row = {"setting": label, "startup_s": startup(), **throughput(events, workers)}
        rows.append(row)
        print(f"patches     {label:<28} start-up {row['startup_s']:.2f} s, throughput {row['ratio']:.2f}x the "
              f"floor's time ({row['connector_per_s']:,.0f} records/s)", flush=True)  # fmt: skip
    _speedups = "1"
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000, help="records of the throughput read")
    parser.add_argument("--memory-events", type=int, default=1_000_000, help="records of the memory read")
    parser.add_argument("--workers", type=int, nargs="+", default=[None], help="num_workers (default: the spec's)")
    parser.add_argument("--only", choices=["throughput", "latency", "memory", "incremental", "patches"], nargs="+")
    parser.add_argument(
        "--speedups", choices=sorted(SPEEDUPS), nargs="+", default=["on", "off"], help="speed layer settings to run"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    default_workers = json.loads(protocol.run("spec", {}).stdout_text.splitlines()[-1])["spec"][
        "connectionSpecification"
    ]["properties"]["num_workers"]["default"]
    results: dict = {}
    wanted = set(args.only or ["throughput", "latency", "memory", "incremental"])
    global _speedups
    for workers in [w or default_workers for w in args.workers]:
        for setting in args.speedups:
            _speedups = SPEEDUPS[setting]
            tag = f"workers={workers} speed layer {setting}"
            if "throughput" in wanted:
                t = throughput(args.events, workers)
                t["speedups"] = setting
                results.setdefault("throughput", []).append(t)
                print(f"throughput  {tag}: {t['records']} records, connector {t['connector_per_s']:,.0f}/s, raw floor "
                      f"{t['floor_per_s']:,.0f}/s: {t['ratio']:.2f}x the floor's time", flush=True)  # fmt: skip
            if "latency" in wanted:
                lat = latency_bound(workers)
                # The same sync with no latency added: what the machine's CPU alone needs for it (the floor any
                # amount of concurrency could bring the latency-bound sync down to on this machine).
                lat["cpu_bound_s"] = latency_bound(workers, latency_ms=0)["seconds"]
                lat["speedups"] = setting
                results.setdefault("latency", []).append(lat)
                print(f"latency     {tag}: {lat['records']} records in {lat['seconds']:.1f} s, critical path "
                      f"{lat['critical_path_s']:.1f} s: {lat['time_ratio']:.2f}x (start-up {lat['startup_s']:.1f} s, "
                      f"the rest {lat['after_startup_ratio']:.2f}x); {lat['requests']} requests, minimum "
                      f"{lat['minimum']}: {lat['request_ratio']:.3f}x; the same sync without latency "
                      f"{lat['cpu_bound_s']:.1f} s, so {lat['seconds'] - lat['cpu_bound_s']:.1f} s of the wall time "
                      "is waiting", flush=True)  # fmt: skip
            if "memory" in wanted:
                mem = memory(args.memory_events, workers)
                results.setdefault("memory", []).append({"workers": workers, "speedups": setting, "by_records": mem})
                line = ", ".join(f"{n:,} records {v['peak_rss_mib']:.0f} MiB" for n, v in mem.items())
                print(f"memory      {tag}: peak RSS {line}", flush=True)
            if "incremental" in wanted:
                inc = incremental(workers)
                inc["speedups"] = setting
                results.setdefault("incremental", []).append(inc)
                print(f"incremental {tag}: second sync of a busy workspace 3 h later: {inc['requests']} requests, "
                      f"minimum {inc['minimum']}: {inc['ratio']:.2f}x ({inc['records']} records in "
                      f"{inc['seconds']:.1f} s)", flush=True)  # fmt: skip
        if "patches" in wanted:
            results["patches"] = patch_table(args.events, workers)
        _speedups = "1"
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
