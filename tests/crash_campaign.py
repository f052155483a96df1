"""Crash campaign (`make crash-campaign`, not part of `make test`): kill -9 `valley run` at random instants and
race concurrent runs on a copy of the project, then ask `valley validate` after each; report how many states
were consistent (validate exit 0 or 2, never 1), whether every kept row file was whole (or absent) after each
kill, whether the next run repaired the rest, and whether what it published equals a full `--refresh`.

    python -m tests.crash_campaign [--kills 30] [--concurrent 4] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flows.core.paths import PROJECT_DIR

COPIED = ["datapackage", "expectations", "warehouse/views", "warehouse/queries"]


def copy_project(target: Path) -> Path:
    for relative in COPIED:
        shutil.copytree(PROJECT_DIR / relative, target / relative)
    return target


def command(root: Path, *arguments: str) -> list[str]:
    return [sys.executable, "-m", "flows.cli", "--project", str(root), *arguments]


def toggle_input(root: Path) -> None:
    """A changed record, so every run in the campaign really publishes."""
    records = root / "datapackage" / "sources" / "big-data-valley" / "records" / "slogans.yaml"
    text = records.read_text(encoding="utf-8")
    swapped = text.replace("medium: flier", "medium: board", 1) if "medium: flier" in text else None
    records.write_text(swapped or text.replace("medium: board", "medium: flier", 1), encoding="utf-8")


def validate(root: Path, env: dict[str, str]) -> int:
    run = subprocess.run(command(root, "validate"), env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
    if run.returncode == 1:
        print("    inconsistent:", (run.stderr or run.stdout).strip().splitlines()[:3])
    return run.returncode


def torn_kept_files(root: Path) -> list[str]:
    """Kept row and facts files that are not whole: a run killed while keeping them must leave each whole or
    absent."""
    import hashlib

    torn = []
    for path in sorted((root / "build" / "kept").rglob("*.json")):
        head, _, body = path.read_bytes().partition(b"\n")
        try:
            whole = json.loads(head).get("sha256") == hashlib.sha256(body).hexdigest()
        except ValueError:
            whole = False
        torn += [] if whole else [path.relative_to(root).as_posix()]
    return torn


def published_bytes(root: Path) -> dict[str, bytes]:
    package = root / "datapackage"
    return {path.name: path.read_bytes() for path in [*(package / "data").glob("*.csv"), package / "datapackage.json"]}


def kill_campaign(root: Path, env: dict[str, str], kills: int, rng: random.Random) -> tuple[int, int]:
    started = time.monotonic()
    subprocess.run(command(root, "run", "--refresh"), env=env, cwd=PROJECT_DIR, capture_output=True, check=True)
    duration = time.monotonic() - started
    print(f"  a full run takes {duration:.1f} s; killing at uniform instants in [0, {duration:.1f}] s")
    consistent = 0
    for number in range(1, kills + 1):
        toggle_input(root)
        process = subprocess.Popen(command(root, "run"), env=env, cwd=PROJECT_DIR,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        instant = rng.uniform(0, duration)
        time.sleep(instant)  # the campaign's random instant, not a synchronisation
        process.send_signal(signal.SIGKILL)
        process.wait()
        code, torn = validate(root, env), torn_kept_files(root)
        consistent += code in (0, 2) and not torn
        print(
            f"  kill {number:2d} at {instant:5.2f} s: validate exit {code}"
            + (f", torn kept rows {torn}" if torn else "")
        )
    final = subprocess.run(command(root, "run"), env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
    repaired = final.returncode == 0 and validate(root, env) in (0, 2)
    incremental = published_bytes(root)  # from kept rows where the kills left them, extracted where not
    subprocess.run(command(root, "run", "--refresh"), env=env, cwd=PROJECT_DIR, capture_output=True, check=True)
    same = published_bytes(root) == incremental
    print(f"  the run after the kills published what a full --refresh does: {'yes' if same else 'NO'}")
    return consistent, int(repaired and same)


def concurrent_campaign(root: Path, env: dict[str, str], runs: int) -> bool:
    toggle_input(root)
    processes = [
        subprocess.Popen(command(root, "run"), env=env, cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True)
        for _ in range(runs)
    ]
    codes = [process.wait() for process in processes]
    code = validate(root, env)
    print(f"  {runs} concurrent runs exited {codes}; validate exit {code}")
    return all(c == 0 for c in codes) and code in (0, 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--concurrent", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    from flows.cli import configure_offline

    with tempfile.TemporaryDirectory(prefix="valley-crash-") as folder:
        root = copy_project(Path(folder) / "project")
        configure_offline(root)  # Prefect state in the copy, no telemetry, a patient server start-up
        from flows.runtime import temporary_server

        with temporary_server() as api_url:
            env = {**os.environ, "PREFECT_API_URL": api_url, "PYTHONPATH": str(PROJECT_DIR)}
            print(f"crash campaign on {root} (seed {options.seed})")
            consistent, repaired = kill_campaign(root, env, options.kills, random.Random(options.seed))
            raced = concurrent_campaign(root, env, options.concurrent)
    print(f"kill -9: {consistent} of {options.kills} states consistent right after the kill; "
          f"the next run repaired the rest: {'yes' if repaired else 'NO'}")  # fmt: skip
    print(f"{options.concurrent} concurrent runs: {'consistent' if raced else 'INCONSISTENT'}")
    return 0 if consistent == options.kills and repaired and raced else 1


if __name__ == "__main__":
    sys.exit(main())
