"""Speed-ups of the CDK's per-record hot paths, installed by `source_100ms.speedups` (never at import).

Each is measured (py-spy on a read of analytics events) and returns exactly what the CDK's code returns.

1. Cursor dates.
Why: the CDK's concurrent cursors parse each record's cursor value with `DatetimeParser.parse`, three times per
record (filter, observe, per-partition observe), and `DatetimeParser.parse` calls `datetime.strptime`. On a read
of analytics events that was 63% of the connector's CPU time (py-spy, 50,000 events). The manifest declares
two RFC 3339 formats; for exactly these, a strict regular expression plus `datetime.fromisoformat` (written in C)
returns the same aware UTC datetime about ten times faster. Any other format, and any value the expression does
not match, goes to the original method, so behaviour and error messages stay the CDK's. The three parses of one
record are of the same string object: each thread keeps its last result for that object. The per-partition
cursor also formats every record's cursor value (`DatetimeParser.format`, 5% of the CPU after the first fix):
for the manifest's state format and four-digit years the same string is built without `strftime`, and for the
value this thread has just parsed from a string already in that form, the string itself is returned.

2. Slice hashes. The concurrent cursor looks up its per-slice state with each record's slice as a dict key, and
`StreamSlice.__hash__` JSON-serialises and SHA-256-hashes the slice every time (10% of the CPU, twice per
record). A slice cannot be changed (`__setitem__` raises), so its hash is computed once and kept on it.

3. Partition keys. The per-partition cursor turns each record's partition into its key with `json.dumps`, twice per
record (filter and observe; 12% of the CPU). Every record of a partition carries the same partition mapping, so
the key is remembered per mapping object (the mapping itself is held, so its id cannot be reused), for at most
`_PARTITION_KEYS_KEPT` mappings per cursor.

4. The main thread's queue. For each item the worker threads queue, `ConcurrentSource._handle_item` tests five
types in turn with `isinstance`, four of them abstract classes (slow checks), and a record, by far the most
common item, is tested last. Records are handed to the same `on_record` first; any other item takes the
CDK's own path, so the order of the other tests is unchanged.

5. Parent keys. `SubstreamPartitionRouter` reads each parent record's key (`room_id`, `id`) with `dpath.get`,
which walks the whole record to match the path as a glob: 64 microseconds for a session with seven
participants, for every session a parent read lists. For a key with no separator or glob character in a
dict, that is the dict's own lookup; every other call goes to `dpath`.

6. The cursors' end. The client-side cursors end at "now, plus 15 minutes of clock skew" (`client_side_cursor`
in the manifest), and the CDK evaluates that end for every record it filters (`ConcurrentCursor.should_be_synced`
calls its end provider, `MinMaxDatetime.get_datetime`: a Jinja render and an ISO 8601 duration parse): 4 s of
a 10.6 s read of 26,781 session participants. The end of one `MinMaxDatetime`, for one config and no other
arguments, is kept for a second: a bound 15 minutes ahead of the clock moves by less than that second, and the
CDK's own value is recomputed every second.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime

import dpath
from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser
from airbyte_cdk.sources.declarative.datetime.min_max_datetime import MinMaxDatetime
from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor
from airbyte_cdk.sources.types import Record, StreamSlice

_STATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_STATE_FORMAT_LENGTH = len("2024-05-01T10:00:00.000000Z")
# strptime's `%f` takes one to six digits; `%S` two.
_FAST_FORMATS = {
    _STATE_FORMAT: re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{1,6}Z"),
    "%Y-%m-%dT%H:%M:%SZ": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"),
}
_original_parse = DatetimeParser.parse
_original_format = DatetimeParser.format
_original_slice_hash = StreamSlice.__hash__
_original_partition_key = ConcurrentPerPartitionCursor._to_partition_key
_PARTITION_KEYS_KEPT = 1024
_original_handle_item = ConcurrentSource._handle_item
_original_get_datetime = MinMaxDatetime.get_datetime
_END_KEPT_SECONDS = 1.0
_last_parse = threading.local()


def _parse(self: DatetimeParser, date, format: str) -> datetime:  # noqa: A002 - the CDK's parameter name
    # The cursor parses each record's value three times in a row (filter, then two observers): the last
    # result of this thread is kept for the very same string object (strings are immutable).
    last = getattr(_last_parse, "value", None)
    if last is not None and last[0] is date and last[1] == format:
        return last[2]
    pattern = _FAST_FORMATS.get(format)
    canonical = None
    if pattern is not None and isinstance(date, str) and pattern.fullmatch(date):
        result = datetime.fromisoformat(date[:-1] + "+00:00")
        if format == _STATE_FORMAT and len(date) == _STATE_FORMAT_LENGTH and result.year >= 1000:
            canonical = date  # what `_format` builds for this value: six fractional digits
    else:
        result = _original_parse(self, date, format)
    _last_parse.value = (date, format, result, canonical)
    return result


def _format(self: DatetimeParser, dt: datetime, format: str) -> str:  # noqa: A002 - the CDK's parameter name
    if format == _STATE_FORMAT and dt.year >= 1000:
        # The per-partition cursor formats the value it has just parsed: a string already in this exact form
        # (six fractional digits) is what formatting would build.
        last = getattr(_last_parse, "value", None)
        if last is not None and last[2] is dt and last[3] is not None:
            return last[3]
        return (
            f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
            f".{dt.microsecond:06d}Z"
        )
    return _original_format(self, dt, format)


def _slice_hash(self: StreamSlice) -> int:
    try:
        return self.__dict__["_hash_100ms"]
    except KeyError:
        value = self.__dict__["_hash_100ms"] = _original_slice_hash(self)
        return value


def _partition_key(self: ConcurrentPerPartitionCursor, partition) -> str:
    keys = self.__dict__.get("_partition_keys_100ms")
    if keys is None:
        keys = self.__dict__["_partition_keys_100ms"] = {}
    kept = keys.get(id(partition))
    if kept is not None and kept[0] is partition:
        return kept[1]
    key = _original_partition_key(self, partition)
    if len(keys) >= _PARTITION_KEYS_KEPT:
        keys.clear()
    keys[id(partition)] = (partition, key)
    return key


def _handle_item(self: ConcurrentSource, queue_item, concurrent_stream_processor):
    if type(queue_item) is Record:
        return concurrent_stream_processor.on_record(queue_item)
    return _original_handle_item(self, queue_item, concurrent_stream_processor)


_GLOB_OR_SEPARATOR = re.compile(r"[/*?\[\]]")
_NO_DEFAULT = object()


class _PlainKeyDpath:
    """`dpath` as `substream_partition_router` uses it, with `get` of a plain key in a dict as a lookup."""

    @staticmethod
    def get(obj, glob, separator="/", default=_NO_DEFAULT):
        if (
            default is not _NO_DEFAULT
            and separator == "/"
            and type(obj) is dict
            and type(glob) is str
            and glob
            and not _GLOB_OR_SEPARATOR.search(glob)
        ):
            return obj.get(glob, default)
        if default is _NO_DEFAULT:
            return dpath.get(obj, glob, separator=separator)
        return dpath.get(obj, glob, separator=separator, default=default)

    def __getattr__(self, name: str):
        return getattr(dpath, name)


plain_key_dpath = _PlainKeyDpath()


def _get_datetime(self: MinMaxDatetime, config, **additional_parameters) -> datetime:
    """`MinMaxDatetime.get_datetime`, its value for the same config and no other arguments kept for a second."""
    if additional_parameters:
        return _original_get_datetime(self, config, **additional_parameters)
    now = time.monotonic()
    kept = self.__dict__.get("_source_100ms_kept")
    if kept is not None and kept[0] is config and now - kept[1] < _END_KEPT_SECONDS:
        return kept[2]
    value = _original_get_datetime(self, config)
    self.__dict__["_source_100ms_kept"] = (config, now, value)
    return value
