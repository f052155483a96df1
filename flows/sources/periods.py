"""The period policy: which year dates a figure, and on what basis, read from the text around it.

One rule for every figure, applied by the parser (a record's `period` must contain the phrase it picks):
- a dating phrase is "in YYYY" or "in year YYYY" (any case); "set in YYYY" dates the thing set (a target),
  and a year followed by a capitalised word is part of a name ("in 2018 World IoT Expo"), so neither dates;
- `stated`: a dating phrase in the figure's own sentence (the nearest one);
- `inferred_paragraph`: otherwise the last dating phrase before that sentence in its paragraph, or failing
  that the last one in the paragraph just before (a sentence continuing a dated paragraph);
- `none`: otherwise. Headline bullets have no dated paragraph before them, so they stay undated;
- `overruled`: a reviewer's decision that an inferred period is wrong (`period_overruled: <reason>` in the
  record, the reason kept in the row): the figure is undated. A stated period cannot be overruled.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

STATED, INFERRED, NONE, OVERRULED = "stated", "inferred_paragraph", "none", "overruled"
PERIOD_BASES = (STATED, INFERRED, NONE, OVERRULED)
_DATING = re.compile(r"(?<![Ss]et )\b[Ii]n\s+(?:year\s+)?(?P<year>1[89]\d\d|20\d\d)\b(?!\s+[A-Z])")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# a sentence ends at . ! ? (with a closing quote) before whitespace, or at a line break (bullets)
_SENTENCE_END = re.compile(r"[.!?][\"\u201d\u2019]?\s+|\n")


@dataclass(frozen=True)
class Dating:
    """The phrase that dates a figure under the policy, and how it relates to the figure."""

    year: int
    start: int
    end: int
    basis: str


def _spans(pattern: re.Pattern[str], text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split text[start:end] at each match of pattern into (start, end) spans."""
    spans, begin = [], start
    for match in pattern.finditer(text, start, end):
        spans.append((begin, match.end()))
        begin = match.end()
    spans.append((begin, end))
    return spans


def _containing(spans: Sequence[tuple[int, int]], offset: int) -> int:
    return next(index for index, (start, end) in enumerate(spans) if start <= offset < end or end == offset)


def _phrases(text: str, start: int, end: int) -> list[re.Match[str]]:
    return list(_DATING.finditer(text, start, end))


@lru_cache(maxsize=4)
def _paragraphs(text: str) -> tuple[tuple[int, int], ...]:
    """The paragraph spans of a text: every figure of a source is dated against the same text (cached, so
    a source's figures do not split it again each)."""
    return tuple(_spans(_PARAGRAPH_BREAK, text, 0, len(text)))


@lru_cache(maxsize=64)
def _sentences(text: str, start: int, end: int) -> tuple[tuple[int, int], ...]:
    return tuple(_spans(_SENTENCE_END, text, start, end))


def date_figure(text: str, figure_start: int, figure_end: int) -> Dating | None:
    """The year the policy gives a figure at text[figure_start:figure_end], with its basis; None if none."""
    paragraphs = _paragraphs(text)
    index = _containing(paragraphs, figure_start)
    paragraph = paragraphs[index]
    sentences = _sentences(text, *paragraph)
    sentence = sentences[_containing(sentences, figure_start)]
    own = _phrases(text, *sentence)
    if own:
        middle = (figure_start + figure_end) / 2
        nearest = min(own, key=lambda m: abs((m.start() + m.end()) / 2 - middle))
        return Dating(int(nearest["year"]), nearest.start(), nearest.end(), STATED)
    before = _phrases(text, paragraph[0], sentence[0])
    if not before and index > 0:
        before = _phrases(text, *paragraphs[index - 1])
    if before:
        last = before[-1]
        return Dating(int(last["year"]), last.start(), last.end(), INFERRED)
    return None


def describe_dating(dating: Dating | None, text: str) -> str:
    """'inferred_paragraph from 'In 2017' (line 37)' for messages and notes."""
    if dating is None:
        return "no dating phrase under the period policy"
    line = text.count("\n", 0, dating.start) + 1
    return f"{dating.basis} from {text[dating.start : dating.end]!r} (line {line})"


def refuse_overrule(anchor: str, dating: Dating | None, reason: Any, period: Any, text: str) -> tuple[str, str] | None:
    """Why a record may not overrule its period, as (record key, message), or None when it may: only an inferred
    period is overruled, with a reason as text, and the record then dates nothing (no `period`)."""
    if not isinstance(reason, str) or not reason.strip():
        return "period_overruled", "give the reason the inferred period is wrong, as text"
    if dating is None:
        described = describe_dating(dating, text)
        return "period_overruled", f"{described} for this {anchor}: nothing to overrule; drop `period_overruled`"
    if dating.basis == STATED:
        return "period_overruled", (
            f"the period policy dates this {anchor} {describe_dating(dating, text)}, in its own sentence: "
            "a stated period cannot be overruled; drop `period_overruled`"
        )
    if period is not None:
        return "period", "an overruled period leaves the row undated: drop `period` (keep the reason)"
    return None
