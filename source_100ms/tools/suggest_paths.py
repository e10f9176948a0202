"""`source-100ms suggest-paths`: candidate `record_path`s and `metadata_path`s for a URL.

Fetches one response through the connector itself (a throw-away custom stream with `record_path: $`, so the
same host check, macros, lookups, auth and retries apply), then walks the JSON: arrays of objects and maps
whose values are objects are record candidates, ranked by how many records they give and how alike those
records are; scalars beside them (`$.limit`, `$.last`, `$.total`) are metadata candidates.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from source_100ms.tools.preview import (
    RequestRecorder,
    build_source,
    error_text,
    first_records,
    load_config,
    quiet_cdk_logs,
)

PROBE = "suggest_paths_probe"
MAX_DEPTH = 5
MAX_CANDIDATES = 10
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class Candidate:
    path: str
    kind: str  # array | map | object
    count: int
    keys: list[str] = field(default_factory=list)
    similarity: float = 1.0
    depth: int = 0

    @property
    def rank(self) -> tuple:
        """Best first: collections not nested in another collection, arrays and maps of alike objects, then
        the whole response, then by record count and depth."""
        nested = self.path.removesuffix("[*]").count("[*]")
        alike = self.kind == "array" or (self.kind == "map" and self.similarity >= 0.5)
        return (nested, not alike, self.kind == "object", self.count == 0, -self.count, self.depth, self.path)


def child_path(path: str, key: str) -> str:
    if _IDENTIFIER.match(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key)}]"


def _keys(objects: list[dict[str, Any]], limit: int = 12) -> list[str]:
    keys: dict[str, None] = {}
    for obj in objects[:50]:
        keys.update(dict.fromkeys(obj))
    return list(keys)[:limit]


def _similarity(objects: list[dict[str, Any]]) -> float:
    sets = [set(obj) for obj in objects[:50]]
    union = set().union(*sets) if sets else set()
    if not union:
        return 0.0
    return len(set.intersection(*sets)) / len(union)


def record_candidates(body: Any) -> list[Candidate]:
    """Every JSONPath whose `[*]` selects objects, ranked best first; `$` itself when the body is an object."""
    found: list[Candidate] = []

    def walk(path: str, nodes: list[Any], depth: int) -> None:
        if depth > MAX_DEPTH or not nodes:
            return
        arrays = [n for n in nodes if isinstance(n, list)]
        if arrays:
            items = [item for array in arrays for item in array]
            objects = [item for item in items if isinstance(item, dict)]
            if not items:
                # An empty list cannot show its items; it is still where records would be.
                found.append(Candidate(f"{path}[*]", "array", 0, [], depth=depth))
            if objects:
                found.append(Candidate(f"{path}[*]", "array", len(objects), _keys(objects), depth=depth))
                walk(f"{path}[*]", objects, depth + 1)
        mappings = [n for n in nodes if isinstance(n, dict)]
        if not mappings:
            return
        values = [v for m in mappings for v in m.values()]
        if values and all(isinstance(v, dict) for v in values) and path != "$":
            found.append(Candidate(f"{path}[*]", "map", len(values), _keys(values), _similarity(values), depth=depth))
        for key in dict.fromkeys(k for m in mappings for k in m):
            walk(child_path(path, key), [m[key] for m in mappings if key in m], depth + 1)

    walk("$", [body], 0)
    if isinstance(body, dict):
        found.append(Candidate("$", "object", 1, _keys([body])))
    found.sort(key=lambda c: c.rank)
    return found[:MAX_CANDIDATES]


def metadata_candidates(body: Any, records_all: list[Candidate]) -> list[dict[str, Any]]:
    """Scalars (and small objects) at the top level and beside the best record container."""
    best = records_all[0] if records_all else None
    containers = [("$", body)]
    if best is not None and best.path not in ("$", "$[*]"):
        parent = best.path.removesuffix("[*]")
        parent = (
            parent[: max(parent.rfind("."), parent.rfind("["))] if parent.count(".") + parent.count("[") > 1 else "$"
        )
        if parent != "$":
            node = _at(body, parent)
            if isinstance(node, dict):
                containers.append((parent, node))
    out, seen = [], set()
    record_roots = {best.path.removesuffix("[*]")} if best else set()
    record_roots |= {c.path.removesuffix("[*]") for c in records_all if c.kind == "array"}
    for path, node in containers:
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            here = child_path(path, key)
            if here in seen or here in record_roots:
                continue
            if isinstance(value, dict | list) and (len(json.dumps(value, default=str)) > 200 or _has_objects(value)):
                continue
            seen.add(here)
            out.append({"path": here, "type": _type_name(value), "sample": value})
    return out


def _has_objects(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return any(isinstance(item, dict | list) for item in items)


def _at(body: Any, path: str) -> Any:
    import jsonpath_rfc9535

    found = [node.value for node in jsonpath_rfc9535.find(path, body)]
    return found[0] if len(found) == 1 else None


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="source-100ms suggest-paths",
        description="Fetch one response of a URL (with the connector's auth; macros and lookups expanded) and list "
        "candidate record_path and metadata_path values.",
    )
    parser.add_argument("--config", required=True, help="connector config JSON file")
    parser.add_argument("--url", required=True, help="path under the API (/v2/...) or full URL on the API host")
    parser.add_argument("--request-headers", default=None, help="extra headers, name:value,name2:value2")
    parser.add_argument("--time-unit", default=None, help="unit of N in {now-N} (default day)")
    parser.add_argument("--datetime-format", default=None, help="strftime format of datetime macros")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    quiet_cdk_logs()
    config = load_config(args.config)
    probe: dict[str, Any] = {"name": PROBE, "url": args.url, "record_path": "$"}
    for key, value in (
        ("request_headers", args.request_headers),
        ("time_unit", args.time_unit),
        ("datetime_format", args.datetime_format),
    ):
        if value:
            probe[key] = value
    config = {**config, "custom_streams": [*(config.get("custom_streams") or []), probe]}
    recorder = RequestRecorder(keep_bodies=True)
    try:
        source = build_source(config)
        stream = next(s for s in source.streams(config) if s.name == PROBE)
        with recorder.active():
            got = first_records(stream, 1)
    except Exception as error:
        message = error_text(error).replace(f"Custom stream '{PROBE}'", "--url")
        print(f"error: {message}", file=sys.stderr)
        return 1
    if not got or not recorder.exchanges:
        print(
            f"error: {args.url} gave no response to look at (every lookup value answered 404 or none exist)",
            file=sys.stderr,
        )
        return 1
    exchange = recorder.exchanges[-1]
    body = exchange.body
    records = record_candidates(body)
    metadata = metadata_candidates(body, records)
    result = {
        "request": {"method": exchange.method, "url": exchange.url, "status": exchange.status},
        "record_paths": [{"path": c.path, "kind": c.kind, "count": c.count, "sample_keys": c.keys} for c in records],
        "metadata_paths": metadata,
    }
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return 0
    print(f"request: {exchange.method} {exchange.url} -> {exchange.status}")
    print("record_path candidates (best first):")
    for rank, c in enumerate(records, 1):
        what = {"array": "array of", "map": "map of", "object": "the whole response:"}[c.kind]
        print(f"  {rank:>2}. {c.path:<40} {what} {c.count} object(s); keys: {', '.join(c.keys)}")
    if not records:
        print("  (none: the response holds no objects)")
    print("metadata_path candidates:")
    for m in metadata:
        print(f"  - {m['path']:<40} {m['type']}: {json.dumps(m['sample'], default=str)[:60]}")
    if not metadata:
        print("  (none)")
    return 0
