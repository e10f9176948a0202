"""Failures of the API: what is retried, what is skipped, what fails the sync, and what the user is told.

Backoff sleeps are recorded instead of slept (`backoff_sleeps`, conftest.py), so the tests also see how long the
connector would wait. 429 has its own module (test_rate_limits.py).
"""

from __future__ import annotations

import socket

import pytest
import requests
from airbyte_cdk.models import FailureType, Status

from source_100ms.components import auth
from source_100ms.components.error_handler import ManagementApiErrorHandler
from unit_tests.fake_api import API, FakeApi, config, records
from unit_tests.helpers import check_connection, oid, read_streams, stream_error

HTML = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
TEMPLATES = f"{API}/v2/templates"
PAGE = {"limit": 10, "data": [{"id": oid(1)}], "last": oid(1)}


def _then_ok(*failures):
    """requests-mock responses: the given failures, then a good page."""
    return [*failures, {"json": PAGE}]


# ------------------------------------------------------------------------------------------ retried


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
def test_given_transient_failures_when_read_then_retried_and_nothing_lost(requests_mock, backoff_sleeps, failure):
    route = requests_mock.get(TEMPLATES, _then_ok(failure, failure))
    output = read_streams(config(), "templates")
    assert [r["id"] for r in records(output)] == [oid(1)]
    assert route.call_count == 3
    # the CDK's own exponential backoff: 1 s, then 2 s
    assert backoff_sleeps == [1, 2]


def test_given_a_server_that_keeps_failing_when_read_then_transient_error_naming_the_endpoint(
    requests_mock, backoff_sleeps
):
    route = requests_mock.get(TEMPLATES, status_code=502, text=HTML, headers={"Content-Type": "text/html"})
    output = read_streams(config(), "templates", expect_error=True)
    assert route.call_count == 9, "the first try and 8 retries, then stop"
    assert backoff_sleeps == [1, 2, 4, 8, 16, 32, 64, 128]
    error = stream_error(output)
    assert error.failure_type == FailureType.transient_error
    assert "/v2/templates" in error.message
    assert records(output) == []


def test_given_a_page_that_keeps_failing_mid_list_when_read_then_the_sync_fails_rather_than_skips(requests_mock):
    items = [{"id": oid(i)} for i in range(30)]
    api = FakeApi(requests_mock)
    api.list("/v2/recordings", items)
    requests_mock.get(f"{API}/v2/recordings?start={oid(20)}", status_code=500, json={"code": 500})
    output = read_streams(config(), "recordings", expect_error=True)
    assert stream_error(output).failure_type == FailureType.transient_error
    assert len(records(output)) == 10, "the first page only: a failed page is never skipped"


def test_given_html_body_that_never_heals_when_read_then_error_says_not_json(requests_mock):
    requests_mock.get(TEMPLATES, status_code=200, text=HTML, headers={"Content-Type": "text/html"})
    output = read_streams(config(), "templates", expect_error=True)
    error = stream_error(output)
    assert error.failure_type == FailureType.transient_error
    assert "not complete JSON" in error.message and "/v2/templates" in error.message


# ------------------------------------------------------------------------------------------ the retry window


def test_given_retry_window_in_config_when_a_server_keeps_failing_then_retries_stop_within_it(
    requests_mock, backoff_sleeps
):
    route = requests_mock.get(TEMPLATES, status_code=500, json={"code": 500, "message": "internal"})
    output = read_streams(config(retry_window_seconds=10), "templates", expect_error=True)
    assert stream_error(output).failure_type == FailureType.transient_error
    # 8 retries would wait 255 s; the window cuts the last wait short and stops at 10 s
    assert backoff_sleeps[:3] == [1, 2, 4] and 9.9 <= sum(backoff_sleeps) <= 10
    assert route.call_count == len(backoff_sleeps) + 1 < 9


def test_given_no_retry_window_when_error_handler_built_then_600_seconds():
    handler = ManagementApiErrorHandler(config=config(), parameters={})
    assert handler.max_time == 600
    assert ManagementApiErrorHandler(config=config(retry_window_seconds=42), parameters={}).max_time == 42


def test_given_a_server_that_keeps_failing_when_check_then_retried_for_15_seconds_only(requests_mock, backoff_sleeps):
    route = requests_mock.get(TEMPLATES, status_code=503, text="unavailable")
    output = check_connection(config())
    status = output.connection_status_messages[-1].connectionStatus
    assert status.status == Status.FAILED and "/v2/templates" in status.message
    assert backoff_sleeps[:3] == [1, 2, 4] and 14.9 <= sum(backoff_sleeps) <= 15
    assert route.call_count == len(backoff_sleeps) + 1 < 9


def test_given_check_when_answers_read_then_each_gets_10_seconds(requests_mock, monkeypatch):
    deadlines = []
    original = auth.read_body_within
    monkeypatch.setattr(
        auth,
        "read_body_within",
        lambda r, started, seconds: deadlines.append(seconds) or original(r, started, seconds),
    )
    FakeApi(requests_mock).list("/v2/templates", [{"id": oid(1)}])

    check_connection(config())
    read_streams(config(), "templates")

    assert deadlines == [10, auth.REQUEST_DEADLINE_SECONDS], "check: 10 s; a read: the 300 s default"


# ------------------------------------------------------------------------------------------ network failures


def _raising(exception_class, text):
    """A requests-mock callback raising `exception_class` as `requests` does: with the request attached."""

    def respond(request, context):
        raise exception_class(text, request=request)

    return respond


NETWORK_FAILURES = [
    (requests.exceptions.ConnectionError, "[Errno 111] Connection refused", "api.100ms.live refused the connection"),
    (requests.exceptions.ConnectTimeout, "connect timed out", "api.100ms.live did not accept a connection in time"),
    (requests.exceptions.ReadTimeout, "Read timed out. (read timeout=60)", "api.100ms.live did not answer in time"),
    (requests.exceptions.SSLError, "certificate verify failed", "TLS handshake with api.100ms.live failed"),
    (requests.exceptions.ConnectionError, "Connection reset by peer", "connection to api.100ms.live failed or was cut"),
    (requests.exceptions.ChunkedEncodingError, "IncompleteRead", "answer of api.100ms.live was cut off"),
]


@pytest.mark.parametrize(
    "exception_class, text, words",
    NETWORK_FAILURES,
    ids=["refused", "connect-timeout", "read-timeout", "tls", "reset", "cut-off"],
)
def test_given_network_failure_when_retries_run_out_then_says_what_happened_and_where_never_rate_limit(
    requests_mock, exception_class, text, words
):
    route = requests_mock.get(TEMPLATES, json=_raising(exception_class, text))
    output = read_streams(config(), "templates", expect_error=True)
    error = stream_error(output)
    assert route.call_count == 9, "a network failure is retried"
    assert error.failure_type == FailureType.transient_error
    assert words in error.message, error.message
    assert "rate limit" not in error.message.lower() and "rate limit" not in (error.internal_message or "").lower()


def test_given_nothing_listens_on_the_api_port_when_read_then_refused_connection_named_with_the_host():
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    output = read_streams(config(api_url=f"http://127.0.0.1:{port}"), "templates", expect_error=True)
    error = stream_error(output)
    assert f"127.0.0.1:{port} refused the connection" in error.message
    assert "rate limit" not in error.message.lower()


# ------------------------------------------------------------------------------------------ fail at once


@pytest.mark.parametrize(
    "status, words",
    [
        (405, "HTTP Status Code: 405"),  # the CDK's own mapping fails it, with its own words
        (409, f"{TEMPLATES} with 409"),
        (413, f"{TEMPLATES} with 413"),
        (422, f"{TEMPLATES} with 422"),
        (431, f"{TEMPLATES} with 431"),
    ],
)
def test_given_4xx_no_filter_names_when_read_then_fails_at_once(requests_mock, status, words):
    route = requests_mock.get(TEMPLATES, status_code=status, json={"code": status, "message": "nope"})
    output = read_streams(config(), "templates", expect_error=True)
    error = stream_error(output)
    assert route.call_count == 1, "sending it again cannot help"
    assert error.failure_type == FailureType.system_error
    assert words in error.message, error.message


def test_given_403_on_a_list_when_read_then_config_error_naming_endpoint_and_plan_not_only_credentials(
    requests_mock,
):
    route = requests_mock.get(
        f"{API}/v2/recordings", status_code=403, json={"code": 403, "message": "insufficient permissions"}
    )
    output = read_streams(config(), "recordings", expect_error=True)
    error = stream_error(output)
    assert route.call_count == 1
    assert error.failure_type == FailureType.config_error
    assert f"403 (insufficient permissions) to {API}/v2/recordings" in error.message
    assert "closed to these credentials" in error.message and "plan gives API access" in error.message


def test_given_400_when_read_then_config_error_with_100ms_message_and_details(requests_mock):
    route = requests_mock.get(
        f"{API}/v2/rooms",
        status_code=400,
        json={"code": 400, "message": "Invalid query param", "details": ["before must be after after"]},
    )
    output = read_streams(config(room_filters={"enabled": "enabled"}), "rooms", expect_error=True)
    error = stream_error(output)
    assert route.call_count == 1
    assert error.failure_type == FailureType.config_error
    assert f"{API}/v2/rooms (400: Invalid query param before must be after after)" in error.message


# ------------------------------------------------------------------------------------------ skipped parents


def test_given_403_room_is_disabled_for_one_room_when_read_room_codes_then_that_room_skipped_with_warning(
    requests_mock,
):
    api = FakeApi(requests_mock)
    api.list("/v2/rooms", [{"id": oid(1), "enabled": True}, {"id": oid(2), "enabled": True}])
    disabled = api.object(
        f"/v2/room-codes/room/{oid(1)}", {"code": 403, "message": "Room is disabled", "details": []}, status=403
    )
    api.list(f"/v2/room-codes/room/{oid(2)}", [{"code": "aaa-bbb-ccc", "room_id": oid(2)}], key="code")

    output = read_streams(config(), "room_codes")

    assert [r["code"] for r in records(output)] == ["aaa-bbb-ccc"]
    assert output.errors == [] and disabled.call_count == 1, "skipped at once, not retried"
    warnings = [log.log.message for log in output.logs if log.log.level.name == "WARN"]
    assert any(f"{API}/v2/room-codes/room/{oid(1)}" in w and "Room is disabled" in w for w in warnings), warnings


def test_given_404_for_one_room_when_read_active_room_peers_then_skipped_with_warning_naming_it(requests_mock):
    api = FakeApi(requests_mock)
    api.sessions(
        [
            {"id": oid(10), "room_id": oid(1), "active": True, "peers": {}},
            {"id": oid(11), "room_id": oid(2), "active": True, "peers": {}},
        ]
    )
    api.object(f"/v2/active-rooms/{oid(1)}/peers", {"code": 404, "message": "room not active"}, status=404)
    api.object(f"/v2/active-rooms/{oid(2)}/peers", {"peers": {"p1": {"id": "p1"}}})

    output = read_streams(config(), "active_room_peers")

    assert [(r["room_id"], r["id"]) for r in records(output)] == [(oid(2), "p1")]
    assert output.errors == []
    warnings = [log.log.message for log in output.logs if log.log.level.name == "WARN"]
    assert any(f"{API}/v2/active-rooms/{oid(1)}/peers" in w and "room not active" in w for w in warnings), warnings
