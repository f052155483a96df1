"""The release page's series charts: every source's interval for each year, disputed series first."""

from pathlib import Path

import pytest

from flows.core.inputs import read_schemas
from flows.core.paths import DEFAULT_PATHS
from flows.package.stage import write_table_csv
from flows.package.warehouse import build_warehouse
from flows.publish.page import chart_provenance, render_chart
from flows.publish.series import series_views
from tests.agreement_sources import extract_sources

SCHEMAS = read_schemas(DEFAULT_PATHS.schemas_dir)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse of the four test sources: Quorvale's two agree, Tesmarin's two do not."""
    root = tmp_path_factory.mktemp("series")
    tables, _ = extract_sources(root / "sources")
    (root / "data").mkdir()
    for table, schema in SCHEMAS.items():
        write_table_csv(tables[table], schema, root / "data" / f"{table}.csv")
    build_warehouse(SCHEMAS, root / "data", DEFAULT_PATHS.views_dir, root / "valley.duckdb")
    return root / "valley.duckdb"


def test_each_series_is_charted_with_every_source_interval_disputed_first(database: Path) -> None:
    views = series_views(database)
    assert [view["name"] for view in views] == ["series-big-data-revenue-tesmarin", "series-big-data-revenue-quorvale"]
    svg = render_chart(views[0], {}, {})
    marks = chart_provenance(svg)
    assert "2017, tesmarin-daily: RMB 9.1 billion (9.05e+09 to 9.15e+09 CNY; period stated; disputed)" in marks
    assert "2017, tesmarin-post: RMB 9.8 billion (9.75e+09 to 9.85e+09 CNY; period stated; disputed)" in marks
    assert "the interval every source allows" not in marks  # a disputed year has no agreed interval
    assert ">disputed</text>" in svg
    agreed = chart_provenance(render_chart(views[1], {}, {}))
    assert "the interval every source allows" in agreed and len(agreed) == 3


def test_no_series_without_the_duckdb_file_or_beyond_the_limit(database: Path, tmp_path: Path) -> None:
    assert series_views(tmp_path / "missing.duckdb") == []
    assert [view["name"] for view in series_views(database, limit=1)] == ["series-big-data-revenue-tesmarin"]
