"""Security, checked on what really happens: the requests another host receives, the records really emitted.

The token never leaves the API's origin, whatever the config says (control characters, odd hosts, traversal
ids); no secret 100ms puts in its answers reaches a record; no secret or token reaches any output.
"""

from __future__ import annotations

import json
import re

import pytest

from source_100ms.components.transformations import is_secret_name
from source_100ms.sandbox import CountingServer, Sandbox
from source_100ms.tools import protocol

JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")


@pytest.fixture(scope="module")
def strict_sandbox():
    with Sandbox(seed=7, scale="small", strict_time_format=True) as running:
        yield running


@pytest.fixture()
def other_host():
    """A loopback host that is not the API: it must receive nothing."""
    with CountingServer() as host:
        yield host


def _status(run) -> list[dict]:
    return [m["connectionStatus"] for m in run.of_type("CONNECTION_STATUS")]


# ------------------------------------------------------------------------------------------ the token's origin


@pytest.mark.parametrize(
    "url",
    ["/\t//{host}/x", "/\n//{host}/x", "/\r//{host}/x", "/\t/\t/{host}/x", "//{host}/x", "http://{host}/v2/rooms",
     "/v2/rooms/../../..//{host}/x", "\\\\{host}/x", "/%2e%2e/%2e%2e//{host}/x"],
)  # fmt: skip
def test_given_a_custom_url_aimed_elsewhere_when_check_then_failed_and_the_other_host_gets_nothing(
    strict_sandbox, other_host, url
):
    target = other_host.url.removeprefix("http://")
    config = {**strict_sandbox.config(), "custom_streams": [{"name": "leak", "url": url.format(host=target)}]}

    run = protocol.run("check", config)

    assert [s["status"] for s in _status(run)] == ["FAILED"]
    assert "Custom stream 'leak'" in _status(run)[0]["message"]
    assert other_host.requests == 0 and other_host.connections == 0


@pytest.mark.parametrize(
    "api_url",
    ["https://169.254.169.254", "https://2130706433", "https://api.100ms.live@{host}", "http://api.100ms.live",
     "https://api.100ms.live.evil.example", "https://{host}@api.100ms.live", "ftp://127.0.0.1", "https://api.100ms.live/v2",
     "http://[::ffff:169.254.169.254]"],
)  # fmt: skip
@pytest.mark.parametrize("command", ["check", "preview", "suggest-paths"])
def test_given_an_api_url_that_is_not_100ms_or_loopback_when_any_tool_runs_then_refused_before_any_request(
    strict_sandbox, other_host, tmp_path, api_url, command
):
    config = {**strict_sandbox.config(), "api_url": api_url.format(host=other_host.url.removeprefix("http://"))}
    if command == "check":
        run = protocol.run("check", config)
        assert [s["status"] for s in _status(run)] == ["FAILED"]
        assert "api_url" in _status(run)[0]["message"]
    else:
        (tmp_path / "config.json").write_text(json.dumps(config))
        args = ["--config", str(tmp_path / "config.json")] + (
            ["--url", "/v2/rooms"] if command == "suggest-paths" else []
        )
        done = protocol.tool(command, *args)
        assert done.returncode != 0 and "api_url" in done.stderr
    assert other_host.requests == 0


@pytest.mark.parametrize("ids", [["../../__admin/stats?x="], ["a/b"], ["..", "x"], ["6311%2F..%2F.."]])
def test_given_room_ids_that_are_not_100ms_ids_when_check_then_config_error_and_no_request(strict_sandbox, ids):
    strict_sandbox.reset_counts()
    run = protocol.run("check", {**strict_sandbox.config(), "room_ids": ids})
    assert [s["status"] for s in _status(run)] == ["FAILED"]
    assert "room_ids" in _status(run)[0]["message"]
    assert [k for k in strict_sandbox.request_counts() if k.startswith("GET")] == []


# ------------------------------------------------------------------------------------------ secrets


@pytest.fixture(scope="module")
def read_with_secrets(strict_sandbox):
    """Every stream, and custom streams over endpoints that hold secrets, read in debug mode."""
    custom = [
        {"name": "stream_keys", "url": "/v2/stream-keys/room/{rooms.id}", "record_path": "$.data[*]"},
        {"name": "template_recordings", "url": "/v2/templates/{templates.id}/recordings", "record_path": "$[*]"},
        {"name": "whole_templates", "url": "/v2/templates?limit=100"},
    ]
    config = {**strict_sandbox.config(), "custom_streams": custom}
    catalog = protocol.discover_catalog(config)
    run = protocol.run("read", config, catalog=protocol.configured_catalog(catalog), debug=True)
    return catalog, run


def test_the_sandbox_answers_with_every_documented_secret(strict_sandbox):
    secrets = strict_sandbox.secrets()
    kinds = {s.split("-")[1] for s in secrets}
    assert len(secrets) >= 20 and len(kinds) >= 4, kinds


def test_given_secrets_in_100ms_answers_when_read_then_no_record_and_no_output_holds_one(
    read_with_secrets, strict_sandbox
):
    catalog, run = read_with_secrets
    assert run.returncode == 0 and run.errors() == [], run.errors()
    assert "Making outbound API request" in run.stdout_text + run.stderr, "debug logs were not on"
    output = run.stdout_text + run.stderr
    leaked = [s for s in strict_sandbox.secrets() if s in output]
    assert leaked == []
    assert strict_sandbox.config()["credentials"]["app_secret"] not in output
    assert JWT.findall(output) == []


def test_given_secrets_in_100ms_answers_when_read_then_no_record_holds_a_secret_named_field(read_with_secrets):
    _, run = read_with_secrets

    def names(value, path=""):
        if isinstance(value, dict):
            for key, item in value.items():
                yield f"{path}.{key}", key
                yield from names(item, f"{path}.{key}")
        elif isinstance(value, list):
            for item in value:
                yield from names(item, path)

    found = {p for record in run.records() for p, key in names(record) if is_secret_name(key)}
    assert found == set()
    rtmp = [u for r in run.records("templates_destinations") for u in (r.get("rtmpUrls") or [])]
    assert rtmp and all(u.endswith("/<redacted by source-100ms>") for u in rtmp)


def test_given_secrets_when_read_then_the_rest_of_each_record_is_kept(read_with_secrets, strict_sandbox):
    _, run = read_with_secrets
    rooms = {r["id"]: r for r in run.records("rooms")}
    truth = strict_sandbox.workspace.rooms.objects
    with_upload = [i for i, room in truth.items() if (room.get("recording_info") or {}).get("upload_info")]
    assert with_upload, "no room has upload info: the test proves nothing"
    for room_id in with_upload:
        kept = rooms[room_id]["recording_info"]["upload_info"]
        assert (
            "credentials" not in kept
            and kept["location"] == truth[room_id]["recording_info"]["upload_info"]["location"]
        )


def test_no_discovered_schema_declares_a_secret(read_with_secrets):
    catalog, _ = read_with_secrets

    def declared(schema):
        if isinstance(schema, dict):
            for key, sub in (schema.get("properties") or {}).items():
                yield key
                yield from declared(sub)
            for key in ("items", "additionalProperties"):
                yield from declared(schema.get(key))

    for stream in catalog["streams"]:
        assert [k for k in declared(stream["json_schema"]) if is_secret_name(k)] == [], stream["name"]
