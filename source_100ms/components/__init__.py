"""Python components the declarative manifest cannot express by itself.

Each module holds one concern; the manifest refers to them by their full class names.
"""

from source_100ms.components.auth import ManagementTokenAuthenticator
from source_100ms.components.decoder import ParsedBodyDecoder
from source_100ms.components.error_handler import ManagementApiErrorHandler
from source_100ms.components.extractors import MapValuesExtractor, TopLevelListExtractor
from source_100ms.components.shared_pages import SharedPagesRequester
from source_100ms.components.state import UnreadableStateReset
from source_100ms.components.transformations import (
    PartitionFieldsTransformation,
    PeerDurationTransformation,
    TimestampPrecisionTransformation,
)

__all__ = [
    "ManagementApiErrorHandler",
    "ManagementTokenAuthenticator",
    "MapValuesExtractor",
    "ParsedBodyDecoder",
    "PartitionFieldsTransformation",
    "PeerDurationTransformation",
    "SharedPagesRequester",
    "TimestampPrecisionTransformation",
    "TopLevelListExtractor",
    "UnreadableStateReset",
]
