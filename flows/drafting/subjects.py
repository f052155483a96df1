"""Find the organizations and places an article names, and pick the one a figure is about."""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flows.drafting.draft import Proposal

# a name: capitalised words, joined by "of", "&" or "and" ("Guiyang Big Data Exchange", "Bank of Guizhou")
_NAME = re.compile(
    r"(?<![\w\u2019'])(?:[A-Z][\w\u2019'.-]*[A-Za-z]|[A-Z])"
    r"(?:(?:[ \t]+(?:of|and|&)[ \t]+|[ \t]+)(?:[A-Z][\w\u2019'-]*[A-Za-z]|[A-Z]{2,}))*"
)
# words that start a sentence, a date or a title rather than a name
_NOT_NAMES = {"the", "a", "an", "in", "on", "at", "by", "for", "from", "to", "this", "that", "these", "it", "its", "he",
              "she", "we", "i", "they", "our", "one", "as", "according", "during", "while", "moreover", "meanwhile",
              "furthermore", "however", "nowadays", "lately", "under", "along", "focusing", "prior", "wherever", "but",
              "and", "if", "which", "couple", "application", "home", "load", "leave", "check", "china", "chinese",
              "mr", "ms", "president", "chairman"}  # fmt: skip
_UNIT_WORDS = {"RMB", "CNY", "USD", "PB", "TB", "GB", "GDP", "US", "U.S"}
KIND_WORDS = (
    (re.compile(r"\b(?:City|Town)$"), "city"),
    (re.compile(r"\bProvince$"), "province"),
    (re.compile(r"\b(?:Government|Committee|Ministry|Bureau|Commission|Council)\b"), "government"),
    (re.compile(r"\bExchange\b"), "exchange"),
    (re.compile(r"\b(?:Park|Zone)\b"), "industrial-park"),
    (re.compile(r"\b(?:Laboratory|Lab)\b"), "laboratory"),
    (re.compile(r"\b(?:Agency|News|Daily|Times)\b"), "news-agency"),
)


def slug_of(text: str) -> str:
    """'Guiyang Big Data Exchange (GBDE)' -> 'guiyang-big-data-exchange-gbde': ids the record schemas take."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("\u2019", "").replace("'", "")).strip("-") or "unnamed"


def base_name(name: str) -> str:
    """'Guiyang City' and 'Guiyang' are one place: the id drops a trailing City or Province."""
    return re.sub(r"\s+(?:City|Province)$", "", name)


def kind_of(text: str, name: str) -> str:
    """'Nokvar is a city' says so; else the name's own words ('... Exchange', '... Province'); else a company."""
    stated = re.search(
        rf"\b{re.escape(name)} is (?:a|an|the) (?:[a-z]+ )?(city|province|company|country|region)\b", text
    )
    if stated:
        return stated[1]
    return next((kind for pattern, kind in KIND_WORDS if pattern.search(name)), "company")


class Subjects:
    """The names of a text, in order, and the subjects figures were given (to propose their rows)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.names: list[tuple[int, int, str]] = []
        for match in _NAME.finditer(text):
            if match.group().upper() in _UNIT_WORDS:
                continue
            start, name = match.start(), match.group().rstrip(".")
            while name and name.split(None, 1)[0].lower() in _NOT_NAMES | {"of", "and", "&"}:
                rest = re.match(r"\S+[ \t]*", name)
                start, name = start + (rest.end() if rest else len(name)), name[rest.end() if rest else len(name) :]
            if name:
                self.names.append((start, start + len(name), name))
        counts = Counter(slug_of(base_name(name)) for _, _, name in self.names)
        self.most_named = counts.most_common(1)[0][0] if counts else "unknown"
        self.used: dict[str, tuple[int, int, str, str]] = {}  # subject id -> (start, end, name, why)

    def subject_at(self, offset: int, sentence: tuple[int, int]) -> str:
        """The last name before offset in its sentence, else the subject given last, else the most named."""
        before = [n for n in self.names if sentence[0] <= n[0] and n[1] <= offset and not self._is_sentence_start(n)]
        if before:
            start, end, name = before[-1]
            return self._use(slug_of(base_name(name)), start, end, name, "the last name before the number")
        if self.used:
            last = list(self.used)[-1]
            return last
        named = next(((s, e, n) for s, e, n in self.names if slug_of(base_name(n)) == self.most_named), None)
        if named is None:
            return "unknown"
        return self._use(self.most_named, *named, "the name the article gives most often")

    def _is_sentence_start(self, name: tuple[int, int, str]) -> bool:
        """A single capitalised word opening a sentence is a name only if the text capitalises it elsewhere."""
        start, _, found = name
        opens = start == 0 or self.text[max(0, start - 2) : start].strip() in ("", ".", "•", "\u201c", '"')
        return opens and " " not in found and sum(1 for n in self.names if n[2] == found) < 2

    def _use(self, subject: str, start: int, end: int, name: str, why: str) -> str:
        self.used.setdefault(subject, (start, end, name, why))
        return subject

    def why(self, subject: str) -> str:
        return self.used[subject][3] if subject in self.used else "inherited from the figure before"

    def proposals(self, status: str) -> list[Proposal]:
        """An organizations row for every subject used, quoted where the text first names it."""
        from flows.drafting.draft import Proposal, sentence_span, unique_quote

        rows = []
        for subject, (start, end, name, _) in self.used.items():
            begin, finish = unique_quote(self.text, *sentence_span(self.text, start))
            kind = kind_of(self.text, name)
            record: dict[str, Any] = {"id": subject, "name": base_name(name), "kind": kind, "name_text": name,
                                      "quote": self.text[begin:finish], "description": "TO WRITE", "status": status,
                                      "confidence": 0.5, "comment": f"named in the text; kind {kind} guessed from "
                                      "its words or the text's 'X is a ...'"}  # fmt: skip
            rows.append(Proposal("organizations", record, start, end, {"figure": name}))
        return rows
