"""Write the tables as CSVs and the descriptor with hashes into a staging folder."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

from flows.core.inputs import RunInputs, read_descriptor
from flows.core.paths import ProjectPaths
from flows.sources.numbers import format_decimal

Row = dict[str, Any]
Schema = dict[str, Any]
# written from the run's inputs, not copied: the schemas and the descriptor were read once already
NOT_COPIED = ("data", "schemas", "datapackage.json")
SOURCES = "sources"


def format_cell(value: Any) -> str:
    """A cell as the CSV holds it: empty for missing, plain decimals, ISO dates."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class _Echo:
    """A file for csv.writer that hands each written line back, so a row becomes its CSV line as a string."""

    def write(self, text: str) -> str:
        return text


def format_table(table: str, rows: list[Row], schema: Schema) -> list[tuple[list[Any], str]]:
    """Each row as (its primary key values, its CSV line in the schema's column order), in the rows' order: the
    form the package is written from, and the form kept rows are stored in (flows/package/kept.py)."""
    columns = [field["name"] for field in schema["fields"]]
    known, keys = set(columns), schema["primaryKey"]
    writer = csv.writer(_Echo(), lineterminator="\n")
    lines = []
    for row in rows:
        if not known.issuperset(row):
            raise ValueError(f"{table}.csv: row has columns the schema lacks: {sorted(set(row) - known)}")
        lines.append(([row[k] for k in keys], writer.writerow([_cell(row.get(column)) for column in columns])))
    return lines


def ordered_key(entry: tuple[list[Any], str]) -> Any:
    return tuple((value is not None, value) for value in entry[0])


def write_lines_csv(lines: list[tuple[list[Any], str]], schema: Schema, path: Path) -> None:
    """Write formatted rows in primary-key order under the schema's header; same rows give the same bytes."""
    header = csv.writer(_Echo(), lineterminator="\n").writerow([field["name"] for field in schema["fields"]])
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(header)
        handle.writelines(line for _, line in sorted(lines, key=ordered_key))


def write_table_csv(rows: list[Row], schema: Schema, path: Path) -> None:
    """Write rows in primary-key order with the schema's column order; same rows give the same bytes."""
    write_lines_csv(format_table(path.stem, rows, schema), schema, path)


def _cell(value: Any) -> str:
    """format_cell, with strings (most cells) passed straight through."""
    return value if type(value) is str else format_cell(value)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_descriptor(current: dict[str, Any], schemas: dict[str, Schema], package_dir: Path) -> dict[str, Any]:
    """The descriptor: package metadata as authored, resources derived from the schemas and the CSVs."""
    resources = []
    for name, schema in schemas.items():
        csv_path = package_dir / "data" / f"{name}.csv"
        resources.append(
            {
                "name": name,
                "title": name.replace("_", " ").capitalize(),
                "description": schema["description"],
                "path": f"data/{name}.csv",
                "schema": f"schemas/{name}.json",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "hash": f"sha256:{file_digest(csv_path)}",
                "bytes": csv_path.stat().st_size,
            }
        )
    return {**{k: v for k, v in current.items() if k != "resources"}, "resources": resources}


def copy_package_inputs(package_dir: Path, target: Path) -> None:
    """The package folder without its data, schemas and descriptor into `target`, its source folders linked, not
    copied: 10,000 sources are 100,000 files (hard-linking them took 3 s of every run), the staged package only
    reads them (a changed source's snapshot, a failing row's record), and a source edited during a run has another
    content key at the next run, which extracts it again."""

    def ignore(directory: str, names: list[str]) -> list[str]:
        return [name for name in names if name in (*NOT_COPIED, SOURCES)] if Path(directory) == package_dir else []

    shutil.copytree(package_dir, target, ignore=ignore)
    if (package_dir / SOURCES).is_dir():
        (target / SOURCES).symlink_to((package_dir / SOURCES).resolve(), target_is_directory=True)


def stage_package(tables: dict[str, list[Row]], paths: ProjectPaths, staging: Path, inputs: RunInputs) -> Path:
    """Write the whole data package into `staging` (a fresh folder) and return its descriptor path."""
    lines = {name: format_table(name, tables.get(name, []), schema) for name, schema in inputs.schemas.items()}
    return stage_lines(lines, paths, staging, inputs)


def stage_lines(
    lines: dict[str, list[tuple[list[Any], str]]], paths: ProjectPaths, staging: Path, inputs: RunInputs
) -> Path:
    """stage_package from rows already formatted (format_table), for instance from kept rows."""
    schemas = inputs.schemas
    package_dir = staging / "datapackage"
    if package_dir.exists():
        shutil.rmtree(package_dir)
    copy_package_inputs(paths.package_dir, package_dir)
    (package_dir / "schemas").mkdir()
    for name, data in inputs.schema_bytes.items():
        (package_dir / "schemas" / f"{name}.json").write_bytes(data)
    (package_dir / "data").mkdir()
    for name, schema in schemas.items():
        write_lines_csv(lines.get(name, []), schema, package_dir / "data" / f"{name}.csv")
    current = inputs.descriptor if inputs.descriptor is not None else read_descriptor(paths.descriptor)
    descriptor = build_descriptor(current, schemas, package_dir)
    descriptor_path = package_dir / "datapackage.json"
    descriptor_path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return descriptor_path
