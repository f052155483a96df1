"""Headless Chromium for the page tests: Debian's `chromium`; missing, a test skips, except under CI, where it fails."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
MISSING = "Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)"
TIMEOUT_SECONDS = 180


@dataclass(frozen=True)
class Chromium:
    executable: str

    def run(self, *arguments: str, profile: Path) -> subprocess.CompletedProcess[str]:
        """One headless Chromium with its own profile folder (`profile`), so runs never share state."""
        command = [self.executable, *FLAGS, f"--user-data-dir={profile}", *arguments]
        return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=True)

    def dump_dom(self, url: str, profile: Path, virtual_time_ms: int | None = None) -> str:
        """The page's DOM after its scripts ran; a single-page app needs `virtual_time_ms` to fetch and render."""
        budget = [f"--virtual-time-budget={virtual_time_ms}"] if virtual_time_ms else []
        return self.run(*budget, "--dump-dom", url, profile=profile).stdout


def find_chromium(environ: dict[str, str] | None = None) -> Chromium:
    """The browser, or a skip with the reason; under CI (CI=true) a missing browser is a failure, never a skip."""
    environ = dict(os.environ) if environ is None else environ
    executable = shutil.which("chromium", path=environ.get("PATH"))
    if executable:
        return Chromium(executable)
    if environ.get("CI", "").lower() == "true":
        pytest.fail(f"{MISSING}: under CI (CI=true) a browser test must run, not skip", pytrace=False)
    pytest.skip(MISSING)
