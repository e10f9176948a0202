"""Late analytics events: a beam.recording.success seconds after a session's end, client errors minutes after,
each visible (API, ground truth, total) only once the workspace clock reaches its arrival."""

import pytest
import requests
from sandbox_testkit import NOW, Client, workspace

from source_100ms.sandbox import Sandbox, Workspace
from source_100ms.sandbox.data import DAY, MINUTE, NS, parse_ts

CLIENT_ERRORS = {"client.disconnected", "client.publish.failed", "client.subscribe.failed", "client.connect.failed",
                 "client.join.failed"}  # fmt: skip
BEAM_KEYS = {"beam_id", "room_id", "session_id", "peer_id", "template_id", "created_at", "duration",
             "started_at", "stopped_at", "max_width", "max_height", "recording_path", "recording_presigned_url",
             "meeting_url", "rtmp", "session_started_at", "size"}  # fmt: skip
ERROR_KEYS = {"user_id", "user_name", "peer_id", "account_id", "room_id", "session_id", "room_name", "template_id",
              "role", "error_code", "error_name", "error_message", "error_description", "domain", "is_terminal",
              "action", "agent"}  # fmt: skip


@pytest.fixture(scope="module")
def ws():
    return workspace(7)


def test_each_ended_session_with_peers_gets_late_events_stamped_after_its_end(ws):
    now = ws.now_ns
    truth = set(ws.ground_truth()["analytics_events"])
    n_sessions = n_beam = n_err = 0
    for sid in ws.sessions_ended:
        s = ws.sessions.objects[sid]
        if not s["peers"] or ws.sessions.created_ns[sid] < now - 30 * DAY:
            continue
        n_sessions += 1
        end = parse_ts(s["updated_at"])
        late = ws.events.late_of(s)
        recs = [ws.recordings.objects[r] for r in ws.recordings.by_session.get(sid, [])]
        beams = [e for e in late if e.type == "beam.recording.success"]
        errors = [e for e in late if e.type != "beam.recording.success"]
        if any(r["status"] != "failed" for r in recs):
            assert len(beams) == 1 and beams[0].body["data"]["beam_id"] in {r["id"] for r in recs}
        assert len(beams) <= 1 and len(errors) <= 2
        for e in beams:
            assert 2 * NS <= e.ts_ns - end <= 10 * NS and 5 * NS <= e.arrival_ns - e.ts_ns <= 90 * NS
            assert set(e.body["data"]) == BEAM_KEYS
        for e in errors:
            extra = {"audio", "video", "devices"} if e.type == "client.publish.failed" else set()
            assert e.type in CLIENT_ERRORS and set(e.body["data"]) == ERROR_KEYS | extra
            assert 5 * NS <= e.ts_ns - end <= 120 * NS and MINUTE <= e.arrival_ns - e.ts_ns <= 20 * MINUTE
        for e in late:
            assert e.body["data"]["session_id"] == sid and e.body["data"]["room_id"] == s["room_id"]
            assert parse_ts(e.body["timestamp"]) <= e.ts_ns and e.body["id"] == e.id
            assert (e.id in truth) is (e.arrival_ns <= now)
        n_beam += len(beams)
        n_err += len(errors)
    assert n_sessions > 100 and n_beam > 20 and n_err > 50
    assert ws.summary()["analytics_events_late"] == n_beam + n_err - len(ws.pending_late_events())


def test_late_events_of_sessions_ended_just_before_the_clock_arrive_with_a_later_advance():
    ws = workspace(7)
    ws.advance(60)
    pending = ws.pending_late_events()
    assert pending, "the first advance ends sessions whose late events have not arrived"
    truth = set(ws.ground_truth()["analytics_events"])
    assert not truth & {p["id"] for p in pending}
    total_before = ws.events_total()
    out = ws.advance(30)
    now = ws.now_ns
    arrived = {p["id"] for p in pending if parse_ts(p["arrival"]) <= now}
    assert arrived and arrived <= set(out["analytics_events"]["created"])
    assert arrived <= set(ws.ground_truth()["analytics_events"])
    assert ws.events_total() >= total_before + len(arrived)
    assert all(parse_ts(p["arrival"]) > now for p in ws.pending_late_events())


def test_late_events_can_be_selected_by_session_type_and_room_and_obey_the_snapshot():
    with Sandbox(workspace=workspace(7)) as sb:
        c = Client(sb)
        sb.advance(60)
        pending = requests.get(sb.url + "/_sandbox/pending_late_events", timeout=5).json()
        assert pending == sb.pending_late_events() == sb.workspace.pending_late_events()
        p = next(x for x in pending if x["type"] == "beam.recording.success")
        room_id, session_id = p["room_id"], p["session_id"]
        params = {"room_id": room_id, "session_id": session_id, "limit": 100}
        _, before = c.get("/v2/analytics/events", params)
        assert p["id"] not in {e["id"] for e in before["events"]}
        _, snap = c.get("/v2/analytics/events", {"room_id": room_id, "limit": 1})
        sb.advance(30)
        _, after = c.get("/v2/analytics/events", params)
        got = {e["id"]: e for e in after["events"]}
        assert p["id"] in got and got[p["id"]]["data"]["session_id"] == session_id
        assert after["total"] > before["total"]
        _, by_type = c.get("/v2/analytics/events", {"room_id": room_id, "type": "beam.recording.success", "limit": 100})
        assert p["id"] in {e["id"] for e in by_type["events"]}
        assert all(e["type"] == "beam.recording.success" for e in by_type["events"])
        # the snapshot taken before the advance does not see the late event
        seen, start = [e["id"] for e in snap["events"]], snap["next"]
        while start:
            _, page = c.get("/v2/analytics/events", {"room_id": room_id, "limit": 100, "start": start})
            assert page["total"] == snap["total"]
            seen.extend(e["id"] for e in page["events"])
            start = page["next"]
        assert len(seen) == snap["total"] and p["id"] not in seen
        c.close()


def test_late_events_are_deterministic():
    a, b = Workspace(seed=3, scale="small", now=NOW), Workspace(seed=3, scale="small", now=NOW)
    a.advance(45)
    b.advance(45)
    assert a.pending_late_events() == b.pending_late_events()
    assert a.ground_truth()["analytics_events"] == b.ground_truth()["analytics_events"]
