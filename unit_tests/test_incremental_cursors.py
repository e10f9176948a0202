"""Cursor edge cases: the lookback boundary, equal timestamps, fractional digits, the unset time.

Early stops are in test_pagination.py; analytics_events has its own module (test_analytics_events.py).
"""

from __future__ import annotations

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.state_builder import StateBuilder

from unit_tests.fake_api import FakeApi, config, query, records
from unit_tests.helpers import oid, read_streams

CURSOR = "2024-05-10T12:00:00.000000Z"


def _sessions_state(value: str) -> list:
    partitions = [{"partition": {"active": a}, "cursor": {"updated_at": value}} for a in ("true", "false")]
    return StateBuilder().with_stream_state("sessions", {"states": partitions, "state": {"updated_at": value}}).build()


def _session(n: int, updated_at: str, active: bool = False) -> dict:
    return {"id": oid(n), "room_id": "r1", "active": active, "updated_at": updated_at, "peers": {}}


def test_given_state_when_read_sessions_then_after_is_cursor_minus_13_hours(requests_mock):
    route = FakeApi(requests_mock).list("/v2/sessions", [])
    read_streams(config(), "sessions", mode=SyncMode.incremental, state=_sessions_state(CURSOR))
    assert {query(r)["after"][0] for r in route.request_history} == {"2024-05-09T23:00:00.000Z"}


def test_given_sessions_around_the_cursor_when_read_then_only_equal_or_later_emitted(requests_mock):
    sessions = [
        _session(1, "2024-05-10T11:59:59.999999Z"),  # just before: already read
        _session(2, "2024-05-10T12:00:00Z"),  # equal, no fraction: emitted again (the destination dedups)
        _session(3, "2024-05-10T12:00:00.000001Z"),
        _session(4, "2024-05-10T12:00:00.123456789Z"),  # nine digits
        _session(5, "2024-05-10T12:00:01.5Z"),
    ]
    FakeApi(requests_mock).list("/v2/sessions", lambda q: sessions if q["active"] == ["false"] else [])
    output = read_streams(config(), "sessions", mode=SyncMode.incremental, state=_sessions_state(CURSOR))
    assert sorted(r["id"] for r in records(output)) == [oid(2), oid(3), oid(4), oid(5)]
    assert next(r for r in records(output) if r["id"] == oid(4))["updated_at"] == "2024-05-10T12:00:00.123456Z"
    final = output.state_messages[-1].state.stream.stream_state.__dict__
    assert final["state"]["updated_at"] == "2024-05-10T12:00:01.500000Z"


def test_given_unset_updated_at_when_read_sessions_then_kept_with_null_cursor(requests_mock):
    sessions = [_session(1, "0001-01-01T00:00:00Z"), _session(2, "2024-05-10T13:00:00Z")]
    FakeApi(requests_mock).list("/v2/sessions", lambda q: sessions if q["active"] == ["false"] else [])
    output = read_streams(config(), "sessions", mode=SyncMode.incremental, state=_sessions_state(CURSOR))
    rows = {r["id"]: r for r in records(output)}
    assert sorted(rows) == [oid(1), oid(2)], "a session whose update time is unset is not dropped"
    assert rows[oid(1)].get("updated_at") is None
