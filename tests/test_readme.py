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
    assert len(shown) == 3
    for name, output in shown.items():
        sql = (DEFAULT_PATHS.queries_dir / f"{name}.sql").read_text(encoding="utf-8")
        assert format_table(*query_warehouse(published.warehouse, sql)) == output, name
