import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from flows.checks.validate import ValidationFailed
from flows.core.paths import ProjectPaths
from flows.revalidate import revalidate

VALLEY = Path(sys.executable).parent / "valley"


def files(paths: ProjectPaths) -> dict[str, bytes]:
    found = [*paths.data_dir.glob("*.csv"), paths.descriptor, paths.warehouse]
    return {str(p): p.read_bytes() for p in found}


def test_an_untouched_publish_passes_with_the_articles_findings_as_info(published_copy: ProjectPaths) -> None:
    before = files(published_copy)
    summary = revalidate(root=str(published_copy.root))
    assert summary["checks"]["failed"] == 0 and summary["worst_severity"] == "info"
    assert summary["warnings"] == []
    assert files(published_copy) == before
    connection = duckdb.connect(str(published_copy.history), read_only=True)
    flows = connection.execute("SELECT flow, status FROM runs ORDER BY finished_at").fetchall()
    connection.close()
    assert flows[-1] == ("validate", "passed")


def test_a_stale_publish_is_a_warning_in_the_flow_state(published_copy: ProjectPaths) -> None:
    state = revalidate(root=str(published_copy.root), max_age_hours=0.0, return_state=True)
    assert state.is_completed() and state.name == "Warned"
    [warning] = state.result()["warnings"]
    assert "freshness: The last successful ETL run is younger than the maximum age" in warning
    assert "runs row 'etl' field 'finished_at'" in warning and "maximum 0 h" in warning


def test_a_tampered_csv_fails_the_flow_saying_what_changed(published_copy: ProjectPaths) -> None:
    figures = published_copy.data_dir / "figures.csv"
    figures.write_text(figures.read_text(encoding="utf-8").replace(",1632,", ",16320,"), encoding="utf-8")
    with pytest.raises(ValidationFailed, match=r"figures row 'datapackage/data/figures.csv' field 'hash'"):
        revalidate(root=str(published_copy.root))


def validate_cli(paths: ProjectPaths, api_url: str, *options: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_API_URL": api_url}
    return subprocess.run(
        [str(VALLEY), "--project", str(paths.root), "validate", *options],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )


def test_cli_exit_status_reflects_the_worst_severity(published_copy: ProjectPaths, prefect_api_url: str) -> None:
    untouched = validate_cli(published_copy, prefect_api_url)
    assert untouched.returncode == 0, untouched.stderr
    assert "0 warned, 0 failed" in untouched.stdout
    stale = validate_cli(published_copy, prefect_api_url, "--max-age-hours", "0")
    assert stale.returncode == 2 and "1 warned, 0 failed" in stale.stdout, stale.stdout
    connection = duckdb.connect(str(published_copy.warehouse))
    connection.execute("UPDATE events SET description = 'changed' WHERE event_id = 'big-data-expo-2019'")
    connection.close()
    tampered = validate_cli(published_copy, prefect_api_url)
    assert tampered.returncode == 1
    assert "events row 'warehouse/valley.duckdb' field 'content_checksum'" in tampered.stderr
    assert "Traceback" not in tampered.stderr + tampered.stdout


def test_query_reads_the_validation_history(published_copy: ProjectPaths) -> None:
    completed = subprocess.run(
        [
            str(VALLEY),
            "--project",
            str(published_copy.root),
            "query",
            "SELECT DISTINCT suite, severity FROM quality.results WHERE NOT success ORDER BY suite, severity",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads((published_copy.build_dir / "reports" / "latest.json").read_text(encoding="utf-8"))
    failing = sorted({(r["suite"], r["severity"]) for r in report["results"] if not r["success"]})
    assert failing, "the article's findings (warnings or info) are recorded as failing checks"
    lines = completed.stdout.splitlines()
    assert [tuple(part.strip() for part in line.split("|")) for line in lines[2 : 2 + len(failing)]] == failing
