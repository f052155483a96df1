"""The ETL flow: extract -> package -> validate -> publish, each stage a thin task over flows.steps."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.steps.expect import run_suites, write_suites
from flows.steps.extract import extract_tables
from flows.steps.package import read_schemas, stage_package, validate_package
from flows.steps.paths import ProjectPaths
from flows.steps.publish import StagedOutputs, publish_outputs, stage_warehouse
from flows.steps.validate import ValidationReport, raise_if_blocking

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
    """frictionless and the GX suites on the staged package; a blocking failure stops the flow here."""
    schemas = read_schemas(paths.schemas_dir)
    package_errors = validate_package(staged.package_dir / "datapackage.json")
    suites = {table: staged.expectations_dir / f"{table}.json" for table in schemas}
    report = ValidationReport(package_errors, run_suites(suites, schemas, staged.package_dir / "data"))
    raise_if_blocking(report)
    return report


@task(cache_policy=NO_CACHE)
def publish(staged: StagedOutputs, paths: ProjectPaths) -> list[Path]:
    """Build the warehouse beside the published one, then rename everything into place."""
    warehouse = stage_warehouse(read_schemas(paths.schemas_dir), staged.package_dir, paths)
    return publish_outputs(StagedOutputs(staged.package_dir, staged.expectations_dir, warehouse), paths)


@flow(name="valley-etl")
def etl(root: str | None = None) -> dict[str, Any]:
    """Run the whole pipeline on the project at `root` (default: this checkout) and summarize it."""
    paths = ProjectPaths(Path(root)) if root else ProjectPaths()
    paths.build_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=paths.build_dir))
    try:
        tables = extract(paths)
        staged = package(tables, paths, staging)
        report = validate(staged, paths)
        changed = publish(staged, paths)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {
        "tables": {name: len(rows) for name, rows in tables.items()},
        "checks": report.counts,
        "warnings": report.warnings,
        "warehouse": str(paths.warehouse),
        "changed": [str(path.relative_to(paths.root)) for path in changed],
    }
