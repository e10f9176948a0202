"""A busy workspace (scale `busy`, or `sessions_per_hour` on any scale): hundreds of sessions in the 13-hour
lookback, long sessions active at `now` that end in a later advance, recordings that complete pages deep."""

import pickle
import time

import pytest
from sandbox_testkit import NOW, Client

from source_100ms.sandbox import SCALES, Sandbox, Workspace
from source_100ms.sandbox.data import HOUR, MINUTE, NS, fmt_ts, parse_ts


@pytest.fixture(scope="module")
def busy():
    t = time.perf_counter()
    ws = Workspace(seed=1, scale="busy", now=NOW)
    ws.generation_seconds = time.perf_counter() - t
    ws.as_generated = pickle.dumps(ws)
    return ws


@pytest.fixture
def fresh_busy(busy):
    """A workspace of its own, as `busy` (seed 1) was generated, for a test that advances it: a copy takes half
    the time of a generation (`test_busy_is_deterministic` shows that a generation gives the same)."""
    return pickle.loads(busy.as_generated)


def _recent(ws, hours=13):
    now = ws.now_ns
    return [ws.sessions.objects[s] for s in ws.sessions.asc if now - ws.sessions.created_ns[s] <= hours * HOUR]


def _newer(ws, rec_id):
    return len(ws.recordings.asc) - 1 - ws.recordings.asc.index(rec_id)


def test_busy_has_hundreds_of_sessions_in_the_13_hour_lookback_ended_and_active(busy):
    recent = _recent(busy)
    active = [s for s in recent if s["active"]]
    assert len(recent) >= 400 and len(active) >= 50 and len(recent) - len(active) >= 300
    assert busy.generation_seconds < 5
    assert SCALES["busy"]["sessions_per_hour"] > 0


def test_busy_keeps_one_active_session_per_room_and_the_12_hour_maximum(busy):
    rooms = [busy.sessions.objects[s]["room_id"] for s in busy.sessions_active]
    assert len(rooms) == len(set(rooms))
    assert busy.active_session_by_room == {busy.sessions.objects[s]["room_id"]: s for s in busy.sessions_active}
    for sid, s in busy.sessions.objects.items():
        start = busy.sessions.created_ns[sid]
        if s["active"]:
            planned = busy.sessions_part.planned_end[sid]
            assert start < busy.now_ns < planned <= start + 12 * HOUR
        else:
            assert parse_ts(s["updated_at"]) - start <= 12 * HOUR + NS
    long_active = [s for s in busy.sessions_active if busy.now_ns - busy.sessions.created_ns[s] > 3 * HOUR]
    assert len(long_active) >= 10, "long sessions still active at now"


def test_busy_has_unfinished_recordings_more_than_two_pages_deep(busy):
    unfinished = [
        r for r in busy.recordings.asc if busy.recordings.objects[r]["status"] in ("running", "post_processing")
    ]
    deep = [r for r in unfinished if _newer(busy, r) > 200]
    assert len(deep) >= 5
    assert {busy.recordings.objects[r]["status"] for r in unfinished} == {"running", "post_processing"}


def test_long_sessions_end_in_a_later_advance_with_left_at_and_a_later_updated_at(fresh_busy):
    ws = fresh_busy
    long_active = [s for s in ws.sessions_active if ws.now_ns - ws.sessions.created_ns[s] > 3 * HOUR]
    before = {s: ws.sessions.objects[s]["updated_at"] for s in long_active}
    planned = {s: ws.sessions_part.planned_end[s] for s in long_active}
    ended: set[str] = set()
    for _ in range(13):
        out = ws.advance(60)
        ended |= {s for s in out["sessions"]["changed"] if not ws.sessions.objects[s]["active"]}
    assert set(long_active) <= ended, "every session active at now ends within 12 hours"
    for sid in long_active:
        s = ws.sessions.objects[sid]
        assert s["active"] is False and all("left_at" in p for p in s["peers"].values())
        assert parse_ts(s["updated_at"]) > parse_ts(before[sid])
        assert abs(parse_ts(s["updated_at"]) - planned[sid]) < MINUTE


def test_recordings_complete_pages_deep_during_advance(fresh_busy):
    ws = fresh_busy
    deep_done = []
    for _ in range(8):
        out = ws.advance(60)
        created_assets = set(out["recording_assets"]["created"])
        for rec_id in out["recordings"]["changed"]:
            rec = ws.recordings.objects[rec_id]
            if rec["status"] == "completed" and _newer(ws, rec_id) > 200:
                assets = [a for a in ws.recording_assets.by_session.get(rec["session_id"], [])
                          if ws.recording_assets.objects[a]["job_id"] == rec_id]  # fmt: skip
                assert assets and set(assets) <= created_assets
                deep_done.append(rec_id)
    assert len(deep_done) >= 5


def test_advance_continues_at_the_busy_rate(fresh_busy):
    ws = fresh_busy
    rate = SCALES["busy"]["sessions_per_hour"]
    pending = ws.pending_late_events()
    assert pending, "sessions that ended just before now have late events still to come"
    out = ws.advance(60)
    assert 0.6 * rate <= len(out["sessions"]["created"]) <= 1.5 * rate
    ended = [s for s in out["sessions"]["changed"] if not ws.sessions.objects[s]["active"]]
    assert len(ended) >= 0.5 * rate
    assert len(out["recordings"]["created"]) >= 0.4 * rate and out["recordings"]["changed"]
    assert out["recording_assets"]["created"] and len(out["analytics_events"]["created"]) > 200
    arrived = {p["id"] for p in pending if parse_ts(p["arrival"]) <= ws.now_ns}
    assert arrived and arrived <= set(out["analytics_events"]["created"])
    assert ws.pending_late_events(), "and the sessions that ended in this advance have theirs to come"
    truth = ws.ground_truth()
    for stream in ("sessions", "recordings", "recording_assets", "analytics_events", "rooms"):
        assert set(out[stream]["created"]) <= set(truth[stream]), stream
    assert {tuple(k) for k in out["session_peers"]["created"]} <= {tuple(k) for k in truth["session_peers"]}
    assert out["session_peers"]["changed"] and all(len(k) == 2 for k in out["session_peers"]["changed"])
    rooms = [ws.sessions.objects[s]["room_id"] for s in ws.sessions_active]
    assert len(rooms) == len(set(rooms))


def test_sessions_per_hour_overrides_the_rate_of_any_scale():
    plain = Workspace(seed=4, scale="medium", now=NOW)
    fast = Workspace(seed=4, scale="medium", now=NOW, sessions_per_hour=30)
    assert len(_recent(fast)) >= 300 > 3 * len(_recent(plain))
    assert fast.sessions_per_hour == 30 and plain.sessions_per_hour is None
    out = fast.advance(60)
    assert 15 <= len(out["sessions"]["created"]) <= 45
    with pytest.raises(ValueError):
        Workspace(seed=4, scale="small", now=NOW, sessions_per_hour=0)


def test_busy_is_deterministic(busy):
    again = Workspace(seed=1, scale="busy", now=NOW)
    assert again.ground_truth() == busy.ground_truth()
    assert again.pending_late_events() == busy.pending_late_events()


def test_a_13_hour_lookback_through_the_api_reads_hundreds_of_sessions(busy):
    with Sandbox(workspace=busy, strict_time_format=True) as sb:  # reads only: the module's own workspace
        c = Client(sb)
        after = fmt_ts(sb.workspace.now_ns - 13 * HOUR)[:19] + ".000Z"
        ended, _ = c.walk("/v2/sessions", {"active": "false", "after": after})
        active, _ = c.walk("/v2/sessions", {"active": "true", "after": after})
        assert len(ended) + len(active) >= 400 and len(active) >= 50
        assert "sessions_per_hour=60" in sb.summary_text()
        c.close()
