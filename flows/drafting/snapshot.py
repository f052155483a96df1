"""`valley add`: snapshot a saved web page, a text file or a URL into datapackage/sources/<slug>/ with its origin."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from flows.core.errors import ValleyError
from flows.drafting.subjects import slug_of
from flows.sources.numbers import find_years

MAX_BYTES = 5_000_000  # a news page is well under a megabyte; more is a download gone wrong, or not a page
FETCH_TIMEOUT_SECONDS = 20.0
SNAPSHOT = "article.txt"
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"PK\x03\x04", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b")


class AddError(ValleyError):
    """A page `valley add` refuses: the message says which and why; nothing is left on disk."""


@dataclass
class Page:
    """What was read: the raw bytes, where from, and whether it is HTML."""

    data: bytes
    name: str
    url: str | None
    html: bool


def read_page(location: str) -> Page:
    """The bytes of a file, or of a URL (fetched only because the user gave one), within MAX_BYTES."""
    if re.match(r"https?://", location):
        return fetch_page(location)
    path = Path(location)
    if not path.is_file():
        raise AddError(f"{location}: no such file. Give a saved web page (.html), a text file or an http(s) URL.")
    if path.stat().st_size > MAX_BYTES:
        raise AddError(f"{location}: {path.stat().st_size} bytes, over the {MAX_BYTES}-byte limit for one page.")
    data = path.read_bytes()
    return Page(data, path.name, None, path.suffix.lower() in (".html", ".htm") or looks_like_html(data))


def fetch_page(url: str) -> Page:
    request = urllib.request.Request(url, headers={"User-Agent": "valley-add"})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:
            data = response.read(MAX_BYTES + 1)
            kind = response.headers.get_content_type()
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise AddError(f"{url}: unreachable ({reason}). Nothing was added; save the page and add the file.") from error
    if len(data) > MAX_BYTES:
        raise AddError(f"{url}: over the {MAX_BYTES}-byte limit for one page; nothing was added.")
    name = Path(urllib.request.url2pathname(url.split("?", 1)[0].rstrip("/"))).name or "index.html"
    return Page(data, name, url, kind == "text/html" or looks_like_html(data))


def looks_like_html(data: bytes) -> bool:
    head = data[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head or b"<p>" in head


def refuse_unreadable(page: Page) -> None:
    """Refuse an empty page and a binary file, each in one message."""
    if not page.data.strip():
        raise AddError(f"{page.name}: empty; nothing was added.")
    if page.data.startswith(_BINARY_MAGIC) or b"\x00" in page.data[:8192]:
        raise AddError(f"{page.name}: a binary file, not a web page or text; nothing was added.")


def page_text(page: Page) -> tuple[str, dict[str, Any]]:
    """The article text (paragraphs separated by blank lines) and its metadata, each with where it came from."""
    if page.html:
        from flows.drafting.pagemeta import html_text_and_metadata

        text, metadata = html_text_and_metadata(page.data.decode("utf-8", "replace"), page.url)
    else:
        try:
            decoded = page.data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise AddError(f"{page.name}: not UTF-8 text (byte {error.start}); nothing was added.") from error
        text = re.sub(r"\n{3,}", "\n\n", decoded.replace("\r\n", "\n").replace("\r", "\n")).strip() + "\n"
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        metadata = {"title": (first[:200], "text: its first line")}
    if not re.search(r"[A-Za-z]{3,}.*[.!?]", text or "", re.S):
        raise AddError(f"{page.name}: no article text found (no sentence to read); nothing was added.")
    return text, metadata


def origin_of(page: Page, text: str, metadata: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """origin.yaml: each fact with where it came from, or null with `unknown`; sha256 and bytes of the snapshot."""
    data = text.encode("utf-8")
    origin: dict[str, Any] = {"title": None}
    for key in ("title", "site", "author", "url", "published_date", "language"):
        value, source = metadata.get(key, (None, "unknown"))
        origin[key], origin[f"{key}_source"] = value, source
    if origin["url"] is None and page.url:
        origin["url"], origin["url_source"] = page.url, "the URL it was fetched from"
    origin["title"] = origin["title"] or page.name
    origin["language"] = origin["language"] or "en"
    years = [year for year in find_years(text) if 1949 <= year <= 2100] or [today.year]
    origin |= {"time_frame_start": min(years), "time_frame_end": max(years),
               "time_frame_note": "Proposed by `valley add`: the earliest and latest years the text names; review.",
               "snapshot": SNAPSHOT, "original_name": page.name, "captured_date": today.isoformat(),
               "page_sha256": hashlib.sha256(page.data).hexdigest(),
               "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}  # fmt: skip
    return origin


def refuse_duplicate(sources_dir: Path, origin: dict[str, Any]) -> None:
    """A page another source already has (the same snapshot, or the same page bytes) is refused, naming it."""
    for path in sorted(sources_dir.glob("*/origin.yaml")):
        other = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if origin["sha256"] == other.get("sha256") or origin["page_sha256"] == other.get("page_sha256"):
            raise AddError(f"already added: source {path.parent.name!r} has this snapshot; nothing was added.")


def add_source(sources_dir: Path, scratch: Path, location: str, slug: str | None, today: dt.date) -> Path:
    """Snapshot a page into sources_dir/<slug>/ (article.txt + origin.yaml), built aside and moved in whole."""
    page = read_page(location)
    refuse_unreadable(page)
    text, metadata = page_text(page)
    origin = origin_of(page, text, metadata, today)
    refuse_duplicate(sources_dir, origin)
    slug = slug or slug_of(str(origin["title"]))[:60].strip("-")
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug):
        raise AddError(f"--slug {slug!r}: use lower-case letters, digits and single hyphens; nothing was added.")
    folder = sources_dir / slug
    if folder.exists():
        raise AddError(f"{folder}: a source folder of that name exists; choose another --slug. Nothing was added.")
    scratch.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"add-{slug}-", dir=scratch))
    try:
        (building / SNAPSHOT).write_bytes(text.encode("utf-8"))
        header = "# Where the snapshot beside this file came from (`valley add`); unknown facts stay null.\n"
        dumped = yaml.safe_dump(origin, sort_keys=False, allow_unicode=True, width=110)
        (building / "origin.yaml").write_text(header + dumped, encoding="utf-8")
        shutil.move(str(building), folder)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return folder
