"""Custom streams read through the source with HTTP mocked: lookups, pagination, metadata, headers, schemas."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from source_100ms.components import custom
from unit_tests.fake_api import API, FakeApi, config, query, records
from unit_tests.helpers import discover_catalog, oid, read_streams


def _rooms(api, rooms):
    return api.list("/v2/rooms", lambda q: [r for r in rooms if q.get("enabled") != ["false"]])


def test_given_lookup_over_rooms_when_read_then_one_chain_per_room_with_rooms_id_and_404_skipped(requests_mock):
    api = FakeApi(requests_mock)
    _rooms(api, [{"id": oid(1)}, {"id": oid(2)}, {"id": oid(3)}])
    requests_mock.get(f"{API}/v2/active-rooms/{oid(1)}/peers", json={"peers": {"p1": {"id": "p1"}, "p2": {"id": "p2"}}})
    requests_mock.get(
        f"{API}/v2/active-rooms/{oid(2)}/peers", status_code=404, json={"code": 404, "message": "not found"}
    )
    requests_mock.get(f"{API}/v2/active-rooms/{oid(3)}/peers", json={"peers": {"p3": {"id": "p3"}}})
    stream = {"name": "room_peers", "url": "/v2/active-rooms/{rooms.id}/peers", "record_path": "$.peers[*]"}

    output = read_streams(config(custom_streams=[stream]), "room_peers")

    rows = records(output, "room_peers")
    assert sorted((r["rooms_id"], r["id"]) for r in rows) == [(oid(1), "p1"), (oid(1), "p2"), (oid(3), "p3")]
    # The parent (rooms) is read for the lookup but not emitted: it is not selected.
    assert records(output, "rooms") == []
    assert output.errors == []


def test_given_list_valued_lookup_field_when_read_then_one_request_per_distinct_element(requests_mock):
    api = FakeApi(requests_mock)
    _rooms(api, [{"id": oid(1), "polls": ["a", "b"]}, {"id": oid(2), "polls": ["b", "c"]}, {"id": oid(3), "polls": []}])
    route = requests_mock.get(
        re.compile(re.escape(f"{API}/v2/polls/") + r"\w+$"), json=lambda r, c: {"id": r.url.rsplit("/", 1)[1]}
    )

    output = read_streams(config(custom_streams=[{"name": "polls", "url": "/v2/polls/{rooms.polls}"}]), "polls")

    assert sorted(r.url.rsplit("/", 1)[1] for r in route.request_history) == ["a", "b", "c"]
    assert sorted((r["id"], r["rooms_polls"]) for r in records(output, "polls")) == [("a", "a"), ("b", "b"), ("c", "c")]


def test_given_lookup_over_a_custom_stream_and_parent_selected_when_read_then_both_emitted(requests_mock):
    api = FakeApi(requests_mock)
    _rooms(api, [{"id": oid(1), "polls": ["a"]}])
    requests_mock.get(f"{API}/v2/polls/a", json={"id": "a", "room_id": oid(1)})
    requests_mock.get(
        f"{API}/v2/stream-keys/room/{oid(1)}", json={"id": oid(9), "key": "sk_live_secret", "room_id": oid(1)}
    )
    streams = [
        {"name": "polls", "url": "/v2/polls/{rooms.polls}"},
        {"name": "stream_keys", "url": "/v2/stream-keys/room/{polls.room_id}", "primary_key": ["id"]},
    ]

    output = read_streams(config(custom_streams=streams), "polls", "stream_keys")

    assert [r["id"] for r in records(output, "polls")] == ["a"]
    # the stream key itself is a secret: removed like on every stream
    assert records(output, "stream_keys") == [{"id": oid(9), "room_id": oid(1), "polls_room_id": oid(1)}]


def test_given_lookup_value_with_reserved_characters_when_read_then_escaped_in_path(requests_mock):
    api = FakeApi(requests_mock)
    _rooms(api, [{"id": oid(1), "name": "a/b?c d"}])
    route = requests_mock.get(re.compile(re.escape(f"{API}/v2/rooms-by-name/")), json={"ok": True})

    output = read_streams(
        config(custom_streams=[{"name": "by_name", "url": "/v2/rooms-by-name/{rooms.name}"}]), "by_name"
    )

    assert route.request_history[0].path == "/v2/rooms-by-name/a%2fb%3fc%20d"
    assert records(output, "by_name") == [{"ok": True, "rooms_name": "a/b?c d"}]


def test_given_last_then_empty_last_when_read_then_start_sent_back_and_stops(requests_mock):
    pages = {
        None: {"limit": 10, "data": [{"id": "3"}, {"id": "2"}], "last": "2"},
        "2": {"limit": 10, "data": [{"id": "1"}], "last": ""},
    }
    route = requests_mock.get(f"{API}/v2/recordings", json=lambda r, c: pages[query(r).get("start", [None])[0]])
    stream = {
        "name": "recs",
        "url": "/v2/recordings?status=completed",
        "record_path": "$.data[*]",
        "metadata_path": "$.limit",
    }

    output = read_streams(config(custom_streams=[stream]), "recs")

    assert [r["id"] for r in records(output, "recs")] == ["3", "2", "1"]
    assert all(r["_metadata"] == 10 for r in records(output, "recs"))
    assert [query(r).get("start") for r in route.request_history] == [None, ["2"]]
    assert all(query(r)["status"] == ["completed"] for r in route.request_history)


def test_given_next_token_when_read_then_sent_as_start_until_empty(requests_mock):
    pages = {None: {"events": [{"id": "e1"}], "next": "tok"}, "tok": {"events": [{"id": "e2"}], "next": ""}}
    route = requests_mock.get(f"{API}/v2/analytics/events", json=lambda r, c: pages[query(r).get("start", [None])[0]])
    stream = {"name": "events", "url": "/v2/analytics/events?room_id=r1", "record_path": "$.events[*]"}

    output = read_streams(config(custom_streams=[stream]), "events")

    assert [r["id"] for r in records(output, "events")] == ["e1", "e2"]
    assert route.call_count == 2


def test_given_token_repeated_with_an_empty_page_when_read_then_stops(requests_mock):
    route = requests_mock.get(f"{API}/v2/live-streams", json={"data": [], "last": "same"})

    output = read_streams(
        config(custom_streams=[{"name": "ls", "url": "/v2/live-streams", "record_path": "$.data[*]"}]), "ls"
    )

    assert records(output, "ls") == []
    assert route.call_count == 1


def test_given_date_macros_and_headers_when_read_then_same_instant_everywhere_and_custom_headers_sent(
    requests_mock, monkeypatch
):
    monkeypatch.setattr(custom, "read_instant", lambda: datetime(2024, 3, 31, 13, 45, 10, tzinfo=UTC))
    route = requests_mock.get(f"{API}/v2/sessions", json={"data": [{"id": "s"}], "last": ""})
    stream = {
        "name": "recent",
        "url": "/v2/sessions?after={now-1}&before={now}",
        "record_path": "$.data[*]",
        "time_unit": "month",
        "datetime_format": "%Y-%m-%d",
        "request_headers": "X-Since:{now-2},X-Team: video",
    }

    read_streams(config(custom_streams=[stream]), "recent")

    sent = route.request_history[0]
    assert query(sent)["after"] == ["2024-02-29"]
    assert query(sent)["before"] == ["2024-03-31"]
    assert sent.headers["X-Since"] == "2024-01-31"
    assert sent.headers["X-Team"] == "video"
    assert sent.headers["Authorization"].startswith("Bearer ")


def test_given_whole_object_and_scalar_nodes_when_read_then_object_as_is_and_scalars_wrapped(requests_mock):
    requests_mock.get(f"{API}/v2/templates/t1", json={"id": "t1", "roles": {"host": {}}})
    requests_mock.get(f"{API}/v2/rooms/r1", json={"id": "r1", "polls": ["a", "b"]})
    streams = [
        {"name": "template_one", "url": "/v2/templates/t1"},
        {"name": "room_polls", "url": "/v2/rooms/r1", "record_path": "$.polls[*]"},
    ]

    output = read_streams(config(custom_streams=streams), "template_one", "room_polls")

    assert records(output, "template_one") == [{"id": "t1", "roles": {"host": {}}}]
    assert records(output, "room_polls") == [{"value": "a"}, {"value": "b"}]


def test_given_custom_streams_when_discover_then_permissive_schemas_with_typed_lookup_fields_and_keys(requests_mock):
    streams = [
        {
            "name": "room_peers",
            "url": "/v2/active-rooms/{rooms.id}/peers",
            "record_path": "$.peers[*]",
            "metadata_path": "$.limit",
            "primary_key": ["rooms_id", "id"],
        },
        {"name": "polls", "url": "/v2/polls/{rooms.polls}"},
    ]

    catalog = {s.name: s for s in discover_catalog(config(custom_streams=streams)).catalog.catalog.streams}

    peers = catalog["room_peers"]
    assert peers.json_schema["additionalProperties"] is True
    assert peers.json_schema["properties"] == {"_metadata": {}, "rooms_id": {"type": "string"}}
    assert peers.source_defined_primary_key == [["rooms_id"], ["id"]]
    assert catalog["polls"].json_schema["properties"] == {"rooms_polls": {"type": "string"}}
    assert "rooms" in catalog and requests_mock.call_count == 0
