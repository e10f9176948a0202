"""source-100ms: an Airbyte source connector for the 100ms REST API v2."""

from source_100ms import attribute_docs

# Before the CDK is imported: it builds its protocol serializers at import (see attribute_docs).
attribute_docs.apply()

from source_100ms.source import Source100ms  # noqa: E402

__all__ = ["Source100ms"]
