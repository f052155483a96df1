"""Every error a user can cause: one paragraph on stderr, printed once, exit 1, no traceback."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.core.paths import ProjectPaths

VALLEY = Path(sys.executable).parent / "valley"
UNREACHABLE_API = "http://127.0.0.1:9/api"  # the discard port: nothing listens there


def valley(paths: ProjectPaths, *args: str, api_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_API_URL": api_url}
    command = [str(VALLEY), "--project", str(paths.root), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=600)


def failure_message(completed: subprocess.CompletedProcess[str], command: str) -> str:
    """The CLI's message, checked to be one paragraph, shown once, with exit 1 and no traceback anywhere."""
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output
    assert "Traceback" not in output
    head = f"valley {command} failed: "
    assert completed.stderr.count(head) == 1, completed.stderr
    message = completed.stderr[completed.stderr.index(head) + len(head) :].strip()
    assert message and "\n\n" not in message, completed.stderr
    first_line = message.splitlines()[0]
    assert output.count(first_line[:80]) == 1, output  # not echoed by Prefect's task and flow logs
    return message


def add_expectation(path: Path, expectation: dict[str, object]) -> int:
    """Append an editor expectation to a suite file; its index in the file."""
    suite = json.loads(path.read_text(encoding="utf-8"))
    suite["expectations"].append({"meta": {"source": "editor"}, **expectation})
    path.write_text(json.dumps(suite, indent=2) + "\n", encoding="utf-8")
    return len(suite["expectations"]) - 1


# a table suite is read when the package is staged, an audit suite when it is validated
@pytest.mark.parametrize("suite", ["figures.json", "plausibility.json"])
def test_run_with_a_suite_that_is_not_json_names_file_line_and_column(
    project: ProjectPaths, prefect_api_url: str, suite: str
) -> None:
    path = project.expectations_dir / suite
    path.write_text('{\n  "name": "broken",\n  "expectations": [,]\n}\n', encoding="utf-8")
    message = failure_message(valley(project, "run", api_url=prefect_api_url), "run")
    assert message.startswith(f"{path}: not valid JSON: Expecting value: line 3 column 20"), message


@pytest.mark.parametrize("suite", ["figures.json", "plausibility.json"])
def test_run_with_an_unknown_expectation_type_names_file_index_and_type(
    project: ProjectPaths, prefect_api_url: str, suite: str
) -> None:
    path = project.expectations_dir / suite
    kind = "expect_column_values_to_be_purple"
    index = add_expectation(path, {"type": kind, "kwargs": {"column": "value"}, "severity": "warning"})
    message = failure_message(valley(project, "run", api_url=prefect_api_url), "run")
    assert message.startswith(f"{path}: expectations[{index}] (type '{kind}'): Great Expectations"), message
    assert "has no expectation of this type" in message


def test_run_with_a_failing_critical_check_prints_the_failure_once(project: ProjectPaths, prefect_api_url: str) -> None:
    kind = "expect_table_row_count_to_be_between"
    add_expectation(project.expectations_dir / "figures.json",
                    {"type": kind, "kwargs": {"min_value": 100000}, "severity": "critical"})  # fmt: skip
    message = failure_message(valley(project, "run", api_url=prefect_api_url), "run")
    assert message.startswith("1 blocking check(s) failed, nothing was published:"), message
    assert f"figures: {kind}" in message


def truncate_descriptor(paths: ProjectPaths) -> None:
    text = paths.descriptor.read_text(encoding="utf-8")
    paths.descriptor.write_text(text[:300], encoding="utf-8")


def test_run_with_a_truncated_descriptor_names_it_and_says_to_restore_it(
    project: ProjectPaths, prefect_api_url: str
) -> None:
    truncate_descriptor(project)
    message = failure_message(valley(project, "run", api_url=prefect_api_url), "run")
    assert message.startswith(f"{project.descriptor}: not valid JSON: "), message
    assert " line 4 column " in message and "git checkout -- datapackage/datapackage.json" in message


def test_validate_with_a_truncated_descriptor_names_it_and_says_to_restore_it(
    published_copy: ProjectPaths, prefect_api_url: str
) -> None:
    truncate_descriptor(published_copy)
    message = failure_message(valley(published_copy, "validate", api_url=prefect_api_url), "validate")
    assert message.startswith(f"{published_copy.descriptor}: not valid JSON: "), message
    assert "git checkout -- datapackage/datapackage.json" in message


@pytest.mark.parametrize("command", ["run", "validate"])
def test_an_unreachable_prefect_api_says_so_and_how_to_fix_it(published_copy: ProjectPaths, command: str) -> None:
    args = ["run", "--refresh"] if command == "run" else ["validate"]
    message = failure_message(valley(published_copy, *args, api_url=UNREACHABLE_API), command)
    assert message.startswith(f"the Prefect API at {UNREACHABLE_API} cannot be reached"), message
    assert "Unset PREFECT_API_URL" in message and "prefect server start" in message


def test_an_unreachable_dask_scheduler_fails_fast_saying_so(project: ProjectPaths, prefect_api_url: str) -> None:
    address = "tcp://127.0.0.1:9"
    completed = valley(project, "run", "--runner", "dask", "--dask-address", address, api_url=prefect_api_url)
    message = failure_message(completed, "run")
    assert message.startswith(f"the dask scheduler at {address} cannot be reached"), message
    assert "without --runner dask" in message


def test_validate_with_a_garbage_warehouse_says_it_is_not_a_duckdb_file(
    published_copy: ProjectPaths, prefect_api_url: str
) -> None:
    published_copy.warehouse.write_bytes(os.urandom(64 * 1024))
    message = failure_message(valley(published_copy, "validate", api_url=prefect_api_url), "validate")
    assert message.startswith(f"{published_copy.warehouse} is not a DuckDB database"), message
    assert "`valley run` rebuilds it" in message


def test_validate_of_a_tampered_publish_exits_1_printing_the_failure_once(
    published_copy: ProjectPaths, prefect_api_url: str
) -> None:
    figures = published_copy.data_dir / "figures.csv"
    figures.write_bytes(figures.read_bytes() + b"\n")
    message = failure_message(valley(published_copy, "validate", api_url=prefect_api_url), "validate")
    assert "blocking check(s) failed" in message and "datapackage/data/figures.csv" in message


def test_a_failed_run_keeps_the_message_in_its_prefect_state(project: ProjectPaths, prefect_api_url: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType

    path = project.expectations_dir / "plausibility.json"
    index = add_expectation(path, {"type": "expect_nothing_at_all", "kwargs": {}, "severity": "info"})
    failure_message(valley(project, "run", api_url=prefect_api_url), "run")
    failed = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.FAILED])))
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=failed, limit=200)
    ours = [run for run in runs if run.parameters.get("root") == str(project.root)]
    assert ours and ours[0].state is not None
    assert f"expectations[{index}] (type 'expect_nothing_at_all')" in str(ours[0].state.message)


def test_a_bad_record_in_a_mapped_extract_task_is_printed_once(project: ProjectPaths, prefect_api_url: str) -> None:
    # extract may retry, so Prefect logs only its Failed state, without the exception: that line must go too
    records = next((project.sources_dir).glob("*/records/slogans.yaml"))
    text = records.read_text(encoding="utf-8")
    records.write_text(text.replace("quote: ", "quote: NOT IN THE ARTICLE ", 1), encoding="utf-8")
    message = failure_message(valley(project, "run", api_url=prefect_api_url), "run")
    assert message.startswith(f"{records}, line "), message
