"""Fixtures for the sandbox's own tests: a small sandbox with a fixed clock and a keep-alive client."""

from __future__ import annotations

import pytest
from sandbox_testkit import Client, workspace

from source_100ms.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb():
    with Sandbox(workspace=workspace(7)) as s:
        yield s


@pytest.fixture()
def client(sb):
    c = Client(sb)
    yield c
    c.close()
