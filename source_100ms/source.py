"""The source: the declarative manifest, loaded from the package."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airbyte_cdk.models import AirbyteStateMessage, ConfiguredAirbyteCatalog
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.utils.yaml_loader import safe_load_yaml

MANIFEST_PATH = Path(__file__).with_name("manifest.yaml")


def load_manifest() -> dict[str, Any]:
    with MANIFEST_PATH.open() as manifest:
        return safe_load_yaml(manifest)


class Source100ms(ConcurrentDeclarativeSource):
    """source-100ms: every stream is described in manifest.yaml."""

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
