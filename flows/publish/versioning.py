"""Which version a changed release needs, by the README's rule: major for a removed table or column or a changed
key, minor for new rows, columns or tables, patch for corrected values or notes."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from flows.publish.diff import TableChanges

Layout = dict[str, tuple[list[str], list[str]]]  # table -> (columns, primary key), from a release's Table Schemas


def read_layout(zip_path: Path) -> Layout:
    """Each table's columns and primary key, from the Table Schemas inside a release zip."""
    layout = {}
    with zipfile.ZipFile(zip_path) as archive:
        for name in archive.namelist():
            if name.startswith("schemas/") and name.endswith(".json"):
                schema = json.loads(archive.read(name))
                table = name.removeprefix("schemas/").removesuffix(".json")
                layout[table] = ([field["name"] for field in schema["fields"]], list(schema["primaryKey"]))
    return layout


def needed_part(old: Layout, new: Layout, changes: dict[str, TableChanges]) -> str:
    """'major', 'minor' or 'patch': the part of the version a release with these changes must raise."""
    for table, (columns, key) in old.items():
        if table not in new or set(columns) - set(new[table][0]) or key != new[table][1]:
            return "major"
    grown = any(table not in old or set(new[table][0]) - set(old[table][0]) for table in new)
    if grown or any(change.added or change.removed for change in changes.values()):
        return "minor"
    return "patch"


def raise_version(version: tuple[int, int, int], part: str) -> str:
    major, minor, patch = version
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"
