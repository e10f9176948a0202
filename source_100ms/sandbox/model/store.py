"""In-memory storage of generated objects, indexed the way the list endpoints page them."""

from __future__ import annotations

import bisect


class Collection:
    """Objects by id, with ascending id lists (overall and per room / session) for paging."""

    def __init__(self) -> None:
        self.objects: dict[str, dict] = {}
        self.asc: list[str] = []
        self.created_ns: dict[str, int] = {}
        self.by_room: dict[str, list[str]] = {}
        self.by_session: dict[str, list[str]] = {}

        self.bulk = True  # while generating: append, sort once in finalize()

    def add(self, obj: dict, created_ns: int, key: str = "id", room_id=None, session_id=None) -> None:
        oid = obj[key]
        self.objects[oid] = obj
        self.created_ns[oid] = created_ns
        ins = list.append if self.bulk else insert_sorted
        ins(self.asc, oid)
        if room_id is not None:
            ins(self.by_room.setdefault(room_id, []), oid)
        if session_id is not None:
            ins(self.by_session.setdefault(session_id, []), oid)

    def finalize(self) -> None:
        self.bulk = False
        self.asc.sort()
        for lst in self.by_room.values():
            lst.sort()
        for lst in self.by_session.values():
            lst.sort()

    def __len__(self) -> int:
        return len(self.objects)


def insert_sorted(lst: list[str], oid: str) -> None:
    """Insert into an ascending list; appending is the common case (new ids are the newest)."""
    if not lst or lst[-1] < oid:
        lst.append(oid)
    else:
        bisect.insort(lst, oid)


def in_sorted(lst: list[str], x: str) -> bool:
    i = bisect.bisect_left(lst, x)
    return i < len(lst) and lst[i] == x
