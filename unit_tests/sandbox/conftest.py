"""Fixtures for the sandbox's own tests: a small sandbox with a fixed clock and a keep-alive client."""

from __future__ import annotations

import pytest
from sandbox_testkit import NOW, Client

from source_100ms.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb():
    with Sandbox(seed=7, scale="small", now=NOW) as s:
        yield s


@pytest.fixture()
def client(sb):
    c = Client(sb)
    yield c
    c.close()
