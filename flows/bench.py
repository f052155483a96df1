"""`make bench`: grow a synthetic corpus and time the pipeline on it, stage by stage and as whole commands.

Measurements, not assertions: the numbers are printed for people to compare across changes. In a temporary
copy of the project (the article plus synthetic sources from flows/sources/corpus.py), for each size:
- each stage, by calling its pure step function in a fresh process (no Prefect), with the peak memory so far;
- `valley run --refresh` and `valley validate` as whole processes, with their peak memory.
Then, on the article alone, the whole commands against the floor F (importing prefect, great_expectations,
frictionless and duckdb in one process): `valley run` with nothing changed, `valley run --refresh`,
`valley validate`, and `valley run --refresh` with a running project server. Timings on a shared machine
are noisy; run it on a quiet one (`nice -n 10 make bench`) and compare runs, not single numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows import STAGES
from flows.core.paths import PROJECT_DIR, ProjectPaths

DEFAULT_SIZES = (100, 1_000, 10_000)
DEFAULT_TIMEOUT = 1_800.0
# audit_figure_pairs compares every pair of figures: above this many figures it is skipped, not waited for
DEFAULT_PAIRS_LIMIT = 25_000
COPIED = ["datapackage", "expectations", "warehouse/views", "warehouse/queries", "pyproject.toml"]
FLOOR_IMPORTS = "import prefect, great_expectations, frictionless, duckdb"
VALLEY = Path(sys.executable).parent / "valley"
# a Prefect log line: "10:02:56.123 | INFO    | Task run 'extract-3a1' - Finished in state Completed()"
LOG_LINE = re.compile(r"^(\d\d:\d\d:\d\d\.\d+) \| \w+ +\| (Flow run|Task run) '([^']+)' - (.*)$", re.MULTILINE)


@dataclass
class Measured:
    """One timed process: wall seconds, peak resident memory of the process (or its largest waited-for child)."""

    seconds: float
    peak_mb: float
    status: str  # "ok", "exit N", "timeout"
    output: str = ""
    started: float = 0.0  # time.time() at the start

    def flow_stages(self) -> list[tuple[str, float]]:
        """The flow's stages as its Prefect log shows them: from the process start to the flow run's start,
        then to the last finished run of each task in turn (a mapped task counts once), then to the exit."""
        marks: list[tuple[str, float]] = []
        day = dt.datetime.fromtimestamp(self.started).replace(hour=0, minute=0, second=0, microsecond=0)
        for clock, kind, name, message in LOG_LINE.findall(self.output):
            hours, minutes, seconds = clock.split(":")
            at = (day + dt.timedelta(hours=int(hours), minutes=int(minutes), seconds=float(seconds))).timestamp()
            if kind == "Flow run" and message.startswith("Beginning"):
                marks.append(("before the flow run (imports, server)", at))
            elif kind == "Task run" and message.startswith("Finished"):
                task = name.rsplit("-", 1)[0]
                marks = [mark for mark in marks if mark[0] != task] + [(task, at)]
        if not marks:
            return []
        stages, previous = [], self.started
        for stage, at in marks:
            stages.append((stage, at - previous))
            previous = at
        return [*stages, ("after the last task (summary, exit)", self.started + self.seconds - previous)]


def peak_mb(rusage: resource.struct_rusage) -> float:
    return rusage.ru_maxrss / 1024  # Linux reports kilobytes


def measure_process(command: list[str], env: dict[str, str], timeout: float) -> Measured:
    """Run a command in its own process group; its wall time and peak memory from wait4 (that child alone)."""
    with tempfile.TemporaryFile() as output:
        start, started = time.perf_counter(), time.time()
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        status, rusage = "", None
        while rusage is None:
            pid, code, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                process.returncode = os.waitstatus_to_exitcode(code)
                status, rusage = ("ok" if process.returncode == 0 else f"exit {process.returncode}"), usage
            elif time.perf_counter() - start > timeout:
                os.killpg(process.pid, signal.SIGKILL)  # the group this call started, and nothing else
                _, code, usage = os.wait4(process.pid, 0)
                status, rusage = "timeout", usage
            else:
                time.sleep(0.05)
        seconds = time.perf_counter() - start
        output.seek(0)
        return Measured(seconds, peak_mb(rusage), status, output.read().decode("utf-8", "replace"), started)


def copy_project(target: Path, article: bool = True) -> ProjectPaths:
    """The project's inputs (not its build output or published history) under `target`."""
    for relative in COPIED:
        source = PROJECT_DIR / relative
        if source.is_dir():
            shutil.copytree(source, target / relative)
        elif source.is_file():
            shutil.copy2(source, target / relative)
    paths = ProjectPaths(target)
    if not article:
        shutil.rmtree(paths.sources_dir / "big-data-valley")
    return paths


def bench_env(paths: ProjectPaths, api_url: str | None = None) -> dict[str, str]:
    """Offline, quiet, Prefect state inside the temporary project; a server's API when one is given."""
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "VALLEY_STAGE_TIMES")}
    env |= {
        "PREFECT_HOME": str(paths.root / ".prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    }
    return env | ({"PREFECT_API_URL": api_url} if api_url else {})


def valley(paths: ProjectPaths, *arguments: str) -> list[str]:
    return [str(VALLEY), "--project", str(paths.root), *arguments]


# --- the stages, each a pure step function, timed inside one process ----------------------------------------


class Stopwatch:
    """Times stages in this process, keeping each stage's result for the next."""

    def __init__(self) -> None:
        self.results: dict[str, Any] = {}

    def __call__(self, stage: str, action: Callable[[], Any]) -> dict[str, Any]:
        start, cpu = time.perf_counter(), time.process_time()
        self.results[stage] = action()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        memory = peak_mb(resource.getrusage(resource.RUSAGE_SELF))
        return {"stage": stage, "seconds": seconds, "cpu": cpu, "peak_mb": memory}


def run_stages(root: Path, pairs_limit: int) -> Iterator[dict[str, Any]]:
    """Time each stage on the project at `root`, yielding {stage, seconds, cpu, peak_mb} as each finishes."""
    from flows.core.inputs import read_schemas

    paths = ProjectPaths(root)
    schemas = read_schemas(paths.schemas_dir)
    staging = Path(tempfile.mkdtemp(prefix="bench-stages-", dir=root))
    try:
        yield from time_stages(paths, schemas, staging, pairs_limit)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def time_stages(
    paths: ProjectPaths, schemas: dict[str, Any], staging: Path, pairs_limit: int
) -> Iterator[dict[str, Any]]:
    """The stages in the flow's order, each on the previous one's output, staged under `staging`."""
    from flows.checks.frictionless import validate_package
    from flows.core.inputs import read_inputs
    from flows.package.keys import stage_keys
    from flows.package.stage import stage_package
    from flows.package.warehouse import build_warehouse
    from flows.sources.extract import extract_tables

    timed = Stopwatch()
    yield timed("input keys (hash every source)", lambda: stage_keys(paths))
    yield timed("extract", lambda: extract_tables(paths.sources_dir))
    tables = timed.results["extract"]
    yield timed("package: CSVs + descriptor", lambda: stage_package(tables, paths, staging, read_inputs(paths)))
    descriptor = timed.results["package: CSVs + descriptor"]
    data = descriptor.parent / "data"
    yield timed("validate: frictionless", lambda: validate_package(descriptor))
    yield timed("publish: warehouse build", lambda: build_warehouse(schemas, data, paths.views_dir,
                                                                     staging / "warehouse.duckdb"))  # fmt: skip
    yield from time_suites(paths, schemas, staging, pairs_limit, timed)


def time_suites(
    paths: ProjectPaths, schemas: dict[str, Any], staging: Path, pairs_limit: int, timed: Stopwatch
) -> Iterator[dict[str, Any]]:
    """The suites side of validation, through validate.check_package as the flow calls it (frictionless, timed
    before, is not run twice); the quadratic figure-pairs audit, where it still exists, is timed on its own."""
    from flows.checks import expect, validate

    package_dir, suites_dir = staging / "datapackage", staging / "expectations"
    yield timed("package: suites", lambda: expect.write_suites(schemas, paths.expectations_dir, suites_dir))
    figures = len(timed.results["extract"].get("figures", []))
    pairs = quadratic_pairs_audit()
    skip_pairs = pairs is not None and figures > pairs_limit
    if pairs is not None and not skip_pairs:
        frames = expect.read_frames({"figures": schemas["figures"]}, package_dir / "data")
        rows = {"figures": frames["figures"].to_dict("records")}
        yield timed("validate: audit figure_pairs alone (quadratic)", lambda: pairs(rows))
    label = "validate: suites (GX, audits)" + (" without figure_pairs" if skip_pairs else "")
    stubs = {"validate_package": lambda *_, **__: timed.results["validate: frictionless"]}
    stubs |= {"audit_figure_pairs": lambda *_, **__: []} if skip_pairs else {}
    with patched(stubs):
        yield timed(label, lambda: validate.check_package(package_dir, schemas, suites_dir, paths.expectations_dir))
    if skip_pairs:
        note = f"skipped: compares every pair, {figures:,} figures > --pairs-limit {pairs_limit:,}"
        yield {"stage": "validate: audit figure_pairs alone (quadratic)", "seconds": None, "cpu": None,
               "peak_mb": None, "note": note}  # fmt: skip


def quadratic_pairs_audit() -> Callable[[Any], Any] | None:
    """The pairwise figure audit, while flows/checks/consistency.py still has it (issue 10 replaces it by a join)."""
    from flows.checks import consistency

    return getattr(consistency, "audit_figure_pairs", None)


@contextmanager
def patched(replacements: dict[str, Callable[..., Any]]) -> Iterator[None]:
    """Replace functions by name in every loaded stage module that holds them, for this block only."""
    saved = []
    for module in [m for name, m in sys.modules.items() if name.partition(".")[2].partition(".")[0] in STAGES]:
        for attribute, replacement in replacements.items():
            if hasattr(module, attribute):
                saved.append((module, attribute, getattr(module, attribute)))
                setattr(module, attribute, replacement)
    try:
        yield
    finally:
        for module, attribute, original in saved:
            setattr(module, attribute, original)


def stages_main(root: Path, pairs_limit: int) -> None:
    """`python -m flows.bench --stages ROOT`: one JSON line per stage, flushed as it finishes."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    for line in run_stages(root, pairs_limit):
        print(json.dumps(line), flush=True)


def measure_stages(paths: ProjectPaths, pairs_limit: int, timeout: float) -> tuple[list[dict[str, Any]], Measured]:
    command = [sys.executable, "-m", "flows.bench", "--stages", str(paths.root), "--pairs-limit", str(pairs_limit)]
    measured = measure_process(command, bench_env(paths), timeout)
    stages = [json.loads(line) for line in measured.output.splitlines() if line.startswith("{")]
    return stages, measured


# --- whole commands -----------------------------------------------------------------------------------------


def measure_floor(repeat: int) -> Measured:
    """F: the fastest of `repeat` processes that only import prefect, great_expectations, frictionless, duckdb."""
    runs = [measure_process([sys.executable, "-c", FLOOR_IMPORTS], dict(os.environ), 300) for _ in range(repeat)]
    return min(runs, key=lambda run: run.seconds)


def fastest(command: list[str], env: dict[str, str], timeout: float, repeat: int) -> Measured:
    runs = [measure_process(command, env, timeout) for _ in range(repeat)]
    return min(runs, key=lambda run: (run.status != "ok", run.seconds))


def measure_commands(paths: ProjectPaths, timeout: float, repeat: int) -> dict[str, Measured]:
    """The whole commands on one project: a first run (publishes), then each command the goals name."""
    from flows.operate.server import running_server

    env = bench_env(paths)
    measured = {"valley run (first, publishes)": measure_process(valley(paths, "run"), env, timeout)}
    measured["valley run (nothing changed)"] = fastest(valley(paths, "run"), env, timeout, repeat)
    measured["valley run --refresh"] = fastest(valley(paths, "run", "--refresh"), env, timeout, repeat)
    measured["valley validate"] = fastest(valley(paths, "validate"), env, timeout, repeat)
    with running_server(paths.root / ".prefect-server", env) as server:
        served = bench_env(paths, server.api_url)
        measure_process(valley(paths, "run", "--refresh"), served, timeout)  # the server's first flow run warms it
        measured["valley run --refresh (running server)"] = fastest(
            valley(paths, "run", "--refresh"), served, timeout, repeat
        )
        measured["valley validate (running server)"] = fastest(valley(paths, "validate"), served, timeout, repeat)
    return measured


def measure_size(paths: ProjectPaths, size: int, arguments: argparse.Namespace) -> dict[str, Any]:
    """Grow the corpus to `size` synthetic sources, then time the stages and the whole commands on it."""
    from flows.sources.corpus import SLUG_PREFIX, grow_corpus

    start = time.perf_counter()
    for folder in paths.sources_dir.glob(f"{SLUG_PREFIX}-*"):  # a kept folder may hold a bigger corpus
        if folder.name.removeprefix(f"{SLUG_PREFIX}-").isdigit() and int(folder.name.split("-")[-1]) >= size:
            shutil.rmtree(folder)
    grow_corpus(paths.sources_dir, size)
    print(f"\n## {size:,} synthetic sources (+ the article), corpus written in {time.perf_counter() - start:.1f} s")
    stages: list[dict[str, Any]] = []
    if arguments.no_stages:  # the large size: the whole commands alone (the stages would take as long again)
        process = Measured(0.0, 0.0, "not run")
    else:
        stages, process = measure_stages(paths, arguments.pairs_limit, arguments.timeout)
        print_stages(stages, process)
    if arguments.stages_only:
        return {"size": size, "stages": stages, "stages_process": process, "commands": {}}
    env = bench_env(paths)
    # -v: Prefect's log, from which each run's stages are read (flow_stages)
    commands = {
        "valley run --refresh": measure_process(valley(paths, "run", "--refresh", "-v"), env, arguments.timeout)
    }
    if commands["valley run --refresh"].status == "ok":
        commands["valley validate"] = measure_process(valley(paths, "validate"), env, arguments.timeout)
        commands |= measure_incremental(paths, size, env, arguments.timeout)
    print_commands(commands, stages=True)
    print_ratios(commands)
    return {"size": size, "stages": stages, "stages_process": process, "commands": commands}


INCREMENTAL = ("valley run (nothing changed)", "valley run (one source added)", "valley run (one source edited)")


def measure_incremental(paths: ProjectPaths, size: int, env: dict[str, str], timeout: float) -> dict[str, Measured]:
    """After a full refresh, in the same run: `valley run` with nothing changed, with one synthetic source added,
    then with one edited (source 0's records; written back afterwards, as the next size expects it)."""
    from flows.sources.corpus import source_slug, write_source

    measured = {INCREMENTAL[0]: measure_process(valley(paths, "run"), env, timeout)}
    write_source(paths.sources_dir, size)  # the next size's corpus holds it anyway
    measured[INCREMENTAL[1]] = measure_process(valley(paths, "run", "-v"), env, timeout)
    organizations = paths.sources_dir / source_slug(0) / "records" / "organizations.yaml"
    text = organizations.read_text(encoding="utf-8")
    organizations.write_text(text.replace("An invented", "An edited, invented", 1), encoding="utf-8")
    measured[INCREMENTAL[2]] = measure_process(valley(paths, "run", "-v"), env, timeout)
    write_source(paths.sources_dir, 0)
    return measured


def print_ratios(commands: dict[str, Measured]) -> None:
    """Each incremental run against the full refresh of the same size, measured in the same bench run."""
    full = commands.get("valley run --refresh")
    for label in INCREMENTAL[1:]:
        if full is not None and label in commands and full.status == commands[label].status == "ok":
            run = commands[label]
            print(f"  {label} / valley run --refresh: {run.seconds / full.seconds:.2f} (goal <= 0.15); "
                  f"the flow runs alone: {in_flow(run) / max(in_flow(full), 1e-9):.2f}")  # fmt: skip


def in_flow(run: Measured) -> float:
    """A run's seconds after its flow run began: without the imports and the server's start-up, which a loaded
    machine stretches the most."""
    return run.seconds - sum(seconds for stage, seconds in run.flow_stages() if stage.startswith("before the flow"))


# --- output ---------------------------------------------------------------------------------------------------


def seconds_text(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f} s" if seconds >= 1 else f"{seconds:.2f} s"


def print_stages(stages: list[dict[str, Any]], process: Measured) -> None:
    """Each stage's wall time, its CPU time (steadier on a shared machine) and the process's peak memory so far."""
    width = max([len(stage["stage"]) for stage in stages] + [20])
    print(f"  {'stage'.ljust(width)}  {'wall':>9}  {'cpu':>9}  {'peak so far':>11}")
    for stage in stages:
        memory = f"{stage['peak_mb']:8.0f} MB" if stage["peak_mb"] is not None else " " * 11
        cpu = seconds_text(stage.get("cpu"))
        print(f"  {stage['stage'].ljust(width)}  {seconds_text(stage['seconds']):>9}  {cpu:>9}  {memory}"
              f"  {stage.get('note', '')}")  # fmt: skip
    status = "" if process.status == "ok" else process.status
    print(f"  {'(the stages process)'.ljust(width)}  {seconds_text(process.seconds):>9}  {'':>9}  "
          f"{process.peak_mb:8.0f} MB  {status}")  # fmt: skip
    if process.status != "ok":
        print(tail(process.output))


def print_commands(commands: dict[str, Measured], floor: float | None = None, stages: bool = False) -> None:
    for label, run in commands.items():
        ratio = f"  {run.seconds / floor:4.1f} F" if floor else ""
        status = "" if run.status == "ok" else f"  {run.status}"
        print(f"  {label.ljust(40)}  {seconds_text(run.seconds):>9}  {run.peak_mb:7.0f} MB{ratio}{status}")
        for stage, seconds in run.flow_stages() if stages else []:
            print(f"    {stage.ljust(38)}  {seconds_text(seconds):>9}")
        if run.status != "ok":
            print(tail(run.output))


def tail(output: str, lines: int = 12) -> str:
    return "\n".join(f"    | {line}" for line in output.strip().splitlines()[-lines:])


def markdown_tables(sizes: list[dict[str, Any]], floor: Measured | None, commands: dict[str, Measured]) -> str:
    """The README's tables: stages by size, commands by size, and the article's commands against F."""
    lines = ["| stage | " + " | ".join(f"{size['size']:,} sources" for size in sizes) + " |"]
    lines.append("|---|" + "---|" * len(sizes))
    names = list(dict.fromkeys(stage["stage"] for size in sizes for stage in size["stages"]))
    for name in names:
        cells = []
        for size in sizes:
            stage = next((s for s in size["stages"] if s["stage"] == name), None)
            cells.append("not reached" if stage is None else "skipped" if stage["seconds"] is None
                         else f"{seconds_text(stage['seconds'])} (cpu {seconds_text(stage['cpu'])})")  # fmt: skip
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    cells = [f"{size['stages_process'].peak_mb:.0f} MB" if size["stages"] else "not run" for size in sizes]
    lines.append("| peak memory of the stages process | " + " | ".join(cells) + " |")
    for label in ("valley run --refresh", "valley validate", *INCREMENTAL):
        cells = []
        for size in sizes:
            run = size["commands"].get(label)
            cells.append("not run" if run is None else f"{seconds_text(run.seconds)}, {run.peak_mb:.0f} MB"
                         + ("" if run.status == "ok" else f" ({run.status})"))  # fmt: skip
        lines.append(f"| **`{label}`** (whole process) | " + " | ".join(cells) + " |")
    for label in INCREMENTAL[1:]:
        cells = []
        for size in sizes:
            run, full = size["commands"].get(label), size["commands"].get("valley run --refresh")
            cells.append(f"{run.seconds / full.seconds:.2f}" if run and full and run.status == full.status == "ok"
                         else "not run")  # fmt: skip
        lines.append(f"| {label} / `valley run --refresh` | " + " | ".join(cells) + " |")
    if floor is not None and commands:
        lines += [
            "",
            f"F = {floor.seconds:.1f} s ({FLOOR_IMPORTS}).",
            "",
            "| command (the article) | time | ratio to F |",
        ]
        lines.append("|---|---|---|")
        for label, run in commands.items():
            ratio = run.seconds / floor.seconds
            lines.append(f"| `{label}` | {seconds_text(run.seconds)}, {run.peak_mb:.0f} MB | {ratio:.1f} |")
    return "\n".join(lines)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m flows.bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, DEFAULT_SIZES)),
        help="synthetic source counts, comma-separated (default: %(default)s; 100000 is the large size, long: "
        "not run by default); empty for none",
    )
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per process")
    parser.add_argument(
        "--pairs-limit",
        type=int,
        default=DEFAULT_PAIRS_LIMIT,
        help="skip the quadratic figure_pairs audit above this many figures (default: %(default)s)",
    )
    parser.add_argument("--repeat", type=int, default=2, help="runs of each article command; the fastest counts")
    parser.add_argument("--no-commands", action="store_true", help="skip the article's whole commands and F")
    parser.add_argument("--stages-only", action="store_true", help="only the stages: no whole command at all")
    parser.add_argument("--no-stages", action="store_true", help="only the whole commands at each size (for 100000)")
    parser.add_argument("--keep", type=Path, help="build the corpus here and keep it (default: a temporary folder)")
    parser.add_argument("--stages", type=Path, metavar="ROOT", help=argparse.SUPPRESS)
    parser.add_argument("--draft", action="store_true", help="only the draft scores of the seed (a second)")
    return parser.parse_args(argv)  # fmt: skip


def print_draft_scores() -> None:
    """`valley draft` on the seed article from its snapshot alone, scored against its hand-written records."""
    from flows.drafting.score import format_scores, long_article, score_source, time_draft
    from flows.sources.corpus import write_source
    from flows.sources.records import load_records

    paths = ProjectPaths()
    folder, vocabulary = paths.sources_dir / "big-data-valley", paths.sources_dir / "measures.yaml"
    result = score_source(folder, vocabulary)
    long_text = long_article((folder / "article.txt").read_text(encoding="utf-8"))
    seconds = time_draft(long_text, [record.values for record in load_records(vocabulary)])
    print(f"\n## valley draft: the seed article ({result['words']} words, {result['proposals']} proposals) "
          "against its hand-written records")  # fmt: skip
    print("\n".join(format_scores(result)))
    print(f"  time to draft: {result['seconds']:.3f} s the seed; {seconds:.3f} s {len(long_text.split())} words")
    with tempfile.TemporaryDirectory(prefix="valley-bench-draft-") as scratch:  # rules not written for it
        generated = score_source(write_source(Path(scratch), 0), vocabulary)
    unit, excluded = generated["scores"]["figures"]["value+unit"], generated["excluded"]
    print(
        f"  generated corpus source 0: figures value+unit precision {unit['precision']:.1f} recall "
        f"{unit['recall']:.1f} F1 {unit['f1']:.1f}; excluded rightly {excluded['right']} of {excluded['total']}"
    )


@contextmanager
def workspace(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="valley-bench-") as scratch:
        yield Path(scratch)


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    if arguments.stages:
        stages_main(arguments.stages, arguments.pairs_limit)
        return
    print_draft_scores()
    if arguments.draft:
        return
    sizes = [int(size) for size in arguments.sizes.replace("_", "").split(",") if size.strip()]
    print(f"valley bench: {os.cpu_count()} cores, sizes {sizes}, timeout {arguments.timeout:.0f} s per process")
    floor, commands = None, {}
    with workspace(arguments.keep) as scratch:
        if not (arguments.no_commands or arguments.stages_only):
            floor = measure_floor(arguments.repeat)
            print(f"\n## the article: whole commands against F = {floor.seconds:.1f} s ({FLOOR_IMPORTS})")
            article = scratch / "article"
            shutil.rmtree(article, ignore_errors=True)
            commands = measure_commands(copy_project(article), arguments.timeout, arguments.repeat)
            print_commands(commands, floor.seconds)
        corpus = ProjectPaths(scratch / "corpus")
        if sizes and not corpus.sources_dir.is_dir():
            copy_project(corpus.root)
        measured = [measure_size(corpus, size, arguments) for size in sizes]
    print("\n## for the README\n")
    print(markdown_tables(measured, floor, commands))


if __name__ == "__main__":
    main()
