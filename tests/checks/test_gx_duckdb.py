from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.checks.gx_duckdb import patch_duckdb_fetch, patch_duckdb_regex, show_unexpected_rows, unexpected_rows
from flows.checks.rules import label, validate_rule_suites, validate_sql_suites

RULE = "SELECT 'figures' AS \"table\", figure_id AS key, 'value' AS field, 'negative' AS detail FROM {batch} WHERE value < 0"


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A query rule and a column rule validated by GX on a DuckDB file through its SQL data source."""
    import great_expectations as gx

    database = tmp_path_factory.mktemp("gx") / "rules.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("CREATE TABLE figures AS SELECT 'f' || i AS figure_id, i - 3.0 AS value FROM range(10) t(i)")
    suite = gx.ExpectationSuite(
        name="plausibility",
        expectations=[
            gx.expectations.UnexpectedRowsExpectation(
                unexpected_rows_query=RULE, description="values are not negative"
            ),
            gx.expectations.ExpectColumnValuesToBeBetween(column="value", min_value=0),
        ],
    )
    [(_, result)] = validate_rule_suites(database, {"plausibility": ("figures", suite)})
    return result


def test_duckdb_through_gx_sql_sees_the_rows_a_query_returns(outcome: Any) -> None:
    query, column = outcome.results
    assert not query.success and query.result["observed_value"] == 3
    assert [row["key"] for row in unexpected_rows(query.result)] == ["f0", "f1", "f2"]
    assert not column.success and column.result["unexpected_count"] == 3


def test_the_patch_is_applied_once(outcome: Any) -> None:
    from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine

    patched = SqlAlchemyExecutionEngine.execute_query
    patch_duckdb_fetch()
    assert SqlAlchemyExecutionEngine.execute_query is patched
    assert getattr(patched, "fetches_before_close", False)


def test_failing_rows_of_a_query_rule_are_listed_where_data_docs_show_them(outcome: Any) -> None:
    show_unexpected_rows(outcome, label, 10)  # validate_rule_suites did it already: idempotent
    query = outcome.results[0]
    assert query.result["unexpected_count"] == 3 and query.result["unexpected_percent"] == 30.0
    assert query.result["partial_unexpected_list"][0] == "figures row 'f0' field 'value' (negative)"


def test_the_rule_database_file_is_released_after_validation(outcome: Any, tmp_path: Path) -> None:
    database = tmp_path / "again.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("CREATE TABLE t AS SELECT 1 AS x")
    validate_rule_suites(database, {})
    database.unlink()  # nothing holds it open
    assert not database.exists()


def test_every_failing_row_is_kept_beyond_gx_s_first_200(tmp_path: Path) -> None:
    import great_expectations as gx

    database = tmp_path / "many.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("CREATE TABLE figures AS SELECT 'f' || i AS figure_id, -1.0 AS value FROM range(450) t(i)")
    suite = gx.ExpectationSuite(
        name="p", expectations=[gx.expectations.UnexpectedRowsExpectation(unexpected_rows_query=RULE)]
    )
    [(_, result)] = validate_rule_suites(database, {"p": ("figures", suite)})
    assert result.results[0].result["observed_value"] == 450
    assert len(unexpected_rows(result.results[0].result)) == 450
    assert len(result.results[0].result["partial_unexpected_list"]) == 20


@pytest.mark.parametrize(
    ("kind", "failing"),
    [("ExpectColumnValuesToMatchRegex", ["B-2"]), ("ExpectColumnValuesToNotMatchRegex", ["a1", "xc3"])],
)
def test_regex_expectations_run_on_duckdb_through_gx_sql(tmp_path: Path, kind: str, failing: list[str]) -> None:
    """GX has no regex expression for the duckdb dialect; patched, a pattern is searched like GX's pandas one
    (a value containing a match passes) and "not match" is its negation; NULL is left to not-null rules."""
    import great_expectations as gx

    database = tmp_path / "codes.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("CREATE TABLE codes AS SELECT * FROM (VALUES ('a1'), ('B-2'), (NULL), ('xc3')) t(code)")
    expectation = getattr(gx.expectations, kind)(column="code", regex="[a-z][0-9]")
    suite = gx.ExpectationSuite(name="codes", expectations=[expectation])
    result_format = {"result_format": "COMPLETE"}
    [(_, outcome)] = validate_sql_suites(database, {"codes": ("codes", suite, result_format)})
    [item] = outcome.results
    assert not item.exception_info.get("raised_exception"), item.exception_info
    assert not item.success and sorted(item.result["unexpected_list"]) == sorted(failing)


def test_the_regex_patch_is_applied_once() -> None:
    from great_expectations.expectations.metrics import util
    from great_expectations.expectations.metrics.column_map_metrics import column_values_match_regex

    patch_duckdb_regex()
    patched = util.get_dialect_regex_expression
    patch_duckdb_regex()
    assert util.get_dialect_regex_expression is patched and getattr(patched, "knows_duckdb", False)
    assert column_values_match_regex.get_dialect_regex_expression is patched  # the module that uses it sees it


def test_only_failing_expectations_list_every_row_by_key(tmp_path: Path) -> None:
    """A suite runs with counts first; the expectation that fails runs again with the suite's own format, listing
    every failing row's key (GX's SQL engine lists 20 even with COMPLETE)."""
    import great_expectations as gx

    database = tmp_path / "values.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            "CREATE TABLE figures AS SELECT 'f' || i AS figure_id, i - 30.0 AS value FROM range(40) t(i)"
        )
    suite = gx.ExpectationSuite(
        name="figures",
        expectations=[
            gx.expectations.ExpectColumnValuesToNotBeNull(column="value"),
            gx.expectations.ExpectColumnValuesToBeBetween(column="value", min_value=0),
        ],
    )
    result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": ["figure_id"]}
    [(_, outcome)] = validate_sql_suites(database, {"figures": ("figures", suite, result_format)})
    by_type = {item.expectation_config.type: item for item in outcome.results}
    passing, failing = by_type["expect_column_values_to_not_be_null"], by_type["expect_column_values_to_be_between"]
    assert passing.success and "unexpected_index_list" not in passing.result
    assert not failing.success and len(failing.result["unexpected_list"]) == 30  # all, not GX's partial 20
    assert {row["figure_id"] for row in failing.result["unexpected_index_list"]} == {f"f{i}" for i in range(30)}
    assert len(failing.result["partial_unexpected_list"]) == 20  # the sample Data Docs show
