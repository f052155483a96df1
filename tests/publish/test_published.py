"""The published files' digests: kept across checks only while a file looks as it did when it was read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flows.core.paths import ProjectPaths
from flows.publish import published


def old_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "figures.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_digest_is_kept_while_the_file_looks_the_same_and_a_write_that_keeps_size_and_mtime_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(published, "RACY_SECONDS", -60.0)  # every file counts as old enough to keep
    paths = ProjectPaths(tmp_path)
    csv = old_file(tmp_path, "id,value\na,1\n")
    first = published.FileDigests(paths)
    digest = first.of(csv)
    first.save()
    read: list[Path] = []
    monkeypatch.setattr(published, "file_sha256", lambda path: read.append(path) or "hashed")
    assert published.FileDigests(paths).of(csv) == digest and read == []  # kept: no file read
    monkeypatch.undo()
    monkeypatch.setattr(published, "RACY_SECONDS", -60.0)
    before = os.stat(csv)
    csv.write_text("id,value\na,2\n", encoding="utf-8")  # the same size
    os.utime(csv, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same mtime, as `cp -p` would keep
    assert published.FileDigests(paths).of(csv) != digest


def test_a_file_changed_just_before_it_was_read_is_not_kept(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path)
    csv = old_file(tmp_path, "id,value\na,1\n")
    digests = published.FileDigests(paths)
    digests.of(csv)
    digests.save()
    assert published.FileDigests(paths).kept == {}
