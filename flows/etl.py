"""The ETL flow: extract -> package -> validate -> publish, each stage a thin task over flows.steps."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.steps.expect import write_suites
from flows.steps.extract import extract_tables
from flows.steps.package import read_schemas, stage_package
from flows.steps.paths import ProjectPaths
from flows.steps.publish import StagedOutputs, publish_outputs, stage_warehouse
from flows.steps.quality import now
from flows.steps.validate import ValidationReport, check_package, raise_if_blocking
from flows.tasks import record_results

Rows = dict[str, list[dict[str, Any]]]


@task(cache_policy=NO_CACHE)
def extract(paths: ProjectPaths) -> Rows:
    """Rows of every table, parsed from each source's evidence records."""
    return extract_tables(paths.sources_dir)


@task(cache_policy=NO_CACHE)
def package(tables: Rows, paths: ProjectPaths, staging: Path) -> StagedOutputs:
    """CSVs, descriptor and suites written into the staging folder."""
    descriptor = stage_package(tables, paths, staging)
    write_suites(read_schemas(paths.schemas_dir), paths.expectations_dir, staging / "expectations")
    return StagedOutputs(descriptor.parent, staging / "expectations", staging / "warehouse.duckdb")


@task(cache_policy=NO_CACHE)
def validate(staged: StagedOutputs, paths: ProjectPaths) -> ValidationReport:
    """frictionless, the table suites (staged) and the audit suites on the staged package."""
    schemas = read_schemas(paths.schemas_dir)
    return check_package(staged.package_dir, schemas, staged.expectations_dir, paths.expectations_dir)


@task(cache_policy=NO_CACHE)
def publish(staged: StagedOutputs, paths: ProjectPaths) -> list[Path]:
    """Build the warehouse beside the published one, then rename everything into place."""
    warehouse = stage_warehouse(read_schemas(paths.schemas_dir), staged.package_dir, paths)
    return publish_outputs(StagedOutputs(staged.package_dir, staged.expectations_dir, warehouse), paths)


@flow(name="valley-etl")
def etl(root: str | None = None) -> dict[str, Any]:
    """Run the whole pipeline on the project at `root` (default: this checkout) and summarize it."""
    paths = ProjectPaths(Path(root)) if root else ProjectPaths()
    started_at = now()
    paths.build_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=paths.build_dir))
    published = False
    try:
        tables = extract(paths)
        staged = package(tables, paths, staging)
        report = validate(staged, paths)
        try:
            raise_if_blocking(report)
            changed = publish(staged, paths)
            published = True
        finally:
            document = record_results(report, paths, "etl", started_at, published)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {
        "tables": {name: len(rows) for name, rows in tables.items()},
        "checks": report.counts,
        "warnings": report.warnings,
        "warehouse": str(paths.warehouse),
        "report": document["report_path"],
        "data_docs": document["data_docs"],
        "changed": [str(path.relative_to(paths.root)) for path in changed],
    }
