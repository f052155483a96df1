"""The review page (flows/drafting/review.py) in headless Chromium: every number marked by its state, its record
on focus, the count left at the top, and a hostile page's markup shown as text."""

import re
from pathlib import Path

import pytest

from flows.cli import main
from flows.core.paths import ProjectPaths
from tests.browser import Chromium
from tests.test_add import PAGE

# headless Chromium gives a page no window focus, so :focus cannot be forced reliably; the probe reads what the
# browser parsed instead: every mark focusable, its record hidden, and the rule that shows it on hover or focus
FOCUS_PROBE = """<script>
const marks = [...document.querySelectorAll('.article mark')];
const focusable = marks.every((mark) => mark.tabIndex === 0);
const hidden = marks.every((mark) => getComputedStyle(mark.querySelector('.record')).display === 'none');
const rule = [...document.styleSheets[0].cssRules].find((r) => r.selectorText === 'mark:hover .record, mark:focus .record');
document.body.insertAdjacentHTML('beforeend', `<p id="probe">${focusable}/${hidden}/${rule && rule.style.display}</p>`);
</script>"""


@pytest.fixture
def drafted(project: ProjectPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    (tmp_path / "page.html").write_text(PAGE, encoding="utf-8")
    assert main(["--project", str(project.root), "add", str(tmp_path / "page.html"), "--slug", "nokvar"]) == 0
    assert main(["--project", str(project.root), "draft", "big-data-valley"]) == 0
    capsys.readouterr()
    return project.build_dir / "review"


def marks(dom: str) -> list[tuple[str, str]]:
    return re.findall(r'<mark class="(\w+)" tabindex="0" data-state="\w+">(.*?)<span class="record"', dom)


def test_the_review_page_marks_every_number_and_counts_what_is_left(drafted: Path, chromium: Chromium,
                                                                    tmp_path: Path) -> None:  # fmt: skip
    dom = chromium.dump_dom((drafted / "nokvar.html").as_uri(), profile=tmp_path / "profile-dom")
    found = marks(dom)
    assert ("figure", "RMB 36 billion") in found and ("figure", "412") in found
    assert ("target", "by 2027") in found and ("excluded", "one") in found and ("excluded", "three") in found
    assert re.search(r'<p class="left" id="left">\d+ proposals left to review, 0 numbers unaccounted for</p>', dom)
    record = re.search(r"RMB 36 billion<span class=\"record\" role=\"tooltip\">(.*?)</span>", dom)
    assert record and "<b>measure</b>: big_data_revenue" in record[1] and "<b>period</b>: 2023 (stated)" in record[1]
    assert "<b>interval</b>: 35500000000 to 36500000000" in record[1] and "<b>confidence</b>: " in record[1]
    seed = chromium.dump_dom((drafted / "big-data-valley.html").as_uri(), profile=tmp_path / "profile-seed")
    assert {state for state, _ in marks(seed)} == {"reviewed"}
    assert "0 proposals left to review, 0 numbers unaccounted for" in seed
    screenshot = tmp_path / "review.png"
    chromium.run(f"--screenshot={screenshot}", "--window-size=1000,1400", (drafted / "nokvar.html").as_uri(),
                 profile=tmp_path / "profile-shot")  # fmt: skip
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 20_000


def test_a_record_shows_on_hover_or_focus_only(drafted: Path, chromium: Chromium, tmp_path: Path) -> None:
    probe = tmp_path / "probe.html"  # the page plus a script that focuses a mark: the page itself has none
    probe.write_text((drafted / "nokvar.html").read_text(encoding="utf-8").replace("</body>", FOCUS_PROBE + "</body>"))
    dom = chromium.dump_dom(probe.as_uri(), profile=tmp_path / "profile-focus")
    assert '<p id="probe">true/true/block</p>' in dom


def test_markup_in_the_page_shows_as_text(drafted: Path, chromium: Chromium, tmp_path: Path) -> None:
    source = (drafted / "nokvar.html").read_text(encoding="utf-8")
    assert "<script" not in source and "<img" not in source and "http" not in source.split("</style>")[0]
    dom = chromium.dump_dom((drafted / "nokvar.html").as_uri(), profile=tmp_path / "profile-hostile")
    assert "<script" not in dom and "<img" not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom  # the title, from its og:title meta tag
    assert "A. Writer &lt;img src=x onerror=alert(2)&gt;" in dom  # the author meta tag
    assert re.search(r"&lt;script&gt;alert\(<mark[^>]*>3<span", dom)  # the article text (its 3 is marked)
