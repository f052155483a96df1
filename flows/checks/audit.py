"""The facts SQL cannot establish, computed in Python: the evidence offsets and every re-parse of a text with
the number parser (figures, periods, changes, the numbers in each snapshot).

The rules that judge these facts are SQL in expectations/ (see flows/checks/rules.py); evidence rows have the
key columns table, key, field (which row and field of which table a check is about).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from flows.sources.numbers import (
    FigureParseError,
    find_number_spans,
    parse_change,
    parse_change_quantity,
    parse_deadline,
    parse_figure,
    parse_year,
)
from flows.sources.periods import INFERRED, NONE, OVERRULED, date_figure

Row = dict[str, Any]
Tables = Mapping[str, Iterable[Row]]  # each table's rows; iterated more than once
AUDIT_KEY = ["table", "key", "field"]
# sub-spans that must lie inside each row's evidence_quote
SPANS = {
    "organizations": ("name_text",),
    "events": ("name_text",),
    "figures": ("figure_text", "period_text", "change_text"),
    "targets": ("goal_text", "deadline_text", "period_text"),
    "recognitions": ("title_text",),
    "quotes": ("statement",),
    "slogans": ("text",),
    "excluded_numbers": ("number_text",),
}
# columns of each fact table and audit frame, so an empty one still has them
AUDIT_COLUMNS = {
    "evidence": [*AUDIT_KEY, "found", "reparsed"],
    "text_numbers": ["source_id", "offset", "number", "line"],
    "change_intervals": ["table", "key", "low", "high", "parsed"],
    "integrity": [*AUDIT_KEY, "matches", "detail"],
    "freshness": [*AUDIT_KEY, "matches", "detail"],
}


def primary_key(table: str, row: Row, keys: dict[str, list[str]]) -> str:
    return "/".join(str(row[k]) for k in keys[table])


def same_number(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-9)


def _attempt(parser: Callable[[str], Any], text: Any) -> tuple[Any, bool]:
    try:
        return parser(text), True
    except FigureParseError:
        return None, False


def _reparse_figure(row: Row, text: str) -> dict[str, bool | None]:
    """Does each parsed figures field (value, interval, unit, qualifier, period and its basis) follow from its text?"""
    quantity, ok = _attempt(parse_figure, row["figure_text"] or "")
    checks: dict[str, bool | None] = {
        "value": ok and same_number(quantity.value, row["value"]),
        "value_low": ok and same_number(quantity.low, row["value_low"]),
        "value_high": ok and same_number(quantity.high, row["value_high"]),
        "rounding_step": ok and same_number(quantity.step, row["rounding_step"]),
        "unit": ok and quantity.unit == row["unit"],
        "qualifier": ok and quantity.qualifier == row["qualifier"],
    }
    checks["period"] = _reparse_period(row)
    checks["period_basis"] = _basis_follows(row, _policy_basis(row, text, "figure_text"))
    if row["change_text"] is None:
        checks["change_percent"] = row["change_percent"] is None
    else:
        change, ok = _attempt(parse_change, row["change_text"])
        checks["change_percent"] = ok and same_number(change, row["change_percent"])
    return checks


def _reparse_period(row: Row) -> bool:
    if row["period_text"] is None:
        return row["period"] is None
    year, ok = _attempt(parse_year, row["period_text"])
    return ok and same_number(year, row["period"])


def _policy_basis(row: Row, text: str, anchor: str) -> str | None:
    """The period basis the policy gives the row's anchor span, where the quote sits in `text`."""
    quote, anchor_text = row["evidence_quote"] or "", row[anchor] or ""
    if not anchor_text or quote.count(anchor_text) != 1:
        return None
    start = int(row["evidence_offset"]) + quote.index(anchor_text)
    dating = date_figure(text, start, start + len(anchor_text))
    return dating.basis if dating else NONE


def _basis_follows(row: Row, policy: str | None) -> bool:
    """The row's basis is the policy's, or an overruled inference: undated, with the reviewer's reason."""
    if row["period_basis"] == OVERRULED:
        return policy == INFERRED and row["period"] is None and bool(row.get("period_overruled"))
    return policy == row["period_basis"]


def _reparse_target(row: Row, text: str) -> dict[str, bool | None]:
    deadline, ok = _attempt(parse_deadline, row["deadline_text"] or "")
    return {
        "deadline_year": ok and same_number(deadline, row["deadline_year"]),
        "period": _reparse_period(row),
        "period_basis": _basis_follows(row, _policy_basis(row, text, "deadline_text")),
    }


REPARSERS: dict[str, Callable[[Row, str], dict[str, bool | None]]] = {
    "figures": _reparse_figure,
    "targets": _reparse_target,
}


def audit_evidence(tables: Tables, texts: dict[str, str], keys: dict[str, list[str]]) -> Iterator[Row]:
    """Every quote at its offset in the source, every sub-span in its quote, every parsed value re-parsed."""
    for table, rows in tables.items():
        for row in rows:
            if "evidence_quote" not in row:
                break  # a table's rows share their columns: this one holds no quotes
            key, quote = primary_key(table, row, keys), row["evidence_quote"] or ""
            text = texts.get(row["source_id"], "")
            offset = int(row["evidence_offset"])
            found = bool(quote) and text[offset : offset + len(quote)] == quote
            yield {"table": table, "key": key, "field": "evidence_quote", "found": found, "reparsed": None}
            for field in SPANS.get(table, ()):
                if row.get(field) is not None:
                    inside = quote.count(row[field]) == 1
                    yield {"table": table, "key": key, "field": field, "found": inside, "reparsed": None}
            if table in REPARSERS:
                for field, ok in REPARSERS[table](row, text).items():
                    yield {"table": table, "key": key, "field": field, "found": None, "reparsed": ok}
    for row in tables.get("number_mentions", []):
        text, offset = texts.get(row["source_id"], ""), int(row["offset"])
        found = text[offset : offset + len(row["text"])] == row["text"]
        key = primary_key("number_mentions", row, keys)
        yield {"table": "number_mentions", "key": key, "field": "text", "found": found, "reparsed": None}


def text_numbers(texts: dict[str, str]) -> Iterator[Row]:
    """Every number each snapshot holds today (digits or words), with its offset and line: coverage's facts."""
    return (
        {"source_id": source_id, "offset": start, "number": number, "line": text.count("\n", 0, start) + 1}
        for source_id, text in sorted(texts.items())
        for start, _, number in find_number_spans(text)
    )


def change_intervals(tables: Tables) -> Iterator[Row]:
    """Each stated change's interval as the number parser reads it (figures and corroborations)."""
    for table, key in (("figures", "figure_id"), ("corroborations", "corroboration_id")):
        for row in tables.get(table, []):
            if not row.get("change_text"):
                continue
            change, ok = _attempt(parse_change_quantity, row["change_text"])
            low, high = (change.low, change.high) if ok else (None, None)
            yield {"table": table, "key": row[key], "low": low, "high": high, "parsed": ok}


def build_facts(tables: Tables, texts: dict[str, str], keys: dict[str, list[str]]) -> dict[str, Iterator[Row]]:
    """The facts only Python can establish, as rows the rules in expectations/ query beside the data; made as they
    are read (at 10,000 sources they are millions of rows, loaded in chunks by flows/checks/rules.py)."""
    return {
        "evidence": audit_evidence(tables, texts, keys),
        "text_numbers": text_numbers(texts),
        "change_intervals": change_intervals(tables),
    }


# --- one source's facts, made from its rows as kept (flows/package/kept.py) and kept beside them (validate.py)
FACT_TABLES = ("evidence", "text_numbers", "change_intervals")
NUMERIC = {"integer": int, "year": int, "number": float}  # as read_frames types a column; any other stays text


def typed_rows(lines: Iterable[Any], schema: dict[str, Any]) -> list[Row]:
    """A table's CSV lines (format_table's (key, line) pairs) as read_frames reads them from the package's CSV: in
    primary-key order, an empty cell None, integers and numbers as such, everything else text."""
    from flows.package.stage import ordered_key

    columns = [field["name"] for field in schema["fields"]]
    convert = [NUMERIC.get(field["type"], str) for field in schema["fields"]]
    ordered = (line for _, line in sorted(lines, key=ordered_key))
    return [
        {name: (make(cell) if cell != "" else None) for name, make, cell in zip(columns, convert, cells, strict=True)}
        for cells in csv.reader(ordered)
    ]


def source_facts(source_id: str, lines: Mapping[str, Any], text: str, schemas: dict[str, Any]) -> dict[str, str]:
    """build_facts for one source, from its rows as the package writes them and its snapshot's text: each fact
    table as CSV text (fact_line), in the order build_facts gives for this source alone."""
    audited = {name: typed_rows(lines[name], schema) for name, schema in schemas.items() if _audited(name, schema)}
    keys = {table: schema["primaryKey"] for table, schema in schemas.items()}
    facts = build_facts(audited, {source_id: text}, keys)
    return {name: "".join(fact_line(row.values()) for row in facts[name]) for name in FACT_TABLES}


def _audited(table: str, schema: dict[str, Any]) -> bool:
    """Tables a fact is made from: those with quotes, the mentions, the changes."""
    quoted = any(field["name"] == "evidence_quote" for field in schema["fields"])
    return quoted or table in ("number_mentions", "figures", "corroborations")


def fact_line(values: Iterable[Any]) -> str:
    """A fact row as a CSV line DuckDB reads back as built: NULL unquoted and empty, text always quoted."""
    cells = []
    for value in values:
        if value is None:
            cells.append("")
        elif isinstance(value, bool):
            cells.append("true" if value else "false")
        elif isinstance(value, int):
            cells.append(str(value))
        elif isinstance(value, float | Decimal):
            cells.append(repr(float(value)))
        else:
            cells.append('"' + str(value).replace('"', '""') + '"')
    return ",".join(cells) + "\n"


class FactsText(list[str]):
    """A fact table as CSV text (fact_line), one piece a source: loaded by DuckDB's own reader, not row by row."""


class FrameRows:
    """A frame's rows as dicts with None for missing values, made one at a time each time it is iterated."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame

    def __iter__(self) -> Iterator[Row]:
        columns = list(self.frame.columns)
        # missing values become None column by column, not value by value: a million rows go through here
        cleaned = self.frame.astype(object).where(self.frame.notna(), None)
        for values in zip(*(cleaned[column].tolist() for column in columns), strict=True):
            yield dict(zip(columns, values, strict=True))


def rows_of(frame: Any) -> FrameRows:
    """DataFrame -> its rows as dicts, lazily (a list of every row's dict would hold each table twice)."""
    return FrameRows(frame)
