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
}
# "about" and "nearly" widen by at least this share of the value
APPROXIMATE_SHARE = Decimal("0.1")
SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
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
}
CHANGE_SIGNS = {"increase": 1, "growth": 1, "rise": 1, "decrease": -1, "decline": -1, "drop": -1}

_QUALIFIER = "|".join(sorted((re.escape(q) for q in QUALIFIERS), key=len, reverse=True))
_UNIT = "|".join(re.escape(u) for u in UNITS)
_SCALE = "|".join(SCALES)
_FIGURE = re.compile(
    rf"^(?:(?P<qualifier>{_QUALIFIER})\s+)?"
    rf"(?:(?P<currency>rmb|cny|yuan)\s+)?"
    rf"(?P<number>\d[\d,]*(?:\.\d+)?|[a-z]+(?:[\s-][a-z]+)*?)"
    rf"(?:\s+(?P<scale>{_SCALE}))?"
    rf"(?:\s*(?P<unit>{_UNIT}))?$",
    re.IGNORECASE,
)
_CHANGE = re.compile(
    rf"(?P<direction>{'|'.join(CHANGE_SIGNS)})\s+of\s+(?P<figure>.+)$",
    re.IGNORECASE,
)
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
    unit_texts = [u for u in (match["currency"], match["unit"]) if u]
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
    match = _CHANGE.search(text.strip())
    if not match:
        raise FigureParseError(f"change {text!r} does not parse: expected '<increase|decrease> of <number> percent'")
    quantity = parse_figure(match["figure"])
    if quantity.unit != "percent":
        raise FigureParseError(f"change {text!r} is not in percent")
    sign = CHANGE_SIGNS[match["direction"].lower()]
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
