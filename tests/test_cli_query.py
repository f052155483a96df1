import json
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import duckdb
import pytest

from flows.core.paths import ProjectPaths

VALLEY = Path(sys.executable).parent / "valley"
MEMORY_LIMIT_KB = 500 * 1024


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> ProjectPaths:
    """A project folder with a small published warehouse and history, written by DuckDB."""
    paths = ProjectPaths(tmp_path_factory.mktemp("query") / "project")
    paths.warehouse.parent.mkdir(parents=True)
    connection = duckdb.connect(str(paths.warehouse))
    connection.execute("CREATE TABLE figures (year INTEGER, revenue_cny DECIMAL(38, 6), change DOUBLE, note VARCHAR)")
    connection.execute("INSERT INTO figures VALUES (2017, 80000000000, NULL, 'a|b'), (2018, 100000000000, 25.0, 'x')")
    connection.close()
    connection = duckdb.connect(str(paths.history))
    connection.execute("CREATE TABLE runs AS SELECT 'run-1' AS run_id, 'passed' AS status")
    connection.close()
    return paths


def valley(project: ProjectPaths, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(VALLEY), "--project", str(project.root), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)


def assert_one_paragraph_error(completed: subprocess.CompletedProcess[str], expected: str) -> None:
    assert completed.returncode == 1, completed.stdout
    assert completed.stdout == ""
    assert completed.stderr.startswith("valley query failed:"), completed.stderr
    assert expected in completed.stderr
    assert "Traceback" not in completed.stderr and "\n\n" not in completed.stderr.strip()


def peak_rss_kb(command: list[str]) -> tuple[int, float]:
    """The peak resident memory of `command` run as the only child of a fresh Python, and its seconds."""
    probe = (
        "import resource, subprocess, sys, time; start = time.monotonic(); "
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.monotonic() - start)"
    )
    completed = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, check=True)
    peak, seconds = completed.stdout.split()
    return int(peak), float(seconds)


def test_query_prints_the_table_as_before(project: ProjectPaths) -> None:
    completed = valley(project, "query", "SELECT year, revenue_cny, change FROM figures ORDER BY year")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == (
        "year | revenue_cny  | change\n"
        "-----+--------------+-------\n"
        "2017 | 80000000000  | NULL\n"
        "2018 | 100000000000 | 25.0\n"
        "(2 rows)\n"
    )


def test_query_attaches_the_history_as_quality(project: ProjectPaths) -> None:
    completed = valley(project, "query", "--format", "csv", "SELECT run_id, status FROM quality.runs")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "run_id,status\nrun-1,passed\n"


@pytest.mark.parametrize(
    ("output_format", "expected"),
    [
        ("csv", "year,revenue_cny,change,note\n2017,80000000000,,a|b\n2018,100000000000,25.0,x\n"),
        (
            "json",
            '{"year": 2017, "revenue_cny": 80000000000, "change": null, "note": "a|b"}\n'
            '{"year": 2018, "revenue_cny": 100000000000, "change": 25.0, "note": "x"}\n',
        ),
        (
            "markdown",
            "| year | revenue_cny  | change | note |\n"
            "| ---- | ------------ | ------ | ---- |\n"
            "| 2017 | 80000000000  | NULL   | a\\|b |\n"
            "| 2018 | 100000000000 | 25.0   | x    |\n"
            "\n(2 rows)\n",
        ),
    ],
)
def test_query_formats(project: ProjectPaths, output_format: str, expected: str) -> None:
    completed = valley(project, "query", "--format", output_format, "SELECT * FROM figures ORDER BY year")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == expected


def test_query_max_rows_limits_the_table_and_counts_the_rest(project: ProjectPaths) -> None:
    completed = valley(project, "query", "--max-rows", "2", "SELECT range AS n FROM range(1000)")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[:4] == ["n", "-", "0", "1"]
    assert lines[4].startswith("(1000 rows, the first 2 shown") and len(lines) == 5


def test_query_reads_sql_from_a_file(project: ProjectPaths, tmp_path: Path) -> None:
    sql_file = tmp_path / "years.sql"
    sql_file.write_text("-- the years\nSELECT year FROM figures ORDER BY year;\n", encoding="utf-8")
    completed = valley(project, "query", "-f", str(sql_file), "--format", "csv")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "year\n2017\n2018\n"
    long_option = valley(project, "query", "--file", str(sql_file), "--format", "csv")
    assert long_option.stdout == completed.stdout


def test_query_with_a_missing_sql_file_says_so(project: ProjectPaths, tmp_path: Path) -> None:
    completed = valley(project, "query", "-f", str(tmp_path / "absent.sql"))
    assert_one_paragraph_error(completed, "cannot read the SQL file")
    assert "absent.sql" in completed.stderr


def test_query_takes_sql_or_a_file_not_both(project: ProjectPaths, tmp_path: Path) -> None:
    sql_file = tmp_path / "one.sql"
    sql_file.write_text("SELECT 1", encoding="utf-8")
    both = valley(project, "query", "-f", str(sql_file), "SELECT 2")
    neither = valley(project, "query")
    assert both.returncode == 2 and "not allowed with" in both.stderr
    assert neither.returncode == 2 and "required" in neither.stderr


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("COPY (SELECT 1) TO '{tmp}/out.csv'", "file system operations are disabled"),
        ("SELECT * FROM read_text('/etc/passwd')", "file system operations are disabled"),
        ("SELECT * FROM read_csv('/etc/passwd')", "file system operations are disabled"),
        ("ATTACH '{tmp}/out.duckdb' AS other", "file system operations are disabled"),
        ("INSTALL httpfs", "disabled by configuration"),
        ("LOAD httpfs", "disabled through configuration"),
        ("SET enable_external_access = true", "configuration has been locked"),
        ("SET memory_limit = '1GB'", "configuration has been locked"),
        ("DELETE FROM figures", "read-only"),
        ("", "the SQL is empty"),
        ("SELECT 1; SELECT 2", "holds 2 statements"),
        ("SELEC year FROM figures", "syntax error"),
        ("SELECT * FROM no_such_table", "no_such_table"),
    ],
)
def test_query_refusals_are_one_paragraph(project: ProjectPaths, tmp_path: Path, sql: str, expected: str) -> None:
    completed = valley(project, "query", sql.format(tmp=tmp_path))
    assert_one_paragraph_error(completed, expected)
    assert list(tmp_path.iterdir()) == []


def test_query_without_a_warehouse_says_how_to_get_one(tmp_path: Path) -> None:
    completed = valley(ProjectPaths(tmp_path), "query", "SELECT 1")
    assert_one_paragraph_error(completed, "run `valley run`")


def test_query_on_a_garbage_warehouse_is_a_message(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    paths.warehouse.parent.mkdir(parents=True)
    paths.warehouse.write_bytes(bytes(range(256)) * 100)
    completed = valley(paths, "query", "SELECT 1")
    assert_one_paragraph_error(completed, "cannot be opened as a DuckDB database")


def test_version_prints_the_package_version() -> None:
    completed = subprocess.run([str(VALLEY), "--version"], capture_output=True, text=True, check=False)
    assert completed.returncode == 0
    assert completed.stdout == f"valley {version('valley')}\n"


@pytest.mark.parametrize(
    ("argv", "never_imported"),
    [
        (["--version"], ("duckdb", "prefect", "great_expectations")),
        (["--help"], ("duckdb", "prefect", "great_expectations")),
        (["query", "--help"], ("duckdb", "prefect", "great_expectations")),
        (["query", "SELECT 1"], ("prefect", "great_expectations", "pandas")),
    ],
)
def test_query_version_and_help_keep_heavy_imports_away(
    project: ProjectPaths, argv: list[str], never_imported: tuple[str, ...]
) -> None:
    code = (
        "import sys\nfrom flows.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(never_imported)!r}))"
    )
    command = [sys.executable, "-c", code, "--project", str(project.root), *argv]
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    assert completed.stdout.splitlines()[-1] == "[]", completed.stdout


def test_query_of_fifty_million_rows_streams_the_first_rows_and_counts(project: ProjectPaths) -> None:
    command = [str(VALLEY), "--project", str(project.root), "query", "SELECT * FROM range(50000000)"]
    start = time.monotonic()
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        first = [process.stdout.readline() for _ in range(42)]
        first_rows_after = time.monotonic() - start
        rest = process.stdout.read()
    total = time.monotonic() - start
    assert process.returncode == 0
    assert first[2:] == [f"{n}\n" for n in range(40)]
    assert rest.startswith("(50000000 rows, the first 40 shown")
    # the first rows are out long before the count is: nothing waits for the whole result
    assert first_rows_after < total / 2, (first_rows_after, total)


@pytest.mark.parametrize(
    ("output_format", "sql"),
    [
        ("table", "SELECT * FROM range(50000000)"),
        ("markdown", "SELECT * FROM range(50000000)"),
        # every row written; kept in memory these 2 million rows would take about 700 MB
        ("csv", "SELECT range, repeat('x', 200) AS padding FROM range(2000000)"),
        ("json", "SELECT range, repeat('x', 200) AS padding FROM range(2000000)"),
    ],
)
def test_query_stays_under_500_mb(project: ProjectPaths, output_format: str, sql: str) -> None:
    command = [str(VALLEY), "--project", str(project.root), "query", "--format", output_format, sql]
    peak, seconds = peak_rss_kb(command)
    print(f"{output_format}: peak {peak // 1024} MB in {seconds:.1f} s")
    assert peak < MEMORY_LIMIT_KB, f"{output_format}: peak {peak // 1024} MB"


def test_query_piped_into_head_ends_quietly(project: ProjectPaths) -> None:
    command = [str(VALLEY), "--project", str(project.root), "query", "--format", "csv", "SELECT * FROM range(10000000)"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline() == "range\n"
        process.stdout.close()
        errors = process.stderr.read()
        process.wait(timeout=120)
    assert process.returncode == 0, errors
    assert errors == ""


def test_query_json_is_one_object_per_line(project: ProjectPaths) -> None:
    completed = valley(project, "query", "--format", "json", "SELECT range AS n, range::VARCHAR AS s FROM range(25000)")
    assert completed.returncode == 0, completed.stderr
    rows = [json.loads(line) for line in completed.stdout.splitlines()]
    assert len(rows) == 25000 and rows[-1] == {"n": 24999, "s": "24999"}
