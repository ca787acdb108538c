"""The Excel reader on forms and registers made by hand the way councils make them."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import openpyxl
import pytest

from audit_cli.api import run_audit
from audit_cli.errors import ReadError
from audit_cli.model import Case, Issue
from audit_cli.readers import ReadResult, excel_reader, json_reader, read_bytes
from audit_cli.readers.common import CaseBuilder
from audit_cli.readers.excel_reader import column_letter, sheet_ref
from audit_cli.readers.grid import Grid, Row, read_form_grid
from audit_cli.scoring import score_case

from readers_fixtures import (
    COUNCIL_COMMENT_A1,
    COUNCIL_EVIDENCE_A1,
    COUNCIL_FIELDS,
    COUNCIL_VALUES,
    MARK_ROWS,
    MARK_VALUES,
    as_xlsm,
    bad_values_workbook,
    council_excel_form,
    council_json_equivalent,
    dates_and_formulas_workbook,
    msp_template,
    no_column_ambiguity_form,
    option_columns_form,
    question,
    register_workbook,
    tables_over_sheets_form,
    two_tables_one_sheet_form,
)


def read_file(path: Path) -> ReadResult:
    return read_bytes(path.read_bytes(), path.suffix, msp_template(), path.name)


def only_case(path: Path) -> Case:
    result = read_file(path)
    assert len(result.cases) == 1
    return result.cases[0]


def values(case: Case) -> dict[str, str | None]:
    return {cid: a.value for cid, a in case.answers.items()}


def issues(case: Case, code: str) -> list[tuple[str, str, str | None]]:
    return [(i.severity, i.message, i.location) for i in case.issues if i.code == code]


# --------------------------------------------------------------------------- the council form


def test_council_form_answers_with_their_cells(tmp_path: Path) -> None:
    form = council_excel_form(tmp_path / "council.xlsx")
    case = only_case(form.path)
    assert values(case) == COUNCIL_VALUES
    for cid, row in form.rows.items():
        assert case.answers[cid].location == f"Audit!E{row}"
    assert case.answers["A4"].location == "Audit!E9"
    a1 = case.answers["A1"]
    assert (a1.evidence, a1.comment) == (COUNCIL_EVIDENCE_A1, COUNCIL_COMMENT_A1)
    assert case.answers["A3"].raw == "Fully met"


def test_council_form_fields_scattered_over_the_sheet(tmp_path: Path) -> None:
    form = council_excel_form(tmp_path / "council.xlsx")
    case = only_case(form.path)
    assert case.id == "C-1001"
    assert case.fields == COUNCIL_FIELDS
    assert case.field_locations["case_ref"] == "'Case details'!D4"  # a blank cell between label and value
    assert case.field_locations["agency"] == "'Case details'!F5"  # "agency?" in E5
    assert case.field_locations["concern_date"] == "'Case details'!C7"
    last = max(form.rows.values())
    assert case.field_locations["auditor"] == f"Audit!C{last + 2}"  # a sign-off line under the table
    assert case.field_locations["judgement"] == f"Audit!E{last + 4}"


def test_council_form_has_no_problems_but_the_unanswered(tmp_path: Path) -> None:
    """Title rows, merged section headings, initials and RAG columns, blank rows and sign-off
    lines raise nothing: no unknown answers, no unknown criteria, no field errors."""
    case = only_case(council_excel_form(tmp_path / "council.xlsx").path)
    assert case.issues == []


def test_council_form_scores_as_its_json_twin(tmp_path: Path) -> None:
    form = council_excel_form(tmp_path / "council.xlsx")
    (tmp_path / "twin").mkdir()
    twin = tmp_path / "twin" / "twin.json"
    twin.write_bytes(council_json_equivalent())
    template = msp_template()
    report = run_audit([form.path], template)
    assert [i.status for i in report.inputs] == ["read"]
    [excel_case] = report.cases
    json_case = json_reader.read(twin.read_bytes(), template, "twin.json").cases[0]
    expected = score_case(template, json_case)
    assert excel_case["id"] == "C-1001"
    assert excel_case["score"] == pytest.approx(expected.score, abs=1e-12)
    assert excel_case["score"] is not None
    assert excel_case["rating"] == expected.rating
    assert excel_case["dimensions"] == expected.dimensions
    assert excel_case["criteria"]["A4"]["location"] == "Audit!E9"
    doc = json.dumps(report.to_dict())
    assert "Jane Doe" not in doc and COUNCIL_EVIDENCE_A1 not in doc


# --------------------------------------------------------------------------- other layouts


def test_two_tables_on_one_sheet_and_question_text_matching(tmp_path: Path) -> None:
    two_tables_one_sheet_form(tmp_path / "two.xlsx")
    case = only_case(tmp_path / "two.xlsx")
    assert values(case) == {"A1": "yes", "A2": "no", "A3": "partly", "C1": "no", "C3": "yes"}
    assert case.answers["A3"].location == "Audit!C5"  # empty id cell: matched by its question
    assert case.answers["C3"].location == "Audit!C10"  # unknown id "X?": matched by its question
    assert case.answers["A1"].evidence == "Seen in first contact record"
    assert case.answers["C1"].comment == "Delay of two weeks"  # "Notes" column
    assert case.id == "T-2"
    assert [i for i in case.issues if i.severity == "error" or i.code == "unknown-criterion"] == []


def test_tables_spread_over_sheets(tmp_path: Path) -> None:
    tables_over_sheets_form(tmp_path / "sheets.xlsx")
    case = only_case(tmp_path / "sheets.xlsx")
    assert case.id == "T-3"
    assert values(case) == {"A1": "yes", "A2": "partly", "C1": "no", "C2": "na"}
    assert case.answers["A2"].location == "Voice!C4"
    assert case.answers["C2"].location == "'Risk and safety'!C5"


def test_number_column_no_dot_beside_the_no_option(tmp_path: Path) -> None:
    no_column_ambiguity_form(tmp_path / "no.xlsx")
    case = only_case(tmp_path / "no.xlsx")
    assert values(case) == {"A1": "yes", "A2": "no", "A3": "partly"}
    assert case.answers["A2"].location == "Audit!E4"
    assert case.answers["A1"].comment == "clear"
    assert [i for i in case.issues if i.severity == "error"] == []


def test_number_column_holding_plain_numbers_matches_by_question(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Audit"
    ws.append(["No.", "Question", "Yes", "Partly", "No", "N/A"])
    ws.append([1, question("A1"), None, None, "x", None])
    ws.append([2, question("A2"), "x", None, None, None])
    wb.save(tmp_path / "numbers.xlsx")
    case = only_case(tmp_path / "numbers.xlsx")
    assert values(case) == {"A1": "no", "A2": "yes"}
    assert case.answers["A1"].location == "Audit!E2"


def test_one_column_per_option_every_mark_spelling(tmp_path: Path) -> None:
    form = option_columns_form(tmp_path / "marks.xlsx")
    case = only_case(form.path)
    got = values(case)
    for cid, _, _ in MARK_ROWS:
        assert got[cid] == MARK_VALUES[cid], cid
    col = {"Yes": "C", "Partly": "D", "No": "E", "N/A": "F"}
    for cid, head, _ in MARK_ROWS:
        assert case.answers[cid].location == f"Checklist!{col[head]}{form.rows[cid]}"
    assert got["C3"] == "partly"  # an empty box is no mark
    assert got["C1"] is None and got["C2"] is None and got["C4"] is None


def test_one_column_per_option_two_marks_is_an_error(tmp_path: Path) -> None:
    form = option_columns_form(tmp_path / "marks.xlsx")
    case = only_case(form.path)
    row = form.rows["C1"]
    assert issues(case, "multiple-marks") == [("error", "C1: 2 options are marked (Yes, No)", f"Checklist!A{row}")]
    assert issues(case, "unknown-mark") == [
        ("error", "'?' in the Yes column is not a mark for C4 (use x, ✓ or Y)", f"Checklist!C{form.rows['C4']}")
    ]
    result = score_case(msp_template(), case)
    assert result.criteria["C1"].status == "unanswered"
    assert result.criteria["C2"].status == "unanswered"
    unanswered = {i.message for i in result.issues if i.code == "unanswered"}
    assert "C2 is not answered" in unanswered and "C1 is not answered" not in unanswered


def test_two_level_header_with_options_under_a_merged_answer_cell(tmp_path: Path) -> None:
    """``Response`` merged over four columns on row 3, the options beneath it on row 4."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Audit"
    ws["A1"] = "Audit"
    ws["A3"], ws["B3"], ws["C3"], ws["G3"] = "ID", "Question", "Response", "Evidence"
    ws.merge_cells("C3:F3")
    ws.merge_cells("A3:A4")
    for col, head in zip("CDEF", ("Yes", "Partly", "No", "N/A")):
        ws[f"{col}4"] = head
    ws.append(["A1", question("A1"), None, "✓", None, None, "seen"])
    ws.append(["A2", question("A2"), None, None, None, "✓"])
    wb.save(tmp_path / "twolevel.xlsx")
    case = only_case(tmp_path / "twolevel.xlsx")
    assert values(case) == {"A1": "partly", "A2": "na"}
    assert case.answers["A1"].location == "Audit!D5"
    assert case.answers["A1"].evidence == "seen"


def test_checkbox_glyphs_in_an_answer_cell(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Audit"
    ws.append(["ID", "Question", "Answer"])
    ws.append(["A1", question("A1"), "☒ Yes ☐ Partly ☐ No"])
    ws.append(["A2", question("A2"), "Yes ☐ Partly ☑ No □"])
    ws.append(["A3", question("A3"), "☑ Yes ☐ Partly ☑ No"])
    ws.append(["A4", question("A4"), "☐ Yes ☐ Partly ☐ No"])
    wb.save(tmp_path / "glyphs.xlsx")
    case = only_case(tmp_path / "glyphs.xlsx")
    assert values(case) == {"A1": "yes", "A2": "partly", "A3": None, "A4": None}
    assert issues(case, "multiple-marks") == [("error", "A3: 2 options are marked (Yes, No)", "Audit!C4")]


def test_row_with_an_answer_and_no_criterion_is_a_warning(tmp_path: Path) -> None:
    bad_values_workbook(tmp_path / "bad.xlsx")
    case = only_case(tmp_path / "bad.xlsx")
    assert issues(case, "unknown-criterion") == [
        ("warning", "this row has an answer but 'Z9' is not a criterion of msp-core; it is ignored", "Audit!A8")
    ]


# --------------------------------------------------------------------------- values and their errors


def test_unknown_answer_is_an_error_at_its_cell(tmp_path: Path) -> None:
    bad_values_workbook(tmp_path / "bad.xlsx")
    case = only_case(tmp_path / "bad.xlsx")
    assert issues(case, "unknown-answer") == [
        ("error", "'Maybe' is not an answer for A4 (Yes, Partly, No, Not applicable, Unable to determine)", "Audit!C7")
    ]
    assert Issue("error", "unknown-answer", issues(case, "unknown-answer")[0][1], "Audit!C7").line("bad.xlsx") == (
        "bad.xlsx: Audit!C7: error: 'Maybe' is not an answer for A4 (Yes, Partly, No, Not applicable, "
        "Unable to determine)"
    )
    assert values(case) == {"A1": "yes", "A2": "no", "A3": "partly", "A4": None}


def test_unknown_choice_and_bad_date_are_errors_at_their_cells(tmp_path: Path) -> None:
    bad_values_workbook(tmp_path / "bad.xlsx")
    case = only_case(tmp_path / "bad.xlsx")
    assert issues(case, "bad-field-value") == [
        ("error", "Date of concern: '31/02/2024' is not a real date", "Audit!E1"),
        ("error", "Lacked capacity: 'Perhaps' is not one of the choices for Lacked capacity (Yes, they lacked "
                  "capacity, No, they did not lack capacity, Don't know, Not recorded)", "Audit!B2"),
    ]
    assert "concern_date" not in case.fields and "lacked_capacity" not in case.fields


def test_real_dates_iso_and_uk_text_and_cached_formula_values(tmp_path: Path) -> None:
    dates_and_formulas_workbook(tmp_path / "dates.xlsx")
    case = only_case(tmp_path / "dates.xlsx")
    assert case.id == "C-2002"  # a formula's cached value
    assert case.fields["concern_date"] == "2024-03-05"  # a real Excel date
    assert case.fields["closed_date"] == "2024-04-10"  # ISO text
    assert case.fields["audit_date"] == "2024-05-12"  # dd/mm/yyyy text
    assert case.fields["team"] == "NORTH"
    assert case.field_locations["case_ref"] == "'Case details'!B1"
    assert case.answers["A1"].value == "yes"
    assert case.answers["A1"].location == "Audit!C2"
    assert [i for i in case.issues if i.severity == "error"] == []


def test_form_without_identifier_falls_back_to_the_file_name(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["ID", "Question", "Answer"])
    ws.append(["A1", question("A1"), "Yes"])
    wb.save(tmp_path / "no-ref.xlsx")
    result = read_bytes((tmp_path / "no-ref.xlsx").read_bytes(), ".xlsx", msp_template(), "cases/no-ref.xlsx")
    [case] = result.cases
    assert case.id == "no-ref"
    assert issues(case, "missing-identifier") == [
        ("warning", "no Case reference found; the file name 'no-ref' is used instead", None)
    ]
    assert case.answers["A1"].location == "Sheet!C2"


def test_xlsm_is_read_like_xlsx(tmp_path: Path) -> None:
    form = council_excel_form(tmp_path / "council.xlsx")
    as_xlsm(form.path, tmp_path / "council.xlsm")
    xlsm = only_case(tmp_path / "council.xlsm")
    xlsx = only_case(form.path)
    assert values(xlsm) == values(xlsx) == COUNCIL_VALUES
    assert xlsm.fields == xlsx.fields


# --------------------------------------------------------------------------- registers


def test_register_reads_a_case_per_row_below_a_header_on_row_4(tmp_path: Path) -> None:
    register_workbook(tmp_path / "register.xlsx")
    result = read_file(tmp_path / "register.xlsx")
    assert [(c.id, c.location) for c in result.cases] == [
        ("R-1", "Register!A5"), ("R-2", "Register!A7"), ("R-3", "Register!A10")
    ]
    r1, r2, r3 = result.cases
    assert values(r1) == {"A1": "yes", "A2": "partly", "C1": "no"}
    assert r1.answers["A1"].evidence == "Seen in chronology"
    assert r1.answers["A2"].comment == "Late"
    assert r1.answers["C1"].location == "Register!H5"
    assert r1.fields == {"case_ref": "R-1", "team": "North", "concern_date": "2024-01-15",
                         "lacked_capacity": "Don't know"}
    assert values(r2) == {"A1": "no", "A2": "na", "C1": "yes"}
    assert r2.fields["concern_date"] == "2024-02-01"
    assert r3.fields["concern_date"] == "2024-03-03"
    assert issues(r3, "unknown-answer") == [
        ("error", "'Maybe' is not an answer for A2 (Yes, Partly, No, Not applicable, Unable to determine)",
         "Register!F10")
    ]


def test_register_row_without_reference_is_an_error_and_not_scored(tmp_path: Path) -> None:
    register_workbook(tmp_path / "register.xlsx")
    result = read_file(tmp_path / "register.xlsx")
    assert [(i.severity, i.code, i.message, i.location) for i in result.issues] == [
        ("error", "missing-identifier", "no Case reference: this case is not scored", "Register!A9")
    ]
    assert "East" not in [c.fields.get("team") for c in result.cases]


def test_register_through_run_audit(tmp_path: Path) -> None:
    register_workbook(tmp_path / "register.xlsx")
    report = run_audit([tmp_path / "register.xlsx"], msp_template())
    assert [c["id"] for c in report.cases] == ["R-1", "R-2", "R-3"]
    [record] = report.inputs
    assert (record.status, record.cases) == ("read", 3)
    assert report.has_findings


# --------------------------------------------------------------------------- files that cannot be read


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"PK\x03\x04 this is not really a zip", "not a valid Excel workbook"),
        (b"plain text, not a workbook at all", "not a valid Excel workbook"),
    ],
)
def test_unreadable_bytes_are_a_read_error(data: bytes, reason: str) -> None:
    with pytest.raises(ReadError) as info:
        excel_reader.read(data, msp_template(), "broken.xlsx")
    assert str(info.value).startswith(reason)
    assert "\n" not in str(info.value)


def test_a_word_document_named_xlsx_is_rejected_in_one_line(tmp_path: Path) -> None:
    from docx import Document

    Document().save(tmp_path / "letter.xlsx")
    report = run_audit([tmp_path / "letter.xlsx"], msp_template())
    [record] = report.inputs
    assert record.status == "rejected"
    assert record.error is not None and "\n" not in record.error


def test_a_far_away_cell_neither_hangs_nor_fills_memory(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["B1"] = "Case reference", "FAR-1"
    ws["XFD200000"] = "stray"
    wb.save(tmp_path / "far.xlsx")
    case = only_case(tmp_path / "far.xlsx")
    assert case.id == "FAR-1"


def test_cell_budget_refuses_an_oversized_sheet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(excel_reader, "MAX_CELLS", 500)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Big data"
    for r in range(1, 200):
        ws.append([r, r, r])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(ReadError, match=r"sheet 'Big data' is too large for an audit form \(over 500 cells"):
        excel_reader.read(buf.getvalue(), msp_template(), "big.xlsx")


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("name", "ref"),
    [("Audit", "Audit"), ("Case details", "'Case details'"), ("O'Brien", "'O''Brien'"), ("A1", "'A1'"),
     ("2024", "'2024'"), ("Sheet_1.v2", "Sheet_1.v2"), ("R1C1", "'R1C1'")],
)
def test_sheet_ref_quotes_like_excel(name: str, ref: str) -> None:
    assert sheet_ref(name) == ref


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 51, 701, 702, 16383)] == ["A", "Z", "AA", "AZ", "ZZ", "AAA", "XFD"]


def test_grid_rules_work_on_any_grid() -> None:
    """The layout rules need only rows of values: the same grid reads the same from any format."""
    grid = Grid(
        [Row(1, {0: "Case reference", 1: "G-1"}),
         Row(3, {0: "Ref", 1: "Question", 2: "Answer"}),
         Row(4, {0: "A1", 1: question("A1"), 2: dt.date(2024, 1, 1)}),
         Row(5, {0: "A2", 1: question("A2"), 2: True})],
        lambda r, c: f"R{r}C{c + 1}",
    )
    b = CaseBuilder(msp_template(), "grid")
    read_form_grid(grid, b)
    case = b.build()
    assert case is not None and case.id == "G-1"
    assert case.answers["A2"].value == "yes"  # TRUE reads as Yes
    assert [(i.code, i.location) for i in case.issues] == [("unknown-answer", "R4C3")]


# --------------------------------------------------------------------------- more hand-made field layouts


def test_row_of_labels_with_values_beneath_and_label_value_in_one_cell(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Front"
    ws.append(["Case reference", "Team", "Agency"])
    ws.append(["L-9", "East", "Police"])
    ws.append([])
    ws.append(["Enquiry type: other enquiry"])
    wb.save(tmp_path / "labels.xlsx")
    case = only_case(tmp_path / "labels.xlsx")
    assert case.fields == {"case_ref": "L-9", "team": "East", "agency": "Police", "enquiry_type": "Other Enquiry"}
    assert case.field_locations == {"case_ref": "Front!A2", "team": "Front!B2", "agency": "Front!C2",
                                    "enquiry_type": "Front!A4"}


def test_number_column_and_options_without_a_question_column(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Audit"
    ws.append(["No.", "Yes", "Partly", "No", "N/A"])
    ws.append(["A1", None, None, "x", None])
    ws.append(["A2", "x", None, None, None])
    wb.save(tmp_path / "bare.xlsx")
    case = only_case(tmp_path / "bare.xlsx")
    assert values(case) == {"A1": "no", "A2": "yes"}
    assert case.answers["A1"].location == "Audit!D2"


def test_option_header_row_alone_is_not_an_answer_table(tmp_path: Path) -> None:
    """``Yes | Partly | No | N/A`` with no criterion or question column (a lookup list) reads nothing."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Lists"
    ws.append(["Yes", "Partly", "No", "N/A"])
    ws.append(["x", None, None, None])
    wb.save(tmp_path / "lists.xlsx")
    case = only_case(tmp_path / "lists.xlsx")
    assert case.answers == {}


def test_details_box_beside_the_answer_table_on_the_same_rows(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Audit"
    ws.append(["ID", "Question", "Answer (Yes / Partly / No / N/A)", None, "Case reference", "BX-1"])
    ws.append(["A1", question("A1"), "Yes", None, "Team", "West"])
    ws.append(["A2", question("A2"), "No"])
    wb.save(tmp_path / "beside.xlsx")
    case = only_case(tmp_path / "beside.xlsx")
    assert values(case) == {"A1": "yes", "A2": "no"}
    assert case.fields == {"case_ref": "BX-1", "team": "West"}
    assert case.field_locations == {"case_ref": "Audit!F1", "team": "Audit!F2"}
    assert case.answers["A2"].location == "Audit!C3"
