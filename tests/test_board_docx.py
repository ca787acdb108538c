"""The Word board summary, read back with python-docx: headings, tables, values, privacy, suppression."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from audit_cli.api import RunOptions, run_audit
from audit_cli.cli import app
from audit_cli.model import Template
from audit_cli.writers.board_docx import write_board_docx

from conftest import BASE_TEMPLATE, write_json

runner = CliRunner()
RUN_TIME = dt.datetime(2026, 9, 21, 14, 13, 20, tzinfo=dt.timezone.utc)  # SOURCE_DATE_EPOCH 1790000000


def invoke(*args: Any) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def case(ref: str, **answers: str) -> dict[str, Any]:
    base = {"Q1": "yes", "Q2": "yes", "Q3": "Excellent", "Q4": "yes"}
    return {"case": {"ref": ref, "lacked": "No", "team": "North"}, "answers": {**base, **answers}}


def read_docx(path: Path) -> tuple[list[tuple[str, str]], list[list[list[str]]], Any]:
    """(style, text) of every non-empty paragraph, every table as rows of cell texts, and the document."""
    import docx

    document = docx.Document(str(path))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs if p.text]
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]
    return paragraphs, tables, document


def table_after(document: Any, heading: str) -> list[list[str]]:
    """The first table after the heading with this text, in body order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    seen = False
    for child in document.element.body.iterchildren():
        if child.tag.endswith("}p") and Paragraph(child, document).text == heading:
            seen = True
        elif seen and child.tag.endswith("}tbl"):
            return [[c.text for c in row.cells] for row in Table(child, document).rows]
    raise AssertionError(f"no table after {heading!r}")


def all_xml_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


@pytest.fixture()
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    return tmp_path


def test_score_docx_headings_tables_and_values(here: Path) -> None:
    folder = here / "cases"
    write_json(folder / "a.json", case("A-1"))  # 100
    write_json(folder / "b.json", case("B-1", Q1="partly"))  # 75
    write_json(folder / "c.json", case("C-1", Q1="no"))  # 50, critical failure
    (folder / "d.json").write_text("{broken", encoding="utf-8")
    res = invoke("score", folder, "-t", BASE_TEMPLATE, "-o", "out", "--label", "2026 Q1",
                 "--gate", "mean >= 80", "--gate", "critical_failures <= 1", "--docx", "board/summary.docx")
    assert res.exit_code == 1
    paragraphs, _tables, document = read_docx(here / "board" / "summary.docx")

    assert paragraphs[:4] == [
        ("Title", "Scoring test template: board summary"),
        ("Normal", "Round: 2026 Q1"),
        ("Normal", "Date: 21 September 2026"),
        ("Normal", "Template: mini 1.0.0"),
    ]
    assert [text for style, text in paragraphs if style.startswith("Heading")] == [
        "Headline figures", "Ratings", "Steps", "Principles", "Themes", "Sections", "What lowers scores most",
        "Critical failures", "By criterion", "Data quality", "Files rejected", "Gates",
    ]
    assert table_after(document, "Headline figures") == [
        ["Measure", "Value"], ["Cases audited", "3"], ["Cases rated", "3"], ["Mean score", "75.0"],
        ["Cases with a critical failure", "1"],
    ]
    assert table_after(document, "Ratings") == [
        ["Rating", "Cases", "Share"], ["Outstanding", "1", "33.3%"], ["Good", "1", "33.3%"],
        ["Requires improvement", "1", "33.3%"], ["Inadequate", "0", "0.0%"], ["Not rated", "0", "0.0%"],
    ]
    # step 1 = Q1 (w3) + Q2 (w1): 100, 62.5, 25; step 2 = Q2; step 3 = Q3 (Q4 weighs nothing)
    assert table_after(document, "Steps") == [
        ["Item", "Title", "Mean score", "Cases"], ["1", "One", "62.5", "3"], ["2", "Two", "100.0", "3"],
        ["3", "Three", "100.0", "3"],
    ]
    assert table_after(document, "Principles") == [
        ["Item", "Title", "“I” statement", "Mean score", "Cases"],
        ["empowerment", "Empowerment", "I am asked.", "62.5", "3"],
        ["protection", "Protection", "", "100.0", "3"],
    ]
    assert table_after(document, "Sections") == [
        ["Item", "Title", "Mean score", "Cases"], ["s1", "Voice", "62.5", "3"], ["s2", "Risk", "100.0", "3"],
    ]
    assert table_after(document, "What lowers scores most") == [
        ["Criterion", "Question", "Attainment", "Cases scored"], ["Q1", "Asked about outcomes?", "50.0%", "3"],
    ]
    assert table_after(document, "Critical failures") == [["Case", "Criteria failed"], ["C-1", "Q1"]]
    assert table_after(document, "By criterion") == [["Criterion", "Question", "Cases"], ["Q1", "Asked about outcomes?", "1"]]
    assert table_after(document, "Data quality") == [
        ["Measure", "Value"], ["Files read", "3"], ["Files rejected", "1"], ["Files skipped", "0"],
        ["Errors in cases", "0"], ["Warnings in cases", "0"], ["Unanswered criteria", "0"], ["Cases not rated", "0"],
    ]
    assert table_after(document, "Files rejected") == [
        ["File", "Reason"],
        ["cases/d.json", "not valid JSON at line 1, column 2: Expecting property name enclosed in double quotes"],
    ]
    assert ("Normal", "Failed: mean >= 80 (value: 75.0).") in paragraphs
    assert table_after(document, "Gates") == [
        ["Gate", "Value", "Result"], ["mean >= 80", "75.0", "FAIL"], ["critical_failures <= 1", "1", "pass"],
    ]
    props = document.core_properties
    assert props.created == RUN_TIME
    assert props.modified == RUN_TIME
    assert (props.author, props.title, props.subject) == ("msp-audit", "Scoring test template: board summary", "2026 Q1")
    assert not any(p.name.startswith(".") for p in (here / "board").iterdir())  # no temporary file left


def test_msp_core_groups_statements_and_no_personal_or_free_text(here: Path) -> None:
    folder = here / "cases"
    write_json(folder / "x.json", {
        "case": {"case_ref": "C-77", "adult_name": "Ada Secretname", "date_of_birth": "1940-02-03",
                 "auditor": "Jo Auditor", "team": "East", "agency": "Police"},
        "answers": {"A1": {"answer": "no", "evidence": "Confidential evidence text", "comment": "Private remark"},
                    "A2": "yes", "B1": "partly", "C1": "yes"},
        "notes": "Chronology notes here",
    })
    res = invoke("score", folder, "-o", "out", "--docx", "board.docx")
    assert res.exit_code == 0, res.output
    _paragraphs, _tables, document = read_docx(here / "board.docx")
    steps = table_after(document, "MSP essential steps")
    assert steps[0] == ["Item", "Title", "Group", "Mean score", "Cases"]
    # step 7 among the answers: A1 no (weight 3), A2 yes (weight 2) -> 40
    assert steps[7] == ["7", "Engage with and include people who use services",
                        "Early intervention, prevention and engaging with people", "40.0", "1"]
    principles = table_after(document, "Safeguarding principles")
    assert principles[0] == ["Item", "Title", "“I” statement", "Mean score", "Cases"]
    assert principles[1][:3] == ["empowerment", "Empowerment",
                                 "I am asked what I want as the outcomes from the safeguarding process and these directly inform what happens."]
    text = all_xml_text(here / "board.docx")
    for secret in ("Ada Secretname", "1940-02-03", "Jo Auditor", "Confidential evidence", "Private remark",
                   "Chronology notes"):
        assert secret not in text
    assert "C-77" in text


def test_suppressed_counts(here: Path, mini: Template) -> None:
    folder = here / "cases"
    for n in range(1, 7):  # six at 100; four of them have nothing scored in section s2
        write_json(folder / f"a{n}.json", case(f"A-{n}", **({"Q3": "Does not apply"} if n <= 4 else {})))
    write_json(folder / "b.json", case("B-1", Q1="partly"))  # 75
    write_json(folder / "c.json", case("C-1", Q1="no"))  # 50, critical
    doc = run_audit([folder], mini, RunOptions()).to_dict()
    write_board_docx(mini, doc, here / "board.docx", suppress_small=True)
    paragraphs, _tables, document = read_docx(here / "board.docx")
    assert any(text.startswith("Small numbers are suppressed") for _s, text in paragraphs)
    assert table_after(document, "Headline figures") == [
        ["Measure", "Value"], ["Cases audited", "10"], ["Cases rated", "10"], ["Mean score", "90.6"],
        ["Cases with a critical failure", "*"],
    ]
    assert table_after(document, "Ratings") == [
        ["Rating", "Cases", "Share"], ["Outstanding", "5", "75.0%"], ["Good", "*", "*"],
        ["Requires improvement", "*", "*"], ["Inadequate", "0", "0.0%"], ["Not rated", "0", "0.0%"],
    ]
    # Section s2 rests on 4 cases: its mean and its count are hidden.
    assert table_after(document, "Sections") == [
        ["Item", "Title", "Mean score", "Cases"], ["s1", "Voice", "85.9", "10"], ["s2", "Risk", "*", "*"],  # s1: (600 + 62.5 + 25) / 8
    ]
    assert ("Normal", "The cases are not listed because small numbers are suppressed.") in paragraphs
    assert "C-1" not in all_xml_text(here / "board.docx")


def test_report_docx_has_the_change_since_the_previous_round(here: Path) -> None:
    def run(name: str, label: str, answers: list[dict[str, str]]) -> Path:
        for n, a in enumerate(answers, 1):
            write_json(here / name / f"{n}.json", case(f"{name}-{n}", **a))
        assert invoke("score", here / name, "-t", BASE_TEMPLATE, "-o", f"{name}-out", "--label", label).exit_code == 0
        return here / f"{name}-out" / "results.json"

    r1 = run("r1", "2025 Q4", [{}, {"Q1": "no"}])  # 100, 50
    r2 = run("r2", "2026 Q1", [{}, {"Q1": "partly"}])  # 100, 75
    res = invoke("report", r1, r2, "-t", BASE_TEMPLATE, "--docx", "board.docx")
    assert res.exit_code == 0, res.output
    paragraphs, _tables, document = read_docx(here / "board.docx")
    assert ("Normal", "Round: 2026 Q1") in paragraphs
    assert paragraphs[-2] == ("Heading 1", "Change since 2025 Q4")
    trend = table_after(document, "Change since 2025 Q4")
    assert trend[0] == ["Item", "Measure", "2025 Q4", "2026 Q1", "Change"]
    assert trend[1] == ["", "Overall mean score", "75.0", "87.5", "+12.5"]
    assert trend[2] == ["1", "One", "62.5", "81.2", "+18.8"]
    assert [row[1] for row in trend[1:]] == ["Overall mean score", "One", "Two", "Three", "Empowerment",
                                              "Protection", "Voice", "Voice", "Risk"]
    assert table_after(document, "Headline figures")[1] == ["Cases audited", "2"]
    # With suppression the trend hides means resting on 1-4 cases, and their change.
    assert invoke("report", r1, r2, "-t", BASE_TEMPLATE, "--docx", "small.docx", "--suppress-small").exit_code == 0
    _p, _t, small = read_docx(here / "small.docx")
    assert table_after(small, "Change since 2025 Q4")[1] == ["", "Overall mean score", "*", "*", "*"]


def test_same_run_same_document(here: Path) -> None:
    write_json(here / "c" / "a.json", case("A-1"))
    for name in ("one", "two"):
        assert invoke("score", here / "c", "-t", BASE_TEMPLATE, "-o", "out", "--docx", f"{name}.docx").exit_code == 0
    one, two = read_docx(here / "one.docx"), read_docx(here / "two.docx")
    assert one[:2] == two[:2]
    assert one[2].core_properties.created == two[2].core_properties.created == RUN_TIME
