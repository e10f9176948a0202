"""Small loopback servers for connection-level tests: a host that never answers, one that answers one byte
at a time, and one that answers ``200 {}`` to anything and records every request ("another host", which a
connector must never call).

Each is a context manager with ``.url`` and a request counter, and shuts down promptly on exit: its threads
wait on sockets with short timeouts and on a stop event, and every accepted socket is closed on exit.

    with SilentServer() as host:
        config = dict(sandbox.config(), api_url=host.url)   # a sync must give up, not hang
"""

from __future__ import annotations

import socket
import threading
import time

_POLL = 0.05  # seconds between checks of the stop event


class _LoopbackServer:
    """Accepts connections on 127.0.0.1 and gives each to ``_serve`` in a daemon thread."""

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.port: int | None = None
        self.connections = 0
        self.requests = 0

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> _LoopbackServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        sock.settimeout(_POLL)
        self._sock = sock
        self.port = sock.getsockname()[1]
        self._stop.clear()
        t = threading.Thread(target=self._accept_loop, name=f"{type(self).__name__}-accept", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                c.close()
            except OSError:
                pass
        for t in self._threads:
            t.join(timeout=2)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the server is not started")
        return f"http://127.0.0.1:{self.port}"

    # ----------------------------------------------------------------- internals

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(_POLL)
            with self._lock:
                self._conns.add(conn)
                self.connections += 1
            t = threading.Thread(target=self._run, args=(conn,), name=f"{type(self).__name__}-conn", daemon=True)
            t.start()
            self._threads.append(t)

    def _run(self, conn: socket.socket) -> None:
        try:
            self._serve(conn)
        except OSError:
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            try:
                conn.close()
            except OSError:
                pass

    def _read_request(self, conn: socket.socket, buf: bytearray) -> tuple[bytes, bytes] | None:
        """One request's head and body from ``buf`` + the socket; None once the peer closes or we stop."""
        while b"\r\n\r\n" not in buf:
            if self._stop.is_set():
                return None
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                return None
            buf.extend(chunk)
        head, _, rest = bytes(buf).partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    length = 0
        while len(rest) < length:
            if self._stop.is_set():
                return None
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                return None
            rest += chunk
        buf[:] = rest[length:]
        with self._lock:
            self.requests += 1
        return head, rest[:length]

    def _serve(self, conn: socket.socket) -> None:
        raise NotImplementedError


class SilentServer(_LoopbackServer):
    """Accepts connections, reads requests, and never answers (until the server stops)."""

    def _serve(self, conn: socket.socket) -> None:
        buf = bytearray()
        while self._read_request(conn, buf) is not None:
            pass  # read every request; answer none


class TricklingServer(_LoopbackServer):
    """Answers every request with a valid HTTP response, one byte every ``interval_seconds``.

    The body is ``body_bytes`` long (default 10 MB: at one byte a second it never ends in a test's time);
    every byte keeps a per-read timeout from firing, so only an overall deadline stops a client.
    """

    def __init__(self, interval_seconds: float = 1.0, body_bytes: int = 10_000_000):
        super().__init__()
        if interval_seconds <= 0:
            raise ValueError("interval_seconds must be > 0")
        self.interval_seconds = interval_seconds
        self.body_bytes = body_bytes
        self.bytes_sent = 0

    def _response_bytes(self):
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {self.body_bytes}\r\nConnection: close\r\n\r\n"
        ).encode()
        yield from (head[i : i + 1] for i in range(len(head)))
        opening = b'{"limit":10,"data":['
        yield from (opening[i : i + 1] for i in range(min(len(opening), self.body_bytes)))
        for _ in range(self.body_bytes - len(opening)):
            yield b" "

    def _serve(self, conn: socket.socket) -> None:
        if self._read_request(conn, bytearray()) is None:
            return
        for byte in self._response_bytes():
            conn.sendall(byte)
            with self._lock:
                self.bytes_sent += 1
            if self._stop.wait(self.interval_seconds):
                return


class CountingServer(_LoopbackServer):
    """Answers ``200 {}`` to any request and records its method, path and headers in ``log``."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[dict] = []

    def _serve(self, conn: socket.socket) -> None:
        buf = bytearray()
        while True:
            req = self._read_request(conn, buf)
            if req is None:
                return
            head, body = req
            lines = head.decode("latin-1").split("\r\n")
            method, _, rest = lines[0].partition(" ")
            path = rest.rsplit(" ", 1)[0]
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip()] = value.strip()
            with self._lock:
                self.log.append({"t": time.time(), "method": method, "path": path, "headers": headers, "body": body})
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")


__all__ = ["CountingServer", "SilentServer", "TricklingServer"]
