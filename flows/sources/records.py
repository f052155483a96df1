"""Load hand-authored YAML records, keeping the file and line of each so errors can point at them."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from flows.core.errors import InputError, Problem

__all__ = ["InputError", "Problem", "Record", "load_records", "load_shared_records", "load_yaml", "strip_lines"]


@dataclass
class Record:
    """One mapping from a records file: its values, where it is, and where each key is."""

    values: dict[str, Any]
    file: Path
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)

    def problem(self, key: str | None, message: str) -> Problem:
        return Problem(self.file, self.key_lines.get(key or "", self.line), key, message)


# libyaml's parser when PyYAML was built with it (the wheels are): the pure-Python one is ~20x slower,
# and parsing records dominated extraction (issue 10's corpus benchmark). Same safe constructors, same marks.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """A safe loader that remembers the line of each mapping and of each of its keys."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    key_lines = {key_node.value: key_node.start_mark.line + 1 for key_node, _ in node.value}
    return {"__line__": node.start_mark.line + 1, "__key_lines__": key_lines, **mapping}


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_STR, _SEQ, _MAP = (f"tag:yaml.org,2002:{kind}" for kind in ("str", "seq", "map"))


def _construct(node: yaml.Node, loader: _LineLoader) -> Any:
    """What the loader would construct, building plain strings, lists and mappings with string keys directly
    (PyYAML's generic constructor was most of the cost of reading records); anything else goes to the loader."""
    if isinstance(node, yaml.ScalarNode):
        return node.value if node.tag == _STR else loader.construct_object(node, deep=True)
    if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
        return [_construct(child, loader) for child in node.value]
    pairs = node.value if isinstance(node, yaml.MappingNode) and node.tag == _MAP else None
    if pairs is None or not all(isinstance(key, yaml.ScalarNode) and key.tag == _STR for key, _ in pairs):
        return loader.construct_object(node, deep=True)  # merge keys, non-string keys, other tags
    mapping = {key.value: _construct(value, loader) for key, value in pairs}
    key_lines = {key.value: key.start_mark.line + 1 for key, _ in pairs}
    return {"__line__": node.start_mark.line + 1, "__key_lines__": key_lines, **mapping}


def load_yaml(path: Path, data: bytes | None = None) -> Any:
    """Parse a YAML file (or `data`, its bytes read already), syntax errors as a Problem that names the line."""
    try:
        text = path.read_text(encoding="utf-8") if data is None else data.decode("utf-8")
        loader = _LineLoader(text)
        try:
            node = loader.get_single_node()
            return None if node is None else _construct(node, loader)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise InputError([Problem(path, line, None, f"invalid YAML: {error.problem}")]) from error
    except (OSError, UnicodeDecodeError) as error:
        raise InputError([Problem(path, None, None, f"cannot read: {error}")]) from error


def strip_lines(value: Any) -> Any:
    """Drop the line bookkeeping from a loaded structure."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k not in ("__line__", "__key_lines__")}
    if isinstance(value, list):
        return [strip_lines(item) for item in value]
    return value


def load_records(path: Path, data: bytes | None = None) -> list[Record]:
    """Load a records file: a YAML list of mappings, each becoming a Record."""
    loaded = load_yaml(path, data)
    if loaded is None:
        return []
    if not isinstance(loaded, list):
        raise InputError([Problem(path, 1, None, "expected a list of records")])
    records = []
    for item in loaded:
        if not isinstance(item, dict):
            raise InputError([Problem(path, None, None, f"expected a mapping, found {item!r}")])
        records.append(
            Record(
                values=strip_lines(item),
                file=path,
                line=item["__line__"],
                key_lines=item["__key_lines__"],
            )
        )
    return records


def load_shared_records(path: Path, data: bytes | None = None) -> list[Record]:
    """load_records for a file every source folder reads (the measure vocabulary): parsed once per content, so
    10,000 sources do not parse it 10,000 times. The records are shared: callers read them, never change them."""
    return list(_records_of_content(path, path.read_bytes() if data is None else data))


@lru_cache(maxsize=8)
def _records_of_content(path: Path, data: bytes) -> tuple[Record, ...]:
    return tuple(load_records(path, data))
