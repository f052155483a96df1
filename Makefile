# The only entry points people type: run, test, check, bench, serve, server.
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

.PHONY: run serve server release browser docs-assets test check lint typecheck pytest validate-package bench clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

run: $(STAMP) docs-assets
	$(BIN)/valley run

# both flows on their schedules, on a local Prefect server `valley serve` starts and stops itself
serve: $(STAMP) docs-assets
	$(BIN)/valley serve

# a Prefect server on 127.0.0.1, the `valley` process pool, the deployments in prefect.yaml and a worker;
# Ctrl-C stops the worker, then the server (README, "Running on a schedule")
SERVER_PORT ?= 4200
SERVER_API := http://127.0.0.1:$(SERVER_PORT)/api
server: $(STAMP) docs-assets
	mkdir -p $(PREFECT_HOME)
	$(BIN)/prefect server start --host 127.0.0.1 --port $(SERVER_PORT) >$(PREFECT_HOME)/server.log 2>&1 & \
	server=$$!; trap 'kill $$server 2>/dev/null; wait $$server' EXIT; \
	export PREFECT_API_URL=$(SERVER_API) VALLEY_PROJECT_DIR=$(CURDIR); \
	$(BIN)/python -m flows.steps.server wait $(SERVER_API) && \
	$(BIN)/prefect work-pool create valley --type process --overwrite && \
	$(BIN)/prefect --no-prompt deploy --all --prefect-file prefect.yaml && \
	$(BIN)/prefect worker start --pool valley --type process

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

# measurements, not tests: stage timings on the article and at 100,000 rows
bench: $(STAMP)
	$(BIN)/python -m flows.bench

clean:
	rm -rf $(VENV) build .prefect warehouse/*.duckdb
