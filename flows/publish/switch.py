"""Move a fully checked staging folder into place through a journal: one committed switch, whatever kills it.

A publish writes `warehouse/.publish-journal.json` (the moves it commits to) atomically, renames each staged
file over its published twin, writes the manifest (`warehouse/publish.json`) and deletes the journal. Until
the journal is gone the staging folder stays, so a run killed at any instant is completed by the next run
(`recover_publish`), and readers resolve the journal to see the committed generation (`flows.publish.published`).
The switch happens under an exclusive `switch_lock`; readers take it shared for the moment they snapshot.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from filelock import FileLock, Timeout

from flows.core.errors import ValleyError
from flows.core.hooks import HOOK_DIR_ENV, test_hook
from flows.core.paths import ProjectPaths
from flows.package.warehouse import build_warehouse

Schema = dict[str, Any]


def signal_waiting(shared: bool) -> None:
    """Tell a test that a reader is now waiting for the switch (the publisher holds it)."""
    folder = os.environ.get(HOOK_DIR_ENV)
    if folder and shared:
        (Path(folder) / "reader-waiting").touch()


class PublishError(ValleyError):
    """The staged outputs could not be turned into a warehouse; nothing published changed."""


class PublishLocked(ValleyError):
    """Another run holds the publish lock for longer than this run was willing to wait."""


@contextmanager
def publish_lock(paths: ProjectPaths, timeout_seconds: float) -> Iterator[None]:
    """One run at a time per project: a second run waits for the first, or stops with a clear message.
    The lock is an flock, so the kernel drops it when its holder dies: a stale lock never blocks."""
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


@contextmanager
def switch_lock(paths: ProjectPaths, shared: bool, timeout_seconds: float = 600.0) -> Iterator[None]:
    """Readers hold it shared while they take a snapshot, the publisher exclusive while it switches."""
    paths.warehouse_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(paths.warehouse_dir / ".switch.lock", os.O_RDWR | os.O_CREAT, 0o644)
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    deadline = time.monotonic() + timeout_seconds
    waited = False
    try:
        while True:
            try:
                fcntl.flock(descriptor, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waited:
                    signal_waiting(shared)
                    waited = True
                if time.monotonic() > deadline:
                    raise PublishLocked(
                        f"the publish switch of {paths.root} stayed locked for {timeout_seconds:g} s"
                    ) from None
                time.sleep(0.01)
        yield
    finally:
        os.close(descriptor)  # closing drops the flock


@dataclass(frozen=True)
class StagedOutputs:
    """Everything a run wants to publish, side by side with where it goes."""

    package_dir: Path
    expectations_dir: Path
    warehouse: Path


def count_csv_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stage_warehouse(
    schemas: dict[str, Schema],
    package_dir: Path,
    views_dir: Path,
    target: Path,
    keys: dict[str, str] | None = None,
    expected: dict[str, int] | None = None,
) -> Path:
    """Build the warehouse at `target` inside the staging folder (a retried task starts it afresh) and check that
    each table holds the rows the package was written from (`expected`; else its CSV's rows, counted here)."""
    target.unlink(missing_ok=True)
    target.with_name(target.name + ".wal").unlink(missing_ok=True)
    try:
        counts = build_warehouse(schemas, package_dir / "data", views_dir, target, keys)
    except duckdb.Error as error:  # a constraint or load error: report it, keep the published file
        raise PublishError(f"building the warehouse failed, the published file is unchanged: {error}") from error
    for table, count in counts.items():
        rows = expected.get(table, 0) if expected is not None else count_csv_rows(package_dir / "data" / f"{table}.csv")
        if count != rows:
            raise PublishError(f"warehouse table {table} has {count} rows, data/{table}.csv has {rows}")
    return target


def planned_moves(staged: StagedOutputs, paths: ProjectPaths) -> list[tuple[Path, Path]]:
    """Every staged file beside the published path it replaces: CSVs, descriptor, suites, the warehouse last."""
    moves = [(path, paths.data_dir / path.name) for path in sorted((staged.package_dir / "data").glob("*.csv"))]
    moves.append((staged.package_dir / "datapackage.json", paths.descriptor))
    moves += [(suite, paths.expectations_dir / suite.name) for suite in sorted(staged.expectations_dir.glob("*.json"))]
    moves.append((staged.warehouse, paths.warehouse))
    return moves


def manifest_files(
    moves: list[tuple[Path, Path]], paths: ProjectPaths, digests: dict[Path, str] | None = None
) -> dict[str, str]:
    """The published outputs a later run verifies before it skips: package files and the warehouse (each staged
    file's sha256 from `digests` when the caller has it)."""
    digests = digests or {}
    return {
        target.relative_to(paths.root).as_posix(): digests.get(source) or file_sha256(source)
        for source, target in moves
        if target.parent != paths.expectations_dir
    }


def write_json_atomically(path: Path, document: dict[str, Any]) -> None:
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with scratch.open("w", encoding="utf-8") as handle:
        handle.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    test_hook("before", f"rename:{path.name}")
    os.replace(scratch, path)


def publish_outputs(staged: StagedOutputs, paths: ProjectPaths, record: dict[str, Any], staging: Path) -> list[Path]:
    """Switch the published state to the staged one; `record` (run id, keys, validation) goes in the manifest.
    Idempotent: a retry after the switch finds its own manifest in place and changes nothing."""
    with switch_lock(paths, shared=False):
        if read_manifest(paths).get("run_id") == record["run_id"] and not paths.journal.exists():
            return []
        moves = planned_moves(staged, paths)
        digests = {source: file_sha256(source) for source, _ in moves}  # each staged file read once
        changed = [target for source, target in moves if not same_bytes(source, target, digests[source])]
        sources = record.get("sources")  # its own manifest beside publish.json: one entry a source
        files = manifest_files(moves, paths, digests)
        manifest = {**{k: v for k, v in record.items() if k != "sources"}, "files": files}
        journal = {
            "staging": str(staging),
            "moves": [[str(source), str(target)] for source, target in moves],
            "manifest": manifest,
            **({"sources": sources} if sources is not None else {}),
        }
        paths.data_dir.mkdir(parents=True, exist_ok=True)
        paths.expectations_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomically(paths.journal, journal)
        apply_journal(paths)
    return changed


def same_bytes(source: Path, target: Path, source_sha256: str | None = None) -> bool:
    return (
        target.is_file()
        and source.stat().st_size == target.stat().st_size
        and (source_sha256 or file_sha256(source)) == file_sha256(target)
    )


def apply_journal(paths: ProjectPaths) -> dict[str, Any]:
    """Carry out the journal's moves (those not done yet), write its manifest, then end the journal."""
    journal = json.loads(paths.journal.read_text(encoding="utf-8"))
    for source, target in journal["moves"]:
        test_hook("before", Path(target).name)
        if Path(source).exists():
            os.replace(source, target)
        test_hook("after", Path(target).name)
    if "sources" in journal:  # before publish.json: a publish is complete once publish.json names its run
        write_json_atomically(paths.sources_manifest, journal["sources"])
    write_json_atomically(paths.manifest, journal["manifest"])
    paths.journal.unlink()
    shutil.rmtree(journal["staging"], ignore_errors=True)
    return dict(journal)


def read_manifest(paths: ProjectPaths) -> dict[str, Any]:
    """What the last completed publish recorded; empty when there is none or it cannot be read."""
    try:
        return dict(json.loads(paths.manifest.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def recover_publish(paths: ProjectPaths) -> str | None:
    """Complete a publish a dead run committed to (its journal is there); say what was done. Call under the
    publish lock, so no live run owns the journal."""
    if not paths.journal.exists():
        return None
    with switch_lock(paths, shared=False):
        try:
            journal = apply_journal(paths)
        except (OSError, ValueError, KeyError) as error:
            raise PublishError(
                f"an interrupted publish left {paths.journal} but it cannot be completed ({error}); delete the "
                "journal and run `valley run --refresh` to rebuild everything"
            ) from error
    return f"completed the publish of run {journal['manifest'].get('run_id', '?')}, which was interrupted"


def remove_leftovers(paths: ProjectPaths) -> list[Path]:
    """Temporary files and folders of dead runs: staging folders, half-built warehouses and their WAL files, the
    scratch copies of the journal and manifests (`..publish-journal.json.<pid>.tmp`: the journal's own name
    starts with a dot) and of kept rows. Call under the publish lock after `recover_publish`: then nothing of
    this kind belongs to a live run."""
    leftovers = [*paths.build_dir.glob("staging-*"), *paths.warehouse_dir.glob(".valley.duckdb.*.tmp*")]
    scratch = (".publish", "..publish", f".{paths.sources_manifest.name}.")
    leftovers += [path for path in paths.warehouse_dir.glob(".*.tmp") if path.name.startswith(scratch)]
    leftovers += [*paths.kept_dir.glob(".*.tmp"), *paths.kept_facts_dir.glob(".*.tmp")]
    leftovers += paths.build_dir.glob(".*.tmp")  # the scratch copies of the digest caches
    for path in leftovers:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return leftovers
