import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

from flows.core.inputs import read_schemas
from flows.core.paths import ProjectPaths
from flows.etl import etl
from flows.package.stage import format_cell
from flows.publish.page import section_validation
from tests.browser import Chromium

BIN = Path(sys.executable).parent
REPORT = {
    "checks": {"passed": 150, "warned": 1, "failed": 0},
    "warnings": ["figures: a test warning <with markup> that the page must show"],
}


def valley_release(paths: ProjectPaths) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "valley"), "--project", str(paths.root), "release"], capture_output=True, text=True, timeout=300
    )


def set_version(paths: ProjectPaths, version: str) -> None:
    """Releases in these tests start at 0.1.0, whatever the package's own version is."""
    descriptor = json.loads(paths.descriptor.read_text(encoding="utf-8"))
    descriptor["version"] = version
    paths.descriptor.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def copy_published(published: ProjectPaths, target: Path) -> ProjectPaths:
    shutil.copytree(published.root, target, symlinks=True)
    return ProjectPaths(target)


@pytest.fixture(scope="module")
def released(published: ProjectPaths, tmp_path_factory: pytest.TempPathFactory) -> ProjectPaths:
    """A copy of the published project whose build recorded a warning, released once through the CLI."""
    paths = copy_published(published, tmp_path_factory.mktemp("released") / "project")
    set_version(paths, "0.1.0")
    manifest = json.loads(paths.manifest.read_text(encoding="utf-8"))
    paths.manifest.write_text(json.dumps({**manifest, "validation": REPORT}), encoding="utf-8")
    completed = valley_release(paths)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("valley release: 0.1.0 released\n"), completed.stdout
    return paths


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_a_fresh_release_unzipped_into_an_empty_folder_validates_and_matches_duckdb_and_parquet(
    released: ProjectPaths, tmp_path: Path
) -> None:
    release = released.dist_dir / "0.1.0"
    unzipped = tmp_path / "unzipped"
    unzipped.mkdir()
    with zipfile.ZipFile(release / "valley-0.1.0.zip") as archive:
        archive.extractall(unzipped)
    validated = subprocess.run(
        [str(BIN / "frictionless"), "validate", "--json", "datapackage.json"],
        cwd=unzipped,
        capture_output=True,
        text=True,
    )
    report = json.loads(validated.stdout)
    schemas = read_schemas(released.schemas_dir)
    assert report["valid"] and report["warnings"] == [], report
    assert [task["name"] for task in report["tasks"]] == list(schemas)
    for folder in (unzipped, release):
        files = [p for p in folder.rglob("*") if p.is_file() and p.name != "SHA256SUMS"]
        checked = subprocess.run(
            ["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=folder, capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert checked.stdout.count(": OK\n") == len(files) > 5
    with duckdb.connect(str(release / "valley-0.1.0.duckdb"), read_only=True) as connection:
        for table in schemas:
            header, *rows = csv_rows(unzipped / "data" / f"{table}.csv")
            assert connection.execute(f'SELECT count(*) FROM "{table}"').fetchone() == (len(rows),), table
            parquet = connection.execute(f"SELECT * FROM read_parquet('{unzipped / 'data' / f'{table}.parquet'}')")
            assert [d[0] for d in parquet.description] == header
            parquet_rows = [[format_cell(value) for value in row] for row in parquet.fetchall()]
            assert sorted(parquet_rows) == sorted(rows), table


def test_a_changed_figure_record_shows_in_the_next_release_diff(
    published: ProjectPaths, tmp_path: Path, prefect_api_url: str
) -> None:
    paths = copy_published(published, tmp_path / "project")
    set_version(paths, "0.1.0")
    assert valley_release(paths).returncode == 0
    records = paths.sources_dir / "big-data-valley" / "records" / "figures.yaml"
    old_note = "Stated by General Manager Lu Xiaoling about the company's applications; undated."
    text = records.read_text(encoding="utf-8")
    assert text.count(old_note) == 1
    records.write_text(text.replace(old_note, "Stated by General Manager Lu Xiaoling; undated."), encoding="utf-8")
    descriptor = json.loads(paths.descriptor.read_text(encoding="utf-8"))
    paths.descriptor.write_text(json.dumps({**descriptor, "version": "0.2.0"}, indent=2, ensure_ascii=False) + "\n")
    etl(root=str(paths.root))
    completed = valley_release(paths)
    assert completed.returncode == 0, completed.stderr
    assert "since 0.1.0: figures 0 added, 0 removed, 1 changed" in completed.stdout
    changes = json.loads((paths.dist_dir / "0.2.0" / "changes.json").read_text(encoding="utf-8"))
    touched = {
        name: table
        for name, table in changes["tables"].items()
        if table["added"] or table["removed"] or table["changed"]
    }
    assert list(touched) == ["figures"] and not touched["figures"]["added"] and not touched["figures"]["removed"]
    [changed] = touched["figures"]["changed"]
    assert changed["key"] == {"figure_id": "xiao-i-cases-solved-per-day"}
    assert changed["fields"] == {"note": {"old": old_note, "new": "Stated by General Manager Lu Xiaoling; undated."}}
    assert os.readlink(paths.dist_dir / "latest") == "0.2.0"
    again = valley_release(paths)
    assert again.returncode == 0 and "already released with identical content" in again.stdout


def test_release_without_a_published_package_says_to_run_valley_run(project: ProjectPaths) -> None:
    completed = valley_release(project)
    assert completed.returncode == 1
    assert completed.stderr.startswith("valley release failed:") and "Run `valley run`" in completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout
    assert not (project.dist_dir / "latest").exists()


def test_the_dataset_page_in_headless_chromium_shows_tables_charts_and_warnings(
    released: ProjectPaths, tmp_path: Path, chromium: Chromium
) -> None:
    page = released.dist_dir / "0.1.0" / "index.html"
    source = page.read_text(encoding="utf-8")
    assert not re.search(r"<script|<link|<iframe|<img|@import|url\(\s*['\"]?https?:", source, flags=re.IGNORECASE)
    dom = chromium.dump_dom(page.as_uri(), profile=tmp_path / "profile-dom")
    schemas = read_schemas(released.schemas_dir)
    for table in schemas:
        section = re.search(rf'<section class="table" id="table-{table}">(.*?)</section>', dom, flags=re.DOTALL)
        assert section, table
        rows_table = re.search(r'<table class="rows">(.*?)</table>', section.group(1), flags=re.DOTALL)
        assert rows_table and rows_table.group(1).count("<tr") == len(csv_rows(released.data_dir / f"{table}.csv"))
    views = json.loads(released.descriptor.read_text(encoding="utf-8"))["views"]
    assert len(views) >= 2
    for view in views:
        chart = re.search(rf'<figure class="chart" id="chart-{view["name"]}">(.*?)</figure>', dom, flags=re.DOTALL)
        assert chart and "<svg" in chart.group(1), view["name"]
        assert chart.group(1).count("<title>") >= 2 and '<ul class="provenance"><li>' in chart.group(1)
    assert "Validation: warned" in dom and "150 passed, 1 warned, 0 failed" in dom
    assert "<li>figures: a test warning &lt;with markup&gt; that the page must show</li>" in dom
    assert "Guiyang Big Data Valley: figures from a news feature, version 0.1.0 [data package]" in dom
    # the data leads: charts, then tables, then the validation summary, the rendered changes, downloads, citation
    order = [dom.index(f'<section id="{name}"') for name in ("charts", "tables", "validation", "changes")]
    assert order == sorted(order) and dom.index('id="changes"') < dom.index('id="citation"')
    assert "<h3>0.1.0 (" in dom and "## 0.1.0" not in dom  # Changes rendered, not raw Markdown
    assert "Extracted from 1 source: “China turning embryonic town into Big Data Valley”" in dom
    screenshot = released.build_dir / "screenshots" / "dataset-page-0.1.0.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    first_screen = ["--window-size=1280,800"]
    chromium.run(f"--screenshot={screenshot}", *first_screen, page.as_uri(), profile=tmp_path / "profile-shot")
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 50_000
    assert first_chart_box(chromium, page, tmp_path, first_screen)["bottom"] <= 800  # a whole chart on screen


def first_chart_box(chromium: Chromium, page: Path, tmp_path: Path, window: list[str]) -> dict[str, float]:
    """Where the page's first chart is laid out in a window that size, as Chromium measures it: the page with a
    script that writes the box into the DOM (the published page has no script)."""
    probe = tmp_path / "probe.html"
    script = (
        "<script>const box = document.querySelector('figure.chart svg').getBoundingClientRect();"
        "document.body.dataset.box = JSON.stringify({top: box.top, bottom: box.bottom});</script>"
    )
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", script + "</body>"), encoding="utf-8")
    dom = chromium.run(*window, "--dump-dom", probe.as_uri(), profile=tmp_path / "profile-probe").stdout
    found = re.search(r'data-box="([^"]+)"', dom)
    assert found, dom[:500]
    box: dict[str, float] = json.loads(html.unescape(found.group(1)))
    assert 0 <= box["top"] < box["bottom"], box
    return box


def test_the_validation_summary_counts_the_accepted_findings_and_folds_their_list(published: ProjectPaths) -> None:
    report = json.loads(published.manifest.read_text(encoding="utf-8"))["validation"]
    shown = section_validation(report)
    assert "0 new, 9 accepted, 0 resolved" in shown
    assert re.search(r'<details><summary>accepted \(9\)</summary><ul class="findings-accepted">(<li>.*?</li>){9}</ul>',
                     shown)  # fmt: skip
