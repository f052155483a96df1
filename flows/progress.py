"""Progress of a long run on a terminal: the stage it is in and the sources extracted out of the total.

Quiet when stderr is not a terminal (a log, a pipe, a worker) and under CI, where a line per step is noise.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

STEPS = 10  # extraction is reported at most this many times (each tenth of the sources), and when done


def wanted(stream: TextIO) -> bool:
    return stream.isatty() and os.environ.get("CI", "").strip().lower() not in ("true", "1", "yes")


class Progress:
    """Lines like `valley run: extract 4,000 of 10,000 sources` on stderr, or nothing."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = wanted(self.stream)
        self.shown = -1
        self.done = 0  # sources extracted so far

    def say(self, text: str) -> None:
        if self.enabled:
            print(f"valley run: {text}", file=self.stream, flush=True)

    def stage(self, name: str) -> None:
        self.say(name)

    def extracted(self, done: int, total: int) -> None:
        """Called as extraction batches finish: a line each time another tenth is done (the last at the end)."""
        self.done = done
        step = done * STEPS // total if total else STEPS
        if step > self.shown:
            self.say(f"extract {done:,} of {total:,} sources")
            self.shown = step
