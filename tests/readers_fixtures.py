"""Hand-made audit forms, built the way councils make them, for the Excel and Word reader tests.

Every builder writes a real file with openpyxl, xlsxwriter or python-docx (never through
msp-audit's own ``form`` command) and returns where things are, so tests can assert exact
locations. Other test modules may import these builders.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from audit_cli.model import Template
from audit_cli.templates import load_template

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14_NS = "http://schemas.microsoft.com/office/word/2010/wordml"


@lru_cache(maxsize=1)
def msp_template() -> Template:
    """The bundled msp-core template (28 criteria, A1-F3, on the Yes/Partly/No/N/A scale)."""
    return load_template("msp-core")


def question(criterion_id: str) -> str:
    return msp_template().criteria[criterion_id].text


def json_case_bytes(fields: dict[str, Any], answers: dict[str, Any]) -> bytes:
    """The same case as a JSON case file, to compare scores with."""
    return json.dumps({"template": "msp-core", "case": fields, "answers": answers}).encode()


# --------------------------------------------------------------------------- Excel: the council form


#: answers as auditors type them, in the council form's Audit sheet (None: left blank)
COUNCIL_TYPED: dict[str, str | None] = {
    "A1": "Yes", "A2": "partly", "A3": "Fully met", "A4": "No", "A5": "N/A", "A6": "yes", "A7": "Not recorded",
    "B1": "Y", "B2": "Partially", "B3": None, "B4": "Amber", "B5": "Unable to determine",
    "C1": "Yes", "C2": "No", "C3": "Partly", "C4": "yes.", "C5": "Green", "C6": "N/A", "C7": "Red",
    "D1": "Yes", "D2": "No", "D3": "Partly",
    "E1": "Yes", "E2": "Yes", "E3": "Not met",
    "F1": "Yes", "F2": "Partly", "F3": None,
}
#: what each typed answer must read as
COUNCIL_VALUES: dict[str, str | None] = {
    "A1": "yes", "A2": "partly", "A3": "yes", "A4": "no", "A5": "na", "A6": "yes", "A7": "no",
    "B1": "yes", "B2": "partly", "B3": None, "B4": "partly", "B5": "unknown",
    "C1": "yes", "C2": "no", "C3": "partly", "C4": "yes", "C5": "yes", "C6": "na", "C7": "no",
    "D1": "yes", "D2": "no", "D3": "partly",
    "E1": "yes", "E2": "yes", "E3": "no",
    "F1": "yes", "F2": "partly", "F3": None,
}
#: the council form's case fields as they must read back
COUNCIL_FIELDS: dict[str, Any] = {
    "case_ref": "C-1001",
    "team": "North Locality",
    "agency": "Exampleshire County Council",
    "concern_date": "2024-03-05",
    "closed_date": "2024-04-10",
    "audit_date": "2024-05-12",
    "lacked_capacity": "No, they did not lack capacity",
    "risk_types": ["Neglect and Acts of Omission", "Physical Abuse"],
    "adult_name": "Jane Doe",
    "enquiry_type": "Section 42 Enquiry",
    "auditor": "A. Auditor",
    "judgement": "Good",
}
COUNCIL_EVIDENCE_A1 = "Outcomes recorded in her own words at first contact"
COUNCIL_COMMENT_A1 = "Good practice example"


@dataclass
class ExcelForm:
    path: Path
    rows: dict[str, int] = field(default_factory=dict)  # criterion id -> row on the Audit sheet


def council_excel_form(path: Path) -> ExcelForm:
    """A form as a council builds it by hand in Excel.

    Sheet ``Case details``: merged title rows, fields scattered over columns B-F with labels in
    odd case and with trailing ``:``/``?``, a blank cell between a label and its value, a real date,
    ISO and dd/mm/yyyy text dates. Sheet ``Audit``: merged title rows, the answer table starting at
    B4 with extra columns (auditor initials, RAG), a merged section-heading row per section, blank
    rows, and sign-off lines under the table (``Auditor`` and the overall judgement).
    """
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Case details"
    ws.merge_cells("A1:F1")
    ws["A1"] = "Exampleshire Safeguarding Adults Board"
    ws.merge_cells("A2:F2")
    ws["A2"] = "Safeguarding adults case file audit"
    ws["B4"], ws["D4"] = "Case Reference:", "C-1001"
    ws["B5"], ws["C5"] = "TEAM", "North Locality"
    ws["E5"], ws["F5"] = "agency?", "Exampleshire County Council"
    ws["B7"], ws["C7"] = "Date of concern", dt.datetime(2024, 3, 5)
    ws["C7"].number_format = "dd/mm/yyyy"
    ws["B8"], ws["C8"] = "Date closed:", "2024-04-10"
    ws["B9"], ws["C9"] = "audit date", "12/05/2024"
    ws["B10"], ws["C10"] = "Lacked capacity", "no, they did not lack capacity"
    ws["B11"], ws["C11"] = "Type(s) of risk:", "Neglect and Acts of Omission; physical abuse"
    ws["B12"], ws["C12"] = "Adult's name", "Jane Doe"
    ws["B13"], ws["C13"] = "Enquiry type", "Section 42 enquiry"

    audit = wb.create_sheet("Audit")
    audit.merge_cells("A1:H1")
    audit["A1"] = "Case file audit tool"
    audit.merge_cells("A2:H2")
    audit["A2"] = "Answer every question Yes / Partly / No / N/A and give your evidence."
    for col, head in zip("BCDEFGH", ("Ref", "Question", "Auditor initials", "Answer", "Evidence", "Comments", "RAG")):
        audit[f"{col}4"] = head
    form = ExcelForm(path)
    row = 5
    for section in msp_template().sections:
        audit.merge_cells(f"B{row}:H{row}")
        audit[f"B{row}"] = f"Section: {section.title}"
        row += 1
        for crit in section.criteria:
            audit[f"B{row}"], audit[f"C{row}"], audit[f"D{row}"] = crit.id, crit.text, "JS"
            audit[f"E{row}"] = COUNCIL_TYPED[crit.id]
            audit[f"H{row}"] = "G"
            form.rows[crit.id] = row
            row += 1
        row += 1  # a blank row between sections
    a1 = form.rows["A1"]
    audit[f"F{a1}"], audit[f"G{a1}"] = COUNCIL_EVIDENCE_A1, COUNCIL_COMMENT_A1
    audit[f"B{row}"], audit[f"C{row}"], audit[f"E{row}"] = "Auditor", "A. Auditor", "Signature"
    audit[f"B{row + 1}"] = "Manager sign-off:"
    audit[f"B{row + 2}"], audit[f"E{row + 2}"] = "Auditor's overall judgement", "Good"
    wb.save(path)
    return form


def council_json_equivalent() -> bytes:
    """The council Excel form's answers and fields as a JSON case file (canonical values)."""
    answers = {cid: v for cid, v in COUNCIL_VALUES.items() if v is not None}
    fields = {k: v for k, v in COUNCIL_FIELDS.items()}
    return json_case_bytes(fields, answers)


# --------------------------------------------------------------------------- Excel: other layouts


def two_tables_one_sheet_form(path: Path) -> None:
    """Two answer tables on one sheet with different header words; one row has no id (matched by its
    question text), one an unknown id with a known question, and a note row that matches nothing.

    Table 1 (header row 2, A-D): ID | Question | Answer | Evidence; A1 row 3, A2 row 4, A3 (no id) row 5.
    Table 2 (header row 8): Question no | Criterion text | Response | Notes; C1 row 9, C3 ("X?") row 10.
    """
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Audit"
    ws["A1"] = "Part 1: the adult's voice"
    for col, head in zip("ABCD", ("ID", "Question", "Answer", "Evidence")):
        ws[f"{col}2"] = head
    ws.append(["A1", question("A1"), "Yes", "Seen in first contact record"])
    ws.append(["A2", question("A2"), "No"])
    ws.append([None, question("A3"), "Partly"])
    ws["A6"] = "Part 2: risk"
    ws["F6"], ws["G6"] = "Case reference", "T-2"
    for col, head in zip("ABCD", ("Question no", "Criterion text", "Response", "Notes")):
        ws[f"{col}8"] = head
    ws.append(["C1", question("C1"), "No", "Delay of two weeks"])
    ws.append(["X?", question("C3"), "Yes"])
    ws.append([None, "Further reading for auditors", None])
    wb.save(path)


def tables_over_sheets_form(path: Path) -> None:
    """Fields on a front sheet; the answer table split over sheets ``Voice`` (A1 row 3, A2 row 4)
    and ``Risk and safety`` (C1 row 4, C2 row 5, header on row 3)."""
    import openpyxl

    wb = openpyxl.Workbook()
    front = wb.active
    front.title = "Front sheet"
    front["A1"], front["B1"] = "Case reference", "T-3"
    voice = wb.create_sheet("Voice")
    voice["A1"] = "Voice and outcomes"
    voice.append([])
    voice["A2"], voice["B2"], voice["C2"] = "Ref", "Question", "Judgement"
    voice["A3"], voice["B3"], voice["C3"] = "A1", question("A1"), "Yes"
    voice["A4"], voice["B4"], voice["C4"] = "A2", question("A2"), "Partly"
    risk = wb.create_sheet("Risk and safety")
    risk["A1"] = "Risk"
    risk["A3"], risk["B3"], risk["C3"] = "Ref", "Question", "Rating"
    risk["A4"], risk["B4"], risk["C4"] = "C1", question("C1"), "No"
    risk["A5"], risk["B5"], risk["C5"] = "C2", question("C2"), "N/A"
    wb.save(path)


def no_column_ambiguity_form(path: Path) -> None:
    """``No.`` (the number column, holding criterion ids) beside ``No`` (an answer option column).

    Header row 2: No. | Question | Yes | Partly | No | N/A | Comments. A1 row 3 marked Yes,
    A2 row 4 marked No (column E), A3 row 5 marked Partly.
    """
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Audit"
    ws["A1"], ws["B1"] = "Case reference", "T-4"
    ws.append(["No.", "Question", "Yes", "Partly", "No", "N/A", "Comments"])
    ws.append(["A1", question("A1"), "x", None, None, None, "clear"])
    ws.append(["A2", question("A2"), None, None, "x", None])
    ws.append(["A3", question("A3"), None, "x", None, None])
    wb.save(path)


#: (criterion, column header marked, the mark as typed) for every mark spelling
MARK_ROWS: list[tuple[str, str, Any]] = [
    ("A1", "Yes", "x"), ("A2", "Partly", "X"), ("A3", "No", "✓"), ("A4", "N/A", "✔"),
    ("A5", "Yes", "☒"), ("A6", "Partly", "☑"), ("A7", "Yes", "Y"), ("B1", "No", "y"),
    ("B2", "Yes", "yes"), ("B4", "Partly", True), ("B5", "No", "true"),
]
MARK_VALUES = {"A1": "yes", "A2": "partly", "A3": "no", "A4": "na", "A5": "yes", "A6": "partly", "A7": "yes",
               "B1": "no", "B2": "yes", "B4": "partly", "B5": "no"}


@dataclass
class MarksForm:
    path: Path
    rows: dict[str, int] = field(default_factory=dict)


def option_columns_form(path: Path) -> MarksForm:
    """One column per option (``Yes | Partly | No | N/A``, columns C-F) on sheet ``Checklist``,
    header on row 3 under a merged title. Rows in ``MARK_ROWS`` order from row 4, then:
    C1 marked in Yes and No (two marks), C2 unmarked, C3 ``☐`` in Yes and ``x`` in Partly,
    C4 ``?`` in Yes (not a mark)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Checklist"
    ws.merge_cells("A1:F1")
    ws["A1"] = "MSP audit checklist (mark one box per row)"
    ws["H1"], ws["I1"] = "Case reference", "T-5"
    headers = ["Ref", "Question", "Yes", "Partly", "No", "N/A"]
    for c, h in enumerate(headers, 1):
        ws.cell(3, c, h)
    form = MarksForm(path)
    row = 4
    col_of = {h: c for c, h in enumerate(headers, 1)}
    for cid, head, mark in MARK_ROWS:
        ws.cell(row, 1, cid)
        ws.cell(row, 2, question(cid))
        ws.cell(row, col_of[head], mark)
        form.rows[cid] = row
        row += 1
    extra = {"C1": {"Yes": "x", "No": "x"}, "C2": {}, "C3": {"Yes": "☐", "Partly": "x"}, "C4": {"Yes": "?"}}
    for cid, marks in extra.items():
        ws.cell(row, 1, cid)
        ws.cell(row, 2, question(cid))
        for head, mark in marks.items():
            ws.cell(row, col_of[head], mark)
        form.rows[cid] = row
        row += 1
    wb.save(path)
    return form


def register_workbook(path: Path) -> None:
    """A register: a ``Guidance`` sheet first, then ``Register`` with two title rows and the header
    on row 4 (Case reference | Team | Date of concern | A1 | A1 evidence | A2 | A2 comment | C1 |
    Lacked capacity). Cases on rows 5 (R-1), 7 (R-2) and 10 (R-3, with "Maybe" for A2 in F10);
    rows 6 and 8 blank; row 9 has no case reference."""
    import openpyxl

    wb = openpyxl.Workbook()
    guide = wb.active
    guide.title = "Guidance"
    guide["A1"] = "One row per audited case. Use the audit scale for answers."
    ws = wb.create_sheet("Register")
    ws["A1"] = "Q2 case file audit register"
    ws["A2"] = "Exampleshire SAB"
    header = ["Case reference", "Team", "Date of concern", "A1", "A1 evidence", "A2", "A2 comment", "C1",
              "Lacked capacity"]
    for c, h in enumerate(header, 1):
        ws.cell(4, c, h)
    rows = {
        5: ["R-1", "North", dt.datetime(2024, 1, 15), "Yes", "Seen in chronology", "Partly", "Late", "No",
            "Don't know"],
        7: ["R-2", "South", "2024-02-01", "No", None, "N/A", None, "Yes", None],
        9: [None, "East", None, "Yes", None, None, None, "No", None],
        10: ["R-3", "West", "03/03/2024", "yes", None, "Maybe", None, None, None],
    }
    for r, values in rows.items():
        for c, v in enumerate(values, 1):
            if v is not None:
                ws.cell(r, c, v)
    wb.save(path)


def dates_and_formulas_workbook(path: Path) -> None:
    """Written with xlsxwriter so formula cells carry a cached result, as Excel saves them.

    Sheet ``Case details``: B1 ``="C-"&"2002"`` cached "C-2002" (case reference); B2 a real date
    (Date of concern 2024-03-05); B3 ISO text (Date closed); B4 dd/mm/yyyy text (Audit date);
    B5 ``=UPPER("north")`` cached "NORTH" (Team). Sheet ``Audit``: an answer table whose A1 answer
    is a formula with cached "Yes" (C2).
    """
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Case details")
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    ws.write_string(0, 0, "Case reference")
    ws.write_formula(0, 1, '="C-"&"2002"', None, "C-2002")
    ws.write_string(1, 0, "Date of concern")
    ws.write_datetime(1, 1, dt.datetime(2024, 3, 5), date_fmt)
    ws.write_string(2, 0, "Date closed")
    ws.write_string(2, 1, "2024-04-10")
    ws.write_string(3, 0, "Audit date")
    ws.write_string(3, 1, "12/05/2024")
    ws.write_string(4, 0, "Team")
    ws.write_formula(4, 1, '=UPPER("north")', None, "NORTH")
    audit = wb.add_worksheet("Audit")
    audit.write_row(0, 0, ["ID", "Question", "Answer"])
    audit.write_string(1, 0, "A1")
    audit.write_string(1, 1, question("A1"))
    audit.write_formula(1, 2, '=IF(TRUE,"Yes","No")', None, "Yes")
    wb.close()


def bad_values_workbook(path: Path) -> None:
    """Sheet ``Audit``: fields in rows 1-2 (Date of concern "31/02/2024" in E1, Lacked capacity
    "Perhaps" in B2), answer table header on row 3 (ID | Question | Answer) with A1-A4 on rows
    4-7 (A4 answered "Maybe" in C7) and row 8 an unknown criterion "Z9" answered "Yes"."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Audit"
    ws["A1"], ws["B1"], ws["D1"], ws["E1"] = "Case reference", "C-3003", "Date of concern", "31/02/2024"
    ws["A2"], ws["B2"] = "Lacked capacity", "Perhaps"
    ws["A3"], ws["B3"], ws["C3"] = "ID", "Question", "Answer"
    for r, (cid, ans) in enumerate((("A1", "Yes"), ("A2", "No"), ("A3", "Partly"), ("A4", "Maybe")), 4):
        ws.cell(r, 1, cid)
        ws.cell(r, 2, question(cid))
        ws.cell(r, 3, ans)
    ws["A8"], ws["B8"], ws["C8"] = "Z9", "Was the moon full?", "Yes"
    wb.save(path)


def as_xlsm(xlsx: Path, xlsm: Path) -> None:
    """The workbook re-packed as a macro-enabled .xlsm: the macro-enabled content type and a
    (dummy) vbaProject.bin, which must never run and never matter."""
    with zipfile.ZipFile(xlsx) as src, zipfile.ZipFile(xlsm, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                ).replace(b"</Types>", b'<Default Extension="bin" '
                          b'ContentType="application/vnd.ms-office.vbaProject"/></Types>')
            dst.writestr(info.filename, data)
        dst.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 not really a macro project")


# --------------------------------------------------------------------------- Word: content controls


def add_checkbox(paragraph: Any, checked: bool, glyph: str | None = None) -> None:
    """A Word content-control checkbox (``w:sdt`` with ``w14:checkbox``) at the end of a paragraph.

    ``glyph`` overrides the visible character, to prove the state (not the glyph) is read.
    """
    from docx.oxml import parse_xml

    shown = glyph if glyph is not None else ("☒" if checked else "☐")
    xml = (
        f'<w:sdt xmlns:w="{W_NS}" xmlns:w14="{W14_NS}"><w:sdtPr><w:id w:val="1"/><w14:checkbox>'
        f'<w14:checked w14:val="{1 if checked else 0}"/>'
        '<w14:checkedState w14:val="2612" w14:font="MS Gothic"/>'
        '<w14:uncheckedState w14:val="2610" w14:font="MS Gothic"/></w14:checkbox></w:sdtPr>'
        '<w:sdtContent><w:r><w:rPr><w:rFonts w:ascii="MS Gothic" w:hAnsi="MS Gothic"/></w:rPr>'
        f'<w:t>{shown}</w:t></w:r></w:sdtContent></w:sdt>'
    )
    paragraph._p.append(parse_xml(xml))


def add_form_checkbox(paragraph: Any, checked: bool) -> None:
    """A legacy form-field checkbox (``FORMCHECKBOX`` with ``w:ffData/w:checkBox``)."""
    from docx.oxml import parse_xml

    state = '<w:checked/>' if checked else ''
    for xml in (
        f'<w:r xmlns:w="{W_NS}"><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Check1"/>'
        f'<w:enabled/><w:calcOnExit w:val="0"/><w:checkBox><w:sizeAuto/><w:default w:val="0"/>{state}'
        '</w:checkBox></w:ffData></w:fldChar></w:r>',
        f'<w:r xmlns:w="{W_NS}"><w:instrText xml:space="preserve"> FORMCHECKBOX </w:instrText></w:r>',
        f'<w:r xmlns:w="{W_NS}"><w:fldChar w:fldCharType="end"/></w:r>',
    ):
        paragraph._p.append(parse_xml(xml))


def add_text_control(paragraph: Any, text: str, placeholder: bool = False) -> None:
    """A plain-text content control; ``placeholder`` marks it as still showing its prompt."""
    from docx.oxml import parse_xml

    flag = "<w:showingPlcHdr/>" if placeholder else ""
    xml = (f'<w:sdt xmlns:w="{W_NS}"><w:sdtPr><w:id w:val="2"/>{flag}<w:text/></w:sdtPr>'
           f'<w:sdtContent><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:sdtContent></w:sdt>')
    paragraph._p.append(parse_xml(xml))


def add_date_control(paragraph: Any, shown: str, full_date: str, date_format: str = "d MMMM yyyy") -> None:
    """A date-picker content control (``w:date`` with ``w:fullDate``) showing ``shown`` in its own format."""
    from docx.oxml import parse_xml

    xml = (f'<w:sdt xmlns:w="{W_NS}"><w:sdtPr><w:id w:val="3"/><w:date w:fullDate="{full_date}">'
           f'<w:dateFormat w:val="{date_format}"/><w:lid w:val="en-GB"/><w:storeMappedDataAs w:val="dateTime"/>'
           '<w:calendar w:val="gregorian"/></w:date></w:sdtPr>'
           f'<w:sdtContent><w:r><w:t xml:space="preserve">{shown}</w:t></w:r></w:sdtContent></w:sdt>')
    paragraph._p.append(parse_xml(xml))


def _fill_row(table: Any, values: list[Any]) -> Any:
    cells = table.add_row().cells
    for cell, v in zip(cells, values):
        if v is not None:
            cell.text = str(v)
    return cells


# --------------------------------------------------------------------------- Word: the council form

#: what the council Word form must read as (criteria not listed are unanswered)
WORD_VALUES: dict[str, str] = {
    "A1": "yes", "A2": "partly", "A4": "yes", "A5": "partly",
    "B1": "yes", "B2": "no", "B4": "partly",
    "C1": "partly", "C2": "yes", "C3": "no",
    "D1": "yes", "D2": "no",
}
WORD_FIELDS: dict[str, Any] = {
    "case_ref": "W-2001",
    "team": "South Locality",
    "agency": "Exampleshire NHS Trust",
    "concern_date": "2024-03-05",
    "advocate_support": "Yes",
    "enquiry_type": "Section 42 Enquiry",
    "auditor": "A. Auditor",
}
WORD_NOTES = ("Adult seen at home with her daughter present.\n\nTeam: this line is a note, not a field."
              "\n\n05/03/2024 concern received from the GP.\n\n12/03/2024 home visit.")


def council_word_form(path: Path) -> None:
    """A Word form as a council makes it, with every layout the reader knows.

    Paragraphs 1-4: heading, ``Case reference:`` in bold then the value, ``Team: South Locality``,
    a plain sentence. Table 1: label | value (Agency; Date of concern; an advocate question answered
    with ticked glyphs; Enquiry type; Date of birth left as a content-control placeholder).
    Table 2 (answer column; row 2 a section heading merged across): A1 Yes, A2 Partly, A3 "Maybe"
    (row 5, an error), A4-A7 as glyph checkboxes (A6 has two ticked, A7 none).
    Table 3 (one column per option, content-control checkboxes): B1 Yes, B2 No, B4 Partly while the
    Yes box shows ☒ but is unticked, B5 two ticked. Table 4 (answer cells holding several boxes):
    C1 content controls with Partly ticked, C2 legacy form-field checkboxes with Yes ticked.
    Table 5: the Question header spans two grid columns while body rows have a Guidance cell there
    (D1 Yes, D2 No; the Evidence cell merged down from D2 into D3, which has no answer).
    Tables 4 and 5 follow their neighbours with no paragraph between. Then "Case notes" (Heading 2)
    and a bold "Chronology" with notes under them, a "Sign-off" heading and ``Auditor: A. Auditor``
    as paragraph 14.
    """
    from docx import Document

    doc = Document()
    doc.add_heading("Safeguarding adults case file audit", level=1)  # paragraph 1
    p = doc.add_paragraph()  # paragraph 2
    p.add_run("Case reference:").bold = True
    p.add_run(" W-2001")
    doc.add_paragraph("Team: South Locality")  # paragraph 3
    doc.add_paragraph("This audit follows the board's Making Safeguarding Personal framework.")  # 4

    t1 = doc.add_table(rows=0, cols=2)  # table 1
    _fill_row(t1, ["Agency", "Exampleshire NHS Trust"])
    _fill_row(t1, ["Date of concern", "05/03/2024"])
    _fill_row(t1, ["Supported by advocate, family or friend", "☒ Yes ☐ No ☐ Don't know"])
    _fill_row(t1, ["Enquiry type:", "Section 42 Enquiry"])
    dob = _fill_row(t1, ["Date of birth", None])
    add_text_control(dob[1].paragraphs[0], "Click or tap to enter a date.", placeholder=True)

    doc.add_paragraph("Section A")  # paragraph 5
    t2 = doc.add_table(rows=1, cols=5)  # table 2
    for cell, head in zip(t2.rows[0].cells, ("ID", "Question", "Answer", "Evidence", "Comment")):
        cell.text = head
    heading = t2.add_row().cells
    merged = heading[0].merge(heading[4])
    merged.text = "Voice and outcomes"
    _fill_row(t2, ["A1", question("A1"), "Yes", "Recorded in her words", "Strong"])
    _fill_row(t2, ["A2", question("A2"), "Partly", None, None])
    _fill_row(t2, ["A3", question("A3"), "Maybe", None, None])  # row 5
    _fill_row(t2, ["A4", question("A4"), "☒ Yes ☐ Partly ☐ No ☐ N/A", None, None])
    _fill_row(t2, ["A5", question("A5"), "☐ Yes ☒ Partly ☐ No ☐ N/A", None, None])
    _fill_row(t2, ["A6", question("A6"), "☒ Yes ☐ Partly ☒ No ☐ N/A", None, None])  # row 8
    _fill_row(t2, ["A7", question("A7"), "☐ Yes ☐ Partly ☐ No ☐ N/A", None, None])

    doc.add_paragraph("Section B: tick one box per row")  # paragraph 6
    t3 = doc.add_table(rows=1, cols=6)  # table 3
    for cell, head in zip(t3.rows[0].cells, ("Ref", "Question", "Yes", "Partly", "No", "N/A")):
        cell.text = head
    ticks = {"B1": {2: True}, "B2": {4: True}, "B4": {2: False, 3: True}, "B5": {2: True, 5: True}}
    for cid, boxes in ticks.items():
        cells = _fill_row(t3, [cid, question(cid), None, None, None, None])
        for col in range(2, 6):
            state = boxes.get(col, False)
            glyph = "☒" if (cid == "B4" and col == 2) else None  # shows ticked, is not
            add_checkbox(cells[col].paragraphs[0], state, glyph)

    t4 = doc.add_table(rows=1, cols=3)  # table 4
    for cell, head in zip(t4.rows[0].cells, ("ID", "Question", "Answer")):
        cell.text = head
    c1 = _fill_row(t4, ["C1", question("C1"), None])
    para = c1[2].paragraphs[0]
    for label, on in (("Yes", False), ("Partly", True), ("No", False)):
        add_checkbox(para, on)
        para.add_run(f" {label}  ")
    c2 = _fill_row(t4, ["C2", question("C2"), None])
    para = c2[2].paragraphs[0]
    for label, on in (("Yes", True), ("No", False)):
        add_form_checkbox(para, on)
        para.add_run(f" {label} ")
    _fill_row(t4, ["C3", question("C3"), "No"])

    t5 = doc.add_table(rows=1, cols=5)  # table 5
    head = t5.rows[0].cells
    head[0].text = "ID"
    head[1].merge(head[2]).text = "Question"
    head[3].text = "Answer"
    head[4].text = "Evidence"
    _fill_row(t5, ["D1", question("D1"), "Ask about leaflets", "Yes", "Leaflet given"])
    d2 = _fill_row(t5, ["D2", question("D2"), "Care review?", "No", None])
    d3 = _fill_row(t5, ["D3", question("D3"), "Networks", None, None])
    d2[4].merge(d3[4]).text = "Care review not requested"

    doc.add_heading("Case notes", level=2)  # paragraph 7
    doc.add_paragraph("Adult seen at home with her daughter present.")  # 8
    doc.add_paragraph("Team: this line is a note, not a field.")  # 9
    doc.add_paragraph().add_run("Chronology").bold = True  # 10
    doc.add_paragraph("05/03/2024 concern received from the GP.")  # 11
    doc.add_paragraph("12/03/2024 home visit.")  # 12
    doc.add_heading("Sign-off", level=2)  # 13
    doc.add_paragraph("Auditor: A. Auditor")  # 14
    assert len(doc.paragraphs) == 14
    doc.save(path)


def word_json_equivalent() -> bytes:
    fields = dict(WORD_FIELDS)
    return json_case_bytes(fields, dict(WORD_VALUES))


def docx_bytes(document_xml: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal .docx package around a hand-written ``word/document.xml``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
            '"/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
            'document.main+xml"/></Types>'))
        z.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'))
        z.writestr("word/document.xml", document_xml)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()
