"""Where each failing row came from: its record's file and line, read only for the sources that failed."""

from __future__ import annotations

import dataclasses
import posixpath
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.checks.expect import CheckResult
from flows.core.inputs import MEASURES_FILE
from flows.sources.extract import ORIGIN_FILE, RECORDS_DIR
from flows.sources.records import InputError, Record, load_records, load_yaml

Schema = dict[str, Any]
RowKey = tuple[str, str, str]  # a failing row's table, key and field: what its fingerprint is made of
SHOWN = 5  # the rows a message shows (expect.py, rules.py): located first
# records files parsed per validation at most (1-2 ms each): a check failing all 200,000 figures of 10,000
# sources costs ~4.5 s rather than ~25 s; rows beyond are reported by key only, as before locations
FILES_LIMIT = 1_000

# columns built from a record key of another name (the builders in evidence.py and corroborate.py); any other
# column comes from the key of its own name, or of its name without `_id` or `_text` (subject_id <- subject)
DERIVED_FROM: dict[str, dict[str, tuple[str, ...]]] = {
    "figures": {
        **dict.fromkeys(("value", "value_low", "value_high", "rounding_step", "unit", "qualifier"), ("figure",)),
        "change_percent": ("change",),
        "period_basis": ("period", "figure"),
    },
    "targets": {"deadline_year": ("deadline",), "period_basis": ("period", "deadline")},
    "events": {"year": ("name_text",)},
    "recognitions": {"year": ("title_text",)},
    "corroborations": {
        **dict.fromkeys(("value_text", "value", "value_low", "value_high", "unit"), ("value",)),
        **dict.fromkeys(("change_text", "change_percent"), ("change",)),
        "deadline_year": ("deadline",),
        "agrees": ("value", "change", "deadline"),
    },
    "sources": {"snapshot_path": ("snapshot",)},
}
EVIDENCE = {"evidence_quote": ("quote",), "evidence_offset": ("quote",)}


@dataclass(frozen=True)
class Location:
    """A line of a file, the file relative to the project as its user sees it (datapackage/sources/...)."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    def describe(self) -> str:
        return f"{self.file}, line {self.line}"


def row_key(row: Mapping[str, Any]) -> RowKey:
    return str(row.get("table")), str(row.get("key")), str(row.get("field"))


def parse_key(key: str, columns: list[str]) -> tuple[str, ...] | None:
    """A failing row's key as its primary key's values: `k=v,k=v` (table suites), `v/v` (rule suites) or `v`."""
    if key.startswith(f"{columns[0]}="):
        values, rest = [], key
        for column, following in zip(columns, [*columns[1:], None], strict=True):
            rest = rest.removeprefix(f"{column}=")
            cut = len(rest) if following is None else rest.find(f",{following}=")
            if cut < 0:
                return None
            values.append(rest[:cut])
            rest = rest[cut + 1 :]
        return tuple(values)
    parts = key.rsplit("/", len(columns) - 1) if len(columns) > 1 else [key]
    return tuple(parts) if len(parts) == len(columns) else None


def find_rows(frame: Any, key_columns: list[str], wanted: set[tuple[str, ...]], columns: list[str]) -> dict[Any, Any]:
    """The `columns` of the rows whose primary key is wanted, by key (one pass over the key columns; a frame is a
    DataFrame or a mapping of column lists)."""
    if not all(column in frame for column in [*key_columns, *columns]):
        return {}
    if hasattr(frame, "loc"):  # a DataFrame: narrowed by the first key column in pandas, not row by row in Python
        frame = frame.loc[frame[key_columns[0]].astype(str).isin({key[0] for key in wanted})]
    keys = zip(*(list(frame[column]) for column in key_columns), strict=True)
    hits = [(index, key) for index, key in enumerate(tuple(map(str, k)) for k in keys) if key in wanted]
    values = [list(frame[column]) for column in columns]
    return {key: {column: value[index] for column, value in zip(columns, values, strict=True)} for index, key in hits}


def source_folders(sources: Any) -> dict[str, tuple[str, str | None]]:
    """Each source's folder and snapshot relative to the package, from the sources table's snapshot_path."""
    if sources is None or not all(column in sources for column in ("source_id", "snapshot_path")):
        return {}
    out = {}
    for source_id, snapshot in zip(list(sources["source_id"]), list(sources["snapshot_path"]), strict=True):
        folder = posixpath.dirname(str(snapshot)) if snapshot else f"sources/{source_id}"
        out[str(source_id)] = (folder, str(snapshot) if snapshot else None)
    return out


def record_line(table: str, field: str, key_columns: list[str], record: Record) -> int:
    """The line of the record key the field was built from; the record's own line when it has none."""
    if [field] == key_columns:
        candidates: tuple[str, ...] = ("id",)
    else:
        own = (field, field.removesuffix("_id"), field.removesuffix("_text"))
        candidates = DERIVED_FROM.get(table, {}).get(field) or EVIDENCE.get(field) or own
    return next((record.key_lines[key] for key in candidates if key in record.key_lines), record.line)


class RecordFiles:
    """Records files of one package, each parsed once and only when a failing row needs it."""

    def __init__(self, package_dir: Path, limit: int = FILES_LIMIT):
        self.package_dir, self.limit = package_dir, limit
        self.records: dict[str, dict[str, Record]] = {}  # by path relative to the package

    @property
    def parsed(self) -> list[str]:
        return [self.shown(relative) for relative in self.records]

    def shown(self, relative: str) -> str:
        return f"{self.package_dir.name}/{relative}"

    def record(self, relative: str, record_id: str) -> Record | None:
        if relative not in self.records:
            if len(self.records) >= self.limit:
                return None
            self.records[relative] = _records_by_id(self.package_dir / relative)
        return self.records[relative].get(record_id)


def _records_by_id(path: Path) -> dict[str, Record]:
    if path.name == ORIGIN_FILE:  # one mapping, the source itself: its id is its folder's name
        origin = _load_quietly(lambda: load_yaml(path))
        if not isinstance(origin, dict):
            return {}
        return {path.parent.name: Record(origin, path, origin["__line__"], origin["__key_lines__"])}
    records = _load_quietly(lambda: load_records(path) if path.is_file() else [])
    return {str(record.values.get("id")): record for record in records or []}


def _load_quietly(load: Any) -> Any:
    # a location helps a reader; a records file broken since the rows were built must not fail the validation
    try:
        return load()
    except InputError:
        return None


def locate_table(
    table: str, key_columns: list[str], wanted: dict[tuple[str, ...], list[RowKey]], frame: Any, files: RecordFiles,
    folders: dict[str, tuple[str, str | None]],
) -> dict[RowKey, Location]:  # fmt: skip
    """Locations of one table's failing rows: a record in its source's records file (measures.yaml for the shared
    vocabulary, origin.yaml for a source), or a number mention's line in its snapshot."""
    out: dict[RowKey, Location] = {}
    if table == "number_mentions":
        found = find_rows(frame, key_columns, set(wanted), ["source_id", "line"])
        for key, row in found.items():
            snapshot = folders.get(str(row["source_id"]), (None, None))[1]
            if snapshot is not None and row["line"] is not None:
                out |= dict.fromkeys(wanted[key], Location(files.shown(snapshot), int(row["line"])))
        return out
    if table == "sources":
        files_of = {key: f"{folders[key[0]][0]}/{ORIGIN_FILE}" for key in wanted if key[0] in folders}
    elif table == "measures":
        files_of = dict.fromkeys(wanted, f"sources/{MEASURES_FILE}")
    else:
        found = find_rows(frame, key_columns, set(wanted), ["source_id"])
        by_source = {key: folders.get(str(row["source_id"])) for key, row in found.items()}
        files_of = {key: f"{where[0]}/{RECORDS_DIR}/{table}.yaml" for key, where in by_source.items() if where}
    for key, relative in files_of.items():
        record = files.record(relative, key[0])
        if record is None:
            continue
        for row in wanted[key]:
            out[row] = Location(files.shown(relative), record_line(table, row[2], key_columns, record))
    return out


def locate_rows(
    package_dir: Path,
    tables: Mapping[str, Any],
    schemas: dict[str, Schema],
    failing: Iterable[Mapping[str, Any]],
    files: RecordFiles | None = None,
) -> dict[RowKey, Location]:
    """Each failing row's location by (table, key, field), parsing only the records files of the sources the
    failing rows belong to (their table's source_id); rows that came from no file line are left out."""
    wanted: dict[str, dict[tuple[str, ...], list[RowKey]]] = defaultdict(lambda: defaultdict(list))
    for row in failing:
        table, key, field = row_key(row)
        if table in schemas and table in tables:
            parsed = parse_key(key, schemas[table]["primaryKey"])
            if parsed is not None and (table, key, field) not in wanted[table][parsed]:
                wanted[table][parsed].append((table, key, field))
    if not wanted:
        return {}
    files, folders = files or RecordFiles(package_dir), source_folders(tables.get("sources"))
    located: dict[RowKey, Location] = {}
    for table, keys in wanted.items():
        located |= locate_table(table, schemas[table]["primaryKey"], keys, tables[table], files, folders)
    return located


def labels_of(table: str, key: str, field: str) -> list[str]:
    """How a message names a row: a rule suite's `table row 'key' field 'f'`, a table suite's `(k=v, k=v)`."""
    return [f"{table} row '{key}' field '{field}'"] + ([f"({key.replace(',', ', ')})"] if "=" in key else [])


def name_locations(message: str, failing: list[dict[str, str]], found: dict[RowKey, Location]) -> str:
    """The message with each row it shows followed by its location; when it shows none by a known label, the
    first rows' locations after it."""
    cursor, named = 0, 0
    for row in failing:
        location = found.get(row_key(row))
        if location is None:
            continue
        hits = [(at, label) for label in labels_of(*row_key(row)) if (at := message.find(label, cursor)) >= 0]
        if not hits:
            break  # messages show the first rows in order: this one and the rest are not shown
        at, label = min(hits)
        text = f" ({location.describe()})"
        cursor = at + len(label)
        message, cursor, named = message[:cursor] + text + message[cursor:], cursor + len(text), named + 1
    if named or not message:
        return message
    rows = [(row, found[row_key(row)]) for row in failing if row_key(row) in found][:SHOWN]
    listed = "; ".join(f"{row['table']} row '{row['key']}' at {location.describe()}" for row, location in rows)
    return message + (f" (records: {listed})" if listed else "")


def locate_checks(
    package_dir: Path, tables: Mapping[str, Any], schemas: dict[str, Schema], checks: list[CheckResult]
) -> list[CheckResult]:
    """The checks with each failing row's location as `record` ("file:line") and named in the message; the
    table, key and field (the fingerprint) unchanged. Nothing is read when nothing failed."""
    files = RecordFiles(package_dir)
    found = locate_rows(package_dir, tables, schemas, (row for check in checks for row in check.failing[:SHOWN]), files)
    found |= locate_rows(package_dir, tables, schemas, (row for check in checks for row in check.failing), files)
    if not found:
        return checks
    out = []
    for check in checks:
        if not any(row_key(row) in found for row in check.failing):
            out.append(check)
            continue
        failing = [{**row, "record": str(found[row_key(row)])} if row_key(row) in found else row
                   for row in check.failing]  # fmt: skip
        out.append(dataclasses.replace(check, failing=failing, message=name_locations(check.message, failing, found)))
    return out
