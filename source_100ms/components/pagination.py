"""Pagination of 100ms lists: stop on what 100ms sent, stop early only where the order is verified, never loop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.interpolation import InterpolatedString
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import PaginationStrategy
from airbyte_cdk.sources.types import Config, Record, StreamSlice
from airbyte_cdk.utils.datetime_helpers import ab_datetime_parse
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from isodate import parse_duration

from source_100ms.components.decoder import parsed_body
from source_100ms.components.error_handler import endpoint_of

logger = logging.getLogger("airbyte")

# ObjectIds carry their creation second, so ids descending means `created_at` descending to the second: two items
# created within the same second may be listed either way. The order check and the stop allow that second.
ORDER_TOLERANCE = timedelta(seconds=1)


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value or value.startswith("0001-01-01"):
        return None
    try:
        return ab_datetime_parse(value)
    except (ValueError, TypeError):
        return None


@dataclass
class ManagementApiPagination(PaginationStrategy):
    """`limit` + `start`, with the next `start` taken from `last` (most lists) or `next` (analytics events).

    Why not the CDK's `CursorPagination` with a stop condition: its `last_page_size` counts the records left
    after the client-side cursor filter, so a page holding one record older than the cursor ended the read and
    the lookback was never read. Here every decision is taken on the page as 100ms sent it:

    - the end: no page body, `records_key` empty or null, the cursor empty or missing, or (`short_page_ends`) a
      page shorter than the `limit` 100ms says it applied;
    - a repeated cursor (100ms answering with the very cursor it was asked to start from, or the same page
      again) fails the stream at once with the endpoint named, instead of looping or hanging;
    - `stop_before` (an interpolated date-time, less `changes_for`): for lists with no time filter, stop at the
      first page whose oldest item was created before it, but only if that page shows the order the stop
      relies on (ids descending, `created_at` descending to the second, and below the previous page's last
      id). 100ms documents newest first for rooms, sessions and templates only; where a page does not show
      it, the list is read to its end and one warning says so.

    With `records_key: null` (custom streams, any shape) the page is empty when no record was extracted.
    Example: `{"limit": 100, "data": [...40 items], "last": "64f..."}` ends the list (40 < 100).
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    page_size: int | str | None = None
    cursor_keys: list[str] = field(default_factory=lambda: ["last"])
    records_key: str | None = "data"
    short_page_ends: bool = True
    stop_before: str | None = None
    changes_for: str | None = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        parameters = parameters or {}
        self._page_size = (
            int(InterpolatedString.create(str(self.page_size), parameters=parameters).eval(self.config))
            if self.page_size is not None
            else None
        )
        self._stop_before = (
            InterpolatedString.create(self.stop_before, parameters=parameters) if self.stop_before else None
        )
        self._changes_for = parse_duration(self.changes_for) if self.changes_for else timedelta(0)
        self._stream = parameters.get("name", "")
        self._order_warned = threading.Event()

    @property
    def initial_token(self) -> Any | None:
        return None

    def get_page_size(self) -> int | None:
        return self._page_size

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Record | None,
        last_page_token_value: Any | None = None,
        page_size_override: int | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> Any | None:
        try:
            body = parsed_body(response)
        except ValueError:
            return None
        if not isinstance(body, Mapping):
            return None
        token = next((body.get(key) for key in self.cursor_keys if body.get(key)), None)
        if self.records_key is None:
            records: list[Any] | None = None
            if last_page_size == 0:
                return None
        else:
            records = body.get(self.records_key)
            if not isinstance(records, list) or not records:
                return None
        if not token or not isinstance(token, str | int):
            return None
        if token == last_page_token_value:
            raise AirbyteTracedException(
                message=(
                    f"100ms answered {endpoint_of(response.url)} with the same page cursor it was asked to start from "
                    f"({str(token)[:60]}): the list would never end, so stream {self._stream or 'this stream'} stops "
                    "here. Run the sync again; if it repeats, report it to 100ms support."
                ),
                failure_type=FailureType.system_error,
            )
        if records is not None and self.short_page_ends:
            limit = body.get("limit")
            if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 and len(records) < limit:
                return None
        if (
            records is not None
            and self._stop_before is not None
            and self._stops_here(records, last_page_token_value, stream_slice, response)
        ):
            return None
        return token

    def _stops_here(
        self, records: list[Any], previous_last: Any, stream_slice: StreamSlice | None, response: requests.Response
    ) -> bool:
        # `stream_interval` and `stream_partition` are the CDK's aliases of `stream_slice`.
        bound_text = self._stop_before.eval(self.config, stream_slice=stream_slice or {})  # type: ignore[union-attr]
        bound = _time(bound_text)
        oldest = records[-1].get("created_at") if isinstance(records[-1], Mapping) else None
        oldest_at = _time(oldest)
        if bound is None or oldest_at is None or oldest_at + ORDER_TOLERANCE >= bound - self._changes_for:
            return False
        if self._newest_first(records, previous_last):
            return True
        if not self._order_warned.is_set():
            self._order_warned.set()
            logger.warning(
                f"100ms did not list {endpoint_of(response.url)} newest first (ids and created_at descending), so "
                f"stream {self._stream} cannot stop at the first item older than {bound_text}: it reads the list "
                "to its end."
            )
        return False

    @staticmethod
    def _newest_first(records: list[Any], previous_last: Any) -> bool:
        ids, times = [], []
        for record in records:
            if not isinstance(record, Mapping) or not isinstance(record.get("id"), str):
                return False
            at = _time(record.get("created_at"))
            if at is None:
                return False
            ids.append(record["id"])
            times.append(at)
        pairs = list(zip(ids, ids[1:], strict=False))
        if any(newer <= older for newer, older in pairs):
            return False
        if any(newer + ORDER_TOLERANCE < older for newer, older in zip(times, times[1:], strict=False)):
            return False
        return not (isinstance(previous_last, str) and ids[0] >= previous_last)
