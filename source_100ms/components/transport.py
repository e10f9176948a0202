"""What every request to 100ms goes through at send time: one shared throttle, and a deadline for the whole answer.

Both are driven by `ManagementTokenAuthenticator`, because the CDK applies the requester's authenticator to every
request just before `requests` sends it (also before each retry), and `requests` lets an authenticator register
a response hook (the mechanism its own `HTTPDigestAuth` uses to answer a 401): the only place a declarative
component sees the final URL, can hold a request back, and sees the answer before the CDK reads its body.

`RateLimiter`: one per API origin and process, shared by every stream and worker thread.
- A ceiling the user sets (`requests_per_second`) is never exceeded: requests are spaced evenly.
- A 429 makes every worker wait until the time 100ms gives (a `Retry-After` header, or the documented body
  "rate limit exceeded, retry after 45 seconds"; one second when neither says), then space their requests at
  the rate 100ms was accepting just before; each run of accepted answers raises it again by a tenth. So after
  the first 429 the whole sync slows down to what the server accepts, instead of 12 workers retrying alone.
- The 429 itself is retried here (`RATE_LIMIT_PATIENCE_SECONDS` per request at most), not by the CDK, so that
  a strict limit makes the sync slower but never spends the retry budget the CDK keeps for 5xx and network errors.

`Deadlines`: `requests` times out only between two bytes, so a server that trickles a byte every 30 s holds a
request forever. A single watchdog thread shuts the socket of an answer whose body is not complete when its
deadline passes; the read then fails with a `ReadTimeout` that the error handler retries like any other.
"""

from __future__ import annotations

import heapq
import logging
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import requests

logger = logging.getLogger("airbyte")

# How long one request may wait through 429 answers before the 429 is handed to the CDK's own retries.
RATE_LIMIT_PATIENCE_SECONDS = 15 * 60
# How many of the last answers a slow-down after the first is decided on.
LIMIT_EVIDENCE_ANSWERS = 40
# The wait after a 429 that says nothing about when to come back.
DEFAULT_RATE_LIMIT_WAIT_SECONDS = 1.0
# The longest wait a 429 may ask for; a longer one is treated as this (and says so).
MAX_RATE_LIMIT_WAIT_SECONDS = 300.0
_RETRY_AFTER_IN_BODY = re.compile(r"retry after (\d+(?:\.\d+)?) ?(second|sec|s|minute|min|m)?", re.IGNORECASE)


def rate_limit_wait(response: requests.Response) -> float | None:
    """The wait a 429 asks for, in seconds: `Retry-After` (seconds or an HTTP date), else the body's message."""
    header = response.headers.get("Retry-After")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(header).timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    try:
        text = response.text[:2000]
    except Exception:  # an undecodable body says nothing
        return None
    match = _RETRY_AFTER_IN_BODY.search(text)
    if match is None:
        return None
    seconds = float(match.group(1))
    return seconds * 60 if (match.group(2) or "s").lower().startswith("m") else seconds


class RateLimiter:
    """Spacing of requests for one API origin, shared by all threads (see the module docstring).

    On a 429 every worker pauses for the wait it gives. The first 429 sets a rate: what 100ms accepted in the
    second before it (early in a sync: since the first answer, counted as half a second at least), less a
    tenth. After that the limiter lowers the rate only on what a limit looks like: a third or more of the last
    40 answers refused, all sent at the rate it set last. It then spaces requests at nine tenths of the share
    that went through (all refused: the rate halves). 429s that come while most requests go through (a gateway
    that refuses some whatever the rate) are paused out but do not slow down again: lowering on each of them
    would spiral down to nothing. Every 20 accepted answers in a row it tries a tenth more, so a limit that
    rises is found again.
    """

    def __init__(self, ceiling_per_second: float | None = None) -> None:
        self._lock = threading.Lock()
        self._ceiling = ceiling_per_second
        self._learned: float | None = None  # requests per second 100ms takes, as learned from its 429s
        self._next_slot = 0.0  # monotonic time before which no request may start
        self._paused_until = 0.0
        self._accepted: deque[float] = deque(maxlen=256)  # when the last accepted answers arrived
        self._first_answer_at: float | None = None
        self._refused: deque[bool] = deque(maxlen=LIMIT_EVIDENCE_ANSWERS)  # the last answers: refused or not
        self._since_slowed = 0  # answers since the rate was last set
        self._ok_since_limit = 0
        self._slowed_at = float("-inf")
        self.rate_limited = 0

    def set_ceiling(self, per_second: float | None) -> None:
        with self._lock:
            self._ceiling = per_second

    def _interval(self) -> float:
        rates = [r for r in (self._ceiling, self._learned) if r]
        return 1.0 / min(rates) if rates else 0.0

    def acquire(self) -> None:
        """Wait for this request's turn."""
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_slot, self._paused_until)
            self._next_slot = start + self._interval()
        if start > now:
            time.sleep(start - now)

    def on_answer(self, rate_limited: bool, wait: float | None = None, sent_at: float | None = None) -> float:
        """Learn from an answer to a request sent at `sent_at`; for a 429, the seconds every worker now waits."""
        with self._lock:
            now = time.monotonic()
            if self._first_answer_at is None:
                self._first_answer_at = now
            self._refused.append(rate_limited)
            self._since_slowed += 1
            if not rate_limited:
                self._accepted.append(now)
                if self._learned is not None:
                    self._ok_since_limit += 1
                    if self._ok_since_limit >= 20:
                        self._ok_since_limit = 0
                        self._learned *= 1.1
                        if self._learned > 1000:
                            self._learned = None  # far above anything 100ms asked for: stop spacing
                return 0.0
            self.rate_limited += 1
            self._ok_since_limit = 0
            if sent_at is None or sent_at > self._slowed_at:
                if self._learned is None:
                    # a second, or the half second since the first answer early in a sync (a burst measured
                    # over less says little)
                    window = max(0.5, min(1.0, now - self._first_answer_at))
                    accepted = sum(1 for t in self._accepted if t > now - window)
                    self._set_rate(0.9 * accepted / window if accepted else 1.0, now)
                elif self._since_slowed >= LIMIT_EVIDENCE_ANSWERS:
                    refused = sum(self._refused) / len(self._refused)
                    if refused >= 1 / 3:
                        spaced_at = 1.0 / self._interval()
                        self._set_rate(0.9 * (1 - refused) * spaced_at if refused < 1 else spaced_at / 2, now)
            pause = DEFAULT_RATE_LIMIT_WAIT_SECONDS if wait is None else min(wait, MAX_RATE_LIMIT_WAIT_SECONDS)
            self._paused_until = max(self._paused_until, now + pause)
            self._next_slot = max(self._next_slot, self._paused_until)
            return self._paused_until - now

    def _set_rate(self, per_second: float, now: float) -> None:
        self._learned = max(0.2, per_second)
        self._slowed_at = now
        self._since_slowed = 0

    @property
    def learned_per_second(self) -> float | None:
        return self._learned


_limiters: dict[str, RateLimiter] = {}
_limiters_lock = threading.Lock()


def rate_limiter(origin: str, ceiling_per_second: float | None) -> RateLimiter:
    """The process-wide limiter of one API origin (every stream's authenticator gets the same one)."""
    with _limiters_lock:
        limiter = _limiters.get(origin)
        if limiter is None:
            limiter = _limiters[origin] = RateLimiter(ceiling_per_second)
        else:
            limiter.set_ceiling(ceiling_per_second)
        return limiter


class Deadlines:
    """One daemon thread that shuts the sockets of answers still incomplete at their deadline."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._heap: list[tuple[float, int, socket.socket]] = []
        self._cancelled: set[int] = set()
        self._fired: set[int] = set()
        self._counter = 0
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float, sock: socket.socket) -> int:
        with self._lock:
            self._counter += 1
            heapq.heappush(self._heap, (deadline, self._counter, sock))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="source-100ms-deadlines", daemon=True)
                self._thread.start()
            self._lock.notify()
            return self._counter

    def disarm(self, ticket: int) -> bool:
        """Cancel a deadline; True when it had already fired (the socket was shut)."""
        with self._lock:
            if ticket in self._fired:
                self._fired.discard(ticket)
                return True
            self._cancelled.add(ticket)
            return False

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._heap:
                    self._lock.wait()
                deadline, ticket, sock = self._heap[0]
                now = time.monotonic()
                if ticket in self._cancelled:
                    heapq.heappop(self._heap)
                    self._cancelled.discard(ticket)
                    continue
                if deadline > now:
                    self._lock.wait(deadline - now)
                    continue
                heapq.heappop(self._heap)
                self._fired.add(ticket)
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


DEADLINES = Deadlines()


def _socket_of(response: requests.Response) -> socket.socket | None:
    """The socket the body is read from: through urllib3's connection, or (an answer with `Connection: close`,
    whose connection urllib3 has already let go) through the `http.client` response underneath."""
    connection = getattr(response.raw, "connection", None) or getattr(response.raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if not isinstance(sock, socket.socket):
        socket_io = getattr(getattr(getattr(response.raw, "_fp", None), "fp", None), "raw", None)
        sock = getattr(socket_io, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def read_body_within(response: requests.Response, started: float, deadline_seconds: float) -> None:
    """Read the whole body now, failing with `ReadTimeout` once `deadline_seconds` since `started` have passed."""
    remaining = started + deadline_seconds - time.monotonic()
    sock = _socket_of(response)
    if remaining <= 0 or sock is None:
        if remaining <= 0:
            response.close()
            raise requests.exceptions.ReadTimeout(
                f"no complete answer from {_host_of_response(response)} within {deadline_seconds:g} s",
                response=response,
            )
        response.content  # noqa: B018 - nothing to watch (an already-read body): read as requests would
        return
    ticket = DEADLINES.arm(time.monotonic() + remaining, sock)
    try:
        response.content  # noqa: B018 - reads and keeps the body
    except (requests.exceptions.RequestException, OSError) as error:
        if DEADLINES.disarm(ticket):
            raise requests.exceptions.ReadTimeout(
                f"the answer of {_host_of_response(response)} was not complete within {deadline_seconds:g} s",
                response=response,
            ) from error
        raise
    if DEADLINES.disarm(ticket):
        response.close()
        raise requests.exceptions.ReadTimeout(
            f"the answer of {_host_of_response(response)} was not complete within {deadline_seconds:g} s",
            response=response,
        )


def _host_of_response(response: requests.Response) -> str:
    from urllib.parse import urlsplit

    return urlsplit(response.url or "").netloc or "the API"


def resend(response: requests.Response, send_kwargs: Mapping[str, Any]) -> requests.Response:
    """Send the request of `response` again through the same connection adapter (as `HTTPDigestAuth` does)."""
    response.content  # noqa: B018 - release the connection for reuse
    response.close()
    request = response.request.copy()
    again = response.connection.send(request, **send_kwargs)
    again.history.append(response)
    again.request = request
    return again
