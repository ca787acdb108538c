"""``writers.xlsx_lite``: real files written, then read back part by part with lxml, zipfile and openpyxl."""

from __future__ import annotations

import io
import json
import math
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from lxml import etree

from audit_cli.api import process_file
from audit_cli.model import Template
from audit_cli.writers import xlsx_lite
from audit_cli.writers.case_workbook import write_case_workbook
from audit_cli.writers.xlsx_lite import (
    FrozenTable,
    Properties,
    Run,
    SafeStyles,
    SharedStrings,
    Style,
    StyleSheet,
    Workbook,
)
from audit_cli.writers.xlsx_safe import ATTAINMENT, SCORE, TONES, clean_text, created_at

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
GENERATED = "2026-04-01T09:00:00+00:00"
#: ECMA-376 part 1, CT_Worksheet, CT_Workbook and CT_Stylesheet: children in this order or Excel refuses the file
WORKSHEET_ORDER = [
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr", "sheetProtection",
    "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate", "customSheetViews", "mergeCells",
    "phoneticPr", "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions", "pageMargins",
    "pageSetup", "headerFooter",
]
WORKBOOK_ORDER = [
    "fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews", "sheets", "functionGroups",
    "externalReferences", "definedNames", "calcPr",
]
STYLES_ORDER = [
    "numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs", "tableStyles",
]

SAFE = SafeStyles()
PLAIN, BOLD, WRAP, HEADER = Style(), Style(bold=True), SAFE.wrap, SAFE.header
RED_SCORE, GREEN_ATTAINMENT = SAFE.get("red", num_format=SCORE), SAFE.get("green", num_format=ATTAINMENT)
SHEET = StyleSheet([BOLD, WRAP, HEADER, RED_SCORE, GREEN_ATTAINMENT, SAFE.note])

HOSTILE = [
    "=1+1", "@SUM(A1)", "-2", "+cmd|' /C calc'!A0", '=HYPERLINK("http://x","y")', "ctl\x00\x07\x1b\x0bchars",
    "lone\ud800surrogate\udfff", "<r><t>rich</t></r>", "]]>", "x" * 40_000, "  padded both  ", "line one\nline two",
    "\ttabbed", "cr\r\nlf", "_x0041_ stays literal", "& < > \" '", "ünïcödé 🙂 text",
]


# --------------------------------------------------------------------------- helpers


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None  # every member's CRC and deflate stream check out
        return {n: z.read(n) for n in z.namelist()}


def children(xml: bytes) -> list[str]:
    return [etree.QName(e).localname for e in etree.fromstring(xml)]


def assert_in_order(names: list[str], order: list[str]) -> None:
    positions = [order.index(n) for n in names]  # an unknown element fails here too
    assert positions == sorted(positions), names


def sample(path: Path) -> Path:
    """A workbook with every kind of cell and setting the writer has."""
    wb = Workbook(SHEET, properties=Properties(title="Sample <&> title", created=created_at(GENERATED)))
    ix = SHEET.index
    first = wb.add_sheet("First")
    first.column(0, 30)
    first.column(1, 40, ix(WRAP))
    for col, label in enumerate(["Label", "Text", "Score", "Share", "Flag"]):
        first.put(0, col, label, ix(HEADER), cap=5)
    first.put_row(1, 0, ("Plain", "wrapped by its column", 57.125, 0.5, True),
                  (ix(BOLD), None, ix(RED_SCORE), ix(GREEN_ATTAINMENT), None))
    first.put_row(2, 0, ("Empty and odd", "", math.nan, math.inf, None), (None, ix(WRAP), ix(RED_SCORE), None, None))
    first.put(3, 2, 0.1 + 0.2)
    first.put(4, 2, 10**15 + 1)
    first.put(5, 4, ["a", "b"])
    first.freeze(1, 2)
    first.autofilter(0, 0, 5, 4)
    first.page.landscape = first.page.fit_width = True
    first.page.repeat_rows = 1
    second = wb.add_sheet("Second sheet")
    for row, text in enumerate(HOSTILE):
        second.put(row, 0, text)
    second.freeze(1)
    wb.add_sheet("Third")  # an empty sheet is still a sheet
    path.write_bytes(wb.to_bytes())
    return path


@pytest.fixture()
def book(tmp_path: Path) -> Path:
    return sample(tmp_path / "sample.xlsx")


def fill(cell: Any) -> str | None:
    return cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None


def stored_width(width: float) -> float:
    """A width in characters as xlsxwriter (and so every other workbook) stores it."""
    return (int(width * 7 + 0.5) + 5) * 256 // 7 / 256


# --------------------------------------------------------------------------- the package


def test_every_part_is_well_formed_and_in_schema_order(book: Path) -> None:
    got = parts(book)
    assert list(got)[:2] == ["[Content_Types].xml", "_rels/.rels"]
    for name, data in got.items():
        etree.fromstring(data)  # raises on anything not well-formed
        assert data.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'), name
    for n in (1, 2, 3):
        assert_in_order(children(got[f"xl/worksheets/sheet{n}.xml"]), WORKSHEET_ORDER)
    assert_in_order(children(got["xl/workbook.xml"]), WORKBOOK_ORDER)
    assert_in_order(children(got["xl/styles.xml"]), STYLES_ORDER)
    assert children(got["xl/worksheets/sheet1.xml"]) == [
        "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "autoFilter", "pageMargins",
        "pageSetup",
    ]
    types = etree.fromstring(got["[Content_Types].xml"])
    overrides = {e.get("PartName") for e in types if e.get("PartName")}
    assert overrides == {f"/{n}" for n in got if not n.endswith(".rels") and n != "[Content_Types].xml"}


def test_zip_members_are_deflated_and_stamped_1980(book: Path) -> None:
    with zipfile.ZipFile(book) as z:
        for info in z.infolist():
            assert info.compress_type == zipfile.ZIP_DEFLATED, info.filename
            assert info.date_time == (1980, 1, 1, 0, 0, 0), info.filename


def test_styles_part(book: Path) -> None:
    styles = etree.fromstring(parts(book)["xl/styles.xml"])
    fills = styles.find(f"{MAIN}fills")
    assert [f[0].get("patternType") for f in fills][:2] == ["none", "gray125"]
    assert int(fills.get("count")) == len(fills)
    for tag in ("fonts", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "numFmts"):
        element = styles.find(f"{MAIN}{tag}")
        assert int(element.get("count")) == len(element), tag
    formats = {e.get("formatCode") for e in styles.find(f"{MAIN}numFmts")}
    assert formats == {SCORE, ATTAINMENT}


def test_openpyxl_reads_values_styles_and_settings(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == ["First", "Second sheet", "Third"]
    assert wb.properties.title == "Sample <&> title" and wb.properties.creator == "msp-audit"
    ws = wb["First"]
    assert [c.value for c in ws[1]] == ["Label", "Text", "Score", "Share", "Flag"]
    assert [c.value for c in ws[2]] == ["Plain", "wrapped by its column", 57.125, 0.5, "Yes"]
    assert ws["A1"].font.b and fill(ws["A1"]) == "FFD9E1F2" and ws["A1"].border.left.style == "thin"
    assert ws["A2"].font.b and ws["A2"].font.sz == 11 and not ws["A2"].alignment.wrap_text
    assert ws["B2"].alignment.wrap_text  # no style of its own: its column's
    assert ws["C2"].number_format == SCORE and fill(ws["C2"]) == "FFFFC7CE" and ws["C2"].font.color.rgb == "FF9C0006"
    assert ws["D2"].number_format == ATTAINMENT and fill(ws["D2"]) == "FFC6EFCE"
    assert ws["C2"].alignment.vertical == "top" and ws["C2"].font.sz == 10
    # empty values: a blank carrying its style where one was given, else no cell at all
    assert ws["B3"].value is None and ws["B3"].alignment.wrap_text and ws["B3"].has_style
    assert ws["C3"].value is None and ws["C3"].number_format == SCORE
    assert ws["D3"].value is None and not ws["D3"].has_style
    assert ws["C4"].value == 0.1 + 0.2 and ws["C5"].value == 10**15 + 1  # full precision
    assert ws["E6"].value == "a; b"
    assert ws.freeze_panes == "C2"
    assert ws.auto_filter.ref == "A1:E6"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$1:$1"
    assert ws.dimensions == "A1:E6"
    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    assert widths["A"] == stored_width(30) and widths["B"] == stored_width(40)
    assert widths["C"] == stored_width(16 * 1.1 + 1)  # sized by its longest value, 1000000000000001
    assert widths["D"] == stored_width(5 * 1.1 + 1)  # by its header, "Share"
    assert widths["E"] == stored_width(6)  # "Flag" and "a; b": the 6-character minimum
    assert wb["Second sheet"].freeze_panes == "A2"
    assert wb["Third"].max_row == 1 and wb["Third"]["A1"].value is None


def test_the_workbook_names_its_filter_and_print_titles(book: Path) -> None:
    names = etree.fromstring(parts(book)["xl/workbook.xml"]).find(f"{MAIN}definedNames")
    assert [(n.get("name"), n.get("localSheetId"), n.get("hidden"), n.text) for n in names] == [
        ("_xlnm._FilterDatabase", "0", "1", "First!$A$1:$E$6"),
        ("_xlnm.Print_Titles", "0", None, "First!$1:$1"),
    ]


def test_sheet_names_that_need_quoting_are_quoted(tmp_path: Path) -> None:
    wb = Workbook(SHEET)
    for name in ("A1", "O'Brien's & co", "Plain_name"):
        sh = wb.add_sheet(name)
        sh.put(0, 0, "x")
        sh.autofilter(0, 0, 0, 0)
    names = etree.fromstring(_write(tmp_path, wb)["xl/workbook.xml"]).find(f"{MAIN}definedNames")
    assert [n.text for n in names] == ["'A1'!$A$1:$A$1", "'O''Brien''s & co'!$A$1:$A$1", "Plain_name!$A$1:$A$1"]


def _write(tmp_path: Path, wb: Workbook) -> dict[str, bytes]:
    path = tmp_path / "w.xlsx"
    path.write_bytes(wb.to_bytes())
    openpyxl.load_workbook(path)
    return parts(path)


# --------------------------------------------------------------------------- case text


def test_hostile_text_comes_back_cleaned_and_as_text(book: Path) -> None:
    ws = openpyxl.load_workbook(book)["Second sheet"]
    for row, text in enumerate(HOSTILE, 1):
        cell = ws.cell(row, 1)
        assert cell.data_type == "s", text[:20]
        assert cell.value == clean_text(text), text[:20]
    assert ws["A6"].value == "ctlchars" and ws["A7"].value == "lonesurrogate"
    assert ws["A10"].value.endswith("… [truncated: 7,293 more characters]") and len(ws["A10"].value) <= 32_767
    assert ws["A14"].value == "cr\r\nlf"  # a carriage return survives, not folded into the newline
    assert ws["A15"].value == "_x0041_ stays literal"
    xml = parts(book)["xl/worksheets/sheet2.xml"]
    assert b"<f>" not in xml and b"<f " not in xml and b't="s"' in xml


def test_escapes_in_the_string_table(book: Path) -> None:
    sst = parts(book)["xl/sharedStrings.xml"]
    texts = ["".join(si.itertext()) for si in etree.fromstring(sst)]
    assert "_x005F_x0041_ stays literal" in texts  # so Excel shows "_x0041_", not "A"
    assert "<r><t>rich</t></r>" in texts  # markup as text, never as a rich-text run
    preserved = {"".join(t.itertext()) for t in etree.fromstring(sst).iter(f"{MAIN}t")
                 if t.get("{http://www.w3.org/XML/1998/namespace}space") == "preserve"}
    assert {"  padded both  ", "line one\nline two", "\ttabbed", "cr\r\nlf"} <= preserved
    assert "=1+1" not in preserved


def test_text_is_only_ever_a_string_cell(tmp_path: Path) -> None:
    wb = Workbook(SHEET)
    sh = wb.add_sheet("S")
    sh.put_row(0, 0, ("=SUM(1,2)", "123", "1E3", "TRUE", "-"), (None,) * 5)
    ws = openpyxl.load_workbook(_save(tmp_path, wb))["S"]
    assert [(c.value, c.data_type) for c in ws[1]] == [
        ("=SUM(1,2)", "s"), ("123", "s"), ("1E3", "s"), ("TRUE", "s"), ("-", "s"),
    ]


def _save(tmp_path: Path, wb: Workbook) -> Path:
    path = tmp_path / "saved.xlsx"
    path.write_bytes(wb.to_bytes())
    return path


# --------------------------------------------------------------------------- strictness


def test_cells_must_come_in_file_order() -> None:
    sh = Workbook(SHEET).add_sheet("S")
    sh.put(2, 3, "x")
    for row, col in ((2, 3), (2, 1), (1, 9), (-1, 0), (3, -1), (xlsx_lite.MAX_ROWS, 0), (3, xlsx_lite.MAX_COLS)):
        with pytest.raises(ValueError):
            sh.put(row, col, "y")
    sh.put(2, 4, "z")  # later in the row is fine, as is a later row
    sh.put(3, 0, "w")


def test_a_fresh_sheet_refuses_a_row_before_the_first() -> None:
    """Row -1 is what a sheet's last-written row reads before any cell: not a row to write in."""
    wb = Workbook(SHEET)
    sh = wb.add_sheet("S")
    run = Run(wb.strings, SHEET, [(0, "x", None)])
    for write in (lambda: sh.put(-1, 0, "x"), lambda: sh.put_row(-1, 0, ["x"], [None]), lambda: sh.put_run(-1, run)):
        with pytest.raises(ValueError, match="outside a worksheet"):
            write()
    sh.put(0, 0, "x")  # nothing was written: the sheet still starts at its first row
    with zipfile.ZipFile(io.BytesIO(wb.to_bytes())) as zf:
        assert b'<sheetData><row r="1"><c r="A1"' in zf.read("xl/worksheets/sheet1.xml")


def test_refusals() -> None:
    wb = Workbook(SHEET)
    wb.add_sheet("Data")
    for name in ("data", "", "a" * 32, "bad/name", "'quoted'", "History"):
        with pytest.raises(ValueError):
            wb.add_sheet(name)
    with pytest.raises(ValueError):
        Workbook(SHEET).to_bytes()  # no sheets
    with pytest.raises(KeyError):
        SHEET.index(Style(italic=True))  # not in the sheet: never silently plain
    with pytest.raises(ValueError, match="not supported"):
        Style.from_format({"underline": 1})
    with pytest.raises(ValueError):
        Style(fill="red")
    sh = wb.sheets[0]
    with pytest.raises(ValueError):
        sh.autofilter(3, 0, 2, 0)
    with pytest.raises(ValueError):
        sh.put_row(0, 0, ("a", "b"), (None,))


def test_safe_styles_are_xlsx_safe_styles() -> None:
    assert SAFE.header == Style(bold=True, size=10, fill="#D9E1F2", border="#8EA9DB", wrap=True, valign="top")
    assert SAFE.title == Style(bold=True, size=14, valign="top")
    assert SAFE.note == Style(italic=True, size=10, color="#595959", wrap=True, valign="top")
    red = TONES["red"]
    assert SAFE.get("red", num_format=SCORE, align="left") == Style(
        size=10, valign="top", fill=red["bg_color"], color=red["font_color"], num_format=SCORE, align="left")


def test_a_run_is_what_put_writes() -> None:
    base = SharedStrings()
    cells = [(0, "fixed text", SHEET.index(WRAP)), (2, 0.25, None), (3, None, SHEET.index(BOLD)), (5, "x", None)]
    run = Run(base, SHEET, cells)
    by_run, by_put = Workbook(SHEET, strings=base.fork()), Workbook(SHEET, strings=base.fork())
    run_sheet, put_sheet = by_run.add_sheet("S"), by_put.add_sheet("S")
    for row in (4, 11):
        run_sheet.put_run(row, run)
        for col, value, style in cells:
            put_sheet.put(row, col, value, style)
    assert by_run.to_bytes() == by_put.to_bytes()


def test_a_forked_table_is_frozen_and_runs_stay_with_their_table() -> None:
    base = SharedStrings()
    run = Run(base, SHEET, [(0, "known", None)])
    fork = base.fork()
    assert base.add("known") == fork.add("known") == 0
    with pytest.raises(FrozenTable):
        base.add("new")
    assert fork.add("new") == 1  # a fork takes its workbook's own strings
    stranger = Workbook(SHEET).add_sheet("S")
    with pytest.raises(ValueError, match="string table"):
        stranger.put_run(0, run)


# --------------------------------------------------------------------------- determinism


def test_same_input_same_bytes(tmp_path: Path) -> None:
    a, b = sample(tmp_path / "a.xlsx"), sample(tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()


def _case_file(tmp_path: Path, msp_core: Template, ref: str, notes: str | None) -> Path:
    doc: dict[str, Any] = {
        "template": "msp-core",
        "case": {"case_ref": ref, "team": "North", "judgement": "Good"},
        "answers": {cid: ("partly" if i % 3 else "yes") for i, cid in enumerate(msp_core.criteria)},
    }
    if notes:
        doc["notes"] = notes
    path = tmp_path / f"{ref}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _write_case(src: Path, template: Template, out: Path) -> bytes:
    outcome = process_file(src, template)
    write_case_workbook(template, outcome.cases[0], outcome.results[0], out, generated=GENERATED)
    return out.read_bytes()


def test_case_workbook_bytes_do_not_depend_on_what_came_first(tmp_path: Path, msp_core: Template) -> None:
    first = _case_file(tmp_path, msp_core, "C-1", "Notes.")
    other = _case_file(tmp_path, msp_core, "C-2", None)
    once = _write_case(first, msp_core, tmp_path / "1.xlsx")
    _write_case(other, msp_core, tmp_path / "2.xlsx")
    assert _write_case(first, msp_core, tmp_path / "3.xlsx") == once
    script = (
        "import sys; from pathlib import Path\n"
        "from audit_cli.api import process_file\n"
        "from audit_cli.templates import load_template\n"
        "from audit_cli.writers.case_workbook import write_case_workbook\n"
        "t = load_template('msp-core'); o = process_file(Path(sys.argv[1]), t)\n"
        f"write_case_workbook(t, o.cases[0], o.results[0], Path(sys.argv[2]), generated={GENERATED!r})\n"
    )
    subprocess.run([sys.executable, "-c", script, str(first), str(tmp_path / "fresh.xlsx")], check=True)
    assert (tmp_path / "fresh.xlsx").read_bytes() == once  # a fresh process, as a worker is


def test_a_case_without_notes_has_no_notes_sheet(tmp_path: Path, msp_core: Template) -> None:
    path = tmp_path / "c.xlsx"
    _write_case(_case_file(tmp_path, msp_core, "C-3", None), msp_core, path)
    assert openpyxl.load_workbook(path).sheetnames == ["Summary", "Criteria", "Dimensions", "Issues"]
    for name, data in parts(path).items():
        etree.fromstring(data)
        if name.startswith("xl/worksheets/"):
            assert_in_order(children(data), WORKSHEET_ORDER)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_converts_a_case_workbook(tmp_path: Path, msp_core: Template) -> None:
    path = tmp_path / "c.xlsx"
    _write_case(_case_file(tmp_path, msp_core, "C-4", "Notes."), msp_core, path)
    subprocess.run(["soffice", "--headless", "--convert-to", "csv", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=120)
    assert "Case audit: C-4" in (tmp_path / "c.csv").read_text(encoding="utf-8", errors="replace")
