"""Every list reads all its pages, whatever shape the end of the list takes, and never loops."""

import pytest

from unit_tests.fake_api import FakeApi, config, query, records
from unit_tests.helpers import oid, read_streams

LIST_STREAMS = {
    "templates": "/v2/templates",
    "recordings": "/v2/recordings",
    "recording_assets": "/v2/recording-assets",
    "live_streams": "/v2/live-streams",
    "external_streams": "/v2/external-streams",
}


@pytest.mark.parametrize("end", ["short", "empty", "null", "missing_last"])
@pytest.mark.parametrize("stream", sorted(LIST_STREAMS))
def test_given_three_pages_when_read_then_every_record_once(requests_mock, stream, end):
    items = [{"id": oid(i), "created_at": "2024-05-01T10:00:00.123Z"} for i in range(30 if end != "short" else 27)]
    route = FakeApi(requests_mock).list(LIST_STREAMS[stream], items, end=end)

    output = read_streams(config(), stream)

    assert sorted(r["id"] for r in records(output)) == sorted(i["id"] for i in items)
    starts = [query(r).get("start", [None])[0] for r in route.request_history]
    assert starts[0] is None
    assert len(starts) == len(set(starts)), "a page was asked for twice"
    assert all(query(r)["limit"] == ["10"] for r in route.request_history)
    # a full last page needs one more request to see the end; a short one does not
    assert route.call_count == (4 if end != "short" else 3)


def test_given_a_page_shorter_than_the_limit_100ms_applied_when_read_then_keeps_paging(requests_mock):
    """100ms echoes the limit it applied: a page of 20 under `limit: 20` is full even when 100 were asked."""
    room = oid(1)
    items = [{"code": f"c{i:02d}-abc-def", "room_id": room} for i in range(30)]

    def respond(request, context):
        start = query(request).get("start", [None])[0]
        rows = sorted(items, key=lambda r: r["code"], reverse=True)
        rows = [r for r in rows if start is None or r["code"] < start][:20]
        return {"limit": 20, "data": rows, "last": rows[-1]["code"] if rows else ""}

    requests_mock.get(f"https://api.100ms.live/v2/room-codes/room/{room}", json=respond)
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
