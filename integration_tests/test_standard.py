"""Airbyte's standard connector tests (`airbyte_cdk.test.standard_tests`) against the local 100ms sandbox.

`airbyte-cdk connector test` runs `SourceTestSuiteBase` for a `language:python` source, with the scenarios of
acceptance-test-config.yml: spec, check (a good and a bad secret), discover, a full-refresh read of every
stream in configured_catalog.json with every record validated against its discovered schema (strictness
`high`: the schema check cannot be switched off), and a read with a bad catalog. This module runs the same
suite, with three differences, each for a reason:

- the configs name the sandbox at a fixed port (`source-100ms sandbox --port 48100 --seed 7`); here a sandbox
  with that seed is started on a free port and its address replaces `api_url`, so test runs side by side do
  not collide;
- the connector is built with the scenario's config: `Source100ms` is a `ConcurrentDeclarativeSource`, which
  reads with the config it was constructed with, and the suite's default factory constructs it without one;
- the Docker image tests are not collected: there is no Docker engine here, and a container could not reach a
  sandbox on the host's loopback. test_packaging.py runs the Dockerfile's steps instead.

The standard tests do not collect the `incremental` section, nor compare records with expected_records.jsonl;
the tests at the end of the class do both.
"""

from __future__ import annotations

import atexit
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from airbyte_cdk.models import AirbyteStateMessageSerializer, ConfiguredAirbyteCatalogSerializer, Type
from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.standard_tests import ConnectorTestScenario, SourceTestSuiteBase
from airbyte_cdk.utils.datetime_helpers import ab_datetime_parse
from isodate import parse_duration

from source_100ms.sandbox import Sandbox
from source_100ms.source import Source100ms

ROOT = Path(__file__).resolve().parents[1]
ACCEPTANCE = yaml.safe_load((ROOT / "acceptance-test-config.yml").read_text())["acceptance_tests"]
INCREMENTAL = ACCEPTANCE["incremental"]["tests"][0]
SEED = 7
# expected_records.jsonl comes from a sandbox frozen at this time: its data depends on the seed and on `now`.
EXPECTED_RECORDS_NOW = "2026-06-01T12:00:00Z"
# The streams recorded there: not analytics events (the connector asks for the last 30 days by the wall clock, so
# they cannot be recorded once for all), nor sessions and their peers (3,000 records, 2 MB: the ground-truth
# comparison in test_full_sync.py covers them).
EXPECTED_STREAMS = [
    "rooms", "templates", "template_settings", "templates_destinations", "active_room_peers", "recordings",
    "recording_assets", "live_streams", "external_streams", "room_codes",
]  # fmt: skip

# The command each standard test runs for a scenario.
COMMAND_OF_TEST = {
    "test_check": "check",
    "test_config_matches_spec": "spec",
    "test_discover": "discover",
    "test_basic_read": "read",
    "test_fail_read_with_bad_catalog": "read",
}

_sandbox: Sandbox | None = None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize each standard test with the scenarios that run its command.

    The CDK's hook (`airbyte_cdk.test.standard_tests.pytest_hooks`) gives every test every scenario and skips
    the pairs that do not apply (the bad-secret config is not read, nor discovered: a scenario expecting
    failure skips discover). Those pairs test nothing, so they are not generated, and a skip means something.
    """
    if "scenario" not in metafunc.fixturenames:
        return
    command = COMMAND_OF_TEST[metafunc.function.__name__]
    scenarios = [
        s
        for s in metafunc.cls.get_scenarios()
        if s.runs(command) and not (command == "discover" and s.expected_outcome.expect_exception())
    ]
    metafunc.parametrize("scenario", scenarios, ids=[s.id for s in scenarios])


def live_sandbox() -> Sandbox:
    """One sandbox for the module, started when pytest collects the scenarios (they need its address)."""
    global _sandbox
    if _sandbox is None:
        _sandbox = Sandbox(seed=SEED, scale="small").start()
        atexit.register(_sandbox.stop)
    return _sandbox


def on_sandbox(config: dict[str, Any], sandbox: Sandbox) -> dict[str, Any]:
    assert config["api_url"].startswith("http://127.0.0.1:"), "the acceptance configs are meant for the sandbox"
    return {**config, "api_url": sandbox.url}


def load_json(relative: str) -> Any:
    return json.loads((ROOT / relative).read_text())


def read_with(config, catalog: dict, state: list | None = None) -> EntrypointOutput:
    configured = ConfiguredAirbyteCatalogSerializer.load(catalog)
    state_messages = [AirbyteStateMessageSerializer.load(s) for s in state] if state else None
    source = Source100ms(configured, config, state_messages)
    return read(source, config, configured, state_messages)


def records_by_stream(output: EntrypointOutput) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for message in output.records:
        out.setdefault(message.record.stream, []).append(message.record.data)
    return out


def final_states(output: EntrypointOutput) -> dict[str, dict]:
    states = {}
    for message in output.state_messages:
        stream_state = message.state.stream
        states[stream_state.stream_descriptor.name] = AirbyteStateMessageSerializer.dump(message.state)
    return states


def cursor_values(state: dict) -> list[str]:
    """Every cursor value of a stream state: the plain form, or the per-partition and global forms (`states`
    per partition, the global cursor under `state`; `parent_state` and the lookback are not cursor values)."""
    stream_state = state["stream"]["stream_state"]
    if "states" in stream_state or isinstance(stream_state.get("state"), dict):
        values = [v for p in stream_state.get("states", []) for v in p["cursor"].values()]
        return values + list((stream_state.get("state") or {}).values())
    return [v for k, v in stream_state.items() if k not in ("lookback_window", "use_global_cursor", "parent_state")]


def lookback_of(stream: str) -> timedelta:
    """The `lookback_window` the manifest gives a stream's cursor (zero without one): how far before its state a
    second read may emit records again, on purpose (analytics events' late arrivals)."""
    manifest = ManifestReferenceResolver().preprocess_manifest(yaml.safe_load((ROOT / "manifest.yaml").read_text()))
    definition = manifest["definitions"][f"{stream}_stream"]
    windows: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            windows.extend(v for k, v in node.items() if k == "lookback_window" and isinstance(v, str))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(definition)
    return max((parse_duration(w) for w in windows), default=timedelta(0))


class TestSource100msStandards(SourceTestSuiteBase):
    """The CDK's source suite, on the sandbox."""

    connector = Source100ms

    # No Docker engine: see the module docstring (test_packaging.py covers the image's build steps).
    test_docker_image_build_and_spec = None
    test_docker_image_spec_backward_compatibility = None
    test_docker_image_build_and_check = None
    test_docker_image_build_and_config_matches_spec = None
    test_docker_image_build_and_discover = None
    test_docker_image_build_and_read = None

    @classmethod
    def get_connector_root_dir(cls) -> Path:
        return ROOT

    @classmethod
    def get_scenarios(cls) -> list[ConnectorTestScenario]:
        sandbox = live_sandbox()
        return [
            scenario.model_copy(
                update={
                    "config_dict": on_sandbox(
                        scenario.get_config_dict(connector_root=ROOT, empty_if_missing=False), sandbox
                    )
                }
            )
            for scenario in super().get_scenarios()
        ]

    @classmethod
    def create_connector(cls, scenario: ConnectorTestScenario | None) -> Source100ms:
        config = scenario.get_config_dict(connector_root=ROOT, empty_if_missing=True) if scenario else {}
        return Source100ms(config=config)

    # ------------------------------------------------------------------ beyond the standard suite

    def test_scenarios_cover_every_standard_section(self):
        scenarios = {s.id: set(s.sections) for s in self.get_scenarios()}
        assert scenarios == {
            "sample_config": {"spec", "connection", "discovery", "basic_read", "full_refresh"},
            "invalid_config": {"spec", "connection"},
        }

    def test_basic_read_catalog_lists_every_discovered_stream(self):
        """So the basic read (records in every stream, each valid against its schema) covers all of them."""
        discovered = {s["name"] for s in _discovered_catalog()["streams"]}
        configured = {s["stream"]["name"] for s in load_json("integration_tests/configured_catalog.json")["streams"]}
        assert configured == discovered

    def test_incremental_fixtures_cover_every_incremental_stream(self):
        incremental = {
            s["name"] for s in _discovered_catalog()["streams"] if "incremental" in s["supported_sync_modes"]
        }
        configured = {
            s["stream"]["name"]
            for s in load_json(INCREMENTAL["configured_catalog_path"])["streams"]
            if s["sync_mode"] == "incremental"
        }
        future = {s["stream"]["stream_descriptor"]["name"] for s in load_json(_future_state_path())}
        assert incremental, "no stream supports incremental reads: the incremental tests would prove nothing"
        assert configured == incremental
        assert future == incremental

    def test_incremental_second_read_from_state_emits_no_record_before_the_cursor(self):
        """CAT's two sequential reads: the second read, from the first read's state, goes no further back."""
        config = on_sandbox(load_json(INCREMENTAL["config_path"]), live_sandbox())
        catalog = _incremental_catalog()

        first = read_with(config, catalog)
        assert not first.errors, first.get_formatted_error_message()
        first_records = records_by_stream(first)
        states = final_states(first)
        streams = [s["stream"]["name"] for s in catalog["streams"]]
        assert sorted(states) == sorted(streams)
        assert all(first_records.get(name) for name in streams), "a stream read nothing: nothing to compare"

        second = read_with(config, catalog, state=list(states.values()))

        assert not second.errors, second.get_formatted_error_message()
        second_records = records_by_stream(second)
        for configured in catalog["streams"]:
            name = configured["stream"]["name"]
            (cursor_field,) = configured["cursor_field"]
            lowest = min(ab_datetime_parse(v) for v in cursor_values(states[name])) - lookback_of(name)
            older = [r for r in second_records.get(name, []) if ab_datetime_parse(r[cursor_field]) < lowest]
            assert older == [], f"{name}: the second read emitted records older than its state less its lookback"
            # Nothing changed in the sandbox between the reads: at most the records at the cursor come again.
            assert len(second_records.get(name, [])) < len(first_records[name]), name

    def test_incremental_read_from_future_state_warns_and_reads_from_the_start(self):
        """abnormal_state.json holds cursors in 2099: taken for a mistake, dropped with a warning, read from start."""
        config = on_sandbox(load_json(INCREMENTAL["config_path"]), live_sandbox())
        catalog = _incremental_catalog()
        future = load_json(_future_state_path())

        output = read_with(config, catalog, state=future)

        assert not output.errors, output.get_formatted_error_message()
        read = records_by_stream(output)
        for configured in catalog["streams"]:
            assert read.get(configured["stream"]["name"]), f"{configured['stream']['name']} read nothing"
        warnings = [m.log.message for m in output.logs if "in the future, dropped" in m.log.message]
        assert len(warnings) >= len(catalog["streams"])
        for name, state in final_states(output).items():
            assert max(cursor_values(state)) < "2099-01-01", f"{name}: the future state was kept"

    def test_read_of_a_frozen_sandbox_matches_expected_records(self):
        """expected_records.jsonl: every record of a read of a sandbox frozen in time, as CAT's expect_records."""
        expected = _expected_records()
        streams = sorted(expected)
        assert streams == sorted(EXPECTED_STREAMS)
        with Sandbox(seed=SEED, scale="small", now=EXPECTED_RECORDS_NOW) as frozen:
            output = read_with(
                on_sandbox(load_json(INCREMENTAL["config_path"]), frozen), _full_refresh_catalog(streams)
            )
        assert not output.errors, output.get_formatted_error_message()
        read_back = records_by_stream(output)
        for stream in streams:
            got = sorted(orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in read_back.get(stream, []))
            want = sorted(orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in expected[stream])
            assert got == want, f"{stream} differs from expected_records.jsonl (regenerate: python {__file__} --write)"


def _future_state_path() -> str:
    return INCREMENTAL["future_state"]["future_state_path"]


def _discovered_catalog() -> dict:
    from source_100ms.tools import protocol

    return protocol.discover_catalog(on_sandbox(load_json(INCREMENTAL["config_path"]), live_sandbox()))


def _incremental_catalog() -> dict:
    catalog = load_json(INCREMENTAL["configured_catalog_path"])
    return {"streams": [s for s in catalog["streams"] if s["sync_mode"] == "incremental"]}


def _full_refresh_catalog(streams: list[str]) -> dict:
    catalog = load_json(INCREMENTAL["configured_catalog_path"])
    chosen = [s for s in catalog["streams"] if s["stream"]["name"] in streams]
    return {
        "streams": [
            {**s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite", "cursor_field": []} for s in chosen
        ]
    }


def _expected_records() -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for line in (ROOT / "integration_tests" / "expected_records.jsonl").read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            out.setdefault(row["stream"], []).append(row["data"])
    return out


def write_expected_records() -> None:
    """Regenerate expected_records.jsonl from a read of EXPECTED_STREAMS."""
    streams = EXPECTED_STREAMS
    with Sandbox(seed=SEED, scale="small", now=EXPECTED_RECORDS_NOW) as frozen:
        output = read_with(
            on_sandbox(load_json("integration_tests/sample_config.json"), frozen), _full_refresh_catalog(streams)
        )
    if output.errors:
        raise SystemExit(output.get_formatted_error_message())
    lines = [
        orjson.dumps(
            {"stream": m.record.stream, "data": m.record.data, "emitted_at": 1780315200000}, option=orjson.OPT_SORT_KEYS
        )
        for m in output.get_message_by_types([Type.RECORD])
    ]
    (ROOT / "integration_tests" / "expected_records.jsonl").write_bytes(b"\n".join(sorted(lines)) + b"\n")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit(f"usage: python {__file__} --write   (regenerates integration_tests/expected_records.jsonl)")
    write_expected_records()
