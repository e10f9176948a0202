"""What each stream asks 100ms for and the rows it makes of the answers."""

from datetime import UTC, datetime, timedelta

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource

from unit_tests.fake_api import FakeApi, config, query, records
from unit_tests.helpers import oid, read_streams

ZERO = "0001-01-01T00:00:00Z"
YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.123456789Z")


def _rooms(n):
    return [
        {"id": oid(i), "name": f"room-{i}", "enabled": i % 4 != 0, "created_at": "2024-01-01T00:00:00.5Z",
         "updated_at": ZERO if i % 5 == 0 else "2024-02-01T10:00:00.123456789Z",
         "recording_info": {"enabled": True, "upload_info": {"type": "s3", "location": "bucket",
                            "credentials": {"key": "AKIA-storage-key", "secret": "storage-secret"}}}}
        for i in range(1, n + 1)
    ]  # fmt: skip


def test_given_no_room_filter_when_read_rooms_then_enabled_and_disabled_asked_explicitly(requests_mock):
    rooms = _rooms(25)
    route = FakeApi(requests_mock).list(
        "/v2/rooms", lambda q: [r for r in rooms if str(r["enabled"]).lower() == q["enabled"][0]]
    )
    output = read_streams(config(), "rooms")
    assert sorted(r["id"] for r in records(output)) == sorted(r["id"] for r in rooms)
    assert {query(r)["enabled"][0] for r in route.request_history} == {"true", "false"}


def test_given_rooms_with_storage_credentials_when_read_then_credentials_removed(requests_mock):
    FakeApi(requests_mock).list("/v2/rooms", _rooms(3))
    rows = records(read_streams(config(), "rooms"))
    assert rows and all("credentials" not in r["recording_info"]["upload_info"] for r in rows)
    assert all(r["recording_info"]["upload_info"]["location"] == "bucket" for r in rows)


def test_given_room_filters_when_read_rooms_then_each_filter_sent(requests_mock):
    route = FakeApi(requests_mock).list("/v2/rooms", [])
    filters = {"enabled": "disabled", "name": "demo", "template_id": oid(7), "after": "2024-01-01T00:00:00Z",
               "before": "2024-02-01T00:00:00Z"}  # fmt: skip
    read_streams(config(room_filters=filters), "rooms")
    assert route.call_count == 1
    sent = query(route.last_request)
    assert sent["enabled"] == ["false"]
    assert sent["name"] == ["demo"] and sent["template_id"] == [oid(7)]
    # the documented millisecond form (test_time_filters.py has the rounding)
    assert sent["after"] == ["2024-01-01T00:00:00.000Z"] and sent["before"] == ["2024-02-01T00:00:00.001Z"]


def test_given_enabled_filter_when_read_rooms_then_only_enabled_asked(requests_mock):
    route = FakeApi(requests_mock).list("/v2/rooms", [])
    read_streams(config(room_filters={"enabled": "enabled"}), "rooms")
    assert [query(r)["enabled"] for r in route.request_history] == [["true"]]
    assert "name" not in query(route.last_request)


def test_given_templates_when_read_settings_then_one_row_per_template_with_its_id(requests_mock):
    api = FakeApi(requests_mock)
    templates = [{"id": oid(i), "name": f"t{i}"} for i in range(1, 13)]
    api.list("/v2/templates", templates)
    for t in templates:
        api.object(f"/v2/templates/{t['id']}/settings", {"region": "in", "roomState": {"enabled": False}})
    rows = records(read_streams(config(), "template_settings"))
    assert sorted(r["template_id"] for r in rows) == sorted(t["id"] for t in templates)
    assert all(r["region"] == "in" for r in rows)


def test_given_template_ids_when_read_settings_then_templates_list_not_read(requests_mock):
    api = FakeApi(requests_mock)
    listing = api.list("/v2/templates", [])
    api.object(f"/v2/templates/{oid(1)}/settings", {"region": "eu"})
    api.object(f"/v2/templates/{oid(2)}/settings", {"code": 404, "message": "template not found"}, status=404)
    output = read_streams(config(template_ids=[oid(1), oid(2)]), "template_settings")
    assert [r["template_id"] for r in records(output)] == [oid(1)]
    assert listing.call_count == 0
    assert any("404" in log.log.message for log in output.logs)


def test_given_destinations_maps_when_read_then_one_row_per_destination(requests_mock):
    api = FakeApi(requests_mock)
    api.list("/v2/templates", [{"id": oid(1)}, {"id": oid(2)}])
    api.object(
        f"/v2/templates/{oid(1)}/destinations",
        {
            "rtmpDestinations": {"yt": {"name": "yt", "rtmpUrls": ["rtmp://a"]}, "fb": {"rtmpUrls": []}},
            "hlsDestinations": {"h1": {"name": "h1", "layers": [{"width": 1280}]}},
            "transcriptions": {"tr": {"name": "tr", "modes": ["recorded"]}},
            "browserRecordings": {},
        },
    )
    api.object(f"/v2/templates/{oid(2)}/destinations", {})
    rows = records(read_streams(config(), "templates_destinations"))
    keys = sorted((r["template_id"], r["destination_type"], r["name"]) for r in rows)
    assert keys == sorted(
        [(oid(1), "rtmp", "yt"), (oid(1), "rtmp", "fb"), (oid(1), "hls", "h1"), (oid(1), "transcription", "tr")]
    )


def test_given_active_sessions_when_read_active_room_peers_then_rows_per_peer_with_room_id(requests_mock):
    api = FakeApi(requests_mock)
    active = api.list(
        "/v2/sessions",
        [{"id": oid(10), "room_id": oid(1), "active": True}, {"id": oid(11), "room_id": oid(2), "active": True}],
    )
    api.object(
        f"/v2/active-rooms/{oid(1)}/peers",
        {"peers": {"p1": {"id": "p1", "name": "A", "role": "host"}, "p2": {"id": "p2", "name": "B"}}},
    )
    api.object(f"/v2/active-rooms/{oid(2)}/peers", {"code": 404, "message": "room not active"}, status=404)
    rows = records(read_streams(config(), "active_room_peers"))
    assert sorted((r["room_id"], r["id"]) for r in rows) == [(oid(1), "p1"), (oid(1), "p2")]
    assert all(query(r)["active"] == ["true"] for r in active.request_history)


def _session(i, room, active=False, peers=2):
    return {
        "id": oid(i), "room_id": room, "active": active, "created_at": "2024-05-01T10:00:00Z",
        "updated_at": f"2024-05-01T11:{i % 60:02d}:00.123456789Z",
        "peers": {
            f"peer-{i}-{k}": {"id": f"peer-{i}-{k}", "session_id": oid(i), "name": f"P{k}", "role": "guest",
                              "user_id": f"u{k}", "joined_at": "2024-05-01T10:00:00.5Z",
                              **({} if active else {"left_at": "2024-05-01T10:30:00.75Z"})}
            for k in range(peers)
        },
    }  # fmt: skip


def test_given_no_active_filter_when_read_sessions_then_active_and_ended_asked(requests_mock):
    sessions = [_session(i, oid(1), active=i % 7 == 0) for i in range(1, 24)]
    route = FakeApi(requests_mock).list(
        "/v2/sessions", lambda q: [s for s in sessions if str(s["active"]).lower() == q["active"][0]]
    )
    rows = records(read_streams(config(), "sessions"))
    assert sorted(r["id"] for r in rows) == sorted(s["id"] for s in sessions)
    assert {query(r)["active"][0] for r in route.request_history} == {"true", "false"}


def test_given_sessions_when_read_session_peers_then_one_row_per_peer_with_parent_ids(requests_mock):
    sessions = [_session(1, oid(100)), _session(2, oid(101), active=True, peers=1), _session(3, oid(100), peers=0)]
    FakeApi(requests_mock).list(
        "/v2/sessions", lambda q: [s for s in sessions if str(s["active"]).lower() == q["active"][0]]
    )
    rows = records(read_streams(config(), "session_peers"))
    by_id = {r["id"]: r for r in rows}
    assert sorted(by_id) == ["peer-1-0", "peer-1-1", "peer-2-0"]
    assert by_id["peer-1-0"]["session_id"] == oid(1) and by_id["peer-1-0"]["room_id"] == oid(100)
    assert by_id["peer-1-0"]["duration_seconds"] == 1800.25
    assert by_id["peer-2-0"].get("duration_seconds") is None  # still in the room (nulls are omitted on output)
    assert by_id["peer-1-0"]["session_updated_at"] == "2024-05-01T11:01:00.123456Z"


def test_given_rooms_with_recent_sessions_when_read_events_then_each_room_once_with_type_filter(requests_mock):
    api = FakeApi(requests_mock)
    sessions = [_session(i, oid(100 + i % 2)) for i in range(1, 6)]
    parent = api.list("/v2/sessions", sessions)
    events = {
        room: [{"id": f"{room}-e{k}", "type": "track.add.success", "timestamp": YESTERDAY,
                "data": {"room_id": room}} for k in range(25)]
        for room in (oid(100), oid(101))
    }  # fmt: skip

    def respond(request, context):
        q = query(request)
        rows, offset = events[q["room_id"][0]], int(q.get("start", ["0"])[0])
        page = rows[offset : offset + int(q["limit"][0])]
        more = offset + len(page) < len(rows)
        return {"limit": len(page), "total": len(rows), "next": str(offset + len(page)) if more else "", "events": page}

    route = requests_mock.get("https://api.100ms.live/v2/analytics/events", json=respond)
    output = read_streams(config(analytics_event_types=["track.add.success", "client.join.failed"]), "analytics_events")
    rows = records(output)
    assert sorted(r["id"] for r in rows) == sorted(e["id"] for room in events.values() for e in room)
    assert all(r["room_id"] == r["data"]["room_id"] for r in rows)
    assert route.call_count == 6  # 3 pages per room, each room once although it had several sessions
    assert all(query(r)["type"] == ["track.add.success", "client.join.failed"] for r in route.request_history)
    # ended sessions are read from 30 days back only; running sessions are all read, whatever their age
    ended = [query(r) for r in parent.request_history if query(r)["active"] == ["false"]]
    assert ended and all("after" in q for q in ended)
    assert any(q["active"] == ["true"] and "after" not in q for q in map(query, parent.request_history))


def test_given_no_event_types_when_read_events_then_no_type_parameter_sent(requests_mock):
    FakeApi(requests_mock).list("/v2/sessions", [])  # no session running now
    route = requests_mock.get(
        "https://api.100ms.live/v2/analytics/events", json={"limit": 10, "total": 0, "next": "", "events": []}
    )
    read_streams(config(room_ids=[oid(1)]), "analytics_events")
    assert route.call_count == 1
    assert query(route.last_request) == {"room_id": [oid(1)], "limit": ["10"]}


def test_given_room_ids_when_read_room_codes_then_rooms_list_not_read(requests_mock):
    api = FakeApi(requests_mock)
    rooms_listing = api.list("/v2/rooms", [])
    api.list(f"/v2/room-codes/room/{oid(1)}", [{"code": "aaa-bbb-ccc", "room_id": oid(1), "role": "host"}], key="code")
    rows = records(read_streams(config(room_ids=[oid(1)]), "room_codes"))
    assert [r["code"] for r in rows] == ["aaa-bbb-ccc"]
    assert rooms_listing.call_count == 0


def test_given_enabled_rooms_when_read_room_codes_then_codes_of_each_enabled_room(requests_mock):
    api = FakeApi(requests_mock)
    listing = api.list("/v2/rooms", [{"id": "r1", "enabled": True}, {"id": "r2", "enabled": True}])
    api.list("/v2/room-codes/room/r1", [{"code": "aaa-bbb-ccc", "room_id": "r1"}], key="code")
    api.list("/v2/room-codes/room/r2", [{"code": "ddd-eee-fff", "room_id": "r2"}], key="code")
    rows = records(read_streams(config(), "room_codes"))
    assert sorted(r["code"] for r in rows) == ["aaa-bbb-ccc", "ddd-eee-fff"]
    assert all(query(r)["enabled"] == ["true"] for r in listing.request_history)


def _built_streams(monkeypatch) -> list[list[str]]:
    """The names of the stream definitions the CDK is asked to build, one list per build."""
    builds: list[list[str]] = []
    original = ConcurrentDeclarativeSource._create_streams

    def spy(self, selected_configs, all_configs):
        builds.append([c["name"] for c in selected_configs])
        return original(self, selected_configs, all_configs)

    monkeypatch.setattr(ConcurrentDeclarativeSource, "_create_streams", spy)
    return builds


def test_given_a_catalog_of_some_streams_when_read_then_only_those_built_and_read(requests_mock, monkeypatch):
    builds = _built_streams(monkeypatch)
    sessions = [_session(1, oid(100))]
    api = FakeApi(requests_mock)
    api.list("/v2/sessions", lambda q: [s for s in sessions if str(s["active"]).lower() == q["active"][0]])
    api.list("/v2/templates", [{"id": oid(7), "name": "t"}])
    output = read_streams(config(), "session_peers", "templates")
    assert builds == [["templates", "session_peers"]]  # the manifest's order; sessions is built inside its child
    assert sorted(r["id"] for r in records(output)) == [oid(7), "peer-1-0", "peer-1-1"]
    assert not output.errors


def test_given_custom_streams_when_read_then_every_stream_built_and_a_broken_one_fails_the_read(
    requests_mock, monkeypatch
):
    builds = _built_streams(monkeypatch)
    templates = FakeApi(requests_mock).list("/v2/templates", [{"id": oid(7)}])
    output = read_streams(config(custom_streams=[{"name": "polls", "url": "/v2/polls/{poll}"}]), "templates",
                          expect_error=True)  # fmt: skip
    assert builds and len(builds[0]) >= 13 and "session_peers" in builds[0]
    assert [m.trace.error.failure_type for m in output.errors] == [FailureType.config_error]
    assert templates.call_count == 0
