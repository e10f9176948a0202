"""Custom streams: what the manifest's `dynamic_streams` template cannot say by itself.

Each entry of the config's `custom_streams` becomes a stream through the manifest's `ConfigComponentsResolver`
(the way source-google-search-console turns its custom reports into streams), so Airbyte's own runner builds
them exactly as this package does. These components fill in the template where YAML cannot:

- `CustomStreamRequester`: the `url` and `request_headers` with their macros, checked before anything is sent;
- `LookupPartitionRouter`: one request chain per distinct value of `{<stream>.<field>}` lookups;
- `CustomStreamSchemaLoader`: the permissive schema, with the added fields typed;
- `LookupFieldsTransformation`: the looked-up values on each record.

Macros in `url` and header values:

- `{now}`, `{now-N}`, `{now+N}`: the read's single instant (UTC) moved by N `time_unit`s and formatted with
  `datetime_format` (computed once when the stream is built, so every request of a read sends the same value);
- `{<stream>.<field>}`: a lookup over another stream of this connector (built-in or custom; `field` may be a
  dotted path); each record gets the value as `<stream>_<field>`.

Every mistake is a config error naming the stream and the fix, raised when the streams are built, so `check`,
`discover` and `read` all report it.
"""

from __future__ import annotations

import calendar
import copy
import itertools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import InitVar, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import yaml
from airbyte_cdk.sources.declarative.interpolation.interpolated_boolean import InterpolatedBoolean
from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    ConfigComponentsResolver as ConfigComponentsResolverModel,
)
from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    DeclarativeStream as DeclarativeStreamModel,
)
from airbyte_cdk.sources.declarative.parsers.manifest_component_transformer import ManifestComponentTransformer
from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver
from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory
from airbyte_cdk.sources.declarative.partition_routers.partition_router import PartitionRouter
from airbyte_cdk.sources.declarative.schema.schema_loader import SchemaLoader
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

from source_100ms.components.extractors import JsonPath
from source_100ms.components.origin import api_origin, config_error, origin_of
from source_100ms.components.requester import ManagementApiRequester, path_segment

DEFAULT_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
TIME_UNITS = ("minute", "hour", "day", "week", "month")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
# Set by the connector (Authorization from the credentials, Accept: JSON), or able to send the request elsewhere.
FORBIDDEN_HEADERS = {"authorization", "proxy-authorization", "accept", "host", "cookie"}
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
# Anything a header value may not hold: control characters (CR and LF above all) and non-ASCII text.
_BAD_HEADER_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\U0010ffff]")
# Characters refused in a custom stream's URL outright, and dot segments (also percent-encoded).
_BAD_URL_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")
_DOT_SEGMENT = re.compile(r"(^|/)(\.|%2e){1,2}(/|$|\?)", re.IGNORECASE)

# `{now}`, `{now-7}`, `{now+1}` and `{rooms.id}`, `{sessions.peers.id}`.
_MACRO = re.compile(r"\{([^{}]*)\}")
_NOW = re.compile(r"^\s*now\s*(?:([+-])\s*(\d+))?\s*$")
_LOOKUP = re.compile(r"^\s*([a-z][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*$")
# The longest shift of `{now±N}` that still gives a year strftime can write.
_MAX_SHIFT_DAYS = 3000 * 365


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
        now, lookup = _NOW.match(body), _LOOKUP.match(body)
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


def read_instant() -> datetime:
    """The instant `{now}` stands for in one read (tests replace it)."""
    return datetime.now(UTC)


# ---------------------------------------------------------------------------------------------- one entry


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


def _label(entry: Any, index: int | None = None) -> str:
    name = entry.get("name") if isinstance(entry, Mapping) else None
    if isinstance(name, str) and name:
        return f"Custom stream '{name}'"
    return f"Custom stream #{index + 1}" if index is not None else "A custom stream"


def parse_entry(entry: Mapping[str, Any], config: Mapping[str, Any], index: int | None = None) -> CustomStreamSpec:
    """Validate one `custom_streams` entry on its own; a config error names the stream and the fix."""
    label = _label(entry, index)
    if not isinstance(entry, Mapping):
        raise config_error(f"{label}: each entry of `custom_streams` must be an object with `name` and `url`.")
    name = entry.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise config_error(
            f"{label}: `name` {name!r} is not valid: use lower-case letters, digits and underscores, "
            "starting with a letter (for example `polls`)."
        )
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
    path = _path_of(label, entry.get("url"), config)
    try:
        path_tokens = parse_macros(path)
    except ValueError as error:
        raise config_error(f"{label}: `url` has an {error}.") from error
    headers = _parse_headers(label, entry.get("request_headers"))
    spec = CustomStreamSpec(
        name=name,
        path=path_tokens,
        headers=headers,
        record_path=record_path,
        metadata_path=metadata_path,
        datetime_format=datetime_format,
        time_unit=time_unit,
        primary_key=list(primary_key),
        lookups=list(
            dict.fromkeys(t for tokens in [path_tokens, *headers.values()] for t in tokens if isinstance(t, Lookup))
        ),
    )
    for tokens in [spec.path, *spec.headers.values()]:
        for token in tokens:
            if isinstance(token, Now) and abs(token.offset) * (30 if time_unit == "month" else 1) > _MAX_SHIFT_DAYS:
                raise config_error(f"{label}: {{now{token.offset:+d}}} is too far from today; use a smaller N.")
    _check_resolved_url(label, spec, config)
    return spec


def _check_jsonpath(label: str, field_name: str, expression: Any) -> None:
    if not isinstance(expression, str):
        raise config_error(f"{label}: `{field_name}` must be a JSONPath string such as $.data[*].")
    try:
        JsonPath(expression)
    except Exception as error:  # the library's JSONPathError, or this runner's lack of it
        raise config_error(
            f"{label}: `{field_name}` {expression!r} is not a valid RFC 9535 JSONPath ({error}). Write it like "
            "$.data[*] (each item of `data`), $.peers[*] (each value of the `peers` map) or $ (the whole response); "
            "`source-100ms suggest-paths` lists candidates."
        ) from error


def _path_of(label: str, url: Any, config: Mapping[str, Any]) -> str:
    """The path (with query) to request under the API origin; a full URL must be on that origin."""
    if not isinstance(url, str) or not url.strip():
        raise config_error(f"{label}: `url` is required: a path under the API such as /v2/polls/{{rooms.polls}}.")
    if _BAD_URL_CHARACTERS.search(url.strip()):
        raise config_error(
            f"{label}: `url` {url!r} holds a control character, a space or a backslash; write a plain path such "
            "as /v2/sessions?active=false."
        )
    url = url.strip()
    origin = api_origin(config)
    if "://" in url or url.startswith("//"):
        try:
            same = origin_of(url if "://" in url else f"{origin.scheme}:{url}") == origin
        except ValueError:
            same = False
        if not same:
            raise config_error(
                f"{label}: `url` {url!r} is not on the configured API host {origin.url}; the connector only sends "
                "its token there. Use a path such as /v2/polls/{rooms.polls}."
            )
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
    elif url.startswith("/"):
        path = url
    else:
        path = "/v2/" + url  # relative to the API version: `polls/{rooms.polls}` means /v2/polls/{rooms.polls}
    if "#" in path or _DOT_SEGMENT.search(path.split("?", 1)[0]) or path.startswith("//"):
        raise config_error(
            f"{label}: `url` {url!r} must be a plain path such as /v2/sessions?active=false (no `.` or `..` "
            "segments, no fragment)."
        )
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
        if not colon or not _HEADER_NAME.match(name):
            raise config_error(
                f"{label}: `request_headers` has {pair.strip()!r}; write each header as name:value, separated by "
                "commas."
            )
        if name.lower() in FORBIDDEN_HEADERS:
            raise config_error(
                f"{label}: `request_headers` sets {name}; remove it: the connector sets Authorization (from the "
                "credentials) and Accept itself, and Host and Cookie are not the stream's to set."
            )
        if _BAD_HEADER_VALUE.search(value):
            raise config_error(
                f"{label}: header {name} holds a line break, a control character or non-ASCII text; HTTP header "
                "values must be plain ASCII on one line."
            )
        try:
            headers[name] = parse_macros(value.strip())
        except ValueError as error:
            raise config_error(f"{label}: header {name} has an {error}.") from error
    return headers


def _url_base(config: Mapping[str, Any]) -> str:
    return api_origin(config).url + "/"


def _check_resolved_url(label: str, spec: CustomStreamSpec, config: Mapping[str, Any]) -> None:
    """Resolve the URL as the requester will (the CDK strips the leading `/` and joins with `urljoin`), with
    placeholder values for the macros, and check that it stays on the API origin."""
    sample = "".join(t if isinstance(t, str) else "0" for t in spec.path).lstrip("/")
    resolved = urljoin(_url_base(config), sample)
    try:
        same = origin_of(resolved) == api_origin(config)
    except ValueError:
        same = False
    if not same:
        raise config_error(
            f"{label}: `url` resolves to {resolved!r}, not a path under {api_origin(config).url}; the connector "
            "only sends its token there. Use a path such as /v2/polls/{rooms.polls}."
        )


# ---------------------------------------------------------------------------------------------- all entries


def builtin_definitions(streams: Iterable[Mapping[str, Any]], config: Mapping[str, Any]) -> dict[str, Any]:
    """Stream name -> definition, for the built-in streams this config has (ConditionalStreams evaluated as
    the CDK evaluates them)."""
    out: dict[str, Any] = {}
    for entry in streams:
        if entry.get("type") == "ConditionalStreams":
            if not InterpolatedBoolean(condition=entry["condition"], parameters={}).eval(config):
                continue
            definitions = entry.get("streams", [])
        else:
            definitions = [entry]
        for definition in definitions:
            name = definition.get("name") or (definition.get("$parameters") or {}).get("name")
            if name:
                out[name] = definition
    return out


def builtin_names(streams: Iterable[Mapping[str, Any]]) -> set[str]:
    """Every built-in stream name, whichever branch of a ConditionalStreams a config takes."""
    names = set()
    for entry in streams:
        for definition in entry.get("streams", [entry]) if entry.get("type") == "ConditionalStreams" else [entry]:
            name = definition.get("name") or (definition.get("$parameters") or {}).get("name")
            if name:
                names.add(name)
    return names


def check_custom_streams(config: Mapping[str, Any], streams: list[Mapping[str, Any]]) -> dict[str, CustomStreamSpec]:
    """Validate every `custom_streams` entry together: names, lookups, cycles. Name -> spec."""
    entries = config.get("custom_streams") or []
    key = json.dumps([entries, config.get("api_url"), config.get("room_ids"), config.get("template_ids")], default=str)
    return _checked(key, json.dumps(sorted(builtin_names(streams))), config, streams)


_CHECKED: dict[tuple[str, str], dict[str, CustomStreamSpec]] = {}


def _checked(key: str, builtins_key: str, config: Mapping[str, Any], streams: list[Mapping[str, Any]]):
    cached = _CHECKED.get((key, builtins_key))
    if cached is not None:
        return cached
    entries = config.get("custom_streams") or []
    if not isinstance(entries, list):
        raise config_error("`custom_streams` must be a list of stream definitions: fix the configuration.")
    builtins = builtin_names(streams)
    available = set(builtin_definitions(streams, config))
    specs: dict[str, CustomStreamSpec] = {}
    for index, entry in enumerate(entries):
        spec = parse_entry(entry, config, index)
        label = f"Custom stream '{spec.name}'"
        if spec.name in builtins:
            raise config_error(f"{label}: `{spec.name}` is a built-in stream of this connector: choose another name.")
        if spec.name in specs:
            raise config_error(f"{label}: two custom streams are named `{spec.name}`: give each a unique name.")
        specs[spec.name] = spec
    for spec in specs.values():
        for lookup in spec.lookups:
            if lookup.stream == spec.name:
                raise config_error(
                    f"Custom stream '{spec.name}': the lookup {{{lookup.stream}.{lookup.field}}} refers to the stream "
                    "itself; look up another stream."
                )
            if lookup.stream in builtins and lookup.stream not in available:
                raise config_error(
                    f"Custom stream '{spec.name}': the lookup stream `{lookup.stream}` is not available with this "
                    "configuration (room_ids or template_ids replace the list it reads); look up another stream."
                )
            if lookup.stream not in builtins and lookup.stream not in specs:
                raise config_error(
                    f"Custom stream '{spec.name}': the lookup {{{lookup.stream}.{lookup.field}}} names no stream of "
                    f"this connector; use a built-in stream ({', '.join(sorted(builtins))}) or another custom stream."
                )
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
        for parent in specs[name].parents:
            if parent in specs:
                visit(parent, [*trail, name])
        state[name] = "done"

    for name in specs:
        visit(name, [])
    if len(_CHECKED) > 32:
        _CHECKED.clear()
    _CHECKED[(key, builtins_key)] = specs
    return specs


def _entry(config: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    for entry in config.get("custom_streams") or []:
        if isinstance(entry, Mapping) and entry.get("name") == name:
            return entry
    raise config_error(f"Custom stream '{name}' is not in `custom_streams`.")


# ---------------------------------------------------------------------------------------------- the manifest

INJECTED_MANIFEST = "__injected_declarative_manifest"
_RESOLVED: dict[Any, tuple[Any, dict[str, Any]]] = {}


def manifest_file() -> Path:
    """The manifest beside these components: `manifest.yaml` next to `components.py` in a manifest-only build,
    the package's `manifest.yaml` next to the `components` package here."""
    here = Path(__file__).resolve()
    beside = here.with_name("manifest.yaml")
    return beside if beside.exists() else here.parent.parent / "manifest.yaml"


def resolved_manifest(config: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest the source runs, with `$ref`s resolved and types and parameters propagated as the CDK does.

    Why: the lookup router builds the parent streams a custom stream's URL names, from their definitions; those
    cannot be embedded in the custom stream template (the CDK's resolver rewrites the template once per field
    per custom stream, and a template holding every stream took minutes). Airbyte's runner hands the manifest
    in the config (`__injected_declarative_manifest`) or bundles it beside `components.py`; this package keeps
    it beside the `components` package. Resolved once per process and manifest.
    """
    injected = config.get(INJECTED_MANIFEST)
    if isinstance(injected, Mapping):
        key: Any = ("injected", id(injected))
        source: Any = injected
    else:
        path = manifest_file()
        key, source = ("file", str(path), path.stat().st_mtime), path
    cached = _RESOLVED.get(key)
    if cached is not None and cached[0] is not None:
        return cached[1]
    if isinstance(source, Path):
        with source.open() as handle:
            raw = yaml.safe_load(handle)
    else:
        raw = copy.deepcopy(dict(source))
    resolved = ManifestReferenceResolver().preprocess_manifest(raw)
    propagated = ManifestComponentTransformer().propagate_types_and_parameters("", resolved, {})
    _RESOLVED[key] = (source, propagated)  # the source is kept so that an id() is never reused meanwhile
    return propagated


# ---------------------------------------------------------------------------------------------- components


@dataclass
class CustomStreamRequester(ManagementApiRequester):
    """The requester of a custom stream: its `url` and `request_headers`, macros expanded, checked first.

    Why: the CDK interpolates paths with Jinja; a custom stream's URL is written by the user with its own
    macros (`{now-7}`, `{rooms.id}`), must stay on the API origin however it is written (a control character or
    `//other.host` would make `urljoin` leave it, with the token), and its lookup values must enter the path as
    one segment each. The URL is checked as the CDK will resolve it when the stream is built; the
    authenticator checks each real request's URL again before adding the token. Datetime macros are expanded
    once, when the stream is built, so every request of a read sends the same instant.
    Example: `/v2/polls/{rooms.polls}/results?after={now-1}` with partition `{"rooms_polls": "a/b"}` ->
    `v2/polls/a%2Fb/results?after=2024-05-01T10:00:00Z`.
    """

    stream_name: str = ""
    url: str = ""
    request_headers: str = ""
    datetime_format: str = ""
    time_unit: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        entry = {
            "name": self.stream_name,
            "url": self.url,
            "request_headers": self.request_headers,
            "datetime_format": self.datetime_format,
            "time_unit": self.time_unit,
        }
        self._spec = parse_entry(entry, self.config)
        now = read_instant()

        def render_now(tokens: list[Token], in_url: bool) -> list[Token]:
            out: list[Token] = []
            for token in tokens:
                if isinstance(token, Now):
                    text = format_now(now, token, self._spec.time_unit, self._spec.datetime_format)
                    out.append(quote(text, safe=":") if in_url else text)
                else:
                    out.append(token)
            return out

        self._path = render_now(self._spec.path, in_url=True)
        self._headers = {name: render_now(tokens, in_url=False) for name, tokens in self._spec.headers.items()}

    @staticmethod
    def _render(tokens: list[Token], partition: Mapping[str, Any], in_url: bool) -> str:
        out = []
        for token in tokens:
            if isinstance(token, Lookup):
                value = partition.get(token.output_field)
                out.append(path_segment(value) if in_url else str(value))
            else:
                out.append(str(token))
        return "".join(out)

    def get_path(self, **kwargs: Any) -> str:
        stream_slice = kwargs.get("stream_slice")
        partition = stream_slice.partition if stream_slice is not None else {}
        return self._render(self._path, partition, in_url=True).lstrip("/")

    def send_request(self, stream_state: Any = None, stream_slice: StreamSlice | None = None, **kwargs: Any):
        partition = stream_slice.partition if stream_slice is not None else {}
        headers = {name: self._render(tokens, partition, in_url=False) for name, tokens in self._headers.items()}
        kwargs["request_headers"] = {**(kwargs.get("request_headers") or {}), **headers}
        return super().send_request(stream_state=stream_state, stream_slice=stream_slice, **kwargs)


@dataclass
class LookupPartitionRouter(PartitionRouter):
    """One partition per distinct combination of looked-up values: `{rooms.id}` gives one per room id.

    Why: a `SubstreamPartitionRouter` needs its parent stream written in the manifest, and a custom stream's
    parents are named in the user's URL (`/v2/polls/{rooms.polls}`), so they are known only once the config is.
    This router gets every built-in stream definition (`streams`: the manifest's `streams` list) and the custom
    stream template with its mapping, builds the parents the URL names with the CDK's own factory (a custom
    parent through the CDK's `ConfigComponentsResolver`, as `dynamic_streams` builds it), reads them (their
    records are not emitted), expands list values, drops repeats and crosses the values of different parents:

        rooms: {"id": "r1", "polls": ["a", "b"]}, {"id": "r2", "polls": ["b"]}
        {rooms.polls} -> {"rooms_polls": "a"}, {"rooms_polls": "b"}

    Without lookups it gives one empty partition. It also checks the whole `custom_streams` list (unique
    names, known lookup streams, no cycle), since every custom stream has one.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    stream_name: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        manifest = resolved_manifest(self.config)
        self.streams = manifest["streams"]
        self._dynamic = manifest["dynamic_streams"][0]
        specs = check_custom_streams(self.config, self.streams)
        self._spec = specs[self.stream_name] if self.stream_name in specs else None
        self._parents: list[tuple[Any, list[Lookup]]] = []
        if self._spec is None:
            return
        for parent in self._spec.parents:
            lookups = [lookup for lookup in self._spec.lookups if lookup.stream == parent]
            self._parents.append((self._build_parent(parent, specs), lookups))

    def _build_parent(self, name: str, specs: Mapping[str, CustomStreamSpec]) -> Any:
        if name in specs:
            definition = self._custom_definition(_entry(self.config, name))
        else:
            definition = builtin_definitions(self.streams, self.config)[name]
        definition = ManifestComponentTransformer().propagate_types_and_parameters(
            "", copy.deepcopy(dict(definition)), {}, use_parent_parameters=False
        )
        return ModelToComponentFactory().create_component(DeclarativeStreamModel, definition, self.config)

    def _custom_definition(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        """A custom parent, built from the same template and mapping as `dynamic_streams` builds it."""
        pointer = "__source_100ms_lookup_parent"
        resolver = ModelToComponentFactory().create_component(
            ConfigComponentsResolverModel,
            {
                **copy.deepcopy(dict(self._dynamic["components_resolver"])),
                "stream_config": {"type": "StreamConfig", "configs_pointer": [pointer]},
            },
            {**self.config, pointer: [dict(entry)]},
        )
        template = copy.deepcopy(dict(self._dynamic["stream_template"]))
        return next(iter(resolver.resolve_components(stream_template_config=template)))

    def stream_slices(self) -> Iterable[StreamSlice]:
        if not self._parents:
            yield StreamSlice(partition={}, cursor_slice={})
            return
        # The first parent streams lazily; the others (rare: lookups over two streams) are read up front.
        others = [list(self._values(stream, lookups)) for stream, lookups in self._parents[1:]]
        first_stream, first_lookups = self._parents[0]
        for first in self._values(first_stream, first_lookups):
            for rest in itertools.product(*others):
                partition: dict[str, Any] = {}
                for part in (first, *rest):
                    partition.update(part)
                yield StreamSlice(partition=partition, cursor_slice={})

    @staticmethod
    def _values(stream: Any, lookups: list[Lookup]) -> Iterable[dict[str, Any]]:
        seen: set[str] = set()
        for partition in stream.generate_partitions():
            for record in partition.read():
                data = record.data if hasattr(record, "data") else record
                raw = [_dig(data, lookup.path) for lookup in lookups]
                choices = [value if isinstance(value, list) else [value] for value in raw]
                for combination in itertools.product(*choices):
                    if any(value is None or isinstance(value, Mapping | list) for value in combination):
                        continue
                    key = json.dumps(combination, sort_keys=True, default=str)
                    if key in seen:
                        continue
                    seen.add(key)
                    yield {lookup.output_field: value for lookup, value in zip(lookups, combination, strict=True)}

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


def _dig(record: Any, path: list[str]) -> Any:
    for key in path:
        if not isinstance(record, Mapping):
            return None
        record = record.get(key)
    return record


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


@dataclass
class CustomStreamSchemaLoader(SchemaLoader):
    """The schema of a custom stream: every field allowed, `_metadata` and the lookup fields declared.

    Why: what an arbitrary endpoint returns is not known in advance, but the fields the connector adds are: a
    lookup field gets the type the parent's schema gives the looked-up field (`rooms_id`: string), and
    `_metadata` is declared (any value) when `metadata_path` is set.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    stream_name: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.streams = resolved_manifest(self.config)["streams"]

    def get_json_schema(self) -> Mapping[str, Any]:
        specs = check_custom_streams(self.config, self.streams)
        spec = specs.get(self.stream_name)
        properties: dict[str, Any] = {}
        if spec is not None:
            if spec.metadata_path:
                properties["_metadata"] = {}
            builtins = builtin_definitions(self.streams, self.config)
            for lookup in spec.lookups:
                parent = builtins.get(lookup.stream)
                schema = ((parent or {}).get("schema_loader") or {}).get("schema") if parent else None
                for part in lookup.path:
                    schema = ((schema or {}).get("properties") or {}).get(part) if isinstance(schema, Mapping) else None
                properties[lookup.output_field] = _lookup_value_schema(schema if isinstance(schema, Mapping) else None)
        return {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": True,
            "properties": properties,
        }


@dataclass
class LookupFieldsTransformation(RecordTransformation):
    """Copies each looked-up value from the partition onto the record as `<stream>_<field>` (`rooms_id`).

    Why not `AddFields`: its interpolation turns a string id made of digits into a number; the value is copied
    here with the type the parent stream gave it.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def transform(
        self,
        record: dict[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        if stream_slice is not None:
            for name, value in stream_slice.partition.items():
                record[name] = value
