"""A saved state the cursors cannot read is repaired or dropped (UnreadableStateReset), never a failed sync.

Another valid form of the same instant is rewritten in UTC in the state's format; a value that is no date-time,
or more than 15 minutes in the future, is dropped with a warning and that part is read again from the start.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.state_builder import StateBuilder

from source_100ms.components.state import UnreadableStateReset
from unit_tests.fake_api import FakeApi, ago, config, event, iso, query, records, session
from unit_tests.helpers import oid, read_streams

MIGRATION = UnreadableStateReset(cursor_field="updated_at", name="sessions", parameters={})


def _partitioned(value) -> dict:
    return {
        "states": [{"partition": {"active": "false"}, "cursor": {"updated_at": value}}],
        "state": {"updated_at": value},
    }


@pytest.mark.parametrize(
    "value, repaired",
    [
        ("2024-05-01T10:00:00+05:00", "2024-05-01T05:00:00.000000Z"),  # an offset
        ("2024-05-01T10:00:00.25-02:30", "2024-05-01T12:30:00.250000Z"),
        ("2024-05-01T10:00:00.123456789Z", "2024-05-01T10:00:00.123456Z"),  # nanoseconds
        ("2024-05-01T10:00:00", "2024-05-01T10:00:00.000000Z"),  # no zone: UTC
        ("2024-05-01 10:00:00z", "2024-05-01T10:00:00.000000Z"),
    ],
)
def test_given_cursor_in_another_valid_form_when_migrated_then_same_instant_in_utc_in_the_state_format(value, repaired):
    assert MIGRATION.should_migrate(_partitioned(value))
    assert MIGRATION.migrate(_partitioned(value)) == _partitioned(repaired)
    assert MIGRATION.migrate({"updated_at": value}) == {"updated_at": repaired}


@pytest.mark.parametrize("value", ["2024-05-01T10:00:00.123456Z", "2024-05-01T10:00:00.5Z", "2024-05-01T10:00:00Z"])
def test_given_cursor_the_cursors_read_when_checked_then_left_as_written(value):
    assert not MIGRATION.should_migrate(_partitioned(value))
    assert not MIGRATION.should_migrate({"updated_at": value})


@pytest.mark.parametrize(
    "state, kept",
    [
        ({"updated_at": "not-a-date"}, {}),
        ({"updated_at": 12345}, {}),
        ({"updated_at": "2024-02-30T00:00:00Z"}, {}),
        ({"states": "garbage"}, {}),
        ({"states": [{"partition": {"active": "true"}}]}, {}),
        (
            {"states": [{"partition": {"active": "true"}, "cursor": {"updated_at": "x"}},
                        {"partition": {"active": "false"}, "cursor": {"updated_at": "2024-05-01T10:00:00Z"}}]},
            {"states": [{"partition": {"active": "false"}, "cursor": {"updated_at": "2024-05-01T10:00:00Z"}}]},
        ),
    ],
    ids=["words", "number", "no-such-day", "states-not-a-list", "entry-without-cursor", "one-bad-partition"],
)  # fmt: skip
def test_given_unreadable_cursor_when_migrated_then_dropped_with_one_warning_naming_the_stream(state, kept, caplog):
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        assert MIGRATION.migrate(state) == kept
    (warning,) = [r.getMessage() for r in caplog.records]
    assert warning.startswith("The saved state of stream sessions") and "read again from the start date" in warning


def test_given_cursor_in_the_future_when_migrated_then_dropped_beyond_15_minutes_only(caplog):
    soon, later = datetime.now(UTC) + timedelta(minutes=10), datetime.now(UTC) + timedelta(minutes=20)
    assert not MIGRATION.should_migrate({"updated_at": iso(soon)}), "clock skew is not a mistake"
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        assert MIGRATION.migrate(_partitioned(iso(later))) == {}, "no partition left: the whole state dropped"
    assert any("is in the future, dropped" in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------------------------------ through a read


def _sessions_state(value) -> list:
    partitions = [{"partition": {"active": a}, "cursor": {"updated_at": value}} for a in ("true", "false")]
    return StateBuilder().with_stream_state("sessions", {"states": partitions, "state": {"updated_at": value}}).build()


def test_given_state_with_an_offset_when_read_sessions_then_read_from_that_instant_and_saved_in_utc(requests_mock):
    route = FakeApi(requests_mock).sessions(
        [
            session(oid(1), oid(9), created_at="2024-05-01T04:00:00Z", updated_at="2024-05-01T04:59:59Z"),
            session(oid(2), oid(9), created_at="2024-05-01T04:00:00Z", updated_at="2024-05-01T05:00:01Z"),
        ]
    )

    output = read_streams(
        config(), "sessions", mode=SyncMode.incremental, state=_sessions_state("2024-05-01T10:00:00+05:00")
    )

    assert output.errors == []
    assert {query(r)["after"][0] for r in route.request_history} == {"2024-04-30T16:00:00.000Z"}
    assert [r["id"] for r in records(output)] == [oid(2)]
    final = output.state_messages[-1].state.stream.stream_state.__dict__
    assert final["state"]["updated_at"] == "2024-05-01T05:00:01.000000Z"


@pytest.mark.parametrize("value", ["yesterday", iso(datetime.now(UTC) + timedelta(days=3))], ids=["words", "future"])
def test_given_state_that_cannot_be_right_when_read_sessions_then_read_from_the_start_with_a_warning(
    requests_mock, value
):
    FakeApi(requests_mock).sessions(
        [session(oid(1), oid(9), created_at="2024-05-01T04:00:00Z", updated_at="2024-05-01T05:00:00Z")]
    )

    output = read_streams(config(), "sessions", mode=SyncMode.incremental, state=_sessions_state(value))

    assert output.errors == []
    assert [r["id"] for r in records(output)] == [oid(1)], "read again from the start"
    assert any("saved state of stream sessions" in log.log.message for log in output.logs)


ANALYTICS = UnreadableStateReset(cursor_field="timestamp", name="analytics_events", parameters={})
GLOBAL_STATE = {
    "use_global_cursor": True,
    "state": {"timestamp": "not-a-date"},
    "lookback_window": 1,
    "parent_state": {"recent_sessions": {"state": {"updated_at": "2024-05-01T10:00:00.000000Z"}}},
}


def test_given_global_cursor_state_with_an_unreadable_cursor_when_migrated_then_dropped_whole_parent_included(
    caplog,
):
    """The parent's cursor alone would narrow the read to the sessions changed since: not "from the start"."""
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        assert ANALYTICS.migrate(GLOBAL_STATE) == {}
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "'not-a-date' is not a date-time" in warning and "the whole state is dropped" in warning


def test_given_a_repaired_global_state_when_migrated_again_then_unchanged():
    """The CDK migrates analytics_events' state once for each stream of its StateDelegatingStream."""
    once = ANALYTICS.migrate(GLOBAL_STATE)
    assert not ANALYTICS.should_migrate(once)
    assert ANALYTICS.migrate(once) == once


def test_given_analytics_state_with_an_unreadable_cursor_when_read_then_one_warning_and_events_read(requests_mock):
    api = FakeApi(requests_mock)
    api.sessions([session(oid(10), oid(1), created_at=ago(hours=3), updated_at=ago(hours=1))])
    api.events([event("a", oid(1), oid(10), ago(hours=1))])
    blob = {**GLOBAL_STATE, "parent_state": {}}
    state = StateBuilder().with_stream_state("analytics_events", blob).build()

    output = read_streams(config(), "analytics_events", mode=SyncMode.incremental, state=state)

    assert [r["id"] for r in records(output)] == ["a"] and output.errors == []
    warnings = [log.log.message for log in output.logs if "saved state of stream analytics_events" in log.log.message]
    assert len(warnings) == 1 and "'not-a-date' is not a date-time" in warnings[0], warnings
