"""analytics_events: by room on a first read, by changed session afterwards, one global cursor with a lookback.

100ms has no time filter on events and keeps 30 days of them; `room_id` is required and `session_id` narrows
the list. So a read with no state (or a state older than the 30 days) asks once per room that had a session in
the last 30 days or has one running, and a read with a state asks once per session that changed since the
previous read (less 30 minutes, for late events such as `beam.recording.success`) or is running now.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.state_builder import StateBuilder

from unit_tests.fake_api import FakeApi, ago, config, event, query, records, session
from unit_tests.helpers import oid, read_streams

ROOM_A, ROOM_B, ROOM_C = oid(1), oid(2), oid(3)


def _state(cursor: str, parent_cursor: str) -> list:
    """The state this stream writes: one global `timestamp` cursor, and the sessions list's own cursor."""
    sessions_state = {
        "use_global_cursor": False,
        "states": [{"partition": {"active": a}, "cursor": {"updated_at": parent_cursor}} for a in ("true", "false")],
        "state": {"updated_at": parent_cursor},
        "lookback_window": 1,
    }
    blob = {
        "use_global_cursor": True,
        "state": {"timestamp": cursor},
        "lookback_window": 1,
        "parent_state": {"recent_sessions": sessions_state},
    }
    return StateBuilder().with_stream_state("analytics_events", blob).build()


def _asked(route) -> list[tuple[str, str | None]]:
    return sorted((query(r)["room_id"][0], query(r).get("session_id", [None])[0]) for r in route.request_history)


def _final_state(output) -> dict:
    return output.state_messages[-1].state.stream.stream_state.__dict__


def test_given_no_state_when_read_then_one_chain_per_room_with_a_session_in_30_days_or_running(requests_mock):
    api = FakeApi(requests_mock)
    api.sessions(
        [
            session(oid(10), ROOM_A, created_at=ago(days=2), updated_at=ago(days=2, hours=-1)),
            session(oid(11), ROOM_A, created_at=ago(days=3), updated_at=ago(days=3, hours=-1)),
            session(oid(12), ROOM_B, created_at=ago(days=40), updated_at=ago(days=40, hours=-1)),  # too old
            session(oid(13), ROOM_C, active=True, created_at=ago(hours=2), updated_at=ago(minutes=5)),
        ]
    )
    events = api.events(
        [
            event("a1", ROOM_A, oid(10), ago(days=2)),
            event("a2", ROOM_A, oid(11), ago(days=3)),
            event("c1", ROOM_C, oid(13), ago(hours=1)),
        ]
    )

    output = read_streams(config(), "analytics_events", mode=SyncMode.incremental)

    # each room once, whatever its number of sessions, asked by room only
    assert _asked(events) == [(ROOM_A, None), (ROOM_C, None)]
    assert sorted(r["id"] for r in records(output)) == ["a1", "a2", "c1"]
    assert all(r["room_id"] == r["data"]["room_id"] for r in records(output))


def test_given_room_ids_and_no_state_when_read_then_those_rooms_once_each_and_no_ended_sessions_listed(requests_mock):
    api = FakeApi(requests_mock)
    sessions = api.sessions(
        [
            session(oid(10), ROOM_A, active=True, created_at=ago(hours=1), updated_at=ago(minutes=1)),
            session(oid(11), ROOM_C, active=True, created_at=ago(hours=1), updated_at=ago(minutes=1)),
        ]
    )
    events = api.events([event("a1", ROOM_A, oid(10), ago(minutes=30)), event("c1", ROOM_C, oid(11), ago(minutes=30))])

    output = read_streams(config(room_ids=[ROOM_A, ROOM_B]), "analytics_events", mode=SyncMode.incremental)

    assert _asked(events) == [(ROOM_A, None), (ROOM_B, None)], "room A runs a session and is named: still once"
    assert [r["id"] for r in records(output)] == ["a1"]
    assert {query(r)["active"][0] for r in sessions.request_history} == {"true"}


def test_given_state_when_read_then_one_chain_per_changed_or_running_session_asked_with_room_and_session(
    requests_mock,
):
    previous = datetime.now(UTC) - timedelta(hours=2)
    api = FakeApi(requests_mock)
    api.sessions(
        [
            session(oid(10), ROOM_A, created_at=ago(hours=3), updated_at=ago(hours=1)),  # changed since
            # ended 20 minutes before the previous read: within the late-events lookback, read again
            session(oid(11), ROOM_A, created_at=ago(hours=4), updated_at=ago(hours=2, minutes=20)),
            session(oid(12), ROOM_B, created_at=ago(hours=6), updated_at=ago(hours=3)),  # unchanged: not asked
            # running, though not updated for hours
            session(oid(13), ROOM_C, active=True, created_at=ago(hours=6), updated_at=ago(hours=5)),
        ]
    )
    events = api.events(
        [
            event("new", ROOM_A, oid(10), ago(hours=1, minutes=30)),
            # a late event: stamped 10 minutes before the previous read's cursor, visible only now
            event("late", ROOM_A, oid(11), ago(hours=2, minutes=10)),
            event("already-read", ROOM_A, oid(11), ago(hours=3)),
            event("running", ROOM_C, oid(13), ago(minutes=10)),
        ]
    )
    state = _state(cursor=previous.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), parent_cursor=ago(hours=2))

    output = read_streams(config(), "analytics_events", mode=SyncMode.incremental, state=state)

    assert _asked(events) == [(ROOM_A, oid(10)), (ROOM_A, oid(11)), (ROOM_C, oid(13))]
    assert sorted(r["id"] for r in records(output)) == ["late", "new", "running"]
    final = _final_state(output)
    assert final["use_global_cursor"] is True and "states" not in final, "one cursor for the whole stream"
    assert final["state"]["timestamp"] == max(r["timestamp"] for r in records(output))


def test_given_state_older_than_the_30_days_when_read_then_read_by_room_again(requests_mock):
    api = FakeApi(requests_mock)
    api.sessions([session(oid(10), ROOM_A, created_at=ago(days=1), updated_at=ago(days=1, hours=-1))])
    events = api.events([event("a1", ROOM_A, oid(10), ago(days=1))])
    state = _state(cursor=ago(days=31), parent_cursor=ago(days=31))

    output = read_streams(config(), "analytics_events", mode=SyncMode.incremental, state=state)

    assert _asked(events) == [(ROOM_A, None)]
    assert [r["id"] for r in records(output)] == ["a1"]


def test_given_events_on_several_pages_when_read_then_next_followed_although_each_page_is_short(requests_mock):
    """`limit` in the answer is the number of events in it: a page of 3 under `limit=10` is not the end."""
    api = FakeApi(requests_mock)
    api.sessions([])
    route = api.events([event(f"e{i}", ROOM_A, oid(10), ago(hours=1, minutes=i)) for i in range(8)], page=3)

    output = read_streams(config(room_ids=[ROOM_A]), "analytics_events")

    assert sorted(r["id"] for r in records(output)) == sorted(f"e{i}" for i in range(8))
    assert [query(r).get("start") for r in route.request_history] == [None, ["cursor-3"], ["cursor-6"]]


def test_given_start_date_older_than_30_days_when_read_then_clamped_with_a_warning(requests_mock):
    api = FakeApi(requests_mock)
    api.sessions([])
    api.events([event("old", ROOM_A, None, ago(days=40)), event("a", ROOM_A, None, ago(days=29)),
                event("b", ROOM_A, None, ago(hours=1))])  # fmt: skip
    start = (datetime.now(UTC) - timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ")

    output = read_streams(config(room_ids=[ROOM_A], start_date=start), "analytics_events")

    assert sorted(r["id"] for r in records(output)) == ["a", "b"]
    assert output.errors == []
    assert any("older than the 30 days" in log.log.message for log in output.logs)


def test_given_recent_start_date_when_read_then_no_warning_and_start_date_applies(requests_mock):
    api = FakeApi(requests_mock)
    api.sessions([])
    api.events([event("before", ROOM_A, None, ago(days=10)), event("after", ROOM_A, None, ago(days=1))])
    start = (datetime.now(UTC) - timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%SZ")

    output = read_streams(config(room_ids=[ROOM_A], start_date=start), "analytics_events")

    assert [r["id"] for r in records(output)] == ["after"]
    assert not any("older than the 30 days" in log.log.message for log in output.logs)
