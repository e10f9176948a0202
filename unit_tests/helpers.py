"""Running the source the way the Airbyte platform does, in process."""

from __future__ import annotations

from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, discover, read

from source_100ms.source import Source100ms


def read_streams(
    config: dict[str, Any], *streams: str, mode: SyncMode = SyncMode.full_refresh, state=None, expect_error=False
) -> EntrypointOutput:
    builder = CatalogBuilder()
    for stream in streams:
        builder.with_stream(stream, mode)
    catalog = builder.build()
    return read(Source100ms(catalog, config, state), config, catalog, state, expecting_exception=expect_error)


def discover_catalog(config: dict[str, Any]) -> EntrypointOutput:
    return discover(Source100ms(None, config, None), config)


def oid(n: int) -> str:
    """A 24-hex id; larger n sorts later, like a newer 100ms ObjectId."""
    return f"{0x65000000 + n:08x}{n:016x}"
