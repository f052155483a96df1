"""build/review/<slug>.html: the article with every number marked by its state and its record on hover or focus."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from flows.drafting.draft import PROPOSED
from flows.sources.evidence import COVERING_SPANS
from flows.sources.extract import RECORDS_DIR, pending_proposals, read_source
from flows.sources.numbers import FigureParseError, find_number_spans, format_decimal, parse_figure
from flows.sources.periods import date_figure
from flows.sources.records import InputError, Record, load_records

STATES = {
    "figure": "proposed figure",
    "target": "proposed target",
    "excluded": "proposed excluded",
    "name": "proposed name (event, ranking, organization)",
    "reviewed": "reviewed",
    "unaccounted": "unaccounted",
}
_STATE_OF_TABLE = {"figures": "figure", "targets": "target", "excluded_numbers": "excluded"}
STYLE = """
body { font: 16px/1.6 system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
header { border-bottom: 1px solid #ccc; margin-bottom: 1rem; }
.left { font-size: 1.25rem; font-weight: 600; }
.article { white-space: pre-wrap; }
mark { position: relative; padding: 0 2px; border-radius: 3px; cursor: help; }
mark:focus { outline: 2px solid #000; }
.figure { background: #cfe3ff; } .target { background: #ffe0b3; } .excluded { background: #e2e2e2; }
.name { background: #e6d6ff; } .reviewed { background: #c9f0c9; } .unaccounted { background: #ffb3b3; }
.record { display: none; position: absolute; left: 0; top: 1.6em; z-index: 1; width: 26rem; padding: .5rem;
  background: #fff; border: 1px solid #888; box-shadow: 0 2px 6px #0003; font-size: 13px; white-space: normal; }
mark:hover .record, mark:focus .record { display: block; }
.legend mark { margin-right: .5rem; }
"""


def record_spans(folder: Path, text: str) -> list[tuple[int, int, str, Record, str]]:
    """(start, end, table, record, state) for every covering sub-span of every record of the source."""
    spans = []
    for table, keys in COVERING_SPANS.items():
        path = folder / RECORDS_DIR / f"{table}.yaml"
        for record in load_records(path) if path.is_file() else []:
            quote = record.values.get("quote")
            if not isinstance(quote, str) or text.count(quote) != 1:
                continue
            offset = text.index(quote)
            reviewed = record.values.get("status") != PROPOSED
            state = "reviewed" if reviewed else _STATE_OF_TABLE.get(table, "name")
            for key in keys:
                part = record.values.get(key)
                if isinstance(part, str) and quote.count(part) == 1:
                    start = offset + quote.index(part)
                    spans.append((start, start + len(part), table, record, state))
    return spans


def describe_record(table: str, record: Record, text: str, start: int, end: int) -> list[tuple[str, str]]:
    """The facts a reviewer checks: table, id, measure, value, interval, period and basis, confidence, comment."""
    v = record.values
    rows = [("table", table), ("id", str(v.get("id")))]
    if table == "figures":
        rows.append(("measure", str(v.get("measure"))))
        try:
            quantity = parse_figure(str(v.get("figure")))
            high = "open" if quantity.high is None else format_decimal(quantity.high)
            rows += [("value", f"{format_decimal(quantity.value)} {quantity.unit}"),
                     ("interval", f"{format_decimal(quantity.low or quantity.value)} to {high}")]  # fmt: skip
        except FigureParseError as error:
            rows.append(("value", f"does not parse: {error}"))
    if table in ("figures", "targets"):
        dating = date_figure(text, start, end)
        rows.append(("period", f"{dating.year} ({dating.basis})" if dating else "none (no dating phrase)"))
    for key in ("deadline", "reason", "subject", "confidence", "comment", "status"):
        if v.get(key) is not None:
            rows.append((key, str(v[key])))
    return rows


def render_article(text: str, spans: list[tuple[int, int, str, Record, str]]) -> tuple[str, int]:
    """The text, escaped, with a <mark> around every number; returns it and the count unaccounted for."""
    parts, done, unaccounted = [], 0, 0
    for start, end, number in find_number_spans(text):
        if start < done:
            continue
        owner = next((s for s in spans if s[0] <= start and end <= s[1]), None)
        if owner is None:
            unaccounted += 1
            rows = [("state", STATES["unaccounted"]), ("number", number)]
            state, mark_start, mark_end = "unaccounted", start, end
        else:
            mark_start, mark_end, table, record, state = owner
            mark_start = max(mark_start, done)
            rows = [("state", STATES[state]), *describe_record(table, record, text, mark_start, mark_end)]
        detail = "".join(f"<b>{html.escape(k)}</b>: {html.escape(val)}<br>" for k, val in rows)
        parts.append(html.escape(text[done:mark_start]))
        parts.append(f'<mark class="{state}" tabindex="0" data-state="{state}">{html.escape(text[mark_start:mark_end])}'
                     f'<span class="record" role="tooltip">{detail}</span></mark>')  # fmt: skip
        done = mark_end
    parts.append(html.escape(text[done:]))
    return "".join(parts), unaccounted


def review_page(folder: Path) -> str:
    """The whole page: title and origin, a count left to review, a legend and the marked article. Offline: no
    script, no external asset; every text from the page is escaped."""
    source = read_source(folder)
    body, unaccounted = render_article(source.text, record_spans(folder, source.text))
    pending = sum(pending_proposals(folder).values())
    title = html.escape(str(source.origin.get("title")))
    origin = " · ".join(html.escape(f"{key}: {source.origin[key]}") for key in ("site", "author", "url",
                        "published_date") if source.origin.get(key))  # fmt: skip
    legend = "".join(f'<mark class="{state}">{html.escape(label)}</mark>' for state, label in STATES.items())
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Review: {title}</title>'
        f"<style>{STYLE}</style></head><body><header><h1>{title}</h1><p>{origin}</p>"
        f'<p class="left" id="left">{pending} proposals left to review, {unaccounted} numbers unaccounted for</p>'
        f'<p class="legend">{legend}</p></header><div class="article">{body}</div></body></html>\n'
    )


def write_review_page(folder: Path, vocabulary: list[dict[str, Any]], review_dir: Path) -> Path:
    review_dir.mkdir(parents=True, exist_ok=True)
    path = review_dir / f"{folder.name}.html"
    temporary = path.with_suffix(".html.tmp")
    temporary.write_text(review_page(folder), encoding="utf-8")
    temporary.replace(path)
    return path


def write_review_pages(folders: list[Path], review_dir: Path) -> list[Path]:
    """The review pages of these sources (a run writes those held back: a reviewed source needs none, and
    10,000 pages would cost a corpus run seconds); a source whose records do not load is skipped."""
    pages = []
    for folder in folders:
        try:
            pages.append(write_review_page(folder, [], review_dir))
        except InputError:
            continue
    return pages
