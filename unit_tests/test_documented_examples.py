"""Each stream reads 100ms's documented example (documented_examples.py) through the connector, HTTP mocked: every
record fits the stream's discovered schema (JSON Schema draft 7, `date-time` checked), and no secret the example
carries reaches the output."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from source_100ms.components.transformations import REDACTED
from unit_tests import documented_examples as doc
from unit_tests.fake_api import API, config, query, records
from unit_tests.helpers import discover_catalog, output_text, read_streams

EMPTY = {"limit": 10, "data": [], "last": ""}


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict]:
    return {s.name: s.json_schema for s in discover_catalog(config()).catalog.catalog.streams}


def _list(requests_mock, path: str, body: dict, **only) -> None:
    """`body` for the requests whose parameters match `only` (`active="false"`), an empty page for the others."""

    def respond(request, context):
        q = query(request)
        return doc.fresh(body) if all(q.get(k) == [v] for k, v in only.items()) else EMPTY

    requests_mock.get(re.compile(re.escape(API + path) + r"(\?|$)"), json=respond)


def _read_and_check(stream: str, schemas: dict, cfg: dict | None = None) -> list[dict]:
    output = read_streams(cfg or config(), stream)
    assert output.errors == []
    rows = records(output, stream)
    assert rows, "the example gave no record: the test would prove nothing"
    for row in rows:
        assert doc.schema_errors(row, schemas[stream]) == [], row
    text = output_text(output)
    assert [s for s in doc.SECRETS if s in text] == [], "a documented secret left the connector"
    return rows


def test_given_documented_rooms_when_read_then_records_fit_the_schema_and_secrets_are_gone(requests_mock, schemas):
    _list(requests_mock, "/v2/rooms", doc.ROOMS, enabled="true")
    (room,) = _read_and_check("rooms", schemas)
    assert room["recording_info"]["upload_info"] == {
        "type": "s3", "location": "bucket", "prefix": "dev/627cdddff2e4e30487862ad1",
        "options": {"region": "ap-south-1"},
    }  # fmt: skip
    assert room["webhook"] == {"url": "https://hooks.example.com/100ms", "headers": {"X-Team": "video"}}
    assert room["polls"] == ["631b2654f771854d9bf633db"] and room["created_at"] == "2022-09-08T15:07:37.83Z"


def test_given_documented_templates_when_read_then_records_fit_the_schema_and_secrets_are_gone(requests_mock, schemas):
    _list(requests_mock, "/v2/templates", doc.TEMPLATES)
    (template,) = _read_and_check("templates", schemas)
    assert template["settings"]["recording"]["upload"] == {
        "type": "s3", "location": "recordings-bucket", "prefix": "templates/", "options": {"region": "us-east-1"}
    }  # fmt: skip
    assert template["destinations"]["rtmpDestinations"]["yt"]["rtmpUrls"] == [
        f"rtmp://a.rtmp.youtube.com/live2/{REDACTED}",
        f"rtmps://live-api-s.facebook.com:443/rtmp/{REDACTED}?s_bl=1",
    ]
    assert template["plugins"] == doc.TEMPLATE["plugins"] and template["roles"] == doc.TEMPLATE["roles"]


def test_given_documented_template_settings_when_read_then_records_fit_the_schema_and_secrets_are_gone(
    requests_mock, schemas
):
    _list(requests_mock, "/v2/templates", doc.TEMPLATES)
    requests_mock.get(f"{API}/v2/templates/{doc.TEMPLATE_ID}/settings", json=doc.fresh(doc.SETTINGS))
    (settings,) = _read_and_check("template_settings", schemas)
    assert settings["template_id"] == doc.TEMPLATE_ID
    assert "credentials" not in settings["recording"]["upload"] and settings["roomState"]["messageInterval"] == 5


def test_given_documented_destinations_when_read_then_records_fit_the_schema_and_secrets_are_gone(
    requests_mock, schemas
):
    _list(requests_mock, "/v2/templates", doc.TEMPLATES)
    requests_mock.get(f"{API}/v2/templates/{doc.TEMPLATE_ID}/destinations", json=doc.fresh(doc.DESTINATIONS))
    rows = _read_and_check("templates_destinations", schemas)
    assert sorted((r["destination_type"], r["name"]) for r in rows) == [
        ("hls", "40c39240-b2a4-4a1b-9a8b-9c8d5d5d5d5d"), ("rtmp", "yt"), ("transcription", "tr")
    ]  # fmt: skip
    (rtmp,) = [r for r in rows if r["destination_type"] == "rtmp"]
    assert all(url.endswith(REDACTED) or f"{REDACTED}?" in url for url in rtmp["rtmpUrls"])


def test_given_documented_sessions_when_read_then_records_fit_the_schema(requests_mock, schemas):
    _list(requests_mock, "/v2/sessions", doc.SESSIONS, active="false")
    (session,) = _read_and_check("sessions", schemas)
    assert session["peers"][doc.PEER_ID]["left_at"] == "2022-09-06T11:17:03.643Z"


def test_given_documented_sessions_when_read_session_peers_then_records_fit_the_schema(requests_mock, schemas):
    _list(requests_mock, "/v2/sessions", doc.SESSIONS, active="false")
    (peer,) = _read_and_check("session_peers", schemas)
    assert (peer["id"], peer["session_id"], peer["room_id"]) == (
        doc.PEER_ID,
        doc.SESSION_ID,
        "627ce5b8f2e4e30487862adb",
    )
    assert peer["duration_seconds"] == 1.827 and peer["session_updated_at"] == "2022-09-06T11:17:03.65Z"


def test_given_documented_active_room_peers_when_read_then_records_fit_the_schema(requests_mock, schemas):
    running = doc.fresh(doc.SESSIONS)
    running["data"][0].update(active=True, room_id=doc.ROOM_ID)
    _list(requests_mock, "/v2/sessions", running, active="true")
    requests_mock.get(f"{API}/v2/active-rooms/{doc.ROOM_ID}/peers", json=doc.fresh(doc.ACTIVE_ROOM_PEERS))
    rows = _read_and_check("active_room_peers", schemas)
    assert sorted(r["name"] for r in rows) == ["John", "Nick"] and {r["room_id"] for r in rows} == {doc.ROOM_ID}
    assert {r["joined_at"] for r in rows} == {"2023-01-25T12:06:34.080990401Z", "2023-01-25T12:04:30.366388779Z"}


@pytest.mark.parametrize("family", sorted(doc.EVENTS))
def test_given_a_documented_analytics_event_of_each_family_when_read_then_it_fits_the_schema(
    requests_mock, schemas, family
):
    day = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%d")
    event = doc.dated(doc.EVENTS[family], day)
    _list(requests_mock, "/v2/sessions", doc.SESSIONS, active="never")
    requests_mock.get(f"{API}/v2/analytics/events", json={"limit": 1, "total": 1, "next": "", "events": [event]})
    (row,) = _read_and_check("analytics_events", schemas, config(room_ids=[doc.EVENT_ROOM]))
    assert row["id"] == event["id"] and row["room_id"] == doc.EVENT_ROOM
    if family == "recording":
        assert "recording_presigned_url" not in row["data"]
        assert row["data"]["rtmp"] == [{"url": f"rtmp://a.rtmp.youtube.com/live2/{REDACTED}"}]
    if family == "track":
        assert row["timestamp"] == f"{day}T10:12:00.783118Z", "the cursor field cut to microseconds"


def test_given_documented_recordings_when_read_then_records_fit_the_schema(requests_mock, schemas):
    _list(requests_mock, "/v2/recordings", doc.RECORDINGS)
    (recording,) = _read_and_check("recordings", schemas)
    assert recording["asset_types"] == ["room-composite", "chat", "transcript", "summary"]


def test_given_documented_recording_assets_with_string_layers_when_read_then_records_fit_the_schema(
    requests_mock, schemas
):
    _list(requests_mock, "/v2/recording-assets", doc.RECORDING_ASSETS)
    rows = {r["id"]: r for r in _read_and_check("recording_assets", schemas)}
    assert rows[doc.ROOM_VOD["id"]]["metadata"]["num_layers"] == "4"
    assert rows[doc.LAYER_ASSET["id"]]["metadata"]["layer"] == "0", "kept as the string 100ms sends"


def test_given_documented_live_streams_when_read_then_records_fit_the_schema(requests_mock, schemas):
    _list(requests_mock, "/v2/live-streams", doc.LIVE_STREAMS)
    (live,) = _read_and_check("live_streams", schemas)
    assert live["recording_assets"][0]["metadata"]["layer"] == "0"


def test_given_documented_external_streams_when_read_then_records_fit_the_schema_and_stream_keys_are_gone(
    requests_mock, schemas
):
    _list(requests_mock, "/v2/external-streams", doc.EXTERNAL_STREAMS)
    (external,) = _read_and_check("external_streams", schemas)
    assert external["rtmp_urls"] == [f"rtmp://a.rtmp.youtube.com/live2/{REDACTED}"]


def test_given_documented_room_codes_when_read_then_records_fit_the_schema(requests_mock, schemas):
    _list(requests_mock, "/v2/rooms", doc.ROOMS, enabled="true")
    requests_mock.get(f"{API}/v2/room-codes/room/{doc.ROOM_ID}", json=doc.fresh(doc.ROOM_CODES))
    rows = _read_and_check("room_codes", schemas)
    assert sorted(r["code"] for r in rows) == ["hkj-sdf-fda", "pqr-stu-vwx"]


def test_given_the_checker_when_a_record_breaks_the_schema_then_it_says_where():
    """The check above can fail: a wrong type and a date that is no date-time are both reported."""
    schema = {"type": "object", "properties": {"size": {"type": ["null", "integer"]},
                                               "created_at": {"type": "string", "format": "date-time"}}}  # fmt: skip
    assert doc.schema_errors({"size": "4", "created_at": "2023-02-30T10:00:00Z"}, schema) == [
        "size: '4' is not of type 'null', 'integer'",
        "created_at: '2023-02-30T10:00:00Z' is not a 'date-time'",
    ]
    assert doc.schema_errors({"size": 4, "created_at": "2023-02-23T10:12:00.78311898Z"}, schema) == []


def test_given_a_room_whose_updated_at_is_unset_when_read_then_the_unset_time_as_sent_fits_the_schema(
    requests_mock, schemas
):
    unset = doc.fresh(doc.ROOMS)
    unset["data"][0]["updated_at"] = "0001-01-01T00:00:00Z"  # Go's zero time, as the list-rooms example has it
    _list(requests_mock, "/v2/rooms", unset, enabled="true")
    (room,) = _read_and_check("rooms", schemas)
    assert room["updated_at"] == "0001-01-01T00:00:00Z"
