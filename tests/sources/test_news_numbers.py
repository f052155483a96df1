"""The grammar's news forms (flows/sources/numbers.py), beyond the seed's: inline examples written for the tests."""

import datetime as dt

import pytest

from flows.sources.numbers import (
    FigureParseError,
    format_decimal,
    parse_duration,
    parse_figure,
    parse_rank,
    parse_year_range,
    resolve_relative_date,
)


@pytest.mark.parametrize(
    ("text", "value", "unit", "qualifier"),
    [
        ("$291 billion", "291000000000", "USD", "exact"),
        ("US$ 5.2bn", "5200000000", "USD", "exact"),
        ("USD 3 mln", "3000000", "USD", "exact"),
        ("45 billion U.S. dollars", "45000000000", "USD", "exact"),
        ("12 billion US dollars", "12000000000", "USD", "exact"),
        ("1.2 trillion yuan", "1200000000000", "CNY", "exact"),
        ("RMB 300 mln", "300000000", "CNY", "exact"),
        ("22.4-percent", "22.4", "percent", "exact"),
        ("6 per cent", "6", "percent", "exact"),
        ("15%", "15", "percent", "exact"),
        ("3-fold", "3", "times", "exact"),
        ("2.5 times", "2.5", "times", "exact"),
        ("300 units", "300", "count", "exact"),
        ("1,200 meters", "1200", "meter", "exact"),
        ("at least 20", "20", "count", "more_than"),
        ("roughly 40 percent", "40", "percent", "about"),
        ("close to 100 PB", "100000000000000000", "byte", "nearly"),
    ],
)
def test_parse_figure_reads_news_forms(text: str, value: str, unit: str, qualifier: str) -> None:
    quantity = parse_figure(text)
    assert (format_decimal(quantity.value), quantity.unit, quantity.qualifier) == (value, unit, qualifier)


def test_a_dollar_amount_keeps_the_precision_rule() -> None:
    quantity = parse_figure("$291 billion")
    assert (format_decimal(quantity.low), format_decimal(quantity.high)) == ("290500000000", "291500000000")  # type: ignore[arg-type]


def test_a_currency_stated_twice_is_refused() -> None:
    with pytest.raises(FigureParseError, match="unit twice"):
        parse_figure("$5 billion USD")


@pytest.mark.parametrize(("text", "number", "unit"), [("three years", "3", "year"), ("14 days", "14", "day"),
                                                      ("three years\u2019", "3", "year"), ("six-month", "6", "month")])  # fmt: skip
def test_parse_duration_reads_a_span_of_time(text: str, number: str, unit: str) -> None:
    value, found = parse_duration(text)
    assert (format_decimal(value), found) == (number, unit)


@pytest.mark.parametrize(("text", "rank"), [("ranked first", 1), ("ranked third", 3), ("ranked 12th", 12)])
def test_parse_rank_reads_a_position(text: str, rank: int) -> None:
    assert parse_rank(text) == rank


@pytest.mark.parametrize(("text", "years"), [("from 2016 to 2020", (2016, 2020)), ("2016-2020", (2016, 2020)),
                                             ("between 2019 and 2021", (2019, 2021))])  # fmt: skip
def test_parse_year_range_reads_both_ends(text: str, years: tuple[int, int]) -> None:
    assert parse_year_range(text) == years


def test_parse_year_range_refuses_a_backwards_range() -> None:
    with pytest.raises(FigureParseError, match="year range"):
        parse_year_range("from 2020 to 2016")


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("as of Tuesday", "2019-05-28"),
        ("on Thursday", "2019-05-30"),
        ("yesterday", "2019-05-29"),
        ("today", "2019-05-30"),
    ],
)
def test_resolve_relative_date_counts_back_from_the_article(text: str, date: str) -> None:
    assert resolve_relative_date(text, dt.date(2019, 5, 30)).isoformat() == date  # a Thursday


def test_a_date_relative_to_nothing_stays_unknown() -> None:
    with pytest.raises(FigureParseError, match="not relative"):
        resolve_relative_date("next spring", dt.date(2019, 5, 30))


@pytest.mark.parametrize(("text", "value", "low", "high"), [("up 15 percent", "15", "14.5", "15.5"),
                         ("grew by 8.5 percent", "8.5", "8.45", "8.55"), ("down 3 percent", "-3", "-3.5", "-2.5")])  # fmt: skip
def test_a_change_written_as_up_or_down_parses_with_its_interval(text: str, value: str, low: str, high: str) -> None:
    from flows.sources.numbers import parse_change_quantity

    change = parse_change_quantity(text)
    assert (format_decimal(change.value), format_decimal(change.low), format_decimal(change.high)) == (value, low, high)
    with pytest.raises(FigureParseError):
        parse_change_quantity("up 15 billion")
