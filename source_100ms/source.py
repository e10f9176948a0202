"""The source: the declarative manifest, loaded from the package."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    Status,
)
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from airbyte_cdk.utils.yaml_loader import safe_load_yaml

from source_100ms import config_checks, custom_streams
from source_100ms.components import shared_pages

MANIFEST_PATH = Path(__file__).with_name("manifest.yaml")


def load_manifest() -> dict[str, Any]:
    with MANIFEST_PATH.open() as manifest:
        return safe_load_yaml(manifest)


class Source100ms(ConcurrentDeclarativeSource):
    """source-100ms: every stream is described in manifest.yaml, plus the config's `custom_streams`.

    Custom streams are added to the manifest dict here, before the CDK builds any stream, so they are
    discovered and read like the built-in ones. Datetime macros are expanded once, with the instant the source
    is built, so every request of a read uses the same `{now}`. A mistake in `custom_streams` is kept and raised
    as a config error by `check`, `discover` and `read`, so that the platform shows it at the form.
    """

    def __init__(
        self,
        catalog: ConfiguredAirbyteCatalog | None = None,
        config: Mapping[str, Any] | None = None,
        state: list[AirbyteStateMessage] | None = None,
        config_path: str | None = None,
    ) -> None:
        manifest = load_manifest()
        self.custom_streams_error: AirbyteTracedException | None = None
        try:
            manifest = custom_streams.add_custom_streams(manifest, config or {}, custom_streams.read_instant())
        except AirbyteTracedException as error:
            self.custom_streams_error = error
        super().__init__(
            catalog=catalog or ConfiguredAirbyteCatalog(streams=[]),
            config=config or {},
            state=state or [],
            source_config=manifest,
            config_path=config_path,
        )

    def _raise_custom_streams_error(self) -> None:
        if self.custom_streams_error is not None:
            raise self.custom_streams_error

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        self._raise_custom_streams_error()
        status = super().check(logger, config)
        if status.status != Status.SUCCEEDED:
            return status
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

    def streams(self, config: Mapping[str, Any]) -> list[Any]:
        # The list pages several streams read are fetched once per build, so once per read.
        with shared_pages.one_store_per_build():
            return super().streams(config)

    def discover(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteCatalog:
        self._raise_custom_streams_error()
        return super().discover(logger, config)

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage]:
        self._raise_custom_streams_error()
        if any(s.stream.name == "analytics_events" for s in catalog.streams):
            warning = config_checks.analytics_start_warning(config)
            if warning:
                logger.warning(warning)
        yield from super().read(logger, config, catalog, state)
