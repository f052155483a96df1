"""Turn each source's snapshot and its evidence records into table rows, every value anchored to a quote."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from flows.core.inputs import MEASURES_FILE, RunInputs, read_inputs
from flows.core.paths import ProjectPaths
from flows.sources.corroborate import (
    PLAIN_KEYS,
    build_corroboration,
    build_measure,
    check_measures,
    claim_of,
    disagreements,
)
from flows.sources.evidence import (
    BUILDERS,
    COVERING_SPANS,
    Evidence,
    Source,
    check_keys,
    check_keys_against,
    evidence_columns,
)
from flows.sources.numbers import find_number_spans
from flows.sources.records import (
    InputError,
    Problem,
    Record,
    load_records,
    load_shared_records,
    load_yaml,
    strip_lines,
)
from flows.sources.recordschema import check_references, check_row

Row = dict[str, Any]
T = TypeVar("T")
ORIGIN_FILE = "origin.yaml"
RECORDS_DIR = "records"
CORROBORATIONS_FILE = "corroborations.yaml"
# tables every source carries in full (a shared vocabulary): merged once, not once per source
SHARED_TABLES = ("measures",)


def read_source(folder: Path) -> Source:
    """Read a source folder's origin record and snapshot, checking the snapshot's sha256 and size."""
    origin_path = folder / ORIGIN_FILE
    if not origin_path.is_file():
        raise InputError([Problem(origin_path, None, None, "missing origin record")])
    origin = strip_lines(load_yaml(origin_path))
    snapshot = folder / str(origin.get("snapshot", ""))
    if not snapshot.is_file():
        raise InputError([Problem(origin_path, None, "snapshot", f"snapshot file {snapshot.name!r} not found")])
    data = snapshot.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    problems = []
    if digest != origin.get("sha256"):
        problems.append(
            Problem(
                origin_path,
                None,
                "sha256",
                f"snapshot sha256 is {digest}, origin records {origin.get('sha256')}",
            )
        )
    if len(data) != origin.get("bytes"):
        problems.append(
            Problem(
                origin_path,
                None,
                "bytes",
                f"snapshot has {len(data)} bytes, origin records {origin.get('bytes')}",
            )
        )
    if problems:
        raise InputError(problems)
    return Source(folder.name, folder, data.decode("utf-8"), origin)


def source_row(source: Source) -> Row:
    origin = source.origin
    return {
        "source_id": source.source_id,
        "title": origin.get("title"),
        "site": origin.get("site"),
        "author": origin.get("author"),
        "url": origin.get("url"),
        "published_date": origin.get("published_date"),
        "published_note": origin.get("published_note"),
        "language": origin.get("language"),
        "time_frame_start": origin.get("time_frame_start"),
        "time_frame_end": origin.get("time_frame_end"),
        "captured_date": origin.get("captured_date"),
        "snapshot_path": f"sources/{source.source_id}/{origin['snapshot']}",
        "sha256": origin.get("sha256"),
        "bytes": origin.get("bytes"),
    }


def extract_source(source: Source, inputs: RunInputs) -> dict[str, list[Row]]:
    """All rows one source contributes, with a number_mentions row for every number in its text; every
    row is checked against its Table Schema and its foreign keys here, so a problem names its record."""
    schemas = inputs.schemas
    problems: list[Problem] = []
    tables: dict[str, list[Row]] = {"sources": [source_row(source)]}
    built: list[tuple[str, Row, Record]] = []
    rejected: dict[str, list[Row]] = {}  # rows with a problem already reported: still valid reference targets
    accounted: dict[tuple[int, int], tuple[str, str]] = {}
    vocabulary = source.folder.parent / MEASURES_FILE
    tables["measures"] = plain_rows("measures", vocabulary, schemas, problems, built, data=inputs.vocabulary)
    for table, build in BUILDERS.items():
        path = source.folder / RECORDS_DIR / f"{table}.yaml"
        tables[table] = []
        for record in load_records(path) if path.is_file() else []:
            if not check_keys(table, record, problems):
                continue
            if record.values.get("status") not in (None, "reviewed"):  # a proposal the line count missed
                problems.append(record.problem("status", "must be 'reviewed' or absent: review the proposal first"))
                continue
            before = len(problems)
            evidence = Evidence(record, source, problems)
            row = {**evidence_columns(record, evidence), "source_id": source.source_id, **build(record, evidence)}
            if len(problems) == before:
                check_row(table, schemas[table], row, record, problems)
            if len(problems) > before:
                rejected.setdefault(table, []).append(row)
                continue
            if table in COVERING_SPANS:
                for span in evidence.covered:
                    accounted.setdefault(span, (table, record.values["id"]))
            tables[table].append(row)
            built.append((table, row, record))
    path = source.folder / RECORDS_DIR / CORROBORATIONS_FILE
    tables["corroborations"] = plain_rows("corroborations", path, schemas, problems, built, source.source_id)
    known = {table: rows + rejected.get(table, []) for table, rows in tables.items()}
    problems += check_references(built, known, schemas, defining_files(source)) + check_measures(built, tables)
    if not problems:
        problems += judge_corroborations(tables, built)
    if problems:
        raise InputError(problems)
    tables["number_mentions"] = list(mention_rows(source, accounted))
    return tables


def defining_files(source: Source) -> dict[str, str]:
    """Where the rows a foreign key may name are written, as the user sees the path (datapackage/sources/...)."""
    folder = "/".join(source.folder.parts[-3:])
    records = {table: f"{folder}/{RECORDS_DIR}/{table}.yaml" for table in BUILDERS}
    return {**records, "measures": f"{'/'.join(source.folder.parts[-3:-1])}/{MEASURES_FILE}"}


def plain_rows(
    table: str,
    path: Path,
    schemas: dict[str, Any],
    problems: list[Problem],
    built: list[tuple[str, Row, Record]],
    source_id: str | None = None,
    data: bytes | None = None,
) -> list[Row]:
    """Rows of a records file whose records quote nothing from the article (vocabulary, corroborations); the
    vocabulary comes as the bytes the run read once (`data`)."""
    rows = []
    if table == "measures":
        records = load_shared_records(path, data) if data is not None else []
    else:
        records = load_records(path) if path.is_file() else []
    for record in records:
        required, optional = PLAIN_KEYS[table]
        if not check_keys_against(table, record, required, optional, problems):
            continue
        before = len(problems)
        row = build_measure(record) if table == "measures" else build_corroboration(record, problems)
        row = {**({"source_id": source_id} if source_id else {}), **row}
        if table == "corroborations":
            row["agrees"] = False  # a placeholder of the right type until judged
        if len(problems) == before:
            check_row(table, schemas[table], row, record, problems)
        if len(problems) == before:
            rows.append(row)
            built.append((table, row, record))
    return rows


def judge_corroborations(tables: dict[str, list[Row]], built: list[tuple[str, Row, Record]]) -> list[Problem]:
    """Fill each corroboration's `agrees` from the article row it speaks to (the precision rule on both)."""
    problems = []
    for table, row, record in built:
        if table != "corroborations":
            continue
        claim = claim_of(row, tables)
        if claim is None:
            problems.append(record.problem("figure" if row["figure_id"] else "target", "speaks to no article row"))
            continue
        row["agrees"] = not disagreements(row, claim)
    return problems


def mention_rows(source: Source, accounted: dict[tuple[int, int], tuple[str, str]]) -> list[Row]:
    """Every number in the source text, with the record that accounts for it (None when nothing does)."""
    rows = []
    # mentions come in text order, so one sweep: `active` holds the spans begun by now that may still contain
    # this mention or a later one, in sorted order; the owner is the first that contains it (as if searched
    # through every span sorted). Line numbers are counted incrementally the same way.
    spans, active, taken = sorted(accounted.items()), [], 0
    line, counted_to = 1, 0
    for start, end, text in find_number_spans(source.text):
        while taken < len(spans) and spans[taken][0][0] <= start:
            active.append(spans[taken])
            taken += 1
        active = [span for span in active if span[0][1] >= start]
        owner = next(((t, i) for (s, e), (t, i) in active if s <= start and end <= e), None)
        line, counted_to = line + source.text.count("\n", counted_to, start), start
        rows.append(
            {
                "source_id": source.source_id,
                "offset": start,
                "text": text,
                "line": line,
                "accounted_by_table": owner[0] if owner else None,
                "accounted_by_id": owner[1] if owner else None,
            }
        )
    return rows


def list_sources(sources_dir: Path, held: dict[str, dict[str, int]] | None = None) -> list[Path]:
    """Every source folder whose records are all reviewed: adding an article is adding a folder, and a folder
    with proposals left to review (`valley draft`) waits, named by held_back_sources (`held`, when the caller
    has it already: each records file is read to know)."""
    folders = sorted(p for p in sources_dir.iterdir() if p.is_dir()) if sources_dir.is_dir() else []
    if not folders:
        raise InputError([Problem(sources_dir, None, None, "no source folders")])
    held = held if held is not None else held_back_sources(sources_dir)
    return [folder for folder in folders if folder.name not in held]


def held_back_sources(sources_dir: Path) -> dict[str, dict[str, int]]:
    """{slug: {records file: proposals left}} for every folder list_sources leaves out."""
    folders = sorted(p for p in sources_dir.iterdir() if p.is_dir()) if sources_dir.is_dir() else []
    return {folder.name: pending for folder in folders if (pending := pending_proposals(folder))}


def describe_held_back(held: dict[str, dict[str, int]]) -> list[str]:
    """'slug: 12 proposals left to review in records/figures.yaml (9), ...' for the run summary."""
    lines = []
    for slug, pending in held.items():
        files = ", ".join(f"{name} ({count})" for name, count in pending.items())
        lines.append(f"{slug}: {sum(pending.values())} proposals left to review in {files}")
    return lines


def pending_proposals(folder: Path) -> dict[str, int]:
    """Records still marked `status: proposed` in a source folder, by records file: a line count, no YAML parse
    (every run asks it of every folder)."""
    counts = {}
    records = folder / RECORDS_DIR
    for path in sorted(records.glob("*.yaml")) if records.is_dir() else []:
        data = path.read_bytes()
        if b"proposed" not in data:
            continue
        count = sum(1 for line in data.decode("utf-8", "replace").splitlines() if _is_proposed(line))
        if count:
            counts[f"{RECORDS_DIR}/{path.name}"] = count
    return counts


def _is_proposed(line: str) -> bool:
    code = line.split("#", 1)[0].strip().removeprefix("- ").replace(" ", "")
    return code in ("status:proposed", "status:'proposed'", 'status:"proposed"')


def merge_tables(parts: Iterable[dict[str, list[T]]]) -> dict[str, list[T]]:
    """One table set from each source's rows (dicts, or kept CSV lines), tables in the order they first appear,
    a shared table (the vocabulary) taken once."""
    tables: dict[str, list[T]] = {}
    for part in parts:
        for table, rows in part.items():
            if table in SHARED_TABLES and table in tables:
                continue
            tables.setdefault(table, []).extend(rows)
    return tables


def extract_folder(folder: Path, inputs: RunInputs) -> dict[str, list[Row]]:
    return extract_source(read_source(folder), inputs)


def extract_tables(sources_dir: Path) -> dict[str, list[Row]]:
    """Rows of every table across every source folder of the project holding `sources_dir`, reporting every
    source's problems at once."""
    return extract_folders(list_sources(sources_dir), read_inputs(ProjectPaths(sources_dir.parent.parent)))


def extract_folders(folders: list[Path], inputs: RunInputs) -> dict[str, list[Row]]:
    """Rows of every table from these source folders, reporting every folder's problems at once: one task
    over a batch of folders costs an orchestrator one task, not one per folder (see README, Performance)."""
    return merge_tables([tables for _, tables in extract_each(folders, inputs)])


def extract_each(folders: list[Path], inputs: RunInputs) -> Iterator[tuple[Path, dict[str, list[Row]]]]:
    """Each folder with its rows, in order; after the last, an InputError with every failing folder's problems
    (the folders that passed were yielded first, so their rows can be kept)."""
    problems = []
    for folder in folders:
        try:
            tables = extract_folder(folder, inputs)
        except InputError as error:
            problems.extend(error.problems)
            continue
        yield folder, tables
    if problems:
        raise InputError(problems)
