import re
import subprocess
from pathlib import Path

import pytest

from flows.core.paths import PROJECT_DIR
from tests.browser import MISSING, find_chromium


def test_a_missing_browser_skips_with_the_reason_on_a_developer_machine(tmp_path: Path) -> None:
    with pytest.raises(pytest.skip.Exception, match=r"Debian's chromium is not installed"):
        find_chromium({"PATH": str(tmp_path)})


@pytest.mark.parametrize("ci", ["true", "TRUE"])
def test_a_missing_browser_fails_under_ci(tmp_path: Path, ci: str) -> None:
    with pytest.raises(pytest.fail.Exception) as failure:
        find_chromium({"PATH": str(tmp_path), "CI": ci})
    assert str(failure.value) == f"{MISSING}: under CI (CI=true) a browser test must run, not skip"


def test_the_browser_on_the_path_is_found(tmp_path: Path) -> None:
    executable = tmp_path / "chromium"
    executable.write_text("#!/bin/sh\n", encoding="utf-8")
    executable.chmod(0o755)
    assert find_chromium({"PATH": str(tmp_path), "CI": "true"}).executable == str(executable)


@pytest.mark.parametrize("target", ["run", "test", "serve"])
def test_make_installs_nothing_outside_pypi(target: str) -> None:
    """No apt-get (chromium is .ci/run's job) and no npm (Data Docs assets come from XStatic packages)."""
    completed = subprocess.run(
        ["make", "--dry-run", "--always-make", target],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert "flows.checks.docs_assets" in completed.stdout
    assert not re.search(r"\b(apt-get|apt|npm|npx|curl|wget)\b", completed.stdout), completed.stdout
