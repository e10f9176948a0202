"""The Airbyte protocol commands of the `source-100ms` executable (`spec`, `check`, `discover`, `read`)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from airbyte_cdk.entrypoint import PRINT_BUFFER, AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteTraceMessage,
    ConnectorSpecification,
    FailureType,
    TraceType,
    Type,
)
from airbyte_cdk.sources.utils.schema_helpers import split_config

from source_100ms import config_checks
from source_100ms.source import Source100ms


def _source(args: list[str]) -> Source100ms | None:
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    config_path = AirbyteEntrypoint.extract_config(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    try:
        return Source100ms(
            Source100ms.read_catalog(catalog_path) if catalog_path else None,
            Source100ms.read_config(config_path) if config_path else None,
            Source100ms.read_state(state_path) if state_path else None,
            config_path=config_path,
        )
    except Exception as error:  # the protocol wants a trace message, not a traceback
        trace = AirbyteMessage(
            type=Type.TRACE,
            trace=AirbyteTraceMessage(
                type=TraceType.ERROR,
                emitted_at=int(datetime.now(UTC).timestamp() * 1000),
                error=AirbyteErrorTraceMessage(
                    message=f"source-100ms could not start: {error}", failure_type=FailureType.config_error
                ),
            ),
        )
        print(orjson.dumps(AirbyteMessageSerializer.dump(trace)).decode())
        return None


class Entrypoint100ms(AirbyteEntrypoint):
    """The CDK's entry point, with config mistakes explained in plain sentences instead of JSON-schema jargon."""

    @staticmethod
    def validate_connection(source_spec: ConnectorSpecification, config: Mapping[str, Any]) -> None:
        connector_config, _ = split_config(config)
        config_checks.explain(connector_config, source_spec.connectionSpecification)


def launch(source: Source100ms, args: list[str]) -> None:
    """As `airbyte_cdk.entrypoint.launch`, with `Entrypoint100ms`."""
    entrypoint = Entrypoint100ms(source)
    parsed_args = entrypoint.parse_args(args)
    with PRINT_BUFFER:
        for message in entrypoint.run(parsed_args):
            print(f"{message}\n", end="")


def main(args: list[str]) -> None:
    source = _source(args)
    if source is None:
        sys.exit(1)
    launch(source, args)
