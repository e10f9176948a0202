import re
from collections import Counter

from sandbox_testkit import NOW, workspace

from source_100ms.sandbox import Workspace
from source_100ms.sandbox.data import DAY, NS, ZERO_TIME, parse_ts

TS_RX = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")


def test_same_seed_and_now_give_the_same_workspace():
    a = Workspace(seed=3, scale="small", now=NOW)
    b = Workspace(seed=3, scale="small", now=NOW)
    assert a.ground_truth() == b.ground_truth()
    sid = a.sessions.asc[5]
    assert a.sessions.objects[sid] == b.sessions.objects[sid]
    room = next(iter(a.room_events))
    assert a.event(room, 0) == b.event(room, 0)
    assert a.app_secret == b.app_secret


def test_other_seed_gives_other_ids():
    a = Workspace(seed=3, scale="small", now=NOW)
    b = Workspace(seed=4, scale="small", now=NOW)
    assert set(a.ground_truth()["sessions"]).isdisjoint(b.ground_truth()["sessions"])


def test_shape_of_the_small_workspace():
    ws = workspace(1)
    s = ws.summary()
    assert s["templates"] == 4 and s["rooms"] == 25
    assert 300 <= s["sessions"] <= 500
    assert s["rooms_disabled"] >= 1
    assert 1 <= s["sessions_active"] <= 4
    # events_total is spread over the sessions; late events (beam success, client errors) come on top
    assert s["analytics_events"] == 2000 + s["analytics_events_late"] and s["analytics_events_late"] > 50
    now = parse_ts(NOW)
    for sid, sess in ws.sessions.objects.items():
        assert sid[:8] == f"{parse_ts(sess['created_at']) // NS:08x}"
        assert now - parse_ts(sess["created_at"]) <= 60 * DAY
        if sess["active"]:
            assert now - parse_ts(sess["created_at"]) < 12 * 3600 * NS
    assert any(not s["peers"] for s in ws.sessions.objects.values())
    assert any(t["destinations"] == {} for t in ws.templates.objects.values())
    assert any(r["updated_at"] == ZERO_TIME for r in ws.rooms.objects.values())
    statuses = Counter(r["status"] for r in ws.recordings.objects.values())
    assert statuses["completed"] > statuses["failed"] > 0
    types = {a["type"] for a in ws.recording_assets.objects.values()}
    assert {"room-composite", "chat", "transcript", "summary"} <= types
    for a in ws.recording_assets.objects.values():
        if "num_layers" in a["metadata"]:
            assert isinstance(a["metadata"]["num_layers"], str)


def test_timestamps_have_varying_fraction_digits():
    ws = workspace(1)
    digits = Counter()
    for s in ws.sessions.objects.values():
        for v in [s["created_at"], s["updated_at"]] + [p["joined_at"] for p in s["peers"].values()]:
            assert TS_RX.match(v), v
            digits[len(v.split(".")[1]) - 1 if "." in v else 0] += 1
    assert digits[0] and digits[3] and digits[9]
    assert len(digits) >= 8


def test_events_are_within_30_days_ascending_and_tied_to_real_sessions_and_peers():
    """On-time events ascend within a room; a late one is stamped after its session's end (late_events tests)."""
    ws = workspace(1)
    now = parse_ts(NOW)
    for room_id, re_ in ws.room_events.items():
        prev = 0
        for i in range(re_.total):
            e = ws.event(room_id, i)
            assert e["version"] == "2.0" and TS_RX.match(e["timestamp"])
            t = parse_ts(e["timestamp"])
            assert now - 30 * DAY <= t <= now
            if ws.events.is_late(room_id, i):
                assert t > parse_ts(ws.sessions.objects[ws.event_meta(room_id, i)[1]]["updated_at"])
            else:
                assert t >= prev
                prev = t
            d = e["data"]
            assert d["room_id"] == room_id
            sess = ws.sessions.objects[ws.event_meta(room_id, i)[1]]
            assert sess["room_id"] == room_id and d["peer_id"] in sess["peers"]


def test_a_million_events_cost_little():
    import time

    t = time.perf_counter()
    ws = Workspace(seed=1, scale="small", now=NOW, events_total=1_000_000)
    assert ws.events_total() == 1_000_000 + ws.events.late_visible()
    assert time.perf_counter() - t < 5
