"""Shared fixtures: a copy of the project in tmp_path, and one real Prefect test server per session."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# before anything imports prefect: no telemetry, Prefect state outside the working tree
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="valley-prefect-home-"))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

from flows.core.paths import PROJECT_DIR, ProjectPaths
from tests.browser import Chromium, find_chromium

COPIED = ["datapackage", "expectations", "warehouse/views", "warehouse/queries"]


def copy_project(target: Path) -> ProjectPaths:
    """The project's inputs and published package, without build output, under `target`."""
    for relative in COPIED:
        source = PROJECT_DIR / relative
        if source.exists():
            shutil.copytree(source, target / relative)
    return ProjectPaths(target)


@pytest.fixture
def project(tmp_path: Path) -> ProjectPaths:
    return copy_project(tmp_path / "project")


@pytest.fixture(scope="session")
def chromium() -> Chromium:
    """Headless Chromium for page tests: skipped with the reason where missing, a failure under CI (tests/browser.py)."""
    return find_chromium()


@pytest.fixture(scope="session")
def prefect_api_url() -> Iterator[str]:
    """A real Prefect server for the session; flows in the tests and in CLI subprocesses report to it."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield str(PREFECT_API_URL.value())


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory, prefect_api_url: str) -> ProjectPaths:
    """A project copy on which the ETL flow has run once, for tests that only read what it published."""
    from flows.etl import etl

    paths = copy_project(tmp_path_factory.mktemp("published") / "project")
    etl(root=str(paths.root))
    return paths


@pytest.fixture
def published_copy(tmp_path: Path, published: ProjectPaths) -> ProjectPaths:
    """A private copy of the published project, safe to tamper with."""
    shutil.copytree(published.root, tmp_path / "project")
    return ProjectPaths(tmp_path / "project")
