"""GX Data Docs for a run, readable offline: GX renders each suite's result, CDN links point to local copies.

Assets no XStatic package ships are left out of the pages, with a one-line note (docs_assets.MISSING_NOTE).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from flows.steps.docs_assets import (
    CDN_ASSETS,
    MISSING_NOTE,
    VENDORED,
    copy_assets,
    is_complete,
    local_path,
    package_folder,
)
from flows.steps.findings import findings_html

_URL = r"""(["'])(?:https?:)?//[^"']*\1"""
_EXTERNAL_SCRIPT = re.compile(rf"<script\b[^>]*\bsrc={_URL}[^>]*>\s*</script>\s*", re.IGNORECASE)
_EXTERNAL_LINK = re.compile(rf"<link\b[^>]*\bhref={_URL}[^>]*>\s*", re.IGNORECASE)
_EXTERNAL = re.compile(r"""(src|href|action)=(["'])((?:https?:)?//[^"']*)\2""", re.IGNORECASE)
_EXTERNAL_CSS = re.compile(r"""url\(\s*(["']?)(?:https?:)?//[^"')]*\1\s*\)""", re.IGNORECASE)  # the dark logo
# GX's subresource-integrity hashes are for its CDN files, not for the XStatic copies
_INTEGRITY = re.compile(r"""\s(?:integrity|crossorigin)=(["'])[^"']*\1""", re.IGNORECASE)
_NOTE = f'<p class="container small text-muted my-3" id="offline-note">{html.escape(MISSING_NOTE)}</p>'
_SITE_LINKS = {
    '"../../../../index.html"': '"../index.html"',
    '"../../../static/': '"../static/',
    '"../../../../expectations/': '"#',  # suite pages are not built; the validation page shows each suite
}
_GX_LOGO = re.compile(r"https://great-expectations-web-assets\.s3[^\"']*/logo-long\.png[^\"']*")


def localize(page: str, vendor_prefix: str) -> str:
    """Point CDN assets at the local vendor folder, drop the scripts and stylesheets no package ships (saying so
    in one line), and every other external address (logo, newsletter)."""
    for url in CDN_ASSETS:
        page = page.replace(f'"{url}"', f'"{vendor_prefix}{local_path(url)}"')
    page = _INTEGRITY.sub("", page)
    page = _EXTERNAL_LINK.sub("", _EXTERNAL_SCRIPT.sub("", page))
    for old, new in _SITE_LINKS.items():
        page = page.replace(old, new)
    page = _GX_LOGO.sub("../static/images/logo-long.png", page)
    page = _EXTERNAL.sub(lambda m: f"{m[1]}={m[2]}#{m[2]}", _EXTERNAL_CSS.sub("none", page))
    return page.replace("</body>", f"{_NOTE}\n</body>", 1)


def render_suite_page(outcome: Any) -> str:
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    return str(DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(outcome)))


def render_index(document: dict[str, Any], suites: dict[str, tuple[int, int]]) -> str:
    """The landing page: run status, warnings, failures, and one row per suite linking to its page."""
    counts = document["checks"]

    def items(title: str, messages: list[str]) -> str:
        if not messages:
            return ""
        rows = "".join(f"<li>{html.escape(m)}</li>" for m in messages)
        return f'<h2 class="h4 mt-4">{title}</h2><ul class="{title.lower().replace(" ", "-")}">{rows}</ul>'

    rows = "".join(
        f'<tr><td><a href="validations/{name}.html">{html.escape(name)}</a></td><td>{passed}</td><td>{failed}</td></tr>'
        for name, (passed, failed) in sorted(suites.items())
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>valley Data Docs: {document["flow"]} {document["status"]}</title>
<link rel="stylesheet" href="static/vendor/{local_path("https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css")}">
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


def build_data_docs(outcomes: dict[str, Any], document: dict[str, Any], target: Path, vendor: Path) -> Path:
    """Write the docs into a fresh folder beside `target`, then swap it in; returns the index page."""
    import great_expectations.render.view as gx_view

    scratch = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    (scratch / "validations").mkdir(parents=True)
    shutil.copytree(Path(gx_view.__file__).parent / "static", scratch / "static")
    if not is_complete(vendor):
        copy_assets(vendor)
    for name in VENDORED:  # this version's folders only, not older ones or another run's scratch
        shutil.copytree(vendor / package_folder(name), scratch / "static" / "vendor" / package_folder(name))
    suites = {}
    for name, outcome in outcomes.items():
        page = localize(render_suite_page(outcome), "../static/vendor/")
        (scratch / "validations" / f"{name}.html").write_text(page, encoding="utf-8")
        statistics = outcome.statistics
        suites[name] = (statistics["successful_expectations"], statistics["unsuccessful_expectations"])
    (scratch / "index.html").write_text(render_index(document, suites), encoding="utf-8")
    previous = target.with_name(f".{target.name}.{uuid.uuid4().hex}.old")
    if target.exists():
        os.replace(target, previous)
    os.replace(scratch, target)
    shutil.rmtree(previous, ignore_errors=True)
    return target / "index.html"
