"""Known findings: fingerprints, the reviewed list of accepted ones (expectations/accepted.yaml), and each run's
findings classified as new, accepted or resolved.

A finding is one failing row of one check (or the check itself when it names no row). Its fingerprint hashes
what locates it, never its message or values: the suite, the check (an audit frame's column, such as
"dated"; for a table suite the expectation type and column), and the table, key and field of the row.
Critical findings are always new: they cannot be accepted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from flows.sources.records import InputError, Problem

ACCEPTED_FILE = "accepted.yaml"
NEW, ACCEPTED, RESOLVED = "new", "accepted", "resolved"
CLASSES = (NEW, ACCEPTED, RESOLVED)
ACCEPTABLE = ("warning", "info")
PARTS = ("suite", "check", "table", "key", "field")
REQUIRED = (*PARTS, "fingerprint", "reason", "accepted")
OPTIONAL = ("expires", "severity")
HEADER = """\
# Accepted findings: failing check rows (warning or info, never critical) reviewed and accepted, so that
# `valley run` and `valley validate` report them as accepted rather than new, and exit 0 for them.
# Add one with `valley accept FINGERPRINT --reason "..." [--expires YYYY-MM-DD]` (the fingerprint is printed
# with each new finding and is in build/reports/latest.json); review the change like code.
# An entry past its `expires` date counts as new again; an entry whose finding no longer occurs is reported
# as resolved (stale): remove it.
accepted:
"""


def accepted_path(root: Path) -> Path:
    return root / "expectations" / ACCEPTED_FILE


def check_name(expectation: str, column: str | None) -> str:
    """The check within its suite: the expectation type, and the column it grades when it has one."""
    return f"{expectation}:{column}" if column else expectation


def fingerprint(suite: str, check: str, table: str, key: str, field: str) -> str:
    """16 hex digits of sha256 over the five parts; stable while the check and the row's location are."""
    text = json.dumps([suite, check, table, key, field], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Finding:
    """One failing row of one check of a run."""

    suite: str
    check: str
    table: str
    key: str
    field: str
    severity: str
    message: str
    record: str | None = None  # where the row came from ("file:line"), when from a record: not fingerprinted

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.suite, self.check, self.table, self.key, self.field)

    def where(self) -> str:
        return f"{self.table} row '{self.key}' field '{self.field}'" if self.key else f"{self.table} '{self.field}'"


def findings_of(results: Iterable[dict[str, Any]]) -> list[Finding]:
    """Every failing row of every failing check (CheckResult as a dict, as in a report's `results`); a check that
    names no row is one finding on its suite and column. Repeated rows are one finding."""
    out: dict[str, Finding] = {}
    for result in results:
        if result["success"]:
            continue
        column = result.get("column")
        rows = result.get("failing") or [{"table": result["suite"], "key": "", "field": column or ""}]
        for row in rows:
            # an audit frame's column is its rule ("dated", "finding", "matches"), whatever expectation grades
            # it; a table suite's rules are told apart by their expectation type
            audit = bool(column) and str(row["table"]) != result["suite"]
            check = str(column) if audit else check_name(result["expectation"], column)
            finding = Finding(result["suite"], check, str(row["table"]), str(row["key"]), str(row["field"]),
                              result["severity"], result.get("message") or "", row.get("record"))  # fmt: skip
            out.setdefault(finding.fingerprint, finding)
    return list(out.values())


@dataclass(frozen=True)
class Entry:
    """One accepted finding from accepted.yaml, with the line it starts on."""

    fingerprint: str
    suite: str
    check: str
    table: str
    key: str
    field: str
    reason: str
    accepted: dt.date
    expires: dt.date | None
    severity: str | None
    line: int

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def parse_accepted(text: str, path: Path) -> list[Entry]:
    """The entries of an accepted-findings file, strictly: every problem is reported with its file and line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise InputError([Problem(path, mark.line + 1 if mark else None, None, f"not valid YAML: {error}")]) from None
    if root is None:
        return []
    problems: list[Problem] = []
    shape = "expected a mapping with one key, 'accepted', holding a list of entries"
    if not isinstance(root, yaml.MappingNode):
        raise InputError([Problem(path, root.start_mark.line + 1, None, shape)])
    top = {key.value: value for key, value in root.value}
    if set(top) - {"accepted"}:
        raise InputError([Problem(path, root.start_mark.line + 1, None, f"{shape}; found {sorted(top)}")])
    listing = top.get("accepted")
    if listing is None or (isinstance(listing, yaml.ScalarNode) and listing.value in ("", "null", "~")):
        return []
    if not isinstance(listing, yaml.SequenceNode):
        raise InputError([Problem(path, listing.start_mark.line + 1, "accepted", shape)])
    constructor = yaml.SafeLoader("")
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for node in listing.value:
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            problems.append(Problem(path, line, None, "each entry must be a mapping of " + ", ".join(REQUIRED)))
            continue
        values = {key.value: constructor.construct_object(value, deep=True) for key, value in node.value}
        lines = {key.value: key.start_mark.line + 1 for key, _ in node.value}
        before = len(problems)
        unknown = sorted(set(values) - set(REQUIRED) - set(OPTIONAL))
        if unknown:
            known = ", ".join(REQUIRED + OPTIONAL)
            problems.append(Problem(path, lines[unknown[0]], unknown[0], f"unknown key; known: {known}"))
        missing = [key for key in REQUIRED if key not in values]
        if missing:
            problems.append(Problem(path, line, None, f"missing {', '.join(missing)}"))
        for key in (*PARTS, "fingerprint"):
            if key in values and not isinstance(values[key], str):
                problems.append(Problem(path, lines[key], key, "must be a string (quote it)"))
        if "reason" in values and not (isinstance(values["reason"], str) and values["reason"].strip()):
            problems.append(Problem(path, lines["reason"], "reason", "say why the finding is accepted"))
        for key in ("accepted", "expires"):
            if key in values and _date(values[key]) is None:
                problems.append(Problem(path, lines[key], key, f"expected a date YYYY-MM-DD, not {values[key]!r}"))
        severity = values.get("severity")
        if severity is not None and severity not in ACCEPTABLE:
            detail = "a critical finding cannot be accepted: fix its cause" if severity == "critical" else ""
            problems.append(Problem(path, lines["severity"], "severity", detail or f"expected one of {ACCEPTABLE}"))
        if len(problems) > before:
            continue
        parts = [values[key] for key in PARTS]
        expected = fingerprint(*parts)
        if values["fingerprint"] != expected:
            problems.append(Problem(path, lines["fingerprint"], "fingerprint",
                                    f"{values['fingerprint']!r} is not the fingerprint of this suite, check, table, "
                                    f"key and field ({expected})"))  # fmt: skip
            continue
        if expected in seen:
            twice = f"finding {expected} is accepted twice (also at line {seen[expected]})"
            problems.append(Problem(path, line, None, twice))
            continue
        seen[expected] = line
        suite, check, table, key, field = parts
        accepted_on = _date(values["accepted"])
        assert accepted_on is not None  # checked above
        entries.append(Entry(expected, suite, check, table, key, field, values["reason"].strip(), accepted_on,
                             _date(values.get("expires")), severity, line))  # fmt: skip
    if problems:
        raise InputError(problems)
    return entries


def load_accepted(path: Path) -> list[Entry]:
    """The accepted findings of a project; none when the file does not exist."""
    if not path.is_file():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError([Problem(path, None, None, f"cannot be read ({error})")]) from None
    return parse_accepted(text, path)


def classify(
    findings: Sequence[Finding], entries: Sequence[Entry], suites_checked: Iterable[str], today: dt.date
) -> dict[str, list[dict[str, Any]]]:
    """Each finding as new or accepted, and each entry of a suite that ran whose finding did not occur as resolved.

    A critical finding is always new; so is one whose acceptance expired (the row says so)."""
    by_print = {entry.fingerprint: entry for entry in entries}
    current, present = [], set()
    for finding in findings:
        present.add(finding.fingerprint)
        entry = by_print.get(finding.fingerprint)
        row: dict[str, Any] = {"fingerprint": finding.fingerprint, "suite": finding.suite, "check": finding.check,
                               "table": finding.table, "key": finding.key, "field": finding.field,
                               "severity": finding.severity, "message": finding.message, "note": None,
                               "record": finding.record}  # fmt: skip
        if entry is None or finding.severity not in ACCEPTABLE:
            row["class"] = NEW
            if entry is not None:
                row["note"] = "critical: cannot be accepted"
        elif entry.expired(today):
            row["class"], row["note"] = NEW, f"its acceptance expired on {entry.expires}"
        else:
            row["class"], row["note"] = ACCEPTED, f"accepted {entry.accepted}: {entry.reason}"
        current.append(row)
    checked = set(suites_checked)
    resolved = [
        {"fingerprint": e.fingerprint, "suite": e.suite, "check": e.check, "table": e.table, "key": e.key,
         "field": e.field, "severity": e.severity, "message": None, "class": RESOLVED,
         "note": f"stale: accepted {e.accepted} ({e.reason}) but no longer occurs; remove it from {ACCEPTED_FILE}",
         "record": None}
        for e in entries
        if e.fingerprint not in present and e.suite in checked
    ]  # fmt: skip
    return {"findings": current, "resolved": resolved}


def counts_by_class(classified: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    counts = dict.fromkeys(CLASSES, 0)
    for row in classified["findings"] + classified["resolved"]:
        counts[row["class"]] += 1
    return counts


def new_of(rows: Iterable[dict[str, Any]], severity: str | None = None) -> list[dict[str, Any]]:
    return [r for r in rows if r["class"] == NEW and (severity is None or r["severity"] == severity)]


def describe(row: dict[str, Any]) -> str:
    """One line for a classified finding: severity, fingerprint, where, and the note."""
    where = f"{row['table']} row '{row['key']}' field '{row['field']}'" if row["key"] else f"{row['table']}"
    severity = f"{row['severity']} " if row.get("severity") else ""
    head = f"{severity}{row['fingerprint']} {row['suite']}/{row['check']}: {where}"
    head += f" at {row['record']}" if row.get("record") else ""
    return head + (f" ({row['note']})" if row.get("note") else "")


class AcceptRefused(InputError):
    """`valley accept` refused: one problem, stated once."""


def render_entry(finding: dict[str, Any], reason: str, today: dt.date, expires: dt.date | None) -> str:
    """The YAML lines of one new entry, indented under `accepted:`."""
    entry: dict[str, Any] = {"fingerprint": finding["fingerprint"]}
    entry |= {key: finding[key] for key in PARTS}
    entry |= {"severity": finding["severity"], "reason": reason.strip(), "accepted": today}
    if expires is not None:
        entry["expires"] = expires
    text = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=110)
    return "".join(f"  {line}\n" for line in text.splitlines())


def accept(
    path: Path, report: dict[str, Any] | None, wanted: str, reason: str, today: dt.date, expires: dt.date | None
) -> dict[str, Any]:
    """Append an entry for finding `wanted` (a fingerprint from the latest report) to the accepted file, keeping
    every line already there; returns the finding. Refuses, with one message, what cannot be accepted."""

    def refuse(message: str) -> AcceptRefused:
        return AcceptRefused([Problem(path, None, None, message)])

    if not reason.strip():
        raise refuse('give the reason the finding is accepted: --reason "..."')
    if expires is not None and expires < today:
        raise refuse(f"--expires {expires} is in the past")
    if report is None:
        raise refuse("no report to accept a finding from: run `valley run` or `valley validate` first")
    rows = {row["fingerprint"]: row for row in report.get("findings", [])}
    finding = rows.get(wanted.strip())
    if finding is None:
        raise refuse(
            f"{wanted!r} is not a finding of the latest report ({report.get('flow')} run "
            f"{str(report.get('run_id'))[:8]}); its findings are: {', '.join(sorted(rows)) or 'none'}"
        )
    if finding["severity"] not in ACCEPTABLE:
        raise refuse(f"finding {wanted} is critical ({describe(finding)}); a critical finding cannot be accepted: "
                     "fix its cause")  # fmt: skip
    existing = {entry.fingerprint: entry for entry in load_accepted(path)}
    if wanted in existing:
        entry = existing[wanted]
        state = f"expired on {entry.expires}" if entry.expired(today) else f"accepted on {entry.accepted}"
        raise refuse(f"finding {wanted} is already in the file at line {entry.line} ({state}); edit that entry")
    text = path.read_text(encoding="utf-8") if path.is_file() else HEADER
    if not existing:  # `accepted: []` or an empty `accepted:` becomes a block list
        lines = [line for line in text.splitlines() if line.strip() not in ("accepted: []", "accepted:")]
        text = "\n".join(lines).rstrip("\n") + "\naccepted:\n"
    text = text if text.endswith("\n") else text + "\n"
    text += render_entry(finding, reason, today, expires)
    parse_accepted(text, path)  # what is written must load
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.tmp")
    scratch.write_text(text, encoding="utf-8")
    os.replace(scratch, path)
    return finding


def summary_line(document: dict[str, Any]) -> str:
    """ "Findings: 1 new, 3 accepted, 0 resolved." for a report (or its summary); empty for an older report."""
    counts = document.get("finding_counts")
    if not counts:
        return ""
    return "Findings: " + ", ".join(f"{counts.get(name, 0)} {name}" for name in CLASSES) + "."


def by_class(document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    rows = document.get("findings", []) + document.get("resolved", [])
    return {name: [row for row in rows if row["class"] == name] for name in CLASSES}


def findings_markdown(document: dict[str, Any]) -> list[str]:
    """Markdown lines: the counts by class, then each class's findings."""
    if not document.get("finding_counts"):
        return []
    lines = ["", summary_line(document)]
    titles = {NEW: "New findings", ACCEPTED: "Accepted findings", RESOLVED: "Resolved (stale acceptances)"}
    for name, rows in by_class(document).items():
        if rows:
            lines += ["", f"## {titles[name]}", ""] + [f"- {describe(row)}" for row in rows]
    return lines


def findings_html(document: dict[str, Any], heading: str = "h2", folded: tuple[str, ...] = ()) -> str:
    """An HTML section: the counts by class and one list per class (for Data Docs and the release page); the
    classes in `folded` behind a <details> that opens on a click."""
    import html

    if not document.get("finding_counts"):
        return ""
    parts = [f'<section id="findings"><{heading}>Findings: new, accepted, resolved</{heading}>',
             f"<p>{html.escape(summary_line(document))} Accepted findings are listed in expectations/{ACCEPTED_FILE}; "
             "only new ones raise the status.</p>"]  # fmt: skip
    for name, rows in by_class(document).items():
        if rows:
            items = "".join(f"<li>{html.escape(describe(row))}</li>" for row in rows)
            listed = f'<ul class="findings-{name}">{items}</ul>'
            if name in folded:
                parts.append(f"<details><summary>{name} ({len(rows)})</summary>{listed}</details>")
            else:
                parts.append(f"<p>{name} ({len(rows)}):</p>{listed}")
    return "".join(parts) + "</section>"
