"""SecretRedaction: one rule on every stream, custom ones included.

A field whose name holds secret, key, token, password, authorization, credential(s), signature, sig or presigned is
removed with everything under it; a URL loses its user information and the values of secret-named query parameters,
and an rtmp(s) URL the stream key that ends its path.
"""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus

import pytest

from source_100ms.components import transformations
from source_100ms.components.transformations import (
    REDACTED,
    SECRET_WORDS,
    SecretRedaction,
    is_secret_name,
    redact,
    redact_url,
)
from unit_tests.fake_api import API, config, query, records
from unit_tests.helpers import discover_catalog, oid, output_text, read_streams

Q = quote_plus(REDACTED)  # the marker as a query value


@pytest.mark.parametrize(
    "name",
    ["secret", "app_secret", "secretKey", "SECRET_KEY", "key", "X-Api-Key", "apiKey", "api_key", "keys", "token",
     "access_token", "refreshToken", "password", "passwd", "Authorization", "authorization", "credentials",
     "credential", "signature", "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "sig",
     "presigned_url", "recording_presigned_url", "streamKey", "stream-key"],
)  # fmt: skip
def test_given_a_name_that_says_secret_when_checked_then_secret(name):
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    ["id", "name", "room_id", "monkey", "keyboard", "tokenizer", "signal", "signed", "designation", "authorized",
     "num_layers", "hlsDestinations", "customer_id", "url", "location", "passage"],
)  # fmt: skip
def test_given_an_ordinary_name_when_checked_then_not_secret(name):
    assert not is_secret_name(name)


@pytest.mark.parametrize(
    "url, redacted",
    [
        ("https://user:pw@hooks.example.com/x?a=1", "https://hooks.example.com/x?a=1"),
        ("https://bucket.s3.amazonaws.com/f.mp4?X-Amz-Credential=AKIA1&X-Amz-Signature=abc&X-Amz-Expires=3600",
         f"https://bucket.s3.amazonaws.com/f.mp4?X-Amz-Credential={Q}"
         f"&X-Amz-Signature={Q}&X-Amz-Expires=3600"),
        ("https://h.example.com/p?token=t1&page=2#top", f"https://h.example.com/p?token={Q}"
                                                         "&page=2#top"),
        ("rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl", f"rtmp://a.rtmp.youtube.com/live2/{REDACTED}"),
        ("RTMPS://live.example.com:443/app/key123/", f"rtmps://live.example.com:443/app/{REDACTED}"),
        ("rtmp://live.example.com/stream-key-only", f"rtmp://live.example.com/{REDACTED}"),
        ("rtmp://live.example.com/", "rtmp://live.example.com/"),
        ("https://cdn.100ms.live/beam/6426ab22/master.m3u8", "https://cdn.100ms.live/beam/6426ab22/master.m3u8"),
    ],
    ids=["userinfo", "presigned-s3", "token-query", "rtmp-key", "rtmps-trailing-slash", "rtmp-one-segment",
         "rtmp-no-path", "plain-url-kept"],
)  # fmt: skip
def test_given_url_when_redacted_then_credentials_gone_and_the_rest_kept(url, redacted):
    assert redact_url(url) == redacted


def test_given_a_url_with_user_information_inside_text_when_redacted_then_the_password_is_gone():
    record = {
        "description": "recordings go to https://uploader:hunter2@bucket.example.com/rec?token=t1, see rtmp://h/app/k1"
    }
    redact(record)
    assert record["description"] == (
        f"recordings go to https://bucket.example.com/rec?token={quote_plus(REDACTED)}, see rtmp://h/app/{REDACTED}"
    )


def test_given_nested_lists_and_maps_when_redacted_then_every_level_cleaned_in_place():
    record = {
        "id": "r1",
        "webhook": {"url": "https://u:p@h.example.com/w", "headers": {"Authorization": "Bearer s", "X-Team": "v"}},
        "destinations": [{"rtmpUrls": ["rtmp://h/app/k1", "rtmp://h/app/k2"], "name": "yt"}, "rtmp://h/app/k3"],
        "settings": {"recording": {"upload": {"credentials": {"key": "AKIA", "secretKey": "s"}, "location": "b"}}},
        "matrix": [[{"password": "p", "keep": 1}]],
        "count": 3,
    }
    same = redact(record)
    assert same is record
    assert record == {
        "id": "r1",
        "webhook": {"url": "https://h.example.com/w", "headers": {"X-Team": "v"}},
        "destinations": [{"rtmpUrls": [f"rtmp://h/app/{REDACTED}"] * 2, "name": "yt"}, f"rtmp://h/app/{REDACTED}"],
        "settings": {"recording": {"upload": {"location": "b"}}},
        "matrix": [[{"keep": 1}]],
        "count": 3,
    }


def test_given_a_record_when_the_transformation_runs_then_the_rule_is_applied():
    record = {"id": "x", "app_secret": "s", "url": "rtmp://h/a/k"}
    SecretRedaction(parameters={}).transform(record)
    assert record == {"id": "x", "url": f"rtmp://h/a/{REDACTED}"}


def test_given_the_discovered_catalog_then_no_schema_declares_a_secret_field():
    def names(schema, path=""):
        if isinstance(schema, dict):
            for name, sub in (schema.get("properties") or {}).items():
                yield f"{path}.{name}", name
                yield from names(sub, f"{path}.{name}")
            for key in ("items", "additionalProperties"):
                yield from names(schema.get(key), f"{path}[]")
            for sub in schema.get("anyOf", []) + schema.get("oneOf", []):
                yield from names(sub, path)

    streams = discover_catalog(config()).catalog.catalog.streams
    assert len(streams) == 13
    declared = [f"{s.name}{where}" for s in streams for where, name in names(s.json_schema) if is_secret_name(name)]
    assert declared == []


# ------------------------------------------------------------------------------------------ every stream

MARK = "plantedsecret"


def _planted(n: int) -> dict:
    """Secrets in every shape the rule covers, next to values that must survive."""
    return {
        "api_key": f"{MARK}-{n}-a",
        "Authorization": f"Bearer {MARK}-{n}-b",
        "credentials": {"region": "kept-because-under-a-secret", "id": f"{MARK}-{n}-c"},
        "nested": [{"password": f"{MARK}-{n}-d", "keep": "this"},
                   f"https://user:{MARK}-{n}-e@hooks.example.com/x?sig={MARK}-{n}-f&keep=1"],
        "stream_url": f"rtmp://live.example.com/app/{MARK}-{n}-g",
    }  # fmt: skip


def _everything_with_secrets(request, context):
    """Each endpoint of the built-in streams, answering one object with planted secrets."""
    recent = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    path, item = request.path, _planted(len(request.path))
    room, template = oid(1), oid(2)
    if path == "/v2/analytics/events":
        event = {
            "id": "e1",
            "type": "beam.recording.success",
            "timestamp": recent,
            "data": {"room_id": room, "recording_presigned_url": f"https://h/x?X-Amz-Signature={MARK}", **item},
        }
        return {"limit": 1, "total": 1, "next": "", "events": [event]}  # fmt: skip
    if path == "/v2/sessions":
        peer = {"id": "p1", "session_id": oid(3), "joined_at": recent, **item}
        return {"limit": 10, "data": [{"id": oid(3), "room_id": room, "active": query(request)["active"] == ["true"],
                                       "created_at": recent, "updated_at": recent, "peers": {"p1": peer}, **item}],
                "last": ""}  # fmt: skip
    if path.endswith("/settings"):
        return {"region": "in", **item}
    if path.endswith("/destinations"):
        return {"rtmpDestinations": {"yt": {"name": "yt", "rtmpUrls": [f"rtmp://h/app/{MARK}-url"], **item}}}
    if path.startswith("/v2/active-rooms/"):
        return {"peers": {"p1": {"id": "p1", **item}}}
    ids = {"/v2/rooms": room, "/v2/templates": template}
    row = {"id": ids.get(path, oid(4)), "code": "abc-def-ghi", "enabled": True, "created_at": recent, **item}
    return {"limit": 10, "data": [row], "last": ""}


BUILT_IN = ["rooms", "templates", "template_settings", "templates_destinations", "sessions", "session_peers",
            "active_room_peers", "analytics_events", "recordings", "recording_assets", "live_streams",
            "external_streams", "room_codes"]  # fmt: skip


def test_given_secrets_in_every_answer_when_every_stream_read_then_none_leaves_the_connector(requests_mock):
    requests_mock.get(re.compile(re.escape(API) + "/"), json=_everything_with_secrets)

    output = read_streams(config(), *BUILT_IN)

    assert output.errors == []
    assert {stream for stream in BUILT_IN if not records(output, stream)} == set(), "every stream must be exercised"
    assert MARK not in output_text(output)
    for stream in BUILT_IN:
        row = records(output, stream)[0]
        nested = row["nested"] if "nested" in row else row["data"]["nested"]
        assert nested == [{"keep": "this"}, f"https://hooks.example.com/x?sig={Q}&keep=1"]


def test_given_custom_streams_when_read_then_the_same_rule_applies(requests_mock):
    requests_mock.get(f"{API}/v2/rooms", json={"limit": 10, "data": [{"id": oid(1), "enabled": True}], "last": ""})
    requests_mock.get(
        f"{API}/v2/stream-keys/room/{oid(1)}",
        json={"data": [{"id": oid(5), "key": f"{MARK}-key", "url": f"rtmp://live.100ms.live/hms/{MARK}-key2",
                        "room_id": oid(1)}], "last": ""},
    )  # fmt: skip
    requests_mock.get(
        f"{API}/v2/recording-assets/{oid(6)}/presigned-url",
        json={"id": oid(6), "path": "s3://b/f.mp4", "expiry": 3600,
              "url": f"https://b.s3.amazonaws.com/f.mp4?X-Amz-Signature={MARK}&X-Amz-Expires=3600"},
    )  # fmt: skip
    streams = [
        {"name": "stream_keys", "url": "/v2/stream-keys/room/{rooms.id}", "record_path": "$.data[*]"},
        {"name": "asset_url", "url": f"/v2/recording-assets/{oid(6)}/presigned-url"},
    ]

    output = read_streams(
        config(room_filters={"enabled": "enabled"}, custom_streams=streams), "stream_keys", "asset_url"
    )

    assert records(output, "stream_keys") == [
        {"id": oid(5), "url": f"rtmp://live.100ms.live/hms/{REDACTED}", "room_id": oid(1), "rooms_id": oid(1)}
    ]
    (asset,) = records(output, "asset_url")
    assert asset["url"] == f"https://b.s3.amazonaws.com/f.mp4?X-Amz-Signature={Q}&X-Amz-Expires=3600"
    assert MARK not in output_text(output)


def test_given_names_of_hex_digits_when_asked_then_the_id_shortcut_answers_as_the_words_do():
    transformations._says_secret.cache_clear()
    rng = random.Random(5)
    ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(200)] + [
        "65f0a1b2c3d4e5f6a7b8c9d0",
        "ab-cd",
        "dead_beef",
        "-",
    ]
    words = sorted(SECRET_WORDS) + [w.upper() for w in SECRET_WORDS] + ["id", "peer_id", "secretKey"]
    for name in ids + words:
        assert is_secret_name(name) == transformations._says_secret.__wrapped__(name), name
    assert not any(is_secret_name(name) for name in ids) and all(is_secret_name(w) for w in SECRET_WORDS)
    assert transformations._says_secret.cache_info().currsize == len(set(words)), "ids do not go into the cache"
