"""The `source-100ms` executable: the Airbyte protocol commands and the project's own tools.

The speed layer (`source_100ms.speedups`) is installed here, before the CDK is imported, and only here:
importing the package installs nothing. `SOURCE_100MS_SPEEDUPS=0` runs without it.
"""

from __future__ import annotations

import importlib
import sys
import time

import source_100ms
from source_100ms import speedups

PROTOCOL = {
    "spec": "print the connector's specification (the form of the Airbyte UI)",
    "check": "check a config: credentials, API URL, ids, custom streams (answers FAILED with exit 0 on a bad one)",
    "discover": "list the streams of a config with their schemas",
    "read": "read streams: --config, --catalog (see `catalog`), optional --state",
}
TOOLS = {
    "catalog": ("source_100ms.tools.catalog", "write a configured catalog from discover, for read"),
    "preview": ("source_100ms.tools.preview", "show the first records of each stream and the requests made"),
    "suggest-paths": ("source_100ms.tools.suggest_paths", "propose record_path and metadata_path for a URL"),
    "sandbox": ("source_100ms.sandbox.cli", "serve a local 100ms workspace and print a config that reads it"),
}
USAGE = (
    "usage: source-100ms <command> [options]   (source-100ms <command> --help for a command's options)\n\n"
    "The Airbyte protocol:\n"
    + "".join(f"  {name:<14} {text}\n" for name, text in PROTOCOL.items())
    + "\nTools:\n"
    + "".join(f"  {name:<14} {text}\n" for name, (_, text) in TOOLS.items())
    + "\nSOURCE_100MS_SPEEDUPS=0 runs without the speed layer.\n"
)


def run() -> None:
    source_100ms.STARTED_AT = time.monotonic()  # before the CDK is imported: `check` answers within 30 s of it
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        sys.exit(0 if args else 2)
    if args[0] not in PROTOCOL and args[0] not in TOOLS:
        print(f"source-100ms: unknown command {args[0]!r}\n\n{USAGE}", end="", file=sys.stderr)
        sys.exit(2)
    if args[0] == "sandbox":  # the sandbox needs neither the CDK nor its speed-ups
        sys.exit(importlib.import_module(TOOLS["sandbox"][0]).main(args[1:]))
    speedups.install()
    if args[0] in TOOLS:
        sys.exit(importlib.import_module(TOOLS[args[0]][0]).main(args[1:]))
    from source_100ms.entrypoint import main

    main(args)


if __name__ == "__main__":
    run()
