"""The `after` and `before` filters: sent in the form 100ms documents, `YYYY-MM-DDTHH:mm:ss.sssZ`, rounded so that
nothing is lost (`after` down, rooms' `before` never below its bound), and sessions asked 13 hours before what the
read needs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.state_builder import StateBuilder

from unit_tests.fake_api import API, FakeApi, config, query
from unit_tests.helpers import oid, read_streams

DOCUMENTED_FORM = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ALL_STREAMS = [
    "rooms", "templates", "sessions", "session_peers", "recordings", "recording_assets", "live_streams",
    "external_streams", "analytics_events", "template_settings", "templates_destinations", "active_room_peers",
    "room_codes",
]  # fmt: skip


def _sessions_state(stream: str, cursor: str) -> StateBuilder:
    """The per-`active` state of sessions or session_peers (whose cursor is the session's `updated_at`)."""
    field = "session_updated_at" if stream == "session_peers" else "updated_at"
    partitions = [{"partition": {"active": a}, "cursor": {field: cursor}} for a in ("true", "false")]
    return StateBuilder().with_stream_state(stream, {"states": partitions, "state": {field: cursor}})


def _after_values(route) -> set[str]:
    return {v for r in route.request_history for v in query(r).get("after", [])}


@pytest.mark.parametrize(
    "stream, cursor, start_date, after",
    [
        ("sessions", "2024-05-10T12:00:00.000000Z", None, "2024-05-09T23:00:00.000Z"),
        ("sessions", "2024-05-10T12:00:00.123999Z", "2020-01-01T00:00:00Z", "2024-05-09T23:00:00.123Z"),  # down
        ("sessions", None, "2024-03-01T00:00:00Z", "2024-02-29T11:00:00.000Z"),
        ("sessions", None, None, "2013-12-31T11:00:00.000Z"),  # 100ms opened its API after 2014-01-01
        # session_peers reads the same list the same way (its cursor is the session's `updated_at`)
        ("session_peers", "2024-05-10T12:00:00.123999Z", None, "2024-05-09T23:00:00.123Z"),
        ("session_peers", None, None, "2013-12-31T11:00:00.000Z"),
    ],
    ids=["cursor", "cursor-rounded-down", "start-date", "neither", "peers-cursor", "peers-neither"],
)
def test_given_cursor_or_start_date_when_read_sessions_then_after_is_it_less_13_hours_in_ms(
    requests_mock, stream, cursor, start_date, after
):
    route = FakeApi(requests_mock).sessions([])
    extra = {"start_date": start_date} if start_date else {}
    state = _sessions_state(stream, cursor).build() if cursor else None

    read_streams(config(**extra), stream, mode=SyncMode.incremental, state=state)

    assert _after_values(route) == {after}
    assert {query(r)["active"][0] for r in route.request_history} == {"true", "false"}


@pytest.mark.parametrize(
    "filters, after, before",
    [
        ({"after": "2024-01-01T00:00:00Z", "before": "2024-02-01T00:00:00Z"}, "2024-01-01T00:00:00.000Z",
         "2024-02-01T00:00:00.001Z"),
        ({"after": "2024-01-01T00:00:00.123999999Z", "before": "2024-02-01T00:00:00.123001Z"},
         "2024-01-01T00:00:00.123Z", "2024-02-01T00:00:00.124Z"),
        ({"before": "2024-02-01T00:00:00.1230001Z"}, None, "2024-02-01T00:00:00.124Z"),  # below a microsecond
        ({"before": "2024-12-31T23:59:59.9995Z"}, None, "2025-01-01T00:00:00.000Z"),
        ({"after": "2024-01-01T00:00:00.5Z"}, "2024-01-01T00:00:00.500Z", None),
    ],
    ids=["whole-seconds", "fractions", "sub-microsecond", "into-the-next-year", "after-only"],
)  # fmt: skip
def test_given_room_filters_when_read_rooms_then_after_cut_and_before_never_below_its_bound(
    requests_mock, filters, after, before
):
    """`after` is cut to the millisecond; `before` gets one millisecond more, then is cut: never below the bound
    whatever its digits, at most a millisecond above it (the manifest's choice, `rooms_stream`)."""
    route = FakeApi(requests_mock).list("/v2/rooms", [])

    read_streams(config(room_filters={"enabled": "enabled", **filters}), "rooms")

    sent = query(route.last_request)
    assert sent.get("after") == ([after] if after else None)
    assert sent.get("before") == ([before] if before else None)


def test_given_no_state_when_read_analytics_events_then_sessions_asked_from_30_days_and_13_hours_back(
    requests_mock,
):
    route = FakeApi(requests_mock).sessions([])
    before = datetime.now(UTC)

    read_streams(config(), "analytics_events", mode=SyncMode.incremental)

    (after,) = _after_values(route)
    sent = datetime.strptime(after, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    expected = before - timedelta(days=30, hours=13)
    assert DOCUMENTED_FORM.match(after)
    assert expected - timedelta(seconds=5) <= sent <= expected + timedelta(seconds=5)


def test_given_state_when_read_analytics_events_then_sessions_asked_13_hours_before_their_cursor(requests_mock):
    """The sessions list is asked exactly as `sessions` asks for it (so its pages can be shared): the session
    cursor less the 30 minutes of late events less 12 h 30."""
    route = FakeApi(requests_mock).sessions([])
    parent = datetime.now(UTC) - timedelta(hours=3)
    parent_text = parent.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    sessions_state = {
        "states": [{"partition": {"active": a}, "cursor": {"updated_at": parent_text}} for a in ("true", "false")],
        "state": {"updated_at": parent_text},
    }
    blob = {"use_global_cursor": True, "state": {"timestamp": parent_text},
            "parent_state": {"recent_sessions": sessions_state}}  # fmt: skip
    state = StateBuilder().with_stream_state("analytics_events", blob).build()

    read_streams(config(), "analytics_events", mode=SyncMode.incremental, state=state)

    expected = (parent - timedelta(hours=13)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] + "Z"
    assert _after_values(route) == {expected}


def test_given_every_stream_read_incrementally_when_synced_then_every_after_and_before_in_the_documented_form(
    requests_mock,
):
    def empty(request, context):
        return (
            {"limit": 10, "total": 0, "next": "", "events": []}
            if "analytics" in request.path
            else {"limit": 10, "data": [], "last": ""}
        )  # noqa: E501

    route = requests_mock.get(re.compile(re.escape(API) + "/"), json=empty)
    cfg = config(start_date="2024-01-01T00:00:00Z", room_filters={"after": "2023-06-01T00:00:00.123456Z",
                 "before": "2024-06-01T00:00:00Z"}, room_ids=[oid(1)])  # fmt: skip

    output = read_streams(cfg, *ALL_STREAMS, mode=SyncMode.incremental)

    assert output.errors == []
    sent = [
        (name, value) for r in route.request_history for name in ("after", "before") for value in query(r).get(name, [])
    ]
    assert {name for name, _ in sent} == {"after", "before"}, "the sweep must see both filters"
    assert [v for _, v in sent if not DOCUMENTED_FORM.match(v)] == []
