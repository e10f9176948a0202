"""Sessions and their peers, as ``GET /v2/sessions`` answers them (``peers`` a map keyed by peer id; peers
still in the room have no ``left_at``), plus which session is active in which room."""

from __future__ import annotations

from .clock import NS
from .context import Context
from .ids import object_id, uuid4s
from .store import Collection, insert_sorted
from .templates import Templates


class Sessions:
    """The workspace's sessions. A room has at most one active session at a time."""

    def __init__(self, ctx: Context, templates: Templates):
        self.ctx = ctx
        self.templates = templates
        self.coll = Collection()
        self.active: list[str] = []
        self.ended: list[str] = []
        self.active_by_room: dict[str, str] = {}
        self.peer_join_ns: dict[str, int] = {}
        self.planned_end: dict[str, int] = {}  # busy workspaces: when an active session will end

    def _peer_count(self) -> int:
        rng = self.ctx.rng
        r = rng.random()
        if r < 0.05:
            return 0
        if r < 0.65:
            return rng.randint(1, 6)
        if r < 0.95:
            return rng.randint(7, 15)
        return rng.randint(16, 40)

    def make(self, room: dict, start: int, end: int | None, now: int) -> dict:
        """end None = active session (some peers still joined)."""
        ctx = self.ctx
        rng = ctx.rng
        sid = object_id(start, rng)
        roles = list(self.templates.coll.objects[room["template_id"]]["roles"])
        peers: dict[str, dict] = {}
        n = self._peer_count()
        horizon = end if end is not None else now
        last_left = start
        latest_join = start
        for k in range(n):
            pid = uuid4s(rng)
            name, uid = ctx.person()
            if k == 0:
                joined = start + rng.randrange(1, 2 * NS)
            else:
                joined = ctx.uniform_ns(start, start + (horizon - start) // 2)
            peer = {
                "id": pid,
                "session_id": sid,
                "name": name,
                "role": roles[0] if k == 0 else rng.choice(roles),
                "user_id": uid,
                "joined_at": ctx.ts(joined),
            }
            self.peer_join_ns[pid] = joined
            latest_join = max(latest_join, joined)
            if end is not None or rng.random() < 0.4:
                left = ctx.uniform_ns(joined + NS, horizon)
                left = min(left, horizon)
                peer["left_at"] = ctx.ts(left)
                last_left = max(last_left, left)
            peers[pid] = peer
        if end is not None:
            updated = max(end, last_left) + rng.randrange(1, 50_000_000)
        else:
            updated = latest_join + rng.randrange(1, 50_000_000)
        return {
            "id": sid,
            "room_id": room["id"],
            "customer_id": ctx.customer_id,
            "app_id": ctx.app_id,
            "active": end is None,
            "peers": peers,
            "created_at": ctx.ts(start),
            "updated_at": ctx.ts(updated),
        }

    def add(self, session: dict, start: int) -> None:
        sid = session["id"]
        self.coll.add(session, start, room_id=session["room_id"])
        ins = list.append if self.coll.bulk else insert_sorted
        if session["active"]:
            ins(self.active, sid)
            self.active_by_room[session["room_id"]] = sid
        else:
            ins(self.ended, sid)

    def join_peer(self, session: dict, room: dict, joined: int) -> dict:
        """A new peer joins an active session (of ``room``) at ``joined``."""
        ctx = self.ctx
        rng = ctx.rng
        roles = list(self.templates.coll.objects[room["template_id"]]["roles"])
        name, uid = ctx.person()
        peer = {"id": uuid4s(rng), "session_id": session["id"], "name": name, "role": rng.choice(roles),
                "user_id": uid, "joined_at": ctx.ts(joined)}  # fmt: skip
        session["peers"][peer["id"]] = peer
        self.peer_join_ns[peer["id"]] = joined
        return peer

    def mark_ended(self, sid: str) -> None:
        """Move an active session to the ended ones (its fields are the caller's to set)."""
        s = self.coll.objects[sid]
        s["active"] = False
        self.active.remove(sid)
        insert_sorted(self.ended, sid)
        self.active_by_room.pop(s["room_id"], None)

    def finalize(self) -> None:
        self.coll.finalize()
        self.active.sort()
        self.ended.sort()
