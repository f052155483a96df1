"""Evidence records -> rows: each record's quote located in its source, sub-spans checked, values parsed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.sources.numbers import (
    FigureParseError,
    find_number_spans,
    find_years,
    parse_change,
    parse_deadline,
    parse_figure,
    parse_year,
)
from flows.sources.periods import NONE, OVERRULED, Dating, date_figure, describe_dating, refuse_overrule
from flows.sources.records import Problem, Record
from flows.sources.suggest import closest_name, describe_difference

Row = dict[str, Any]

RECORD_KEYS: dict[str, tuple[set[str], set[str]]] = {
    "organizations": ({"id", "name", "kind", "name_text", "quote", "description"}, {"note"}),
    "events": ({"id", "name", "name_text", "quote", "description"}, {"note"}),
    "figures": (
        {"id", "subject", "measure", "figure", "quote"},
        {"period", "period_overruled", "change", "same_as", "note"},
    ),
    "targets": (
        {"id", "subject", "goal", "goal_text", "deadline", "quote"},
        {"period", "period_overruled", "same_as", "note"},
    ),
    "recognitions": (
        {"id", "recipient", "kind", "title", "title_text", "quote"},
        {"awarded_by", "event", "note"},
    ),
    "quotes": (
        {"id", "speaker", "role", "organization", "speech", "statement", "quote", "occasion"},
        {"event", "note"},
    ),
    "slogans": ({"id", "text", "medium", "quote"}, {"note"}),
    "excluded_numbers": ({"id", "number", "quote", "reason"}, {"note"}),
}
# what `valley draft` marks a proposal with; a reviewed record may keep them (`status: reviewed`)
REVIEW_KEYS = {"status", "confidence", "comment"}
for _required, _optional in RECORD_KEYS.values():
    _optional |= REVIEW_KEYS
# sub-spans that account for the numbers inside them (coverage); quotes and slogans account for none
COVERING_SPANS = {
    "organizations": ("name_text",),
    "events": ("name_text",),
    "figures": ("figure", "period", "change"),
    "targets": ("goal_text", "deadline", "period"),
    "recognitions": ("title_text",),
    "excluded_numbers": ("number",),
}


@dataclass(frozen=True)
class Source:
    source_id: str
    folder: Path
    text: str
    origin: dict[str, Any]


class Evidence:
    """Locates a record's quote in the source and its sub-spans in the quote, collecting problems."""

    def __init__(self, record: Record, source: Source, problems: list[Problem]):
        self.record, self.source, self.problems = record, source, problems
        self.offset = self._locate_quote()
        self.covered: list[tuple[int, int]] = []
        self.positions: dict[str, tuple[int, int]] = {}  # where each sub-span sits in the source text

    def _locate_quote(self) -> int | None:
        quote = self.record.values.get("quote")
        if not isinstance(quote, str) or not quote:
            return None
        count = self.source.text.count(quote)
        if count != 1:
            where = "does not occur" if count == 0 else f"occurs {count} times"
            difference = describe_difference(quote, self.source.text) if count == 0 else None
            fix = difference or (f"{_shorten(quote)}" + ("; lengthen it until it is unique" if count else ""))
            self.fail(
                "quote",
                f"{where} in {self.source.folder.name}/{self.source.origin['snapshot']}: "
                f"a quote must occur exactly once, verbatim ({fix})",
            )
            return None
        return self.source.text.index(quote)

    def fail(self, key: str | None, message: str) -> None:
        self.problems.append(self.record.problem(key, message))

    def span(self, key: str) -> str | None:
        """The record's sub-span `key`, which must occur exactly once inside its quote."""
        text = self.record.values.get(key)
        if text is None or self.offset is None:
            return text
        quote = self.record.values["quote"]
        if not isinstance(text, str) or quote.count(text) != 1:
            count = quote.count(text) if isinstance(text, str) else 0
            self.fail(key, f"{_shorten(str(text))} must occur exactly once in the quote, found {count}")
            return None
        start = self.offset + quote.index(text)
        self.covered.append((start, start + len(text)))
        self.positions[key] = (start, start + len(text))
        return text

    def period_basis(self, anchor: str) -> str:
        """Apply the period policy (flows/sources/periods.py) to the sub-span `anchor`: the record's `period`
        must contain the dating phrase the policy picks, or be absent when the policy finds none."""
        if anchor not in self.positions:
            return NONE
        dating = date_figure(self.source.text, *self.positions[anchor])
        if "period_overruled" in self.record.values:
            return self.overrule_period(anchor, dating)
        period = self.positions.get("period")
        if dating is None and period is not None:
            self.fail("period", f"the period policy finds no dating phrase for this {anchor}; drop `period`")
        elif dating is not None and (period is None or not period[0] <= dating.start < dating.end <= period[1]):
            self.fail(
                "period",
                f"the period policy dates this {anchor} {describe_dating(dating, self.source.text)}: "
                "`period` must contain that phrase (extend the quote to reach it)",
            )
        return dating.basis if dating else NONE

    def overrule_period(self, anchor: str, dating: Dating | None) -> str:
        """A reviewer's `period_overruled: <reason>`: the row is undated, if the policy allows it (periods.py)."""
        values = self.record.values
        refused = refuse_overrule(anchor, dating, values["period_overruled"], values.get("period"), self.source.text)
        if refused:
            self.fail(*refused)
        return OVERRULED

    def parse(self, key: str, parser: Callable[[str], Any], text: str | None) -> Any:
        if text is None:
            return None
        try:
            return parser(text)
        except FigureParseError as error:
            self.fail(key, str(error))
            return None


def _shorten(text: str, width: int = 70) -> str:
    return repr(text if len(text) <= width else text[: width - 3] + "...")


def evidence_columns(record: Record, evidence: Evidence) -> Row:
    return {"evidence_quote": record.values["quote"], "evidence_offset": evidence.offset}


def build_organization(record: Record, ev: Evidence) -> Row:
    v = record.values
    return {
        "organization_id": v["id"],
        "name": v["name"],
        "kind": v["kind"],
        "description": v["description"],
        "name_text": ev.span("name_text"),
        "note": v.get("note"),
    }


def build_event(record: Record, ev: Evidence) -> Row:
    v = record.values
    name_text = ev.span("name_text")
    return {
        "event_id": v["id"],
        "name": v["name"],
        "year": ev.parse("name_text", parse_year, name_text),
        "description": v["description"],
        "name_text": name_text,
        "note": v.get("note"),
    }


def build_figure(record: Record, ev: Evidence) -> Row:
    v = record.values
    figure_text, period_text, change_text = ev.span("figure"), ev.span("period"), ev.span("change")
    quantity = ev.parse("figure", parse_figure, figure_text)
    return {
        "figure_id": v["id"],
        "subject_id": v["subject"],
        "measure": v["measure"],
        "period": ev.parse("period", parse_year, period_text),
        "period_basis": ev.period_basis("figure"),
        "period_overruled": v.get("period_overruled"),
        "value": quantity.value if quantity else None,
        "value_low": quantity.low if quantity else None,
        "value_high": quantity.high if quantity else None,
        "rounding_step": quantity.step if quantity else None,
        "unit": quantity.unit if quantity else None,
        "qualifier": quantity.qualifier if quantity else None,
        "change_percent": ev.parse("change", parse_change, change_text),
        "same_as": v.get("same_as"),
        "figure_text": figure_text,
        "period_text": period_text,
        "change_text": change_text,
        "note": v.get("note"),
    }


def build_target(record: Record, ev: Evidence) -> Row:
    v = record.values
    goal_text, deadline_text, period_text = ev.span("goal_text"), ev.span("deadline"), ev.span("period")
    return {
        "target_id": v["id"],
        "subject_id": v["subject"],
        "goal": v["goal"],
        "deadline_year": ev.parse("deadline", parse_deadline, deadline_text),
        "period": ev.parse("period", parse_year, period_text),
        "period_basis": ev.period_basis("deadline"),
        "period_overruled": v.get("period_overruled"),
        "same_as": v.get("same_as"),
        "goal_text": goal_text,
        "deadline_text": deadline_text,
        "period_text": period_text,
        "note": v.get("note"),
    }


def build_recognition(record: Record, ev: Evidence) -> Row:
    v = record.values
    title_text = ev.span("title_text")
    years = find_years(title_text or "")
    if len(years) > 1:
        ev.fail("title_text", f"names {len(years)} years; a recognition has at most one")
    return {
        "recognition_id": v["id"],
        "recipient_id": v["recipient"],
        "kind": v["kind"],
        "title": v["title"],
        "year": years[0] if len(years) == 1 else None,
        "awarded_by_id": v.get("awarded_by"),
        "event_id": v.get("event"),
        "title_text": title_text,
        "note": v.get("note"),
    }


def build_quote(record: Record, ev: Evidence) -> Row:
    v = record.values
    return {
        "quote_id": v["id"],
        "speaker": v["speaker"],
        "role": v["role"],
        "organization_id": v["organization"],
        "event_id": v.get("event"),
        "occasion": v["occasion"],
        "speech": v["speech"],
        "statement": ev.span("statement"),
        "note": v.get("note"),
    }


def build_slogan(record: Record, ev: Evidence) -> Row:
    v = record.values
    return {"slogan_id": v["id"], "text": ev.span("text"), "medium": v["medium"], "note": v.get("note")}


def build_excluded_number(record: Record, ev: Evidence) -> Row:
    v = record.values
    number_text = ev.span("number")
    if number_text is not None and not find_number_spans(number_text):
        ev.fail("number", f"{number_text!r} contains no number")
    return {
        "excluded_number_id": v["id"],
        "number_text": number_text,
        "reason": v["reason"],
        "note": v.get("note"),
    }


BUILDERS: dict[str, Callable[[Record, Evidence], Row]] = {
    "organizations": build_organization,
    "events": build_event,
    "figures": build_figure,
    "targets": build_target,
    "recognitions": build_recognition,
    "quotes": build_quote,
    "slogans": build_slogan,
    "excluded_numbers": build_excluded_number,
}


def check_keys(table: str, record: Record, problems: list[Problem]) -> bool:
    return check_keys_against(table, record, *RECORD_KEYS[table], problems)


def check_keys_against(
    table: str, record: Record, required: set[str], optional: set[str], problems: list[Problem]
) -> bool:
    """Missing required keys and unknown keys, each reported at the record (or the key's line)."""
    keys = set(record.values)
    for key in sorted(required - keys):
        problems.append(record.problem(None, f"missing required field '{key}'"))
    for key in sorted(keys - required - optional):
        closest = closest_name(str(key), required | optional)
        hint = f"did you mean '{closest}'? " if closest else ""
        problems.append(record.problem(key, f"unknown field; {hint}{table} records take {sorted(required | optional)}"))
    return required <= keys
