"""Every suite run by GX on DuckDB: the tables, the facts only Python can establish (flows/checks/audit.py) and the
consistency views (flows/checks/consistency.py) in one scratch database, and each suite validated on its table
through GX's SQL data source: a table's suite (the baseline from its Table Schema, foreign keys as joins) and the
rule suites in expectations/.

A rule suite names the table or view its `{batch}` is (`asset`); each of its expectations is a query returning the
rows that break the rule, as table, key, field and detail, with the rule in words as its `description`.
"""

from __future__ import annotations

import copy
import itertools
import json
import operator
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb

from flows.checks.audit import FactsText
from flows.checks.consistency import MACROS, VIEWS
from flows.checks.gx_duckdb import (
    fetch_all_unexpected_rows,
    listing_every_failing_row,
    patch_duckdb_fetch,
    patch_duckdb_regex,
    shorten_partial_lists,
    show_unexpected_rows,
    unexpected_rows,
)
from flows.package.warehouse import DUCKDB_TYPES, quote_identifier

Schema = dict[str, Any]
RULE_SUITES = ("evidence", "coverage", "plausibility", "figure_pairs", "year_on_year", "corroboration")
# the rules compute ratios and intervals as floating point, like the number parser; the warehouse keeps decimals
RULE_TYPES = {**DUCKDB_TYPES, "number": "DOUBLE"}
FACT_TYPES = {
    "evidence": {"table": "VARCHAR", "key": "VARCHAR", "field": "VARCHAR", "found": "BOOLEAN", "reparsed": "BOOLEAN"},
    "text_numbers": {"source_id": "VARCHAR", "offset": "BIGINT", "number": "VARCHAR", "line": "BIGINT"},
    "change_intervals": {"table": "VARCHAR", "key": "VARCHAR", "low": "DOUBLE", "high": "DOUBLE", "parsed": "BOOLEAN"},
    # what the scheduled check compares on a published generation (flows/checks/integrity.py)
    "integrity": {"table": "VARCHAR", "key": "VARCHAR", "field": "VARCHAR", "matches": "BOOLEAN", "detail": "VARCHAR"},
    "freshness": {"table": "VARCHAR", "key": "VARCHAR", "field": "VARCHAR", "matches": "BOOLEAN", "detail": "VARCHAR"},
}
PUBLISHED_SUITES = ("integrity", "freshness")  # rule suites on those facts, run by `valley validate` only
# DuckDB takes up to 80% of the machine's memory by default; at 10,000 sources the pair and year-on-year joins took
# 700 MB more beside the frames. Bounded, DuckDB spills to a file beside the scratch database instead.
DUCKDB_CONFIG: dict[str, str | bool | int | float | list[str]] = {"memory_limit": "512MB"}
FACT_CHUNK = 100_000  # fact rows held in Python at a time while loading
SHOWN = 5  # failing rows named in a message; the CheckResult lists every one


def _create(connection: Any, name: str, columns: dict[str, str]) -> None:
    definition = ", ".join(f"{quote_identifier(c)} {t}" for c, t in columns.items())
    connection.execute(f"CREATE TABLE {quote_identifier(name)} ({definition})")


def _insert(connection: Any, name: str, columns: dict[str, str], frame: Any) -> None:
    """Insert the frame's rows, cast to the table's column types."""
    if len(frame):
        connection.register("incoming", frame[list(columns)])
        connection.execute(f"INSERT INTO {quote_identifier(name)} SELECT * FROM incoming")
        connection.unregister("incoming")


def _insert_text(connection: Any, name: str, columns: dict[str, str], text: FactsText, scratch: Path) -> None:
    """Insert fact rows written as CSV text (flows/checks/audit.py fact_line) through DuckDB's CSV reader."""
    with scratch.open("w", encoding="utf-8", newline="") as handle:
        handle.writelines(text)
    typed = "{" + ", ".join(f"'{column}': '{kind}'" for column, kind in columns.items()) + "}"
    connection.execute(
        f"INSERT INTO {quote_identifier(name)} SELECT * FROM read_csv(?, columns = {typed}, header = false, "
        "auto_detect = false, delim = ',', quote = '\"', escape = '\"', allow_quoted_nulls = false)",
        [str(scratch)],
    )
    scratch.unlink()


def frames_in_chunks(rows: Iterable[dict[str, Any]], columns: list[str]) -> Iterator[Any]:
    """Rows as frames of at most FACT_CHUNK rows each, so that millions of them are never all held as dicts."""
    import pandas as pd

    remaining, values_of = iter(rows), operator.itemgetter(*columns)
    while chunk := [values_of(row) for row in itertools.islice(remaining, FACT_CHUNK)]:
        yield pd.DataFrame(chunk, columns=columns, dtype=object)


def build_rule_database(
    frames: dict[str, Any], facts: Mapping[str, Iterable[dict[str, Any]]], schemas: dict[str, Schema], path: Path
) -> Path:
    """The tables (typed by their schemas, no constraints: the rules report, they do not refuse), the facts (rows,
    read once) and the consistency views, in a DuckDB file at `path`."""
    connection = duckdb.connect(str(path), config=DUCKDB_CONFIG)
    try:
        for table, schema in schemas.items():
            types = {field["name"]: RULE_TYPES[field["type"]] for field in schema["fields"]}
            _create(connection, table, types)
            _insert(connection, table, types, frames[table])
        for name, rows in facts.items():
            _create(connection, name, FACT_TYPES[name])
            if isinstance(rows, FactsText):
                _insert_text(connection, name, FACT_TYPES[name], rows, path.with_name(f"{name}.csv"))
                continue
            for chunk in frames_in_chunks(rows, list(FACT_TYPES[name])):
                _insert(connection, name, FACT_TYPES[name], chunk)
        for statement in MACROS + VIEWS:
            connection.execute(statement)
    finally:
        connection.close()
    return path


def label(row: dict[str, Any]) -> str:
    """figures row 'x' field 'value' (detail) for a rule's row; key=value pairs for a table suite's orphan row."""
    if not {"table", "key", "field"} <= row.keys():
        return ", ".join(f"{name}={value}" for name, value in row.items())
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
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    patch_duckdb_fetch()
    patch_duckdb_regex()
    # no default docs site: the Checkpoint adds the run's own (flows/checks/checkpoint.py)
    stores = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
    context = gx.get_context(mode="ephemeral", project_config=DataContextConfig(store_backend_defaults=stores))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    engine_options = {"connect_args": {"config": DUCKDB_CONFIG}}
    # `kwargs` (for create_engine) is a field of GX's SQLDatasource that the generated add_sql signature leaves out
    return context.data_sources.add_sql(  # type: ignore[call-arg]
        "rules", connection_string=f"duckdb:///{database}", kwargs=engine_options
    )


RULE_FORMAT = {"result_format": "COMPLETE"}
# every suite runs first with counts and observed values (what Data Docs render; BOOLEAN_ONLY breaks GX's page
# renderer); only the expectations that fail run again with the suite's own format (COMPLETE lists every failing
# row by key), which costs GX several more queries per expectation, failing or not (twice the time on the article)
FIRST_PASS = {"result_format": "BASIC"}


def validate_sql_suites(
    database: Path,
    suites: Mapping[str, tuple[str, Any, dict[str, Any]]],
    outcomes: dict[str, Any] | None = None,
    site: Path | None = None,
) -> list[tuple[str, Any]]:
    """Validate each (asset table, GX suite, result format) on its table of the DuckDB file through GX's SQL data
    source, all in one GX Checkpoint whose action builds Data Docs into `site` (None: no docs); returns (suite name,
    GX result) pairs in suite order. Query rules keep every failing row and list them where Data Docs show them."""
    from flows.checks.checkpoint import run_checkpoint  # GX's checkpoint and renderers: only when validating

    source = sql_context(database)
    try:
        results = run_checkpoint(source, suites, site, completion(source, suites), FIRST_PASS)
    finally:
        source.get_execution_engine().engine.dispose()
    if outcomes is not None:
        outcomes.update(results)
    return list(results.items())


def completion(source: Any, suites: Mapping[str, tuple[str, Any, dict[str, Any]]]) -> Any:
    """What each suite's first-pass result gets before Data Docs render it: its failing expectations validated
    again with the suite's own format, every failing row of a query rule, and their labels where GX shows them."""
    engine = source.get_execution_engine().engine

    def complete(name: str, outcome: Any) -> None:
        if outcome.success:
            return
        asset, _, result_format = suites[name]
        batch = source.get_asset(name).get_batch_definition("all").get_batch()
        validate_failures_again(batch, outcome, result_format)
        fetch_all_unexpected_rows(engine, asset, outcome)
        with engine.connect() as connection:
            count = connection.exec_driver_sql(f"SELECT count(*) FROM {quote_identifier(asset)}").scalar()
        show_unexpected_rows(outcome, label, int(count or 0))

    return complete


def _configuration_key(config: Any) -> str:
    """An expectation's configuration without its id (a copy validated again has none)."""
    return json.dumps({**config.to_json_dict(), "id": None}, sort_keys=True, default=str)


def validate_failures_again(batch: Any, outcome: Any, result_format: dict[str, Any]) -> None:
    """Replace each failing expectation's result in `outcome` by one validated on `batch` with `result_format`."""
    import great_expectations as gx

    failing = {_configuration_key(item.expectation_config): item for item in outcome.results if not item.success}
    if not failing:
        return
    # copies without their id: the Checkpoint's suite owns the originals, and GX refuses to share them
    expectations = [copy.copy(item.expectation_config.to_domain_obj()) for item in failing.values()]
    suite = gx.ExpectationSuite(name=outcome.suite_name, expectations=expectations)
    again = batch.validate(suite, result_format=listing_every_failing_row(result_format, list(failing.values())))
    for redone in again.results:  # GX orders results its own way: matched by configuration
        item = failing[_configuration_key(redone.expectation_config)]
        item.success, item.result, item.exception_info = redone.success, redone.result, redone.exception_info
        shorten_partial_lists(item.result)


def validate_rule_suites(
    database: Path, suites: Mapping[str, tuple[str, Any]], outcomes: dict[str, Any] | None = None
) -> list[tuple[str, Any]]:
    """Validate each rule suite (asset, GX suite) on its table, every failing row kept."""
    formats = {name: (asset, suite, RULE_FORMAT) for name, (asset, suite) in suites.items()}
    return validate_sql_suites(database, formats, outcomes)


def read_view(frames: dict[str, Any], facts: dict[str, Any], schemas: dict[str, Schema], view: str) -> list[Any]:
    """Every row of one table or view of the rule database, as dicts (for tests and for looking into a finding)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="valley-rules-") as scratch:
        database = build_rule_database(frames, facts, schemas, Path(scratch) / "rules.duckdb")
        with duckdb.connect(str(database), read_only=True) as connection:
            cursor = connection.execute(f"SELECT * FROM {quote_identifier(view)}")
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
