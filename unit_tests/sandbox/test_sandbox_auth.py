import time

import jwt
import pytest
from sandbox_testkit import Client


def test_good_token_is_accepted(client):
    status, body = client.get("/v2/rooms")
    assert status == 200 and body["data"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"type": "app"},
        {"version": "2"},
        {"version": 1},
        {"access_key": "000000000000000000000000"},
        {"jti": None},
        {"exp": int(time.time()) - 60},
        {"nbf": int(time.time()) + 600},
        {"iat": None},
    ],
    ids=["type", "version-string", "version-1", "access-key", "no-jti", "expired", "not-yet", "no-iat"],
)
def test_bad_claims_get_401(sb, overrides):
    c = Client(sb, token=sb.token(**overrides))
    status, body = c.get("/v2/rooms")
    assert status == 401
    assert body["code"] == 401 and body["message"] == "Token validation error"
    assert isinstance(body["details"], list) and body["details"]


def test_bad_signature_and_garbage_get_401(sb):
    claims = jwt.decode(sb.token(), options={"verify_signature": False})
    wrong = jwt.encode(claims, "a-wrong-secret-that-is-long-enough-for-hs256", algorithm="HS256")
    for tok in [wrong, "not.a.token", ""]:
        status, body = Client(sb, token=tok).get("/v2/sessions")
        assert status == 401 and body["message"] == "Token validation error"


def test_leeway_of_ten_seconds(sb):
    now = int(time.time())
    status, _ = Client(sb, token=sb.token(exp=now - 5)).get("/v2/rooms")
    assert status == 200


def test_secret_is_used_as_raw_bytes(sb):
    import base64

    secret = sb.workspace.app_secret
    try:
        decoded = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    except ValueError:
        return
    claims = jwt.decode(sb.token(), options={"verify_signature": False})
    status, _ = Client(sb, token=jwt.encode(claims, decoded, algorithm="HS256")).get("/v2/rooms")
    assert status == 401
