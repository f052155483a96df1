"""Validation by source: each source's facts made from its rows alone and kept beside them, frictionless reading only
rows no publish has passed; the same facts, lines and findings as a validation of the whole package."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from flows.checks import validate
from flows.checks.audit import FACT_TABLES, FactsText, build_facts, fact_line, rows_of, source_facts, typed_rows
from flows.checks.expect import read_frames
from flows.checks.frictionless import validate_new_rows, validate_package
from flows.checks.rules import read_view
from flows.core.inputs import read_inputs
from flows.core.paths import DEFAULT_PATHS, ProjectPaths
from flows.package.stage import format_table, stage_lines
from flows.sources.extract import extract_each, list_sources, merge_tables

INPUTS = read_inputs(DEFAULT_PATHS)
SCHEMAS = INPUTS.schemas
KEYS = {table: schema["primaryKey"] for table, schema in SCHEMAS.items()}
SOURCE = "big-data-valley"
Lines = dict[str, list[Any]]


@pytest.fixture(scope="module")
def lines() -> dict[str, Lines]:
    """The article's rows as the package writes them, by source (what the flow keeps)."""
    return {
        folder.name: {table: format_table(table, rows, SCHEMAS[table]) for table, rows in tables.items()}
        for folder, tables in extract_each(list_sources(DEFAULT_PATHS.sources_dir), INPUTS)
    }


def staged_package(tmp_path: Path, by_source: dict[str, Lines], paths: ProjectPaths = DEFAULT_PATHS) -> Path:
    return stage_lines(merge_tables(by_source.values()), paths, tmp_path / "staging", INPUTS)


def test_typed_rows_read_a_table_as_the_package_csv_is_read(lines: dict[str, Lines]) -> None:
    frames = read_frames(SCHEMAS, DEFAULT_PATHS.data_dir)
    for table in ("figures", "targets", "number_mentions", "sources"):
        assert typed_rows(lines[SOURCE][table], SCHEMAS[table]) == list(rows_of(frames[table])), table


def test_a_sources_facts_are_the_facts_a_whole_package_validation_makes(lines: dict[str, Lines]) -> None:
    frames = read_frames(SCHEMAS, DEFAULT_PATHS.data_dir)
    text = (DEFAULT_PATHS.package_dir / "sources" / SOURCE / "article.txt").read_text(encoding="utf-8")
    whole = build_facts({table: rows_of(frame) for table, frame in frames.items()}, {SOURCE: text}, KEYS)
    made = source_facts(SOURCE, lines[SOURCE], text, SCHEMAS)
    for name in FACT_TABLES:
        expected = [fact_line(row.values()) for row in whole[name]]
        assert expected, name
        assert made[name] == "".join(expected), name


def test_facts_loaded_as_text_are_the_rows_they_were_written_from(lines: dict[str, Lines]) -> None:
    frames = read_frames(SCHEMAS, DEFAULT_PATHS.data_dir)
    text = (DEFAULT_PATHS.package_dir / "sources" / SOURCE / "article.txt").read_text(encoding="utf-8")
    rows = {name: list(facts) for name, facts in build_facts(dict(map_rows(frames)), {SOURCE: text}, KEYS).items()}
    rows["change_intervals"].append({"table": "figures", "key": 'a "quoted", key', "low": None, "high": 0.1,
                                     "parsed": False})  # fmt: skip
    as_text = {name: FactsText(["".join(fact_line(row.values()) for row in facts)]) for name, facts in rows.items()}
    for name in FACT_TABLES:
        assert read_view(frames, as_text, SCHEMAS, name) == read_view(frames, rows, SCHEMAS, name), name


def map_rows(frames: dict[str, Any]) -> Any:
    return ((table, rows_of(frame)) for table, frame in frames.items())


def sources_of(by_source: dict[str, Lines], kept_dir: Path, reused: set[str]) -> validate.SourceRows:
    keys = {source_id: f"key-of-{source_id}" for source_id in by_source}
    return validate.SourceRows(by_source, keys, kept_dir, reused, set(by_source))


def test_kept_facts_are_used_only_whole_and_for_a_reused_source(tmp_path: Path, lines: dict[str, Lines]) -> None:
    descriptor = staged_package(tmp_path, lines)
    kept_dir = tmp_path / "kept" / "facts"
    first, made = validate.gather_facts(descriptor.parent, sources_of(lines, kept_dir, set()), SCHEMAS)
    assert made == 1 and (kept_dir / f"{SOURCE}.json").is_file()
    again, made = validate.gather_facts(descriptor.parent, sources_of(lines, kept_dir, {SOURCE}), SCHEMAS)
    assert made == 0 and again == first
    _, made = validate.gather_facts(descriptor.parent, sources_of(lines, kept_dir, set()), SCHEMAS)
    assert made == 1  # a source extracted again gets its facts made again
    kept = kept_dir / f"{SOURCE}.json"
    kept.write_bytes(kept.read_bytes()[:-30])  # damaged: made again, never trusted
    repaired, made = validate.gather_facts(descriptor.parent, sources_of(lines, kept_dir, {SOURCE}), SCHEMAS)
    assert made == 1 and repaired == first
    head, _, body = kept.read_bytes().partition(b"\n")
    kept.write_bytes(json.dumps(json.loads(head) | {"key": "0" * 64}).encode() + b"\n" + body)  # other code's
    _, made = validate.gather_facts(descriptor.parent, sources_of(lines, kept_dir, {SOURCE}), SCHEMAS)
    assert made == 1
    (kept_dir / "gone-source.json").write_text("{}", encoding="utf-8")
    validate.gather_facts(descriptor.parent, sources_of(lines, kept_dir, {SOURCE}), SCHEMAS)
    assert sorted(path.name for path in kept_dir.iterdir()) == [f"{SOURCE}.json"]


def with_bad_value(lines: Lines) -> Lines:
    """The article's rows with one figure's value that no number type reads."""
    figures = [list(entry) for entry in lines["figures"]]
    cells = next(csv.reader(io.StringIO(figures[0][1])))
    cells[[field["name"] for field in SCHEMAS["figures"]["fields"]].index("value")] = "eighty"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    figures[0][1] = out.getvalue()
    return {**lines, "figures": figures}


def test_frictionless_on_new_rows_finds_what_the_whole_package_check_finds(
    tmp_path: Path, lines: dict[str, Lines]
) -> None:
    descriptor = staged_package(tmp_path / "good", lines)
    assert validate_new_rows(descriptor, list(lines.values())) == [] == validate_package(descriptor)
    assert not list(descriptor.parent.parent.glob("*-new-rows"))

    bad = {SOURCE: with_bad_value(lines[SOURCE])}
    descriptor = staged_package(tmp_path / "bad", bad)
    whole = validate_package(descriptor)
    assert whole and any("figures.csv, row" in line and "'value'" in line for line in whole)
    assert validate_new_rows(descriptor, list(bad.values())) == whole


def test_frictionless_on_new_rows_still_checks_every_staged_file_against_its_hash(
    tmp_path: Path, lines: dict[str, Lines]
) -> None:
    descriptor = staged_package(tmp_path, lines)
    quotes = descriptor.parent / "data" / "quotes.csv"
    quotes.write_text(quotes.read_text(encoding="utf-8").replace("a", "b", 1), encoding="utf-8")
    whole = validate_package(descriptor)
    assert any("hash" in line for line in whole)
    assert validate_new_rows(descriptor, []) == whole


def test_frictionless_on_new_rows_reads_no_other_row_when_they_pass(
    tmp_path: Path, lines: dict[str, Lines], monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.checks import frictionless

    read: list[str] = []
    whole = frictionless.validate_package

    def observed(descriptor: Path, *args: Any, **kwargs: Any) -> list[str]:
        read.append(descriptor.parent.name)
        return whole(descriptor, *args, **kwargs)

    monkeypatch.setattr(frictionless, "validate_package", observed)
    descriptor = staged_package(tmp_path, lines)
    one_row_each = {table: rows[:1] for table, rows in lines[SOURCE].items()}
    assert validate_new_rows(descriptor, [one_row_each], validate.BASELINE_OWNS) == []
    assert read == ["datapackage-new-rows"]
