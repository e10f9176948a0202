"""Components of custom streams (see `source_100ms.custom_streams`): JSONPath records, lookup partitions."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import InitVar, dataclass
from typing import Any
from urllib.parse import quote

import jsonpath_rfc9535
import requests
from airbyte_cdk.sources.declarative.decoders import Decoder
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.partition_routers.partition_router import PartitionRouter
from airbyte_cdk.sources.declarative.partition_routers.substream_partition_router import SubstreamPartitionRouter
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

from source_100ms.components.decoder import ParsedBodyDecoder

# Same escaping as `source_100ms.custom_streams` (kept here to avoid an import cycle with the components).
URL_SAFE = ":"
URL_SUFFIX = "__url"


def select(expression: Any, document: Any) -> list[Any]:
    """The values an RFC 9535 JSONPath (compiled or text) selects in `document`, in document order."""
    query = jsonpath_rfc9535.compile(expression) if isinstance(expression, str) else expression
    return [node.value for node in query.find(document)]


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
        self._records = jsonpath_rfc9535.compile(self.record_path or "$")
        self._metadata = jsonpath_rfc9535.compile(self.metadata_path) if self.metadata_path else None

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        for body in self._decoder.decode(response):
            metadata = None
            if self._metadata is not None:
                found = select(self._metadata, body)
                metadata = found[0] if len(found) == 1 else (found or None)
            for node in select(self._records, body):
                record = dict(node) if isinstance(node, Mapping) else {"value": node}
                if self._metadata is not None:
                    record["_metadata"] = metadata
                yield record


@dataclass
class LookupPartitionRouter(PartitionRouter):
    """One partition per distinct combination of looked-up values: `{rooms.id}` gives one per room id.

    Why: a `SubstreamPartitionRouter` gives one partition per parent record, with a list-valued field as one
    list and repeated values repeated. A lookup such as `/v2/polls/{rooms.polls}` needs one request per poll
    id, each id once. Each parent router (one per looked-up stream, its `parent_key` the first field and
    `extra_fields` the others) is read through the CDK, which does not emit the parent's records; this router
    expands lists, drops repeats and crosses the values of different parent streams:

        rooms: {"id": "r1", "polls": ["a", "b"]}, {"id": "r2", "polls": ["b"]}
        {rooms.polls} -> {"rooms_polls": "a"}, {"rooms_polls": "b"}

    Each partition also carries `<field>__url`, the value escaped for a URL path or query.
    """

    parent_routers: list[SubstreamPartitionRouter]
    lookup_fields: list[list[str]]
    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        if len(self.parent_routers) != len(self.lookup_fields):
            raise ValueError("LookupPartitionRouter needs one list of lookup fields per parent router")

    def stream_slices(self) -> Iterable[StreamSlice]:
        if not self.parent_routers:
            return
        # The first parent streams lazily; the others (rare: lookups over two streams) are read up front.
        pairs = list(zip(self.parent_routers, self.lookup_fields, strict=True))
        others = [list(self._values(router, fields)) for router, fields in pairs[1:]]
        for first in self._values(self.parent_routers[0], self.lookup_fields[0]):
            for rest in itertools.product(*others):
                values: dict[str, Any] = {}
                for part in (first, *rest):
                    values.update(part)
                partition = dict(values)
                for key, value in values.items():
                    partition[key + URL_SUFFIX] = quote(_text(value), safe=URL_SAFE)
                yield StreamSlice(partition=partition, cursor_slice={})

    def _values(self, router: SubstreamPartitionRouter, fields: list[str]) -> Iterable[dict[str, Any]]:
        config = router.parent_stream_configs[0]
        extra_keys = ["/".join(path) for path in (config.extra_fields or [])]
        seen: set[str] = set()
        for parent_slice in router.stream_slices():
            raw = [parent_slice.partition.get(fields[0])]
            raw += [(parent_slice.extra_fields or {}).get(key) for key in extra_keys]
            choices = [value if isinstance(value, list) else [value] for value in raw]
            for combination in itertools.product(*choices):
                if any(value is None or isinstance(value, Mapping | list) for value in combination):
                    continue
                key = json.dumps(combination, sort_keys=True, default=str)
                if key in seen:
                    continue
                seen.add(key)
                yield dict(zip(fields, combination, strict=True))

    def get_request_params(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_request_headers(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_request_body_data(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_request_body_json(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_stream_state(self) -> Mapping[str, StreamState] | None:
        return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class LookupFieldsTransformation(RecordTransformation):
    """Copies each looked-up value from the partition onto the record as `<stream>_<field>` (`rooms_id`).

    Why not `AddFields`: its interpolation turns a string id made of digits into a number; the value is copied
    here with the type the parent stream gave it.
    """

    fields: list[str]
    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        pass

    def transform(
        self,
        record: dict[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        partition = stream_slice.partition if stream_slice is not None else {}
        for name in self.fields:
            if name in partition:
                record[name] = partition[name]
