"""The release's dataset page: static HTML with offline-rendered charts, tables, citation and validation status."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from flows.package.stage import file_digest
from flows.publish.series import series_views
from flows.report.findings import findings_html

Row = dict[str, str]
Schema = dict[str, Any]
PAGE_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1rem 2rem; color: #222; }
h1 { margin-bottom: .2rem; } .meta { color: #555; } code, pre { font-size: 13px; }
blockquote.citation { background: #f4f4f4; border-left: 4px solid #4c78a8; margin: 0; padding: .6rem 1rem; }
.status { border-radius: 4px; padding: .6rem 1rem; } .status-passed { background: #e3f4e1; }
.status-warned { background: #fff4d6; } .status-unknown, .status-failed { background: #fde2e1; }
.charts { display: flex; flex-wrap: wrap; gap: 2rem; } figure.chart { margin: 0; max-width: 560px; }
ul.provenance { font-size: 12px; color: #444; padding-left: 1.2rem; }
table { border-collapse: collapse; font-size: 12px; margin: .5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; max-width: 28rem; }
.scroll { overflow-x: auto; } pre { white-space: pre-wrap; }
th { background: #eee; } tr[title]:hover { background: #eef3fa; } summary { cursor: pointer; font-weight: 600; }
"""
# Vega writes a mark's `description` encoding as aria-label, before its role; axes and legends put the role first
MARK_DESCRIPTION = re.compile(r'aria-label="([^"]*)" role="graphics-symbol"')
LABELLED_MARK = re.compile(r'<(path|rect|circle)([^<>]*?aria-label="([^"]*)" role="graphics-symbol"[^<>]*?)/>')


def typed_rows(rows: list[Row], schema: Schema) -> list[dict[str, Any]]:
    """CSV text as chart data: numbers for integer and number fields, null for empty cells."""
    kinds = {field["name"]: field["type"] for field in schema["fields"]}

    def convert(name: str, text: str) -> Any:
        if text == "":
            return None
        if kinds.get(name) in ("integer", "year"):
            return int(text)
        return float(text) if kinds.get(name) == "number" else text

    return [{name: convert(name, text) for name, text in row.items()} for row in rows]


def render_chart(view: dict[str, Any], tables: dict[str, list[Row]], schemas: dict[str, Schema]) -> str:
    """The view's Vega-Lite spec as SVG, its named data filled from the release's rows; no network is allowed."""
    import vl_convert

    datasets = {name: typed_rows(tables[name], schemas[name]) for name in view["resources"]}
    svg = str(vl_convert.vegalite_to_svg({**view["spec"], "datasets": datasets}, allowed_base_urls=[]))
    svg = re.sub(r'id="([^"]+)"', rf'id="{view["name"]}-\1"', svg)  # several charts share one page
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{view['name']}-\1)", svg)
    # a <title> child is what browsers show on hover; Vega writes each mark's description as aria-label only
    return LABELLED_MARK.sub(r"<\1\2><title>\3</title></\1>", svg)


def chart_provenance(svg: str) -> list[str]:
    """The distinct descriptions of a chart's marks, in drawing order: the quotes its figures rest on."""
    return list(dict.fromkeys(html.unescape(match.group(1)) for match in MARK_DESCRIPTION.finditer(svg)))


def format_citation(descriptor: dict[str, Any], source: Row) -> str:
    published = source.get("published_date") or "date not stated"
    site = source.get("site") or "publisher not stated"
    return (
        f"{descriptor['title']}, version {descriptor['version']} [data package]. Extracted from "
        f"“{source['title']}” by {source.get('author') or 'an unnamed author'} ({site}, {published}). "
        f"Tables licensed {', '.join(license['name'] for license in descriptor.get('licenses', []))}."
    )


def format_package_readme(descriptor: dict[str, Any], sources: list[Row]) -> str:
    """The README.md inside the release zip: what it is, how to cite and check it, what it leaves out."""
    lines = [f"# {descriptor['title']}", "", f"Version {descriptor['version']}.", "", descriptor["description"], ""]
    lines += ["## Cite", ""] + [format_citation(descriptor, source) for source in sources] + [""]
    lines += [
        "## Contents",
        "",
        "- `datapackage.json`: the Frictionless Data Package descriptor (with each CSV's sha256 `hash` and `bytes`)",
        "- `schemas/*.json`: one Table Schema per table",
        "- `data/*.csv`: the tables; `data/*.parquet`: the same rows, typed, one Parquet file per table",
        "- `SHA256SUMS`: check every file with `sha256sum -c SHA256SUMS`",
        "",
        "The article the data is extracted from is not included: its copyright stays with its publisher. The",
        "`sources` table gives its sha256, which identifies the exact text every quote was checked against.",
    ]
    return "\n".join(lines) + "\n"


def section_downloads(folder: Path, version: str) -> str:
    items = []
    described = {
        f"valley-{version}.zip": "the data package: descriptor, Table Schemas, CSVs, Parquet copies, SHA256SUMS",
        f"valley-{version}.duckdb": "the DuckDB warehouse (DuckDB 1.x or later): every table, with keys and comments",
        "changes.json": "the data diff against the previous release, machine-readable",
    }
    for name, what in described.items():
        path = folder / name
        if path.is_file():
            size = f"{path.stat().st_size / 1000:,.0f} kB"
            items.append(
                f'<li><a href="{name}">{name}</a>: {what} ({size}, sha256 <code>{file_digest(path)}</code>)</li>'
            )
    items.append('<li><a href="SHA256SUMS">SHA256SUMS</a>: checksums of every file in this release</li>')
    return f'<section id="downloads"><h2>Download</h2><ul>{"".join(items)}</ul></section>'


def section_citation(descriptor: dict[str, Any], sources: list[Row]) -> str:
    parts = ['<section id="citation"><h2>Source and citation</h2>']
    for source in sources:
        details = {
            "Title": source.get("title"),
            "Author": source.get("author") or "not stated",
            "Site": source.get("site") or "not stated in the snapshot",
            "Published": source.get("published_date") or source.get("published_note") or "not stated",
            "Captured": source.get("captured_date"),
            "Snapshot sha256": source.get("sha256"),
        }
        parts.append(
            "<dl>" + "".join(f"<dt>{k}</dt><dd>{html.escape(str(v))}</dd>" for k, v in details.items()) + "</dl>"
        )
        parts.append(f'<blockquote class="citation">{html.escape(format_citation(descriptor, source))}</blockquote>')
    parts.append(
        "<p>The article text is not part of this release: its copyright stays with its publisher. Every value "
        "below rests on a short verbatim quote from it.</p></section>"
    )
    return "".join(parts)


def describe_sources(sources: list[Row]) -> str:
    """Every source the package is extracted from, in one line: “title” (site, date)."""
    named = [
        f"“{source.get('title')}” ({source.get('site') or 'site not stated'}, "
        f"{source.get('published_date') or 'date not stated'})"
        for source in sources
    ]
    return f"Extracted from {len(named)} source{'' if len(named) == 1 else 's'}: " + "; ".join(named) + "."


def section_header(descriptor: dict[str, Any], sources: list[Row]) -> str:
    licenses = ", ".join(html.escape(item.get("title", item["name"])) for item in descriptor.get("licenses", []))
    return (
        f"<header><h1>{html.escape(descriptor['title'])}</h1>"
        f"<p class='meta'>Version {html.escape(descriptor['version'])} · {licenses} · "
        '<a href="#downloads">Download</a> · <a href="#citation">Cite</a></p>'
        f"<p>{html.escape(descriptor['description'])}</p>"
        f"<p class='sources'>{html.escape(describe_sources(sources))}</p>"
        f"<p class='meta'>Keywords: {html.escape(', '.join(descriptor.get('keywords', [])))}</p></header>"
    )


def section_changes(changelog_entry: str) -> str:
    """The release's CHANGES.md entry rendered (CommonMark, raw HTML escaped), its headings under this section's."""
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark", {"html": False}).render(changelog_entry)
    rendered = re.sub(r"<(/?)h([1-5])>", lambda m: f"<{m[1]}h{int(m[2]) + 1}>", rendered)
    return f'<section id="changes"><h2>Changes</h2>{rendered}</section>'


def section_validation(report: dict[str, Any] | None) -> str:
    if report is None:
        body, status = "<p>validation report not available</p>", "unknown"
    else:
        checks = report.get("checks", {})
        warnings = [str(message) for message in report.get("warnings", [])]
        status = "failed" if checks.get("failed") else "warned" if warnings or checks.get("warned") else "passed"
        if "finding_counts" in report:  # a report that classifies its findings: only new warnings warn
            status = str(report.get("status", status))
        body = (
            f"<p>{checks.get('passed', 0)} passed, {checks.get('warned', 0)} warned, {checks.get('failed', 0)} failed"
            " (frictionless and Great Expectations checks of the run that published this package).</p>"
        )
        if warnings:
            body += '<ul class="warnings">' + "".join(f"<li>{html.escape(w)}</li>" for w in warnings) + "</ul>"
        # new, accepted and resolved findings of that run; the accepted ones, reviewed already, folded
        body += findings_html(report, "h3", folded=("accepted",))
    return (
        f'<section id="validation" class="status status-{status}"><h2>Validation: {status}</h2>'
        "<p>Released only from a published package whose every blocking check passed; hashes and warehouse row "
        f"counts were verified again at release time.</p>{body}</section>"
    )


def section_charts(charts: dict[str, tuple[dict[str, Any], str]]) -> str:
    figures = []
    for name, (view, svg) in charts.items():
        quotes = "".join(f"<li>{html.escape(quote)}</li>" for quote in chart_provenance(svg))
        figures.append(
            f'<figure class="chart" id="chart-{html.escape(name)}"><figcaption><strong>{html.escape(view["title"])}'
            f"</strong><br>{html.escape(view.get('description', ''))}</figcaption>{svg}"
            "<p>Hover a mark for its quote; the figures drawn, each with its quote:</p>"
            f'<ul class="provenance">{quotes}</ul>'
            "</figure>"
        )
    return f'<section id="charts"><h2>Charts</h2><div class="charts">{"".join(figures)}</div></section>'


def section_table(name: str, rows: list[Row], schema: Schema) -> str:
    fields = schema["fields"]
    schema_rows = "".join(
        f"<tr><td><code>{f['name']}</code></td><td>{f['type']}</td>"
        f"<td>{'yes' if f.get('constraints', {}).get('required') else ''}</td>"
        f"<td>{html.escape(f.get('description', ''))}</td></tr>"
        for f in fields
    )
    header = "".join(f"<th>{html.escape(f['name'])}</th>" for f in fields)
    body = []
    for row in rows:
        # every row that rests on a quote shows it on hover as well as in its evidence_quote column
        quote = f' title="{html.escape(row["evidence_quote"])}"' if row.get("evidence_quote") else ""
        cells = "".join(f"<td>{html.escape(row.get(f['name'], ''))}</td>" for f in fields)
        body.append(f"<tr{quote}>{cells}</tr>")
    key = ", ".join(schema["primaryKey"])
    return (
        f'<section class="table" id="table-{name}"><h3>{name}</h3>'
        f"<p>{html.escape(schema.get('description', ''))} {len(rows)} rows; primary key <code>{key}</code>.</p>"
        "<details><summary>Schema</summary><div class='scroll'><table class='schema'>"
        "<tr><th>field</th><th>type</th><th>required</th>"
        f"<th>description</th></tr>{schema_rows}</table></div></details>"
        f"<details{' open' if name == 'figures' else ''}><summary>Rows</summary>"
        f"<div class='scroll'><table class='rows'><tr>{header}</tr>{''.join(body)}</table></div></details></section>"
    )


def write_page(
    folder: Path,
    descriptor: dict[str, Any],
    schemas: dict[str, Schema],
    tables: dict[str, list[Row]],
    report: dict[str, Any] | None,
    changelog_entry: str,
) -> Path:
    """Render every Vega-Lite view to charts/<name>.svg and write index.html beside the release's files."""
    charts = {}
    (folder / "charts").mkdir(exist_ok=True)
    series = series_views(folder / f"valley-{descriptor['version']}.duckdb")  # each measure from every source
    for view in [*descriptor.get("views", []), *series]:
        if view.get("specType") == "vega-lite":
            svg = render_chart(view, tables, schemas)
            (folder / "charts" / f"{view['name']}.svg").write_text(svg, encoding="utf-8")
            charts[view["name"]] = (view, svg)
    sources = tables.get("sources", [])
    # the data first (charts, then tables), then how it was checked, what changed, how to get and cite it;
    # a new section is one more entry here
    sections = [
        section_header(descriptor, sources),
        section_charts(charts),
        '<section id="tables"><h2>Tables</h2>',
        *(section_table(name, tables[name], schema) for name, schema in schemas.items()),
        "</section>",
        section_validation(report),
        section_changes(changelog_entry),
        section_downloads(folder, descriptor["version"]),
        section_citation(descriptor, sources),
    ]
    title, version = html.escape(descriptor["title"]), html.escape(descriptor["version"])
    summary = html.escape(f"{descriptor['description']} {describe_sources(sources)}", quote=True)
    page = (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title} {version}</title>'
        f'<meta name="description" content="{summary}">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{PAGE_STYLE}</style></head>'
        f"<body>{''.join(sections)}</body></html>\n"
    )
    (folder / "index.html").write_text(page, encoding="utf-8")
    return folder / "index.html"
