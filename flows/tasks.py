"""Tasks both flows share: recording validation results."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.alerts import emit_new_findings
from flows.checks.validate import ValidationReport
from flows.core.paths import ProjectPaths
from flows.report.docs import build_data_docs
from flows.report.history import append_history, render_markdown, write_report

# log records with this attribute go to the Prefect run log; the CLI keeps them off the terminal, where
# its own summary lists the same findings
FINDING = {"valley_finding": True}


def log_findings(document: dict[str, Any]) -> None:
    logger = get_run_logger()
    for message in document["failures"]:
        logger.error("critical: %s", message, extra=FINDING)
    for message in document["warnings"]:
        logger.warning("warning: %s", message, extra=FINDING)
    for message in document["info"]:
        logger.info("info: %s", message, extra=FINDING)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def record_results(report: ValidationReport, document: dict[str, Any], paths: ProjectPaths) -> dict[str, Any]:
    """Write the JSON report, append to the history (once per run, however often retried), build Data Docs,
    log every finding to the run log, and publish a markdown artifact."""
    report_path = write_report(document, paths)
    append_history(document, report_path, paths)
    docs = build_data_docs(report.data_docs_site, report.outcomes, document, paths.data_docs_dir, paths.vendor_dir)
    log_findings(document)
    create_markdown_artifact(markdown=render_markdown(document), key=f"valley-{document['flow']}-validation")
    emit_new_findings(document)  # last, so a retry of this task does not emit them twice
    return {**document, "report_path": str(report_path), "data_docs": str(docs)}
