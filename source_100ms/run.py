"""The `source-100ms` executable: the Airbyte protocol plus the project's own tools."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
from airbyte_cdk.models import (
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteTraceMessage,
    FailureType,
    TraceType,
    Type,
)

from source_100ms.source import Source100ms

TOOLS = {
    "sandbox": "source_100ms.sandbox.cli",
    "preview": "source_100ms.tools.preview",
    "suggest-paths": "source_100ms.tools.suggest_paths",
}


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


def run() -> None:
    args = sys.argv[1:]
    if args and args[0] in TOOLS:
        import importlib

        sys.exit(importlib.import_module(TOOLS[args[0]]).main(args[1:]))
    source = _source(args)
    if source is not None:
        launch(source, args)


if __name__ == "__main__":
    run()
