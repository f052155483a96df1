"""Each source's rows kept under build/kept/ as the package writes them, with the content key they were made from,
so a run extracts only the sources that are new or changed (or whose kept rows are missing or damaged).

A kept file is one line of JSON (format, source, content key, sha256 of the rest) and then the rows: each table's
(primary key, CSV line) pairs from flows/package/stage.py format_table. It is used only when its format, source,
key and checksum all hold; anything else is rebuilt, never trusted. It is written to a temporary file renamed
into place, so a run killed at any instant leaves each kept file whole or absent (or, after a power cut without
fsync, damaged: then its checksum fails and it is rebuilt).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson  # Prefect's JSON library (pinned beside it): kept files read and written in a third of json's time

from flows.core.hooks import test_hook
from flows.core.inputs import RunInputs
from flows.core.memory import collector_paused
from flows.core.paths import ProjectPaths
from flows.package.keys import chain
from flows.package.stage import format_table
from flows.sources.extract import extract_each

KEPT_FORMAT = "valley-kept-rows/1"
Lines = dict[str, list[Any]]  # table -> [primary key values, CSV line] per row
NEW, EDITED, CODE_CHANGED, REFRESH = "new", "edited", "extraction code or shared inputs changed", "--refresh"
MISSING, DAMAGED, FOREIGN = "kept rows missing", "kept rows damaged", "kept rows written by other code"


@dataclass
class SourcePlan:
    """What a run does with each source, decided before any task runs: reuse its kept rows or extract it."""

    folders: list[Path]
    keys: dict[str, str]  # source id -> content key (its files and the extraction fingerprint)
    digests: dict[str, str]  # source id -> its files' digest
    fingerprint: str
    kept: dict[str, Lines] = field(default_factory=dict)  # reused rows by source id
    rebuild: dict[str, str] = field(default_factory=dict)  # source id -> why it is extracted
    gone: list[str] = field(default_factory=list)  # sources the last publish had and this run does not
    published: dict[str, Any] = field(default_factory=dict)  # the sources manifest of the last publish

    def summary(self) -> dict[str, Any]:
        return {"total": len(self.folders), "reused": len(self.kept), "rebuilt": self.rebuild, "gone": self.gone}

    def unchecked(self, checker: str) -> set[str] | None:
        """The sources whose rows no publish has passed as they are now, by the same row checker (None: all, on a
        refresh or when the last publish's rows were checked by another)."""
        recorded = self.published.get("sources", {})
        if REFRESH in self.rebuild.values() or self.published.get("rows_checked_by") != checker:
            return None
        return {
            source_id
            for source_id, key in self.keys.items()
            if not isinstance(recorded.get(source_id), dict) or recorded[source_id].get("key") != key
        }

    def manifest(self, paths: ProjectPaths, checker: str) -> dict[str, Any]:
        """The sources manifest a publish writes beside publish.json; `checker` passed every row in it."""
        sources = {
            folder.name: {
                "files": self.digests[folder.name],
                "key": self.keys[folder.name],
                "rows": kept_path(paths.kept_dir, folder.name).relative_to(paths.root).as_posix(),
            }
            for folder in self.folders
        }
        return {"format": KEPT_FORMAT, "fingerprint": self.fingerprint, "rows_checked_by": checker, "sources": sources}


def kept_path(kept_dir: Path, source_id: str) -> Path:
    return kept_dir / f"{source_id}.json"


def write_kept(path: Path, source_id: str, key: str, payload: Any, kind: str = KEPT_FORMAT) -> None:
    """A kept file (rows here, a source's validation facts in flows/checks/audit.py), whole or not at all: written
    beside its place and renamed over it."""
    body = orjson.dumps(payload)
    header = {"format": kind, "source": source_id, "key": key, "sha256": hashlib.sha256(body).hexdigest()}
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.write_bytes(json.dumps(header).encode() + b"\n" + body)
    test_hook("before", f"rename:{path.name}")
    # ext4 flushes a file renamed over another one (auto_da_alloc): 10,000 such renames took 4 s. A kept file
    # removed first costs nothing more than a crash between the two steps: that source's rows are rebuilt.
    path.unlink(missing_ok=True)
    os.replace(scratch, path)


def read_kept_payload(path: Path, source_id: str, key: str, kind: str = KEPT_FORMAT) -> tuple[Any, str | None]:
    """A kept file's payload when the file is whole, of this kind and source, and made from `key`; else None
    and why it cannot be used."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, MISSING
    except OSError:
        return None, DAMAGED
    head, _, body = data.partition(b"\n")
    try:
        header = json.loads(head)
    except ValueError:
        return None, DAMAGED
    if not isinstance(header, dict) or header.get("format") != kind or header.get("source") != source_id:
        return None, FOREIGN
    if header.get("key") != key:
        return None, FOREIGN
    if hashlib.sha256(body).hexdigest() != header.get("sha256"):
        return None, DAMAGED
    try:
        return orjson.loads(body), None
    except ValueError:  # orjson.JSONDecodeError is a ValueError
        return None, DAMAGED


def read_kept(path: Path, source_id: str, key: str, tables: Iterable[str]) -> tuple[Lines | None, str | None]:
    """The kept rows when the file is whole and was made from `key`; else None and why it cannot be used."""
    lines, problem = read_kept_payload(path, source_id, key)
    if problem is not None:
        return None, problem
    return (lines, None) if well_formed(lines, set(tables)) else (None, FOREIGN)


def well_formed(lines: Any, tables: set[str]) -> bool:
    """Rows shaped as format_table makes them, for tables the schemas know."""
    if not isinstance(lines, dict) or not tables.issuperset(lines):
        return False
    return all(
        isinstance(rows, list)
        and all(isinstance(row, list) and len(row) == 2 and isinstance(row[1], str) for row in rows)
        for rows in lines.values()
    )


def why_rebuilt(source_id: str, digest: str, fingerprint: str, previous: dict[str, Any], problem: str) -> str:
    """The reason a source is extracted, against what the last publish recorded."""
    recorded = previous.get("sources", {}).get(source_id)
    if not isinstance(recorded, dict):
        return NEW
    if recorded.get("files") != digest:
        return EDITED
    if previous.get("fingerprint") != fingerprint:
        return CODE_CHANGED
    return problem


def plan_sources(
    paths: ProjectPaths,
    folders: list[Path],
    digests: dict[str, str],
    fingerprint: str,
    inputs: RunInputs,
    refresh: bool = False,
) -> SourcePlan:
    """For each source folder: its content key, and its kept rows when they can be used (not on `refresh`)."""
    previous = read_sources_manifest(paths)
    keys = {folder.name: chain(digests[folder.name], fingerprint) for folder in folders}
    plan = SourcePlan(folders, keys, {folder.name: digests[folder.name] for folder in folders}, fingerprint)
    plan.published = previous
    with collector_paused():  # millions of rows read that live for the whole run
        for folder in folders:
            source_id = folder.name
            if refresh:
                plan.rebuild[source_id] = REFRESH
                continue
            kept = kept_path(paths.kept_dir, source_id)
            lines, problem = read_kept(kept, source_id, keys[source_id], inputs.schemas)
            if lines is not None:
                plan.kept[source_id] = lines
            else:
                plan.rebuild[source_id] = why_rebuilt(
                    source_id, digests[source_id], fingerprint, previous, str(problem)
                )
    plan.gone = sorted(set(previous.get("sources", {})) - set(keys))
    return plan


def read_sources_manifest(paths: ProjectPaths) -> dict[str, Any]:
    """What the last publish recorded of its sources; empty when there is none or it cannot be read."""
    try:
        manifest = json.loads(paths.sources_manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) and isinstance(manifest.get("sources"), dict) else {}


def extract_and_keep(folders: list[Path], inputs: RunInputs, keys: dict[str, str], kept_dir: Path) -> dict[str, Lines]:
    """Extract these folders, keep each one's rows as the package writes them, and return them by source id; a
    folder with a problem keeps nothing, and every problem is raised together after the others were kept."""
    kept_dir.mkdir(parents=True, exist_ok=True)
    parts = {}
    with collector_paused():  # the rows live on; the records they were made from are freed by reference counting
        for folder, tables in extract_each(folders, inputs):
            lines = {table: format_table(table, rows, inputs.schemas[table]) for table, rows in tables.items()}
            write_kept(kept_path(kept_dir, folder.name), folder.name, keys[folder.name], lines)
            parts[folder.name] = lines
    return parts


def remove_gone(kept_dir: Path, source_ids: Iterable[str]) -> list[Path]:
    """Kept files of sources that are no longer there."""
    wanted = {f"{source_id}.json" for source_id in source_ids}
    gone = [path for path in kept_dir.glob("*.json") if path.name not in wanted] if kept_dir.is_dir() else []
    for path in gone:
        path.unlink(missing_ok=True)
    return gone
