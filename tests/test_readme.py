import re

from flows.cli import format_table
from flows.core.paths import DEFAULT_PATHS, ProjectPaths
from flows.package.warehouse import query_warehouse

README = (DEFAULT_PATHS.root / "README.md").read_text(encoding="utf-8")


def test_readme_quick_start_is_the_two_commands() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("```", 2)[1]
    assert [line.split("#")[0].strip() for line in quick_start.strip().splitlines()[1:]] == [
        "make run",
        "make test",
    ]


def test_readme_query_outputs_are_what_the_published_warehouse_returns(published: ProjectPaths) -> None:
    shown = dict(re.findall(r"<!-- query: (\w+) -->\n```\n(.*?)\n```", README, flags=re.DOTALL))
    assert len(shown) == 5
    for name, output in shown.items():
        sql = (DEFAULT_PATHS.queries_dir / f"{name}.sql").read_text(encoding="utf-8")
        assert format_table(*query_warehouse(published.warehouse, sql)) == output, name


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def readme_sections() -> list[str]:
    prose = re.sub(r"```.*?```", "", README, flags=re.DOTALL)  # no headings inside code blocks
    return [github_anchor(title) for title in re.findall(r"^#{2,3} (.+)$", prose, flags=re.MULTILINE)]


def test_readme_contents_list_links_every_section_within_the_first_screen() -> None:
    contents = next(p for p in README.split("\n\n") if p.startswith("**Contents:**"))
    linked = re.findall(r"\]\(#([^)]+)\)", contents)
    assert sorted(set(linked)) == sorted(set(readme_sections()))
    lines = README.splitlines()
    commands_end = next(n for n in range(lines.index("## Commands") + 2, len(lines)) if not lines[n])
    assert contents in "\n".join(lines[:80]) and commands_end <= 80  # the commands table ends on the first screen


def test_readme_every_link_to_a_section_resolves() -> None:
    anchors = set(readme_sections())
    broken = [target for target in re.findall(r"\]\(#([^)]+)\)", README) if target not in anchors]
    assert broken == []
