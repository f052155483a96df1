import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flows.checks.validate import ValidationFailed
from flows.core.paths import DEFAULT_PATHS, ProjectPaths
from flows.etl import etl
from flows.package.warehouse import query_warehouse
from flows.sources.records import InputError


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
    assert counts["figures"] == 18 and counts["number_mentions"] == 44 and counts["targets"] == 2
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
    with pytest.raises(InputError, match=r"figures.yaml, line \d+, field 'subject': 'no-such-company' is not a known"):
        etl(root=str(project.root))
    assert published_bytes(project) == before
    assert not list(project.warehouse_dir.glob(".*.tmp"))


def test_a_refreshed_rerun_changes_no_package_file(published_copy: ProjectPaths) -> None:
    summary = etl(root=str(published_copy.root), refresh=True)
    assert [path for path in summary["changed"] if not path.endswith(".duckdb")] == []
    assert summary["checks"]["failed"] == 0 and summary["checks"]["passed"] > 100


def test_the_flow_needs_no_file_outside_its_project(tmp_path: Path, published: ProjectPaths) -> None:
    assert not (published.root.parent / "shared").exists()
    assert (published.sources_dir / "big-data-valley" / "article.txt").is_file()


def test_the_run_records_its_findings_in_history_report_artifact_and_data_docs(published: ProjectPaths) -> None:
    from prefect.artifacts import Artifact

    report = json.loads((published.build_dir / "reports" / "latest.json").read_text(encoding="utf-8"))
    # the article's two findings rest on rounding and an inferred period: info, stated with their basis
    assert report["status"] == "passed" and report["warnings"] == []
    assert any("rounded" in message for message in report["info"])
    assert any("inferred" in message for message in report["info"])
    history = query_warehouse(published.history, "SELECT count(*) FROM results WHERE severity = 'info' AND NOT success")
    assert history[1][0][0] == len(report["info"])
    artifact = Artifact.get("valley-etl-validation")
    assert artifact is not None and "## Info" in str(artifact.data)
    index = (published.data_docs_dir / "index.html").read_text(encoding="utf-8")
    assert "guiyang-2018-big-data-revenue" in index and "guiyang-2018-enterprises-above-designated-size-added" in index


def test_data_docs_load_nothing_from_the_network(published: ProjectPaths) -> None:
    pages = [published.data_docs_dir / "index.html", *(published.data_docs_dir / "validations").rglob("*.html")]
    assert len(pages) > 10  # the index and a page per suite
    for page in pages:
        text = page.read_text(encoding="utf-8")
        references = re.findall(r"""(?:src|href)=["']([^"'#][^"']*)["']""", text)
        assert [r for r in references if r.startswith(("http:", "https:", "//"))] == [], page.name
        for reference in references:
            assert (page.parent / reference.split("?")[0]).is_file(), (page.name, reference)


def test_an_unchanged_second_run_skips_and_a_changed_record_rebuilds(
    project: ProjectPaths, prefect_api_url: str
) -> None:
    first = etl(root=str(project.root))
    assert first["skipped"] is False and first["changed_stages"] == ["extract", "package", "validate", "publish"]
    warehouse = project.warehouse.read_bytes()
    second = etl(root=str(project.root))
    assert second["skipped"] is True and second["input_key"] == first["input_key"]
    assert second["built_by"] == first["run_id"] and second["notes"] == []
    assert project.warehouse.read_bytes() == warehouse
    records = project.sources_dir / "big-data-valley" / "records" / "slogans.yaml"
    records.write_text(
        records.read_text(encoding="utf-8").replace("medium: flier", "medium: board", 1), encoding="utf-8"
    )
    third = etl(root=str(project.root))
    assert third["skipped"] is False and third["changed_stages"][0] == "extract"
    assert "datapackage/data/slogans.csv" in third["changed"]
    forced = etl(root=str(project.root), refresh=True)
    assert forced["skipped"] is False and forced["changed_stages"] == []


def test_a_run_that_cannot_get_the_lock_stops_and_changes_nothing(published_copy: ProjectPaths) -> None:
    from filelock import FileLock

    from flows.publish.switch import PublishLocked

    before = published_bytes(published_copy)
    with (
        FileLock(str(published_copy.warehouse_dir / ".publish.lock")),
        pytest.raises(PublishLocked, match="another valley run"),
    ):
        etl(root=str(published_copy.root), refresh=True, lock_timeout=0.5)
    assert published_bytes(published_copy) == before


def test_two_concurrent_runs_leave_valid_published_outputs(project: ProjectPaths, prefect_api_url: str) -> None:
    from flows.checks.integrity import audit_integrity
    from flows.core.inputs import read_schemas

    command = [str(Path(sys.executable).parent / "valley"), "--project", str(project.root), "run", "--refresh"]
    env = {**os.environ, "PREFECT_API_URL": prefect_api_url}
    runs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
    assert all("valley run: published" in out for out, _ in outputs)
    assert [r for r in audit_integrity(project, read_schemas(project.schemas_dir)) if not r["matches"]] == []
    assert not list(project.warehouse_dir.glob(".*.tmp")) and not list(project.build_dir.glob("staging-*"))


SECOND_SOURCE = "Acme Park in Testville had 12 companies in 2018.\n"


def add_second_source(paths: ProjectPaths, more_text: str = "") -> None:
    folder = paths.sources_dir / "acme-park"
    (folder / "records").mkdir(parents=True)
    (folder / "article.txt").write_text(SECOND_SOURCE + more_text, encoding="utf-8")
    data = (SECOND_SOURCE + more_text).encode()
    (folder / "origin.yaml").write_text(
        f"title: Acme Park\nsnapshot: article.txt\nlanguage: en\ntime_frame_start: 2018\ntime_frame_end: 2018\n"
        f"captured_date: 2026-11-28\nsha256: {hashlib.sha256(data).hexdigest()}\nbytes: {len(data)}\n",
        encoding="utf-8",
    )
    quote = SECOND_SOURCE.strip()
    (folder / "records" / "organizations.yaml").write_text(
        f'- id: acme-park\n  name: Acme Park\n  kind: industrial-park\n  name_text: "Acme Park"\n  quote: "{quote}"\n'
        "  description: A park in Testville.\n",
        encoding="utf-8",
    )
    (folder / "records" / "figures.yaml").write_text(
        f'- id: acme-park-2018-companies\n  subject: acme-park\n  measure: companies_in_town\n  figure: "12"\n'
        f'  period: "in 2018"\n  quote: "{quote}"\n',
        encoding="utf-8",
    )


def test_a_second_source_is_a_folder_and_extraction_maps_over_a_dask_cluster(
    project: ProjectPaths, prefect_api_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import LocalCluster
    from prefect_dask import DaskTaskRunner

    add_second_source(project)
    monkeypatch.setenv("PREFECT_API_URL", prefect_api_url)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        runner = DaskTaskRunner(address=cluster.scheduler_address)
        summary = etl.with_options(task_runner=runner)(root=str(project.root))
        organizations = project.sources_dir / "acme-park" / "records" / "organizations.yaml"
        text = organizations.read_text(encoding="utf-8")
        organizations.write_text(text.replace("A park in Testville.", "A park in Testville, edited."), "utf-8")
        again = etl.with_options(task_runner=runner)(root=str(project.root))  # only the edited source on the cluster
    assert summary["tables"]["sources"] == 2 and set(summary["sources"]["rebuilt"].values()) == {"new"}
    assert again["sources"] == {"total": 2, "reused": 1, "rebuilt": {"acme-park": "edited"}, "gone": [],
                                "validated": {"rows_read": 1, "facts_made": 1, "facts_reused": 1}}  # fmt: skip
    description = "SELECT description FROM organizations WHERE organization_id = 'acme-park'"
    assert query_warehouse(project.warehouse, description)[1] == [("A park in Testville, edited.",)]
    sources = query_warehouse(project.warehouse, "SELECT source_id FROM sources ORDER BY source_id")[1]
    assert sources == [("acme-park",), ("big-data-valley",)]
    figure = query_warehouse(project.warehouse, "SELECT value, period FROM figures WHERE source_id = 'acme-park'")[1]
    assert [(int(value), period) for value, period in figure] == [(12, 2018)]


COUNT_SCHEMA_OPENS = """
import atexit, json, os, sys
from pathlib import Path
schemas = os.path.realpath(sys.argv[1])
opens = {}
def count(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.realpath(os.fsdecode(args[0]))
        if os.path.dirname(path) == schemas:
            opens[os.path.basename(path)] = opens.get(os.path.basename(path), 0) + 1
sys.addaudithook(count)
atexit.register(lambda: Path(sys.argv[2]).write_text(json.dumps(opens)))
from flows.cli import main
sys.exit(main(["--project", sys.argv[3], "run"]))
"""


def test_one_valley_run_reads_each_table_schema_file_once(
    project: ProjectPaths, prefect_api_url: str, tmp_path: Path
) -> None:
    counts = tmp_path / "opens.json"
    env = {**os.environ, "PREFECT_API_URL": prefect_api_url}
    command = [sys.executable, "-c", COUNT_SCHEMA_OPENS, str(project.schemas_dir), str(counts), str(project.root)]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "valley run: published" in run.stdout
    schema_files = sorted(path.name for path in project.schemas_dir.glob("*.json"))
    assert json.loads(counts.read_text()) == dict.fromkeys(schema_files, 1)


def published_state(paths: ProjectPaths) -> dict[str, Any]:
    """Every published CSV and the descriptor as bytes, and every warehouse table's rows in key order."""
    state: dict[str, Any] = {path.name: path.read_bytes() for path in [*paths.data_dir.glob("*.csv"), paths.descriptor]}
    tables = [row[0] for row in query_warehouse(paths.warehouse, "SELECT table_name FROM duckdb_tables()")[1]]
    for table in sorted(tables):
        state[f"warehouse:{table}"] = query_warehouse(paths.warehouse, f"SELECT * FROM {table} ORDER BY ALL")[1]
    return state


def findings_of(summary: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted((row["fingerprint"], row["severity"], row["class"]) for row in summary["findings"])


def assert_equals_a_full_rebuild(paths: ProjectPaths, incremental: dict[str, Any]) -> None:
    before = published_state(paths)
    full = etl(root=str(paths.root), refresh=True)
    assert set(full["sources"]["rebuilt"].values()) == {"--refresh"}
    assert "rows_read" not in full["sources"]["validated"] and full["sources"]["validated"]["facts_reused"] == 0
    assert published_state(paths) == before
    assert findings_of(full) == findings_of(incremental) and full["checks"] == incremental["checks"]


def test_a_run_extracts_only_what_changed_and_equals_a_full_rebuild(
    project: ProjectPaths, prefect_api_url: str
) -> None:
    etl(root=str(project.root))
    add_second_source(project)
    added = etl(root=str(project.root))
    assert added["sources"] == {"total": 2, "reused": 1, "rebuilt": {"acme-park": "new"}, "gone": [],
                                "validated": {"rows_read": 1, "facts_made": 1, "facts_reused": 1}}  # fmt: skip
    assert_equals_a_full_rebuild(project, added)

    slogans = project.sources_dir / "big-data-valley" / "records" / "slogans.yaml"
    slogans.write_text(slogans.read_text(encoding="utf-8").replace("medium: flier", "medium: board", 1), "utf-8")
    kept_acme = project.kept_dir / "acme-park.json"
    kept_acme.write_bytes(kept_acme.read_bytes()[:-20])  # damaged: rebuilt, never trusted
    edited = etl(root=str(project.root))
    assert edited["sources"]["rebuilt"] == {"acme-park": "kept rows damaged", "big-data-valley": "edited"}
    # acme-park's rows are extracted again but are the ones the last publish passed: frictionless reads the edited only
    assert edited["sources"]["validated"] == {"rows_read": 1, "facts_made": 2, "facts_reused": 0}
    assert_equals_a_full_rebuild(project, edited)

    shutil.rmtree(project.sources_dir / "acme-park")
    (project.kept_dir / "big-data-valley.json").unlink()
    removed = etl(root=str(project.root))
    assert removed["sources"]["rebuilt"] == {"big-data-valley": "kept rows missing"}
    assert removed["sources"]["gone"] == ["acme-park"] and not kept_acme.exists()
    assert removed["sources"]["validated"] == {"rows_read": 0, "facts_made": 1, "facts_reused": 0}
    assert not (project.kept_facts_dir / "acme-park.json").exists()
    assert_equals_a_full_rebuild(project, removed)


def failed_run_findings(paths: ProjectPaths, refresh: bool = False) -> list[tuple[Any, ...]]:
    with pytest.raises(ValidationFailed, match="accounted for by no record"):
        etl(root=str(paths.root), refresh=refresh)
    report = json.loads((paths.build_dir / "reports" / "latest.json").read_text(encoding="utf-8"))
    return sorted((row["fingerprint"], row["severity"], row["key"]) for row in report["findings"])


def test_a_reused_sources_facts_give_the_findings_a_full_validation_gives(
    project: ProjectPaths, prefect_api_url: str
) -> None:
    add_second_source(project, "Its 3 halls are new.\n")  # a number no record accounts for: coverage fails
    first = failed_run_findings(project)
    assert ("critical", "acme-park/53") in {(severity, key) for _, severity, key in first}
    facts = project.kept_facts_dir / "acme-park.json"
    made_at = facts.stat().st_mtime_ns
    assert failed_run_findings(project) == first  # the rows and facts kept by the failed run, reused
    assert facts.stat().st_mtime_ns == made_at
    assert failed_run_findings(project, refresh=True) == first
    assert facts.stat().st_mtime_ns != made_at
