"""Validation reports as JSON and a queryable history (quality.duckdb), replaced copy-on-write under a lock."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
from filelock import FileLock

from flows.checks.validate import ValidationReport
from flows.core.paths import ProjectPaths
from flows.package.warehouse import STORAGE_VERSION
from flows.report.findings import (
    Entry,
    classify,
    counts_by_class,
    describe,
    findings_markdown,
    findings_of,
    new_of,
)

HISTORY_DDL = [
    """CREATE TABLE IF NOT EXISTS runs (
        run_id VARCHAR PRIMARY KEY, flow VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL, status VARCHAR NOT NULL, worst_severity VARCHAR,
        passed INTEGER NOT NULL, warned INTEGER NOT NULL, failed INTEGER NOT NULL, info INTEGER NOT NULL,
        published BOOLEAN NOT NULL, report_path VARCHAR NOT NULL)""",
    # added later: the run that built the published state a run checked or found unchanged
    "ALTER TABLE runs ADD COLUMN IF NOT EXISTS build_run_id VARCHAR",
    """CREATE TABLE IF NOT EXISTS results (
        run_id VARCHAR NOT NULL REFERENCES runs (run_id), check_index INTEGER NOT NULL, suite VARCHAR NOT NULL,
        expectation VARCHAR NOT NULL, column_name VARCHAR, severity VARCHAR NOT NULL, success BOOLEAN NOT NULL,
        message VARCHAR, checked_at TIMESTAMP NOT NULL, PRIMARY KEY (run_id, check_index))""",
    # added with accepted findings: each run's findings (failing rows of warning, info or critical checks) and
    # the accepted entries that no longer occur, classified new, accepted or resolved
    """CREATE TABLE IF NOT EXISTS findings (
        run_id VARCHAR NOT NULL REFERENCES runs (run_id), fingerprint VARCHAR NOT NULL, suite VARCHAR NOT NULL,
        check_name VARCHAR NOT NULL, table_name VARCHAR NOT NULL, key VARCHAR NOT NULL, field VARCHAR NOT NULL,
        severity VARCHAR, class VARCHAR NOT NULL, note VARCHAR, PRIMARY KEY (run_id, fingerprint))""",
    # added with record locations: the records file and line a finding's row came from, when it came from one
    "ALTER TABLE findings ADD COLUMN IF NOT EXISTS record VARCHAR",
    "COMMENT ON TABLE findings IS 'Every finding of every run by its fingerprint (suite, check, table, key, "
    "field), classified: new, accepted (listed in expectations/accepted.yaml), or resolved (accepted but no longer "
    "occurring: a stale entry).'",
    "COMMENT ON TABLE runs IS 'One row per run (ETL or scheduled re-validation), newest last; run_id is the Prefect "
    "flow-run id. status: passed, warned, failed, or unchanged (an ETL run that verified nothing changed).'",
    "COMMENT ON TABLE results IS 'Every expectation of every run: suite, severity, outcome, and for a failure "
    "a message naming table, row and field.'",
]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def status_of(report: ValidationReport) -> str:
    counts = report.counts
    return "failed" if counts["failed"] else "warned" if counts["warned"] else "passed"


def build_report(
    report: ValidationReport,
    flow: str,
    started_at: dt.datetime,
    published: bool,
    run_id: str | None = None,
    build_run_id: str | None = None,
    accepted: Sequence[Entry] = (),
) -> dict[str, Any]:
    """The JSON document for one run: counts, warnings, failures, every check, and every finding classified as
    new, accepted or resolved against the accepted findings. The status follows new findings only."""
    results = [asdict(check) for check in report.checks]
    classified = classify(findings_of(results), accepted, {check.suite for check in report.checks}, now().date())
    new_warnings = new_of(classified["findings"], "warning")
    status = status_of(report)
    if status == "warned" and not new_warnings:
        status = "passed"  # every warning is accepted
    return {
        "run_id": run_id or uuid.uuid4().hex,
        "build_run_id": build_run_id or (run_id if published else None),
        "flow": flow,
        "started_at": started_at.isoformat(),
        "finished_at": now().isoformat(),
        "status": status,
        "worst_severity": report.worst_severity,
        "published": published,
        "checks": report.counts,
        "warnings": report.warnings,
        "failures": report.blocking,
        "info": [check.message for check in report.failed("info")],
        "findings": classified["findings"],
        "resolved": classified["resolved"],
        "finding_counts": counts_by_class(classified),
        "new_warnings": [describe(row) for row in new_warnings],
        "results": results,
    }


def summarize_report(document: dict[str, Any]) -> dict[str, Any]:
    """The validation a published build carries with it (its manifest): everything but the per-check list."""
    return {key: value for key, value in document.items() if key not in ("results", "published", "report_path")}


def unchanged_report(run_id: str, started_at: dt.datetime, build_run_id: str | None) -> dict[str, Any]:
    """The document of an ETL run that verified the published outputs and found nothing to do."""
    document = build_report(ValidationReport(), "etl", started_at, False, run_id, build_run_id)
    return {**document, "status": "unchanged"}


def write_report(document: dict[str, Any], paths: ProjectPaths) -> Path:
    """build/reports/<finished>-<flow>-<run>.json, and latest.json replaced atomically beside it."""
    reports = paths.build_dir / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    stamp = document["finished_at"].replace(":", "").replace("-", "")
    path = reports / f"{stamp}-{document['flow']}-{document['run_id'][:8]}.json"
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    latest = reports / f".latest-{document['run_id']}.tmp"
    latest.write_text(text, encoding="utf-8")
    os.replace(latest, reports / "latest.json")
    return path


def append_history(document: dict[str, Any], report_path: Path, paths: ProjectPaths) -> Path:
    """Append a run to the history: a copy gets the rows and replaces the file, so readers never wait."""
    target = paths.history
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock", timeout=120):
        for leftover in target.parent.glob(f".{target.name}.*.tmp*"):  # a dead writer's; we hold the lock
            leftover.unlink(missing_ok=True)
        scratch = target.with_name(f".{target.name}.{document['run_id']}.tmp")
        if target.exists():
            shutil.copyfile(target, scratch)
        connection = duckdb.connect()
        try:
            connection.execute(f"ATTACH '{scratch}' AS quality (STORAGE_VERSION '{STORAGE_VERSION}')")
            connection.execute("USE quality")
            for statement in HISTORY_DDL:
                connection.execute(statement)
            counts = document["checks"]
            # a retried task writes the same run again: replace it rather than add a second copy
            connection.execute("DELETE FROM findings WHERE run_id = ?", [document["run_id"]])
            connection.execute("DELETE FROM results WHERE run_id = ?", [document["run_id"]])
            connection.execute("DELETE FROM runs WHERE run_id = ?", [document["run_id"]])
            connection.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [document["run_id"], document["flow"], document["started_at"], document["finished_at"],
                 document["status"], document["worst_severity"], counts["passed"], counts["warned"],
                 counts["failed"], counts["info"], document["published"], str(report_path),
                 document.get("build_run_id")],
            )  # fmt: skip
            results = [[document["run_id"], index, r["suite"], r["expectation"], r["column"], r["severity"],
                        r["success"], r["message"] or None, document["finished_at"]]
                       for index, r in enumerate(document["results"])]  # fmt: skip
            if results:  # a run that found nothing to do checked nothing
                connection.executemany("INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", results)
            findings = [[document["run_id"], f["fingerprint"], f["suite"], f["check"], f["table"], f["key"], f["field"],
                         f["severity"], f["class"], f["note"], f.get("record")]
                        for f in document.get("findings", []) + document.get("resolved", [])]  # fmt: skip
            if findings:
                connection.executemany("INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", findings)
            connection.execute("CHECKPOINT quality")
            connection.execute("USE memory")
            connection.execute("DETACH quality")
        finally:
            connection.close()
        os.replace(scratch, target)
    return target


def last_publish(paths: ProjectPaths) -> dt.datetime | None:
    """When an ETL run last succeeded (published, or verified that nothing changed); None when none has."""
    target = paths.history
    if not target.exists():
        return None
    connection = duckdb.connect(str(target), read_only=True)
    try:
        row = connection.execute(
            "SELECT max(finished_at) FROM runs WHERE flow = 'etl' AND (published OR status = 'unchanged')"
        ).fetchone()
    finally:
        connection.close()
    return row[0] if row else None


def render_markdown(document: dict[str, Any]) -> str:
    """The run summary as a Prefect markdown artifact."""
    counts = document["checks"]
    lines = [
        f"# valley {document['flow']}: {document['status']}",
        "",
        f"{counts['passed']} passed, {counts['warned']} warned, {counts['failed']} failed, {counts['info']} info.",
        f"Published: {'yes' if document['published'] else 'no'}.",
    ]
    sections = (
        ("Blocking failures", document["failures"]),
        ("Warnings", document["warnings"]),
        ("Info", document["info"]),
    )
    for title, items in sections:
        if items:
            lines += ["", f"## {title}", ""] + [f"- {item}" for item in items]
    lines += findings_markdown(document)
    return "\n".join(lines) + "\n"
