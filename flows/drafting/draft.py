"""Propose a record for every number of an article: figures, targets, events, rankings and excluded numbers, each
marked `status: proposed` with a confidence and a comment saying why it was guessed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from flows.drafting.classify import EXCLUSION_REASONS, Reading, classify_numbers
from flows.drafting.subjects import Subjects, slug_of
from flows.sources.numbers import FigureParseError, find_years, format_decimal, parse_figure
from flows.sources.periods import NONE, date_figure

PROPOSED = "proposed"
_STOP = {"the", "a", "an", "of", "in", "and", "to", "its", "their", "has", "have", "had", "was", "were", "is",
         "are", "by", "for", "on", "with", "at", "as", "that", "this", "it", "be", "been", "from",
         "reached"}  # fmt: skip
_WORD = re.compile(r"[A-Za-z]+")
_SENTENCE_END = re.compile(r"[.!?][\"\u201d\u2019]?\s+|\n")


@dataclass
class Proposal:
    """One proposed record, where its number sits in the text, and what the JSON Lines output shows of it."""

    table: str
    record: dict[str, Any]
    start: int
    end: int
    summary: dict[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """A crude stem, enough to match 'invest' with 'investment' and 'parks' with 'park'."""
    word = word.lower()
    for suffix in ("ments", "ment", "ings", "ing", "ed", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 3 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def words_of(text: str) -> set[str]:
    return {stem(word) for word in _WORD.findall(text) if word.lower() not in _STOP}


def sentence_span(text: str, offset: int) -> tuple[int, int]:
    """The sentence holding offset (sentences end at . ! ? before whitespace, or at a line break), without
    the bullet or indentation a line starts with."""
    begin = 0
    for match in _SENTENCE_END.finditer(text, 0, offset):
        begin = match.end()
    after = _SENTENCE_END.search(text, offset)
    finish = after.start() + (1 if text[after.start()] in ".!?" else 0) if after else len(text)
    if after and text[after.start() + 1 : after.start() + 2] in ("\u201d", '"', "\u2019"):
        finish += 1
    while begin < finish and text[begin] in " \t•*-\u00a0":
        begin += 1
    return begin, finish


def unique_quote(text: str, begin: int, finish: int) -> tuple[int, int]:
    """Widen a quote sentence by sentence until it occurs exactly once in the text (a quote must)."""
    while text.count(text[begin:finish]) > 1 and finish < len(text):
        finish = sentence_span(text, min(len(text) - 1, finish + 1))[1]
    return begin, finish


def unique_phrase(quote: str, offset: int, length: int) -> str:
    """The phrase at quote[offset:offset+length], widened leftwards word by word until it occurs once."""
    begin = offset
    while quote.count(quote[begin : offset + length]) > 1 and begin > 0:
        begin = quote.rfind(" ", 0, begin - 1) + 1 if quote.rfind(" ", 0, begin - 1) >= 0 else 0
    return quote[begin : offset + length]


def match_measure(context: str, unit: str, measures: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, float]:
    """The vocabulary measure whose label (and, weaker, definition) shares most words with the number's context,
    among those in the figure's unit; None when no label word is shared."""
    found = words_of(context)
    best, best_score = None, 0.0
    for measure in measures:
        if measure.get("unit") != unit:
            continue
        label = words_of(str(measure.get("label", ""))) | words_of(str(measure.get("id", "")).replace("_", " "))
        definition = words_of(str(measure.get("definition", ""))) - label
        matched = len(label & found)  # the share of the label found counts most, then the definition's words
        score = matched / len(label) + 0.1 * matched + 0.3 * len(definition & found) if matched else 0.0
        if score > best_score:
            best, best_score = measure, score
    return best, best_score


def context_of(text: str, reading: Reading, sentence: tuple[int, int], neighbours: list[Reading]) -> str:
    """The words around a number that name what it counts: from the number before it (or the sentence start)
    to the number after it (or the sentence end), at most ten words each way."""
    begin = max([r.span[1] for r in neighbours if sentence[0] <= r.span[1] <= reading.start] + [sentence[0]])
    finish = min([r.start for r in neighbours if reading.span[1] <= r.start <= sentence[1]] + [sentence[1]])
    before = re.split(r"[;\u2013\u2014]", text[begin : reading.span[0]])[-1].split()[-10:]  # within the clause
    after = re.split(r"[;\u2013\u2014]", text[reading.span[1] : finish])[0].split()[:10]
    return " ".join(before + after)


def new_measure(text: str, reading: Reading, unit: str) -> dict[str, Any]:
    """A measure to add to the vocabulary, named from the words right after the number."""
    after = [w for w in _WORD.findall(text[reading.span[1] : reading.span[1] + 80])[:4] if w.lower() not in _STOP]
    label = " ".join(after[:3]).capitalize() or "Unnamed measure"
    return {"id": re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") or "unnamed", "label": label,
            "definition": "TO WRITE: what the measure counts, in the project's own words.", "unit": unit,
            "subject_kind": "city", "status": PROPOSED, "confidence": 0.3,
            "comment": "No vocabulary measure shares a word with the text around the number."}  # fmt: skip


def draft_text(text: str, measures: list[dict[str, Any]]) -> list[Proposal]:
    """A proposal for every number of the text (numbers inside another's record share that record)."""
    readings = classify_numbers(text)
    subjects = Subjects(text)
    proposals: list[Proposal] = []
    seen: set[tuple[int, int]] = set()
    for reading in readings:
        if reading.span in seen or reading.kind in ("change", "dating"):
            continue
        seen.add(reading.span)
        build = BUILDERS.get(reading.kind, propose_excluded)
        proposals.extend(build(text, reading, readings, subjects, measures))
    proposals.extend(subjects.proposals(PROPOSED))
    return proposals


def propose_figure(text: str, reading: Reading, readings: list[Reading], subjects: Subjects,
                   measures: list[dict[str, Any]]) -> list[Proposal]:  # fmt: skip
    figure = text[reading.span[0] : reading.span[1]]
    try:
        quantity = parse_figure(figure)
    except FigureParseError:
        return propose_excluded(text, reading, readings, subjects, measures, "rhetorical")
    sentence = sentence_span(text, reading.start)
    context = context_of(text, reading, sentence, [r for r in readings if r is not reading])
    measure, score = match_measure(context, quantity.unit, measures)
    if measure is None and not reading.number[0].isdigit():
        return propose_excluded(text, reading, readings, subjects, measures, "rhetorical")
    dating = date_figure(text, *reading.span)
    begin = min(sentence[0], sentence_span(text, dating.start)[0]) if dating else sentence[0]
    begin, finish = unique_quote(text, begin, sentence[1])
    quote = text[begin:finish]
    subject = subjects.subject_at(reading.start, sentence)
    extra = new_measure(text, reading, quantity.unit) if measure is None else None
    measure_id = str((measure or extra or {}).get("id"))
    record: dict[str, Any] = {"id": "", "subject": subject, "measure": measure_id, "figure": figure}
    if dating:
        record["period"] = unique_phrase(quote, dating.start - begin, dating.end - dating.start)
    change = change_of(reading, readings)
    if change and text[change.span[0] : change.span[1]] in quote:
        record["change"] = text[change.span[0] : change.span[1]]
    record["quote"] = quote
    confidence = round(min(0.95, 0.4 + 0.3 * score) if measure else 0.3, 2)
    why = [f"measure {measure_id}: " + ("no vocabulary measure matched; a new one is proposed" if extra
           else f"words near the number match its label (score {score:g})"), f"unit {quantity.unit} by the grammar",
           f"period {dating.basis} from {text[dating.start:dating.end]!r}" if dating else "no dating phrase",
           f"subject {subject}: {subjects.why(subject)}"]  # fmt: skip
    if quote.count(figure) > 1:  # a record's figure must occur once in its quote: the reviewer narrows one
        confidence, why = 0.2, [*why, f"{figure!r} occurs {quote.count(figure)} times in the quote: narrow the quote"]
    record |= {"status": PROPOSED, "confidence": confidence, "comment": "; ".join(why)}
    record["id"] = slug_of(f"{subject}-{dating.year if dating else 'undated'}-{measure_id}")
    summary = {"figure": figure, "value": format_decimal(quantity.value), "unit": quantity.unit, "measure": measure_id,
               "subject": subject, "period": dating.year if dating else None,
               "period_basis": dating.basis if dating else NONE, "low": quantity.low, "high": quantity.high,
               "quote_offset": begin, "dated_year": dating.year if dating else None}  # fmt: skip
    proposals = [Proposal("figures", record, *reading.span, summary)]
    if extra:
        proposals.append(Proposal("measures", extra, *reading.span, {"measure": extra["id"]}))
    return proposals


def change_of(figure: Reading, readings: list[Reading]) -> Reading | None:
    """The change ('an increase of 12 percent') right after the figure: the next reading, if it is one."""
    later = [r for r in readings if r.start > figure.span[1] - 1 and r.kind != "dating"]
    return later[0] if later and later[0].kind == "change" else None


def propose_target(text: str, reading: Reading, readings: list[Reading], subjects: Subjects,
                   measures: list[dict[str, Any]]) -> list[Proposal]:  # fmt: skip
    sentence = sentence_span(text, reading.start)
    deadline = text[reading.span[0] : reading.span[1]]
    head = text[sentence[0] : reading.span[0]]
    lead = re.search(
        r"\b(?:targets?|plans?|planned|goals?|aims?|strives?|vows?|pledges?)\s+(?:of\s+|is\s+)?to\s+", head
    )
    goal_text = head[lead.end() :].strip(" ,") if lead else head.strip(" ,")
    dating = date_figure(text, *reading.span)
    begin, finish = unique_quote(
        text, min(sentence[0], sentence_span(text, dating.start)[0]) if dating else sentence[0], sentence[1]
    )
    quote = text[begin:finish]
    subject = subjects.subject_at(reading.start, sentence)
    record: dict[str, Any] = {"id": slug_of(f"{subject}-target-{find_years(deadline)[0]}"), "subject": subject,
                              "goal": goal_text[:1].upper() + goal_text[1:].replace("\u2019", "'"),
                              "goal_text": goal_text, "deadline": deadline}  # fmt: skip
    if dating:
        record["period"] = unique_phrase(quote, dating.start - begin, dating.end - dating.start)
    record |= {"quote": quote, "status": PROPOSED, "confidence": 0.7,
               "comment": f"'{deadline}' gives a deadline year; the goal is the words before it"}  # fmt: skip
    summary = {"figure": deadline, "value": str(find_years(deadline)[0]), "unit": "year", "measure": None,
               "subject": subject, "period": find_years(deadline)[0],
               "period_basis": dating.basis if dating else NONE,
               "dated_year": dating.year if dating else None}  # fmt: skip
    return [Proposal("targets", record, *reading.span, summary)]


def propose_name(text: str, reading: Reading, readings: list[Reading], subjects: Subjects,
                 measures: list[dict[str, Any]]) -> list[Proposal]:  # fmt: skip
    name = text[reading.span[0] : reading.span[1]]
    sentence = sentence_span(text, reading.start)
    quote = text[slice(*unique_quote(text, *sentence))]
    why = f"the year {reading.number} is part of the name {name!r}"
    common = {"quote": quote, "status": PROPOSED, "confidence": reading.confidence, "comment": why}
    if reading.kind == "event":
        record = {"id": slug_of(name), "name": name, "name_text": name, "description": "TO WRITE", **common}
        return [Proposal("events", record, *reading.span, {"figure": name})]
    recipient = subjects.subject_at(reading.start, sentence)
    record = {"id": slug_of(f"{recipient}-{name}")[:80].strip("-"), "recipient": recipient, "kind": "ranking",
              "title": name, "title_text": name, **common}  # fmt: skip
    return [Proposal("recognitions", record, *reading.span, {"figure": name, "subject": recipient})]


def propose_excluded(text: str, reading: Reading, readings: list[Reading], subjects: Subjects,
                     measures: list[dict[str, Any]], reason: str | None = None) -> list[Proposal]:  # fmt: skip
    kind = reason or reading.reason or "rhetorical"
    sentence = sentence_span(text, reading.start)
    begin, finish = unique_quote(text, *sentence)
    number = text[reading.span[0] : reading.span[1]] if kind == "conversion" else reading.number
    quote = text[begin:finish]
    record = {"id": slug_of(f"excluded-{number}-{' '.join(text[reading.end:reading.end + 30].split()[:3])}"),
              "number": unique_phrase(quote, reading.span[0] - begin, len(number)) if kind != "conversion" else number,
              "quote": quote, "reason": EXCLUSION_REASONS[kind], "status": PROPOSED,
              "confidence": reading.confidence, "comment": f"excluded as {kind}"}  # fmt: skip
    return [Proposal("excluded_numbers", record, *reading.span, {"figure": number, "reason": kind})]


BUILDERS = {"figure": propose_figure, "deadline": propose_target, "event": propose_name, "recognition": propose_name}


def proposal_lines(proposals: list[Proposal]) -> list[dict[str, Any]]:
    """The JSON Lines view of the proposals (`valley draft --format json`), in text order."""
    lines = []
    for proposal in sorted(proposals, key=lambda p: p.start):
        if proposal.table in ("organizations", "measures"):
            continue
        record, summary = proposal.record, proposal.summary
        quote, figure = str(record.get("quote", "")), summary.get("figure")
        lines.append({"table": proposal.table, "quote": quote, "figure": figure,
                      "figure_start": proposal.start - summary["quote_offset"]
                      if figure and quote.count(str(figure)) > 1 and "quote_offset" in summary else None,
                      "value": summary.get("value"), "unit": summary.get("unit"), "measure": summary.get("measure"),
                      "subject": summary.get("subject"), "period": summary.get("period"),
                      "period_basis": summary.get("period_basis"), "confidence": record.get("confidence"),
                      "reason": summary.get("reason") or record.get("comment")})  # fmt: skip
    return lines
