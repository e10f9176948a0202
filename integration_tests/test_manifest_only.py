"""The manifest-only build: derived from the package, and run by the CDK's own `source-declarative-manifest`.

Airbyte runs manifest-only connectors with `airbyte/source-declarative-manifest` (the CDK's
`source-declarative-manifest` executable) from `manifest.yaml` and one `components.py`. These tests build that
folder from the package (`make manifest-only`), check that it says what the package says, and run it against
the sandbox the way Airbyte's runner does (`--manifest-path`, `--components-path`, `AIRBYTE_ENABLE_UNSAFE_CODE`):
`check`, `discover`, and a read of every stream, custom streams with lookups included, compared id for id with
the package's own executable on the same sandbox. The runner gets only what its image has: the CDK and the
CDK's dependencies (the one library this package adds, jsonpath-rfc9535, is hidden from it).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from source_100ms.sandbox import Sandbox
from source_100ms.tools import manifest_only, protocol

ROOT = Path(__file__).resolve().parents[1]
CUSTOM_STREAMS = [
    {"name": "room_peers", "url": "/v2/active-rooms/{rooms.id}/peers", "record_path": "$.peers[*]",
     "primary_key": ["rooms_id", "id"]},
    {"name": "polls", "url": "/v2/polls/{rooms.polls}", "primary_key": ["id"]},
    {"name": "poll_results", "url": "/v2/polls/{polls.id}/results", "record_path": "$.results[*]",
     "primary_key": ["id"]},
    {"name": "ended_sessions_last_week", "url": "/v2/sessions?active=false&after={now-7}&limit=100",
     "datetime_format": "%Y-%m-%dT%H:%M:%S.000Z", "record_path": "$.data[*]", "primary_key": ["id"]},
]  # fmt: skip


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Path:
    return manifest_only.build(tmp_path_factory.mktemp("manifest-only") / "source-100ms")


def _runner() -> str:
    return str(Path(sys.executable).with_name("source-declarative-manifest"))


def run_runner(build: Path, command: str, config: dict, tmp: Path, catalog: dict | None = None) -> protocol.Run:
    """`source-declarative-manifest <command>` on the build, as Airbyte runs a manifest-only connector."""
    (tmp / "config.json").write_text(json.dumps(config))
    args = [_runner(), command, "--config", str(tmp / "config.json")]
    args += ["--manifest-path", str(build / "manifest.yaml"), "--components-path", str(build / "components.py")]
    if catalog is not None:
        (tmp / "catalog.json").write_text(json.dumps(catalog))
        args += ["--catalog", str(tmp / "catalog.json")]
    # The runner's image has the CDK and its dependencies only: hide the one library this package adds.
    hidden = tmp / "hidden"
    (hidden / "jsonpath_rfc9535").mkdir(parents=True, exist_ok=True)
    (hidden / "jsonpath_rfc9535" / "__init__.py").write_text("raise ImportError('not in the runner image')\n")
    env = {**os.environ, "PYTHONPATH": str(hidden), "AIRBYTE_ENABLE_UNSAFE_CODE": "true"}
    done = subprocess.run(args, capture_output=True, cwd=tmp, env=env, timeout=600, check=False)
    text = done.stdout.decode()
    messages = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return protocol.Run(done.returncode, messages, done.stderr.decode(), text)


# ------------------------------------------------------------------------------------------ the folder


def test_the_folder_holds_what_an_upstream_pull_request_needs(build):
    names = {p.relative_to(build).as_posix() for p in build.rglob("*") if p.is_file()}
    assert {"manifest.yaml", "components.py", "metadata.yaml", "icon.svg", "acceptance-test-config.yml"} <= names
    assert {"docs/100ms.md", "docs/100ms-migrations.md"} <= names
    assert {f"integration_tests/{f}" for f in manifest_only.FIXTURES} <= names


def test_the_manifest_is_the_packages_with_the_runners_class_names(build):
    built = (build / "manifest.yaml").read_text()
    package = (ROOT / "manifest.yaml").read_text()
    assert "source_100ms" not in built
    assert built == package.replace("source_100ms.components.", "source_declarative_manifest.components.")
    assert yaml.safe_load(built)["version"] == metadata.version("airbyte-cdk")


def test_every_class_the_manifest_names_is_defined_in_components_py(build):
    named = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("class_name"), str):
                named.add(node["class_name"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load((build / "manifest.yaml").read_text()))
    tree = ast.parse((build / "components.py").read_text())
    defined = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    assert named, "the manifest names no component: the test proves nothing"
    assert {n.removeprefix("source_declarative_manifest.components.") for n in named} <= defined
    assert all(n.startswith("source_declarative_manifest.components.") for n in named)


def _cdk_modules() -> set[str]:
    """Top-level modules of airbyte-cdk and of everything it depends on: what the runner's image has."""

    def canonical(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    seen, todo = set(), ["airbyte-cdk"]
    while todo:
        name = canonical(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [re.split(r"[ ;<>=!~\[(]", r, maxsplit=1)[0] for r in requirements if "extra ==" not in r]
    return {m for m, dists in metadata.packages_distributions().items() if any(canonical(d) in seen for d in dists)}


def test_components_py_imports_only_what_the_runners_image_has_and_patches_nothing(build):
    tree = ast.parse((build / "components.py").read_text())
    optional = set()  # imported in a `try` that falls back on ImportError
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError") for h in node.handlers
        ):
            optional |= {id(n) for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)}
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and id(node) not in optional:
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and id(node) not in optional:
            imported.add((node.module or "").split(".")[0])
    assert "source_100ms" not in imported
    allowed = set(sys.stdlib_module_names) | _cdk_modules() | {"__future__"}
    assert "airbyte_cdk" in allowed and "yaml" in allowed and "jsonpath_rfc9535" not in allowed
    assert imported <= allowed, imported - allowed
    # Nothing outside the file is changed when it is loaded: no assignment to an attribute, no setattr.
    module_level_attribute_writes = [
        node
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign)
        and any(isinstance(t, ast.Attribute) for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))
    ]
    assert module_level_attribute_writes == []
    assert "setattr(" not in (build / "components.py").read_text()


def test_metadata_is_manifest_only_on_the_pinned_cdk(build):
    data = yaml.safe_load((build / "metadata.yaml").read_text())["data"]
    assert data["tags"] == ["language:manifest-only", "cdk:low-code"]
    assert data["connectorBuildOptions"]["baseImage"].endswith(
        f"airbyte/source-declarative-manifest:{metadata.version('airbyte-cdk')}"
    )
    assert data["definitionId"] == "41bf83df-e5e4-44e3-b9c0-6933a26a4410"
    assert data["dockerImageTag"] == "1.0.0" and "1.0.0" in data["releases"]["breakingChanges"]
    assert data["allowedHosts"]["hosts"] == ["api.100ms.live"]
    assert 3 <= len(data["suggestedStreams"]["streams"]) <= 10


def test_acceptance_config_reads_the_credentials_airbytes_ci_provides(build):
    text = (build / "acceptance-test-config.yml").read_text()
    assert "secrets/config.json" in text and "sample_config.json" not in text


# ------------------------------------------------------------------------------------------ Airbyte's runner


@pytest.fixture(scope="module")
def sandbox_for_runner():
    with Sandbox(seed=7, scale="small", strict_time_format=True) as running:
        yield running


@pytest.fixture(scope="module")
def runner_config(sandbox_for_runner):
    return {**sandbox_for_runner.config(), "custom_streams": CUSTOM_STREAMS}


@pytest.fixture(scope="module")
def runner_catalog(build, runner_config, tmp_path_factory):
    run = run_runner(build, "discover", runner_config, tmp_path_factory.mktemp("discover"))
    assert run.returncode == 0, run.stderr[-3000:]
    (catalog,) = run.of_type("CATALOG")
    return catalog["catalog"]


def test_given_the_sandbox_when_the_runner_checks_then_succeeded(build, runner_config, tmp_path):
    run = run_runner(build, "check", runner_config, tmp_path)
    assert [m["connectionStatus"]["status"] for m in run.of_type("CONNECTION_STATUS")] == ["SUCCEEDED"]


def test_given_a_wrong_secret_when_the_runner_checks_then_failed(build, runner_config, tmp_path):
    config = json.loads(json.dumps(runner_config))
    config["credentials"]["app_secret"] = "not-the-secret"
    run = run_runner(build, "check", config, tmp_path)
    statuses = [m["connectionStatus"] for m in run.of_type("CONNECTION_STATUS")]
    assert [s["status"] for s in statuses] == ["FAILED"]


def test_the_runner_discovers_what_the_package_discovers(runner_catalog, runner_config):
    package = protocol.discover_catalog(runner_config)
    assert sorted(s["name"] for s in runner_catalog["streams"]) == sorted(s["name"] for s in package["streams"])
    by_name = {s["name"]: s for s in package["streams"]}
    for stream in runner_catalog["streams"]:
        assert stream["json_schema"] == by_name[stream["name"]]["json_schema"], stream["name"]
        assert stream.get("source_defined_primary_key") == by_name[stream["name"]].get("source_defined_primary_key")


def test_the_runner_reads_every_stream_with_the_same_ids_as_the_package(
    build, runner_catalog, runner_config, sandbox_for_runner, tmp_path
):
    configured = protocol.configured_catalog(runner_catalog)
    by_runner = run_runner(build, "read", runner_config, tmp_path, catalog=configured)
    by_package = protocol.run("read", runner_config, catalog=configured)
    assert by_runner.returncode == 0 and by_runner.errors() == [], by_runner.errors() or by_runner.stderr[-3000:]
    assert by_package.returncode == 0 and by_package.errors() == []
    keys = {s["name"]: s["source_defined_primary_key"] for s in runner_catalog["streams"]}
    truth = sandbox_for_runner.ground_truth()
    for name, primary_key in keys.items():
        runner_ids = sorted(json.dumps(k) for k in protocol.primary_key_values(by_runner.records(name), primary_key))
        package_ids = sorted(json.dumps(k) for k in protocol.primary_key_values(by_package.records(name), primary_key))
        assert runner_ids, f"the runner read no {name}: the comparison proves nothing"
        assert runner_ids == package_ids, name
        if name in truth and name != "analytics_events":  # events keep arriving late: compared by the package test
            assert runner_ids == sorted(json.dumps(k) for k in truth[name]), name
    assert not [s for s in sandbox_for_runner.secrets() if s in by_runner.stdout_text + by_runner.stderr]
