"""Write the tables as CSVs and the descriptor with hashes into a staging folder, then validate with frictionless."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

from flows.steps.numbers import format_decimal
from flows.steps.paths import ProjectPaths
from flows.steps.records import InputError, Problem

Row = dict[str, Any]
Schema = dict[str, Any]
# load order: a table comes after every table its foreign keys reference
TABLE_ORDER = [
    "sources",
    "measures",
    "organizations",
    "events",
    "figures",
    "targets",
    "corroborations",
    "recognitions",
    "quotes",
    "slogans",
    "excluded_numbers",
    "number_mentions",
]


def read_schemas(schemas_dir: Path) -> dict[str, Schema]:
    """Every Table Schema, keyed by table name, in load order."""
    found = {path.stem: path for path in schemas_dir.glob("*.json")}
    unknown = sorted(set(found) - set(TABLE_ORDER))
    missing = [name for name in TABLE_ORDER if name not in found]
    if unknown or missing:
        raise InputError(
            [Problem(schemas_dir, None, None, f"schemas missing: {missing}, not in TABLE_ORDER: {unknown}")]
        )
    return {name: read_json(found[name]) for name in TABLE_ORDER}


def read_json(path: Path, remedy: str = "") -> Any:
    """A JSON file, or an InputError naming the file, line and column where it stops being JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        message = f"not valid JSON: {error}" + (f"; {remedy}" if remedy else "")
        raise InputError([Problem(path, None, None, message)]) from error


def read_descriptor(path: Path) -> dict[str, Any]:
    """The package descriptor; unreadable, it names the JSON error and how to get the authored one back."""
    relative = f"{path.parent.name}/{path.name}"
    remedy = (
        f"the descriptor is damaged (truncated or hand-edited); restore it with `git checkout -- {relative}` "
        "(or `git restore`), then run `valley run`"
    )
    document = read_json(path, remedy)
    if not isinstance(document, dict):
        raise InputError([Problem(path, None, None, f"not a descriptor (a JSON object); {remedy}")])
    return document


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


def sort_key(schema: Schema) -> Any:
    keys = schema["primaryKey"]
    return lambda row: tuple((row[k] is not None, row[k]) for k in keys)


def write_table_csv(rows: list[Row], schema: Schema, path: Path) -> None:
    """Write rows in primary-key order with the schema's column order; same rows give the same bytes."""
    columns = [field["name"] for field in schema["fields"]]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in sorted(rows, key=sort_key(schema)):
            extra = set(row) - set(columns)
            if extra:
                raise ValueError(f"{path.name}: row has columns the schema lacks: {sorted(extra)}")
            writer.writerow([format_cell(row.get(column)) for column in columns])


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


def stage_package(tables: dict[str, list[Row]], paths: ProjectPaths, staging: Path) -> Path:
    """Write the whole data package into `staging` (a fresh folder) and return its descriptor path."""
    schemas = read_schemas(paths.schemas_dir)
    package_dir = staging / "datapackage"
    if package_dir.exists():
        shutil.rmtree(package_dir)
    shutil.copytree(paths.package_dir, package_dir, ignore=shutil.ignore_patterns("data"))
    (package_dir / "data").mkdir()
    for name, schema in schemas.items():
        write_table_csv(tables.get(name, []), schema, package_dir / "data" / f"{name}.csv")
    current = read_descriptor(paths.descriptor)
    descriptor = build_descriptor(current, schemas, package_dir)
    descriptor_path = package_dir / "datapackage.json"
    descriptor_path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return descriptor_path


def validate_package(descriptor_path: Path) -> list[str]:
    """frictionless's own validation of the staged package: every error and warning, as readable lines."""
    from frictionless import FrictionlessException, Package

    try:
        report = Package(str(descriptor_path)).validate()
    except FrictionlessException as error:
        return [f"{descriptor_path.name}: {error.error.message}"]
    lines = [f"{descriptor_path.name}: {warning}" for warning in report.warnings]
    for task in report.tasks:
        for task_error in task.errors:
            row = getattr(task_error, "row_number", None)
            field = getattr(task_error, "field_name", None)
            lines.append(
                f"data/{task.name}.csv"
                + (f", row {row}" if row else "")
                + (f", field '{field}'" if field else "")
                + f": {task_error.message}"
            )
    lines += [f"{descriptor_path.name}: {package_error.message}" for package_error in report.errors]
    return lines
