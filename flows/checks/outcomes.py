"""GX results as CheckResults: each failure named by its suite, rows (CSV row number and key) and field."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from flows.checks.audit import AUDIT_KEY
from flows.checks.gx_duckdb import unexpected_rows

UNEXPECTED_ROWS = "unexpected_rows_expectation"
SHOWN = 5  # failing rows named in a message; the CheckResult lists every one
Entry = tuple[dict[str, Any], Any]  # a failing row's key values, and the value that fails (None if not one)


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


def checked_column(config: Any) -> str | None:
    """The column an expectation grades: its `column` argument, or a query rule's `check` (a foreign key's field)."""
    return config.kwargs.get("column") or (config.meta or {}).get("check")


def failing_entries(config: Any, result: dict[str, Any], key: list[str]) -> list[Entry]:
    """Each failing row's key and value: GX's index list for a column rule; for a query rule (a foreign key) the
    rows its query returned, which carry the table's key columns and the field that names no row."""
    if config.type == UNEXPECTED_ROWS:
        column = checked_column(config)
        return [({k: row.get(k) for k in key}, row.get(column) if column else None) for row in unexpected_rows(result)]
    indexes = result.get("unexpected_index_list") or []
    values = result.get("unexpected_list") or [None] * len(indexes)
    return [
        ({k: entry.get(k) for k in key} if isinstance(entry, dict) else {}, value)
        for entry, value in zip(indexes, values, strict=False)
    ]


def _matching(frame: Any, key: list[str], keys: dict[str, Any]) -> Any:
    return (frame[key] == [keys.get(k) for k in key]).all(axis=1)


def _row_labels(entries: list[Entry], frame: Any, key: list[str], audit: bool) -> list[str]:
    """Where each failing row is: table, key and field for audit frames; CSV row (the frame's order) and key
    otherwise. Only the rows shown are looked up in the frame."""
    labels = []
    for keys, value in entries[:SHOWN]:
        shown = f" value {value!r}" if value is not None else ""
        if audit:
            detail = ""
            if "detail" in frame.columns:
                match = frame[_matching(frame, key, keys)]
                detail = f" ({match['detail'].iloc[0]})" if len(match) else ""
            labels.append(f"{keys.get('table')} row '{keys.get('key')}' field '{keys.get('field')}'{detail or shown}")
            continue
        match = frame.index[_matching(frame, key, keys)] if keys else []
        row = int(match[0]) + 2 if len(match) else "?"
        labels.append(f"row {row} ({', '.join(f'{k}={v}' for k, v in keys.items())}){shown}")
    return labels


def failing_rows(suite: str, column: str | None, entries: list[Entry], key: list[str]) -> list[dict[str, str]]:
    """Each failing row located: an audit frame's own table, key and field; a table suite's key and column."""
    rows = []
    for keys, _ in entries:
        if key == AUDIT_KEY:
            rows.append({"table": str(keys.get("table")), "key": str(keys.get("key")), "field": str(keys.get("field"))})
        else:
            label = ",".join(f"{k}={v}" for k, v in keys.items())
            rows.append({"table": suite, "key": label, "field": column or ""})
    return rows


def describe_failure(
    suite: str, config: Any, entries: list[Entry], result: dict[str, Any], frame: Any, key: list[str]
) -> str:
    """Name the table, the rule, the rows (CSV row number and key, or the audited row) and the field of a failure."""
    audit = key == AUDIT_KEY
    column = checked_column(config) or ", ".join(config.kwargs.get("column_list", []))
    what = config.description or (config.meta or {}).get("description") or config.type
    head = f"{suite}: {what}" + (f" ({'check' if audit else 'field'} '{column}')" if column else "")
    labels = _row_labels(entries, frame, key, audit)
    if not labels:
        observed = result.get("observed_value")
        return head + (f": observed {observed!r}" if observed is not None else "")
    more = f" and {len(entries) - len(labels)} more" if len(entries) > len(labels) else ""
    return f"{head}: {len(entries)} failing row(s): " + "; ".join(labels) + more


def explain_table_failure(suite: str, frame: Any, key: list[str]) -> Any:
    """`explain(config, result)` for check_results on a table or audit frame: its message and failing rows."""

    def explain(config: Any, result: dict[str, Any]) -> tuple[str, list[dict[str, str]]]:
        entries = failing_entries(config, result, key)
        message = describe_failure(suite, config, entries, result, frame, key)
        return message, failing_rows(suite, checked_column(config), entries, key)

    return explain


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
        results.append(
            CheckResult(
                name, config.type, checked_column(config), config.severity.value, bool(item.success), message, failing
            )
        )
    return results
