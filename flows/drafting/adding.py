"""The `valley add` and `valley draft` commands: snapshot, draft, and the lines they print."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from flows.core.errors import ValleyError
from flows.core.paths import ProjectPaths
from flows.drafting.proposals import draft_folder, draft_json_lines
from flows.drafting.snapshot import add_source


def add_and_draft(paths: ProjectPaths, location: str, slug: str | None) -> list[str]:
    """Snapshot the page into a new source folder, then draft it; if drafting fails, the folder goes too."""
    folder = add_source(paths.sources_dir, paths.build_dir, location, slug, dt.datetime.now(dt.UTC).date())
    try:
        lines = draft_folder(folder, paths.sources_dir / "measures.yaml", paths.build_dir / "review")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return [f"valley add: {folder.relative_to(paths.root)} (article.txt, origin.yaml)", *lines]


def draft_command(paths: ProjectPaths, slug: str | None, text: Path | None, output: str) -> list[str]:
    """`valley draft SLUG [--format json]` or `valley draft --text FILE --format json`."""
    vocabulary = paths.sources_dir / "measures.yaml"
    if text is not None:
        if output != "json" or slug:
            raise ValleyError("valley draft --text FILE prints proposals only: use --format json and no SLUG")
        try:
            content = text.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ValleyError(f"{text}: cannot read as UTF-8 text ({error})") from error
        return draft_json_lines(content, vocabulary)
    if not slug:
        raise ValleyError("valley draft needs a SLUG (a folder under datapackage/sources/) or --text FILE")
    folder = paths.sources_dir / slug
    if not (folder / "origin.yaml").is_file():
        raise ValleyError(f"{folder}: no such source (no origin.yaml); `valley add` creates one")
    if output == "json":
        return draft_json_lines((folder / "article.txt").read_text(encoding="utf-8"), vocabulary)
    return draft_folder(folder, vocabulary, paths.build_dir / "review")
