from decimal import Decimal
from pathlib import Path

import pytest

from flows.core.paths import DEFAULT_PATHS, ProjectPaths
from flows.sources.extract import extract_tables, read_source
from flows.sources.records import InputError, load_records

SOURCE = "big-data-valley"


@pytest.fixture(scope="module")
def tables() -> dict:
    return extract_tables(DEFAULT_PATHS.sources_dir)


def records_file(paths: ProjectPaths, table: str) -> Path:
    return paths.sources_dir / SOURCE / "records" / f"{table}.yaml"


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_every_quote_occurs_verbatim_in_the_source(tables: dict) -> None:
    source = read_source(DEFAULT_PATHS.sources_dir / SOURCE).text
    for table, rows in tables.items():
        for row in rows:
            if "evidence_quote" in row:
                offset = row["evidence_offset"]
                assert source[offset : offset + len(row["evidence_quote"])] == row["evidence_quote"], (
                    table,
                    row,
                )


def test_every_number_in_the_source_is_accounted_for(tables: dict) -> None:
    mentions = tables["number_mentions"]
    assert len(mentions) == 44
    assert [m for m in mentions if m["accounted_by_table"] is None] == []


def test_figures_values_are_parsed_from_their_figure_text(tables: dict) -> None:
    figures = {row["figure_id"]: row for row in tables["figures"]}
    revenue = figures["guiyang-2018-big-data-revenue"]
    assert (revenue["value"], revenue["unit"], revenue["period"], revenue["change_percent"]) == (
        100_000_000_000,
        "CNY",
        2018,
        Decimal("22.4"),
    )
    assert figures["guiyang-big-data-exchange-data-volume"]["value"] == 150 * 10**15
    revenue_2017 = figures["guiyang-2017-big-data-revenue"]
    assert (revenue_2017["value_low"], revenue_2017["value_high"]) == (75 * 10**9, 85 * 10**9)


def test_no_value_mixes_a_deadline_year_with_quantities(tables: dict) -> None:
    assert {row["unit"] for row in tables["figures"]} <= {"CNY", "count", "percent", "byte"}
    assert [(row["target_id"], row["deadline_year"]) for row in tables["targets"]] == [
        ("guiyang-big-data-valley", 2020),
        ("guiyang-headline-big-data-valley", 2020),
    ]


def test_a_number_with_its_scale_word_is_one_mention(tables: dict) -> None:
    texts = [m["text"] for m in tables["number_mentions"]]
    assert texts.count("100 billion") == 3 and "billion" not in texts and "million" not in texts


def test_places_the_article_names_are_recorded(tables: dict) -> None:
    kinds = {row["organization_id"]: row["kind"] for row in tables["organizations"]}
    assert {place: kinds.get(place) for place in ("beijing", "united-states", "silicon-valley", "china")} == {
        "beijing": "city",
        "united-states": "country",
        "silicon-valley": "region",
        "china": "country",
    }


def test_every_table_has_rows(tables: dict) -> None:
    assert {name: bool(rows) for name, rows in tables.items()} == dict.fromkeys(tables, True)


def test_a_quote_missing_from_the_source_names_file_line_and_field(project: ProjectPaths) -> None:
    path = records_file(project, "figures")
    replace_in(path, "The number of big data enterprises in Guiyang reached 1632", "The number reached 1633")
    with pytest.raises(InputError) as caught:
        extract_tables(project.sources_dir)
    [problem] = caught.value.problems
    assert problem.file == path and problem.field == "quote" and "does not occur" in problem.message
    assert path.read_text(encoding="utf-8").splitlines()[problem.line - 1].strip().startswith("quote")


def test_a_figure_that_does_not_parse_names_its_record(project: ProjectPaths) -> None:
    path = records_file(project, "figures")
    record = next(r for r in load_records(path) if r.values["figure"] == "six")
    replace_in(path, 'figure: "six"', 'figure: "six big"')
    with pytest.raises(InputError) as caught:
        extract_tables(project.sources_dir)
    [problem] = caught.value.problems
    assert (problem.file, problem.field) == (path, "figure")
    assert record.line <= problem.line <= record.line + 10
    assert "'six big'" in problem.message and "not a number" in problem.message


def test_an_unknown_record_field_is_refused(project: ProjectPaths) -> None:
    path = records_file(project, "slogans")
    replace_in(path, "medium:", "medum:")
    with pytest.raises(InputError, match="unknown field"):
        extract_tables(project.sources_dir)


def test_a_changed_snapshot_fails_its_recorded_sha256(project: ProjectPaths) -> None:
    replace_in(project.sources_dir / SOURCE / "article.txt", "1632", "1633")
    with pytest.raises(InputError, match="sha256"):
        extract_tables(project.sources_dir)


def test_a_number_nothing_accounts_for_is_listed_without_an_owner(project: ProjectPaths) -> None:
    path = records_file(project, "excluded_numbers")
    records = load_records(path)
    reading_time = next(r for r in records if r.values["number"] == "14")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    following = [r.line for r in records if r.line > reading_time.line]
    end = (following[0] if following else len(lines) + 1) - 1
    path.write_text("".join(lines[: reading_time.line - 1] + lines[end:]), encoding="utf-8")
    mentions = extract_tables(project.sources_dir)["number_mentions"]
    assert [(m["text"], m["line"]) for m in mentions if m["accounted_by_table"] is None] == [("14", 5)]


def problems_of(paths: ProjectPaths) -> list:
    with pytest.raises(InputError) as caught:
        extract_tables(paths.sources_dir)
    return caught.value.problems


def line_of(path: Path, line: int) -> str:
    return path.read_text(encoding="utf-8").splitlines()[line - 1].strip()


def test_an_unknown_measure_fails_at_its_record_line(project: ProjectPaths) -> None:
    path = records_file(project, "figures")
    replace_in(path, "measure: output", "measure: outptu")
    [problem] = problems_of(project)
    assert (problem.file, problem.field, line_of(path, problem.line)) == (path, "measure", "measure: outptu")
    assert "'outptu' is not a known measures.measure_id: did you mean 'output'?" in problem.message
    assert "defined in datapackage/sources/measures.yaml" in problem.message


def test_an_unknown_organization_names_the_closest_and_its_records_file(project: ProjectPaths) -> None:
    path = records_file(project, "figures")
    replace_in(path, "subject: guiyang\n", "subject: guiyagn\n")
    [problem] = problems_of(project)
    assert "'guiyagn' is not a known organizations.organization_id: did you mean 'guiyang'?" in problem.message
    assert f"defined in datapackage/sources/{SOURCE}/records/organizations.yaml" in problem.message


@pytest.mark.parametrize(
    ("written", "differs"),
    [
        (
            "a year on year increase of 22.4",
            "the quote has ' ' (SPACE) and the article (line 41) has '-' (HYPHEN-MINUS)",
        ),
        ("build China's Big Data Valley", "the quote has \"'\" (APOSTROPHE) and the article (line 37) has '\u2019'"),
    ],
)
def test_a_quote_that_differs_shows_the_first_differing_character(
    project: ProjectPaths, written: str, differs: str
) -> None:
    path = records_file(project, "figures")
    original = written.replace("year on year", "year-on-year").replace("China's", "China\u2019s")
    replace_in(path, original, written)
    [problem, *_] = problems_of(project)
    assert (problem.file, problem.field) == (path, "quote")
    assert differs in problem.message and "copy the article's text there" in problem.message


def test_a_figure_in_another_unit_than_its_measure_fails(project: ProjectPaths) -> None:
    path = records_file(project, "figures")
    replace_in(path, "measure: investment", "measure: cases_solved_per_day")  # a count, for a company too
    [problem] = problems_of(project)
    assert (problem.file, problem.field) == (path, "figure")
    assert "unit CNY but measure cases_solved_per_day is in count" in problem.message


def test_a_bad_value_is_reported_once_at_its_yaml_line(project: ProjectPaths) -> None:
    path = records_file(project, "organizations")
    replace_in(path, "kind: city", "kind: citty")
    [problem] = problems_of(project)  # once: the rows that name guiyang are not reported again
    assert (problem.file, problem.field, line_of(path, problem.line)) == (path, "kind", "kind: citty")
    assert "'citty' is not one of" in problem.message and "organizations.json" in problem.message
    assert "did you mean 'city'?" in problem.message


def test_a_record_period_against_the_policy_names_its_line(project: ProjectPaths) -> None:
    path = records_file(project, "figures")
    replace_in(path, '  period: "details, in 2018"\n', "")
    [problem] = problems_of(project)
    assert problem.file == path and problem.field == "period"
    assert "inferred_paragraph from 'in 2018' (line 55)" in problem.message
    assert line_of(path, problem.line) == "- id: guiyang-big-data-exchange-data-volume"


def test_a_corroboration_of_no_article_row_is_refused(project: ProjectPaths) -> None:
    path = records_file(project, "corroborations")
    replace_in(path, "figure: guiyang-2017-big-data-revenue", "figure: guiyang-2016-big-data-revenue")
    [problem] = problems_of(project)
    assert (problem.file, problem.field) == (path, "figure") and "not a known figures.figure_id" in problem.message


REVENUE_2017 = """  period: "In 2017"
  change: "an increase of 21 percent"
  quote: "In 2017, Guiyang proposed a new target to build China\u2019s Big Data Valley by year 2020. Focusing on the target, Guiyang has built six big data industry cluster bases and newly setup 51 big data enterprises above the designated size set in 2017.\\n\\nThe prime operating revenue"""


def overrule(paths: ProjectPaths, reason: str = "the revenue sentence may report another year") -> Path:
    path = records_file(paths, "figures")
    replace_in(path, REVENUE_2017, f'  period_overruled: "{reason}"\n  change: "an increase of 21 percent"\n'
                                   '  quote: "The prime operating revenue')  # fmt: skip
    return path


def test_a_reviewer_overrules_an_inferred_period_and_the_figure_is_undated_with_the_reason(
    project: ProjectPaths,
) -> None:
    overrule(project)
    figures = extract_tables(project.sources_dir)["figures"]
    row = next(r for r in figures if r["figure_id"] == "guiyang-2017-big-data-revenue")
    assert (row["period"], row["period_basis"]) == (None, "overruled")
    assert row["period_overruled"] == "the revenue sentence may report another year"


def test_a_stated_period_cannot_be_overruled(project: ProjectPaths) -> None:
    path = records_file(project, "figures")
    replace_in(path, '  period: "in 2018"\n  quote: "According to details', '  period: "in 2018"\n'
               '  period_overruled: "looks wrong"\n  quote: "According to details')  # fmt: skip
    [problem] = problems_of(project)
    assert (problem.file, problem.field) == (path, "period_overruled")
    assert "a stated period cannot be overruled; drop `period_overruled`" in problem.message


def test_an_overrule_keeps_no_period_and_needs_a_reason(project: ProjectPaths) -> None:
    path = overrule(project, reason=" ")
    [problem] = problems_of(project)
    assert (problem.file, problem.field) == (path, "period_overruled") and "give the reason" in problem.message


def test_a_misspelt_record_field_names_the_closest_one(project: ProjectPaths) -> None:
    path = records_file(project, "figures")
    replace_in(
        path,
        '  period: "in 2018"\n  quote: "According to details',
        '  perod: "in 2018"\n  quote: "According to details',
    )
    problem = next(p for p in problems_of(project) if p.field == "perod")
    assert "unknown field; did you mean 'period'?" in problem.message
