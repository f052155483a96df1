import json
from pathlib import Path

import pytest

from flows.checks.expect import baseline_expectations, render_suite, write_suites
from flows.core.inputs import read_schemas
from flows.core.paths import DEFAULT_PATHS

SCHEMAS = read_schemas(DEFAULT_PATHS.schemas_dir)


def rules(table: str) -> dict[tuple[str, str], dict]:
    """Each generated expectation by its rule and column (a foreign key's column is its `check`)."""
    return {
        (e["meta"]["rule"], e["kwargs"].get("column") or e["meta"].get("check", "")): e
        for e in baseline_expectations(table, SCHEMAS[table])
    }


def test_committed_suites_match_what_the_schemas_generate() -> None:
    for table, schema in SCHEMAS.items():
        committed = json.loads((DEFAULT_PATHS.expectations_dir / f"{table}.json").read_text(encoding="utf-8"))
        assert committed == render_suite(table, schema, committed), f"expectations/{table}.json drifted"


@pytest.mark.parametrize(
    ("table", "rule", "column", "kind", "kwargs"),
    [
        ("figures", "required", "value", "expect_column_values_to_not_be_null", {}),
        ("figures", "unique", "figure_id", "expect_column_values_to_be_unique", {}),
        (
            "figures",
            "enum",
            "unit",
            "expect_column_values_to_be_in_set",
            {"value_set": ["CNY", "USD", "count", "percent", "byte", "times", "meter", "square_meter"]},
        ),
        (
            "figures",
            "range",
            "period",
            "expect_column_values_to_be_between",
            {"min_value": 2000, "max_value": 2030},
        ),
        (
            "sources",
            "pattern",
            "sha256",
            "expect_column_values_to_match_regex",
            {"regex": "^(?:[0-9a-f]{64})$"},
        ),
    ],
)
def test_baseline_is_generated_from_schema_constraints(
    table: str, rule: str, column: str, kind: str, kwargs: dict
) -> None:
    expectation = rules(table)[(rule, column)]
    assert expectation["type"] == kind and expectation["severity"] == "critical"
    assert {k: expectation["kwargs"][k] for k in kwargs} == kwargs


@pytest.mark.parametrize(
    ("table", "field", "words"),
    [
        ("figures", "subject_id", "every figures.subject_id names a row of organizations"),
        ("figures", "measure", "every figures.measure names a row of measures"),
        ("figures", "same_as", "every figures.same_as names a row of figures"),
        ("corroborations", "figure_id", "every corroborations.figure_id names a row of figures"),
        ("number_mentions", "source_id", "every number_mentions.source_id names a row of sources"),
    ],
)
def test_a_foreign_key_becomes_a_query_rule_in_words(table: str, field: str, words: str) -> None:
    expectation = rules(table)[("foreignKey", field)]
    assert expectation["type"] == "unexpected_rows_expectation" and expectation["severity"] == "critical"
    assert expectation["description"] == words and expectation["meta"]["source"] == "table-schema"


def test_a_foreign_key_rule_returns_the_orphan_rows_by_key(tmp_path: Path) -> None:
    """The generated query run on DuckDB (as GX runs it, {batch} a subquery): only rows naming no referenced row,
    with the table's key and the field; an empty reference is no orphan."""
    import duckdb

    query = next(e for e in baseline_expectations("number_mentions", SCHEMAS["number_mentions"])
                 if e["meta"]["rule"] == "foreignKey")["kwargs"]["unexpected_rows_query"]  # fmt: skip
    with duckdb.connect(str(tmp_path / "keys.duckdb")) as connection:
        connection.execute("CREATE TABLE sources AS SELECT 'a' AS source_id")
        connection.execute(
            "CREATE TABLE number_mentions AS SELECT * FROM (VALUES ('a', 1), ('b', 2), (NULL, 3)) t(source_id, \"offset\")"
        )
        rows = connection.execute(query.replace("{batch}", "(SELECT * FROM number_mentions) AS subselect")).fetchall()
    assert rows == [("b", 2)]


def test_compound_primary_key_becomes_compound_uniqueness() -> None:
    expectation = next(
        e
        for e in baseline_expectations("number_mentions", SCHEMAS["number_mentions"])
        if e["meta"]["rule"] == "primaryKey"
    )
    assert expectation["kwargs"] == {"column_list": ["source_id", "offset"]}


def test_regeneration_keeps_editor_expectations(tmp_path: Path) -> None:
    editor = {
        "type": "expect_table_row_count_to_be_between",
        "kwargs": {"min_value": 1},
        "meta": {"source": "editor"},
        "severity": "info",
    }
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "slogans.json").write_text(
        json.dumps({"name": "slogans", "expectations": [editor]}), encoding="utf-8"
    )
    written = write_suites({"slogans": SCHEMAS["slogans"]}, tmp_path / "in", tmp_path / "out")
    expectations = json.loads(written["slogans"].read_text(encoding="utf-8"))["expectations"]
    assert expectations[-1] == editor
    assert len(expectations) == len(baseline_expectations("slogans", SCHEMAS["slogans"])) + 1
