import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import orjson
import pytest
import requests
from sandbox_testkit import Client, workspace

from source_100ms.sandbox import Sandbox


@pytest.fixture()
def fsb():
    with Sandbox(workspace=workspace(2), retry_after_seconds=3) as s:
        yield s


def _one_fault(sb, kind):
    sb.set_faults(1.0, [kind])
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=5)
    conn.request("GET", "/v2/rooms?limit=100", headers={"Authorization": f"Bearer {sb.token()}"})
    return conn


def test_fault_500(fsb):
    r = _one_fault(fsb, "500").getresponse()
    assert r.status == 500 and orjson.loads(r.read())["code"] == 500


def test_fault_502_html(fsb):
    r = _one_fault(fsb, "502_html").getresponse()
    assert r.status == 502 and r.getheader("Content-Type").startswith("text/html")
    assert r.read().lstrip().startswith(b"<html>")


def test_fault_429_with_retry_after(fsb):
    r = _one_fault(fsb, "429").getresponse()
    assert r.status == 429 and r.getheader("Retry-After") == "3"
    assert orjson.loads(r.read()) == {"code": 429, "message": "rate limit exceeded, retry after 3 seconds"}


def test_fault_reset(fsb):
    conn = _one_fault(fsb, "reset")
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine)):
        conn.getresponse().read()


def test_fault_truncated(fsb):
    r = _one_fault(fsb, "truncated").getresponse()
    assert r.status == 200
    with pytest.raises(http.client.IncompleteRead):
        r.read()
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(fsb.url + "/v2/rooms", headers={"Authorization": f"Bearer {fsb.token()}"}, timeout=5)


def test_faults_are_counted_and_a_retry_can_succeed(fsb):
    fsb.reset_counts()
    fsb.set_faults(0.5, ["500"])
    s = requests.Session()
    statuses = [s.get(fsb.url + "/v2/templates", headers={"Authorization": f"Bearer {fsb.token()}"}).status_code
                for _ in range(60)]  # fmt: skip
    assert set(statuses) == {200, 500}
    counts = fsb.request_counts()
    assert counts["GET /v2/templates"] == 60 and counts["faults"] == statuses.count(500)
    log = fsb.request_log()
    assert len(log) == 60 and {e["fault"] for e in log} == {None, "500"}
    # admin routes are never faulted nor counted
    fsb.set_faults(1.0)
    for _ in range(5):
        assert s.get(fsb.url + "/_sandbox/requests").status_code == 200
    assert fsb.request_counts()["GET /v2/templates"] == 60


def test_latency(fsb):
    c = Client(fsb)
    fsb.set_latency(80)
    t = time.perf_counter()
    assert c.get("/v2/templates")[0] == 200
    assert time.perf_counter() - t >= 0.08
    fsb.set_latency(0)


def test_admin_routes(fsb):
    base = fsb.url + "/_sandbox"
    assert requests.get(base + "/config").json() == fsb.config()
    truth = requests.get(base + "/ground_truth").json()
    assert truth == json.loads(json.dumps(fsb.ground_truth()))
    Client(fsb).get("/v2/rooms")
    assert requests.get(base + "/requests").json()["GET /v2/rooms"] >= 1
    assert requests.get(base + "/request_log").json()
    assert requests.post(base + "/reset_counts").json() == {"ok": True}
    assert requests.get(base + "/requests").json() == {}
    summary = requests.post(base + "/advance", params={"minutes": 30}).json()
    assert summary["sessions"]["created"]
    assert requests.post(base + "/faults", params={"rate": 0.25, "kinds": "500,429"}).json() == {
        "rate": 0.25,
        "kinds": ["500", "429"],
    }
    assert requests.post(base + "/faults", params={"rate": 0.25, "kinds": "bogus"}).status_code == 400
    assert requests.post(base + "/latency", params={"ms": 5}).json() == {"ms": 5.0}
    assert requests.get(base + "/nope").status_code == 404


def test_cli_serves_until_sigterm(tmp_path):
    cfg_file = tmp_path / "config.json"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    code = "import sys; from source_100ms.sandbox.cli import main; sys.exit(main(sys.argv[1:]))"
    p = subprocess.Popen(
        [sys.executable, "-c", code, "--seed", "3", "--scale", "small", "--config-out", str(cfg_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        line = p.stdout.readline()
        cfg = json.loads(line)
        assert cfg["api_url"].startswith("http://127.0.0.1:")
        assert cfg["credentials"]["auth_type"] == "app_credentials"
        assert json.loads(cfg_file.read_text()) == cfg
        with urllib.request.urlopen(cfg["api_url"] + "/_sandbox/config", timeout=5) as r:
            assert json.loads(r.read()) == cfg
    finally:
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=10)
    assert rc == 0
    assert b"sessions=" in p.stderr.read()


def test_cli_help_lists_every_option():
    from source_100ms.sandbox.cli import build_parser

    text = build_parser().format_help()
    for flag in ["--sessions-per-hour", "--order", "--strict-time-format", "--reject-limit-on", "--rate-limit",
                 "--rate-limit-header", "--no-rate-limit-header", "--repeat-cursor", "--stall-seconds",
                 "--trickle-interval", "busy"]:  # fmt: skip
        assert flag in text, flag
    args = build_parser().parse_args(
        ["--order", "oldest-first", "--strict-time-format", "--reject-limit-on", "recordings,room_codes",
         "--rate-limit", "5", "--no-rate-limit-header", "--repeat-cursor", "echo_start", "--sessions-per-hour", "30"]
    )  # fmt: skip
    assert args.order == "oldest-first" and args.strict_time_format and args.rate_limit == 5.0
    assert args.rate_limit_header is False and args.repeat_cursor == "echo_start" and args.sessions_per_hour == 30


def test_options_and_summary_text_show_what_is_switched_on():
    sb = Sandbox(workspace=workspace(2), order="oldest-first", strict_time_format=True,
                 reject_limit_on="recordings", rate_limit_per_second=3, rate_limit_header=False,
                 repeat_cursor="ignore_start")  # fmt: skip
    opts = sb.options()
    assert opts["order"] == "oldest-first" and opts["strict_time_format"] is True
    assert opts["reject_limit_on"] == ["recordings"] and opts["rate_limit_per_second"] == 3.0
    assert opts["rate_limit_header"] is False and opts["repeat_cursor"] == "ignore_start"
    text = sb.summary_text()
    for part in ["order=oldest-first", "strict_time_format=True", "reject_limit_on=['recordings']",
                 "repeat_cursor=ignore_start", "rate_limit_per_second=3.0", "rate_limit_header=False"]:  # fmt: skip
        assert part in text, part
    assert "options:" not in Sandbox(workspace=workspace(2)).summary_text()
