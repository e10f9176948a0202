"""429 and pacing: one throttle per API origin shared by every worker, waits from 100ms's own words, a ceiling,
and a deadline for a whole answer.

The authenticator waits a 429 out itself (the CDK's retry budget is kept for 5xx and network errors) and sends the
request again; `throttle_clock` (conftest.py) records the throttle's waits instead of sleeping them.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
from airbyte_cdk.models import FailureType

from source_100ms.components import auth
from source_100ms.components.auth import ManagementTokenAuthenticator
from source_100ms.components.transport import RateLimiter, rate_limit_wait, read_body_within
from unit_tests.fake_api import API, FakeApi, config, records
from unit_tests.helpers import oid, read_streams, stream_error
from unit_tests.servers import TricklingBodyServer

TEMPLATES = f"{API}/v2/templates"
PAGE = {"json": {"limit": 10, "data": [{"id": oid(1)}], "last": ""}}
RATE_LIMITED_BODY = {"code": 429, "message": "rate limit exceeded, retry after 45 seconds"}


def _response(status: int, headers: dict | None = None, body: bytes = b"") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    response._content = body
    return response


# ------------------------------------------------------------------------------------------ the wait 100ms asks


@pytest.mark.parametrize(
    "headers, body, wait",
    [
        ({"Retry-After": "7"}, b"", 7.0),
        ({"Retry-After": "2.5"}, b"", 2.5),
        ({}, b'{"code":429,"message":"rate limit exceeded, retry after 45 seconds"}', 45.0),
        ({}, b'{"message":"Rate limit exceeded. Retry after 2 minutes"}', 120.0),
        ({"Retry-After": "3"}, b'{"message":"retry after 45 seconds"}', 3.0),  # the header first
        ({}, b'{"code":429,"message":"too many requests"}', None),  # says nothing: the throttle's default
    ],
    ids=["header", "header-fraction", "documented-body", "body-minutes", "header-wins", "silent"],
)
def test_given_429_when_its_wait_is_read_then_header_else_body_else_none(headers, body, wait):
    assert rate_limit_wait(_response(429, headers, body)) == wait


def test_given_retry_after_as_an_http_date_when_read_then_seconds_until_then():
    at = datetime.now(UTC) + timedelta(seconds=30)
    wait = rate_limit_wait(_response(429, {"Retry-After": format_datetime(at, usegmt=True)}))
    assert 28 <= wait <= 31


# ------------------------------------------------------------------------------------------ the shared throttle


def test_given_a_429_when_any_worker_asks_next_then_every_one_waits_what_100ms_asked(throttle_clock):
    limiter = RateLimiter()
    limiter.acquire()
    assert throttle_clock.sleeps == [], "no wait before any 429"

    waited = limiter.on_answer(True, 45.0)
    for _worker in range(3):
        limiter.acquire()

    assert 44.9 < waited <= 45.0
    assert throttle_clock.sleeps and 44.9 < throttle_clock.sleeps[0] <= 45.0, "the first worker after it waits 45 s"
    assert len(throttle_clock.sleeps) == 3, "and every other worker waits its turn too"


def test_given_a_429_seen_by_one_thread_when_other_threads_ask_for_a_turn_then_they_wait_in_real_time():
    limiter = RateLimiter()
    for _ in range(10):  # ten answers in a burst, then a 429 that asks for 0.3 s
        limiter.acquire()
        limiter.on_answer(False)
    woke: list[float] = []
    limited_at = time.monotonic()
    limiter.on_answer(True, 0.3)
    interval = 1 / limiter.learned_per_second
    assert interval == pytest.approx(1 / (0.9 * 10 / 0.5)), "what went through in the half second before, less a tenth"

    def worker():
        limiter.acquire()
        woke.append(time.monotonic())

    workers = [threading.Thread(target=worker) for _ in range(3)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(10)

    assert len(woke) == 3
    woke.sort()
    assert woke[0] >= limited_at + 0.3 - 0.005, "no worker went before the time 100ms asked for"
    assert all(t >= limited_at + 0.3 + k * interval - 0.005 for k, t in enumerate(woke)), "then one at a time"


def test_given_every_answer_refused_when_429s_then_learned_rate_halves_and_twenty_good_answers_raise_it(
    throttle_clock,
):
    limiter = RateLimiter()
    for _ in range(10):
        limiter.acquire()
    limiter.on_answer(True, 0.0)
    first = limiter.learned_per_second
    for _ in range(39):
        limiter.on_answer(True, 0.0)
    assert limiter.learned_per_second == first, "a slow-down is decided on 40 answers at the rate set last"
    limiter.on_answer(True, 0.0)
    assert limiter.learned_per_second == pytest.approx(first / 2), "all 40 refused: halved"
    for _ in range(20):
        limiter.on_answer(False)
    assert limiter.learned_per_second == pytest.approx(first / 2 * 1.1)


def test_given_two_streams_of_one_api_when_authenticators_built_then_one_throttle_for_both():
    first = ManagementTokenAuthenticator(config=config(), parameters={})
    second = ManagementTokenAuthenticator(config=config(num_workers=3), parameters={})
    loopback = ManagementTokenAuthenticator(config=config(api_url="http://127.0.0.1:9"), parameters={})
    assert first._limiter is second._limiter
    assert loopback._limiter is not first._limiter


@pytest.mark.slow
def test_given_requests_per_second_when_read_then_requests_never_closer_than_the_ceiling(requests_mock):
    sent: list[float] = []
    items = [{"id": oid(100 - i)} for i in range(70)]

    def respond(request, context):
        sent.append(time.monotonic())
        start = request.qs.get("start", [None])[0]
        rows = [r for r in items if start is None or r["id"] < start][:10]
        return {"limit": 10, "data": rows, "last": rows[-1]["id"] if rows else ""}

    requests_mock.get(TEMPLATES, json=respond)

    output = read_streams(config(requests_per_second=10), "templates")

    assert len(records(output)) == 70 and len(sent) == 8
    # each request's turn is 1/10 s after the previous one's: 8 requests span 0.7 s at least (unthrottled, 0.05 s)
    assert sent[-1] - sent[0] >= 0.69, [round(t - sent[0], 3) for t in sent]


def test_given_429s_that_come_whatever_the_rate_when_answered_then_the_rate_does_not_spiral_down(throttle_clock):
    """One answer in five refused at random (a flaky gateway, the sandbox's fault injection): a rate limit would
    stop refusing once the rate is lowered; these do not, and lowering on each of them ends at 0.2 per second."""
    limiter = RateLimiter()
    for answer in range(400):
        limiter.acquire()
        limiter.on_answer(answer % 5 == 4, 0.0)
    assert limiter.learned_per_second is not None and limiter.learned_per_second > 2, limiter.learned_per_second


@pytest.mark.parametrize("says_when", [True, False], ids=["retry-after", "no-wait-given"])
def test_given_a_real_limit_when_answered_then_the_sync_goes_at_about_that_rate(throttle_clock, says_when):
    """100ms takes 5 in any second: whether it says when the next one goes through (the pause does the spacing)
    or not (one second's pause, and a rate learned from the share refused), about 5 a second go through, and
    most requests are not refused."""
    limiter = RateLimiter()
    window: list[float] = []
    accepted = refused = 0
    started = throttle_clock.monotonic()
    for _ in range(300):
        limiter.acquire()
        now = throttle_clock.monotonic()
        window = [t for t in window if t > now - 1.0]
        limited = len(window) >= 5
        if limited:
            refused += 1
            limiter.on_answer(True, window[0] + 1.0 - now if says_when else None)
        else:
            accepted += 1
            window.append(now)
            limiter.on_answer(False)
    per_second = accepted / (throttle_clock.monotonic() - started)
    assert 3 <= per_second <= 5.5, per_second  # 5 in the first instant, then 5 in each second
    assert refused < accepted / 2, (refused, accepted)


# ------------------------------------------------------------------------------------------ 429 through a read


@pytest.mark.parametrize(
    "limited, wait",
    [
        ({"status_code": 429, "headers": {"Retry-After": "7"}, "json": {"code": 429, "message": "slow down"}}, 7.0),
        ({"status_code": 429, "json": RATE_LIMITED_BODY}, 45.0),
    ],
    ids=["retry-after-header", "documented-body"],
)
def test_given_a_429_when_read_then_waited_out_by_the_throttle_not_the_cdk_retries(
    requests_mock, throttle_clock, backoff_sleeps, limited, wait
):
    route = requests_mock.get(TEMPLATES, [limited, PAGE])

    output = read_streams(config(), "templates")

    assert [r["id"] for r in records(output)] == [oid(1)]
    assert route.call_count == 2
    assert any(wait - 0.2 <= s <= wait for s in throttle_clock.sleeps), throttle_clock.sleeps
    assert backoff_sleeps == [], "the CDK's retries were not used"
    assert any("rate-limiting requests" in log.log.message for log in output.logs)


def test_given_more_429s_than_the_cdk_retries_when_read_then_still_read_whole(
    requests_mock, throttle_clock, backoff_sleeps
):
    limited = {"status_code": 429, "headers": {"Retry-After": "2"}, "json": {"code": 429}}
    route = requests_mock.get(TEMPLATES, [limited] * 12 + [PAGE])

    output = read_streams(config(), "templates")

    assert [r["id"] for r in records(output)] == [oid(1)]
    assert route.call_count == 13, "12 answers of 429 where the CDK would give up after 8 retries"
    assert backoff_sleeps == []


def test_given_100ms_keeps_answering_429_when_read_then_transient_error_after_the_retry_window(
    requests_mock, throttle_clock
):
    route = requests_mock.get(TEMPLATES, status_code=429, headers={"Retry-After": "1"}, json={"code": 429})

    output = read_streams(config(retry_window_seconds=5), "templates", expect_error=True)

    error = stream_error(output)
    assert error.failure_type == FailureType.transient_error
    assert "rate limit" in error.message.lower() and f"{TEMPLATES}: HTTP Status Code: 429" in error.internal_message
    # each of the CDK's 9 tries waits out 429s for the retry window (5 s here), one second at a time, then gives up
    assert route.call_count <= 9 * 6, "the waits stop once the retry window is spent"
    assert sum(throttle_clock.sleeps) <= 9 * 6


# ------------------------------------------------------------------------------------------ whole-answer deadline


def test_given_a_body_that_trickles_when_read_then_read_timeout_at_the_deadline():
    with TricklingBodyServer() as server:
        response = requests.get(f"{server.url}/v2/templates", stream=True, timeout=5)
        started = time.monotonic()
        with pytest.raises(requests.exceptions.ReadTimeout, match="not complete within 0.5 s"):
            read_body_within(response, started, 0.5)
        assert 0.45 < time.monotonic() - started < 1.5


def test_given_a_body_that_trickles_on_a_closing_connection_when_read_then_read_timeout_at_the_deadline():
    """`Connection: close` hands the socket from the connection to the response: the deadline must find it there."""
    with TricklingBodyServer(close=True) as server:
        response = requests.get(f"{server.url}/v2/templates", stream=True, timeout=5)
        started = time.monotonic()
        with pytest.raises(requests.exceptions.ReadTimeout, match="not complete within 0.5 s"):
            read_body_within(response, started, 0.5)
        assert 0.45 < time.monotonic() - started < 1.5


@pytest.mark.slow
def test_given_a_server_that_trickles_when_read_then_the_answer_cut_at_the_deadline_and_the_stream_fails(
    monkeypatch,
):
    deadlines = []
    original = auth.read_body_within
    monkeypatch.setattr(auth, "read_body_within", lambda r, s, d: deadlines.append(d) or original(r, s, d))
    with TricklingBodyServer() as server:
        started = time.monotonic()
        output = read_streams(
            config(api_url=server.url, request_deadline_seconds=1, retry_window_seconds=1),
            "templates",
            expect_error=True,
        )
        elapsed = time.monotonic() - started
    error = stream_error(output)
    assert error.failure_type == FailureType.transient_error
    assert f"127.0.0.1:{server.port} was not complete within 1 s" in error.message
    assert deadlines and set(deadlines) == {1.0}
    assert elapsed < 6, "cut at the deadline, not left to the 60-second read timeout"


def test_given_an_answer_that_arrives_in_time_when_read_then_the_deadline_changes_nothing(requests_mock):
    FakeApi(requests_mock).list("/v2/templates", [{"id": oid(i)} for i in range(15)])
    output = read_streams(config(request_deadline_seconds=1), "templates")
    assert len(records(output)) == 15 and output.errors == []
