from decimal import Decimal

import pytest

from flows.sources.numbers import (
    FigureParseError,
    find_number_spans,
    format_decimal,
    parse_change,
    parse_change_quantity,
    parse_deadline,
    parse_figure,
    parse_year,
)


@pytest.mark.parametrize(
    ("text", "value", "unit", "qualifier"),
    [
        ("RMB 100 billion", "100000000000", "CNY", "exact"),
        ("80 billion RMB", "80000000000", "CNY", "exact"),
        ("100 billion RMB", "100000000000", "CNY", "exact"),
        ("150 million RMB", "150000000", "CNY", "exact"),
        ("180 million RMB", "180000000", "CNY", "exact"),
        ("22.4 percent", "22.4", "percent", "exact"),
        ("21 percent", "21", "percent", "exact"),
        ("six", "6", "count", "exact"),
        ("1632", "1632", "count", "exact"),
        ("1,632", "1632", "count", "exact"),
        ("58", "58", "count", "exact"),
        ("more than 150 PB", "150000000000000000", "byte", "more_than"),
        ("more than 114", "114", "count", "more_than"),
        ("more than 800", "800", "count", "more_than"),
        ("about 3 million", "3000000", "count", "about"),
    ],
)
def test_parse_figure_reads_every_form_the_article_uses(text: str, value: str, unit: str, qualifier: str) -> None:
    quantity = parse_figure(text)
    assert (format_decimal(quantity.value), quantity.unit, quantity.qualifier) == (value, unit, qualifier)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("three years", "not a number"),
        ("2.5", "not whole"),
        ("RMB 5 RMB", "unit twice"),
        ("1,63,2", "thousands separators"),
        ("by 2020", "does not parse"),
        ("", "does not parse"),
    ],
)
def test_parse_figure_rejects_what_it_cannot_read(text: str, reason: str) -> None:
    with pytest.raises(FigureParseError, match=reason):
        parse_figure(text)


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("a year-on-year increase of 22.4 percent", "22.4"),
        ("an increase of 21 percent", "21"),
        ("a decrease of 3 percent", "-3"),
    ],
)
def test_parse_change_signs_the_stated_change(text: str, change: str) -> None:
    assert parse_change(text) == Decimal(change)


def test_parse_change_refuses_a_change_not_in_percent() -> None:
    with pytest.raises(FigureParseError, match="percent"):
        parse_change("an increase of 5 billion RMB")


@pytest.mark.parametrize(("text", "year"), [("in year 2018", 2018), ("In 2017", 2017), ("2019", 2019)])
def test_parse_year_finds_the_one_year(text: str, year: int) -> None:
    assert parse_year(text) == year


@pytest.mark.parametrize("text", ["in mere one year", "2017 and 2018"])
def test_parse_year_needs_exactly_one_year(text: str) -> None:
    with pytest.raises(FigureParseError, match="exactly one year"):
        parse_year(text)


def test_find_number_spans_finds_digits_and_words() -> None:
    text = "built six parks, 5G labs and 1,632 firms; One can imagine millions"
    assert [found for _, _, found in find_number_spans(text)] == ["six", "5", "1,632", "One", "millions"]


@pytest.mark.parametrize(("value", "text"), [("1E+11", "100000000000"), ("22.40", "22.4"), ("6", "6")])
def test_format_decimal_writes_plain_notation(value: str, text: str) -> None:
    assert format_decimal(Decimal(value)) == text


def text_of(value: object) -> str | None:
    return None if value is None else format_decimal(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "step", "low", "high"),
    [
        ("22.4 percent", "0.1", "22.35", "22.45"),  # a decimal is good to half its last digit
        ("21 percent", "1", "20.5", "21.5"),
        ("80 billion RMB", "10000000000", "75000000000", "85000000000"),  # round: rounded at its last non-zero digit
        ("RMB 100 billion", "100000000000", "50000000000", "150000000000"),
        ("150 million RMB", "10000000", "145000000", "155000000"),
        ("1632", "0", "1632", "1632"),  # a count written to its last unit is exact
        ("six", "0", "6", "6"),
        ("10", "10", "5", "15"),  # a round count may be rounded too
        ("more than 150 PB", "10000000000000000", "150000000000000000", None),  # bounded below, open above
        ("more than 114", "0", "114", None),
        ("about 3 million", "1000000", "2500000", "3500000"),  # half step wider than 10 percent
        ("about 1632", "0", "1468.8", "1795.2"),  # 10 percent wider than an exact count
        ("nearly 100", "100", "50", "100"),  # bounded above
    ],
)
def test_parse_figure_gives_the_interval_its_wording_allows(text: str, step: str, low: str, high: str | None) -> None:
    quantity = parse_figure(text)
    assert (text_of(quantity.step), text_of(quantity.low), text_of(quantity.high)) == (step, low, high)


def test_parse_change_quantity_carries_precision_and_sign() -> None:
    change = parse_change_quantity("a decrease of 2.5 percent")
    assert (text_of(change.value), text_of(change.low), text_of(change.high)) == ("-2.5", "-2.55", "-2.45")


@pytest.mark.parametrize(("text", "year"), [("by 2020", 2020), ("by year 2020", 2020), ("By 2035", 2035)])
def test_parse_deadline_reads_a_target_year(text: str, year: int) -> None:
    assert parse_deadline(text) == year


@pytest.mark.parametrize("text", ["by RMB 5", "2020", "by next year"])
def test_parse_deadline_refuses_anything_but_by_and_a_year(text: str) -> None:
    with pytest.raises(FigureParseError, match="deadline"):
        parse_deadline(text)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("reached RMB 100 billion in 2018", ["100 billion", "2018"]),
        ("150 million RMB is output", ["150 million"]),
        ("1.5 trillion and 3 thousand", ["1.5 trillion", "3 thousand"]),
        ("millions of people", ["millions"]),  # no number before it: a word of its own
        ("a billion", ["billion"]),
    ],
)
def test_find_number_spans_counts_a_number_once_with_its_scale_word(text: str, found: list[str]) -> None:
    assert [number for _, _, number in find_number_spans(text)] == found
