"""`valley publish` used as a remote user would: the published folder served over HTTP (with range requests) on
127.0.0.1, read by the frictionless CLI, a DuckDB 1.x client with PyPI's httpfs extension, pandas and feedparser."""

import csv
import datetime as dt
import hashlib
import http.server
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pandas
import pytest

from flows.core.paths import ProjectPaths
from flows.publish.release import cut_release

BIN = Path(sys.executable).parent
DUCKDB1_LOCK = Path(__file__).with_name("duckdb1_client.lock")
# the remote user's side: DuckDB 1.x loads the httpfs extension file PyPI's package ships (no download), reads a
# table's Parquet by URL and attaches the DuckDB file by URL, read-only
DUCKDB1_CLIENT = """
import json, pathlib, sys
import duckdb, duckdb_extension_httpfs
base, table = sys.argv[1], sys.argv[2]
extension = next(pathlib.Path(duckdb_extension_httpfs.__file__).parent.rglob("httpfs.duckdb_extension"))
connection = duckdb.connect(config={"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"})
connection.execute(f"LOAD '{extension}'")
parquet = connection.execute(f"SELECT * FROM read_parquet('{base}/data/{table}.parquet')").fetchall()
connection.execute(f"ATTACH '{base}/valley.duckdb' AS remote (READ_ONLY)")
attached = connection.execute(f"SELECT * FROM remote.{table}").fetchall()
block_size = connection.execute("SELECT block_size FROM pragma_database_size() WHERE database_name = 'remote'").fetchone()
series = connection.execute("SELECT count(*) FROM remote.measure_series").fetchone()
try:
    connection.execute("CREATE TABLE remote.written (a INTEGER)")
    refused = None
except duckdb.Error as error:
    refused = str(error)
print(json.dumps({"version": duckdb.__version__, "parquet": len(parquet), "attached": len(attached),
                  "same_rows": sorted(map(repr, parquet)) == sorted(map(repr, attached)), "write_refused": refused,
                  "block_size": block_size[0], "series": series[0]}))
"""


class RangeRequestHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with single byte ranges (206, Content-Range), as a web server or object store answers."""

    requests: list[tuple[str, str | None]]

    def log_message(self, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self.serve(body=False)

    def do_GET(self) -> None:
        self.serve(body=True)

    def serve(self, body: bool) -> None:
        self.requests.append((self.path, self.headers.get("Range")))
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start, end, status = 0, len(data) - 1, 200
        wanted = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range") or "")
        if wanted and (wanted[1] or wanted[2]):
            start = int(wanted[1]) if wanted[1] else max(len(data) - int(wanted[2]), 0)
            end = min(int(wanted[2]), end) if wanted[1] and wanted[2] else end
            status = 206
        self.send_response(status)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Last-Modified", self.date_time_string(int(path.stat().st_mtime)))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.end_headers()
        if body:
            self.wfile.write(data[start : end + 1])


@pytest.fixture(scope="module")
def serve() -> Iterator[Any]:
    """Start a server on 127.0.0.1 for a folder; returns its base URL and the (path, Range) requests it saw."""
    servers = []

    def start(folder: Path) -> tuple[str, list[tuple[str, str | None]]]:
        requests: list[tuple[str, str | None]] = []
        handler = type("Handler", (RangeRequestHandler,), {"requests": requests})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: handler(*a, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", requests

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def set_version(paths: ProjectPaths, version: str) -> None:
    descriptor = json.loads(paths.descriptor.read_text(encoding="utf-8"))
    paths.descriptor.write_text(json.dumps({**descriptor, "version": version}, indent=2) + "\n", encoding="utf-8")


def valley_publish(paths: ProjectPaths, *arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [str(BIN / "valley"), "--project", str(paths.root), "publish", *arguments],
        capture_output=True, text=True, timeout=120, env={**os.environ, **environment},
    )  # fmt: skip


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return bytes(response.read())


@pytest.fixture(scope="module")
def site(published: ProjectPaths, tmp_path_factory: pytest.TempPathFactory, serve: Any) -> Any:
    """A published project released as 0.1.0 and published with `valley publish` to dist/public, served."""
    paths = ProjectPaths(tmp_path_factory.mktemp("distribute") / "project")
    shutil.copytree(published.root, paths.root, symlinks=True)
    set_version(paths, "0.1.0")
    cut_release(paths, today=dt.date(2026, 11, 1))
    completed = valley_publish(paths)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith(f"valley publish: 0.1.0 published to {paths.dist_dir / 'public'}\n")
    assert "releases.json (1 version)," in completed.stdout
    base, requests = serve(paths.dist_dir / "public")
    return paths, base, requests


def test_frictionless_validates_the_published_descriptor_by_its_url(site: Any) -> None:
    paths, base, requests = site
    for folder in ("v0.1.0", "latest"):
        validated = subprocess.run(
            [str(BIN / "frictionless"), "validate", "--json", f"{base}/{folder}/datapackage.json"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        report = json.loads(validated.stdout)
        assert validated.returncode == 0 and report["valid"] and report["warnings"] == [], validated.stdout[:2000]
        resources = json.loads(paths.descriptor.read_text(encoding="utf-8"))["resources"]
        assert [task["name"] for task in report["tasks"]] == [r["name"] for r in resources]
        # every path resolved from the descriptor's address: each table and its schema fetched from the server
        fetched = {path for path, _ in requests}
        assert {f"/{folder}/{r['path']}" for r in resources} <= fetched, sorted(fetched)
        assert {f"/{folder}/{r['schema']}" for r in resources} <= fetched, sorted(fetched)


def duckdb1_client() -> tuple[list[str], dict[str, str]]:
    """The pinned DuckDB 1.x client (tests/duckdb1_client.lock), installed once beside the venv, keyed by the
    lock's content: PyPI's duckdb-extension-httpfs pins duckdb 1.x and cannot share .venv with duckdb 2."""
    lock = DUCKDB1_LOCK.read_bytes()
    folder = Path(sys.prefix) / f"duckdb1-client-{hashlib.sha256(lock).hexdigest()[:12]}"
    if not (folder / "duckdb_extension_httpfs").is_dir():
        staging = Path(tempfile.mkdtemp(prefix=".duckdb1-client-", dir=sys.prefix))
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-warn-conflicts", "--target", str(staging),
             "-r", str(DUCKDB1_LOCK)], check=True, timeout=600,
        )  # fmt: skip
        try:
            staging.rename(folder)
        except OSError:  # another worker installed it meanwhile
            shutil.rmtree(staging)
    base_python = getattr(sys, "_base_executable", sys.executable)
    return [base_python, "-s"], {"PYTHONPATH": str(folder), "PATH": "/usr/bin:/bin", "HOME": str(folder)}


def test_a_duckdb_1x_client_reads_parquet_and_attaches_the_duckdb_file_by_url_read_only(site: Any) -> None:
    paths, base, requests = site
    python, environment = duckdb1_client()
    completed = subprocess.run(
        [*python, "-c", DUCKDB1_CLIENT, f"{base}/latest", "figures"],
        capture_output=True, text=True, timeout=120, env=environment,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    with (paths.data_dir / "figures.csv").open(encoding="utf-8", newline="") as handle:
        rows = len(list(csv.reader(handle))) - 1
    assert result["version"].startswith("1.") and result["parquet"] == result["attached"] == rows > 10
    assert result["same_rows"] and "read-only" in result["write_refused"]
    # sized to its data: DuckDB's smallest blocks (16 KiB), not 50 blocks of 256 KiB for 141 rows
    assert result["block_size"] == 16_384 and result["series"] > 0
    assert (paths.dist_dir / "public" / "latest" / "valley.duckdb").stat().st_size < 2 * 2**20
    # the DuckDB file was read by ranges, not downloaded whole
    assert any(path == "/latest/valley.duckdb" and wanted for path, wanted in requests), requests


def test_pandas_reads_a_table_by_url(site: Any) -> None:
    paths, base, _ = site
    remote = pandas.read_csv(f"{base}/latest/data/figures.csv", dtype=str, keep_default_na=False)
    local = pandas.read_csv(paths.data_dir / "figures.csv", dtype=str, keep_default_na=False)
    assert len(remote) > 10
    pandas.testing.assert_frame_equal(remote, local)


def test_the_atom_feed_parses_and_lists_the_release_with_its_changes(site: Any) -> None:
    _, base, _ = site
    feed = feedparser.parse(f"{base}/feed.xml")
    assert not feed.bozo, feed.bozo_exception
    [entry] = feed.entries
    assert entry.id == "urn:datapackage:guiyang-big-data-valley:0.1.0"
    assert entry.link == f"{base}/v0.1.0/index.html" and entry.updated.startswith("2026-11-01")
    assert "First release" in entry.content[0].value and "figures 18" in entry.content[0].value
    assert [link.href for link in entry.links if link.rel == "enclosure"] == [f"{base}/v0.1.0/valley-0.1.0.zip"]
    index = json.loads(fetch(f"{base}/releases.json"))
    assert index["latest"] == "0.1.0" and [v["version"] for v in index["versions"]] == ["0.1.0"]


def test_latest_serves_the_new_version_only_once_it_is_complete(site: Any, tmp_path: Path, serve: Any) -> None:
    source, _, _ = site
    paths = ProjectPaths(tmp_path / "project")
    shutil.copytree(source.root, paths.root, symlinks=True)
    set_version(paths, "0.2.0")
    cut_release(paths, today=dt.date(2026, 11, 2))
    base, _ = serve(paths.dist_dir / "public")
    # stopped (as kill -9 would) after v0.2.0/ is written and verified, before latest/ moves
    killed = valley_publish(paths, VALLEY_TEST_HOOK="crash:before:latest")
    assert killed.returncode == 137, killed.stderr
    assert json.loads(fetch(f"{base}/v0.2.0/datapackage.json"))["version"] == "0.2.0"
    assert json.loads(fetch(f"{base}/latest/datapackage.json"))["version"] == "0.1.0"
    assert [v["version"] for v in json.loads(fetch(f"{base}/releases.json"))["versions"]] == ["0.1.0"]
    assert len(feedparser.parse(f"{base}/feed.xml").entries) == 1
    completed = valley_publish(paths)
    assert completed.returncode == 0 and "latest:   " in completed.stdout, completed.stderr
    assert json.loads(fetch(f"{base}/latest/datapackage.json"))["version"] == "0.2.0"
    assert fetch(f"{base}/latest/SHA256SUMS") == fetch(f"{base}/v0.2.0/SHA256SUMS")
    assert [v["version"] for v in json.loads(fetch(f"{base}/releases.json"))["versions"]] == ["0.2.0", "0.1.0"]
    assert [e.id.rsplit(":", 1)[1] for e in feedparser.parse(f"{base}/feed.xml").entries] == ["0.2.0", "0.1.0"]


def test_publishing_again_changes_nothing_and_another_release_under_its_version_is_refused(
    site: Any, tmp_path: Path
) -> None:
    source, _, _ = site
    paths = ProjectPaths(tmp_path / "project")
    shutil.copytree(source.root, paths.root, symlinks=True)
    public = paths.dist_dir / "public"
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in public.rglob("*") if p.is_file()}
    again = valley_publish(paths)
    assert again.returncode == 0 and "with identical content; nothing changed" in again.stdout, again.stderr
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in public.rglob("*") if p.is_file()} == before
    descriptor = json.loads(paths.descriptor.read_text(encoding="utf-8"))
    paths.descriptor.write_text(json.dumps({**descriptor, "description": "Changed."}, indent=2), encoding="utf-8")
    shutil.rmtree(paths.dist_dir / "0.1.0")
    cut_release(paths, today=dt.date(2026, 11, 1))
    refused = valley_publish(paths)
    assert refused.returncode == 1 and refused.stderr.startswith("valley publish failed: version 0.1.0 is already")
    assert "immutable. Raise `version`" in refused.stderr and "Traceback" not in refused.stderr
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in public.rglob("*") if p.is_file()} == before
