"""What every unit test gets: the process as a new connector process would have it, and no real backoff waits.

- Process-wide state the connector keeps on purpose (one token per credentials, one throttle per API origin, one
  page store per sync) starts empty in each test, as in a new process: a 429 seen by one test must not slow the
  next one down, and a page fetched by one test must not answer another.
- The CDK's backoff waits are recorded instead of slept (`backoff_sleeps`): no test measures them by waiting.
- The manifest is resolved and validated once per session (`_manifest_processed_once`).
- The garbage collector runs less often (`pytest_configure`).
"""

from __future__ import annotations

import datetime
import functools
import gc
import logging
import pickle
import time
import typing
from types import SimpleNamespace

import pytest

# The connector and the CDK are imported in the fixtures, not here: with `-n 2`, xdist's controller process loads
# this file too and runs no test, and importing the CDK there took 2.5 s before the workers started.


def pytest_configure(config) -> None:
    """Python's cyclic garbage collector runs every 20,000 new objects instead of every 700.

    The suite makes millions of objects that stay alive for a while (sandbox workspaces, the CDK's components,
    records): at the default thresholds the collector ran 9,200 times and scanned everything alive 79 times,
    7.3 s of a 70 s serial run, to free little. At these, 830 runs and 9 full scans, 3.5 s. Nothing in the
    connector or the tests depends on when a reference cycle is freed; no test measures memory.
    """
    gc.set_threshold(20_000, 20, 20)


@pytest.fixture(autouse=True)
def fresh_process_state():
    """Each test starts without a cached token, a learned rate limit or shared pages, and with the CDK's logger at
    INFO, as a new process would.

    The logger: the CDK's entry point turns the `airbyte` logger to DEBUG for a `--debug` run (its test harness's
    `discover` always passes it) and never back, so every later read in the worker logged each request, headers
    and body, at DEBUG (1,026 records, the suite's time in logging 4.2 s -> 1.0 s when reset), and a test could
    pass only on the logs an earlier test switched on."""
    _clear_process_state()
    yield
    _clear_process_state()


def _clear_process_state() -> None:
    from source_100ms.components import auth, requester, transport

    logging.getLogger("airbyte").setLevel(logging.INFO)  # airbyte_cdk.logger.init_logger's level
    auth._minters.clear()
    with transport._limiters_lock:
        transport._limiters.clear()
    with requester._STORES_LOCK:
        requester._STORES.clear()


class RecordedSleep:
    """Stands in for the `time` module where a library sleeps: records each wait and returns at once, and keeps
    the total so that `backoff`'s elapsed time (its `max_time`, the retry window) still counts the waits."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.slept = 0.0

    def sleep(self, seconds: float) -> None:
        if seconds:
            self.waits.append(seconds)
            self.slept += seconds

    def now(self) -> datetime.datetime:
        return datetime.datetime.now() + datetime.timedelta(seconds=self.slept)

    def __getattr__(self, name: str):
        return getattr(time, name)


@pytest.fixture(autouse=True)
def backoff_sleeps(monkeypatch) -> list[float]:
    """The CDK's retry waits in seconds, recorded instead of slept (zero-second waits left out).

    `backoff` sleeps between tries, and the CDK's handler for a backoff strategy sleeps the strategy's time plus
    one second itself; both are replaced in their own module only, so other threads' sleeps stay real. `backoff`
    measures how long it has retried with `datetime.now()`: that clock moves by the recorded waits.
    """
    import backoff._sync
    from airbyte_cdk.sources.streams.http import rate_limiting

    recorder = RecordedSleep()
    monkeypatch.setattr(backoff._sync, "time", recorder)
    monkeypatch.setattr(rate_limiting, "time", recorder)
    monkeypatch.setattr(backoff._sync, "datetime", SimpleNamespace(datetime=SimpleNamespace(now=recorder.now)))
    return recorder.waits


class FakeClock:
    """A monotonic clock that a sleep moves forward instead of waiting: for the throttle's and the
    authenticator's waits (`transport` and `auth` read `time.monotonic` and `time.sleep` at call time)."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.sleeps.append(seconds)
            self.offset += seconds

    def time(self) -> float:
        return time.time() + self.offset

    def __getattr__(self, name: str):
        return getattr(time, name)


@pytest.fixture
def throttle_clock(monkeypatch) -> FakeClock:
    """The throttle's clock: every wait of the rate limiter and the authenticator recorded and skipped."""
    from source_100ms.components import auth, transport

    clock = FakeClock()
    shim = SimpleNamespace(monotonic=clock.monotonic, sleep=clock.sleep, time=time.time)
    monkeypatch.setattr(transport, "time", shim)
    monkeypatch.setattr(auth, "time", shim)
    return clock


@pytest.fixture(autouse=True, scope="session")
def _manifest_processed_once():
    """Parse what the CDK parses from the manifest once per session instead of once per source or stream.

    Measured on this suite: constructing `Source100ms` took 0.5 s (resolving `$ref`s, propagating types and
    parameters, validating against the component schema, loading that schema's YAML), and building its streams
    0.2 s per read, 60% of it pydantic validating the same definitions again. Each cache is safe because every
    caller gets objects of its own built from the same input, or objects the CDK only reads:

    - each source gets a fresh copy of the manifest (`load_manifest`), which `_pre_process_manifest` changes in
      place; what it returns is kept per distinct input and handed to every source built from that input (a copy
      each cost 9 ms, 2 s over the suite): the CDK only reads it (it writes a stream's `type` only where one is
      missing, and resolving has set them all; `_create_streams` deep-copies the definitions it builds from). At
      the end of the session each kept manifest is compared with what it was when resolved: a CDK that writes
      into it fails the run there;
    - a manifest is validated once per distinct content: validation only reads the manifest and the CDK's
      component schema (loaded once, read-only), so the same content gives the same result; the first source of
      the session goes through the CDK's own code, which is what proves the manifest valid;
    - `BaseModel.parse_obj` of a definition is a pure function of it; the CDK's factory writes into the models it
      gets (`schema_normalization`, `request_parameters`), so each call gets a fresh unpickled model, and the
      first call's model, pickled before anyone saw it;
    - `get_type_hints` of a custom component class only depends on the class.
    """
    from airbyte_cdk.sources.declarative import concurrent_declarative_source as cds
    from airbyte_cdk.sources.declarative.parsers import model_to_component_factory as factory
    from pydantic.v1 import BaseModel

    from source_100ms import source

    raw = pickle.dumps(source.load_manifest())
    resolved: dict[bytes, dict] = {}  # a manifest as given (pickled) -> resolved, shared by the sources built from it
    as_resolved: dict[bytes, bytes] = {}  # the same, pickled when resolved: checked at the end of the session
    key_of_resolved: dict[int, bytes] = {}  # id of a kept resolved manifest (alive all session) -> its input
    validated: set[bytes] = set()
    parsed: dict[tuple[type, bytes], bytes] = {}
    original_pre_process = cds.ConcurrentDeclarativeSource._pre_process_manifest
    original_validate = cds.validate_manifest
    original_parse_obj = BaseModel.parse_obj.__func__

    def load_manifest():
        return pickle.loads(raw)

    def pre_process(self, manifest):
        key = pickle.dumps(manifest)
        if key not in resolved:
            resolved[key] = original_pre_process(self, manifest)
            as_resolved[key] = pickle.dumps(resolved[key])
            key_of_resolved[id(resolved[key])] = key
        return resolved[key]

    def validate(manifest, schema):
        # a kept resolved manifest is keyed by what it was resolved from, not pickled again (330 KB, 5 ms a source)
        key = key_of_resolved.get(id(manifest)) or pickle.dumps(manifest)
        if key not in validated:
            original_validate(manifest, schema)
            validated.add(key)

    def parse_obj(cls, obj):
        try:
            key = (cls, pickle.dumps(obj))
        except (pickle.PicklingError, TypeError, AttributeError):
            return original_parse_obj(cls, obj)
        kept = parsed.get(key)
        if kept is not None:
            return pickle.loads(kept)
        model = original_parse_obj(cls, obj)
        parsed[key] = pickle.dumps(model)
        return model

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(source, "load_manifest", load_manifest)
        patch.setattr(cds.ConcurrentDeclarativeSource, "_pre_process_manifest", pre_process)
        patch.setattr(cds, "validate_manifest", validate)
        patch.setattr(cds, "get_declarative_component_schema", functools.cache(cds.get_declarative_component_schema))
        patch.setattr(BaseModel, "parse_obj", classmethod(parse_obj))
        patch.setattr(factory, "get_type_hints", functools.cache(typing.get_type_hints))
        gc.collect()
        gc.freeze()  # the CDK, its models and the caches live for the whole session: the collector skips them
        yield
    written = [key for key, manifest in resolved.items() if pickle.dumps(manifest) != as_resolved[key]]
    assert not written, (
        f"{len(written)} resolved manifest(s) that conftest.py shares between sources written into (by the CDK or "
        "a test): hand each source a copy again (pickle.loads of as_resolved) in _manifest_processed_once.pre_process"
    )
