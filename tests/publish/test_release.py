import datetime as dt
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import duckdb
import pytest

from flows.core.inputs import read_inputs, read_schemas
from flows.core.paths import DEFAULT_PATHS, ProjectPaths
from flows.package.stage import build_descriptor, stage_package
from flows.package.warehouse import build_warehouse
from flows.publish.diff import diff_rows, diff_tables, format_changelog_entry, read_csv_rows
from flows.publish.page import describe_sources, render_chart, section_validation
from flows.publish.release import (
    ReleaseRefused,
    cut_release,
    format_sha256sums,
    parse_version,
    read_validation_report,
    write_reproducible_zip,
)
from flows.sources.extract import extract_tables
from tests.conftest import copy_project

DAY_ONE, DAY_TWO = dt.date(2026, 1, 5), dt.date(2026, 2, 9)


def republish(paths: ProjectPaths) -> None:
    """Descriptor hashes and warehouse rebuilt from the CSVs as they are: what a passing run would publish."""
    schemas = read_schemas(paths.schemas_dir)
    current = json.loads(paths.descriptor.read_text(encoding="utf-8"))
    descriptor = build_descriptor(current, schemas, paths.package_dir)
    paths.descriptor.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths.warehouse.unlink(missing_ok=True)
    build_warehouse(schemas, paths.data_dir, paths.views_dir, paths.warehouse)


@pytest.fixture
def publishable(tmp_path: Path) -> ProjectPaths:
    """A project copy in the state a passing `valley run` leaves, made without Prefect or GX (fast)."""
    paths = copy_project(tmp_path / "project")
    set_version(paths, "0.1.0")  # releases in these tests start at 0.1.0, whatever the package's version is
    staged = stage_package(extract_tables(paths.sources_dir), paths, tmp_path / "staging", read_inputs(paths)).parent
    for csv_path in (staged / "data").glob("*.csv"):
        shutil.copyfile(csv_path, paths.data_dir / csv_path.name)
    republish(paths)
    return paths


def set_version(paths: ProjectPaths, version: str) -> None:
    descriptor = json.loads(paths.descriptor.read_text(encoding="utf-8"))
    descriptor["version"] = version
    paths.descriptor.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def change_figure_value(paths: ProjectPaths, figure_id: str, old: str, new: str) -> None:
    figures = paths.data_dir / "figures.csv"
    lines = figures.read_text(encoding="utf-8").splitlines(keepends=True)
    [number] = [i for i, line in enumerate(lines) if line.startswith(f"{figure_id},")]
    assert f",{old}," in lines[number]
    lines[number] = lines[number].replace(f",{old},", f",{new},", 1)
    figures.write_text("".join(lines), encoding="utf-8")
    republish(paths)


def dist_state(paths: ProjectPaths) -> dict[str, tuple[bytes, int]]:
    files = [p for p in paths.dist_dir.rglob("*") if p.is_file() and p.name != ".release.lock"]
    return {str(p.relative_to(paths.dist_dir)): (p.read_bytes(), p.stat().st_mtime_ns) for p in files}


def test_diff_rows_matches_by_primary_key_and_names_changed_fields() -> None:
    old = [
        {"source_id": "a", "offset": "1", "text": "14"},
        {"source_id": "a", "offset": "2", "text": "58"},
        {"source_id": "b", "offset": "1", "text": "2020"},
    ]
    new = [
        {"source_id": "a", "offset": "2", "text": "59"},
        {"source_id": "b", "offset": "1", "text": "2020"},
        {"source_id": "b", "offset": "9", "text": "six"},
    ]
    changes = diff_rows(old, new, ["source_id", "offset"])
    assert changes.added == [("b", "9")]
    assert changes.removed == [("a", "1")]
    assert changes.changed == [(("a", "2"), {"text": ("58", "59")})]
    assert changes.label(("a", "2")) == "source_id=a, offset=2"


def test_diff_rows_reports_a_column_one_release_lacks_as_none() -> None:
    changes = diff_rows([{"id": "x", "a": "1"}], [{"id": "x", "a": "1", "b": ""}], ["id"])
    assert changes.changed == [(("x",), {"b": (None, "")})]


def test_diff_tables_counts_a_table_only_one_release_has_as_added_or_removed() -> None:
    old = {"gone": [{"id": "1"}], "kept": [{"id": "1"}]}
    new = {"kept": [{"id": "1"}], "fresh": [{"id": "2"}]}
    changes = diff_tables(old, new, {"gone": ["id"], "kept": ["id"], "fresh": ["id"]})
    assert list(changes) == ["kept", "fresh", "gone"]
    assert changes["kept"].empty and changes["fresh"].added == [("2",)] and changes["gone"].removed == [("1",)]


def test_changelog_entry_names_the_changed_row_and_field() -> None:
    changes = {
        "figures": diff_rows(
            [{"figure_id": "f", "value": "1632"}], [{"figure_id": "f", "value": "1633"}], ["figure_id"]
        )
    }
    entry = format_changelog_entry("0.2.0", "0.1.0", "2026-02-09", changes, {"figures": 1})
    assert entry.splitlines()[0] == "## 0.2.0 (2026-02-09)"
    assert "- **figures**: 0 added, 0 removed, 1 changed" in entry
    assert "  - changed figure_id=f: value: `1632` → `1633`" in entry
    first = format_changelog_entry("0.1.0", None, "2026-01-05", {}, {"figures": 20, "events": 3})
    assert "First release: figures 20, events 3 rows." in first


def test_write_reproducible_zip_ignores_file_times_and_creation_order(tmp_path: Path) -> None:
    archives = []
    for attempt, names in enumerate([["b.csv", "a/x.json"], ["a/x.json", "b.csv"]]):
        folder = tmp_path / f"folder{attempt}"
        for name in names:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(f"content of {name}\n", encoding="utf-8")
            os.utime(folder / name, (1_000_000 * (attempt + 1), 1_000_000 * (attempt + 1)))
        write_reproducible_zip(folder, tmp_path / f"{attempt}.zip")
        archives.append((tmp_path / f"{attempt}.zip").read_bytes())
    assert archives[0] == archives[1]
    with zipfile.ZipFile(tmp_path / "0.zip") as archive:
        assert archive.namelist() == ["a/x.json", "b.csv"]
        assert archive.read("b.csv") == b"content of b.csv\n"


def test_format_sha256sums_lines_verify_with_sha256sum(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "t.csv").write_text("id\n1\n", encoding="utf-8")
    (tmp_path / "README.md").write_text("hello\n", encoding="utf-8")
    (tmp_path / "SHA256SUMS").write_text(format_sha256sums(tmp_path), encoding="utf-8")
    checked = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True)
    assert checked.returncode == 0 and checked.stdout.splitlines() == ["README.md: OK", "data/t.csv: OK"]
    (tmp_path / "README.md").write_text("changed\n", encoding="utf-8")
    assert subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True).returncode == 1


@pytest.mark.parametrize("version", ["2026-01-05", "v1.0.0", "1.0", "01.2.3", "None"])
def test_parse_version_refuses_a_version_that_is_not_semantic(version: str) -> None:
    with pytest.raises(ReleaseRefused, match="not semantic"):
        parse_version(version)


def test_cut_release_writes_zip_duckdb_checksums_and_points_latest_at_it(publishable: ProjectPaths) -> None:
    release = cut_release(publishable, today=DAY_ONE)
    folder = publishable.dist_dir / "0.1.0"
    assert (release.status, release.directory, release.previous) == ("released", folder, None)
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert {
        "valley-0.1.0.zip",
        "valley-0.1.0.duckdb",
        "SHA256SUMS",
        "changes.json",
        "CHANGES.md",
        "index.html",
    } <= names
    assert os.readlink(publishable.dist_dir / "latest") == "0.1.0"
    assert [p.name for p in publishable.dist_dir.iterdir() if p.name.startswith(".staging")] == []
    listed = [line.split("  ", 1)[1] for line in (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines()]
    assert sorted(listed) == sorted(names - {"SHA256SUMS"})
    with zipfile.ZipFile(folder / "valley-0.1.0.zip") as archive:
        members = archive.namelist()
    schemas = read_schemas(publishable.schemas_dir)
    for table in schemas:
        assert {f"data/{table}.csv", f"data/{table}.parquet", f"schemas/{table}.json"} <= set(members)
    assert not [m for m in members if "article" in m or m.startswith("sources/")]
    assert "## 0.1.0 (2026-01-05)\n\nFirst release:" in (publishable.dist_dir / "CHANGELOG.md").read_text(
        encoding="utf-8"
    )


def test_releasing_identical_content_again_is_a_no_op(publishable: ProjectPaths) -> None:
    cut_release(publishable, today=DAY_ONE)
    before = dist_state(publishable)
    again = cut_release(publishable, today=DAY_TWO)
    assert again.status == "unchanged"
    assert dist_state(publishable) == before


def test_releasing_changed_content_under_a_released_version_is_refused(publishable: ProjectPaths) -> None:
    cut_release(publishable, today=DAY_ONE)
    before = dist_state(publishable)
    change_figure_value(publishable, "guiyang-2018-big-data-enterprises", "1632", "1633")
    with pytest.raises(
        ReleaseRefused,
        match=r"version 0\.1\.0 is already released .* different content \(valley-0\.1\.0\.zip.*to 0\.1\.1, the patch",
    ):
        cut_release(publishable, today=DAY_TWO)
    assert dist_state(publishable) == before
    assert not [p for p in publishable.dist_dir.iterdir() if p.name.startswith(".staging")]


def add_slogan_row(paths: ProjectPaths) -> None:
    slogans = paths.data_dir / "slogans.csv"
    lines = slogans.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.append(lines[-1].replace(lines[-1].split(",", 1)[0], "a-new-slogan", 1))
    slogans.write_text("".join(lines), encoding="utf-8")
    republish(paths)


def test_new_rows_under_a_released_version_suggest_the_next_minor_version(publishable: ProjectPaths) -> None:
    set_version(publishable, "0.2.0")
    cut_release(publishable, today=DAY_ONE)
    add_slogan_row(publishable)  # what a new source brings: rows
    with pytest.raises(ReleaseRefused, match=r"\(to 0\.3\.0, the minor version: rows, columns or tables were added"):
        cut_release(publishable, today=DAY_TWO)


def test_a_second_release_diff_names_exactly_the_changed_figure_and_field(publishable: ProjectPaths) -> None:
    cut_release(publishable, today=DAY_ONE)
    change_figure_value(publishable, "guiyang-2018-big-data-enterprises", "1632", "1633")
    set_version(publishable, "0.2.0")
    release = cut_release(publishable, today=DAY_TWO)
    assert (release.status, release.previous) == ("released", "0.1.0")
    touched = {name: table for name, table in release.changes.items() if not table.empty}
    assert list(touched) == ["figures"]
    assert touched["figures"].changed == [(("guiyang-2018-big-data-enterprises",), {"value": ("1632", "1633")})]
    assert not touched["figures"].added and not touched["figures"].removed
    recorded = json.loads((release.directory / "changes.json").read_text(encoding="utf-8"))
    assert recorded["previous"] == "0.1.0"
    assert recorded["tables"]["figures"]["changed"] == [
        {"key": {"figure_id": "guiyang-2018-big-data-enterprises"}, "fields": {"value": {"old": "1632", "new": "1633"}}}
    ]
    changelog = (publishable.dist_dir / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.index("## 0.2.0 (2026-02-09)") < changelog.index("## 0.1.0 (2026-01-05)")
    assert "changed figure_id=guiyang-2018-big-data-enterprises: value: `1632` → `1633`" in changelog
    assert os.readlink(publishable.dist_dir / "latest") == "0.2.0"


def test_a_version_below_the_latest_release_is_refused(publishable: ProjectPaths) -> None:
    set_version(publishable, "0.3.0")
    cut_release(publishable, today=DAY_ONE)
    set_version(publishable, "0.2.9")
    with pytest.raises(ReleaseRefused, match=r"0\.2\.9 is older than the released 0\.3\.0"):
        cut_release(publishable, today=DAY_TWO)
    assert os.readlink(publishable.dist_dir / "latest") == "0.3.0"


def break_csv_hash(paths: ProjectPaths) -> None:
    figures = paths.data_dir / "figures.csv"
    figures.write_text(figures.read_text(encoding="utf-8").replace(",1632,", ",1633,", 1), encoding="utf-8")


def drop_warehouse_row(paths: ProjectPaths) -> None:
    with duckdb.connect(str(paths.warehouse)) as connection:
        connection.execute("DELETE FROM slogans WHERE slogan_id = (SELECT min(slogan_id) FROM slogans)")


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (break_csv_hash, "does not pass validation"),
        (lambda paths: paths.warehouse.unlink(), "nothing is published yet"),
        (drop_warehouse_row, "warehouse table slogans has 5 rows, data/slogans.csv has 6"),
    ],
)
def test_a_package_no_passing_run_published_is_refused(publishable: ProjectPaths, tamper, expected: str) -> None:
    tamper(publishable)
    with pytest.raises(ReleaseRefused, match="Run `valley run`") as refused:
        cut_release(publishable, today=DAY_ONE)
    assert expected in str(refused.value)
    assert not (publishable.dist_dir / "0.1.0").exists() and not (publishable.dist_dir / "latest").exists()


def test_the_page_says_when_no_validation_report_is_available() -> None:
    assert "validation report not available" in section_validation(None)
    shown = section_validation({"checks": {"passed": 3, "warned": 1, "failed": 0}, "warnings": ["year <b>odd</b>"]})
    assert "Validation: warned" in shown and "3 passed, 1 warned, 0 failed" in shown
    assert "<li>year &lt;b&gt;odd&lt;/b&gt;</li>" in shown


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        (None, None),
        ({"run_id": "a"}, None),
        (
            {"run_id": "a", "validation": {"run_id": "a", "warnings": []}},
            {"run_id": "a", "warnings": [], "published": True},
        ),
    ],
)
def test_the_release_reads_the_validation_its_build_recorded_whatever_ran_since(
    tmp_path: Path, manifest: dict | None, expected: dict | None
) -> None:
    paths = ProjectPaths(tmp_path)
    (paths.build_dir / "reports").mkdir(parents=True)  # a later run's report is not the build's validation
    (paths.build_dir / "reports" / "latest.json").write_text(json.dumps({"run_id": "b", "warnings": ["x"]}))
    if manifest is not None:
        paths.warehouse_dir.mkdir(parents=True)
        paths.manifest.write_text(json.dumps(manifest), encoding="utf-8")
    assert read_validation_report(paths) == expected


def test_render_chart_draws_each_selected_figure_with_its_quote_on_hover() -> None:
    view = {
        "name": "test",
        "resources": ["figures"],
        "spec": {
            "data": {"name": "figures"},
            "transform": [{"filter": "datum.period != null"}],
            "mark": "bar",
            "encoding": {
                "x": {"field": "figure_id", "type": "nominal"},
                "y": {"field": "value", "type": "quantitative"},
                "description": {"field": "evidence_quote"},
            },
        },
    }
    rows = [
        {"figure_id": "a", "period": "2017", "value": "80", "evidence_quote": "grew to 80 <fast>"},
        {"figure_id": "b", "period": "", "value": "7", "evidence_quote": "undated"},
    ]
    schema = {"fields": [{"name": "figure_id", "type": "string"}, {"name": "period", "type": "integer"}]}
    schema["fields"] += [{"name": "value", "type": "number"}, {"name": "evidence_quote", "type": "string"}]
    svg = render_chart(view, {"figures": rows}, {"figures": schema})
    assert svg.startswith("<svg") and svg.count("<title>") == 1
    assert "<title>grew to 80 &lt;fast&gt;</title>" in svg and "undated" not in svg


def test_the_package_charts_fit_their_labels_and_keep_points_off_the_edges() -> None:
    """Legends and labels are drawn whole (Vega cuts a long one with an ellipsis), and no point sits on the plot's
    edge (each point's centre is at least its radius inside the plot)."""
    descriptor = json.loads(DEFAULT_PATHS.descriptor.read_text(encoding="utf-8"))
    schemas = read_schemas(DEFAULT_PATHS.schemas_dir)
    rows = read_csv_rows((DEFAULT_PATHS.data_dir / "figures.csv").read_text(encoding="utf-8"))
    for view in descriptor["views"]:
        svg = render_chart(view, {"figures": rows}, schemas)
        assert "…" not in "".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg)), view["name"]
        spec = view["spec"]
        for x, y, radius in re.findall(
            r'aria-roledescription="point" transform="translate\(([-\d.]+),([-\d.]+)\)" d="M([\d.]+),', svg
        ):
            assert float(radius) <= float(x) <= spec["width"] - float(radius), (view["name"], x)
            if "height" in spec:
                assert float(radius) <= float(y) <= spec["height"] - float(radius), (view["name"], y)
    legend = render_chart(next(v for v in descriptor["views"] if v["name"] == "guiyang-counts-by-year"),
                          {"figures": rows}, schemas)  # fmt: skip
    assert ">enterprises_above_designated_size_added</text>" in legend


def test_the_page_names_every_source() -> None:
    sources = [
        {"title": "First article", "site": "Site A", "published_date": "2019-06-01"},
        {"title": "Second article", "site": "", "published_date": ""},
    ]
    assert describe_sources(sources) == (
        "Extracted from 2 sources: “First article” (Site A, 2019-06-01); “Second article” (site not stated, date not "
        "stated)."
    )
