"""The Excel cell reader: values exactly as Excel holds them, read from the sheet XML."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from unittest import mock

import openpyxl
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from audit_cli.errors import ReadError
from audit_cli.readers import xlsx_cells
from audit_cli.cellrefs import column_letter
from audit_cli.readers.xlsx_cells import (
    from_excel,
    is_date_format,
    read_parts,
    read_workbook,
)


def cells(data: bytes) -> dict[str, dict[tuple[int, int], object]]:
    return {s.name: {(r, c): v for r, row in s.rows for c, v in row.items()} for s in read_workbook(data)}


def test_values_types_and_hidden_sheets(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Audit"
    ws["A1"] = "Case reference"
    ws["B1"] = 1001
    ws["A2"] = "Date of concern"
    ws["B2"] = dt.datetime(2026, 2, 3)
    ws["B2"].number_format = "dd/mm/yyyy"
    ws["B3"] = 0.5
    ws["B4"] = True
    ws["B5"] = "  "
    ws["C7"] = CellRichText([TextBlock(InlineFont(b=True), "Yes"), " – partly"])
    hidden = wb.create_sheet("Lists")
    hidden["A1"] = "Team"
    hidden["A2"] = "North"
    hidden.sheet_state = "hidden"
    other = wb.create_sheet("Part 2")
    other["D10"] = "x"
    buf = io.BytesIO()
    wb.save(buf)
    got = cells(buf.getvalue())
    assert list(got) == ["Audit", "Part 2"]
    assert got["Audit"] == {(1, 0): "Case reference", (1, 1): 1001, (2, 0): "Date of concern",
                            (2, 1): dt.datetime(2026, 2, 3), (3, 1): 0.5, (4, 1): True, (7, 2): "Yes – partly"}
    assert got["Part 2"] == {(10, 3): "x"}


def test_formula_cached_values_and_inline_strings(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Audit")
    ws.write_formula("A1", '="Ye"&"s"', None, "Yes")
    ws.write_formula("A2", "=1+1", None, 2)
    ws.write_string("A3", "=not a formula")
    wb.close()
    got = cells(path.read_bytes())["Audit"]
    assert got == {(1, 0): "Yes", (2, 0): 2, (3, 0): "=not a formula"}


def test_dates_and_formats() -> None:
    assert from_excel(46056, False) == dt.datetime(2026, 2, 3)
    assert from_excel(44594, True) == dt.datetime(2026, 2, 3)
    assert from_excel(0.5, False) == dt.time(12, 0)
    assert is_date_format("dd/mm/yyyy") and is_date_format("[$-809]d mmmm yyyy;@")
    assert not is_date_format("0.0%") and not is_date_format('"days" 0') and not is_date_format("General")


@pytest.mark.parametrize("data,reason", [(b"PK\x03\x04junk", "bad zip"), (b"not a zip", "bad zip")])
def test_broken_files(data: bytes, reason: str) -> None:
    with pytest.raises(ReadError, match=reason):
        read_workbook(data)


def test_cell_budget() -> None:
    wb = openpyxl.Workbook()
    for r in range(1, 60):
        wb.active.append(["x"] * 20)
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(ReadError, match="too large for an audit form"):
        read_workbook(buf.getvalue(), max_cells=1000)


# --------------------------------------------------------------------------- the plain way and the tree way

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def package(sheet: str, strings: str = "", styles: str = "") -> dict[str, bytes]:
    """A workbook's parts as ``read_parts`` takes them: one sheet ``Audit``, shared strings and
    styles when given. ``sheet`` is the worksheet's XML from its root on."""
    decl = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    rels = [f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>']
    parts = {
        "_rels/.rels": f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" '
                       'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
                           '<sheet name="Audit" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/worksheets/sheet1.xml": decl + sheet,
    }
    if strings:
        rels.append(f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>')
        parts["xl/sharedStrings.xml"] = decl + strings
    if styles:
        rels.append(f'<Relationship Id="rId3" Type="{REL}/styles" Target="styles.xml"/>')
        parts["xl/styles.xml"] = decl + styles
    parts["xl/_rels/workbook.xml.rels"] = f'<Relationships xmlns="{PKG}">{"".join(rels)}</Relationships>'
    return {name: text.encode() for name, text in parts.items()}


def worksheet(rows: str) -> str:
    return (f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}"><dimension ref="A1"/><sheetData>{rows}</sheetData>'
            '<pageMargins left="0.7"/></worksheet>')


def tree_way(xml: str) -> str:
    """The same part with a comment in it: no longer plain, so it is read the tree way."""
    return xml.replace("<sheetData>", "<!-- --><sheetData>").replace("<si>", "<!-- --><si>", 1)


def both_ways(sheet: str, strings: str = "", styles: str = "") -> list[tuple[int, dict[int, object]]]:
    """A sheet's rows read the plain way (the tree way would fail), checked against the tree way."""
    refuse = mock.Mock(side_effect=AssertionError("read the tree way"))
    with mock.patch.object(xlsx_cells, "_streamed_rows", refuse), \
            mock.patch.object(xlsx_cells, "_streamed_strings", refuse):
        [plain] = read_parts(package(sheet, strings, styles))
    [tree] = read_parts(package(tree_way(sheet), tree_way(strings), styles))
    assert repr(plain.rows) == repr(tree.rows)  # types too (1, 1.0, True), and NaN equal to itself
    return plain.rows


STRINGS = (f'<sst xmlns="{MAIN}" count="5" uniqueCount="5"><si><t>Case reference</t></si>'
           '<si><t xml:space="preserve"> padded </t></si>'
           '<si><r><t>Ye</t></r><r><rPr><b/><color rgb="FFFF0000"/></rPr><t>s</t></r></si>'
           '<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh><phoneticPr fontId="1"/></si>'
           '<si><t>a &amp; b&#13;&#10;c\r\nd</t></si><si/></sst>')
STYLES = (f'<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts>'
          '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="14"/></cellXfs></styleSheet>')


def test_plain_and_tree_ways_read_the_same_values() -> None:
    rows = both_ways(worksheet(
        '<row r="1" spans="1:3"><c r="A1" t="s"><v>0</v></c><c r="B1" s="1"/><c r="C1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c><c r="C2" t="s"><v>4</v></c>'
        '<c r="D2" t="s"><v>5</v></c><c r="E2" t="s"><v>99</v></c></row>'
        '<row r="3"><c r="A3" s="1"><v>46056</v></c><c r="B3" s="2"><v>0.5</v></c><c r="C3"><v>7</v></c>'
        '<c r="D3"><v> 2.50 </v></c><c r="E3" t="b"><v>1</v></c><c r="F3" t="e"><v>#N/A</v></c>'
        '<c r="G3" t="str"><f>"a"&amp;"b"</f><v>a&amp;b</v></c><c r="H3"><f t="shared" si="0"/><v>4</v></c>'
        '<c r="I3" t="d"><v>2024-03-05T00:00:00Z</v></c><c r="J3"><v></v></c></row>'
        '<row r="5"/><row r="4"><c r="A4" t="inlineStr"><is><t xml:space="preserve"> in line </t></is></c>'
        '<c r="XFD4" t="inlineStr"><is><t>   </t></is></c></row>'),
        STRINGS, STYLES)
    assert rows == [
        (1, {0: "Case reference", 2: " padded "}),
        (2, {0: "Yes", 1: "漢字", 2: "a & b\r\nc\nd"}),
        (3, {0: dt.datetime(2026, 2, 3), 1: dt.time(12, 0), 2: 7,
             3: 2.5, 4: True, 5: "#N/A", 6: "a&b", 7: 4, 8: dt.datetime(2024, 3, 5)}),
        (4, {0: " in line "}),
    ]


def test_unusual_but_valid_xml_reads_the_tree_way_the_same() -> None:
    """Namespace prefixes, CDATA, cells without ``r``, attributes in another order: not plain, same values."""
    sheet = (f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData><x:row r="2"><x:c t="inlineStr"><x:is><x:t>'
             '<![CDATA[<a & b>]]></x:t></x:is></x:c><x:c/><x:c s="0" r="D2"><x:v>4</x:v></x:c></x:row>'
             '</x:sheetData></x:worksheet>')
    [got] = read_parts(package(sheet))
    assert got.rows == [(2, {0: "<a & b>", 3: 4})]


@pytest.mark.parametrize("row", [
    '<row r="1" q:x="1"><c r="A1"><v>1</v></c></row>',  # an undeclared prefix: lxml refuses the tree
    '<row r="1"><c r="A1"><v>1</v></c></rwo>',
    '<row r="1" xml:id="not a name"><c r="A1"><v>1</v></c></row>',
])
def test_a_faulty_sheet_fails_as_lxml_fails(row: str) -> None:
    with pytest.raises(ReadError, match=r"^not a valid Excel workbook \(XMLSyntaxError: .*sheet1\.xml"):
        read_parts(package(worksheet(row)))


def test_cell_budget_counts_every_cell_exactly() -> None:
    rows = "".join(f'<row r="{r}"><c r="A{r}" s="1"/><c r="B{r}"><v>{r}</v></c></row>' for r in range(1, 6))
    assert len(read_parts(package(worksheet(rows)), max_cells=10)[0].rows) == 5
    with pytest.raises(ReadError, match=r"sheet 'Audit' is too large for an audit form \(over 9 cells"):
        read_parts(package(worksheet(rows)), max_cells=9)


def test_read_parts_reads_parts_already_inflated(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Audit"
    wb.active["B2"] = "Case reference"
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    assert [(s.name, s.rows) for s in read_parts(parts)] == [("Audit", [(2, {1: "Case reference"})])]


XML_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0xD7FF) | st.sampled_from("\t\n\r&<>\"'")


def escaped(text: str, refs: bool) -> str:
    """Text as element content: markup escaped, and with ``refs`` every other character a reference."""
    markup = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
    return "".join(f"&#{ord(ch)};" if refs and i % 2 else markup.get(ch, ch) for i, ch in enumerate(text))


@st.composite
def cell_xml(draw: st.DrawFn, col: int, row: int) -> str:
    ref = f'r="{column_letter(col)}{row}"'
    style = draw(st.sampled_from(["", ' s="0"', ' s="1"', ' s="2"', ' s="7"']))
    kind = draw(st.sampled_from(["", "s", "n", "b", "e", "str", "d", "inlineStr", "empty"]))
    if kind == "empty":
        return f"<c {ref}{style}/>"
    numbers = st.sampled_from(["0", "1", "-3", "2.5", " 7 ", "1e3", "46056", "0.25", "x", "", "2024-03-05T10:00:00"])
    raw = draw(st.text(XML_CHARS, max_size=8).filter(lambda t: "xmlns" not in t and "xml:id" not in t))
    text = escaped(raw, draw(st.booleans()))  # ("xmlns" or "xml:id" anywhere sends a part the tree way)
    if kind == "inlineStr":
        return f'<c {ref}{style} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    value = draw(st.one_of(numbers, st.just(text))) if kind in ("", "n", "s", "b", "d") else text
    formula = draw(st.sampled_from(["", "<f>A1</f>", '<f t="shared" si="0"/>']))
    kind_attr = f' t="{kind}"' if kind else ""
    return f"<c {ref}{style}{kind_attr}>{formula}<v>{value}</v></c>"


@st.composite
def sheet_xml(draw: st.DrawFn) -> str:
    rows = []
    for number in sorted(draw(st.sets(st.integers(1, 40), max_size=6))):
        columns = sorted(draw(st.sets(st.integers(0, 60), max_size=6)))
        rows.append(f'<row r="{number}">' + "".join(draw(cell_xml(c, number)) for c in columns) + "</row>")
    return worksheet("".join(rows))


@settings(max_examples=100, deadline=None)
@given(sheet_xml())
def test_any_plain_sheet_reads_as_the_tree_way_reads_it(sheet: str) -> None:
    both_ways(sheet, STRINGS, STYLES)
