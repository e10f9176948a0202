"""The 100ms API v2 behaviour of the sandbox: routing, filters, pagination, errors.

Handlers take ``(ws, params, query, opts)`` where ``params`` are the path parameters, ``query`` the
parsed query string (a dict of lists) and ``opts`` the switchable behaviours (``Behaviour``), and return
``(status, body)``; ``body`` is a JSON-able object. They are called under the sandbox lock, so the workspace
does not change underneath them.
"""

from __future__ import annotations

import base64
import bisect
import re
from collections import OrderedDict
from dataclasses import dataclass, field

import orjson

from .data import DAY, NS, Workspace, fmt_ts, parse_ts
from .model.store import in_sorted


class Raw(bytes):
    """A response body already encoded as JSON."""


ORDERS = ("newest-first", "oldest-first")
# Lists whose order 100ms does not document (rooms, sessions and templates are documented newest first).
UNORDERED_KINDS = ("recordings", "recording_assets", "live_streams", "external_streams")
# Lists whose `limit` has no documented range.
UNRANGED_LIMIT_KINDS = ("recordings", "recording_assets", "live_streams", "external_streams", "room_codes")
REPEAT_CURSOR_MODES = ("echo_start", "ignore_start")
STRICT_TIME_RX = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
STRICT_TIME_FORM = "YYYY-MM-DDTHH:mm:ss.sssZ"


@dataclass
class Behaviour:
    """Behaviours the docs leave open (or server bugs), switchable per sandbox and at run time.

    - ``order``: ``newest-first`` (descending ids, ``start`` exclusive: items older than it) or ``oldest-first``
      (ascending ids, items newer than ``start``) for the lists of ``UNORDERED_KINDS`` only.
    - ``strict_time_format``: ``after``/``before`` of rooms and sessions must match ``STRICT_TIME_RX``, else 400.
    - ``reject_limit_on``: kinds of ``UNRANGED_LIMIT_KINDS`` that answer 400 to any request carrying ``limit``.
    - ``repeat_cursor``: ``echo_start`` answers a request with ``start=S`` with its real page but ``last``
      (events: ``next``) ``S``; ``ignore_start`` ignores ``start`` and answers the first page again.
    """

    order: str = "newest-first"
    strict_time_format: bool = False
    reject_limit_on: frozenset[str] = field(default_factory=frozenset)
    repeat_cursor: str | None = None

    def __post_init__(self) -> None:
        self.order = check_order(self.order)
        self.reject_limit_on = check_reject_limit_on(self.reject_limit_on)
        self.repeat_cursor = check_repeat_cursor(self.repeat_cursor)
        self.strict_time_format = bool(self.strict_time_format)


def check_order(order) -> str:
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; use one of {', '.join(ORDERS)}")
    return order


def check_reject_limit_on(kinds) -> frozenset[str]:
    if kinds is None or kinds == "":
        return frozenset()
    if isinstance(kinds, str):
        kinds = [k for k in kinds.split(",") if k.strip()]
    out = frozenset(str(k).strip() for k in kinds)
    bad = sorted(out - set(UNRANGED_LIMIT_KINDS))
    if bad:
        raise ValueError(f"unknown list kinds {bad} for reject_limit_on; use {', '.join(UNRANGED_LIMIT_KINDS)}")
    return out


def check_repeat_cursor(mode) -> str | None:
    if mode in (None, "", "none", "off"):
        return None
    if mode not in REPEAT_CURSOR_MODES:
        raise ValueError(f"unknown repeat_cursor {mode!r}; use one of {', '.join(REPEAT_CURSOR_MODES)}")
    return mode


DEFAULT_BEHAVIOUR = Behaviour()


class ApiError(Exception):
    def __init__(self, status: int, message: str, details: list[str] | None = None):
        super().__init__(message)
        self.status = status
        self.body = {"code": status, "message": message, "details": details if details is not None else []}


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found", [f"{what} not found"])


# End-of-list shape served by each cursor list once the data is exhausted (the request after a full
# final page, or a query matching nothing). A final page shorter than `limit` always carries `last`.
END_SHAPES = {
    "rooms": "empty_blank_last",  # {"limit", "data": [], "last": ""}
    "sessions": "null_no_last",  # {"limit", "data": null}
    "templates": "empty_no_last",  # {"limit", "data": []}
    "recordings": "null_no_last",
    "recording_assets": "empty_blank_last",
    "live_streams": "empty_no_last",
    "external_streams": "null_no_last",
    "room_codes": "empty_blank_last",
    "polls": "empty_blank_last",
}


def end_body(kind: str, limit: int, key: str = "data") -> dict:
    shape = END_SHAPES[kind]
    if shape == "empty_blank_last":
        return {"limit": limit, key: [], "last": ""}
    if shape == "null_no_last":
        return {"limit": limit, key: None}
    return {"limit": limit, key: []}


# --------------------------------------------------------------------------- query helpers


def q1(query: dict, name: str) -> str | None:
    v = query.get(name)
    if not v:
        return None
    return v[-1]


def parse_limit(query: dict, lo: int = 10, hi: int = 100, default: int = 10) -> int:
    raw = q1(query, "limit")
    if raw is None or raw == "":
        return default
    try:
        n = int(raw)
    except ValueError:
        raise ApiError(400, f"invalid limit {raw!r}: must be an integer between {lo} and {hi}") from None
    if n < lo or n > hi:
        raise ApiError(400, f"invalid limit {n}: must be between {lo} and {hi}")
    return n


def list_limit(query: dict, kind: str, opts: Behaviour, default: int = 10) -> int:
    """``limit`` of a list whose range the docs do not give: 400 for any ``limit`` when the kind rejects it."""
    if kind in opts.reject_limit_on and "limit" in query:
        raise ApiError(400, "invalid limit", [f"limit is not accepted here (page size {default})"])
    return parse_limit(query, default=default)


def parse_bool(query: dict, name: str) -> bool | None:
    raw = q1(query, name)
    if raw is None or raw == "":
        return None
    low = raw.lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise ApiError(400, f"invalid {name} {raw!r}: must be true or false")


def parse_time(query: dict, name: str, strict: bool = False) -> int | None:
    raw = q1(query, name)
    if raw is None or raw == "":
        return None
    if strict and not STRICT_TIME_RX.match(raw):
        raise ApiError(
            400,
            f"invalid {name} {raw!r}: expected {STRICT_TIME_FORM}",
            [f"query parameter {name} must be formatted as {STRICT_TIME_FORM}, e.g. 2024-01-31T10:00:00.000Z"],
        )
    try:
        return parse_ts(raw)
    except (ValueError, OverflowError):
        raise ApiError(400, f"invalid {name} {raw!r}: expected RFC3339 like 2024-01-31T10:00:00.000Z") from None


def page_desc(asc: list[str], start: str | None, limit: int, pred=None, before_ns=None, after_ns=None) -> list[str]:
    """Newest first from an ascending id list, strictly older than ``start``.

    ObjectId prefixes are creation seconds, so ``before``/``after`` bound the scan.
    """
    hi = len(asc) if not start else bisect.bisect_left(asc, start)
    if before_ns is not None:
        hi = min(hi, bisect.bisect_left(asc, f"{before_ns // NS:08x}g"))
    stop_prefix = f"{after_ns // NS:08x}" if after_ns is not None else None
    out: list[str] = []
    i = hi - 1
    if pred is None and stop_prefix is None:
        lo = max(0, hi - limit)
        return asc[lo:hi][::-1]
    while i >= 0 and len(out) < limit:
        oid = asc[i]
        if stop_prefix is not None and oid[:8] < stop_prefix:
            break
        if pred is None or pred(oid):
            out.append(oid)
        i -= 1
    return out


def page_asc(asc: list[str], start: str | None, limit: int, pred=None) -> list[str]:
    """Oldest first from an ascending id list, strictly newer than ``start``."""
    lo = 0 if not start else bisect.bisect_right(asc, start)
    if pred is None:
        return asc[lo : lo + limit]
    out: list[str] = []
    for i in range(lo, len(asc)):
        if pred(asc[i]):
            out.append(asc[i])
            if len(out) == limit:
                break
    return out


def list_body(kind: str, limit: int, objs: list[dict], last_key: str = "id", key: str = "data") -> dict:
    if not objs:
        return end_body(kind, limit, key)
    return {"limit": limit, key: objs, "last": objs[-1][last_key]}


def cursor_list(fn):
    """A ``start``/``last`` list: applies ``Behaviour.repeat_cursor`` (a server bug) around the handler."""

    def handler(ws, params, query, opts: Behaviour = DEFAULT_BEHAVIOUR):
        start = q1(query, "start")
        if not start or opts.repeat_cursor is None:
            return fn(ws, params, query, opts)
        if opts.repeat_cursor == "ignore_start":
            return fn(ws, params, {k: v for k, v in query.items() if k != "start"}, opts)
        status, body = fn(ws, params, query, opts)
        if status == 200 and isinstance(body, dict):
            body = dict(body, last=start)
        return status, body

    handler.__name__ = fn.__name__
    handler.__doc__ = fn.__doc__
    return handler


def time_pred(coll, after_ns, before_ns):
    if after_ns is None and before_ns is None:
        return None
    cns = coll.created_ns
    lo = after_ns if after_ns is not None else -(1 << 62)
    hi = before_ns if before_ns is not None else 1 << 62

    def pred(oid):
        return lo <= cns[oid] <= hi

    return pred


def and_preds(*preds):
    ps = [p for p in preds if p is not None]
    if not ps:
        return None
    if len(ps) == 1:
        return ps[0]
    return lambda oid: all(p(oid) for p in ps)


# --------------------------------------------------------------------------- rooms


@cursor_list
def list_rooms(ws: Workspace, params, query, opts: Behaviour = DEFAULT_BEHAVIOUR):
    limit = parse_limit(query)
    enabled = parse_bool(query, "enabled")
    strict = opts.strict_time_format
    after, before = parse_time(query, "after", strict), parse_time(query, "before", strict)
    name, template_id = q1(query, "name"), q1(query, "template_id")
    if enabled is None:
        enabled = True  # the documented default: enabled rooms only
    base = ws.rooms_enabled if enabled else ws.rooms_disabled
    preds = [time_pred(ws.rooms, after, before)]
    if name is not None:
        rid = ws.rooms_by_name.get(name)
        base = [rid] if rid is not None and in_sorted(base, rid) else []
    if template_id is not None:
        tset = ws.rooms_by_template.get(template_id, [])
        if len(tset) < len(base):
            flag = enabled
            objs = ws.rooms.objects
            base = tset
            preds.append(lambda oid: objs[oid]["enabled"] is flag)
        else:
            ts_set = set(tset)
            preds.append(lambda oid: oid in ts_set)
    ids = page_desc(base, q1(query, "start"), limit, and_preds(*preds), before, after)
    return 200, list_body("rooms", limit, [ws.rooms.objects[i] for i in ids])


def get_room(ws: Workspace, params, query, opts: Behaviour = DEFAULT_BEHAVIOUR):
    room = ws.rooms.objects.get(params["room_id"])
    if room is None:
        raise not_found("room")
    return 200, room


# --------------------------------------------------------------------------- templates

_D = DEFAULT_BEHAVIOUR


@cursor_list
def list_templates(ws: Workspace, params, query, opts: Behaviour = _D):
    limit = parse_limit(query)
    ids = page_desc(ws.templates.asc, q1(query, "start"), limit)
    return 200, list_body("templates", limit, [ws.templates.objects[i] for i in ids])


def _template(ws: Workspace, tid: str) -> dict:
    t = ws.templates.objects.get(tid)
    if t is None:
        raise not_found("template")
    return t


def get_template(ws, params, query, opts: Behaviour = _D):
    return 200, _template(ws, params["template_id"])


def get_template_settings(ws, params, query, opts: Behaviour = _D):
    return 200, _template(ws, params["template_id"])["settings"]


def get_template_destinations(ws, params, query, opts: Behaviour = _D):
    return 200, _template(ws, params["template_id"])["destinations"]


def get_template_role(ws, params, query, opts: Behaviour = _D):
    role = _template(ws, params["template_id"])["roles"].get(params["role_name"])
    if role is None:
        raise not_found("role")
    return 200, role


def get_template_recordings(ws, params, query, opts: Behaviour = _D):
    t = _template(ws, params["template_id"])
    return 200, ws.template_recordings.get(t["id"], [])


# --------------------------------------------------------------------------- active rooms


def _active_session(ws: Workspace, room_id: str) -> dict:
    if room_id not in ws.rooms.objects:
        raise ApiError(404, "room not found", ["room not found"])
    sid = ws.active_session_by_room.get(room_id)
    if sid is None:
        raise ApiError(404, "room not active", [])
    return ws.sessions.objects[sid]


def _joined(session: dict) -> list[dict]:
    return [p for p in session["peers"].values() if "left_at" not in p]


def _active_peer(p: dict) -> dict:
    return {"id": p["id"], "name": p["name"], "user_id": p["user_id"], "metadata": "", "role": p["role"],
            "joined_at": p["joined_at"]}  # fmt: skip


def get_active_room(ws, params, query, opts: Behaviour = _D):
    s = _active_session(ws, params["room_id"])
    room = ws.rooms.objects[params["room_id"]]
    return 200, {
        "id": room["id"],
        "name": room["name"],
        "customer_id": room["customer_id"],
        "session": {"id": s["id"], "created_at": s["created_at"], "peers": [p["id"] for p in _joined(s)]},
    }


def get_active_room_peers(ws, params, query, opts: Behaviour = _D):
    s = _active_session(ws, params["room_id"])
    user_id, role = q1(query, "user_id"), q1(query, "role")
    peers = {}
    for p in _joined(s):
        if user_id is not None and p["user_id"] != user_id:
            continue
        if role is not None and p["role"] != role:
            continue
        peers[p["id"]] = _active_peer(p)
    return 200, {"peers": peers}


def get_active_room_peer(ws, params, query, opts: Behaviour = _D):
    s = _active_session(ws, params["room_id"])
    for p in _joined(s):
        if p["id"] == params["peer_id"]:
            out = _active_peer(p)
            h = p["id"].replace("-", "")
            tid = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"
            out["tracks"] = {
                tid: {"id": tid, "stream_id": p["id"], "mute": False, "type": "audio", "source": "regular",
                      "started_at": p["joined_at"], "description": ""}
            }  # fmt: skip
            return 200, out
    raise not_found("peer")


# --------------------------------------------------------------------------- sessions


@cursor_list
def list_sessions(ws: Workspace, params, query, opts: Behaviour = _D):
    limit = parse_limit(query)
    active = parse_bool(query, "active")
    strict = opts.strict_time_format
    after, before = parse_time(query, "after", strict), parse_time(query, "before", strict)
    room_id = q1(query, "room_id")
    if active is None:
        active = True  # the documented default: active sessions only
    objs = ws.sessions.objects
    preds = [time_pred(ws.sessions, after, before)]
    if room_id is not None:
        base = ws.sessions.by_room.get(room_id, [])
        flag = active
        preds.append(lambda oid: objs[oid]["active"] is flag)
    else:
        base = ws.sessions_active if active else ws.sessions_ended
    ids = page_desc(base, q1(query, "start"), limit, and_preds(*preds), before, after)
    return 200, list_body("sessions", limit, [objs[i] for i in ids])


def get_session(ws, params, query, opts: Behaviour = _D):
    s = ws.sessions.objects.get(params["session_id"])
    if s is None:
        raise not_found("session")
    return 200, s


# --------------------------------------------------------------------------- recordings & co


def _filtered_list(ws: Workspace, coll, kind: str, query, statuses: tuple[str, ...] | None, opts: Behaviour):
    limit = list_limit(query, kind, opts)
    room_id, session_id, status = q1(query, "room_id"), q1(query, "session_id"), q1(query, "status")
    if status is not None and statuses is not None and status not in statuses:
        raise ApiError(400, f"invalid status {status!r}", [f"status must be one of {', '.join(statuses)}"])
    objs = coll.objects
    preds = []
    if session_id is not None:
        base = coll.by_session.get(session_id, [])
        if room_id is not None:
            preds.append(lambda oid: objs[oid]["room_id"] == room_id)
    elif room_id is not None:
        base = coll.by_room.get(room_id, [])
    else:
        base = coll.asc
    if status is not None:
        preds.append(lambda oid: objs[oid]["status"] == status)
    if opts.order == "oldest-first" and kind in UNORDERED_KINDS:
        ids = page_asc(base, q1(query, "start"), limit, and_preds(*preds))
    else:
        ids = page_desc(base, q1(query, "start"), limit, and_preds(*preds))
    return ids, limit


REC_STATUSES = ("starting", "running", "stopping", "post_processing", "completed", "failed")


@cursor_list
def list_recordings(ws, params, query, opts: Behaviour = _D):
    ids, limit = _filtered_list(ws, ws.recordings, "recordings", query, REC_STATUSES, opts)
    # the list leaves out recording_assets (they are only on GET by id)
    return 200, list_body("recordings", limit, [ws.recordings.objects[i] for i in ids])


def get_recording(ws, params, query, opts: Behaviour = _D):
    rec = ws.recordings.objects.get(params["recording_id"])
    if rec is None:
        raise not_found("recording")
    out = dict(rec)
    out["recording_assets"] = [
        ws.recording_assets.objects[a]
        for a in ws.recording_assets.by_session.get(rec["session_id"], [])
        if ws.recording_assets.objects[a]["job_id"] == rec["id"]
    ]
    return 200, out


@cursor_list
def list_recording_assets(ws, params, query, opts: Behaviour = _D):
    ids, limit = _filtered_list(ws, ws.recording_assets, "recording_assets", query, ("completed", "failed"), opts)
    return 200, list_body("recording_assets", limit, [ws.recording_assets.objects[i] for i in ids])


def get_recording_asset(ws, params, query, opts: Behaviour = _D):
    a = ws.recording_assets.objects.get(params["asset_id"])
    if a is None:
        raise not_found("recording asset")
    return 200, a


def get_recording_asset_url(ws, params, query, opts: Behaviour = _D):
    a = ws.recording_assets.objects.get(params["asset_id"])
    if a is None:
        raise not_found("recording asset")
    raw = q1(query, "presign_duration") or "3600"
    try:
        dur = int(raw)
    except ValueError:
        raise ApiError(400, f"invalid presign_duration {raw!r}") from None
    return 200, {
        "id": a["id"],
        "path": a["path"],
        "url": "https://recordings-bucket.s3.example.com/" + a["path"].split("/", 3)[-1] + f"?expires={dur}",
        "expiry": dur,
    }


@cursor_list
def list_live_streams(ws, params, query, opts: Behaviour = _D):
    ids, limit = _filtered_list(ws, ws.live_streams, "live_streams", query, None, opts)
    return 200, list_body("live_streams", limit, [ws.live_streams.objects[i] for i in ids])


def get_live_stream(ws, params, query, opts: Behaviour = _D):
    x = ws.live_streams.objects.get(params["stream_id"])
    if x is None:
        raise not_found("live stream")
    out = dict(x)
    if out["recording_assets"] is None:
        out["recording_assets"] = []
    return 200, out


@cursor_list
def list_external_streams(ws, params, query, opts: Behaviour = _D):
    ids, limit = _filtered_list(ws, ws.external_streams, "external_streams", query, None, opts)
    return 200, list_body("external_streams", limit, [ws.external_streams.objects[i] for i in ids])


def get_external_stream(ws, params, query, opts: Behaviour = _D):
    x = ws.external_streams.objects.get(params["stream_id"])
    if x is None:
        raise not_found("external stream")
    return 200, x


# --------------------------------------------------------------------------- room codes, keys, polls

ROOM_CODES_PAGE = 20  # the documented example answers "limit": 20


def _enabled_room(ws: Workspace, room_id: str) -> dict:
    """The room, or the documented 404 (unknown) and 403 (disabled; room codes and stream keys)."""
    room = ws.rooms.objects.get(room_id)
    if room is None:
        raise ApiError(404, "room not found", ["room not found"])
    if not room["enabled"]:
        raise ApiError(403, "Room is disabled", [f"room {room_id} is disabled"])
    return room


@cursor_list
def list_room_codes(ws: Workspace, params, query, opts: Behaviour = _D):
    room = _enabled_room(ws, params["room_id"])
    limit = list_limit(query, "room_codes", opts, default=ROOM_CODES_PAGE)
    role, enabled = q1(query, "role"), parse_bool(query, "enabled")
    codes = ws.room_codes.get(room["id"], [])
    if role is not None and not any(c["role"] == role for c in codes):
        raise ApiError(404, "role not found", [f"role {role} not found"])
    start = q1(query, "start")
    hi = len(codes) if not start else bisect.bisect_left([c["code"] for c in codes], start)
    out = []
    for c in reversed(codes[:hi]):
        if role is not None and c["role"] != role:
            continue
        if enabled is not None and c["enabled"] is not enabled:
            continue
        out.append(c)
        if len(out) == limit:
            break
    return 200, list_body("room_codes", limit, out, last_key="code")


def get_stream_keys(ws, params, query, opts: Behaviour = _D):
    _enabled_room(ws, params["room_id"])
    key = ws.stream_keys.get(params["room_id"])
    if key is None:
        raise ApiError(404, "stream key not found", ["no active stream key for this room"])
    # One key per room; `start` pages as on every `last` list (start exclusive): after the key, nothing.
    if q1(query, "start") == key["id"]:
        return 200, {"data": [], "last": ""}
    return 200, {"data": [key], "last": key["id"]}


def _poll(ws, pid):
    p = ws.polls.get(pid)
    if p is None:
        raise not_found("poll")
    return p


def get_poll(ws, params, query, opts: Behaviour = _D):
    return 200, _poll(ws, params["poll_id"])


def _poll_list(items: list[dict], query, key: str):
    limit = parse_limit(query)
    start = q1(query, "start")
    hi = len(items) if not start else bisect.bisect_left([x["id"] for x in items], start)
    sel = items[max(0, hi - limit) : hi][::-1]
    if not sel:
        return 200, end_body("polls", limit, key)
    return 200, {"last": sel[-1]["id"], "limit": limit, key: sel}


@cursor_list
def get_poll_sessions(ws, params, query, opts: Behaviour = _D):
    _poll(ws, params["poll_id"])
    return _poll_list(ws.poll_sessions.get(params["poll_id"], []), query, "responses")


@cursor_list
def get_poll_responses(ws, params, query, opts: Behaviour = _D):
    _poll(ws, params["poll_id"])
    items = ws.poll_responses.get(params["poll_id"], [])
    question = q1(query, "question")
    if question is not None:
        items = [x for x in items if str(x["question"]) == question]
    return _poll_list(items, query, "responses")


def get_poll_response(ws, params, query, opts: Behaviour = _D):
    _poll(ws, params["poll_id"])
    for x in ws.poll_responses.get(params["poll_id"], []):
        if x["id"] == params["response_id"]:
            return 200, x
    raise not_found("poll response")


@cursor_list
def get_poll_results(ws, params, query, opts: Behaviour = _D):
    _poll(ws, params["poll_id"])
    items = ws.poll_results.get(params["poll_id"], [])
    question = q1(query, "question")
    if question is not None:
        items = [x for x in items if str(x["question"]) == question]
    return _poll_list(items, query, "results")


# --------------------------------------------------------------------------- analytics events


class EventCursors:
    """Snapshot cursors. The token is opaque to clients: base64url of a small JSON document."""

    def __init__(self) -> None:
        self._matches: OrderedDict[tuple, list[int]] = OrderedDict()

    def matches(self, ws: Workspace, room_id: str, n: int, filt: tuple) -> list[int] | None:
        """Indices (< n) of the events matching the filters, None when there is no filter."""
        types, session_id, peer_id, user_id = filt
        if not (types or session_id or peer_id or user_id):
            return None
        key = (room_id, n, filt)
        hit = self._matches.get(key)
        if hit is not None:
            self._matches.move_to_end(key)
            return hit
        tset = set(types)
        out = []
        for i in range(n):
            etype, sid, pid, uid = ws.event_meta(room_id, i)
            if tset and etype not in tset:
                continue
            if session_id and sid != session_id:
                continue
            if peer_id and pid != peer_id:
                continue
            if user_id and uid != user_id:
                continue
            out.append(i)
        self._matches[key] = out
        while len(self._matches) > 256:
            self._matches.popitem(last=False)
        return out


def encode_token(doc: dict) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(doc)).decode().rstrip("=")


def decode_token(tok: str) -> dict:
    try:
        pad = "=" * (-len(tok) % 4)
        doc = orjson.loads(base64.urlsafe_b64decode(tok + pad))
        if not isinstance(doc, dict) or not {"r", "n", "o", "t", "f"} <= doc.keys():
            raise ValueError
        return doc
    except Exception:
        raise ApiError(400, "invalid start token", ["start is not a token returned by this API"]) from None


def list_events(ws: Workspace, params, query, cursors: EventCursors, opts: Behaviour = _D):
    """Events of one room; a ``next`` token pages the snapshot taken at the first query.

    The response's ``limit`` is, as documented, the number of events in that response.
    """
    room_id = q1(query, "room_id")
    if not room_id:
        raise ApiError(400, "room_id is required", ["query parameter room_id is required"])
    limit = parse_limit(query, lo=1, hi=100, default=10)
    start = q1(query, "start")
    if start and opts.repeat_cursor == "ignore_start":
        start = None
    now = ws.now_ns
    if start:
        doc = decode_token(start)
        if doc["r"] != room_id:
            raise ApiError(400, "invalid start token", ["the token belongs to another room_id"])
        if now - int(doc["t"]) > DAY:
            raise ApiError(400, "start token expired", ["tokens are valid for 24 hours after the first query"])
        n, offset, snap = int(doc["n"]), int(doc["o"]), int(doc["t"])
        f = doc["f"]
        filt = (tuple(f[0]), f[1], f[2], f[3])
    else:
        # An empty `type=` is not "all types" at 100ms (undocumented): refuse it, so a client that sends one shows.
        if any(not v.strip() for v in query.get("type", [])):
            raise ApiError(400, "invalid event type ''", ["type must name an event type, e.g. track.add.success"])
        types = tuple(sorted({t for v in query.get("type", []) for t in v.split(",") if t}))
        filt = (types, q1(query, "session_id") or "", q1(query, "peer_id") or "", q1(query, "user_id") or "")
        re_ = ws.room_events.get(room_id)
        n = re_.total if re_ is not None else 0
        offset, snap = 0, now
    if room_id not in ws.rooms.objects:
        return 200, {"limit": 0, "total": 0, "next": "", "events": []}
    if n and room_id not in ws.room_events:
        n = 0
    idx = cursors.matches(ws, room_id, n, filt) if n else []
    total = n if idx is None else len(idx)
    end = min(offset + limit, total)
    sel = range(offset, end) if idx is None else idx[offset:end]
    ej = ws.event_json
    events = ",".join([ej(room_id, i) for i in sel])
    nxt = ""
    if end < total:
        nxt = encode_token({"r": room_id, "n": n, "o": end, "t": snap, "f": list(filt)})
    if opts.repeat_cursor == "echo_start" and q1(query, "start"):
        nxt = q1(query, "start")
    body = f'{{"limit":{len(sel)},"total":{total},"next":"{nxt}","events":[{events}]}}'
    return 200, Raw(body.encode())


# --------------------------------------------------------------------------- routing

ROUTES = [
    ("/v2/rooms", list_rooms),
    ("/v2/rooms/{room_id}", get_room),
    ("/v2/templates", list_templates),
    ("/v2/templates/{template_id}", get_template),
    ("/v2/templates/{template_id}/settings", get_template_settings),
    ("/v2/templates/{template_id}/destinations", get_template_destinations),
    ("/v2/templates/{template_id}/recordings", get_template_recordings),
    ("/v2/templates/{template_id}/roles/{role_name}", get_template_role),
    ("/v2/active-rooms/{room_id}", get_active_room),
    ("/v2/active-rooms/{room_id}/peers", get_active_room_peers),
    ("/v2/active-rooms/{room_id}/peers/{peer_id}", get_active_room_peer),
    ("/v2/sessions", list_sessions),
    ("/v2/sessions/{session_id}", get_session),
    ("/v2/analytics/events", list_events),
    ("/v2/recordings", list_recordings),
    ("/v2/recordings/{recording_id}", get_recording),
    ("/v2/recording-assets", list_recording_assets),
    ("/v2/recording-assets/{asset_id}", get_recording_asset),
    ("/v2/recording-assets/{asset_id}/presigned-url", get_recording_asset_url),
    ("/v2/live-streams", list_live_streams),
    ("/v2/live-streams/{stream_id}", get_live_stream),
    ("/v2/external-streams", list_external_streams),
    ("/v2/external-streams/{stream_id}", get_external_stream),
    ("/v2/room-codes/room/{room_id}", list_room_codes),
    ("/v2/stream-keys/room/{room_id}", get_stream_keys),
    ("/v2/polls/{poll_id}", get_poll),
    ("/v2/polls/{poll_id}/sessions", get_poll_sessions),
    ("/v2/polls/{poll_id}/responses", get_poll_responses),
    ("/v2/polls/{poll_id}/responses/{response_id}", get_poll_response),
    ("/v2/polls/{poll_id}/results", get_poll_results),
]

_COMPILED: dict[int, list[tuple[re.Pattern, str, object]]] = {}
for _tpl, _fn in ROUTES:
    _rx = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", _tpl) + "$")
    _COMPILED.setdefault(_tpl.count("/"), []).append((_rx, _tpl, _fn))


def match(path: str):
    """(template, handler, params) or None."""
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    for rx, tpl, fn in _COMPILED.get(path.count("/"), ()):
        m = rx.match(path)
        if m:
            return tpl, fn, m.groupdict()
    return None


__all__ = ["ApiError", "Behaviour", "DEFAULT_BEHAVIOUR", "EventCursors", "END_SHAPES", "ROUTES", "match", "list_events",
           "fmt_ts"]  # fmt: skip
