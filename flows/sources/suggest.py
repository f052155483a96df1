"""What to fix when a record's text or name is wrong: where a quote leaves the article, the closest known name."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable

CONTEXT = 20  # characters shown on each side of a difference
AGREEING = 8  # a quote must follow the article this far before a difference is worth showing


def matched_prefix(quote: str, text: str) -> int:
    """The length of the longest start of `quote` that occurs in `text` (binary search: every shorter start
    of an occurring start occurs too)."""
    low, high = 0, len(quote)
    while low < high:
        middle = (low + high + 1) // 2
        if quote[:middle] in text:
            low = middle
        else:
            high = middle - 1
    return low


def _character(text: str, at: int) -> str:
    if at >= len(text):
        return "the end"
    char = text[at]
    return f"{char!r} ({unicodedata.name(char, f'U+{ord(char):04X}')})"


def describe_difference(quote: str, text: str) -> str | None:
    """Where a quote that is not in `text` first differs from it: the character in each, and the text around it
    (the article's at its line), so a curly quote, a dash or a hyphen shows; None when too little of the quote
    follows the article to say."""
    agreed = matched_prefix(quote, text)
    if agreed < min(AGREEING, len(quote)):
        return None
    at = text.index(quote[:agreed]) + agreed
    line = text.count("\n", 0, at) + 1
    before = quote[max(0, agreed - CONTEXT) : agreed]
    return (
        f"it first differs at character {agreed + 1}, where the quote has {_character(quote, agreed)} and the "
        f"article (line {line}) has {_character(text, at)}: quote {before + quote[agreed : agreed + CONTEXT]!r}, "
        f"article {before + text[at : at + CONTEXT]!r}; copy the article's text there"
    )


def closest_name(value: str, known: Iterable[object]) -> str | None:
    """The known name closest to a misspelt one (difflib's ratio, at least 0.6), or None."""
    names = sorted(str(name) for name in known if name is not None)
    found = difflib.get_close_matches(str(value), names, n=1)
    return found[0] if found else None
