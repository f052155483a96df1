"""Data Docs for a run: the site GX's Checkpoint built (flows/checks/checkpoint.py) under a landing page of our own.

The landing page (run status, failures, warnings, info, findings, one row per suite) replaces GX's index, which lists
the same validation pages; every page loads only local files (docs_assets.MISSING_NOTE says what is left out).
"""

from __future__ import annotations

import html
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from flows.checks.docs_assets import MISSING_NOTE, copy_site_assets
from flows.report.findings import findings_html

_NOTE = f'<p class="container small text-muted my-3" id="offline-note">{html.escape(MISSING_NOTE)}</p>'


def suite_page(site: Path, name: str) -> str | None:
    """The validation page GX built for a suite, relative to the site (validations/<suite>/<run>/<time>/<batch>.html;
    a dot in a suite's name is a folder level), or None when there is none."""
    pages = sorted((site / "validations" / Path(*name.split("."))).glob("*/*/*.html"))
    return pages[-1].relative_to(site).as_posix() if pages else None


def render_index(document: dict[str, Any], suites: dict[str, tuple[int, int, str | None]]) -> str:
    """The landing page: run status, warnings, failures, findings, and one row per suite (passed, failed and its
    page, when GX built one)."""
    counts = document["checks"]

    def items(title: str, messages: list[str]) -> str:
        if not messages:
            return ""
        rows = "".join(f"<li>{html.escape(m)}</li>" for m in messages)
        return f'<h2 class="h4 mt-4">{title}</h2><ul class="{title.lower().replace(" ", "-")}">{rows}</ul>'

    def link(name: str, page: str | None) -> str:
        return f'<a href="{html.escape(page)}">{html.escape(name)}</a>' if page else html.escape(name)

    rows = "".join(
        f"<tr><td>{link(name, page)}</td><td>{passed}</td><td>{failed}</td></tr>"
        for name, (passed, failed, page) in sorted(suites.items())
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>valley Data Docs: {document["flow"]} {document["status"]}</title>
<link rel="stylesheet" href="static/vendor/bootstrap/css/bootstrap.min.css">
</head><body class="container my-4">
<h1 class="h3">valley Data Docs</h1>
<p id="status">Run {document["run_id"][:8]} ({document["flow"]}, finished {document["finished_at"]}):
<strong>{document["status"]}</strong>. {counts["passed"]} passed, {counts["warned"]} warned,
{counts["failed"]} failed, {counts["info"]} info. Published: {"yes" if document["published"] else "no"}.</p>
{items("Blocking failures", document["failures"])}{items("Warnings", document["warnings"])}
{items("Info", document["info"])}
{findings_html(document)}
<h2 class="h4 mt-4">Suites</h2>
<table class="table table-sm" id="suites"><thead><tr><th>suite</th><th>passed</th><th>failed</th></tr></thead>
<tbody>{rows}</tbody></table>
{_NOTE}
</body></html>
"""


def build_data_docs(
    site: Path | None, outcomes: dict[str, Any], document: dict[str, Any], target: Path, vendor: Path
) -> Path:
    """Take the GX site the validation built (`site`, moved whole; None: the landing page alone) into a fresh folder
    beside `target`, add the browser assets and the landing page, then swap it in; returns the landing page."""
    scratch = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    if site is not None and site.is_dir():
        shutil.move(site, scratch)  # a rename when the site sits on target's filesystem (the build folder)
    elif site is not None and target.is_dir():
        shutil.copytree(target, scratch)  # a retry: an earlier attempt already swapped this run's site in
    else:
        scratch.mkdir(parents=True)
    try:
        copy_site_assets(vendor, scratch / "static")
        suites = {}
        for name, outcome in outcomes.items():
            statistics = outcome.statistics
            passed, failed = statistics["successful_expectations"], statistics["unsuccessful_expectations"]
            suites[name] = (passed, failed, suite_page(scratch, name))
        (scratch / "index.html").write_text(render_index(document, suites), encoding="utf-8")  # replaces GX's index
    except BaseException:
        if site is not None and not site.exists():  # put the site back for a retry
            shutil.move(scratch, site)
        raise
    previous = target.with_name(f".{target.name}.{uuid.uuid4().hex}.old")
    if target.exists():
        os.replace(target, previous)
    os.replace(scratch, target)
    shutil.rmtree(previous, ignore_errors=True)
    return target / "index.html"
