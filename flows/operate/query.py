"""Read-only SQL against the published warehouse: a locked session, rows streamed in batches, and the output formats."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from json.encoder import encode_basestring as encode_json_string
from pathlib import Path
from typing import Any, TextIO, cast

import duckdb

from flows.core.errors import ValleyError
from flows.package.warehouse import quote_identifier, quote_literal
from flows.sources.numbers import format_decimal

FORMATS = ("table", "csv", "json", "markdown")
DEFAULT_MAX_ROWS = 40
BATCH_ROWS = 10_000
Row = tuple[Any, ...]
# set at connect: no extension is fetched or loaded behind a query's back, and a table name
# never resolves to a Python variable of this process (DuckDB's replacement scans)
CONNECT_CONFIG = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "python_enable_replacements": False,
}
CSV_QUOTED = re.compile(r'[,"\r\n]|^\s|\s$|^$')


def describe_error(error: BaseException) -> str:
    """DuckDB's message as one paragraph: its blank lines dropped, the LINE/caret pointer kept."""
    return "\n".join(line.rstrip() for line in str(error).splitlines() if line.strip())


def open_session(warehouse: Path, attach: dict[str, Path] | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse and attach the `attach` files read-only, then shut every other door and lock it."""
    if not warehouse.is_file():
        raise ValleyError(f"no published warehouse at {warehouse}: run `valley run` (or `make run`) first.")
    try:
        connection = duckdb.connect(str(warehouse), read_only=True, config=dict(CONNECT_CONFIG))
    except duckdb.Error as error:
        raise ValleyError(
            f"{warehouse} cannot be opened as a DuckDB database ({describe_error(error)}); "
            "`valley run --refresh` rebuilds it."
        ) from error
    try:
        for name, path in (attach or {}).items():
            if path.exists():
                attach_read_only(connection, name, path)
        # from here on no file outside the attached ones is read or written, no extension is
        # installed or loaded, and no setting (these two included) can be changed back
        connection.execute("SET enable_external_access = false")
        connection.execute("SET lock_configuration = true")
    except BaseException:
        connection.close()
        raise
    return connection


def attach_read_only(connection: duckdb.DuckDBPyConnection, name: str, path: Path) -> None:
    try:
        connection.execute(f"ATTACH {quote_literal(path)} AS {quote_identifier(name)} (READ_ONLY)")
    except duckdb.Error as error:
        raise ValleyError(
            f"{path} cannot be attached as `{name}` ({describe_error(error)}); move it away to query the "
            "warehouse without it (the next `valley run` starts a new one)."
        ) from error


def run_query(connection: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], Iterator[list[Row]]]:
    """Run one SQL statement: its column names, and its rows as batches fetched on demand."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise ValleyError(describe_error(error)) from error
    if not statements:
        raise ValleyError('the SQL is empty: give one statement, for example `valley query "SELECT * FROM figures"`.')
    if len(statements) > 1:
        raise ValleyError(
            f"the SQL holds {len(statements)} statements and `valley query` runs exactly one; "
            "run them one at a time, or combine them into one with WITH ... SELECT."
        )
    try:
        result = connection.execute(sql)
    except duckdb.Error as error:
        raise ValleyError(describe_error(error)) from error
    columns = [column[0] for column in result.description or []]
    return columns, fetch_batches(result)


def fetch_batches(result: duckdb.DuckDBPyConnection, size: int = BATCH_ROWS) -> Iterator[list[Row]]:
    """DuckDB streams the result: only one batch of rows is held here at a time."""
    while True:
        try:
            batch = result.fetchmany(size)
        except duckdb.Error as error:
            raise ValleyError(describe_error(error)) from error
        if not batch:
            return
        yield batch


def format_value(value: Any) -> str:
    """A value as text, the same in every format: NULL, a Decimal without trailing zeros, nested values as JSON."""
    kind = type(value)
    if kind is str:
        return cast(str, value)
    if kind is int or kind is float:
        return str(value)
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format_decimal(value) if value.is_finite() else str(value)
    if isinstance(value, bytes):
        return "".join(chr(b) if 32 <= b < 127 and b != 92 else f"\\x{b:02X}" for b in value)
    if isinstance(value, list | tuple | dict):
        return json_value(value)
    return str(value)


def json_value(value: Any) -> str:
    """A value as JSON; numbers stay exact (a Decimal is written as its digits, never through a float)."""
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str:
        return encode_json_string(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "null"
    if isinstance(value, Decimal):
        return format_decimal(value) if value.is_finite() else "null"
    if isinstance(value, dict):
        items = (f"{encode_json_string(str(key))}: {json_value(item)}" for key, item in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(json_value(item) for item in value) + "]"
    return encode_json_string(value if isinstance(value, str) else format_value(value))


def csv_field(value: Any) -> str:
    """RFC 4180: NULL is an empty field, an empty string is a quoted one ("")."""
    kind = type(value)
    if kind is int or kind is float:
        return str(value)
    if value is None:
        return ""
    text = cast(str, value) if kind is str else format_value(value)
    return '"' + text.replace('"', '""') + '"' if CSV_QUOTED.search(text) else text


def table_cell(value: Any) -> str:
    """A value on one line of a table: a line break inside it shows as \\n (or \\r), so columns stay aligned."""
    text = format_value(value)
    return text.replace("\r", "\\r").replace("\n", "\\n") if "\n" in text or "\r" in text else text


def markdown_cell(value: Any) -> str:
    return format_value(value).replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>")


def row_count(total: int, shown: int) -> str:
    if total == shown:
        return f"({total} row{'s' if total != 1 else ''})"
    return f"({total} rows, the first {shown} shown: --max-rows N shows more, --format csv or json every row)"


def table_lines(columns: Sequence[str], rows: Sequence[Row], markdown: bool = False) -> list[str]:
    """A header, a rule and the rows, each column padded to its widest cell; GitHub's table syntax if `markdown`."""
    cell = markdown_cell if markdown else table_cell
    header = [markdown_cell(column) for column in columns] if markdown else [table_cell(c) for c in columns]
    cells = [[cell(value) for value in row] for row in rows]
    widths = [max([3 if markdown else 0, len(name)] + [len(row[i]) for row in cells]) for i, name in enumerate(header)]

    def line(texts: Sequence[str]) -> str:
        padded = [text.ljust(width) for text, width in zip(texts, widths, strict=True)]
        return f"| {' | '.join(padded)} |" if markdown else " | ".join(padded).rstrip()

    rule = f"| {' | '.join('-' * w for w in widths)} |" if markdown else "-+-".join("-" * w for w in widths)
    return [line(header), rule, *(line(row) for row in cells)]


def render_table(columns: Sequence[str], rows: Sequence[Row]) -> str:
    """Every row as a plain text table, ending with the row count."""
    return "\n".join([*table_lines(columns, rows), row_count(len(rows), len(rows))])


def take_rows(batches: Iterator[list[Row]], limit: int) -> tuple[list[Row], int]:
    """The first `limit` rows, and how many more the batch that completed them held."""
    shown: list[Row] = []
    for batch in batches:
        room = limit - len(shown)
        shown += batch[:room]
        if len(batch) >= room:
            return shown, len(batch) - room
    return shown, 0


def write_table(
    out: TextIO, columns: Sequence[str], batches: Iterator[list[Row]], max_rows: int, markdown: bool
) -> int:
    """The first `max_rows` rows at once, then the total, counting the rest without keeping them."""
    shown, more = take_rows(batches, max_rows)
    out.write("\n".join(table_lines(columns, shown, markdown)) + "\n")
    out.flush()
    total = len(shown) + more + count_rows(batches)
    out.write(("\n" if markdown else "") + row_count(total, len(shown)) + "\n")
    return total


def count_rows(batches: Iterable[Sequence[Row]]) -> int:
    return sum(len(batch) for batch in batches)


def write_csv(out: TextIO, columns: Sequence[str], batches: Iterable[list[Row]]) -> int:
    """A header line, then every row as it arrives."""
    out.write(",".join(csv_field(column) for column in columns) + "\n")
    total = 0
    for batch in batches:
        out.write("".join(",".join([csv_field(value) for value in row]) + "\n" for row in batch))
        total += len(batch)
    return total


def write_json_lines(out: TextIO, columns: Sequence[str], batches: Iterable[list[Row]]) -> int:
    """JSON Lines: one object per row, keyed by column name, written as it arrives."""
    keys = [encode_json_string(column) + ": " for column in columns]
    total = 0
    for batch in batches:
        lines = (
            "{" + ", ".join([key + json_value(value) for key, value in zip(keys, row, strict=True)]) + "}\n"
            for row in batch
        )
        out.write("".join(lines))
        total += len(batch)
    return total


def write_result(
    out: TextIO, output_format: str, columns: Sequence[str], batches: Iterator[list[Row]], max_rows: int
) -> int:
    """Write a result in one of FORMATS; returns how many rows it had."""
    if output_format == "csv":
        return write_csv(out, columns, batches)
    if output_format == "json":
        return write_json_lines(out, columns, batches)
    if output_format in ("table", "markdown"):
        return write_table(out, columns, batches, max_rows, markdown=output_format == "markdown")
    raise ValueError(f"unknown format {output_format!r}; expected one of {', '.join(FORMATS)}")
