"""Incremental reads against the sandbox: a first sync, new activity, a second sync from the first's state."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest

from source_100ms.sandbox import Sandbox
from source_100ms.tools import protocol

INCREMENTAL = ["sessions", "session_peers", "analytics_events", "recordings", "recording_assets"]


def _keys(run, catalog, stream):
    pk = next(s["source_defined_primary_key"] for s in catalog["streams"] if s["name"] == stream)
    return {json.dumps(k) for k in protocol.primary_key_values(run.records(stream), pk)}


def _events_since(sb, cutoff):
    """Event ids of the sandbox newer than `cutoff` (epoch seconds): 100ms keeps 30 days, so does the connector."""
    ws, ids = sb.workspace, []
    for room_id, events in ws.room_events.items():
        for i in range(events.total):
            event = ws.event(room_id, i)
            if datetime.fromisoformat(event["timestamp"][:26].rstrip("Z") + "+00:00").timestamp() >= cutoff:
                ids.append(event["id"])
    return ids


def _final_state(run):
    """The last state message of each stream, as the platform would store it."""
    latest = {}
    for state in run.states():
        latest[state["stream"]["stream_descriptor"]["name"]] = state
    return list(latest.values())


@pytest.fixture(scope="module")
def two_syncs():
    # The sandbox's clock starts two hours back so that the 90 minutes of new activity are still in the past
    # for the connector, which reads up to its own clock.
    with Sandbox(seed=11, scale="medium", now=time.time() - 2 * 3600) as sb:
        config = sb.config()
        catalog = protocol.discover_catalog(config)
        configured = protocol.configured_catalog(catalog, INCREMENTAL, incremental=True)
        sb.reset_counts()
        # events older than 30 days by the connector's clock are gone; leave a minute of margin at the edge
        retention_edge = time.time() - 30 * 24 * 3600 + 60
        first = protocol.run("read", config, catalog=configured)
        first_requests = sum(v for k, v in sb.request_counts().items() if k.startswith("GET"))
        print("first sync requests:", sb.request_counts())
        truth_before = sb.ground_truth()
        truth_before["analytics_events"] = sorted(_events_since(sb, retention_edge))
        changes = sb.advance(minutes=90)
        truth_after = sb.ground_truth()
        truth_after["analytics_events"] = sorted(_events_since(sb, retention_edge))
        sb.reset_counts()
        second = protocol.run("read", config, catalog=configured, state=_final_state(first))
        second_requests = sum(v for k, v in sb.request_counts().items() if k.startswith("GET"))
        print("second sync requests:", sb.request_counts())
        yield {
            "sandbox": sb, "catalog": catalog, "first": first, "second": second, "changes": changes,
            "truth_before": truth_before, "truth_after": truth_after,
            "first_requests": first_requests, "second_requests": second_requests,
        }  # fmt: skip


def test_both_syncs_succeed(two_syncs):
    for run in (two_syncs["first"], two_syncs["second"]):
        assert run.returncode == 0 and run.errors() == [], run.stderr[-2000:]


@pytest.mark.parametrize("stream", INCREMENTAL)
def test_first_sync_reads_everything(two_syncs, stream):
    expected = {json.dumps(k) for k in two_syncs["truth_before"][stream]}
    read = _keys(two_syncs["first"], two_syncs["catalog"], stream)
    if stream == "analytics_events":  # the minute at the retention edge may go either way
        assert expected - read == set() and len(read) - len(expected) < 50
    else:
        assert read == expected


@pytest.mark.parametrize("stream", INCREMENTAL)
def test_second_sync_emits_every_new_and_changed_record(two_syncs, stream):
    change = two_syncs["changes"][stream]
    touched = {json.dumps(k) for k in change["created"] + change["changed"]}
    assert touched, f"advance() changed no {stream}: the test would prove nothing"
    emitted = _keys(two_syncs["second"], two_syncs["catalog"], stream)
    assert touched - emitted == set()


@pytest.mark.parametrize("stream", INCREMENTAL)
def test_both_syncs_together_hold_everything(two_syncs, stream):
    together = _keys(two_syncs["first"], two_syncs["catalog"], stream) | _keys(
        two_syncs["second"], two_syncs["catalog"], stream
    )
    assert {json.dumps(k) for k in two_syncs["truth_after"][stream]} - together == set()


@pytest.mark.parametrize("stream", INCREMENTAL)
def test_second_sync_re_emits_little(two_syncs, stream):
    emitted = len(two_syncs["second"].records(stream))
    assert emitted < len(two_syncs["truth_after"][stream]) / 2


def test_second_sync_makes_far_fewer_requests(two_syncs):
    print(f"requests: first sync {two_syncs['first_requests']}, second {two_syncs['second_requests']}")
    assert two_syncs["second_requests"] * 5 < two_syncs["first_requests"]


def test_ended_session_emitted_again_with_final_peers(two_syncs):
    sb, second = two_syncs["sandbox"], two_syncs["second"]
    ended = [s for s in two_syncs["changes"]["sessions"]["changed"] if not sb.workspace.sessions.objects[s]["active"]]
    assert ended, "advance() ended no session"
    rows = {r["id"]: r for r in second.records("sessions")}
    for session_id in ended:
        assert rows[session_id]["active"] is False
        assert all("left_at" in p for p in rows[session_id]["peers"].values())
