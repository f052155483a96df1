"""The base of every error a user can cause: the CLI prints these as one paragraph, without a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class ValleyError(Exception):
    """An error in the input or a failed blocking check, with a message that says where and what."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as the input allows."""

    file: Path
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = str(self.file) + (f", line {self.line}" if self.line else "")
        return f"{where}" + (f", field '{self.field}'" if self.field else "") + f": {self.message}"


class InputError(ValleyError):
    """Raised with every problem found, so one run reports them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))
