"""The sandbox HTTP server: a loopback stand-in for https://api.100ms.live.

Stdlib ``ThreadingHTTPServer`` speaking HTTP/1.1 with keep-alive; every response is written in one
``sendall`` with a Content-Length, with TCP_NODELAY, and bodies are encoded with orjson.

Around the API (``api.py``) it adds what a network and a gateway do: latency, injected faults
(``FAULT_KINDS``), an optional rate limit, and admin routes under ``/_sandbox/`` that tests use to read
counts and ground truth and to switch behaviours at run time.
"""

from __future__ import annotations

import math
import random
import socket
import struct
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote

import jwt
import orjson

from . import api
from .data import Workspace

# The kinds a fault can take. Without an explicit list, faults are drawn from DEFAULT_FAULT_KINDS: the two slow
# kinds hold a connection for a minute (or forever) and are only drawn when named.
DEFAULT_FAULT_KINDS = ("500", "502_html", "429", "reset", "truncated")
FAULT_KINDS = DEFAULT_FAULT_KINDS + ("stall", "trickle")
LEEWAY_S = 10
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>sandbox-gateway</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def mint_token(access_key: str, secret: str, /, **overrides) -> str:
    """A management token as the connector should mint it; ``overrides`` replace or (None) drop claims."""
    now = int(time.time())
    claims = {
        "access_key": access_key,
        "type": "management",
        "version": 2,
        "jti": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + 24 * 3600,
    }
    for k, v in overrides.items():
        if v is None:
            claims.pop(k, None)
        else:
            claims[k] = v
    return jwt.encode(claims, secret, algorithm="HS256")


def _number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


class Sandbox:
    """A workspace (``Workspace``) served on loopback, with what the network and a gateway add.

    Workspace: ``seed``, ``scale`` (``SCALES``), ``now``, ``events_total``, ``sessions_per_hour`` (a busy
    workspace's session rate, overriding the scale's); or ``workspace``, one already generated (perhaps advanced
    or edited), served as it is, its seed and scale taken from it. Network: ``latency_ms``; faults drawn per
    request at ``fault_rate`` among ``fault_kinds`` (``FAULT_KINDS``; default ``DEFAULT_FAULT_KINDS``), with
    ``retry_after_seconds`` for injected 429s, ``stall_seconds`` and ``trickle_interval_seconds`` for the slow
    kinds; ``rate_limit_per_second`` (a sliding one-second window; None: no limit) and ``rate_limit_header``
    (send Retry-After too). API behaviours where the docs are silent (``api.Behaviour``): ``order``,
    ``strict_time_format``, ``reject_limit_on``, ``repeat_cursor``. Every one can be changed at run time with a
    ``set_*`` method or a ``POST /_sandbox/...`` route.
    """

    def __init__(
        self,
        seed: int = 1,
        scale: str = "small",
        latency_ms: float = 0,
        fault_rate: float = 0.0,
        fault_kinds=None,
        now=None,
        events_total: int | None = None,
        retry_after_seconds: int = 1,
        *,
        sessions_per_hour: float | None = None,
        order: str = "newest-first",
        strict_time_format: bool = False,
        reject_limit_on=(),
        rate_limit_per_second: float | None = None,
        rate_limit_header: bool = True,
        repeat_cursor: str | None = None,
        stall_seconds: float = 60.0,
        trickle_interval_seconds: float = 2.0,
        workspace: Workspace | None = None,
    ):
        if workspace is not None:
            if (now, events_total, sessions_per_hour) != (None, None, None):
                raise ValueError("a given workspace is served as it is: now, events_total and sessions_per_hour "
                                 "are the generation's, pass them to Workspace")  # fmt: skip
            seed, scale = workspace.seed, workspace.scale
        self.seed = seed
        self.scale = scale
        self.behaviour = api.Behaviour(
            order=order,
            strict_time_format=strict_time_format,
            reject_limit_on=api.check_reject_limit_on(reject_limit_on),
            repeat_cursor=repeat_cursor,
        )
        if stall_seconds < 0 or trickle_interval_seconds <= 0:
            raise ValueError("stall_seconds must be >= 0 and trickle_interval_seconds > 0")
        self.stall_seconds = float(stall_seconds)
        self.trickle_interval_seconds = float(trickle_interval_seconds)
        self._stopping = threading.Event()
        self.rate_limiter: RateLimiter | None = None
        self.rate_limit_header = bool(rate_limit_header)
        self.set_rate_limit(rate_limit_per_second, rate_limit_header)
        self.generation_seconds: float | None = None  # None: a workspace given, not generated here
        if workspace is None:
            t0 = time.perf_counter()
            workspace = Workspace(
                seed=seed, scale=scale, now=now, events_total=events_total, sessions_per_hour=sessions_per_hour
            )
            self.generation_seconds = time.perf_counter() - t0
        self.workspace = workspace
        self.retry_after_seconds = retry_after_seconds
        self.lock = threading.RLock()
        self._stats_lock = threading.Lock()
        self._fault_lock = threading.Lock()
        self._fault_rng = random.Random(int(seed) * 1_000_003 + 17)
        self.latency_ms = 0.0
        self.fault_rate = 0.0
        self.fault_kinds: tuple[str, ...] = DEFAULT_FAULT_KINDS
        self.set_latency(latency_ms)
        self.set_faults(fault_rate, fault_kinds)
        self._counts: dict[str, int] = {}
        self._log: deque = deque(maxlen=200_000)
        self._tokens: dict[str, object] = {}
        self.cursors = api.EventCursors()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self.port: int | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self, port: int = 0, host: str = "127.0.0.1") -> Sandbox:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the sandbox serves on loopback only")
        self._stopping.clear()
        server = _Server(("127.0.0.1", port), _Handler)
        server.sandbox = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox-100ms", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # wakes stalled and trickling connections
        server.shutdown()
        server.server_close()
        with self._stats_lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self.start(port=0)

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the sandbox is not started")
        return f"http://127.0.0.1:{self.port}"

    # ----------------------------------------------------------------- contract API

    def config(self) -> dict:
        ws = self.workspace
        return {
            "credentials": {
                "auth_type": "app_credentials",
                "app_access_key": ws.access_key,
                "app_secret": ws.app_secret,
            },
            "api_url": self.url,
        }

    def ground_truth(self) -> dict[str, list]:
        with self.lock:
            return self.workspace.ground_truth()

    def request_counts(self) -> dict[str, int]:
        with self._stats_lock:
            return dict(self._counts)

    def request_log(self) -> list[dict]:
        with self._stats_lock:
            return list(self._log)

    def reset_counts(self) -> None:
        with self._stats_lock:
            self._counts.clear()
            self._log.clear()

    def advance(self, minutes: float = 60) -> dict:
        with self.lock:
            return self.workspace.advance(minutes)

    def set_faults(self, fault_rate: float, fault_kinds=None) -> None:
        rate = float(fault_rate)
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if fault_kinds is None or fault_kinds == [] or fault_kinds == "":
            kinds = DEFAULT_FAULT_KINDS
        else:
            if isinstance(fault_kinds, str):
                fault_kinds = [k for k in fault_kinds.split(",") if k]
            kinds = tuple(str(k).strip() for k in fault_kinds)
            bad = [k for k in kinds if k not in FAULT_KINDS]
            if bad:
                raise ValueError(f"unknown fault kinds {bad}; use {', '.join(FAULT_KINDS)}")
        with self._fault_lock:
            self.fault_rate = rate
            self.fault_kinds = kinds

    def set_latency(self, ms: float) -> None:
        ms = float(ms)
        if ms < 0:
            raise ValueError("latency must be >= 0")
        self.latency_ms = ms

    def set_rate_limit(self, per_second: float | None, header: bool | None = None) -> None:
        """A sliding one-second window over the API routes: at most ``per_second`` accepted requests in any
        second; the others get 429. None or 0 turns it off. ``header``: also send ``Retry-After``."""
        if per_second is not None and float(per_second) < 0:
            raise ValueError("rate_limit_per_second must be >= 0")
        self.rate_limiter = RateLimiter(float(per_second)) if per_second else None
        if header is not None:
            self.rate_limit_header = bool(header)

    def set_order(self, order: str) -> None:
        self.behaviour.order = api.check_order(order)

    def set_strict_time_format(self, on: bool) -> None:
        self.behaviour.strict_time_format = bool(on)

    def set_reject_limit_on(self, kinds) -> None:
        self.behaviour.reject_limit_on = api.check_reject_limit_on(kinds)

    def set_repeat_cursor(self, mode: str | None) -> None:
        self.behaviour.repeat_cursor = api.check_repeat_cursor(mode)

    def disable_room(self, room_id: str) -> dict:
        """Disable a room now (``Workspace.disable_room``); its room codes then answer 403."""
        with self.lock:
            return self.workspace.disable_room(room_id)

    def secrets(self) -> list[str]:
        """Every secret value the API can currently answer (``Workspace.secrets``)."""
        with self.lock:
            return self.workspace.secrets()

    def pending_late_events(self) -> list[dict]:
        """Late analytics events not arrived yet (``Workspace.pending_late_events``)."""
        with self.lock:
            return self.workspace.pending_late_events()

    def options(self) -> dict:
        """The switchable behaviours in effect."""
        b = self.behaviour
        return {
            "order": b.order,
            "strict_time_format": b.strict_time_format,
            "reject_limit_on": sorted(b.reject_limit_on),
            "repeat_cursor": b.repeat_cursor,
            "rate_limit_per_second": self.rate_limiter.per_second if self.rate_limiter else None,
            "rate_limit_header": self.rate_limit_header,
            "sessions_per_hour": self.workspace.sessions_per_hour,
            "stall_seconds": self.stall_seconds,
            "trickle_interval_seconds": self.trickle_interval_seconds,
            "fault_rate": self.fault_rate,
            "fault_kinds": list(self.fault_kinds),
            "latency_ms": self.latency_ms,
        }

    def token(self, **overrides) -> str:
        """A valid management token for this sandbox (claims can be overridden, for tests)."""
        return mint_token(self.workspace.access_key, self.workspace.app_secret, **overrides)

    def summary_text(self) -> str:
        s = self.workspace.summary()
        generated = "given" if self.generation_seconds is None else f"generated in {self.generation_seconds:.2f}s"
        text = (
            f"100ms sandbox at {self.url if self.port else '(not started)'} seed={self.seed} scale={self.scale} "
            f"clock={api.fmt_ts(self.workspace.now_ns)} ({generated})\n  " + ", ".join(f"{k}={v}" for k, v in s.items())
        )
        defaults = {"order": "newest-first", "strict_time_format": False, "reject_limit_on": [],
                    "repeat_cursor": None, "rate_limit_per_second": None, "sessions_per_hour": None}  # fmt: skip
        opts = self.options()
        changed = [f"{k}={opts[k]}" for k, v in defaults.items() if opts[k] != v]
        if opts["rate_limit_per_second"] is not None:
            changed.append(f"rate_limit_header={opts['rate_limit_header']}")
        if self.fault_rate:
            changed.append(f"faults={self.fault_rate}:{','.join(self.fault_kinds)}")
        if changed:
            text += "\n  options: " + ", ".join(changed)
        return text

    # ----------------------------------------------------------------- internals

    def _draw_fault(self) -> str | None:
        with self._fault_lock:
            if self.fault_rate <= 0:
                return None
            if self._fault_rng.random() < self.fault_rate:
                return self._fault_rng.choice(self.fault_kinds)
            return None

    def _record(self, key: str, method: str, path: str, query: dict, status, fault, limited: bool = False) -> None:
        with self._stats_lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            if fault:
                self._counts["faults"] = self._counts.get("faults", 0) + 1
            if limited:
                self._counts["rate_limited"] = self._counts.get("rate_limited", 0) + 1
            self._log.append(
                {"t": time.time(), "method": method, "path": path, "query": query, "status": status, "fault": fault,
                 "rate_limited": limited}
            )  # fmt: skip

    def check_token(self, header: str | None) -> str | None:
        """None when the token is good, else the detail for the 401 body."""
        if not header or not header.startswith("Bearer "):
            return "missing or malformed Authorization header: expected 'Bearer <management token>'"
        tok = header[7:].strip()
        claims = self._tokens.get(tok)
        if claims is None:
            ws = self.workspace
            try:
                claims = jwt.decode(
                    tok,
                    ws.app_secret,
                    algorithms=["HS256"],
                    options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
                )
            except jwt.InvalidSignatureError:
                claims = "signature verification failed"
            except jwt.PyJWTError as e:
                claims = f"malformed token: {e}"
            if not isinstance(claims, str):
                err = None
                if claims.get("access_key") != ws.access_key:
                    err = "access_key does not match"
                elif claims.get("type") != "management":
                    err = "token type must be management"
                elif claims.get("version") != 2 or not _number(claims.get("version")):
                    err = "token version must be 2"
                elif not claims.get("jti"):
                    err = "jti claim is required"
                elif not _number(claims.get("iat")):
                    err = "iat claim is required"
                elif not _number(claims.get("exp")):
                    err = "exp claim is required"
                elif "nbf" in claims and not _number(claims["nbf"]):
                    err = "nbf claim must be a number"
                if err:
                    claims = err
            if len(self._tokens) > 4096:
                self._tokens.clear()
            self._tokens[tok] = claims
        if isinstance(claims, str):
            return claims
        now = time.time()
        if claims["exp"] < now - LEEWAY_S:
            return "token is expired"
        if claims.get("nbf", claims["iat"]) > now + LEEWAY_S:
            return "token is not valid yet"
        if claims["iat"] > now + LEEWAY_S:
            return "token issued in the future"
        return None


class RateLimiter:
    """A sliding one-second window: ``acquire`` accepts a request while fewer than ``per_second`` were accepted
    in the last second, else returns the whole seconds until a slot frees (at least 1). Refused requests do
    not count."""

    def __init__(self, per_second: float):
        self.per_second = per_second
        self._cap = max(1, math.floor(per_second))
        self._accepted: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self, now: float | None = None) -> int | None:
        t = time.monotonic() if now is None else now
        with self._lock:
            q = self._accepted
            while q and q[0] <= t - 1.0:
                q.popleft()
            if len(q) < self._cap:
                q.append(t)
                return None
            return max(1, math.ceil(q[0] + 1.0 - t))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    sandbox: Sandbox

    def handle_error(self, request, client_address) -> None:
        exc = sys.exc_info()[1]
        # A reset or truncated fault closes the socket on purpose; the stdlib handler then trips on it.
        if isinstance(exc, ConnectionError | OSError | ValueError):
            return
        traceback.print_exc()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sandbox-100ms"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        sb = self.server.sandbox
        with sb._stats_lock:
            sb._conns.add(self.connection)

    def finish(self) -> None:
        sb = self.server.sandbox
        with sb._stats_lock:
            sb._conns.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format, *args) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    # ----------------------------------------------------------------- plumbing

    def _send(self, status: int, body: bytes, ctype: str = "application/json", headers=(), cut: bool = False):
        head = [
            f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}\r\n",
            f"Content-Type: {ctype}\r\n",
            f"Content-Length: {len(body)}\r\n",
        ]
        for k, v in headers:
            head.append(f"{k}: {v}\r\n")
        if cut:
            head.append("Connection: close\r\n")
        head.append("\r\n")
        data = "".join(head).encode("latin-1")
        if cut:
            data += body[: len(body) // 2]
            self.close_connection = True
        else:
            data += body
        self.wfile.write(data)

    def _json(self, status: int, obj, headers=()) -> None:
        self._send(status, orjson.dumps(obj), headers=headers)

    def _reset(self) -> None:
        """Close the connection abruptly (RST, no response)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        for f in (self.wfile, self.rfile):
            try:
                f.close()
            except OSError:
                pass
        self.connection.close()

    def _handle(self, method: str) -> None:
        length = self.headers.get("Content-Length")
        if length:
            try:
                self.rfile.read(int(length))
            except (ValueError, OSError):
                pass
        raw_path, _, qs = self.path.partition("?")
        path = unquote(raw_path)
        query = parse_qs(qs, keep_blank_values=True)
        sb: Sandbox = self.server.sandbox
        if path.startswith("/_sandbox/") or path == "/_sandbox":
            self._admin(sb, method, path, query)
            return
        m = api.match(path)
        tpl = m[0] if m else "<unknown>"
        key = f"{method} {tpl}"
        limiter = sb.rate_limiter
        wait = limiter.acquire() if limiter is not None else None
        if sb.latency_ms:
            time.sleep(sb.latency_ms / 1000.0)
        if wait is not None:
            sb._record(key, method, path, query, 429, None, limited=True)
            headers = [("Retry-After", str(wait))] if sb.rate_limit_header else []
            self._json(429, {"code": 429, "message": f"rate limit exceeded, retry after {wait} seconds"}, headers)
            return
        fault = sb._draw_fault()
        if fault:
            if fault == "trickle":
                status, body = self._api(sb, method, path, query, m)
                sb._record(key, method, path, query, status, fault)
                self._trickle(sb, status, body)
                return
            sb._record(key, method, path, query, _FAULT_STATUS[fault], fault)
            self._fault(sb, fault, method, path, query, m)
            return
        status, body = self._api(sb, method, path, query, m)
        sb._record(key, method, path, query, status, None)
        self._send(status, body)

    def _api(self, sb: Sandbox, method: str, path: str, query: dict, m) -> tuple[int, bytes]:
        try:
            if not path.startswith("/v2/") and m is None:
                raise api.ApiError(404, "route not found", [f"no route for {method} {path}"])
            detail = sb.check_token(self.headers.get("Authorization"))
            if detail is not None:
                raise api.ApiError(401, "Token validation error", [detail])
            if m is None:
                raise api.ApiError(404, "route not found", [f"no route for {method} {path}"])
            if method != "GET":
                raise api.ApiError(405, "method not allowed", [f"{method} is not supported by the sandbox"])
            _, fn, params = m
            with sb.lock:
                if fn is api.list_events:
                    status, obj = api.list_events(sb.workspace, params, query, sb.cursors, sb.behaviour)
                else:
                    status, obj = fn(sb.workspace, params, query, sb.behaviour)
                return status, obj if isinstance(obj, api.Raw) else orjson.dumps(obj)
        except api.ApiError as e:
            return e.status, orjson.dumps(e.body)
        except Exception as e:  # a sandbox bug: say so loudly, answer 500
            traceback.print_exc()
            return 500, orjson.dumps({"code": 500, "message": "sandbox internal error", "details": [repr(e)]})

    def _fault(self, sb: Sandbox, fault: str, method: str, path: str, query: dict, m) -> None:
        if fault == "500":
            self._json(500, {"code": 500, "message": "Internal server error", "details": ["injected fault"]})
        elif fault == "502_html":
            self._send(502, HTML_502, ctype="text/html")
        elif fault == "429":
            n = sb.retry_after_seconds
            self._json(
                429,
                {"code": 429, "message": f"rate limit exceeded, retry after {n} seconds"},
                headers=[("Retry-After", str(n))],
            )
        elif fault == "reset":
            self._reset()
        elif fault == "truncated":
            # the body the request would have had (the real page when the request is good), half sent
            _, body = self._api(sb, method, path, query, m)
            self._send(200, body, cut=True)
        elif fault == "stall":
            # the request was read; answer nothing, then close (sooner if the sandbox stops)
            self.close_connection = True
            sb._stopping.wait(sb.stall_seconds)

    def _trickle(self, sb: Sandbox, status: int, body: bytes) -> None:
        """The real response, one byte every ``trickle_interval_seconds`` (status line and headers too)."""
        head = (
            f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode("latin-1")
        self.close_connection = True
        data = head + body
        try:
            for i in range(len(data)):
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
                if sb._stopping.wait(sb.trickle_interval_seconds):
                    break
        except OSError:
            pass

    # ----------------------------------------------------------------- admin routes

    def _admin(self, sb: Sandbox, method: str, path: str, query: dict) -> None:
        name = path[len("/_sandbox/") :].strip("/")
        gets = {
            "ground_truth": sb.ground_truth,
            "requests": sb.request_counts,
            "request_log": sb.request_log,
            "config": sb.config,
            "summary": sb.workspace.summary,
            "options": sb.options,
            "secrets": sb.secrets,
            "pending_late_events": sb.pending_late_events,
        }
        try:
            if name in gets:
                if method != "GET":
                    raise api.ApiError(405, "use GET")
                self._json(200, gets[name]())
                return
            posts = ("reset_counts", "advance", "faults", "latency", "rate_limit", "repeat_cursor", "order",
                     "strict_time_format", "reject_limit_on", "disable_room")  # fmt: skip
            if name not in posts:
                raise api.ApiError(404, "unknown sandbox admin route", [path])
            if method != "POST":
                raise api.ApiError(405, "use POST")
            if name == "reset_counts":
                sb.reset_counts()
                self._json(200, {"ok": True})
            elif name == "advance":
                minutes = float(api.q1(query, "minutes") or 60)
                self._json(200, sb.advance(minutes))
            elif name == "faults":
                kinds = api.q1(query, "kinds")
                sb.set_faults(float(api.q1(query, "rate") or 0), kinds or None)
                self._json(200, {"rate": sb.fault_rate, "kinds": list(sb.fault_kinds)})
            elif name == "latency":
                sb.set_latency(float(api.q1(query, "ms") or 0))
                self._json(200, {"ms": sb.latency_ms})
            elif name == "rate_limit":
                per_second = api.q1(query, "per_second")
                header = api.parse_bool(query, "header")
                sb.set_rate_limit(float(per_second) if per_second else None, header)
                opts = sb.options()
                self._json(200, {k: opts[k] for k in ("rate_limit_per_second", "rate_limit_header")})
            elif name == "repeat_cursor":
                sb.set_repeat_cursor(api.q1(query, "mode"))
                self._json(200, {"repeat_cursor": sb.behaviour.repeat_cursor})
            elif name == "order":
                sb.set_order(api.q1(query, "order") or "newest-first")
                self._json(200, {"order": sb.behaviour.order})
            elif name == "strict_time_format":
                sb.set_strict_time_format(bool(api.parse_bool(query, "on")))
                self._json(200, {"strict_time_format": sb.behaviour.strict_time_format})
            elif name == "reject_limit_on":
                sb.set_reject_limit_on(api.q1(query, "kinds") or "")
                self._json(200, {"reject_limit_on": sorted(sb.behaviour.reject_limit_on)})
            elif name == "disable_room":
                room_id = api.q1(query, "room_id")
                if not room_id:
                    raise api.ApiError(400, "room_id is required")
                try:
                    self._json(200, sb.disable_room(room_id))
                except KeyError:
                    raise api.ApiError(404, "room not found", [room_id]) from None
        except api.ApiError as e:
            self._json(e.status, e.body)
        except ValueError as e:
            self._json(400, {"code": 400, "message": str(e), "details": []})


_FAULT_STATUS = {"500": 500, "502_html": 502, "429": 429, "reset": None, "truncated": 200, "stall": None}
