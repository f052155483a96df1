"""Great Expectations suites: a baseline generated from the Table Schemas, editor additions kept beside it."""

from __future__ import annotations

import functools
import json
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb

from flows.checks.audit import build_facts, rows_of
from flows.checks.outcomes import UNEXPECTED_ROWS, CheckResult, check_results, explain_table_failure
from flows.checks.rules import (
    RULE_FORMAT,
    RULE_SUITES,
    build_rule_database,
    describe_rule_failure,
    failing_keys,
    validate_sql_suites,
)
from flows.core.inputs import read_json
from flows.package.warehouse import quote_identifier
from flows.sources.records import InputError, Problem

Schema = dict[str, Any]
Expectation = dict[str, Any]
GENERATED = "table-schema"
SEVERITIES = ("critical", "warning", "info")


def _generated(kind: str, kwargs: dict[str, Any], table: str, rule: str) -> Expectation:
    return {
        "type": kind,
        "kwargs": kwargs,
        "meta": {"source": GENERATED, "rule": rule, "schema": f"datapackage/schemas/{table}.json"},
        "severity": "critical",
    }


def anchored_regex(pattern: str) -> str:
    """Table Schema patterns match the whole value; GX searches, and warns on capturing groups."""
    body = re.sub(r"(?<!\\)\((?!\?)", "(?:", pattern.removeprefix("^").removesuffix("$"))
    return f"^(?:{body})$"


@functools.cache
def _reserved_words() -> frozenset[str]:
    with duckdb.connect() as connection:
        rows = connection.execute("SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category = 'reserved'")
        return frozenset(row[0] for row in rows.fetchall())


def sql_name(name: str) -> str:
    """A name as DuckDB reads it: bare when it can be, so a generated rule reads like SQL written by hand."""
    bare = re.fullmatch(r"[a-z_][a-z0-9_]*", name) and name not in _reserved_words()
    return name if bare else quote_identifier(name)


def orphan_rows_query(table: str, key: list[str], field: str, referenced: str, referenced_field: str) -> str:
    """The rows whose `field` names no row of the referenced table: their key and that field, by a left join."""
    shown = ", ".join(f"checked.{sql_name(c)}" for c in dict.fromkeys([*key, field]))
    column, target = f"checked.{sql_name(field)}", f"referenced.{sql_name(referenced_field)}"
    return (
        f"WITH checked AS (SELECT * FROM {{batch}}) SELECT {shown} FROM checked "
        f"LEFT JOIN {sql_name(referenced)} AS referenced ON {target} = {column} "
        f"WHERE {column} IS NOT NULL AND {target} IS NULL"
    )


def foreign_key_expectation(table: str, schema: Schema, foreign: dict[str, Any]) -> Expectation:
    """A foreign key as a query rule that joins (a value list of every referenced key would not scale)."""
    field, referenced = foreign["fields"], foreign["reference"]["resource"] or table
    referenced_field = foreign["reference"]["fields"]
    query = orphan_rows_query(table, schema["primaryKey"], field, referenced, referenced_field)
    expectation = _generated(UNEXPECTED_ROWS, {"unexpected_rows_query": query}, table, "foreignKey")
    expectation["meta"]["check"] = field
    return {"type": UNEXPECTED_ROWS, "description": f"every {table}.{field} names a row of {referenced}"} | expectation


def baseline_expectations(table: str, schema: Schema) -> list[Expectation]:
    """Schema rules as expectations: columns, required, keys, enums, ranges, patterns, foreign keys."""
    columns = [field["name"] for field in schema["fields"]]
    out = [_generated("expect_table_columns_to_match_ordered_list", {"column_list": columns}, table, "fields")]
    for field in schema["fields"]:
        name, constraints = field["name"], field.get("constraints", {})
        if constraints.get("required"):
            out.append(_generated("expect_column_values_to_not_be_null", {"column": name}, table, "required"))
        if constraints.get("unique"):
            out.append(_generated("expect_column_values_to_be_unique", {"column": name}, table, "unique"))
        if "enum" in constraints:
            kwargs = {"column": name, "value_set": constraints["enum"]}
            out.append(_generated("expect_column_values_to_be_in_set", kwargs, table, "enum"))
        if "minimum" in constraints or "maximum" in constraints:
            kwargs = {
                "column": name,
                "min_value": constraints.get("minimum"),
                "max_value": constraints.get("maximum"),
            }
            out.append(_generated("expect_column_values_to_be_between", kwargs, table, "range"))
        if "pattern" in constraints:
            kwargs = {"column": name, "regex": anchored_regex(constraints["pattern"])}
            out.append(_generated("expect_column_values_to_match_regex", kwargs, table, "pattern"))
    key = schema["primaryKey"]
    if len(key) > 1:
        out.append(_generated("expect_compound_columns_to_be_unique", {"column_list": key}, table, "primaryKey"))
    elif not next(f for f in schema["fields"] if f["name"] == key[0]).get("constraints", {}).get("unique"):
        out.append(_generated("expect_column_values_to_be_unique", {"column": key[0]}, table, "primaryKey"))
    return out + [foreign_key_expectation(table, schema, foreign) for foreign in schema.get("foreignKeys", [])]


def suite_path(expectations_dir: Path, table: str) -> Path:
    return expectations_dir / f"{table}.json"


def render_suite(table: str, schema: Schema, existing: dict[str, Any] | None) -> dict[str, Any]:
    """The suite for a table: regenerated baseline first, then the editor's expectations unchanged."""
    existing = existing or {}
    editor = [e for e in existing.get("expectations", []) if e.get("meta", {}).get("source") != GENERATED]
    notes = existing.get("notes") or (
        f"Baseline generated from datapackage/schemas/{table}.json (meta.source = '{GENERATED}'); "
        "expectations with meta.source = 'editor' are written by hand and kept on regeneration."
    )
    return {"name": table, "notes": notes, "expectations": baseline_expectations(table, schema) + editor}


def write_suites(schemas: dict[str, Schema], expectations_dir: Path, out_dir: Path) -> dict[str, Path]:
    """Write every table's suite JSON into out_dir, keeping editor expectations from expectations_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for table, schema in schemas.items():
        current = suite_path(expectations_dir, table)
        existing = read_suite(current) if current.is_file() else None
        if existing:  # the editor's expectations are carried over: a bad one names its own file, not the staged copy
            editor = [
                (i, e) for i, e in enumerate(existing["expectations"]) if e.get("meta", {}).get("source") != GENERATED
            ]
            domain_expectations(current, editor)
        suite = render_suite(table, schema, existing)
        target = suite_path(out_dir, table)
        target.write_text(json.dumps(suite, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written[table] = target
    return written


def read_frames(schemas: dict[str, Schema], data_dir: Path) -> dict[str, Any]:
    """Load each CSV into a DataFrame with the dtypes its schema gives."""
    import pandas as pd

    dtypes = {"integer": "Int64", "number": "Float64", "year": "Int64"}
    frames = {}
    for table, schema in schemas.items():
        types = {f["name"]: dtypes.get(f["type"], "object") for f in schema["fields"]}
        frames[table] = (
            pd.read_csv(
                data_dir / f"{table}.csv",
                dtype=types,
                keep_default_na=False,
                na_values=[""],
                encoding="utf-8",
            )
            .astype(object)
            .where(lambda frame: frame.notna(), None)
        )
    return frames


def read_suite(path: Path) -> dict[str, Any]:
    """A suite file's JSON, with the shape we write: a name and a list of expectation objects."""
    document = read_json(path, "fix the file or restore it with git")
    if not (
        isinstance(document, dict)
        and isinstance(document.get("name"), str)
        and isinstance(document.get("expectations"), list)
        and all(isinstance(e, dict) for e in document["expectations"])
    ):
        message = "not a suite: expected an object with a 'name' and an 'expectations' list of objects"
        raise InputError([Problem(path, None, None, message)])
    return document


def _configuration_problem(error: Exception) -> str:
    import great_expectations as gx
    from great_expectations.exceptions import ExpectationNotFoundError

    if isinstance(error, ExpectationNotFoundError):
        return f"Great Expectations {gx.__version__} has no expectation of this type (a typo?)"
    errors = getattr(error, "errors", None)  # pydantic: the first complaint about each bad argument
    if callable(errors):
        first = {".".join(map(str, e["loc"])): e["msg"] for e in reversed(errors())}
        return "; ".join(f"kwargs '{name}': {message}" for name, message in reversed(first.items()))
    return str(error)


def domain_expectations(path: Path, entries: list[tuple[int, dict[str, Any]]]) -> list[Any]:
    """GX expectations from (index in the file, JSON) pairs, strictly: an unknown type, severity or argument
    stops with the file, the expectation's index and its type; each keeps its index in meta for ordering."""
    from great_expectations.exceptions import GreatExpectationsError
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    out = []
    for index, entry in entries:
        try:
            configuration = ExpectationConfiguration(**entry)
            configuration.meta = {**(configuration.meta or {}), "index": index}
            out.append(configuration.to_domain_obj())
        except (GreatExpectationsError, TypeError, ValueError) as error:
            where = f"expectations[{index}] (type {entry.get('type')!r})"
            raise InputError([Problem(path, None, None, f"{where}: {_configuration_problem(error)}")]) from error
    return out


def load_suite(path: Path) -> Any:
    """A GX suite from our JSON, strictly: invalid JSON, an unknown expectation type or severity raises."""
    from great_expectations.core import ExpectationSuite

    document = read_suite(path)
    expectations = domain_expectations(path, list(enumerate(document["expectations"])))
    return ExpectationSuite(name=document["name"], expectations=expectations)


def frames_of(rows: dict[str, list[dict[str, Any]]], columns: dict[str, list[str]] | None = None) -> dict[str, Any]:
    import pandas as pd

    return {
        name: pd.DataFrame(table_rows, columns=(columns or {}).get(name)).astype(object)
        for name, table_rows in rows.items()
    }


def load_sql_suites(
    schemas: dict[str, Schema], table_suites: Path, audit_suites: Path, rule_suites: Iterable[str] = RULE_SUITES
) -> dict[str, tuple[str, Any, dict[str, Any]]]:
    """Every table's suite on its table (failing rows located by primary key), then each rule suite on its asset."""
    loaded = {}
    for table, schema in schemas.items():
        result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": schema["primaryKey"]}
        loaded[table] = (table, load_suite(suite_path(table_suites, table)), result_format)
    for name in rule_suites:
        path = suite_path(audit_suites, name)
        loaded[name] = (read_suite(path).get("asset", name), load_suite(path), RULE_FORMAT)
    return loaded


def validate_tables(
    frames: dict[str, Any],
    texts: dict[str, str],
    schemas: dict[str, Schema],
    table_suites: Path,
    audit_suites: Path,
    outcomes: dict[str, Any] | None = None,
    site: Path | None = None,
    published_facts: Mapping[str, Iterable[dict[str, Any]]] | None = None,
    facts: Mapping[str, Iterable[Any]] | None = None,
) -> list[CheckResult]:
    """Every table's suite (generated baseline + editor) and every rule suite, validated by GX on one scratch DuckDB
    database holding the tables, the facts and the consistency views, with Data Docs built into `site` (None: none);
    the frames only locate a failing row. `published_facts` (integrity, freshness) adds those facts and their suites;
    `facts` are the facts already made (by source, flows/checks/validate.py gather_facts) instead of from the texts."""
    keys = {table: schema["primaryKey"] for table, schema in schemas.items()}
    published_facts = published_facts or {}
    suites = load_sql_suites(schemas, table_suites, audit_suites, [*RULE_SUITES, *published_facts])
    with tempfile.TemporaryDirectory(prefix="valley-suites-") as scratch:
        # the facts stream into the database as they are made: only the rules read them
        made = facts if facts is not None else build_facts({t: rows_of(f) for t, f in frames.items()}, texts, keys)
        database = build_rule_database(frames, {**made, **published_facts}, schemas, Path(scratch) / "suites.duckdb")
        validated = validate_sql_suites(database, suites, outcomes, site)
    results = []
    for name, outcome in validated:
        if name in schemas:
            results += check_results(name, outcome, explain_table_failure(name, frames[name], keys[name]))
        else:
            results += check_results(name, outcome, lambda config, result, name=name: (
                describe_rule_failure(name, config, result), failing_keys(result),
            ))  # fmt: skip
    return results
