"""Build the DuckDB warehouse from the staged package: DDL, comments and loads all generated from the Table Schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

Schema = dict[str, Any]
# the one map from Table Schema types to DuckDB types
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DECIMAL(38, 6)",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "year": "INTEGER",
}
# DuckDB 1.x readers cannot open files in the 2.x storage format
STORAGE_VERSION = "v1.0.0"
# A column takes at least one block: in DuckDB's default 256 KiB blocks the article's 141 rows (44 kB of CSV) were a
# 12.5 MiB file (50 blocks), in its smallest, 16 KiB, they are 1.3 MiB. Small blocks compress less well, so a large
# package keeps the default: 1,000 synthetic sources (10.5 MB of CSV) take 9.4 MiB in 16 KiB blocks against 12.3 MiB,
# 10,000 (105 MB) 91.7 MiB against 83.3 MiB. DuckDB 1.1 and later read both (1.1.3, 1.2.2, 1.5.5 tested); 1.0 reads
# neither kind of file this DuckDB writes.
SMALL_BLOCK_SIZE, DEFAULT_BLOCK_SIZE = 16_384, 262_144
SMALL_BLOCKS_BELOW = 32 * 10**6  # bytes of CSV


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def column_checks(field: dict[str, Any]) -> list[str]:
    """CHECK clauses for a field's enum, range, length and pattern constraints."""
    constraints = field.get("constraints", {})
    column = quote_identifier(field["name"])
    checks = []
    if "enum" in constraints:
        checks.append(f"{column} IN ({', '.join(quote_literal(v) for v in constraints['enum'])})")
    if "minimum" in constraints:
        checks.append(f"{column} >= {constraints['minimum']}")
    if "maximum" in constraints:
        checks.append(f"{column} <= {constraints['maximum']}")
    if "minLength" in constraints:
        checks.append(f"length({column}) >= {constraints['minLength']}")
    if "pattern" in constraints:
        checks.append(f"regexp_full_match({column}, {quote_literal(constraints['pattern'])})")
    return checks


def table_ddl(name: str, schema: Schema) -> str:
    """CREATE TABLE for one Table Schema: types, NOT NULL, checks, primary, unique and foreign keys."""
    lines = []
    for field in schema["fields"]:
        constraints = field.get("constraints", {})
        column = f"{quote_identifier(field['name'])} {DUCKDB_TYPES[field['type']]}"
        if constraints.get("required"):
            column += " NOT NULL"
        if constraints.get("unique") and schema["primaryKey"] != [field["name"]]:
            column += " UNIQUE"
        column += "".join(f" CHECK ({check})" for check in column_checks(field))
        lines.append(column)
    lines.append(f"PRIMARY KEY ({', '.join(map(quote_identifier, schema['primaryKey']))})")
    for key in schema.get("foreignKeys", []):
        reference = key["reference"]
        target = reference["resource"] or name
        lines.append(
            f"FOREIGN KEY ({quote_identifier(key['fields'])}) "
            f"REFERENCES {quote_identifier(target)} ({quote_identifier(reference['fields'])})"
        )
    body = ",\n    ".join(lines)
    return f"CREATE TABLE {quote_identifier(name)} (\n    {body}\n)"


def comment_statements(name: str, schema: Schema) -> list[str]:
    """COMMENT ON the table and each column, from the schema's descriptions."""
    statements = [f"COMMENT ON TABLE {quote_identifier(name)} IS {quote_literal(schema['description'])}"]
    for field in schema["fields"]:
        statements.append(
            f"COMMENT ON COLUMN {quote_identifier(name)}.{quote_identifier(field['name'])} "
            f"IS {quote_literal(field['description'])}"
        )
    return statements


def load_statements(name: str, schema: Schema, csv_path: Path) -> list[str]:
    """INSERTs reading the CSV with explicit types; rows that reference their own table load second."""
    columns = ", ".join(
        f"{quote_literal(field['name'])}: {quote_literal(DUCKDB_TYPES[field['type']])}" for field in schema["fields"]
    )
    source = (
        f"read_csv({quote_literal(csv_path)}, header = true, auto_detect = false, "
        f"columns = {{{columns}}}, nullstr = '', quote = '\"', escape = '\"')"
    )
    self_keys = [key["fields"] for key in schema.get("foreignKeys", []) if not key["reference"]["resource"]]
    if not self_keys:
        return [f"INSERT INTO {quote_identifier(name)} SELECT * FROM {source}"]
    roots = " AND ".join(f"{quote_identifier(k)} IS NULL" for k in self_keys)
    return [
        f"INSERT INTO {quote_identifier(name)} SELECT * FROM {source} WHERE {roots}",
        f"INSERT INTO {quote_identifier(name)} SELECT * FROM {source} WHERE NOT ({roots})",
    ]


BUILD_TABLE = "valley_build"


def build_statements(keys: dict[str, str]) -> list[str]:
    """The build's input keys, kept inside the warehouse so a later run can tell nothing changed."""
    rows = ", ".join(f"({quote_literal(stage)}, {quote_literal(key)})" for stage, key in keys.items())
    return [
        f"CREATE TABLE {BUILD_TABLE} (stage VARCHAR PRIMARY KEY, input_key VARCHAR NOT NULL)",
        f"COMMENT ON TABLE {BUILD_TABLE} IS 'Content keys of the inputs this file was built from, per pipeline stage.'",
        *([f"INSERT INTO {BUILD_TABLE} VALUES {rows}"] if keys else []),
    ]


def block_size_for(data_bytes: int) -> int:
    """DuckDB's block size for a warehouse of this many bytes of CSV: the file sized to its data."""
    return SMALL_BLOCK_SIZE if data_bytes < SMALL_BLOCKS_BELOW else DEFAULT_BLOCK_SIZE


def build_warehouse(
    schemas: dict[str, Schema], data_dir: Path, views_dir: Path, target: Path, keys: dict[str, str] | None = None
) -> dict[str, int]:
    """Write a fresh warehouse file at `target` (which must not exist); return row counts per table."""
    if target.exists():
        raise FileExistsError(target)
    connection = duckdb.connect()
    try:
        block_size = block_size_for(sum((data_dir / f"{name}.csv").stat().st_size for name in schemas))
        options = f"STORAGE_VERSION '{STORAGE_VERSION}', BLOCK_SIZE {block_size}"
        connection.execute(f"ATTACH {quote_literal(target)} AS warehouse ({options})")
        connection.execute("USE warehouse")
        for name, schema in schemas.items():
            connection.execute(table_ddl(name, schema))
            for statement in comment_statements(name, schema):
                connection.execute(statement)
            for statement in load_statements(name, schema, data_dir / f"{name}.csv"):
                connection.execute(statement)
        for view in sorted(views_dir.glob("*.sql")):
            connection.execute(view.read_text(encoding="utf-8"))
        for statement in build_statements(keys or {}):
            connection.execute(statement)
        counts = {
            name: connection.execute(f"SELECT count(*) FROM {quote_identifier(name)}").fetchone()[0]  # type: ignore[index]
            for name in schemas
        }
        connection.execute("CHECKPOINT warehouse")
        connection.execute("USE memory")
        connection.execute("DETACH warehouse")
    finally:
        connection.close()
    return counts


def query_warehouse(
    path: Path, sql: str, attach: dict[str, Path] | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run SQL read-only against a published warehouse file (and other files attached by name)."""
    connection = duckdb.connect(str(path), read_only=True)
    try:
        for name, other in (attach or {}).items():
            if other.exists():
                connection.execute(f"ATTACH {quote_literal(other)} AS {quote_identifier(name)} (READ_ONLY)")
        result = connection.execute(sql)
        columns = [d[0] for d in result.description or []]
        return columns, result.fetchall()
    finally:
        connection.close()
