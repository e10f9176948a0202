"""A full read of every stream through the installed executable matches the sandbox's ground truth."""

from __future__ import annotations

import collections
import json

import pytest

from source_100ms.tools import protocol

STREAMS = [
    "rooms", "templates", "template_settings", "templates_destinations", "active_room_peers", "sessions",
    "session_peers", "analytics_events", "recordings", "recording_assets", "live_streams", "external_streams",
    "room_codes",
]  # fmt: skip


def _keys(catalog, name):
    return next(s["source_defined_primary_key"] for s in catalog["streams"] if s["name"] == name)


def test_discover_lists_every_stream_with_its_primary_key(catalog):
    assert sorted(s["name"] for s in catalog["streams"]) == sorted(STREAMS)
    assert all(s.get("source_defined_primary_key") for s in catalog["streams"])


@pytest.mark.parametrize("stream", STREAMS)
def test_discover_gives_each_stream_a_typed_schema_holding_its_keys_and_cursor(catalog, stream):
    entry = next(s for s in catalog["streams"] if s["name"] == stream)
    schema = entry["json_schema"]
    assert schema.get("type") == "object" and schema.get("properties"), f"{stream}: {schema}"
    fields = [path[0] for path in entry["source_defined_primary_key"]] + entry.get("default_cursor_field", [])[:1]
    assert [f for f in fields if f not in schema["properties"]] == []


def test_full_read_succeeds_without_errors(full_read):
    result, _ = full_read
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.errors() == []


@pytest.mark.parametrize("stream", STREAMS)
def test_full_read_emits_exactly_the_ground_truth_ids(full_read, catalog, sandbox, stream):
    result, _ = full_read
    read = protocol.primary_key_values(result.records(stream), _keys(catalog, stream))
    expected = sandbox.ground_truth()[stream]
    assert expected, f"the sandbox has no {stream}: the comparison would prove nothing"
    duplicates = [k for k, n in collections.Counter(json.dumps(k) for k in read).items() if n > 1]
    assert duplicates == []
    assert sorted(json.dumps(k) for k in read) == sorted(json.dumps(k) for k in expected)


def test_child_rows_carry_their_parent_ids(full_read, sandbox):
    result, _ = full_read
    sessions = {s["id"]: s for s in sandbox.workspace.sessions.objects.values()}
    for peer in result.records("session_peers"):
        assert peer["room_id"] == sessions[peer["session_id"]]["room_id"]
    assert all(r["template_id"] for r in result.records("templates_destinations"))
    assert all(r["template_id"] for r in result.records("template_settings"))
    assert all(r["room_id"] for r in result.records("active_room_peers"))
    assert all(r["room_id"] == r["data"]["room_id"] for r in result.records("analytics_events"))


def test_records_conform_to_their_schemas(full_read, catalog):
    import jsonschema

    result, _ = full_read
    schemas = {s["name"]: s["json_schema"] for s in catalog["streams"]}
    checker = jsonschema.FormatChecker()
    for stream, rows in result.records_by_stream().items():
        validator = jsonschema.Draft7Validator(schemas[stream], format_checker=checker)
        for row in rows:
            errors = sorted(validator.iter_errors(row), key=str)
            assert not errors, f"{stream}: {errors[0].message} in {json.dumps(row)[:300]}"


def test_the_executable_installs_the_speed_layer_unless_switched_off(tmp_path):
    """Whichever way the suite runs (make test runs it with SOURCE_100MS_SPEEDUPS=0 too), the switch really works."""
    import os
    import subprocess

    code = "import sys; from source_100ms import run, speedups; speedups.install(); print(speedups.installed())"
    for value, expected in (("0", "False"), ("1", "True")):
        done = subprocess.run(
            [protocol.executable().replace("source-100ms", "python"), "-c", code],
            capture_output=True, text=True, env={**os.environ, "SOURCE_100MS_SPEEDUPS": value}, timeout=60,
        )  # fmt: skip
        assert done.stdout.strip() == expected, done.stderr
