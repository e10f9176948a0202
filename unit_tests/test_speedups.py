"""The speed layer: each replacement returns what the CDK's own code returns, and only `install()` replaces."""

import sys
from datetime import UTC, datetime

import pytest
from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser
from airbyte_cdk.sources.types import StreamSlice

from source_100ms import speedups
from source_100ms.speedups import cdk_patches


@pytest.fixture(autouse=True, scope="module")
def installed():
    """Every test of this module runs with the whole layer installed, and leaves the CDK as it found it."""
    assert not speedups.installed(), "something installed the speed layer outside the executable"
    assert set(speedups.install({})) == set(speedups.NAMES)
    yield
    speedups.uninstall()
    assert DatetimeParser.parse is cdk_patches._original_parse


@pytest.mark.parametrize(
    "value, fmt",
    [
        ("2024-05-01T10:00:00.5Z", "%Y-%m-%dT%H:%M:%S.%fZ"),
        ("2024-05-01T10:00:00.123Z", "%Y-%m-%dT%H:%M:%S.%fZ"),
        ("2024-05-01T10:00:00.123456Z", "%Y-%m-%dT%H:%M:%S.%fZ"),
        ("2024-12-31T23:59:59Z", "%Y-%m-%dT%H:%M:%SZ"),
        ("0001-01-01T00:00:00Z", "%Y-%m-%dT%H:%M:%SZ"),
    ],
)
def test_given_rfc3339_value_when_fast_parse_then_same_datetime_as_strptime(value, fmt):
    fast = DatetimeParser().parse(value, fmt)
    slow = cdk_patches._original_parse(DatetimeParser(), value, fmt)
    assert fast == slow and fast.tzinfo is not None and fast.utcoffset() == UTC.utcoffset(None)


@pytest.mark.parametrize(
    "value, fmt",
    [
        ("2024-05-01T10:00:00Z", "%Y-%m-%dT%H:%M:%S.%fZ"),  # no fraction: strptime's ValueError, not a guess
        ("2024-05-01T10:00:00.1234567Z", "%Y-%m-%dT%H:%M:%S.%fZ"),  # seven digits
        ("2024-02-30T10:00:00Z", "%Y-%m-%dT%H:%M:%SZ"),  # no such day
        ("not-a-date", "%Y-%m-%dT%H:%M:%SZ"),
    ],
)
def test_given_value_strptime_rejects_when_fast_parse_then_rejected_too(value, fmt):
    with pytest.raises(ValueError):
        DatetimeParser().parse(value, fmt)
    with pytest.raises(ValueError):
        cdk_patches._original_parse(DatetimeParser(), value, fmt)


@pytest.mark.parametrize(
    "dt",
    [
        datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC),
        datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),  # the zero time keeps strptime's own spelling
    ],
)
def test_given_datetime_when_fast_format_then_same_text_as_strftime(dt):
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    assert DatetimeParser().format(dt, fmt) == cdk_patches._original_format(DatetimeParser(), dt, fmt)


@pytest.mark.parametrize(
    "text",
    ["2024-05-01T10:00:00.123456Z", "2024-05-01T10:00:00.5Z", "2024-05-01T10:00:00.120000Z", "0999-05-01T10:00:00.5Z"],
)
def test_given_value_just_parsed_when_format_then_same_text_as_strftime(text, monkeypatch):
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    parser = DatetimeParser()
    formatted = []
    monkeypatch.setattr(cdk_patches, "_original_format", lambda s, d, f: formatted.append(d) or "strftime")
    parsed = parser.parse(text, fmt)
    expected = "strftime" if parsed.year < 1000 else f"{parsed:%Y-%m-%dT%H:%M:%S}.{parsed.microsecond:06d}Z"
    assert parser.format(parsed, fmt) == expected
    assert formatted == ([parsed] if parsed.year < 1000 else [])  # strftime only where the fast path does not apply
    # Six digits: the parsed string itself, not a new one; an equal datetime that is another object is built.
    assert (parser.format(parsed, fmt) is text) == (len(text) == 27 and parsed.year >= 1000)
    assert parser.format(parsed.replace(), fmt) == expected


def test_given_other_format_when_parse_then_original_parser_used():
    assert DatetimeParser().parse("1714557600", "%s") == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_given_slice_when_hashed_twice_then_same_value_as_cdk_and_computed_once(monkeypatch):
    stream_slice = StreamSlice(partition={"room_id": "r1", "parent_slice": {}}, cursor_slice={"start": "a"})
    expected = cdk_patches._original_slice_hash(stream_slice)
    calls = []
    monkeypatch.setattr(cdk_patches, "_original_slice_hash", lambda s: calls.append(s) or expected)
    assert stream_slice.__hash__() == expected and stream_slice.__hash__() == expected
    assert len(calls) == 1
    # equal slices still hash equal, so dict lookups by an equal slice find the same entry
    twin = StreamSlice(partition={"room_id": "r1", "parent_slice": {}}, cursor_slice={"start": "a"})
    assert {stream_slice: 1}[twin] == 1
    assert StreamSlice(partition={"room_id": "r2"}, cursor_slice={}) not in {stream_slice: 1}


def test_given_partitions_when_keyed_then_cdk_keys_and_one_serialisation_per_mapping(monkeypatch):
    from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor
    from airbyte_cdk.sources.streams.checkpoint.per_partition_key_serializer import PerPartitionKeySerializer

    cursor = object.__new__(ConcurrentPerPartitionCursor)  # only the key method is exercised
    cursor._partition_serializer = PerPartitionKeySerializer()
    serialised = []
    original = cdk_patches._original_partition_key
    monkeypatch.setattr(cdk_patches, "_original_partition_key", lambda c, p: serialised.append(p) or original(c, p))
    first, second = {"room_id": "r1"}, {"room_id": "r2", "parent_slice": {"x": 1}}
    for _ in range(3):
        assert cursor._to_partition_key(first) == '{"room_id":"r1"}'
        assert cursor._to_partition_key(second) == '{"parent_slice":{"x":1},"room_id":"r2"}'
    assert serialised == [first, second]
    # an equal but distinct mapping is serialised on its own, never confused with a remembered one
    assert cursor._to_partition_key({"room_id": "r1"}) == '{"room_id":"r1"}' and len(serialised) == 3


def test_given_many_partitions_when_keyed_then_memory_bounded():
    from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor
    from airbyte_cdk.sources.streams.checkpoint.per_partition_key_serializer import PerPartitionKeySerializer

    cursor = object.__new__(ConcurrentPerPartitionCursor)
    cursor._partition_serializer = PerPartitionKeySerializer()
    partitions = [{"room_id": f"r{i}"} for i in range(3 * cdk_patches._PARTITION_KEYS_KEPT)]
    keys = [cursor._to_partition_key(p) for p in partitions]
    assert keys == [f'{{"room_id":"r{i}"}}' for i in range(len(partitions))]
    assert len(cursor.__dict__["_partition_keys_100ms"]) <= cdk_patches._PARTITION_KEYS_KEPT


def test_given_same_string_parsed_again_when_parse_then_kept_result_and_other_values_parsed_anew(monkeypatch):
    calls = []
    original = cdk_patches._original_parse
    monkeypatch.setattr(cdk_patches, "_original_parse", lambda s, d, f: calls.append(d) or original(s, d, f))
    parser, fmt = DatetimeParser(), "%Y-%m-%d"  # not a fast format: every real parse reaches the original
    value = "2024-05-01"
    assert parser.parse(value, fmt) == parser.parse(value, fmt) == datetime(2024, 5, 1, tzinfo=UTC)
    assert calls == [value]
    assert parser.parse("2024-05-02", fmt) == datetime(2024, 5, 2, tzinfo=UTC) and len(calls) == 2
    assert parser.parse(value, "%Y-%d-%m") == datetime(2024, 1, 5, tzinfo=UTC) and len(calls) == 3


def test_given_installed_then_gil_switch_interval_set():
    assert sys.getswitchinterval() == pytest.approx(speedups.SWITCH_INTERVAL_SECONDS)


def test_given_queue_items_when_handled_then_records_to_on_record_and_others_as_the_cdk_does():
    from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
    from airbyte_cdk.sources.concurrent_source.partition_generation_completed_sentinel import (
        PartitionGenerationCompletedSentinel,
    )
    from airbyte_cdk.sources.types import Record

    class Processor:
        def __init__(self):
            self.calls = []

        def on_record(self, record):
            self.calls.append(("record", record.data["id"]))
            yield f"message {record.data['id']}"

        def on_partition_generation_completed(self, sentinel):
            self.calls.append(("generated", sentinel.stream))
            yield "generation done"

    source, processor = object.__new__(ConcurrentSource), Processor()
    record = Record(data={"id": "e1"}, stream_name="analytics_events")
    sentinel = PartitionGenerationCompletedSentinel(stream="analytics_events")
    assert list(source._handle_item(record, processor)) == ["message e1"]
    assert list(source._handle_item(sentinel, processor)) == ["generation done"]
    assert processor.calls == [("record", "e1"), ("generated", "analytics_events")]
    with pytest.raises(ValueError, match="Unknown queue item type"):
        list(source._handle_item(object(), processor))


@pytest.mark.parametrize(
    "obj, glob, kwargs",
    [
        ({"room_id": "r1", "peers": {"p": {"id": "p"}}}, "room_id", {"default": None}),
        ({"room_id": None}, "room_id", {"default": None}),
        ({"id": "s1"}, "room_id", {"default": None}),
        ({"id": "s1"}, "room_id", {"default": []}),
        ({"a": {"b": "deep"}}, "a/b", {"default": None}),
        ({"a": {"b": "deep"}}, ["a", "b"], {"default": None}),
        ({"a1": 1, "a2": 2, "b": 3}, "b*", {"default": None}),
        ({"x": {"id": "v"}}, "x", {}),
    ],
)
def test_given_parent_record_when_key_read_then_same_as_dpath(obj, glob, kwargs):
    import dpath
    from airbyte_cdk.sources.declarative.partition_routers import substream_partition_router

    assert substream_partition_router.dpath.get(obj, glob, **kwargs) == dpath.get(obj, glob, **kwargs)


def test_given_missing_key_and_no_default_when_parent_key_read_then_dpath_error():
    import dpath.exceptions
    from airbyte_cdk.sources.declarative.partition_routers import substream_partition_router

    with pytest.raises(KeyError):
        substream_partition_router.dpath.get({"id": "s1"}, "room_id")
    assert isinstance(substream_partition_router.dpath.exceptions, type(dpath.exceptions))


def test_given_the_cursors_end_when_asked_within_a_second_then_kept_and_the_cdks_value_after_it(monkeypatch):
    from airbyte_cdk.sources.declarative.datetime.min_max_datetime import MinMaxDatetime

    end = MinMaxDatetime(
        datetime="{{ format_datetime(now_utc() + duration('PT15M'), '%Y-%m-%dT%H:%M:%S.%fZ') }}",
        datetime_format="%Y-%m-%dT%H:%M:%S.%fZ",
        parameters={},
    )
    config = {}
    clock = [1000.0]
    monkeypatch.setattr(cdk_patches.time, "monotonic", lambda: clock[0])
    first = end.get_datetime(config)
    assert abs((first - cdk_patches._original_get_datetime(end, config)).total_seconds()) < 1, "the CDK's value"
    clock[0] += 0.5
    assert end.get_datetime(config) is first, "kept within the second"
    assert end.get_datetime({}) is not first, "another config gets its own"
    clock[0] += 1.0
    assert end.get_datetime(config) > first, "recomputed after it"
    assert end.get_datetime(config, stream_state={}) is not first, "other arguments always go to the CDK"
