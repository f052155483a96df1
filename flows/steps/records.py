"""Load hand-authored YAML records, keeping the file and line of each so errors can point at them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from flows.steps.errors import ValleyError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as the input allows."""

    file: Path
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = str(self.file) + (f", line {self.line}" if self.line else "")
        return f"{where}" + (f", field '{self.field}'" if self.field else "") + f": {self.message}"


class InputError(ValleyError):
    """Raised with every problem found, so one run reports them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass
class Record:
    """One mapping from a records file: its values, where it is, and where each key is."""

    values: dict[str, Any]
    file: Path
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)

    def problem(self, key: str | None, message: str) -> Problem:
        return Problem(self.file, self.key_lines.get(key or "", self.line), key, message)


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of each mapping and of each of its keys."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    key_lines = {key_node.value: key_node.start_mark.line + 1 for key_node, _ in node.value}
    return {"__line__": node.start_mark.line + 1, "__key_lines__": key_lines, **mapping}


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file, turning syntax errors into a Problem that names the line."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
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


def load_records(path: Path) -> list[Record]:
    """Load a records file: a YAML list of mappings, each becoming a Record."""
    loaded = load_yaml(path)
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
