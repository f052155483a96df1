"""GX 1.x limitations worked around in one place: DuckDB through GX's SQL data source, and failing rows of an
UnexpectedRowsExpectation in Data Docs.

1. GX's SqlAlchemyExecutionEngine.execute_query returns the cursor after its `with engine.connect()` block
   has closed the connection. Closing rolls back, and DuckDB (duckdb-engine) drops the pending result, so
   every metric silently sees no rows. `patch_duckdb_fetch` makes the engine fetch the rows into a buffered
   result before the connection closes, for DuckDB engines only.
2. UnexpectedRowsExpectation puts its rows under result.details, which GX's Data Docs renderers never show:
   a reader sees "3 unexpected rows" and not which. `show_unexpected_rows` copies each failing row's
   label into partial_unexpected_list, which GX's own "Sampled Unexpected Values" table renders.
3. UnexpectedRowsExpectation keeps at most MAX_RESULT_RECORDS (200) of the rows its query returns, while the
   count is of all of them; a report lists every failing row, so `fetch_all_unexpected_rows` runs the rule's own
   query once more on the database when GX kept fewer rows than it counted.
4. GX picks a regex expression per SQL dialect (`get_dialect_regex_expression` in
   great_expectations/expectations/metrics/util.py) and has none for duckdb, so every expect_column_values_to_(not_)
   match_regex fails with "Regex is not supported for dialect duckdb". `patch_duckdb_regex` gives it DuckDB's
   `regexp_matches` (a search, like GX's pandas `str.contains`), for DuckDB only.
5. On SQL, GX lists the keys of at most `partial_unexpected_count` (20) failing rows (unexpected_index_list), even
   with the COMPLETE result format. `listing_every_failing_row` raises that count to the most rows an expectation
   was counted failing, and `shorten_partial_lists` cuts the sampled lists Data Docs show back to SHOWN_ROWS.
"""

from __future__ import annotations

import sys
from typing import Any

DUCKDB = "duckdb"
SHOWN_ROWS = 20  # Data Docs list this many failing rows; the run's report lists every one


def patch_duckdb_fetch() -> None:
    """Make GX's SQL engine fetch a DuckDB query's rows while its connection is still open (idempotent)."""
    from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine

    original = SqlAlchemyExecutionEngine.execute_query
    if getattr(original, "fetches_before_close", False):
        return

    def execute_query(self: Any, query: Any) -> Any:
        if self.engine.dialect.name != DUCKDB:
            return original(self, query)
        with self.get_connection() as connection:
            result = self._execute_query_with_recovery(connection, query)
            # freeze() reads every row now; calling the frozen result gives a Result with the same API
            return result.freeze()() if result.returns_rows else result

    execute_query.fetches_before_close = True  # type: ignore[attr-defined]
    SqlAlchemyExecutionEngine.execute_query = execute_query  # type: ignore[method-assign]


def patch_duckdb_regex() -> None:
    """Give GX's regex metrics an expression for the duckdb dialect: `regexp_matches`, negated for "not match"
    (idempotent). Each metric module imported GX's function by name, so each module's reference is replaced."""
    import great_expectations  # noqa: F401  (importing GX loads every metric module that holds a reference)
    import sqlalchemy as sa
    from great_expectations.expectations.metrics import util

    original = util.get_dialect_regex_expression
    if getattr(original, "knows_duckdb", False):
        return

    def get_dialect_regex_expression(column: Any, regex: str, dialect: Any, positive: bool = True) -> Any:
        if getattr(dialect, "name", None) != DUCKDB:
            return original(column, regex, dialect, positive)
        matches = sa.func.regexp_matches(column, sa.literal(regex))
        return matches if positive else sa.not_(matches)

    get_dialect_regex_expression.knows_duckdb = True  # type: ignore[attr-defined]
    for module in list(sys.modules.values()):
        if getattr(module, "get_dialect_regex_expression", None) is original:
            setattr(module, "get_dialect_regex_expression", get_dialect_regex_expression)  # noqa: B010


def listing_every_failing_row(result_format: dict[str, Any], failing: list[Any]) -> dict[str, Any]:
    """A COMPLETE result format that lists every failing row of these results (counted in a first run)."""
    if result_format.get("result_format") != "COMPLETE":
        return result_format
    most = max((item.result.get("unexpected_count") or 0 for item in failing), default=0)
    return {**result_format, "partial_unexpected_count": max(most, SHOWN_ROWS)}


def shorten_partial_lists(result: dict[str, Any]) -> None:
    """Cut the sampled failing values GX's Data Docs render to SHOWN_ROWS (the full lists stay)."""
    for name in ("partial_unexpected_list", "partial_unexpected_index_list", "partial_unexpected_counts"):
        if isinstance(result.get(name), list):
            result[name] = result[name][:SHOWN_ROWS]


def fetch_all_unexpected_rows(engine: Any, asset: str, outcome: Any) -> None:
    """Replace GX's first 200 rows of each failing query rule by all of them, read through GX's own engine."""
    for item in outcome.results:
        query = (item.expectation_config.kwargs if item.expectation_config else {}).get("unexpected_rows_query")
        if item.success or not query or len(unexpected_rows(item.result)) >= (item.result.get("observed_value") or 0):
            continue
        table = '"' + asset.replace('"', '""') + '"'
        with engine.connect() as connection:
            rows = [dict(row) for row in connection.exec_driver_sql(query.replace("{batch}", table)).mappings()]
        item.result.setdefault("details", {})["unexpected_rows"] = rows


def unexpected_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows an UnexpectedRowsExpectation's query returned (COMPLETE result format), as dicts."""
    rows = (result.get("details") or {}).get("unexpected_rows")
    if rows is None:
        return []
    if hasattr(rows, "to_dict"):  # a pandas DataFrame
        return list(rows.to_dict("records"))
    return [dict(row) for row in rows]


def show_unexpected_rows(outcome: Any, label: Any, element_count: int) -> None:
    """Give every failing UnexpectedRowsExpectation result the list GX renders, one `label(row)` per row, and
    the counts its "N unexpected values found" line needs (`element_count`: rows in the batch's table)."""
    for item in outcome.results:
        if item.success or item.expectation_config is None:
            continue
        if item.expectation_config.type != "unexpected_rows_expectation":
            continue
        rows = unexpected_rows(item.result)
        item.result["unexpected_count"] = len(rows)
        item.result["element_count"] = element_count
        item.result["unexpected_percent"] = 100.0 * len(rows) / element_count if element_count else 100.0
        item.result["partial_unexpected_list"] = [label(row) for row in rows[:SHOWN_ROWS]]
