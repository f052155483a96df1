"""Where `valley run` reports: the project's own server when one is up, else a temporary one of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flows.steps.paths import PROJECT_DIR, ProjectPaths
from flows.steps.server import RECORD, running_server


def test_a_run_uses_the_projects_running_server_instead_of_a_temporary_one(
    published_copy: ProjectPaths, tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    home = tmp_path / "prefect-home"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    with running_server(home, env) as server:
        assert (home / RECORD).is_file()
        command = [sys.executable, "-m", "flows.cli", "--project", str(published_copy.root), "run", "--refresh"]
        run = subprocess.run(command, cwd=PROJECT_DIR, env={**env, "PREFECT_HOME": str(home)},
                             capture_output=True, text=True, timeout=600)  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert f"using the project's Prefect server at {server.api_url}" in run.stderr
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}), get_client(sync_client=True) as client:
            runs = client.read_flow_runs()
        assert [r.state_name for r in runs] == ["Completed"]
    assert not (home / RECORD).exists()
