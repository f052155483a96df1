from decimal import Decimal

import pytest

from flows.steps.numbers import (
    FigureParseError,
    find_number_spans,
    format_decimal,
    parse_change,
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
        ("by 2020", "2020", "year", "no_later_than"),
        ("by year 2020", "2020", "year", "no_later_than"),
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
        ("by RMB 5", "takes a year"),
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
