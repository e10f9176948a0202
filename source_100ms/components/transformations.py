"""Record transformations for 100ms timestamps."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import InitVar, dataclass
from datetime import datetime
from typing import Any

from airbyte_cdk.sources.declarative.transformations import RecordTransformation

_FRACTION_OVER_MICROSECONDS = re.compile(r"(\.\d{6})\d+")
ZERO_TIME = "0001-01-01T00:00:00Z"


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value or value == ZERO_TIME:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@dataclass
class TimestampPrecisionTransformation(RecordTransformation):
    """Makes the named cursor fields readable by the CDK's cursor: microseconds at most, the unset time as null.

    Why: 100ms sends Go-style RFC 3339 times with 0 to 9 fractional digits
    (`2023-02-23T10:12:00.78311898Z`). The CDK parses cursor values with `strptime`, whose `%f` takes at most
    six digits, so a nanosecond time would fail the cursor; microseconds are also the finest precision the
    warehouses Airbyte writes to can hold. 100ms writes an unset time as Go's zero time `0001-01-01T00:00:00Z`:
    as a cursor value it is older than any start date, and the cursor would drop the record. As null it is
    what it means (not set), and the CDK keeps a record without a cursor value. Examples:
    `10:12:00.78311898Z` -> `10:12:00.783118Z`; `0001-01-01T00:00:00Z` -> null; six digits or fewer, as sent.
    """

    fields: list[str]
    parameters: InitVar[Mapping[str, Any]]

    def transform(self, record: dict[str, Any], config=None, stream_state=None, stream_slice=None) -> None:
        for name in self.fields:
            value = record.get(name)
            if value == ZERO_TIME:
                record[name] = None
            elif isinstance(value, str) and len(value) > 27:
                # `search` and slicing rather than `sub`: `sub` expands its template for every record.
                extra = _FRACTION_OVER_MICROSECONDS.search(value)
                if extra is not None:
                    record[name] = value[: extra.start() + 7] + value[extra.end() :]


@dataclass
class PeerDurationTransformation(RecordTransformation):
    """Adds `duration_seconds` to a session participant: `left_at - joined_at`, null while still in the room.

    Why: the attendance question ("how long was each person there") needs time arithmetic on RFC 3339
    strings with up to nine fractional digits, which Jinja interpolation in `AddFields` cannot do reliably.
    Example: joined `11:17:01.816Z`, left `11:17:03.643Z` -> `duration_seconds: 1.827`.
    """

    parameters: InitVar[Mapping[str, Any]]

    def transform(self, record: dict[str, Any], config=None, stream_state=None, stream_slice=None) -> None:
        joined, left = _parse(record.get("joined_at")), _parse(record.get("left_at"))
        record["duration_seconds"] = (
            round((left - joined).total_seconds(), 3) if joined is not None and left is not None else None
        )


@dataclass
class PartitionFieldsTransformation(RecordTransformation):
    """Copies the parent id a record was read for (`room_id`, `template_id`) from its partition onto the record.

    Why not `AddFields` with `{{ stream_partition.room_id }}`: that renders a Jinja template and runs
    `ast.literal_eval` for every record, about 12% of the CPU of a read of analytics events, and needs
    `value_type: string` so that an all-digit id does not become a number. This copies the value as it is.
    Example, partition `{"room_id": "6311..."}`: `{"id": "e1"}` -> `{"id": "e1", "room_id": "6311..."}`.
    """

    fields: list[str]
    parameters: InitVar[Mapping[str, Any]]

    def transform(self, record: dict[str, Any], config=None, stream_state=None, stream_slice=None) -> None:
        partition = stream_slice.partition if stream_slice is not None else {}
        for name in self.fields:
            record[name] = partition.get(name)
