"""A run's shared inputs read once: the Table Schemas, the authored descriptor and the measure vocabulary."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from flows.core.errors import InputError, Problem
from flows.core.paths import ProjectPaths

Schema = dict[str, Any]
# load order: a table comes after every table its foreign keys reference
TABLE_ORDER = [
    "sources",
    "measures",
    "organizations",
    "events",
    "figures",
    "targets",
    "corroborations",
    "recognitions",
    "quotes",
    "slogans",
    "excluded_numbers",
    "number_mentions",
]
MEASURES_FILE = "measures.yaml"  # beside the source folders: one vocabulary for every article


def read_json(path: Path, remedy: str = "", data: bytes | None = None) -> Any:
    """A JSON file (or its bytes, already read), or an InputError naming the file, line and column where it
    stops being JSON."""
    try:
        return json.loads(path.read_bytes() if data is None else data)
    except json.JSONDecodeError as error:
        message = f"not valid JSON: {error}" + (f"; {remedy}" if remedy else "")
        raise InputError([Problem(path, None, None, message)]) from error


def read_descriptor(path: Path, data: bytes | None = None) -> dict[str, Any]:
    """The package descriptor; unreadable, it names the JSON error and how to get the authored one back."""
    relative = f"{path.parent.name}/{path.name}"
    remedy = (
        f"the descriptor is damaged (truncated or hand-edited); restore it with `git checkout -- {relative}` "
        "(or `git restore`), then run `valley run`"
    )
    document = read_json(path, remedy, data)
    if not isinstance(document, dict):
        raise InputError([Problem(path, None, None, f"not a descriptor (a JSON object); {remedy}")])
    return document


def schema_files(schemas_dir: Path) -> dict[str, Path]:
    """Every Table Schema file, keyed by table name, in load order; refused when one is missing or unknown."""
    found = {path.stem: path for path in schemas_dir.glob("*.json")}
    unknown = sorted(set(found) - set(TABLE_ORDER))
    missing = [name for name in TABLE_ORDER if name not in found]
    if unknown or missing:
        raise InputError(
            [Problem(schemas_dir, None, None, f"schemas missing: {missing}, not in TABLE_ORDER: {unknown}")]
        )
    return {name: found[name] for name in TABLE_ORDER}


def read_schemas(schemas_dir: Path) -> dict[str, Schema]:
    """Every Table Schema, keyed by table name, in load order."""
    return {name: read_json(path) for name, path in schema_files(schemas_dir).items()}


@dataclass(frozen=True)
class RunInputs:
    """What every stage of a run shares, read once: each Table Schema (parsed, and its bytes for the content key
    and the staged copy), the authored descriptor (None when there is none yet) and the vocabulary's bytes."""

    schemas: dict[str, Schema]
    schema_bytes: dict[str, bytes]
    descriptor: dict[str, Any] | None
    vocabulary: bytes | None

    @property
    def metadata(self) -> dict[str, Any]:
        """The authored part of the descriptor: everything but the resources the flow derives."""
        return {k: v for k, v in (self.descriptor or {}).items() if k != "resources"}


def read_inputs(paths: ProjectPaths) -> RunInputs:
    """The run's shared inputs. Read again only when one of their files changed (size, time or inode), so the
    check before Prefect starts and the flow after it read them once between them."""
    files = [*schema_files(paths.schemas_dir).values(), paths.descriptor, paths.sources_dir / MEASURES_FILE]
    return _read_inputs(paths.root, tuple((str(path), _signature(path)) for path in files))


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


@lru_cache(maxsize=8)
def _read_inputs(root: Path, files: tuple[tuple[str, tuple[int, int, int] | None], ...]) -> RunInputs:
    paths = ProjectPaths(root)
    schema_paths = schema_files(paths.schemas_dir)
    schema_bytes = {name: path.read_bytes() for name, path in schema_paths.items()}
    schemas = {name: read_json(schema_paths[name], data=data) for name, data in schema_bytes.items()}
    descriptor = read_descriptor(paths.descriptor) if paths.descriptor.is_file() else None
    vocabulary_path = paths.sources_dir / MEASURES_FILE
    vocabulary = vocabulary_path.read_bytes() if vocabulary_path.is_file() else None
    return RunInputs(schemas, schema_bytes, descriptor, vocabulary)
