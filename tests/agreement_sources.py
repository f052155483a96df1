"""Four sources written for the tests of agreement across sources: two that agree on Quorvale's 2018 big data
revenue, two that disagree on Tesmarin's 2017 one. Texts written for this project, not taken from any publisher."""

import hashlib
from pathlib import Path
from typing import Any

import yaml

from flows.core.inputs import read_inputs
from flows.core.paths import DEFAULT_PATHS
from flows.sources.extract import extract_folders

INPUTS = read_inputs(DEFAULT_PATHS)
Tables = dict[str, list[dict[str, Any]]]
# slug -> (title, city, the sentence introducing it, the figure's sentence, its figure text, its period text)
SOURCES = {
    "quorvale-herald": (
        "Quorvale builds its data economy",
        "Quorvale",
        "Quorvale is a city in the hills.",
        "In 2018, the big data revenue of Quorvale reached RMB 12 billion.",
        "RMB 12 billion",
        "In 2018",
    ),
    "quorvale-weekly": (
        "A data city called Quorvale",
        "Quorvale",
        "Quorvale is a city of data centres.",
        "Its big data revenue was 12.3 billion yuan in 2018.",
        "12.3 billion yuan",
        "in 2018",
    ),
    "tesmarin-daily": (
        "Tesmarin counts its data firms",
        "Tesmarin",
        "Tesmarin is a city by the lake.",
        "In 2017, big data revenue of Tesmarin reached RMB 9.1 billion.",
        "RMB 9.1 billion",
        "In 2017",
    ),
    "tesmarin-post": (
        "The lake city of Tesmarin",
        "Tesmarin",
        "Tesmarin is a city on the plain.",
        "In 2017, the big data revenue of Tesmarin came to RMB 9.8 billion.",
        "RMB 9.8 billion",
        "In 2017",
    ),
}


def write_source(sources_dir: Path, slug: str) -> Path:
    """A source folder as a person would write it: snapshot, origin.yaml with its sha256, records."""
    title, city, introduction, sentence, figure, period = SOURCES[slug]
    folder = sources_dir / slug
    (folder / "records").mkdir(parents=True)
    data = f"{title}\n\n{introduction} {sentence}\n".encode()
    (folder / "article.txt").write_bytes(data)
    origin = {"title": title, "snapshot": "article.txt", "site": "Test corpus", "language": "en",
              "time_frame_start": 2015, "time_frame_end": 2019, "captured_date": "2026-12-03",
              "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}  # fmt: skip
    organization = {"id": f"{slug}-city", "name": city, "kind": "city", "name_text": city, "quote": introduction,
                    "description": "An invented city of a test source."}  # fmt: skip
    figures = [{"id": f"{slug}-revenue", "subject": f"{slug}-city", "measure": "big_data_revenue",
                "figure": figure, "period": period, "quote": sentence}]  # fmt: skip
    (folder / "origin.yaml").write_text(yaml.safe_dump(origin, sort_keys=False), encoding="utf-8")
    for table, rows in (("organizations", [organization]), ("figures", figures)):
        (folder / "records" / f"{table}.yaml").write_text(yaml.safe_dump(rows, sort_keys=False), encoding="utf-8")
    return folder


def extract_sources(sources_dir: Path) -> tuple[Tables, dict[str, str]]:
    """Every table (empty ones too) extracted from the four sources written under `sources_dir`, and their texts."""
    folders = [write_source(sources_dir, slug) for slug in SOURCES]
    extracted = extract_folders(folders, INPUTS)
    tables = {table: list(extracted.get(table, [])) for table in INPUTS.schemas}
    texts = {folder.name: (folder / "article.txt").read_text(encoding="utf-8") for folder in folders}
    return tables, texts
