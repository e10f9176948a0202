"""Record extraction: 100ms lists, collections that are JSON objects keyed by id, and JSONPath for custom streams."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import InitVar, dataclass, field
from typing import Any

import requests
from airbyte_cdk.sources.declarative.decoders import Decoder
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.types import Config

from source_100ms.components.decoder import ParsedBodyDecoder

try:  # not in Airbyte's source-declarative-manifest image: see JsonPath
    import jsonpath_rfc9535 as _jsonpath_rfc9535
except ImportError:  # pragma: no cover - depends on the runner
    _jsonpath_rfc9535 = None


def _at(container: Any, path: list[str]) -> Any:
    for key in path:
        if not isinstance(container, Mapping):
            return None
        container = container.get(key)
    return container


@dataclass
class MapValuesExtractor(RecordExtractor):
    """One record per value of a JSON object keyed by id, with fields copied from the object's owner.

    Why: 100ms returns peers (`GET /v2/active-rooms/{id}/peers`, each session's `peers`) and template
    destinations (`rtmpDestinations`, `hlsDestinations`, ...) as objects keyed by id or name, not as arrays.
    `DpathExtractor` and the CDK's `RecordExpander` only expand arrays, and neither can tag each row with the
    map it came from. Example, with `container_path: [data]`, `maps: [{path: [peers]}]` and
    `parent_fields: {session_id: id}`:

        {"data": [{"id": "s1", "peers": {"p1": {"id": "p1"}, "p2": {"id": "p2"}}}]}
        -> {"id": "p1", "session_id": "s1"}, {"id": "p2", "session_id": "s1"}

    - `container_path`: where the owners are; empty means the response body itself, a path to an array means
      each of its items.
    - `maps`: the objects to flatten, each `{path: [...], fields: {name: constant}}`; `fields` are added to
      every row of that map (for instance `destination_type: rtmp`).
    - `key_field`: when set, the map key is stored under this name if the value does not already have it.
    - `parent_fields`: `{row field: owner field}` copied from the owner onto each row.
    """

    maps: list[Mapping[str, Any]]
    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    container_path: list[str] = field(default_factory=list)
    key_field: str | None = None
    parent_fields: Mapping[str, str] = field(default_factory=dict)
    decoder: Decoder | None = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._decoder = self.decoder or ParsedBodyDecoder(parameters={})
        self._maps = [(list(m["path"]), dict(m.get("fields") or {})) for m in self.maps]

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        for body in self._decoder.decode(response):
            owners = _at(body, self.container_path) if self.container_path else [body]
            if isinstance(owners, Mapping):
                owners = [owners]
            for owner in owners or []:
                if isinstance(owner, Mapping):
                    yield from self._rows(owner)

    def _rows(self, owner: Mapping[str, Any]) -> Iterable[MutableMapping[Any, Any]]:
        copied = {name: owner.get(source) for name, source in self.parent_fields.items()}
        for path, constants in self._maps:
            values = _at(owner, path)
            if not isinstance(values, Mapping):
                continue
            for key, value in values.items():
                if not isinstance(value, Mapping):
                    continue
                row = dict(value)
                if self.key_field and row.get(self.key_field) in (None, ""):
                    row[self.key_field] = key
                row.update(constants)
                row.update(copied)
                yield row


@dataclass
class TopLevelListExtractor(RecordExtractor):
    """The records of a 100ms list page: the array under one top-level key (`data`, `events`).

    Why not `DpathExtractor(field_path: [data])`: it evaluates the path's interpolation and calls `dpath.get`,
    which walks every value of the page, for each page; on a read of analytics events that was about 7% of the
    connector's CPU. This reads the key directly from the decoded body. A body that is not an object, or a key
    that is missing or null (100ms's end of list), gives no records. Example, with `key: events`:
    `{"limit": 2, "next": "", "events": [{"id": "a"}, {"id": "b"}]}` -> `{"id": "a"}`, `{"id": "b"}`.
    """

    key: str
    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    decoder: Decoder | None = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._decoder = self.decoder or ParsedBodyDecoder(parameters={})

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        for body in self._decoder.decode(response):
            records = body.get(self.key) if isinstance(body, Mapping) else None
            if isinstance(records, list):
                yield from records


# A JSONPath made of names and wildcards only: `$`, `$.data[*]`, `$.peers[*]`, `$['a b'].x.*`.
_SEGMENT = re.compile(r"""\.([A-Za-z_][A-Za-z0-9_]*)|\.\*|\[\*\]|\[(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\]""")


class JsonPath:
    """An RFC 9535 JSONPath query: selects nodes of a document, in document order.

    Why two engines: the `jsonpath-rfc9535` library implements all of RFC 9535 and this package depends on it,
    but Airbyte's `source-declarative-manifest` image, which runs the manifest-only build, does not ship it. The
    paths custom streams need most (`$`, `$.data[*]`, `$.peers[*]`, names and wildcards) are evaluated here, with
    RFC 9535's meaning (a name selects that member of an object, a wildcard every member value or array item, in
    order; anything else selects nothing); any other path (filters, slices, descendants) needs the library, and
    without it is refused with a config error when the stream is built.
    Example: `JsonPath("$.peers[*]").select({"peers": {"a": {"id": 1}}})` -> `[{"id": 1}]`.
    """

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self._segments = _names_and_wildcards(expression)
        self._query = None
        if self._segments is None:
            if _jsonpath_rfc9535 is None:
                raise ValueError(
                    "this JSONPath needs the jsonpath-rfc9535 library, which this runner does not have; paths of "
                    "names and wildcards such as $.data[*] or $.peers[*] work everywhere"
                )
            self._query = _jsonpath_rfc9535.compile(expression)

    def select(self, document: Any) -> list[Any]:
        if self._query is not None:
            return [node.value for node in self._query.find(document)]
        nodes = [document]
        for segment in self._segments or []:
            found: list[Any] = []
            for node in nodes:
                if segment is None:
                    found.extend(node.values() if isinstance(node, Mapping) else node if isinstance(node, list) else [])
                elif isinstance(node, Mapping) and segment in node:
                    found.append(node[segment])
            nodes = found
        return nodes


def _names_and_wildcards(expression: str) -> list[str | None] | None:
    """The segments of a path of names and wildcards (None for a wildcard), or None for any other path."""
    if not isinstance(expression, str) or not expression.startswith("$"):
        return None
    segments: list[str | None] = []
    position = 1
    while position < len(expression):
        match = _SEGMENT.match(expression, position)
        if match is None:
            return None
        name = match.group(1) or match.group(2) or match.group(3)
        if match.group(2) is not None or match.group(3) is not None:
            name = re.sub(r"\\(.)", r"\1", name or "")
        segments.append(name if (match.group(1) or match.group(2) is not None or match.group(3) is not None) else None)
        position = match.end()
    return segments


def select(expression: Any, document: Any) -> list[Any]:
    """The values a JSONPath (text or `JsonPath`) selects in `document`, in document order."""
    return (JsonPath(expression) if isinstance(expression, str) else expression).select(document)


@dataclass
class JsonPathRecordExtractor(RecordExtractor):
    """Records selected by an RFC 9535 JSONPath, optionally with response metadata under `_metadata`.

    Why: `DpathExtractor` takes a list of keys, not the JSONPath users write in a custom stream, and cannot
    attach parts of the response to each record. Each node `record_path` selects is one record: an object as
    it is, anything else as `{"value": <node>}`. With `record_path: $.peers[*]` and `metadata_path: $.limit`:

        {"limit": 10, "peers": {"p1": {"id": "p1"}, "p2": {"id": "p2"}}}
        -> {"id": "p1", "_metadata": 10}, {"id": "p2", "_metadata": 10}

    `metadata_path` selecting one node copies its value; several nodes give a list; none gives null.
    """

    record_path: str
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    metadata_path: str | None = None
    decoder: Decoder | None = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._decoder = self.decoder or ParsedBodyDecoder(parameters={})
        self._records = JsonPath(self.record_path or "$")
        self._metadata = JsonPath(self.metadata_path) if self.metadata_path else None

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        for body in self._decoder.decode(response):
            metadata = None
            if self._metadata is not None:
                found = self._metadata.select(body)
                metadata = found[0] if len(found) == 1 else (found or None)
            for node in self._records.select(body):
                record = dict(node) if isinstance(node, Mapping) else {"value": node}
                if self._metadata is not None:
                    record["_metadata"] = metadata
                yield record
