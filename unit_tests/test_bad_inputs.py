"""Bad input, table-driven: configs, answers from 100ms and states, each with the error a user gets.

Each case states the input and the words the message must contain, so a vague or misleading message fails.
"""

from __future__ import annotations

import pytest
from airbyte_cdk.models import FailureType, SyncMode

from unit_tests.fake_api import SECRET, FakeApi, config, records
from unit_tests.helpers import check_connection, oid, output_text, read_streams, read_through_entrypoint, stream_error

GOOD = config()
CREDS = GOOD["credentials"]

BAD_CONFIGS = [
    ("no credentials", {"page_size": 100}, "Authentication is missing"),
    ("no secret", {"credentials": {"auth_type": "app_credentials", "app_access_key": "k"}}, "`app_secret`"),
    ("unknown auth type", {"credentials": {"auth_type": "oauth2", "token": "t"}}, "auth_type: app_credentials"),
    ("token not text", {"credentials": {"auth_type": "management_token", "management_token": 5}}, "all as text"),
    ("page size too small", {"credentials": CREDS, "page_size": 5}, "from 10 to 100"),
    ("page size too large", {"credentials": CREDS, "page_size": 101}, "from 10 to 100"),
    ("page size not a number", {"credentials": CREDS, "page_size": "many"}, "from 10 to 100"),
    ("start date without time", {"credentials": CREDS, "start_date": "2024-01-01"}, "2024-01-01T00:00:00Z"),
    ("start date in words", {"credentials": CREDS, "start_date": "yesterday"}, "UTC date-time"),
    ("room filter date", {"credentials": CREDS, "room_filters": {"after": "01/02/2024"}}, "room_filters.after"),
    ("room filter enabled", {"credentials": CREDS, "room_filters": {"enabled": "yes"}}, "`any`, `enabled` or"),
    ("http api url", {"credentials": CREDS, "api_url": "http://api.100ms.live"}, "must be an https://"),
    ("ftp api url", {"credentials": CREDS, "api_url": "ftp://api.100ms.live"}, "must be an https://"),
    ("api url with path", {"credentials": CREDS, "api_url": "https://x.test/v2/rooms"}, "must be an https://"),
    ("too many workers", {"credentials": CREDS, "num_workers": 50}, "from 1 to 20"),
    ("room ids not a list", {"credentials": CREDS, "room_ids": "abc"}, "`room_ids` must be of type array"),
    ("event types not text", {"credentials": CREDS, "analytics_event_types": [1]}, "analytics_event_types.0"),
]


@pytest.mark.parametrize("config_, words", [c[1:] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS])
def test_given_bad_config_when_check_then_failed_status_names_the_field_and_fix(requests_mock, config_, words):
    output = check_connection(config_)
    status = output.connection_status_messages[-1].connectionStatus
    assert status.status.name == "FAILED"
    assert words in status.message
    assert requests_mock.call_count == 0, "a bad config must not reach 100ms"


@pytest.mark.parametrize("config_, words", [c[1:] for c in BAD_CONFIGS[:6]], ids=[c[0] for c in BAD_CONFIGS[:6]])
def test_given_bad_config_when_read_then_config_error_with_the_same_words(requests_mock, config_, words):
    output = read_through_entrypoint(config_, "templates")
    assert output.error is not None
    assert output.error.failure_type == FailureType.config_error
    assert words in output.error.message


def test_given_room_ids_unknown_to_the_workspace_when_check_then_names_them(requests_mock):
    api = FakeApi(requests_mock)
    api.list("/v2/templates", [{"id": oid(1)}])
    api.list("/v2/rooms", [{"id": oid(5)}, {"id": oid(6)}])
    output = check_connection(config(room_ids=[oid(5), "no-such-room"], room_filters={"name": "x"}))
    status = output.connection_status_messages[-1].connectionStatus
    assert status.status.name == "FAILED"
    assert "no-such-room" in status.message and oid(5) not in status.message


def test_given_known_template_ids_when_check_then_succeeds(requests_mock):
    FakeApi(requests_mock).list("/v2/templates", [{"id": oid(1)}, {"id": oid(2)}])
    output = check_connection(config(template_ids=[oid(2)]))
    assert output.connection_status_messages[-1].connectionStatus.status.name == "SUCCEEDED"


BAD_ANSWERS = [
    # (case, response, failure type, words)
    ("unauthorized", {"status_code": 401, "json": {"code": 401, "message": "Token validation error"}},
     FailureType.config_error, "App Access Key and App Secret"),
    ("forbidden", {"status_code": 403, "json": {"code": 403, "message": "insufficient permissions"}},
     FailureType.config_error, "403 (insufficient permissions) to https://api.100ms.live/v2/recordings"),
    ("bad request", {"status_code": 400, "json": {"code": 400, "message": "Invalid query param",
                                                  "details": ["status must be one of completed, failed"]}},
     FailureType.config_error, "Invalid query param"),
    ("not found list", {"status_code": 404, "json": {"code": 404, "message": "not found"}},
     FailureType.system_error, "404"),
    ("server error forever", {"status_code": 500, "json": {"code": 500, "message": "boom"}},
     FailureType.transient_error, "/v2/recordings"),
    ("html forever", {"status_code": 200, "text": "<html>maintenance</html>", "headers": {"Content-Type": "text/html"}},
     FailureType.transient_error, "not complete JSON"),
]  # fmt: skip


@pytest.mark.parametrize("response, failure, words", [c[1:] for c in BAD_ANSWERS], ids=[c[0] for c in BAD_ANSWERS])
def test_given_bad_answer_when_read_then_error_type_and_message(requests_mock, response, failure, words):
    requests_mock.get("https://api.100ms.live/v2/recordings", **response)
    output = read_streams(config(), "recordings", expect_error=True)
    error = stream_error(output)
    assert error.failure_type == failure
    assert words.lower() in error.message.lower()
    assert SECRET not in output_text(output)


SESSION = {"id": oid(1), "active": False, "updated_at": "2024-05-01T10:00:00.5Z"}

BAD_STATES = [
    # (case, state, whether the user is warned)
    ("cursor not a date", {"updated_at": "not-a-date"}, True),
    ("cursor a number", {"updated_at": 12345}, True),
    ("empty state", {}, False),
    ("unknown shape", {"states": "garbage"}, True),
    # no cursor left at all: the state is dropped whole, with a word
    ("partition without cursor", {"states": [{"partition": {"active": "false"}, "cursor": {}}]}, True),
    ("partition cursor garbage", {"states": [{"partition": {"active": "false"}, "cursor": {"updated_at": "x"}}]}, True),
]


@pytest.mark.parametrize("state_blob, warned", [c[1:] for c in BAD_STATES], ids=[c[0] for c in BAD_STATES])
def test_given_malformed_state_when_read_then_clean_restart_or_clear_error(requests_mock, state_blob, warned):
    from airbyte_cdk.test.state_builder import StateBuilder

    FakeApi(requests_mock).list("/v2/sessions", lambda q: [SESSION] if q["active"] == ["false"] else [])
    state = StateBuilder().with_stream_state("sessions", state_blob).build()
    output = read_streams(config(), "sessions", mode=SyncMode.incremental, state=state, expect_error=True)
    assert output.errors == []
    assert [r["id"] for r in records(output)] == [oid(1)], "the stream is read again from the start"
    assert any("saved state of stream sessions" in log.log.message for log in output.logs) is warned


def test_given_a_slow_start_when_check_waits_then_it_answers_within_27_seconds_of_the_executable_start(monkeypatch):
    """`check` answers within 30 s of the executable's start: the wait for the server is what start-up left of 27 s
    (importing the CDK took 5 s on a loaded machine), between 5 and 25 s."""
    import source_100ms
    from source_100ms.source import check_wait_seconds

    monkeypatch.setattr(source_100ms, "STARTED_AT", None)
    assert check_wait_seconds(1e9) == 25, "no executable (tests, Airbyte's runner): the whole 25 s"
    monkeypatch.setattr(source_100ms, "STARTED_AT", 1000.0)
    assert check_wait_seconds(1001.0) == 25, "a quick start: the whole 25 s"
    assert check_wait_seconds(1005.0) == 22, "5 s of start-up: 22 s left"
    assert check_wait_seconds(1030.0) == 5, "never less than 5 s for the server"
