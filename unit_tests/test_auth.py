"""The management token: claims, reuse, renewal on 401, and the errors a user sees."""

import time

import jwt
import pytest
from airbyte_cdk.models import FailureType

from source_100ms.components import auth
from unit_tests.fake_api import ACCESS_KEY, SECRET, FakeApi, claims, config, decode, records
from unit_tests.helpers import check_connection, oid, output_text, read_streams, stream_error

UNAUTHORIZED = {"code": 401, "message": "Token validation error", "details": ["not found"]}


def test_given_app_credentials_when_read_then_bearer_token_has_management_claims(requests_mock):
    route = FakeApi(requests_mock).list("/v2/templates", [{"id": oid(i)} for i in range(25)])
    before = int(time.time())
    read_streams(config(), "templates")
    token = claims(route.last_request)
    assert token["access_key"] == ACCESS_KEY
    assert token["type"] == "management"
    assert token["version"] == 2 and isinstance(token["version"], int)
    assert token["jti"] and len(token["jti"]) == 36
    assert token["nbf"] == token["iat"] and before - 60 <= token["iat"] <= before
    assert token["exp"] - token["iat"] == 24 * 3600
    assert jwt.get_unverified_header(route.last_request.headers["Authorization"][7:])["alg"] == "HS256"


def test_given_many_requests_when_read_then_one_token_minted(requests_mock):
    route = FakeApi(requests_mock).list("/v2/templates", [{"id": oid(i)} for i in range(45)])
    read_streams(config(), "templates")
    assert route.call_count == 5
    assert len({r.headers["Authorization"] for r in route.request_history}) == 1


def test_given_token_near_expiry_when_asked_then_renewed(monkeypatch):
    minter = auth.token_minter(ACCESS_KEY, SECRET)
    first = minter.current()
    now = time.time()
    monkeypatch.setattr(auth.time, "time", lambda: now + 24 * 3600 - 10 * 60)
    second = minter.current()
    assert second != first
    assert decode(second, options={"verify_nbf": False, "verify_iat": False})["exp"] > now + 24 * 3600


def test_given_pasted_token_when_read_then_sent_as_is(requests_mock):
    route = FakeApi(requests_mock).list("/v2/templates", [{"id": oid(1)}])
    cfg = config(credentials={"auth_type": "management_token", "management_token": "pasted.jwt.token"})
    read_streams(cfg, "templates")
    assert route.last_request.headers["Authorization"] == "Bearer pasted.jwt.token"


def test_given_one_401_when_read_then_token_renewed_once_and_read_completes(requests_mock):
    seen = []

    def respond(request, context):
        seen.append(request.headers["Authorization"])
        if len(seen) == 1:
            context.status_code = 401
            return UNAUTHORIZED
        return {"limit": 10, "data": [{"id": oid(1)}], "last": oid(1)}

    requests_mock.get("https://api.100ms.live/v2/templates", json=respond)
    output = read_streams(config(), "templates")
    assert [r["id"] for r in records(output)] == [oid(1)]
    assert len(seen) == 2 and seen[0] != seen[1]


def test_given_wrong_secret_when_read_then_config_error_names_the_credentials(requests_mock):
    route = requests_mock.get("https://api.100ms.live/v2/templates", status_code=401, json=UNAUTHORIZED)
    output = read_streams(config(), "templates", expect_error=True)
    assert route.call_count == 2, "renew once, then give up"
    error = stream_error(output)
    assert error.failure_type == FailureType.config_error
    assert "App Access Key and App Secret" in error.message
    assert SECRET not in output_text(output)


def test_given_expired_pasted_token_when_check_then_fails_saying_paste_a_new_one(requests_mock):
    requests_mock.get("https://api.100ms.live/v2/templates", status_code=401, json=UNAUTHORIZED)
    cfg = config(credentials={"auth_type": "management_token", "management_token": "expired.jwt.token"})
    output = check_connection(cfg)
    status = output.connection_status_messages[-1].connectionStatus
    assert status.status.name == "FAILED"
    assert "Paste a new token" in status.message
    assert "expired.jwt.token" not in status.message


def test_given_good_credentials_when_check_then_succeeds(requests_mock):
    FakeApi(requests_mock).list("/v2/templates", [{"id": oid(1)}])
    output = check_connection(config())
    assert output.connection_status_messages[-1].connectionStatus.status.name == "SUCCEEDED"


@pytest.mark.parametrize(
    "credentials, fix",
    [
        ({"auth_type": "app_credentials", "app_access_key": "", "app_secret": "s"}, "App Access Key"),
        ({"auth_type": "management_token", "management_token": " "}, "management token is empty"),
        ({"auth_type": "oauth"}, "auth_type"),
    ],
)
def test_given_incomplete_credentials_when_authenticator_built_then_config_error(credentials, fix):
    with pytest.raises(Exception) as raised:
        auth.ManagementTokenAuthenticator(config={"credentials": credentials}, parameters={})
    assert raised.value.failure_type == FailureType.config_error
    assert fix in raised.value.message


def test_given_forbidden_endpoint_when_read_then_config_error_names_it(requests_mock):
    requests_mock.get(
        "https://api.100ms.live/v2/recordings",
        status_code=403,
        json={"code": 403, "message": "insufficient permissions"},
    )
    output = read_streams(config(), "recordings", expect_error=True)
    error = stream_error(output)
    assert error.failure_type == FailureType.config_error
    assert "/v2/recordings" in error.message and "insufficient permissions" in error.message


def test_given_bad_request_when_read_then_config_error_with_100ms_message(requests_mock):
    requests_mock.get(
        "https://api.100ms.live/v2/rooms",
        status_code=400,
        json={"code": 400, "message": "Invalid query param", "details": ["before must be after after"]},
    )
    output = read_streams(config(), "rooms", expect_error=True)
    error = stream_error(output)
    assert error.failure_type == FailureType.config_error
    assert "Invalid query param" in error.message and "before must be after after" in error.message
