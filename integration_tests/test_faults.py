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


# ------------------------------------------------------------------------------------------ rate limits


@pytest.mark.parametrize("per_second, header", [(2, True), (2, False), (5, True), (5, False)])
def test_given_a_strict_rate_limit_when_read_then_every_record_read_and_the_sync_succeeds(
    clean, per_second, header, capsys
):
    catalog, expected, _ = clean
    streams = ["templates_destinations", "room_codes", "sessions", "session_peers"]
    with Sandbox(seed=5, scale="small", now=NOW, rate_limit_per_second=per_second, rate_limit_header=header) as sb:
        started = time.monotonic()
        run = protocol.run("read", sb.config(), catalog=protocol.configured_catalog(catalog, streams), timeout=900)
        seconds = time.monotonic() - started
        counts = sb.request_counts()
    made = sum(v for k, v in counts.items() if k.startswith("GET"))
    with capsys.disabled():
        print(f"\n  rate limit {per_second}/s (Retry-After header {header}): {seconds:.1f} s, {made} requests, "
              f"{counts.get('rate_limited', 0)} answered 429")  # fmt: skip
    assert counts.get("rate_limited", 0) > 0, "the sandbox never rate-limited: the test proves nothing"
    assert run.returncode == 0 and run.errors() == [], run.errors()
    got = _keys_by_stream(run, catalog)
    for stream in streams:
        assert got.get(stream) == expected[stream], stream
    messages = [m["log"]["message"] for m in run.of_type("LOG")]
    assert not any("rate limit exceeded" in m.lower() and "retry budget" in m.lower() for m in messages)


def test_given_a_ceiling_when_read_then_never_more_requests_per_second_than_it(clean):
    catalog, expected, _ = clean
    with Sandbox(seed=5, scale="small", now=NOW) as sb:
        config = {**sb.config(), "requests_per_second": 4}
        run = protocol.run("read", config, catalog=protocol.configured_catalog(catalog, ["templates_destinations"]))
        times = sorted(e["t"] for e in sb.request_log())
    assert (
        run.returncode == 0
        and _keys_by_stream(run, catalog)["templates_destinations"] == expected["templates_destinations"]
    )
    assert len(times) >= 5
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 5  # 4 a second, one more at the edge of a window


# ------------------------------------------------------------------------------------------ dead and slow servers


def _check_within(config, limit_seconds=30.0):
    started = time.monotonic()
    run = protocol.run("check", config, timeout=120)
    seconds = time.monotonic() - started
    statuses = [m["connectionStatus"] for m in run.of_type("CONNECTION_STATUS")]
    return run, statuses, seconds


@pytest.mark.parametrize("kind", ["silent", "trickling"])
def test_given_a_server_that_never_completes_an_answer_when_check_then_failed_within_30_seconds(clean, kind):
    from source_100ms.sandbox import SilentServer, TricklingServer

    _, _, _ = clean
    with Sandbox(seed=5) as sb:
        config = sb.config()
    with SilentServer() if kind == "silent" else TricklingServer(1.0) as host:
        run, statuses, seconds = _check_within({**config, "api_url": host.url})
    assert run.returncode == 0, "check answers FAILED with exit 0, as the protocol wants"
    assert [s["status"] for s in statuses] == ["FAILED"]
    assert seconds < 30, f"check took {seconds:.1f} s"
    assert host.url in statuses[0]["message"] and "no complete answer" in statuses[0]["message"]


def test_given_a_closed_port_when_check_then_refused_and_no_rate_limit_mentioned():
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with Sandbox(seed=5) as sb:
        config = {**sb.config(), "api_url": f"http://127.0.0.1:{port}"}
    run, statuses, seconds = _check_within(config)
    assert [s["status"] for s in statuses] == ["FAILED"] and seconds < 30
    assert "refused the connection" in statuses[0]["message"] and f"127.0.0.1:{port}" in statuses[0]["message"]
    assert "rate limit" not in (run.stdout_text + run.stderr).lower()


def test_given_answers_that_trickle_or_stall_when_read_then_each_is_cut_at_its_deadline_and_retried(clean):
    catalog, expected, _ = clean
    streams = ["templates_destinations", "active_room_peers"]
    with Sandbox(
        seed=5, scale="small", now=NOW, fault_rate=0.3, fault_kinds="trickle,stall", trickle_interval_seconds=0.5,
        stall_seconds=30,
    ) as sb:  # fmt: skip
        config = {**sb.config(), "request_deadline_seconds": 3}
        started = time.monotonic()
        run = protocol.run("read", config, catalog=protocol.configured_catalog(catalog, streams), timeout=600)
        seconds = time.monotonic() - started
        faults = sb.request_counts().get("faults", 0)
    assert faults >= 2, "too few slow answers for the test to mean anything"
    assert run.returncode == 0 and run.errors() == [], run.errors()
    got = _keys_by_stream(run, catalog)
    assert all(got[s] == expected[s] for s in streams)
    # Each slow answer cost one deadline (3 s) or one read timeout (a stall), not its whole trickle.
    assert seconds < 60 * faults


# ------------------------------------------------------------------------------------------ server bugs


@pytest.mark.parametrize("mode", ["echo_start", "ignore_start"])
def test_given_a_list_that_repeats_its_cursor_when_read_then_the_stream_fails_promptly_naming_the_endpoint(clean, mode):
    catalog, _, _ = clean
    with Sandbox(seed=5, scale="small", now=NOW, repeat_cursor=mode) as sb:
        started = time.monotonic()
        run = protocol.run("read", sb.config(), catalog=protocol.configured_catalog(catalog, ["sessions"]), timeout=120)
        seconds = time.monotonic() - started
        requests_made = sum(v for k, v in sb.request_counts().items() if k.startswith("GET"))
    assert run.returncode != 0 and seconds < 60
    assert requests_made < 20, f"{requests_made} requests: the read looped"
    messages = " ".join(e["message"] for e in run.errors())
    assert "same page cursor" in messages and "/v2/sessions" in messages


def test_given_limit_refused_on_an_undocumented_range_when_read_then_asked_again_without_it_and_all_read(clean):
    catalog, expected, _ = clean
    streams = ["recordings", "recording_assets", "live_streams", "external_streams", "room_codes"]
    with Sandbox(
        seed=5, scale="small", now=NOW, reject_limit_on=["recordings", "room_codes", "recording_assets"]
    ) as sb:
        run = protocol.run("read", sb.config(), catalog=protocol.configured_catalog(catalog, streams))
    assert run.returncode == 0 and run.errors() == [], run.errors()
    with Sandbox(seed=5, scale="small", now=NOW) as sb:
        reference = protocol.run("read", sb.config(), catalog=protocol.configured_catalog(catalog, streams))
    assert _keys_by_stream(run, catalog) == _keys_by_stream(reference, catalog)
    warnings = [m["log"]["message"] for m in run.of_type("LOG") if m["log"]["level"] == "WARN"]
    assert any("refused limit=" in w and "/v2/recordings" in w for w in warnings)


def test_given_a_room_disabled_during_the_sync_when_room_codes_read_then_that_room_skipped_with_a_warning(clean):
    catalog, expected, _ = clean
    with Sandbox(seed=5, scale="small", now=NOW) as sb:
        rooms = sorted(sb.workspace.rooms_enabled)
        sb.workspace.disable_room(rooms[0])  # disabled after the connector would have listed it: ask by id
        config = {**sb.config(), "room_ids": rooms[:3]}
        run = protocol.run("read", config, catalog=protocol.configured_catalog(catalog, ["room_codes"]))
        truth = {c["code"] for r in rooms[1:3] for c in sb.workspace.room_codes.get(r, [])}
    assert run.returncode == 0 and run.errors() == [], run.errors()
    assert {r["code"] for r in run.records("room_codes")} == truth
    warnings = [m["log"]["message"] for m in run.of_type("LOG") if m["log"]["level"] == "WARN"]
    assert any(rooms[0] in w and "403" in w for w in warnings)
