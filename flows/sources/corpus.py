"""Synthetic source folders for benchmarks and tests: valid snapshots, origins and records, distinct ids.

Each generated source is a short article about an invented city, with its park, company and exchange: a
paragraph introducing them (and a goal with a deadline), then one sentence per figure, each dated by its own
"In YYYY" (so every period is `stated`), then a paragraph of numbers that are not facts (excluded_numbers).
Every quote occurs exactly once, every number is accounted for, every figure uses a measure of the shared
vocabulary (datapackage/sources/measures.yaml) with a subject of the kind it applies to, and no two figures
of one subject and measure share a value (no unlinked restatement). Names are built from syllables that are
not number words, so the only numbers in a text are the ones the records account for.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SLUG_PREFIX = "synthetic"
TIME_FRAME = (2015, 2019)
CAPTURED_DATE = "2026-11-28"
FIGURES_PER_SOURCE = 20
# a figure is two mentions (its number and its year), the event and the deadline one each
EXCLUDED_PER_SOURCE = 8
_SYLLABLES = ("var", "nok", "kel", "mar", "dru", "lis", "sor", "pel", "tav", "quo", "bel", "gan", "rho", "zem")


@dataclass(frozen=True)
class Place:
    """The invented organizations of one source, by kind: names as the text writes them, and ids."""

    slug: str
    city: str
    park: str
    company: str
    exchange: str

    def organization_id(self, kind: str) -> str:
        return f"{self.slug}-{kind}"


# measure -> (subject kind, sentence with {subject} and {figure}, figure text with {n}, {m} or {x})
FIGURE_FORMS: dict[str, tuple[str, str, str]] = {
    "big_data_enterprises": ("city", "{subject} had {figure} big data enterprises", "{m:,}"),
    "big_data_enterprises_introduced": ("city", "{subject} introduced {figure} big data enterprises", "{n}"),
    "enterprises_above_designated_size_added": (
        "city",
        "{figure} enterprises of {subject} reached the designated size",
        "{n}",
    ),
    "big_data_revenue": ("city", "big data revenue of {subject} reached {figure}", "RMB {x} billion"),
    "big_data_industry_cluster_bases": ("city", "{subject} built {figure} industry cluster bases", "{n}"),
    "big_data_industrial_parks": ("city", "{subject} counted {figure} big data industrial parks", "about {n}"),
    "data_volume": ("exchange", "the {subject} held {figure} of data", "more than {n} PB"),
    "cases_solved_per_day": ("company", "{subject} solved {figure} cases each day", "nearly {n}"),
    "companies_in_town": ("park", "{subject} hosted {figure} companies", "{n}"),
    "output": ("park", "the output of {subject} came to {figure}", "RMB {x} million"),
    "investment": ("company", "{subject} invested {figure} in data centres", "{x} billion yuan"),
}
# kinds as the organizations table names them
ORGANIZATION_KINDS = {"city": "city", "park": "industrial-park", "company": "company", "exchange": "exchange"}
EXCLUDED_FORMS = (
    "The tour of {city} took {n} hours.",
    "The delegation had {n} members from abroad.",
    "Our guide had lived in {city} for {n} years.",
    "The hotel stood {n} kilometres from the park.",
    "The visit ended after {n} meetings.",
    "The bus had {n} seats.",
    "The museum of {city} showed {n} old maps.",
    "The closing dinner lasted {n} minutes.",
)


def syllable_name(number: int, syllables: int) -> str:
    """A pronounceable capitalised name, distinct for each number below len(_SYLLABLES) ** syllables."""
    number = (number + 1) * 7919 % len(_SYLLABLES) ** syllables  # a prime stride: neighbours do not look alike
    parts = []
    for _ in range(syllables):
        number, index = divmod(number, len(_SYLLABLES))
        parts.append(_SYLLABLES[index])
    return "".join(parts).capitalize()


def unique_name(number: int, syllables: int) -> str:
    """syllable_name, two syllables longer once `number` is past what `syllables` tell apart: no two sources name
    the same city or company (two that did would state the same measure of one subject, and be compared)."""
    return syllable_name(number, syllables if number < len(_SYLLABLES) ** syllables else syllables + 2)


def place_of(index: int) -> Place:
    """The organizations of source `index`: names that are not number words and do not overlap."""
    city = unique_name(index, 4)
    return Place(
        slug=source_slug(index),
        city=city,
        park=f"{city} Park",
        company=f"{unique_name(index + 7, 3)} Data",
        exchange=f"{city} Data Exchange",
    )


def source_slug(index: int) -> str:
    return f"{SLUG_PREFIX}-{index:05d}"


def figure_sentence(place: Place, position: int, index: int) -> tuple[dict[str, Any], str]:
    """One figure record and the sentence that states it: measures in turn, each with its own value."""
    measure = list(FIGURE_FORMS)[position % len(FIGURE_FORMS)]
    kind, template, form = FIGURE_FORMS[measure]
    year = TIME_FRAME[0] + position % (TIME_FRAME[1] - TIME_FRAME[0] + 1)
    number = 300 + 37 * position + index % 50  # from 300: never a part of the sentence's year ("201" in "2015")
    number += 10 if TIME_FRAME[0] <= number <= TIME_FRAME[1] else 0
    figure = form.format(n=number, m=number * 13, x=f"{1 + position}.{index % 9 + 1}")
    subject = getattr(place, kind)
    sentence = f"In {year}, " + template.format(subject=subject, figure=figure) + "."
    record = {
        "id": f"{place.slug}-figure-{position:03d}",
        "subject": place.organization_id(kind),
        "measure": measure,
        "figure": figure,
        "period": f"In {year}",
        "quote": sentence,
    }
    return record, sentence


def organization_records(place: Place) -> tuple[list[dict[str, Any]], list[str]]:
    sentences = {
        "city": f"{place.city} is a city in the hills.",
        "park": f"{place.park} is an industrial park on its edge.",
        "company": f"{place.company} is a company based there.",
        "exchange": f"The {place.exchange} trades data.",
    }
    records = [
        {
            "id": place.organization_id(kind),
            "name": getattr(place, kind),
            "kind": ORGANIZATION_KINDS[kind],
            "name_text": getattr(place, kind),
            "quote": sentence,
            "description": f"An invented {ORGANIZATION_KINDS[kind]} of a synthetic benchmark source.",
        }
        for kind, sentence in sentences.items()
    ]
    return records, list(sentences.values())


def event_and_target(place: Place) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """A fair whose name holds its year, and a goal with a deadline: undated sentences, before any dated one."""
    year = TIME_FRAME[1]
    event_name = f"{year} {place.city} Data Fair"
    event_sentence = f"The {event_name} drew visitors from far away."
    goal_sentence = f"{place.city} plans to become a regional data hub by year {year + 3}."
    event = {
        "id": f"{place.slug}-data-fair",
        "name": f"{place.city} Data Fair {year}",
        "name_text": event_name,
        "quote": event_sentence,
        "description": "An invented fair of a synthetic benchmark source.",
    }
    target = {
        "id": f"{place.slug}-data-hub",
        "subject": place.organization_id("city"),
        "goal": "become a regional data hub",
        "goal_text": "become a regional data hub",
        "deadline": f"by year {year + 3}",
        "quote": goal_sentence,
    }
    return {"events": [event], "targets": [target]}, [goal_sentence, event_sentence]


def excluded_records(place: Place, count: int) -> tuple[list[dict[str, Any]], list[str]]:
    """Numbers that are not facts, each in its own sentence, each a different number."""
    sentences = [
        EXCLUDED_FORMS[p % len(EXCLUDED_FORMS)].format(city=place.city, n=3 + p + len(EXCLUDED_FORMS) * (p // 8))
        for p in range(count)
    ]
    records = [
        {
            "id": f"{place.slug}-excluded-{position:03d}",
            "number": str(excluded_number(sentence)),
            "quote": sentence,
            "reason": "A detail of the visit in a synthetic benchmark source, not a fact it reports.",
        }
        for position, sentence in enumerate(sentences)
    ]
    return records, sentences


def source_files(index: int, figures: int = FIGURES_PER_SOURCE, excluded: int = EXCLUDED_PER_SOURCE) -> dict[str, str]:
    """Every file of synthetic source `index`, by path inside its folder: article.txt, origin.yaml, records."""
    place = place_of(index)
    organizations, introductions = organization_records(place)
    events_and_targets, undated = event_and_target(place)
    figure_records, figure_sentences = zip(*(figure_sentence(place, p, index) for p in range(figures)), strict=True)
    excluded_rows, excluded_sentences = excluded_records(place, excluded)
    paragraphs = [
        f"Data notes from {place.city}",
        " ".join([*introductions, *undated]),
        *(" ".join(figure_sentences[start : start + 5]) for start in range(0, figures, 5)),
        " ".join(excluded_sentences),
    ]
    text = "\n\n".join(paragraphs) + "\n"
    records = {"organizations": organizations, **events_and_targets, "figures": list(figure_records)}
    records["excluded_numbers"] = excluded_rows
    files = {"article.txt": text, "origin.yaml": origin_yaml(place, text)}
    files |= {f"records/{table}.yaml": dump_records(rows) for table, rows in records.items()}
    return files


def excluded_number(sentence: str) -> int:
    return next(int(word) for word in sentence.split() if word.isdigit())


def origin_yaml(place: Place, text: str) -> str:
    data = text.encode("utf-8")
    origin = {
        "title": f"Data notes from {place.city}",
        "snapshot": "article.txt",
        "site": "Synthetic benchmark corpus",
        "language": "en",
        "time_frame_start": TIME_FRAME[0],
        "time_frame_end": TIME_FRAME[1],
        "captured_date": CAPTURED_DATE,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }
    return "# A synthetic source written by flows/sources/corpus.py for benchmarks and tests.\n" + yaml.safe_dump(
        origin, sort_keys=False, allow_unicode=True
    )


def dump_records(rows: list[dict[str, Any]]) -> str:
    return yaml.safe_dump(rows, sort_keys=False, allow_unicode=True, width=1000)


def write_source(sources_dir: Path, index: int, figures: int = FIGURES_PER_SOURCE) -> Path:
    """Write synthetic source `index` into its folder under `sources_dir` and return the folder."""
    folder = sources_dir / source_slug(index)
    (folder / "records").mkdir(parents=True, exist_ok=True)
    for relative, content in source_files(index, figures).items():
        (folder / relative).write_text(content, encoding="utf-8")
    return folder


def grow_corpus(sources_dir: Path, count: int, figures: int = FIGURES_PER_SOURCE) -> list[Path]:
    """Make sure synthetic sources 0 .. count-1 exist under `sources_dir` (writing only the missing ones)."""
    written = []
    for index in range(count):
        if not (sources_dir / source_slug(index) / "origin.yaml").is_file():
            written.append(write_source(sources_dir, index, figures))
    return written
