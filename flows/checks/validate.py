"""Grade a package: frictionless errors and critical expectations block, warnings are shown and kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.checks.expect import CheckResult, read_frames, validate_tables
from flows.checks.frictionless import validate_package
from flows.checks.locate import locate_checks
from flows.core.errors import ValleyError

Schema = dict[str, Any]
SEVERITY_ORDER = ("critical", "warning", "info")
# a row breaking its Table Schema is reported once, by the generated GX baseline (by key, in Data Docs and the
# history); frictionless checks the rest of the package: descriptor, structure, types, hashes and sizes
BASELINE_OWNS = ("constraint-error", "unique-error", "primary-key", "foreign-key")


class ValidationFailed(ValleyError):
    """A blocking check failed: nothing was published."""


@dataclass
class ValidationReport:
    package_errors: list[str] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    outcomes: dict[str, Any] = field(default_factory=dict)  # GX's result per suite, for Data Docs
    data_docs_site: Path | None = None  # the site the validation's GX Checkpoint built (flows/checks/checkpoint.py)

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


def check_package(
    package_dir: Path,
    schemas: dict[str, Schema],
    table_suites: Path,
    audit_suites: Path,
    frames: Any = None,
    site: Path | None = None,
    published_facts: Any = None,
) -> ValidationReport:
    """frictionless on the descriptor, then every suite on the tables (the CSVs unless frames are given), with GX's
    Data Docs built into `site` (None: none); `published_facts` adds the scheduled check's integrity and freshness."""
    package_errors = validate_package(package_dir / "datapackage.json", skip_errors=BASELINE_OWNS)
    frames = frames if frames is not None else read_frames(schemas, package_dir / "data")
    texts = read_snapshots(package_dir, frames["sources"])
    outcomes: dict[str, Any] = {}
    checks = validate_tables(frames, texts, schemas, table_suites, audit_suites, outcomes, site, published_facts)
    checks = locate_checks(package_dir, frames, schemas, checks)  # each failing row at its record's file and line
    return ValidationReport(package_errors, checks, outcomes, site)
