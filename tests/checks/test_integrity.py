import datetime as dt

import duckdb

from flows.checks.integrity import audit_freshness, audit_integrity, content_checksum, csv_rows
from flows.core.inputs import read_schemas
from flows.core.paths import ProjectPaths


def mismatches(paths: ProjectPaths) -> list[tuple[str, str, str, str]]:
    rows = audit_integrity(paths, read_schemas(paths.schemas_dir))
    return [(r["table"], r["key"], r["field"], r["detail"]) for r in rows if not r["matches"]]


def test_an_untouched_publish_matches_everywhere(published_copy: ProjectPaths) -> None:
    assert mismatches(published_copy) == []


def test_a_tampered_csv_is_named_with_hash_and_bytes(published_copy: ProjectPaths) -> None:
    figures = published_copy.data_dir / "figures.csv"
    size = figures.stat().st_size
    figures.write_text(figures.read_text(encoding="utf-8").replace(",1632,", ",16320,", 1), encoding="utf-8")
    found = mismatches(published_copy)
    assert [(t, k, f) for t, k, f, _ in found] == [
        ("figures", "datapackage/data/figures.csv", "hash"),
        ("figures", "datapackage/data/figures.csv", "bytes"),
        ("figures", "warehouse/valley.duckdb", "content_checksum"),
    ]
    assert found[1][3] == f"file {size + 1} bytes, descriptor {size}"


def test_a_tampered_warehouse_is_named_by_table(published_copy: ProjectPaths) -> None:
    connection = duckdb.connect(str(published_copy.warehouse))
    connection.execute("DELETE FROM slogans WHERE slogan_id = (SELECT min(slogan_id) FROM slogans)")
    connection.close()
    found = mismatches(published_copy)
    assert [(t, f) for t, _, f, _ in found] == [("slogans", "row_count"), ("slogans", "content_checksum")]
    assert found[0][3] == "warehouse 5 rows, data/slogans.csv 6"


def test_a_tampered_snapshot_fails_its_sha256(published_copy: ProjectPaths) -> None:
    snapshot = published_copy.sources_dir / "big-data-valley" / "article.txt"
    snapshot.write_text(snapshot.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert [(t, f) for t, _, f, _ in mismatches(published_copy)] == [("sources", "sha256")]


def test_content_checksum_reads_csv_and_typed_rows_alike(published_copy: ProjectPaths) -> None:
    connection = duckdb.connect(str(published_copy.warehouse), read_only=True)
    typed = connection.execute("SELECT * FROM figures ORDER BY figure_id").fetchall()
    connection.close()
    assert content_checksum(typed) == content_checksum(csv_rows(published_copy.data_dir / "figures.csv"))


def test_freshness_compares_the_last_publish_with_the_maximum_age() -> None:
    now = dt.datetime(2026, 11, 28, 12, 0)
    assert audit_freshness(now - dt.timedelta(hours=47), now, 48)[0]["matches"] is True
    stale = audit_freshness(now - dt.timedelta(hours=49), now, 48)[0]
    assert stale["matches"] is False and "49.0 h old, maximum 48 h" in stale["detail"]
    assert audit_freshness(None, now, 48)[0]["matches"] is False
