"""Rate limits, dead and slow connections: the 429 of a sliding window (with or without Retry-After), the
stall and trickle faults, and the loopback servers for connection-level tests."""

import http.client
import socket
import threading
import time

import orjson
import pytest
import requests
from sandbox_testkit import Client, workspace

from source_100ms.sandbox import FAULT_KINDS, Sandbox
from source_100ms.sandbox.loopback import CountingServer, SilentServer, TricklingServer
from source_100ms.sandbox.server import DEFAULT_FAULT_KINDS, RateLimiter

# --------------------------------------------------------------------------- rate limits


def test_rate_limiter_window_slides_and_refusals_do_not_count():
    lim = RateLimiter(3)
    assert [lim.acquire(10.0), lim.acquire(10.1), lim.acquire(10.2)] == [None, None, None]
    assert lim.acquire(10.3) == 1  # a slot frees at 11.0: under a second, so 1
    assert lim.acquire(10.99) == 1
    assert lim.acquire(11.0) is None  # the 10.0 one left the window; the refusals never entered it
    assert lim.acquire(11.05) == 1
    assert lim.acquire(11.11) is None


@pytest.mark.parametrize("header", [True, False])
def test_given_a_rate_limit_when_a_burst_exceeds_it_then_429_with_the_wait_in_the_body(header):
    with Sandbox(workspace=workspace(2), rate_limit_per_second=5, rate_limit_header=header) as sb:
        c = Client(sb)
        statuses, waits = [], []
        t0 = time.monotonic()
        for _ in range(12):
            resp, body = c.raw("/v2/templates")
            statuses.append(resp.status)
            if resp.status == 429:
                doc = orjson.loads(body)
                assert set(doc) == {"code", "message"} and doc["code"] == 429
                n = int(doc["message"].removeprefix("rate limit exceeded, retry after ").removesuffix(" seconds"))
                assert doc["message"] == f"rate limit exceeded, retry after {n} seconds" and n >= 1
                waits.append(n)
                assert resp.getheader("Retry-After") == (str(n) if header else None)
        assert time.monotonic() - t0 < 1.0, "the burst must fit in the window for this test"
        assert statuses[:5] == [200] * 5 and statuses[5:] == [429] * 7
        counts = sb.request_counts()
        assert counts["rate_limited"] == 7 and counts["GET /v2/templates"] == 12
        log = sb.request_log()
        assert [e["status"] for e in log] == statuses
        assert [e["rate_limited"] for e in log] == [s == 429 for s in statuses]
        # admin routes are not limited, nor counted
        for _ in range(10):
            assert requests.get(sb.url + "/_sandbox/requests").status_code == 200
        time.sleep(max(waits))
        assert c.get("/v2/templates")[0] == 200
        c.close()


def test_rate_limit_is_switchable_at_run_time(sb, client):
    base = sb.url + "/_sandbox/rate_limit"
    try:
        r = requests.post(base, params={"per_second": 2, "header": "false"})
        assert r.json() == {"rate_limit_per_second": 2.0, "rate_limit_header": False}
        statuses = [client.raw("/v2/templates")[0].status for _ in range(4)]
        assert statuses.count(429) >= 1
        assert "rate_limit_per_second=2.0" in sb.summary_text()
    finally:
        assert requests.post(base, params={"per_second": ""}).json()["rate_limit_per_second"] is None
    time.sleep(1.0)
    assert [client.raw("/v2/templates")[0].status for _ in range(20)] == [200] * 20


# --------------------------------------------------------------------------- stall and trickle


def test_new_fault_kinds_are_known_but_not_drawn_unless_named():
    assert {"stall", "trickle"} <= set(FAULT_KINDS)
    assert not {"stall", "trickle"} & set(DEFAULT_FAULT_KINDS)
    sb = Sandbox(workspace=workspace(2), fault_rate=0.5)
    assert set(sb.fault_kinds) == set(DEFAULT_FAULT_KINDS)
    sb.set_faults(0.5, "stall,trickle")
    assert sb.fault_kinds == ("stall", "trickle")


def test_given_a_stall_then_nothing_is_answered_and_the_connection_closes_after_stall_seconds():
    with Sandbox(workspace=workspace(2), fault_rate=1.0, fault_kinds=["stall"], stall_seconds=0.6) as sb:
        conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=5)
        t0 = time.monotonic()
        conn.request("GET", "/v2/rooms", headers={"Authorization": f"Bearer {sb.token()}"})
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            conn.getresponse()
        assert 0.5 <= time.monotonic() - t0 < 3
        assert sb.request_log()[-1]["fault"] == "stall"


def test_given_a_long_stall_then_a_client_read_timeout_fires_and_stop_is_prompt():
    before = set(threading.enumerate())
    sb = Sandbox(workspace=workspace(2), fault_rate=1.0, fault_kinds=["stall"]).start()
    assert sb.stall_seconds == 60
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=0.5)
    conn.request("GET", "/v2/rooms", headers={"Authorization": f"Bearer {sb.token()}"})
    with pytest.raises(TimeoutError):
        conn.getresponse()
    t0 = time.monotonic()
    sb.stop()
    assert time.monotonic() - t0 < 3
    time.sleep(0.2)
    assert [t for t in set(threading.enumerate()) - before if t.is_alive()] == []  # the stalled handler too
    conn.close()


def test_given_a_trickle_then_the_real_response_arrives_one_byte_per_interval():
    interval = 0.003
    with Sandbox(workspace=workspace(2), trickle_interval_seconds=interval) as sb:
        c = Client(sb)
        tid = sb.workspace.templates.asc[0]
        status, want = c.get(f"/v2/templates/{tid}/settings")
        sb.set_faults(1.0, ["trickle"])
        raw = orjson.dumps(want)
        with socket.create_connection(("127.0.0.1", sb.port), timeout=5) as s:
            auth = f"Authorization: Bearer {sb.token()}"
            s.sendall(f"GET /v2/templates/{tid}/settings HTTP/1.1\r\nHost: x\r\n{auth}\r\n\r\n".encode())
            t0 = time.monotonic()
            chunks, first_gap = [], None
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                if first_gap is None:
                    first_gap = len(chunk)
                chunks.append(chunk)
            elapsed = time.monotonic() - t0
        data = b"".join(chunks)
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK") and orjson.loads(body) == want
        assert len(chunks) > len(data) / 4, "bytes must come (nearly) one at a time"
        assert elapsed >= (len(data) - 1) * interval * 0.9
        assert len(raw) == len(body)
        c.close()


def test_stop_during_a_trickle_is_prompt():
    sb = Sandbox(workspace=workspace(2), fault_rate=1.0, fault_kinds=["trickle"]).start()
    assert sb.trickle_interval_seconds == 2
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=10)
    conn.request("GET", "/v2/rooms", headers={"Authorization": f"Bearer {sb.token()}"})
    time.sleep(0.2)
    t0 = time.monotonic()
    sb.stop()
    assert time.monotonic() - t0 < 3
    conn.close()


# --------------------------------------------------------------------------- loopback servers


def test_silent_server_accepts_and_never_answers_and_exits_promptly():
    with SilentServer() as host:
        t0 = time.monotonic()
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(host.url + "/v2/rooms", timeout=(2, 0.4))
        assert time.monotonic() - t0 >= 0.4
        assert host.connections == 1 and host.requests == 1
        # a second client stays connected while the server exits
        hold = socket.create_connection(("127.0.0.1", host.port))
        time.sleep(0.1)
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 2
    hold.close()


def test_trickling_server_keeps_a_read_timeout_from_firing():
    with TricklingServer(interval_seconds=0.008, body_bytes=10_000) as host:
        t0 = time.monotonic()
        r = requests.get(host.url + "/v2/rooms", timeout=(2, 0.2), stream=True)
        t_head = time.monotonic()
        assert r.status_code == 200 and r.headers["Content-Length"] == "10000"
        assert t_head - t0 > 0.5, "the status line and headers came one byte at a time, under the read timeout"
        got = b""
        for chunk in r.iter_content(chunk_size=1):
            got += chunk
            if time.monotonic() - t_head > 0.25:
                break
        r.close()
        assert got.startswith(b'{"limit"') and host.requests == 1 and host.bytes_sent > 100
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 2


def test_counting_server_answers_anything_and_records_every_request():
    with CountingServer() as other:
        s = requests.Session()
        assert s.get(other.url + "/v2/rooms?limit=10", headers={"Authorization": "Bearer abc"}).json() == {}
        assert s.post(other.url + "/hook", data=b"xyz").status_code == 200
        assert other.requests == 2 and other.connections == 1
        assert [(e["method"], e["path"]) for e in other.log] == [("GET", "/v2/rooms?limit=10"), ("POST", "/hook")]
        assert other.log[0]["headers"]["Authorization"] == "Bearer abc" and other.log[1]["body"] == b"xyz"
        s.close()
    with CountingServer() as untouched:
        pass
    assert untouched.requests == 0 and untouched.log == []
