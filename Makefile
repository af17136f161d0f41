# The two commands of the README: `make report` and `make test`.
# They need only Python 3.11+, make and git; everything else is installed here.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
WAREHOUSE ?= build/london.duckdb
REPORT ?= needs-assessment.html

.PHONY: report test test-fast lint typecheck bench-ingest clean

$(VENV)/.runtime: pyproject.toml src/vru/__init__.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.test: $(VENV)/.runtime pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

## Build the warehouse from the bundled London data and write the needs assessment.
report: $(VENV)/.runtime
	$(BIN)/vru init --warehouse $(WAREHOUSE)
	$(BIN)/vru report --warehouse $(WAREHOUSE) --out $(REPORT)

## Run the whole test suite on every core (installs test tools, and Chromium/Java for browser and Spark
## tests): the web tests on PostgreSQL (installed and started when missing), then the rest on SQLite.
test: $(VENV)/.test
	bash scripts/ensure-system-deps.sh
	$(BIN)/ruff check src tests benchmarks scripts
	bash scripts/test-all.sh

## The quick loop while coding: no browser, Spark, PostgreSQL or London warehouse, nothing marked slow,
## no web tests; on every core. `make test` (and CI) still runs everything.
test-fast: $(VENV)/.test
	$(BIN)/pytest -n auto -q -m "not slow and not browser and not spark and not warehouse" \
		--ignore=tests/web

lint: $(VENV)/.test
	$(BIN)/ruff check src tests benchmarks scripts

## mypy over the public API and the analysis methods behind it (vru.api, vru.model, vru.analysis.did,
## synth, hotspots, emerging): the files of [tool.mypy] in pyproject.toml.
typecheck: $(VENV)/.test
	$(BIN)/mypy

bench-ingest: $(VENV)/.test
	$(BIN)/python benchmarks/ingest/run.py

clean:
	rm -rf build $(REPORT) .pytest_cache
