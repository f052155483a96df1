import re
from pathlib import Path
from typing import Any

import pytest

from flows.steps.docs import build_data_docs, localize
from flows.steps.docs_assets import BUNDLED, CDN_ASSETS, MISSING_NOTE, copy_assets, is_complete, package_folder
from tests.browser import Chromium

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
}


@pytest.fixture(scope="module")
def outcome() -> Any:
    """A real GX validation result: one passing and one failing expectation on a small frame."""
    import great_expectations as gx
    import pandas as pd
    from great_expectations.core import ExpectationSuite

    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("frames")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": pd.DataFrame({"year": [2017, 2018, 1900]})})
    )
    suite = ExpectationSuite(
        name="figures",
        expectations=[
            gx.expectations.ExpectColumnToExist(column="year"),
            gx.expectations.ExpectColumnValuesToBeBetween(column="year", min_value=2000, max_value=2030),
        ],
    )
    return batch.validate(suite, result_format="COMPLETE")


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


def test_localize_points_at_local_copies_and_drops_what_no_package_ships() -> None:
    page = (
        "<html><body>"
        + "".join(
            f'<script src="{url}" integrity="sha384-x" crossorigin="anonymous"></script>'
            for url in [*CDN_ASSETS, *BUNDLED, "https://cdn.jsdelivr.net/npm/vega@5"]
        )
        + '<link rel="stylesheet" href="https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css">'
    )
    page += "<style>.brand a { background: url('https://example.org/logo.png') no-repeat; }</style>"
    page += '<a href="https://greatexpectations.io">GX</a></body></html>'
    local = localize(page, "../static/vendor/")
    assert "//" not in local and "integrity" not in local and "crossorigin" not in local
    assert local.count("<script") == len(CDN_ASSETS) and "<link" not in local
    assert (
        '<a href="#">GX</a>' in local and "background: none no-repeat" in local and MISSING_NOTE.split(";")[0] in local
    )


def test_data_docs_from_a_gx_result_reference_only_local_files(tmp_path: Path, outcome: Any) -> None:
    index = build_data_docs({"figures": outcome}, DOCUMENT, tmp_path / "data-docs", tmp_path / "vendor")
    pages = [index, index.parent / "validations" / "figures.html"]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"https?:|//|cdn\.|unpkg|jsdelivr", text, flags=re.IGNORECASE), page.name
        assert 'id="offline-note"' in text
        for reference in re.findall(r"""(?:src|href)=["']([^"'#][^"']*)["']""", text):
            assert (page.parent / reference.split("?")[0]).is_file(), (page.name, reference)
    suite_page = pages[1].read_text(encoding="utf-8")
    assert "bootstrap.bundle.min.js" in suite_page and "jquery.min.js" in suite_page and "all.min.css" in suite_page


def test_data_docs_show_a_failing_rule_in_words_and_its_first_failing_keys(tmp_path: Path, chromium: Chromium) -> None:
    """A rule suite run by GX on DuckDB: the page names the rule and the rows that break it, as a browser shows it."""
    import duckdb
    import great_expectations as gx

    from flows.steps.rules import validate_rule_suites

    database = tmp_path / "rules.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            "CREATE TABLE figures AS SELECT 'figure-' || i AS figure_id, i - 2.0 AS value FROM range(5) t(i)"
        )
    rule = gx.expectations.UnexpectedRowsExpectation(
        description="No figure has a negative value",
        unexpected_rows_query="SELECT 'figures' AS \"table\", figure_id AS key, 'value' AS field, 'below zero' AS detail "
        "FROM {batch} WHERE value < 0",
    )
    outcomes: dict[str, Any] = {}
    validate_rule_suites(
        database, {"plausibility": ("figures", gx.ExpectationSuite(name="plausibility", expectations=[rule]))}, outcomes
    )
    index = build_data_docs(outcomes, DOCUMENT, tmp_path / "data-docs", tmp_path / "vendor")
    page = index.parent / "validations" / "plausibility.html"
    dom = chromium.dump_dom(page.as_uri(), tmp_path / "profile")
    assert "No figure has a negative value" in dom
    assert "figures row 'figure-0' field 'value' (below zero)" in dom
    assert "figures row 'figure-1' field 'value'" in dom and "figure-3" not in dom
    assert "2 unexpected values found" in dom and "of 5 total rows" in dom
