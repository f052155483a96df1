import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.checks.expect import CheckResult, frames_of, read_frames, write_suites
from flows.checks.locate import Location, RecordFiles, locate_rows, parse_key
from flows.checks.validate import ValidationReport, check_package
from flows.core.inputs import read_inputs, read_schemas
from flows.core.paths import ProjectPaths
from flows.package.stage import stage_package
from flows.report.findings import ACCEPTED, classify, describe, findings_of, load_accepted
from flows.report.history import append_history, build_report, write_report
from flows.sources.corpus import grow_corpus, source_slug
from flows.sources.extract import extract_tables

ARTICLE = "datapackage/sources/big-data-valley"
TODAY = dt.date(2026, 11, 30)


def line_of(path: Path, text: str, after: str | None = None) -> int:
    """The 1-based line of the first line holding `text` (after the first line holding `after`)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and text in line) + 1


def failing_check(checks: list[Any], suite: str, check: str | None = None) -> Any:
    return next(c for c in checks if c.suite == suite and not c.success and (check is None or c.column == check))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> ProjectPaths:
    """A project copy with the article and three synthetic sources."""
    from tests.conftest import copy_project

    paths = copy_project(tmp_path_factory.mktemp("corpus") / "project")
    grow_corpus(paths.sources_dir, 3)
    return paths


@pytest.mark.parametrize(
    ("key", "columns", "expected"),
    [
        ("figure_id=a-2018", ["figure_id"], ("a-2018",)),
        ("a-2018", ["figure_id"], ("a-2018",)),
        ("source_id=s-1,offset=12", ["source_id", "offset"], ("s-1", "12")),
        ("s-1/12", ["source_id", "offset"], ("s-1", "12")),
        ("source_id=s-1", ["source_id", "offset"], None),
        ("s-1", ["source_id", "offset"], None),
    ],
)
def test_parse_key_reads_table_suite_and_rule_suite_keys(
    key: str, columns: list[str], expected: tuple[str, ...] | None
) -> None:
    assert parse_key(key, columns) == expected


def test_locate_rows_reads_only_the_records_files_of_the_failing_sources(corpus: ProjectPaths) -> None:
    schemas = read_schemas(corpus.schemas_dir)
    frames = frames_of(extract_tables(corpus.sources_dir))
    slug = source_slug(1)
    failing = [
        {"table": "figures", "key": f"{slug}-figure-001", "field": "value"},  # parsed from the record's `figure`
        {"table": "figures", "key": f"figure_id={slug}-figure-001", "field": "figure_id"},  # the record's `id`
        {"table": "sources", "key": slug, "field": "title"},
        {"table": "measures", "key": "big_data_enterprises", "field": "label"},
        {"table": "figures", "key": "no-such-figure", "field": "value"},
    ]
    files = RecordFiles(corpus.package_dir)
    found = locate_rows(corpus.package_dir, frames, schemas, failing, files)

    figures = corpus.sources_dir / slug / "records" / "figures.yaml"
    origin = corpus.sources_dir / slug / "origin.yaml"
    measures = corpus.sources_dir / "measures.yaml"
    shown = f"datapackage/sources/{slug}/records/figures.yaml"
    assert found == {
        ("figures", f"{slug}-figure-001", "value"): Location(shown, line_of(figures, "figure:", f"{slug}-figure-001")),
        ("figures", f"figure_id={slug}-figure-001", "figure_id"): Location(
            shown, line_of(figures, f"{slug}-figure-001")
        ),
        ("sources", slug, "title"): Location(f"datapackage/sources/{slug}/origin.yaml", line_of(origin, "title:")),
        ("measures", "big_data_enterprises", "label"): Location(
            "datapackage/sources/measures.yaml", line_of(measures, "label:", "id: big_data_enterprises")
        ),
    }
    # one source's figures, its origin and the shared vocabulary: no other source's records
    assert sorted(files.parsed) == sorted([shown, f"datapackage/sources/{slug}/origin.yaml",
                                           "datapackage/sources/measures.yaml"])  # fmt: skip


def test_locate_rows_parses_no_more_files_than_its_limit(corpus: ProjectPaths) -> None:
    schemas = read_schemas(corpus.schemas_dir)
    frames = frames_of(extract_tables(corpus.sources_dir))
    failing = [{"table": "figures", "key": f"{source_slug(n)}-figure-000", "field": "value"} for n in (0, 1)]
    files = RecordFiles(corpus.package_dir, limit=1)
    found = locate_rows(corpus.package_dir, frames, schemas, failing, files)
    assert len(files.parsed) == 1 and len(found) == 1  # the other row stays reported by key only


def test_locate_rows_reads_nothing_when_nothing_failed(corpus: ProjectPaths) -> None:
    files = RecordFiles(corpus.package_dir)
    schemas = read_schemas(corpus.schemas_dir)
    assert (
        locate_rows(corpus.package_dir, {"sources": {"source_id": [], "snapshot_path": []}}, schemas, [], files) == {}
    )
    assert files.parsed == []


def test_check_package_names_the_records_file_and_line_of_a_broken_record(
    project: ProjectPaths, tmp_path: Path
) -> None:
    records = project.sources_dir / "big-data-valley" / "records" / "corroborations.yaml"
    text = records.read_text(encoding="utf-8")
    assert text.count('value: "80 billion yuan"') == 1
    records.write_text(text.replace('value: "80 billion yuan"', 'value: "8 billion yuan"'), encoding="utf-8")
    line = line_of(records, 'value: "8 billion yuan"')
    schemas = read_schemas(project.schemas_dir)
    descriptor = stage_package(extract_tables(project.sources_dir), project, tmp_path, read_inputs(project))
    write_suites(schemas, project.expectations_dir, tmp_path / "expectations")
    report = check_package(descriptor.parent, schemas, tmp_path / "expectations", project.expectations_dir)

    check = failing_check(report.checks, "corroboration", "agrees")
    key = "belt-and-road-2019-10-15-guiyang-2017-revenue"
    where = f"{ARTICLE}/records/corroborations.yaml"
    assert {"table": "corroborations", "key": key, "field": "value", "record": f"{where}:{line}"} in check.failing
    assert f"corroborations row '{key}' field 'value' ({where}, line {line})" in check.message
    assert f"({where}, line {line})" in "\n".join(report.warnings)

    # the location is not fingerprinted: the article's accepted findings still match, and carry it
    results = [asdict(c) for c in report.checks]
    without = [{**r, "failing": [{k: v for k, v in row.items() if k != "record"} for row in r["failing"]]}
               for r in results]  # fmt: skip
    assert [f.fingerprint for f in findings_of(results)] == [f.fingerprint for f in findings_of(without)]
    classified = classify(findings_of(results), load_accepted(project.expectations_dir / "accepted.yaml"),
                          {c.suite for c in report.checks}, TODAY)  # fmt: skip
    accepted = [row for row in classified["findings"] if row["class"] == ACCEPTED]
    assert len(accepted) == 9 and classified["resolved"] == []
    assert all(row["record"].startswith(f"{ARTICLE}/records/figures.yaml:") for row in accepted)
    assert f" at {where}:{line}" in describe(next(r for r in classified["findings"] if r["key"] == key))


def test_check_package_locates_a_number_mention_at_its_snapshot_line_and_leaves_a_missing_one_by_key(
    project: ProjectPaths,
) -> None:
    schemas = read_schemas(project.schemas_dir)
    frames = read_frames(schemas, project.data_dir)
    mentions = frames["number_mentions"]
    bad, gone = mentions.iloc[3], mentions.iloc[5]
    mentions.loc[mentions.index[3], "accounted_by_table"] = "nowhere"  # breaks the schema's enum
    frames["number_mentions"] = mentions.drop(index=mentions.index[5])  # a number in the text no row lists
    report = check_package(project.package_dir, schemas, project.expectations_dir, project.expectations_dir, frames)

    enum = next(c for c in report.checks if c.suite == "number_mentions" and c.column == "accounted_by_table"
                and not c.success)  # fmt: skip
    snapshot = f"{ARTICLE}/article.txt:{bad['line']}"
    assert [row.get("record") for row in enum.failing] == [snapshot]
    assert f"({ARTICLE}/article.txt, line {bad['line']})" in enum.message

    coverage = failing_check(report.checks, "coverage", "accounted")
    key = f"big-data-valley/{gone['offset']}"
    assert coverage.failing == [{"table": "number_mentions", "key": key, "field": "accounted_by_id"}]
    assert f"number_mentions row '{key}' field 'accounted_by_id'" in coverage.message
    assert "datapackage/" not in coverage.message


def test_the_report_and_the_history_carry_the_location(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    row = {"table": "figures", "key": "a-2018", "field": "value", "record": f"{ARTICLE}/records/figures.yaml:12"}
    check = CheckResult("plausibility", "unexpected_rows_expectation", "dated", "info", False, "bad", [row])
    started = dt.datetime(2026, 11, 30, 10, 0, 0)
    for run in ("first", "second"):
        document = build_report(ValidationReport([], [check]), "etl", started, True, run_id=run)
        append_history(document, write_report(document, paths), paths)
        if run == "first":  # a history written before findings had locations gains the column
            with duckdb.connect(str(paths.history)) as connection:
                connection.execute("ALTER TABLE findings DROP COLUMN record")

    latest = json.loads((paths.build_dir / "reports" / "latest.json").read_text(encoding="utf-8"))
    assert latest["results"][0]["failing"] == [row]
    assert latest["findings"][0]["record"] == row["record"]
    with duckdb.connect(str(paths.history), read_only=True) as connection:
        rows = connection.execute("SELECT run_id, record FROM findings ORDER BY run_id").fetchall()
    assert rows == [("first", None), ("second", row["record"])]


def test_a_number_no_record_accounts_for_is_reported_once_with_its_fix(project: ProjectPaths) -> None:
    schemas = read_schemas(project.schemas_dir)
    frames = read_frames(schemas, project.data_dir)
    mentions = frames["number_mentions"]
    gone = mentions.iloc[5]
    mentions.loc[mentions.index[5], ["accounted_by_table", "accounted_by_id"]] = None  # as extraction leaves it
    report = check_package(project.package_dir, schemas, project.expectations_dir, project.expectations_dir, frames)

    [coverage] = [c for c in report.checks if not c.success and c.severity == "critical"]
    assert (coverage.suite, coverage.column) == ("coverage", "accounted")
    assert f"({ARTICLE}/article.txt, line {gone['line']})" in coverage.message
    fix = f"number {gone['text']} is accounted for by no record: add a figure or an `excluded_numbers` record"
    assert fix in coverage.message
