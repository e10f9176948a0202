"""The `source-100ms` executable: the Airbyte protocol commands and the project's own tools.

The speed layer (`source_100ms.speedups`) is installed here, before the CDK is imported, and only here:
importing the package installs nothing. `SOURCE_100MS_SPEEDUPS=0` runs without it.
"""

from __future__ import annotations

import importlib
import sys

from source_100ms import speedups

TOOLS = {
    "sandbox": "source_100ms.sandbox.cli",
    "preview": "source_100ms.tools.preview",
    "suggest-paths": "source_100ms.tools.suggest_paths",
}


def run() -> None:
    args = sys.argv[1:]
    if args and args[0] == "sandbox":  # the sandbox needs neither the CDK nor its speed-ups
        sys.exit(importlib.import_module(TOOLS["sandbox"]).main(args[1:]))
    speedups.install()
    if args and args[0] in TOOLS:
        sys.exit(importlib.import_module(TOOLS[args[0]]).main(args[1:]))
    from source_100ms.entrypoint import main

    main(args)


if __name__ == "__main__":
    run()
