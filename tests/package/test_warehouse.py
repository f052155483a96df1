import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from flows.core.inputs import read_schemas
from flows.core.paths import DEFAULT_PATHS
from flows.package.stage import write_table_csv
from flows.package.warehouse import DUCKDB_TYPES, block_size_for, build_warehouse, query_warehouse
from tests.agreement_sources import extract_sources

SCHEMAS = read_schemas(DEFAULT_PATHS.schemas_dir)
DUCKDB_1X_CLI = Path(sys.executable).parent / "duckdb"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("warehouse") / "valley.duckdb"
    build_warehouse(SCHEMAS, DEFAULT_PATHS.data_dir, DEFAULT_PATHS.views_dir, target)
    return target


def rows(path: Path, sql: str) -> list[tuple]:
    return query_warehouse(path, sql)[1]


def test_column_types_follow_the_table_schemas(warehouse: Path) -> None:
    found = dict(
        ((table, column), data_type)
        for table, column, data_type in rows(
            warehouse, "SELECT table_name, column_name, data_type FROM duckdb_columns()"
        )
    )
    for table, schema in SCHEMAS.items():
        for field in schema["fields"]:
            assert found[(table, field["name"])] == DUCKDB_TYPES[field["type"]].replace(" ", ""), (
                table,
                field["name"],
            )


def test_primary_and_foreign_keys_are_declared(warehouse: Path) -> None:
    constraints = rows(
        warehouse,
        "SELECT table_name, constraint_type, constraint_column_names, referenced_table FROM duckdb_constraints() "
        "WHERE constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')",
    )
    for table, schema in SCHEMAS.items():
        assert (table, "PRIMARY KEY", schema["primaryKey"], None) in constraints
        for key in schema.get("foreignKeys", []):
            target = key["reference"]["resource"] or table
            assert (table, "FOREIGN KEY", [key["fields"]], target) in constraints


def test_comments_come_from_the_schema_descriptions(warehouse: Path) -> None:
    tables = dict(rows(warehouse, "SELECT table_name, comment FROM duckdb_tables()"))
    columns = {
        (t, c): comment
        for t, c, comment in rows(warehouse, "SELECT table_name, column_name, comment FROM duckdb_columns()")
    }
    for table, schema in SCHEMAS.items():
        assert tables[table] == schema["description"]
        for field in schema["fields"]:
            assert columns[(table, field["name"])] == field["description"]


def test_constraints_refuse_bad_rows(warehouse: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    connection = duckdb.connect(str(copy))
    with pytest.raises(duckdb.ConstraintException):
        connection.execute("UPDATE figures SET subject_id = 'nobody' WHERE figure_id = 'diandingding-investment'")
    with pytest.raises(duckdb.ConstraintException):
        connection.execute("UPDATE figures SET unit = 'furlong' WHERE figure_id = 'diandingding-investment'")
    connection.close()


def test_revenue_view_sets_stated_and_computed_change_side_by_side(warehouse: Path) -> None:
    found = rows(
        warehouse,
        "SELECT year, revenue_cny, stated_change_percent, computed_change_percent FROM revenue_by_year",
    )
    assert [(year, int(revenue), float(stated), computed) for year, revenue, stated, computed in found] == [
        (2017, 80_000_000_000, 21.0, None),
        (2018, 100_000_000_000, 22.4, 25.0),
    ]


def test_the_revenue_view_prints_its_computed_change_without_trailing_zeros(warehouse: Path) -> None:
    from flows.operate.query import format_value

    [(computed, implied)] = rows(warehouse, "SELECT computed_change_percent, implied_previous_year_revenue_cny "
                                           "FROM revenue_by_year WHERE year = 2018")  # fmt: skip
    assert (format_value(computed), format_value(implied)) == ("25", "81699346405")


def test_facts_count_each_fact_once_where_figures_count_each_statement(warehouse: Path) -> None:
    revenue = "SELECT sum(value) FROM {} WHERE measure = 'big_data_revenue' AND period = 2018"
    assert rows(warehouse, revenue.format("figures")) == [(200_000_000_000,)]  # the body states it twice
    assert rows(warehouse, revenue.format("facts")) == [(100_000_000_000,)]
    [(facts, figures, statements)] = rows(
        warehouse,
        "SELECT (SELECT count(*) FROM facts), (SELECT count(*) FROM figures WHERE same_as IS NULL), "
        "(SELECT sum(statements) FROM facts)",
    )
    assert facts == figures and statements == len(rows(warehouse, "SELECT * FROM figures"))


def test_the_file_opens_in_duckdb_1x(warehouse: Path) -> None:
    version = subprocess.run([str(DUCKDB_1X_CLI), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v1.")
    completed = subprocess.run(
        [
            str(DUCKDB_1X_CLI),
            "-readonly",
            "-csv",
            str(warehouse),
            "-c",
            "SELECT count(*) FROM figures; SELECT year FROM revenue_by_year",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["count_star()", "18", "year", "2017", "2018"]


def test_the_file_is_sized_to_its_data(warehouse: Path) -> None:
    """16 KiB blocks: the article's 141 rows in about 1.3 MiB, not 50 blocks of 256 KiB (12.5 MiB)."""
    ((block_size, blocks),) = rows(warehouse, "SELECT block_size, total_blocks FROM pragma_database_size()")
    assert block_size == 16_384 and warehouse.stat().st_size < 2 * 2**20 and blocks < 128


@pytest.mark.parametrize(("data_bytes", "block_size"), [(43_639, 16_384), (10_533_873, 16_384), (105_275_433, 262_144)])
def test_small_packages_get_small_blocks_and_large_ones_the_default(data_bytes: int, block_size: int) -> None:
    """The article, 1,000 and 10,000 synthetic sources: smallest file each (measured, see flows/package/warehouse.py)."""
    assert block_size_for(data_bytes) == block_size


def test_building_over_an_existing_file_is_refused(warehouse: Path) -> None:
    with pytest.raises(FileExistsError):
        build_warehouse(SCHEMAS, DEFAULT_PATHS.data_dir, DEFAULT_PATHS.views_dir, warehouse)


def test_measure_series_agrees_on_the_intersection_of_every_source(warehouse: Path) -> None:
    """The article's 80 billion (75 to 85) and three independent sources (80, 81.7, 81.7 billion) share 81.65 to 81.75."""
    found = rows(
        warehouse,
        "SELECT period, status, agreed_low, agreed_high, source_count, period_basis, len(statements) "
        "FROM measure_series WHERE measure = 'big_data_revenue' AND subject = 'Guiyang' ORDER BY period",
    )
    assert [(p, s, float(low), float(high), n, basis, k) for p, s, low, high, n, basis, k in found] == [
        (2017, "agreed", 81.65e9, 81.75e9, 4, "stated", 4),
        (2018, "one source", 50e9, 150e9, 1, "inferred_paragraph", 1),
    ]


def test_measure_series_joins_two_sources_on_one_subject_and_year(tmp_path: Path) -> None:
    """Two sources on one city (each with its own organizations row) are one row: agreed, or disputed."""
    tables, _ = extract_sources(tmp_path / "sources")
    (tmp_path / "data").mkdir()
    for table, schema in SCHEMAS.items():
        write_table_csv(tables[table], schema, tmp_path / "data" / f"{table}.csv")
    target = tmp_path / "series.duckdb"
    build_warehouse(SCHEMAS, tmp_path / "data", DEFAULT_PATHS.views_dir, target)
    found = rows(
        target,
        "SELECT subject, period, status, agreed_low, agreed_high, sources, figure_texts FROM measure_series",
    )
    assert [(s, p, status, low and float(low), high and float(high), sources, texts) for s, p, status, low, high,
            sources, texts in found] == [
        ("Quorvale", 2018, "agreed", 12.25e9, 12.35e9, ["quorvale-herald", "quorvale-weekly"],
         ["RMB 12 billion", "12.3 billion yuan"]),
        ("Tesmarin", 2017, "disputed", None, None, ["tesmarin-daily", "tesmarin-post"],
         ["RMB 9.1 billion", "RMB 9.8 billion"]),
    ]  # fmt: skip
