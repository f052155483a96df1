"""The release page treats a source's title and metadata as untrusted text: markup in them shows as text."""

import json

from flows.core.paths import PROJECT_DIR
from flows.publish.page import section_citation, section_table

HOSTILE = '<script>alert("x")</script><img src=x onerror="alert(1)">'
SOURCE = {"source_id": "hostile", "title": f"Title {HOSTILE}", "author": f"Author {HOSTILE}",
          "site": f"Site {HOSTILE}", "published_date": "2024-05-30", "published_note": HOSTILE,
          "captured_date": "2026-12-03", "sha256": "0" * 64, "url": f"https://example.org/?q={HOSTILE}"}  # fmt: skip


def assert_inert(page: str) -> None:
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;script&gt;" in page and "onerror=&quot;alert(1)&quot;" in page


def test_the_citation_shows_a_hostile_title_and_metadata_as_text() -> None:
    descriptor = json.loads((PROJECT_DIR / "datapackage" / "datapackage.json").read_text(encoding="utf-8"))
    page = section_citation(descriptor, [SOURCE])
    assert_inert(page)
    assert "Title &lt;script&gt;" in page and "Author &lt;script&gt;" in page


def test_the_sources_table_shows_hostile_cells_and_quotes_as_text() -> None:
    schema = json.loads((PROJECT_DIR / "datapackage" / "schemas" / "sources.json").read_text(encoding="utf-8"))
    row = {field["name"]: str(SOURCE.get(field["name"], "")) for field in schema["fields"]}
    page = section_table("sources", [{**row, "evidence_quote": HOSTILE}], schema)
    assert_inert(page)
    assert 'title="&lt;script&gt;' in page  # the quote shown on hover stays inside its attribute
