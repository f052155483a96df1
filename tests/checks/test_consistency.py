"""Agreement across sources: two sources that state one measure of one subject for one year are compared within both
intervals, by the rule corroboration uses. The four sources here are texts written for these tests."""

import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.checks.audit import build_facts
from flows.checks.expect import CheckResult, frames_of, validate_tables
from flows.checks.rules import read_view
from flows.core.inputs import read_inputs
from flows.core.paths import DEFAULT_PATHS
from flows.sources.extract import extract_folders

INPUTS = read_inputs(DEFAULT_PATHS)
COLUMNS = {table: [f["name"] for f in schema["fields"]] for table, schema in INPUTS.schemas.items()}
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


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Tables, dict[str, str]]:
    sources_dir = tmp_path_factory.mktemp("sources")
    folders = [write_source(sources_dir, slug) for slug in SOURCES]
    extracted = extract_folders(folders, INPUTS)
    tables = {table: list(extracted.get(table, [])) for table in INPUTS.schemas}
    texts = {folder.name: (folder / "article.txt").read_text(encoding="utf-8") for folder in folders}
    return tables, texts


def failures(tables: Tables, texts: dict[str, str]) -> list[CheckResult]:
    frames = frames_of(tables, COLUMNS)
    expectations = DEFAULT_PATHS.expectations_dir
    return [r for r in validate_tables(frames, texts, INPUTS.schemas, expectations, expectations) if not r.success]


def corroboration_rows(tables: Tables, texts: dict[str, str]) -> dict[str, dict[str, Any]]:
    keys = {table: schema["primaryKey"] for table, schema in INPUTS.schemas.items()}
    rows = read_view(frames_of(tables, COLUMNS), build_facts(tables, texts, keys), INPUTS.schemas, "corroboration")
    return {row["key"]: row for row in rows}


def test_two_sources_that_agree_corroborate_and_two_that_disagree_warn(corpus: tuple[Tables, dict[str, str]]) -> None:
    tables, texts = corpus
    rows = corroboration_rows(tables, texts)
    assert set(rows) == {"quorvale-weekly-revenue", "tesmarin-post-revenue"}  # one row per later source's figure
    agreed = rows["quorvale-weekly-revenue"]
    assert (agreed["table"], agreed["agrees"], agreed["finding"]) == ("figures", True, "agrees")
    assert "quorvale-herald-revenue" in agreed["detail"] and "agrees within both precisions" in agreed["detail"]
    (found,) = failures(tables, texts)  # nothing else fails: the test sources are valid
    assert (found.suite, found.column, found.severity) == ("corroboration", "agrees", "warning")
    assert [row["key"] for row in found.failing] == ["tesmarin-post-revenue"]
    message = found.message
    for slug in ("tesmarin-daily", "tesmarin-post"):
        title, _, _, sentence, figure, _ = SOURCES[slug]
        assert f"'{title}' (Test corpus)" in message and f"quote '{sentence}'" in message and figure in message
    assert "(9.75e+09 to 9.85e+09, 2017 stated)" in message and "(9.05e+09 to 9.15e+09, 2017 stated)" in message
    assert message.endswith(
        "quote 'In 2017, big data revenue of Tesmarin reached RMB 9.1 billion.': the value intervals do not meet)"
    )


def test_a_disagreement_on_an_inferred_year_is_info(corpus: tuple[Tables, dict[str, str]]) -> None:
    tables, texts = corpus
    copy = {table: [dict(row) for row in rows] for table, rows in tables.items()}
    next(row for row in copy["figures"] if row["figure_id"] == "tesmarin-daily-revenue")["period_basis"] = (
        "inferred_paragraph"
    )
    rows = corroboration_rows(copy, texts)
    assert rows["tesmarin-post-revenue"]["finding"] == "disagrees_inferred_period"
    assert "2017 inferred_paragraph" in rows["tesmarin-post-revenue"]["detail"]


def test_restatements_and_undated_figures_are_not_compared_across_sources(
    corpus: tuple[Tables, dict[str, str]],
) -> None:
    tables, texts = corpus
    copy = {table: [dict(row) for row in rows] for table, rows in tables.items()}
    figures = {row["figure_id"]: row for row in copy["figures"]}
    figures["tesmarin-post-revenue"]["same_as"] = "tesmarin-daily-revenue"  # a restatement is figure_pairs' to judge
    figures["quorvale-weekly-revenue"]["period"] = None
    assert corroboration_rows(copy, texts) == {}
