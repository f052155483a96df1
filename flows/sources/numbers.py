"""Parse figure texts ("RMB 100 billion", "22.4 percent", "six", "more than 150 PB") into values in base units,
each with the interval its wording allows.

The precision rule, applied to every figure (never typed):
- the rounding step is one unit of the last written significant digit: "22.4" -> 0.1, "21" -> 1,
  "80 billion" -> 10 billion (the last non-zero digit), "1632" -> 1, "six" -> 1;
- an exact figure may be exact or rounded at that step: [value - step/2, value + step/2]
  ("80 billion" -> 75 to 85 billion, "22.4 percent" -> 22.35 to 22.45); a count with step 1 is exact;
- "more than" bounds from below and leaves the top open: [value, none];
- "about" widens to the half step or 10 percent of the value, whichever is wider, both ways;
- "nearly" bounds from above: [value - that widening, value].
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from text_to_num import text2num

QUALIFIERS = {
    "more than": "more_than",
    "over": "more_than",
    "about": "about",
    "around": "about",
    "approximately": "about",
    "nearly": "nearly",
    "almost": "nearly",
    # news wordings of the same bounds
    "above": "more_than",
    "exceeding": "more_than",
    "at least": "more_than",
    "roughly": "about",
    "some": "about",
    "close to": "nearly",
}
# "about" and "nearly" widen by at least this share of the value
APPROXIMATE_SHARE = Decimal("0.1")
SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
# abbreviated scales news writes right after the number ("5.2bn", "300 mln")
SCALE_ABBREVIATIONS = {"k": 10**3, "mln": 10**6, "mn": 10**6, "bln": 10**9, "bn": 10**9, "tn": 10**12, "trln": 10**12}
# unit as written -> (unit in base units, multiplier); data volumes use decimal SI prefixes
UNITS = {
    "rmb": ("CNY", 1),
    "yuan": ("CNY", 1),
    "cny": ("CNY", 1),
    "percent": ("percent", 1),
    "%": ("percent", 1),
    "pb": ("byte", 10**15),
    "tb": ("byte", 10**12),
    "gb": ("byte", 10**9),
    # US dollars, often in brackets after a yuan amount (a conversion of it)
    "u.s. dollars": ("USD", 1),
    "us dollars": ("USD", 1),
    "dollars": ("USD", 1),
    "usd": ("USD", 1),
    "per cent": ("percent", 1),
    # multiples and units of things
    "fold": ("times", 1),
    "times": ("times", 1),
    "units": ("count", 1),
    "square meters": ("square_meter", 1),
    "square kilometers": ("square_meter", 10**6),
    "kilometers": ("meter", 10**3),
    "km": ("meter", 10**3),
    "meters": ("meter", 1),
}
CURRENCY_SYMBOLS = {"us$": "usd", "$": "usd", "¥": "cny"}
# durations are not figures ("three years" is no quantity of the grammar above) but a phrase of their own
DURATION_UNITS = {"year": "year", "month": "month", "week": "week", "day": "day", "hour": "hour", "minute": "minute"}
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
            "ninth": 9, "tenth": 10, "top": 1}  # fmt: skip
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CHANGE_SIGNS = {"increase": 1, "growth": 1, "rise": 1, "decrease": -1, "decline": -1, "drop": -1}
# news also writes a change as a verb or an adverb before its figure: "up 15 percent", "grew by 8 percent"
CHANGE_VERB_SIGNS = {"up": 1, "rose": 1, "grew": 1, "increased": 1, "jumped": 1, "climbed": 1, "rising": 1,
                     "growing": 1, "down": -1, "fell": -1, "decreased": -1, "declined": -1, "dropped": -1,
                     "falling": -1}  # fmt: skip

_QUALIFIER = "|".join(sorted((re.escape(q) for q in QUALIFIERS), key=len, reverse=True))
_UNIT = "|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True))
_SCALE = "|".join(SCALES)
_ABBREVIATION = "|".join(sorted(SCALE_ABBREVIATIONS, key=len, reverse=True))
_FIGURE = re.compile(
    rf"^(?:(?P<qualifier>{_QUALIFIER})\s+)?"
    rf"(?:(?P<currency>rmb|cny|yuan|usd)\s+|(?P<symbol>us\$|\$|¥)\s*)?"
    rf"(?P<number>\d[\d,]*(?:\.\d+)?|[a-z]+(?:[\s-][a-z]+)*?)"
    rf"(?:\s+(?P<scale>{_SCALE})|\s*(?P<abbreviation>{_ABBREVIATION})\b)?"
    rf"(?:\s*-?\s*(?P<unit>{_UNIT}))?$",
    re.IGNORECASE,
)
_CHANGE = re.compile(
    rf"(?P<direction>{'|'.join(CHANGE_SIGNS)})\s+of\s+(?P<figure>.+)$",
    re.IGNORECASE,
)
_CHANGE_VERB = re.compile(rf"^(?P<direction>{'|'.join(CHANGE_VERB_SIGNS)})\s+(?:by\s+)?(?P<figure>.+)$", re.IGNORECASE)
_DEADLINE = re.compile(r"by\s+(?:year\s+)?(?P<year>1[89]\d\d|20\d\d)", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[A-Za-z]+")


class FigureParseError(ValueError):
    """A figure, change or year text that does not follow the grammar above."""


@dataclass(frozen=True)
class Quantity:
    value: Decimal
    unit: str
    qualifier: str
    step: Decimal = Decimal(0)  # the rounding step in base units; 0 when the text fixes the value
    low: Decimal | None = None
    high: Decimal | None = None  # None: no upper bound ("more than")


def parse_number(text: str) -> Decimal:
    """'1,632' -> 1632, '22.4' -> 22.4, 'six' -> 6 (number words through text2num)."""
    cleaned = text.strip()
    if cleaned[:1].isdigit():
        if "," in cleaned and not re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", cleaned):
            raise FigureParseError(f"malformed thousands separators in {text!r}")
        try:
            return Decimal(cleaned.replace(",", ""))
        except InvalidOperation as error:
            raise FigureParseError(f"not a number: {text!r}") from error
    try:
        return Decimal(text2num(cleaned.lower(), "en"))
    except ValueError as error:
        raise FigureParseError(f"not a number in digits or English words: {text!r}") from error


def rounding_step(number_text: str, value: Decimal) -> Decimal:
    """One unit of the last written significant digit: '22.4' -> 0.1, '80' -> 10, '1632' -> 1, 'six' -> 1."""
    digits = number_text.strip().replace(",", "")
    if "." in digits:
        return Decimal(1).scaleb(-len(digits.split(".", 1)[1]))
    whole = int(value)
    if whole == 0:
        return Decimal(1)
    zeros = len(str(whole)) - len(str(whole).rstrip("0"))
    return Decimal(10) ** zeros


def bounds(value: Decimal, step: Decimal, qualifier: str) -> tuple[Decimal, Decimal | None]:
    """The interval the wording allows, by the precision rule in this module's docstring."""
    half = step / 2
    widening = max(half, abs(value) * APPROXIMATE_SHARE)
    if qualifier == "more_than":
        return value, None
    if qualifier == "about":
        return value - widening, value + widening
    if qualifier == "nearly":
        return value - widening, value
    return value - half, value + half


def parse_figure(text: str) -> Quantity:
    """Parse a figure text into a value in base units, its unit, its qualifier and its interval."""
    match = _FIGURE.match(text.strip())
    if not match:
        raise FigureParseError(
            f"figure {text!r} does not parse: expected [qualifier] [RMB] number [scale] [unit], "
            f"for example 'more than 150 PB' or 'RMB 100 billion'"
        )
    qualifier = QUALIFIERS.get((match["qualifier"] or "").lower(), "exact")
    number = parse_number(match["number"])
    step = rounding_step(match["number"], number)
    multiplier = SCALES[match["scale"].lower()] if match["scale"] else 1
    if match["abbreviation"]:
        multiplier = SCALE_ABBREVIATIONS[match["abbreviation"].lower()]
    symbol = CURRENCY_SYMBOLS.get((match["symbol"] or "").lower())
    unit_texts = [u for u in (match["currency"], symbol, match["unit"]) if u]
    if len(unit_texts) > 1:
        raise FigureParseError(f"figure {text!r} states its unit twice")
    if not unit_texts:
        if number * multiplier != (number * multiplier).to_integral_value():
            raise FigureParseError(f"figure {text!r} has no unit, so it is a count, but is not whole")
        unit = "count"
    else:
        unit, unit_multiplier = UNITS[unit_texts[0].lower()]
        multiplier *= unit_multiplier
    value, step = number * multiplier, step * multiplier
    if unit == "count" and step == 1:
        step = Decimal(0)  # a count written to its last unit is exact: counts are whole
    low, high = bounds(value, step, qualifier)
    return Quantity(value, unit, qualifier, step, low, high)


def parse_deadline(text: str) -> int:
    """'by year 2020' -> 2020: a target's deadline, kept apart from quantities."""
    match = _DEADLINE.fullmatch(text.strip())
    if not match:
        raise FigureParseError(f"deadline {text!r} does not parse: expected 'by [year] YYYY'")
    return int(match["year"])


def within(value: float, low: Any, high: Any) -> bool:
    """Is value inside [low, high], an empty bound being open?"""
    return (low is None or float(low) <= value) and (high is None or value <= float(high))


def parse_change_quantity(text: str) -> Quantity:
    """'a year-on-year increase of 22.4 percent' -> 22.4 percent with its interval; decreases are negative."""
    match = _CHANGE.search(text.strip()) or _CHANGE_VERB.match(text.strip())
    if not match:
        expected = "'<increase|decrease> of <number> percent' or 'up <number> percent'"
        raise FigureParseError(f"change {text!r} does not parse: expected {expected}")
    quantity = parse_figure(match["figure"])
    if quantity.unit != "percent":
        raise FigureParseError(f"change {text!r} is not in percent")
    sign = {**CHANGE_SIGNS, **CHANGE_VERB_SIGNS}[match["direction"].lower()]
    value = quantity.value * sign
    low, high = bounds(value, quantity.step, quantity.qualifier)
    return Quantity(value, "percent", quantity.qualifier, quantity.step, low, high)


def parse_change(text: str) -> Decimal:
    """'a year-on-year increase of 22.4 percent' -> Decimal('22.4'); decreases are negative."""
    return parse_change_quantity(text).value


def parse_year(text: str) -> int:
    """'in year 2018' -> 2018: the text must name exactly one year."""
    years = _YEAR.findall(text)
    if len(years) != 1:
        raise FigureParseError(f"period {text!r} must name exactly one year, found {len(years)}")
    return int(years[0])


def find_years(text: str) -> list[int]:
    """Every four-digit year in a text, in order."""
    return [int(year) for year in _YEAR.findall(text)]


@lru_cache(maxsize=65536)
def is_number_word(word: str) -> bool:
    """Is a lower-case word a number (or a scale word, which text2num does not know alone)? Cached: the words
    of a corpus repeat, and text2num on every word of every text was a hot spot."""
    if word in SCALES:
        return True
    try:
        text2num(word, "en")
    except ValueError:
        return False
    return True


def find_number_spans(text: str) -> list[tuple[int, int, str]]:
    """Every number in a text, in digits or English words, as (start, end, text) character spans;
    a scale word joins the number before it ("100 billion" is one number, not two)."""
    spans = [(m.start(), m.end(), m.group()) for m in _DIGITS.finditer(text)]
    for match in _WORD.finditer(text):
        if is_number_word(match.group().lower()):
            spans.append((match.start(), match.end(), match.group()))
    merged: list[tuple[int, int, str]] = []
    for start, end, found in sorted(spans):
        if merged and found.lower() in SCALES and not text[merged[-1][1] : start].strip():
            first = merged.pop()
            merged.append((first[0], end, text[first[0] : end]))
            continue
        merged.append((start, end, found))
    return merged


def format_decimal(value: Decimal) -> str:
    """Plain decimal notation without exponent or trailing zeros: 1E+11 -> '100000000000'."""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


_DURATION = re.compile(
    rf"^(?P<number>\d[\d,]*(?:\.\d+)?|[a-z]+(?:[\s-][a-z]+)*?)[\s-]+(?P<unit>{'|'.join(DURATION_UNITS)})s?(?:['\u2019]s?)?$",
    re.IGNORECASE,
)
_RANK = re.compile(r"^ranked\s+(?:(?P<word>[a-z]+)|(?P<digits>\d+)(?:st|nd|rd|th))$", re.IGNORECASE)
_YEAR_RANGE = re.compile(
    r"^(?:from\s+|between\s+)?(?P<first>(?:19|20)\d\d)\s*(?:to|and|-|\u2013|through)\s*(?P<last>(?:19|20)\d\d)$",
    re.IGNORECASE,
)
_RELATIVE = re.compile(r"^(?:as\s+of\s+|on\s+|since\s+|until\s+|by\s+)?(?:last\s+|this\s+)?(?P<day>[a-z]+)$", re.I)


def parse_duration(text: str) -> tuple[Decimal, str]:
    """'three years' -> (3, 'year'), '14 min' is no duration (a reading time): a span of time, not a figure."""
    match = _DURATION.match(text.strip())
    if not match:
        raise FigureParseError(f"duration {text!r} does not parse: expected number and year|month|week|day|hour")
    return parse_number(match["number"]), DURATION_UNITS[match["unit"].lower()]


def parse_rank(text: str) -> int:
    """'ranked first' -> 1, 'ranked 3rd' -> 3: a position in a list, not a count."""
    match = _RANK.match(text.strip())
    if not match or (match["word"] and match["word"].lower() not in ORDINALS):
        raise FigureParseError(f"rank {text!r} does not parse: expected 'ranked first' or 'ranked 3rd'")
    return int(match["digits"]) if match["digits"] else ORDINALS[match["word"].lower()]


def parse_year_range(text: str) -> tuple[int, int]:
    """'from 2016 to 2020' -> (2016, 2020); also '2016-2020' and 'between 2016 and 2020'."""
    match = _YEAR_RANGE.match(text.strip())
    if not match or int(match["first"]) > int(match["last"]):
        raise FigureParseError(f"year range {text!r} does not parse: expected 'from YYYY to YYYY'")
    return int(match["first"]), int(match["last"])


def resolve_relative_date(text: str, published: dt.date) -> dt.date:
    """'as of Tuesday' in an article published on 2019-05-30 -> 2019-05-28: the latest such day up to the
    article's own date; 'today' and 'yesterday' likewise. A date relative to nothing stays unknown (an error)."""
    match = _RELATIVE.match(text.strip())
    day = (match["day"] if match else "").lower()
    if day == "today":
        return published
    if day == "yesterday":
        return published - dt.timedelta(days=1)
    if day not in WEEKDAYS:
        raise FigureParseError(f"date {text!r} is not relative to the article: expected a weekday, today or yesterday")
    return published - dt.timedelta(days=(published.weekday() - WEEKDAYS.index(day)) % 7)
