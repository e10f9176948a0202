"""Custom streams: macro parsing, datetime arithmetic, JSONPath selection, and every config error at check."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from airbyte_cdk.models import FailureType, Status
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_100ms.components.custom import (
    Lookup,
    Now,
    check_custom_streams,
    format_now,
    parse_entry,
    parse_macros,
    resolved_manifest,
    shift,
)
from source_100ms.components.extractors import select
from source_100ms.source import Source100ms
from unit_tests.fake_api import FakeApi, config
from unit_tests.helpers import check_connection, oid, read_streams

NOW = datetime(2024, 3, 31, 13, 45, 10, tzinfo=UTC)


# ------------------------------------------------------------------------------------------ macros


def test_given_url_with_macros_when_parsed_then_literals_dates_and_lookups_in_order():
    assert parse_macros("/v2/sessions?room_id={rooms.id}&after={now-7}&before={ now + 2 }&x={now}") == [
        "/v2/sessions?room_id=",
        Lookup("rooms", "id"),
        "&after=",
        Now(-7),
        "&before=",
        Now(2),
        "&x=",
        Now(0),
    ]


def test_given_dotted_lookup_when_parsed_then_field_path_and_output_field_use_every_part():
    (lookup,) = [t for t in parse_macros("/v2/x/{sessions.recording.id}") if isinstance(t, Lookup)]
    assert lookup.path == ["recording", "id"]
    assert lookup.output_field == "sessions_recording_id"


@pytest.mark.parametrize(
    "text", ["/v2/{nowish}", "/v2/{now-x}", "/v2/{now*2}", "/v2/{Rooms.id}", "/v2/{rooms}", "/v2/{}"]
)
def test_given_unknown_macro_when_parsed_then_value_error_names_the_macro_forms(text):
    with pytest.raises(ValueError, match=r"unknown macro .*\{now-N\}"):
        parse_macros(text)


@pytest.mark.parametrize("text", ["/v2/{now", "/v2/now}", "/v2/{{now}}", "/v2/{a{now}"])
def test_given_unbalanced_brace_when_parsed_then_value_error(text):
    with pytest.raises(ValueError):
        parse_macros(text)


@pytest.mark.parametrize(
    "amount, unit, expected",
    [
        (0, "day", datetime(2024, 3, 31, 13, 45, 10, tzinfo=UTC)),
        (-7, "day", datetime(2024, 3, 24, 13, 45, 10, tzinfo=UTC)),
        (2, "day", datetime(2024, 4, 2, 13, 45, 10, tzinfo=UTC)),
        (-90, "minute", datetime(2024, 3, 31, 12, 15, 10, tzinfo=UTC)),
        (5, "hour", datetime(2024, 3, 31, 18, 45, 10, tzinfo=UTC)),
        (-2, "week", datetime(2024, 3, 17, 13, 45, 10, tzinfo=UTC)),
        # Calendar months, the day clamped to the end of a shorter month (2024 is a leap year).
        (-1, "month", datetime(2024, 2, 29, 13, 45, 10, tzinfo=UTC)),
        (1, "month", datetime(2024, 4, 30, 13, 45, 10, tzinfo=UTC)),
        (-13, "month", datetime(2023, 2, 28, 13, 45, 10, tzinfo=UTC)),
        (10, "month", datetime(2025, 1, 31, 13, 45, 10, tzinfo=UTC)),
        (-3, "month", datetime(2023, 12, 31, 13, 45, 10, tzinfo=UTC)),
    ],
)
def test_given_offset_in_unit_when_shifted_then_expected_instant(amount, unit, expected):
    assert shift(NOW, amount, unit) == expected


@pytest.mark.parametrize(
    "fmt, expected",
    [
        ("%Y-%m-%dT%H:%M:%SZ", "2024-03-24T13:45:10Z"),
        ("%Y-%m-%d", "2024-03-24"),
        ("%d/%m/%Y %H:%M", "24/03/2024 13:45"),
    ],
)
def test_given_datetime_format_when_now_minus_7_days_formatted_then_strftime_output(fmt, expected):
    assert format_now(NOW, Now(-7), "day", fmt) == expected


# ------------------------------------------------------------------------------------------ JSONPath

BODY = {
    "limit": 10,
    "last": "s2",
    "data": [
        {"id": "s1", "peers": {"p1": {"id": "p1"}}},
        {"id": "s2", "peers": {"p2": {"id": "p2"}, "p3": {"id": "p3"}}},
    ],
    "peers": {"a": {"id": "a"}, "b": {"id": "b"}},
    "nested": {"result": {"items": [{"k": 1}, {"k": 2}]}},
}


@pytest.mark.parametrize(
    "path, expected",
    [
        ("$.data[*]", [BODY["data"][0], BODY["data"][1]]),
        ("$.peers[*]", [{"id": "a"}, {"id": "b"}]),  # a map's values
        ("$.nested.result.items[*]", [{"k": 1}, {"k": 2}]),
        ("$.data[*].peers[*]", [{"id": "p1"}, {"id": "p2"}, {"id": "p3"}]),
        ("$.data[?@.id == 's2'].id", ["s2"]),
        ("$", [BODY]),
        ("$.missing[*]", []),
        ("$.nested.missing", []),
        ("$.limit", [10]),
    ],
)
def test_given_jsonpath_when_selected_then_rfc9535_nodes(path, expected):
    assert select(path, BODY) == expected


# ------------------------------------------------------------------------------------------ config errors


def _stream(**fields):
    return {"name": "polls", "url": "/v2/polls/{rooms.polls}", **fields}


CONFIG_ERRORS = [
    ([_stream(record_path="$.data[")], r"'polls'.*record_path.*not a valid RFC 9535 JSONPath"),
    ([_stream(record_path="data[*]")], r"'polls'.*record_path.*JSONPath"),
    ([_stream(metadata_path="$..[")], r"'polls'.*metadata_path.*JSONPath"),
    ([_stream(url="/v2/polls/{poll}")], r"'polls'.*unknown macro \{poll\}"),
    ([_stream(url="/v2/polls/{nowhere.id}")], r"'polls'.*\{nowhere.id\} names no stream.*rooms"),
    ([_stream(url="/v2/polls/{polls.id}")], r"'polls'.*refers to the stream itself"),
    (
        [
            _stream(url="/v2/polls/{now"),
        ],
        r"'polls'.*unbalanced",
    ),
    ([_stream(), _stream()], r"'polls'.*two custom streams are named `polls`"),
    ([_stream(name="rooms")], r"'rooms'.*built-in stream.*choose another name"),
    ([_stream(name="Bad Name")], r"'Bad Name'.*`name` 'Bad Name' is not valid"),
    ([_stream(), {"url": "/v2/rooms"}], r"#2.*`name` None is not valid"),
    ([_stream(url="https://evil.example.com/v2/polls")], r"'polls'.*not on the configured API host"),
    ([_stream(url="http://api.100ms.live/v2/polls")], r"'polls'.*not on the configured API host"),
    ([_stream(url="//evil.example.com/v2/polls")], r"'polls'.*not on the configured API host"),
    ([_stream(request_headers="Authorization:Bearer x")], r"'polls'.*Authorization.*remove it"),
    ([_stream(request_headers="x-a:1, authorization : b")], r"'polls'.*authorization"),
    ([_stream(request_headers="just-a-name")], r"'polls'.*name:value"),
    ([_stream(request_headers="X-Since:{yesterday}")], r"'polls'.*header X-Since.*unknown macro"),
    ([_stream(http_method="POST")], r"'polls'.*http_method.*GET"),
    ([_stream(time_unit="year")], r"'polls'.*time_unit"),
    ([_stream(url="")], r"'polls'.*`url` is required"),
    ([_stream(primary_key=[1])], r"'polls'.*primary_key"),
    (
        [
            {"name": "a", "url": "/v2/x/{b.id}"},
            {"name": "b", "url": "/v2/y/{c.id}"},
            {"name": "c", "url": "/v2/z/{a.id}"},
        ],
        r"cycle \(a -> b -> c -> a\)",
    ),
    ([{"name": "a", "url": "/v2/x/{b.id}"}, {"name": "b", "url": "/v2/y/{a.id}"}], r"cycle \(a -> b -> a\)"),
    # what could make the URL leave the API origin, or name another endpoint than it says
    ([_stream(url="/v2/polls/{rooms.polls} x")], r"'polls'.*control character, a space or a backslash"),
    ([_stream(url="/v2/polls\\{rooms.polls}")], r"'polls'.*control character, a space or a backslash"),
    ([_stream(url="/v2/po\tlls/{rooms.polls}")], r"'polls'.*control character, a space or a backslash"),
    ([_stream(url="/v2/polls/{rooms.polls}\r\nHost: evil")], r"'polls'.*control character"),
    ([_stream(url="/v2/../__admin/{rooms.polls}")], r"'polls'.*no `\.` or `\.\.` segments"),
    ([_stream(url="/v2/%2E%2e/__admin/{rooms.polls}")], r"'polls'.*no `\.` or `\.\.` segments"),
    ([_stream(url="/v2/./polls/{rooms.polls}")], r"'polls'.*no `\.` or `\.\.` segments"),
    ([_stream(url="/v2/polls/..?x={rooms.polls}")], r"'polls'.*no `\.` or `\.\.` segments"),
    ([_stream(url="/v2/polls/{rooms.polls}#frag")], r"'polls'.*no fragment"),
    ([_stream(url="https://api.100ms.live@evil.example.com/v2/polls")], r"'polls'.*not on the configured API host"),
    ([_stream(url="https://api.100ms.live:8443/v2/polls")], r"'polls'.*not on the configured API host"),
    # headers a stream may not set, or values that would split the request
    ([_stream(request_headers="Accept:text/html")], r"'polls'.*sets Accept; remove it"),
    ([_stream(request_headers="Host:evil.example.com")], r"'polls'.*sets Host; remove it"),
    ([_stream(request_headers="Cookie:session=1")], r"'polls'.*sets Cookie; remove it"),
    ([_stream(request_headers="Proxy-Authorization:Basic eA==")], r"'polls'.*sets Proxy-Authorization"),
    ([_stream(request_headers="X-A:one\rX-B:two")], r"'polls'.*header X-A holds a line break"),
    ([_stream(request_headers="X-A:line\nbreak")], r"'polls'.*header X-A holds a line break"),
    ([_stream(request_headers="X-Team:équipe")], r"'polls'.*header X-Team.*non-ASCII"),
    ([_stream(request_headers="X Team:video")], r"'polls'.*name:value"),
    ([_stream(url="/v2/sessions?after={now-3000000}")], r"'polls'.*\{now-3000000\} is too far"),
    ([_stream(datetime_format="%Y-{%m}")], r"'polls'.*datetime_format"),
]


@pytest.mark.parametrize("streams, message", CONFIG_ERRORS)
def test_given_mistake_when_parsed_then_config_error_names_stream_and_fix(streams, message):
    with pytest.raises(AirbyteTracedException) as raised:
        cfg = config(custom_streams=streams)
        check_custom_streams(cfg, resolved_manifest(cfg)["streams"])
    assert raised.value.failure_type == FailureType.config_error
    assert raised.value.message
    assert re.search(message, raised.value.message), raised.value.message


CHECKED_AT_CHECK = [
    pytest.param([_stream(url="/v2/polls/{poll}")], r"'polls'.*unknown macro \{poll\}", id="unknown-macro"),
    pytest.param(
        [_stream(url="https://evil.example.com/v2/polls")], r"'polls'.*not on the configured API host", id="other-host"
    ),
]


@pytest.mark.parametrize("streams, message", CHECKED_AT_CHECK)
def test_given_mistake_when_check_then_failed_status_and_config_error_trace_without_requests(
    requests_mock, streams, message
):
    templates = FakeApi(requests_mock).list("/v2/templates", [{"id": oid(1)}])
    output = check_connection(config(custom_streams=streams))
    statuses = [m.connectionStatus for m in output.connection_status_messages]
    assert [s.status for s in statuses] == [Status.FAILED]
    assert re.search(message, statuses[0].message or "")
    assert templates.call_count == 0, "a config with a mistake must not reach 100ms"


@pytest.mark.parametrize("streams, message", CHECKED_AT_CHECK)
def test_given_mistake_when_read_then_config_error_trace_and_no_request(requests_mock, streams, message):
    templates = FakeApi(requests_mock).list("/v2/templates", [{"id": oid(1)}])
    output = read_streams(config(custom_streams=streams), "templates", expect_error=True)
    (trace,) = [m.trace.error for m in output.errors]
    assert trace.failure_type == FailureType.config_error
    assert re.search(message, trace.message), trace.message
    assert templates.call_count == 0 and output.records == []


def test_given_mistake_when_discover_then_config_error_raised():
    source = Source100ms(None, config(custom_streams=[_stream(url="/v2/{bad}")]), None)
    with pytest.raises(AirbyteTracedException, match="unknown macro"):
        source.discover(None, {})


def test_given_full_url_on_the_api_host_when_parsed_then_path_kept():
    spec = parse_entry(_stream(url="https://api.100ms.live/v2/polls/{rooms.polls}?a=1"), config())
    assert spec.path == ["/v2/polls/", Lookup("rooms", "polls"), "?a=1"]


def test_given_valid_streams_when_check_then_succeeds_having_read_the_first_custom_stream(requests_mock):
    api = FakeApi(requests_mock)
    api.list("/v2/templates", [])
    api.list("/v2/rooms", [{"id": oid(1), "polls": ["p1"]}])
    poll = api.object("/v2/polls/p1", {"id": "p1", "room_id": oid(1)})
    output = check_connection(
        config(custom_streams=[_stream(), {"name": "keys", "url": "stream-keys/room/{polls.room_id}"}])
    )
    assert [m.connectionStatus.status for m in output.connection_status_messages] == [Status.SUCCEEDED]
    assert poll.call_count == 1, "check reads the first custom stream, which proves its endpoint answers"
