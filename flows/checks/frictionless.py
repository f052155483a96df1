"""frictionless's own validation of a staged package: types, keys and hashes, split over processes when big."""

from __future__ import annotations

import functools
import hashlib
import json
import multiprocessing
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# below this many CSV bytes frictionless validates in this process; above, resources are split between
# PARALLEL_WORKERS processes (starting one costs about a second; 10,000 sources are ~100 MB of CSV)
PARALLEL_BYTES = 16_000_000
PARALLEL_WORKERS = 2


@functools.cache
def rows_checker() -> str:
    """What judged the rows a publish records as passed (warehouse/sources.json): frictionless's version and this
    module's code; rows passed by another are read again."""
    from importlib.metadata import version

    return hashlib.sha256(
        f"frictionless {version('frictionless')}\n".encode() + Path(__file__).read_bytes()
    ).hexdigest()


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


def validate_new_rows(
    descriptor_path: Path, new_rows: Sequence[Mapping[str, Any]], skip_errors: Sequence[str] = ()
) -> list[str]:
    """validate_package's lines, reading only the rows no publish has passed yet (`new_rows`: each new source's
    tables as format_table's (key, CSV line) pairs): every other row is one that passed in a publish, unchanged,
    and frictionless judges each row alone (the checks across rows, keys, are the GX baseline's).

    The descriptor and the new rows are validated as a package of their own beside the staged one, each staged
    CSV's hash and size compared here. Whatever that finds, the whole package is validated again, so that the lines
    (row numbers included) are the ones validate_package gives."""
    package_dir = descriptor_path.parent
    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    check_dir = package_dir.with_name(f"{package_dir.name}-new-rows")
    shutil.rmtree(check_dir, ignore_errors=True)
    (check_dir / "data").mkdir(parents=True)
    shutil.copytree(package_dir / "schemas", check_dir / "schemas")
    try:
        for resource in descriptor.get("resources", []):
            staged = package_dir / str(resource.get("path"))
            if resource.get("path") != f"data/{resource.get('name')}.csv" or not _hash_and_size_hold(staged, resource):
                return validate_package(descriptor_path, skip_errors)
            with staged.open(encoding="utf-8", newline="") as handle:
                header = handle.readline()
            lines = (line for tables in new_rows for _, line in tables.get(resource["name"], []))
            with (check_dir / str(resource["path"])).open("w", encoding="utf-8", newline="") as handle:
                handle.write(header)
                handle.writelines(lines)
            resource.pop("hash", None)
            resource.pop("bytes", None)
        (check_dir / descriptor_path.name).write_text(json.dumps(descriptor), encoding="utf-8")
        found = validate_package(check_dir / descriptor_path.name, skip_errors)
    finally:
        shutil.rmtree(check_dir, ignore_errors=True)
    return validate_package(descriptor_path, skip_errors) if found else []


def _hash_and_size_hold(path: Path, resource: Mapping[str, Any]) -> bool:
    """The staged file is the one the descriptor describes (frictionless's hash-count and byte-count checks)."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return resource.get("hash") == f"sha256:{hashlib.sha256(data).hexdigest()}" and resource.get("bytes") == len(data)


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
