"""Write the tables as CSVs and the descriptor with hashes into a staging folder, then validate with frictionless."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import shutil
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from flows.core.paths import ProjectPaths
from flows.sources.numbers import format_decimal
from flows.sources.records import InputError, Problem

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
    known = set(columns)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in sorted(rows, key=sort_key(schema)):
            if not known.issuperset(row):
                raise ValueError(f"{path.name}: row has columns the schema lacks: {sorted(set(row) - known)}")
            writer.writerow([_cell(row.get(column)) for column in columns])


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
    """The package folder without its data into `target`: the source folders (snapshots and records, ten files
    a source that nothing writes to) hard-linked where the file system allows, everything else copied."""
    sources = str(package_dir / "sources") + os.sep

    def link_or_copy(source: str, destination: str) -> Any:
        if source.startswith(sources):
            try:
                os.link(source, destination)
                return destination
            except OSError:
                pass  # another file system, or links not supported: a copy, as before
        return shutil.copy2(source, destination)

    shutil.copytree(package_dir, target, ignore=shutil.ignore_patterns("data"), copy_function=link_or_copy)


def stage_package(tables: dict[str, list[Row]], paths: ProjectPaths, staging: Path) -> Path:
    """Write the whole data package into `staging` (a fresh folder) and return its descriptor path."""
    schemas = read_schemas(paths.schemas_dir)
    package_dir = staging / "datapackage"
    if package_dir.exists():
        shutil.rmtree(package_dir)
    copy_package_inputs(paths.package_dir, package_dir)
    (package_dir / "data").mkdir()
    for name, schema in schemas.items():
        write_table_csv(tables.get(name, []), schema, package_dir / "data" / f"{name}.csv")
    current = read_descriptor(paths.descriptor)
    descriptor = build_descriptor(current, schemas, package_dir)
    descriptor_path = package_dir / "datapackage.json"
    descriptor_path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return descriptor_path


# below this many CSV bytes frictionless validates in this process; above, resources are split between
# PARALLEL_WORKERS processes (starting one costs about a second; 10,000 sources are ~100 MB of CSV)
PARALLEL_BYTES = 16_000_000
PARALLEL_WORKERS = 2


def validate_package(
    descriptor_path: Path, skip_errors: Sequence[str] = (), parallel_bytes: int = PARALLEL_BYTES
) -> list[str]:
    """frictionless's own validation of the staged package: every error and warning (but the error types in
    `skip_errors`), as readable lines.

    A big package is validated in two processes, each taking some resources, with what Package.validate does
    itself: the descriptor checked once, then each resource (foreign keys make frictionless's own `parallel`
    run sequentially). The lines are the same, in the same order, as one process gives."""
    from frictionless import FrictionlessException, Package

    try:
        package = Package(str(descriptor_path))
        sizes = {resource.name: _resource_bytes(descriptor_path, resource.path) for resource in package.resources}
    except FrictionlessException as error:
        return [f"{descriptor_path.name}: {error.error.message}"]
    if sum(sizes.values()) < parallel_bytes or multiprocessing.current_process().daemon:
        return _joined_lines(
            [_validate_resources(descriptor_path, list(sizes), list(skip_errors), package)], list(sizes)
        )
    groups = _split_by_size(sizes, PARALLEL_WORKERS)
    return _validate_split(descriptor_path, groups, list(sizes), list(skip_errors))


def _resource_bytes(descriptor_path: Path, relative: str | None) -> int:
    path = descriptor_path.parent / (relative or "")
    return path.stat().st_size if relative and path.is_file() else 0


def _split_by_size(sizes: dict[str, int], parts: int) -> list[list[str]]:
    """Resource names in `parts` groups of about equal bytes, largest first (greedy)."""
    groups: list[list[str]] = [[] for _ in range(parts)]
    totals = [0] * parts
    for name in sorted(sizes, key=lambda name: -sizes[name]):
        smallest = totals.index(min(totals))
        groups[smallest].append(name)
        totals[smallest] += sizes[name]
    return [group for group in groups if group]


def _validate_split(descriptor_path: Path, groups: list[list[str]], order: list[str], skip: list[str]) -> list[str]:
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: the caller may be a flow with threads (a forked lock held by another thread never frees)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(groups), mp_context=context) as pool:
        parts = list(pool.map(_validate_resources, [descriptor_path] * len(groups), groups, [skip] * len(groups)))
    return _joined_lines(parts, order)


def _joined_lines(parts: list[dict[str, Any]], order: list[str]) -> list[str]:
    """Every part's lines as one report gives them: the descriptor's errors alone, or warnings then each resource's."""
    if any(part["package_errors"] and not part["tasks"] for part in parts):  # the descriptor itself is invalid
        return list(next(part["lines"] for part in parts if part["package_errors"]))
    tasks = {name: lines for part in parts for name, lines in part["tasks"].items()}
    warnings = [line for part in parts for line in part["warnings"]]
    return warnings + [line for name in order for line in tasks.get(name, [])]


def _validate_resources(
    descriptor_path: Path, names: list[str], skip: list[str], package: Any = None
) -> dict[str, Any]:
    """The descriptor checked as Package.validate checks it, then each named resource (in this process or a worker).

    frictionless builds each foreign key's lookup, reading the referenced table whole, even when foreign-key errors
    are skipped: once the descriptor passed with its keys, a skipped check's keys are dropped, so nothing is built."""
    from frictionless import Checklist, FrictionlessException, Package, Report, settings

    package = package if package is not None else Package(str(descriptor_path))
    try:
        package.to_descriptor(validate=True)
    except FrictionlessException as exception:
        report = Report.from_validation(time=0, errors=exception.to_errors())
        return {"package_errors": True, "tasks": {}, "warnings": [], "lines": _report_lines(descriptor_path, report)}
    if "foreign-key" in skip:
        for resource in package.resources:
            if resource.schema:
                resource.schema.foreign_keys = []
    reports = [
        package.get_resource(name).validate(
            checklist=Checklist(skip_errors=skip), limit_errors=settings.DEFAULT_LIMIT_ERRORS, limit_rows=None
        )
        for name in names
    ]
    report = Report.from_validation_reports(time=0, reports=reports)
    tasks = {task.name: _task_lines(task) for task in report.tasks}
    warnings = [f"{descriptor_path.name}: {warning}" for warning in report.warnings]
    return {"package_errors": False, "tasks": tasks, "warnings": warnings, "lines": []}


def _report_lines(descriptor_path: Path, report: Any) -> list[str]:
    lines = [f"{descriptor_path.name}: {warning}" for warning in report.warnings]
    for task in report.tasks:
        lines += _task_lines(task)
    lines += [f"{descriptor_path.name}: {package_error.message}" for package_error in report.errors]
    return lines


def _task_lines(task: Any) -> list[str]:
    lines = []
    for task_error in task.errors:
        row = getattr(task_error, "row_number", None)
        field = getattr(task_error, "field_name", None)
        lines.append(
            f"data/{task.name}.csv"
            + (f", row {row}" if row else "")
            + (f", field '{field}'" if field else "")
            + f": {task_error.message}"
        )
    return lines
