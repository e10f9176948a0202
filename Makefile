# Everything runs from a local virtual environment made with Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test unit integration lint bench clean manifest-only

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 is required" if sys.version_info[:2] != (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

## A full sync of every stream of a local sandbox workspace, with a summary.
demo: install
	$(BIN)/python -m source_100ms.tools.demo

# The integration tests that run the `source-100ms` executable, run once more without the speed layer: the
# connector must be correct without it (the others run in process, or in Airbyte's runner, never with it).
WITHOUT_SPEEDUPS := integration_tests/test_full_sync.py integration_tests/test_incremental.py \
	integration_tests/test_custom_streams.py integration_tests/test_faults.py integration_tests/test_security.py

## Lint, then every test: unit tests (HTTP mocked) and integration tests (real process against the sandbox),
## then the executable's integration tests again with the speed layer off.
test: install lint
	$(BIN)/pytest -n 2 unit_tests
	$(BIN)/pytest integration_tests
	SOURCE_100MS_SPEEDUPS=0 $(BIN)/pytest $(WITHOUT_SPEEDUPS)

unit: install
	$(BIN)/pytest -n 2 unit_tests

integration: install
	$(BIN)/pytest integration_tests

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## The folder an upstream Airbyte pull request needs (manifest.yaml, one components.py, metadata.yaml...).
manifest-only: install
	$(BIN)/python -m source_100ms.tools.manifest_only --out build/manifest-only

clean:
	rm -rf $(VENV) demo_output bench_output build dist *.egg-info

## The benchmark of DESIGN.md section 9 (not a test): throughput, latency-bound full sync, memory.
bench: install
	$(BIN)/python bench/run.py
