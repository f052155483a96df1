"""Source digests: a folder whose files look unchanged to the file system is not hashed again, and any write is seen."""

from __future__ import annotations

import os

import pytest

from flows.core.paths import ProjectPaths
from flows.package import keys


def uncached(paths: ProjectPaths) -> dict[str, str]:
    entries = sorted(os.scandir(paths.sources_dir), key=lambda entry: entry.name)
    files = [paths.sources_dir / entry.name for entry in entries if entry.is_file()]
    return {"": keys.digest_files(files, paths.root)} | {
        entry.name: keys.digest_tree(paths.sources_dir / entry.name, paths.root) for entry in entries if entry.is_dir()
    }


def test_cached_source_digests_are_the_digests_and_a_write_that_keeps_size_and_mtime_is_seen(
    project: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keys, "RACY_SECONDS", -60.0)  # every file counts as old enough to cache
    first = keys.source_digests(project)
    assert first == uncached(project) and keys.read_digest_cache(project).keys() == {"big-data-valley"}
    read = []
    monkeypatch.setattr(keys, "digest_found", lambda found: read.append(found) or "hashed")
    assert keys.source_digests(project) == first and read == []  # a cache hit reads no file
    monkeypatch.undo()
    monkeypatch.setattr(keys, "RACY_SECONDS", -60.0)
    slogans = project.sources_dir / "big-data-valley" / "records" / "slogans.yaml"
    before = os.stat(slogans)
    text = slogans.read_text(encoding="utf-8")
    slogans.write_text(text.replace("medium: flier", "medium: fliex", 1), encoding="utf-8")  # the same size
    os.utime(slogans, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same mtime, as `cp -p` would keep
    assert keys.source_digests(project)["big-data-valley"] == uncached(project)["big-data-valley"]
    assert keys.source_digests(project)["big-data-valley"] != first["big-data-valley"]


def test_a_folder_changed_just_now_is_not_cached(project: ProjectPaths) -> None:
    (project.sources_dir / "big-data-valley" / "notes.txt").write_text("x", encoding="utf-8")
    keys.source_digests(project)
    assert "big-data-valley" not in keys.read_digest_cache(project)


def test_proposals_left_to_review_are_cached_with_the_digest_and_a_review_is_seen(
    project: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.sources.extract import held_back_sources

    monkeypatch.setattr(keys, "RACY_SECONDS", -60.0)
    figures = project.sources_dir / "big-data-valley" / "records" / "figures.yaml"
    text = figures.read_text(encoding="utf-8")
    figures.write_text(text + "- id: proposed-one\n  status: proposed\n", encoding="utf-8")
    _, held = keys.survey_sources(project)
    assert held == held_back_sources(project.sources_dir) == {"big-data-valley": {"records/figures.yaml": 1}}
    opened = []
    monkeypatch.setattr(keys, "pending_proposals", lambda folder: opened.append(folder) or {})
    assert keys.survey_sources(project)[1] == held and opened == []  # a cache hit reads no records file
    monkeypatch.undo()
    monkeypatch.setattr(keys, "RACY_SECONDS", -60.0)
    figures.write_text(text, encoding="utf-8")  # reviewed: the proposal is gone
    assert keys.survey_sources(project)[1] == {} == held_back_sources(project.sources_dir)
