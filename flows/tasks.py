"""Tasks both flows share: recording validation results."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.steps.docs import build_data_docs
from flows.steps.paths import ProjectPaths
from flows.steps.quality import append_history, build_report, render_markdown, write_report
from flows.steps.validate import ValidationReport


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def record_results(
    report: ValidationReport, paths: ProjectPaths, flow: str, started_at: dt.datetime, published: bool
) -> dict[str, Any]:
    """Write the JSON report, append to the history, build Data Docs, and publish a markdown artifact."""
    document = build_report(report, flow, started_at, published)
    report_path = write_report(document, paths)
    append_history(document, report_path, paths)
    docs = build_data_docs(report.outcomes, document, paths.data_docs_dir, paths.vendor_dir)
    create_markdown_artifact(markdown=render_markdown(document), key=f"valley-{flow}-validation")
    return {**document, "report_path": str(report_path), "data_docs": str(docs)}
