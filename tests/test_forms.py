"""Blank forms: their layout, and the round trip — a form filled in scores exactly as the same answers in JSON."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from typer.testing import CliRunner

from audit_cli.cli import app
from audit_cli.forms import (
    AUDIT_SHEET,
    CASE_SHEET,
    CHECKED,
    EXCEL_HEADER,
    LISTS_SHEET,
    NOTES_HEADING,
    UNCHECKED,
    WORD_HEADER,
    describe_condition,
    excel_form,
    form_bytes,
    json_skeleton,
    word_form,
)
from audit_cli.model import Case, Issue, Template
from audit_cli.readers import read_bytes
from audit_cli.scoring import score_case
from audit_cli.templates import template_from_dict


LABELS = ["Yes", "Partly", "No", "Not applicable", "Unable to determine"]

# --------------------------------------------------------------------------- helpers


def read_one(data: bytes, suffix: str, template: Template, source: str = "form") -> tuple[Case, list[Issue]]:
    result = read_bytes(data, suffix, template, source + suffix)
    assert len(result.cases) == 1, (result.cases, result.issues)
    return result.cases[0], result.issues


def comparable(template: Template, case: Case) -> dict[str, Any]:
    """A scored case without where its values came from: what must not depend on the format."""
    d = score_case(template, case).to_dict()
    for key in ("source", "location"):
        d.pop(key)
    for c in d["criteria"].values():
        c.pop("location")
    d["issues"] = sorted((i["severity"], i["code"], i["message"]) for i in d["issues"])
    return d


def plan(template: Template, k: int) -> dict[str, tuple[str, str | None, str | None]]:
    """Form ``k``'s answers: criterion i gets option (i + k) of its scale, so ``max options``
    forms cover every (criterion, option) pair."""
    out = {}
    for i, (cid, crit) in enumerate(template.criteria.items()):
        options = template.scales[crit.scale].options
        o = options[(i + k) % len(options)]
        evidence = f"Evidence {cid}/{k}: case note 0{k + 1}/03/2025" if (i + k) % 3 else None
        comment = f"Comment {cid}/{k}" if (i + k) % 4 == 1 else None
        out[cid] = (o.label, evidence, comment)
    return out


def forms_needed(template: Template) -> int:
    return max(len(s.options) for s in template.scales.values())


def json_case(template: Template, fields: dict[str, Any], answers: dict[str, tuple[str, str | None, str | None]]) -> Case:
    """The same case given as JSON, read by the JSON reader: the reference every form must equal."""
    case_doc = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in fields.items()}
    doc = {
        "template": template.id,
        "case": case_doc,
        "answers": {cid: {"answer": a, "evidence": e, "comment": c} for cid, (a, e, c) in answers.items()},
    }
    case, issues = read_one(json.dumps(doc).encode(), ".json", template)
    assert issues == []
    return case


def fill_xlsx(blank: bytes, path: Path, template: Template, fields: dict[str, Any],
              answers: dict[str, tuple[str, str | None, str | None]]) -> Path:
    """Fill the generated workbook the way an auditor does: a value beside each label, a label in each answer cell."""
    src = path.with_suffix(".blank.xlsx")
    src.write_bytes(blank)
    wb = openpyxl.load_workbook(src)
    ws = wb[CASE_SHEET]
    label_rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    for fid, value in fields.items():
        r = label_rows[template.fields[fid].label]
        if isinstance(value, list):
            value = "; ".join(value)
        elif isinstance(value, dt.date):
            value = dt.datetime(value.year, value.month, value.day)
        ws.cell(r, 2).value = value
    ws = wb[AUDIT_SHEET]
    id_rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    for cid, (answer, evidence, comment) in answers.items():
        r = id_rows[cid]
        ws.cell(r, 4).value = answer
        ws.cell(r, 5).value = evidence
        ws.cell(r, 6).value = comment
    wb.save(path)
    return path


def fill_docx(blank: bytes, path: Path, template: Template, fields: dict[str, Any],
              answers: dict[str, tuple[str, str | None, str | None]]) -> Path:
    """Tick boxes by replacing ``☐ <label>`` with ``☒ <label>``, and type into the value cells."""
    src = path.with_suffix(".blank.docx")
    src.write_bytes(blank)
    doc = docx.Document(str(src))
    labels = {f.label: f for f in template.case_fields}
    ticked: set[str] = set()
    for table in doc.tables:
        for row in table.rows:
            cells = row.cells
            first = cells[0].text.strip()
            if len(cells) == 2 and first in labels and labels[first].id in fields:
                value = fields[labels[first].id]
                if isinstance(value, list):
                    value = "; ".join(value)
                elif isinstance(value, dt.date):
                    value = value.strftime("%d/%m/%Y")
                cells[1].text = str(value)
            elif first in answers:
                answer, evidence, comment = answers[first]
                for p in cells[2].paragraphs:
                    if p.text == f"{UNCHECKED} {answer}":
                        p.runs[0].text = f"{CHECKED} {answer}"
                        ticked.add(first)
                if evidence:
                    cells[3].text = evidence
                if comment:
                    cells[4].text = comment
    assert ticked == set(answers)
    doc.save(str(path))
    return path


def msp_fields(k: int) -> dict[str, Any]:
    """Case details for form ``k``: a choice, a multichoice, dates; capacity lacking so that B3 applies."""
    return {
        "case_ref": f"RT-{k:03d}",
        "judgement": ["Outstanding", "Good", "Requires improvement", "Inadequate"][k % 4],
        "adult_name": "Ada Example",
        "date_of_birth": dt.date(1941, 2, 3 + k),
        "team": "North Locality",
        "agency": ["Adult Social Care", "NHS Trust", "Police", "Housing", "Care Provider"][k % 5],
        "concern_date": dt.date(2025, 1 + k, 14),
        "closed_date": dt.date(2025, 3 + k, 28),
        "enquiry_type": "Section 42 Enquiry",
        "risk_types": [["Physical Abuse"], ["Neglect and Acts of Omission", "Self-Neglect"],
                       ["Financial or Material Abuse", "Domestic Abuse", "Modern Slavery"]][k % 3],
        "risk_location": "Care Home - Nursing",
        "risk_assessment_outcome": "Risk identified and action taken",
        "risk_outcome": "Risk reduced",
        "lacked_capacity": "Yes, they lacked capacity",
        "advocate_support": "Don't know",
        "asked_outcomes": "Yes they were asked and outcomes were expressed",
        "outcomes_achieved": "Partially Achieved",
    }


def mini_fields(k: int) -> dict[str, Any]:
    return {"ref": f"M-{k}", "lacked": "Yes", "types": ["Physical", "Financial"][: 1 + k % 2],
            "team": "South", "advocate": bool(k % 2), "closed": dt.date(2024, 12, 1 + k)}


@pytest.fixture(scope="module")
def blank_xlsx(msp_core: Template) -> bytes:
    return excel_form(msp_core, created=dt.datetime(2026, 1, 1))


@pytest.fixture(scope="module")
def blank_docx(msp_core: Template) -> bytes:
    return word_form(msp_core, created=dt.datetime(2026, 1, 1))


# --------------------------------------------------------------------------- JSON


def test_json_skeleton_lists_every_field_and_criterion_and_reads_as_unanswered(msp_core: Template) -> None:
    doc = json.loads(form_bytes(msp_core, "json"))
    assert doc == json_skeleton(msp_core)
    assert doc["template"] == "msp-core"
    assert list(doc["case"]) == [f.id for f in msp_core.case_fields]
    assert doc["case"]["risk_types"] == [] and doc["case"]["case_ref"] is None and doc["case"]["concern_date"] is None
    assert list(doc["answers"]) == list(msp_core.criteria)
    assert doc["answers"]["A1"] == {"answer": None, "evidence": None, "comment": None}
    case, file_issues = read_one(form_bytes(msp_core, "json"), ".json", msp_core, "msp-core-form")
    assert file_issues == [] and case.fields == {} and case.id == "msp-core-form"
    result = score_case(msp_core, case)
    assert result.score is None and result.rating is None
    assert {c.status for cid, c in result.criteria.items() if cid != "B3"} == {"unanswered"}
    assert result.criteria["B3"].status == "not_applicable"
    assert not [i for i in result.issues if i.severity == "error"]


# --------------------------------------------------------------------------- Excel layout


def test_excel_case_details_sheet(msp_core: Template, blank_xlsx: bytes, tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    path.write_bytes(blank_xlsx)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [CASE_SHEET, AUDIT_SHEET, LISTS_SHEET]
    assert wb[LISTS_SHEET].sheet_state == "veryHidden"
    ws = wb[CASE_SHEET]
    assert ws["A1"].value == "Making Safeguarding Personal: S42 enquiry case file audit"
    assert ws["A2"].value == "Template msp-core, version 1.0.0"
    labels = [ws.cell(5 + i, 1).value for i in range(len(msp_core.case_fields))]
    assert labels == [f.label for f in msp_core.case_fields]
    assert all(ws.cell(5 + i, 2).value is None for i in range(len(labels)))
    row = {f.id: 5 + i for i, f in enumerate(msp_core.case_fields)}
    # help as a comment on each label; values unlocked, labels locked; sheet protected without a password
    assert ws.cell(row["case_ref"], 1).comment.text.startswith("Case reference: The case or enquiry reference")
    assert "separate several values with ;" in ws.cell(row["risk_types"], 1).comment.text
    assert "Personal data" in ws.cell(row["adult_name"], 1).comment.text
    assert ws.protection.sheet is True and not ws.protection.password
    for fid, r in row.items():
        assert ws.cell(r, 2).protection.locked is False, fid
        assert ws.cell(r, 1).protection.locked is True, fid
    # validations: dropdowns for choices, date checks, free multichoice with a note on separators
    dv = {str(v.sqref): v for v in ws.data_validations.dataValidation}
    judgement = dv[f"B{row['judgement']}"]
    assert judgement.type == "list" and judgement.formula1 == '"Outstanding,Good,Requires improvement,Inadequate"'
    capacity = dv[f"B{row['lacked_capacity']}"]  # choices hold commas: the list lives on the hidden sheet
    assert capacity.type == "list" and capacity.formula1.startswith(f"'{LISTS_SHEET}'!$")
    col = capacity.formula1.split("!$")[1].split("$")[0]
    lists = wb[LISTS_SHEET]
    assert [lists[f"{col}{i}"].value for i in range(1, 5)] == list(msp_core.fields["lacked_capacity"].choices)
    for fid in ("date_of_birth", "audit_date", "concern_date", "closed_date"):
        assert dv[f"B{row[fid]}"].type == "date", fid
        assert ws.cell(row[fid], 2).number_format == "dd/mm/yyyy"
    multi = dv[f"B{row['risk_types']}"]
    assert multi.type is None  # "any": no restriction, several values typed with ;
    assert multi.prompt.startswith("Several values: separate them with ; (semicolon). Choices: Physical Abuse; ")
    assert dv[f"B{row['team']}"].type is None


def test_excel_audit_sheet(msp_core: Template, blank_xlsx: bytes, tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    path.write_bytes(blank_xlsx)
    ws = openpyxl.load_workbook(path)[AUDIT_SHEET]
    assert ws["A1"].value == "Making Safeguarding Personal: S42 enquiry case file audit (msp-core 1.0.0)"
    assert "A1:F1" in {str(r) for r in ws.merged_cells.ranges}
    assert [c.value for c in ws[3]] == list(EXCEL_HEADER)
    # section heading rows inside the table, then every criterion in template order
    assert ws["A4"].value == "Section 1: Voice, wishes and outcomes" and "A4:F4" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A5"].value == "A1" and ws["B5"].value == msp_core.criteria["A1"].text
    ids = [ws.cell(r, 1).value for r in range(4, ws.max_row + 1)]
    sections = [v for v in ids if str(v).startswith("Section ")]
    assert sections == [f"Section {n}: {s.title}" for n, s in enumerate(msp_core.sections, 1)]
    assert [v for v in ids if v not in sections] == list(msp_core.criteria)
    rows = {ws.cell(r, 1).value: r for r in range(4, ws.max_row + 1)}
    a1 = ws.cell(rows["A1"], 3).value
    assert a1.startswith("Critical question: No caps the case rating at Requires improvement.\nLook for")
    b3 = ws.cell(rows["B3"], 3).value
    assert b3.startswith('Answer only when Lacked capacity is "Yes, they lacked capacity"; otherwise leave the answer blank.')
    # a dropdown of the scale's labels covers every answer cell and nothing else
    covered: set[int] = set()
    for v in ws.data_validations.dataValidation:
        assert v.type == "list" and v.formula1 == '"Yes,Partly,No,Not applicable,Unable to determine"'
        for rng in v.sqref.ranges:
            assert rng.min_col == rng.max_col == 4
            covered |= set(range(rng.min_row, rng.max_row + 1))
    assert covered == {rows[c] for c in msp_core.criteria}
    for cid in msp_core.criteria:
        r = rows[cid]
        assert [ws.cell(r, c).protection.locked for c in range(1, 7)] == [True, True, True, False, False, False]
        assert ws.cell(r, 2).alignment.wrap_text and ws.cell(r, 3).alignment.wrap_text
    # frozen header, print set-up, protection without a password
    assert ws.freeze_panes == "A4"
    assert ws.print_title_rows == "$3:$3"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.page_setup.fitToWidth in (1, None) and ws.page_setup.fitToHeight == 0
    assert ws.protection.sheet is True and not ws.protection.password
    assert ws.protection.formatColumns is False  # False = allowed: auditors may widen columns
    assert ws.column_dimensions["B"].width > 50 and ws.column_dimensions["A"].width < 10


def test_excel_form_for_a_template_with_commas_and_long_lists(mini_doc: dict[str, Any], tmp_path: Path) -> None:
    mini_doc["scales"]["ypn"]["options"][2]["label"] = "No, not at all"
    mini_doc["case_fields"][1]["choices"] = ["Yes", *(f"Choice number {i} with quite a long name" for i in range(11))]
    tpl = template_from_dict(mini_doc)
    path = tmp_path / "m.xlsx"
    path.write_bytes(excel_form(tpl))
    wb = openpyxl.load_workbook(path)
    lists = wb[LISTS_SHEET]
    formulas = [v.formula1 for v in wb[AUDIT_SHEET].data_validations.dataValidation]
    # ypn's labels hold a comma: both runs of ypn answers share one list on the hidden sheet
    # (column B: column A holds the case details' long list, written first)
    ypn = f"'{LISTS_SHEET}'!$B$1:$B$5"
    assert sorted(formulas) == sorted([ypn, '"Excellent,Good,Adequate,Poor,Absent,Does not apply"', ypn])
    assert [lists[f"B{i}"].value for i in range(1, 6)] == ["Yes", "Partly", "No, not at all", "Not applicable",
                                                           "Unable to determine"]
    lacked = next(v for v in wb[CASE_SHEET].data_validations.dataValidation if str(v.sqref) == "B6")
    assert lacked.formula1 == f"'{LISTS_SHEET}'!$A$1:$A$12"
    assert lists["A12"].value == "Choice number 10 with quite a long name"


# --------------------------------------------------------------------------- Word layout


def test_word_form_layout(msp_core: Template, blank_docx: bytes, tmp_path: Path) -> None:
    path = tmp_path / "f.docx"
    path.write_bytes(blank_docx)
    doc = docx.Document(str(path))
    assert doc.core_properties.created == dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc).replace(tzinfo=None) or \
        doc.core_properties.created.replace(tzinfo=None) == dt.datetime(2026, 1, 1)
    section = doc.sections[0]
    assert section.page_width > section.page_height  # landscape
    headings = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[0] == ("Title", msp_core.title)
    assert headings[1] == ("Heading 1", "Case details")
    assert headings[2:-1] == [("Heading 1", f"Section {n}: {s.title}") for n, s in enumerate(msp_core.sections, 1)]
    assert headings[-1] == ("Heading 1", NOTES_HEADING)
    assert doc.paragraphs[-1].text == "" and doc.paragraphs[-2].text == NOTES_HEADING
    fields_table, *tables = doc.tables
    assert [r.cells[0].text for r in fields_table.rows] == [f.label for f in msp_core.case_fields]
    assert all(r.cells[1].text == "" for r in fields_table.rows)
    assert len(tables) == len(msp_core.sections)
    for table, sec in zip(tables, msp_core.sections):
        assert [c.text for c in table.rows[0].cells] == list(WORD_HEADER)
        assert table.rows[0]._tr.trPr.xpath("./w:tblHeader")  # header repeats on each page
        assert [r.cells[0].text for r in table.rows[1:]] == [c.id for c in sec.criteria]
        for row, crit in zip(table.rows[1:], sec.criteria):
            assert row.cells[1].paragraphs[0].text == crit.text
            assert row.cells[2].text == "\n".join(f"{UNCHECKED} {label}" for label in LABELS)
            assert row.cells[3].text == "" and row.cells[4].text == ""
    b3 = next(r for t in tables for r in t.rows if r.cells[0].text == "B3")
    assert 'Answer only when Lacked capacity is "Yes, they lacked capacity"' in b3.cells[1].text
    a1 = tables[0].rows[1]
    assert a1.cells[1].paragraphs[1].text == "Critical question: No caps the case rating at Requires improvement."
    assert a1.cells[1].paragraphs[2].text == msp_core.criteria["A1"].guidance


# --------------------------------------------------------------------------- blank forms read back


@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
def test_blank_form_reads_as_an_unanswered_case(msp_core: Template, fmt: str, blank_xlsx: bytes,
                                                blank_docx: bytes) -> None:
    data = blank_xlsx if fmt == "xlsx" else blank_docx
    case, file_issues = read_one(data, f".{fmt}", msp_core, "blank")
    assert case.fields == {}  # no guidance text or help line was taken for a value
    assert case.id == "blank"  # falls back to the file name
    assert [i.code for i in case.issues] == ["missing-identifier"] and file_issues == []
    assert all(a.value is None and a.raw is None for a in case.answers.values())
    result = score_case(msp_core, case)
    assert result.score is None
    assert {c.status for c in result.criteria.values()} == {"unanswered", "not_applicable"}


# --------------------------------------------------------------------------- round trip


def _round_trip(template: Template, fmt: str, blank: bytes, fields_for: Any, tmp_path: Path) -> None:
    fill = fill_xlsx if fmt == "xlsx" else fill_docx
    seen: set[tuple[str, str]] = set()
    for k in range(forms_needed(template)):
        fields, answers = fields_for(k), plan(template, k)
        path = fill(blank, tmp_path / f"filled-{k}.{fmt}", template, fields, answers)
        case, file_issues = read_one(path.read_bytes(), f".{fmt}", template, f"filled-{k}")
        assert file_issues == []
        reference = json_case(template, fields, answers)
        assert case.id == reference.id
        assert case.fields == reference.fields
        assert {cid: (a.value, a.evidence, a.comment) for cid, a in case.answers.items() if a.value} == \
            {cid: (a.value, a.evidence, a.comment) for cid, a in reference.answers.items()}
        assert comparable(template, case) == comparable(template, reference)
        seen |= {(cid, a.value) for cid, a in case.answers.items() if a.value}
    every = {(cid, o.value) for cid, crit in template.criteria.items() for o in template.scales[crit.scale].options}
    assert seen == every


@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
def test_round_trip_msp_core_every_option_of_every_criterion(msp_core: Template, fmt: str, blank_xlsx: bytes,
                                                            blank_docx: bytes, tmp_path: Path) -> None:
    _round_trip(msp_core, fmt, blank_xlsx if fmt == "xlsx" else blank_docx, msp_fields, tmp_path)


def test_round_trip_reads_case_fields_exactly(msp_core: Template, blank_xlsx: bytes, blank_docx: bytes,
                                              tmp_path: Path) -> None:
    fields = msp_fields(2)
    expected = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in fields.items()}
    assert expected["risk_types"] == ["Financial or Material Abuse", "Domestic Abuse", "Modern Slavery"]
    assert expected["concern_date"] == "2025-03-14"
    for fill, blank, fmt in ((fill_xlsx, blank_xlsx, "xlsx"), (fill_docx, blank_docx, "docx")):
        path = fill(blank, tmp_path / f"f.{fmt}", msp_core, fields, plan(msp_core, 0))
        case, _ = read_one(path.read_bytes(), f".{fmt}", msp_core)
        assert case.fields == expected, fmt


@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
def test_round_trip_other_template(mini: Template, fmt: str, tmp_path: Path) -> None:
    """Forms follow the template: two scales (one with six options), a boolean, a rule."""
    blank = excel_form(mini) if fmt == "xlsx" else word_form(mini)
    _round_trip(mini, fmt, blank, mini_fields, tmp_path)


def test_excel_answers_typed_by_hand_use_synonyms_and_errors_name_the_cell(msp_core: Template, blank_xlsx: bytes,
                                                                          tmp_path: Path) -> None:
    answers = {cid: ("Yes", None, None) for cid in msp_core.criteria}
    answers.update({"A2": ("n/a", None, None), "A3": ("partially met.", None, None), "A4": ("Maybe", None, None)})
    path = fill_xlsx(blank_xlsx, tmp_path / "hand.xlsx", msp_core, msp_fields(0), answers)
    case, _ = read_one(path.read_bytes(), ".xlsx", msp_core)
    assert case.answers["A2"].value == "na" and case.answers["A3"].value == "partly"
    assert case.answers["A4"].value is None
    row = 4 + list(msp_core.criteria).index("A4") + 1  # section row 4, then A1 at row 5
    assert [(i.code, i.location, i.message) for i in case.issues if i.severity == "error"] == [
        ("unknown-answer", f"{AUDIT_SHEET}!D{row}",
         "'Maybe' is not an answer for A4 (Yes, Partly, No, Not applicable, Unable to determine)")]


def test_word_two_ticked_boxes_are_an_error(msp_core: Template, blank_docx: bytes, tmp_path: Path) -> None:
    path = fill_docx(blank_docx, tmp_path / "two.docx", msp_core, msp_fields(0), plan(msp_core, 0))
    doc = docx.Document(str(path))
    cell = doc.tables[1].rows[1].cells[2]  # A1
    for p in cell.paragraphs:
        if p.text.startswith(UNCHECKED):
            p.runs[0].text = p.text.replace(UNCHECKED, CHECKED)
            break
    doc.save(str(path))
    case, _ = read_one(path.read_bytes(), ".docx", msp_core)
    assert case.answers["A1"].value is None
    errors = [(i.code, i.location) for i in case.issues if i.severity == "error"]
    assert errors == [("multiple-marks", "table 2, row 2")]


# --------------------------------------------------------------------------- plain words and the command


def test_describe_condition_combinators(mini: Template) -> None:
    cond = {"all": [{"field": "lacked", "equals": "Yes"},
                    {"any": [{"field": "types", "contains": "Neglect"}, {"field": "team", "present": True}]},
                    {"not": {"field": "lacked", "in": ["No", "Not recorded"]}}]}
    assert describe_condition(cond, mini) == (
        'Lacked capacity is "Yes" and (Types includes "Neglect" or Team is filled in) and '
        'it is not the case that Lacked capacity is one of "No", "Not recorded"')
    assert describe_condition({"field": "closed", "present": False}, mini) == "Closed is left blank"


def test_cli_form_default_name_refuses_to_overwrite_and_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    res = runner.invoke(app, ["form", "-f", "json"])
    assert res.exit_code == 0, res.output
    target = tmp_path / "msp-core-form.json"
    assert json.loads(target.read_text(encoding="utf-8"))["template"] == "msp-core"
    assert "wrote msp-core-form.json" in res.stderr
    target.write_text("mine", encoding="utf-8")
    res = runner.invoke(app, ["form", "-f", "json"])
    assert res.exit_code == 2
    assert res.stderr.strip() == "msp-audit: msp-core-form.json already exists; use --force to overwrite it"
    assert target.read_text(encoding="utf-8") == "mine"
    res = runner.invoke(app, ["form", "-f", "json", "--force"])
    assert res.exit_code == 0 and json.loads(target.read_text(encoding="utf-8"))["template"] == "msp-core"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["msp-core-form.json"]  # no temporary left behind


def test_cli_form_formats_and_out(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["form", "-f", "xlsx", "-o", str(tmp_path / "round.xlsx")])
    assert res.exit_code == 0, res.output
    assert openpyxl.load_workbook(tmp_path / "round.xlsx").sheetnames[:2] == [CASE_SHEET, AUDIT_SHEET]
    res = runner.invoke(app, ["form", "-o", str(tmp_path / "w.docx")])  # format from the suffix
    assert res.exit_code == 0, res.output
    assert docx.Document(str(tmp_path / "w.docx")).tables[1].rows[0].cells[0].text == "ID"
    res = runner.invoke(app, ["form", "-t", str(Path(__file__).parent / "scoring_base_template.json"),
                              "-f", "json", "-o", str(tmp_path / "mini.json")])
    assert res.exit_code == 0, res.output
    assert list(json.loads((tmp_path / "mini.json").read_text())["answers"]) == ["Q1", "Q2", "Q3", "Q4", "Q5"]
    for args, message in (
        (["form"], "msp-audit: choose a form format with -f xlsx, -f docx or -f json"),
        (["form", "-f", "xlsx", "-o", str(tmp_path / "x.docx")], "does not end in .xlsx"),
        (["form", "-f", "json", "-t", "no-such-template"], "no-such-template"),
    ):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, args
        assert message in res.stderr and "Traceback" not in res.output
    res = runner.invoke(app, ["form", "-f", "pdf"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["form", "-f", "json", "-o", str(tmp_path), "--force"])
    assert res.exit_code == 2 and "is a folder; give a file name" in res.stderr
    (tmp_path / "blocker").write_text("a file where a folder should be")
    res = runner.invoke(app, ["form", "-f", "json", "-o", str(tmp_path / "blocker" / "f.json")])
    assert res.exit_code == 2 and res.stderr.startswith(f"msp-audit: cannot write {tmp_path / 'blocker' / 'f.json'}: ")
    assert "Traceback" not in res.output and len(res.stderr.strip().splitlines()) == 1


def test_cli_form_help_has_an_example() -> None:
    res = CliRunner().invoke(app, ["form", "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0 and "Example: msp-audit form -f xlsx" in res.output
