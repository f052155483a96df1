"""The draft bench's scoring (flows/drafting/score.py): matches per level, and reasons read from hand-written text."""

import pytest

from flows.drafting.score import Item, expected_reason, score_level

GOLD = [Item(0, 4, "58", "count", 2018, "a"), Item(10, 25, "100000000000", "CNY", 2018, "b")]


@pytest.mark.parametrize(
    ("drafted", "level", "f1"),
    [
        ([Item(0, 4, "58", "count", 2018, "a"), Item(10, 25, "100000000000", "CNY", 2018, "b")], "+measure", 100.0),
        ([Item(0, 4, "58", "count", 2018, "a"), Item(14, 25, "100000000000", "CNY", 2018, "b")], "span", 50.0),
        ([Item(0, 4, "58", "count", 2018, "a"), Item(14, 25, "100000000000", "CNY", 2018, "b")], "value", 100.0),
        ([Item(0, 4, "58", "count", 2017, "a"), Item(10, 25, "100000000000", "CNY", 2018, "b")], "value+unit", 100.0),
        (
            [Item(0, 4, "58", "count", 2017, "a"), Item(10, 25, "100000000000", "CNY", 2018, "b")],
            "value+unit+period",
            50.0,
        ),
        ([Item(0, 4, "58", "count", 2018, "x")], "+measure", 0.0),
        ([], "span", 0.0),
    ],
)
def test_score_level_counts_what_agrees_at_that_level(drafted: list[Item], level: str, f1: float) -> None:
    assert score_level(GOLD, drafted, level)["f1"] == f1


def test_an_extra_proposal_costs_precision_not_recall() -> None:
    drafted = [*GOLD, Item(40, 42, "7", "count", None, "c")]
    assert score_level(GOLD, drafted, "value") == {"precision": 66.7, "recall": 100.0, "f1": 80.0}


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("Page furniture giving the estimated reading time, not part of the article's content.", "reading_time"),
        ('Part of the idiom "one of the most", not a count.', "one_of"),
        ('Generic pronoun "One", not a count.', "pronoun"),
        ('Part of the technology name "5G" (fifth generation), not a quantity.', "name"),
        ("Vague rhetorical timeframe, not a dated or measured fact.", "period_phrase"),
        ("Vague rhetorical quantity with no stated figure.", "vague"),
        ("Rhetorical reference to China and the United States, not a statistic.", "rhetorical"),
    ],
)
def test_expected_reason_reads_the_hand_written_reason(reason: str, kind: str) -> None:
    assert expected_reason(reason) == kind
