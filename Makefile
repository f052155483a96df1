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

.PHONY: crash-campaign run serve server release docs-assets test check lint typecheck pytest validate-package bench clean

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

# a Prefect server on 127.0.0.1, the `valley` process pool, the deployments in prefect.yaml, the alert
# automations (flows/alerts.py: on when VALLEY_ALERT_WEBHOOK or [tool.valley] alert_webhook is set) and a worker;
# Ctrl-C stops the worker, then the server (README, "Running on a schedule"). The UI asks the server where
# its API is: PREFECT_SERVER_UI_API_URL tells it, whatever SERVER_PORT is.
SERVER_PORT ?= 4200
SERVER_API := http://127.0.0.1:$(SERVER_PORT)/api
server: $(STAMP) docs-assets
	mkdir -p $(PREFECT_HOME)
	PREFECT_SERVER_UI_API_URL=$(SERVER_API) \
	$(BIN)/prefect server start --host 127.0.0.1 --port $(SERVER_PORT) >$(PREFECT_HOME)/server.log 2>&1 & \
	server=$$!; trap 'kill $$server 2>/dev/null; wait $$server' EXIT; \
	export PREFECT_API_URL=$(SERVER_API); \
	$(BIN)/python -m flows.operate.server wait $(SERVER_API) --record $$server && \
	$(BIN)/prefect work-pool create valley --type process --overwrite && \
	$(BIN)/prefect --no-prompt deploy --all --prefect-file prefect.yaml && \
	$(BIN)/python -m flows.alerts ensure && \
	$(BIN)/prefect worker start --pool valley --type process

release: $(STAMP)
	$(BIN)/valley release

# Data Docs link to local copies of the browser assets GX would load from CDNs: the pinned XStatic packages'
# files, copied from site-packages (a run copies them too when they are missing; nothing is downloaded)
docs-assets: $(STAMP)
	$(BIN)/python -m flows.checks.docs_assets $(VENDOR)

test: check

check: lint typecheck pytest validate-package

lint: $(STAMP)
	$(BIN)/ruff format --check flows tests
	$(BIN)/ruff check flows tests

typecheck: $(STAMP)
	$(BIN)/mypy

# browser tests need Debian's chromium: skipped with the reason where it is missing (.ci/run installs it)
pytest: $(STAMP) docs-assets
	$(BIN)/pytest

validate-package: $(STAMP)
	$(BIN)/frictionless validate datapackage/datapackage.json

# measurements, not tests: a synthetic corpus of 100, 1,000 and 10,000 sources, each stage and the whole commands
# timed with peak memory, and `valley run` with nothing changed, one source added and one edited against the full
# refresh (README, Performance); `make bench SIZES=100,1000` for a quicker run, SIZES=100000 for the large size
# (with BENCH_FLAGS=--no-stages: the whole commands only)
bench: $(STAMP)
	$(BIN)/python -m flows.bench $(if $(SIZES),--sizes $(SIZES)) $(BENCH_FLAGS)

# kill -9 `valley run` at 30 random instants and race 4 runs, `valley validate` after each (minutes; not in `make test`)
crash-campaign: $(STAMP)
	$(BIN)/python -m tests.crash_campaign

clean:
	rm -rf $(VENV) build .prefect warehouse/*.duckdb
