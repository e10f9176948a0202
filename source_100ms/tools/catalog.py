"""`source-100ms catalog`: a configured catalog from `discover`, so that `read` can be run by hand.

`read` needs a *configured* catalog (each stream with a sync mode and a destination sync mode); `discover` prints
the catalog of available streams. This writes the first from the second: every stream, or those `--streams`
names, incremental where the stream supports it with `--incremental` (its default cursor and primary key), full
refresh otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from airbyte_cdk.models.airbyte_protocol_serializers import AirbyteCatalogSerializer

from source_100ms.tools.preview import build_source, error_text, load_config, quiet_cdk_logs


def configured(catalog: dict[str, Any], names: list[str] | None, incremental: bool) -> dict[str, Any]:
    streams = catalog["streams"]
    if names:
        known = {s["name"] for s in streams}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(
                f"no stream named {', '.join(unknown)}; streams of this config: {', '.join(sorted(known))}"
            )
        streams = [s for s in streams if s["name"] in names]
    out = []
    for stream in streams:
        incremental_here = incremental and "incremental" in stream.get("supported_sync_modes", [])
        out.append(
            {
                "stream": stream,
                "sync_mode": "incremental" if incremental_here else "full_refresh",
                "destination_sync_mode": "append_dedup" if incremental_here else "overwrite",
                "cursor_field": (stream.get("default_cursor_field") or []) if incremental_here else [],
                "primary_key": stream.get("source_defined_primary_key") or [],
            }
        )
    return {"streams": out}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="source-100ms catalog",
        description="Write a configured catalog (the --catalog of `read`) from what `discover` finds for a config.",
    )
    parser.add_argument("--config", required=True, help="connector config JSON file")
    parser.add_argument("--streams", default="", help="comma-separated stream names (default: every stream)")
    parser.add_argument(
        "--incremental", action="store_true", help="incremental sync where a stream supports it (else full refresh)"
    )
    parser.add_argument("--out", default="-", help="file to write (default: standard output)")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    quiet_cdk_logs()
    config = load_config(args.config)
    try:
        source = build_source(config)
        discovered = source.discover(source.logger, config)
        catalog = AirbyteCatalogSerializer.dump(discovered)
        names = [n.strip() for n in args.streams.split(",") if n.strip()]
        result = configured(catalog, names or None, args.incremental)
    except Exception as error:  # a config error or an unknown stream: say what to fix
        print(f"error: {error_text(error) if not isinstance(error, ValueError) else error}", file=sys.stderr)
        return 2
    text = json.dumps(result, indent=2)
    if args.out == "-":
        print(text)
    else:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")
        print(f"wrote {args.out}: {len(result['streams'])} stream(s)", file=sys.stderr)
    return 0
