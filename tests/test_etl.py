from pathlib import Path

import pytest

from flows.etl import etl
from flows.steps.paths import DEFAULT_PATHS, ProjectPaths
from flows.steps.validate import ValidationFailed
from flows.steps.warehouse import query_warehouse


def published_bytes(paths: ProjectPaths) -> dict[str, bytes]:
    files = [
        *paths.data_dir.glob("*.csv"),
        paths.descriptor,
        *paths.expectations_dir.glob("*.json"),
        paths.warehouse,
    ]
    return {str(path.relative_to(paths.root)): path.read_bytes() for path in files}


def test_the_flow_publishes_the_warehouse_and_reproduces_the_committed_csvs(published: ProjectPaths) -> None:
    counts = dict(query_warehouse(published.warehouse, "SELECT table_name, estimated_size FROM duckdb_tables()")[1])
    assert counts["figures"] == 20 and counts["number_mentions"] == 50
    for path in DEFAULT_PATHS.data_dir.glob("*.csv"):
        assert (published.data_dir / path.name).read_bytes() == path.read_bytes(), path.name
    assert not list(published.warehouse_dir.glob(".*.tmp"))
    assert not list(published.build_dir.iterdir())


def test_a_corrupted_value_stops_the_flow_and_leaves_published_outputs_byte_identical(
    project: ProjectPaths, prefect_api_url: str
) -> None:
    etl(root=str(project.root))
    before = published_bytes(project)
    records = project.sources_dir / "big-data-valley" / "records" / "figures.yaml"
    text = records.read_text(encoding="utf-8")
    assert "subject: diandingding" in text
    records.write_text(text.replace("subject: diandingding", "subject: no-such-company", 1), encoding="utf-8")
    with pytest.raises(ValidationFailed, match=r"figures: .*field 'subject_id'.*figure_id=diandingding-investment"):
        etl(root=str(project.root))
    assert published_bytes(project) == before
    assert not list(project.warehouse_dir.glob(".*.tmp"))


def test_an_unchanged_rerun_changes_no_package_file(published: ProjectPaths) -> None:
    summary = etl(root=str(published.root))
    assert [path for path in summary["changed"] if not path.endswith(".duckdb")] == []
    assert summary["checks"]["failed"] == 0 and summary["checks"]["passed"] > 100


def test_the_flow_needs_no_file_outside_its_project(tmp_path: Path, published: ProjectPaths) -> None:
    assert not (published.root.parent / "shared").exists()
    assert (published.sources_dir / "big-data-valley" / "article.txt").is_file()
