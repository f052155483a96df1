"""Move a fully checked staging folder into place: every published file changes only by an atomic rename."""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from filelock import FileLock, Timeout

from flows.steps.errors import ValleyError
from flows.steps.paths import ProjectPaths
from flows.steps.warehouse import build_warehouse

Schema = dict[str, Any]


class PublishError(ValleyError):
    """The staged outputs could not be turned into a warehouse; nothing published changed."""


class PublishLocked(ValleyError):
    """Another run holds the publish lock for longer than this run was willing to wait."""


@contextmanager
def publish_lock(paths: ProjectPaths, timeout_seconds: float) -> Iterator[None]:
    """One run at a time per project: a second run waits for the first, or stops with a clear message."""
    paths.warehouse_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(paths.warehouse_dir / ".publish.lock"))
    try:
        lock.acquire(timeout=timeout_seconds)
    except Timeout as error:
        raise PublishLocked(
            f"another valley run is working on {paths.root} and held its lock ({lock.lock_file}) for more "
            f"than {timeout_seconds:g} s; nothing was changed by this run. Try again when it has finished."
        ) from error
    try:
        yield
    finally:
        lock.release()


@dataclass(frozen=True)
class StagedOutputs:
    """Everything a run wants to publish, side by side with where it goes."""

    package_dir: Path
    expectations_dir: Path
    warehouse: Path


def count_csv_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def stage_warehouse(
    schemas: dict[str, Schema], package_dir: Path, paths: ProjectPaths, keys: dict[str, str] | None = None
) -> Path:
    """Build the warehouse into a temporary file beside the published one and check its row counts."""
    paths.warehouse_dir.mkdir(parents=True, exist_ok=True)
    target = paths.warehouse_dir / f".{paths.warehouse.name}.{uuid.uuid4().hex}.tmp"
    try:
        counts = build_warehouse(schemas, package_dir / "data", paths.views_dir, target, keys)
    except duckdb.Error as error:  # a constraint or load error: report it, keep the published file
        target.unlink(missing_ok=True)
        raise PublishError(f"building the warehouse failed, the published file is unchanged: {error}") from error
    for table, count in counts.items():
        expected = count_csv_rows(package_dir / "data" / f"{table}.csv")
        if count != expected:
            target.unlink(missing_ok=True)
            raise PublishError(f"warehouse table {table} has {count} rows, data/{table}.csv has {expected}")
    return target


def publish_outputs(staged: StagedOutputs, paths: ProjectPaths) -> list[Path]:
    """Rename staged files over the published ones: CSVs, descriptor, suites, and the warehouse last."""
    moves: list[tuple[Path, Path]] = []
    for csv_path in sorted((staged.package_dir / "data").glob("*.csv")):
        moves.append((csv_path, paths.data_dir / csv_path.name))
    moves.append((staged.package_dir / "datapackage.json", paths.descriptor))
    for suite in sorted(staged.expectations_dir.glob("*.json")):
        moves.append((suite, paths.expectations_dir / suite.name))
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    paths.expectations_dir.mkdir(parents=True, exist_ok=True)
    changed = []
    for source, target in moves:
        if target.is_file() and target.read_bytes() == source.read_bytes():
            continue
        os.replace(source, target)
        changed.append(target)
    os.replace(staged.warehouse, paths.warehouse)
    changed.append(paths.warehouse)
    return changed
