"""Python components the declarative manifest cannot express by itself.

Each module holds one concern; the manifest refers to them by their full class names. The modules import the
CDK, its dependencies and each other only: `make manifest-only` joins them into the one `components.py` that
Airbyte's `source-declarative-manifest` runner loads.
"""

from source_100ms.components.auth import ManagementTokenAuthenticator
from source_100ms.components.custom import (
    CustomStreamRequester,
    CustomStreamSchemaLoader,
    LookupFieldsTransformation,
    LookupPartitionRouter,
)
from source_100ms.components.decoder import ParsedBodyDecoder
from source_100ms.components.error_handler import ManagementApiErrorHandler
from source_100ms.components.extractors import JsonPathRecordExtractor, MapValuesExtractor, TopLevelListExtractor
from source_100ms.components.pagination import ManagementApiPagination
from source_100ms.components.requester import ManagementApiRequester
from source_100ms.components.state import CursorWindowFilter, UnreadableStateReset
from source_100ms.components.transformations import (
    PartitionFieldsTransformation,
    PeerDurationTransformation,
    SecretRedaction,
    TimestampPrecisionTransformation,
)

__all__ = [
    "CursorWindowFilter",
    "CustomStreamRequester",
    "CustomStreamSchemaLoader",
    "JsonPathRecordExtractor",
    "LookupFieldsTransformation",
    "LookupPartitionRouter",
    "ManagementApiErrorHandler",
    "ManagementApiPagination",
    "ManagementApiRequester",
    "ManagementTokenAuthenticator",
    "MapValuesExtractor",
    "ParsedBodyDecoder",
    "PartitionFieldsTransformation",
    "PeerDurationTransformation",
    "SecretRedaction",
    "TimestampPrecisionTransformation",
    "TopLevelListExtractor",
    "UnreadableStateReset",
]
