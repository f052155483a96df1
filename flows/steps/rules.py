"""The rules a Table Schema cannot state, run by GX on DuckDB: the tables, the facts only Python can establish
(flows/steps/audit.py) and the consistency views (flows/steps/consistency.py) in one scratch database, and each
rule suite in expectations/ validated on its table through GX's SQL data source.

A rule suite names the table or view its `{batch}` is (`asset`); each of its expectations is a query returning the
rows that break the rule, as table, key, field and detail, with the rule in words as its `description`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb

from flows.steps.consistency import MACROS, VIEWS
from flows.steps.gx_duckdb import fetch_all_unexpected_rows, patch_duckdb_fetch, show_unexpected_rows, unexpected_rows
from flows.steps.warehouse import DUCKDB_TYPES, quote_identifier

Schema = dict[str, Any]
RULE_SUITES = ("evidence", "coverage", "plausibility", "figure_pairs", "year_on_year", "corroboration")
# the rules compute ratios and intervals as floating point, like the number parser; the warehouse keeps decimals
RULE_TYPES = {**DUCKDB_TYPES, "number": "DOUBLE"}
FACT_TYPES = {
    "evidence": {"table": "VARCHAR", "key": "VARCHAR", "field": "VARCHAR", "found": "BOOLEAN", "reparsed": "BOOLEAN"},
    "text_numbers": {"source_id": "VARCHAR", "offset": "BIGINT", "number": "VARCHAR", "line": "BIGINT"},
    "change_intervals": {"table": "VARCHAR", "key": "VARCHAR", "low": "DOUBLE", "high": "DOUBLE", "parsed": "BOOLEAN"},
}
SHOWN = 5  # failing rows named in a message; the CheckResult lists every one


def _load(connection: Any, name: str, columns: dict[str, str], frame: Any) -> None:
    """Create `name` with the given column types and insert the frame's rows, cast to them."""
    definition = ", ".join(f"{quote_identifier(c)} {t}" for c, t in columns.items())
    connection.execute(f"CREATE TABLE {quote_identifier(name)} ({definition})")
    if len(frame):
        connection.register("incoming", frame[list(columns)])
        connection.execute(f"INSERT INTO {quote_identifier(name)} SELECT * FROM incoming")
        connection.unregister("incoming")


def build_rule_database(frames: dict[str, Any], facts: dict[str, Any], schemas: dict[str, Schema], path: Path) -> Path:
    """The tables (typed by their schemas, no constraints: the rules report, they do not refuse), the facts and
    the consistency views, in a DuckDB file at `path`."""
    connection = duckdb.connect(str(path))
    try:
        for table, schema in schemas.items():
            types = {field["name"]: RULE_TYPES[field["type"]] for field in schema["fields"]}
            _load(connection, table, types, frames[table])
        for name, frame in facts.items():
            _load(connection, name, FACT_TYPES[name], frame)
        for statement in MACROS + VIEWS:
            connection.execute(statement)
    finally:
        connection.close()
    return path


def label(row: dict[str, Any]) -> str:
    """figures row 'x' field 'value' (detail)."""
    detail = f" ({row['detail']})" if row.get("detail") else ""
    return f"{row.get('table')} row '{row.get('key')}' field '{row.get('field')}'{detail}"


def describe_rule_failure(suite: str, config: Any, result: dict[str, Any]) -> str:
    """The suite, the rule in words, and the first failing rows by table, key and field."""
    check = (config.meta or {}).get("check")
    head = f"{suite}: {config.description or config.type}" + (f" (check '{check}')" if check else "")
    rows = unexpected_rows(result)
    if not rows:
        observed = result.get("observed_value")
        return head + (f": observed {observed!r}" if observed is not None else "")
    more = f" and {len(rows) - SHOWN} more" if len(rows) > SHOWN else ""
    return f"{head}: {len(rows)} failing row(s): " + "; ".join(label(row) for row in rows[:SHOWN]) + more


def failing_keys(result: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"table": str(row.get("table")), "key": str(row.get("key")), "field": str(row.get("field"))}
        for row in unexpected_rows(result)
    ]


def sql_context(database: Path) -> Any:
    """An ephemeral GX context with the DuckDB file as its SQL data source (no files, no network)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    patch_duckdb_fetch()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context.data_sources.add_sql("rules", connection_string=f"duckdb:///{database}")


def validate_rule_suites(
    database: Path, suites: dict[str, tuple[str, Any]], outcomes: dict[str, Any] | None = None
) -> list[Any]:
    """Validate each (asset, GX suite) on its table; returns (suite name, GX result) pairs in suite order."""
    source = sql_context(database)
    validated = []
    try:
        for name, (asset, suite) in suites.items():
            batch = source.add_table_asset(name, table_name=asset).add_batch_definition_whole_table("all").get_batch()
            outcome = batch.validate(suite, result_format={"result_format": "COMPLETE"})
            engine = source.get_execution_engine().engine
            fetch_all_unexpected_rows(engine, asset, outcome)
            with engine.connect() as connection:
                count = connection.exec_driver_sql(f"SELECT count(*) FROM {quote_identifier(asset)}").scalar()
            show_unexpected_rows(outcome, label, int(count or 0))
            if outcomes is not None:
                outcomes[name] = outcome
            validated.append((name, outcome))
    finally:
        source.get_execution_engine().engine.dispose()
    return validated


def read_view(frames: dict[str, Any], facts: dict[str, Any], schemas: dict[str, Schema], view: str) -> list[Any]:
    """Every row of one table or view of the rule database, as dicts (for tests and for looking into a finding)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="valley-rules-") as scratch:
        database = build_rule_database(frames, facts, schemas, Path(scratch) / "rules.duckdb")
        with duckdb.connect(str(database), read_only=True) as connection:
            cursor = connection.execute(f"SELECT * FROM {quote_identifier(view)}")
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
