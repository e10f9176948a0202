"""source-100ms: an Airbyte source connector for the 100ms REST API v2.

Importing the package changes nothing in the CDK or any other library, and does not import the CDK (the sandbox
runs without it): `Source100ms` is imported on first use. The speed layer is installed by the executable only
(`source_100ms.speedups`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Source100ms"]

# Set by the executable (`run.run`) as it starts, before it imports the CDK: `check` answers within 30 seconds of
# it, however long start-up took on a loaded machine. None in a process that imports the package (tests, Airbyte's
# runner): there `check` waits its whole 25 seconds.
STARTED_AT: float | None = None


def __getattr__(name: str) -> Any:
    if name == "Source100ms":
        from source_100ms.source import Source100ms

        return Source100ms
    raise AttributeError(name)
