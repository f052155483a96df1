"""Grade a staged package: frictionless errors and critical expectations block, warnings are shown."""

from __future__ import annotations

from dataclasses import dataclass, field

from flows.steps.errors import ValleyError
from flows.steps.expect import CheckResult


class ValidationFailed(ValleyError):
    """A blocking check failed: nothing was published."""


@dataclass
class ValidationReport:
    package_errors: list[str] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)

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
    def blocking(self) -> list[str]:
        return self.package_errors + [check.message for check in self.failed("critical")]

    @property
    def warnings(self) -> list[str]:
        return [check.message for check in self.failed("warning")]


def raise_if_blocking(report: ValidationReport) -> None:
    """Stop the run, listing every blocking failure, when any check that guards publishing failed."""
    blocking = report.blocking
    if blocking:
        listed = "\n".join(f"  - {line}" for line in blocking)
        raise ValidationFailed(f"{len(blocking)} blocking check(s) failed, nothing was published:\n{listed}")
