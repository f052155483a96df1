"""Content keys for each stage's inputs, so a run with nothing changed can say so and publish nothing."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from stat import S_ISDIR, S_ISREG
from typing import Any

from flows.core.inputs import RunInputs, read_inputs
from flows.core.paths import PROJECT_DIR, ProjectPaths
from flows.sources.extract import pending_proposals

STAGES = ("extract", "package", "validate", "publish")


def digest_files(files: Iterable[Path], base: Path) -> str:
    """sha256 over each file's path (relative to base) and bytes, in path order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in files if p.is_file()):
        digest.update(str(path.relative_to(base)).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def tree_files(folder: Path, base: Path) -> list[tuple[tuple[str, ...], str, os.stat_result]]:
    """Every file under `folder` (following directory links, as rglob does) by its path parts relative to `base`,
    in the order Path sorts them, with its stat: one scandir a folder, no path arithmetic a file (10,000 source
    folders are 100,000 files, walked by every run)."""
    found = []
    stack = [(str(folder), tuple(os.path.relpath(folder, base).split(os.sep)))]
    while stack:
        directory, parts = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                try:
                    stat = entry.stat()  # follows a link, as os.stat does
                except OSError:
                    continue  # a dangling link: rglob's is_file() skips it too
                if S_ISDIR(stat.st_mode):
                    stack.append((entry.path, (*parts, entry.name)))
                elif S_ISREG(stat.st_mode):
                    found.append(((*parts, entry.name), entry.path, stat))
    return sorted(found, key=lambda entry: entry[0])


def digest_found(found: list[tuple[tuple[str, ...], str, os.stat_result]]) -> str:
    digest = hashlib.sha256()
    for parts, full, _ in found:
        with open(full, "rb") as handle:
            digest.update("/".join(parts).encode() + b"\0" + hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


def digest_tree(folder: Path, base: Path) -> str:
    """digest_files(folder.rglob("*"), base) with os.walk and plain strings: the same digest (same files, same
    order: by path parts, as Path sorts), without pathlib's cost per file on 10,000 source folders."""
    return digest_found(tree_files(folder, base))


def stat_signature(found: list[tuple[tuple[str, ...], str, os.stat_result]]) -> str:
    """What a folder's files look like to the file system: names, sizes, times, inodes. Any write changes the
    change time (which no tool can set back), so an unchanged signature means unchanged bytes, as git's index."""
    lines = (f"{'/'.join(p)}\0{s.st_size}\0{s.st_mtime_ns}\0{s.st_ctime_ns}\0{s.st_ino}" for p, _, s in found)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def chain(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def descriptor_metadata(inputs: RunInputs) -> str:
    """The authored part of the descriptor: everything but the resources the flow derives."""
    return json.dumps(inputs.metadata, sort_keys=True) if inputs.descriptor is not None else ""


def digest_schemas(inputs: RunInputs, paths: ProjectPaths) -> str:
    """digest_files over the Table Schema files, from the bytes the run read (the same digest)."""
    digest = hashlib.sha256()
    for name in sorted(inputs.schema_bytes, key=lambda name: f"{name}.json"):
        relative = (paths.schemas_dir / f"{name}.json").relative_to(paths.root)
        digest.update(str(relative).encode() + b"\0" + hashlib.sha256(inputs.schema_bytes[name]).digest())
    return digest.hexdigest()


def suite_files(paths: ProjectPaths, staged: Path | None) -> list[Path]:
    """The suites as they will be once published: the published ones, with staged ones in their place."""
    files = {path.name: path for path in paths.expectations_dir.glob("*.json")}
    files |= {path.name: path for path in (staged.glob("*.json") if staged else [])}
    return list(files.values())


def digest_named(files: Iterable[Path]) -> str:
    """sha256 over each file's name and bytes, in name order (files from several folders)."""
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.name):
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


RACY_SECONDS = 2.0  # a folder changed this recently is not cached: a later write could keep its times (git's rule)


def source_digests(paths: ProjectPaths) -> dict[str, str]:
    """Each source folder's files (digest_tree, paths relative to the root) by folder name, in name order; the
    files beside the folders (the measure vocabulary) under ""."""
    return survey_sources(paths)[0]


def survey_sources(paths: ProjectPaths) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """source_digests, and the folders held back for proposals left to review (held_back_sources), both for every
    folder at once. A folder whose files' stat signature is the one cached in build/source-digests.json is not read
    again (10,000 folders: 100,000 files neither hashed nor searched for proposals)."""
    if not paths.sources_dir.is_dir():
        return {}, {}
    entries = sorted(os.scandir(paths.sources_dir), key=lambda entry: entry.name)
    digests = {"": digest_files([Path(entry.path) for entry in entries if entry.is_file()], paths.root)}
    held: dict[str, dict[str, int]] = {}
    cached, fresh, recent = read_digest_cache(paths), {}, time.time() - RACY_SECONDS
    for entry in (entry for entry in entries if entry.is_dir()):
        found = tree_files(Path(entry.path), paths.root)
        signature = stat_signature(found)
        hit = cached.get(entry.name)
        if isinstance(hit, list) and len(hit) == 3 and hit[0] == signature and isinstance(hit[2], dict):
            digest, pending = hit[1], hit[2]
        else:
            digest, pending = digest_found(found), pending_proposals(Path(entry.path))
        digests[entry.name] = digest
        if pending:
            held[entry.name] = pending
        if all(max(stat.st_mtime, stat.st_ctime) < recent for _, _, stat in found):
            fresh[entry.name] = [signature, digest, pending]
    if fresh != cached:
        write_digest_cache(paths, fresh)
    return digests, held


def digest_cache(paths: ProjectPaths) -> Path:
    return paths.build_dir / "source-digests.json"


def read_digest_cache(paths: ProjectPaths) -> dict[str, Any]:
    return read_cache(digest_cache(paths))


def write_digest_cache(paths: ProjectPaths, cache: dict[str, Any]) -> None:
    write_cache(digest_cache(paths), cache)


def read_cache(path: Path) -> dict[str, Any]:
    """A cache of digests (this one, the published files' in flows/publish/published.py): empty when it is missing
    or damaged, which only costs the hashing."""
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return cached if isinstance(cached, dict) else {}


def write_cache(path: Path, cache: dict[str, Any]) -> None:
    """Written whole or not at all (a scratch file renamed); a lost or damaged cache only costs the hashing."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        scratch.write_text(json.dumps(cache, separators=(",", ":")), encoding="utf-8")
        os.replace(scratch, path)
    except OSError:
        pass  # a read-only checkout still runs, hashing every time


# what extraction's output depends on besides a source's own files (flows/package/kept.py keeps that output)
EXTRACTING_CODE = ("flows/core", "flows/sources", "flows/package/stage.py", "flows/package/kept.py")
EXTRACTING_PACKAGES = ("PyYAML", "text2num")


def extraction_fingerprint(paths: ProjectPaths, inputs: RunInputs) -> str:
    """The code that extracts and formats a source's rows, its libraries' versions, the schemas the rows are
    checked against and the vocabulary: a source's rows change with any of them."""
    from importlib.metadata import version

    parts = [PROJECT_DIR / part for part in EXTRACTING_CODE]
    files = [path for part in parts if part.is_dir() for path in part.glob("*.py")] + [p for p in parts if p.is_file()]
    versions = [f"python {sys.version_info[0]}.{sys.version_info[1]}"]
    versions += [f"{name} {version(name)}" for name in EXTRACTING_PACKAGES]
    vocabulary = hashlib.sha256(inputs.vocabulary or b"").hexdigest()
    return chain(digest_files(files, PROJECT_DIR), *versions, digest_schemas(inputs, paths), vocabulary)


def stage_keys(
    paths: ProjectPaths,
    staged_suites: Path | None = None,
    inputs: RunInputs | None = None,
    digests: dict[str, str] | None = None,
) -> dict[str, str]:
    """Each stage's key covers its own inputs and every earlier stage's: sources and records (each folder's
    digest, `digests` when the run has them), then schemas and package metadata (from the run's `inputs`), then
    suites, then warehouse views and the code."""
    inputs = inputs if inputs is not None else read_inputs(paths)
    digests = digests if digests is not None else source_digests(paths)
    extract = chain(*(f"{name}\0{digest}" for name, digest in digests.items()))
    package = chain(extract, digest_schemas(inputs, paths), descriptor_metadata(inputs))
    validate = chain(package, digest_named(suite_files(paths, staged_suites)))
    code = digest_files((PROJECT_DIR / "flows").rglob("*.py"), PROJECT_DIR)
    publish = chain(validate, digest_files(paths.views_dir.glob("*.sql"), paths.root), code)
    return dict(zip(STAGES, (extract, package, validate, publish), strict=True))


def changed_stages(previous: dict[str, str], current: dict[str, str]) -> list[str]:
    """The stages whose inputs differ from the last publish (all of them when there was none)."""
    return [stage for stage in STAGES if previous.get(stage) != current[stage]]
