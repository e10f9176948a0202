"""ManagementApiRequester: ids enter paths as exactly one segment, and a refused `limit` is dropped.

(Shared pages have their own module, test_shared_pages.py.)
"""

from __future__ import annotations

import re
import time

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_100ms.components.requester import path_segment
from unit_tests.fake_api import API, FakeApi, config, query, records, session
from unit_tests.helpers import oid, read_streams, stream_error

# ------------------------------------------------------------------------------------------ one path segment


@pytest.mark.parametrize(
    "value, segment",
    [
        ("650000010000000000000001", "650000010000000000000001"),
        ("../../__admin/stats?x=1", "..%2F..%2F__admin%2Fstats%3Fx%3D1"),
        ("a b#c", "a%20b%23c"),
        ("a%2Fb", "a%252Fb"),  # already encoded: encoded again, so it stays one segment
        ("...", "..."),
        (True, "true"),
        (12, "12"),
    ],
)
def test_given_value_when_made_a_path_segment_then_every_reserved_character_encoded(value, segment):
    assert path_segment(value) == segment


@pytest.mark.parametrize("value", [".", "..", ""])
def test_given_dot_segment_or_empty_when_made_a_path_segment_then_refused(value):
    with pytest.raises(AirbyteTracedException) as raised:
        path_segment(value)
    assert raised.value.failure_type == FailureType.system_error and "was not sent" in raised.value.message


def _everything_else_empty(requests_mock):
    """Every other 100ms path answers an empty list (registered first: later routes win)."""
    return requests_mock.get(re.compile(re.escape(API) + "/"), json={"limit": 10, "data": [], "last": ""})


def test_given_parent_ids_with_slashes_and_query_characters_when_read_then_each_requested_as_one_segment(
    requests_mock,
):
    anything = _everything_else_empty(requests_mock)
    api = FakeApi(requests_mock)
    api.list("/v2/rooms", [{"id": "../../__admin/stats?x=1", "enabled": True}, {"id": "a%2Fb", "enabled": True}])

    output = read_streams(config(room_filters={"enabled": "enabled"}), "room_codes")

    assert output.errors == []
    paths = sorted(r.path for r in anything.request_history)
    assert paths == ["/v2/room-codes/room/..%2f..%2f__admin%2fstats%3fx%3d1", "/v2/room-codes/room/a%252fb"]
    assert all(query(r) == {"limit": ["10"]} for r in anything.request_history), "nothing leaked into the query"


def test_given_session_in_a_room_whose_id_holds_a_path_when_read_active_room_peers_then_one_segment(requests_mock):
    anything = requests_mock.get(re.compile(re.escape(API) + "/v2/active-rooms/"), json={"peers": {}})
    FakeApi(requests_mock).sessions([session(oid(1), "x/../../v2/rooms", active=True, created_at="", updated_at="")])

    read_streams(config(), "active_room_peers")

    assert [r.path for r in anything.request_history] == ["/v2/active-rooms/x%2f..%2f..%2fv2%2frooms/peers"]


def test_given_parent_id_that_is_a_dot_segment_when_read_then_stream_fails_without_sending_it(requests_mock):
    anything = _everything_else_empty(requests_mock)
    FakeApi(requests_mock).list("/v2/templates", [{"id": ".."}])

    output = read_streams(config(), "template_settings", expect_error=True)

    error = stream_error(output)
    assert error.failure_type == FailureType.system_error
    assert "cannot name a resource ('..')" in error.message
    assert anything.request_history == [], "GET /v2/templates/../settings would be /v2/settings"


# ------------------------------------------------------------------------------------------ limit fallback

LIMIT_REFUSED = {"code": 400, "message": "Invalid query param", "details": ["limit must be less than 50"]}


def _refusing_limit(rows: list[dict]):
    """A list that answers 400 to any `limit`, and pages of 10 without one (100ms's default)."""

    def respond(request, context):
        q = query(request)
        if "limit" in q:
            context.status_code = 400
            return LIMIT_REFUSED
        start = q.get("start", [None])[0]
        offset = next(i + 1 for i, r in enumerate(rows) if r["id"] == start) if start else 0
        page = rows[offset : offset + 10]
        return {"limit": 10, "data": page, "last": page[-1]["id"] if page else ""}

    return respond


FALLBACK_STREAMS = [
    ("recordings", "/v2/recordings"),
    ("recording_assets", "/v2/recording-assets"),
    ("live_streams", "/v2/live-streams"),
    ("external_streams", "/v2/external-streams"),
]


@pytest.mark.parametrize("stream, path", FALLBACK_STREAMS)
def test_given_limit_refused_when_read_then_asked_again_without_it_for_the_rest_of_the_stream_with_one_warning(
    requests_mock, stream, path
):
    rows = [{"id": oid(100 - i), "created_at": "2024-05-01T10:00:00Z"} for i in range(25)]
    route = requests_mock.get(f"{API}{path}", json=_refusing_limit(rows))

    output = read_streams(config(page_size=100), stream)

    assert output.errors == []
    assert [r["id"] for r in records(output)] == [r["id"] for r in rows]
    sent = [query(r) for r in route.request_history]
    assert sent[0] == {"limit": ["100"]} and all("limit" not in q for q in sent[1:]), sent
    assert len(sent) == 4, "the refused page once, then three pages without limit"
    warnings = [log.log.message for log in output.logs if "asks again without `limit`" in log.log.message]
    assert len(warnings) == 1 and f"limit=100 on {API}{path}" in warnings[0] and "limit must be less" in warnings[0]


def test_given_limit_refused_for_a_room_when_read_room_codes_then_rooms_read_later_not_asked_with_it(requests_mock):
    """Two workers: the first two rooms are asked at once and both refused; every room read after that is asked
    without `limit` (one requester serves every room of the stream)."""
    rooms = [oid(i) for i in range(1, 7)]
    FakeApi(requests_mock).list("/v2/rooms", [{"id": room, "enabled": True} for room in rooms])
    codes = {}
    for room in rooms:
        refusing = _refusing_limit([{"id": f"{room}-c", "code": f"{room}-c"}])
        codes[room] = requests_mock.get(
            f"{API}/v2/room-codes/room/{room}", json=lambda r, c, refusing=refusing: time.sleep(0.02) or refusing(r, c)
        )

    output = read_streams(config(room_filters={"enabled": "enabled"}, num_workers=2), "room_codes")

    assert sorted(r["code"] for r in records(output)) == sorted(f"{room}-c" for room in rooms)
    with_limit = [room for room, route in codes.items() for r in route.request_history if "limit" in query(r)]
    assert len(with_limit) <= 2, f"refused once per worker at most, not once per room: {with_limit}"
    assert all(route.call_count == (2 if room in with_limit else 1) for room, route in codes.items())


def test_given_a_stream_with_a_documented_limit_when_limit_refused_then_config_error_at_once(requests_mock):
    route = requests_mock.get(f"{API}/v2/templates", status_code=400, json=LIMIT_REFUSED)
    output = read_streams(config(), "templates", expect_error=True)
    assert route.call_count == 1
    error = stream_error(output)
    assert error.failure_type == FailureType.config_error and "limit must be less than 50" in error.message


def test_given_a_400_not_about_limit_when_read_recordings_then_config_error_at_once_keeping_limit(requests_mock):
    route = requests_mock.get(
        f"{API}/v2/recordings",
        status_code=400,
        json={"code": 400, "message": "Invalid query param", "details": ["status must be one of completed, failed"]},
    )

    output = read_streams(config(), "recordings", expect_error=True)

    assert route.call_count == 1
    assert not any("without `limit`" in log.log.message for log in output.logs)
    error = stream_error(output)
    assert error.failure_type == FailureType.config_error
    assert "(400: Invalid query param status must be one of completed, failed)" in error.message
