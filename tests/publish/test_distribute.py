import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fsspec.implementations.memory import MemoryFileSystem

from flows.core.paths import ProjectPaths
from flows.publish.distribute import PublishRefused, Target, publish_release, read_release, resolve_target
from flows.publish.release import format_sha256sums, write_reproducible_zip

DESCRIPTOR = {"name": "valley-test", "title": "Valley test", "version": "0.1.0", "resources": []}


def make_release(paths: ProjectPaths, version: str, rows: str = "a,b\n1,2\n", previous: str | None = None) -> Path:
    """A release folder shaped as `valley release` cuts it: zip (package with its SHA256SUMS), DuckDB file,
    changes, page, SHA256SUMS; the contents are stand-ins."""
    folder = paths.dist_dir / version
    package = paths.root / "package" / version
    shutil.rmtree(package, ignore_errors=True)
    (package / "data").mkdir(parents=True)
    (package / "datapackage.json").write_text(json.dumps({**DESCRIPTOR, "version": version}), encoding="utf-8")
    (package / "data" / "t.csv").write_text(rows, encoding="utf-8")
    (package / "data" / "t.parquet").write_bytes(b"PAR1" + rows.encode() + b"PAR1")
    (package / "SHA256SUMS").write_text(format_sha256sums(package), encoding="utf-8")
    folder.mkdir(parents=True)
    write_reproducible_zip(package, folder / f"valley-{version}.zip")
    (folder / f"valley-{version}.duckdb").write_bytes(b"duckdb " + version.encode())
    changes = {"version": version, "previous": previous, "released": "2026-11-2" + version[-1], "tables": {}}
    (folder / "changes.json").write_text(json.dumps(changes), encoding="utf-8")
    (folder / "CHANGES.md").write_text(f"## {version} (x)\n\nFirst release: t 1 rows.\n", encoding="utf-8")
    (folder / "charts").mkdir()
    (folder / "charts" / "c.svg").write_text("<svg/>", encoding="utf-8")
    (folder / "index.html").write_text(f"<p>{version}</p>", encoding="utf-8")
    (folder / "SHA256SUMS").write_text(format_sha256sums(folder), encoding="utf-8")
    return folder


@pytest.fixture
def paths(tmp_path: Path) -> Iterator[ProjectPaths]:
    yield ProjectPaths(tmp_path / "project")
    MemoryFileSystem.store.clear()  # the memory:// targets are one store per process
    MemoryFileSystem.pseudo_dirs[1:] = []


def test_read_release_unpacks_the_zip_beside_the_release_files_with_one_sha256sums(paths: ProjectPaths) -> None:
    files = read_release(make_release(paths, "0.1.0"))
    assert {"datapackage.json", "data/t.csv", "data/t.parquet", "valley-0.1.0.zip", "valley-0.1.0.duckdb"} <= set(files)
    assert files["valley.duckdb"] == files["valley-0.1.0.duckdb"]
    listed = [line.split("  ", 1)[1] for line in files["SHA256SUMS"].decode().splitlines()]
    assert listed == sorted(set(files) - {"SHA256SUMS"})


@pytest.mark.parametrize("tampered", ["index.html", "valley-0.1.0.zip"])
def test_read_release_refuses_a_release_changed_after_it_was_cut(paths: ProjectPaths, tampered: str) -> None:
    folder = make_release(paths, "0.1.0")
    (folder / tampered).write_bytes(b"changed")
    with pytest.raises(PublishRefused, match=r"does not match its SHA256SUMS \(.*" + tampered.replace(".", r"\.")):
        read_release(folder)


def test_publish_to_an_object_store_writes_the_version_then_latest_then_feed_then_releases_json_last(
    paths: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_release(paths, "0.1.0")
    order: list[str] = []
    write = Target.write

    def recording_write(self: Target, relative: str, data: bytes) -> None:
        order.append(relative)
        write(self, relative, data)

    monkeypatch.setattr(Target, "write", recording_write)
    done = publish_release(paths, "memory://bucket/order")
    target = Target("memory://bucket/order")
    assert done.status == "published" and not target.local
    version_files = [name for name in order if name.startswith("v0.1.0/")]
    assert order[: len(version_files)] == version_files and version_files[-1] == "v0.1.0/SHA256SUMS"
    assert order[-3:] == ["latest/SHA256SUMS", "feed.xml", "releases.json"]
    assert target.read("latest/data/t.csv") == b"a,b\n1,2\n"


def test_publishing_again_writes_nothing_and_a_different_release_under_the_version_is_refused(
    paths: ProjectPaths, tmp_path: Path
) -> None:
    make_release(paths, "0.1.0")
    target = tmp_path / "public"
    assert publish_release(paths, str(target)).status == "published"
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in target.rglob("*") if p.is_file()}
    again = publish_release(paths, str(target))
    assert again.status == "unchanged" and again.written == []
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in target.rglob("*") if p.is_file()} == before
    (paths.dist_dir / "0.1.0").rename(tmp_path / "old-release")
    make_release(paths, "0.1.0", rows="a,b\n1,3\n")
    with pytest.raises(PublishRefused, match=r"version 0\.1\.0 is already published at .* with different content"):
        publish_release(paths, str(target))
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in target.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("url", ["local", "memory://bucket/two"])
def test_latest_follows_the_newest_version_and_releases_json_lists_every_version(
    paths: ProjectPaths, tmp_path: Path, url: str
) -> None:
    url = str(tmp_path / "public") if url == "local" else url
    make_release(paths, "0.1.0")
    make_release(paths, "0.2.0", rows="a,b\n1,2\n5,6\n", previous="0.1.0")
    publish_release(paths, url, "0.2.0")
    done = publish_release(paths, url, "0.1.0")  # an older release published later: latest stays on the newest
    target = Target(url)
    assert done.latest == "0.2.0" and done.versions == ["0.1.0", "0.2.0"]
    assert target.read("latest/data/t.csv") == b"a,b\n1,2\n5,6\n"
    assert target.read("latest/SHA256SUMS") == target.read("v0.2.0/SHA256SUMS")
    if target.local:
        assert os.readlink(tmp_path / "public" / "latest") == "v0.2.0"
    index = json.loads(target.read("releases.json") or b"")
    assert [v["version"] for v in index["versions"]] == ["0.2.0", "0.1.0"] and index["latest"] == "0.2.0"
    entry = index["versions"][1]
    assert entry["files"]["data/t.csv"]["sha256"] and entry["descriptor"] == "v0.1.0/datapackage.json"
    feed = (target.read("feed.xml") or b"").decode()
    assert feed.count("<entry>") == 2 and "urn:datapackage:valley-test:0.1.0" in feed


def test_resolve_target_reads_publish_to_relative_to_the_project_and_keeps_urls(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    assert resolve_target(root, None) == str(root / "dist" / "public")
    (root / "pyproject.toml").write_text('[tool.valley]\npublish_to = "s3://bucket/valley/"\n', encoding="utf-8")
    assert resolve_target(root, None) == "s3://bucket/valley"
    assert resolve_target(root, "out") == str(Path("out").resolve())


def test_an_unknown_protocol_is_refused_with_a_remedy(paths: ProjectPaths) -> None:
    make_release(paths, "0.1.0")
    with pytest.raises(PublishRefused, match="cannot publish to nosuchfs://x"):
        publish_release(paths, "nosuchfs://x")
