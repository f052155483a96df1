"""The `valley` command: run the pipeline, or query what it published. Heavy imports wait for the subcommand."""

from __future__ import annotations

import argparse
import atexit
import gc
import importlib
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from flows.core.errors import ValleyError
from flows.core.paths import PROJECT_DIR, ProjectPaths

EXIT_WARNED = 2


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


def _exception_chain(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def user_error_message(error: BaseException) -> str | None:
    """The paragraph to print for an error a user caused (bad input, a server or file that is not there);
    None for anything else: a bug keeps its traceback."""
    if isinstance(error, ValleyError):
        return str(error)
    chain = _exception_chain(error)
    httpx = sys.modules.get("httpx")
    api_url = os.environ.get("PREFECT_API_URL")
    unreachable = next((e for e in chain if httpx and isinstance(e, httpx.TransportError)), None)
    if api_url and unreachable is not None:
        return (
            f"the Prefect API at {api_url} cannot be reached ({unreachable or type(unreachable).__name__}). "
            "Unset PREFECT_API_URL to run with a temporary local server of its own, or start the server it "
            "names (`prefect server start`, or `make server`) and try again."
        )
    for cause in chain:
        damaged = re.search(r'file "(.+)" exists, but it is not a valid DuckDB database file', str(cause))
        if damaged:
            path = Path(damaged.group(1))
            remedy = (
                "`valley run` rebuilds it from the published package"
                if path.name == "valley.duckdb"
                else "move it aside or restore it from a backup"
            )
            return f"{path} is not a DuckDB database (damaged, truncated or replaced): {remedy}."
    return None


_USER_ERROR_NAMES: set[str] = set()


class _HideUserErrorTracebacks(logging.Filter):
    """Prefect logs a failed run up to four times: the exception with its traceback and then the Failed state,
    for the task and again for the flow. The CLI prints a user error itself, once, so on the terminal those
    records are dropped; the run log on the server keeps them, without the traceback."""

    def __init__(self, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and user_error_message(error) is not None:
            _USER_ERROR_NAMES.add(type(error).__name__)
            record.exc_info, record.exc_text = None, None
            record.valley_user_error = True
        elif record.name in ("prefect.task_runs", "prefect.flow_runs") and _is_user_error_state(record.getMessage()):
            record.valley_user_error = True
        return not (self.terminal and getattr(record, "valley_user_error", False))


def _is_user_error_state(message: str) -> bool:
    """Prefect's "Finished in state Failed('... encountered an exception InputError: ...')" line; a task that
    may retry logs only this one, without the exception itself."""
    failed = re.match(r"Finished in state Failed\(.(?:Task|Flow) run encountered an exception:? (\w+): ", message)
    if not failed:
        return False
    names, classes = set(_USER_ERROR_NAMES), [ValleyError]
    while classes:
        names.add(classes[-1].__name__)
        classes += classes.pop().__subclasses__()
    return failed.group(1) in names


def require_dask_scheduler(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds, with a remedy, when no scheduler listens (dask waits 30 s, then raises a traceback)."""
    import socket

    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme not in ("tcp", "tls"):
        return
    try:
        host, port = parse_host_port(location)
    except ValueError as error:
        raise ValleyError(f"--dask-address {address!r} is not a scheduler address ({error}); "
                          "give one like tcp://127.0.0.1:8786") from error  # fmt: skip
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as error:
        raise ValleyError(
            f"the dask scheduler at {address} cannot be reached ({error.strerror or error}). Start it "
            "(`.venv/bin/dask scheduler`, then `.venv/bin/dask worker <address>`), check the address, or run "
            "without --runner dask to use this process."
        ) from error


def quiet_user_errors() -> None:
    from prefect.logging.handlers import APILogHandler

    handlers = {
        handler
        for name in [n for n in logging.root.manager.loggerDict if n.startswith("prefect")] + [""]
        for handler in logging.getLogger(name).handlers
    }
    for handler in handlers:
        if not any(isinstance(f, _HideUserErrorTracebacks) for f in handler.filters):
            handler.addFilter(_HideUserErrorTracebacks(terminal=not isinstance(handler, APILogHandler)))


class _FindingsToRunLogOnly(logging.Filter):
    """Findings are logged to the Prefect run log; on the terminal the run summary already lists them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "valley_finding", False)


def keep_findings_off_terminal() -> None:
    from prefect.logging.handlers import APILogHandler

    for name in [n for n in logging.root.manager.loggerDict if n.startswith("prefect")] + [""]:
        for handler in logging.getLogger(name).handlers:
            if not isinstance(handler, APILogHandler):
                handler.addFilter(_FindingsToRunLogOnly())


def quiet_prefect_log(arguments: argparse.Namespace, api_url: str) -> None:
    """The terminal shows the command's summary and its errors once; Prefect's INFO log only with -v."""
    from flows.runtime import server_identity
    from flows.terminal import quiet_terminal

    quiet_user_errors()
    keep_findings_off_terminal()
    quiet_terminal(bool(getattr(arguments, "verbose", False)), server_identity(api_url) == "temporary")


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain text table: a header, a rule, and every row, columns padded to their widest cell."""
    from flows.operate.query import render_table

    return render_table(columns, [tuple(row) for row in rows])


def format_summary(summary: dict[str, Any]) -> str:
    notes = [f"  note:      {note}" for note in summary.get("notes", [])]
    if summary["skipped"]:
        built_by = f", built by run {summary['built_by']}" if summary.get("built_by") else ""
        return "\n".join(
            [
                "valley run: nothing changed since the last publish (input key "
                f"{summary['input_key'][:12]}{built_by}); every published file was verified and nothing was "
                "rebuilt. Use --refresh to rebuild anyway.",
                *notes,
                *[f"  held back: {line}" for line in summary.get("held_back", [])],
                f"  warehouse: {summary['warehouse']}",
            ]
        )
    checks = summary["checks"]
    lines = [
        "valley run: published",
        *notes,
        "  tables:    " + ", ".join(f"{name} {count}" for name, count in summary["tables"].items()),
        f"  checks:    {checks['passed']} passed, {checks['warned']} warned, {checks['failed']} failed",
        f"  rebuilt:   inputs changed for {', '.join(summary['changed_stages'])}"
        if summary["changed_stages"]
        else "  rebuilt:   no input changed",
    ]
    lines += source_lines(summary["sources"]) if "sources" in summary else []
    lines += [f"  repaired:  {problem}: republished" for problem in summary.get("repaired", [])]
    lines += [f"  held back: {line}" for line in summary.get("held_back", [])]
    lines += [f"  warning:   {message}" for message in summary["warnings"]]
    lines += finding_lines(summary)
    changed = [path for path in summary["changed"] if not path.endswith(".duckdb")]
    lines.append(f"  changed:   {', '.join(changed) if changed else 'no package file changed'}")
    lines.append(f"  report:    {summary['report']}")
    lines.append(f"  data docs: {summary['data_docs']}")
    lines.append(f"  warehouse: {summary['warehouse']}")
    return "\n".join(lines)


NAMED_SOURCES = 3  # sources named for each reason; the rest are counted


def source_lines(sources: dict[str, Any]) -> list[str]:
    """What the run reused and what it extracted, and why: `sources:   10,001: 9,999 reused (kept rows), ...`."""
    reasons: dict[str, list[str]] = {}
    for source_id, reason in sources["rebuilt"].items():
        reasons.setdefault(reason, []).append(source_id)

    def named(ids: list[str]) -> str:
        more = f" and {len(ids) - NAMED_SOURCES:,} more" if len(ids) > NAMED_SOURCES else ""
        return ", ".join(ids[:NAMED_SOURCES]) + more

    parts = [f"{sources['reused']:,} reused (kept rows)", f"{len(sources['rebuilt']):,} extracted"]
    lines = [f"  sources:   {sources['total']:,}: " + ", ".join(parts)]
    lines += [f"  extracted: {len(ids):,} {reason}: {named(ids)}" for reason, ids in reasons.items()]
    if sources["gone"]:
        lines.append(f"  gone:      {len(sources['gone']):,} no longer there: {named(sources['gone'])}")
    return lines + validated_lines(sources.get("validated") or {})


def validated_lines(work: dict[str, int]) -> list[str]:
    """What validation redid by source: `validated: facts of 9,999 sources kept, 2 made; frictionless read ...`."""
    if "facts_made" not in work:
        return []
    read = work.get("rows_read")
    rows = "every source's rows" if read is None else f"the rows of {read:,} source(s) no publish has passed"
    return [f"  validated: facts kept for {work['facts_reused']:,} source(s), made for {work['facts_made']:,}; "
            f"frictionless read {rows}; the rules ran over every row"]  # fmt: skip


# what both flows import anyway (GX alone takes seconds): loaded while a temporary Prefect server starts
PIPELINE_IMPORTS = ("great_expectations", "frictionless")


def import_modules(*names: str) -> None:
    for name in names:
        importlib.import_module(name)


def command_run(arguments: argparse.Namespace) -> int:
    configure_offline(arguments.project)
    if not arguments.refresh:  # decided before Prefect starts: a verified skip costs no server and no flow
        import uuid

        from flows.publish.skip import skip_if_unchanged

        skipped = skip_if_unchanged(ProjectPaths(arguments.project), uuid.uuid4().hex)
        if skipped:
            print(format_summary(skipped))
            return 0
    from flows.runtime import prefect_api

    if arguments.runner == "dask":
        if not arguments.dask_address:
            raise ValleyError("--runner dask needs --dask-address, for example tcp://127.0.0.1:8786")
        require_dask_scheduler(arguments.dask_address)
    with prefect_api(preload=lambda: import_modules("flows.etl", *PIPELINE_IMPORTS)) as api_url:
        from flows.etl import etl

        flow = etl
        if arguments.runner == "dask":
            from prefect_dask import DaskTaskRunner

            flow = etl.with_options(task_runner=cast(Any, DaskTaskRunner(address=arguments.dask_address)))
        quiet_prefect_log(arguments, api_url)
        summary = flow(root=str(arguments.project), refresh=arguments.refresh, lock_timeout=arguments.lock_timeout)
    print(format_summary(summary))
    return 0


def command_add(arguments: argparse.Namespace) -> int:
    from flows.drafting.adding import add_and_draft

    print("\n".join(add_and_draft(ProjectPaths(arguments.project), arguments.source, arguments.slug)))
    return 0


def command_draft(arguments: argparse.Namespace) -> int:
    from flows.drafting.adding import draft_command

    paths = ProjectPaths(arguments.project)
    print("\n".join(draft_command(paths, arguments.slug, arguments.text, arguments.format)))
    return 0


def command_validate(arguments: argparse.Namespace) -> int:
    configure_offline(arguments.project)
    from flows.core.config import load_config
    from flows.runtime import prefect_api

    max_age = arguments.max_age_hours
    if max_age is None:  # 0 is a limit too: only an absent option falls back to the setting
        max_age = float(load_config(arguments.project)["max_age_hours"])
    with prefect_api(preload=lambda: import_modules("flows.revalidate", *PIPELINE_IMPORTS)) as api_url:
        from flows.revalidate import revalidate

        quiet_prefect_log(arguments, api_url)
        summary = cast(dict[str, Any], revalidate(root=str(arguments.project), max_age_hours=max_age))
    checks = summary["checks"]
    new_warnings = summary.get("new_warnings", summary["warnings"])
    headline = summary["worst_severity"] or "passed"
    if headline == "info":  # info is recorded, never a failure: a passing check says so
        headline = "passed"
    if headline == "warning" and not new_warnings:
        headline = "passed (every warning is accepted)"
    print(f"valley validate: {headline}")
    print(f"  checks:    {checks['passed']} passed, {checks['warned']} warned, {checks['failed']} failed")
    print("\n".join(f"  warning:   {message}" for message in summary["warnings"]) or "  warnings:  none")
    print("\n".join(finding_lines(summary)))
    print(f"  report:    {summary['report']}")
    # exit status follows new findings only: 2 on a new warning (a critical failure raised: 1)
    return EXIT_WARNED if new_warnings else 0


SHOWN_FINDINGS = 20


def finding_lines(summary: dict[str, Any]) -> list[str]:
    """The run's findings by class: counts, then each new finding and each stale acceptance, with fingerprints."""
    from flows.report.findings import RESOLVED, describe, new_of, summary_line

    if not summary.get("finding_counts"):
        return []
    lines = [f"  findings:  {summary_line(summary).removeprefix('Findings: ').removesuffix('.')}"]
    listed = [("new", row) for row in new_of(summary["findings"])]
    listed += [("resolved", row) for row in summary.get("resolved", []) if row["class"] == RESOLVED]
    lines += [f"  {label + ':':<10} {describe(row)}" for label, row in listed[:SHOWN_FINDINGS]]
    if len(listed) > SHOWN_FINDINGS:
        lines.append(f"  ...        and {len(listed) - SHOWN_FINDINGS} more in the report")
    if any(label == "new" and row["severity"] != "critical" for label, row in listed):
        lines.append('  accept:    valley accept FINGERPRINT --reason "..." (after review; see README, Known findings)')
    return lines


def command_accept(arguments: argparse.Namespace) -> int:
    """Add a finding of the latest report to expectations/accepted.yaml, with the reason and optional expiry."""
    import datetime as dt
    import json

    from flows.report.findings import accept, accepted_path, describe

    latest = ProjectPaths(arguments.project).build_dir / "reports" / "latest.json"
    try:
        report = json.loads(latest.read_text(encoding="utf-8")) if latest.is_file() else None
    except (OSError, ValueError) as error:
        raise ValleyError(f"cannot read the latest report {latest} ({error}): run `valley validate` again.") from None
    path = accepted_path(arguments.project)
    today = dt.datetime.now(dt.UTC).date()
    finding = accept(path, report, arguments.fingerprint, arguments.reason, today, arguments.expires)
    until = f", until {arguments.expires}" if arguments.expires else ""
    print(f"valley accept: {describe({**finding, 'note': None})} accepted{until}")
    print(f"  file:      {path} (review and commit it)")
    return 0


def iso_date(text: str) -> Any:
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, not {text!r}") from None


def read_sql(arguments: argparse.Namespace) -> str:
    if arguments.file is None:
        return str(arguments.sql)
    try:
        return Path(arguments.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        raise ValleyError(f"cannot read the SQL file {arguments.file}: {reason}.") from error


def command_query(arguments: argparse.Namespace) -> int:
    from flows.operate.query import open_session, run_query, write_result

    paths = ProjectPaths(arguments.project)
    sql = read_sql(arguments)
    session = open_session(paths.warehouse, {"quality": paths.history})
    try:
        columns, batches = run_query(session, sql)
        write_result(sys.stdout, arguments.format, columns, batches, arguments.max_rows)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader stopped early (`| head`): not an error; keep Python from complaining at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        session.close()
    return 0


def format_release(release: Any, root: Path) -> str:
    """What `valley release` did: the folder, what changed since the previous release, the page."""
    folder = release.directory.relative_to(root) if release.directory.is_relative_to(root) else release.directory
    if release.status == "unchanged":
        same = f"valley release: {release.version} is already released with identical content; nothing changed"
        return f"{same}\n  folder:  {folder}"
    touched = [
        f"{name} {len(t.added)} added, {len(t.removed)} removed, {len(t.changed)} changed"
        for name, t in release.changes.items()
        if not t.empty
    ]
    if release.previous is None:
        changes = "first release"
    else:
        changes = f"since {release.previous}: " + ("; ".join(touched) if touched else "no row changed")
    return "\n".join(
        [
            f"valley release: {release.version} released",
            f"  folder:  {folder} (valley-{release.version}.zip, valley-{release.version}.duckdb, SHA256SUMS)",
            f"  changes: {changes} (CHANGELOG.md, {folder}/changes.json)",
            f"  page:    {release.directory / 'index.html'}",
            f"  latest:  {release.directory.parent / 'latest'} -> {release.version}",
        ]
    )


def command_release(arguments: argparse.Namespace) -> int:
    from flows.publish.release import cut_release

    release = cut_release(ProjectPaths(arguments.project))
    print(format_release(release, arguments.project))
    return 0


def command_publish(arguments: argparse.Namespace) -> int:
    from flows.publish.distribute import publish_release, resolve_target

    target = resolve_target(arguments.project, arguments.to)
    done = publish_release(ProjectPaths(arguments.project), target, arguments.release)
    if done.status == "unchanged":
        print(
            f"valley publish: {done.version} is already published at {target} with identical content; nothing changed"
        )
        return 0
    versions = f"{len(done.versions)} version{'' if len(done.versions) == 1 else 's'}"
    print(
        f"valley publish: {done.version} published to {target}\n"
        f"  version:  {target}/v{done.version}/ (descriptor, CSV and Parquet tables, DuckDB file, page, SHA256SUMS)\n"
        f"  latest:   {target}/latest/ -> v{done.latest}\n"
        f"  index:    {target}/releases.json ({versions}), feed {target}/feed.xml"
    )
    return 0


def command_serve(arguments: argparse.Namespace) -> int:
    configure_offline(arguments.project)
    from flows.core.config import load_config
    from flows.serve import Schedule, serve_project

    config = load_config(arguments.project)

    def schedule(option: str, key: str) -> Schedule:
        given = getattr(arguments, key)
        return Schedule(given, f"--{option}") if given else Schedule(str(config[key]), f"[tool.valley] {key}")

    etl_schedule, validate_schedule = schedule("etl-cron", "etl_cron"), schedule("validate-cron", "validate_cron")
    serve_project(
        arguments.project, etl_schedule, validate_schedule, float(config["max_age_hours"]), arguments.for_seconds
    )
    return 0


class PrintVersion(argparse.Action):
    """`--version`, looked up only when asked for (importlib.metadata is not free at every start)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"valley {version('valley')}")
        except PackageNotFoundError:
            print("valley (version unknown: the package is not installed; pip install -e .)")
        parser.exit()


def row_limit(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number of rows, 0 or more, not {text!r}")
    return int(text)


# every subcommand's --help ends with examples; a subcommand without any fails a test (tests/test_cli.py)
EXAMPLES: dict[str, list[str]] = {
    "run": ["valley run", "valley run --refresh -v    # rebuild, with Prefect's log"],
    "validate": ["valley validate", "valley validate --max-age-hours 48"],
    "query": [
        'valley query "SELECT measure, period, value FROM facts ORDER BY measure"',
        "valley query -f warehouse/queries/revenue_by_year.sql --format csv",
    ],
    "release": ["valley release    # raise `version` in datapackage/datapackage.json first"],
    "accept": ['valley accept 5e1f0d3a9b7c41c2 --reason "the schedule is paused" --expires 2027-01-06'],
    "publish": ["valley publish", "valley publish --to s3://bucket/valley --release 0.1.0"],
    "serve": ["valley serve", 'valley serve --etl-cron "0 6 * * *" --for-seconds 3600'],
    "add": ["valley add saved-page.html", "valley add https://example.org/news/story.html --slug story"],
    "draft": ["valley draft story", "valley draft --text article.txt --format json    # print, write nothing"],
}


def add_verbose(parser: argparse.ArgumentParser, default: Any = False) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", default=default,
                        help="show Prefect's log (INFO lines) as well as the summary")  # fmt: skip


def describe_commands(commands: Any) -> None:
    """Each subcommand's --help: what it does (its one-line help, as a sentence) and its examples."""
    for action in commands._choices_actions:
        parser = commands.choices[action.dest]
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        summary = str(action.help)
        parser.description = parser.description or summary[0].upper() + summary[1:] + "."
        examples = EXAMPLES.get(action.dest, [])
        parser.epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples) if examples else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="valley", description=__doc__)
    parser.add_argument("--project", type=Path, default=PROJECT_DIR, help="project folder (default: %(default)s)")
    parser.add_argument("--version", action=PrintVersion, help="print the version of valley and exit")
    add_verbose(parser)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="extract, package, validate and publish (the ETL flow)")
    run.add_argument("--refresh", action="store_true", help="rebuild even when no input changed")
    run.add_argument("--runner", choices=["process", "dask"], default="process",
                     help="where tasks run: in this process (default) or on a dask.distributed cluster")  # fmt: skip
    run.add_argument("--dask-address", help="the cluster's scheduler address, for --runner dask")
    run.add_argument("--lock-timeout", type=float, default=600.0,
                     help="seconds to wait for another run on the same project (default: %(default)s)")  # fmt: skip
    add_verbose(run, default=argparse.SUPPRESS)
    run.set_defaults(handler=command_run)
    validate = commands.add_parser(
        "validate", help="re-check what is published (exit 0 passed, 2 warnings, 1 blocking failure)"
    )
    validate.add_argument("--max-age-hours", type=float, help="freshness limit (default: [tool.valley] max_age_hours)")
    add_verbose(validate, default=argparse.SUPPRESS)
    validate.set_defaults(handler=command_validate)
    query = commands.add_parser("query", help="run read-only SQL against the published DuckDB file")
    query_sql = query.add_mutually_exclusive_group(required=True)
    query_sql.add_argument("sql", nargs="?", help='one statement, for example "SELECT * FROM revenue_by_year"')
    query_sql.add_argument("-f", "--file", type=Path, help="read the SQL from this file instead")
    query.add_argument("--format", choices=["table", "csv", "json", "markdown"], default="table",
                       help="table (default) and markdown show the first --max-rows rows and the count; "
                       "csv and json (JSON Lines) stream every row")  # fmt: skip
    query.add_argument("--max-rows", type=row_limit, default=40,
                       help="rows table and markdown show (default: %(default)s; 0: only the count)")  # fmt: skip
    query.set_defaults(handler=command_query)
    release = commands.add_parser(
        "release", help="cut dist/<version>/ from the published package: zip, checksums, diff, page"
    )
    release.set_defaults(handler=command_release)
    accept = commands.add_parser(
        "accept", help="accept a warning or info finding of the latest report (expectations/accepted.yaml)"
    )
    accept.add_argument("fingerprint", help="the finding's fingerprint, as `valley run` or `valley validate` print it")
    accept.add_argument("--reason", required=True, help="why the finding is accepted (kept in the file)")
    accept.add_argument("--expires", type=iso_date, help="YYYY-MM-DD: after this day the finding counts as new")
    accept.set_defaults(handler=command_accept)
    publish = commands.add_parser(
        "publish", help="put a release where people fetch it: v<version>/, latest/, releases.json, feed.xml"
    )
    publish.add_argument("--to", help="a folder or an fsspec URL (default: [tool.valley] publish_to, dist/public)")
    publish.add_argument("--release", metavar="VERSION", help="the release in dist/ to publish (default: the newest)")
    publish.set_defaults(handler=command_publish)
    add = commands.add_parser("add", help="snapshot a saved page, a text file or a URL as a new source, and draft it")
    add.add_argument("source", metavar="PATH|URL", help="a saved web page (.html), a text file, or an http(s) URL")
    add.add_argument("--slug", help="the source folder's name (default: from the title)")
    add.set_defaults(handler=command_add)
    draft = commands.add_parser(
        "draft", help="propose a record for every number of a source (never over reviewed ones)"
    )
    draft.add_argument("slug", nargs="?", help="the source folder under datapackage/sources/")
    draft.add_argument("--text", type=Path, help="draft this plain text file instead, writing nothing")
    draft.add_argument("--format", choices=["yaml", "json"], default="yaml",
                       help="yaml (default): write records and the review page; json: print JSON Lines")  # fmt: skip
    draft.set_defaults(handler=command_draft)
    serve = commands.add_parser("serve", help="run both flows on cron schedules, on a local Prefect server it starts")
    serve.add_argument("--etl-cron", help="when the ETL flow runs, cron in UTC (default: [tool.valley] etl_cron)")
    serve.add_argument("--validate-cron", help="when `valley validate` runs (default: [tool.valley] validate_cron)")
    serve.add_argument("--for-seconds", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    serve.set_defaults(handler=command_serve)
    describe_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # at exit, the interpreter's last garbage collections walk every object GX, pandas and Prefect made (1-2 s
    # after the command is done); frozen, they are left to the exit itself. Files are closed and atexit hooks
    # (Prefect's log flush) still run: only cyclic garbage goes unfinalized, as it may anyway at exit.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    arguments = build_parser().parse_args(argv)
    arguments.project = arguments.project.resolve()
    try:
        return int(arguments.handler(arguments))
    except Exception as error:
        message = user_error_message(error)
        if message is None:
            raise
        # a validation reads a snapshot of the published files: name the files themselves
        snapshots = f"{ProjectPaths(arguments.project).snapshots_dir}/"
        message = re.sub(re.escape(snapshots) + r"[^/\s]+/", f"{arguments.project}/", message)
        print(f"valley {arguments.command} failed: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
