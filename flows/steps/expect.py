"""Great Expectations suites: a baseline generated from the Table Schemas, editor additions kept beside it."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
        existing = json.loads(current.read_text(encoding="utf-8")) if current.is_file() else None
        suite = render_suite(table, schema, existing)
        target = suite_path(out_dir, table)
        target.write_text(json.dumps(suite, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written[table] = target
    return written


@dataclass(frozen=True)
class CheckResult:
    """One expectation's outcome on one table."""

    table: str
    expectation: str
    column: str | None
    severity: str
    success: bool
    message: str


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


def describe_failure(table: str, schema: Schema, config: Any, result: dict[str, Any], frame: Any) -> str:
    """Name the table, the rows (CSV row numbers, header = row 1, and keys) and the field of a failure."""
    column = config.kwargs.get("column") or ", ".join(config.kwargs.get("column_list", []))
    head = f"{table}: {config.type}" + (f", field '{column}'" if column else "")
    indexes = result.get("unexpected_index_list")
    if not indexes:
        observed = result.get("observed_value")
        return head + (f": observed {observed!r}" if observed is not None else "")
    key = schema["primaryKey"]
    rows = []
    values = result.get("unexpected_list") or [None] * len(indexes)
    for entry, value in list(zip(indexes, values, strict=False))[:5]:
        keys = {k: entry.get(k) for k in key} if isinstance(entry, dict) else {}
        match = frame.index[(frame[key] == [keys.get(k) for k in key]).all(axis=1)] if keys else [entry]
        row = int(match[0]) + 2 if len(match) else "?"
        label = ", ".join(f"{k}={v}" for k, v in keys.items())
        rows.append(f"row {row} ({label})" + (f" value {value!r}" if value is not None else ""))
    more = f" and {len(indexes) - 5} more" if len(indexes) > 5 else ""
    return f"{head}: {len(indexes)} failing row(s): " + "; ".join(rows) + more


def run_suites(suites: dict[str, Path], schemas: dict[str, Schema], data_dir: Path) -> list[CheckResult]:
    """Validate every table's CSV against its suite with GX in an ephemeral context (no files, no network)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.core import ExpectationSuite
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas("package")
        .add_dataframe_asset("table")
        .add_batch_definition_whole_dataframe("all")
    )
    frames = read_frames(schemas, data_dir)
    parameters = key_values(frames, schemas)
    results = []
    for table, path in suites.items():
        document = json.loads(path.read_text(encoding="utf-8"))
        configs = [ExpectationConfiguration(**e) for e in document["expectations"]]
        for index, configuration in enumerate(configs):
            configuration.meta = {**(configuration.meta or {}), "index": index}
        suite = ExpectationSuite(name=table, expectations=[c.to_domain_obj() for c in configs])
        frame = frames[table]
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        outcome = batch.validate(
            suite,
            expectation_parameters=parameters,
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": schemas[table]["primaryKey"],
            },
        )
        for item in sorted(outcome.results, key=lambda r: r.expectation_config.meta["index"]):  # type: ignore[union-attr]
            config = item.expectation_config
            assert config is not None  # GX always echoes the configuration it ran
            message = "" if item.success else describe_failure(table, schemas[table], config, item.result, frame)
            if item.exception_info and item.exception_info.get("raised_exception"):
                message = f"{table}: {config.type} could not run: {item.exception_info.get('exception_message')}"
            results.append(
                CheckResult(
                    table,
                    config.type,
                    config.kwargs.get("column"),
                    config.severity.value,
                    bool(item.success),
                    message,
                )
            )
    return results
