import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from flows.checks.docs_assets import MISSING_NOTE, copy_assets, is_complete, package_folder
from flows.report.docs import build_data_docs, suite_page
from tests.browser import Chromium

FINDING = {"class": "accepted", "severity": "info", "fingerprint": "f0123456", "suite": "plausibility",
           "check": "negative", "table": "figures", "key": "figure-0", "field": "value", "note": "rounded"}  # fmt: skip
DOCUMENT = {
    "run_id": "0123456789abcdef",
    "flow": "etl",
    "finished_at": "2026-01-01T00:00:00+00:00",
    "status": "warned",
    "checks": {"passed": 2, "warned": 1, "failed": 0, "info": 0},
    "published": True,
    "failures": [],
    "warnings": ["figures: a warning"],
    "info": [],
    "finding_counts": {"new": 0, "accepted": 1, "resolved": 0},
    "findings": [FINDING],
    "resolved": [],
}
EXTERNAL = re.compile(r"""https?:|(?:src|href|action)\s*=\s*["']?//|url\(\s*["']?//""", re.IGNORECASE)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A GX site built by the Checkpoint on a real DuckDB file: a failing query rule and a passing column rule."""
    import duckdb
    import great_expectations as gx

    from flows.checks.rules import validate_sql_suites

    folder = tmp_path_factory.mktemp("gx-site")
    database = folder / "rules.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            "CREATE TABLE figures AS SELECT 'figure-' || i AS figure_id, i - 2.0 AS value FROM range(5) t(i)"
        )
    rule = gx.expectations.UnexpectedRowsExpectation(
        description="No figure has a negative value",
        unexpected_rows_query="SELECT 'figures' AS \"table\", figure_id AS key, 'value' AS field, 'below zero' AS detail "
        "FROM {batch} WHERE value < 0",
    )
    exists = gx.expectations.ExpectColumnToExist(column="value")
    complete = {"result_format": "COMPLETE"}
    suites = {
        "plausibility": ("figures", gx.ExpectationSuite(name="plausibility", expectations=[rule]), complete),
        "figures": ("figures", gx.ExpectationSuite(name="figures", expectations=[exists]), complete),
    }
    return folder / "site", dict(validate_sql_suites(database, suites, site=folder / "site"))


def test_copy_assets_takes_the_pinned_xstatic_files_without_network(tmp_path: Path) -> None:
    vendor = tmp_path / "vendor"
    copy_assets(vendor)
    assert is_complete(vendor)
    assert (vendor / package_folder("font_awesome") / "webfonts" / "fa-solid-900.woff2").is_file()
    assert b"jQuery v3.7.1" in (vendor / package_folder("jquery") / "jquery.min.js").read_bytes()[:200]
    copy_assets(vendor)  # complete already: nothing changes, no scratch folder left
    assert sorted(p.name for p in vendor.iterdir()) == sorted(
        package_folder(n) for n in ("bootstrap", "jquery", "font_awesome")
    )


def staged_site(site: Any, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A copy of the module's GX site, for build_data_docs to take."""
    gx_site, outcomes = site
    shutil.copytree(gx_site, tmp_path / "staging-docs")
    return tmp_path / "staging-docs", outcomes


def test_build_data_docs_swaps_in_the_gx_site_under_the_landing_page(tmp_path: Path, site: Any) -> None:
    gx_site, outcomes = staged_site(site, tmp_path)
    target = tmp_path / "data-docs"
    target.mkdir()
    (target / "stale.html").write_text("an older run's page", encoding="utf-8")
    index = build_data_docs(gx_site, outcomes, DOCUMENT, target, tmp_path / "vendor")
    assert index == target / "index.html" and not (target / "stale.html").exists()
    # the site was taken whole; no scratch or old folder is left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data-docs", "vendor"]
    landing = index.read_text(encoding="utf-8")
    assert 'id="status"' in landing and "figures: a warning" in landing
    assert 'id="findings"' in landing and "f0123456 plausibility/negative: figures row &#x27;figure-0&#x27;" in landing
    for name, passed, failed in [("plausibility", 0, 1), ("figures", 1, 0)]:
        page = suite_page(target, name)
        assert page is not None and (target / page).is_file()
        assert f'<tr><td><a href="{page}">{name}</a></td><td>{passed}</td><td>{failed}</td></tr>' in landing


def test_build_data_docs_retried_after_its_swap_keeps_the_run_s_pages(tmp_path: Path, site: Any) -> None:
    gx_site, outcomes = staged_site(site, tmp_path)
    target = tmp_path / "data-docs"
    build_data_docs(gx_site, outcomes, DOCUMENT, target, tmp_path / "vendor")
    index = build_data_docs(gx_site, outcomes, DOCUMENT, target, tmp_path / "vendor")  # the site is gone now
    page = suite_page(target, "plausibility")
    assert page is not None and f'href="{page}"' in index.read_text(encoding="utf-8")


def test_build_data_docs_puts_the_site_back_when_it_fails(tmp_path: Path, site: Any) -> None:
    gx_site, outcomes = staged_site(site, tmp_path)
    with pytest.raises(KeyError):
        build_data_docs(gx_site, outcomes, {}, tmp_path / "data-docs", tmp_path / "vendor")  # no run document
    assert (gx_site / "index.html").is_file() and not (tmp_path / "data-docs").exists()


def test_build_data_docs_without_a_site_writes_the_landing_page_alone(tmp_path: Path, site: Any) -> None:
    _, outcomes = site
    index = build_data_docs(None, outcomes, DOCUMENT, tmp_path / "data-docs", tmp_path / "vendor")
    assert "<tr><td>plausibility</td><td>0</td><td>1</td></tr>" in index.read_text(encoding="utf-8")


def test_data_docs_reference_only_local_files(tmp_path: Path, site: Any) -> None:
    gx_site, outcomes = staged_site(site, tmp_path)
    index = build_data_docs(gx_site, outcomes, DOCUMENT, tmp_path / "data-docs", tmp_path / "vendor")
    pages = sorted(index.parent.rglob("*.html"))
    assert len(pages) == 5  # the landing page, a validation page and a suite page per suite
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not EXTERNAL.search(text), (page.name, EXTERNAL.search(text))
        assert 'id="offline-note"' in text and MISSING_NOTE in text.replace("&#39;", "'")
        references = re.findall(r"""(?:src|href)=["']([^"'#][^"']*)["']""", text)
        assert any(r.endswith("bootstrap.min.css") for r in references), page.name
        for reference in references:
            assert (page.parent / reference.split("?")[0]).is_file(), (page.name, reference)


def test_data_docs_show_a_failing_rule_in_words_and_its_first_failing_keys(
    tmp_path: Path, site: Any, chromium: Chromium
) -> None:
    """A rule suite run by GX's Checkpoint on DuckDB: the page names the rule and the rows that break it, as a
    browser shows it."""
    gx_site, outcomes = staged_site(site, tmp_path)
    index = build_data_docs(gx_site, outcomes, DOCUMENT, tmp_path / "data-docs", tmp_path / "vendor")
    page = suite_page(index.parent, "plausibility")
    assert page is not None
    dom = chromium.dump_dom((index.parent / page).as_uri(), tmp_path / "profile")
    assert "No figure has a negative value" in dom
    assert "figures row 'figure-0' field 'value' (below zero)" in dom
    assert "figures row 'figure-1' field 'value'" in dom and "figure-3" not in dom
    assert "2 unexpected values found" in dom and "of 5 total rows" in dom
