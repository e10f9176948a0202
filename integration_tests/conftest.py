"""Integration fixtures: a real sandbox on a free loopback port, and the real connector process."""

from __future__ import annotations

import pytest

from source_100ms.sandbox import Sandbox
from source_100ms.tools import protocol


@pytest.fixture(scope="session")
def sandbox():
    with Sandbox(seed=7, scale="small") as running:
        yield running


@pytest.fixture(scope="session")
def catalog(sandbox):
    return protocol.discover_catalog(sandbox.config())


@pytest.fixture(scope="session")
def full_read(sandbox, catalog):
    """One full-refresh read of every stream, shared by the tests that only inspect it."""
    sandbox.reset_counts()
    result = protocol.run("read", sandbox.config(), catalog=protocol.configured_catalog(catalog))
    return result, sandbox.request_counts()
