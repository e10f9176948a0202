"""The speed layer: measured replacements of CDK and serpyco-rs internals, installed by the executable only.

Importing this package, or any other module of `source_100ms`, replaces nothing. `install()` does, and only the
`source-100ms` executable calls it, before it imports the CDK (`source_100ms.run`). The connector is correct
without it: each replacement returns what the code it replaces returns (unit tests compare the two), CI runs the
integration tests with the layer off, and Airbyte's own runner (`source-declarative-manifest`) runs the same
manifest and components without it.

- `SOURCE_100MS_SPEEDUPS=0` installs nothing; a comma-separated list of patch names installs only those (the
  benchmark measures each patch on and off that way); unset or `1` installs all.
- On any airbyte-cdk other than `MEASURED_CDK_VERSION` nothing is installed and one line on stderr says so: the
  patches replace internals of that version, and a silent mismatch would be a silent loss.

Each `Patch` names what it replaces, what the CDK's own code does there, the gain the benchmark measured
(`bench/run.py --speedups`), and the upstream change that would make it unnecessary.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata

MEASURED_CDK_VERSION = "7.39.1"
ENVIRONMENT_VARIABLE = "SOURCE_100MS_SPEEDUPS"
# How long a thread may hold the GIL before a waiting thread gets it (Python's default is 5 ms).
SWITCH_INTERVAL_SECONDS = 0.02


@dataclass(frozen=True)
class Patch:
    """One replacement: `install` sets `attribute` of the object `target()` returns to `replacement()`."""

    name: str
    replaces: str
    cdk_behaviour: str
    measured_gain: str
    unnecessary_when: str
    target: Callable[[], object]
    attribute: str
    replacement: Callable[[], object]


def _module(name: str) -> Callable[[], object]:
    return lambda: importlib.import_module(name)


def _attribute(module: str, name: str) -> Callable[[], object]:
    return lambda: getattr(importlib.import_module(module), name)


def _patched(name: str) -> Callable[[], object]:
    return lambda: getattr(importlib.import_module("source_100ms.speedups.cdk_patches"), name)


def _attribute_docs() -> object:
    from source_100ms.speedups import attribute_docs

    return attribute_docs.cached_get_attributes_doc()


_SERPYCO_USERS = ("serpyco_rs._utils", "serpyco_rs._describe", "serpyco_rs._json_schema._convert")

PATCHES: tuple[Patch, ...] = (
    *(
        Patch(
            name="attribute_docs",
            replaces=f"{module}.get_attributes_doc",
            cdk_behaviour="serpyco-rs reads attribute docstrings with inspect.getsource, parsing the whole protocol "
            "module again for every class the CDK's serializers describe at import",
            measured_gain="start-up 1.6 s to 1.1 s (import of the CDK 1.14 s to 0.69 s)",
            unnecessary_when="attributes-doc parses each file once, or the CDK stops asking for descriptions at import",
            target=_module(module),
            attribute="get_attributes_doc",
            replacement=_attribute_docs,
        )
        for module in _SERPYCO_USERS
    ),
    Patch(
        name="dates",
        replaces="airbyte_cdk...datetime_parser.DatetimeParser.parse",
        cdk_behaviour="datetime.strptime, three times per record for the same cursor value",
        measured_gain="63% of the CPU of an analytics read before (py-spy)",
        unnecessary_when="the CDK parses RFC 3339 with datetime.fromisoformat and once per record",
        target=_attribute("airbyte_cdk.sources.declarative.datetime.datetime_parser", "DatetimeParser"),
        attribute="parse",
        replacement=_patched("_parse"),
    ),
    Patch(
        name="dates",
        replaces="airbyte_cdk...datetime_parser.DatetimeParser.format",
        cdk_behaviour="datetime.strftime for every record's cursor value in the per-partition cursor",
        measured_gain="with the slice hash: 100,000 events 8.5 s to 7.6 s",
        unnecessary_when="the per-partition cursor keeps the parsed value instead of formatting it per record",
        target=_attribute("airbyte_cdk.sources.declarative.datetime.datetime_parser", "DatetimeParser"),
        attribute="format",
        replacement=_patched("_format"),
    ),
    Patch(
        name="slice_hash",
        replaces="airbyte_cdk.sources.types.StreamSlice.__hash__",
        cdk_behaviour="JSON-serialises and SHA-256-hashes the slice on every call, twice per record",
        measured_gain="10% of the CPU of an analytics read",
        unnecessary_when="StreamSlice caches its hash (it is immutable)",
        target=_attribute("airbyte_cdk.sources.types", "StreamSlice"),
        attribute="__hash__",
        replacement=_patched("_slice_hash"),
    ),
    Patch(
        name="partition_key",
        replaces="ConcurrentPerPartitionCursor._to_partition_key",
        cdk_behaviour="json.dumps of the partition, twice per record",
        measured_gain="12% of the CPU of an analytics read",
        unnecessary_when="the cursor keys a partition once per partition instead of once per record",
        target=_attribute(
            "airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor", "ConcurrentPerPartitionCursor"
        ),
        attribute="_to_partition_key",
        replacement=_patched("_partition_key"),
    ),
    Patch(
        name="queue_records_first",
        replaces="ConcurrentSource._handle_item",
        cdk_behaviour="tests five types with isinstance, four of them abstract classes, records last",
        measured_gain="about 3% of the CPU of an analytics read",
        unnecessary_when="the CDK tests for records first",
        target=_attribute("airbyte_cdk.sources.concurrent_source.concurrent_source", "ConcurrentSource"),
        attribute="_handle_item",
        replacement=_patched("_handle_item"),
    ),
    Patch(
        name="parent_keys",
        replaces="substream_partition_router.dpath",
        cdk_behaviour="dpath.get walks every value of a parent record to match a plain key as a glob",
        measured_gain="64 microseconds per parent record (a session with seven participants)",
        unnecessary_when="SubstreamPartitionRouter reads a plain key with a dict lookup",
        target=_module("airbyte_cdk.sources.declarative.partition_routers.substream_partition_router"),
        attribute="dpath",
        replacement=_patched("plain_key_dpath"),
    ),
    Patch(
        name="cursor_end",
        replaces="airbyte_cdk...min_max_datetime.MinMaxDatetime.get_datetime",
        cdk_behaviour="renders the cursors' end (now plus 15 minutes, Jinja and an ISO 8601 duration) for every "
        "record the client-side cursor filters",
        measured_gain="a read of 26,781 session participants: 10.6 s to 5.8-6.4 s (with no end at all: 6.7-7.1 s)",
        unnecessary_when="ConcurrentCursor evaluates its end once per slice, or the manifest can say 'now plus' "
        "without Jinja",
        target=_attribute("airbyte_cdk.sources.declarative.datetime.min_max_datetime", "MinMaxDatetime"),
        attribute="get_datetime",
        replacement=_patched("_get_datetime"),
    ),
)

NAMES = tuple(dict.fromkeys(p.name for p in PATCHES)) + ("switch_interval",)

# What `install` replaced: (object, attribute, the original value), so that `uninstall` can put it back.
_INHERITED = object()
_installed: list[tuple[object, str, object]] = []
_previous_switch_interval: float | None = None


def wanted(environ: os._Environ | dict[str, str] | None = None) -> set[str]:
    """The patch names the environment asks for."""
    value = (environ if environ is not None else os.environ).get(ENVIRONMENT_VARIABLE, "1").strip()
    if value in ("", "1", "all"):
        return set(NAMES)
    if value == "0":
        return set()
    names = {name.strip() for name in value.split(",") if name.strip()}
    unknown = names - set(NAMES)
    if unknown:
        print(
            f"{ENVIRONMENT_VARIABLE} names unknown speed-ups {sorted(unknown)}; known: {list(NAMES)}", file=sys.stderr
        )
    return names & set(NAMES)


def install(environ: dict[str, str] | None = None) -> list[str]:
    """Install the speed-ups the environment asks for; returns the names installed (nothing on another CDK)."""
    global _previous_switch_interval
    names = wanted(environ)
    if not names or _installed:
        return []
    try:
        version = metadata.version("airbyte-cdk")
    except metadata.PackageNotFoundError:
        version = "not installed"
    if version != MEASURED_CDK_VERSION:
        # On stderr: this runs before the CDK (and its logging) is imported.
        print(
            f"source-100ms speed-ups not installed: they were measured on airbyte-cdk {MEASURED_CDK_VERSION}, "
            f"this is {version}. The connector works the same, a little slower.",
            file=sys.stderr,
        )
        return []
    done = []
    for patch in PATCHES:
        if patch.name not in names:
            continue
        target = patch.target()
        if not hasattr(target, patch.attribute):
            continue  # a serpyco-rs that keeps the function elsewhere: nothing to replace there
        _installed.append((target, patch.attribute, vars(target).get(patch.attribute, _INHERITED)))
        setattr(target, patch.attribute, patch.replacement())
        done.append(patch.name)
    if "switch_interval" in names:
        _previous_switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        done.append("switch_interval")
    return list(dict.fromkeys(done))


def uninstall() -> None:
    """Put back everything `install` replaced (tests use it; the executable never does)."""
    global _previous_switch_interval
    while _installed:
        target, attribute, original = _installed.pop()
        if original is _INHERITED:
            delattr(target, attribute)
        else:
            setattr(target, attribute, original)
    if _previous_switch_interval is not None:
        sys.setswitchinterval(_previous_switch_interval)
        _previous_switch_interval = None


def installed() -> bool:
    return bool(_installed) or _previous_switch_interval is not None
