"""Helpers for the sandbox's own tests: a keep-alive HTTP client with a management token."""

from __future__ import annotations

import http.client
from urllib.parse import urlencode

import orjson

from source_100ms.sandbox import Sandbox

NOW = "2025-06-01T12:00:00Z"


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
