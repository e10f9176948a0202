"""Fault injection: a read against a sandbox that fails requests emits exactly what a clean read emits."""

from __future__ import annotations

import collections
import json
import re
import time

import pytest

from source_100ms.sandbox import Sandbox
from source_100ms.tools import protocol

# One stream of each shape: `last` pagination, `next` pagination, per-parent calls with 404s, maps to rows.
STREAMS = ["sessions", "session_peers", "analytics_events", "active_room_peers", "templates_destinations", "room_codes"]
JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")
# Every sandbox of this module holds the same workspace: same seed, same clock.
NOW = time.time() - 3600


def _keys_by_stream(run, catalog):
    keys = {s["name"]: s["source_defined_primary_key"] for s in catalog["streams"]}
    return {
        name: collections.Counter(json.dumps(k) for k in protocol.primary_key_values(rows, keys[name]))
        for name, rows in run.records_by_stream().items()
    }


@pytest.fixture(scope="module")
def clean():
    with Sandbox(seed=5, scale="small", now=NOW) as sb:
        catalog = protocol.discover_catalog(sb.config())
        run = protocol.run("read", sb.config(), catalog=protocol.configured_catalog(catalog, STREAMS))
        assert run.returncode == 0 and run.errors() == []
        return catalog, _keys_by_stream(run, catalog), sb.config()["credentials"]["app_secret"]


@pytest.mark.parametrize("kinds", ["500", "502_html", "429", "reset", "truncated", None], ids=lambda k: k or "all")
def test_given_20_percent_faults_when_read_then_same_records_as_a_clean_read(clean, kinds):
    catalog, expected, _ = clean
    with Sandbox(seed=5, scale="small", now=NOW, fault_rate=0.2, fault_kinds=kinds, retry_after_seconds=1) as sb:
        run = protocol.run("read", sb.config(), catalog=protocol.configured_catalog(catalog, STREAMS), timeout=300)
        faults = sb.request_counts().get("faults", 0)
    assert faults >= 5, "too few faults were injected for the test to mean anything"
    assert run.returncode == 0 and run.errors() == [], run.errors()
    got = _keys_by_stream(run, catalog)
    for stream in STREAMS:
        assert got.get(stream) == expected[stream], f"{stream} differs from the clean read"
        assert max(got[stream].values()) == 1, f"{stream} has duplicates"


def test_given_rate_limits_when_read_then_each_retry_waits_the_retry_after(clean):
    catalog, expected, _ = clean
    with Sandbox(seed=5, scale="small", now=NOW, fault_rate=0.25, fault_kinds="429", retry_after_seconds=2) as sb:
        run = protocol.run("read", sb.config(), catalog=protocol.configured_catalog(catalog, ["sessions"]))
        log = sb.request_log()
    assert run.returncode == 0 and run.errors() == []
    assert _keys_by_stream(run, catalog)["sessions"] == expected["sessions"]
    limited = [e for e in log if e["status"] == 429]
    assert limited, "no 429 was served"
    for entry in limited:
        retry = next(
            e for e in log if e["t"] > entry["t"] and e["path"] == entry["path"] and e["query"] == entry["query"]
        )
        assert retry["t"] - entry["t"] >= 2.0, f"retried {entry['path']} after {retry['t'] - entry['t']:.2f}s"


def test_given_a_faulted_debug_run_then_no_secret_or_token_in_any_output(clean):
    catalog, _, secret = clean
    with Sandbox(seed=5, scale="small", now=NOW, fault_rate=0.2) as sb:
        run = protocol.run(
            "read", sb.config(), catalog=protocol.configured_catalog(catalog, STREAMS), debug=True, timeout=300
        )
    assert run.returncode == 0
    text = run.stdout_text + run.stderr
    assert "Making outbound API request" in text, "debug logs were not on: the scan would prove little"
    assert secret not in text
    assert JWT.findall(text) == []
