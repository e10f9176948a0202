"""source-100ms: an Airbyte source connector for the 100ms REST API v2.

Importing the package changes nothing in the CDK or any other library, and does not import the CDK (the sandbox
runs without it): `Source100ms` is imported on first use. The speed layer is installed by the executable only
(`source_100ms.speedups`).
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["Source100ms"]

# When the process began loading the connector (the executable imports this package before the CDK): `check`
# answers within 30 seconds of it, however long importing the CDK took on a loaded machine.
LOADED_AT = time.monotonic()


def __getattr__(name: str) -> Any:
    if name == "Source100ms":
        from source_100ms.source import Source100ms

        return Source100ms
    raise AttributeError(name)
