"""The source: the declarative manifest, loaded from the package, and what `check` adds to it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    Status,
)
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from airbyte_cdk.utils.yaml_loader import safe_load_yaml

import source_100ms
from source_100ms import config_checks
from source_100ms.components.origin import api_origin

MANIFEST_PATH = Path(__file__).with_name("manifest.yaml")
# `check` answers within 30 seconds of the process start whatever the server does (a silent or trickling server
# included): it waits for the server at most 25 seconds, and less when start-up took more than 2 (importing the
# CDK took 5 s on a loaded machine, and the answer then came after 30.0 s), but never less than 5.
CHECK_DEADLINE_SECONDS = 25
CHECK_ANSWERED_BY_SECONDS = 27
CHECK_LEAST_WAIT_SECONDS = 5


def check_wait_seconds(now: float) -> float:
    """How long `check` waits for the server, at monotonic time `now`: in the executable, what is left of 27 s
    since it started, between 5 and 25 s; 25 s where no executable started (`source_100ms.STARTED_AT`)."""
    if source_100ms.STARTED_AT is None:
        return CHECK_DEADLINE_SECONDS
    left = CHECK_ANSWERED_BY_SECONDS - (now - source_100ms.STARTED_AT)
    return min(CHECK_DEADLINE_SECONDS, max(CHECK_LEAST_WAIT_SECONDS, left))


def load_manifest() -> dict[str, Any]:
    with MANIFEST_PATH.open() as manifest:
        return safe_load_yaml(manifest)


class Source100ms(ConcurrentDeclarativeSource):
    """source-100ms: every stream, custom streams included, is described in manifest.yaml.

    What is here and not in the manifest concerns `check`, and which streams a read builds (not what they read),
    so Airbyte's own runner (which runs the manifest and `components.py` without this class) reads exactly what
    this source reads:
    - the config's dates and ids are checked first (a date that matches the pattern but does not exist, a
      start date in the future, room and template ids the workspace does not have);
    - the whole check answers within 30 seconds of the process start (`check_wait_seconds`), naming the host and
      what happened;
    - a read builds the catalog's streams, not all of them (`_catalog_streams`).
    """

    def __init__(
        self,
        catalog: ConfiguredAirbyteCatalog | None = None,
        config: Mapping[str, Any] | None = None,
        state: list[AirbyteStateMessage] | None = None,
        config_path: str | None = None,
    ) -> None:
        super().__init__(
            catalog=catalog or ConfiguredAirbyteCatalog(streams=[]),
            config=config or {},
            state=state or [],
            source_config=load_manifest(),
            config_path=config_path,
        )

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        try:
            config_checks.check_values(config)
            host = api_origin(config).url
        except AirbyteTracedException as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=error.message)
        outcome: list[Any] = []
        worker = threading.Thread(target=self._check, args=(logger, config, outcome), daemon=True)
        waited = check_wait_seconds(time.monotonic())
        worker.start()
        worker.join(waited)
        if not outcome:
            return AirbyteConnectionStatus(
                status=Status.FAILED,
                message=f"{host} gave no complete answer within {waited:.0f} seconds: it accepted the "
                "connection but sent nothing usable back (or kept failing while retried). Check `api_url` and the "
                "network between Airbyte and 100ms.",
            )
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def _check(self, logger: logging.Logger, config: Mapping[str, Any], outcome: list[Any]) -> None:
        try:
            outcome.append(self._check_connection_and_ids(logger, config))
        except BaseException as error:  # handed to the calling thread, which raises it
            outcome.append(error)

    def _check_connection_and_ids(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        status = super().check(logger, config)
        if status.status != Status.SUCCEEDED:
            return AirbyteConnectionStatus(status=Status.FAILED, message=config_checks.plain(status.message))
        wanted = [(f, s) for f, s in (("room_ids", "rooms"), ("template_ids", "templates")) if config.get(f)]
        if not wanted:
            return status
        # Rooms are listed without the config's room filters: an id outside them still exists.
        streams = {s.name: s for s in self.streams({k: v for k, v in config.items() if k != "room_filters"})}
        for ids_field, stream in wanted:
            unknown = config_checks.unknown_ids(config[ids_field], self._ids(streams[stream]))
            if unknown:
                return AirbyteConnectionStatus(
                    status=Status.FAILED,
                    message=f"`{ids_field}` names {len(unknown)} id(s) this 100ms workspace does not have: "
                    f"{', '.join(unknown)}. Correct or remove them, or leave `{ids_field}` empty to read all.",
                )
        return status

    @staticmethod
    def _ids(stream: Any) -> Iterator[str]:
        """The ids of every record of a built-in list stream."""
        for partition in stream.generate_partitions():
            for record in partition.read():
                yield record.data["id"]

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage]:
        if any(s.stream.name == "analytics_events" for s in catalog.streams):
            warning = config_checks.analytics_start_warning(config)
            if warning:
                logger.warning(warning)
        streams = self._catalog_streams(catalog)
        if streams is None:
            yield from super().read(logger, config, catalog, state)
            return
        selected = self._select_streams(streams, catalog)
        if selected:  # the CDK's read, on the streams built here
            yield from self._concurrent_source.read(selected)

    def _catalog_streams(self, catalog: ConfiguredAirbyteCatalog) -> list[Any] | None:
        """The streams of the catalog, built alone; None to build every stream, as the CDK's `read` does.

        The CDK builds all of the manifest's streams for a read and keeps the catalog's: about 0.25 s of start-up
        per read here, whatever the catalog. Only the catalog's are built (with the parent streams their
        definitions embed) through the CDK's own `_streams_by_name`, the path its `check` takes. Every stream is
        built when the config has custom streams (their definitions are checked when built, and a mistake in one
        fails the sync whatever the catalog), and when the catalog names a stream the manifest does not have
        (the CDK's `_streams_by_name` answers None)."""
        if self._config.get("custom_streams"):
            return None
        return self._streams_by_name([configured.stream.name for configured in catalog.streams])
