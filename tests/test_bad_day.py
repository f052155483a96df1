"""A bad day, made deterministic: tampered outputs, a publish killed or paused mid-switch, a reader during a
publish, a dead run's server and lock, a steady schedule's freshness, and a release after a re-validation."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from flows.core.paths import PROJECT_DIR, ProjectPaths


def valley(paths: ProjectPaths, *arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "flows.cli", "--project", str(paths.root), *arguments]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR), **environment}
    return subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600)


def start_valley(paths: ProjectPaths, *arguments: str, **environment: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "flows.cli", "--project", str(paths.root), *arguments]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR), **environment}
    return subprocess.Popen(
        command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 300) -> None:
    """Wait for a condition another process signals (a barrier with a bound, not a timed guess)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def leftovers(paths: ProjectPaths) -> list[Path]:
    return [
        *paths.build_dir.glob("staging-*"),
        *paths.warehouse_dir.glob(".*.tmp*"),
        *paths.warehouse_dir.glob("*.wal"),
        *paths.snapshots_dir.glob("*"),
        *paths.kept_dir.glob(".*.tmp"),
        *paths.kept_facts_dir.glob(".*.tmp"),
        *([paths.journal] if paths.journal.exists() else []),
    ]


def change_an_input(paths: ProjectPaths) -> None:
    records = paths.sources_dir / "big-data-valley" / "records" / "slogans.yaml"
    text = records.read_text(encoding="utf-8")
    assert "medium: flier" in text
    records.write_text(text.replace("medium: flier", "medium: board", 1), encoding="utf-8")


def count_boards(paths: ProjectPaths) -> int:
    with duckdb.connect(str(paths.warehouse), read_only=True) as warehouse:
        return int(warehouse.execute("SELECT count(*) FROM slogans WHERE medium = 'board'").fetchone()[0])  # type: ignore[index]


def tamper_csv(paths: ProjectPaths) -> str:
    figures = paths.data_dir / "figures.csv"
    figures.write_text(figures.read_text(encoding="utf-8").replace("1632", "1633", 1), encoding="utf-8")
    return "datapackage/data/figures.csv did not match its descriptor"


def delete_csv(paths: ProjectPaths) -> str:
    (paths.data_dir / "quotes.csv").unlink()
    return "data/quotes.csv is missing"


def point_descriptor_outside(paths: ProjectPaths) -> str:
    descriptor = json.loads(paths.descriptor.read_text(encoding="utf-8"))
    descriptor["resources"][0]["path"] = "../../outside.csv"
    paths.descriptor.write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    return "points resource"


def garble_warehouse(paths: ProjectPaths) -> str:
    paths.warehouse.write_bytes(os.urandom(4096))
    return "warehouse/valley.duckdb is not the file the last publish wrote"


@pytest.mark.parametrize("tamper", [tamper_csv, delete_csv, point_descriptor_outside, garble_warehouse])
def test_a_tampered_output_is_repaired_by_the_next_run(
    published_copy: ProjectPaths, prefect_api_url: str, tamper: Callable[[ProjectPaths], str]
) -> None:
    expected = tamper(published_copy)
    run = valley(published_copy, "run", PREFECT_API_URL=prefect_api_url)
    assert run.returncode == 0, run.stderr
    assert "repaired:" in run.stdout and expected in run.stdout, run.stdout
    check = valley(published_copy, "validate", PREFECT_API_URL=prefect_api_url)
    assert check.returncode in (0, 2) and "integrity" not in check.stdout, check.stdout + check.stderr


@pytest.mark.parametrize(
    "hook", ["crash:after:figures.csv", "crash:after:datapackage.json", "crash:before:valley.duckdb"]
)
def test_a_publish_killed_mid_switch_is_consistent_then_completed_and_its_flow_run_crashed(
    published_copy: ProjectPaths, prefect_api_url: str, hook: str
) -> None:
    from prefect.client.orchestration import get_client

    boards = count_boards(published_copy)
    change_an_input(published_copy)
    killed = valley(published_copy, "run", PREFECT_API_URL=prefect_api_url, VALLEY_TEST_HOOK=hook)
    assert killed.returncode == 137, killed.stderr
    assert published_copy.journal.exists()
    run_id = json.loads(published_copy.journal.read_text(encoding="utf-8"))["manifest"]["run_id"]
    check = valley(published_copy, "validate", PREFECT_API_URL=prefect_api_url)
    assert check.returncode in (0, 2) and "integrity" not in check.stdout, check.stdout + check.stderr
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run_id).state
    assert state is not None and state.type.value == "CRASHED" and "died" in str(state.message)
    repair = valley(published_copy, "run", PREFECT_API_URL=prefect_api_url)
    assert repair.returncode == 0 and f"completed the publish of run {run_id}" in repair.stdout, repair.stdout
    assert leftovers(published_copy) == [] and count_boards(published_copy) == boards + 1


def test_a_run_killed_at_the_rename_of_its_journal_leaves_nothing_the_next_run_keeps(
    published_copy: ProjectPaths, prefect_api_url: str
) -> None:
    boards = count_boards(published_copy)
    change_an_input(published_copy)
    hook = "crash:before:rename:.publish-journal.json"
    killed = valley(published_copy, "run", PREFECT_API_URL=prefect_api_url, VALLEY_TEST_HOOK=hook)
    assert killed.returncode == 137, killed.stderr
    scratch = list(published_copy.warehouse_dir.glob("..publish-journal.json.*.tmp"))
    assert len(scratch) == 1 and not published_copy.journal.exists()
    assert count_boards(published_copy) == boards  # not committed: nothing published
    run = valley(published_copy, "run", PREFECT_API_URL=prefect_api_url)
    assert run.returncode == 0, run.stderr
    assert not scratch[0].exists() and leftovers(published_copy) == [] and count_boards(published_copy) == boards + 1


def test_a_run_killed_while_keeping_rows_leaves_kept_rows_used_whole_or_rebuilt(
    published_copy: ProjectPaths, prefect_api_url: str
) -> None:
    from tests.test_etl import add_second_source

    boards = count_boards(published_copy)
    add_second_source(published_copy)  # extracted first (folders in name order), kept whole before the kill
    change_an_input(published_copy)  # big-data-valley: killed before its kept rows are renamed into place
    hook = "crash:before:rename:big-data-valley.json"
    killed = valley(published_copy, "run", PREFECT_API_URL=prefect_api_url, VALLEY_TEST_HOOK=hook)
    assert killed.returncode == 137, killed.stderr
    assert len(list(published_copy.kept_dir.glob(".big-data-valley.json.*.tmp"))) == 1
    run = valley(published_copy, "run", PREFECT_API_URL=prefect_api_url)
    assert run.returncode == 0, run.stderr
    assert "sources:   2: 1 reused (kept rows), 1 extracted" in run.stdout, run.stdout
    assert "extracted: 1 edited: big-data-valley" in run.stdout and leftovers(published_copy) == []
    assert count_boards(published_copy) == boards + 1


def test_a_run_killed_while_keeping_facts_leaves_them_used_whole_or_made_again(
    published_copy: ProjectPaths, prefect_api_url: str
) -> None:
    from tests.test_etl import add_second_source

    boards = count_boards(published_copy)
    add_second_source(published_copy)  # its rows and facts are kept whole before the kill
    (published_copy.kept_facts_dir / "big-data-valley.json").unlink()  # rows reused, facts made: killed at their rename
    hook = "crash:before:rename:big-data-valley.json"
    killed = valley(published_copy, "run", PREFECT_API_URL=prefect_api_url, VALLEY_TEST_HOOK=hook)
    assert killed.returncode == 137, killed.stderr
    assert len(list(published_copy.kept_facts_dir.glob(".big-data-valley.json.*.tmp"))) == 1
    assert (published_copy.kept_facts_dir / "acme-park.json").is_file()
    run = valley(published_copy, "run", PREFECT_API_URL=prefect_api_url)
    assert run.returncode == 0, run.stderr
    assert "sources:   2: 2 reused (kept rows), 0 extracted" in run.stdout, run.stdout
    assert "validated: facts kept for 1 source(s), made for 1;" in run.stdout and leftovers(published_copy) == []
    assert count_boards(published_copy) == boards


def test_a_validation_during_a_publish_waits_for_the_switch_and_sees_one_generation(
    published_copy: ProjectPaths, prefect_api_url: str, tmp_path: Path
) -> None:
    change_an_input(published_copy)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    writer = start_valley(published_copy, "run", PREFECT_API_URL=prefect_api_url,
                          VALLEY_TEST_HOOK="pause:after:figures.csv", VALLEY_TEST_HOOK_DIR=str(hooks))  # fmt: skip
    wait_for(lambda: (hooks / "paused").exists() or writer.poll() is not None, "the publish to pause mid-switch")
    assert writer.poll() is None, writer.communicate()
    reader = start_valley(published_copy, "validate", PREFECT_API_URL=prefect_api_url, VALLEY_TEST_HOOK_DIR=str(hooks))
    wait_for(lambda: (hooks / "reader-waiting").exists() or reader.poll() is not None, "validate to reach the switch")
    (hooks / "resume").touch()
    out, err = reader.communicate(timeout=600)
    assert reader.returncode in (0, 2) and "integrity" not in out, out + err
    writer_out, writer_err = writer.communicate(timeout=600)
    assert writer.returncode == 0 and "valley run: published" in writer_out, writer_err


def test_a_killed_run_leaks_no_server_no_lock_and_no_files(published_copy: ProjectPaths, tmp_path: Path) -> None:
    home = tmp_path / "prefect-home"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    environment = {"PREFECT_HOME": str(home), "VALLEY_TEST_HOOK_DIR": str(hooks)}  # no API: a temporary server
    change_an_input(published_copy)
    run = start_valley(published_copy, "run", VALLEY_TEST_HOOK="pause:before:datapackage.json", **environment)
    wait_for(lambda: (hooks / "paused").exists() or run.poll() is not None, "the publish to pause")
    assert run.poll() is None, run.communicate()
    servers = [json.loads(p.read_text()) for p in (home / "valley-servers").glob("*.json")]
    flow_runs = [json.loads(p.read_text())["flow_run_id"] for p in (home / "valley-runs").glob("*.json")]
    assert len(servers) == 1 and len(flow_runs) == 1
    os.kill(run.pid, signal.SIGKILL)
    run.communicate()
    wait_for(lambda: not Path(f"/proc/{servers[0]['server']}").exists(), "the temporary server to die", 30)
    after = valley(published_copy, "run", "--lock-timeout", "5", **environment)
    assert after.returncode == 0, after.stderr
    assert "completed the publish of run" in after.stdout and leftovers(published_copy) == []
    # the next run started a temporary server of its own, which marked the dead run Crashed
    validate = valley(published_copy, "validate", **environment)
    assert validate.returncode in (0, 2), validate.stderr
    with sqlite3.connect(home / "prefect.db") as database:
        state = database.execute("SELECT state_type FROM flow_run WHERE id = ?", [flow_runs[0]]).fetchone()
    assert state == ("CRASHED",)
    assert list((home / "valley-servers").glob("*.json")) == []


def age_history(paths: ProjectPaths, hours: int) -> None:
    with duckdb.connect(str(paths.history)) as history:
        history.execute(f"UPDATE runs SET finished_at = finished_at - INTERVAL {hours} HOUR")


def test_a_skipped_run_counts_as_fresh_and_zero_means_zero(published_copy: ProjectPaths, prefect_api_url: str) -> None:
    age_history(published_copy, 72)
    stale = valley(published_copy, "validate", PREFECT_API_URL=prefect_api_url)
    assert "freshness" in stale.stdout, stale.stdout
    skipped = valley(published_copy, "run")  # decided before Prefect starts: needs no API
    assert skipped.returncode == 0 and "nothing changed since the last publish" in skipped.stdout
    with duckdb.connect(str(published_copy.history), read_only=True) as history:
        assert history.execute("SELECT count(*) FROM runs WHERE status = 'unchanged'").fetchone() == (1,)
    fresh = valley(published_copy, "validate", PREFECT_API_URL=prefect_api_url)
    assert fresh.returncode in (0, 2) and "freshness" not in fresh.stdout, fresh.stdout
    zero = valley(published_copy, "validate", "--max-age-hours", "0", PREFECT_API_URL=prefect_api_url)
    assert "freshness" in zero.stdout, zero.stdout


def test_a_release_after_a_validation_carries_the_validation_of_the_build(
    published_copy: ProjectPaths, prefect_api_url: str
) -> None:
    from flows.publish.release import cut_release
    from flows.publish.switch import read_manifest

    check = valley(published_copy, "validate", PREFECT_API_URL=prefect_api_url)
    assert check.returncode in (0, 2)
    release = cut_release(published_copy)
    validation = json.loads((release.directory / "validation.json").read_text(encoding="utf-8"))
    assert validation["run_id"] == read_manifest(published_copy)["run_id"] and validation["flow"] == "etl"
    page = (release.directory / "index.html").read_text(encoding="utf-8")
    assert "Validation: unknown" not in page and f"Validation: {validation['status']}" in page


def test_the_history_names_runs_by_their_prefect_flow_run_id_and_findings_reach_its_log(
    published: ProjectPaths,
) -> None:
    from prefect.client.orchestration import get_client

    with duckdb.connect(str(published.history), read_only=True) as history:
        rows = history.execute("SELECT run_id FROM runs WHERE flow = 'etl' AND published").fetchall()
    assert len(rows) == 1
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    with get_client(sync_client=True) as client:
        assert client.read_flow_run(rows[0][0]).state.is_completed()  # type: ignore[union-attr]
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[rows[0][0]])))
    report = json.loads((published.build_dir / "reports" / "latest.json").read_text(encoding="utf-8"))
    assert report["info"] and all(any(m in log.message for log in logs) for m in report["info"])


@pytest.mark.parametrize(
    "name",
    ["warehouse/publish.json", "warehouse/sources.json", "build/kept/x.json", "warehouse/..publish-journal.json.1.tmp",
     "warehouse/.publish-journal.json", "warehouse/.switch.lock", "warehouse/.publish.lock",
     "warehouse/.quality.duckdb.abc.tmp", "warehouse/.quality.duckdb.abc.tmp.wal", "warehouse/valley.duckdb.wal",
     "build/staging-abc/warehouse.duckdb.wal", ".prefect/valley-runs/x.json"],
)  # fmt: skip
def test_temporary_files_never_show_in_git_status(name: str) -> None:
    ignored = subprocess.run(["git", "check-ignore", "--no-index", "-q", name], cwd=PROJECT_DIR, check=False)
    assert ignored.returncode == 0, f"{name} is not ignored"
