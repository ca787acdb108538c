"""The Word reader on forms made by hand: tables, paragraphs, checkboxes of every kind, notes."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from docx import Document

from audit_cli.api import run_audit
from audit_cli.errors import ReadError
from audit_cli.model import Case
from audit_cli.readers import json_reader, read_bytes, word_reader
from audit_cli.scoring import score_case

from readers_fixtures import (
    W_NS,
    WORD_FIELDS,
    WORD_NOTES,
    WORD_VALUES,
    add_checkbox,
    add_form_checkbox,
    council_word_form,
    docx_bytes,
    msp_template,
    question,
    word_json_equivalent,
)


def read_docx(path: Path) -> Case:
    result = read_bytes(path.read_bytes(), ".docx", msp_template(), path.name)
    assert len(result.cases) == 1 and result.issues == []
    return result.cases[0]


def values(case: Case) -> dict[str, str | None]:
    return {cid: a.value for cid, a in case.answers.items()}


def issues(case: Case, code: str) -> list[tuple[str, str, str | None]]:
    return [(i.severity, i.message, i.location) for i in case.issues if i.code == code]


@pytest.fixture(scope="module")
def council(tmp_path_factory: pytest.TempPathFactory) -> Case:
    path = tmp_path_factory.mktemp("word") / "council.docx"
    council_word_form(path)
    return read_docx(path)


# --------------------------------------------------------------------------- the council form


def test_fields_from_paragraphs_and_a_label_value_table(council: Case) -> None:
    assert council.id == "W-2001"
    assert council.fields == WORD_FIELDS  # the placeholder date of birth stays empty
    assert council.field_locations == {
        "case_ref": "paragraph 2",  # bold "Case reference:" then the value
        "team": "paragraph 3",
        "agency": "table 1, row 1",
        "concern_date": "table 1, row 2",
        "advocate_support": "table 1, row 3",  # ticked glyph boxes
        "enquiry_type": "table 1, row 4",
        "auditor": "paragraph 14",
    }


def test_answer_column_table_with_merged_section_row(council: Case) -> None:
    got = values(council)
    assert (got["A1"], got["A2"]) == ("yes", "partly")
    assert council.answers["A1"].location == "table 2, row 3"
    assert (council.answers["A1"].evidence, council.answers["A1"].comment) == ("Recorded in her words", "Strong")


def test_unknown_answer_located_by_table_and_row(council: Case) -> None:
    assert issues(council, "unknown-answer") == [
        ("error", "'Maybe' is not an answer for A3 (Yes, Partly, No, Not applicable, Unable to determine)",
         "table 2, row 5")
    ]
    assert council.answers["A3"].value is None


def test_glyph_checkbox_cells(council: Case) -> None:
    got = values(council)
    assert (got["A4"], got["A5"], got["A6"], got["A7"]) == ("yes", "partly", None, None)
    assert council.answers["A4"].location == "table 2, row 6"


def test_one_column_per_option_with_content_control_checkboxes(council: Case) -> None:
    got = values(council)
    assert (got["B1"], got["B2"]) == ("yes", "no")
    assert got["B4"] == "partly"  # the Yes box shows ☒ but is not ticked: its state wins
    assert got["B5"] is None
    assert council.answers["B2"].location == "table 3, row 3"


def test_two_ticked_boxes_are_errors(council: Case) -> None:
    assert issues(council, "multiple-marks") == [
        ("error", "A6: 2 options are marked (Yes, No)", "table 2, row 8"),
        ("error", "B5: 2 options are marked (Yes, Not applicable)", "table 3, row 5"),
    ]


def test_cells_holding_several_content_control_or_form_field_boxes(council: Case) -> None:
    got = values(council)
    assert got["C1"] == "partly"  # content controls, each followed by its label
    assert got["C2"] == "yes"  # legacy FORMCHECKBOX fields
    assert got["C3"] == "no"
    assert council.answers["C2"].location == "table 4, row 3"


def test_merged_cells_do_not_shift_columns(council: Case) -> None:
    """The Question header spans two grid columns; body rows have a Guidance cell under its second half."""
    got = values(council)
    assert (got["D1"], got["D2"], got["D3"]) == ("yes", "no", None)
    assert council.answers["D1"].evidence == "Leaflet given"
    assert council.answers["D2"].evidence == "Care review not requested"
    assert council.answers["D3"].evidence is None  # a vertical-merge continuation is empty


def test_notes_under_case_notes_and_chronology_headings(council: Case) -> None:
    assert council.notes == WORD_NOTES


def test_every_expected_answer_and_nothing_else(council: Case) -> None:
    answered = {cid: v for cid, v in values(council).items() if v is not None}
    assert answered == WORD_VALUES


def test_word_form_scores_as_its_json_twin(tmp_path: Path) -> None:
    path = tmp_path / "council.docx"
    council_word_form(path)
    template = msp_template()
    report = run_audit([path], template)
    [word_case] = report.cases
    json_case = json_reader.read(word_json_equivalent(), template, "twin.json").cases[0]
    expected = score_case(template, json_case)
    assert word_case["id"] == "W-2001"
    assert word_case["score"] is not None
    assert word_case["score"] == pytest.approx(expected.score, abs=1e-12)
    assert word_case["rating"] == expected.rating
    assert word_case["dimensions"] == expected.dimensions
    assert word_case["criteria"]["A3"]["location"] == "table 2, row 5"
    assert report.has_findings  # the form holds errors
    doc = json.dumps(report.to_dict())
    assert "her daughter" not in doc and "Recorded in her words" not in doc


# --------------------------------------------------------------------------- smaller layouts


def _doc_path(tmp_path: Path, build: object) -> Path:
    doc = Document()
    build(doc)  # type: ignore[operator]
    path = tmp_path / "form.docx"
    doc.save(path)
    return path


def test_option_columns_with_typed_marks(tmp_path: Path) -> None:
    def build(doc: object) -> None:
        t = doc.add_table(rows=1, cols=6)  # type: ignore[attr-defined]
        for cell, head in zip(t.rows[0].cells, ("No.", "Question", "Yes", "Partly", "No", "N/A")):
            cell.text = head
        for cid, col, mark in (("A1", 4, "X"), ("A2", 2, "✔"), ("A3", 5, "y")):
            cells = t.add_row().cells
            cells[0].text, cells[1].text, cells[col].text = cid, question(cid), mark

    case = read_docx(_doc_path(tmp_path, build))
    assert values(case) == {"A1": "no", "A2": "yes", "A3": "na"}
    assert case.answers["A1"].location == "table 1, row 2"


def test_headerless_table_continues_the_previous_answer_table(tmp_path: Path) -> None:
    """A table per section, the header only on the first."""

    def build(doc: object) -> None:
        t1 = doc.add_table(rows=1, cols=3)  # type: ignore[attr-defined]
        for cell, head in zip(t1.rows[0].cells, ("ID", "Question", "Answer")):
            cell.text = head
        cells = t1.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = "A1", question("A1"), "Yes"
        doc.add_paragraph("Capacity")  # type: ignore[attr-defined]
        t2 = doc.add_table(rows=1, cols=3)  # type: ignore[attr-defined]
        cells = t2.rows[0].cells
        cells[0].text, cells[1].text, cells[2].text = "B1", question("B1"), "No"

    case = read_docx(_doc_path(tmp_path, build))
    assert values(case) == {"A1": "yes", "B1": "no"}
    assert case.answers["B1"].location == "table 2, row 1"


def test_field_value_in_a_text_content_control_and_bold_heading_paragraph(tmp_path: Path) -> None:
    from readers_fixtures import add_text_control

    def build(doc: object) -> None:
        p = doc.add_paragraph("Case reference: ")  # type: ignore[attr-defined]
        add_text_control(p, "CC-77")
        p = doc.add_paragraph("Team: ")  # type: ignore[attr-defined]
        add_text_control(p, "Click or tap here to enter text.", placeholder=True)
        doc.add_paragraph().add_run("Summary").bold = True  # type: ignore[attr-defined]
        doc.add_paragraph("Closed after two visits.")  # type: ignore[attr-defined]

    case = read_docx(_doc_path(tmp_path, build))
    assert case.id == "CC-77"
    assert "team" not in case.fields
    assert case.notes == "Closed after two visits."


def test_content_control_box_in_an_option_column_of_a_cell(tmp_path: Path) -> None:
    def build(doc: object) -> None:
        t = doc.add_table(rows=1, cols=3)  # type: ignore[attr-defined]
        for cell, head in zip(t.rows[0].cells, ("Ref", "Question", "Response")):
            cell.text = head
        cells = t.add_row().cells
        cells[0].text, cells[1].text = "A1", question("A1")
        para = cells[2].paragraphs[0]
        for label, on in (("Yes", True), ("Partly", False), ("No", True)):
            add_checkbox(para, on)
            para.add_run(f" {label} ")
        cells = t.add_row().cells
        cells[0].text, cells[1].text = "A2", question("A2")
        para = cells[2].paragraphs[0]
        for label in ("Yes", "No"):
            add_form_checkbox(para, False)
            para.add_run(f" {label} ")

    case = read_docx(_doc_path(tmp_path, build))
    assert values(case) == {"A1": None, "A2": None}
    assert issues(case, "multiple-marks") == [("error", "A1: 2 options are marked (Yes, No)", "table 1, row 2")]


def test_paragraph_numbers_count_body_paragraphs_only(tmp_path: Path) -> None:
    def build(doc: object) -> None:
        doc.add_paragraph("Intro")  # type: ignore[attr-defined]
        t = doc.add_table(rows=1, cols=1)  # type: ignore[attr-defined]
        t.rows[0].cells[0].text = "a cell paragraph"
        doc.add_paragraph("")  # type: ignore[attr-defined]
        doc.add_paragraph("Date of concern: 31/02/2024")  # type: ignore[attr-defined]

    case = read_docx(_doc_path(tmp_path, build))
    assert issues(case, "bad-field-value") == [
        ("error", "Date of concern: '31/02/2024' is not a real date", "paragraph 3")
    ]
    assert issues(case, "missing-identifier") == [
        ("warning", "no Case reference found; the file name 'form' is used instead", None)
    ]


# --------------------------------------------------------------------------- files that cannot be read


def _body(inner: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W_NS}"><w:body>{inner}</w:body></w:document>'.encode()


def test_hand_written_document_xml_is_read() -> None:
    data = docx_bytes(_body("<w:p><w:r><w:t>Case reference: X-1</w:t></w:r></w:p>"))
    [case] = word_reader.read(data, msp_template(), "x.docx").cases
    assert case.id == "X-1" and case.field_locations == {"case_ref": "paragraph 1"}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not a zip at all", "not a valid .docx file"),
        (docx_bytes(b"<w:document"), "word/document.xml is not well-formed XML"),
        (docx_bytes(b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaa">]><w:document xmlns:w="x">&a;</w:document>'),
         "word/document.xml contains a DTD (not allowed"),
        (docx_bytes(b"<root/>"), "word/document.xml is not a Word document body"),
    ],
)
def test_unreadable_documents_are_read_errors(data: bytes, reason: str) -> None:
    with pytest.raises(ReadError) as info:
        word_reader.read(data, msp_template(), "bad.docx")
    assert str(info.value).startswith(reason)
    assert "\n" not in str(info.value)


def test_zip_without_document_xml() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/other.xml", "<x/>")
    with pytest.raises(ReadError, match=r"^not a Word document \(the zip has no word/document.xml\)$"):
        word_reader.read(buf.getvalue(), msp_template(), "bad.docx")


def test_broken_docx_is_rejected_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04garbage")
    council_word_form(tmp_path / "good.docx")
    report = run_audit([tmp_path], msp_template())
    status = {Path(i.path).name: i.status for i in report.inputs}
    assert status == {"broken.docx": "rejected", "good.docx": "read"}
    assert [c["id"] for c in report.cases] == ["W-2001"]


def test_custom_heading_style_based_on_a_heading_and_tab_separated_field(tmp_path: Path) -> None:
    from docx.enum.style import WD_STYLE_TYPE

    def build(doc: object) -> None:
        style = doc.styles.add_style("Audit Part", WD_STYLE_TYPE.PARAGRAPH)  # type: ignore[attr-defined]
        style.base_style = doc.styles["Heading 2"]  # type: ignore[attr-defined]
        doc.add_paragraph("Case reference\tTAB-1")  # type: ignore[attr-defined]
        doc.add_paragraph("Background", style="Audit Part")  # type: ignore[attr-defined]
        doc.add_paragraph("Known to services since 2019.")  # type: ignore[attr-defined]
        doc.add_paragraph("Outcome", style="Audit Part")  # type: ignore[attr-defined]
        doc.add_paragraph("Team: Hospital")  # type: ignore[attr-defined]

    case = read_docx(_doc_path(tmp_path, build))
    assert case.id == "TAB-1"
    assert case.notes == "Known to services since 2019."
    assert case.fields["team"] == "Hospital"
    assert case.field_locations["team"] == "paragraph 5"


# --------------------------------------------------------------------------- reviewed layouts

ALL_IDS = list(msp_template().criteria)


def test_typed_answers_beside_a_rag_column_are_not_headers(tmp_path: Path) -> None:
    """``No. | Question | Judgement | RAG | Evidence``: A1 ``No``/``Red``, the rest ``Yes``/``Green``."""

    def build(doc: object) -> None:
        t0 = doc.add_table(rows=1, cols=2)  # type: ignore[attr-defined]
        t0.rows[0].cells[0].text, t0.rows[0].cells[1].text = "Case reference", "W-5001"
        t = doc.add_table(rows=1, cols=5)  # type: ignore[attr-defined]
        for cell, head in zip(t.rows[0].cells, ("No.", "Question", "Judgement", "RAG", "Evidence")):
            cell.text = head
        for cid in ALL_IDS:
            answer = "No" if cid == "A1" else "Yes"
            cells = t.add_row().cells
            cells[0].text, cells[1].text, cells[2].text = cid, question(cid), answer
            cells[3].text, cells[4].text = ("Red" if answer == "No" else "Green"), "seen"

    case = read_docx(_doc_path(tmp_path, build))
    assert case.id == "W-5001"
    assert values(case) == {cid: ("no" if cid == "A1" else "yes") for cid in ALL_IDS}
    assert case.answers["A1"].location == "table 2, row 2"
    assert case.answers["A2"].location == "table 2, row 3"
    assert case.answers["A2"].evidence == "seen"
    assert case.issues == []


def test_option_columns_without_an_id_column(tmp_path: Path) -> None:
    """``Question | Yes | Partly | No | N/A | Evidence`` after ``Label: value`` paragraphs: the No column is an option."""
    options = ("Yes", "Partly", "No", "N/A")

    def build(doc: object) -> None:
        doc.add_heading("Case file audit", 1)  # type: ignore[attr-defined]
        doc.add_paragraph("Case Ref: W-3001")  # type: ignore[attr-defined]
        doc.add_paragraph("Team: East")  # type: ignore[attr-defined]
        t = doc.add_table(rows=1, cols=6)  # type: ignore[attr-defined]
        for cell, head in zip(t.rows[0].cells, ("Question", *options, "Evidence")):
            cell.text = head
        for k, cid in enumerate(ALL_IDS[:8]):
            cells = t.add_row().cells
            cells[0].text = question(cid)
            cells[1 + k % 4].text = "X" if k % 2 else "✓"

    case = read_docx(_doc_path(tmp_path, build))
    assert case.id == "W-3001"
    assert values(case) == {cid: ["yes", "partly", "no", "na"][k % 4] for k, cid in enumerate(ALL_IDS[:8])}
    assert case.answers["A3"].location == "table 1, row 4"
    assert case.issues == []


def test_label_value_paragraphs_under_headings_that_mention_notes_or_summary(tmp_path: Path) -> None:
    """``Guidance notes for auditors`` is not a notes heading; under ``Audit summary`` (one) a paragraph that is a
    case field not given yet is still a field, and only the free text is a note."""

    def build(doc: object) -> None:
        doc.add_heading("Guidance notes for auditors", 1)  # type: ignore[attr-defined]  # paragraph 1
        doc.add_paragraph("Answer every question from the case record.")  # type: ignore[attr-defined]
        doc.add_paragraph("Case reference: W-4001")  # type: ignore[attr-defined]  # 3
        doc.add_paragraph("Team: West")  # type: ignore[attr-defined]  # 4
        t = doc.add_table(rows=1, cols=3)  # type: ignore[attr-defined]
        for cell, head in zip(t.rows[0].cells, ("Ref", "Question", "Response")):
            cell.text = head
        cells = t.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = "A1", question("A1"), "Yes"
        doc.add_heading("Audit summary", 1)  # type: ignore[attr-defined]  # 5
        doc.add_paragraph("Auditor's overall judgement: Good")  # type: ignore[attr-defined]  # 6
        doc.add_paragraph("Audit date: 03/02/2026")  # type: ignore[attr-defined]  # 7
        doc.add_paragraph("Practice was strong.")  # type: ignore[attr-defined]  # 8
        doc.add_paragraph("Team: the team changed twice.")  # type: ignore[attr-defined]  # 9, given already
        doc.add_paragraph("Date of concern: sometime in March")  # type: ignore[attr-defined]  # 10, not a date

    case = read_docx(_doc_path(tmp_path, build))
    assert case.id == "W-4001"
    assert case.fields == {"case_ref": "W-4001", "team": "West", "judgement": "Good", "audit_date": "2026-02-03"}
    assert case.field_locations == {"case_ref": "paragraph 3", "team": "paragraph 4", "judgement": "paragraph 6",
                                    "audit_date": "paragraph 7"}
    assert case.notes == ("Practice was strong.\n\nTeam: the team changed twice.\n\n"
                          "Date of concern: sometime in March")
    assert case.issues == []


@pytest.mark.parametrize(
    ("heading", "notes"),
    [("Case notes", True), ("Chronology", True), ("Summary", True), ("Case summary", True), ("Background", True),
     ("3. Case notes", True), ("Background and chronology", True), ("Guidance notes for auditors", False),
     ("Notes for auditors", False), ("Summary of findings by section", False), ("Outcome", False)],
)
def test_notes_headings_are_whole_headings(heading: str, notes: bool) -> None:
    assert word_reader.is_notes_heading(heading) is notes


def test_checkbox_cell_with_a_note_under_the_options(tmp_path: Path) -> None:
    def build(doc: object) -> None:
        doc.add_paragraph("Case reference: W-9901")  # type: ignore[attr-defined]
        t = doc.add_table(rows=1, cols=4)  # type: ignore[attr-defined]
        for cell, head in zip(t.rows[0].cells, ("ID", "Question", "Answer", "Comment")):
            cell.text = head
        for cid, tick, comment in (("A1", "No", None), ("A2", "Partly", "late"), ("A3", "Yes", None)):
            cells = t.add_row().cells
            cells[0].text, cells[1].text = cid, question(cid)
            cells[2].text = " ".join(("☒" if o == tick else "☐") + " " + o for o in ("Yes", "Partly", "No"))
            if cid != "A3":
                cells[2].add_paragraph("see chronology 12/01")
            if comment:
                cells[3].text = comment
        cells = t.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = "A4", question("A4"), "X Yes\n☐ Partly\n☐ No"

    case = read_docx(_doc_path(tmp_path, build))
    assert values(case) == {"A1": "no", "A2": "partly", "A3": "yes", "A4": None}
    assert case.answers["A1"].comment == "see chronology 12/01"
    assert case.answers["A2"].comment == "late\nsee chronology 12/01"
    assert case.answers["A3"].comment is None
    # a typed X over a box is not a ticked box: still an error, never a silent blank
    assert [(i.code, i.location) for i in case.issues] == [("unknown-answer", "table 1, row 5")]


def test_date_picker_content_control_gives_its_date(tmp_path: Path) -> None:
    from readers_fixtures import add_date_control

    def build(doc: object) -> None:
        t = doc.add_table(rows=0, cols=2)  # type: ignore[attr-defined]
        cells = t.add_row().cells
        cells[0].text, cells[1].text = "Case reference", "W-7001"
        cells = t.add_row().cells
        cells[0].text = "Audit date"
        add_date_control(cells[1].paragraphs[0], "3 February 2026", "2026-02-03T00:00:00Z")
        p = doc.add_paragraph("Date of concern: ")  # type: ignore[attr-defined]
        add_date_control(p, "Monday, 5 January 2026", "2026-01-05T00:00:00Z", "dddd, d MMMM yyyy")

    case = read_docx(_doc_path(tmp_path, build))
    assert case.fields["audit_date"] == "2026-02-03"
    assert case.fields["concern_date"] == "2026-01-05"
    assert case.field_locations["audit_date"] == "table 1, row 2"
    assert [i for i in case.issues if i.code == "bad-field-value"] == []


def test_word_form_without_an_answer_table_warns_once(tmp_path: Path) -> None:
    def build(doc: object) -> None:
        doc.add_paragraph("Case reference: W-1")  # type: ignore[attr-defined]
        t = doc.add_table(rows=1, cols=3)  # type: ignore[attr-defined]
        for cell, head in zip(t.rows[0].cells, ("Ref", "Question", "Compliance")):
            cell.text = head

    case = read_docx(_doc_path(tmp_path, build))
    assert [(i.severity, i.code, i.location) for i in case.issues] == [("warning", "no-answer-table", None)]
    assert case.issues[0].message.startswith("no answer table found in form.docx: ")
