import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from flows.core.inputs import read_schemas
from flows.core.paths import DEFAULT_PATHS
from flows.package.warehouse import DUCKDB_TYPES, build_warehouse, query_warehouse

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
        connection.execute("UPDATE figures SET unit = 'USD' WHERE figure_id = 'diandingding-investment'")
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


def test_building_over_an_existing_file_is_refused(warehouse: Path) -> None:
    with pytest.raises(FileExistsError):
        build_warehouse(SCHEMAS, DEFAULT_PATHS.data_dir, DEFAULT_PATHS.views_dir, warehouse)
