"""A source-100ms 0.0.x config keeps working in 1.0.0.

0.0.x kept a pasted management token and a start date at the top level of the config:
`{"management_token": "...", "start_date": "..."}`. 1.0.0 moves the token under `credentials` with the
manifest's `config_normalization_rules`; the CDK applies them when the source starts, rewrites the config
file and tells the platform with a CONTROL message, so the stored connection is updated once. These tests
run the `source-100ms` entry point in process, as the platform runs the image, with HTTP mocked.
"""

from __future__ import annotations

import json
import sys

import jsonschema
import pytest

from source_100ms import run, speedups
from source_100ms.source import Source100ms, load_manifest
from unit_tests.fake_api import API, FakeApi, query
from unit_tests.helpers import oid

OLD_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.old-0.0.x-token.signature"
OLD_CONFIG = {"management_token": OLD_TOKEN, "start_date": "2024-03-01T00:00:00Z"}
MIGRATED = {
    "credentials": {"auth_type": "management_token", "management_token": OLD_TOKEN},
    "start_date": "2024-03-01T00:00:00Z",
}


def _launch(monkeypatch, capsys, tmp_path, config: dict, *args: str) -> tuple[list[dict], dict]:
    """Run `source-100ms <args> --config <file>`; return the printed messages and the config file after."""
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    monkeypatch.setattr(sys, "argv", ["source-100ms", *args, "--config", str(config_file)])
    try:
        run.run()
    finally:
        speedups.uninstall()  # the executable installs the speed layer; the other tests run without it
    messages = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return messages, json.loads(config_file.read_text())


def _controls(messages: list[dict]) -> list[dict]:
    return [m["control"] for m in messages if m["type"] == "CONTROL"]


def test_given_0_0_x_config_when_check_then_token_moved_under_credentials_and_platform_told(
    monkeypatch, capsys, tmp_path, requests_mock
):
    route = FakeApi(requests_mock).list("/v2/templates", [{"id": oid(1)}])

    messages, config_after = _launch(monkeypatch, capsys, tmp_path, OLD_CONFIG, "check")

    (control,) = _controls(messages)
    assert control["type"] == "CONNECTOR_CONFIG"
    assert control["connectorConfig"]["config"] == MIGRATED
    assert config_after == MIGRATED
    statuses = [m["connectionStatus"]["status"] for m in messages if m["type"] == "CONNECTION_STATUS"]
    assert statuses == ["SUCCEEDED"]
    assert route.called
    assert {r.headers["Authorization"] for r in route.request_history} == {f"Bearer {OLD_TOKEN}"}


def test_given_0_0_x_config_when_read_sessions_then_token_sent_and_start_date_applied(
    monkeypatch, capsys, tmp_path, requests_mock
):
    session = {
        "id": oid(7),
        "room_id": oid(70),
        "active": False,
        "created_at": "2024-03-02T10:00:00Z",
        "updated_at": "2024-03-02T11:00:00Z",
        "peers": {},
    }
    route = FakeApi(requests_mock).list("/v2/sessions", lambda q: [session] if q.get("active") == ["false"] else [])
    catalog = {
        "streams": [
            {
                "stream": {"name": "sessions", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                "sync_mode": "full_refresh",
                "destination_sync_mode": "overwrite",
            }
        ]
    }
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))

    messages, _ = _launch(
        monkeypatch, capsys, tmp_path, OLD_CONFIG, "read", "--catalog", str(tmp_path / "catalog.json")
    )

    assert [m["record"]["data"]["id"] for m in messages if m["type"] == "RECORD"] == [session["id"]]
    assert len(_controls(messages)) == 1
    assert {r.headers["Authorization"] for r in route.request_history} == {f"Bearer {OLD_TOKEN}"}
    # `after` is the start date minus the 13 hours a session can still change after it was created, in the
    # millisecond form 100ms documents.
    assert {query(r)["after"][0] for r in route.request_history} == {"2024-02-29T11:00:00.000Z"}


def test_given_migrated_config_then_it_matches_the_spec():
    spec = load_manifest()["spec"]["connection_specification"]

    jsonschema.validate(MIGRATED, spec)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(OLD_CONFIG, spec)


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(MIGRATED, id="already-migrated"),
        pytest.param(
            {"credentials": {"auth_type": "app_credentials", "app_access_key": "k" * 24, "app_secret": "s"}},
            id="app-credentials",
        ),
    ],
)
def test_given_1_0_config_when_source_starts_then_config_unchanged_and_no_control_message(capsys, config):
    source = Source100ms(config=config)

    assert source._config == config  # the config every stream is built from
    assert "CONTROL" not in capsys.readouterr().out


def test_given_app_credentials_and_a_stale_top_level_token_then_app_credentials_win(capsys):
    credentials = {"auth_type": "app_credentials", "app_access_key": "k" * 24, "app_secret": "s"}

    source = Source100ms(config={"credentials": credentials, "management_token": OLD_TOKEN})

    assert source._config == {"credentials": credentials}
    control = json.loads(next(line for line in capsys.readouterr().out.splitlines() if "CONTROL" in line))
    assert control["control"]["connectorConfig"]["config"] == {"credentials": credentials}


def test_migration_requests_go_to_the_api_host_only(monkeypatch, capsys, tmp_path, requests_mock):
    """The migrated config has no `api_url`: the token goes to api.100ms.live, nowhere else."""
    route = FakeApi(requests_mock).list("/v2/templates", [{"id": oid(1)}])

    _launch(monkeypatch, capsys, tmp_path, OLD_CONFIG, "check")

    assert all(r.url.startswith(f"{API}/v2/") for r in route.request_history)
    assert requests_mock.request_history == route.request_history
