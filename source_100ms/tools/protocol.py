"""Run the installed `source-100ms` executable as the Airbyte platform would, and read what it prints.

Shared by the demo, the integration tests and the benchmark, so all three exercise the real process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson


def executable() -> str:
    """The `source-100ms` console script of the running interpreter's environment, or the program named by
    `SOURCE_100MS_EXECUTABLE` (to run the integration tests and the benchmark against another build)."""
    other = os.environ.get("SOURCE_100MS_EXECUTABLE")
    if other:
        return other
    beside = Path(sys.executable).with_name("source-100ms")
    if beside.exists():
        return str(beside)
    found = shutil.which("source-100ms")
    if not found:
        raise RuntimeError("source-100ms is not installed: run `make install` (or `pip install -e .`) first")
    return found


@dataclass
class Run:
    returncode: int
    messages: list[dict[str, Any]]
    stderr: str
    stdout_text: str = field(repr=False, default="")

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]

    def records(self, stream: str | None = None) -> list[dict[str, Any]]:
        return [
            m["record"]["data"]
            for m in self.messages
            if m.get("type") == "RECORD" and (stream is None or m["record"]["stream"] == stream)
        ]

    def records_by_stream(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for m in self.of_type("RECORD"):
            out.setdefault(m["record"]["stream"], []).append(m["record"]["data"])
        return out

    def states(self) -> list[dict[str, Any]]:
        return [m["state"] for m in self.of_type("STATE")]

    def errors(self) -> list[dict[str, Any]]:
        return [m["trace"]["error"] for m in self.of_type("TRACE") if m["trace"].get("type") == "ERROR"]


def run(
    command: str, config: dict[str, Any], *, catalog=None, state=None, timeout: float = 600, debug: bool = False
) -> Run:
    with tempfile.TemporaryDirectory() as tmp:
        args = [executable(), command] + (["--debug"] if debug else [])
        if command != "spec":
            config_path = Path(tmp, "config.json")
            config_path.write_text(json.dumps(config))
            args += ["--config", str(config_path)]
        if catalog is not None:
            Path(tmp, "catalog.json").write_text(json.dumps(catalog))
            args += ["--catalog", str(Path(tmp, "catalog.json"))]
        if state is not None:
            Path(tmp, "state.json").write_text(json.dumps(state))
            args += ["--state", str(Path(tmp, "state.json"))]
        done = subprocess.run(args, capture_output=True, timeout=timeout, check=False)
    text = done.stdout.decode()
    messages = [orjson.loads(line) for line in text.splitlines() if line.startswith("{")]
    return Run(done.returncode, messages, done.stderr.decode(), text)


def tool(name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`source-100ms <name> <args>` (preview, suggest-paths, catalog...), its output as text."""
    return subprocess.run([executable(), name, *args], capture_output=True, text=True, timeout=timeout, check=False)


def configured_catalog(catalog: dict[str, Any], streams: Iterable[str] | None = None, incremental=False) -> dict:
    """Every stream (or the named ones), incremental where supported if asked, else full refresh."""
    wanted = set(streams) if streams is not None else None
    configured = []
    for stream in catalog["streams"]:
        if wanted is not None and stream["name"] not in wanted:
            continue
        incremental_here = incremental and "incremental" in stream["supported_sync_modes"]
        configured.append(
            {
                "stream": stream,
                "sync_mode": "incremental" if incremental_here else "full_refresh",
                "destination_sync_mode": "append_dedup" if incremental_here else "overwrite",
                "cursor_field": stream.get("default_cursor_field") or [],
                "primary_key": stream.get("source_defined_primary_key") or [],
            }
        )
    return {"streams": configured}


def discover_catalog(config: dict[str, Any]) -> dict[str, Any]:
    result = run("discover", config, timeout=120)
    catalogs = result.of_type("CATALOG")
    if result.returncode != 0 or not catalogs:
        raise RuntimeError(f"discover failed: {result.errors() or result.stderr[-2000:]}")
    return catalogs[0]["catalog"]


def primary_key_values(records: list[dict[str, Any]], primary_key: list[list[str]]) -> list[Any]:
    """Each record's primary key: the value for a one-field key, a list for a composite one."""
    fields = [path[0] for path in primary_key]
    if len(fields) == 1:
        return [r.get(fields[0]) for r in records]
    return [[r.get(f) for f in fields] for r in records]


def temporary_directory() -> str:
    return tempfile.mkdtemp(prefix="source-100ms-")
