"""Score a draft against hand-written records: precision, recall and F1 for figures and targets at five levels,
and how many excluded numbers the draft rejected for the right reason."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.drafting.draft import Proposal, draft_text
from flows.sources.numbers import format_decimal, parse_figure, parse_year
from flows.sources.records import load_records

LEVELS = ("span", "value", "value+unit", "value+unit+period", "+measure")


@dataclass(frozen=True)
class Item:
    """A figure or target (hand-written or drafted) reduced to what is scored."""

    start: int
    end: int
    value: str | None
    unit: str | None
    period: int | None
    measure: str | None


def expected_reason(reason: str) -> str:
    """The exclusion reason (flows/drafting/classify.py) a hand-written excluded number's reason text means."""
    rules = (
        (r"reading time", "reading_time"),
        (r"one of", "one_of"),
        (r"[Pp]ronoun", "pronoun"),
        (r"\bname\b", "name"),
        (r"set in YYYY|Dates the target|time span|timeframe|time in", "period_phrase"),
        (r"no stated figure|[Vv]ague .*quantity", "vague"),
        (r"\bdate\b|timestamp", "date"),
    )
    return next((kind for pattern, kind in rules if re.search(pattern, reason)), "rhetorical")


def located(text: str, quote: str, part: str) -> tuple[int, int]:
    start = text.index(quote) + quote.index(part)
    return start, start + len(part)


def gold_items(text: str, records_dir: Path) -> dict[str, list[Item]]:
    """The hand-written figures and targets as Items, and excluded numbers with their expected reason."""
    items: dict[str, list[Item]] = {"figures": [], "targets": []}
    for record in load_records(records_dir / "figures.yaml"):
        v = record.values
        quantity = parse_figure(v["figure"])
        period = parse_year(v["period"]) if v.get("period") else None
        start, end = located(text, v["quote"], v["figure"])
        items["figures"].append(Item(start, end, format_decimal(quantity.value), quantity.unit, period, v["measure"]))
    for record in load_records(records_dir / "targets.yaml"):
        v = record.values
        period = parse_year(v["period"]) if v.get("period") else None
        start, end = located(text, v["quote"], v["deadline"])
        items["targets"].append(Item(start, end, v["deadline"][-4:], "year", period, None))
    return items


def draft_items(proposals: list[Proposal]) -> dict[str, list[Item]]:
    items: dict[str, list[Item]] = {"figures": [], "targets": []}
    for proposal in proposals:
        if proposal.table in items:
            s = proposal.summary
            dated = s.get("dated_year")
            items[proposal.table].append(
                Item(proposal.start, proposal.end, s.get("value"), s.get("unit"), dated, s.get("measure"))
            )
    return items


def agrees(gold: Item, drafted: Item, level: str) -> bool:
    if level == "span":
        return (gold.start, gold.end) == (drafted.start, drafted.end)
    if not (gold.start < drafted.end and drafted.start < gold.end) or gold.value != drafted.value:
        return False
    checks = {"value": 0, "value+unit": 1, "value+unit+period": 2, "+measure": 3}[level]
    pairs = [(gold.unit, drafted.unit), (gold.period, drafted.period), (gold.measure, drafted.measure)]
    return all(a == b for a, b in pairs[:checks])


def score_level(gold: list[Item], drafted: list[Item], level: str) -> dict[str, float]:
    """Precision, recall and F1 in percent: each drafted item matches at most one hand-written one."""
    unused = list(drafted)
    hits = 0
    for item in gold:
        match = next((d for d in unused if agrees(item, d, level)), None)
        if match is not None:
            unused.remove(match)
            hits += 1
    precision = 100 * hits / len(drafted) if drafted else 0.0
    recall = 100 * hits / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 1), "recall": round(recall, 1), "f1": round(f1, 1)}


def score_excluded(text: str, records_dir: Path, proposals: list[Proposal]) -> dict[str, Any]:
    """How many hand-excluded numbers the draft excluded, and for the right reason; which it got wrong."""
    drafted = {p.start: p.summary.get("reason") for p in proposals if p.table == "excluded_numbers"}
    right, wrong = 0, []
    records = load_records(records_dir / "excluded_numbers.yaml")
    for record in records:
        v = record.values
        start, _ = located(text, v["quote"], v["number"])
        want = expected_reason(v["reason"])
        got = drafted.get(start)
        if got == want:
            right += 1
        else:
            wrong.append(f"{v['id']}: wanted {want}, drafted {got or 'not excluded'}")
    return {"total": len(records), "right": right, "wrong": wrong}


def score_source(folder: Path, measures_file: Path) -> dict[str, Any]:
    """Draft a source from its snapshot alone and score it against its hand-written records."""
    text = (folder / "article.txt").read_text(encoding="utf-8")
    measures = [record.values for record in load_records(measures_file)]
    began = time.perf_counter()
    proposals = draft_text(text, measures)
    seconds = time.perf_counter() - began
    gold, drafted = gold_items(text, folder / "records"), draft_items(proposals)
    scores = {table: {level: score_level(gold[table], drafted[table], level) for level in LEVELS} for table in gold}
    return {"scores": scores, "excluded": score_excluded(text, folder / "records", proposals), "seconds": seconds,
            "words": len(text.split()), "proposals": len(proposals)}  # fmt: skip


def long_article(text: str, words: int = 2000) -> str:
    """The text, followed by synthetic corpus articles (flows/sources/corpus.py) until it has `words` words."""
    from flows.sources.corpus import source_files

    parts, index = [text], 0
    while sum(len(part.split()) for part in parts) < words:
        parts.append(source_files(index)["article.txt"])
        index += 1
    return "\n\n".join(parts)


def time_draft(text: str, measures: list[dict[str, Any]], repeats: int = 5) -> float:
    """Seconds to draft the text, the best of `repeats` (the first pays for compiling the patterns)."""
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        draft_text(text, measures)
        best = min(best, time.perf_counter() - began)
    return best


def format_scores(result: dict[str, Any]) -> list[str]:
    lines = [f"  {'table':8} {'level':18} {'precision':>9} {'recall':>7} {'F1':>6}"]
    for table, levels in result["scores"].items():
        for level, score in levels.items():
            if table == "targets" and level == "+measure":
                continue  # a target has a goal, not a measure
            lines.append(f"  {table:8} {level:18} {score['precision']:9.1f} {score['recall']:7.1f} {score['f1']:6.1f}")
    excluded = result["excluded"]
    lines.append(f"  excluded numbers rejected for the right reason: {excluded['right']} of {excluded['total']}")
    lines += [f"    {wrong}" for wrong in excluded["wrong"]]
    return lines
