import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from flows.core.config import DEFAULTS
from flows.core.paths import PROJECT_DIR, ProjectPaths
from flows.operate.server import LocalServer, running_server
from tests.conftest import copy_project

PREFECT_FILE = PROJECT_DIR / "prefect.yaml"
DEPLOYMENTS = yaml.safe_load(PREFECT_FILE.read_text(encoding="utf-8"))["deployments"]
CLI_TIMEOUT_SECONDS = 120
RUN_TIMEOUT_SECONDS = 300
FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=lambda d: d["name"])
def test_prefect_yaml_entrypoint_imports_a_flow(deployment: dict[str, Any]) -> None:
    from prefect import Flow

    path, function = deployment["entrypoint"].split(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    assert isinstance(getattr(module, function), Flow)


def test_prefect_yaml_schedules_are_the_configured_defaults() -> None:
    configured = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["valley"]
    crons = {d["name"]: [s["cron"] for s in d["schedules"]] for d in DEPLOYMENTS}
    assert crons == {"etl": [DEFAULTS["etl_cron"]], "validate": [DEFAULTS["validate_cron"]]}
    assert (configured["etl_cron"], configured["validate_cron"]) == (DEFAULTS["etl_cron"], DEFAULTS["validate_cron"])
    assert {d["concurrency_limit"] for d in DEPLOYMENTS} == {1}
    assert {d["work_pool"]["name"] for d in DEPLOYMENTS} == {"valley"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalServer, dict[str, str]]]:
    """A real `prefect server start` on a free loopback port, its database in tmp; no schedule ever fires."""
    home = tmp_path_factory.mktemp("prefect-server-home")
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        # the deployments' own schedules would run on the checkout: only the runs this test starts may run
        "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
    }
    for name in ("PREFECT_API_URL", "VALLEY_PROJECT_DIR"):  # plain `prefect deploy`, as a user types it
        env.pop(name, None)
    with running_server(home, env) as local:
        yield local, {**env, "PREFECT_API_URL": local.api_url}


def run_prefect(env: dict[str, str], *args: str, cwd: Path = PROJECT_DIR) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prefect", *args],
        cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
        timeout=CLI_TIMEOUT_SECONDS, check=False,
    )  # fmt: skip


def prefect(env: dict[str, str], *args: str) -> str:
    completed = run_prefect(env, "--no-prompt", *args)
    assert completed.returncode == 0, f"prefect {' '.join(args)}:\n{completed.stdout}\n{completed.stderr}"
    return completed.stdout


def test_the_server_tells_its_ui_where_its_api_is(server: tuple[LocalServer, dict[str, str]]) -> None:
    local, _ = server
    with urllib.request.urlopen(f"{local.url}/ui-settings", timeout=10) as response:
        assert json.load(response)["api_url"] == local.api_url != "http://127.0.0.1:4200/api"


@pytest.fixture
def worker(server: tuple[LocalServer, dict[str, str]], tmp_path: Path) -> Iterator[Path]:
    """`prefect worker start` for the pool, in its own process group, killed with it at the end."""
    _, env = server
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "worker", "start", "--pool", "valley", "--type", "process"],
            cwd=tmp_path, env=env, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def run_deployment(client: Any, name: str, parameters: dict[str, Any], worker_log: Path) -> Any:
    """Start a run of the deployment and wait, bounded, until it reaches a final state."""
    deployment = client.read_deployment_by_name(name)
    flow_run = client.create_flow_run_from_deployment(deployment.id, parameters=parameters)
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while (flow_run := client.read_flow_run(flow_run.id)).state_type.value not in FINAL_STATES:
        assert time.monotonic() < deadline, f"{name} still {flow_run.state_name}; worker log:\n{worker_log.read_text()}"
        time.sleep(1)
    return flow_run


def test_deployments_run_on_a_server_with_a_process_worker(
    server: tuple[LocalServer, dict[str, str]], worker: Path, tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    local, env = server
    prefect(env, "work-pool", "create", "valley", "--type", "process", "--overwrite")
    # as a user types it in the project folder: no VALLEY_PROJECT_DIR, no --prefect-file, no Makefile
    deployed = run_prefect(env, "deploy", "--all")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    project = copy_project(tmp_path / "project")
    with temporary_settings(updates={PREFECT_API_URL: local.api_url}), get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("valley-etl/etl")
        assert deployment.work_pool_name == "valley" and deployment.pull_steps == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(PROJECT_DIR)}}
        ]
        etl = run_deployment(client, "valley-etl/etl", {"root": str(project.root)}, worker)
        assert etl.state_type.value == "COMPLETED", f"{etl.state}\n{worker.read_text()}"
        validate = run_deployment(client, "valley-validate/validate", {"root": str(project.root)}, worker)
    # the article's findings are info now (rounding, inferred periods): a plain Completed, not Warned
    assert (validate.state_type.value, validate.state_name) == ("COMPLETED", "Completed"), worker.read_text()
    assert_published(project)


def assert_published(project: ProjectPaths) -> None:
    assert project.warehouse.is_file()
    with duckdb.connect(str(project.warehouse), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM figures").fetchone() == (18,)


def test_make_server_points_the_ui_at_its_own_port() -> None:
    completed = subprocess.run(
        ["make", "--dry-run", "--always-make", "server", "SERVER_PORT=4311"],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=CLI_TIMEOUT_SECONDS, check=True,
    )  # fmt: skip
    server_start = completed.stdout[completed.stdout.index("PREFECT_SERVER_UI_API_URL=") :]
    assert server_start.startswith("PREFECT_SERVER_UI_API_URL=http://127.0.0.1:4311/api \\\n")
    assert "prefect server start --host 127.0.0.1 --port 4311 " in server_start
    assert "VALLEY_PROJECT_DIR" not in completed.stdout and "apt-get" not in completed.stdout


def test_deploy_outside_a_checkout_refuses_with_a_message(
    server: tuple[LocalServer, dict[str, str]], tmp_path: Path
) -> None:
    """prefect.yaml and its entrypoints copied elsewhere: the build step stops the deploy before anything registers."""
    _, env = server
    prefect(env, "work-pool", "create", "valley", "--type", "process", "--overwrite")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "flows").mkdir(parents=True)
    shutil.copy(PREFECT_FILE, elsewhere / "prefect.yaml")
    for deployment in DEPLOYMENTS:
        entrypoint = deployment["entrypoint"].split(":")[0]
        shutil.copy(PROJECT_DIR / entrypoint, elsewhere / entrypoint)
    completed = run_prefect(env, "--no-prompt", "deploy", "--all", cwd=elsewhere)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert f"prefect deploy refused: {elsewhere} is not a valley checkout (no datapackage/datapackage.json)" in (
        completed.stderr
    )
    assert "Traceback" not in completed.stdout + completed.stderr
    assert "successfully created" not in completed.stdout
