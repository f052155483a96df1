"""The ETL flow: extract -> package -> validate -> publish, each stage a thin task over flows.steps."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from prefect import Task, flow, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State

from flows.steps.expect import write_suites
from flows.steps.extract import extract_folder, list_sources, merge_tables
from flows.steps.inputs import changed_stages, stage_keys
from flows.steps.package import read_schemas, stage_package
from flows.steps.paths import ProjectPaths
from flows.steps.publish import StagedOutputs, publish_lock, publish_outputs, stage_warehouse
from flows.steps.quality import now
from flows.steps.records import InputError
from flows.steps.validate import ValidationReport, check_package, raise_if_blocking
from flows.steps.warehouse import read_build_keys
from flows.tasks import record_results

Rows = dict[str, list[dict[str, Any]]]
DEFAULT_LOCK_TIMEOUT_SECONDS = 600.0


def retry_on_io_error(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry what a retry can fix (a file briefly unreadable), never a bad record or a failed check."""
    try:
        state.result()
    except OSError:
        return True
    except Exception:
        return False
    return False


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, retry_condition_fn=retry_on_io_error)
def extract(folder: Path) -> Rows:
    """Rows of every table from one source folder's snapshot and evidence records."""
    return extract_folder(folder)


@task(cache_policy=NO_CACHE, timeout_seconds=300)
def package(tables: Rows, paths: ProjectPaths, staging: Path) -> StagedOutputs:
    """CSVs, descriptor and suites written into the staging folder."""
    descriptor = stage_package(tables, paths, staging)
    write_suites(read_schemas(paths.schemas_dir), paths.expectations_dir, staging / "expectations")
    return StagedOutputs(descriptor.parent, staging / "expectations", staging / "warehouse.duckdb")


@task(cache_policy=NO_CACHE, timeout_seconds=900)
def validate(staged: StagedOutputs, paths: ProjectPaths) -> ValidationReport:
    """frictionless, the table suites (staged) and the audit suites on the staged package."""
    schemas = read_schemas(paths.schemas_dir)
    return check_package(staged.package_dir, schemas, staged.expectations_dir, paths.expectations_dir)


@task(
    cache_policy=NO_CACHE, timeout_seconds=300, retries=2, retry_delay_seconds=1, retry_condition_fn=retry_on_io_error
)
def publish(staged: StagedOutputs, paths: ProjectPaths, keys: dict[str, str]) -> list[Path]:
    """Build the warehouse beside the published one, then rename everything into place."""
    warehouse = stage_warehouse(read_schemas(paths.schemas_dir), staged.package_dir, paths, keys)
    return publish_outputs(StagedOutputs(staged.package_dir, staged.expectations_dir, warehouse), paths)


def extract_all(paths: ProjectPaths) -> Rows:
    """Extraction mapped over every source folder (in parallel on the flow's task runner)."""
    futures = extract.map(list_sources(paths.sources_dir))
    outcomes: list[Any] = [future.result(raise_on_failure=False) for future in futures]
    problems = [problem for outcome in outcomes if isinstance(outcome, InputError) for problem in outcome.problems]
    if problems:
        raise InputError(problems)
    failed = next((outcome for outcome in outcomes if isinstance(outcome, BaseException)), None)
    if failed:
        raise failed
    return merge_tables(outcomes)


def unchanged_since_publish(paths: ProjectPaths) -> dict[str, str] | None:
    """The input keys, when the published outputs were built from exactly these inputs; None otherwise."""
    current = stage_keys(paths)
    published_files = paths.descriptor.is_file() and paths.data_dir.is_dir()
    return current if published_files and read_build_keys(paths.warehouse) == current else None


@flow(name="valley-etl")
def etl(
    root: str | None = None, refresh: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT_SECONDS
) -> dict[str, Any]:
    """Run the pipeline on the project at `root` (default: this checkout), one run at a time; skip it
    when no input changed since the last publish, unless `refresh`."""
    paths = ProjectPaths(Path(root)) if root else ProjectPaths()
    with publish_lock(paths, lock_timeout):
        unchanged = None if refresh else unchanged_since_publish(paths)
        if unchanged:
            return {"skipped": True, "input_key": unchanged["publish"], "warehouse": str(paths.warehouse)}
        return run_pipeline(paths)


def run_pipeline(paths: ProjectPaths) -> dict[str, Any]:
    started_at = now()
    previous = read_build_keys(paths.warehouse)
    paths.build_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=paths.build_dir))
    published = False
    try:
        tables = extract_all(paths)
        staged = package(tables, paths, staging)
        report = validate(staged, paths)
        keys = stage_keys(paths, staged.expectations_dir)
        try:
            raise_if_blocking(report)
            changed = publish(staged, paths, keys)
            published = True
        finally:
            document = record_results(report, paths, "etl", started_at, published)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {
        "skipped": False,
        "tables": {name: len(rows) for name, rows in tables.items()},
        "checks": report.counts,
        "warnings": report.warnings,
        "changed_stages": changed_stages(previous, keys),
        "input_key": keys["publish"],
        "warehouse": str(paths.warehouse),
        "report": document["report_path"],
        "data_docs": document["data_docs"],
        "changed": [str(path.relative_to(paths.root)) for path in changed],
    }
