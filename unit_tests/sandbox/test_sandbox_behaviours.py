"""Switchable behaviours where the docs are silent (order, limit, time format) or that a server may show
(repeated cursors), the documented 403 of disabled rooms, and the documented analytics `limit`."""

import pytest
import requests
from sandbox_testkit import NOW, Client, workspace

from source_100ms.sandbox import Sandbox
from source_100ms.sandbox.api import END_SHAPES, UNORDERED_KINDS

PATHS = {
    "rooms": "/v2/rooms",
    "sessions": "/v2/sessions",
    "templates": "/v2/templates",
    "recordings": "/v2/recordings",
    "recording_assets": "/v2/recording-assets",
    "live_streams": "/v2/live-streams",
    "external_streams": "/v2/external-streams",
}


@pytest.fixture(scope="module")
def osb():
    with Sandbox(workspace=workspace(7), order="oldest-first") as s:
        yield s


@pytest.fixture()
def oclient(osb):
    c = Client(osb)
    yield c
    c.close()


# --------------------------------------------------------------------------- order


@pytest.mark.parametrize("stream", UNORDERED_KINDS)
@pytest.mark.parametrize("limit", [10, 100])
def test_given_oldest_first_when_walking_an_unordered_list_then_ids_ascend_and_cover_the_truth(
    osb, oclient, stream, limit
):
    items, pages = oclient.walk(PATHS[stream], limit=limit)
    ids = [x["id"] for x in items]
    assert ids == sorted(ids), "oldest first"
    assert ids == osb.ground_truth()[stream]
    for page in pages:
        if page.get("data"):
            assert page["last"] == page["data"][-1]["id"]


def test_given_oldest_first_then_start_is_exclusive_and_means_after(oclient):
    _, body = oclient.get("/v2/recordings", {"limit": 10})
    first = [r["id"] for r in body["data"]]
    _, body2 = oclient.get("/v2/recordings", {"limit": 10, "start": first[4]})
    assert [r["id"] for r in body2["data"]][:5] == first[5:]
    assert all(r["id"] > first[4] for r in body2["data"])


def test_given_oldest_first_then_an_exhausted_list_keeps_its_end_shape(osb, oclient):
    newest = osb.ground_truth()["recording_assets"][-1]
    status, body = oclient.get("/v2/recording-assets", {"start": newest})
    assert status == 200 and body == {"limit": 10, "data": [], "last": ""}
    assert END_SHAPES["recording_assets"] == "empty_blank_last"


@pytest.mark.parametrize("stream", ["rooms", "sessions", "templates"])
def test_given_oldest_first_then_the_documented_newest_first_lists_stay_newest_first(oclient, stream):
    params = {"active": "false"} if stream == "sessions" else {}
    items, _ = oclient.walk(PATHS[stream], params, limit=10)
    ids = [x["id"] for x in items]
    assert len(ids) > 1 and ids == sorted(ids, reverse=True)


def test_order_is_switchable_at_run_time(sb, client):
    base = sb.url + "/_sandbox"
    try:
        assert requests.post(base + "/order", params={"order": "oldest-first"}).json() == {"order": "oldest-first"}
        _, body = client.get("/v2/live-streams", {"limit": 10})
        ids = [x["id"] for x in body["data"]]
        assert ids == sorted(ids) and ids[0] == sb.ground_truth()["live_streams"][0]
        assert requests.post(base + "/order", params={"order": "sideways"}).status_code == 400
    finally:
        sb.set_order("newest-first")
    _, body = client.get("/v2/live-streams", {"limit": 10})
    ids = [x["id"] for x in body["data"]]
    assert ids == sorted(ids, reverse=True)


def test_unknown_order_is_refused():
    with pytest.raises(ValueError):
        Sandbox(seed=1, scale="small", now=NOW, order="random")


# --------------------------------------------------------------------------- disabled rooms


def test_given_a_disabled_room_then_room_codes_and_stream_keys_answer_the_documented_403(sb, client):
    rid = sb.workspace.rooms_disabled[0]
    for path in [f"/v2/room-codes/room/{rid}", f"/v2/stream-keys/room/{rid}"]:
        status, body = client.get(path)
        assert status == 403
        assert body["code"] == 403 and body["message"] == "Room is disabled"
        assert isinstance(body["details"], list) and body["details"]


def test_given_a_room_disabled_during_a_sync_then_its_codes_answer_403_and_leave_the_truth():
    with Sandbox(workspace=workspace(3)) as sb:
        c = Client(sb)
        ws = sb.workspace
        rid = next(r for r in ws.rooms_enabled if ws.room_codes.get(r))
        codes = {x["code"] for x in ws.room_codes[rid]}
        before = sb.ground_truth()
        assert codes <= set(before["room_codes"])
        updated_before = ws.rooms.objects[rid]["updated_at"]
        status, _ = c.get(f"/v2/room-codes/room/{rid}")
        assert status == 200
        out = requests.post(sb.url + "/_sandbox/disable_room", params={"room_id": rid}).json()
        assert out["changed"] is True
        status, body = c.get(f"/v2/room-codes/room/{rid}")
        assert status == 403 and body["message"] == "Room is disabled"
        room = ws.rooms.objects[rid]
        assert room["enabled"] is False and room["updated_at"] != updated_before
        assert out["updated_at"] == room["updated_at"]
        assert rid not in ws.rooms_enabled and rid in ws.rooms_disabled
        after = sb.ground_truth()
        assert set(after["room_codes"]) == set(before["room_codes"]) - codes
        items, _ = c.walk("/v2/rooms", {"enabled": "false"})
        assert rid in {r["id"] for r in items}
        items, _ = c.walk("/v2/rooms", {"enabled": "true"})
        assert rid not in {r["id"] for r in items}
        # disabling again changes nothing; an unknown room is 404
        assert ws.disable_room(rid)["changed"] is False
        assert requests.post(sb.url + "/_sandbox/disable_room", params={"room_id": "nope"}).status_code == 404
        c.close()


# --------------------------------------------------------------------------- strict time format


@pytest.fixture(scope="module")
def strict_sb():
    with Sandbox(workspace=workspace(7), strict_time_format=True) as s:
        yield s


@pytest.mark.parametrize("path", ["/v2/rooms", "/v2/sessions"])
@pytest.mark.parametrize("name", ["after", "before"])
@pytest.mark.parametrize(
    "value",
    ["2025-05-01T00:00:00Z", "2025-05-01T00:00:00.000000Z", "2025-05-01T00:00:00.000+00:00", "2025-05-01",
     "2025-05-01T00:00:00.00Z", "2025-05-01 00:00:00.000Z"],
)  # fmt: skip
def test_given_strict_time_format_when_a_time_is_not_the_documented_form_then_400_names_it(
    strict_sb, path, name, value
):
    status, body = Client(strict_sb).get(path, {name: value})
    assert status == 400
    assert body["code"] == 400 and name in body["message"] and "YYYY-MM-DDTHH:mm:ss.sssZ" in body["message"]
    assert isinstance(body["details"], list) and body["details"]


@pytest.mark.parametrize("path", ["/v2/rooms", "/v2/sessions"])
def test_given_strict_time_format_then_the_documented_form_is_accepted(strict_sb, path):
    status, body = Client(strict_sb).get(
        path, {"after": "2025-01-01T00:00:00.000Z", "before": "2025-06-01T11:59:59.999Z"}
    )
    assert status == 200 and "data" in body


def test_without_strict_time_format_other_rfc3339_forms_are_accepted(client):
    for value in ["2025-05-01T00:00:00Z", "2025-05-01T00:00:00.000000Z", "2025-05-01T00:00:00.000+00:00"]:
        assert client.get("/v2/sessions", {"after": value, "active": "false"})[0] == 200


def test_strict_time_format_is_switchable_at_run_time(sb, client):
    try:
        r = requests.post(sb.url + "/_sandbox/strict_time_format", params={"on": "true"})
        assert r.json() == {"strict_time_format": True}
        assert client.get("/v2/rooms", {"after": "2025-05-01T00:00:00Z"})[0] == 400
    finally:
        sb.set_strict_time_format(False)
    assert client.get("/v2/rooms", {"after": "2025-05-01T00:00:00Z"})[0] == 200


# --------------------------------------------------------------------------- limits


def test_analytics_limit_in_a_response_is_the_number_of_events_in_it(sb, client):
    ws = sb.workspace
    small = min((r for r, e in ws.room_events.items() if 0 < e.total < 100), key=lambda r: ws.room_events[r].total)
    _, body = client.get("/v2/analytics/events", {"room_id": small, "limit": 100})
    assert len(body["events"]) == ws.room_events[small].total and body["limit"] == len(body["events"])
    big = max(ws.room_events, key=lambda r: ws.room_events[r].total)
    _, body = client.get("/v2/analytics/events", {"room_id": big, "limit": 7})
    assert body["limit"] == 7 == len(body["events"])
    _, body = client.get("/v2/analytics/events", {"room_id": "000000000000000000000000", "limit": 50})
    assert body == {"limit": 0, "total": 0, "next": "", "events": []}


def test_room_codes_default_page_size_is_20(sb, client):
    rid = next(r for r in sb.workspace.rooms_enabled if sb.workspace.room_codes.get(r))
    status, body = client.get(f"/v2/room-codes/room/{rid}")
    assert status == 200 and body["limit"] == 20


REJECT_PATHS = {
    "recordings": ("/v2/recordings", 10),
    "recording_assets": ("/v2/recording-assets", 10),
    "live_streams": ("/v2/live-streams", 10),
    "external_streams": ("/v2/external-streams", 10),
}


@pytest.fixture(scope="module")
def reject_sb():
    kinds = {"recordings", "recording_assets", "live_streams", "external_streams", "room_codes"}
    with Sandbox(workspace=workspace(7), reject_limit_on=kinds) as s:
        yield s


@pytest.mark.parametrize("kind", sorted(REJECT_PATHS) + ["room_codes"])
def test_given_reject_limit_on_a_list_then_any_limit_is_400_and_none_gives_the_default_page(reject_sb, kind):
    c = Client(reject_sb)
    if kind == "room_codes":
        rid = next(r for r in reject_sb.workspace.rooms_enabled if reject_sb.workspace.room_codes.get(r))
        path, page = f"/v2/room-codes/room/{rid}", 20
    else:
        path, page = REJECT_PATHS[kind]
    for value in ["10", "100", "20", ""]:
        status, body = c.get(path, {"limit": value})
        assert status == 400 and body["code"] == 400 and body["message"] == "invalid limit", (value, body)
    status, body = c.get(path)
    assert status == 200 and body["limit"] == page
    if kind != "room_codes":
        assert len(body["data"]) == min(page, len(reject_sb.ground_truth()[kind]))
        # walking without limit, start <- last, reads everything
        seen, start = [], None
        while True:
            status, body = c.get(path, {"start": start} if start else None)
            assert status == 200
            if not body.get("data"):
                break
            seen.extend(x["id"] for x in body["data"])
            start = body["last"]
            if len(body["data"]) < page:
                break
        assert sorted(seen) == reject_sb.ground_truth()[kind]
    c.close()


def test_given_reject_limit_on_some_lists_then_the_others_still_take_a_limit(reject_sb):
    c = Client(reject_sb)
    for path in ["/v2/rooms", "/v2/sessions", "/v2/templates"]:
        status, body = c.get(path, {"limit": 50})
        assert status == 200 and body["limit"] == 50
    rid = next(iter(reject_sb.workspace.room_events))
    assert c.get("/v2/analytics/events", {"room_id": rid, "limit": 5})[0] == 200


def test_reject_limit_on_is_switchable_and_validated(sb, client):
    try:
        r = requests.post(sb.url + "/_sandbox/reject_limit_on", params={"kinds": "live_streams"})
        assert r.json() == {"reject_limit_on": ["live_streams"]}
        assert client.get("/v2/live-streams", {"limit": 10})[0] == 400
        assert client.get("/v2/recordings", {"limit": 10})[0] == 200
        assert requests.post(sb.url + "/_sandbox/reject_limit_on", params={"kinds": "rooms"}).status_code == 400
    finally:
        sb.set_reject_limit_on(())
    assert client.get("/v2/live-streams", {"limit": 10})[0] == 200
    with pytest.raises(ValueError):
        Sandbox(seed=1, scale="small", now=NOW, reject_limit_on={"sessions"})


# --------------------------------------------------------------------------- repeated cursors

CURSOR_LISTS = [
    ("/v2/rooms", {}),
    ("/v2/sessions", {"active": "false"}),
    ("/v2/templates", {}),
    ("/v2/recordings", {}),
    ("/v2/recording-assets", {}),
    ("/v2/live-streams", {}),
    ("/v2/external-streams", {}),
]


@pytest.mark.parametrize("path,params", CURSOR_LISTS)
def test_given_echo_start_then_a_page_after_start_is_real_but_its_last_is_start(sb, client, path, params):
    _, first = client.get(path, dict(params, limit=10))
    start = first["last"]
    _, honest = client.get(path, dict(params, limit=10, start=start))
    sb.set_repeat_cursor("echo_start")
    try:
        _, echoed = client.get(path, dict(params, limit=10, start=start))
        _, plain = client.get(path, dict(params, limit=10))
    finally:
        sb.set_repeat_cursor(None)
    assert echoed["data"] == honest["data"] and echoed["last"] == start != honest.get("last")
    assert plain == first  # without start nothing changes


@pytest.mark.parametrize("path,params", CURSOR_LISTS)
def test_given_ignore_start_then_every_page_is_the_first_page(sb, client, path, params):
    _, first = client.get(path, dict(params, limit=10))
    sb.set_repeat_cursor("ignore_start")
    try:
        _, again = client.get(path, dict(params, limit=10, start=first["last"]))
    finally:
        sb.set_repeat_cursor(None)
    assert again == first


def test_repeated_cursors_on_room_codes_and_analytics_events(sb, client):
    ws = sb.workspace
    rid = max(ws.room_events, key=lambda r: ws.room_events[r].total)
    _, first = client.get("/v2/analytics/events", {"room_id": rid, "limit": 10})
    _, second = client.get("/v2/analytics/events", {"room_id": rid, "limit": 10, "start": first["next"]})
    code_room = next(r for r in ws.rooms_enabled if len(ws.room_codes.get(r, [])) > 1)
    _, codes = client.get(f"/v2/room-codes/room/{code_room}", {"limit": 10})
    first_code = codes["data"][0]["code"]
    r = requests.post(sb.url + "/_sandbox/repeat_cursor", params={"mode": "echo_start"})
    assert r.json() == {"repeat_cursor": "echo_start"}
    try:
        _, echoed = client.get("/v2/analytics/events", {"room_id": rid, "limit": 10, "start": first["next"]})
        assert echoed["events"] == second["events"] and echoed["next"] == first["next"]
        _, echoed = client.get(f"/v2/room-codes/room/{code_room}", {"limit": 10, "start": first_code})
        assert echoed["last"] == first_code
        sb.set_repeat_cursor("ignore_start")
        _, again = client.get("/v2/analytics/events", {"room_id": rid, "limit": 10, "start": first["next"]})
        assert again == first
    finally:
        assert requests.post(sb.url + "/_sandbox/repeat_cursor", params={"mode": ""}).json() == {"repeat_cursor": None}
    _, honest = client.get("/v2/analytics/events", {"room_id": rid, "limit": 10, "start": first["next"]})
    assert honest == second
    with pytest.raises(ValueError):
        sb.set_repeat_cursor("loop")


def test_a_naive_client_loops_on_a_repeated_cursor():
    """What the option is for: following `last` until it is empty never ends."""
    with Sandbox(workspace=workspace(7), repeat_cursor="echo_start") as sb:
        c = Client(sb)
        start, pages = None, 0
        while pages < 50:
            status, body = c.get("/v2/recordings", {"limit": 100, **({"start": start} if start else {})})
            assert status == 200
            pages += 1
            if not body.get("last"):
                break
            start = body["last"]
        assert pages == 50
        c.close()
