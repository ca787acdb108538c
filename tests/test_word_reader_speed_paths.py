"""The Word reader's two ways to a text: the quick reading (paragraphs in the body or in a cell, straight or in
content controls) and the exact one it falls back to for anything else (nested tables, a paragraph inside
another). Both must give every paragraph and cell the same text."""

from __future__ import annotations

import random
from typing import Any

import pytest

from audit_cli.readers import word_reader

from readers_fixtures import W14_NS, W_NS, docx_bytes

MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def _document(body: str) -> Any:
    xml = (f'<w:document xmlns:w="{W_NS}" xmlns:w14="{W14_NS}" xmlns:mc="{MC_NS}" xmlns:x="urn:x">'
           f"<w:body>{body}</w:body></w:document>")
    root, styles = word_reader._load(docx_bytes(xml.encode()))
    return word_reader._Document(root, styles)


def _read(doc: Any) -> list[Any]:
    """Each body block as the reader sees it: a paragraph's text, or a table's rows of {column: text}."""
    out: list[Any] = []
    number = 0
    for block in doc.blocks:
        if isinstance(block, word_reader._Table):
            number += 1
            out.append([(row.number, row.cells) for row in doc.table_grid(block, number).rows])
        else:
            p, hidden = block
            out.append(None if hidden else doc.paragraph_text(p))
    return out


def _read_exactly(body: str) -> list[Any]:
    """The same document read with every cell and body paragraph taken the exact way."""
    doc = _document(body)
    doc._irregular.update(doc._cells)
    doc._irregular.update(doc._paragraphs)
    return _read(doc)


def _p(*inline: str) -> str:
    return f"<w:p><w:pPr><w:tabs><w:tab w:val='left' w:pos='720'/></w:tabs></w:pPr>{''.join(inline)}</w:p>"


def _r(text: str) -> str:
    return f'<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{text}</w:t></w:r>'


def _table(*rows: list[str]) -> str:
    return "<w:tbl><w:tblPr/>" + "".join(
        "<w:tr>" + "".join(f"<w:tc><w:tcPr/>{cell}</w:tc>" for cell in row) + "</w:tr>" for row in rows) + "</w:tbl>"


CHECKED = (f"<w:sdt><w:sdtPr><w14:checkbox><w14:checked w14:val='1'/></w14:checkbox></w:sdtPr>"
           f"<w:sdtContent>{_r('?')}</w:sdtContent></w:sdt>")
FORM_BOX = ("<w:r><w:fldChar w:fldCharType='begin'><w:ffData><w:checkBox><w:default w:val='1'/></w:checkBox>"
            "</w:ffData></w:fldChar></w:r><w:r><w:instrText> FORMCHECKBOX </w:instrText></w:r>"
            "<w:r><w:fldChar w:fldCharType='end'/></w:r>")

#: (inline content, the text it shows)
INLINE_CASES = [
    (_r("a") + "<w:r><w:tab/><w:t>b</w:t><w:br/><w:t>c</w:t><w:cr/><w:noBreakHyphen/></w:r>", "a\tb\nc\n-"),
    ("<w:del><w:r><w:delText>old</w:delText></w:r></w:del><w:ins>" + _r("new") + "</w:ins>", "new"),
    ("<w:moveFrom>" + _r("gone") + "</w:moveFrom><w:moveTo>" + _r("here") + "</w:moveTo>", "here"),
    ("<w:hyperlink>" + _r("link") + "</w:hyperlink><w:smartTag>" + _r(" tag") + "</w:smartTag>", "link tag"),
    ("<w:fldSimple>" + _r("7") + "</w:fldSimple><w:customXml>" + _r("x") + "</w:customXml>", "7x"),
    ("<w:r><w:drawing><w:txbxContent>" + _p(_r("box")) + "</w:txbxContent></w:drawing></w:r>" + _r("out"), "out"),
    (("<w:r><mc:AlternateContent><mc:Choice><w:t>new</w:t></mc:Choice><mc:Fallback><w:pict><w:t>old</w:t></w:pict>"
      "</mc:Fallback></mc:AlternateContent></w:r>"), "new"),
    (CHECKED + _r(" Yes"), "☒ Yes"),
    (FORM_BOX + _r(" No"), "☒ No"),
    ("<w:r><w:sym w:font='Wingdings' w:char='F0A8'/><w:sym w:char='2612'/></w:r>", "☐☒"),
    ("<w:sdt><w:sdtPr><w:date w:fullDate='2026-02-03T00:00:00Z'/></w:sdtPr><w:sdtContent>" + _r("3 Feb")
     + "</w:sdtContent></w:sdt>", "2026-02-03"),
    ("<w:sdt><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent>" + _r("prompt") + "</w:sdtContent></w:sdt>", ""),
    ("<w:sdt><w:sdtContent>" + _r("first") + "</w:sdtContent><w:sdtContent>" + _r("second")
     + "</w:sdtContent></w:sdt>", "first"),
    (_r("Click here to enter text."), ""),
    ("<w:r><w:t>a<w:t>inner</w:t></w:t></w:r><w:r><w:rPr><w:t>format</w:t></w:rPr></w:r>", "a"),
    (_r("outer ") + _p(_r("inner")), "outer inner"),
]


@pytest.mark.parametrize(("inline", "shown"), INLINE_CASES)
def test_a_paragraph_shows_the_same_text_in_the_body_and_in_a_cell(inline: str, shown: str) -> None:
    body = _p(inline) + _table([_p(_r("x")), _p(inline)])
    expected = [shown, [(1, {0: "x", 1: shown.strip()} if shown.strip() else {0: "x"})]]
    assert _read(_document(body)) == expected
    assert _read_exactly(body) == expected


def test_cells_with_content_controls_custom_xml_and_nested_tables() -> None:
    """Paragraphs in a cell's content controls are read quickly; a nested table sends its cell to the exact way."""
    hidden = "<w:sdt><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent>" + _p(_r("prompt")) + "</w:sdtContent></w:sdt>"
    shown = ("<w:sdt><w:sdtPr><w14:checkbox/></w:sdtPr><w:sdtContent>" + _p(_r("in a control"))
             + "</w:sdtContent></w:sdt>")
    nested = _table([_p(_r("n1")), _p(_r(""))], [_p(_r("")), _p(_r("n2")) + _p(_r("n3"))])
    body = _table([_p(_r("a")) + hidden + _p(_r("b")), shown + "<w:customXml>" + _p(_r("cx")) + "</w:customXml>",
                   _p(_r("top")) + nested + _p(_r("end"))])
    doc = _document(body)
    assert _read(doc) == [[(1, {0: "a\nb", 1: "in a control\ncx", 2: "top\nn1\t\n\tn2 n3\nend"})]]
    assert len(doc._irregular) == 1
    assert _read_exactly(body) == _read(_document(body))


def test_only_a_content_controls_first_content_is_read() -> None:
    """Like Word, the reader looks into a control's first ``w:sdtContent``; a bare one is no control at all."""
    body = _table([_p(_r("a")) + "<w:sdt><w:sdtPr/><w:sdtContent>" + _p(_r("first")) + "</w:sdtContent><w:sdtContent>"
                   + _p(_r("second")) + "</w:sdtContent></w:sdt>",
                   "<w:customXml><w:sdtContent>" + _p(_r("bare")) + "</w:sdtContent></w:customXml>"])
    expected = [[(1, {0: "a\nfirst"})]]
    assert _read(_document(body)) == expected
    assert _read_exactly(body) == expected


def test_text_outside_any_paragraph_is_not_read() -> None:
    stray = "<w:hyperlink>" + _r("stray link") + "</w:hyperlink>" + _r("stray run")
    body = stray + _p(_r("kept")) + _table([stray + _p(_r("cell"))])
    expected = ["kept", [(1, {0: "cell"})]]
    assert _read(_document(body)) == expected
    assert _read_exactly(body) == expected


def test_merged_cells_keep_their_columns_in_both_readings() -> None:
    body = ("<w:tbl><w:tr><w:trPr><w:gridBefore w:val='1'/></w:trPr><w:tc><w:tcPr><w:gridSpan w:val='2'/></w:tcPr>"
            + _p(_r("wide")) + "</w:tc><w:tc>" + _p(_r("next")) + "</w:tc></w:tr>"
            "<w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr>" + _p(_r("continued")) + "</w:tc><w:tc>" + _p(_r("b"))
            + "</w:tc></w:tr></w:tbl>")
    expected = [[(1, {1: "wide", 3: "next"}), (2, {1: "b"})]]
    assert _read(_document(body)) == expected
    assert _read_exactly(body) == expected


# --------------------------------------------------------------------------- random documents

_INLINE = [c for c, _ in INLINE_CASES]


def _random_body(rnd: random.Random, depth: int = 0) -> str:
    """Paragraphs and tables mixing every construct above, with content controls and custom XML around blocks,
    rows and cells, nested tables and merged cells."""
    def para() -> str:
        return _p(*(rnd.choice(_INLINE) for _ in range(rnd.randint(0, 3))))

    def wrap(xml: str) -> str:
        x = rnd.random()
        if x < 0.1:
            flag = "<w:showingPlcHdr/>" if rnd.random() < 0.4 else ""
            content = f"<w:sdtContent>{xml}</w:sdtContent>"
            return f"<w:sdt><w:sdtPr>{flag}</w:sdtPr>{rnd.choice(['', content])}{content}</w:sdt>"
        if x < 0.12:
            return f"<w:sdtContent>{xml}</w:sdtContent>"
        if x < 0.17:
            return f"<w:customXml>{wrap(xml)}</w:customXml>"
        return xml

    def cell() -> str:
        props = rnd.choice(["", "", "", "<w:gridSpan w:val='2'/>", "<w:vMerge/>", "<w:vMerge w:val='restart'/>"])
        content = "".join(wrap(para()) if depth > 1 or rnd.random() < 0.85 else _random_body(rnd, depth + 1)
                          for _ in range(rnd.randint(0, 3)))
        return wrap(f"<w:tc><w:tcPr>{props}</w:tcPr>{content}</w:tc>")

    def table() -> str:
        rows = "".join(wrap("<w:tr>" + "".join(cell() for _ in range(rnd.randint(1, 4))) + "</w:tr>")
                       for _ in range(rnd.randint(1, 4)))
        return f"<w:tbl><w:tblPr/>{rows}</w:tbl>"

    return "".join(wrap(table() if rnd.random() < 0.4 else para()) for _ in range(rnd.randint(1, 6 if depth == 0 else 2)))


@pytest.mark.parametrize("seed", range(30))
def test_the_quick_reading_gives_what_the_exact_one_gives(seed: int) -> None:
    rnd = random.Random(seed)
    for _ in range(5):
        body = _random_body(rnd)
        assert _read(_document(body)) == _read_exactly(body), body
