"""Consistency audits that weigh precision and period basis: year-on-year changes, figures stated twice, and
independent sources. Each finding row says its basis, and its `finding` value decides its severity:
a disagreement no reading explains is a warning only when every period involved is stated; one that rounding
explains, or that rests on an inferred period, is info."""

from __future__ import annotations

from typing import Any

from flows.steps.corroborate import claim_of, disagreements
from flows.steps.numbers import FigureParseError, parse_change_quantity, within
from flows.steps.periods import STATED

Row = dict[str, Any]
Tables = dict[str, list[Row]]
# relative tolerance when comparing an implied value with a bound (floating point, not precision)
EPSILON = 1e-9


def main_figures(tables: Tables) -> dict[tuple[Any, Any, Any], Row]:
    """The figures that are not restatements, by subject, measure and period."""
    return {
        (row["subject_id"], row["measure"], row["period"]): row
        for row in tables.get("figures", [])
        if row["same_as"] is None and row["period"] is not None
    }


def describe_amount(value: float, unit: str) -> str:
    """97920000000 CNY -> '97.9 billion'; 25.04 percent -> '25.0%'; counts with separators."""
    if unit == "percent":
        return f"{value:.1f}%"
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if abs(value) >= size:
            return f"{value / size:.1f} {word}"
    return f"{value:,.1f}"


def _inside(value: float, low: Any, high: Any) -> bool:
    slack = abs(value) * EPSILON
    return within(value, None if low is None else float(low) - slack, None if high is None else float(high) + slack)


def rounding_readings(previous: Row, current: Row) -> list[str]:
    """Readings in which one round figure is rounded and the others are as stated, roundest first, that agree."""
    change = float(current["change_percent"])
    implied = {
        previous["figure_id"]: float(current["value"]) / (1 + change / 100),
        current["figure_id"]: float(previous["value"]) * (1 + change / 100),
    }
    round_rows = [r for r in (previous, current) if r["qualifier"] == "exact" and float(r["rounding_step"]) > 0]
    round_rows.sort(key=lambda r: float(r["rounding_step"]) / float(r["value"]), reverse=True)
    return [
        f"{row['figure_text']} is rounded (implied {describe_amount(implied[row['figure_id']], row['unit'])})"
        for row in round_rows
        if _inside(implied[row["figure_id"]], row["value_low"], row["value_high"])
    ]


def year_of(row: Row) -> str:
    return "undated" if row["period"] is None else str(int(row["period"]))


def period_bases(*rows: Row) -> str:
    return ", ".join(f"{year_of(row)} {row['period_basis']}" for row in rows)


def year_on_year_row(previous: Row, current: Row) -> Row:
    """One stated change judged against both years' values, with every reading of their precision."""
    computed = (float(current["value"]) / float(previous["value"]) - 1) * 100
    try:
        change = parse_change_quantity(current["change_text"] or "")
        as_stated = _inside(computed, change.low, change.high)
    except FigureParseError:
        as_stated = False  # the evidence suite reports the unparseable text; here it cannot agree
    readings = [] if as_stated else rounding_readings(previous, current)
    inferred = any(row["period_basis"] != STATED for row in (previous, current))
    finding = "agrees" if as_stated else "agrees_if_rounded" if readings else "disagrees"
    if finding == "disagrees" and inferred:
        finding = "disagrees_inferred_period"
    detail = (
        f"stated {float(current['change_percent']):g}%, computed {computed:.1f}% from {previous['figure_text']} "
        f"({year_of(previous)}) to {current['figure_text']} ({year_of(current)})"
    )
    if readings:
        detail += "; consistent if " + " or if ".join(readings)
    elif not as_stated:
        detail += "; no reading of their precision agrees"
    detail += f"; periods: {period_bases(previous, current)}"
    return {
        "table": "figures", "key": current["figure_id"], "field": "change_percent",
        "stated": float(current["change_percent"]), "computed": round(computed, 3),
        "previous_key": previous["figure_id"], "finding": finding, "detail": detail,
    }  # fmt: skip


def audit_year_on_year(tables: Tables) -> list[Row]:
    """Stated year-on-year change beside the change computed from the previous year's value, where both exist."""
    by_year = main_figures(tables)
    out = []
    for (subject, measure, period), row in sorted(by_year.items(), key=lambda item: str(item[0])):
        previous = by_year.get((subject, measure, period - 1))
        if row["change_percent"] is None or previous is None or not float(previous["value"]):
            continue
        out.append(year_on_year_row(previous, row))
    return out


def _pair_finding(row: Row, other: Row, clash: bool, name: str) -> str:
    """'agrees', or the clash's name, with '_inferred_period' when a period involved is only inferred."""
    if not clash:
        return "agrees"
    inferred = any(r["period_basis"] != STATED and r["period"] is not None for r in (row, other))
    return f"{name}_inferred_period" if inferred else name


def audit_figure_pairs(tables: Tables) -> list[Row]:
    """Restatements agree with what they restate; the same figure stated twice without a link is flagged."""
    figures = {row["figure_id"]: row for row in tables.get("figures", [])}
    out = []
    for row in figures.values():
        main = figures.get(row["same_as"]) if row["same_as"] else None
        if main is not None:
            clash = row["period"] is not None and row["period"] != main["period"]
            out.append({
                "table": "figures", "key": row["figure_id"], "field": "same_as", "other_key": main["figure_id"],
                "value_matches": float(row["value"]) == float(main["value"]),
                "unit_matches": row["unit"] == main["unit"] and row["subject_id"] == main["subject_id"]
                and row["measure"] == main["measure"],
                "finding": _pair_finding(row, main, clash, "other_period"),
                "detail": f"restates {main['figure_id']}: value {row['value']} vs {main['value']}, "
                f"periods: {period_bases(row, main)}",
            })  # fmt: skip
    mains = sorted((r for r in figures.values() if r["same_as"] is None), key=lambda r: r["figure_id"])
    for index, row in enumerate(mains):
        for other in mains[index + 1 :]:
            keys = ("subject_id", "measure", "unit")
            if [row[k] for k in keys] != [other[k] for k in keys] or float(row["value"]) != float(other["value"]):
                continue
            out.append({
                "table": "figures", "key": other["figure_id"],
                "field": "value" if row["period"] == other["period"] else "period", "other_key": row["figure_id"],
                "value_matches": None, "unit_matches": None,
                "finding": _pair_finding(row, other, True, "unlinked"),
                "detail": f"{other['figure_text']} stated as {other['figure_id']} and as {row['figure_id']} "
                f"without a same_as link; periods: {period_bases(other, row)}",
            })  # fmt: skip
    return out


def _citation(row: Row) -> str:
    date = row.get("published_date") or "date unknown"
    return f"{row['publisher']}, '{row['title']}' ({date}, {row['url']})"


def audit_corroborations(tables: Tables) -> list[Row]:
    """Each independent source against the article row it speaks to, within both precisions."""
    sources = {row["source_id"]: row for row in tables.get("sources", [])}
    out = []
    for row in tables.get("corroborations", []):
        claim = claim_of(row, tables)
        reasons = disagreements(row, claim) if claim else ["speaks to no article row"]
        article = sources.get(row["source_id"], {})
        claim_key = row["figure_id"] or row["target_id"]
        out.append({
            "table": "corroborations", "key": row["corroboration_id"], "field": "value",
            "agrees": not reasons, "stored_matches": bool(row["agrees"]) == (not reasons),
            "detail": f"article '{article.get('title')}' ({article.get('site') or 'publisher unknown'}) "
            f"row {claim_key} vs {_citation(row)}: " + ("; ".join(reasons) or "agrees within both precisions"),
        })  # fmt: skip
    return out
