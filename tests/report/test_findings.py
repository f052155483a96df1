import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from flows.core.paths import PROJECT_DIR
from flows.report.findings import (
    ACCEPTED,
    NEW,
    RESOLVED,
    AcceptRefused,
    accept,
    accepted_path,
    classify,
    counts_by_class,
    findings_of,
    fingerprint,
    load_accepted,
    parse_accepted,
)
from flows.sources.records import InputError

TODAY = dt.date(2026, 11, 29)


def result(suite: str, severity: str, rows: list[dict[str, str]], column: str | None = "finding") -> dict[str, Any]:
    return {"suite": suite, "expectation": "expect_column_values_to_be_in_set", "column": column,
            "severity": severity, "success": False, "message": f"{suite}: bad", "failing": rows}  # fmt: skip


WARNING = result("year_on_year", "warning", [{"table": "figures", "key": "a-2018", "field": "change_percent"}])
CRITICAL = result(
    "integrity", "critical", [{"table": "figures", "key": "datapackage/data/figures.csv", "field": "hash"}]
)


def entry_text(row: dict[str, Any], **extra: str) -> str:
    lines = [f"  - fingerprint: '{row['fingerprint']}'"]
    lines += [f"    {k}: '{row[k]}'" for k in ("suite", "check", "table", "key", "field")]
    lines += ["    reason: checked by hand", "    accepted: 2026-11-01"]
    lines += [f"    {k}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def as_row(result_dict: dict[str, Any]) -> dict[str, Any]:
    finding = findings_of([result_dict])[0]
    return {"fingerprint": finding.fingerprint, **{k: getattr(finding, k) for k in ("suite", "check", "table", "key", "field", "severity")}}  # fmt: skip


def test_the_fingerprint_is_stable_and_ignores_the_message() -> None:
    other_message = {**WARNING, "message": "said differently"}
    assert findings_of([WARNING])[0].fingerprint == findings_of([other_message])[0].fingerprint
    assert (
        fingerprint("s", "c", "t", "k", "f")
        == fingerprint("s", "c", "t", "k", "f")
        != fingerprint("s", "c", "t", "k", "g")
    )
    assert len(fingerprint("s", "c", "t", "k", "f")) == 16
    # a check without failing rows is one finding on its suite and column
    table_level = {
        **WARNING,
        "failing": [],
        "column": None,
        "expectation": "expect_table_columns_to_match_ordered_list",
    }
    (finding,) = findings_of([table_level])
    assert (finding.table, finding.key, finding.field) == ("year_on_year", "", "")


def test_classify_new_accepted_resolved_expired_and_critical(tmp_path: Path) -> None:
    path = tmp_path / "accepted.yaml"
    gone = {"fingerprint": fingerprint("year_on_year", "x", "figures", "old", "value"), "suite": "year_on_year",
            "check": "x", "table": "figures", "key": "old", "field": "value"}  # fmt: skip
    other_suite = {
        **gone,
        "suite": "freshness",
        "fingerprint": fingerprint("freshness", "x", "figures", "old", "value"),
    }
    path.write_text("accepted:\n" + entry_text(as_row(WARNING)) + entry_text(gone) + entry_text(other_suite))
    entries = load_accepted(path)
    findings = findings_of([WARNING, CRITICAL])
    classified = classify(findings, entries, {"year_on_year", "integrity"}, TODAY)
    classes = {row["suite"]: row["class"] for row in classified["findings"]}
    assert classes == {"year_on_year": ACCEPTED, "integrity": NEW}
    # the entry whose finding no longer occurs is stale; one for a suite this run did not check says nothing
    assert [(r["key"], r["class"]) for r in classified["resolved"]] == [("old", RESOLVED)]
    assert "no longer occurs" in classified["resolved"][0]["note"]
    assert counts_by_class(classified) == {NEW: 1, ACCEPTED: 1, RESOLVED: 1}
    # expired yesterday: new again, and says why
    path.write_text("accepted:\n" + entry_text(as_row(WARNING), expires="2026-11-28"))
    (row,) = classify(findings_of([WARNING]), load_accepted(path), {"year_on_year"}, TODAY)["findings"]
    assert row["class"] == NEW and "expired on 2026-11-28" in row["note"]
    # expiring today still holds
    path.write_text("accepted:\n" + entry_text(as_row(WARNING), expires="2026-11-29"))
    (row,) = classify(findings_of([WARNING]), load_accepted(path), {"year_on_year"}, TODAY)["findings"]
    assert row["class"] == ACCEPTED


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("accepted:\n  - fingerprint: 'abc'\n", 2, "missing suite, check, table, key, field, reason, accepted"),
        ("accepted: [1, 2\n", 2, "not valid YAML"),
        ("findings: []\n", 1, "expected a mapping with one key, 'accepted'"),
        (
            "accepted:\n" + entry_text(as_row(WARNING)).replace("'year_on_year'", "'plausibility'"),
            2,
            "is not the fingerprint",
        ),
        (
            "accepted:\n" + entry_text(as_row(WARNING)).replace("2026-11-01", "last week"),
            9,
            "expected a date YYYY-MM-DD",
        ),
        ("accepted:\n" + entry_text(as_row(WARNING), severity="critical"), 10, "a critical finding cannot be accepted"),
        ("accepted:\n" + entry_text(as_row(WARNING)) * 2, 10, "is accepted twice (also at line 2)"),
        ("accepted:\n" + entry_text(as_row(WARNING), owner="me"), 10, "unknown key"),
    ],
    ids=["missing", "yaml", "shape", "fingerprint", "date", "critical", "twice", "unknown"],
)
def test_a_bad_accepted_file_names_its_line(text: str, line: int, fragment: str, tmp_path: Path) -> None:
    path = tmp_path / "accepted.yaml"
    with pytest.raises(InputError) as raised:
        parse_accepted(text, path)
    assert f"{path}, line {line}" in str(raised.value) and fragment in str(raised.value), str(raised.value)


def test_accept_appends_an_entry_and_refuses_critical_unknown_and_repeated(tmp_path: Path) -> None:
    path = tmp_path / "expectations" / "accepted.yaml"
    warning, critical = as_row(WARNING), as_row(CRITICAL)
    report = {"flow": "validate", "run_id": "0123456789", "findings": [warning, critical]}
    added = accept(path, report, warning["fingerprint"], "known rounding", TODAY, dt.date(2027, 1, 1))
    assert added["fingerprint"] == warning["fingerprint"]
    (entry,) = load_accepted(path)
    assert (entry.fingerprint, entry.reason, entry.accepted, entry.expires) == (
        warning["fingerprint"], "known rounding", TODAY, dt.date(2027, 1, 1))  # fmt: skip
    assert path.read_text().startswith("# Accepted findings")
    with pytest.raises(AcceptRefused, match="a critical finding cannot be accepted"):
        accept(path, report, critical["fingerprint"], "no", TODAY, None)
    with pytest.raises(AcceptRefused, match="'feedfacefeedface' is not a finding of the latest report"):
        accept(path, report, "feedfacefeedface", "no", TODAY, None)
    with pytest.raises(AcceptRefused, match="already in the file at line 8"):
        accept(path, report, warning["fingerprint"], "again", TODAY, None)
    assert len(load_accepted(path)) == 1


def test_the_shipped_file_loads_and_accepts_only_info_findings() -> None:
    entries = load_accepted(accepted_path(PROJECT_DIR))
    assert len(entries) >= 3 and all(e.severity == "info" and e.reason for e in entries)
    assert {e.suite for e in entries} == {"year_on_year", "figure_pairs", "plausibility"}
