import csv
import datetime
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.core.errors import ValleyError
from flows.operate.query import (
    BATCH_ROWS,
    csv_field,
    format_value,
    json_value,
    open_session,
    render_table,
    run_query,
    write_result,
)


def write_database(path: Path, *statements: str) -> Path:
    connection = duckdb.connect(str(path))
    for statement in statements:
        connection.execute(statement)
    connection.close()
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return write_database(
        tmp_path / "valley.duckdb",
        "CREATE TABLE figures (year INTEGER, revenue_cny DECIMAL(38, 6), change DOUBLE, note VARCHAR)",
        "INSERT INTO figures VALUES (2017, 80000000000, NULL, 'a|b'), (2018, 100000000000, 25.0, 'x,\"y\"')",
    )


@pytest.fixture
def history(tmp_path: Path) -> Path:
    return write_database(tmp_path / "quality.duckdb", "CREATE TABLE runs AS SELECT 'run-1' AS run_id, true AS success")


def rows_of(connection: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    _columns, batches = run_query(connection, sql)
    return [row for batch in batches for row in batch]


def test_open_session_reads_the_warehouse_and_the_attached_history(warehouse: Path, history: Path) -> None:
    session = open_session(warehouse, {"quality": history})
    assert rows_of(session, "SELECT count(*) FROM figures") == [(2,)]
    assert rows_of(session, "SELECT run_id, success FROM quality.runs") == [("run-1", True)]
    session.close()


def test_open_session_skips_a_history_that_does_not_exist(warehouse: Path, tmp_path: Path) -> None:
    session = open_session(warehouse, {"quality": tmp_path / "absent.duckdb"})
    with pytest.raises(ValleyError, match="quality"):
        rows_of(session, "SELECT * FROM quality.runs")
    assert not (tmp_path / "absent.duckdb").exists()
    session.close()


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("COPY (SELECT 1) TO '{tmp}/out.csv'", "disabled by configuration"),
        ("COPY figures TO '{tmp}/out.parquet' (FORMAT parquet)", "disabled by configuration"),
        ("SELECT * FROM read_text('{tmp}/secret.txt')", "disabled by configuration"),
        ("SELECT * FROM read_csv('{tmp}/secret.txt')", "disabled by configuration"),
        ("SELECT * FROM glob('{tmp}/*')", "disabled by configuration"),
        ("ATTACH '{tmp}/out.duckdb' AS other", "disabled by configuration"),
        ("EXPORT DATABASE '{tmp}/out'", "disabled by configuration"),
        ("INSTALL httpfs", "disabled by configuration"),
        ("LOAD httpfs", "disabled through configuration"),
        ("SET enable_external_access = true", "configuration has been locked"),
        ("SET lock_configuration = false", "configuration has been locked"),
        ("RESET enable_external_access", "configuration has been locked"),
        ("SET threads = 1", "configuration has been locked"),
        ("PRAGMA enable_profiling", "configuration has been locked"),
        ("DELETE FROM figures", "read-only"),
        ("CREATE TABLE out AS SELECT 1", "read-only"),
        ("DROP TABLE quality.runs", "read-only"),
    ],
)
def test_open_session_refuses_every_way_out(
    warehouse: Path, history: Path, tmp_path: Path, sql: str, expected: str
) -> None:
    (tmp_path / "secret.txt").write_text("secret\n", encoding="utf-8")
    before = sorted(tmp_path.iterdir())
    session = open_session(warehouse, {"quality": history})
    with pytest.raises(ValleyError, match=expected):
        rows_of(session, sql.format(tmp=tmp_path))
    session.close()
    assert sorted(tmp_path.iterdir()) == before


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("enable_external_access", False),
        ("lock_configuration", True),
        ("python_enable_replacements", False),  # a table name never resolves to a Python variable
        ("autoinstall_known_extensions", False),
        ("autoload_known_extensions", False),
        ("access_mode", "read_only"),
    ],
)
def test_open_session_locks_these_settings(warehouse: Path, setting: str, value: object) -> None:
    session = open_session(warehouse)
    assert rows_of(session, f"SELECT current_setting('{setting}')") == [(value,)]
    session.close()


def test_open_session_without_a_warehouse_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ValleyError, match="run `valley run`"):
        open_session(tmp_path / "valley.duckdb")


@pytest.mark.parametrize("content", [b"", b"not a database", bytes(range(256)) * 64])
def test_open_session_refuses_a_file_that_is_not_duckdb(tmp_path: Path, content: bytes) -> None:
    garbage = tmp_path / "valley.duckdb"
    garbage.write_bytes(content)
    with pytest.raises(ValleyError, match="cannot be opened as a DuckDB database"):
        open_session(garbage)
    assert garbage.read_bytes() == content


def test_open_session_refuses_a_garbage_history(warehouse: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "quality.duckdb"
    garbage.write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(ValleyError, match="cannot be attached as `quality`"):
        open_session(warehouse, {"quality": garbage})


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("", "the SQL is empty"),
        ("  \n\t", "the SQL is empty"),
        ("-- only a comment", "the SQL is empty"),
        ("SELECT 1; SELECT 2", "holds 2 statements"),
        ("SELEC 1", "syntax error"),
        ("SELECT * FROM no_such_table", "no_such_table"),
        ("SELECT 1 / 0::INTEGER + 'x'::INTEGER", "Conversion Error"),
    ],
)
def test_run_query_refuses_what_it_cannot_run(warehouse: Path, sql: str, expected: str) -> None:
    session = open_session(warehouse)
    with pytest.raises(ValleyError, match=expected) as raised:
        rows_of(session, sql)
    assert "\n\n" not in str(raised.value)
    session.close()


def test_run_query_accepts_a_trailing_semicolon_and_comments(warehouse: Path) -> None:
    session = open_session(warehouse)
    assert rows_of(session, "-- the years\nSELECT year FROM figures ORDER BY year;\n") == [(2017,), (2018,)]
    session.close()


def test_run_query_streams_batches(warehouse: Path) -> None:
    session = open_session(warehouse)
    columns, batches = run_query(session, f"SELECT range AS n FROM range({BATCH_ROWS * 2 + 5})")
    sizes = [len(batch) for batch in batches]
    assert columns == ["n"] and sizes == [BATCH_ROWS, BATCH_ROWS, 5]
    session.close()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "NULL"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (Decimal("22.400000"), "22.4"),
        (Decimal("1E+11"), "100000000000"),
        (Decimal("0.000000"), "0"),
        (25.0, "25.0"),
        ("", ""),
        ("a|b", "a|b"),
        (b"ab\x00\\", "ab\\x00\\x5C"),
        ([1, None, "x"], '[1, null, "x"]'),
        ({"k": Decimal("1.50")}, '{"k": 1.5}'),
        (datetime.date(2018, 1, 2), "2018-01-02"),
    ],
)
def test_format_value_is_the_same_text_in_every_format(value: Any, text: str) -> None:
    assert format_value(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (Decimal("12345678901234567890.123456"), "12345678901234567890.123456"),
        (Decimal("100000000000.000000"), "100000000000"),
        (float("nan"), "null"),
        (1.5, "1.5"),
        ('quote " and \n', '"quote \\" and \\n"'),
        ("Guìyáng", '"Guìyáng"'),
        (datetime.date(2018, 1, 2), '"2018-01-02"'),
        ((1, [2, {"a": None}]), '[1, [2, {"a": null}]]'),
    ],
)
def test_json_value_keeps_numbers_exact(value: Any, text: str) -> None:
    assert json_value(value) == text


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (None, ""),
        ("", '""'),
        ("a,b", '"a,b"'),
        ('x"y', '"x""y"'),
        ("two\nlines", '"two\nlines"'),
        (" pad", '" pad"'),
        (7, "7"),
    ],
)
def test_csv_field_tells_null_from_empty(value: Any, field: str) -> None:
    assert csv_field(value) == field


def test_render_table_is_header_rule_rows_and_count() -> None:
    rows = [(2017, Decimal("80000000000.000000"), None), (2018, Decimal("100000000000.000000"), 25.0)]
    assert render_table(["year", "revenue_cny", "computed"], rows) == "\n".join(
        [
            "year | revenue_cny  | computed",
            "-----+--------------+---------",
            "2017 | 80000000000  | NULL",
            "2018 | 100000000000 | 25.0",
            "(2 rows)",
        ]
    )
    assert render_table(["n"], [(1,)]).endswith("\n(1 row)")


def test_a_line_break_inside_a_value_shows_as_backslash_n_in_a_table() -> None:
    lines = render_table(["quote", "n"], [("first line\n\nsecond\r\nthird", 1)]).splitlines()
    assert lines[2] == "first line\\n\\nsecond\\r\\nthird | 1"
    assert len(lines) == 4


def written(output_format: str, sql: str, warehouse: Path, max_rows: int = 40) -> tuple[str, int]:
    session = open_session(warehouse)
    columns, batches = run_query(session, sql)
    out = io.StringIO()
    total = write_result(out, output_format, columns, batches, max_rows)
    session.close()
    return out.getvalue(), total


@pytest.mark.parametrize(("rows", "max_rows"), [(3, 3), (3, 40), (0, 40), (0, 0)])
def test_write_table_shows_every_row_when_they_fit(warehouse: Path, rows: int, max_rows: int) -> None:
    text, total = written("table", f"SELECT range AS n FROM range({rows})", warehouse, max_rows)
    assert total == rows
    assert text == render_table(["n"], [(n,) for n in range(rows)]) + "\n"


@pytest.mark.parametrize("max_rows", [0, 1, 40, BATCH_ROWS, BATCH_ROWS + 1])
def test_write_table_shows_the_first_rows_and_counts_the_rest(warehouse: Path, max_rows: int) -> None:
    rows = BATCH_ROWS * 3 + 7
    text, total = written("table", f"SELECT range AS n FROM range({rows})", warehouse, max_rows)
    lines = text.splitlines()
    assert total == rows
    assert lines[:2] == ["n", "-" * max([1] + [len(str(n)) for n in range(max_rows)])]
    assert lines[2:-1] == [str(n) for n in range(max_rows)]
    assert lines[-1].startswith(f"({rows} rows, the first {max_rows} shown")


def test_write_markdown_is_a_github_table_with_escaped_cells(warehouse: Path) -> None:
    text, total = written(
        "markdown",
        "SELECT year, note, change FROM figures UNION ALL SELECT 2019, 'two\nlines', NULL ORDER BY 1",
        warehouse,
    )
    assert total == 3
    assert text == "\n".join(
        [
            "| year | note         | change |",
            "| ---- | ------------ | ------ |",
            "| 2017 | a\\|b         | NULL   |",
            '| 2018 | x,"y"        | 25.0   |',
            "| 2019 | two<br>lines | NULL   |",
            "",
            "(3 rows)",
            "",
        ]
    )


def test_write_markdown_is_limited_like_the_table(warehouse: Path) -> None:
    text, total = written("markdown", "SELECT range AS n FROM range(100)", warehouse, max_rows=2)
    assert total == 100
    assert text.splitlines()[2:] == ["| 0   |", "| 1   |", "", text.splitlines()[-1]]
    assert text.splitlines()[-1].startswith("(100 rows, the first 2 shown")


def test_write_csv_streams_every_row_and_reads_back(warehouse: Path) -> None:
    sql = "SELECT year, revenue_cny, change, note, '' AS empty FROM figures ORDER BY year"
    text, total = written("csv", sql, warehouse, max_rows=1)
    assert total == 2
    assert list(csv.reader(io.StringIO(text))) == [
        ["year", "revenue_cny", "change", "note", "empty"],
        ["2017", "80000000000", "", "a|b", ""],
        ["2018", "100000000000", "25.0", 'x,"y"', ""],
    ]
    assert text.splitlines()[1] == '2017,80000000000,,a|b,""'


def test_write_json_is_json_lines_with_exact_numbers(warehouse: Path) -> None:
    sql = "SELECT year, revenue_cny, change, note, 12345678901234567890.123456::DECIMAL(38, 6) AS big FROM figures ORDER BY year"
    text, total = written("json", sql, warehouse, max_rows=1)
    rows = [json.loads(line, parse_float=Decimal) for line in text.splitlines()]
    assert total == 2 and len(rows) == 2
    assert rows[0] == {
        "year": 2017,
        "revenue_cny": 80000000000,
        "change": None,
        "note": "a|b",
        "big": Decimal("12345678901234567890.123456"),
    }
    assert rows[1]["change"] == Decimal("25.0") and rows[1]["note"] == 'x,"y"'


def test_write_result_of_an_empty_result(warehouse: Path) -> None:
    assert written("csv", "SELECT year FROM figures WHERE false", warehouse) == ("year\n", 0)
    assert written("json", "SELECT year FROM figures WHERE false", warehouse) == ("", 0)
