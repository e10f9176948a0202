"""Builders for unit tests: a small in-memory 100ms API served through requests-mock.

Lists page the way 100ms documents them (newest first, `start` exclusive, `{limit, data, last}`), so a test
states the objects and the end-of-list shape, not every page by hand.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

API = "https://api.100ms.live"
ACCESS_KEY = "64a1b2c3d4e5f60718293a4b"
SECRET = "unit-test-app-secret-do-not-log"


def config(**overrides: Any) -> dict[str, Any]:
    base = {
        "credentials": {"auth_type": "app_credentials", "app_access_key": ACCESS_KEY, "app_secret": SECRET},
        "page_size": 10,
    }
    base.update(overrides)
    return base


def query(request) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.url).query, keep_blank_values=True)


def claims(request) -> dict[str, Any]:
    token = request.headers["Authorization"].removeprefix("Bearer ")
    return jwt.decode(token, SECRET, algorithms=["HS256"])


class FakeApi:
    """Registers 100ms-shaped list and object endpoints on a requests-mock Mocker."""

    def __init__(self, mocker) -> None:
        self.mocker = mocker

    def list(
        self,
        path: str,
        items: list[dict[str, Any]] | Callable[[dict[str, list[str]]], list[dict[str, Any]]],
        *,
        end: str = "short",
        key: str = "id",
    ):
        """Serve `items` (or items computed from the query) as a `{limit, data, last}` list.

        `end` is how the list ends: `short` (last page shorter than limit, `last` set), `empty` (a further
        page with `data: []` and `last: ""`), `null` (a further page with `data: null`, no `last`),
        `missing_last` (a further page with `data: []` and no `last`).
        """

        def respond(request, context):
            q = query(request)
            limit = int(q.get("limit", ["10"])[0])
            rows = items(q) if callable(items) else items
            rows = sorted(rows, key=lambda r: r[key], reverse=True)
            start = q.get("start", [None])[0]
            if start:
                rows = [r for r in rows if r[key] < start]
            page = rows[:limit]
            if page:
                return {"limit": limit, "data": page, "last": page[-1][key]}
            return {
                "empty": {"limit": limit, "data": [], "last": ""},
                "null": {"limit": limit, "data": None},
                "missing_last": {"limit": limit, "data": []},
                "short": {"limit": limit, "data": [], "last": ""},
            }[end]

        return self.mocker.get(re.compile(re.escape(API + path) + r"(\?|$)"), json=respond)

    def object(self, path: str, body: Any = None, status: int = 200):
        return self.mocker.get(re.compile(re.escape(API + path) + r"(\?|$)"), json=body, status_code=status)


def records(output, stream: str | None = None) -> list[dict[str, Any]]:
    return [r.record.data for r in output.records if stream is None or r.record.stream == stream]


def pretty(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True)
