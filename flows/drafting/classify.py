"""Say what each number of an article is: part of a figure, a target's deadline, a name, or not a fact (why)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flows.sources.numbers import QUALIFIERS, UNITS, FigureParseError, find_number_spans, parse_figure

# reasons a number is not a fact, each with the sentence a reviewer reads in excluded_numbers.reason
EXCLUSION_REASONS = {
    "date": "Part of a date or timestamp, not a quantity.",
    "reading_time": "Page furniture giving the estimated reading time, not part of the article's content.",
    "page_furniture": "Page furniture (navigation, counters, captions), not part of the article's content.",
    "ordinal": "An ordinal (a position such as 'first'), not a count.",
    "one_of": "Part of the idiom 'one of the ...', not a count.",
    "pronoun": "The word 'one' used as a pronoun, not a count.",
    "period_phrase": "A period phrase (a span of time or a year dating something else), not a measured fact.",
    "name": "Part of a name (such as '5G'), not a quantity.",
    "vague": "A vague quantity ('millions') with no stated figure.",
    "rhetorical": "A small count in words of nothing the measure vocabulary holds: rhetoric, not a statistic.",
    "conversion": "A conversion of the amount just before it (in brackets), not a figure of its own.",
}
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
          "nov", "dec")  # fmt: skip
_EVENT_WORDS = re.compile(r"\b(Expo|Summit|Forum|Conference|Fair|Festival|Games|Congress|Week|Olympics)\b")
_RANKING_WORDS = re.compile(r"\b(Forbes|Fortune|Awards?|Prize|most|top|best|list|ranking)\b")
_NAME_TOKEN = r"(?:[A-Za-z][\w'\u2019-]*[A-Z][\w'\u2019-]*|[A-Z][\w'\u2019-]*)"
_NAME_AFTER = re.compile(rf"[ \t]+(?:{_NAME_TOKEN}[ \t]+)*{_NAME_TOKEN}")
_NAME_BEFORE = re.compile(rf"(?:{_NAME_TOKEN}[ \t]+)+$")
_QUALIFIER_BEFORE = re.compile(rf"(?:{'|'.join(sorted(QUALIFIERS, key=len, reverse=True))})\s+$", re.I)
_CURRENCY_BEFORE = re.compile(r"(?:RMB|CNY|USD|yuan)\s+$|(?:US\$|\$|¥)\s*$", re.I)
_UNIT_AFTER = re.compile(
    r"^\s*-?\s*(?:" + "|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True)) + r")(?![A-Za-z])",
    re.I,
)
_ABBREVIATION_AFTER = re.compile(r"^\s*(?:mln|mn|bln|bn|tn|trln)\b", re.I)
_DURATION_AFTER = re.compile(r"^[\s-]+(?:years?|months?|weeks?|days?|decades?|hours?)\b(?!\s+(?:old|ago))", re.I)
_CHANGE_BEFORE = re.compile(
    r"(?:(?:an?\s+)?(?:[\w-]+\s+)?(?:increase|growth|rise|decrease|decline|drop)\s+of"
    r"|(?<![\w-])(?:up|down|rose|grew|increased|jumped|climbed|rising|growing|fell|decreased|declined|dropped|falling)"
    r"(?:\s+by)?)\s+$",
    re.I,
)
_YEAR = re.compile(r"(?:19|20)\d\d")


@dataclass(frozen=True)
class Reading:
    """What one number is. `kind`: figure, change, deadline, event, recognition, or excluded (with `reason`)."""

    start: int  # the number as find_number_spans gives it
    end: int
    number: str
    kind: str
    span: tuple[int, int]  # the text the record holds: the figure with its unit, the deadline, the name
    reason: str = ""
    confidence: float = 0.8


def classify_numbers(text: str) -> list[Reading]:
    """A reading for every number find_number_spans finds, in text order."""
    readings: list[Reading] = []
    covered_until = -1
    for start, end, number in find_number_spans(text):
        if start < covered_until and readings:
            last = readings[-1]
            readings.append(Reading(start, end, number, last.kind, last.span, last.reason, last.confidence))
            continue
        reading = read_number(text, start, end, number, readings)
        readings.append(reading)
        covered_until = reading.span[1]
    return readings


def excluded(start: int, end: int, number: str, reason: str, confidence: float = 0.8) -> Reading:
    return Reading(start, end, number, "excluded", (start, end), reason, confidence)


def read_number(text: str, start: int, end: int, number: str, before: list[Reading]) -> Reading:
    """The rules in order, the most specific first; each returns as soon as it knows."""
    left, right = text[max(0, start - 60) : start], text[end : end + 60]
    line_start = text.rfind("\n", 0, start) + 1
    line = text[line_start : (text.find("\n", end) + 1 or len(text) + 1) - 1]
    lower = number.lower()
    if re.match(r"^\s*min(?:ute)?s?\s+read\b", right, re.I):
        return excluded(start, end, number, "reading_time", 0.95)
    if re.match(r"^(?:st|nd|rd|th)\b", right) and number.isdigit():
        return excluded(start, end, number, "ordinal", 0.9)
    if (
        number[0].isdigit()
        and (re.match(r"^[A-Za-z]", right) and not _UNIT_AFTER.match(right))
        and not _ABBREVIATION_AFTER.match(right)
    ):
        return excluded(start, end, number, "name", 0.9)
    if number[0].isdigit() and re.search(r"[A-Za-z]\(?$", left):  # "A380", "alert(3)": inside a name or code
        return excluded(start, end, number, "name", 0.85)
    if is_date(left, right, number):
        return excluded(start, end, number, "date", 0.9)
    if _YEAR.fullmatch(number):
        return read_year(text, start, end, number)
    if is_page_furniture(line):
        return excluded(start, end, number, "page_furniture", 0.6)
    if lower == "one" and re.match(r"^\s+of\b", right):
        return excluded(start, end, number, "one_of", 0.95)
    if lower == "one" and is_pronoun(left, right, number):
        return excluded(start, end, number, "pronoun", 0.85)
    if re.fullmatch(r"(?:tens|dozens|hundreds|thousands|millions|billions|trillions)", lower):
        return excluded(start, end, number, "vague", 0.85)
    if _DURATION_AFTER.match(right) or re.match(r"^\s*years?['\u2019]", right):
        return excluded(start, end, number, "period_phrase", 0.75)
    if re.search(r"\(\s*(?:US\$|\$|USD)\s*$", left) and before and before[-1].kind == "figure":
        return Reading(start, end, number, "excluded", figure_span(text, start, end), "conversion", 0.7)
    if _CHANGE_BEFORE.search(left) and before and before[-1].kind == "figure":
        return Reading(start, end, number, "change", change_span(text, start, end), "", 0.8)
    return Reading(start, end, number, "figure", figure_span(text, start, end), "", 0.8)


def is_date(left: str, right: str, number: str) -> bool:
    """'May 26, 2019', '26 May', '2019-05-26', '10:30': the number is part of a date or a time of day."""
    word_before = re.search(r"([A-Za-z]+)\.?\s*$", left)
    word_after = re.match(r"^\s*([A-Za-z]+)", right)
    if word_before and word_before[1].lower() in MONTHS and re.match(r"^\d{1,2}$|^(?:19|20)\d\d$", number):
        return True
    if word_after and word_after[1].lower() in MONTHS and re.match(r"^\d{1,2}$", number):
        return True
    if re.match(r"^\d", number) and (re.match(r"^[-/:]\d", right) or re.search(r"\d[-/:]$", left)):
        year_range = _YEAR.fullmatch(number) and (
            re.search(r"(?:19|20)\d\d\s*[-\u2013]\s*$", left) or re.match(r"^[-\u2013]\s*(?:19|20)\d\d\b", right)
        )
        return not year_range
    return False


def is_pronoun(left: str, right: str, number: str) -> bool:
    """'One can imagine', 'another one', 'the one that': 'one' standing for a person or a thing."""
    if re.search(r"\b(?:another|the|this|that|each|every|no|any|which|such a)\s+$", left, re.I):
        return True
    if re.match(r"^\s*[.,;:!?)]", right):
        return True
    return number == "One" and bool(re.match(r"^\s+(?:can|could|may|might|must|should|would|will|has|is)\b", right))


def is_page_furniture(line: str) -> bool:
    """A short line that is no sentence and no bullet: a menu, a counter, a caption."""
    stripped = line.strip()
    words = stripped.split()
    return (
        0 < len(words) < 6 and not re.search(r"[.!?:;\"\u201d]$", stripped) and not stripped.startswith(("•", "*", "-"))
    )


def read_year(text: str, start: int, end: int, number: str) -> Reading:
    """A year: a target's deadline, part of an event or ranking name, a dating phrase, or a period phrase."""
    left, right = text[max(0, start - 60) : start], text[end : end + 120]
    if re.search(r"\bby\s+(?:(?:the\s+)?(?:end\s+of\s+)?(?:year\s+)?)$", left, re.I):
        phrase = re.search(r"\bby\s+(?:year\s+)?$", left, re.I)
        begin = start - len(phrase[0]) if phrase else start
        return Reading(start, end, number, "deadline", (begin, end), "", 0.85)
    name = name_span(text, start, end)
    if name is not None:
        return name
    if re.search(r"\b[Ii]n\s+(?:year\s+)?$", left) and not re.search(r"\b[Ss]et\s+in\s+$", left):
        return Reading(start, end, number, "dating", (start, end), "", 0.8)
    if re.search(r"\b(?:from|between)\s+$", left) and re.match(r"^\s*(?:to|and|-|\u2013)\s*(?:19|20)\d\d", right):
        return excluded(start, end, number, "period_phrase", 0.8)
    return excluded(start, end, number, "period_phrase", 0.6)


def name_span(text: str, start: int, end: int) -> Reading | None:
    """'Big Data Expo 2019', '2018 World IoT Expo' (events), '2018 Forbes China 50 most innovative companies'
    (a ranking): a year that is part of a name, with the name's span."""
    after = _NAME_AFTER.match(text, end)
    before = _NAME_BEFORE.search(text, max(0, start - 80), start)
    clause_end = re.compile(r"[.,;:!?()\n]").search(text, end)
    clause = text[end : clause_end.start() if clause_end else len(text)]
    if after and _RANKING_WORDS.search(clause) and not _EVENT_WORDS.search(after[0]):
        return Reading(start, end, text[start:end], "recognition", (start, end + len(clause.rstrip())), "", 0.6)
    if after and _EVENT_WORDS.search(after[0]):
        return Reading(start, end, text[start:end], "event", (start, after.end()), "", 0.7)
    if before and _EVENT_WORDS.search(before[0]):
        words = before[0].split()
        while words and not _EVENT_WORDS.search(" ".join(words[:1])) and words[0] in ("In", "At", "The", "During"):
            words = words[1:]
        begin = start - len(before[0]) + before[0].index(words[0]) if words else start
        return Reading(start, end, text[start:end], "event", (begin, end), "", 0.7)
    return None


def figure_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The figure as the grammar reads it: qualifier, currency, number, scale and unit."""
    begin = start
    currency = _CURRENCY_BEFORE.search(text, max(0, begin - 8), begin)
    if currency:
        begin = currency.start()
    qualifier = _QUALIFIER_BEFORE.search(text, max(0, begin - 20), begin)
    if qualifier and re.match(r"(?:^|\W)", text[qualifier.start() - 1 : qualifier.start()] or " "):
        begin = qualifier.start()
    finish = end
    abbreviation = _ABBREVIATION_AFTER.match(text[finish:])
    if abbreviation:
        finish += abbreviation.end()
    unit = _UNIT_AFTER.match(text[finish:])
    if unit and not currency:
        finish += unit.end()
    try:
        parse_figure(text[begin:finish])
    except FigureParseError:
        return start, end
    return begin, finish


def change_span(text: str, start: int, end: int) -> tuple[int, int]:
    """'an increase of 21 percent', 'a year-on-year increase of 22.4 percent': the change as the grammar reads it."""
    phrase = _CHANGE_BEFORE.search(text, max(0, start - 40), start)
    begin = phrase.start() if phrase else start
    figure = figure_span(text, start, end)
    return begin, figure[1]
