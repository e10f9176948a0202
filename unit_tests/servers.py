"""A loopback HTTP server for deadline tests: it answers every request at once with headers, then trickles the body
one byte at a time, so that no per-read timeout ever fires and only a deadline for the whole answer can stop a
client. Unlike the sandbox's `TricklingServer`, it can keep the connection alive (no `Connection: close`)."""

from __future__ import annotations

import socket
import threading


class TricklingBodyServer:
    def __init__(self, interval_seconds: float = 0.01, body_bytes: int = 100_000, close: bool = False) -> None:
        self.interval_seconds, self.body_bytes, self.close = interval_seconds, body_bytes, close
        self.requests = 0
        self._stop = threading.Event()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.05)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> TricklingBodyServer:
        self._spawn(self._accept)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._sock.close()
        for thread in self._threads:
            thread.join(2)

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._spawn(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(1)
                conn.recv(65536)
                self.requests += 1
                close = "Connection: close\r\n" if self.close else ""
                conn.sendall(
                    f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {self.body_bytes}\r\n"
                    f"{close}\r\n".encode()
                )
                for _ in range(self.body_bytes):
                    if self._stop.wait(self.interval_seconds):
                        return
                    conn.sendall(b" ")
            except OSError:
                return
