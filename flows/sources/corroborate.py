"""Records without a quote in the article: the measure vocabulary, and corroborations from independent sources,
with the rule that says whether an independent value agrees with the article's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flows.sources.numbers import FigureParseError, Quantity, parse_change_quantity, parse_deadline, parse_figure
from flows.sources.records import Problem, Record

Row = dict[str, Any]
PLAIN_KEYS: dict[str, tuple[set[str], set[str]]] = {
    "measures": ({"id", "label", "definition", "unit", "subject_kind"}, set()),
    "corroborations": (
        {"id", "publisher", "title", "url", "note"},
        {"figure", "target", "published_date", "published_date_note", "value", "change", "deadline", "period"},
    ),
}


def build_measure(record: Record) -> Row:
    v = record.values
    return {k: v[k] for k in ("label", "definition", "unit")} | {
        "measure_id": v["id"],
        "subject_kind": v["subject_kind"],
    }


def _parse(record: Record, key: str, parser: Any, problems: list[Problem]) -> Any:
    text = record.values.get(key)
    if text is None:
        return None
    try:
        return parser(str(text))
    except FigureParseError as error:
        problems.append(record.problem(key, str(error)))
        return None


def build_corroboration(record: Record, problems: list[Problem]) -> Row:
    """A corroboration row; `agrees` is filled in once the article's rows are known (see agreement)."""
    v = record.values
    if ("figure" in v) == ("target" in v):
        problems.append(record.problem(None, "a corroboration speaks to exactly one of `figure` or `target`"))
    quantity: Quantity | None = _parse(record, "value", parse_figure, problems)
    change: Quantity | None = _parse(record, "change", parse_change_quantity, problems)
    date = v.get("published_date")  # YAML reads an ISO date as a date; the CSV holds its ISO text
    return {
        "corroboration_id": v["id"],
        "figure_id": v.get("figure"),
        "target_id": v.get("target"),
        "publisher": v["publisher"],
        "title": v["title"],
        "url": v["url"],
        "published_date": date.isoformat() if isinstance(date, dt.date) else date,
        "published_date_note": v.get("published_date_note"),
        "value_text": v.get("value"),
        "value": quantity.value if quantity else None,
        "value_low": quantity.low if quantity else None,
        "value_high": quantity.high if quantity else None,
        "unit": quantity.unit if quantity else None,
        "change_text": v.get("change"),
        "change_percent": change.value if change else None,
        "period": v.get("period"),
        "deadline_year": _parse(record, "deadline", parse_deadline, problems),
        "agrees": None,
        "note": v["note"],
    }


def _overlap(low_a: Any, high_a: Any, low_b: Any, high_b: Any) -> bool:
    """Do [low_a, high_a] and [low_b, high_b] meet? An empty high bound is open."""
    return (high_b is None or float(low_a) <= float(high_b)) and (high_a is None or float(low_b) <= float(high_a))


def change_bounds(text: Any) -> tuple[Any, Any]:
    if not text:
        return None, None
    quantity = parse_change_quantity(str(text))
    return quantity.low, quantity.high


def disagreements(corroboration: Row, claim: Row) -> list[str]:
    """Why an independent value does not agree with the article's figure or target, within both precisions."""
    if corroboration.get("target_id"):
        same = corroboration["deadline_year"] == claim["deadline_year"]
        return [] if same else [f"deadline {corroboration['deadline_year']} vs {claim['deadline_year']}"]
    reasons = []
    if corroboration["unit"] != claim["unit"]:
        reasons.append(f"unit {corroboration['unit']} vs {claim['unit']}")
    if corroboration["period"] is not None and corroboration["period"] != claim["period"]:
        reasons.append(f"period {corroboration['period']} vs {claim['period']}")
    if not _overlap(corroboration["value_low"], corroboration["value_high"], claim["value_low"], claim["value_high"]):
        reasons.append(
            f"value {corroboration['value_text']} ({float(corroboration['value_low']):g} to "
            f"{_bound(corroboration['value_high'])}) vs {claim['figure_text']} ({float(claim['value_low']):g} to "
            f"{_bound(claim['value_high'])})"
        )
    theirs, ours = corroboration.get("change_text"), claim.get("change_text")
    if theirs and ours and not _overlap(*change_bounds(theirs), *change_bounds(ours)):
        reasons.append(f"change {corroboration['change_text']!r} vs {claim['change_text']!r}")
    return reasons


def _bound(value: Any) -> str:
    return "open" if value is None else f"{float(value):g}"


def claim_of(corroboration: Row, tables: dict[str, list[Row]]) -> Row | None:
    """The article row a corroboration speaks to."""
    table, key = ("targets", "target_id") if corroboration.get("target_id") else ("figures", "figure_id")
    wanted = corroboration.get(key)
    return next((row for row in tables.get(table, []) if row[key] == wanted), None)


def check_measures(built: list[tuple[str, Row, Record]], tables: dict[str, list[Row]]) -> list[Problem]:
    """A figure's unit is its measure's unit, and its subject is of the kind the measure applies to."""
    measures = {row["measure_id"]: row for row in tables.get("measures", [])}
    kinds = {row["organization_id"]: row["kind"] for row in tables.get("organizations", [])}
    problems = []
    for table, row, record in built:
        measure = measures.get(row.get("measure")) if table == "figures" else None
        if measure is None:
            continue
        if row["unit"] != measure["unit"]:
            problems.append(
                record.problem(
                    "figure", f"unit {row['unit']} but measure {measure['measure_id']} is in {measure['unit']}"
                )
            )
        kind = kinds.get(row["subject_id"])
        if kind is not None and kind != measure["subject_kind"]:
            applies = f"measure {measure['measure_id']} applies to a {measure['subject_kind']}"
            message = f"subject {row['subject_id']} is a {kind}; {applies}"
            problems.append(record.problem("subject", message))
    return problems
