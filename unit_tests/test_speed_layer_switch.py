"""The speed layer is explicit: importing changes nothing, the switch and the CDK version decide what is installed."""

import subprocess
import sys

import pytest

from source_100ms import speedups

# Everything the package offers, imported: afterwards every replaced attribute must still be the library's own.
IMPORT_ALL_AND_COMPARE = """
import importlib, pkgutil, sys
import source_100ms
from source_100ms import speedups
originals = {id(p): getattr(p.target(), p.attribute) for p in speedups.PATCHES if hasattr(p.target(), p.attribute)}
interval = sys.getswitchinterval()
for module in pkgutil.walk_packages(source_100ms.__path__, "source_100ms."):
    importlib.import_module(module.name)
importlib.import_module("source_100ms").Source100ms
changed = [p.replaces for p in speedups.PATCHES if hasattr(p.target(), p.attribute)
           and getattr(p.target(), p.attribute) is not originals[id(p)]]
print(changed, sys.getswitchinterval() == interval)
"""


@pytest.mark.slow
def test_given_every_module_imported_then_no_library_attribute_replaced():
    done = subprocess.run([sys.executable, "-c", IMPORT_ALL_AND_COMPARE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] True"


@pytest.mark.slow
def test_given_the_sandbox_imported_then_the_cdk_is_not():
    code = "import sys, source_100ms.sandbox; print(any(m.startswith('airbyte_cdk') for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, set(speedups.NAMES)),
        ("1", set(speedups.NAMES)),
        ("0", set()),
        ("dates,slice_hash", {"dates", "slice_hash"}),
    ],
)
def test_given_switch_value_then_those_patches_wanted(value, expected):
    assert speedups.wanted({} if value is None else {speedups.ENVIRONMENT_VARIABLE: value}) == expected


def test_given_switch_off_when_install_then_nothing_replaced():
    assert speedups.install({speedups.ENVIRONMENT_VARIABLE: "0"}) == []
    assert not speedups.installed()


def test_given_another_cdk_version_when_install_then_nothing_replaced_and_one_line_on_stderr(monkeypatch, capsys):
    monkeypatch.setattr(speedups.metadata, "version", lambda name: "7.99.0")
    assert speedups.install({}) == []
    assert not speedups.installed()
    lines = [line for line in capsys.readouterr().err.splitlines() if "speed-ups not installed" in line]
    assert len(lines) == 1 and "7.39.1" in lines[0] and "7.99.0" in lines[0]


def test_given_some_patches_when_install_then_only_those_and_uninstall_restores():
    from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser
    from airbyte_cdk.sources.types import StreamSlice

    parse, slice_hash = DatetimeParser.parse, StreamSlice.__hash__
    try:
        assert speedups.install({speedups.ENVIRONMENT_VARIABLE: "dates"}) == ["dates"]
        assert DatetimeParser.parse is not parse and StreamSlice.__hash__ is slice_hash
    finally:
        speedups.uninstall()
    assert DatetimeParser.parse is parse and not speedups.installed()
