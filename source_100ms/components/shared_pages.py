"""One request for a list page that several streams read in the same sync."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import InitVar, dataclass
from typing import Any

import requests
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.requesters.requester import Requester

from source_100ms.components.decoder import is_complete_json, unparsed_copy

# Pages kept for the other readers, by total body size: the sessions list of a large workspace is about
# 250 KB a page, so this holds about 130 pages, whatever the size of the list.
KEPT_BYTES = 32 * 1024 * 1024


class SharedPages:
    """Complete 2xx JSON pages of GET requests, keyed by method, URL and parameters, shared by every reader.

    A reader asking for a page another reader is fetching waits for that answer instead of asking again.
    Only an answer that is a 2xx with a complete JSON body is kept, so a broken page is never handed out: a
    waiter whose page was not kept asks for it itself, through its own retries. The oldest pages go first once
    more than `kept_bytes` of bodies are held, so memory does not grow with the list; a reader that falls
    that far behind asks for the page again.
    """

    def __init__(self, kept_bytes: int = KEPT_BYTES) -> None:
        self._kept_bytes = kept_bytes
        self._lock = threading.Lock()
        self._pages: OrderedDict[str, requests.Response] = OrderedDict()
        self._size = 0
        self._in_flight: dict[str, threading.Event] = {}
        self.fetched = 0
        self.shared = 0

    def get(self, key: str, fetch: Callable[[], requests.Response | None]) -> requests.Response | None:
        with self._lock:
            kept = self._take(key)
            if kept is not None:
                return kept
            waiting = self._in_flight.get(key)
            if waiting is None:
                done = self._in_flight[key] = threading.Event()
        if waiting is not None:
            waiting.wait()
            with self._lock:
                kept = self._take(key)
            # None: the reader that fetched it did not get a page worth keeping, so this one asks itself.
            return kept if kept is not None else self._fetch(fetch)
        try:
            response = self._fetch(fetch)
            if response is not None and response.ok and is_complete_json(response):
                self._keep(key, response)
            return response
        finally:
            with self._lock:
                del self._in_flight[key]
            done.set()

    def _take(self, key: str) -> requests.Response | None:
        """A copy of the kept page, if any; called with the lock held."""
        kept = self._pages.get(key)
        if kept is None:
            return None
        self._pages.move_to_end(key)
        self.shared += 1
        return unparsed_copy(kept)

    def _fetch(self, fetch: Callable[[], requests.Response | None]) -> requests.Response | None:
        with self._lock:
            self.fetched += 1
        return fetch()

    def _keep(self, key: str, response: requests.Response) -> None:
        kept = unparsed_copy(response)
        with self._lock:
            self._pages[key] = kept
            self._size += len(kept.content)
            while self._size > self._kept_bytes and len(self._pages) > 1:
                _, oldest = self._pages.popitem(last=False)
                self._size -= len(oldest.content)


# The store of the streams being built: the requesters of one build (one `streams()` call, so one read) share
# it, and no other read ever sees its pages.
_BUILDING: ContextVar[SharedPages | None] = ContextVar("source_100ms_shared_pages", default=None)


@contextmanager
def one_store_per_build() -> Iterator[SharedPages]:
    """Every `SharedPagesRequester` built inside shares one new store."""
    pages = SharedPages()
    token = _BUILDING.set(pages)
    try:
        yield pages
    finally:
        _BUILDING.reset(token)


class _SharingClient:
    """The requester's HTTP client with GETs going through `PAGES`; everything else as the client does it."""

    def __init__(self, client: Any, pages: SharedPages) -> None:
        self._client = client
        self._pages = pages

    def send_request(self, http_method: str, url: str, request_kwargs: Mapping[str, Any], **kwargs: Any):
        if http_method != "GET" or kwargs.get("json") or kwargs.get("data"):
            return self._client.send_request(http_method, url, request_kwargs, **kwargs)
        key = json.dumps([url, kwargs.get("params") or {}, kwargs.get("headers") or {}], sort_keys=True, default=str)
        sent: list[Any] = []

        def fetch() -> requests.Response | None:
            request, response = self._client.send_request(http_method, url, request_kwargs, **kwargs)
            sent.append(request)
            return response

        response = self._pages.get(key, fetch)
        return (sent[0] if sent else response.request if response is not None else None), response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@dataclass
class SharedPagesRequester(Requester):
    """An `HttpRequester` whose list pages are fetched once per sync, whichever stream asks first.

    Why: 100ms returns a session's participants inside the session, so `sessions` and `session_peers` read
    the same sessions list; the rooms with sessions (for `analytics_events`) and the running sessions (for
    `active_room_peers`) come from it too, and `room_codes` and the template streams read the rooms and
    templates lists as parents. The CDK's own parent cache is per stream and stores a 200 before the error
    handler has seen its body, so a retried broken page would be replayed; it is turned off. This wraps the
    manifest's `requester` and sends its GETs through the `SharedPages` of the streams built with it (one
    read): a page asked for by several streams is requested once, only complete JSON pages are kept, a bounded
    number of bytes of them. Built outside `one_store_per_build`, it shares with no one. Everything else (URL,
    parameters, authentication, error handling, retries) is the wrapped requester's.
    """

    requester: HttpRequester
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        # The only hook the CDK offers below the URL and parameters it computes is the requester's client.
        self.pages = _BUILDING.get() or SharedPages()
        self.requester._http_client = _SharingClient(self.requester._http_client, self.pages)

    def __getattr__(self, name: str) -> Any:
        if name == "requester":
            raise AttributeError(name)
        return getattr(self.requester, name)

    @property
    def exit_on_rate_limit(self) -> bool:
        return self.requester.exit_on_rate_limit

    @exit_on_rate_limit.setter
    def exit_on_rate_limit(self, value: bool) -> None:
        self.requester.exit_on_rate_limit = value

    def get_authenticator(self):
        return self.requester.get_authenticator()

    def get_url(self, **kwargs: Any) -> str:
        return self.requester.get_url(**kwargs)

    def get_url_base(self, **kwargs: Any) -> str:
        return self.requester.get_url_base(**kwargs)

    def get_path(self, **kwargs: Any) -> str:
        return self.requester.get_path(**kwargs)

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

    def send_request(self, *args: Any, **kwargs: Any) -> requests.Response | None:
        return self.requester.send_request(*args, **kwargs)
