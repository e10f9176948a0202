"""One request for a list page that several streams read in the same sync."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_100ms.components.decoder import is_complete_json, unparsed_copy

# Pages kept for the other readers, by total body size: the sessions list of a large workspace is about
# 250 KB a page, so this holds about 130 pages, whatever the size of the list.
KEPT_BYTES = 32 * 1024 * 1024


@dataclass
class _InFlight:
    """A page being fetched: its readers wait on `done`, then take `response` or re-raise `error`."""

    done: threading.Event = field(default_factory=threading.Event)
    response: requests.Response | None = None
    error: BaseException | None = None


class SharedPages:
    """2xx JSON pages of GET requests, keyed by URL, parameters and headers, shared by every reader of one sync.

    A reader asking for a page another reader is fetching waits for that answer instead of asking again, and
    gets exactly what the first reader got: the page, or the error its retries ended with (so a failing page
    costs one retry chain, not one per waiting stream). Only a 2xx with a complete JSON body is kept for later
    readers, so a broken page is never handed out twice. The oldest pages go first once more than `kept_bytes`
    of bodies are held, so memory does not grow with the list; a reader that falls that far behind asks again.
    """

    def __init__(self, kept_bytes: int = KEPT_BYTES) -> None:
        self._kept_bytes = kept_bytes
        self._lock = threading.Lock()
        self._pages: OrderedDict[str, requests.Response] = OrderedDict()
        self._size = 0
        self._in_flight: dict[str, _InFlight] = {}
        self.fetched = 0
        self.shared = 0

    def get(self, key: str, fetch: Callable[[], requests.Response | None]) -> requests.Response | None:
        with self._lock:
            kept = self._pages.get(key)
            if kept is not None:
                self._pages.move_to_end(key)
                self.shared += 1
                return unparsed_copy(kept)
            waiting = self._in_flight.get(key)
            if waiting is None:
                mine = self._in_flight[key] = _InFlight()
                self.fetched += 1
        if waiting is not None:
            waiting.done.wait()
            if waiting.error is not None:
                raise _for_another_reader(waiting.error)
            with self._lock:
                self.shared += 1
            return unparsed_copy(waiting.response) if waiting.response is not None else None
        try:
            mine.response = fetch()
            if mine.response is not None and mine.response.ok and is_complete_json(mine.response):
                self._keep(key, mine.response)
            return mine.response
        except BaseException as error:
            mine.error = error
            raise
        finally:
            with self._lock:
                del self._in_flight[key]
            mine.done.set()

    def _keep(self, key: str, response: requests.Response) -> None:
        kept = unparsed_copy(response)
        with self._lock:
            self._pages[key] = kept
            self._size += len(kept.content)
            while self._size > self._kept_bytes and len(self._pages) > 1:
                _, oldest = self._pages.popitem(last=False)
                self._size -= len(oldest.content)


def _for_another_reader(error: BaseException) -> BaseException:
    """The first reader's error, to raise in another reader's stream.

    An AirbyteTracedException may carry the first reader's stream descriptor, which the CDK keeps over the
    stream it is reported for: each waiting reader gets its own exception, without one, so that its error trace
    names its own stream. The first error stays its cause (and gives the stack trace).
    """
    if isinstance(error, AirbyteTracedException):
        return AirbyteTracedException(
            internal_message=error.internal_message,
            message=error.message,
            failure_type=error.failure_type,
            exception=error,
        )
    return error
