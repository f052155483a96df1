"""The scheduled check: re-validate what is published, changing nothing in it."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed

from flows.checks.integrity import audit_freshness, audit_integrity, read_warehouse_frames
from flows.checks.validate import ValidationReport, check_package, raise_if_blocking
from flows.core.errors import ValleyError
from flows.core.inputs import read_schemas
from flows.core.paths import ProjectPaths
from flows.publish.published import pid_alive, snapshot_published
from flows.publish.switch import read_manifest
from flows.report.findings import accepted_path, load_accepted
from flows.report.history import build_report, last_publish, now
from flows.runtime import current_run_id, track_flow_run
from flows.tasks import record_results

DEFAULT_MAX_AGE_HOURS = 48.0


@task(cache_policy=NO_CACHE)
def check_published(paths: ProjectPaths, max_age_hours: float) -> ValidationReport:
    """Integrity and freshness, then every suite against the warehouse tables themselves, all on one published
    generation (a snapshot taken under the switch lock), whatever a concurrent publish does meanwhile. GX's Data
    Docs go into a folder of this process under build/, which record_results takes."""
    remove_dead_sites(paths)
    site = paths.build_dir / f"{SITE_PREFIX}{os.getpid()}-{uuid.uuid4().hex}"
    with snapshot_published(paths) as published:
        return check_generation(published, last_publish(paths), max_age_hours, site)


SITE_PREFIX = "validate-data-docs-"


def remove_dead_sites(paths: ProjectPaths) -> None:
    """Data Docs sites that `valley validate` runs killed before record_results left behind (their pid is gone)."""
    for site in paths.build_dir.glob(f"{SITE_PREFIX}*"):
        pid = site.name.removeprefix(SITE_PREFIX).split("-")[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(site, ignore_errors=True)


def check_generation(
    paths: ProjectPaths, last_success: dt.datetime | None, max_age_hours: float, site: Path | None = None
) -> ValidationReport:
    if not paths.warehouse.is_file() or not paths.descriptor.is_file():
        raise ValleyError("nothing is published: run `valley run` first.")
    schemas = read_schemas(paths.schemas_dir)
    published_facts = {
        "integrity": audit_integrity(paths, schemas),
        "freshness": audit_freshness(last_success, now(), max_age_hours),
    }
    frames = read_warehouse_frames(paths.warehouse, schemas)
    return check_package(
        paths.package_dir, schemas, paths.expectations_dir, paths.expectations_dir, frames, site, published_facts
    )


@flow(name="valley-validate")
def revalidate(root: str | None = None, max_age_hours: float = DEFAULT_MAX_AGE_HOURS) -> Any:
    """Re-check the published package and warehouse; the final state carries the worst severity found."""
    paths = ProjectPaths(Path(root)) if root else ProjectPaths()
    started_at = now()
    with track_flow_run():
        accepted = load_accepted(accepted_path(paths.root))
        build_run_id = read_manifest(paths).get("run_id")
        report = check_published(paths, max_age_hours)
        document = build_report(report, "validate", started_at, False, current_run_id(), build_run_id, accepted)
        document = record_results(report, document, paths)
    summary = {
        "checks": report.counts,
        "worst_severity": report.worst_severity,
        "warnings": report.warnings,
        "report": document["report_path"],
        "finding_counts": document["finding_counts"],
        "findings": document["findings"],
        "resolved": document["resolved"],
        "new_warnings": document["new_warnings"],
    }
    raise_if_blocking(report, "the published outputs no longer pass (they were left as they are)")
    if document["new_warnings"]:  # accepted warnings do not warn
        return Completed(name="Warned", message=f"{len(document['new_warnings'])} new warning(s)", data=summary)
    return summary
