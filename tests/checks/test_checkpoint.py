import re
from pathlib import Path
from typing import Any

import pytest

from flows.checks.checkpoint import run_checkpoint
from flows.checks.gx_duckdb import SHOWN_ROWS, unexpected_rows

FIGURES = 5
MANY = 250  # more failing rows than GX keeps (200): the completion fetches the rest
# an address the browser would fetch from the network: http(s) anywhere, or a protocol-relative src/href/url()
EXTERNAL = re.compile(r"""https?:|(?:src|href|action)\s*=\s*["']?//|url\(\s*["']?//""", re.IGNORECASE)


def make_suites(folder: Path) -> tuple[Path, dict[str, Any]]:
    """Three suites on a real DuckDB file: a query rule, a column rule whose failing rows are named by the table's
    key (its own result_format), and a query rule failing on more rows than GX keeps."""
    import duckdb
    import great_expectations as gx

    database = folder / "rules.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            f"CREATE TABLE figures AS SELECT 'figure-' || i AS figure_id, i - 2.0 AS value FROM range({FIGURES}) t(i)"
        )
        connection.execute(f"CREATE TABLE mentions AS SELECT 'mention-' || i AS mention_id FROM range({MANY}) t(i)")
    negative = gx.expectations.UnexpectedRowsExpectation(
        description="No figure has a negative value",
        unexpected_rows_query="SELECT 'figures' AS \"table\", figure_id AS key, 'value' AS field, 'below zero' AS detail "
        "FROM {batch} WHERE value < 0",
    )
    unmatched = gx.expectations.UnexpectedRowsExpectation(
        description="Every mention is matched",
        unexpected_rows_query="SELECT 'mentions' AS \"table\", mention_id AS key, 'mention_id' AS field, "
        "'unmatched' AS detail FROM {batch}",
    )
    between = gx.expectations.ExpectColumnValuesToBeBetween(column="value", min_value=0)
    complete = {"result_format": "COMPLETE"}
    return database, {
        "plausibility": ("figures", gx.ExpectationSuite(name="plausibility", expectations=[negative]), complete),
        "figures": (
            "figures",
            gx.ExpectationSuite(name="figures", expectations=[between]),
            {**complete, "unexpected_index_column_names": ["figure_id"]},
        ),
        "coverage": ("mentions", gx.ExpectationSuite(name="coverage", expectations=[unmatched]), complete),
    }


def run_on(folder: Path, site: Path | None) -> tuple[Any, dict[str, Any]]:
    """The suites through one Checkpoint, completed the way every validation completes them (rules.completion)."""
    from flows.checks.rules import FIRST_PASS, completion, sql_context

    database, suites = make_suites(folder)
    source = sql_context(database)
    try:
        return source.data_context, run_checkpoint(source, suites, site, completion(source, suites), FIRST_PASS)
    finally:
        source.get_execution_engine().engine.dispose()


@pytest.fixture(scope="module")
def checkpoint_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("checkpoint")
    context, outcomes = run_on(folder, folder / "site")
    return folder / "site", context, outcomes


def page_text(site: Path, suite: str) -> str:
    [page] = (site / "validations" / suite).glob("*/*/*.html")  # validations/<suite>/<run>/<time>/<batch>.html
    return page.read_text(encoding="utf-8")


def test_run_checkpoint_runs_every_suite_once_and_returns_its_result_by_name(checkpoint_run: Any) -> None:
    site, context, outcomes = checkpoint_run
    assert list(outcomes) == ["plausibility", "figures", "coverage"]
    assert [outcome.suite_name for outcome in outcomes.values()] == list(outcomes)
    assert all(outcome.statistics["evaluated_expectations"] == 1 for outcome in outcomes.values())
    assert not any(outcome.success for outcome in outcomes.values())
    assert len(context.validation_results_store.list_keys()) == 3  # one stored result per suite, no second run
    assert sorted(p.relative_to(site).parts[1] for p in (site / "validations").rglob("*.html")) == sorted(outcomes)


def test_a_failing_expectation_is_completed_with_its_suites_own_result_format(checkpoint_run: Any) -> None:
    _, _, outcomes = checkpoint_run
    result = outcomes["figures"].results[0].result
    assert [row["figure_id"] for row in result["unexpected_index_list"]] == ["figure-0", "figure-1"]
    assert "unexpected_index_list" not in outcomes["plausibility"].results[0].result


def test_run_checkpoint_completes_failing_rows_before_the_docs_render_them(checkpoint_run: Any) -> None:
    """The completion changes the results after GX stored them: the page shows it, so the stored copy was replaced."""
    site, _, outcomes = checkpoint_run
    result = outcomes["plausibility"].results[0].result
    assert result["partial_unexpected_list"] == [
        "figures row 'figure-0' field 'value' (below zero)",
        "figures row 'figure-1' field 'value' (below zero)",
    ]
    page = page_text(site, "plausibility")
    assert "No figure has a negative value" in page
    assert "figures row 'figure-0' field 'value' (below zero)" in page
    assert "figure-3" not in page and "2 unexpected values found" in page


def test_run_checkpoint_fetches_every_failing_row_beyond_what_gx_keeps(checkpoint_run: Any) -> None:
    site, _, outcomes = checkpoint_run
    result = outcomes["coverage"].results[0].result
    assert len(unexpected_rows(result)) == MANY and len(result["partial_unexpected_list"]) == SHOWN_ROWS
    assert f"{MANY} unexpected values found" in page_text(site, "coverage")


def test_offline_page_view_leaves_no_network_address_in_gx_pages(checkpoint_run: Any) -> None:
    site, _, _ = checkpoint_run
    pages = [*(site / "validations").rglob("*.html"), *(site / "expectations").glob("*.html")]
    assert len(pages) == 6  # a validation page and a suite page per suite
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not EXTERNAL.search(text), (page.name, EXTERNAL.search(text))
        assert 'id="offline-note"' in text and "static/vendor/jquery/jquery.min.js" in text
        # the overridden favicon and logo point at files GX copied into the site
        for reference in re.findall(r"""(?:src|href)=["']([^"'#][^"']*/static/images/[^"']*)["']""", text):
            assert (page.parent / reference.split("?")[0]).is_file(), (page.name, reference)


def test_run_checkpoint_without_a_site_completes_the_results_and_builds_no_docs(tmp_path: Path) -> None:
    _, outcomes = run_on(tmp_path, None)
    assert len(outcomes["plausibility"].results[0].result["partial_unexpected_list"]) == 2
    assert len(unexpected_rows(outcomes["coverage"].results[0].result)) == MANY
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rules.duckdb"]


def test_run_checkpoint_with_no_suite_returns_no_result(tmp_path: Path) -> None:
    from flows.checks.rules import sql_context

    database, _ = make_suites(tmp_path)
    source = sql_context(database)
    try:
        assert run_checkpoint(source, {}, tmp_path / "site", lambda name, result: None, {}) == {}
    finally:
        source.get_execution_engine().engine.dispose()
