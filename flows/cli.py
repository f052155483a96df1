"""The `valley` command: run the pipeline, or query what it published. Heavy imports wait for the subcommand."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flows.steps.errors import ValleyError
from flows.steps.paths import PROJECT_DIR, ProjectPaths


def configure_offline(root: Path) -> None:
    """No telemetry, no network, Prefect state inside the project; explicit settings still win."""
    defaults = {
        "PREFECT_HOME": str(root / ".prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)


class _HideUserErrorTracebacks(logging.Filter):
    """Prefect logs every task failure with a traceback; for errors a user caused, the message is enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], ValleyError):
            record.exc_info, record.exc_text = None, None
        return True


def quiet_user_errors() -> None:
    for name in [n for n in logging.root.manager.loggerDict if n.startswith("prefect")] + [""]:
        for handler in logging.getLogger(name).handlers:
            handler.addFilter(_HideUserErrorTracebacks())


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain text table: a header, a rule, and every row, columns padded to their widest cell."""
    from decimal import Decimal

    from flows.steps.numbers import format_decimal

    def show(value: Any) -> str:
        if value is None:
            return "NULL"
        return format_decimal(value) if isinstance(value, Decimal) else str(value)

    cells = [[show(value) for value in row] for row in rows]
    widths = [max([len(column)] + [len(row[i]) for row in cells]) for i, column in enumerate(columns)]
    lines = [" | ".join(column.ljust(w) for column, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join([*lines, f"({len(rows)} row{'s' if len(rows) != 1 else ''})"])


def format_summary(summary: dict[str, Any]) -> str:
    checks = summary["checks"]
    lines = [
        "valley run: published",
        "  tables:    " + ", ".join(f"{name} {count}" for name, count in summary["tables"].items()),
        f"  checks:    {checks['passed']} passed, {checks['warned']} warned, {checks['failed']} failed",
    ]
    lines += [f"  warning:   {message}" for message in summary["warnings"]]
    changed = [path for path in summary["changed"] if not path.endswith(".duckdb")]
    lines.append(f"  changed:   {', '.join(changed) if changed else 'no package file changed'}")
    lines.append(f"  warehouse: {summary['warehouse']}")
    return "\n".join(lines)


def command_run(arguments: argparse.Namespace) -> int:
    configure_offline(arguments.project)
    from flows.etl import etl

    quiet_user_errors()
    summary = etl(root=str(arguments.project))
    print(format_summary(summary))
    return 0


def command_query(arguments: argparse.Namespace) -> int:
    import duckdb

    from flows.steps.warehouse import query_warehouse

    path = ProjectPaths(arguments.project).warehouse
    if not path.is_file():
        raise ValleyError(f"no published warehouse at {path}: run `valley run` (or `make run`) first.")
    try:
        columns, rows = query_warehouse(path, arguments.sql)
    except duckdb.Error as error:
        raise ValleyError(f"the query failed against {path}: {error}") from error
    print(format_table(columns, rows))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="valley", description=__doc__)
    parser.add_argument("--project", type=Path, default=PROJECT_DIR, help="project folder (default: %(default)s)")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="extract, package, validate and publish (the ETL flow)")
    run.set_defaults(handler=command_run)
    query = commands.add_parser("query", help="run read-only SQL against the published DuckDB file")
    query.add_argument("sql", help='for example "SELECT * FROM revenue_by_year"')
    query.set_defaults(handler=command_query)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    arguments.project = arguments.project.resolve()
    try:
        return int(arguments.handler(arguments))
    except ValleyError as error:
        print(f"valley {arguments.command} failed: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
