"""The ETL flow: extract -> package -> validate -> publish, each stage a thin task over the stage packages."""

from __future__ import annotations

import datetime as dt
import gc
import shutil
import tempfile
from pathlib import Path
from typing import Any, cast

from prefect import Task, flow, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote, unmapped

from flows.checks.expect import write_suites
from flows.checks.frictionless import rows_checker
from flows.checks.validate import SourceRows, ValidationReport, check_package, raise_if_blocking
from flows.core.inputs import RunInputs, read_inputs
from flows.core.paths import ProjectPaths
from flows.package.kept import Lines, SourcePlan, extract_and_keep, plan_sources, remove_gone
from flows.package.keys import changed_stages, extraction_fingerprint, stage_keys, survey_sources
from flows.package.stage import stage_lines
from flows.progress import Progress
from flows.publish.published import published_problems
from flows.publish.skip import record_unchanged, repairs_needed, skipped_summary, tidy_up
from flows.publish.switch import StagedOutputs, publish_lock, publish_outputs, read_manifest, stage_warehouse
from flows.report.findings import accepted_path, load_accepted
from flows.report.history import build_report, now, summarize_report
from flows.runtime import current_run_id, track_flow_run
from flows.sources.extract import describe_held_back, list_sources, merge_tables
from flows.sources.records import InputError
from flows.tasks import record_results

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


# source folders per extraction task: one task per folder costs Prefect ~20 ms each (200 s at 10,000 sources)
EXTRACT_BATCH = 200


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, retry_condition_fn=retry_on_io_error)
def extract(folders: list[Path], inputs: RunInputs, keys: dict[str, str], kept_dir: Path) -> dict[str, Lines]:
    """Rows of a batch of source folders, formatted as the package writes them and kept under `kept_dir`."""
    return extract_and_keep(folders, inputs, keys, kept_dir)


@task(cache_policy=NO_CACHE, timeout_seconds=300)
def package(tables: Lines, paths: ProjectPaths, staging: Path, inputs: RunInputs) -> StagedOutputs:
    """CSVs, descriptor and suites written into the staging folder, from every source's rows (kept or new)."""
    descriptor = stage_lines(tables, paths, staging, inputs)
    write_suites(inputs.schemas, paths.expectations_dir, staging / "expectations")
    return StagedOutputs(descriptor.parent, staging / "expectations", staging / "warehouse.duckdb")


@task(cache_policy=NO_CACHE, timeout_seconds=900)
def validate(staged: StagedOutputs, paths: ProjectPaths, inputs: RunInputs, sources: SourceRows) -> ValidationReport:
    """frictionless, the table suites (staged) and the audit suites on the staged package, redoing only what changed
    sources decide (`sources`); GX's Data Docs go beside the staging folder (publishing removes the folder before
    record_results takes the docs)."""
    schemas = inputs.schemas
    staging = staged.package_dir.parent
    site = staging.with_name(f"{staging.name}-data-docs")
    shutil.rmtree(site, ignore_errors=True)  # a retried task starts afresh
    return check_package(
        staged.package_dir, schemas, staged.expectations_dir, paths.expectations_dir, site=site, sources=sources
    )


@task(
    cache_policy=NO_CACHE, timeout_seconds=300, retries=2, retry_delay_seconds=1, retry_condition_fn=retry_on_io_error
)
def publish(
    staged: StagedOutputs,
    paths: ProjectPaths,
    record: dict[str, Any],
    staging: Path,
    inputs: RunInputs,
    counts: dict[str, int],
) -> list[Path]:
    """Build the warehouse in the staging folder (each table's rows: `counts`), then switch the published state to
    it through the journal."""
    stage_warehouse(inputs.schemas, staged.package_dir, paths.views_dir, staged.warehouse, record["keys"], counts)
    return publish_outputs(staged, paths, record, staging)


def extract_changed(paths: ProjectPaths, inputs: RunInputs, plan: SourcePlan, progress: Progress) -> dict[str, Lines]:
    """Each source's rows in folder order: the kept ones as they are, the others extracted by tasks mapped over
    batches of folders (one at a time here, in parallel on a Dask runner) and kept for the next run."""
    folders = [folder for folder in plan.folders if folder.name in plan.rebuild]
    batches = [folders[start : start + EXTRACT_BATCH] for start in range(0, len(folders), EXTRACT_BATCH)]
    keys = [{folder.name: plan.keys[folder.name] for folder in batch} for batch in batches]
    # `inputs` not quoted here: Dask turns a quote (a namedtuple) into a plain tuple on its way to a worker
    futures = extract.map(batches, inputs=unmapped(inputs), keys=keys, kept_dir=unmapped(paths.kept_dir))
    outcomes: list[Any] = []
    for batch, future in zip(batches, futures, strict=True):
        outcomes.append(future.result(raise_on_failure=False))
        progress.extracted(progress.done + len(batch), len(folders))
    problems = [problem for outcome in outcomes if isinstance(outcome, InputError) for problem in outcome.problems]
    if problems:
        raise InputError(problems)
    failed = next((outcome for outcome in outcomes if isinstance(outcome, BaseException)), None)
    if failed:
        raise failed
    built = {source_id: lines for outcome in outcomes for source_id, lines in outcome.items()}
    remove_gone(paths.kept_dir, plan.keys)
    return {folder.name: plan.kept.get(folder.name) or built[folder.name] for folder in plan.folders}


# Tasks run one at a time in this process: threads share one interpreter lock, and concurrent extraction threads
# slowed each other down (each file read waits for the lock another thread holds: 2,000 sources extracted in
# 12.1 s on Prefect's default pool, 7.2 s one at a time). `--runner dask` spreads the batches over processes.
ONE_AT_A_TIME: Any = ThreadPoolTaskRunner(max_workers=1)


@flow(name="valley-etl", task_runner=ONE_AT_A_TIME)
def etl(
    root: str | None = None, refresh: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT_SECONDS
) -> dict[str, Any]:
    """Run the pipeline on the project at `root` (default: this checkout), one run at a time; skip it when
    the inputs are unchanged and every published output still is what the last publish wrote, unless `refresh`."""
    paths = ProjectPaths(Path(root)) if root else ProjectPaths()
    with track_flow_run(), publish_lock(paths, lock_timeout):
        started_at = now()
        notes = tidy_up(paths)
        inputs = read_inputs(paths)  # the schemas, descriptor and vocabulary, read once for the whole run
        digests, held = survey_sources(paths)  # each source folder hashed and searched for proposals once a run
        keys = stage_keys(paths, inputs=inputs, digests=digests)
        problems = published_problems(paths, keys)
        if not refresh and not problems:
            unchanged(paths, current_run_id(), started_at)
            return skipped_summary(paths, keys, notes, held)
        summary = run_pipeline(paths, started_at, inputs, digests, held, refresh)
        return {**summary, "notes": notes, "repaired": repairs_needed(problems)}


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, retry_condition_fn=retry_on_io_error)
def unchanged(paths: ProjectPaths, run_id: str, started_at: dt.datetime) -> dict[str, Any]:
    """Record a run that verified every published output and found nothing to do."""
    return record_unchanged(paths, run_id, started_at)


def plan_run(
    paths: ProjectPaths, inputs: RunInputs, digests: dict[str, str], refresh: bool, held: dict[str, dict[str, int]]
) -> SourcePlan:
    """Which sources are extracted and which kept rows are reused, in plain Python before any task is submitted."""
    folders = list_sources(paths.sources_dir, held)
    return plan_sources(paths, folders, digests, extraction_fingerprint(paths, inputs), inputs, refresh)


def run_pipeline(
    paths: ProjectPaths,
    started_at: dt.datetime,
    inputs: RunInputs,
    digests: dict[str, str],
    held: dict[str, dict[str, int]],
    refresh: bool = False,
) -> dict[str, Any]:
    run_id = current_run_id()
    accepted = load_accepted(accepted_path(paths.root))  # a bad entry stops the run at once, at its line
    previous = read_manifest(paths).get("keys", {})
    paths.build_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=paths.build_dir))
    progress = Progress()
    try:
        plan = plan_run(paths, inputs, digests, refresh, held)
        progress.stage(f"{len(plan.kept):,} of {len(plan.folders):,} sources reused, {len(plan.rebuild):,} to extract")
        by_source = extract_changed(paths, inputs, plan, progress)
        gc.freeze()  # every source's rows live until the run ends: later collections need not walk them again
        tables = merge_tables(by_source.values())
        counts = {name: len(tables.get(name, [])) for name in inputs.schemas}
        shared = cast(RunInputs, quote(inputs))  # the same for the schemas
        progress.stage("package (CSVs, descriptor, suites)")
        staged = package(cast(Lines, quote(tables)), paths, staging, shared)  # quoted: Prefect need not walk every row
        progress.stage("validate")
        checker = rows_checker()
        sources = SourceRows(by_source, plan.keys, paths.kept_facts_dir, set(plan.kept), plan.unchecked(checker))
        report = validate(staged, paths, shared, cast(SourceRows, quote(sources)))
        keys = stage_keys(paths, staged.expectations_dir, inputs, digests)
        document = build_report(report, "etl", started_at, published=False, run_id=run_id, accepted=accepted)
        try:
            raise_if_blocking(report)
            record = {"run_id": run_id, "keys": keys, "published_at": now().isoformat(),
                      "validation": summarize_report(document), "sources": plan.manifest(paths, checker)}  # fmt: skip
            progress.stage("publish")
            changed = publish(staged, paths, record, staging, shared, counts)
            document |= {"published": True, "build_run_id": run_id}
        finally:
            document = record_results(report, document, paths)
    finally:
        gc.unfreeze()  # a process that runs the flow again (`valley serve`) collects this run's garbage as usual
        if not paths.journal.exists():  # a committed journal needs its staged files until it completes
            shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(staging.with_name(f"{staging.name}-data-docs"), ignore_errors=True)  # if never taken
    return {
        "skipped": False,
        "run_id": run_id,
        "tables": {name: len(rows) for name, rows in tables.items()},
        "sources": {**plan.summary(), "validated": report.work},
        "checks": report.counts,
        "warnings": report.warnings,
        "finding_counts": document["finding_counts"],
        "findings": document["findings"],
        "resolved": document["resolved"],
        "changed_stages": changed_stages(previous, keys),
        "input_key": keys["publish"],
        "warehouse": str(paths.warehouse),
        "report": document["report_path"],
        "data_docs": document["data_docs"],
        "changed": [str(path.relative_to(paths.root)) for path in changed],
        "held_back": held_back(paths, held),
    }


def held_back(paths: ProjectPaths, held: dict[str, dict[str, int]]) -> list[str]:
    """The sources left out for proposals to review, with their review pages written (build/review/)."""
    from flows.drafting.review import write_review_pages

    write_review_pages([paths.sources_dir / slug for slug in held], paths.build_dir / "review")
    return describe_held_back(held)
