"""The period policy: one rule dates every figure, and the records follow it."""

import pytest

from flows.core.paths import DEFAULT_PATHS
from flows.sources.extract import extract_tables, read_source
from flows.sources.periods import INFERRED, NONE, STATED, Dating, date_figure, refuse_overrule

TEXT = (
    "Title line\n\n"
    "In 2017, the city set a target. It built six parks and 51 firms above size set in 2017.\n\n"
    "Revenue reached 80 billion.\n\n"
    "Later, in 2018 World Expo awarded 3 prizes. Firms numbered 1632.\n\n"
    "Visitors saw 114 companies in year 2019, a record.\n\n"
    "A paragraph without numbers.\n\n"
    "Nothing is dated here: 800 cases.\n\n"
    "But this one continues it: 900 more."
)


@pytest.mark.parametrize(
    ("figure", "year", "phrase", "basis"),
    [
        ("six", 2017, "In 2017", INFERRED),  # its sentence has no dating phrase: the paragraph's opening dates it
        ("51", 2017, "In 2017", INFERRED),  # "set in 2017" dates the target, not the firms
        ("80 billion", 2017, "In 2017", INFERRED),  # continues the dated paragraph just before
        ("3", None, None, NONE),  # "in 2018 World Expo" is part of a name
        ("1632", None, None, NONE),
        ("114", 2019, "in year 2019", STATED),  # a dating phrase after the figure in its sentence
        ("800", None, None, NONE),  # the dated paragraph is two back: too far to infer from
        ("900", None, None, NONE),
    ],
)
def test_date_figure_applies_one_rule(figure: str, year: int | None, phrase: str | None, basis: str) -> None:
    start = TEXT.index(figure)
    dating = date_figure(TEXT, start, start + len(figure))
    if year is None:
        assert dating is None and basis == NONE
        return
    assert dating is not None
    assert (dating.year, TEXT[dating.start : dating.end], dating.basis) == (year, phrase, basis)


def test_every_figure_and_target_carries_the_basis_the_policy_gives_it() -> None:
    """The policy on every row: recomputed from the snapshot, the basis and year match what was published."""
    text = read_source(DEFAULT_PATHS.sources_dir / "big-data-valley").text
    tables = extract_tables(DEFAULT_PATHS.sources_dir)
    rows = [(row, "figure_text") for row in tables["figures"]] + [(row, "deadline_text") for row in tables["targets"]]
    for row, anchor in rows:
        start = row["evidence_offset"] + row["evidence_quote"].index(row[anchor])
        dating = date_figure(text, start, start + len(row[anchor]))
        assert row["period_basis"] == (dating.basis if dating else NONE), row[
            "figure_id" if "figure_id" in row else "target_id"
        ]
        assert row["period"] == (dating.year if dating else None)
    bases = {row["figure_id"]: row["period_basis"] for row in tables["figures"]}
    assert bases["guiyang-2017-enterprises-above-designated-size-added"] == INFERRED
    assert bases["guiyang-2018-enterprises-above-designated-size-added"] == STATED
    assert bases["guiyang-big-data-exchange-data-volume"] == INFERRED


@pytest.mark.parametrize(
    ("dating", "reason", "period", "refused"),
    [
        (Dating(2017, 0, 7, "inferred_paragraph"), "a reason", None, None),
        (Dating(2017, 0, 7, "stated"), "a reason", None, "a stated period cannot be overruled"),
        (None, "a reason", None, "nothing to overrule"),
        (Dating(2017, 0, 7, "inferred_paragraph"), "", None, "give the reason"),
        (Dating(2017, 0, 7, "inferred_paragraph"), "a reason", "In 2017", "drop `period`"),
    ],
)
def test_only_an_inferred_period_is_overruled_with_a_reason_and_no_period(
    dating: Dating | None, reason: str, period: str | None, refused: str | None
) -> None:
    found = refuse_overrule("figure", dating, reason, period, "In 2017, it grew.")
    assert (found is None) if refused is None else (found is not None and refused in found[1])
