import json
import re
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
    assert not list(published.build_dir.glob("staging-*"))


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


def test_the_run_records_its_warnings_in_history_report_artifact_and_data_docs(published: ProjectPaths) -> None:
    from prefect.artifacts import Artifact

    report = json.loads((published.build_dir / "reports" / "latest.json").read_text(encoding="utf-8"))
    assert report["status"] == "warned" and len(report["warnings"]) == 2
    history = query_warehouse(
        published.history, "SELECT count(*) FROM results WHERE severity = 'warning' AND NOT success"
    )
    assert history[1][0][0] >= 2
    artifact = Artifact.get("valley-etl-validation")
    assert artifact is not None and "## Warnings" in str(artifact.data)
    index = (published.data_docs_dir / "index.html").read_text(encoding="utf-8")
    assert "guiyang-2018-big-data-revenue" in index and "guiyang-2018-enterprises-above-designated-size-added" in index


def test_data_docs_load_nothing_from_the_network(published: ProjectPaths) -> None:
    pages = [published.data_docs_dir / "index.html", *(published.data_docs_dir / "validations").glob("*.html")]
    assert len(pages) == 15
    for page in pages:
        text = page.read_text(encoding="utf-8")
        references = re.findall(r"""(?:src|href)=["']([^"'#][^"']*)["']""", text)
        assert [r for r in references if r.startswith(("http:", "https:", "//"))] == [], page.name
        for reference in references:
            assert (page.parent / reference.split("?")[0]).is_file(), (page.name, reference)
