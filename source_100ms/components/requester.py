"""The requester of every 100ms stream: the CDK's `HttpRequester`, plus safe path segments, shared pages and a
fallback for a refused `limit`."""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import InitVar, dataclass
from typing import Any
from urllib.parse import quote

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.requesters.requester import Requester
from airbyte_cdk.sources.types import Config, StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_100ms.components.error_handler import endpoint_of
from source_100ms.components.shared_pages import SharedPages

logger = logging.getLogger("airbyte")


def path_segment(value: Any) -> str:
    """`value` as exactly one URL path segment: every reserved character percent-encoded, `.` and `..` refused."""
    text = "true" if value is True else "false" if value is False else str(value)
    if text in ("", ".", ".."):
        raise AirbyteTracedException(
            message=f"100ms gave an id that cannot name a resource ({text!r}); the request was not sent.",
            failure_type=FailureType.system_error,
        )
    return quote(text, safe="")


def _quoted(stream_slice: StreamSlice | None) -> StreamSlice | None:
    """The slice with every partition value made one path segment (what the path template interpolates)."""
    if stream_slice is None or not stream_slice.partition:
        return stream_slice
    partition = {
        key: path_segment(value) if isinstance(value, str | int | bool) else value
        for key, value in stream_slice.partition.items()
    }
    return StreamSlice(
        partition=partition, cursor_slice=stream_slice.cursor_slice, extra_fields=stream_slice.extra_fields
    )


# The pages of one sync: every requester built for one config object (one source, so one command) shares them.
_STORES: OrderedDict[int, tuple[Mapping[str, Any], SharedPages]] = OrderedDict()
_STORES_LOCK = threading.Lock()


def shared_pages_of(config: Mapping[str, Any]) -> SharedPages:
    with _STORES_LOCK:
        entry = _STORES.get(id(config))
        if entry is None or entry[0] is not config:
            entry = _STORES[id(config)] = (config, SharedPages())
            while len(_STORES) > 16:
                _STORES.popitem(last=False)
        return entry[1]


@dataclass
class ManagementApiRequester(Requester):
    """The manifest's `HttpRequester` (URL, parameters, authentication, error handling, retries), plus three
    things the CDK's requester cannot be told.

    1. Ids enter paths as one segment. The CDK interpolates `stream_partition.room_id` into the path as it is,
       so an id such as `../../__admin/stats?x=` (from the config, or from a parent record) would request
       another endpoint with the token. Every partition value is percent-encoded (`/`, `?`, `#`, `%` included)
       and `.`/`..` are refused before the path is built.
    2. `share_pages`: 100ms returns a session's participants inside the session, so `sessions` and
       `session_peers` read the same sessions list; the rooms with sessions (for `analytics_events`) and the
       running sessions (for `active_room_peers`) come from it too, and `room_codes` and the template streams
       read the rooms and templates lists as parents. A page several streams ask for is requested once per
       sync (`SharedPages`). The CDK's own parent cache stores a 200 before the error handler has seen its
       body, so a retried broken page would be replayed; it is off (`use_cache: false`).
    3. `limit_fallback`: 100ms documents no `limit` range for recordings, assets, live and external streams and
       room codes. If such an endpoint refuses the `limit` the connector sends (the error handler's
       `limit_rejected` filter lets that 400 through), the page is asked again without `limit` (at 100ms's
       default page size), for the rest of the stream, and a warning says so.
    """

    requester: HttpRequester
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    share_pages: bool = False
    limit_fallback: bool = False

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._pages = shared_pages_of(self.config) if self.share_pages else None
        self._limit_refused = threading.Event()

    # ------------------------------------------------------------------ the Requester interface, delegated
    @property
    def exit_on_rate_limit(self) -> bool:
        return self.requester.exit_on_rate_limit

    @exit_on_rate_limit.setter
    def exit_on_rate_limit(self, value: bool) -> None:
        self.requester.exit_on_rate_limit = value

    def get_authenticator(self):
        return self.requester.get_authenticator()

    def get_url(self, **kwargs: Any) -> str:
        return self.requester.get_url(**{**kwargs, "stream_slice": _quoted(kwargs.get("stream_slice"))})

    def get_url_base(self, **kwargs: Any) -> str:
        return self.requester.get_url_base(**kwargs)

    def get_path(self, **kwargs: Any) -> str:
        return self.requester.get_path(**{**kwargs, "stream_slice": _quoted(kwargs.get("stream_slice"))})

    def get_method(self):
        return self.requester.get_method()

    def get_request_params(self, **kwargs: Any):
        return self.requester.get_request_params(**kwargs)

    def get_request_headers(self, **kwargs: Any):
        return self.requester.get_request_headers(**kwargs)

    def get_request_body_data(self, **kwargs: Any):
        return self.requester.get_request_body_data(**kwargs)

    def get_request_body_json(self, **kwargs: Any):
        return self.requester.get_request_body_json(**kwargs)

    def __getattr__(self, name: str) -> Any:
        if name == "requester":
            raise AttributeError(name)
        return getattr(self.requester, name)

    # ------------------------------------------------------------------ sending
    def send_request(
        self,
        stream_state: Any = None,
        stream_slice: StreamSlice | None = None,
        next_page_token: Mapping[str, Any] | None = None,
        path: str | None = None,
        request_headers: Mapping[str, Any] | None = None,
        request_params: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> requests.Response | None:
        if path is None:
            path = self.get_path(stream_state=stream_state, stream_slice=stream_slice, next_page_token=next_page_token)
        params = dict(request_params or {})
        if self._limit_refused.is_set():
            params.pop("limit", None)

        def send(params: Mapping[str, Any]) -> requests.Response | None:
            call = {
                "stream_state": stream_state,
                "stream_slice": stream_slice,
                "next_page_token": next_page_token,
                "path": path,
                "request_headers": request_headers,
                "request_params": params,
                **kwargs,
            }
            if self._pages is None:
                return self.requester.send_request(**call)
            key = json.dumps(
                [
                    self.requester.get_url_base(stream_slice=stream_slice, next_page_token=next_page_token),
                    path,
                    sorted(
                        {
                            **self.requester.get_request_params(
                                stream_state=stream_state, stream_slice=stream_slice, next_page_token=next_page_token
                            ),
                            **params,
                        }.items()
                    ),
                    sorted((request_headers or {}).items()),
                ],
                default=str,
            )
            return self._pages.get(key, lambda: self.requester.send_request(**call))

        response = send(params)
        if self.limit_fallback and response is not None and response.status_code == 400 and "limit" in params:
            self._limit_refused.set()
            logger.warning(
                f"100ms refused limit={params['limit']} on {endpoint_of(response.url)} (400: "
                f"{response.text[:200]}); stream {self.requester.name} asks again without `limit`, at 100ms's "
                "default page size, for the rest of the sync."
            )
            params.pop("limit")
            response = send(params)
        if response is not None and response.status_code == 400:
            # Only the `limit_rejected` filter lets a 400 through, and only for the fallback above.
            raise AirbyteTracedException(
                message=f"100ms rejected the request to {endpoint_of(response.url)} (400: {response.text[:300]}).",
                failure_type=FailureType.config_error,
            )
        return response
