"""`valley add` end to end: a saved page and a text file (written for these tests) are added, reviewed as a person
would (editing the YAML), run and queried; bad inputs are refused with one message and nothing left behind."""

import http.server
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from flows.cli import main
from flows.core.paths import ProjectPaths
from flows.drafting.snapshot import MAX_BYTES

VALLEY = Path(sys.executable).parent / "valley"
# a page written for the tests; its text, title and metadata carry markup that must stay text
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Nokvar grows its data industry</title>
<meta property="og:title" content="Nokvar grows its data industry &lt;script&gt;alert(1)&lt;/script&gt;">
<meta property="og:site_name" content="Valley Test Desk">
<meta name="author" content="A. Writer &lt;img src=x onerror=alert(2)&gt;">
<meta property="article:published_time" content="2024-05-30T08:00:00+00:00">
</head><body>
<nav><a href="/">Home</a> <a href="/tech">Tech</a></nav>
<article>
<h1>Nokvar grows its data industry</h1>
<p>Nokvar is a city in the hills of the west. In 2023, the number of big data enterprises in Nokvar reached 412,
and the prime operating revenue of its big data enterprises reached RMB 36 billion, an increase of 12 percent.</p>
<p>Nokvar plans to become a regional data hub by 2027. The city is one of the fastest growing data centres in the
region, officials said on a visit that lasted three days &lt;script&gt;alert(3)&lt;/script&gt;.</p>
<p>In 2024, Nokvar introduced 25 big data enterprises, the city government said in a statement.</p>
</article>
<footer>Valley Test Desk</footer>
</body></html>
"""
TEXT = """Kelmar builds data parks

Kelmar is a city on the river. In 2022, Kelmar built 14 big data industrial parks.

In 2023, the number of big data enterprises in Kelmar reached 230.
"""


def valley(paths: ProjectPaths, *args: str, api_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"PREFECT_API_URL": api_url} if api_url else {})}
    command = [str(VALLEY), "--project", str(paths.root), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=600)


def review(folder: Path) -> None:
    """What a reviewer does: check each record, fill in what the draft left to write, drop the proposal marks."""
    for path in sorted((folder / "records").glob("*.yaml")):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if not line.startswith(("  status: proposed", "  confidence:", "  comment:"))]
        text = "".join(kept).replace("description: TO WRITE", "description: A city that grows its data industry.")
        path.write_text(text, encoding="utf-8")


def test_a_saved_page_is_added_reviewed_run_and_queried(project: ProjectPaths, tmp_path: Path,
                                                        prefect_api_url: str) -> None:  # fmt: skip
    (tmp_path / "page.html").write_text(PAGE, encoding="utf-8")
    (tmp_path / "kelmar.txt").write_text(TEXT, encoding="utf-8")
    added = valley(project, "add", str(tmp_path / "page.html"), "--slug", "nokvar")
    assert added.returncode == 0, added.stderr
    assert "valley add: datapackage/sources/nokvar (article.txt, origin.yaml)" in added.stdout
    origin = yaml.safe_load((project.sources_dir / "nokvar" / "origin.yaml").read_text(encoding="utf-8"))
    assert (origin["site"], origin["site_source"]) == ("Valley Test Desk", "meta tag og:site_name")
    assert origin["published_date"] == "2024-05-30" and origin["url"] is None and origin["url_source"] == "unknown"
    assert origin["bytes"] == (project.sources_dir / "nokvar" / "article.txt").stat().st_size
    assert valley(project, "add", str(tmp_path / "kelmar.txt"), "--slug", "kelmar").returncode == 0
    review(project.sources_dir / "nokvar")
    run = valley(project, "run", api_url=prefect_api_url)
    assert run.returncode == 0, run.stderr
    assert "  held back: kelmar: " in run.stdout and "proposals left to review in records/" in run.stdout
    assert (project.build_dir / "review" / "kelmar.html").is_file()
    query = "SELECT measure, value, unit, period FROM figures WHERE source_id = 'nokvar' ORDER BY value"
    queried = valley(project, "query", query, "--format", "csv")
    assert queried.returncode == 0, queried.stderr
    assert queried.stdout.splitlines()[1:] == [
        "big_data_enterprises_introduced,25,count,2024",
        "big_data_enterprises,412,count,2023",
        "big_data_revenue,36000000000,CNY,2023",
    ]
    sources = valley(project, "query", "SELECT source_id FROM sources ORDER BY source_id", "--format", "csv")
    assert sources.stdout.splitlines()[1:] == ["big-data-valley", "nokvar"]


def add(paths: ProjectPaths, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["--project", str(paths.root), "add", *args])
    return code, capsys.readouterr().err


def folders(paths: ProjectPaths) -> list[str]:
    build = sorted(p.name for p in paths.build_dir.glob("add-*")) if paths.build_dir.is_dir() else []
    return sorted(p.name for p in paths.sources_dir.iterdir()) + build


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"  \n", "empty.txt: empty; nothing was added."),
        ("picture.png", b"\x89PNG\r\n\x1a\n\x00\x00data", "picture.png: a binary file"),
        ("menu.html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "menu.html: no article text"),
        ("latin1.txt", "Caf\u00e9 numbers rose.".encode("latin-1"), "latin1.txt: not UTF-8 text"),
        ("huge.txt", None, f"over the {MAX_BYTES}-byte limit"),
        ("url", None, "unreachable"),
        ("twice.html", PAGE.encode(), "already added: source 'first' has this snapshot"),
    ],
)
def test_a_bad_input_is_refused_with_one_message_and_nothing_left(
    project: ProjectPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes | None,
    message: str,
) -> None:  # fmt: skip
    path = tmp_path / name
    if name == "huge.txt":
        with path.open("wb") as handle:
            handle.truncate(MAX_BYTES + 1)
    elif content is not None:
        path.write_bytes(content)
    if name == "twice.html":
        assert add(project, capsys, str(path), "--slug", "first")[0] == 0
    before = folders(project)
    target = f"http://127.0.0.1:{closed_port()}/page.html" if name == "url" else str(path)
    code, error = add(project, capsys, target)
    assert code == 1 and message in error, error
    assert error.startswith("valley add failed:") and error.strip().count("\n") == 0
    assert folders(project) == before


@pytest.fixture
def page_server(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on loopback serving the test page under a dated path."""
    site = tmp_path / "site" / "news" / "2024" / "05" / "30"
    site.mkdir(parents=True)
    (site / "nokvar.html").write_text(PAGE, encoding="utf-8")
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path / "site"))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/news/2024/05/30/nokvar.html"
    server.shutdown()
    thread.join()


def test_a_url_is_fetched_once_and_recorded(project: ProjectPaths, page_server: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    assert main(["--project", str(project.root), "add", page_server, "--slug", "fetched"]) == 0
    origin = yaml.safe_load((project.sources_dir / "fetched" / "origin.yaml").read_text(encoding="utf-8"))
    assert (origin["url"], origin["url_source"]) == (page_server, "the URL it was fetched from")
    assert (origin["published_date"], origin["published_date_source"]) == ("2024-05-30", "the URL")
    assert "412" in (project.sources_dir / "fetched" / "article.txt").read_text(encoding="utf-8")


def test_adding_and_drafting_a_saved_page_opens_no_connection(project: ProjectPaths, tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(PAGE, encoding="utf-8")
    probe = (
        "import socket, sys\n"
        "def refuse(*args, **kwargs): raise SystemExit('network used: ' + repr(args))\n"
        "socket.socket.connect = socket.socket.connect_ex = socket.create_connection = refuse\n"
        "from flows.cli import main\n"
        f"sys.exit(main(['--project', {str(project.root)!r}, 'add', {str(tmp_path / 'page.html')!r}]))\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert "network used" not in completed.stderr
