"""The layout shows the pipeline: each stage package imports only itself and earlier stages, none imports Prefect."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from flows import STAGES
from flows.core.paths import PROJECT_DIR

FLOWS = PROJECT_DIR / "flows"


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, at any depth (function-level imports included), with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names if node.module == "flows"]
    return found


def stage_modules() -> list[tuple[str, Path]]:
    return [(stage, path) for stage in STAGES for path in sorted((FLOWS / stage).glob("*.py"))]


def test_layout_every_stage_folder_is_listed_in_order() -> None:
    folders = {path.parent.name for path in FLOWS.glob("*/__init__.py")}
    assert folders == set(STAGES)
    for stage in STAGES:
        assert ast.get_docstring(ast.parse((FLOWS / stage / "__init__.py").read_text(encoding="utf-8")))


@pytest.mark.parametrize(("stage", "path"), stage_modules(), ids=lambda value: str(value))
def test_layout_stage_imports_only_earlier_stages(stage: str, path: Path) -> None:
    allowed = set(STAGES[: STAGES.index(stage) + 1])
    wrong = []
    for line, module in imported_modules(path):
        parts = module.split(".")
        if parts[0] == "prefect" or parts[0].startswith("prefect_"):
            wrong.append(f"line {line}: {module} (Prefect stays in flows/*.py)")
        elif parts[0] == "flows" and len(parts) > 1 and parts[1] != "STAGES" and parts[1] not in allowed:
            wrong.append(f"line {line}: {module} (a later stage, or an edge module)")
    assert not wrong, f"{path.relative_to(PROJECT_DIR)}: " + "; ".join(wrong)


def test_layout_each_module_has_a_one_line_docstring() -> None:
    missing = [str(path.relative_to(PROJECT_DIR)) for _, path in stage_modules()
               if not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))]  # fmt: skip
    assert not missing
