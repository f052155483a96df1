"""Known findings end to end: `valley validate` exits on new warnings only; `valley accept` adds an entry."""

import json
import re

import duckdb
import pytest

from flows.cli import main
from flows.core.paths import ProjectPaths
from flows.report.findings import accepted_path, fingerprint, load_accepted

NEW_LINE = re.compile(r"^  new:\s+warning (?P<fingerprint>[0-9a-f]{16}) freshness/", re.MULTILINE)


def valley(paths: ProjectPaths, capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    """`valley ...` in this process (a CLI subprocess costs seconds of start-up per call): status, stdout, stderr."""
    capsys.readouterr()
    status = main(["--project", str(paths.root), *arguments])
    out, err = capsys.readouterr()
    return status, out, err


def test_accepted_warnings_exit_0_new_ones_2_stale_and_expired_entries_are_reported(
    published_copy: ProjectPaths, prefect_api_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # a new warning (the publish is older than 0 hours): exit 2, reported as new with its fingerprint
    status, out, err = valley(published_copy, capsys, "validate", "--max-age-hours", "0")
    assert status == 2, out + err
    new = NEW_LINE.search(out)
    assert new, out
    assert "runs row 'etl' field 'finished_at'" in out
    # the article's info findings are accepted in the shipped file, so they are not new
    assert re.search(r"findings:  1 new, [1-9]\d* accepted, 0 resolved", out), out

    # a critical finding cannot be accepted (the latest report doctored to hold one), nor an unknown one
    latest = published_copy.build_dir / "reports" / "latest.json"
    report = json.loads(latest.read_text(encoding="utf-8"))
    critical = {**report["findings"][0], "fingerprint": "0" * 16, "severity": "critical", "class": "new"}
    latest.write_text(json.dumps({**report, "findings": [*report["findings"], critical]}), encoding="utf-8")
    status, _, err = valley(published_copy, capsys, "accept", "0" * 16, "--reason", "no")
    assert status == 1 and "a critical finding cannot be accepted" in err, err
    status, _, err = valley(published_copy, capsys, "accept", "feedfacefeedface", "--reason", "no")
    assert status == 1 and "is not a finding of the latest report" in err, err

    status, out, err = valley(
        published_copy, capsys, "accept", new["fingerprint"], "--reason", "a test, stale on purpose"
    )
    assert status == 0, err
    path = accepted_path(published_copy.root)
    assert new["fingerprint"] in {entry.fingerprint for entry in load_accepted(path)}
    # an entry whose finding no longer occurs (a year-on-year row that is not there): stale
    gone = ("year_on_year", "expect_column_values_to_not_be_in_set:finding", "figures", "no-such-figure", "value")
    parts = dict(zip(("suite", "check", "table", "key", "field"), gone, strict=True))
    path.write_text(
        path.read_text(encoding="utf-8")
        + f"  - fingerprint: '{fingerprint(*gone)}'\n"
        + "".join(f"    {key}: {value}\n" for key, value in parts.items())
        + "    reason: fixed since\n    accepted: 2026-01-01\n",
        encoding="utf-8",
    )

    # accepted: exit 0, reported as accepted, the flow state not Warned; the other entry reported stale
    status, out, err = valley(published_copy, capsys, "validate", "--max-age-hours", "0")
    assert status == 0, out + err
    assert "valley validate: passed (every warning is accepted)" in out
    assert "1 warned, 0 failed" in out and re.search(r"findings:  0 new, [1-9]\d* accepted, 1 resolved", out), out
    assert f"resolved:  {fingerprint(*gone)} year_on_year/" in out and "no longer occurs" in out, out

    # an expired acceptance counts as new again
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("reason: a test, stale on purpose", "reason: a test\n    expires: 2000-01-01"))
    status, out, err = valley(published_copy, capsys, "validate", "--max-age-hours", "0")
    assert status == 2, out + err
    assert NEW_LINE.search(out) and "its acceptance expired on 2000-01-01" in out, out

    # the history has every run's findings by class
    history = duckdb.connect(str(published_copy.history), read_only=True)
    classes = history.execute(
        "SELECT class, count(*) FROM findings WHERE fingerprint = ? GROUP BY class ORDER BY class", [new["fingerprint"]]
    ).fetchall()
    runs = history.execute("SELECT status FROM runs WHERE flow = 'validate' ORDER BY finished_at").fetchall()
    history.close()
    assert classes == [("accepted", 1), ("new", 2)]
    assert [status for (status,) in runs] == ["warned", "passed", "warned"]


def test_a_passing_validate_says_passed(
    published_copy: ProjectPaths, prefect_api_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = valley(published_copy, capsys, "validate")
    assert status == 0, out + err
    assert out.startswith("valley validate: passed\n"), out  # its accepted findings are info: nothing failed
