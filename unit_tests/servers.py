"""A loopback HTTP server for deadline tests: it answers every request at once with headers, then trickles the body
one byte at a time, so that no per-read timeout ever fires and only a deadline for the whole answer can stop a
client. Unlike the sandbox's `TricklingServer`, it sends its headers at once and can keep the connection alive (no
`Connection: close`). The accepting, the threads and the prompt shutdown are the sandbox's loopback servers'."""

from __future__ import annotations

import socket

from source_100ms.sandbox.loopback import _LoopbackServer


class TricklingBodyServer(_LoopbackServer):
    def __init__(self, interval_seconds: float = 0.01, body_bytes: int = 100_000, close: bool = False) -> None:
        super().__init__()
        self.interval_seconds, self.body_bytes, self.close = interval_seconds, body_bytes, close

    def _serve(self, conn: socket.socket) -> None:
        if self._read_request(conn, bytearray()) is None:
            return
        close = "Connection: close\r\n" if self.close else ""
        conn.sendall(
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {self.body_bytes}\r\n"
            f"{close}\r\n".encode()
        )
        for _ in range(self.body_bytes):
            if self._stop.wait(self.interval_seconds):
                return
            conn.sendall(b" ")
