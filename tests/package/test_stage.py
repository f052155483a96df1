import json
import subprocess
import sys
from pathlib import Path

import pytest

from flows.checks.frictionless import validate_package
from flows.core.inputs import read_inputs, read_schemas
from flows.core.paths import DEFAULT_PATHS, ProjectPaths
from flows.package.stage import stage_package
from flows.sources.extract import extract_tables

FRICTIONLESS = Path(sys.executable).parent / "frictionless"


def frictionless_validate(descriptor: Path) -> dict:
    completed = subprocess.run(
        [str(FRICTIONLESS), "validate", "--json", str(descriptor.name)],
        cwd=descriptor.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    return json.loads(completed.stdout)


def test_committed_package_passes_the_frictionless_cli_without_errors_or_warnings() -> None:
    report = frictionless_validate(DEFAULT_PATHS.descriptor)
    assert report["valid"], report
    assert report["warnings"] == []
    assert [task["name"] for task in report["tasks"]] == list(read_schemas(DEFAULT_PATHS.schemas_dir))


def test_frictionless_cli_catches_a_csv_that_no_longer_matches_its_hash(project: ProjectPaths) -> None:
    figures = project.data_dir / "figures.csv"
    figures.write_text(figures.read_text(encoding="utf-8").replace(",1632,", ",1633,"), encoding="utf-8")
    report = frictionless_validate(project.descriptor)
    assert not report["valid"]
    errors = [error["type"] for task in report["tasks"] for error in task["errors"]]
    assert "hash-count" in errors


def test_staged_csvs_are_byte_identical_across_runs(tmp_path: Path) -> None:
    tables = extract_tables(DEFAULT_PATHS.sources_dir)
    first = stage_package(tables, DEFAULT_PATHS, tmp_path / "first", read_inputs(DEFAULT_PATHS)).parent
    second = stage_package(
        extract_tables(DEFAULT_PATHS.sources_dir), DEFAULT_PATHS, tmp_path / "second", read_inputs(DEFAULT_PATHS)
    ).parent
    names = sorted(p.name for p in (first / "data").glob("*.csv"))
    assert len(names) == 12
    for name in names:
        assert (first / "data" / name).read_bytes() == (second / "data" / name).read_bytes(), name
    assert (first / "datapackage.json").read_bytes() == (second / "datapackage.json").read_bytes()


def test_committed_csvs_are_what_the_records_produce(tmp_path: Path) -> None:
    staged = stage_package(
        extract_tables(DEFAULT_PATHS.sources_dir), DEFAULT_PATHS, tmp_path, read_inputs(DEFAULT_PATHS)
    ).parent
    for path in sorted((staged / "data").glob("*.csv")):
        assert path.read_bytes() == (DEFAULT_PATHS.data_dir / path.name).read_bytes(), f"rerun `make run`: {path.name}"


def test_every_field_has_a_description_and_every_resource_a_hash() -> None:
    descriptor = json.loads(DEFAULT_PATHS.descriptor.read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        assert resource["hash"].startswith("sha256:") and resource["bytes"] > 0
    for name, schema in read_schemas(DEFAULT_PATHS.schemas_dir).items():
        assert schema["primaryKey"], name
        for field in schema["fields"]:
            assert len(field.get("description", "")) > 10, (name, field["name"])
    assert descriptor["licenses"] and descriptor["sources"] and descriptor["version"]


def test_validate_package_names_csv_row_and_field(tmp_path: Path) -> None:
    staged = stage_package(
        extract_tables(DEFAULT_PATHS.sources_dir), DEFAULT_PATHS, tmp_path, read_inputs(DEFAULT_PATHS)
    )
    events = staged.parent / "data" / "events.csv"
    lines = events.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines[1].startswith("big-data-expo-2017,")
    lines[1] = lines[1].replace(",2017,", ",twenty-seventeen,", 1)
    events.write_text("".join(lines), encoding="utf-8")
    problems = validate_package(staged)
    assert any(p.startswith("data/events.csv, row 2, field 'year'") for p in problems), problems


@pytest.mark.parametrize("table", ["figures", "organizations", "number_mentions", "targets", "corroborations"])
def test_schemas_declare_keys_that_reference_existing_tables(table: str) -> None:
    schemas = read_schemas(DEFAULT_PATHS.schemas_dir)
    for key in schemas[table].get("foreignKeys", []):
        target = key["reference"]["resource"] or table
        assert key["reference"]["fields"] in [f["name"] for f in schemas[target]["fields"]]


@pytest.mark.parametrize("skip_errors", [(), ("foreign-key",)], ids=["all", "skip-foreign-key"])
def test_validate_package_in_two_processes_gives_the_same_lines(tmp_path: Path, skip_errors: tuple[str, ...]) -> None:
    staged = stage_package(
        extract_tables(DEFAULT_PATHS.sources_dir), DEFAULT_PATHS, tmp_path, read_inputs(DEFAULT_PATHS)
    )
    data = staged.parent / "data"
    for name, old, new in [("events.csv", ",2017,", ",twenty-seventeen,"), ("figures.csv", ",guiyang,", ",nowhere,"),
                           ("number_mentions.csv", "big-data-valley,", "Big Data Valley,")]:  # fmt: skip
        path = data / name
        path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    alone = validate_package(staged, skip_errors)
    assert len(alone) >= 3 and validate_package(staged, skip_errors, parallel_bytes=0) == alone
    # a skipped foreign-key check is not computed either way (no lookup is built), and reported when not skipped
    assert any("foreign key" in line.lower() for line in alone) == (skip_errors == ())
