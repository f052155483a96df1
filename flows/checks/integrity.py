"""What the scheduled check compares: published files against the descriptor, the warehouse against the
package, the snapshots against their recorded sha256, and the age of the last publish."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from flows.core.inputs import read_descriptor
from flows.core.paths import ProjectPaths
from flows.package.stage import format_cell
from flows.package.warehouse import quote_identifier

Row = dict[str, Any]
Schema = dict[str, Any]


def _row(table: str, key: str, field: str, matches: bool, detail: str) -> Row:
    return {"table": table, "key": key, "field": field, "matches": matches, "detail": detail}


def content_checksum(rows: Iterable[Sequence[Any]]) -> str:
    """sha256 over the rows' cells as the CSV writes them, so a CSV and a warehouse table compare."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(("\x1f".join(format_cell(value) for value in row) + "\n").encode("utf-8"))
    return digest.hexdigest()


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))[1:]


def audit_descriptor(paths: ProjectPaths) -> list[Row]:
    """Each resource's file still has the sha256 and size its descriptor records."""
    descriptor = read_descriptor(paths.descriptor)
    out = []
    for resource in descriptor["resources"]:
        path = paths.package_dir / resource["path"]
        data = path.read_bytes() if path.is_file() else b""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        name = f"datapackage/{resource['path']}"
        out.append(_row(resource["name"], name, "hash", digest == resource.get("hash"),
                        f"file {digest[:19]}..., descriptor {str(resource.get('hash'))[:19]}..."))  # fmt: skip
        out.append(_row(resource["name"], name, "bytes", len(data) == resource.get("bytes"),
                        f"file {len(data)} bytes, descriptor {resource.get('bytes')}"))  # fmt: skip
    return out


def audit_warehouse(paths: ProjectPaths, schemas: dict[str, Schema]) -> list[Row]:
    """Each warehouse table holds the same rows as its CSV: row count and content checksum."""
    out = []
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        for table, schema in schemas.items():
            expected = csv_rows(paths.data_dir / f"{table}.csv")
            order = ", ".join(map(quote_identifier, schema["primaryKey"]))
            columns = ", ".join(quote_identifier(f["name"]) for f in schema["fields"])
            found = connection.execute(f"SELECT {columns} FROM {quote_identifier(table)} ORDER BY {order}").fetchall()
            key = f"warehouse/{paths.warehouse.name}"
            out.append(_row(table, key, "row_count", len(found) == len(expected),
                            f"warehouse {len(found)} rows, data/{table}.csv {len(expected)}"))  # fmt: skip
            same = content_checksum(found) == content_checksum(expected)
            out.append(_row(table, key, "content_checksum", same,
                            "same content" if same else f"warehouse rows differ from data/{table}.csv"))  # fmt: skip
    finally:
        connection.close()
    return out


def audit_snapshots(paths: ProjectPaths) -> list[Row]:
    """Each source snapshot still has the sha256 the sources table records."""
    out = []
    with (paths.data_dir / "sources.csv").open(encoding="utf-8", newline="") as handle:
        for source in csv.DictReader(handle):
            path = paths.package_dir / source["snapshot_path"]
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"
            detail = f"file {digest[:12]}..., recorded {source['sha256'][:12]}..."
            key = f"datapackage/{source['snapshot_path']}"
            out.append(_row("sources", key, "sha256", digest == source["sha256"], detail))
    return out


def audit_integrity(paths: ProjectPaths, schemas: dict[str, Schema]) -> list[Row]:
    return audit_descriptor(paths) + audit_warehouse(paths, schemas) + audit_snapshots(paths)


def audit_freshness(last_publish: dt.datetime | None, now: dt.datetime, max_age_hours: float) -> list[Row]:
    """One row: is the last successful ETL run (published, or verified unchanged) younger than the limit?"""
    if last_publish is None:
        return [_row("runs", "etl", "finished_at", False, "no successful ETL run recorded in the history")]
    age = (now - last_publish).total_seconds() / 3600
    detail = f"last successful run {last_publish.isoformat()} is {age:.1f} h old, maximum {max_age_hours:g} h"
    # "younger than" the limit, so a limit of 0 means no run is ever fresh enough
    return [_row("runs", "etl", "finished_at", age < max_age_hours, detail)]


def read_warehouse_frames(path: Path, schemas: dict[str, Schema]) -> dict[str, Any]:
    """The warehouse tables as DataFrames with None for missing values, for the suites."""
    connection = duckdb.connect(str(path), read_only=True)
    try:
        frames = {}
        for table in schemas:
            frame = connection.execute(f"SELECT * FROM {quote_identifier(table)}").df()
            frames[table] = frame.astype(object).where(frame.notna(), None)
        return frames
    finally:
        connection.close()
