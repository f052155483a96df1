"""Publish releases where people fetch them (fsspec): immutable v<version>/, a moving latest/, releases.json, feed.xml.

The order is the contract (README, "Publishing"): every file of v<version>/ (its SHA256SUMS last), then each of them
read back and checked, then latest/, then feed.xml, then releases.json, the commit point: a version is published
once releases.json lists it. A reader never finds latest/ or releases.json pointing at an incomplete version.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import fsspec
from filelock import FileLock
from fsspec.implementations.local import LocalFileSystem

from flows.core.config import load_config
from flows.core.errors import ValleyError
from flows.core.paths import ProjectPaths
from flows.publish.release import parse_version, released_versions
from flows.publish.switch import test_hook

ATOM = "http://www.w3.org/2005/Atom"


class PublishRefused(ValleyError):
    """The release cannot be published as asked; what the target holds for that version is unchanged."""


@dataclass(frozen=True)
class Publication:
    version: str
    target: str
    status: str  # "published", or "unchanged" when the target already held exactly this
    latest: str
    versions: list[str]
    written: list[str] = field(default_factory=list)


def resolve_target(root: Path, given: str | None) -> str:
    """`--to` as given (a path relative to the working directory, or any fsspec URL), else [tool.valley]
    publish_to, a path relative to the project."""
    target = given if given is not None else str(load_config(root)["publish_to"])
    if "://" in target:
        return target.rstrip("/")
    return str(Path(target).resolve() if given is not None else (root / target).resolve())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_checked_sums(files: dict[str, bytes], where: str) -> dict[str, bytes]:
    """The files but SHA256SUMS, after checking each against it: a release changed after it was cut is refused."""
    lines = files["SHA256SUMS"].decode("utf-8").splitlines()
    listed = {name: digest for digest, name in (line.split("  ", 1) for line in lines)}
    others = {name: data for name, data in files.items() if name != "SHA256SUMS"}
    bad = sorted(
        name for name in set(listed) | set(others) if name not in others or listed.get(name) != sha256(others[name])
    )
    if bad:
        raise PublishRefused(
            f"{where} does not match its SHA256SUMS ({', '.join(bad[:5])}): it changed after `valley release` cut "
            "it. Delete that release folder and run `valley release` again."
        )
    return others


def read_release(release_dir: Path) -> dict[str, bytes]:
    """Every file a published version holds: the release's own files, its zip unpacked beside them (so each
    table, the descriptor and its schemas have their own URL), valley.duckdb, and one SHA256SUMS over all."""
    version = release_dir.name
    found = {p.relative_to(release_dir).as_posix(): p.read_bytes() for p in release_dir.rglob("*") if p.is_file()}
    if "SHA256SUMS" not in found:
        raise PublishRefused(f"{release_dir} has no SHA256SUMS: it is not a complete release. Run `valley release`.")
    files = read_checked_sums(found, str(release_dir))
    with zipfile.ZipFile(io.BytesIO(files[f"valley-{version}.zip"])) as archive:
        packaged = read_checked_sums({name: archive.read(name) for name in archive.namelist()}, f"valley-{version}.zip")
    clashes = sorted(set(packaged) & set(files))
    if clashes:
        raise PublishRefused(f"{release_dir}: the zip and the release folder both hold {clashes}; cannot unpack.")
    # a stable name too, so latest/valley.duckdb is an address that keeps working from one version to the next
    files = dict(sorted({**files, **packaged, "valley.duckdb": files[f"valley-{version}.duckdb"]}.items()))
    sums = "".join(f"{sha256(data)}  {name}\n" for name, data in files.items())
    return {**files, "SHA256SUMS": sums.encode("utf-8")}


class Target:
    """The publish folder or bucket prefix, through fsspec; paths are relative to its root."""

    def __init__(self, url: str) -> None:
        try:
            self.fs, self.root = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError) as error:
            raise PublishRefused(
                f"cannot publish to {url}: {error}. Give a folder, or an fsspec URL whose filesystem is installed "
                "(for example `pip install s3fs` for s3://)."
            ) from error
        self.url = url
        self.root = self.root.rstrip("/")
        self.local = isinstance(self.fs, LocalFileSystem)

    def path(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def read(self, relative: str) -> bytes | None:
        try:
            return bytes(self.fs.cat_file(self.path(relative)))
        except (FileNotFoundError, IsADirectoryError):
            return None

    def write(self, relative: str, data: bytes) -> None:
        """Whole or not at all: on a local disk a temporary file renamed over; an object store's PUT is atomic."""
        target = self.path(relative)
        if not self.local:
            self.fs.pipe_file(target, data)
            return
        os.makedirs(os.path.dirname(target), exist_ok=True)
        temporary = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.tmp")
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)

    def write_if_changed(self, relative: str, data: bytes, written: list[str]) -> None:
        if self.read(relative) != data:
            self.write(relative, data)
            written.append(relative)


def read_index(target: Target) -> dict[str, Any]:
    data = target.read("releases.json")
    return json.loads(data) if data is not None else {"versions": []}


def refuse_changed_version(target: Target, index: dict[str, Any], version: str, files: dict[str, bytes]) -> None:
    """A version once complete (its SHA256SUMS written) or committed (in releases.json) is immutable."""
    entry = next((e for e in index["versions"] if e["version"] == version), None)
    listed = entry and {name: meta["sha256"] for name, meta in entry["files"].items()}
    sums = target.read(f"v{version}/SHA256SUMS")
    if (listed and listed != {name: sha256(data) for name, data in files.items()}) or (
        sums is not None and sums != files["SHA256SUMS"]
    ):
        raise PublishRefused(
            f"version {version} is already published at {target.url}/v{version}/ with different content: published "
            "versions are immutable. Raise `version` in datapackage/datapackage.json, then run `valley run`, "
            "`valley release` and `valley publish` again."
        )


def write_version(target: Target, version: str, files: dict[str, bytes], written: list[str]) -> None:
    """v<version>/: every file that is missing or differs, SHA256SUMS last; then all of it read back and checked."""
    for name in [n for n in files if n != "SHA256SUMS"] + ["SHA256SUMS"]:
        target.write_if_changed(f"v{version}/{name}", files[name], written)
    damaged = [name for name, data in files.items() if target.read(f"v{version}/{name}") != data]
    if damaged:
        raise PublishRefused(
            f"{target.url}/v{version}/ does not read back as written ({damaged[:5]}); not moving latest."
        )


def move_latest(target: Target, version: str, files: dict[str, bytes], written: list[str]) -> None:
    """latest/ to a complete version. On a local disk a symlink replaced in one rename; on an object store, which
    has no rename, a copy of the version, stale files removed, its SHA256SUMS last (compare it to see if done)."""
    if target.local:
        link, temporary = target.path("latest"), target.path(".latest.tmp")
        if os.path.isdir(link) and not os.path.islink(link):
            raise PublishRefused(f"{link} is a folder, not the link `valley publish` makes: move it aside.")
        if not os.path.islink(link) or os.readlink(link) != f"v{version}":
            if os.path.lexists(temporary):
                os.unlink(temporary)
            os.symlink(f"v{version}", temporary)
            os.replace(temporary, link)
            written.append("latest")
        return
    if target.read("latest/SHA256SUMS") == files["SHA256SUMS"]:
        return
    for name in [n for n in files if n != "SHA256SUMS"]:
        target.fs.cp_file(target.path(f"v{version}/{name}"), target.path(f"latest/{name}"))
        written.append(f"latest/{name}")
    prefix = target.path("latest/")
    for stale in [p for p in target.fs.find(prefix) if p.removeprefix(prefix) not in files]:
        target.fs.rm_file(stale)
    target.write("latest/SHA256SUMS", files["SHA256SUMS"])
    written.append("latest/SHA256SUMS")


def index_entry(version: str, files: dict[str, bytes]) -> dict[str, Any]:
    changes = json.loads(files["changes.json"])
    return {
        "version": version,
        "released": changes["released"],
        "previous": changes["previous"],
        "path": f"v{version}/",
        "descriptor": f"v{version}/datapackage.json",
        "page": f"v{version}/index.html",
        "duckdb": f"v{version}/valley-{version}.duckdb",
        "zip": f"v{version}/valley-{version}.zip",
        "changes": f"v{version}/changes.json",
        "notes": files["CHANGES.md"].decode("utf-8"),
        "files": {name: {"sha256": sha256(data), "bytes": len(data)} for name, data in files.items()},
    }


def format_index(descriptor: dict[str, Any], entries: list[dict[str, Any]]) -> bytes:
    entries = sorted(entries, key=lambda e: parse_version(e["version"]), reverse=True)
    index = {
        "name": descriptor["name"],
        "title": descriptor["title"],
        "latest": entries[0]["version"],
        "latest_path": "latest/",
        "feed": "feed.xml",
        "versions": entries,
    }
    return (json.dumps(index, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def format_feed(descriptor: dict[str, Any], entries: list[dict[str, Any]]) -> bytes:
    """Atom, one entry per release with its changes; links are relative to the feed's own address."""
    ElementTree.register_namespace("", ATOM)
    entries = sorted(entries, key=lambda e: parse_version(e["version"]), reverse=True)
    feed = ElementTree.Element(f"{{{ATOM}}}feed")

    def add(parent: ElementTree.Element, tag: str, text: str | None = None, **attributes: str) -> None:
        ElementTree.SubElement(parent, f"{{{ATOM}}}{tag}", attributes).text = text

    add(feed, "id", f"urn:datapackage:{descriptor['name']}")
    add(feed, "title", f"{descriptor['title']}: releases")
    add(feed, "updated", f"{entries[0]['released']}T00:00:00Z")
    add(feed, "link", rel="self", type="application/atom+xml", href="feed.xml")
    add(feed, "link", rel="alternate", type="text/html", href="latest/index.html")
    author = ElementTree.SubElement(feed, f"{{{ATOM}}}author")
    add(author, "name", "valley")
    for entry in entries:
        item = ElementTree.SubElement(feed, f"{{{ATOM}}}entry")
        add(item, "id", f"urn:datapackage:{descriptor['name']}:{entry['version']}")
        add(item, "title", f"{descriptor['name']} {entry['version']}")
        add(item, "updated", f"{entry['released']}T00:00:00Z")
        add(item, "link", rel="alternate", type="text/html", href=entry["page"])
        zip_bytes = str(entry["files"][entry["zip"].split("/", 1)[1]]["bytes"])
        add(item, "link", rel="enclosure", type="application/zip", href=entry["zip"], length=zip_bytes)
        add(item, "link", rel="related", type="application/json", href=entry["changes"])
        add(item, "summary", entry["notes"].splitlines()[2] if len(entry["notes"].splitlines()) > 2 else "")
        add(item, "content", entry["notes"], type="text")
    ElementTree.indent(feed)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(feed, encoding="utf-8") + b"\n"


def publish_release(paths: ProjectPaths, to: str, version: str | None = None) -> Publication:
    """Publish dist/<version>/ (the newest release by default) to `to`; the same release again writes nothing."""
    released = released_versions(paths.dist_dir)
    if not released:
        raise PublishRefused(f"nothing is released in {paths.dist_dir}: run `valley release` first.")
    version = version or released[-1]
    if version not in released:
        raise PublishRefused(f"version {version} is not released in {paths.dist_dir} (released: {released}).")
    files = read_release(paths.dist_dir / version)
    descriptor = json.loads(files["datapackage.json"])
    target, written = Target(to), list[str]()
    with FileLock(paths.dist_dir / ".publish.lock"):  # one publisher per checkout; see README on shared targets
        index = read_index(target)
        refuse_changed_version(target, index, version, files)
        write_version(target, version, files, written)
        entries = [e for e in index["versions"] if e["version"] != version] + [index_entry(version, files)]
        newest = max((e["version"] for e in entries), key=parse_version)
        test_hook("before", "latest")
        newest_files = files if newest == version or target.local else read_published(target, newest)
        move_latest(target, newest, newest_files, written)
        target.write_if_changed("feed.xml", format_feed(descriptor, entries), written)
        target.write_if_changed("releases.json", format_index(descriptor, entries), written)
    versions = sorted((e["version"] for e in entries), key=parse_version)
    return Publication(version, target.url, "published" if written else "unchanged", newest, versions, written)


def read_published(target: Target, version: str) -> dict[str, bytes]:
    """A version already on the target, for moving latest/ back to it when an older version is published."""
    sums = target.read(f"v{version}/SHA256SUMS") or b""
    names = [line.split("  ", 1)[1] for line in sums.decode("utf-8").splitlines()]
    files = {name: target.read(f"v{version}/{name}") or b"" for name in names}
    return {**files, "SHA256SUMS": sums}
