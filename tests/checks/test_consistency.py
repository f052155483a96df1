"""Agreement across sources: two sources that state one measure of one subject for one year are compared within both
intervals, by the rule corroboration uses (the four test sources are in tests/agreement_sources.py)."""

from typing import Any

import pytest

from flows.checks.audit import build_facts
from flows.checks.expect import CheckResult, frames_of, validate_tables
from flows.checks.rules import read_view
from flows.core.paths import DEFAULT_PATHS
from tests.agreement_sources import INPUTS, SOURCES, Tables, extract_sources

COLUMNS = {table: [f["name"] for f in schema["fields"]] for table, schema in INPUTS.schemas.items()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Tables, dict[str, str]]:
    return extract_sources(tmp_path_factory.mktemp("sources"))


def failures(tables: Tables, texts: dict[str, str]) -> list[CheckResult]:
    frames = frames_of(tables, COLUMNS)
    expectations = DEFAULT_PATHS.expectations_dir
    return [r for r in validate_tables(frames, texts, INPUTS.schemas, expectations, expectations) if not r.success]


def corroboration_rows(tables: Tables, texts: dict[str, str]) -> dict[str, dict[str, Any]]:
    keys = {table: schema["primaryKey"] for table, schema in INPUTS.schemas.items()}
    rows = read_view(frames_of(tables, COLUMNS), build_facts(tables, texts, keys), INPUTS.schemas, "corroboration")
    return {row["key"]: row for row in rows}


def test_two_sources_that_agree_corroborate_and_two_that_disagree_warn(corpus: tuple[Tables, dict[str, str]]) -> None:
    tables, texts = corpus
    rows = corroboration_rows(tables, texts)
    assert set(rows) == {"quorvale-weekly-revenue", "tesmarin-post-revenue"}  # one row per later source's figure
    agreed = rows["quorvale-weekly-revenue"]
    assert (agreed["table"], agreed["agrees"], agreed["finding"]) == ("figures", True, "agrees")
    assert "quorvale-herald-revenue" in agreed["detail"] and "agrees within both precisions" in agreed["detail"]
    (found,) = failures(tables, texts)  # nothing else fails: the test sources are valid
    assert (found.suite, found.column, found.severity) == ("corroboration", "agrees", "warning")
    assert [row["key"] for row in found.failing] == ["tesmarin-post-revenue"]
    message = found.message
    for slug in ("tesmarin-daily", "tesmarin-post"):
        title, _, _, sentence, figure, _ = SOURCES[slug]
        assert f"'{title}' (Test corpus)" in message and f"quote '{sentence}'" in message and figure in message
    assert "(9.75e+09 to 9.85e+09, 2017 stated)" in message and "(9.05e+09 to 9.15e+09, 2017 stated)" in message
    assert message.endswith(
        "quote 'In 2017, big data revenue of Tesmarin reached RMB 9.1 billion.': the value intervals do not meet)"
    )


def test_a_disagreement_on_an_inferred_year_is_info(corpus: tuple[Tables, dict[str, str]]) -> None:
    tables, texts = corpus
    copy = {table: [dict(row) for row in rows] for table, rows in tables.items()}
    next(row for row in copy["figures"] if row["figure_id"] == "tesmarin-daily-revenue")["period_basis"] = (
        "inferred_paragraph"
    )
    rows = corroboration_rows(copy, texts)
    assert rows["tesmarin-post-revenue"]["finding"] == "disagrees_inferred_period"
    assert "2017 inferred_paragraph" in rows["tesmarin-post-revenue"]["detail"]


def test_restatements_and_undated_figures_are_not_compared_across_sources(
    corpus: tuple[Tables, dict[str, str]],
) -> None:
    tables, texts = corpus
    copy = {table: [dict(row) for row in rows] for table, rows in tables.items()}
    figures = {row["figure_id"]: row for row in copy["figures"]}
    figures["tesmarin-post-revenue"]["same_as"] = "tesmarin-daily-revenue"  # a restatement is figure_pairs' to judge
    figures["quorvale-weekly-revenue"]["period"] = None
    assert corroboration_rows(copy, texts) == {}
