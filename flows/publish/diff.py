"""The data diff between two releases: per table, rows added, removed and changed, matched by primary key."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, str]
Key = tuple[str, ...]


@dataclass
class TableChanges:
    """What happened to one table's rows; keys are primary-key values, changed fields map to (old, new)."""

    primary_key: list[str]
    added: list[Key] = field(default_factory=list)
    removed: list[Key] = field(default_factory=list)
    changed: list[tuple[Key, dict[str, tuple[str | None, str | None]]]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def label(self, key: Key) -> str:
        """A key as the run's messages name rows: `figure_id=guiyang-2018-big-data-revenue`."""
        return ", ".join(f"{name}={value}" for name, value in zip(self.primary_key, key, strict=True))


def read_csv_rows(text: str) -> list[Row]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def diff_rows(old: list[Row], new: list[Row], primary_key: list[str]) -> TableChanges:
    """Match rows by primary key; a field counts as changed when its CSV text differs (a missing column is None)."""
    old_by_key = {tuple(row[k] for k in primary_key): row for row in old}
    new_by_key = {tuple(row[k] for k in primary_key): row for row in new}
    changes = TableChanges(primary_key)
    changes.added = sorted(set(new_by_key) - set(old_by_key))
    changes.removed = sorted(set(old_by_key) - set(new_by_key))
    for key in sorted(set(old_by_key) & set(new_by_key)):
        before, after = old_by_key[key], new_by_key[key]
        columns = list(after) + [column for column in before if column not in after]
        fields = {c: (before.get(c), after.get(c)) for c in columns if before.get(c) != after.get(c)}
        if fields:
            changes.changed.append((key, fields))
    return changes


def diff_tables(
    old: dict[str, list[Row]], new: dict[str, list[Row]], primary_keys: dict[str, list[str]]
) -> dict[str, TableChanges]:
    """Every table in either release, in the new release's order; a table only one side has is all added/removed."""
    names = list(new) + [name for name in old if name not in new]
    return {name: diff_rows(old.get(name, []), new.get(name, []), primary_keys[name]) for name in names}


def changes_as_json(
    version: str, previous: str | None, released: str, changes: dict[str, TableChanges]
) -> dict[str, Any]:
    """The machine-readable diff written to changes.json."""

    def key_dict(table: TableChanges, key: Key) -> dict[str, str]:
        return dict(zip(table.primary_key, key, strict=True))

    return {
        "version": version,
        "previous": previous,
        "released": released,
        "tables": {
            name: {
                "primaryKey": table.primary_key,
                "added": [key_dict(table, key) for key in table.added],
                "removed": [key_dict(table, key) for key in table.removed],
                "changed": [
                    {
                        "key": key_dict(table, key),
                        "fields": {name: {"old": old, "new": new} for name, (old, new) in fields.items()},
                    }
                    for key, fields in table.changed
                ],
            }
            for name, table in changes.items()
        },
    }


def format_changelog_entry(
    version: str, previous: str | None, released: str, changes: dict[str, TableChanges], row_counts: dict[str, int]
) -> str:
    """A Markdown section for CHANGELOG.md: counts per table, then each changed row with its fields."""
    lines = [f"## {version} ({released})", ""]
    if previous is None:
        lines.append("First release: " + ", ".join(f"{name} {count}" for name, count in row_counts.items()) + " rows.")
        return "\n".join(lines) + "\n"
    touched = {name: table for name, table in changes.items() if not table.empty}
    if not touched:
        lines.append(f"No row changed since {previous}.")
        return "\n".join(lines) + "\n"
    lines.append(f"Compared with {previous}:")
    lines.append("")
    for name, table in touched.items():
        counts = f"{len(table.added)} added, {len(table.removed)} removed, {len(table.changed)} changed"
        lines.append(f"- **{name}**: {counts}")
        lines += [f"  - added {table.label(key)}" for key in table.added]
        lines += [f"  - removed {table.label(key)}" for key in table.removed]
        for key, fields in table.changed:
            shown = "; ".join(f"{column}: {show(old)} → {show(new)}" for column, (old, new) in fields.items())
            lines.append(f"  - changed {table.label(key)}: {shown}")
    return "\n".join(lines) + "\n"


def show(value: str | None, limit: int = 80) -> str:
    """A cell for the changelog: quoted, shortened, `(none)` for a column one side lacks."""
    if value is None:
        return "(none)"
    text = value if len(value) <= limit else value[: limit - 1] + "…"
    return f"`{text}`" if text else "(empty)"
