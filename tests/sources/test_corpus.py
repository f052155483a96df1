from pathlib import Path

import pytest

from flows.checks.validate import check_package
from flows.core.inputs import read_inputs, read_schemas
from flows.core.paths import ProjectPaths
from flows.package.stage import stage_package
from flows.sources.corpus import FIGURES_PER_SOURCE, grow_corpus, place_of, source_files, source_slug
from flows.sources.extract import extract_tables
from flows.sources.numbers import find_number_spans

SOURCES = 3


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> ProjectPaths:
    """A project copy whose sources are the article and three synthetic sources."""
    from tests.conftest import copy_project

    paths = copy_project(tmp_path_factory.mktemp("corpus") / "project")
    grow_corpus(paths.sources_dir, SOURCES)
    return paths


def test_corpus_writes_only_missing_sources(tmp_path: Path) -> None:
    assert [folder.name for folder in grow_corpus(tmp_path, 2)] == [source_slug(0), source_slug(1)]
    assert [folder.name for folder in grow_corpus(tmp_path, 3)] == [source_slug(2)]


def test_corpus_sources_are_distinct_and_deterministic() -> None:
    assert source_files(7) == source_files(7)
    assert source_files(7)["article.txt"] != source_files(8)["article.txt"]
    assert len(find_number_spans(source_files(7)["article.txt"])) == 2 * FIGURES_PER_SOURCE + 10


@pytest.mark.parametrize("index", [0, 2736, 2737, 38415, 38416, 99_999])
def test_no_two_sources_name_the_same_city_or_company(index: int) -> None:
    """Sources on one subject are compared (flows/checks/consistency.py): past the names 3 or 4 syllables tell
    apart (2,744 companies, 38,416 cities), names grow two syllables rather than repeat (to 537,824 sources)."""
    place = place_of(index)
    for other in (index + 1, index + 2744, index + 38416, index + 100_000):
        assert (place_of(other).city, place_of(other).company) != (place.city, place.company)
        assert place_of(other).city != place.city and place_of(other).company != place.company
    assert len(find_number_spans(source_files(index)["article.txt"])) == 2 * FIGURES_PER_SOURCE + 10


def test_corpus_extracts_with_every_number_accounted_for(corpus: ProjectPaths) -> None:
    tables = extract_tables(corpus.sources_dir)
    assert len(tables["sources"]) == SOURCES + 1
    synthetic = [row for row in tables["figures"] if row["source_id"].startswith("synthetic-")]
    assert len(synthetic) == SOURCES * FIGURES_PER_SOURCE
    assert {row["period_basis"] for row in synthetic} == {"stated"}
    assert [row for row in tables["number_mentions"] if row["accounted_by_table"] is None] == []


def test_corpus_passes_validation_without_warnings(corpus: ProjectPaths, tmp_path: Path) -> None:
    from flows.checks.expect import write_suites

    schemas = read_schemas(corpus.schemas_dir)
    descriptor = stage_package(extract_tables(corpus.sources_dir), corpus, tmp_path, read_inputs(corpus))
    write_suites(schemas, corpus.expectations_dir, tmp_path / "expectations")
    report = check_package(descriptor.parent, schemas, tmp_path / "expectations", corpus.expectations_dir)
    assert report.blocking == [] and report.warnings == []
    assert report.counts["passed"] > 100


def test_input_key_of_a_corpus_is_the_pathlib_digest(corpus: ProjectPaths) -> None:
    from flows.package.keys import digest_files, digest_tree

    (corpus.sources_dir / f"{source_slug(0)}-notes").mkdir()  # a name that sorts apart by string and by parts
    (corpus.sources_dir / f"{source_slug(0)}-notes" / "a.txt").write_text("x", encoding="utf-8")
    expected = digest_files(corpus.sources_dir.rglob("*"), corpus.root)
    assert digest_tree(corpus.sources_dir, corpus.root) == expected
    (corpus.sources_dir / f"{source_slug(0)}-notes" / "a.txt").unlink()
    (corpus.sources_dir / f"{source_slug(0)}-notes").rmdir()
