"""Where the management token may go: `api_url` parsed (100ms's API or a loopback host, nothing that merely
looks like one), and every request checked against that origin when it is sent."""

from __future__ import annotations

import pytest
import requests
from airbyte_cdk.models import FailureType, Status
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_100ms.components.auth import ManagementTokenAuthenticator
from source_100ms.components.origin import ApiOrigin, api_origin
from unit_tests.fake_api import API, config, records
from unit_tests.helpers import check_connection, oid, read_streams, stream_error


@pytest.mark.parametrize(
    "api_url, origin",
    [
        (None, ApiOrigin("https", "api.100ms.live", 443)),
        ("", ApiOrigin("https", "api.100ms.live", 443)),
        ("https://api.100ms.live", ApiOrigin("https", "api.100ms.live", 443)),
        ("https://api.100ms.live/", ApiOrigin("https", "api.100ms.live", 443)),
        ("HTTPS://API.100MS.LIVE", ApiOrigin("https", "api.100ms.live", 443)),
        ("http://127.0.0.1:8080", ApiOrigin("http", "127.0.0.1", 8080)),
        ("http://127.1.2.3", ApiOrigin("http", "127.1.2.3", 80)),
        ("https://localhost:8443/", ApiOrigin("https", "localhost", 8443)),
        ("http://[::1]:9000", ApiOrigin("http", "::1", 9000)),
    ],
)
def test_given_100ms_or_a_loopback_address_when_parsed_then_that_origin(api_url, origin):
    assert api_origin({"api_url": api_url}) == origin


@pytest.mark.parametrize(
    "api_url, why",
    [
        ("https://169.254.169.254", "sends its 100ms token to no other host"),  # cloud metadata
        ("https://2130706433", "sends its 100ms token to no other host"),  # 127.0.0.1 as one decimal number
        ("http://0x7f.0.0.1", "sends its 100ms token to no other host"),  # and in hexadecimal
        ("https://api.100ms.live@evil.example.com", "user information"),
        ("https://user:secret@api.100ms.live", "user information"),
        ("http://api.100ms.live", "sends its 100ms token to no other host"),  # http on the production host
        ("https://api.100ms.live:8443", "sends its 100ms token to no other host"),
        ("https://api.100ms.live.evil.example.com", "sends its 100ms token to no other host"),
        ("https://evil.example.com", "sends its 100ms token to no other host"),
        ("https://api.100ms.live/v2", "without a path, query or fragment"),
        ("https://api.100ms.live?x=1", "without a path, query or fragment"),
        ("https://api.100ms.live#x", "without a path, query or fragment"),
        ("https://api.100ms.live\\@evil.example.com", "control characters, spaces or backslashes"),
        ("ftp://127.0.0.1", "scheme 'ftp'"),
        ("http://localhost:99999", "out of range"),
        ("http://127.300.0.1", "sends its 100ms token to no other host"),  # not an address: a host name
        ("//api.100ms.live", "scheme ''"),
    ],
)
def test_given_anything_else_when_parsed_then_config_error_naming_api_url_and_why(api_url, why):
    with pytest.raises(AirbyteTracedException) as raised:
        api_origin({"api_url": api_url})
    assert raised.value.failure_type == FailureType.config_error
    assert raised.value.message.startswith("`api_url` must be https://api.100ms.live")
    assert why in raised.value.message, raised.value.message


@pytest.mark.parametrize("api_url", ["http://127.300.0.1:8080", "http://localhost:99999"])
def test_given_api_url_the_spec_pattern_lets_through_when_check_then_failed_before_any_request(requests_mock, api_url):
    status = check_connection(config(api_url=api_url)).connection_status_messages[-1].connectionStatus
    assert status.status == Status.FAILED and "`api_url` must be" in status.message
    assert requests_mock.call_count == 0


@pytest.mark.parametrize("api_url", ["http://127.0.0.1:8080", "http://localhost:9", "http://[::1]:9"])
def test_given_loopback_api_url_when_read_then_the_token_goes_there(requests_mock, api_url):
    route = requests_mock.get(f"{api_url}/v2/templates", json={"limit": 10, "data": [{"id": oid(1)}], "last": ""})
    output = read_streams(config(api_url=api_url), "templates")
    assert [r["id"] for r in records(output)] == [oid(1)]
    assert route.last_request.headers["Authorization"].startswith("Bearer ")


# ------------------------------------------------------------------------------------------ at request time


def _prepared(url: str) -> requests.PreparedRequest:
    return requests.Request("GET", url).prepare()


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/v2/rooms",
        "http://api.100ms.live/v2/rooms",
        "https://api.100ms.live:8443/v2/rooms",
        "https://api.100ms.live.evil.example.com/v2/rooms",
        "https://x@api.100ms.live/v2/rooms",
    ],
)
def test_given_request_to_another_origin_when_authenticated_then_refused_without_the_token(url):
    authenticator = ManagementTokenAuthenticator(config=config(), parameters={})
    request = _prepared(url)
    with pytest.raises(AirbyteTracedException) as raised:
        authenticator(request)
    assert raised.value.failure_type == FailureType.config_error
    assert (
        "Refused to send the 100ms token" in raised.value.message and "https://api.100ms.live" in raised.value.message
    )
    assert "Authorization" not in request.headers


def test_given_request_to_the_api_origin_when_authenticated_then_bearer_token_added():
    authenticator = ManagementTokenAuthenticator(config=config(), parameters={})
    request = authenticator(_prepared(f"{API}/v2/rooms?limit=10"))
    assert request.headers["Authorization"].startswith("Bearer ey")


def test_given_a_request_built_for_another_origin_when_read_then_refused_and_never_sent(requests_mock, monkeypatch):
    """Whatever code path builds a URL elsewhere, the authenticator refuses it before the token is added."""
    evil = requests_mock.get("https://evil.example.com/v2/templates", json={"limit": 10, "data": [], "last": ""})
    monkeypatch.setattr(HttpRequester, "get_url_base", lambda self, **kwargs: "https://evil.example.com/v2/")

    output = read_streams(config(), "templates", expect_error=True)

    assert evil.call_count == 0
    error = stream_error(output)
    assert error.failure_type == FailureType.config_error
    assert "Refused to send the 100ms token to 'https://evil.example.com/v2/templates" in error.message


def test_given_100ms_redirects_to_another_host_when_read_then_not_followed_and_config_error(requests_mock):
    """`requests` follows redirects itself, without the authenticator: the response hook refuses them."""
    requests_mock.get(f"{API}/v2/templates", status_code=302, headers={"Location": "https://evil.example.com/x"})
    elsewhere = requests_mock.get("https://evil.example.com/x", json={"limit": 10, "data": [{"id": "x"}], "last": ""})

    output = read_streams(config(), "templates", expect_error=True)

    assert elsewhere.call_count == 0
    assert records(output) == []
    error = stream_error(output)
    assert error.failure_type == FailureType.config_error
    assert f"redirected {API}/v2/templates to another host ('https://evil.example.com/x')" in error.message


def test_given_a_redirect_within_the_api_when_read_then_followed(requests_mock):
    requests_mock.get(f"{API}/v2/templates", status_code=301, headers={"Location": f"{API}/v2/templates-moved"})
    moved = requests_mock.get(f"{API}/v2/templates-moved", json={"limit": 10, "data": [{"id": oid(1)}], "last": ""})

    output = read_streams(config(), "templates")

    assert [r["id"] for r in records(output)] == [oid(1)] and moved.call_count == 1
