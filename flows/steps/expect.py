"""Great Expectations suites: a baseline generated from the Table Schemas, editor additions kept beside it."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.steps.audit import AUDIT_COLUMNS, AUDIT_KEY, build_facts, rows_of
from flows.steps.package import read_json
from flows.steps.records import InputError, Problem
from flows.steps.rules import (
    RULE_SUITES,
    build_rule_database,
    describe_rule_failure,
    failing_keys,
    validate_rule_suites,
)

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


def parameter_name(resource: str, field: str) -> str:
    """The suite parameter holding the key values of another table, filled in at validation time."""
    return f"{resource}__{field}"


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
    for foreign in schema.get("foreignKeys", []):
        reference = foreign["reference"]
        value_set = {"$PARAMETER": parameter_name(reference["resource"] or table, reference["fields"])}
        kwargs = {"column": foreign["fields"], "value_set": value_set}
        out.append(_generated("expect_column_values_to_be_in_set", kwargs, table, "foreignKey"))
    return out


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


@dataclass(frozen=True)
class CheckResult:
    """One expectation's outcome on one table or audit frame (the suite's name)."""

    suite: str
    expectation: str
    column: str | None
    severity: str
    success: bool
    message: str
    # every failing row as {table, key, field}: what a finding's fingerprint is made of
    failing: list[dict[str, str]] = dataclasses.field(default_factory=list)


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


def key_values(frames: dict[str, Any], schemas: dict[str, Schema]) -> dict[str, list[Any]]:
    """Values for every foreign-key suite parameter, read from the referenced tables."""
    values = {}
    for table, schema in schemas.items():
        for foreign in schema.get("foreignKeys", []):
            resource = foreign["reference"]["resource"] or table
            field = foreign["reference"]["fields"]
            values[parameter_name(resource, field)] = [v for v in frames[resource][field].tolist() if v is not None]
    return values


def _row_labels(result: dict[str, Any], frame: Any, key: list[str], audit: bool) -> list[str]:
    """Where each failing row is: table, key and field for audit frames; CSV row and key otherwise."""
    indexes = result.get("unexpected_index_list") or []
    values = result.get("unexpected_list") or [None] * len(indexes)
    labels = []
    for entry, value in list(zip(indexes, values, strict=False))[:5]:
        keys = {k: entry.get(k) for k in key} if isinstance(entry, dict) else {}
        shown = f" value {value!r}" if value is not None else ""
        if audit:
            detail = ""
            if "detail" in frame.columns:
                match = frame[(frame[key] == [keys.get(k) for k in key]).all(axis=1)]
                detail = f" ({match['detail'].iloc[0]})" if len(match) else ""
            labels.append(f"{keys.get('table')} row '{keys.get('key')}' field '{keys.get('field')}'{detail or shown}")
            continue
        match = frame.index[(frame[key] == [keys.get(k) for k in key]).all(axis=1)] if keys else []
        row = int(match[0]) + 2 if len(match) else "?"
        labels.append(f"row {row} ({', '.join(f'{k}={v}' for k, v in keys.items())}){shown}")
    return labels


def failing_rows(suite: str, column: str | None, result: dict[str, Any], key: list[str]) -> list[dict[str, str]]:
    """Each failing row located: an audit frame's own table, key and field; a table suite's key and column."""
    rows = []
    for entry in result.get("unexpected_index_list") or []:
        keys = {k: entry.get(k) for k in key} if isinstance(entry, dict) else {}
        if key == AUDIT_KEY:
            rows.append({"table": str(keys.get("table")), "key": str(keys.get("key")), "field": str(keys.get("field"))})
        else:
            label = ",".join(f"{k}={v}" for k, v in keys.items())
            rows.append({"table": suite, "key": label, "field": column or ""})
    return rows


def describe_failure(suite: str, config: Any, result: dict[str, Any], frame: Any, key: list[str]) -> str:
    """Name the table, the rows (CSV row number and key, or the audited row) and the field of a failure."""
    audit = key == AUDIT_KEY
    column = config.kwargs.get("column") or ", ".join(config.kwargs.get("column_list", []))
    what = (config.meta or {}).get("description") or config.type
    head = f"{suite}: {what}" + (f" ({'check' if audit else 'field'} '{column}')" if column else "")
    labels = _row_labels(result, frame, key, audit)
    if not labels:
        observed = result.get("observed_value")
        return head + (f": observed {observed!r}" if observed is not None else "")
    count = len(result.get("unexpected_index_list") or [])
    more = f" and {count - len(labels)} more" if count > len(labels) else ""
    return f"{head}: {count} failing row(s): " + "; ".join(labels) + more


def _context_batch_definition() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("package")
    return source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("all")


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


def run_suites(
    suites: dict[str, Path],
    frames: dict[str, Any],
    keys: dict[str, list[str]],
    parameters: dict[str, list[Any]],
    outcomes: dict[str, Any] | None = None,
) -> list[CheckResult]:
    """Validate each frame against its suite with GX in an ephemeral context (no files, no network).

    GX's own result for each suite goes into `outcomes` when given (for Data Docs)."""
    batch_definition = _context_batch_definition()
    results = []
    for name, path in suites.items():
        frame = frames[name]
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        outcome = batch.validate(
            load_suite(path),
            expectation_parameters=parameters,
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": keys[name]},
        )
        if outcomes is not None:
            outcomes[name] = outcome
        results += check_results(name, outcome, lambda config, result, name=name, frame=frame: (
            describe_failure(name, config, result, frame, keys[name]),
            failing_rows(name, config.kwargs.get("column"), result, keys[name]),
        ))  # fmt: skip
    return results


def exception_message(info: dict[str, Any]) -> str | None:
    """GX's exception for an expectation: at the top for column rules, per metric for query rules."""
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    nested = [value for value in info.values() if isinstance(value, dict) and value.get("raised_exception")]
    return str(nested[0].get("exception_message")) if nested else None


def check_results(name: str, outcome: Any, explain: Any) -> list[CheckResult]:
    """One CheckResult per expectation, in the suite file's order; `explain(config, result)` gives a failure's
    message and failing rows."""
    results = []
    for item in sorted(outcome.results, key=lambda r: r.expectation_config.meta["index"]):
        config = item.expectation_config
        assert config is not None  # GX always echoes the configuration it ran
        message, failing = ("", []) if item.success else explain(config, item.result)
        problem = exception_message(item.exception_info or {})
        if problem:
            message = f"{name}: {config.type} could not run: {problem}"
        column = config.kwargs.get("column") or (config.meta or {}).get("check")
        results.append(
            CheckResult(name, config.type, column, config.severity.value, bool(item.success), message, failing)
        )
    return results


def run_rule_suites(
    suites: dict[str, Path],
    frames: dict[str, Any],
    facts: dict[str, Any],
    schemas: dict[str, Schema],
    outcomes: dict[str, Any] | None = None,
) -> list[CheckResult]:
    """Each rule suite on its table in a scratch DuckDB database holding the tables, facts and views."""
    loaded = {name: (read_suite(path).get("asset", name), load_suite(path)) for name, path in suites.items()}
    with tempfile.TemporaryDirectory(prefix="valley-rules-") as scratch:
        database = build_rule_database(frames, facts, schemas, Path(scratch) / "rules.duckdb")
        validated = validate_rule_suites(database, loaded, outcomes)
    results = []
    for name, outcome in validated:
        results += check_results(name, outcome, lambda config, result, name=name: (
            describe_rule_failure(name, config, result), failing_keys(result),
        ))  # fmt: skip
    return results


def frames_of(rows: dict[str, list[dict[str, Any]]], columns: dict[str, list[str]] | None = None) -> dict[str, Any]:
    import pandas as pd

    return {
        name: pd.DataFrame(table_rows, columns=(columns or {}).get(name)).astype(object)
        for name, table_rows in rows.items()
    }


def validate_tables(
    frames: dict[str, Any],
    texts: dict[str, str],
    schemas: dict[str, Schema],
    table_suites: Path,
    audit_suites: Path,
    outcomes: dict[str, Any] | None = None,
) -> list[CheckResult]:
    """Every table's suite (generated baseline + editor) on the frames, then every rule suite on DuckDB."""
    keys = {table: schema["primaryKey"] for table, schema in schemas.items()}
    suites = {table: suite_path(table_suites, table) for table in schemas}
    results = run_suites(suites, frames, keys, key_values(frames, schemas), outcomes)
    tables = {table: rows_of(frame) for table, frame in frames.items()}
    facts = frames_of(build_facts(tables, texts, keys), AUDIT_COLUMNS)
    rule_suites = {name: suite_path(audit_suites, name) for name in RULE_SUITES}
    return results + run_rule_suites(rule_suites, frames, facts, schemas, outcomes)
