"""Reading the published state safely: is it still what the last publish wrote, and one generation of it
for readers (hard links taken under the shared switch lock, so a publish never shows half its files)."""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from stat import S_ISREG

from flows.core.paths import ProjectPaths
from flows.package.keys import RACY_SECONDS, read_cache, write_cache
from flows.publish.switch import file_sha256, read_manifest, switch_lock

# inputs a reader needs beside the published outputs; linked as folders, never changed by a publish
INPUT_FOLDERS = ("datapackage/sources", "datapackage/schemas", "warehouse/views", "warehouse/queries")


def descriptor_problems(paths: ProjectPaths, digests: FileDigests | None = None) -> list[str]:
    """Each resource of the published descriptor against its file: present, inside the package, hash and bytes
    (each file's sha256 through `digests`, so the caller reads no file twice)."""
    digests = FileDigests() if digests is None else digests
    try:
        descriptor = json.loads(paths.descriptor.read_text(encoding="utf-8"))
        resources = list(descriptor["resources"])
    except (OSError, ValueError, KeyError, TypeError):
        return [f"{paths.descriptor.name} is missing or not a readable descriptor"]
    problems = []
    package = paths.package_dir.resolve()
    for resource in resources:
        path = (paths.package_dir / str(resource.get("path", ""))).resolve()
        name = f"{paths.package_dir.name}/{resource.get('path')}"
        if not path.is_relative_to(package):
            problems.append(f"{paths.descriptor.name} points resource {resource.get('name')} outside the package")
        elif not path.is_file():
            problems.append(f"{name} is missing")
        elif "sha256:" + digests.of(path) != resource.get("hash"):
            problems.append(f"{name} did not match its descriptor")
    return problems


class FileDigests:
    """Each file's sha256, read at most once a check, and kept across checks in build/published-digests.json for
    a file whose stat signature (size, modification and change time, inode) is still the one it had when it was
    read: any write changes the change time, which no tool sets back, so a file that looks the same was not written
    (git's index does the same). A file changed in the RACY_SECONDS before it was read is not kept, nor one that
    changed while it was read; a cache lost or unwritable costs only the hashing."""

    def __init__(self, paths: ProjectPaths | None = None) -> None:
        self.cache = published_digests_path(paths) if paths is not None else None
        self.digests: dict[Path, str] = {}
        self.kept: dict[Path, str] = {}  # path -> the signature its digest is valid for
        for name, entry in (read_cache(self.cache) if self.cache else {}).items():
            path = Path(name)
            if isinstance(entry, list) and len(entry) == 2 and entry[0] is not None and entry[0] == stat_key(path):
                self.digests[path], self.kept[path] = str(entry[1]), entry[0]

    def of(self, path: Path) -> str:
        if path not in self.digests:
            before, started = stat_key(path), time.time()
            self.digests[path] = file_sha256(path)
            if before is not None and stat_key(path) == before and changed_at(path) < started - RACY_SECONDS:
                self.kept[path] = before
        return self.digests[path]

    def save(self) -> None:
        if self.cache is not None:
            write_cache(self.cache, {str(path): [key, self.digests[path]] for path, key in self.kept.items()})


def stat_key(path: Path) -> str | None:
    """What a file looks like to the file system (None: there is no such file)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    if not S_ISREG(stat.st_mode):
        return None
    return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_ino}"


def changed_at(path: Path) -> float:
    stat = path.stat()
    return max(stat.st_mtime, stat.st_ctime)


def published_digests_path(paths: ProjectPaths) -> Path:
    return paths.build_dir / "published-digests.json"


def published_problems(paths: ProjectPaths, keys: dict[str, str]) -> list[str]:
    """Why the published outputs are not exactly what a build from these input keys wrote; empty when they are."""
    manifest = read_manifest(paths)
    if paths.journal.exists():
        return ["a publish was interrupted before it finished"]
    if not manifest:
        return ["no completed publish is recorded (warehouse/publish.json)"]
    if manifest.get("keys") != keys:
        return ["inputs changed since the last publish"]
    digests = FileDigests(paths)  # each file read at most once, and not at all while it looks as it did
    problems = descriptor_problems(paths, digests)
    for relative, digest in manifest.get("files", {}).items():
        path = paths.root / relative
        if not path.is_file():
            problems.append(f"{relative} is missing")
        elif digests.of(path.resolve()) != digest and not any(problem.startswith(relative) for problem in problems):
            problems.append(f"{relative} is not the file the last publish wrote")
    if not problems:
        digests.save()
    return problems


def link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed: a copy is as good, only slower
        shutil.copy2(source, target)


def published_files(paths: ProjectPaths) -> dict[Path, Path]:
    """Each published file by its path relative to the root, resolving an unfinished journal to the committed
    generation (its staged files stand in for the ones not yet renamed)."""
    files = {
        path.relative_to(paths.root): path
        for path in [
            paths.descriptor,
            paths.warehouse,
            *paths.data_dir.glob("*.csv"),
            *paths.expectations_dir.glob("*.json"),
        ]
        if path.is_file()
    }
    if paths.journal.exists():
        journal = json.loads(paths.journal.read_text(encoding="utf-8"))
        for source, target in journal["moves"]:
            if Path(source).exists():
                files[Path(target).relative_to(paths.root)] = Path(source)
    return files


@contextmanager
def snapshot_published(paths: ProjectPaths) -> Iterator[ProjectPaths]:
    """One published generation as a project folder of its own (hard links), taken under the shared switch
    lock and removed afterwards; `paths.root` of the result is the snapshot."""
    paths.snapshots_dir.mkdir(parents=True, exist_ok=True)
    root = paths.snapshots_dir / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    try:
        with switch_lock(paths, shared=True):
            for relative, source in published_files(paths).items():
                link_or_copy(source, root / relative)
        for folder in INPUT_FOLDERS:
            if (paths.root / folder).is_dir():
                (root / folder).parent.mkdir(parents=True, exist_ok=True)
                (root / folder).symlink_to(paths.root / folder, target_is_directory=True)
        yield ProjectPaths(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def remove_dead_snapshots(paths: ProjectPaths) -> list[Path]:
    """Snapshots whose reader died (its pid is gone)."""
    dead = []
    for folder in paths.snapshots_dir.glob("*-*"):
        pid = folder.name.split("-", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            dead.append(folder)
    return dead


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
