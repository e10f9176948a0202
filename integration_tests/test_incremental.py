"""Incremental reads of a busy workspace: a first sync, three hours of activity, a second sync from the first's state.

The sandbox is as strict as 100ms documents it (millisecond time filters) and as busy as a school or a webinar
platform (hundreds of sessions inside the 13-hour lookback, long sessions that end between the syncs, recordings
completing pages deep, analytics events that arrive after their session ended). The lists whose order 100ms does
not document are served newest first and oldest first. Every changed or new record must come out of the second
sync: counted by id against what the sandbox changed.
"""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest

from source_100ms.sandbox import Sandbox
from source_100ms.tools import protocol

INCREMENTAL = ["sessions", "session_peers", "analytics_events", "recordings", "recording_assets"]
ADVANCE_MINUTES = 180


def keys_of(run, catalog, stream) -> set[str]:
    pk = next(s["source_defined_primary_key"] for s in catalog["streams"] if s["name"] == stream)
    return {json.dumps(k) for k in protocol.primary_key_values(run.records(stream), pk)}


def events_since(sb, cutoff: float) -> list[str]:
    """Event ids of the sandbox newer than `cutoff` (epoch seconds): 100ms keeps 30 days, so does the connector."""
    ws, ids = sb.workspace, []
    for room_id, events in ws.room_events.items():
        for i in range(events.total):
            event = ws.event(room_id, i)
            if datetime.fromisoformat(event["timestamp"][:26].rstrip("Z") + "+00:00").timestamp() >= cutoff:
                ids.append(event["id"])
    return ids


def final_states(run) -> list[dict]:
    """The last state message of each stream, as the platform would store it."""
    latest = {}
    for state in run.states():
        latest[state["stream"]["stream_descriptor"]["name"]] = state
    return list(latest.values())


@pytest.fixture(scope="module", params=["newest-first", "oldest-first"])
def two_syncs(request):
    # The sandbox's clock starts four hours back so that three hours of new activity are still in the past for
    # the connector, which reads up to its own clock.
    with Sandbox(seed=11, scale="busy", now=time.time() - 4 * 3600, strict_time_format=True, order=request.param) as sb:
        config = sb.config()
        catalog = protocol.discover_catalog(config)
        configured = protocol.configured_catalog(catalog, INCREMENTAL, incremental=True)
        retention_edge = time.time() - 30 * 24 * 3600 + 60  # events older than 30 days are gone at 100ms
        sb.reset_counts()
        first = protocol.run("read", config, catalog=configured)
        first_requests = sb.request_counts()
        truth_before = sb.ground_truth()
        truth_before["analytics_events"] = sorted(events_since(sb, retention_edge))
        pending_late = len(sb.pending_late_events())
        changes = sb.advance(minutes=ADVANCE_MINUTES)
        truth_after = sb.ground_truth()
        truth_after["analytics_events"] = sorted(events_since(sb, retention_edge))
        sb.reset_counts()
        second = protocol.run("read", config, catalog=configured, state=final_states(first))
        yield {
            "sandbox": sb, "catalog": catalog, "first": first, "second": second, "changes": changes,
            "truth_before": truth_before, "truth_after": truth_after, "pending_late": pending_late,
            "first_requests": first_requests, "second_requests": sb.request_counts(), "order": request.param,
        }  # fmt: skip


def test_both_syncs_succeed(two_syncs):
    for run in (two_syncs["first"], two_syncs["second"]):
        assert run.returncode == 0 and run.errors() == [], run.stderr[-2000:]


def test_the_workspace_is_busy_and_late(two_syncs):
    """What makes the test able to fail: many sessions in the lookback, late events pending at the first sync."""
    changes, sb = two_syncs["changes"], two_syncs["sandbox"]
    assert len(changes["sessions"]["changed"]) >= 100, "too few sessions ended between the syncs"
    assert len(changes["recordings"]["changed"]) >= 20, "too few recordings completed between the syncs"
    assert two_syncs["pending_late"] >= 3, "no late analytics event was pending at the first sync"
    created = sb.workspace.sessions.created_ns
    lookback_start = (sb.workspace.now_ns - ADVANCE_MINUTES * 60 * 10**9) - 13 * 3600 * 10**9
    assert sum(1 for ns in created.values() if ns >= lookback_start) >= 400


@pytest.mark.parametrize("stream", INCREMENTAL)
def test_first_sync_reads_everything(two_syncs, stream):
    expected = {json.dumps(k) for k in two_syncs["truth_before"][stream]}
    read = keys_of(two_syncs["first"], two_syncs["catalog"], stream)
    if stream == "analytics_events":  # the minute at the retention edge may go either way
        assert expected - read == set() and len(read - expected) < 50
    else:
        assert read == expected


@pytest.mark.parametrize("stream", INCREMENTAL)
def test_second_sync_emits_every_new_and_changed_record(two_syncs, stream):
    change = two_syncs["changes"][stream]
    touched = {json.dumps(k) for k in change["created"] + change["changed"]}
    assert touched, f"advance() changed no {stream}: the test would prove nothing"
    emitted = keys_of(two_syncs["second"], two_syncs["catalog"], stream)
    missing = touched - emitted
    assert missing == set(), f"{len(missing)} of {len(touched)} new or changed {stream} missing from the second sync"


@pytest.mark.parametrize("stream", INCREMENTAL)
def test_both_syncs_together_hold_everything(two_syncs, stream):
    together = keys_of(two_syncs["first"], two_syncs["catalog"], stream) | keys_of(
        two_syncs["second"], two_syncs["catalog"], stream
    )
    assert {json.dumps(k) for k in two_syncs["truth_after"][stream]} - together == set()


def test_ended_sessions_emitted_again_with_their_final_peers(two_syncs):
    sb, second = two_syncs["sandbox"], two_syncs["second"]
    sessions = sb.workspace.sessions.objects
    ended = [s for s in two_syncs["changes"]["sessions"]["changed"] if not sessions[s]["active"]]
    assert ended, "advance() ended no session"
    rows = {r["id"]: r for r in second.records("sessions")}
    for session_id in ended:
        assert rows[session_id]["active"] is False
        assert rows[session_id]["peers"] == sessions[session_id]["peers"]
        assert all("left_at" in p for p in rows[session_id]["peers"].values())


def test_completed_recordings_emitted_again_with_their_final_status(two_syncs):
    sb, second = two_syncs["sandbox"], two_syncs["second"]
    rows = {r["id"]: r for r in second.records("recordings")}
    for recording_id in two_syncs["changes"]["recordings"]["changed"]:
        assert rows[recording_id]["status"] == sb.workspace.recordings.objects[recording_id]["status"]


def test_second_sync_re_emits_little(two_syncs):
    for stream in INCREMENTAL:
        emitted = len(two_syncs["second"].records(stream))
        assert emitted < len(two_syncs["truth_after"][stream]) / 2, stream


def test_time_filters_sent_in_the_documented_millisecond_form(two_syncs):
    """The sandbox answers 400 to any other form: a sync that succeeded sent only this one; check the log too."""
    log = two_syncs["sandbox"].request_log()
    sent = [value for entry in log for key in ("after", "before") for value in entry["query"].get(key, [])]
    assert sent, "no time filter was sent: the check proves nothing"
    assert all(len(v) == 24 and v[19] == "." and v.endswith("Z") for v in sent), sorted(set(sent))[:5]


def test_second_sync_requests_within_a_quarter_of_the_minimum(two_syncs, capsys):
    from bench.minimum import cursor_of, second_sync_minimum

    cursor = cursor_of(final_states(two_syncs["first"]))
    minimum = second_sync_minimum(two_syncs["sandbox"].workspace, cursor, two_syncs["order"])
    made = {k: v for k, v in two_syncs["second_requests"].items() if k.startswith("GET")}
    total = sum(made.values())
    with capsys.disabled():
        print(f"\n  second sync ({two_syncs['order']}): {total} requests, minimum {minimum['total']} "
              f"({total / minimum['total']:.2f}x); made {made}; minimum {minimum}")  # fmt: skip
    assert total <= 1.25 * minimum["total"]


def _read_until_killed(config, catalog, kill_after_records: int) -> tuple[list[dict], list[dict]]:
    """A read killed (SIGKILL) once it has printed `kill_after_records` records: its records and states."""
    import subprocess
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "config.json").write_text(json.dumps(config))
        Path(tmp, "catalog.json").write_text(json.dumps(catalog))
        args = [protocol.executable(), "read", "--config", f"{tmp}/config.json", "--catalog", f"{tmp}/catalog.json"]
        child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        messages, records = [], 0
        for line in child.stdout:
            if not line.startswith(b"{"):
                continue
            message = json.loads(line)
            messages.append(message)
            records += message.get("type") == "RECORD"
            if records >= kill_after_records:
                child.kill()
                break
        child.wait()
    run = protocol.Run(child.returncode, messages, "")
    return run.records_by_stream(), final_states(run)


@pytest.mark.parametrize("fraction_seed", [1, 2, 3])
def test_given_a_busy_sync_killed_at_a_random_point_when_resumed_from_its_last_state_then_nothing_lost(fraction_seed):
    import random

    with Sandbox(seed=13, scale="busy", now=time.time() - 3600, strict_time_format=True) as sb:
        config = sb.config()
        catalog = protocol.configured_catalog(protocol.discover_catalog(config), INCREMENTAL, incremental=True)
        truth = sb.ground_truth()
        total = sum(len(truth[s]) for s in INCREMENTAL)
        kill_after = int(total * random.Random(fraction_seed).uniform(0.05, 0.95))
        killed_records, states = _read_until_killed(config, catalog, kill_after)
        # 100ms keeps 30 days of events, counted from the resumed read's start (the edge moved meanwhile).
        truth["analytics_events"] = events_since(sb, time.time() - 30 * 24 * 3600 + 60)
        resumed = protocol.run("read", config, catalog=catalog, state=states or None)
    assert resumed.returncode == 0 and resumed.errors() == [], resumed.errors()
    keys = {s["stream"]["name"]: s["primary_key"] for s in catalog["streams"]}
    for stream in INCREMENTAL:
        together = {json.dumps(k) for k in protocol.primary_key_values(killed_records.get(stream, []), keys[stream])}
        together |= {json.dumps(k) for k in protocol.primary_key_values(resumed.records(stream), keys[stream])}
        expected = {json.dumps(k) for k in truth[stream]}
        assert expected - together == set(), f"{stream}: {len(expected - together)} lost after a kill at {kill_after}"
