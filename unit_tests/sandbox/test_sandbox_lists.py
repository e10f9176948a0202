import pytest

from source_100ms.sandbox.api import END_SHAPES

LISTS = {
    # stream: (path, extra params walked separately, id key)
    "rooms": ("/v2/rooms", [{"enabled": "true"}, {"enabled": "false"}], "id"),
    "sessions": ("/v2/sessions", [{"active": "true"}, {"active": "false"}], "id"),
    "templates": ("/v2/templates", [{}], "id"),
    "recordings": ("/v2/recordings", [{}], "id"),
    "recording_assets": ("/v2/recording-assets", [{}], "id"),
    "live_streams": ("/v2/live-streams", [{}], "id"),
    "external_streams": ("/v2/external-streams", [{}], "id"),
}


@pytest.mark.parametrize("limit", [10, 100])
@pytest.mark.parametrize("stream", sorted(LISTS))
def test_walking_every_page_gives_exactly_the_ground_truth(sb, client, stream, limit):
    path, variants, key = LISTS[stream]
    seen = []
    for params in variants:
        items, pages = client.walk(path, params, limit=limit)
        ids = [x[key] for x in items]
        assert ids == sorted(ids, reverse=True), "newest first"
        for page in pages:
            if page.get("data"):
                assert page["last"] == page["data"][-1][key]
                assert page["limit"] == limit
        seen.extend(ids)
    assert len(seen) == len(set(seen)), "duplicates"
    assert sorted(seen) == sb.ground_truth()[stream]


def test_room_codes_walk_gives_the_codes_of_enabled_rooms(sb, client):
    codes = []
    for rid in sb.workspace.rooms_enabled:
        items, _ = client.walk(f"/v2/room-codes/room/{rid}", limit=10)
        assert all(c["room_id"] == rid for c in items)
        codes.extend(c["code"] for c in items)
    assert sorted(codes) == sb.ground_truth()["room_codes"]


def test_start_is_exclusive(client):
    _, body = client.get("/v2/sessions", {"active": "false", "limit": 10})
    first = [s["id"] for s in body["data"]]
    _, body2 = client.get("/v2/sessions", {"active": "false", "limit": 10, "start": first[4]})
    assert [s["id"] for s in body2["data"]][:5] == first[5:]


def test_defaults_are_enabled_rooms_and_active_sessions(sb, client):
    items, _ = client.walk("/v2/rooms", limit=100)
    assert items and all(r["enabled"] for r in items)
    assert len(items) == len(sb.workspace.rooms_enabled)
    items, _ = client.walk("/v2/sessions", limit=100)
    assert items and all(s["active"] for s in items)
    assert len(items) == len(sb.workspace.sessions_active)


@pytest.mark.parametrize("limit", ["9", "101", "abc", "0", "-5", "10.5"])
def test_bad_limit_is_400(client, limit):
    for path in ["/v2/rooms", "/v2/sessions", "/v2/recordings", "/v2/templates"]:
        status, body = client.get(path, {"limit": limit})
        assert status == 400 and body["code"] == 400 and "invalid limit" in body["message"]


def _exact_multiple(sb, client, path, params, n):
    """A limit in 10..100 that divides n, if any."""
    for limit in range(100, 9, -1):
        if n and n % limit == 0:
            return limit
    return None


SHAPES = {
    "empty_blank_last": lambda b: b.get("data") == [] and b.get("last") == "",
    "null_no_last": lambda b: "data" in b and b["data"] is None and "last" not in b,
    "empty_no_last": lambda b: b.get("data") == [] and "last" not in b,
}


@pytest.mark.parametrize(
    "stream,path,params",
    [
        ("rooms", "/v2/rooms", {"enabled": "false", "name": "no-such-room"}),
        ("sessions", "/v2/sessions", {"room_id": "000000000000000000000000"}),
        ("templates", "/v2/templates", {"start": "000000000000000000000000"}),
        ("recordings", "/v2/recordings", {"status": "starting"}),
        ("recording_assets", "/v2/recording-assets", {"session_id": "000000000000000000000000"}),
        ("live_streams", "/v2/live-streams", {"room_id": "nope"}),
        ("external_streams", "/v2/external-streams", {"room_id": "nope"}),
    ],
)
def test_each_end_shape_is_served(client, stream, path, params):
    status, body = client.get(path, params)
    assert status == 200
    assert SHAPES[END_SHAPES[stream]](body), body


def test_every_end_shape_is_reachable_after_a_full_final_page(sb, client):
    """Templates: 4 of them, so walk a filtered list whose size is an exact multiple of the limit."""
    seen_shapes = set()
    for stream, (path, variants, _) in LISTS.items():
        for params in variants:
            items, pages = client.walk(path, params, limit=10)
            last = pages[-1]
            if len(items) % 10 == 0:
                assert SHAPES[END_SHAPES[stream]](last), (stream, last)
                seen_shapes.add(END_SHAPES[stream])
            else:
                assert len(last["data"]) == len(items) % 10 and last["last"]
    for shape, check in SHAPES.items():
        if shape not in seen_shapes:  # force it: start after the oldest item of a list with that shape
            stream = next(s for s, v in END_SHAPES.items() if v == shape and s in LISTS)
            path = LISTS[stream][0]
            params = dict(LISTS[stream][1][-1])
            oldest = sb.ground_truth()[stream][0]
            _, body = client.get(path, dict(params, start=oldest))
            assert check(body), (stream, body)


def test_filters(sb, client):
    ws = sb.workspace
    room = ws.rooms.objects[ws.rooms_enabled[3]]
    _, body = client.get("/v2/rooms", {"name": room["name"]})
    assert [r["id"] for r in body["data"]] == [room["id"]]
    items, _ = client.walk("/v2/rooms", {"template_id": room["template_id"], "enabled": "true"})
    assert room["id"] in {r["id"] for r in items} and all(r["template_id"] == room["template_id"] for r in items)
    sess = ws.sessions.objects[ws.sessions_ended[len(ws.sessions_ended) // 2]]
    items, _ = client.walk("/v2/sessions", {"active": "false", "after": sess["created_at"]})
    assert items[-1]["id"] == sess["id"]
    items, _ = client.walk("/v2/sessions", {"active": "false", "before": sess["created_at"]})
    assert items[0]["id"] == sess["id"]
    items, _ = client.walk("/v2/sessions", {"active": "false", "room_id": sess["room_id"]})
    assert items and all(s["room_id"] == sess["room_id"] and not s["active"] for s in items)
    items, _ = client.walk("/v2/recordings", {"status": "completed"})
    assert items and all(r["status"] == "completed" for r in items)
    rec = items[0]
    items, _ = client.walk("/v2/recording-assets", {"session_id": rec["session_id"]})
    assert all(a["session_id"] == rec["session_id"] for a in items)
    status, body = client.get("/v2/sessions", {"after": "yesterday"})
    assert status == 400


def test_room_codes_errors(sb, client):
    status, body = client.get(f"/v2/room-codes/room/{sb.workspace.rooms_disabled[0]}")
    assert status == 403 and body["code"] == 403
    status, body = client.get("/v2/room-codes/room/000000000000000000000000")
    assert status == 404


def test_single_objects_and_unknown_ids(sb, client):
    ws = sb.workspace
    tid = ws.templates.asc[0]
    for path in [f"/v2/templates/{tid}", f"/v2/templates/{tid}/settings", f"/v2/templates/{tid}/destinations",
                 f"/v2/rooms/{ws.rooms.asc[0]}", f"/v2/sessions/{ws.sessions.asc[0]}",
                 f"/v2/recordings/{ws.recordings.asc[0]}", f"/v2/recording-assets/{ws.recording_assets.asc[0]}",
                 f"/v2/polls/{next(iter(ws.polls))}", f"/v2/polls/{next(iter(ws.polls))}/responses"]:  # fmt: skip
        status, body = client.get(path)
        assert status == 200, (path, body)
    _, settings = client.get(f"/v2/templates/{tid}/settings")
    assert set(settings) == {"region", "recording", "roomState", "retry"}
    for path in ["/v2/rooms/nope", "/v2/sessions/nope", "/v2/templates/nope/settings", "/v2/whatever"]:
        status, body = client.get(path)
        assert status == 404 and body["code"] == 404
