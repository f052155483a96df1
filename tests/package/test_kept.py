"""Kept rows: used only whole and made from the same content key; anything else is rebuilt, with the reason."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from flows.core.inputs import read_inputs
from flows.core.paths import ProjectPaths
from flows.package import kept
from flows.package.keys import extraction_fingerprint, source_digests
from flows.sources.extract import list_sources, merge_tables


def keep_every_source(paths: ProjectPaths) -> kept.SourcePlan:
    inputs = read_inputs(paths)
    folders = list_sources(paths.sources_dir)
    plan = kept.plan_sources(paths, folders, source_digests(paths), extraction_fingerprint(paths, inputs), inputs)
    kept.extract_and_keep(folders, inputs, plan.keys, paths.kept_dir)
    paths.sources_manifest.parent.mkdir(parents=True, exist_ok=True)
    paths.sources_manifest.write_text(json.dumps(plan.manifest(paths, "rows-checked-by-a-test")), encoding="utf-8")
    return plan


def replan(paths: ProjectPaths) -> kept.SourcePlan:
    inputs = read_inputs(paths)
    folders = list_sources(paths.sources_dir)
    return kept.plan_sources(paths, folders, source_digests(paths), extraction_fingerprint(paths, inputs), inputs)


def test_kept_rows_are_reused_while_their_key_holds(project: ProjectPaths) -> None:
    first = keep_every_source(project)
    assert first.rebuild == {"big-data-valley": kept.NEW} and first.kept == {}
    again = replan(project)
    assert again.rebuild == {} and list(again.kept) == ["big-data-valley"]
    assert not list(project.kept_dir.glob(".*.tmp"))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-40])


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-10] ^= 1
    path.write_bytes(bytes(data))


def other_key(path: Path) -> None:
    head, _, body = path.read_bytes().partition(b"\n")
    header = json.loads(head) | {"key": "0" * 64}
    path.write_bytes(json.dumps(header).encode() + b"\n" + body)


def other_format(path: Path) -> None:
    head, _, body = path.read_bytes().partition(b"\n")
    path.write_bytes(json.dumps(json.loads(head) | {"format": "someone-else/9"}).encode() + b"\n" + body)


def rows_of_another_shape(path: Path) -> None:
    head, _, _ = path.read_bytes().partition(b"\n")
    body = json.dumps({"figures": [{"figure_id": "x"}]}).encode()
    header = json.loads(head) | {"sha256": hashlib.sha256(body).hexdigest()}
    path.write_bytes(json.dumps(header).encode() + b"\n" + body)


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (Path.unlink, kept.MISSING),
        (truncate, kept.DAMAGED),
        (flip_a_byte, kept.DAMAGED),
        (lambda path: path.write_bytes(b""), kept.DAMAGED),
        (other_key, kept.FOREIGN),
        (other_format, kept.FOREIGN),
        (rows_of_another_shape, kept.FOREIGN),
    ],
)
def test_a_kept_file_missing_damaged_or_from_other_code_is_rebuilt(
    project: ProjectPaths, spoil: Callable[[Path], object], reason: str
) -> None:
    keep_every_source(project)
    spoil(kept.kept_path(project.kept_dir, "big-data-valley"))
    plan = replan(project)
    assert plan.kept == {} and plan.rebuild == {"big-data-valley": reason}


def test_an_edited_source_is_rebuilt_and_a_removed_one_is_gone(project: ProjectPaths) -> None:
    keep_every_source(project)
    slogans = project.sources_dir / "big-data-valley" / "records" / "slogans.yaml"
    slogans.write_text(slogans.read_text(encoding="utf-8").replace("medium: flier", "medium: board", 1), "utf-8")
    assert replan(project).rebuild == {"big-data-valley": kept.EDITED}
    manifest = json.loads(project.sources_manifest.read_text(encoding="utf-8"))
    manifest["sources"]["old-source"] = {"files": "x", "key": "y", "rows": "build/kept/old-source.json"}
    project.sources_manifest.write_text(json.dumps(manifest), encoding="utf-8")
    (project.kept_dir / "old-source.json").write_text("{}", encoding="utf-8")
    plan = replan(project)
    assert plan.gone == ["old-source"]
    assert kept.remove_gone(project.kept_dir, plan.keys) == [project.kept_dir / "old-source.json"]


def test_a_refresh_rebuilds_every_source_even_with_kept_rows(project: ProjectPaths) -> None:
    keep_every_source(project)
    inputs = read_inputs(project)
    folders = list_sources(project.sources_dir)
    fingerprint = extraction_fingerprint(project, inputs)
    plan = kept.plan_sources(project, folders, source_digests(project), fingerprint, inputs, refresh=True)
    assert plan.rebuild == {"big-data-valley": kept.REFRESH}


def test_packaging_from_kept_rows_writes_the_same_bytes_as_from_extracted_rows(
    project: ProjectPaths, tmp_path: Path
) -> None:
    from flows.package.stage import stage_lines, stage_package
    from flows.sources.extract import extract_tables

    keep_every_source(project)
    inputs = read_inputs(project)
    plan = replan(project)
    from_kept = stage_lines(merge_tables(plan.kept.values()), project, tmp_path / "kept", inputs).parent
    direct = stage_package(extract_tables(project.sources_dir), project, tmp_path / "direct", inputs).parent
    for path in sorted((direct / "data").glob("*.csv")):
        assert (from_kept / "data" / path.name).read_bytes() == path.read_bytes(), path.name
    assert (from_kept / "datapackage.json").read_bytes() == (direct / "datapackage.json").read_bytes()
