"""The fewest requests a read could make, computed from the sandbox's own data (the benchmark and the tests).

An incremental sync after a first one must still ask for: the sessions lists (active and ended, created since
the cursor less the 13 hours a session may last), the recordings and recording assets lists down to the first
page older than what can still change (2 days, 1 hour) when they come newest-first, or whole when they come
oldest-first (they have no time filter, so the new items are on the last pages), and one analytics events chain
per session that changed since the previous sync or is running (a page per 100 of its events, one at least).
Anything more is overhead: lookbacks, lists asked twice, parents read for nothing.
"""

from __future__ import annotations

import collections
from datetime import UTC, datetime, timedelta

PAGE = 100
NS = 1_000_000_000


def pages(n: int, page: int = PAGE) -> int:
    """Requests to read a list of n items: a full last page needs one more to see the end."""
    return n // page + 1


def _ns(text: str) -> int:
    head, _, frac = text.rstrip("Z").partition(".")
    whole = datetime.fromisoformat(head).replace(tzinfo=UTC)
    return int(whole.timestamp()) * NS + int((frac or "0").ljust(9, "0")[:9])


def _newest_first_pages(created_ns: dict[str, int], bound_ns: int) -> int:
    """Pages of a newest-first list read down to and including the first page older than `bound_ns`."""
    newer = sum(1 for ns in created_ns.values() if ns >= bound_ns)
    total = len(created_ns)
    return min(newer // PAGE + 1, pages(total))


def _list_pages(created_ns: dict[str, int], bound_ns: int, order: str) -> int:
    if order == "oldest-first":
        return pages(len(created_ns))
    return _newest_first_pages(created_ns, bound_ns)


def second_sync_minimum(workspace, cursor: datetime, order: str = "newest-first") -> dict[str, int]:
    """The minimum requests of an incremental read of sessions, session peers, recordings, recording assets and
    analytics events whose previous read ended at `cursor` (the time of its newest record), the lists without a
    time filter coming in `order` (the sandbox's `order`)."""
    cursor_ns = int(cursor.timestamp()) * NS
    sessions = workspace.sessions
    after_ns = cursor_ns - 13 * 3600 * NS
    by_state = collections.Counter(
        s["active"] for sid, s in sessions.objects.items() if sessions.created_ns[sid] >= after_ns
    )
    changed = {sid for sid, s in sessions.objects.items() if s["active"] or _ns(s["updated_at"]) >= cursor_ns}
    per_session = collections.Counter()
    for room_id, events in workspace.room_events.items():
        for i in range(events.total):
            per_session[workspace.event_meta(room_id, i)[1]] += 1
    out = {
        "sessions": pages(by_state[True]) + pages(by_state[False]),
        "recordings": _list_pages(workspace.recordings.created_ns, cursor_ns - 2 * 86400 * NS, order),
        "recording_assets": _list_pages(workspace.recording_assets.created_ns, cursor_ns - 3600 * NS, order),
        "analytics_events": sum(max(1, pages(per_session[sid]) if per_session[sid] else 1) for sid in changed),
    }
    out["total"] = sum(out.values())
    return out


def cursor_of(states: list[dict], stream: str = "sessions") -> datetime:
    """The newest cursor value of a stream's final state (per-partition or plain)."""
    for state in states:
        if state["stream"]["stream_descriptor"]["name"] != stream:
            continue
        blob = state["stream"]["stream_state"]
        values = [p["cursor"]["updated_at"] for p in blob.get("states", [])] + [
            v for k, v in (blob.get("state") or blob).items() if k == "updated_at"
        ]
        return max(datetime.fromisoformat(v.replace("Z", "+00:00")) for v in values)
    raise KeyError(stream)


__all__ = ["PAGE", "cursor_of", "pages", "second_sync_minimum", "timedelta"]
