"""Drafting (flows/drafting/classify.py, draft.py, proposals.py): each rejection reason and each proposal kind,
with inline texts written for the tests, and the rule that a reviewed record is never overwritten."""

from pathlib import Path

import pytest
import yaml

from flows.core.paths import PROJECT_DIR
from flows.drafting.classify import classify_numbers
from flows.drafting.draft import draft_text, proposal_lines
from flows.drafting.proposals import vocabulary_of, write_proposals
from flows.sources.extract import describe_held_back, held_back_sources, list_sources, pending_proposals

VOCABULARY = vocabulary_of(PROJECT_DIR / "datapackage" / "sources" / "measures.yaml")


def reading_of(text: str, number: str) -> tuple[str, str]:
    reading = next(r for r in classify_numbers(text) if r.number == number)
    return reading.kind, reading.reason


@pytest.mark.parametrize(
    ("text", "number", "reason"),
    [
        ("Home Tech\n\n4 min read\n\nThe city grew.", "4", "reading_time"),
        ("The report came out on May 26, 2019 in the city.", "26", "date"),
        ("The report came out on 26 May in the city.", "26", "date"),
        ("The meeting began at 10:30 in the hall.", "10", "date"),
        ("It opened on 2019-05-26 in the city.", "05", "date"),
        ("Share 12\n\nThe city grew quickly.", "12", "page_furniture"),
        ("The city won its 3rd prize for data.", "3", "ordinal"),
        ("Kelmar is one of the largest hubs.", "one", "one_of"),
        ("One can see the change at once.", "One", "pronoun"),
        ("The sign read another one.", "one", "pronoun"),
        ("The town built 5G labs last year.", "5", "name"),
        ("They stayed for three months in the town.", "three", "period_phrase"),
        ("The enterprises were set in 2017 to the target.", "2017", "period_phrase"),
        ("Spending rose from 2016 to 2020 in the city.", "2016", "period_phrase"),
        ("The plan lifted millions of people out of poverty.", "millions", "vague"),
    ],
)
def test_a_number_that_is_not_a_fact_is_excluded_for_its_reason(text: str, number: str, reason: str) -> None:
    assert reading_of(text, number) == ("excluded", reason)


@pytest.mark.parametrize(
    ("text", "number", "kind"),
    [
        ("Kelmar aims to build a data hub by 2025.", "2025", "deadline"),
        ("We attended Data Expo 2019 in the city.", "2019", "event"),
        ("The firm won a prize at the 2018 World Data Expo.", "2018", "event"),
        ("The firm joined the 2018 Forbes China 50 most innovative companies.", "2018", "recognition"),
        ("In 2018, the city had 40 parks.", "2018", "dating"),
        ("Revenue reached RMB 9 billion, an increase of 12 percent.", "12", "change"),
    ],
)
def test_years_in_names_and_deadlines_are_not_figures(text: str, number: str, kind: str) -> None:
    assert reading_of(text, number)[0] == kind


ARTICLE = (
    "Kelmar is a city in the west. In 2023, the number of big data enterprises in Kelmar reached 412, and the "
    "prime operating revenue of its big data enterprises reached RMB 36 billion, an increase of 12 percent.\n\n"
    "Kelmar plans to become a data hub by 2027. The city has two major rivers.\n\n"
    "In 2024, Kelmar introduced 25 big data enterprises. Its exchange held a data volume of about 3,000 TB "
    "($0.5 billion).\n"
)


def test_a_figure_gets_its_measure_period_change_and_subject() -> None:
    lines = {line["figure"]: line for line in proposal_lines(draft_text(ARTICLE, VOCABULARY))}
    revenue = lines["RMB 36 billion"]
    assert (revenue["table"], revenue["value"], revenue["unit"], revenue["measure"]) == (
        "figures", "36000000000", "CNY", "big_data_revenue")  # fmt: skip
    assert (revenue["period"], revenue["period_basis"], revenue["subject"]) == (2023, "stated", "kelmar")
    assert lines["412"]["measure"] == "big_data_enterprises"
    assert lines["25"]["measure"] == "big_data_enterprises_introduced" and lines["25"]["period"] == 2024
    assert lines["by 2027"]["table"] == "targets" and lines["by 2027"]["period"] == 2027
    assert lines["two"]["table"] == "excluded_numbers" and lines["two"]["reason"] == "rhetorical"
    assert set(revenue) == {"table", "quote", "figure", "figure_start", "value", "unit", "measure", "subject",
                            "period", "period_basis", "confidence", "reason"}  # fmt: skip
    assert 0 < revenue["confidence"] <= 1 and "big_data_revenue" in revenue["reason"]


def test_a_bracketed_dollar_amount_is_a_conversion_and_a_new_measure_is_proposed() -> None:
    proposals = draft_text(ARTICLE, VOCABULARY)
    lines = {line["figure"]: line for line in proposal_lines(proposals)}
    assert lines["$0.5 billion"]["reason"] == "conversion"
    volume = lines["about 3,000 TB"]
    assert (volume["unit"], volume["measure"]) == ("byte", "data_volume")
    new = draft_text("In 2020, Kelmar planted 300 trees.", VOCABULARY)
    measures = [p.record for p in new if p.table == "measures"]
    assert measures and measures[0]["status"] == "proposed" and measures[0]["definition"].startswith("TO WRITE")


def test_draft_never_overwrites_a_reviewed_record(tmp_path: Path) -> None:
    folder = tmp_path / "kelmar"
    proposals = draft_text(ARTICLE, VOCABULARY)
    write_proposals(folder, ARTICLE, proposals, {str(m["id"]) for m in VOCABULARY})
    figures = folder / "records" / "figures.yaml"
    records = yaml.safe_load(figures.read_text(encoding="utf-8"))
    reviewed = next(r for r in records if r["figure"] == "412")
    text = figures.read_text(encoding="utf-8")
    block = yaml.safe_dump([reviewed], sort_keys=False, allow_unicode=True, width=1000)
    edited = block.replace("  status: proposed\n", "").replace(
        "big_data_enterprises\n", "big_data_enterprises  # checked\n", 1
    )
    figures.write_text(text.replace(block, edited), encoding="utf-8")
    before = pending_proposals(folder)["records/figures.yaml"]
    write_proposals(folder, ARTICLE, draft_text(ARTICLE, VOCABULARY), {str(m["id"]) for m in VOCABULARY})
    after = figures.read_text(encoding="utf-8")
    assert "big_data_enterprises  # checked" in after  # the reviewed record's own text, comment included
    assert after.count("figure: '412'") == 1  # and no new proposal for its number
    assert pending_proposals(folder)["records/figures.yaml"] == before


def test_a_source_with_proposals_left_is_held_back_and_named(tmp_path: Path) -> None:
    for name in ("done", "waiting"):
        (tmp_path / name / "records").mkdir(parents=True)
    (tmp_path / "done" / "records" / "figures.yaml").write_text("- id: a\n  status: reviewed\n", encoding="utf-8")
    (tmp_path / "waiting" / "records" / "figures.yaml").write_text(
        "- id: a\n  status: proposed\n- id: b\n  status: proposed\n", encoding="utf-8"
    )
    assert [folder.name for folder in list_sources(tmp_path)] == ["done"]
    held = held_back_sources(tmp_path)
    assert describe_held_back(held) == ["waiting: 2 proposals left to review in records/figures.yaml (2)"]


def test_draft_prints_json_lines_for_a_text_file_and_writes_nothing(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    import json

    from flows.cli import main

    (tmp_path / "article.txt").write_text(ARTICLE, encoding="utf-8")
    assert (
        main(["--project", str(PROJECT_DIR), "draft", "--text", str(tmp_path / "article.txt"), "--format", "json"]) == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["figure"] for line in lines if line["table"] == "figures"] == ["412", "RMB 36 billion", "25",
                                                                                "about 3,000 TB"]  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["article.txt"]
    assert main(["--project", str(PROJECT_DIR), "draft", "--text", str(tmp_path / "article.txt")]) == 1
    assert "use --format json" in capsys.readouterr().err


def test_a_proposal_the_line_count_misses_still_stops_extraction(tmp_path: Path) -> None:
    from flows.core.errors import InputError
    from flows.core.paths import ProjectPaths
    from flows.sources.extract import extract_tables
    from tests.conftest import copy_project

    paths = copy_project(tmp_path / "project")
    figures = paths.sources_dir / "big-data-valley" / "records" / "figures.yaml"
    text = figures.read_text(encoding="utf-8")
    figures.write_text(text.replace('  figure: "1632"\n', '  figure: "1632"\n  status: {state: proposed}\n', 1))
    assert not pending_proposals(figures.parent.parent)
    with pytest.raises(InputError, match="must be 'reviewed' or absent"):
        extract_tables(ProjectPaths(paths.root).sources_dir)


def test_a_change_written_as_up_n_percent_is_the_figures_change_not_a_figure() -> None:
    text = "In 2023, the big data revenue of Nokvar reached RMB 12 billion, up 15 percent year on year.\n"
    proposals = draft_text(text, VOCABULARY)
    figures = [proposal.record for proposal in proposals if proposal.table == "figures"]
    assert [(record["figure"], record.get("change")) for record in figures] == [("RMB 12 billion", "up 15 percent")]
