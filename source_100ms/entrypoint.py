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
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_100ms import config_checks
from source_100ms.source import Source100ms


def _trace(message: str, failure_type: FailureType, internal: str | None = None) -> str:
    trace = AirbyteMessage(
        type=Type.TRACE,
        trace=AirbyteTraceMessage(
            type=TraceType.ERROR,
            emitted_at=int(datetime.now(UTC).timestamp() * 1000),
            error=AirbyteErrorTraceMessage(message=message, internal_message=internal, failure_type=failure_type),
        ),
    )
    return orjson.dumps(AirbyteMessageSerializer.dump(trace)).decode()


def _start_failure(error: Exception) -> tuple[str, FailureType]:
    """Why the source could not be built, and whose mistake it is: only a config mistake is a config error."""
    if isinstance(error, AirbyteTracedException):
        return error.message or str(error), error.failure_type or FailureType.system_error
    if isinstance(error, ValueError | OSError) and "json" in type(error).__module__.lower() + str(error).lower():
        return f"the config, catalog or state file is not valid JSON ({error})", FailureType.config_error
    if isinstance(error, OSError):
        return f"a file given on the command line cannot be read ({error})", FailureType.config_error
    return f"{type(error).__name__}: {error}", FailureType.system_error


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
        message, failure_type = _start_failure(error)
        print(_trace(f"source-100ms could not start: {message}", failure_type, internal=repr(error)))
        return None


class Entrypoint100ms(AirbyteEntrypoint):
    """The CDK's entry point, with config mistakes explained in plain sentences instead of JSON-schema jargon."""

    @staticmethod
    def validate_connection(source_spec: ConnectorSpecification, config: Mapping[str, Any]) -> None:
        connector_config, _ = split_config(config)
        config_checks.explain(connector_config, source_spec.connectionSpecification)


_TRACE_ERROR_PREFIX = '{"type":"TRACE","trace":{"type":"ERROR"'


def launch(source: Source100ms, args: list[str]) -> None:
    """As `airbyte_cdk.entrypoint.launch`, with `Entrypoint100ms`, and a failed read ending in a plain sentence.

    The CDK ends a read where streams failed with an exception whose message lists the `repr` of each stream's
    exception (the raw request, headers and body included). The streams' own error messages, already printed as
    trace messages, say it better: the last trace message and the last line on stderr are those sentences.
    """
    entrypoint = Entrypoint100ms(source)
    parsed_args = entrypoint.parse_args(args)
    stream_errors: list[dict[str, Any]] = []
    try:
        with PRINT_BUFFER:
            for message in entrypoint.run(parsed_args):
                if message.startswith(_TRACE_ERROR_PREFIX):
                    error = orjson.loads(message)["trace"]["error"]
                    if error.get("stream_descriptor"):
                        stream_errors.append(error)
                print(f"{message}\n", end="")
    except AirbyteTracedException as error:
        if not stream_errors:
            raise
        by_stream: dict[str, str] = {}
        for failed in stream_errors:
            by_stream.setdefault(failed["stream_descriptor"]["name"], failed.get("message") or "failed")
        sentence = f"The read failed for {len(by_stream)} stream(s): " + " ".join(
            f"{name}: {text.rstrip('.')}." for name, text in by_stream.items()
        )
        kinds = {failed.get("failure_type") for failed in stream_errors}
        failure_type = FailureType.config_error if kinds == {"config_error"} else error.failure_type
        print(_trace(sentence, failure_type or FailureType.system_error, internal=error.internal_message))
        print(f"source-100ms: {sentence}", file=sys.stderr)
        sys.exit(1)


def main(args: list[str]) -> None:
    source = _source(args)
    if source is None:
        sys.exit(1)
    launch(source, args)
