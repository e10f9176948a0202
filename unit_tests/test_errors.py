"""Failures of the API: what is retried, what is skipped, what fails the sync, and what the user is told.

Backoff sleeps are recorded instead of slept, so the tests also see how long the connector would wait.
"""

from __future__ import annotations

import backoff._sync
import pytest
import requests
from airbyte_cdk.models import FailureType

from unit_tests.fake_api import FakeApi, config, records
from unit_tests.helpers import oid, read_streams, stream_error

HTML = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
TEMPLATES = "https://api.100ms.live/v2/templates"
PAGE = {"limit": 10, "data": [{"id": oid(1)}], "last": oid(1)}


@pytest.fixture
def sleeps(monkeypatch):
    """Each backoff wait in seconds (the CDK adds a second to its own waits; zero-second calls are left out)."""
    waited: list[float] = []
    monkeypatch.setattr(backoff._sync.time, "sleep", lambda seconds: seconds and waited.append(seconds))
    return waited


def _then_ok(*failures):
    """requests-mock responses: the given failures, then a good page."""
    return [*failures, {"json": PAGE}]


@pytest.mark.parametrize(
    "failure",
    [
        {"status_code": 500, "json": {"code": 500, "message": "internal"}},
        {"status_code": 502, "text": HTML, "headers": {"Content-Type": "text/html"}},
        {"status_code": 503, "text": "unavailable"},
        {"status_code": 504, "text": ""},
        {"status_code": 200, "text": HTML, "headers": {"Content-Type": "text/html"}},
        {
            "status_code": 200,
            "text": '{"limit": 10, "data": [{"id": "6',
            "headers": {"Content-Type": "application/json"},
        },
        {"exc": requests.exceptions.ConnectionError("Connection reset by peer")},
        {"exc": requests.exceptions.ChunkedEncodingError("IncompleteRead(100 bytes read, 200 more expected)")},
        {"exc": requests.exceptions.ReadTimeout("read timed out")},
    ],
    ids=["500", "502-html", "503", "504", "200-html", "200-truncated-json", "reset", "truncated-body", "timeout"],
)
def test_given_transient_failures_when_read_then_retried_and_nothing_lost(requests_mock, sleeps, failure):
    route = requests_mock.get(TEMPLATES, _then_ok(failure, failure))
    output = read_streams(config(), "templates")
    assert [r["id"] for r in records(output)] == [oid(1)]
    assert route.call_count == 3
    assert len(sleeps) == 2 and 1.5 <= sleeps[0] <= 3.5 and 2 <= sleeps[1] <= 4


def test_given_429_with_retry_after_when_read_then_waits_what_100ms_asks(requests_mock, sleeps):
    limited = {"status_code": 429, "headers": {"Retry-After": "7"}, "json": {"code": 429, "message": "rate limit"}}
    requests_mock.get(TEMPLATES, _then_ok(limited))
    output = read_streams(config(), "templates")
    assert [r["id"] for r in records(output)] == [oid(1)]
    assert 7 <= sleeps[0] <= 8


def test_given_429_without_retry_after_when_read_then_exponential_backoff(requests_mock, sleeps):
    limited = {"status_code": 429, "json": {"code": 429, "message": "rate limit exceeded, retry after 45 seconds"}}
    requests_mock.get(TEMPLATES, _then_ok(limited, limited, limited))
    output = read_streams(config(), "templates")
    assert [r["id"] for r in records(output)] == [oid(1)]
    # attempt a waits 0.25 * 2**a seconds, plus up to 2 of jitter, plus the CDK's extra second
    assert len(sleeps) == 3
    assert all(0.25 * 2**a + 1 <= wait <= 0.25 * 2**a + 3 for a, wait in enumerate(sleeps, start=1)), sleeps


def test_given_a_server_that_keeps_failing_when_read_then_transient_error_naming_the_endpoint(requests_mock, sleeps):
    route = requests_mock.get(TEMPLATES, status_code=502, text=HTML, headers={"Content-Type": "text/html"})
    output = read_streams(config(), "templates", expect_error=True)
    assert route.call_count == 9, "the first try and 8 retries, then stop"
    assert 100 < sum(sleeps) < 250, sleeps
    error = stream_error(output)
    assert error.failure_type == FailureType.transient_error
    assert "/v2/templates" in error.message
    assert records(output) == []


def test_given_a_page_that_keeps_failing_mid_list_when_read_then_the_sync_fails_rather_than_skips(
    requests_mock, sleeps
):
    items = [{"id": oid(i)} for i in range(30)]
    api = FakeApi(requests_mock)
    api.list("/v2/recordings", items)
    requests_mock.get(f"https://api.100ms.live/v2/recordings?start={oid(20)}", status_code=500, json={"code": 500})
    output = read_streams(config(), "recordings", expect_error=True)
    assert stream_error(output).failure_type == FailureType.transient_error
    assert len(records(output)) == 10, "the first page only: a failed page is never skipped"


def test_given_html_body_that_never_heals_when_read_then_error_says_not_json(requests_mock, sleeps):
    requests_mock.get(TEMPLATES, status_code=200, text=HTML, headers={"Content-Type": "text/html"})
    output = read_streams(config(), "templates", expect_error=True)
    error = stream_error(output)
    assert error.failure_type == FailureType.transient_error
    assert "not complete JSON" in error.message and "/v2/templates" in error.message
