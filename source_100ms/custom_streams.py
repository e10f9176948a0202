"""Custom streams: `custom_streams` config entries turned into declarative stream definitions.

Each entry of the config's `custom_streams` becomes one `DeclarativeStream` added to the manifest dict before
the CDK builds its streams, so a custom stream is discovered, read, retried and authenticated exactly like a
built-in one: it uses the shared `#/definitions/requester` (or `parent_requester` when it looks up another
stream, so a parent that is gone answers 404 and is skipped), with the API base URL as `url_base`, which keeps
the token on the configured API host. Python components fill the gaps the CDK cannot express (see
`source_100ms.components.custom`): RFC 9535 JSONPath extraction, the lookup partitions, the lookup fields.

Macros in `url` and header values:

- `{now}`, `{now-N}`, `{now+N}`: the read's single instant (UTC) moved by N `time_unit`s and formatted with
  `datetime_format`. They are expanded here, once, when the source is built for a command, so every request
  of a read carries the same value.
- `{<stream>.<field>}`: a lookup over another stream of this connector (built-in or custom; `field` may be a
  dotted path into the record). It becomes a partition router over that stream's definition; each record
  gets the value as `<stream>_<field>`.

Every mistake raises `AirbyteTracedException` with `failure_type=config_error`, naming the stream and the fix.
"""

from __future__ import annotations

import calendar
import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import jsonpath_rfc9535
from airbyte_cdk.sources.declarative.interpolation.interpolated_boolean import InterpolatedBoolean

from source_100ms.config_checks import config_error

DEFAULT_API_URL = "https://api.100ms.live"
DEFAULT_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
TIME_UNITS = ("minute", "hour", "day", "week", "month")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
FORBIDDEN_HEADERS = {"authorization", "proxy-authorization"}

# `{now}`, `{now-7}`, `{now+1}` and `{rooms.id}`, `{sessions.peers.id}`.
_MACRO = re.compile(r"\{([^{}]*)\}")
_NOW = re.compile(r"^\s*now\s*(?:([+-])\s*(\d+))?\s*$")
_LOOKUP = re.compile(r"^\s*([a-z][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*$")

# Characters left as they are when a macro value goes into a URL: enough for readable timestamps, never a
# character that could change the URL's structure (`/`, `?`, `#`, `&`, `=`).
URL_SAFE = ":"
URL_BASE = "{{ (config.get('api_url') or 'https://api.100ms.live').rstrip('/') }}"
# The partition key suffix carrying a lookup value already escaped for the URL.
URL_SUFFIX = "__url"


def read_instant() -> datetime:
    """The instant `{now}` stands for in one read (tests replace it)."""
    return datetime.now(UTC)


# ---------------------------------------------------------------------------------------------- macros


@dataclass(frozen=True)
class Lookup:
    """`{stream.field}`: `field` is a dotted path into the parent's records."""

    stream: str
    field: str

    @property
    def path(self) -> list[str]:
        return self.field.split(".")

    @property
    def output_field(self) -> str:
        """The record field (and partition key) the value is stored under: `rooms_id`."""
        return f"{self.stream}_{self.field.replace('.', '_')}"


@dataclass(frozen=True)
class Now:
    offset: int = 0


Token = str | Now | Lookup


def parse_macros(text: str) -> list[Token]:
    """Split `text` into literal strings and macros; raise ValueError with the fix for anything unknown."""
    tokens: list[Token] = []
    position = 0
    for match in _MACRO.finditer(text):
        literal = text[position : match.start()]
        _check_no_brace(literal)
        if literal:
            tokens.append(literal)
        body = match.group(1)
        now = _NOW.match(body)
        lookup = _LOOKUP.match(body)
        if now:
            sign, amount = now.group(1), now.group(2)
            tokens.append(Now(int(amount) * (-1 if sign == "-" else 1) if amount else 0))
        elif lookup:
            tokens.append(Lookup(lookup.group(1), lookup.group(2)))
        else:
            raise ValueError(
                f"unknown macro {{{body}}}: use {{now}}, {{now-N}}, {{now+N}} (N whole time units) or "
                "{<stream>.<field>} such as {rooms.id}"
            )
        position = match.end()
    rest = text[position:]
    _check_no_brace(rest)
    if rest:
        tokens.append(rest)
    return tokens


def _check_no_brace(literal: str) -> None:
    if "{" in literal or "}" in literal:
        raise ValueError(
            "unbalanced or nested brace: braces are only allowed around a macro such as {now-7} or {rooms.id}"
        )


def shift(now: datetime, amount: int, unit: str) -> datetime:
    """`now` moved by `amount` `unit`s; months move by calendar months, the day clamped to the month's end."""
    if unit == "month":
        months = now.year * 12 + (now.month - 1) + amount
        year, month = divmod(months, 12)
        month += 1
        day = min(now.day, calendar.monthrange(year, month)[1])
        return now.replace(year=year, month=month, day=day)
    seconds = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}[unit]
    return now + timedelta(seconds=seconds * amount)


def format_now(now: datetime, macro: Now, unit: str, datetime_format: str) -> str:
    return shift(now, macro.offset, unit).strftime(datetime_format)


# ---------------------------------------------------------------------------------------------- specs


@dataclass
class CustomStreamSpec:
    """One validated `custom_streams` entry."""

    name: str
    path: list[Token]
    headers: dict[str, list[Token]]
    record_path: str
    metadata_path: str | None
    datetime_format: str
    time_unit: str
    primary_key: list[str]
    lookups: list[Lookup] = field(default_factory=list)

    @property
    def parents(self) -> list[str]:
        return list(dict.fromkeys(lookup.stream for lookup in self.lookups))


def builtin_stream_names(manifest: Mapping[str, Any]) -> set[str]:
    """Every built-in stream name, whichever branch of a ConditionalStreams the config takes."""
    names = set()
    for entry in manifest.get("streams", []):
        for definition in entry.get("streams", [entry]) if entry.get("type") == "ConditionalStreams" else [entry]:
            name = _stream_name(manifest, definition)
            if name:
                names.add(name)
    return names


def builtin_definitions(manifest: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Stream name -> the `$ref` of its definition, for the streams this config actually has."""
    out: dict[str, dict[str, Any]] = {}
    for entry in manifest.get("streams", []):
        if entry.get("type") == "ConditionalStreams":
            if not InterpolatedBoolean(condition=entry["condition"], parameters={}).eval(config):
                continue
            definitions = entry.get("streams", [])
        else:
            definitions = [entry]
        for definition in definitions:
            name = _stream_name(manifest, definition)
            if name:
                out[name] = dict(definition)
    return out


def _resolve(manifest: Mapping[str, Any], definition: Mapping[str, Any]) -> dict[str, Any]:
    """A definition merged over the chain of `$ref`s it extends (enough to read names and schemas)."""
    ref = definition.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return dict(definition)
    target: Any = manifest
    for part in ref[2:].split("/"):
        target = target.get(part, {}) if isinstance(target, Mapping) else {}
    merged = _resolve(manifest, target)
    for key, value in definition.items():
        if key == "$parameters":
            merged["$parameters"] = {**merged.get("$parameters", {}), **value}
        elif key != "$ref":
            merged[key] = value
    return merged


def _stream_name(manifest: Mapping[str, Any], definition: Mapping[str, Any]) -> str | None:
    resolved = _resolve(manifest, definition)
    return resolved.get("name") or resolved.get("$parameters", {}).get("name")


def _builtin_property_schema(manifest: Mapping[str, Any], definition: Mapping[str, Any], path: list[str]) -> Any:
    """The JSON schema a built-in stream declares for a (dotted) field, or None when it declares none."""
    schema = _resolve(manifest, definition).get("schema_loader", {}).get("schema")
    if isinstance(schema, Mapping) and "$ref" in schema:
        schema = _resolve(manifest, schema)
    for part in path:
        if not isinstance(schema, Mapping):
            return None
        schema = (schema.get("properties") or {}).get(part)
    return schema if isinstance(schema, Mapping) else None


def _lookup_value_schema(property_schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """The schema of one lookup value: the field's type without null, or its items' type for a list field."""
    if not property_schema or "type" not in property_schema:
        return {}
    types = property_schema["type"] if isinstance(property_schema["type"], list) else [property_schema["type"]]
    if "array" in types:
        return _lookup_value_schema(property_schema.get("items"))
    types = [t for t in types if t != "null"]
    if len(types) != 1 or types[0] not in ("string", "integer", "number", "boolean"):
        return {}
    return {"type": types[0]}


def parse_specs(config: Mapping[str, Any], manifest: Mapping[str, Any]) -> list[CustomStreamSpec]:
    """Validate every `custom_streams` entry; raise a config error naming the stream and the fix."""
    entries = config.get("custom_streams") or []
    if not isinstance(entries, list):
        raise config_error("`custom_streams` must be a list of stream definitions: fix the configuration.")
    builtins = builtin_stream_names(manifest)
    api_url = str(config.get("api_url") or DEFAULT_API_URL).rstrip("/")
    specs: list[CustomStreamSpec] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        label = f"Custom stream #{index + 1}"
        if not isinstance(entry, Mapping):
            raise config_error(f"{label}: each entry of `custom_streams` must be an object with `name` and `url`.")
        name = entry.get("name")
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise config_error(
                f"{label}: `name` {name!r} is not valid: use lower-case letters, digits and underscores, "
                "starting with a letter (for example `polls`)."
            )
        label = f"Custom stream '{name}'"
        if name in builtins:
            raise config_error(f"{label}: `{name}` is a built-in stream of this connector: choose another name.")
        if name in seen:
            raise config_error(f"{label}: two custom streams are named `{name}`: give each a unique name.")
        seen.add(name)
        specs.append(_parse_entry(label, name, entry, api_url))
    _check_lookups(specs, builtins)
    return specs


def _parse_entry(label: str, name: str, entry: Mapping[str, Any], api_url: str) -> CustomStreamSpec:
    method = str(entry.get("http_method") or "GET").upper()
    if method != "GET":
        raise config_error(f"{label}: `http_method` is {method}; this connector only reads, so set it to GET.")
    time_unit = entry.get("time_unit") or "day"
    if time_unit not in TIME_UNITS:
        raise config_error(f"{label}: `time_unit` {time_unit!r} is not one of {', '.join(TIME_UNITS)}.")
    datetime_format = entry.get("datetime_format") or DEFAULT_DATETIME_FORMAT
    if not isinstance(datetime_format, str) or "{" in datetime_format or "}" in datetime_format:
        raise config_error(f"{label}: `datetime_format` must be a strftime format such as %Y-%m-%dT%H:%M:%SZ.")
    try:
        datetime(2024, 1, 31).strftime(datetime_format)
    except ValueError as error:
        raise config_error(f"{label}: `datetime_format` {datetime_format!r} is not a valid strftime format.") from error
    record_path = entry.get("record_path") or "$"
    _check_jsonpath(label, "record_path", record_path)
    metadata_path = entry.get("metadata_path") or None
    if metadata_path is not None:
        _check_jsonpath(label, "metadata_path", metadata_path)
    primary_key = entry.get("primary_key") or []
    if isinstance(primary_key, str):
        primary_key = [primary_key]
    if not isinstance(primary_key, list) or not all(isinstance(k, str) and k for k in primary_key):
        raise config_error(f'{label}: `primary_key` must be a list of field names such as ["id"].')

    path = _path_of(label, entry.get("url"), api_url)
    try:
        path_tokens = parse_macros(path)
    except ValueError as error:
        raise config_error(f"{label}: `url` has an {error}.") from error
    headers = _parse_headers(label, entry.get("request_headers"))
    lookups = [t for tokens in [path_tokens, *headers.values()] for t in tokens if isinstance(t, Lookup)]
    return CustomStreamSpec(
        name=name,
        path=path_tokens,
        headers=headers,
        record_path=record_path,
        metadata_path=metadata_path,
        datetime_format=datetime_format,
        time_unit=time_unit,
        primary_key=list(primary_key),
        lookups=list(dict.fromkeys(lookups)),
    )


def _check_jsonpath(label: str, field_name: str, expression: Any) -> None:
    if not isinstance(expression, str):
        raise config_error(f"{label}: `{field_name}` must be a JSONPath string such as $.data[*].")
    try:
        jsonpath_rfc9535.compile(expression)
    except jsonpath_rfc9535.JSONPathError as error:
        raise config_error(
            f"{label}: `{field_name}` {expression!r} is not a valid RFC 9535 JSONPath ({error}). Write it like "
            "$.data[*] (each item of `data`), $.peers[*] (each value of the `peers` map) or $ (the whole response); "
            "`source-100ms suggest-paths` lists candidates."
        ) from error


def _path_of(label: str, url: Any, api_url: str) -> str:
    """The path (with query) to request under the API host; a full URL must be on that host."""
    if not isinstance(url, str) or not url.strip():
        raise config_error(f"{label}: `url` is required: a path under the API such as /v2/polls/{{rooms.polls}}.")
    url = url.strip()
    if "://" in url or url.startswith("//"):
        split, api = urlsplit(url), urlsplit(api_url)
        if (split.scheme, split.netloc.lower()) != (api.scheme, api.netloc.lower()):
            raise config_error(
                f"{label}: `url` {url!r} is not on the configured API host {api.scheme}://{api.netloc}; the connector "
                "only sends its token there. Use a path such as /v2/polls/{rooms.polls}."
            )
        path = url[len(f"{split.scheme}://{split.netloc}") :] or "/"
    elif url.startswith("/"):
        path = url
    else:
        # A path relative to the API version: `polls/{rooms.polls}` means /v2/polls/{rooms.polls}.
        path = "/v2/" + url
    if path.startswith("//") or "#" in path:
        raise config_error(f"{label}: `url` {url!r} must be a plain path such as /v2/sessions?active=false.")
    return path


def _parse_headers(label: str, text: Any) -> dict[str, list[Token]]:
    if not text:
        return {}
    if not isinstance(text, str):
        raise config_error(f"{label}: `request_headers` must be a string like `name:value,name2:value2`.")
    headers: dict[str, list[Token]] = {}
    for pair in text.split(","):
        if not pair.strip():
            continue
        name, colon, value = pair.partition(":")
        name = name.strip()
        if not colon or not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", name):
            raise config_error(
                f"{label}: `request_headers` has {pair.strip()!r}; write each header as name:value, separated by "
                "commas."
            )
        if name.lower() in FORBIDDEN_HEADERS:
            raise config_error(
                f"{label}: `request_headers` sets {name}; remove it, the connector sets the Authorization header "
                "itself from the credentials."
            )
        try:
            headers[name] = parse_macros(value.strip())
        except ValueError as error:
            raise config_error(f"{label}: header {name} has an {error}.") from error
    return headers


def _check_lookups(specs: list[CustomStreamSpec], builtins: set[str]) -> None:
    custom = {spec.name: spec for spec in specs}
    for spec in specs:
        for lookup in spec.lookups:
            if lookup.stream == spec.name:
                raise config_error(
                    f"Custom stream '{spec.name}': the lookup {{{lookup.stream}.{lookup.field}}} refers to the stream "
                    "itself; look up another stream."
                )
            if lookup.stream not in builtins and lookup.stream not in custom:
                raise config_error(
                    f"Custom stream '{spec.name}': the lookup {{{lookup.stream}.{lookup.field}}} names no stream of "
                    f"this connector; use a built-in stream ({', '.join(sorted(builtins))}) or another custom stream."
                )
    # Depth-first search for a cycle among custom streams (built-ins never look anything up).
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "open":
            cycle = " -> ".join([*trail[trail.index(name) :], name])
            raise config_error(
                f"Custom stream '{name}': its lookups form a cycle ({cycle}); remove one of these lookups."
            )
        state[name] = "open"
        for parent in custom[name].parents:
            if parent in custom:
                visit(parent, [*trail, name])
        state[name] = "done"

    for spec in specs:
        visit(spec.name, [])


# ---------------------------------------------------------------------------------------------- definitions


def _render(tokens: list[Token], spec: CustomStreamSpec, now: datetime, *, in_url: bool) -> str:
    """Tokens as an interpolated string: dates expanded now, lookups read from the partition at request time."""
    out = []
    for token in tokens:
        if isinstance(token, Now):
            value = format_now(now, token, spec.time_unit, spec.datetime_format)
            out.append(quote(value, safe=URL_SAFE) if in_url else value)
        elif isinstance(token, Lookup):
            key = token.output_field + (URL_SUFFIX if in_url else "")
            out.append(f"{{{{ stream_partition['{key}'] }}}}")
        else:
            out.append(token)
    return "".join(out)


def custom_stream_definition(
    spec: CustomStreamSpec,
    parents: Mapping[str, dict[str, Any]],
    manifest: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The declarative definition of one custom stream; `parents` maps a stream name to its definition."""
    properties: dict[str, Any] = {}
    if spec.metadata_path:
        properties["_metadata"] = {}
    for lookup in spec.lookups:
        parent = parents[lookup.stream]
        properties[lookup.output_field] = _lookup_value_schema(
            _builtin_property_schema(manifest, parent, lookup.path) if "$ref" in parent else None
        )
    headers = {"Accept": "application/json"}
    headers.update({name: _render(tokens, spec, now, in_url=False) for name, tokens in spec.headers.items()})
    requester = {
        "$ref": "#/definitions/parent_requester" if spec.lookups else "#/definitions/requester",
        "url_base": URL_BASE,
        "path": _render(spec.path, spec, now, in_url=True),
        "request_headers": headers,
    }
    retriever: dict[str, Any] = {
        "type": "SimpleRetriever",
        "decoder": {"$ref": "#/definitions/decoder"},
        "requester": requester,
        "record_selector": {
            "type": "RecordSelector",
            "extractor": {
                "type": "CustomRecordExtractor",
                "class_name": "source_100ms.components.custom.JsonPathRecordExtractor",
                "record_path": spec.record_path,
                **({"metadata_path": spec.metadata_path} if spec.metadata_path else {}),
            },
        },
        "paginator": {
            "type": "DefaultPaginator",
            "page_token_option": {"type": "RequestOption", "inject_into": "request_parameter", "field_name": "start"},
            "pagination_strategy": {
                "type": "CursorPagination",
                # 100ms lists answer `last` (most lists) or `next` (analytics events): either goes back as `start`.
                "cursor_value": (
                    "{{ (response.get('last') or response.get('next') or '') if response is mapping else '' }}"
                ),
                # Stop on an empty token, and on an empty page even if a token came with it: never loop.
                "stop_condition": (
                    "{{ response is not mapping or not (response.get('last') or response.get('next'))"
                    " or last_page_size == 0 }}"
                ),
            },
        },
    }
    definition: dict[str, Any] = {
        "type": "DeclarativeStream",
        "name": spec.name,
        "$parameters": {"name": spec.name},
        "retriever": retriever,
        "schema_loader": {
            "type": "InlineSchemaLoader",
            "schema": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                # What an arbitrary endpoint returns is not known in advance: every field is allowed.
                "additionalProperties": True,
                "properties": properties,
            },
        },
    }
    if spec.primary_key:
        definition["primary_key"] = spec.primary_key
    if spec.lookups:
        retriever["partition_router"] = _lookup_router(spec, parents)
        definition["transformations"] = [
            {
                "type": "CustomTransformation",
                "class_name": "source_100ms.components.custom.LookupFieldsTransformation",
                "fields": [lookup.output_field for lookup in spec.lookups],
            }
        ]
    return definition


def _lookup_router(spec: CustomStreamSpec, parents: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    routers, fields = [], []
    for parent in spec.parents:
        lookups = [lookup for lookup in spec.lookups if lookup.stream == parent]
        routers.append(
            {
                "type": "SubstreamPartitionRouter",
                # The CDK needs the child's name to build a parent router nested in a custom component.
                "$parameters": {"stream_name": spec.name},
                "parent_stream_configs": [
                    {
                        "type": "ParentStreamConfig",
                        "parent_key": "/".join(lookups[0].path),
                        "partition_field": lookups[0].output_field,
                        "stream": copy.deepcopy(parents[parent]),
                        **({"extra_fields": [lookup.path for lookup in lookups[1:]]} if len(lookups) > 1 else {}),
                    }
                ],
            }
        )
        fields.append([lookup.output_field for lookup in lookups])
    return {
        "type": "CustomPartitionRouter",
        "class_name": "source_100ms.components.custom.LookupPartitionRouter",
        "parent_routers": routers,
        "lookup_fields": fields,
    }


def add_custom_streams(manifest: dict[str, Any], config: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A copy of `manifest` with one stream per `custom_streams` entry; raises a config error on a mistake."""
    specs = parse_specs(config, manifest)
    if not specs:
        return manifest
    manifest = copy.deepcopy(manifest)
    parents: dict[str, dict[str, Any]] = builtin_definitions(manifest, config)
    by_name = {spec.name: spec for spec in specs}
    built: dict[str, dict[str, Any]] = {}

    def build(spec: CustomStreamSpec) -> dict[str, Any]:
        if spec.name not in built:
            for parent in spec.parents:
                if parent in by_name and parent not in parents:
                    parents[parent] = build(by_name[parent])
            built[spec.name] = custom_stream_definition(spec, parents, manifest, now)
        return built[spec.name]

    for spec in specs:
        missing = [p for p in spec.parents if p not in parents and p not in by_name]
        if missing:
            raise config_error(
                f"Custom stream '{spec.name}': the lookup stream `{missing[0]}` is not available with this "
                "configuration (room_ids or template_ids replace the list it reads); look up another stream."
            )
        manifest["streams"].append(copy.deepcopy(build(spec)))
    return manifest
