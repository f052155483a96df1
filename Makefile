# The only entry points people type: run, test, check, bench.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := build/vendor

# offline and quiet: no telemetry, Prefect state kept inside the project
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 180

.PHONY: run release browser docs-assets test check lint typecheck pytest validate-package bench clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

run: $(STAMP) docs-assets
	$(BIN)/valley run

release: $(STAMP)
	$(BIN)/valley release

# the dataset page is tested in a real headless Chromium (Debian's package; the test set-up installs it)
browser:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

# Data Docs link to local copies of the browser assets GX would load from CDNs (pinned npm packages)
docs-assets: $(STAMP)
	$(BIN)/python -m flows.steps.docs_assets $(VENDOR)

test: check

check: lint typecheck pytest validate-package

lint: $(STAMP)
	$(BIN)/ruff format --check flows tests
	$(BIN)/ruff check flows tests

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) browser docs-assets
	$(BIN)/pytest

validate-package: $(STAMP)
	$(BIN)/frictionless validate datapackage/datapackage.json

clean:
	rm -rf $(VENV) build .prefect warehouse/*.duckdb
