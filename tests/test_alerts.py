"""Alerts as code: `valley serve` makes its automations on its own server, and they notify a webhook.

A real `valley serve` (its own Prefect server on loopback) and an HTTP receiver on 127.0.0.1 written for the
test. Every wait is a bounded poll for a condition."""

import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from flows.alerts import FAILED, FINDING, NAMES, STALE, AlertsStatus, alert_address
from flows.core.paths import ProjectPaths
from tests.test_serve import Serving, serve_env
from tests.test_serve import call_api as call_api_once

VALLEY = Path(sys.executable).parent / "valley"
START_TIMEOUT_SECONDS = 150
RUN_TIMEOUT_SECONDS = 240
NOTIFY_TIMEOUT_SECONDS = 60
FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


class Receiver:
    """Records the JSON body of every POST it is sent."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append(json.loads(body or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.received = received
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def bodies(self) -> list[str]:
        return [str(item.get("body")) for item in self.received]

    def wait_for(self, count: int) -> list[str]:
        deadline = time.monotonic() + NOTIFY_TIMEOUT_SECONDS
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} notifications: {self.bodies()}"
            time.sleep(0.5)
        return self.bodies()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    listening = Receiver()
    yield listening
    listening.close()


def test_no_address_means_alerts_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VALLEY_ALERT_WEBHOOK", raising=False)
    assert alert_address(tmp_path) is None
    assert AlertsStatus(None).line().startswith("off (set VALLEY_ALERT_WEBHOOK or [tool.valley] alert_webhook")
    (tmp_path / "pyproject.toml").write_text('[tool.valley]\nalert_webhook = "http://127.0.0.1:9/x"\n')
    assert alert_address(tmp_path) == "http://127.0.0.1:9/x"
    monkeypatch.setenv("VALLEY_ALERT_WEBHOOK", "https://example.invalid/hook")
    assert alert_address(tmp_path) == "https://example.invalid/hook"


def call_api(api_url: str, path: str, body: object = None) -> Any:
    """The server's API; a busy SQLite answers 503 for a moment (Prefect's own client retries it too)."""
    for attempt in range(10):
        try:
            return call_api_once(api_url, path, body)
        except urllib.error.HTTPError as error:
            if error.code != 503 or attempt == 9:
                raise
            time.sleep(0.5 * (attempt + 1))
    return None


def valley_automations(api_url: str) -> list[dict[str, Any]]:
    return [a for a in call_api(api_url, "automations/filter", {}) if a["name"] in NAMES]


def run_deployment(api_url: str, deployment: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """A run of the deployment, due now, with these parameters; waits (bounded) for its final state."""
    deployment_id = call_api(api_url, f"deployments/name/{deployment}")["id"]
    flow_run = call_api(api_url, f"deployments/{deployment_id}/create_flow_run", {"parameters": parameters})
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while (flow_run := call_api(api_url, f"flow_runs/{flow_run['id']}"))["state"]["type"] not in FINAL_STATES:
        assert time.monotonic() < deadline, f"{deployment} still {flow_run['state']['name']}"
        time.sleep(1)
    return dict(flow_run)


def test_serve_makes_automations_that_notify_new_findings_and_failed_runs_once(
    published: ProjectPaths, tmp_path: Path, receiver: Receiver
) -> None:
    project = tmp_path / "project"
    shutil.copytree(published.root, project, ignore=shutil.ignore_patterns(".prefect"))
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    # the runner looks for due runs every 2 s rather than every 10 (the test's runs start sooner)
    env = {**serve_env(), "VALLEY_ALERT_WEBHOOK": receiver.url, "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    yearly = "0 0 1 1 *"  # nothing fires by schedule while the test runs
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [str(VALLEY), "--project", str(project), "serve", "--etl-cron", yearly, "--validate-cron", yearly],
            stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, start_new_session=True,
        )  # fmt: skip
    serving = Serving(process, stdout, stderr)
    try:
        text, url, _ = serving.wait_for_start()
        api = f"{url}/api"
        assert f"alerts:    on, to {receiver.url}" in text, text
        automations = valley_automations(api)
        assert sorted(a["name"] for a in automations) == sorted(NAMES)
        stale = next(a for a in automations if a["name"] == STALE)["trigger"]
        assert stale["posture"] == "Proactive" and stale["within"] == 48 * 3600.0, stale

        # only accepted findings (the article's info findings): no notification
        quiet = run_deployment(api, "valley-validate/validate", {})
        assert quiet["state"]["name"] == "Completed", quiet["state"]
        # a new finding: the publish is older than 0 hours
        warned = run_deployment(api, "valley-validate/validate", {"max_age_hours": 0})
        assert warned["state"]["name"] == "Warned", warned["state"]
        # a failed run: nothing is published in an empty folder
        empty = tmp_path / "empty"
        empty.mkdir()
        failed = run_deployment(api, "valley-validate/validate", {"root": str(empty)})
        assert failed["state"]["type"] == "FAILED", failed["state"]

        bodies = receiver.wait_for(2)
        about = {name: [b for b in bodies if name in b] for name in (quiet["name"], warned["name"], failed["name"])}
        assert about[quiet["name"]] == [], bodies
        (finding,) = about[warned["name"]]
        assert "deployment valley-validate/validate" in finding and "new warning finding" in finding
        assert "table runs, key etl, field finished_at" in finding, finding
        (crash,) = about[failed["name"]]
        assert "of deployment valley-validate/validate ended Failed" in crash, crash
        assert "nothing is published" in crash, crash

        # starting again (here: make server's entry point on the same server) duplicates nothing
        again = subprocess.run(
            [sys.executable, "-m", "flows.alerts", "ensure", "--project", str(project)],
            capture_output=True, text=True, timeout=120, check=False, env={**env, "PREFECT_API_URL": api},
        )  # fmt: skip
        assert again.returncode == 0 and again.stdout.startswith("alerts: on"), again.stdout + again.stderr
        assert sorted(a["name"] for a in valley_automations(api)) == sorted(NAMES)
        assert {a["id"] for a in valley_automations(api)} == {a["id"] for a in automations}
        assert len(receiver.received) == 2, receiver.bodies()
    finally:
        serving.stop()
    assert process.returncode == 0, serving.output()
    assert FAILED in NAMES and FINDING in NAMES
