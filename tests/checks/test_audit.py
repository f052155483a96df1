"""Every check the suites make: data that violates it is caught with its severity and a message naming table, row and field."""

from collections.abc import Callable
from typing import Any

import pytest

from flows.checks.audit import build_facts, rows_of
from flows.checks.expect import CheckResult, frames_of, read_frames, validate_tables
from flows.checks.rules import read_view
from flows.checks.validate import read_snapshots
from flows.core.inputs import read_schemas
from flows.core.paths import DEFAULT_PATHS
from flows.sources.numbers import parse_figure

SCHEMAS = read_schemas(DEFAULT_PATHS.schemas_dir)
COLUMNS = {table: [f["name"] for f in schema["fields"]] for table, schema in SCHEMAS.items()}
Tables = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def tables() -> Tables:
    frames = read_frames(SCHEMAS, DEFAULT_PATHS.data_dir)
    return {table: list(rows_of(frame)) for table, frame in frames.items()}


@pytest.fixture(scope="module")
def texts(tables: Tables) -> dict[str, str]:
    return read_snapshots(DEFAULT_PATHS.package_dir, frames_of({"sources": tables["sources"]})["sources"])


def failures(tables: Tables, texts: dict[str, str]) -> list[CheckResult]:
    frames = frames_of(tables, COLUMNS)
    results = validate_tables(frames, texts, SCHEMAS, DEFAULT_PATHS.expectations_dir, DEFAULT_PATHS.expectations_dir)
    return [r for r in results if not r.success]


def view_rows(tables: Tables, texts: dict[str, str], view: str) -> list[dict[str, Any]]:
    """The rows of one view of the rule database the suites query (a finding's detail even when it passes)."""
    keys = {table: schema["primaryKey"] for table, schema in SCHEMAS.items()}
    facts = build_facts(tables, texts, keys)
    return read_view(frames_of(tables, COLUMNS), facts, SCHEMAS, view)


def figure(tables: Tables, figure_id: str) -> dict[str, Any]:
    return next(row for row in tables["figures"] if row["figure_id"] == figure_id)


def test_the_article_gets_exactly_the_findings_its_figures_deserve(tables: Tables, texts: dict[str, str]) -> None:
    """Both of the article's apparent clashes rest on a reading (rounding, an inferred period): info, not warning."""
    found = failures(tables, texts)
    assert [f for f in found if f.severity in ("critical", "warning")] == []
    infos = sorted((f.suite, f.column) for f in found if f.severity == "info")
    assert infos == [("figure_pairs", "finding"), ("plausibility", "dated"), ("year_on_year", "finding")]
    year_on_year = next(f for f in found if f.suite == "year_on_year")
    assert "figures row 'guiyang-2018-big-data-revenue' field 'change_percent'" in year_on_year.message
    assert "stated 22.4%, computed 25.0%" in year_on_year.message
    assert "consistent if RMB 100 billion is rounded (implied 97.9 billion)" in year_on_year.message
    assert "or if 80 billion RMB is rounded (implied 81.7 billion)" in year_on_year.message
    pair = next(f for f in found if f.suite == "figure_pairs")
    assert "guiyang-2017-enterprises-above-designated-size-added" in pair.message
    assert "2017 inferred_paragraph" in pair.message


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
        (mutate_restated_period, "figure_pairs", "finding", "warning", "field 'same_as'"),
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
    # the article's own findings (info) share some columns; only what the mutation adds counts
    caught = [f for f in failures(copy, texts) if (f.suite, f.column) == (suite, column) and f.severity != "info"]
    assert [f.severity for f in caught] == [severity]
    assert where in caught[0].message


def test_a_changed_snapshot_fails_evidence_and_coverage(tables: Tables, texts: dict[str, str]) -> None:
    changed = {source: text.replace("reached 1632", "reached 1,632 firms and 7") for source, text in texts.items()}
    found = {(f.suite, f.column): f for f in failures(tables, changed) if f.severity == "critical"}
    assert ("evidence", "found") in found and ("coverage", "accounted") in found
    assert "field 'accounted_by_id'" in found[("coverage", "accounted")].message


def test_a_consistent_year_on_year_change_raises_no_finding(tables: Tables, texts: dict[str, str]) -> None:
    copy = {table: [dict(row) for row in rows] for table, rows in tables.items()}
    row = figure(copy, "guiyang-2018-big-data-revenue")
    row["change_percent"], row["change_text"] = 25.0, "a year-on-year increase of 25 percent"
    assert "year_on_year" not in {f.suite for f in failures(copy, texts)}


def restate(row: dict[str, Any], figure_text: str) -> None:
    """Give a figures row another figure text, with the value and interval the parser reads from it."""
    quantity = parse_figure(figure_text)
    row.update(
        figure_text=figure_text, value=float(quantity.value), value_low=float(quantity.low),
        value_high=None if quantity.high is None else float(quantity.high), rounding_step=float(quantity.step),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("previous", "current", "change", "bases", "severity", "said"),
    [
        # 100 / 1.224 = 81.7 rounds to 80 at its last non-zero digit: explained by rounding
        ("80 billion RMB", "RMB 100 billion", "22.4", "stated", "info", "consistent if"),
        # written to the decimal, neither figure can be rounded that far: a true disagreement
        ("80.4 billion RMB", "RMB 100.1 billion", "22.4", "stated", "warning", "no reading of their precision agrees"),
        # the same disagreement resting on an inferred period is never worse than info
        ("80.4 billion RMB", "RMB 100.1 billion", "22.4", "inferred_paragraph", "info", "inferred_paragraph"),
        # 100.1 / 80.4 = +24.5 percent, within 24.5 +- 0.05: agrees as stated
        ("80.4 billion RMB", "RMB 100.1 billion", "24.5", "stated", None, ""),
    ],
)
def test_year_on_year_weighs_precision_and_period_basis(
    tables: Tables, texts: dict[str, str], previous: str, current: str, change: str, bases: str,
    severity: str | None, said: str,
) -> None:  # fmt: skip
    copy = {table: [dict(row) for row in rows] for table, rows in tables.items()}
    earlier, later = figure(copy, "guiyang-2017-big-data-revenue"), figure(copy, "guiyang-2018-big-data-revenue")
    restate(earlier, previous)
    restate(later, current)
    later["change_percent"], later["change_text"] = float(change), f"a year-on-year increase of {change} percent"
    earlier["period_basis"] = later["period_basis"] = bases
    rows = view_rows(copy, texts, "year_on_year")
    found = [f for f in failures(copy, texts) if f.suite == "year_on_year"]
    assert [f.severity for f in found] == ([severity] if severity else [])
    assert said in (found[0].message if found else rows[0]["detail"])


def test_a_disagreeing_corroboration_warns_naming_both_sources(tables: Tables, texts: dict[str, str]) -> None:
    copy = {table: [dict(row) for row in rows] for table, rows in tables.items()}
    row = next(r for r in copy["corroborations"] if r["corroboration_id"].startswith("china-daily"))
    quantity = parse_figure("95.2 billion yuan")
    row.update(value_text="95.2 billion yuan", value=float(quantity.value), value_low=float(quantity.low),
               value_high=float(quantity.high), agrees=False)  # fmt: skip
    found = [f for f in failures(copy, texts) if f.suite == "corroboration"]
    assert [(f.column, f.severity) for f in found] == [("agrees", "warning")]
    message = found[0].message
    assert "China turning embryonic town into Big Data Valley" in message and "Diplomag" in message
    assert "China Daily" in message and "Big Data: another upper-hand for Guizhou" in message
    assert "95.2 billion yuan" in message and "80 billion RMB" in message


def test_a_hand_edited_agreement_is_critical(tables: Tables, texts: dict[str, str]) -> None:
    copy = {table: [dict(row) for row in rows] for table, rows in tables.items()}
    copy["corroborations"][0]["agrees"] = False
    found = [(f.column, f.severity) for f in failures(copy, texts) if f.suite == "corroboration"]
    assert found == [("stored_matches", "critical")]


def test_a_figure_with_an_unknown_measure_fails_the_foreign_key(tables: Tables, texts: dict[str, str]) -> None:
    copy = {table: [dict(row) for row in rows] for table, rows in tables.items()}
    figure(copy, "brookcloud-town-output")["measure"] = "outptu"
    found = [f for f in failures(copy, texts) if (f.suite, f.column) == ("figures", "measure")]
    assert [f.severity for f in found] == ["critical"] and "value 'outptu'" in found[0].message


def test_every_failing_row_of_a_table_rule_is_kept_by_key(tables: Tables, texts: dict[str, str]) -> None:
    """More failing rows than GX's SQL engine lists by itself (20): each is a finding, the message shows five."""
    copy = {table: [dict(row) for row in rows] for table, rows in tables.items()}
    for row in copy["number_mentions"]:
        row["accounted_by_table"] = "nowhere"
    [found] = [f for f in failures(copy, texts) if (f.suite, f.column) == ("number_mentions", "accounted_by_table")]
    assert len(copy["number_mentions"]) > 20 and len(found.failing) == len(copy["number_mentions"])
    first = copy["number_mentions"][0]
    assert f"row 2 (source_id={first['source_id']}, offset={first['offset']}) value 'nowhere'" in found.message
    assert f"and {len(copy['number_mentions']) - 5} more" in found.message


@pytest.mark.parametrize(("reason", "passes"), [("the sentence may report another year", True), (None, False)])
def test_an_overruled_period_is_undated_and_needs_its_reason(
    tables: Tables, texts: dict[str, str], reason: str | None, passes: bool
) -> None:
    copy = {table: [dict(row) for row in rows] for table, rows in tables.items()}
    row = figure(copy, "guiyang-2017-big-data-revenue")  # inferred from the paragraph before
    row.update(period=None, period_text=None, period_basis="overruled", period_overruled=reason)
    found = failures(copy, texts)
    evidence = [f for f in found if f.suite == "evidence" and f.severity == "critical"]
    assert (evidence == []) == passes, evidence
    # treated as undated: the plausibility rule lists it among the figures without a year
    dated = next(f for f in found if (f.suite, f.column) == ("plausibility", "dated"))
    assert "guiyang-2017-big-data-revenue" in {failing["key"] for failing in dated.failing}
