"""Progress on a terminal, quiet in a pipe and under CI; the run summary says what was reused and rebuilt."""

from __future__ import annotations

import io

import pytest

from flows.cli import source_lines
from flows.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_the_stage_and_each_tenth_of_the_sources_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    stream = Terminal()
    progress = Progress(stream)
    progress.stage("validate")
    for done in range(200, 2_001, 200):
        progress.extracted(done, 2_000)
    progress.extracted(2_000, 2_000)  # said once
    lines = stream.getvalue().splitlines()
    assert lines[0] == "valley run: validate" and lines[-1] == "valley run: extract 2,000 of 2,000 sources"
    assert len(lines) == 11


@pytest.mark.parametrize(("stream", "ci"), [(io.StringIO(), None), (Terminal(), "true")])
def test_progress_is_quiet_in_a_pipe_and_under_ci(
    monkeypatch: pytest.MonkeyPatch, stream: io.StringIO, ci: str | None
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    progress = Progress(stream)
    progress.stage("package")
    progress.extracted(10, 10)
    assert stream.getvalue() == ""


def test_the_summary_names_what_was_reused_and_why_each_source_was_extracted() -> None:
    sources = {
        "total": 10_001,
        "reused": 9_996,
        "rebuilt": {"a": "new", "b": "edited", "c": "kept rows damaged", "d": "edited", "e": "edited", "f": "edited"},
        "gone": ["old"],
    }
    assert source_lines(sources) == [
        "  sources:   10,001: 9,996 reused (kept rows), 6 extracted",
        "  extracted: 1 new: a",
        "  extracted: 4 edited: b, d, e and 1 more",
        "  extracted: 1 kept rows damaged: c",
        "  gone:      1 no longer there: old",
    ]
