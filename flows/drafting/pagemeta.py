"""An HTML page's main text (trafilatura) and its metadata, each fact with where it came from (htmldate: dates)."""

from __future__ import annotations

import re
from html import escape
from typing import Any

import lxml.html
import trafilatura
from htmldate import find_date

# meta tags that state a fact, in the order they are trusted
META_TAGS = {
    "title": ("og:title", "twitter:title", "title", "dc.title"),
    "site": ("og:site_name", "application-name", "publisher", "dc.publisher"),
    "author": ("author", "article:author", "dc.creator", "byl"),
}


def meta_value(tree: Any, names: tuple[str, ...]) -> tuple[str | None, str]:
    """The first of the named meta tags the page has, and which it was."""
    for name in names:
        for element in tree.iter("meta"):
            key = (element.get("property") or element.get("name") or "").lower()
            if key == name and (element.get("content") or "").strip():
                return element.get("content").strip(), f"meta tag {name}"
    return None, "unknown"


def page_date(html: str, url: str | None) -> tuple[str | None, str]:
    """The publication date by htmldate, and whether the URL, a meta tag or the text gave it. htmldate gets the
    HTML itself, never a URL to fetch."""
    if url:
        # htmldate reads a date in the URL only alongside markup: an empty page, so only the URL can give it
        from_url = find_date(f"<html><head><link rel='canonical' href='{escape(url, quote=True)}'></head></html>",
                             url=url, extensive_search=False, original_date=True)  # fmt: skip
        if from_url:
            return from_url, "the URL"
    marked = find_date(html, extensive_search=False, original_date=True)
    if marked:
        return marked, "a meta tag or the page's markup (htmldate)"
    found = find_date(html, extensive_search=True, original_date=True)
    return (found, "the text (htmldate)") if found else (None, "unknown")


def html_text_and_metadata(html: str, url: str | None) -> tuple[str, dict[str, tuple[Any, str]]]:
    """The main text, paragraphs separated by blank lines, and {fact: (value, where it came from)}."""
    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=False, deduplicate=False,
                               with_metadata=False, output_format="txt")  # fmt: skip
    paragraphs = [line.strip() for line in (text or "").splitlines() if line.strip()]
    tree = lxml.html.fromstring(html) if html.strip() else None
    metadata: dict[str, tuple[Any, str]] = {}
    found = trafilatura.extract_metadata(html, default_url=url)
    for key, names in META_TAGS.items():
        value, source = meta_value(tree, names) if tree is not None else (None, "unknown")
        if value is None and key == "title" and tree is not None and tree.findtext(".//title"):
            value, source = tree.findtext(".//title").strip(), "the title tag"
        fallback = getattr(found, {"site": "sitename"}.get(key, key), None) if found else None
        if value is None and fallback:
            value, source = fallback, "the text (trafilatura)"
        metadata[key] = (value, source)
    metadata["published_date"] = page_date(html, url)
    language = tree.get("lang") if tree is not None else None
    if language and re.match(r"^[a-z]{2}", language.lower()):
        metadata["language"] = (language.lower()[:2], "the html lang attribute")
    if url:
        metadata["url"] = (url, "the URL it was fetched from")
    elif found is not None and found.url:
        metadata["url"] = (found.url, "meta tag (canonical or og:url)")
    return "\n\n".join(paragraphs) + ("\n" if paragraphs else ""), metadata
