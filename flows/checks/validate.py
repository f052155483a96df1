"""Grade a package: frictionless errors and critical expectations block, warnings are shown and kept."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.checks.audit import FACT_TABLES, FactsText, source_facts, typed_rows
from flows.checks.expect import CheckResult, read_frames, validate_tables
from flows.checks.frictionless import validate_new_rows, validate_package
from flows.checks.locate import locate_checks
from flows.core.errors import ValleyError
from flows.core.memory import collector_paused
from flows.core.paths import PROJECT_DIR
from flows.package.kept import read_kept_payload, remove_gone, write_kept
from flows.package.keys import chain, digest_files

Schema = dict[str, Any]
SEVERITY_ORDER = ("critical", "warning", "info")
# a row breaking its Table Schema is reported once, by the generated GX baseline (by key, in Data Docs and the
# history); frictionless checks the rest of the package: descriptor, structure, types, hashes and sizes
BASELINE_OWNS = ("constraint-error", "unique-error", "primary-key", "foreign-key")


FACTS_FORMAT = "valley-kept-facts/1"
FACTS_CODE = ("flows/checks/audit.py",)  # what a source's facts depend on beyond its rows and extraction's code


@dataclass
class SourceRows:
    """Each source's rows as the flow extracted or kept them, so validation redoes only what a changed source
    decides: its facts (flows/checks/audit.py) are kept beside its rows, and frictionless reads only rows that no
    publish has passed yet. Rules across sources still run over every row, so the findings are a full run's."""

    lines: Mapping[str, Mapping[str, Any]]  # source id -> its tables' (key, CSV line) pairs, in folder order
    keys: Mapping[str, str]  # source id -> content key (flows/package/kept.py)
    kept_dir: Path  # where each source's facts are kept
    reused: set[str] = field(default_factory=set)  # sources whose kept rows were used: their kept facts may be too
    unchecked: set[str] | None = None  # sources whose rows frictionless has not passed in a publish (None: all)


class ValidationFailed(ValleyError):
    """A blocking check failed: nothing was published."""


@dataclass
class ValidationReport:
    package_errors: list[str] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    outcomes: dict[str, Any] = field(default_factory=dict)  # GX's result per suite, for Data Docs
    data_docs_site: Path | None = None  # the site the validation's GX Checkpoint built (flows/checks/checkpoint.py)
    # what a validation by source redid and reused: facts made and kept, and the sources frictionless read
    work: dict[str, int] = field(default_factory=dict)

    def failed(self, severity: str) -> list[CheckResult]:
        return [check for check in self.checks if not check.success and check.severity == severity]

    @property
    def counts(self) -> dict[str, int]:
        return {
            "passed": sum(check.success for check in self.checks),
            "failed": len(self.failed("critical")) + len(self.package_errors),
            "warned": len(self.failed("warning")),
            "info": len(self.failed("info")),
        }

    @property
    def worst_severity(self) -> str | None:
        if self.package_errors:
            return "critical"
        return next((severity for severity in SEVERITY_ORDER if self.failed(severity)), None)

    @property
    def blocking(self) -> list[str]:
        return self.package_errors + [check.message for check in self.failed("critical")]

    @property
    def warnings(self) -> list[str]:
        return [check.message for check in self.failed("warning")]


def raise_if_blocking(report: ValidationReport, consequence: str = "nothing was published") -> None:
    """Stop the run, listing every blocking failure, when any check that guards publishing failed."""
    blocking = report.blocking
    if blocking:
        listed = "\n".join(f"  - {line}" for line in blocking)
        raise ValidationFailed(f"{len(blocking)} blocking check(s) failed, {consequence}:\n{listed}")


def read_snapshots(package_dir: Path, sources: Any) -> dict[str, str]:
    """Each source's snapshot text, by source_id, from the package folder the sources table describes."""
    texts = {}
    for source_id, snapshot in zip(sources["source_id"], sources["snapshot_path"], strict=True):
        path = package_dir / snapshot
        texts[source_id] = path.read_text(encoding="utf-8") if path.is_file() else ""
    return texts


def facts_fingerprint() -> str:
    return digest_files([PROJECT_DIR / part for part in FACTS_CODE], PROJECT_DIR)


def gather_facts(
    package_dir: Path, sources: SourceRows, schemas: dict[str, Schema]
) -> tuple[dict[str, FactsText], int]:
    """Every source's facts in folder order, and how many were made: kept ones where the source's rows were reused
    and its kept facts hold (whole, same content key and facts code), the others made from its rows and snapshot
    and kept."""
    fingerprint, facts_dir = facts_fingerprint(), sources.kept_dir
    facts_dir.mkdir(parents=True, exist_ok=True)
    gathered = {name: FactsText() for name in FACT_TABLES}
    made = 0
    with collector_paused():  # facts made and read for every source: long-lived, free of cycles
        for source_id, lines in sources.lines.items():
            key, path = chain(sources.keys[source_id], fingerprint), facts_dir / f"{source_id}.json"
            facts, _ = (
                read_kept_payload(path, source_id, key, FACTS_FORMAT) if source_id in sources.reused else (None, "")
            )
            if not (isinstance(facts, dict) and all(isinstance(facts.get(name), str) for name in FACT_TABLES)):
                snapshot = package_dir / typed_rows(lines["sources"], schemas["sources"])[0]["snapshot_path"]
                text = snapshot.read_text(encoding="utf-8") if snapshot.is_file() else ""
                facts = source_facts(source_id, lines, text, schemas)
                write_kept(path, source_id, key, facts, FACTS_FORMAT)
                made += 1
            for name in FACT_TABLES:
                gathered[name].append(facts[name])
    remove_gone(facts_dir, sources.lines)
    return gathered, made


def check_package(
    package_dir: Path,
    schemas: dict[str, Schema],
    table_suites: Path,
    audit_suites: Path,
    frames: Any = None,
    site: Path | None = None,
    published_facts: Any = None,
    sources: SourceRows | None = None,
) -> ValidationReport:
    """frictionless on the descriptor, then every suite on the tables (the CSVs unless frames are given), with GX's
    Data Docs built into `site` (None: none); `published_facts` adds the scheduled check's integrity and freshness.
    With `sources` (the flow's rows by source), each source's facts are kept and frictionless reads new rows only."""
    descriptor, work = package_dir / "datapackage.json", {}
    if sources is not None and sources.unchecked is not None:
        new_rows = [sources.lines[source_id] for source_id in sources.lines if source_id in sources.unchecked]
        package_errors = validate_new_rows(descriptor, new_rows, skip_errors=BASELINE_OWNS)
        work["rows_read"] = len(new_rows)
    else:
        package_errors = validate_package(descriptor, skip_errors=BASELINE_OWNS)
    frames = frames if frames is not None else read_frames(schemas, package_dir / "data")
    if sources is not None:
        (facts, made), texts = gather_facts(package_dir, sources, schemas), {}
        work |= {"facts_made": made, "facts_reused": len(sources.lines) - made}
    else:
        texts, facts = read_snapshots(package_dir, frames["sources"]), None
    outcomes: dict[str, Any] = {}
    checks = validate_tables(
        frames, texts, schemas, table_suites, audit_suites, outcomes, site, published_facts, facts=facts
    )
    checks = locate_checks(package_dir, frames, schemas, checks)  # each failing row at its record's file and line
    return ValidationReport(package_errors, checks, outcomes, site, work)
