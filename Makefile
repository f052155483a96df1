# The only entry points people type: run, test, check, bench.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# offline and quiet: no telemetry, Prefect state kept inside the project
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 180

.PHONY: run test check lint typecheck pytest validate-package bench clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/valley run

test: check

check: lint typecheck pytest validate-package

lint: $(STAMP)
	$(BIN)/ruff format --check flows tests
	$(BIN)/ruff check flows tests

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

validate-package: $(STAMP)
	$(BIN)/frictionless validate datapackage/datapackage.json

clean:
	rm -rf $(VENV) build .prefect warehouse/*.duckdb
