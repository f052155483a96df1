from pathlib import Path

import pytest

from flows.core.paths import PROJECT_DIR
from flows.operate.deployment import locate_project


def test_locate_project_finds_the_checkout_it_runs_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PROJECT_DIR / "flows")
    assert locate_project(str(PROJECT_DIR)) == {"directory": str(PROJECT_DIR.resolve())}
    monkeypatch.chdir(PROJECT_DIR)
    assert locate_project() == {"directory": str(PROJECT_DIR.resolve())}


def test_locate_project_refuses_a_folder_that_is_not_a_checkout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "prefect.yaml").write_text("name: valley\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match=r"is not a valley checkout \(no flows/etl.py, flows/revalidate.py, "):
        locate_project()
