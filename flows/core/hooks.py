"""The bad-day tests' deterministic hooks: a process ends (as kill -9 would) or pauses at a named point."""

from __future__ import annotations

import os
import time
from pathlib import Path

# the bad-day tests' deterministic hooks: "crash:after:figures.csv" ends the process (as kill -9 would) right
# after that rename, "pause:before:valley.duckdb" waits there until VALLEY_TEST_HOOK_DIR/resume exists;
# "crash:before:rename:.publish-journal.json" dies with the journal written but not yet renamed into place,
# "crash:before:rename:big-data-valley.json" likewise with a source's kept rows (flows/package/kept.py)
HOOK_ENV, HOOK_DIR_ENV = "VALLEY_TEST_HOOK", "VALLEY_TEST_HOOK_DIR"


def test_hook(when: str, name: str) -> None:
    spec = os.environ.get(HOOK_ENV)
    if not spec or spec.split(":", 1)[1] != f"{when}:{name}":
        return
    if spec.startswith("crash:"):
        os._exit(137)
    folder = Path(os.environ[HOOK_DIR_ENV])
    (folder / "paused").write_text(str(os.getpid()), encoding="utf-8")
    deadline = time.monotonic() + 300
    while not (folder / "resume").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
