"""`make bench`: time each stage on the real article, and the load and validation stages at scale.

Measurements, not assertions: the numbers are printed for people to compare across changes.
"""

from __future__ import annotations

import csv
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flows.steps.expect import read_frames, run_suites, suite_path, validate_tables, write_suites
from flows.steps.extract import extract_tables
from flows.steps.package import read_schemas, stage_package, validate_package
from flows.steps.paths import DEFAULT_PATHS
from flows.steps.validate import read_snapshots
from flows.steps.warehouse import build_warehouse

SCALED_ROWS = 100_000


def timed(label: str, action: Callable[[], Any], results: list[tuple[str, float]]) -> Any:
    start = time.perf_counter()
    value = action()
    results.append((label, time.perf_counter() - start))
    return value


def scale_figures(data_dir: Path, rows: int) -> None:
    """Repeat the figures rows under new ids until the table has `rows` rows (other tables unchanged)."""
    path = data_dir / "figures.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        header, *body = list(csv.reader(handle))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for index in range(rows):
            row = list(body[index % len(body)])
            row[0] = f"{row[0]}-{index}"
            row[header.index("same_as")] = ""
            writer.writerow(row)


def main() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    paths = DEFAULT_PATHS
    results: list[tuple[str, float]] = []
    schemas = read_schemas(paths.schemas_dir)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        tables = timed("extract (article)", lambda: extract_tables(paths.sources_dir), results)
        descriptor = timed("package (article)", lambda: stage_package(tables, paths, root), results)
        write_suites(schemas, paths.expectations_dir, root / "expectations")
        timed("frictionless validate (article)", lambda: validate_package(descriptor), results)
        data = descriptor.parent / "data"
        frames = read_frames(schemas, data)
        texts = read_snapshots(descriptor.parent, frames["sources"])
        suites = root / "expectations"
        timed(
            "GX suites (article)",
            lambda: validate_tables(frames, texts, schemas, suites, paths.expectations_dir),
            results,
        )
        timed(
            "warehouse build (article)",
            lambda: build_warehouse(schemas, data, paths.views_dir, root / "a.duckdb"),
            results,
        )
        scale_figures(data, SCALED_ROWS)
        label = f"{SCALED_ROWS:,} figures"
        timed(
            f"warehouse build ({label})",
            lambda: build_warehouse(schemas, data, paths.views_dir, root / "b.duckdb"),
            results,
        )
        scaled = read_frames({"figures": schemas["figures"]}, data)
        parameters = {
            "sources__source_id": ["big-data-valley"],
            "figures__figure_id": list(scaled["figures"]["figure_id"]),
            "organizations__organization_id": [row["organization_id"] for row in tables["organizations"]],
        }
        suite = {"figures": suite_path(suites, "figures")}
        timed(
            f"GX figures suite ({label})",
            lambda: run_suites(suite, scaled, {"figures": ["figure_id"]}, parameters),
            results,
        )
    width = max(len(label) for label, _ in results)
    for label, seconds in results:
        print(f"{label.ljust(width)}  {seconds:8.2f} s")


if __name__ == "__main__":
    main()
