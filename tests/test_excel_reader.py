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
from audit_cli.cellrefs import column_letter, sheet_ref
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


# --------------------------------------------------------------------------- body rows are not headers


ALL_IDS = list(msp_template().criteria)


def _score(case: Case) -> tuple[float | None, str | None, list[str]]:
    result = score_case(msp_template(), case)
    return result.score, result.rating, result.critical_failures


def test_answer_rows_holding_option_words_do_not_start_a_new_table(tmp_path: Path) -> None:
    """``ID | Question | Answer | RAG``: a body row holding ``Yes`` and ``Green`` (two words of one option) is not
    a two-row option header, and a row answered ``No`` (also a number-column header word) does not start a table."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Audit"
    ws.append(["Case reference", "C-1601"])
    ws.append(["ID", "Question", "Answer", "RAG"])
    for cid in ALL_IDS:
        answer = "No" if cid == "A3" else "Yes"
        ws.append([cid, question(cid), answer, "Red" if answer == "No" else "Green"])
    wb.save(tmp_path / "rag.xlsx")
    case = only_case(tmp_path / "rag.xlsx")
    assert values(case) == {cid: ("no" if cid == "A3" else "yes") for cid in ALL_IDS}
    assert case.answers["A1"].location == "Audit!C3"
    assert case.answers["A3"].location == "Audit!C5"
    assert case.answers["F3"].location == f"Audit!C{len(ALL_IDS) + 2}"
    assert case.issues == []
    score, rating, critical = _score(case)
    assert round(score or 0, 1) == 95.6
    assert (rating, critical) == ("Outstanding", [])


def test_no_answer_followed_by_rag_and_na_comment_rows(tmp_path: Path) -> None:
    """A1 answered ``No`` then A2 ``Yes`` with ``N/A`` in its comment, ``Y`` in an initials column, RAG words:
    none of these rows is a header."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Audit"
    ws.append(["Case reference", "C-3001"])
    ws.append([])
    ws.append(["ID", "Question", "Initials", "Answer", "RAG", "Evidence", "Comment"])
    typed = {"A1": "No", "A2": "Yes", "A3": "Partly", "A4": "No", "A5": "N/A"}
    rag = {"Yes": "Green", "Partly": "Amber", "No": "Red", "N/A": None}
    for cid in ALL_IDS:
        answer = typed.get(cid, "Yes")
        ws.append([cid, question(cid), "Y", answer, rag[answer], "seen", "N/A" if cid == "A2" else None])
    wb.save(tmp_path / "mixed.xlsx")
    case = only_case(tmp_path / "mixed.xlsx")
    expected = {"A1": "no", "A2": "yes", "A3": "partly", "A4": "no", "A5": "na"}
    assert values(case) == {cid: expected.get(cid, "yes") for cid in ALL_IDS}
    assert case.answers["A1"].location == "Audit!D4"
    assert case.answers["A2"].location == "Audit!D5"
    assert (case.answers["A2"].evidence, case.answers["A2"].comment) == ("seen", "N/A")
    assert case.issues == []
    assert _score(case)[2] == ["A1"]


def test_number_column_of_numbers_and_blanks_matches_rows_by_question_text(tmp_path: Path) -> None:
    """``No. | Audit question | Rating | Notes`` with numbers (or nothing) in the number column, curly
    apostrophes and doubled spaces in the question, answers ``No``: every row matched by its question."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Audit"
    ws.append(["Case reference", "C-1501"])
    ws.append([])
    ws.append(["No.", "Audit question", "Rating", "Notes"])
    options = ["Yes", "Partly", "No"]
    for k, cid in enumerate(ALL_IDS):
        text = question(cid).replace("'", "\u2019").replace(" ", "  ", 1) + " "
        ws.append([None if k % 3 == 0 else f"{k + 1}.", text, options[k % 3], "n"])
    ws.append([29, "Was the case closed with the adult\u2019s agreement?", "Yes"])
    wb.save(tmp_path / "qtext.xlsx")
    case = only_case(tmp_path / "qtext.xlsx")
    assert values(case) == {cid: options[k % 3].lower() for k, cid in enumerate(ALL_IDS)}
    assert case.answers["A3"].location == "Audit!C6"
    assert case.answers["A3"].comment == "n"
    last = len(ALL_IDS) + 4
    assert [(i.severity, i.code, i.location) for i in case.issues] == [("warning", "unknown-criterion", f"Audit!A{last}")]


def test_the_tools_own_excel_form_filled_in_by_hand(tmp_path: Path) -> None:
    """The blank form ``msp-audit form -f xlsx`` writes, filled in with openpyxl: A1 ``No`` and ``N/A`` in
    A2's comment must not turn the rows below into a header."""
    from audit_cli.forms import excel_form

    answers = ["No", "Yes", "Partly", "Yes", "Not applicable", "Yes", "No", "Yes", "Yes", "Yes", "Partly", "Yes",
               "Yes", "Yes", "Yes", "Yes", "Yes", "Yes", "Yes", "Yes", "Yes", "Yes", "Yes", "Yes", "Yes", "Yes",
               "Yes", "Unable to determine"]
    (tmp_path / "blank.xlsx").write_bytes(excel_form(msp_template()))
    wb = openpyxl.load_workbook(tmp_path / "blank.xlsx")
    details = {"Case reference": "2026-0002", "Team": "North", "Lacked capacity": "Yes, they lacked capacity",
               "Auditor's overall judgement": "Good"}
    for row in wb["Case details"].iter_rows(min_row=2):
        if row[0].value in details:
            row[1].value = details[row[0].value]
    rows: dict[str, int] = {}
    for row in wb["Audit"].iter_rows(min_row=2):
        if row[0].value in ALL_IDS:
            cid = row[0].value
            rows[cid] = row[0].row
            row[3].value = answers[len(rows) - 1]
            row[4].value = "SECRET EVIDENCE"
            if cid == "A2":
                row[5].value = "N/A"
    wb.save(tmp_path / "2026-0002.xlsx")
    case = only_case(tmp_path / "2026-0002.xlsx")
    assert case.id == "2026-0002"
    words = {"No": "no", "Yes": "yes", "Partly": "partly", "Not applicable": "na", "Unable to determine": "unknown"}
    assert values(case) == {cid: words[a] for cid, a in zip(ALL_IDS, answers)}
    assert case.answers["A1"].location == f"Audit!D{rows['A1']}"
    assert case.answers["A2"].comment == "N/A"
    assert [i for i in case.issues if i.severity == "error"] == []
    score, rating, critical = _score(case)
    assert round(score or 0, 1) == 86.7
    assert (rating, critical) == ("Requires improvement", ["A1"])


def test_a_real_header_below_a_table_still_starts_a_new_table(tmp_path: Path) -> None:
    """Header words, no criterion named: a second table. A row naming a criterion with header-like words is not."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Audit"
    ws.append(["ID", "Question", "Answer", "Comment"])
    ws.append(["A1", question("A1"), "No", "N/A"])
    ws.append(["A2", "Question", "Yes", "No"])  # header words and two options, but it names A2
    ws.append([])
    ws.append(["Ref", "Question", "Yes", "Partly", "No", "N/A"])
    ws.append(["B1", question("B1"), None, None, "x"])
    wb.save(tmp_path / "two.xlsx")
    case = only_case(tmp_path / "two.xlsx")
    assert values(case) == {"A1": "no", "A2": "yes", "B1": "no"}
    assert case.answers["A2"].location == "Audit!C3"
    assert case.answers["A2"].comment == "No"
    assert case.answers["B1"].location == "Audit!E6"


def test_two_row_header_needs_option_labels_that_match_no_criterion(tmp_path: Path) -> None:
    """Under ``ID | Question | Response``, a first body row with two option words is a body row: it names a
    criterion, and its cells are not all option labels."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Audit"
    ws.append(["ID", "Question", "Response", "Comments"])
    ws.append(["A1", question("A1"), "Yes", "No"])
    ws.append([None, "An extra local question", "Partly", "N/A"])
    ws.append(["A2", question("A2"), "Partly", "Yes"])
    wb.save(tmp_path / "first.xlsx")
    case = only_case(tmp_path / "first.xlsx")
    assert values(case) == {"A1": "yes", "A2": "partly"}
    assert (case.answers["A1"].location, case.answers["A1"].comment) == ("Audit!C2", "No")
    assert [(i.code, i.location) for i in case.issues if i.code != "missing-identifier"] == [
        ("unknown-criterion", "Audit!A3")
    ]


# --------------------------------------------------------------------------- option columns without an id column


def test_option_columns_without_an_id_column_keep_the_no_column(tmp_path: Path) -> None:
    """``Question | Yes | Partly | No | N/A | Evidence``: ``No`` is an option column of marks, not the criterion
    column; two marks in a row are an error at the row."""
    options = ["Yes", "Partly", "No", "N/A"]
    marks = ["x", "X", "✓", "✔", "☒", "☑", "Y"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Audit"
    ws.append(["Case reference", "O-3"])
    ws.append([])
    ws.append(["Question", *options, "Evidence"])
    expected: dict[str, str | None] = {}
    for k, cid in enumerate(ALL_IDS):
        row: list[object] = [question(cid), None, None, None, None, f"ev {cid}"]
        if cid == "A3":
            row[1] = row[3] = "x"
            expected[cid] = None
        else:
            row[1 + k % 4] = marks[k % len(marks)]
            expected[cid] = ["yes", "partly", "no", "na"][k % 4]
        ws.append(row)
    wb.save(tmp_path / "O-3.xlsx")
    case = only_case(tmp_path / "O-3.xlsx")
    assert values(case) == expected
    assert case.answers["A1"].location == "Audit!B4"
    assert case.answers["A2"].location == "Audit!C5"
    assert case.answers["A7"].location == "Audit!D10"  # a No mark
    assert case.answers["A7"].evidence == "ev A7"
    assert issues(case, "multiple-marks") == [("error", "A3: 2 options are marked (Yes, No)", "Audit!A6")]
    assert [i.code for i in case.issues] == ["multiple-marks"]
    score, rating, _ = _score(case)
    assert round(score or 0, 1) == 55.9
    assert rating == "Requires improvement"


# --------------------------------------------------------------------------- registers: false positives


def test_details_box_beside_the_first_answer_rows_is_not_a_register(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Audit"
    ws["A1"] = "MSP audit"
    ws["A4"], ws["B4"], ws["C4"], ws["D4"] = "ID", "Question", "Answer", "Evidence"
    box = [("Case reference", "C-1401"), ("Team", "North"), ("Adult's name", "Zebedee Quill")]
    for k, cid in enumerate(ALL_IDS[:6]):
        row = [cid, question(cid), "No" if cid == "A1" else "Yes", "seen", None]
        if k < len(box):
            row += list(box[k])
        ws.append(row)
    wb.save(tmp_path / "box.xlsx")
    result = read_file(tmp_path / "box.xlsx")
    assert result.issues == []
    [case] = result.cases
    assert case.id == "C-1401"
    assert case.fields == {"case_ref": "C-1401", "team": "North", "adult_name": "Zebedee Quill"}
    assert case.field_locations == {"case_ref": "Audit!G5", "team": "Audit!G6", "adult_name": "Audit!G7"}
    assert values(case) == {"A1": "no", **{cid: "yes" for cid in ALL_IDS[1:6]}}
    assert case.answers["A1"].location == "Audit!C5"
    assert case.issues == []


def test_case_reference_that_looks_like_a_criterion_id_is_not_a_register(tmp_path: Path) -> None:
    """``Case reference | F-1`` (F-1 reads as criterion F1) is a label and its value, not a register header."""
    wb = openpyxl.Workbook()
    front = wb.active
    front.title = "Case details"
    front.append(["Case details"])
    front.append(["Case reference", "F-1"])
    front.append(["Adult's name", "Zebedee Quill"])
    front.append(["Team", "North"])
    audit = wb.create_sheet("Audit")
    audit.append(["ID", "Question", "Answer", "Evidence"])
    audit.append(["A1", question("A1"), "No", "SECRET EVIDENCE"])
    audit.append(["F1", question("F1"), "Yes"])
    wb.save(tmp_path / "f1.xlsx")
    result = read_file(tmp_path / "f1.xlsx")
    assert result.issues == []
    [case] = result.cases
    assert case.id == "F-1"
    assert case.fields == {"case_ref": "F-1", "adult_name": "Zebedee Quill", "team": "North"}
    assert values(case) == {"A1": "no", "F1": "yes"}
    assert case.answers["F1"].location == "Audit!C3"
    assert case.issues == []


def test_register_with_one_criterion_column_is_still_a_register(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Register"
    ws.append(["Case reference", "Team", "A1"])
    ws.append(["R-1", "North", "Yes"])
    ws.append(["R-2", "South", "No"])
    wb.save(tmp_path / "one.xlsx")
    result = read_file(tmp_path / "one.xlsx")
    assert [(c.id, values(c), c.answers["A1"].location) for c in result.cases] == [
        ("R-1", {"A1": "yes"}, "Register!C2"), ("R-2", {"A1": "no"}, "Register!C3")
    ]


# --------------------------------------------------------------------------- registers: which column is the answer


def test_register_reads_the_bare_id_column_not_score_or_rag_helpers(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Register"
    ws.append(["Case reference", "Team", "A1 score", "A1 RAG", "A1", "A1 evidence", "A2 points", "A2 answer",
               "A2 rationale", "A3 (Yes/Partly/No)", "A3 notes", "A4 initials"])
    ws.append(["R-10", "North", 0, "Red", "No", "ev", 0.5, "Partly", "why", "Yes", "late", "JS"])
    wb.save(tmp_path / "helpers.xlsx")
    result = read_file(tmp_path / "helpers.xlsx")
    assert result.issues == []
    [case] = result.cases
    assert values(case) == {"A1": "no", "A2": "partly", "A3": "yes"}
    assert case.answers["A1"].location == "Register!E2"
    assert case.answers["A2"].location == "Register!H2"
    assert case.answers["A3"].location == "Register!J2"
    assert (case.answers["A1"].evidence, case.answers["A2"].evidence, case.answers["A3"].comment) == (
        "ev", "why", "late")
    assert case.issues == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("A1", ("A1", "answer")),
        ("a1 answer", ("A1", "answer")),
        ("A1 - Judgement", ("A1", "answer")),
        ("A1 (Yes/Partly/No)", ("A1", "answer")),
        ("A1 evidence", ("A1", "evidence")),
        ("A1: rationale", ("A1", "evidence")),
        ("A1 - comment", ("A1", "comment")),
        ("A1 notes", ("A1", "comment")),
        ("A1 score", ("A1", "other")),
        ("A1 RAG", ("A1", "other")),
        ("Team", None),
    ],
)
def test_register_column_suffixes(header: str, expected: tuple[str, str] | None) -> None:
    from audit_cli.readers.common import index_for
    from audit_cli.readers.excel_reader import register_column

    assert register_column(index_for(msp_template()), header) == expected


def test_register_column_led_by_the_id_and_its_question() -> None:
    from audit_cli.readers.common import index_for
    from audit_cli.readers.excel_reader import register_column

    index = index_for(msp_template())
    assert register_column(index, f"A1. {question('A1')}") == ("A1", "answer")
    assert register_column(index, f"A1 {question('A1')[:30]}…") == ("A1", "answer")


# --------------------------------------------------------------------------- no answer table


def test_outcome_header_is_an_answer_column(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Case reference", "C-1202"])
    ws.append(["Ref", "Question", "Outcome"])
    ws.append(["A1", question("A1"), "Yes"])
    ws.append(["A2", question("A2"), "No"])
    wb.save(tmp_path / "outcome.xlsx")
    case = only_case(tmp_path / "outcome.xlsx")
    assert values(case) == {"A1": "yes", "A2": "no"}
    assert case.answers["A2"].location == "Sheet!C4"
    assert case.issues == []


def test_form_without_an_answer_table_warns_once(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Case reference", "C-1203"])
    ws.append(["Ref", "Question", "Compliance"])
    ws.append(["A1", question("A1"), "Yes"])
    wb.save(tmp_path / "no_table.xlsx")
    result = read_bytes((tmp_path / "no_table.xlsx").read_bytes(), ".xlsx", msp_template(), "cases/no_table.xlsx")
    [case] = result.cases
    assert case.answers == {}
    assert [(i.severity, i.code, i.message, i.location) for i in case.issues] == [
        ("warning", "no-answer-table",
         "no answer table found in no_table.xlsx: no header row with a criterion or question column (ID, Ref, No., "
         "Question) and an answer column (Answer, Response, Judgement, Rating) or option columns (Yes, Partly, No, "
         "N/A); none of its answers are read", None)
    ]


def test_register_summary_rows_are_not_cases(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "register.xlsx"
    register_workbook(path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Register"]
    ws.cell(12, 1, "Total")
    ws.cell(12, 4, 3)
    ws.cell(13, 1, " average ")
    ws.cell(13, 4, "=COUNTA(D5:D10)")
    wb.save(path)
    result = read_file(path)
    assert [c.id for c in result.cases] == ["R-1", "R-2", "R-3"]
    assert [(i.code, i.location) for i in result.issues if i.code == "summary-row"] == [
        ("summary-row", "Register!A12"), ("summary-row", "Register!A13")]


def test_a_template_that_has_read_a_register_still_travels_to_worker_processes(tmp_path: Path) -> None:
    """Header lookups are kept on the template; a template pickled for a worker takes them along
    (rebuilt there) and reads the same."""
    import pickle

    from audit_cli.templates import load_template

    register_workbook(tmp_path / "register.xlsx")
    data = (tmp_path / "register.xlsx").read_bytes()
    template = load_template("msp-core")
    first = excel_reader.read(data, template, "register.xlsx")
    copy = pickle.loads(pickle.dumps(template))
    again = excel_reader.read(data, copy, "register.xlsx")
    assert [(c.id, values(c), c.fields) for c in again.cases] == [(c.id, values(c), c.fields) for c in first.cases]
    assert again.issues == first.issues
