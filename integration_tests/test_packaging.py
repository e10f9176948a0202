"""The Dockerfile's steps without Docker: build the wheel, install it into a clean environment, run it.

The image is `pip wheel` in a builder stage and `pip install <wheel>` into a fresh virtual environment in the
final stage, with `source-100ms` as the entry point. These tests do the same on the host: they copy the files
the Dockerfile copies into a temporary build directory (manifest.yaml and the package's symlink to it
included), build the wheel, install it into a new virtual environment (no project checkout on its path), and
run the installed `source-100ms` against the sandbox. What would break the image breaks here: a file missing
from the wheel, a dependency missing from pyproject.toml, an entry point that does not start.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# What the Dockerfile's builder stage copies.
BUILD_FILES = ["pyproject.toml", "README.md", "manifest.yaml", "source_100ms"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    build = tmp_path_factory.mktemp("build")
    for name in BUILD_FILES:
        source = ROOT / name
        if source.is_dir():
            # Symlinks stay symlinks, as Docker's COPY keeps them: the wheel must still hold a real manifest.
            shutil.copytree(source, build / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, build / name)
    assert (build / "source_100ms" / "manifest.yaml").is_symlink(), "the checkout no longer links the manifest"
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(build)],
        cwd=build,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = wheels.glob("source_100ms-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A new virtual environment with only the wheel and its dependencies; returns its bin directory."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # pip's download cache makes this quick after the first run; nothing comes from the checkout.
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return venv / "bin"


def _run(bin_dir: Path, cwd: Path, *args: str, timeout: float = 300) -> tuple[int, list[dict], str]:
    # A neutral working directory and no PYTHONPATH: only the installed package can be imported.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(bin_dir / "source-100ms"), *args], cwd=cwd, env=env, capture_output=True, timeout=timeout, check=False
    )
    messages = [json.loads(line) for line in done.stdout.decode().splitlines() if line.startswith("{")]
    return done.returncode, messages, done.stderr.decode()


def _of_type(messages: list[dict], kind: str) -> list[dict]:
    return [m for m in messages if m.get("type") == kind]


def test_wheel_holds_the_manifest_as_a_real_file(wheel):
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo("source_100ms/manifest.yaml")
        is_symlink = (info.external_attr >> 16) & 0o170000 == 0o120000
        manifest = yaml.safe_load(archive.read(info))
        names = archive.namelist()
    assert not is_symlink
    assert manifest["type"] == "DeclarativeSource"
    assert manifest["streams"], "the packaged manifest has no streams"
    assert "source_100ms/components/__init__.py" in names
    assert "source_100ms/sandbox/server.py" in names


def test_wheel_declares_the_console_script_and_the_cdk(wheel):
    with zipfile.ZipFile(wheel) as archive:
        dist_info = next(n.split("/")[0] for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
        metadata = archive.read(f"{dist_info}/METADATA").decode()
    assert "source-100ms = source_100ms.run:run" in entry_points
    assert "Version: 1.0.0" in metadata
    assert any(line.startswith("Requires-Dist: airbyte-cdk") for line in metadata.splitlines())


def test_installed_package_is_imported_from_the_new_environment(installed, tmp_path):
    done = subprocess.run(
        [str(installed / "python"), "-c", "import source_100ms.source as s; print(s.MANIFEST_PATH.resolve())"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    manifest_path = Path(done.stdout.strip())
    assert manifest_path.is_relative_to(installed.parent.resolve())
    assert not manifest_path.is_relative_to(ROOT)


def test_installed_spec_emits_the_connection_specification(installed, tmp_path):
    returncode, messages, stderr = _run(installed, tmp_path, "spec")
    assert returncode == 0, stderr[-3000:]
    (spec,) = _of_type(messages, "SPEC")
    properties = spec["spec"]["connectionSpecification"]["properties"]
    assert {"credentials", "start_date", "api_url"} <= set(properties)
    assert spec["spec"]["documentationUrl"] == "https://docs.airbyte.com/integrations/sources/100ms"


def test_installed_check_succeeds_on_the_sandbox_and_fails_on_a_wrong_secret(installed, sandbox, tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(sandbox.config()))
    returncode, messages, stderr = _run(installed, tmp_path, "check", "--config", str(good))
    assert returncode == 0, stderr[-3000:]
    assert [m["connectionStatus"]["status"] for m in _of_type(messages, "CONNECTION_STATUS")] == ["SUCCEEDED"]

    config = sandbox.config()
    config["credentials"]["app_secret"] = "not-the-secret"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(config))
    _, messages, _ = _run(installed, tmp_path, "check", "--config", str(bad))
    assert [m["connectionStatus"]["status"] for m in _of_type(messages, "CONNECTION_STATUS")] == ["FAILED"]


def test_installed_read_emits_the_sandbox_rooms_and_templates(installed, sandbox, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(sandbox.config()))
    returncode, messages, stderr = _run(installed, tmp_path, "discover", "--config", str(config))
    assert returncode == 0, stderr[-3000:]
    (catalog,) = _of_type(messages, "CATALOG")
    wanted = [s for s in catalog["catalog"]["streams"] if s["name"] in ("rooms", "templates")]
    assert len(wanted) == 2
    configured = tmp_path / "catalog.json"
    configured.write_text(
        json.dumps(
            {
                "streams": [
                    {"stream": s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"} for s in wanted
                ]
            }
        )
    )

    returncode, messages, stderr = _run(
        installed, tmp_path, "read", "--config", str(config), "--catalog", str(configured)
    )

    assert returncode == 0, stderr[-3000:]
    errors = [m for m in _of_type(messages, "TRACE") if m["trace"].get("type") == "ERROR"]
    assert errors == []
    truth = sandbox.ground_truth()
    for stream in ("rooms", "templates"):
        read = sorted(
            m["record"]["data"]["id"] for m in _of_type(messages, "RECORD") if m["record"]["stream"] == stream
        )
        assert read == sorted(truth[stream]), stream


def test_installed_help_lists_every_command_and_no_arguments_prints_it(installed, tmp_path):
    done = subprocess.run([str(installed / "source-100ms"), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for command in ("spec", "check", "discover", "read", "catalog", "preview", "suggest-paths", "sandbox"):
        assert f"\n  {command} " in done.stdout, command
    bare = subprocess.run([str(installed / "source-100ms")], capture_output=True, text=True, timeout=60)
    assert bare.stdout == done.stdout and "Traceback" not in bare.stderr


def test_installed_catalog_command_writes_a_catalog_read_accepts(installed, sandbox, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(sandbox.config()))
    catalog = tmp_path / "catalog.json"
    done = subprocess.run(
        [str(installed / "source-100ms"), "catalog", "--config", str(config), "--streams", "rooms,sessions",
         "--incremental", "--out", str(catalog)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    modes = {s["stream"]["name"]: s["sync_mode"] for s in json.loads(catalog.read_text())["streams"]}
    assert modes == {"rooms": "full_refresh", "sessions": "incremental"}
    returncode, messages, stderr = _run(installed, tmp_path, "read", "--config", str(config), "--catalog", str(catalog))
    assert returncode == 0, stderr[-2000:]
    read = sorted(m["record"]["data"]["id"] for m in _of_type(messages, "RECORD") if m["record"]["stream"] == "rooms")
    assert read == sorted(sandbox.ground_truth()["rooms"])
