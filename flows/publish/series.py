"""The release page's series charts: each measure of a subject, year by year, with every source's interval and the
interval they agree on, from the release's own DuckDB file (the measure_series view), as Vega-Lite views."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

# a page is for reading: the series of more than one statement, disputed first, then those most sources speak to,
# at most this many
SHOWN_SERIES = 12
SERIES_ROWS = """
WITH shown AS (
    SELECT measure, subject, unit, bool_or(status = 'disputed') AS disputed, max(source_count) AS sources
    FROM measure_series
    GROUP BY measure, subject, unit
    HAVING sum(len(statements)) > 1
    ORDER BY disputed DESC, sources DESC, measure, subject
    LIMIT $limit
)
SELECT series.measure, coalesce(measures.label, series.measure) AS label, series.subject, series.unit, series.period,
    series.period_basis, series.status, series.agreed_low, series.agreed_high, unnest(series.statements) AS statement
FROM measure_series AS series
JOIN shown USING (measure, subject, unit)
LEFT JOIN measures ON measures.measure_id = series.measure
ORDER BY shown.disputed DESC, shown.sources DESC, series.measure, series.subject, series.period
"""


def read_series(database: Path, limit: int = SHOWN_SERIES) -> list[dict[str, Any]]:
    """One row per statement of the series shown: its series, its year's status and agreed interval, the statement."""
    with duckdb.connect(str(database), read_only=True) as connection:
        cursor = connection.execute(SERIES_ROWS, {"limit": limit})
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (Decimal, int, float)) else None


def chart_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A row per statement for Vega-Lite: where its interval is drawn, and what hovering it says."""
    out, labelled = [], set()
    tops: dict[Any, float] = {}  # where each year's status is written: above its highest interval
    for row in rows:
        bounds = [row["statement"]["value_high"], row["statement"]["value_low"]]
        top = max(_number(v) or 0.0 for v in bounds)
        tops[row["period"]] = max(tops.get(row["period"], top), top)
    for row in rows:
        statement = row["statement"]
        low, high = _number(statement["value_low"]), _number(statement["value_high"])
        interval = f"{low:g} to {'open' if high is None else f'{high:g}'} {row['unit']}"
        out.append(
            {
                "period": row["period"],
                "status": row["status"],
                "source": statement["source"],
                "low": low,
                "high": low if high is None else high,  # an open interval is drawn from its bound, as a triangle
                "open": high is None,
                "middle": low if high is None else (low + high) / 2,  # type: ignore[operator]
                "label": None if row["period"] in labelled else row["status"],
                "top": tops[row["period"]],
                "agreed_low": _number(row["agreed_low"]),
                "agreed_high": _number(row["agreed_high"]),
                "provenance": f"{row['period']}, {statement['source']}: {statement['figure_text']} ({interval}; "
                f"period {statement['period_basis']}; {row['status']})",
            }
        )
        labelled.add(row["period"])
    return out


def series_spec(rows: list[dict[str, Any]], unit: str) -> dict[str, Any]:
    """Years across, a line per source's interval beside the others, the agreed interval shaded behind them."""
    x = {"field": "period", "type": "ordinal", "title": "year", "axis": {"labelAngle": 0}}
    y_axis = {"labelExpr": "format(datum.value, '.3~s')"}
    description = {"field": "provenance"}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": rows},
        "width": 320,
        "height": 220,
        "encoding": {"x": x},
        "layer": [
            {
                "transform": [{"filter": "datum.status === 'agreed'"}],
                "mark": {"type": "bar", "color": "#cfe8cf", "opacity": 0.8},
                "encoding": {
                    "y": {
                        "field": "agreed_low",
                        "type": "quantitative",
                        "title": unit,
                        "axis": y_axis,
                        "scale": {"zero": False},
                    },
                    "y2": {"field": "agreed_high"},
                    "description": {"value": "the interval every source allows"},
                },
            },
            {
                "mark": {"type": "rule", "strokeWidth": 3},
                "encoding": {
                    "xOffset": {"field": "source"},
                    "y": {"field": "low", "type": "quantitative"},
                    "y2": {"field": "high"},
                    "color": {"field": "source", "type": "nominal", "legend": {"orient": "bottom", "columns": 1}},
                    "description": description,
                },
            },
            {
                "mark": {"type": "point", "filled": True, "size": 50},
                "encoding": {
                    "xOffset": {"field": "source"},
                    "y": {"field": "middle", "type": "quantitative"},
                    "color": {"field": "source", "type": "nominal"},
                    "shape": {"condition": {"test": "datum.open", "value": "triangle-up"}, "value": "circle"},
                    "description": description,
                },
            },
            {
                "mark": {"type": "text", "dy": -10, "fontSize": 11, "aria": False},
                "transform": [{"filter": "datum.label != null"}],
                "encoding": {"y": {"field": "top", "type": "quantitative"}, "text": {"field": "label"}},
            },
        ],
        "resolve": {"scale": {"y": "shared"}},
    }


def series_views(database: Path, limit: int = SHOWN_SERIES) -> list[dict[str, Any]]:
    """A Vega-Lite view (as the descriptor's `views` hold them, data inline) for each series shown; none without
    the DuckDB file."""
    if not database.is_file():
        return []
    grouped: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for row in read_series(database, limit):
        grouped.setdefault((row["measure"], row["label"], row["subject"], row["unit"]), []).append(row)
    views = []
    for (measure, label, subject, unit), rows in grouped.items():
        name = "series-" + re.sub(r"[^a-z0-9]+", "-", f"{measure} {subject}".lower()).strip("-")
        views.append(
            {
                "name": name,
                "title": f"{label}: {subject}, from every source",
                "description": f"Each source's interval for each year ({unit}; a triangle bounds from below), the "
                "interval they all allow shaded behind; a disputed year has none.",
                "resources": [],
                "specType": "vega-lite",
                "spec": series_spec(chart_rows(rows), unit),
            }
        )
    return views
