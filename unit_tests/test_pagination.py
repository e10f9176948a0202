"""Pagination: every list read whole whatever shape its end takes, decided on the page as 100ms sent it; early
stops only where the page shows newest first; a repeated cursor fails at once instead of looping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.state_builder import StateBuilder

from unit_tests.fake_api import API, FakeApi, config, iso, query, records
from unit_tests.helpers import oid, read_streams, stream_error

LIST_STREAMS = {
    "templates": "/v2/templates",
    "recordings": "/v2/recordings",
    "recording_assets": "/v2/recording-assets",
    "live_streams": "/v2/live-streams",
    "external_streams": "/v2/external-streams",
}
CREATED = "2024-05-01T10:00:00.123Z"


def _starts(route) -> list[str | None]:
    return [query(r).get("start", [None])[0] for r in route.request_history]


# ------------------------------------------------------------------------------------------ the end of a list


@pytest.mark.parametrize("end", ["short", "empty", "null", "missing_last"])
def test_given_three_pages_when_read_then_every_record_once_whatever_the_end(requests_mock, end):
    items = [{"id": oid(i), "created_at": CREATED} for i in range(30 if end != "short" else 27)]
    route = FakeApi(requests_mock).list("/v2/recordings", items, end=end)

    output = read_streams(config(), "recordings")

    assert sorted(r["id"] for r in records(output)) == sorted(i["id"] for i in items)
    starts = _starts(route)
    assert starts[0] is None and len(starts) == len(set(starts)), "a page was asked for twice"
    assert all(query(r)["limit"] == ["10"] for r in route.request_history)
    # a full last page needs one more request to see the end; a short one does not
    assert route.call_count == (4 if end != "short" else 3)


@pytest.mark.parametrize("stream", sorted(LIST_STREAMS))
def test_given_a_list_of_pages_when_read_then_each_list_stream_reads_it_whole(requests_mock, stream):
    items = [{"id": oid(i), "created_at": CREATED} for i in range(23)]
    route = FakeApi(requests_mock).list(LIST_STREAMS[stream], items)

    output = read_streams(config(), stream)

    assert sorted(r["id"] for r in records(output)) == sorted(i["id"] for i in items)
    assert _starts(route) == [None, oid(13), oid(3)]


def test_given_a_page_shorter_than_the_limit_100ms_applied_when_read_then_keeps_paging(requests_mock):
    """100ms echoes the limit it applied: a page of 20 under `limit: 20` is full even when 100 were asked."""
    room = oid(1)
    items = [{"code": f"c{i:02d}-abc-def", "room_id": room} for i in range(30)]

    def respond(request, context):
        start = query(request).get("start", [None])[0]
        rows = sorted(items, key=lambda r: r["code"], reverse=True)
        rows = [r for r in rows if start is None or r["code"] < start][:20]
        return {"limit": 20, "data": rows, "last": rows[-1]["code"] if rows else ""}

    requests_mock.get(f"{API}/v2/room-codes/room/{room}", json=respond)
    output = read_streams(config(page_size=100, room_ids=[room]), "room_codes")
    assert sorted(r["code"] for r in records(output)) == sorted(i["code"] for i in items)


def test_given_page_size_when_read_then_limit_sent(requests_mock):
    route = FakeApi(requests_mock).list("/v2/templates", [{"id": oid(1)}])
    read_streams(config(page_size=100), "templates")
    assert query(route.last_request)["limit"] == ["100"]


def test_given_default_config_when_read_then_limit_is_100(requests_mock):
    route = FakeApi(requests_mock).list("/v2/templates", [{"id": oid(1)}])
    cfg = config()
    del cfg["page_size"]
    read_streams(cfg, "templates")
    assert query(route.last_request)["limit"] == ["100"]


def test_given_pages_the_cursor_filters_partly_when_read_then_paging_goes_on_to_the_raw_end(requests_mock):
    """The stop is decided on the raw page: a full page whose records the cursor mostly drops is not the end."""
    cursor = datetime(2024, 5, 10, 12, tzinfo=UTC)
    changed = {oid(30), oid(17), oid(4)}  # one on each of the three pages
    sessions = [
        {"id": oid(i), "room_id": oid(900), "active": False, "created_at": iso(cursor - timedelta(hours=1)),
         "updated_at": iso(cursor + timedelta(minutes=i)) if oid(i) in changed else iso(cursor - timedelta(hours=2)),
         "peers": {}}
        for i in range(1, 31)
    ]  # fmt: skip
    route = FakeApi(requests_mock).sessions(sessions)
    partitions = [{"partition": {"active": a}, "cursor": {"updated_at": iso(cursor)}} for a in ("true", "false")]
    state = StateBuilder().with_stream_state("sessions", {"states": partitions, "state": {"updated_at": iso(cursor)}})

    output = read_streams(config(), "sessions", mode=SyncMode.incremental, state=state.build())

    assert {r["id"] for r in records(output)} == changed
    ended = [r for r in route.request_history if query(r)["active"] == ["false"]]
    assert [query(r).get("start", [None])[0] for r in ended] == [None, oid(21), oid(11), oid(1)]


# ------------------------------------------------------------------------------------------ early stops


def _recordings(cursor: datetime, n: int, *, order: str = "newest_first") -> list[dict]:
    """Recordings created 6 hours apart before `cursor`, updated 13 hours after their creation."""
    rows = [
        {"id": oid(100 - i), "room_id": oid(1), "created_at": iso(cursor - timedelta(hours=6 * i)),
         "updated_at": iso(cursor - timedelta(hours=6 * i) + timedelta(hours=13))}
        for i in range(n)
    ]  # fmt: skip
    return rows if order == "newest_first" else rows[::-1]


def _served_in_order(requests_mock, path: str, rows: list[dict]):
    """A list served in the order given (not sorted by id), paged by position."""

    def respond(request, context):
        q = query(request)
        start = q.get("start", [None])[0]
        offset = next(i + 1 for i, r in enumerate(rows) if r["id"] == start) if start else 0
        page = rows[offset : offset + int(q.get("limit", ["10"])[0])]
        return {"limit": int(q.get("limit", ["10"])[0]), "data": page, "last": page[-1]["id"] if page else ""}

    return requests_mock.get(f"{API}{path}", json=respond)


def _recordings_state(cursor: datetime) -> list:
    return StateBuilder().with_stream_state("recordings", {"updated_at": iso(cursor)}).build()


def _order_warnings(output) -> list[str]:
    return [log.log.message for log in output.logs if "newest first" in log.log.message]


def test_given_newest_first_pages_when_read_with_state_then_stops_at_the_first_page_older_than_two_days(
    requests_mock,
):
    cursor = datetime(2024, 5, 10, 12, tzinfo=UTC)
    recordings = _recordings(cursor, 40)
    route = FakeApi(requests_mock).list("/v2/recordings", recordings)

    output = read_streams(config(), "recordings", mode=SyncMode.incremental, state=_recordings_state(cursor))

    # 10 per page, 6 hours apart: the first page's oldest item is 54 hours old, beyond the cursor less 2 days
    assert route.call_count == 1
    emitted = {r["id"] for r in records(output)}
    assert emitted == {r["id"] for r in recordings if r["updated_at"] >= iso(cursor)}
    assert emitted, "no recording was updated after the cursor: the test would prove nothing"
    assert _order_warnings(output) == []


def test_given_oldest_first_pages_when_read_with_state_then_reads_to_the_end_with_one_warning(requests_mock):
    cursor = datetime(2024, 5, 10, 12, tzinfo=UTC)
    recordings = _recordings(cursor, 35, order="oldest_first")
    route = _served_in_order(requests_mock, "/v2/recordings", recordings)

    output = read_streams(config(), "recordings", mode=SyncMode.incremental, state=_recordings_state(cursor))

    assert route.call_count == 4, "every page: the newest recordings are on the last one"
    assert {r["id"] for r in records(output)} == {r["id"] for r in recordings if r["updated_at"] >= iso(cursor)}
    (warning,) = _order_warnings(output)
    assert f"{API}/v2/recordings" in warning and "reads the list to its end" in warning


@pytest.mark.parametrize(
    "disorder, pages",
    [
        ("none", 3),  # page 3 is the first to go below the cursor less 2 days, and shows newest first: stop
        ("created_at_rises_within_the_page", 4),
        ("id_repeated_within_the_page", 4),
        ("page_starts_above_the_previous_last", 4),  # a list that restarted
    ],
)
def test_given_the_page_that_crosses_the_bound_when_its_order_is_not_newest_first_then_no_stop_there(
    requests_mock, disorder, pages
):
    cursor = datetime(2024, 5, 10, 12, tzinfo=UTC)
    recordings = [
        {"id": oid(100 - i), "created_at": iso(cursor - timedelta(hours=2 * i)),
         "updated_at": iso(cursor - timedelta(hours=2 * i) + timedelta(hours=13))}
        for i in range(45)
    ]  # fmt: skip
    third = recordings[20:30]
    if disorder == "created_at_rises_within_the_page":
        third[3]["created_at"], third[4]["created_at"] = third[4]["created_at"], third[3]["created_at"]
    elif disorder == "id_repeated_within_the_page":
        third[5]["id"] = third[4]["id"]
    elif disorder == "page_starts_above_the_previous_last":
        for i, row in enumerate(recordings[20:]):
            row["id"] = oid(300 - i)
    route = _served_in_order(requests_mock, "/v2/recordings", recordings)

    output = read_streams(config(), "recordings", mode=SyncMode.incremental, state=_recordings_state(cursor))

    assert route.call_count == pages
    assert len(_order_warnings(output)) == (0 if disorder == "none" else 1)
    assert {r["id"] for r in records(output)} == {r["id"] for r in recordings if r["updated_at"] >= iso(cursor)}


def test_given_start_date_and_newest_first_when_read_live_streams_then_stops_at_the_first_page_before_it(
    requests_mock,
):
    start = datetime(2024, 5, 1, tzinfo=UTC)
    streams = [{"id": oid(100 - i), "created_at": iso(start + timedelta(days=3) - timedelta(hours=6 * i))}
               for i in range(40)]  # fmt: skip
    route = FakeApi(requests_mock).list("/v2/live-streams", streams)

    output = read_streams(config(start_date="2024-05-01T00:00:00Z"), "live_streams")

    # page 1 spans 72 to 18 hours after the start date, page 2 goes below it: the last page read
    assert route.call_count == 2
    assert {r["id"] for r in records(output)} == {s["id"] for s in streams if s["created_at"] >= iso(start)}


def test_given_no_state_nor_start_date_when_read_recordings_then_read_whole(requests_mock):
    route = FakeApi(requests_mock).list("/v2/recordings", _recordings(datetime(2024, 5, 10, tzinfo=UTC), 25))
    output = read_streams(config(), "recordings")
    assert route.call_count == 3 and len(records(output)) == 25


# ------------------------------------------------------------------------------------------ no loop


@pytest.mark.parametrize("answer", ["echoes_start", "ignores_start"])
def test_given_100ms_answers_the_cursor_it_was_sent_when_read_then_fails_at_once_naming_the_endpoint(
    requests_mock, answer
):
    page = [{"id": oid(i), "created_at": CREATED} for i in range(20, 10, -1)]

    def respond(request, context):
        start = query(request).get("start", [None])[0]
        last = start if (start and answer == "echoes_start") else page[-1]["id"]
        return {"limit": 10, "data": page, "last": last}

    route = requests_mock.get(f"{API}/v2/external-streams", json=respond)

    output = read_streams(config(), "external_streams", expect_error=True)

    assert route.call_count == 2, "the second answer repeats the cursor: stop there"
    error = stream_error(output)
    assert error.failure_type == FailureType.system_error
    assert f"{API}/v2/external-streams" in error.message and "same page cursor" in error.message


def test_given_analytics_next_repeated_when_read_then_fails_at_once(requests_mock):
    FakeApi(requests_mock).sessions([])
    route = requests_mock.get(
        f"{API}/v2/analytics/events",
        json={"limit": 1, "total": 5, "next": "opaque-1", "events": [{"id": "e", "timestamp": CREATED}]},
    )

    output = read_streams(config(room_ids=[oid(1)]), "analytics_events", expect_error=True)

    assert route.call_count == 2
    assert "/v2/analytics/events" in stream_error(output).message
