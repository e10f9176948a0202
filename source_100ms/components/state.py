"""Stream state the connector cannot read."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import InitVar, dataclass
from datetime import datetime
from typing import Any

from airbyte_cdk.sources.declarative.migrations.state_migration import StateMigration

logger = logging.getLogger("airbyte")


def _is_time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _cursor_values(state: Mapping[str, Any], cursor_field: str) -> list[Any] | None:
    """Every cursor value of a plain or per-partition state, or None when the shape is not one of those."""
    if "states" in state or "state" in state:
        partitions = state.get("states", [])
        if not isinstance(partitions, list) or not all(isinstance(p, Mapping) for p in partitions):
            return None
        values = [p.get("cursor", {}).get(cursor_field) for p in partitions if isinstance(p.get("cursor"), Mapping)]
        if len(values) != len(partitions):
            return None
        overall = state.get("state")
        if overall is not None:
            if not isinstance(overall, Mapping):
                return None
            values += [overall[cursor_field]] if cursor_field in overall else []
        return values
    return [state[cursor_field]] if cursor_field in state else None


@dataclass
class UnreadableStateReset(StateMigration):
    """Drops a stream state whose cursor is not a date-time, so the stream starts again from `start_date`.

    Why: the CDK's cursors fail the whole sync with "Something went wrong in the connector" on a state such as
    `{"updated_at": "not-a-date"}` (hand-edited, written by another connector version, or cut short). Reading
    again from the start only costs time and the destination deduplicates by primary key; a sync that cannot
    start costs data. A warning says what was dropped. States of the expected shape are left untouched.
    Example: `{"updated_at": 12345}` -> `{}`.
    """

    cursor_field: str
    stream_name: str
    parameters: InitVar[Mapping[str, Any]]

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        if not stream_state:
            return False
        values = _cursor_values(stream_state, self.cursor_field)
        return values is None or not all(_is_time(v) for v in values)

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        logger.warning(
            f"The saved state of stream {self.stream_name} has no readable `{self.cursor_field}` date-time "
            f"({str(dict(stream_state))[:200]}); it is ignored and the stream is read again from the start date."
        )
        return {}
