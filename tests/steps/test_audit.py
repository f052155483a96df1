"""Every check the suites make: data that violates it is caught with its severity and a message naming table, row and field."""

from collections.abc import Callable
from typing import Any

import pytest

from flows.steps.audit import rows_of
from flows.steps.expect import CheckResult, frames_of, read_frames, validate_tables
from flows.steps.package import read_schemas
from flows.steps.paths import DEFAULT_PATHS
from flows.steps.validate import read_snapshots

SCHEMAS = read_schemas(DEFAULT_PATHS.schemas_dir)
COLUMNS = {table: [f["name"] for f in schema["fields"]] for table, schema in SCHEMAS.items()}
Tables = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def tables() -> Tables:
    frames = read_frames(SCHEMAS, DEFAULT_PATHS.data_dir)
    return {table: rows_of(frame) for table, frame in frames.items()}


@pytest.fixture(scope="module")
def texts(tables: Tables) -> dict[str, str]:
    return read_snapshots(DEFAULT_PATHS.package_dir, frames_of({"sources": tables["sources"]})["sources"])


def failures(tables: Tables, texts: dict[str, str]) -> list[CheckResult]:
    frames = frames_of(tables, COLUMNS)
    results = validate_tables(frames, texts, SCHEMAS, DEFAULT_PATHS.expectations_dir, DEFAULT_PATHS.expectations_dir)
    return [r for r in results if not r.success]


def figure(tables: Tables, figure_id: str) -> dict[str, Any]:
    return next(row for row in tables["figures"] if row["figure_id"] == figure_id)


def test_the_article_gets_exactly_the_warnings_its_figures_deserve(tables: Tables, texts: dict[str, str]) -> None:
    found = failures(tables, texts)
    assert [f for f in found if f.severity == "critical"] == []
    warnings = sorted((f.suite, f.column) for f in found if f.severity == "warning")
    assert warnings == [("figure_pairs", "linked"), ("year_on_year", "difference")]
    year_on_year = next(f for f in found if f.suite == "year_on_year")
    assert "figures row 'guiyang-2018-big-data-revenue' field 'change_percent'" in year_on_year.message
    assert "stated 22.4%, computed 25.0%" in year_on_year.message
    pair = next(f for f in found if f.suite == "figure_pairs")
    assert "guiyang-2017-enterprises-above-designated-size-added" in pair.message
    assert [(f.suite, f.column) for f in found if f.severity == "info"] == [("plausibility", "dated")]


def mutate_offset(tables: Tables) -> None:
    figure(tables, "diandingding-investment")["evidence_offset"] += 1


def mutate_span(tables: Tables) -> None:
    figure(tables, "diandingding-investment")["figure_text"] = "190 million RMB"


def mutate_value(tables: Tables) -> None:
    figure(tables, "diandingding-investment")["value"] = 190_000_000.0


def mutate_restated_value(tables: Tables) -> None:
    restatement = next(row for row in tables["figures"] if row["same_as"])
    restatement["value"], restatement["figure_text"] = 7.0, "7"


def mutate_restated_measure(tables: Tables) -> None:
    next(row for row in tables["figures"] if row["same_as"])["measure"] = "output"


def mutate_restated_period(tables: Tables) -> None:
    restatement = next(row for row in tables["figures"] if row["same_as"] and row["period"] == 2018)
    restatement["period"] = 2017


def mutate_fractional_count(tables: Tables) -> None:
    figure(tables, "guiyang-2018-big-data-enterprises")["value"] = 1632.5


def mutate_percent(tables: Tables) -> None:
    row = figure(tables, "diandingding-investment")
    row["unit"] = "percent"


def mutate_change(tables: Tables) -> None:
    figure(tables, "guiyang-2017-big-data-revenue")["change_percent"] = 210.0


def mutate_period(tables: Tables) -> None:
    figure(tables, "guiyang-2018-big-data-industrial-parks")["period"] = 2015


def mutate_coverage(tables: Tables) -> None:
    tables["number_mentions"] = [m for m in tables["number_mentions"] if m["text"] != "14"]


def mutate_reference(tables: Tables) -> None:
    figure(tables, "diandingding-investment")["subject_id"] = "no-such-company"


@pytest.mark.parametrize(
    ("mutate", "suite", "column", "severity", "where"),
    [
        (
            mutate_offset,
            "evidence",
            "found",
            "critical",
            "figures row 'diandingding-investment' field 'evidence_quote'",
        ),
        (mutate_span, "evidence", "found", "critical", "figures row 'diandingding-investment' field 'figure_text'"),
        (mutate_value, "evidence", "reparsed", "critical", "figures row 'diandingding-investment' field 'value'"),
        (mutate_restated_value, "figure_pairs", "value_matches", "critical", "field 'same_as'"),
        (mutate_restated_measure, "figure_pairs", "unit_matches", "critical", "field 'same_as'"),
        (mutate_restated_period, "figure_pairs", "period_matches", "warning", "field 'same_as'"),
        (
            mutate_fractional_count,
            "plausibility",
            "whole_count",
            "critical",
            "figures row 'guiyang-2018-big-data-enterprises' field 'value'",
        ),
        (
            mutate_percent,
            "plausibility",
            "percent_in_range",
            "warning",
            "figures row 'diandingding-investment' field 'value'",
        ),
        (
            mutate_change,
            "plausibility",
            "change_in_range",
            "warning",
            "figures row 'guiyang-2017-big-data-revenue' field 'change_percent'",
        ),
        (
            mutate_period,
            "plausibility",
            "in_time_frame",
            "warning",
            "figures row 'guiyang-2018-big-data-industrial-parks' field 'period'",
        ),
        (mutate_coverage, "coverage", "accounted", "critical", "number_mentions row 'big-data-valley/"),
        (
            mutate_reference,
            "figures",
            "subject_id",
            "critical",
            "(figure_id=diandingding-investment) value 'no-such-company'",
        ),
    ],
)
def test_a_violation_is_caught_with_its_severity_and_location(
    tables: Tables,
    texts: dict[str, str],
    mutate: Callable[[Tables], None],
    suite: str,
    column: str,
    severity: str,
    where: str,
) -> None:
    copy = {table: [dict(row) for row in rows] for table, rows in tables.items()}
    mutate(copy)
    caught = [f for f in failures(copy, texts) if (f.suite, f.column) == (suite, column)]
    assert [f.severity for f in caught] == [severity]
    assert where in caught[0].message


def test_a_changed_snapshot_fails_evidence_and_coverage(tables: Tables, texts: dict[str, str]) -> None:
    changed = {source: text.replace("reached 1632", "reached 1,632 firms and 7") for source, text in texts.items()}
    found = {(f.suite, f.column): f for f in failures(tables, changed) if f.severity == "critical"}
    assert ("evidence", "found") in found and ("coverage", "accounted") in found
    assert "field 'accounted_by_id'" in found[("coverage", "accounted")].message


def test_a_consistent_year_on_year_change_raises_no_warning(tables: Tables, texts: dict[str, str]) -> None:
    copy = {table: [dict(row) for row in rows] for table, rows in tables.items()}
    figure(copy, "guiyang-2018-big-data-revenue")["change_percent"] = 25.0
    assert "year_on_year" not in {f.suite for f in failures(copy, texts)}
