"""`source-100ms preview`: the "test" button for a configuration.

Builds the source exactly as `read` does (custom streams included), reads the first few records of each
stream in process, and prints each stream's records with the requests it made (method, URL with query and
status; never a header, so never the Authorization token). Exits non-zero with a clear message when the
configuration is wrong or a stream fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_100ms import config_checks
from source_100ms.components.origin import api_origin
from source_100ms.source import Source100ms


@dataclass
class Exchange:
    method: str
    url: str
    status: int | None
    body: Any = field(repr=False, default=None)


class RequestRecorder:
    """Records every HTTP exchange the CDK's client sends while active (it sends through `requests.Session`)."""

    def __init__(self, keep_bodies: bool = False) -> None:
        self.exchanges: list[Exchange] = []
        self._keep_bodies = keep_bodies
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def active(self) -> Iterator[RequestRecorder]:
        original = requests.Session.send
        recorder = self

        def send(session: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            response = original(session, request, **kwargs)
            body = None
            if recorder._keep_bodies:
                with contextlib.suppress(ValueError):
                    body = response.json()
            with recorder._lock:
                recorder.exchanges.append(
                    Exchange(request.method or "GET", request.url or "", response.status_code, body)
                )
            return response

        requests.Session.send = send  # type: ignore[method-assign]
        try:
            yield self
        finally:
            requests.Session.send = original  # type: ignore[method-assign]

    def since(self, index: int) -> list[Exchange]:
        with self._lock:
            return self.exchanges[index:]

    def __len__(self) -> int:
        with self._lock:
            return len(self.exchanges)


def load_config(path: str) -> dict[str, Any]:
    try:
        with open(path) as config_file:
            config = json.load(config_file)
    except (OSError, ValueError) as error:
        raise SystemExit(f"error: cannot read the config {path}: {error}") from error
    if not isinstance(config, dict):
        raise SystemExit(f"error: the config {path} must be a JSON object")
    return config


def build_source(config: dict[str, Any]) -> Source100ms:
    """The source for this config, with the checks `check` makes of the config's values first."""
    config_checks.check_values(config)
    api_origin(config)
    return Source100ms(None, config, None)


def first_records(stream: Any, limit: int) -> list[dict[str, Any]]:
    """The first `limit` records of a concurrent stream, reading partitions in order and stopping early."""
    records: list[dict[str, Any]] = []
    if limit <= 0:
        return records
    for partition in stream.generate_partitions():
        for record in partition.read():
            records.append(dict(record.data))
            if len(records) >= limit:
                return records
    return records


def error_text(error: BaseException) -> str:
    if isinstance(error, AirbyteTracedException):
        return error.message or error.internal_message or str(error)
    return f"{type(error).__name__}: {error}"


def quiet_cdk_logs() -> None:
    """Keep the CDK's protocol LOG lines (printed on stdout) to warnings, so the tool's own output stays readable."""
    logging.getLogger("airbyte").setLevel(logging.WARNING)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="source-100ms preview",
        description="Fetch the first records of each stream (built-in and custom) and show them with the requests "
        "made. Authorization headers are never printed.",
    )
    parser.add_argument("--config", required=True, help="connector config JSON file")
    parser.add_argument("--stream", action="append", default=[], help="stream to preview (repeat; default: all)")
    parser.add_argument("--limit", type=int, default=5, help="records per stream (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.json:
        quiet_cdk_logs()
    config = load_config(args.config)
    try:
        source = build_source(config)
        streams = {stream.name: stream for stream in source.streams(config)}
    except Exception as error:  # a config error: say what to fix, no traceback
        print(f"error: {error_text(error)}", file=sys.stderr)
        return 2
    unknown = [name for name in args.stream if name not in streams]
    if unknown:
        print(
            f"error: no stream named {', '.join(unknown)}; streams of this config: {', '.join(sorted(streams))}",
            file=sys.stderr,
        )
        return 2

    results = []
    failed = False
    recorder = RequestRecorder()
    with recorder.active():
        for name in args.stream or list(streams):
            start = len(recorder)
            result: dict[str, Any] = {"stream": name}
            try:
                result["records"] = first_records(streams[name], args.limit)
            except Exception as error:
                failed = True
                result["error"] = error_text(error)
            result["requests"] = [{"method": e.method, "url": e.url, "status": e.status} for e in recorder.since(start)]
            results.append(result)
            if not args.json:
                _print_result(result)
    if args.json:
        print(json.dumps({"streams": results}, indent=2, default=str))
    if failed:
        names = ", ".join(r["stream"] for r in results if "error" in r)
        print(f"error: preview failed for {names}", file=sys.stderr)
        return 1
    return 0


def _print_result(result: dict[str, Any]) -> None:
    records = result.get("records") or []
    print(f"== {result['stream']}: {len(records)} record(s)" + (" FAILED" if "error" in result else ""))
    for exchange in result["requests"]:
        print(f"   {exchange['method']} {exchange['url']} -> {exchange['status']}")
    if "error" in result:
        print(f"   error: {result['error']}")
    for record in records:
        print("   " + json.dumps(record, default=str, ensure_ascii=False))
    print()
    sys.stdout.flush()
