"""Check each row built from a record against its Table Schema before anything is written, so a bad value
is reported once, at the record's YAML file and line, not later at a staging CSV row."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flows.sources.records import Problem, Record
from flows.sources.suggest import closest_name

Row = dict[str, Any]
Schema = dict[str, Any]
# columns parsed from a record key of another name: a problem with them is a problem with that key
PARSED_FROM = {
    "value": "figure",
    "value_low": "figure",
    "value_high": "figure",
    "rounding_step": "figure",
    "unit": "figure",
    "qualifier": "figure",
    "change_percent": "change",
    "period_basis": "period",
    "deadline_year": "deadline",
    "evidence_quote": "quote",
    "evidence_offset": "quote",
}


def record_key(column: str, schema: Schema, record: Record) -> str | None:
    """The record key a column comes from: 'id' for the key, 'subject' for subject_id, 'figure' for value..."""
    if [column] == schema["primaryKey"]:
        return "id"
    for candidate in (column, column.removesuffix("_id"), column.removesuffix("_text")):
        if candidate in record.values:
            return candidate
    return PARSED_FROM.get(column)


def _type_error(kind: str, value: Any) -> str | None:
    """Why value is not of the Table Schema type `kind`, or None when it is."""
    check = _TYPE_CHECKS.get(kind)  # only the field's own type is tested: a date parse per string was a hot spot
    return None if check is None or check(value) else f"{value!r} is not of type {kind}"


def _is_iso_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda value: isinstance(value, str),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, int | float | Decimal) and not isinstance(value, bool),
    "boolean": lambda value: isinstance(value, bool),
    "date": lambda value: isinstance(value, dt.date) or (isinstance(value, str) and _is_iso_date(value)),
}


def field_errors(field: dict[str, Any], value: Any) -> list[str]:
    """Every way a value breaks its field's type and constraints (required, enum, pattern, range, length)."""
    constraints = field.get("constraints", {})
    if value is None:
        return ["is required"] if constraints.get("required") else []
    wrong_type = _type_error(field["type"], value)
    if wrong_type:
        return [wrong_type]
    errors = []
    if "enum" in constraints and value not in constraints["enum"]:
        closest = closest_name(str(value), constraints["enum"])
        errors.append(
            f"{value!r} is not one of {constraints['enum']}" + (f": did you mean {closest!r}?" if closest else "")
        )
    if "pattern" in constraints and not re.fullmatch(constraints["pattern"], str(value)):
        errors.append(f"{value!r} does not match {constraints['pattern']!r}")
    if "minimum" in constraints and value < constraints["minimum"]:
        errors.append(f"{value} is below the minimum {constraints['minimum']}")
    if "maximum" in constraints and value > constraints["maximum"]:
        errors.append(f"{value} is above the maximum {constraints['maximum']}")
    if "minLength" in constraints and len(value) < constraints["minLength"]:
        errors.append(f"is shorter than {constraints['minLength']} characters")
    return errors


def _compile_field(field: dict[str, Any]) -> Callable[[Any], bool]:
    """A predicate true exactly when field_errors finds nothing: the fast path for the (usual) valid value."""
    constraints = field.get("constraints", {})
    required, type_check = bool(constraints.get("required")), _TYPE_CHECKS.get(field["type"])
    enum = constraints.get("enum")
    pattern = re.compile(constraints["pattern"]) if "pattern" in constraints else None
    bounds = [(key, constraints[key]) for key in ("minimum", "maximum", "minLength") if key in constraints]

    def passes(value: Any) -> bool:
        if value is None:
            return not required
        if (type_check is not None and not type_check(value)) or (enum is not None and value not in enum):
            return False
        if pattern is not None and not pattern.fullmatch(str(value)):
            return False
        for key, bound in bounds:
            if (value < bound) if key == "minimum" else (value > bound) if key == "maximum" else len(value) < bound:
                return False
        return True

    return passes


_COMPILED: dict[int, tuple[dict[str, Any], Callable[[Any], bool]]] = {}


def field_passes(field: dict[str, Any], value: Any) -> bool:
    """Does the value pass its field (no field_errors)? Compiled once per field dict: checking every row of
    10,000 sources' records constraint by constraint was a hot spot."""
    entry = _COMPILED.get(id(field))
    if entry is None or entry[0] is not field:  # the dict is kept in the entry, so its id is not reused meanwhile
        if len(_COMPILED) > 4096:
            _COMPILED.clear()
        entry = _COMPILED[id(field)] = (field, _compile_field(field))
    return entry[1](value)


def check_row(table: str, schema: Schema, row: Row, record: Record, problems: list[Problem]) -> None:
    """Report each schema violation of a built row once, at the record key it comes from."""
    for field in schema["fields"]:
        value = row.get(field["name"])
        if field_passes(field, value):
            continue
        for error in field_errors(field, value):
            key = record_key(field["name"], schema, record)
            where = f"datapackage/schemas/{table}.json field '{field['name']}'"
            problems.append(record.problem(key, f"{error} ({where})"))


def unknown_name(value: Any, target: str, column: str, known: set[Any], defined_in: str | None) -> str:
    """A foreign key naming no row: the closest known name, and the file where the names are defined."""
    message = f"{value!r} is not a known {target}.{column}"
    closest = closest_name(str(value), known)
    if closest is not None:
        message += f": did you mean {closest!r}?"
    if defined_in is not None:
        message += f" {target} are defined in {defined_in}" + ("" if closest else "; add it there if it is new")
    return message


def check_references(
    built: list[tuple[str, Row, Record]],
    tables: dict[str, list[Row]],
    schemas: dict[str, Schema],
    defined_in: dict[str, str] | None = None,
) -> list[Problem]:
    """Every foreign key of every built row resolves among the rows extracted with it (and the vocabulary); one
    that does not is named with the closest known name and the file that defines them (`defined_in`, by table)."""
    keys: dict[tuple[str, str], set[Any]] = {}
    problems = []
    for table, row, record in built:
        for foreign in schemas[table].get("foreignKeys", []):
            value = row.get(foreign["fields"])
            target = foreign["reference"]["resource"] or table
            column = foreign["reference"]["fields"]
            if value is None:
                continue
            known = keys.setdefault((target, column), {r.get(column) for r in tables.get(target, [])})
            if value not in known:
                key = record_key(foreign["fields"], schemas[table], record)
                where = (defined_in or {}).get(target)
                problems.append(record.problem(key, unknown_name(value, target, column, known, where)))
    return problems
