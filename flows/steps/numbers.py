"""Parse figure texts ("RMB 100 billion", "22.4 percent", "six", "more than 150 PB") into values in base units."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from text_to_num import text2num

QUALIFIERS = {
    "more than": "more_than",
    "over": "more_than",
    "about": "about",
    "around": "about",
    "approximately": "about",
    "nearly": "nearly",
    "almost": "nearly",
    "by year": "no_later_than",
    "by": "no_later_than",
}
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


def parse_figure(text: str) -> Quantity:
    """Parse a figure text into a value in base units, its unit and its qualifier."""
    match = _FIGURE.match(text.strip())
    if not match:
        raise FigureParseError(
            f"figure {text!r} does not parse: expected [qualifier] [RMB] number [scale] [unit], "
            f"for example 'more than 150 PB' or 'RMB 100 billion'"
        )
    qualifier_text = (match["qualifier"] or "").lower()
    qualifier = QUALIFIERS.get(qualifier_text, "exact")
    value = parse_number(match["number"])
    if match["scale"]:
        value *= SCALES[match["scale"].lower()]
    unit_texts = [u for u in (match["currency"], match["unit"]) if u]
    if len(unit_texts) > 1:
        raise FigureParseError(f"figure {text!r} states its unit twice")
    if qualifier == "no_later_than":
        if unit_texts or not _YEAR.fullmatch(match["number"]):
            raise FigureParseError(f"figure {text!r}: 'by' takes a year, as in 'by 2020'")
        return Quantity(value, "year", qualifier)
    if not unit_texts:
        if value != value.to_integral_value():
            raise FigureParseError(f"figure {text!r} has no unit, so it is a count, but is not whole")
        return Quantity(value, "count", qualifier)
    unit, multiplier = UNITS[unit_texts[0].lower()]
    return Quantity(value * multiplier, unit, qualifier)


def parse_change(text: str) -> Decimal:
    """'a year-on-year increase of 22.4 percent' -> Decimal('22.4'); decreases are negative."""
    match = _CHANGE.search(text.strip())
    if not match:
        raise FigureParseError(f"change {text!r} does not parse: expected '<increase|decrease> of <number> percent'")
    quantity = parse_figure(match["figure"])
    if quantity.unit != "percent":
        raise FigureParseError(f"change {text!r} is not in percent")
    return quantity.value * CHANGE_SIGNS[match["direction"].lower()]


def parse_year(text: str) -> int:
    """'in year 2018' -> 2018: the text must name exactly one year."""
    years = _YEAR.findall(text)
    if len(years) != 1:
        raise FigureParseError(f"period {text!r} must name exactly one year, found {len(years)}")
    return int(years[0])


def find_years(text: str) -> list[int]:
    """Every four-digit year in a text, in order."""
    return [int(year) for year in _YEAR.findall(text)]


def find_number_spans(text: str) -> list[tuple[int, int, str]]:
    """Every number in a text, in digits or English words, as (start, end, text) character spans."""
    spans = [(m.start(), m.end(), m.group()) for m in _DIGITS.finditer(text)]
    for match in _WORD.finditer(text):
        try:
            text2num(match.group().lower(), "en")
        except ValueError:
            continue
        spans.append((match.start(), match.end(), match.group()))
    return sorted(spans)


def format_decimal(value: Decimal) -> str:
    """Plain decimal notation without exponent or trailing zeros: 1E+11 -> '100000000000'."""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
