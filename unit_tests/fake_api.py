"""Builders for unit tests: a small in-memory 100ms API served through requests-mock.

Lists page the way 100ms documents them (newest first, `start` exclusive, `{limit, data, last}`), so a test
states the objects and the end-of-list shape, not every page by hand.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from jwt.warnings import InsecureKeyLengthWarning

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


def iso(at: datetime) -> str:
    """A time as the state and the cursors write it: `2024-05-10T12:00:00.000000Z`."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ago(**delta: float) -> str:
    """`iso` of now minus the given timedelta (`ago(days=2)`)."""
    return iso(datetime.now(UTC) - timedelta(**delta))


def session(sid: str, room: str, *, active: bool = False, created_at: str, updated_at: str, peers=None) -> dict:
    """A session as `GET /v2/sessions` lists it."""
    return {"id": sid, "room_id": room, "active": active, "created_at": created_at, "updated_at": updated_at,
            "peers": peers or {}}  # fmt: skip


def event(eid: str, room: str, session_id: str | None, timestamp: str, kind: str = "track.add.success") -> dict:
    """An analytics event as `GET /v2/analytics/events` gives it."""
    data = {"room_id": room, **({"session_id": session_id} if session_id else {})}
    return {"version": "2.0", "id": eid, "timestamp": timestamp, "type": kind, "data": data}


def query(request) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.url).query, keep_blank_values=True)


def claims(request) -> dict[str, Any]:
    token = request.headers["Authorization"].removeprefix("Bearer ")
    return decode(token)


def decode(token: str, **options: Any) -> dict[str, Any]:
    """The claims of a token signed with `SECRET`. The secret is as long as 100ms makes it, shorter than PyJWT
    recommends: its `InsecureKeyLengthWarning` is noise here, as the connector's minter says."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.decode(token, SECRET, algorithms=["HS256"], **options)


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

    def sessions(self, sessions: list[dict[str, Any]]):
        """`GET /v2/sessions`, honouring `active` as 100ms does (both kinds only when it is not sent)."""

        def matching(q: dict[str, list[str]]) -> list[dict[str, Any]]:
            wanted = q.get("active", [None])[0]
            return [s for s in sessions if wanted is None or str(s["active"]).lower() == wanted]

        return self.list("/v2/sessions", matching)

    def events(self, events: list[dict[str, Any]], page: int = 10):
        """`GET /v2/analytics/events` as 100ms documents it: `room_id` required (400 without), `session_id` and
        `type` filter, pages of at most `page` chained by an opaque `next` ("" on the last page), and `limit` the
        number of events in the answer."""

        def respond(request, context):
            q = query(request)
            if "room_id" not in q:
                context.status_code = 400
                return {"code": 400, "message": "room_id is required"}
            rows = [e for e in events if e["data"]["room_id"] == q["room_id"][0]]
            if "session_id" in q:
                rows = [e for e in rows if e["data"].get("session_id") == q["session_id"][0]]
            if "type" in q:
                rows = [e for e in rows if e["type"] in q["type"]]
            offset = int(q["start"][0].removeprefix("cursor-")) if "start" in q else 0
            size = min(page, int(q.get("limit", ["10"])[0]))
            chunk = rows[offset : offset + size]
            more = offset + size < len(rows)
            return {"limit": len(chunk), "total": len(rows), "next": f"cursor-{offset + size}" if more else "",
                    "events": chunk}  # fmt: skip

        return self.mocker.get(re.compile(re.escape(API + "/v2/analytics/events") + r"(\?|$)"), json=respond)

    def object(self, path: str, body: Any = None, status: int = 200):
        return self.mocker.get(re.compile(re.escape(API + path) + r"(\?|$)"), json=body, status_code=status)


def records(output, stream: str | None = None) -> list[dict[str, Any]]:
    return [r.record.data for r in output.records if stream is None or r.record.stream == stream]


def pretty(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True)
