import datetime as dt
import json
from pathlib import Path

import duckdb

from flows.checks.expect import CheckResult
from flows.checks.validate import ValidationReport
from flows.core.paths import ProjectPaths
from flows.report.history import append_history, build_report, last_publish, render_markdown, write_report

STARTED = dt.datetime(2026, 11, 28, 10, 0, 0)


def report(*checks: tuple[str, bool]) -> ValidationReport:
    return ValidationReport(
        [],
        [
            CheckResult("figures", "expect_x", "value", s, ok, "" if ok else f"figures row 'a' field 'value' {s}")
            for s, ok in checks
        ],
    )


def record(paths: ProjectPaths, validation: ValidationReport, flow: str = "etl", published: bool = True) -> dict:
    document = build_report(validation, flow, STARTED, published)
    append_history(document, write_report(document, paths), paths)
    return document


def test_status_and_worst_severity_follow_the_failures() -> None:
    assert build_report(report(("critical", True)), "etl", STARTED, True)["status"] == "passed"
    warned = build_report(report(("warning", False), ("info", False)), "etl", STARTED, True)
    assert (warned["status"], warned["worst_severity"]) == ("warned", "warning")
    failed = build_report(report(("warning", False), ("critical", False)), "etl", STARTED, False)
    assert (failed["status"], failed["worst_severity"], failed["checks"]["failed"]) == ("failed", "critical", 1)


def test_history_is_queryable_by_severity(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    first = record(paths, report(("critical", True), ("warning", False)))
    record(paths, report(("critical", False)), flow="validate", published=False)
    connection = duckdb.connect(str(paths.history), read_only=True)
    warnings = connection.execute(
        "SELECT run_id, message FROM results WHERE severity = 'warning' AND NOT success"
    ).fetchall()
    runs = connection.execute("SELECT flow, status, published FROM runs ORDER BY finished_at, flow").fetchall()
    connection.close()
    assert warnings == [(first["run_id"], "figures row 'a' field 'value' warning")]
    assert sorted(runs) == [("etl", "warned", True), ("validate", "failed", False)]


def test_a_reader_holding_the_history_open_keeps_its_snapshot(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    record(paths, report(("critical", True)))
    reader = duckdb.connect(str(paths.history), read_only=True)
    record(paths, report(("critical", True)))
    assert reader.execute("SELECT count(*) FROM runs").fetchone() == (1,)
    reader.close()
    fresh = duckdb.connect(str(paths.history), read_only=True)
    assert fresh.execute("SELECT count(*) FROM runs").fetchone() == (2,)
    fresh.close()
    assert not list(paths.warehouse_dir.glob(".*.tmp"))


def test_latest_report_is_the_last_run(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    record(paths, report(("critical", True)))
    second = record(paths, report(("warning", False)))
    latest = json.loads((paths.build_dir / "reports" / "latest.json").read_text(encoding="utf-8"))
    assert latest["run_id"] == second["run_id"] and latest["warnings"] == ["figures row 'a' field 'value' warning"]
    assert len(list((paths.build_dir / "reports").glob("*-etl-*.json"))) == 2


def test_last_publish_ignores_runs_that_did_not_publish(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    assert last_publish(paths) is None
    record(paths, report(("critical", False)), published=False)
    assert last_publish(paths) is None
    document = record(paths, report(("critical", True)))
    assert last_publish(paths) == dt.datetime.fromisoformat(document["finished_at"])


def test_markdown_summary_lists_warnings_and_failures() -> None:
    text = render_markdown(build_report(report(("warning", False), ("critical", False)), "etl", STARTED, False))
    assert text.startswith("# valley etl: failed")
    assert "## Blocking failures\n\n- figures row 'a' field 'value' critical" in text
    assert "## Warnings\n\n- figures row 'a' field 'value' warning" in text


def test_a_retried_append_writes_the_run_once_and_leftovers_of_a_dead_writer_go(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    document = record(paths, report(("warning", False), ("critical", True)))
    leftover = paths.history.with_name(f".{paths.history.name}.dead.tmp.wal")
    leftover.write_bytes(b"half a write")
    append_history(document, write_report(document, paths), paths)  # the retry of the same task
    with duckdb.connect(str(paths.history), read_only=True) as history:
        assert history.execute("SELECT count(*) FROM runs").fetchone() == (1,)
        assert history.execute("SELECT count(*) FROM results").fetchone() == (2,)
    assert not leftover.exists()


def test_a_run_that_found_nothing_to_do_counts_as_fresh(tmp_path: Path) -> None:
    from flows.report.history import unchanged_report

    paths = ProjectPaths(tmp_path)
    record(paths, report(("critical", False)), published=False)
    assert last_publish(paths) is None
    document = unchanged_report("skip-1", STARTED, "build-1")
    append_history(document, write_report(document, paths), paths)
    assert last_publish(paths) == dt.datetime.fromisoformat(document["finished_at"])
    with duckdb.connect(str(paths.history), read_only=True) as history:
        assert history.execute("SELECT status, build_run_id FROM runs WHERE run_id = 'skip-1'").fetchone() == (
            "unchanged",
            "build-1",
        )
