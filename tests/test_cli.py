import argparse
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.core.paths import ProjectPaths

VALLEY = Path(sys.executable).parent / "valley"


def valley(*args: str, api_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return subprocess.run([str(VALLEY), *args], capture_output=True, text=True, env=env, check=False, timeout=600)


def test_help_does_not_import_prefect_or_great_expectations() -> None:
    code = "import sys, flows.cli; flows.cli.build_parser(); print(sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'great_expectations')))"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"


def test_query_prints_a_table(published: ProjectPaths) -> None:
    completed = valley("--project", str(published.root), "query", "SELECT year, revenue_cny FROM revenue_by_year")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0].split() == ["year", "|", "revenue_cny"]
    assert lines[2].split()[0] == "2017" and lines[-1] == "(2 rows)"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("DELETE FROM figures", "read-only"),
        ("SELECT * FROM no_such_table", "no_such_table"),
    ],
)
def test_query_errors_are_one_paragraph_without_traceback(published: ProjectPaths, sql: str, expected: str) -> None:
    completed = valley("--project", str(published.root), "query", sql)
    assert completed.returncode == 1
    assert completed.stderr.startswith("valley query failed:") and expected in completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout


def test_query_without_a_published_warehouse_says_how_to_get_one(project: ProjectPaths) -> None:
    completed = valley("--project", str(project.root), "query", "SELECT 1")
    assert completed.returncode == 1 and "run `valley run`" in completed.stderr


def test_run_with_a_bad_record_names_file_and_line_and_exits_non_zero(
    project: ProjectPaths, prefect_api_url: str
) -> None:
    records = project.sources_dir / "big-data-valley" / "records" / "slogans.yaml"
    lines = records.read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if line.lstrip().startswith("quote:"))
    lines[number] = lines[number].replace("quote: ", "quote: NOT IN THE ARTICLE ", 1)
    records.write_text("".join(lines), encoding="utf-8")
    completed = valley("--project", str(project.root), "run", api_url=prefect_api_url)
    assert completed.returncode == 1
    assert f"slogans.yaml, line {number + 1}, field 'quote'" in completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout
    assert not project.warehouse.exists()


def subcommands() -> list[str]:
    from flows.cli import build_parser

    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(action.choices)


@pytest.mark.parametrize("command", subcommands())
def test_every_subcommand_help_says_what_it_does_with_an_example(command: str) -> None:
    from flows.cli import build_parser

    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    text = action.choices[command].format_help()
    description = text.split("\n\n")[1]
    assert not description.startswith(("options:", "positional")) and description.strip().endswith("."), text
    assert f"examples:\n  valley {command}" in text, text


def test_the_terminal_filter_drops_info_the_draining_warning_and_a_temporary_servers_link() -> None:
    from flows.terminal import QuietTerminal

    def shown(level: int, message: str, verbose: bool = False, temporary: bool = True) -> bool:
        record = logging.LogRecord("prefect.flow_runs", level, __file__, 1, message, None, None)
        return QuietTerminal(verbose, temporary).filter(record)

    assert not shown(logging.INFO, "Beginning flow run 'x' for flow 'valley-etl'")
    assert shown(logging.INFO, "Beginning flow run 'x' for flow 'valley-etl'", verbose=True)
    assert not shown(logging.WARNING, "Still processing items: 2 items remaining...", verbose=True)
    assert not shown(logging.INFO, "View at http://127.0.0.1:4444/runs/flow-run/1", verbose=True)
    assert shown(logging.INFO, "View at http://127.0.0.1:4200/runs/flow-run/1", verbose=True, temporary=False)
    assert shown(logging.WARNING, "a warning a user can act on")


def test_run_prints_the_summary(project: ProjectPaths, prefect_api_url: str) -> None:
    completed = valley("--project", str(project.root), "run", api_url=prefect_api_url)
    assert completed.returncode == 0, completed.stderr
    output = completed.stdout + completed.stderr
    assert "| INFO " not in output and "View at " not in output and "EventsWorker" not in output, output
    assert completed.stdout.startswith("valley run: published\n"), output
    assert "figures 18" in completed.stdout and "0 failed" in completed.stdout
    assert f"warehouse: {project.warehouse}" in completed.stdout
