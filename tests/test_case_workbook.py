"""The per-case workbook ``cases/<case id>.xlsx``: read back with openpyxl and checked cell by cell."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from audit_cli.api import process_file
from audit_cli.model import Answer, Case, CaseResult, Template
from audit_cli.scoring import score_case
from audit_cli.writers import case_workbook
from audit_cli.writers.case_workbook import CaseWorkbooks, write_case_workbook

PERSONAL = ["Zebedee Quonk", "1931-02-03"]
RED, AMBER, GREEN, GREY = "FFFFC7CE", "FFFFEB9C", "FFC6EFCE", "FFEDEDED"


# --------------------------------------------------------------------------- helpers


def rows(ws: Any) -> list[list[Any]]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def label_values(ws: Any) -> dict[str, Any]:
    """Column A label -> column B value (first occurrence)."""
    out: dict[str, Any] = {}
    for r in ws.iter_rows(min_col=1, max_col=2):
        if isinstance(r[0].value, str) and r[0].value not in out:
            out[r[0].value] = r[1].value
    return out


def label_cell(ws: Any, label: str) -> Any:
    for r in ws.iter_rows(min_col=1, max_col=2):
        if r[0].value == label:
            return r[1]
    raise AssertionError(f"no row {label!r}")


def fill(cell: Any) -> str | None:
    return cell.fill.fgColor.rgb if cell.fill and cell.fill.fill_type == "solid" else None


def xml_parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith((".xml", ".rels"))}


def assert_no_formulas(path: Path) -> None:
    """No worksheet XML holds a formula element, and every text cell reads back as text."""
    for name, xml in xml_parts(path).items():
        if name.startswith("xl/worksheets/"):
            assert "<f>" not in xml and "<f " not in xml, name
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    assert c.data_type == "s", (ws.title, c.coordinate)


def every_value(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def read_case(tmp_path: Path, template: Template, doc: dict[str, Any]) -> tuple[Case, CaseResult]:
    src = tmp_path / "in" / "case.json"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(json.dumps(doc), encoding="utf-8")
    outcome = process_file(src, template)
    assert outcome.record.status == "read", outcome.record
    return outcome.cases[0], outcome.results[0]


def form(msp_core: Template, **answers: Any) -> dict[str, Any]:
    base: dict[str, Any] = {cid: "yes" for cid in msp_core.criteria}
    base.update(answers)
    return {
        "template": "msp-core",
        "case": {
            "case_ref": "C-1001", "adult_name": "Zebedee Quonk", "date_of_birth": "1931-02-03",
            "team": "North", "agency": "Council", "auditor": "Ophelia Xanthe", "judgement": "Good",
            "risk_types": ["Neglect and Acts of Omission", "Physical Abuse"],
            "lacked_capacity": "No, they did not lack capacity",
        },
        "answers": base,
        "notes": "First paragraph.\n\nSecond paragraph.",
    }


@pytest.fixture()
def written(tmp_path: Path, msp_core: Template) -> tuple[Path, Case, CaseResult]:
    doc = form(
        msp_core,
        A1={"answer": "no", "evidence": "Outcomes were not recorded.", "comment": "Ask at the start."},
        A2="partly", A3="n/a", A4="Maybe", B3="yes",
    )
    case, result = read_case(tmp_path, msp_core, doc)
    path = tmp_path / "out" / "cases" / "C-1001.xlsx"
    write_case_workbook(msp_core, case, result, path, generated="2026-04-01T09:00:00+00:00")
    return path, case, result


# --------------------------------------------------------------------------- sheets


def test_sheets_and_summary(written: tuple[Path, Case, CaseResult], msp_core: Template) -> None:
    path, case, result = written
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "Criteria", "Dimensions", "Issues", "Notes"]
    ws = wb["Summary"]
    assert ws["A1"].value == "Case audit: C-1001"
    lv = label_values(ws)
    assert lv["Case reference"] == "C-1001"
    assert lv["Source file"] == result.source
    assert lv["Template"] == "msp-core 1.0.0"
    assert lv["Template title"] == msp_core.title
    assert isinstance(result.score, float)
    score = label_cell(ws, "Score")
    assert score.value == result.score  # full precision stored
    assert score.number_format == "0.0"  # one decimal shown
    # A1 (critical) answered No caps the rating
    assert result.critical_failures == ["A1"]
    assert lv["Rating"] == result.rating == "Requires improvement"
    assert fill(label_cell(ws, "Rating")) == AMBER
    assert lv["Critical failures"] == "A1"
    assert lv["Auditor's overall judgement"] == "Good"
    assert lv["Agrees with the computed rating"] == "No"
    statuses = [c.status for c in result.criteria.values()]
    assert lv["Criteria scored"] == statuses.count("scored")
    assert lv["Criteria unanswered"] == statuses.count("unanswered") == 1  # A4 "Maybe"
    assert lv["Criteria not applicable by rule"] == 1  # B3: the adult did not lack capacity
    assert lv["Errors"] == 1
    # every non-personal case field with its label; personal ones left out
    assert lv["Team"] == "North"
    assert lv["Agency"] == "Council"
    assert lv["Auditor"] == "Ophelia Xanthe"
    assert lv["Type(s) of risk"] == "Neglect and Acts of Omission; Physical Abuse"
    assert lv["Lacked capacity"] == "No, they did not lack capacity"
    assert lv["Date of concern"] is None
    assert "Adult's name" not in lv and "Date of birth" not in lv
    text = "\n".join(every_value(path)) + "".join(xml_parts(path).values())
    for value in PERSONAL:
        assert value not in text


def test_criteria_sheet(written: tuple[Path, Case, CaseResult], msp_core: Template) -> None:
    path, case, result = written
    ws = openpyxl.load_workbook(path)["Criteria"]
    data = rows(ws)
    assert data[0] == ["Section", "ID", "Question", "Answer", "Status", "Points", "Max", "Weight", "Critical",
                       "Attainment", "Evidence", "Comment", "Location"]
    assert [r[1] for r in data[1:]] == list(msp_core.criteria)
    by_id = {r[1]: (i + 2, r) for i, r in enumerate(data[1:])}
    row, a1 = by_id["A1"]
    assert a1 == ["Voice, wishes and outcomes", "A1", msp_core.criteria["A1"].text, "No", "Scored", 0, 1, 3,
                  "Critical", 0, "Outcomes were not recorded.", "Ask at the start.", "answers.A1"]
    assert fill(ws.cell(row, 4)) == RED and fill(ws.cell(row, 10)) == RED  # the answer text sits on the colour
    assert ws.cell(row, 10).number_format == "0.0%"
    row, a2 = by_id["A2"]
    assert a2[3:10] == ["Partly", "Scored", 0.5, 1, 2, None, 0.5]
    assert fill(ws.cell(row, 4)) == AMBER
    row, a3 = by_id["A3"]
    assert a3[3:10] == ["Not applicable", "Excluded", None, 1, 2, None, None]
    assert fill(ws.cell(row, 4)) == GREY
    _, a4 = by_id["A4"]
    assert a4[3:5] == ["Maybe (not a recognised answer)", "Unanswered"]
    _, b3 = by_id["B3"]
    assert b3[3:5] == ["Yes (ignored: does not apply)", "Not applicable (rule)"]
    row, a5 = by_id["A5"]
    assert a5[3] == "Yes" and a5[9] == 1 and fill(ws.cell(row, 4)) == GREEN
    assert ws.freeze_panes == "C2"
    assert ws.page_setup.orientation == "landscape"
    assert ws.auto_filter.ref == f"A1:M{len(msp_core.criteria) + 1}"
    assert ws.column_dimensions["C"].width > 40


def test_dimensions_sheet(written: tuple[Path, Case, CaseResult], msp_core: Template) -> None:
    path, case, result = written
    data = rows(openpyxl.load_workbook(path)["Dimensions"])
    assert data[0] == ["Dimension", "Item", "Title", 'Group / "I" statement', "Score", "Band"]
    expected = []
    for dim_id, dim in msp_core.all_dimensions().items():
        for item in dim.items:
            score = result.dimensions[dim_id][item.id]
            expected.append([dim.title, item.id, item.title, item.statement or item.group or item.description,
                             score, msp_core.band_for(score) or "Not scored"])
    assert data[1:] == expected
    assert [r[0] for r in data[1:]].count("Sections") == len(msp_core.sections)
    empowerment = next(r for r in data if r[1] == "empowerment")
    assert empowerment[3].startswith("I am asked what I want as the outcomes")
    step7 = next(r for r in data if r[0] == "MSP essential steps" and r[1] == "7")
    assert step7[3] == msp_core.dimensions["step"].item("7").group


def test_issues_and_notes(written: tuple[Path, Case, CaseResult]) -> None:
    path, case, result = written
    wb = openpyxl.load_workbook(path)
    issues = rows(wb["Issues"])
    assert issues[0] == ["Severity", "Code", "Message", "Location"]
    # The auditor's own workbook shows the full message, quoting what was typed.
    assert [{**i.to_dict(), "message": i.message} for i in result.issues] == [
        {"severity": r[0], "code": r[1], "message": r[2], "location": r[3]} for r in issues[1:]
    ]
    unknown = next(r for r in issues if r[1] == "unknown-answer")
    assert unknown[0] == "error" and "'Maybe' is not an answer for A4" in unknown[2] and unknown[3] == "answers.A4"
    assert rows(wb["Notes"]) == [["Notes"], ["First paragraph."], ["Second paragraph."]]


def test_no_notes_sheet_without_notes(tmp_path: Path, msp_core: Template) -> None:
    doc = form(msp_core)
    del doc["notes"]
    del doc["answers"]["B3"]  # it does not apply to this case: answering it is a warning
    case, result = read_case(tmp_path, msp_core, doc)
    path = tmp_path / "c.xlsx"
    write_case_workbook(msp_core, case, result, path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "Criteria", "Dimensions", "Issues"]
    assert rows(wb["Issues"])[1] == ["No issues", None, None, None]
    assert label_values(wb["Summary"])["Agrees with the computed rating"] == "No"  # Outstanding vs Good
    assert label_values(wb["Summary"])["Rating"] == "Outstanding"


# --------------------------------------------------------------------------- hostile text

HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+SUM(1,2)",
    "@SUM(A1)",
    "-2+3",
    "ctl\x00\x07\x1bchars",
    "lone\ud800surrogate",
    "x" * 40_000,
    "<r><t>rich</t></r>",
]
CLEAN = [
    '=HYPERLINK("http://x","y")', "+SUM(1,2)", "@SUM(A1)", "-2+3", "ctlchars", "lonesurrogate", None,
    "<r><t>rich</t></r>",
]


def test_hostile_text_arrives_as_plain_text(tmp_path: Path, msp_core: Template) -> None:
    answers = {
        cid: Answer("yes", "yes", evidence=HOSTILE[i % len(HOSTILE)], comment=HOSTILE[(i + 1) % len(HOSTILE)],
                    location="=A1")
        for i, cid in enumerate(msp_core.criteria)
    }
    case = Case(
        id="=1+2", source="+cmd|' /C calc'!A0",
        fields={"case_ref": "=1+2", "team": "=HYPERLINK(\"http://x\",\"y\")", "auditor": "-2+3\x00",
                "agency": "@SUM(A1)\ud800", "adult_name": "Zebedee Quonk"},
        answers=answers, notes="\n\n".join(HOSTILE),
    )
    result = score_case(msp_core, case)
    path = tmp_path / "hostile.xlsx"
    write_case_workbook(msp_core, case, result, path)
    assert_no_formulas(path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Criteria"]
    for i, r in enumerate(rows(ws)[1:]):
        for col, j in ((10, i), (11, i + 1)):
            got, want = r[col], CLEAN[j % len(HOSTILE)]
            if want is None:  # 40,000 characters: capped with a visible note
                assert len(got) <= 32_767 and got.startswith("x" * 30_000)
                assert re.search(r"… \[truncated: [\d,]+ more characters\]$", got)
            else:
                assert got == want
        assert r[12] == "=A1"
    lv = label_values(wb["Summary"])
    assert lv["Case reference"] == "=1+2" and lv["Source file"] == "+cmd|' /C calc'!A0"
    assert lv["Team"] == '=HYPERLINK("http://x","y")'
    assert lv["Auditor"] == "-2+3" and lv["Agency"] == "@SUM(A1)"
    notes = [r[0] for r in rows(wb["Notes"])[1:]]
    assert notes[:6] == CLEAN[:6] and notes[7] == CLEAN[7]
    assert "Zebedee Quonk" not in "".join(every_value(path))


# --------------------------------------------------------------------------- files


def test_write_is_atomic(tmp_path: Path, msp_core: Template, monkeypatch: pytest.MonkeyPatch) -> None:
    case, result = read_case(tmp_path, msp_core, form(msp_core))
    folder = tmp_path / "out"
    folder.mkdir()
    path = folder / "C-1001.xlsx"
    path.write_bytes(b"the previous run")

    def boom(*args: Any) -> None:
        raise RuntimeError("disk trouble")

    monkeypatch.setattr(case_workbook, "_issues", boom)
    with pytest.raises(RuntimeError):
        write_case_workbook(msp_core, case, result, path)
    assert path.read_bytes() == b"the previous run"
    assert sorted(p.name for p in folder.iterdir()) == ["C-1001.xlsx"]  # no temporary file left


def test_same_case_gives_the_same_file(tmp_path: Path, msp_core: Template) -> None:
    case, result = read_case(tmp_path, msp_core, form(msp_core, A2="no"))
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_case_workbook(msp_core, case, result, a, generated="2026-04-01T09:00:00+00:00")
    write_case_workbook(msp_core, case, result, b, generated="2026-04-01T09:00:00+00:00")
    assert every_value(a) == every_value(b)
    assert a.read_bytes() == b.read_bytes()
    assert "<dcterms:created xsi:type=\"dcterms:W3CDTF\">2026-04-01T09:00:00Z" in xml_parts(a)["docProps/core.xml"]


def test_sink_names_files_safely_and_in_order(tmp_path: Path, msp_core: Template) -> None:
    ids = ["C/1", "C/1", "c/1", "../../evil", ".hidden", "CON", "ok-1.2"]
    out = tmp_path / "out"
    sink = CaseWorkbooks(msp_core, out, generated="2026-04-01T09:00:00+00:00")
    for case_id in ids:
        case = Case(id=case_id, source="in.json", fields={"case_ref": case_id},
                    answers={cid: Answer("yes", "yes") for cid in msp_core.criteria})
        sink(case, score_case(msp_core, case))
    names = [p.name for p in sink.written]
    assert names == ["C_1.xlsx", "C_1-2.xlsx", "c_1-3.xlsx", "___evil.xlsx", "hidden.xlsx", "_CON.xlsx", "ok-1.2.xlsx"]
    assert sorted(p.name for p in (out / "cases").iterdir()) == sorted(names)
    assert [p.name for p in out.iterdir()] == ["cases"]  # nothing outside the folder
    for case_id, p in zip(ids, sink.written):
        assert label_values(openpyxl.load_workbook(p)["Summary"])["Case reference"] == case_id


def test_sink_refuses_a_cases_folder_that_leads_outside(tmp_path: Path, msp_core: Template) -> None:
    from audit_cli.errors import AuditError

    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "cases").symlink_to(elsewhere, target_is_directory=True)
    case = Case(id="C-1", source="in.json", answers={cid: Answer("yes", "yes") for cid in msp_core.criteria})
    with pytest.raises(AuditError, match="outside the output folder"):
        CaseWorkbooks(msp_core, out)(case, score_case(msp_core, case))
    assert list(elsewhere.iterdir()) == []


def test_a_rerun_removes_workbooks_of_cases_no_longer_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from audit_cli.cli import app

    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "in"
    folder.mkdir()
    for ref in ("C-1", "C-2"):
        (folder / f"{ref}.json").write_text(json.dumps({"case": {"case_ref": ref}, "answers": {"A1": "yes"}}), encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["score", "in", "-o", "out", "--jobs", "1"]).exit_code == 0
    (tmp_path / "out" / "cases" / "my-notes.xlsx").write_bytes(b"the user's own file")
    (folder / "C-2.json").unlink()
    assert runner.invoke(app, ["score", "in", "-o", "out", "--jobs", "1"]).exit_code == 0
    names = sorted(p.name for p in (tmp_path / "out" / "cases").iterdir() if not p.name.startswith("."))
    assert names == ["C-1.xlsx", "my-notes.xlsx"]


def test_a_symlink_planted_under_a_draft_s_name_is_not_written_through(tmp_path: Path, msp_core: Template) -> None:
    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    (out / "cases").mkdir(parents=True)
    victim.write_bytes(b"keep me")
    (out / "cases" / ".pending-t.xlsx").symlink_to(victim)
    case = Case(id="C-1", source="in.json", answers={cid: Answer("yes", "yes") for cid in msp_core.criteria})
    from audit_cli.errors import AuditError

    with pytest.raises(AuditError, match="refusing to write through a link"):
        CaseWorkbooks(msp_core, out).draft(case, score_case(msp_core, case), "t")
    assert victim.read_bytes() == b"keep me"


def test_a_cases_folder_removed_during_a_run_is_made_again(tmp_path: Path, msp_core: Template) -> None:
    out = tmp_path / "out"
    out.mkdir()
    sink = CaseWorkbooks(msp_core, out)
    case = Case(id="C-1", source="in.json", answers={cid: Answer("yes", "yes") for cid in msp_core.criteria})
    sink(case, score_case(msp_core, case))
    shutil.rmtree(out / "cases")
    sink(replace(case, id="C-2"), score_case(msp_core, replace(case, id="C-2")))
    assert sorted(p.name for p in (out / "cases").iterdir()) == ["C-2.xlsx"]


def test_a_cases_folder_swapped_for_a_symlink_during_a_run_is_refused(tmp_path: Path, msp_core: Template) -> None:
    """The folder is resolved once per process, but every workbook checks that the path still
    leads to it: one swapped for a link to elsewhere mid-run is refused, as at the start."""
    from audit_cli.errors import AuditError

    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    sink = CaseWorkbooks(msp_core, out)
    case = Case(id="C-1", source="in.json", answers={cid: Answer("yes", "yes") for cid in msp_core.criteria})
    sink(case, score_case(msp_core, case))
    shutil.rmtree(out / "cases")
    (out / "cases").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(AuditError, match="outside the output folder"):
        sink(replace(case, id="C-2"), score_case(msp_core, replace(case, id="C-2")))
    assert list(elsewhere.iterdir()) == []
