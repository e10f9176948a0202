"""Helpers for the sandbox's own tests: workspaces generated once per process, a keep-alive HTTP client with a
management token."""

from __future__ import annotations

import functools
import http.client
import pickle
from urllib.parse import urlencode

import orjson

from source_100ms.sandbox import Sandbox, Workspace

NOW = "2025-06-01T12:00:00Z"


def workspace(seed: int, scale: str = "small", **options) -> Workspace:
    """A workspace of the caller's own, the one ``Workspace(seed, scale, now=NOW, **options)`` generates.

    For a test about what is done with a workspace (served, advanced, read), not about generating one: each is
    generated once per process and every caller gets a copy (a small one in 15 ms instead of 100; a busy one
    in 0.5 s instead of 1 to 2). The tests of generation itself (determinism, seeds, timing) call ``Workspace``.
    """
    return pickle.loads(_generated(seed, scale, tuple(sorted(options.items()))))


@functools.cache
def _generated(seed: int, scale: str, options: tuple) -> bytes:
    return pickle.dumps(Workspace(seed=seed, scale=scale, now=NOW, **dict(options)))


class Client:
    def __init__(self, sb: Sandbox, token: str | None = None):
        self.sb = sb
        self.token = token if token is not None else sb.token()
        self.conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=10)

    def raw(self, path: str, params=None, method: str = "GET", headers=None):
        if params:
            path = path + ("&" if "?" in path else "?") + urlencode(params, doseq=True)
        h = {"Authorization": f"Bearer {self.token}"}
        h.update(headers or {})
        self.conn.request(method, path, headers=h)
        resp = self.conn.getresponse()
        return resp, resp.read()

    def get(self, path: str, params=None, **kw):
        resp, body = self.raw(path, params, **kw)
        return resp.status, orjson.loads(body)

    def walk(self, path: str, params=None, limit: int = 100):
        """Follow start <- last until an end-of-list shape; returns (ids, pages)."""
        params = dict(params or {})
        params["limit"] = limit
        items, pages = [], []
        start = None
        for _ in range(100_000):
            p = dict(params)
            if start:
                p["start"] = start
            status, body = self.get(path, p)
            assert status == 200, body
            pages.append(body)
            data = body.get("data")
            if not data:
                break
            items.extend(data)
            start = body.get("last")
            if not start or len(data) < limit:
                break
        return items, pages

    def close(self):
        self.conn.close()
