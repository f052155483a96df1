import contextlib
import datetime as dt
import html
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flows.core.config import DEFAULTS, load_config
from flows.core.paths import ProjectPaths
from flows.operate.server import is_healthy
from tests.browser import Chromium
from tests.conftest import copy_project

VALLEY = Path(sys.executable).parent / "valley"
START_TIMEOUT_SECONDS = 150
STOP_TIMEOUT_SECONDS = 60
RUN_TIMEOUT_SECONDS = 300
UI_RENDER_MS = 15000  # virtual time for the single-page UI to fetch from the API and render
FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
SERVER_LINE = re.compile(r"server:\s+(?P<url>\S+) \(UI and API; pid (?P<pid>\d+)")


@pytest.mark.parametrize(
    ("cron", "after", "expected"),
    [
        ("0 0 * * *", "2026-03-01T12:00:00+00:00", ["2026-03-02T00:00:00+00:00", "2026-03-03T00:00:00+00:00"]),
        ("30 * * * *", "2026-03-01T12:30:00+00:00", ["2026-03-01T12:30:00+00:00", "2026-03-01T13:30:00+00:00"]),
    ],
)
def test_next_run_times_follow_the_cron_in_utc(cron: str, after: str, expected: list[str]) -> None:
    from flows.serve import next_run_times

    times = next_run_times(cron, after=dt.datetime.fromisoformat(after))
    assert [time.isoformat() for time in times] == expected


def test_config_has_both_schedules_and_pyproject_may_change_them(tmp_path: Path) -> None:
    assert load_config(tmp_path)["etl_cron"] == DEFAULTS["etl_cron"] == "0 0 * * *"
    (tmp_path / "pyproject.toml").write_text('[tool.valley]\nvalidate_cron = "*/5 * * * *"\n', encoding="utf-8")
    assert load_config(tmp_path)["validate_cron"] == "*/5 * * * *"


def serve_env() -> dict[str, str]:
    """The user's environment: Prefect state goes to the project's own .prefect, no server is configured."""
    env = dict(os.environ)
    env.pop("PREFECT_HOME", None)
    env.pop("PREFECT_API_URL", None)
    return env


def test_serve_refuses_a_bad_cron_before_starting_anything(project: ProjectPaths) -> None:
    completed = subprocess.run(
        [str(VALLEY), "--project", str(project.root), "serve", "--etl-cron", "every day"],
        capture_output=True, text=True, env=serve_env(), timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 1
    assert completed.stderr.startswith("valley serve failed: --etl-cron: 'every day' is not a valid cron schedule")
    assert "Traceback" not in completed.stderr and not (project.root / ".prefect" / "server.log").exists()


@pytest.fixture(scope="module")
def served_project(tmp_path_factory: pytest.TempPathFactory) -> ProjectPaths:
    """One project copy for every `valley serve` below: its Prefect database is migrated once."""
    return copy_project(tmp_path_factory.mktemp("serve") / "project")


@dataclass
class Serving:
    """A `valley serve` subprocess and the files its output goes to."""

    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def output(self) -> str:
        return self.stdout.read_text(encoding="utf-8") + self.stderr.read_text(encoding="utf-8")

    def wait_for_start(self) -> tuple[str, str, int]:
        """Its start message, once printed, with the server's URL and pid."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while (
            not (match := SERVER_LINE.search(text := self.stdout.read_text(encoding="utf-8")))
            or "stopping:" not in text
        ):
            assert self.process.poll() is None, f"valley serve exited with {self.process.returncode}:\n{self.output()}"
            assert time.monotonic() < deadline, f"valley serve did not start:\n{self.output()}"
            time.sleep(0.5)
        return text, match["url"], int(match["pid"])

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """After a failure midway: a graceful stop stops its server too; else kill both process groups."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
            if match := SERVER_LINE.search(self.stdout.read_text(encoding="utf-8")):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(int(match["pid"]), signal.SIGKILL)


@pytest.fixture
def start_serve(served_project: ProjectPaths, tmp_path: Path) -> Iterator[Callable[..., Serving]]:
    """Start `valley serve` in its own process group; if a test fails midway, kill what is left."""
    started: list[Serving] = []

    def start(*options: str) -> Serving:
        stdout, stderr = tmp_path / f"stdout-{len(started)}.txt", tmp_path / f"stderr-{len(started)}.txt"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            process = subprocess.Popen(
                [str(VALLEY), "--project", str(served_project.root), "serve", *options],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=serve_env(), start_new_session=True,
            )  # fmt: skip
        started.append(Serving(process, stdout, stderr))
        return started[-1]

    yield start
    for serving in started:
        serving.stop()


def read_deployments(api_url: str) -> dict[str, dict[str, object]]:
    request = urllib.request.Request(
        f"{api_url}/deployments/filter", data=b"{}", headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return {d["name"]: d for d in json.load(response)}


def assert_server_gone(pid: int, url: str) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not is_healthy(f"{url}/api")


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_prints_next_runs_serves_both_flows_and_stops_cleanly(
    start_serve: Callable[..., Serving], served_project: ProjectPaths, stop_signal: signal.Signals
) -> None:
    serving = start_serve("--validate-cron", "0 0 1 1 *")  # yearly: nothing fires while the test runs
    text, url, pid = serving.wait_for_start()
    assert re.search(r"valley-etl/etl: cron '0 0 \* \* \*', next runs \d{4}-\d\d-\d\d 00:00 UTC, ", text)
    assert re.search(
        r"valley-validate/validate: cron '0 0 1 1 \*', next runs \d{4}-01-01 00:00 UTC, \d{4}-01-01 ", text
    )
    deployments = read_deployments(f"{url}/api")
    assert sorted(deployments) == ["etl", "validate"]
    for deployment in deployments.values():
        assert deployment["paused"] is False and deployment["parameters"] == {
            "root": str(served_project.root),
            **({"max_age_hours": 48.0} if deployment["name"] == "validate" else {}),
        }
    # a terminal's Ctrl-C reaches its whole foreground process group; the server has a group of its own
    os.killpg(serving.process.pid, stop_signal)
    assert serving.process.wait(timeout=STOP_TIMEOUT_SECONDS) == 0, serving.output()
    assert "Traceback" not in serving.output() and "valley serve: stopped" in serving.output()
    assert_server_gone(pid, url)


def test_serve_for_seconds_stops_by_itself(start_serve: Callable[..., Serving]) -> None:
    serving = start_serve("--for-seconds", "2")
    text, url, pid = serving.wait_for_start()
    assert "stopping:  after 2 s" in text
    assert serving.process.wait(timeout=STOP_TIMEOUT_SECONDS) == 0, serving.output()
    assert "Traceback" not in serving.output()
    assert_server_gone(pid, url)


def call_api(api_url: str, path: str, body: object = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{api_url}/{path}",
        data=data,
        headers={"Content-Type": "application/json"},
        method="GET" if data is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def run_now(api_url: str, deployment: str) -> dict[str, Any]:
    """A run of the deployment, due now, that `valley serve` picks up; waits (bounded) for its final state."""
    deployment_id = call_api(api_url, f"deployments/name/{deployment}")["id"]
    flow_run = call_api(api_url, f"deployments/{deployment_id}/create_flow_run", {})
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while (flow_run := call_api(api_url, f"flow_runs/{flow_run['id']}"))["state"]["type"] not in FINAL_STATES:
        assert time.monotonic() < deadline, f"{deployment} still {flow_run['state']['name']}"
        time.sleep(1)
    return dict(flow_run)


def page_text(dom: str) -> str:
    """What the page shows: the DOM without scripts, styles and tags, whitespace collapsed."""
    dom = re.sub(r"<(script|style)\b[^>]*>.*?</\1>", " ", dom, flags=re.DOTALL | re.IGNORECASE)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", dom)))


def test_the_ui_of_valley_serve_shows_its_flow_runs_and_the_validation_artifact(
    start_serve: Callable[..., Serving], chromium: Chromium, tmp_path: Path
) -> None:
    serving = start_serve("--validate-cron", "0 0 1 1 *")
    _, url, pid = serving.wait_for_start()
    assert not url.endswith(":4200")
    flow_run = run_now(f"{url}/api", "valley-etl/etl")
    assert flow_run["state"]["type"] == "COMPLETED", f"{flow_run['state']}\n{serving.output()}"
    # the UI (Prefect's default, under /v2) is a single-page app: it asks /ui-settings where the API is
    runs = page_text(chromium.dump_dom(f"{url}/v2/runs", tmp_path / "profile-runs", UI_RENDER_MS))
    assert "Unable to connect" not in runs and "Can't connect" not in runs, runs  # what a UI on port 4200 shows
    assert f"valley-etl / {flow_run['name']}" in runs and "Completed" in runs, runs
    artifacts = page_text(chromium.dump_dom(f"{url}/v2/artifacts", tmp_path / "profile-artifacts", UI_RENDER_MS))
    assert "valley-etl-validation" in artifacts, artifacts
    os.killpg(serving.process.pid, signal.SIGTERM)
    assert serving.process.wait(timeout=STOP_TIMEOUT_SECONDS) == 0, serving.output()
    assert_server_gone(pid, url)
