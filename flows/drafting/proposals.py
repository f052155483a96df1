"""Write drafted proposals into a source's records files beside what people reviewed, never over it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from flows.drafting.draft import PROPOSED, Proposal, draft_text, proposal_lines
from flows.sources.evidence import COVERING_SPANS
from flows.sources.extract import RECORDS_DIR, pending_proposals
from flows.sources.records import Record, load_records

__all__ = ["pending_proposals", "write_proposals"]
# where a proposed new measure waits: the run reads the shared vocabulary only, so a reviewer moves it there
MEASURES_PROPOSED = "measures.yaml"
# rows proposed only because a figure, target or recognition names them: written only while one does
REFERENCED = ("organizations", "measures")
HEADER = (
    "# Proposed by `valley draft`. Review each record: correct it, then delete its `status: proposed` line\n"
    "# (with `confidence` and `comment`), or delete the record. `valley draft` rewrites only records still\n"
    "# marked proposed; a reviewed record is never touched.\n"
)


def is_reviewed(record: Record) -> bool:
    return record.values.get("status") != PROPOSED


def reviewed_spans(records: list[Record], table: str, text: str) -> list[tuple[int, int]]:
    """Where in the text the reviewed records of a table account for numbers (their covering sub-spans)."""
    spans = []
    for record in records:
        quote = record.values.get("quote")
        if not isinstance(quote, str) or text.count(quote) != 1:
            continue
        offset = text.index(quote)
        for key in COVERING_SPANS.get(table, ()):
            part = record.values.get(key)
            if isinstance(part, str) and quote.count(part) == 1:
                start = offset + quote.index(part)
                spans.append((start, start + len(part)))
    return spans


def without_proposed(path: Path, records: list[Record]) -> str:
    """The file's text with every record still marked proposed cut out: reviewed records keep their exact text."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    starts = [record.line - 1 for record in records] + [len(lines)]
    drop: set[int] = set()
    for index, record in enumerate(records):
        if not is_reviewed(record):
            drop.update(range(starts[index], starts[index + 1]))
    return "".join(line for number, line in enumerate(lines) if number not in drop)


def write_proposals(folder: Path, text: str, proposals: list[Proposal], vocabulary: set[str]) -> dict[str, int]:
    """Merge proposals into folder/records/<table>.yaml: reviewed records stay as written, proposals whose number
    a reviewed record already accounts for (or whose id it holds) are left out. Returns proposals written by table."""
    records_dir = folder / RECORDS_DIR
    records_dir.mkdir(parents=True, exist_ok=True)
    tables = sorted({proposal.table for proposal in proposals} | {p.stem for p in records_dir.glob("*.yaml")})
    existing = {table: load_records(records_dir / f"{table}.yaml") for table in tables
                if (records_dir / f"{table}.yaml").is_file()}  # fmt: skip
    covered = [span for table, records in existing.items()
               for span in reviewed_spans([r for r in records if is_reviewed(r)], table, text)]  # fmt: skip
    kept_proposals = [p for p in proposals if p.table in REFERENCED or not overlaps(p, covered)]
    referenced = {str(p.record.get(key)) for p in kept_proposals for key in ("subject", "recipient", "measure")}
    proposals = [p for p in kept_proposals if p.table not in REFERENCED or p.record["id"] in referenced]
    written: dict[str, int] = {}
    for table in tables:
        path = records_dir / f"{table}.yaml"
        records = existing.get(table, [])
        taken = {str(r.values.get("id")) for r in records if is_reviewed(r)} | (
            vocabulary if table == "measures" else set()
        )
        fresh = [p.record for p in proposals if p.table == table and not overlaps(p, covered)]
        fresh = unique_ids([record for record in fresh if record["id"] not in taken], taken, table)
        kept = without_proposed(path, records) if path.is_file() else ""
        if not kept.strip() and not fresh:
            path.unlink(missing_ok=True)
            continue
        body = yaml.safe_dump(fresh, sort_keys=False, allow_unicode=True, width=1000) if fresh else ""
        prefix = kept if kept.strip() else HEADER
        path.write_text(prefix + ("\n" if prefix and not prefix.endswith("\n\n") and body else "") + body, "utf-8")
        written[table] = len(fresh)
    return written


def overlaps(proposal: Proposal, spans: list[tuple[int, int]]) -> bool:
    return any(start < proposal.end and proposal.start < end for start, end in spans)


def unique_ids(records: list[dict[str, Any]], taken: set[str], table: str) -> list[dict[str, Any]]:
    """Ids made unique within the table (-2, -3 ...); organizations and measures named twice are one row."""
    kept, seen = [], set(taken)
    for record in records:
        base = record["id"]
        if base in seen and table in ("organizations", "measures", "events"):
            continue
        number = 2
        while record["id"] in seen:
            record = {**record, "id": f"{base}-{number}"}
            number += 1
        seen.add(record["id"])
        kept.append(record)
    return kept


def vocabulary_of(vocabulary_path: Path) -> list[dict[str, Any]]:
    return [record.values for record in load_records(vocabulary_path)] if vocabulary_path.is_file() else []


def draft_folder(folder: Path, vocabulary_path: Path, review_dir: Path) -> list[str]:
    """`valley draft SLUG`: propose records for a source's snapshot, write them beside the reviewed ones, and
    write its review page. Returns the lines to print."""
    from flows.drafting.review import write_review_page
    from flows.sources.extract import read_source

    source = read_source(folder)
    vocabulary = vocabulary_of(vocabulary_path)
    proposals = draft_text(source.text, vocabulary)
    written = write_proposals(folder, source.text, proposals, {str(m.get("id")) for m in vocabulary})
    page = write_review_page(folder, vocabulary, review_dir)
    pending = pending_proposals(folder)
    tables = ", ".join(f"{table} {count}" for table, count in written.items() if count) or "none new"
    lines = [f"valley draft: {folder.name}: proposed {sum(written.values())} records ({tables})",
             f"  left to review: {sum(pending.values())} in " + (", ".join(pending) or "no file"),
             f"  review page: {page}"]  # fmt: skip
    if written.get(MEASURES_PROPOSED.removesuffix(".yaml")):
        lines.append(f"  new measures: review them in {RECORDS_DIR}/{MEASURES_PROPOSED}, then move them into "
                     f"{vocabulary_path.name} beside the source folders")  # fmt: skip
    return lines


def draft_json_lines(text: str, vocabulary_path: Path) -> list[str]:
    """`valley draft ... --format json`: the proposals as JSON Lines, nothing written."""
    import json

    return [
        json.dumps(line, ensure_ascii=False)
        for line in proposal_lines(draft_text(text, vocabulary_of(vocabulary_path)))
    ]
