"""Where `valley run` reports: the project's own server when one is up, else a temporary one of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.core.paths import PROJECT_DIR, ProjectPaths
from flows.operate.server import RECORD, running_server
from flows.runtime import prefect_api, start_server_early


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


def server_children(home: Path) -> list[int]:
    """This process's children that are temporary Prefect servers on `home` (from /proc; the session's test
    server is a child too, on another home)."""
    from flows.runtime import SERVER_APP

    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            environment = (stat.parent / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if parent == os.getpid() and SERVER_APP in command and f"PREFECT_HOME={home}".encode() in environment:
            children.append(int(stat.parent.name))
    return children


@pytest.fixture
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """PREFECT_HOME in tmp for the environment (read before Prefect is) and for Prefect's settings alike; no API."""
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    home = tmp_path / "prefect-home"
    monkeypatch.setenv("PREFECT_HOME", str(home))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with temporary_settings(updates={PREFECT_HOME: str(home)}, restore_defaults={PREFECT_API_URL}):
        yield home


def test_prefect_api_starts_its_server_before_the_preload_and_stops_it_after(isolated_home: Path) -> None:
    from prefect.settings import get_current_settings

    from flows.operate.server import is_healthy

    during_preload: list[list[int]] = []
    with prefect_api(preload=lambda: during_preload.append(server_children(isolated_home))) as api_url:
        assert is_healthy(api_url)
        running = server_children(isolated_home)
        assert during_preload == [running] and len(running) == 1  # the same server, started before the imports
        assert len(list((isolated_home / "valley-servers").glob("*.json"))) == 1
        assert get_current_settings().flows.heartbeat_frequency is None
    assert server_children(isolated_home) == []
    assert not list((isolated_home / "valley-servers").glob("*.json"))


def test_prefect_api_stops_the_early_server_when_the_settings_name_an_api(isolated_home: Path) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    unused = "http://127.0.0.1:9/api"  # never contacted: no dead run to mark Crashed
    preloaded: list[bool] = []
    with temporary_settings(updates={PREFECT_API_URL: unused}), prefect_api(lambda: preloaded.append(True)) as api_url:
        assert api_url == unused
        assert server_children(isolated_home) == []  # stopped before the run, not left to its end
    assert preloaded == []  # nothing to wait for: the imports happen when the run needs them
    assert (isolated_home / "valley-servers").is_dir()  # one was started early (the environment names no API)
    assert not list((isolated_home / "valley-servers").glob("*.json"))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("profiles.toml", '[profiles.local]\nPREFECT_API_URL = "http://127.0.0.1:4200/api"\n'),
        ("prefect.toml", '[api]\nurl = "http://127.0.0.1:4200/api"\n'),
        ("pyproject.toml", '[tool.prefect.api]\nurl = "http://127.0.0.1:4200/api"\n'),
        (".env", "PREFECT_API_URL=http://127.0.0.1:4200/api\n"),
    ],
)
def test_start_server_early_is_skipped_when_a_settings_file_may_name_an_api(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str
) -> None:
    folder = isolated_home if name == "profiles.toml" else tmp_path / "cwd"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path / "cwd" if (tmp_path / "cwd").is_dir() else tmp_path)
    assert start_server_early() is None
    assert server_children(isolated_home) == []


def test_start_server_early_is_skipped_when_the_environment_names_an_api(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert start_server_early() is None
