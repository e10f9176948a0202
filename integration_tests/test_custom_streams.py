"""Custom streams, preview and suggest-paths through the installed executable against the sandbox."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from source_100ms.tools import protocol

CUSTOM_STREAMS = [
    {
        "name": "room_peers",
        "url": "/v2/active-rooms/{rooms.id}/peers",
        "record_path": "$.peers[*]",
        "primary_key": ["rooms_id", "id"],
    },
    {
        "name": "ended_sessions_last_week",
        "url": "/v2/sessions?after={now-7}&active=false&limit=100",
        "record_path": "$.data[*]",
        "metadata_path": "$.limit",
        "primary_key": ["id"],
    },
]


def _instant(text: str) -> datetime:
    """100ms times carry 0 to 9 fractional digits: cut to microseconds."""
    match = re.match(r"^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$", text)
    fraction = (match.group(2) or "0")[:6].ljust(6, "0")
    return datetime.fromisoformat(f"{match.group(1)}.{fraction}+00:00")


@pytest.fixture(scope="module")
def custom_config(sandbox):
    return {**sandbox.config(), "custom_streams": CUSTOM_STREAMS}


@pytest.fixture(scope="module")
def custom_read(sandbox, custom_config):
    catalog = protocol.discover_catalog(custom_config)
    before = datetime.now(UTC)
    result = protocol.run(
        "read", custom_config, catalog=protocol.configured_catalog(catalog, ["room_peers", "ended_sessions_last_week"])
    )
    return result, before, datetime.now(UTC)


def test_given_custom_streams_when_discover_then_listed_with_their_keys(custom_config):
    catalog = protocol.discover_catalog(custom_config)
    streams = {s["name"]: s for s in catalog["streams"]}
    assert streams["room_peers"]["source_defined_primary_key"] == [["rooms_id"], ["id"]]
    assert streams["ended_sessions_last_week"]["json_schema"]["properties"]["_metadata"] == {}
    assert "rooms" in streams


def test_given_lookup_over_rooms_when_read_then_exactly_the_active_room_peers_and_no_rooms(custom_read, sandbox):
    result, _, _ = custom_read
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.errors() == []
    peers = sorted([r["rooms_id"], r["id"]] for r in result.records("room_peers"))
    expected = sorted(sandbox.ground_truth()["active_room_peers"])
    assert expected, "the sandbox has no active room peers: the comparison would prove nothing"
    assert peers == expected
    # Rooms were read to look the ids up, but the rooms stream was not selected: none emitted.
    assert result.records("rooms") == []


def test_given_now_minus_7_when_read_then_ended_sessions_created_in_the_last_7_days(custom_read, sandbox):
    result, before, after = custom_read
    rows = result.records("ended_sessions_last_week")
    ended = [s for s in sandbox.workspace.sessions.objects.values() if not s["active"]]
    certain = {s["id"] for s in ended if _instant(s["created_at"]) >= after - timedelta(days=7)}
    possible = {
        s["id"] for s in ended if _instant(s["created_at"]) >= before - timedelta(days=7) - timedelta(seconds=1)
    }
    read = {r["id"] for r in rows}
    assert certain, "no ended session in the last 7 days: the comparison would prove nothing"
    assert len(read) == len(rows)
    assert certain <= read <= possible
    assert len(read) < len(ended), "the date filter selected every session: it proves nothing"
    assert all(r["_metadata"] == 100 for r in rows)


def test_given_mistake_when_check_then_config_error_names_stream(sandbox):
    config = {**sandbox.config(), "custom_streams": [{"name": "x", "url": "https://example.com/v2/rooms"}]}
    result = protocol.run("check", config)
    statuses = [m["connectionStatus"] for m in result.of_type("CONNECTION_STATUS")]
    assert [s["status"] for s in statuses] == ["FAILED"]
    assert "Custom stream 'x'" in statuses[0]["message"] and "API host" in statuses[0]["message"]
    # A config mistake is an answer, not a crash: exit 0 and no error trace (the protocol's check contract).
    assert result.returncode == 0 and result.errors() == []


def _tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([protocol.executable(), *args], capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def config_file(custom_config, tmp_path_factory) -> str:
    path = Path(tmp_path_factory.mktemp("custom")) / "config.json"
    path.write_text(json.dumps(custom_config))
    return str(path)


def test_given_sandbox_when_preview_then_records_and_requests_without_token(config_file, sandbox):
    done = _tool(
        "preview", "--config", config_file, "--stream", "room_peers", "--stream", "templates", "--limit", "3", "--json"
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    by_stream = {s["stream"]: s for s in out["streams"]}
    assert len(by_stream["templates"]["records"]) == 3
    assert {r["id"] for r in by_stream["templates"]["records"]} <= set(sandbox.ground_truth()["templates"])
    peers = by_stream["room_peers"]
    assert len(peers["records"]) == 3
    truth = {tuple(k) for k in sandbox.ground_truth()["active_room_peers"]}
    assert all((r["rooms_id"], r["id"]) in truth for r in peers["records"])
    urls = [r["url"] for r in peers["requests"]]
    assert urls[0].startswith(f"{sandbox.url}/v2/rooms?")
    assert any(re.search(r"/v2/active-rooms/\w+/peers$", u) for u in urls)
    assert "Authorization" not in done.stdout and "Bearer" not in done.stdout


def test_given_unknown_stream_or_bad_config_when_preview_then_nonzero_with_message(config_file, tmp_path):
    done = _tool("preview", "--config", config_file, "--stream", "nope")
    assert done.returncode != 0 and "no stream named nope" in done.stderr
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({**json.loads(Path(config_file).read_text()), "custom_streams": [{"name": "a", "url": "/v2/{x}"}]})
    )
    done = _tool("preview", "--config", str(bad))
    assert done.returncode != 0 and "unknown macro {x}" in done.stderr


def test_given_sessions_url_when_suggest_paths_then_data_first_and_limit_last_as_metadata(config_file):
    done = _tool(
        "suggest-paths", "--config", config_file, "--url", "/v2/sessions?active=false&after={now-30}", "--json"
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["request"]["status"] == 200 and "after=" in out["request"]["url"]
    best = out["record_paths"][0]
    assert best["path"] == "$.data[*]" and best["kind"] == "array" and best["count"] > 0
    assert {"id", "room_id", "peers"} <= set(best["sample_keys"])
    assert any(c["path"] == "$.data[*].peers[*]" and c["kind"] == "map" for c in out["record_paths"])
    assert {m["path"] for m in out["metadata_paths"]} == {"$.limit", "$.last"}


def test_given_lookup_url_when_suggest_paths_then_map_of_peers_found(config_file):
    done = _tool("suggest-paths", "--config", config_file, "--url", "/v2/active-rooms/{rooms.id}/peers")
    assert done.returncode == 0, done.stderr
    first = next(line for line in done.stdout.splitlines() if line.strip().startswith("1."))
    assert "$.peers[*]" in first and "map of" in first


def test_given_other_host_when_suggest_paths_then_refused_without_request(config_file):
    done = _tool("suggest-paths", "--config", config_file, "--url", "https://example.com/v2/rooms")
    assert done.returncode != 0 and "not on the configured API host" in done.stderr
