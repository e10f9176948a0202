"""source-100ms: an Airbyte source connector for the 100ms REST API v2."""

from source_100ms.source import Source100ms

__all__ = ["Source100ms"]
