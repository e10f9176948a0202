"""Running the source the way the Airbyte platform does, in process."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import orjson
from airbyte_cdk.models import AirbyteMessageSerializer, ConfiguredAirbyteCatalogSerializer, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, _run_command, discover, make_file, read

from source_100ms.entrypoint import Entrypoint100ms
from source_100ms.source import Source100ms


def read_streams(
    config: dict[str, Any],
    *streams: str,
    mode: SyncMode = SyncMode.full_refresh,
    state=None,
    expect_error=False,
    debug=False,
) -> EntrypointOutput:
    builder = CatalogBuilder()
    for stream in streams:
        builder.with_stream(stream, mode)
    catalog = builder.build()
    source = Source100ms(catalog, config, state)
    if not debug:
        return read(source, config, catalog, state, expecting_exception=expect_error)
    with tempfile.TemporaryDirectory() as tmp:
        args = ["read", "--debug", "--config", make_file(Path(tmp) / "config.json", config)]
        args += ["--catalog", make_file(Path(tmp) / "catalog.json", ConfiguredAirbyteCatalogSerializer.dump(catalog))]
        return _run_command(source, args, expecting_exception=expect_error)


def discover_catalog(config: dict[str, Any]) -> EntrypointOutput:
    return discover(Source100ms(None, config, None), config)


def oid(n: int) -> str:
    """A 24-hex id; larger n sorts later, like a newer 100ms ObjectId."""
    return f"{0x65000000 + n:08x}{n:016x}"


def check_connection(config: dict[str, Any]) -> EntrypointOutput:
    with tempfile.TemporaryDirectory() as tmp:
        config_file = make_file(Path(tmp) / "config.json", config)
        return run_entrypoint(Source100ms(None, config, None), ["check", "--config", config_file])


def read_through_entrypoint(config: dict[str, Any], *streams: str) -> EntrypointOutput:
    """`read` through the connector's own entry point (`Entrypoint100ms`), as the executable runs it: its config
    errors are the plain sentences of `config_checks.explain`."""
    builder = CatalogBuilder()
    for stream in streams:
        builder.with_stream(stream, SyncMode.full_refresh)
    catalog = builder.build()
    with tempfile.TemporaryDirectory() as tmp:
        args = ["read", "--config", make_file(Path(tmp) / "config.json", config)]
        args += ["--catalog", make_file(Path(tmp) / "catalog.json", ConfiguredAirbyteCatalogSerializer.dump(catalog))]
        return run_entrypoint(Source100ms(catalog, config, None), args)


def run_entrypoint(source: Source100ms, args: list[str]) -> EntrypointOutput:
    """Run a command through the connector's own entry point (`Entrypoint100ms`), as the executable does."""
    entrypoint = Entrypoint100ms(source)
    messages, error = [], None
    try:
        messages = list(entrypoint.run(entrypoint.parse_args(args)))
    except Exception as exception:  # the executable would exit non-zero; tests inspect the messages
        error = exception
    output = EntrypointOutput(messages=messages)
    output.error = error
    return output


def output_text(output: EntrypointOutput) -> str:
    """Every message the connector printed, serialized as the platform would receive it."""
    return "\n".join(
        orjson.dumps(AirbyteMessageSerializer.dump(message)).decode() for message in output.get_message_iterator()
    )


def stream_error(output: EntrypointOutput):
    """The error a stream failed with (the CDK adds a sync-level summary after it)."""
    return next(m.trace.error for m in output.errors if m.trace.error.stream_descriptor is not None)
