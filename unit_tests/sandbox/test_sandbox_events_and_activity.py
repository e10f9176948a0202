import pytest
from sandbox_testkit import NOW, Client, workspace

from source_100ms.sandbox import Sandbox
from source_100ms.sandbox.data import MINUTE, parse_ts


def walk_events(client, room_id, limit=100, **params):
    ids, start, totals = [], None, set()
    for _ in range(10_000):
        p = dict(params, room_id=room_id, limit=limit)
        if start:
            p["start"] = start
        status, body = client.get("/v2/analytics/events", p)
        assert status == 200, body
        totals.add(body["total"])
        ids.extend(e["id"] for e in body["events"])
        start = body["next"]
        if not start:
            break
    assert len(totals) == 1
    return ids, totals.pop()


def test_events_need_a_room_id_and_a_good_limit(client, sb):
    status, body = client.get("/v2/analytics/events")
    assert status == 400 and body["code"] == 400
    rid = next(iter(sb.workspace.room_events))
    for bad in ["0", "101", "x"]:
        assert client.get("/v2/analytics/events", {"room_id": rid, "limit": bad})[0] == 400
    status, body = client.get("/v2/analytics/events", {"room_id": rid, "limit": 1})
    assert status == 200 and len(body["events"]) == 1 and body["next"]
    status, body = client.get("/v2/analytics/events", {"room_id": rid, "type": ""})
    assert status == 400 and "event type" in body["message"]


def test_walking_events_of_every_room_gives_the_ground_truth(sb, client):
    ids = []
    for rid in sb.workspace.rooms.asc:
        got, total = walk_events(client, rid)
        assert len(got) == total
        ids.extend(got)
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sb.ground_truth()["analytics_events"]


def test_event_filters(sb, client):
    ws = sb.workspace
    rid = max(ws.room_events, key=lambda r: ws.room_events[r].total)
    all_ids, total = walk_events(client, rid)
    tracks, t_total = walk_events(client, rid, type=["track.add.success", "track.remove.success"])
    assert 0 < t_total < total and set(tracks) < set(all_ids)
    _, body = client.get("/v2/analytics/events", {"room_id": rid, "limit": 100})
    ev = body["events"][0]
    sid = ev["data"]["session_id"]
    ids, _ = walk_events(client, rid, session_id=sid)
    assert ev["id"] in ids
    _, page = client.get("/v2/analytics/events", {"room_id": rid, "session_id": sid, "limit": 100})
    assert all(e["data"].get("session_id", sid) == sid for e in page["events"])
    _, page = client.get("/v2/analytics/events", {"room_id": rid, "peer_id": ev["data"]["peer_id"], "limit": 100})
    assert page["events"] and all(e["data"]["peer_id"] == ev["data"]["peer_id"] for e in page["events"])


def test_event_cursor_is_a_snapshot_and_expires_after_24h():
    with Sandbox(workspace=workspace(11)) as sb:
        c = Client(sb)
        rid = max(sb.workspace.room_events, key=lambda r: sb.workspace.room_events[r].total)
        _, first = c.get("/v2/analytics/events", {"room_id": rid, "limit": 10})
        summary = sb.advance(minutes=600)
        assert summary["analytics_events"]["created"]
        seen = [e["id"] for e in first["events"]]
        start = first["next"]
        while start:
            status, body = c.get("/v2/analytics/events", {"room_id": rid, "limit": 100, "start": start})
            assert status == 200 and body["total"] == first["total"]
            seen.extend(e["id"] for e in body["events"])
            start = body["next"]
        assert len(seen) == first["total"]
        assert not set(seen) & set(summary["analytics_events"]["created"])
        # a fresh query sees the new events of the room, if it had any
        _, fresh = c.get("/v2/analytics/events", {"room_id": rid, "limit": 10})
        assert fresh["total"] >= first["total"]
        # a token older than 24 h (sandbox clock) is refused
        sb.advance(minutes=25 * 60)
        status, body = c.get("/v2/analytics/events", {"room_id": rid, "limit": 10, "start": first["next"]})
        assert status == 400 and body["code"] == 400
        status, _ = c.get("/v2/analytics/events", {"room_id": rid, "start": "garbage!"})
        assert status == 400


def test_active_rooms(sb, client):
    ws = sb.workspace
    truth = sb.ground_truth()["active_room_peers"]
    got = []
    for rid in ws.rooms.asc:
        status, body = client.get(f"/v2/active-rooms/{rid}/peers")
        if rid in ws.active_session_by_room:
            assert status == 200 and isinstance(body["peers"], dict)
            got.extend([rid, pid] for pid in body["peers"])
            status, room = client.get(f"/v2/active-rooms/{rid}")
            assert status == 200 and room["session"]["id"] == ws.active_session_by_room[rid]
            assert sorted(room["session"]["peers"]) == sorted(body["peers"])
        else:
            assert status == 404
            assert body == {"code": 404, "message": "room not active", "details": []}
    assert sorted(got) == truth
    rid, pid = truth[0]
    peer = ws.sessions.objects[ws.active_session_by_room[rid]]["peers"][pid]
    _, body = client.get(f"/v2/active-rooms/{rid}/peers", {"role": peer["role"]})
    assert pid in body["peers"] and all(p["role"] == peer["role"] for p in body["peers"].values())
    _, body = client.get(f"/v2/active-rooms/{rid}/peers", {"user_id": "nobody"})
    assert body == {"peers": {}}


def test_advance_creates_and_changes_records():
    with Sandbox(workspace=workspace(5)) as sb:
        before = sb.ground_truth()
        active_before = list(sb.workspace.sessions_active)
        summary = sb.advance(minutes=13 * 60)  # every active session must end within 12 h
        after = sb.ground_truth()
        assert summary["sessions"]["created"] and summary["rooms"]["created"]
        for stream in ("sessions", "recordings", "recording_assets", "analytics_events", "rooms"):
            created = set(summary[stream]["created"])
            assert created <= set(after[stream]) and not created & set(before[stream]), stream
        for sid in active_before:
            s = sb.workspace.sessions.objects[sid]
            assert not s["active"] and all("left_at" in p for p in s["peers"].values())
            assert sid in summary["sessions"]["changed"]
        peers = {tuple(x) for x in summary["session_peers"]["created"]}
        assert peers <= {tuple(x) for x in after["session_peers"]}
        for rid in summary["recordings"]["changed"]:
            assert sb.workspace.recordings.objects[rid]["status"] == "completed"
        c = Client(sb)
        items, _ = c.walk("/v2/sessions", {"active": "false"})
        assert {s["id"] for s in items} >= set(active_before)


def test_the_generation_time_and_the_counts_are_reported_in_the_summary():
    sb = Sandbox(seed=1, scale="small", now=NOW)
    text = sb.summary_text()
    assert sb.generation_seconds > 0
    assert f"(generated in {sb.generation_seconds:.2f}s)" in text
    summary = sb.workspace.summary()
    assert summary["sessions"] == len(sb.workspace.sessions.objects) > 0
    assert f"sessions={summary['sessions']}" in text and f"rooms={summary['rooms']}" in text


def test_a_given_workspace_is_served_as_it_is():
    ws = workspace(3)
    ws.advance(90)
    with Sandbox(workspace=ws, latency_ms=1) as sb:
        assert sb.workspace is ws and (sb.seed, sb.scale) == (3, "small")
        assert "seed=3 scale=small" in sb.summary_text() and "(given)" in sb.summary_text()
        ended, _ = Client(sb).walk("/v2/sessions", {"active": "false"})
        assert {s["id"] for s in ended} == set(ws.sessions_ended)
        assert ws.now_ns == parse_ts(NOW) + 90 * MINUTE, "the clock as the advance left it"
    for generation in ({"now": NOW}, {"events_total": 10}, {"sessions_per_hour": 5}):
        with pytest.raises(ValueError, match="served as it is"):
            Sandbox(workspace=ws, **generation)
