"""Cut an immutable, versioned release of the published package under dist/: zip, DuckDB file, checksums, diff, page."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from filelock import FileLock

from flows.checks.frictionless import validate_package
from flows.core.errors import ValleyError
from flows.core.inputs import read_descriptor, read_schemas
from flows.core.paths import ProjectPaths
from flows.package.stage import file_digest
from flows.package.warehouse import quote_identifier, quote_literal
from flows.publish.diff import Row, TableChanges, changes_as_json, diff_tables, format_changelog_entry, read_csv_rows
from flows.publish.page import format_package_readme, write_page
from flows.publish.published import snapshot_published
from flows.publish.switch import count_csv_rows, read_manifest
from flows.publish.versioning import needed_part, raise_version, read_layout

Schema = dict[str, Any]
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
# every zip entry gets this timestamp, so the same files always give the same zip bytes
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
PART_REASONS = {
    "major": "a table or column was removed or renamed, or a key changed",
    "minor": "rows, columns or tables were added or removed",
    "patch": "only values or notes changed",
}


class ReleaseRefused(ValleyError):
    """The release cannot be cut as asked; nothing under dist/ changed."""


@dataclass(frozen=True)
class Release:
    version: str
    directory: Path
    status: str  # "released", or "unchanged" when the same content was already released
    previous: str | None
    changes: dict[str, TableChanges]


def parse_version(version: Any) -> tuple[int, int, int]:
    match = SEMVER.match(str(version))
    if not match:
        raise ReleaseRefused(
            f"the package version {version!r} in datapackage/datapackage.json is not semantic (MAJOR.MINOR.PATCH, "
            "for example 0.2.0): set `version` there before releasing."
        )
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def verify_published(paths: ProjectPaths, schemas: dict[str, Schema]) -> dict[str, int]:
    """The published package and warehouse as a passing run leaves them: hashes match, row counts agree."""
    rerun = "Run `valley run` (it publishes only when every blocking check passes), then `valley release`."
    if not paths.descriptor.is_file() or not paths.warehouse.is_file():
        raise ReleaseRefused(
            f"nothing is published yet (no {paths.descriptor.name} or {paths.warehouse.name}). {rerun}"
        )
    problems = validate_package(paths.descriptor)
    if problems:
        listed = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        raise ReleaseRefused(f"the published package does not pass validation ({listed}). {rerun}")
    counts = {name: count_csv_rows(paths.data_dir / f"{name}.csv") for name in schemas}
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        for name, expected in counts.items():
            found = connection.execute(f"SELECT count(*) FROM {quote_identifier(name)}").fetchone()
            if found is None or found[0] != expected:
                raise ReleaseRefused(
                    f"the published warehouse table {name} has {found and found[0]} rows, data/{name}.csv has "
                    f"{expected}: the warehouse is not from the run that wrote the CSVs. {rerun}"
                )
    except duckdb.Error as error:
        raise ReleaseRefused(f"the published warehouse {paths.warehouse} cannot be read ({error}). {rerun}") from error
    finally:
        connection.close()
    return counts


def format_sha256sums(folder: Path) -> str:
    """`sha256sum -c` input for every file under `folder` except SHA256SUMS itself, sorted by path."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).as_posix() != "SHA256SUMS")
    return "".join(f"{file_digest(path)}  {path.relative_to(folder).as_posix()}\n" for path in files)


def write_reproducible_zip(folder: Path, target: Path) -> None:
    """Zip every file under `folder`: sorted entries, fixed timestamps and modes, so equal files give equal bytes."""
    files = sorted((p.relative_to(folder).as_posix(), p) for p in folder.rglob("*") if p.is_file())
    with zipfile.ZipFile(target, "w") as archive:
        for name, path in files:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the mode below is read as one
            info.external_attr = 0o100644 << 16
            archive.writestr(info, path.read_bytes(), compresslevel=9)


def export_parquet(warehouse: Path, schemas: dict[str, Schema], target_dir: Path) -> None:
    """One Parquet file per table, typed as in the warehouse, rows in primary-key order."""
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        connection.execute("SET threads = 1")  # one writer thread: same rows, same bytes
        for name, schema in schemas.items():
            order = ", ".join(quote_identifier(key) for key in schema["primaryKey"])
            target = quote_literal(target_dir / f"{name}.parquet")
            connection.execute(
                f"COPY (SELECT * FROM {quote_identifier(name)} ORDER BY {order}) TO {target} (FORMAT parquet)"
            )
    finally:
        connection.close()


def build_package_zip(paths: ProjectPaths, schemas: dict[str, Schema], version: str, staging: Path) -> Path:
    """The data package as a zip: descriptor, Table Schemas, CSVs, Parquet copies, a README and SHA256SUMS."""
    folder = staging / "package"
    (folder / "data").mkdir(parents=True)
    (folder / "schemas").mkdir()
    shutil.copyfile(paths.descriptor, folder / "datapackage.json")
    for name in schemas:
        shutil.copyfile(paths.schemas_dir / f"{name}.json", folder / "schemas" / f"{name}.json")
        shutil.copyfile(paths.data_dir / f"{name}.csv", folder / "data" / f"{name}.csv")
    export_parquet(paths.warehouse, schemas, folder / "data")
    descriptor = read_descriptor(paths.descriptor)
    sources = read_csv_rows((paths.data_dir / "sources.csv").read_text(encoding="utf-8"))
    (folder / "README.md").write_text(format_package_readme(descriptor, sources), encoding="utf-8")
    (folder / "SHA256SUMS").write_text(format_sha256sums(folder), encoding="utf-8")
    target = staging / f"valley-{version}.zip"
    write_reproducible_zip(folder, target)
    shutil.rmtree(folder)
    return target


def released_versions(dist_dir: Path) -> list[str]:
    """Versions with a complete release folder, oldest first."""
    found = [p.name for p in dist_dir.glob("*") if p.is_dir() and SEMVER.match(p.name) and (p / "SHA256SUMS").is_file()]
    return sorted(found, key=parse_version)


def read_release_tables(zip_path: Path) -> tuple[dict[str, list[Row]], dict[str, list[str]]]:
    """Rows (as CSV text) and primary keys of every table in a release zip."""
    tables, keys = {}, {}
    with zipfile.ZipFile(zip_path) as archive:
        for name in sorted(archive.namelist()):
            if name.startswith("schemas/") and name.endswith(".json"):
                table = name.removeprefix("schemas/").removesuffix(".json")
                keys[table] = json.loads(archive.read(name))["primaryKey"]
                tables[table] = read_csv_rows(archive.read(f"data/{table}.csv").decode("utf-8"))
    return tables, keys


def differing_artifacts(existing: Path, staged: Path, version: str) -> list[str]:
    """Names of the release artifacts (zip, DuckDB file) whose content differs from the release already cut."""
    names = [f"valley-{version}.zip", f"valley-{version}.duckdb"]
    return [n for n in names if not (existing / n).is_file() or file_digest(existing / n) != file_digest(staged / n)]


def write_atomically(target: Path, text: str) -> None:
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, target)


def finish_release(dist_dir: Path) -> None:
    """CHANGELOG.md from every release's entry (newest first), then the `latest` link: both idempotent, latest last."""
    versions = released_versions(dist_dir)
    entries = [(dist_dir / v / "CHANGES.md").read_text(encoding="utf-8") for v in reversed(versions)]
    changelog = "# Changelog\n\nReleases of the Guiyang Big Data Valley data package, newest first.\n\n"
    changelog += "\n".join(entries)
    if (
        not (dist_dir / "CHANGELOG.md").is_file()
        or (dist_dir / "CHANGELOG.md").read_text(encoding="utf-8") != changelog
    ):
        write_atomically(dist_dir / "CHANGELOG.md", changelog)
    latest = dist_dir / "latest"
    if versions and (not latest.is_symlink() or os.readlink(latest) != versions[-1]):
        temporary = dist_dir / ".latest.tmp"
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(versions[-1])
        os.replace(temporary, latest)


def read_validation_report(paths: ProjectPaths) -> dict[str, Any] | None:
    """The validation of the run that built the published state, as its publish recorded it in the manifest
    (whatever ran since: a re-validation or a skipped run does not change it); None for an older publish."""
    validation = read_manifest(paths).get("validation")
    return {**validation, "published": True} if validation else None


def cut_release(paths: ProjectPaths, today: dt.date | None = None) -> Release:
    """Release the published package as dist/<version>/; the same content again changes nothing. Everything is
    read from one published generation (a snapshot), whatever a run publishes meanwhile."""
    schemas = read_schemas(paths.schemas_dir)
    paths.dist_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(paths.dist_dir / ".release.lock"), snapshot_published(paths) as published:
        descriptor = read_descriptor(published.descriptor) if published.descriptor.is_file() else {}
        version = str(descriptor.get("version"))
        parse_version(version)
        counts = verify_published(published, schemas)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=paths.dist_dir))
        try:
            build_package_zip(published, schemas, version, staging)
            shutil.copyfile(published.warehouse, staging / f"valley-{version}.duckdb")
            return place_release(paths, descriptor, schemas, counts, staging, today or dt.date.today())
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def place_release(
    paths: ProjectPaths,
    descriptor: dict[str, Any],
    schemas: dict[str, Schema],
    counts: dict[str, int],
    staging: Path,
    today: dt.date,
) -> Release:
    """Compare the staged artifacts with what is released, add diff, page and checksums, and move them into place."""
    version, target = descriptor["version"], paths.dist_dir / descriptor["version"]
    released = released_versions(paths.dist_dir)
    if version in released:
        differing = differing_artifacts(target, staging, version)
        if differing:
            suggested = suggest_version(version, target / f"valley-{version}.zip", staging / f"valley-{version}.zip")
            raise ReleaseRefused(
                f"version {version} is already released in {target} with different content ({', '.join(differing)} "
                f"differ): releases are immutable. Raise `version` in {paths.descriptor} (to {suggested}) and run "
                "`valley release` again."
            )
        finish_release(paths.dist_dir)
        return Release(version, target, "unchanged", None, {})
    newer = [v for v in released if parse_version(v) > parse_version(version)]
    if newer:
        raise ReleaseRefused(
            f"version {version} is older than the released {newer[-1]}: versions only go up. Raise `version` in "
            f"{paths.descriptor} above {newer[-1]}."
        )
    previous = released[-1] if released else None
    new_tables, primary_keys = read_release_tables(staging / f"valley-{version}.zip")
    old_tables: dict[str, list[Row]] = {}
    if previous:
        old_tables, old_keys = read_release_tables(paths.dist_dir / previous / f"valley-{previous}.zip")
        primary_keys = {**old_keys, **primary_keys}
    changes = diff_tables(old_tables, new_tables, primary_keys)
    date = today.isoformat()
    changes_json = json.dumps(changes_as_json(version, previous, date, changes), indent=2, ensure_ascii=False)
    (staging / "changes.json").write_text(changes_json + "\n", encoding="utf-8")
    entry = format_changelog_entry(version, previous, date, changes, counts)
    (staging / "CHANGES.md").write_text(entry, encoding="utf-8")
    report = read_validation_report(paths)
    if report is not None:
        (staging / "validation.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    write_page(staging, descriptor, schemas, new_tables, report, entry)
    (staging / "SHA256SUMS").write_text(format_sha256sums(staging), encoding="utf-8")
    staging.chmod(0o755)  # mkdtemp makes it private; a release is for everyone who can read dist/
    os.rename(staging, target)  # fails, rather than merging, if the folder appeared meanwhile
    finish_release(paths.dist_dir)
    return Release(version, target, "released", previous, changes)


def suggest_version(version: str, released_zip: Path, staged_zip: Path) -> str:
    """The version the staged content needs over the release of `version`: the README's rule (new rows: minor)."""
    old_tables, old_keys = read_release_tables(released_zip)
    new_tables, new_keys = read_release_tables(staged_zip)
    changes = diff_tables(old_tables, new_tables, {**old_keys, **new_keys})
    part = needed_part(read_layout(released_zip), read_layout(staged_zip), changes)
    return f"{raise_version(parse_version(version), part)}, the {part} version: {PART_REASONS[part]}"
