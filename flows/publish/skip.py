"""Deciding that a run has nothing to do, without starting Prefect: inputs unchanged and every published output
verified against what the last publish wrote. The skip is recorded in the history like any run."""

from __future__ import annotations

from typing import Any

from flows.core.paths import ProjectPaths
from flows.package.keys import stage_keys, survey_sources
from flows.publish.published import published_problems, remove_dead_snapshots
from flows.publish.switch import PublishLocked, publish_lock, read_manifest, recover_publish, remove_leftovers
from flows.report.history import append_history, now, unchanged_report, write_report
from flows.sources.extract import describe_held_back

# problems that mean "build", not "repair": the summary lists only the others as repaired
NOT_REPAIRS = ("inputs changed since the last publish", "no completed publish is recorded (warehouse/publish.json)")


def tidy_up(paths: ProjectPaths) -> list[str]:
    """Under the publish lock: finish a publish a dead run committed to, remove what dead runs left behind."""
    notes = [note] if (note := recover_publish(paths)) else []
    leftovers = remove_leftovers(paths) + remove_dead_snapshots(paths)
    if leftovers:
        notes.append(f"removed {len(leftovers)} temporary file(s) left by runs that died")
    return notes


def repairs_needed(problems: list[str]) -> list[str]:
    return [problem for problem in problems if problem not in NOT_REPAIRS]


def record_unchanged(paths: ProjectPaths, run_id: str, started_at: Any) -> dict[str, Any]:
    """The history row of a run that found nothing to do; it counts as a successful run for freshness."""
    document = unchanged_report(run_id, started_at, read_manifest(paths).get("run_id"))
    report_path = write_report(document, paths)
    append_history(document, report_path, paths)
    return {**document, "report_path": str(report_path)}


def skipped_summary(
    paths: ProjectPaths, keys: dict[str, str], notes: list[str], held: dict[str, dict[str, int]]
) -> dict[str, Any]:
    return {
        "skipped": True,
        "input_key": keys["publish"],
        "warehouse": str(paths.warehouse),
        "built_by": read_manifest(paths).get("run_id"),
        "notes": notes,
        "held_back": describe_held_back(held),
    }


def skip_if_unchanged(paths: ProjectPaths, run_id: str) -> dict[str, Any] | None:
    """The skipped run's summary when nothing needs doing; None when a run is needed (or another run is busy,
    which the flow then waits for)."""
    started_at = now()
    try:
        with publish_lock(paths, 0):
            notes = tidy_up(paths)
            digests, held = survey_sources(paths)
            keys = stage_keys(paths, digests=digests)
            if published_problems(paths, keys):
                return None
            record_unchanged(paths, run_id, started_at)
            return skipped_summary(paths, keys, notes, held)
    except PublishLocked:
        return None
