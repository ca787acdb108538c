"""Word case files (.docx): one case from its tables and paragraphs.

``word/document.xml`` is read straight from the zip with lxml: about 15x faster than
walking python-docx objects, and it sees content controls, which python-docx does not.
A content-control or legacy form-field checkbox becomes its glyph (☒ ticked, ☐ not), so
the shared layout rules in ``grid`` read Word checkboxes and typed glyphs the same way.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePath
from typing import Any, Iterator

from ..errors import ReadError
from ..model import CaseField, Template
from ..values import ValueProblem, norm_key, parse_field, shorten
from . import ReadResult
from .common import CaseBuilder, TemplateIndex, index_for
from .grid import Grid, Row, field_value, inline_field, no_answer_table, read_form_grid

MAX_XML_BYTES = 50 * 1024 * 1024
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
TICKED, UNTICKED = "☒", "☐"
_FALSE = {"0", "false", "off"}
#: Word's own placeholder texts, left in a form whose content control was copied as plain text
_PLACEHOLDERS = {norm_key(t) for t in (
    "Click or tap here to enter text.", "Click here to enter text.", "Choose an item.",
    "Click or tap to enter a date.", "Click here to enter a date.",
)}
#: checkbox glyphs of symbol fonts (``w:sym``): Wingdings codes, with or without the F0 prefix
_WINGDINGS_BOXES = {0xFE: "☑", 0xFD: "☒", 0x78: "☒", 0xA8: "☐", 0x6F: "☐", 0xFC: "✓"}
_UNICODE_BOXES = {0x2610: "☐", 0x2611: "☑", 0x2612: "☒", 0x2713: "✓", 0x2714: "✔", 0x25A1: "□"}
#: words in a heading whose paragraphs are the case's notes
NOTE_HEADING_WORDS = frozenset({"notes", "note", "chronology", "summary", "background", "history"})
#: other words a notes heading may hold: ``Case notes``, ``Audit summary``, ``Summary of the case``
_NOTE_HEADING_OTHER = frozenset({
    "case", "audit", "auditor", "auditors", "additional", "further", "general", "other", "brief", "overall", "file",
    "key", "and", "of", "the", "on", "this",
})
_HEADING_NUMBER = re.compile(
    r"^\s*(?:(?:section|part)\s+)?(?:\d+(?:\.\d+)*\s*[.):\-–—]?|(?:[a-z]|[ivx]{1,4})\s*[.):\-–—])\s*", re.IGNORECASE)
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")
_HEADING_STYLE = re.compile(r"^(heading\s*\d|title|subtitle)$", re.IGNORECASE)
_SHORT_HEADING = 80


def read(data: bytes, template: Template, source: str) -> ReadResult:
    root, styles_xml = _load(data)
    doc = _Document(root, styles_xml)
    b = CaseBuilder(template, source)
    index = index_for(template)
    para_no = table_no = 0
    in_notes = False
    carry = None
    for el, hidden in doc.blocks(doc.body):
        if el.tag == doc.TBL:
            table_no += 1
            carry = read_form_grid(doc.table_grid(el, table_no), b, carry)
            continue
        para_no += 1
        text = "" if hidden else doc.paragraph_text(el).strip()
        if not text:
            continue
        found = inline_field(index, text) or _tab_field(index, text)
        if doc.is_heading(el, text, found is not None):
            in_notes = is_notes_heading(text)
        elif in_notes and (found is None or not _field_in_notes(b, found)):
            b.add_note(text)
        elif found is not None:
            b.set_field(found[0], field_value(found[0], found[1]), f"paragraph {para_no}")
    if carry is None:
        no_answer_table(b, source)
    case = b.build(fallback_id=PurePath(source).stem)
    assert case is not None
    return ReadResult(cases=[case])


def is_notes_heading(text: str) -> bool:
    """``Case notes``, ``Chronology``, ``Summary``, ``Background``, ``3. Case summary``: the paragraphs below
    are notes. The whole heading must say so: ``Guidance notes for auditors`` is not a notes heading."""
    if len(text) > _SHORT_HEADING:
        return False
    words = re.findall(r"[a-z]+", _HEADING_NUMBER.sub("", text.lower().replace("'", "").replace("\u2019", ""), 1))
    return (bool(words) and any(w in NOTE_HEADING_WORDS for w in words)
            and all(w in NOTE_HEADING_WORDS or w in _NOTE_HEADING_OTHER for w in words))


def _field_in_notes(b: CaseBuilder, found: tuple[CaseField, str]) -> bool:
    """Whether a ``Label: value`` paragraph under a notes heading is a case field: a field not given yet whose
    value is valid (``Audit date: 03/02/2026`` under ``Audit summary``); otherwise it is part of the notes."""
    fld, value = found
    if fld.id in b.fields:
        return False
    try:
        parse_field(fld, field_value(fld, value))
    except ValueProblem:
        return False
    return True


def _tab_field(index: TemplateIndex, text: str) -> tuple[CaseField, str] | None:
    """``Label<tab>value``: a form that lines its values up with a tab stop."""
    label, sep, rest = text.partition("\t")
    if not sep or not rest.strip() or len(label) > 100:
        return None
    fld = index.field(label)
    return (fld, rest.strip()) if fld is not None else None


# --------------------------------------------------------------------------- the package


def _parser() -> Any:
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def _parse(xml: bytes, name: str) -> Any:
    from lxml import etree

    if b"<!DOCTYPE" in xml[:65536].upper():
        raise ReadError(f"{name} contains a DTD (not allowed in a Word document); the file is not read")
    try:
        root = etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError as exc:
        raise ReadError(f"{name} is not well-formed XML ({shorten(str(exc), 100)})") from None
    if root.getroottree().docinfo.doctype:
        raise ReadError(f"{name} contains a DTD (not allowed in a Word document); the file is not read")
    return root


def _load(data: bytes) -> tuple[Any, bytes | None]:
    """The document's root element, and the styles part (parsed only if a paragraph needs it)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        raise ReadError("not a valid .docx file (not a zip archive, or a damaged one)") from None
    with zf:
        names = {n.lower(): n for n in zf.namelist()}
        main = _main_part(zf, names)
        if main is None:
            raise ReadError("not a Word document (the zip has no word/document.xml)")
        root = _parse(_read_part(zf, main), "word/document.xml")
        styles_name = names.get("word/styles.xml")
        styles = _read_part(zf, styles_name) if styles_name else None
    if not isinstance(root.tag, str) or not root.tag.endswith("}document"):
        raise ReadError("word/document.xml is not a Word document body")
    return root, styles


def _read_part(zf: zipfile.ZipFile, name: str) -> bytes:
    if zf.getinfo(name).file_size > MAX_XML_BYTES:
        raise ReadError(f"{name} is over {MAX_XML_BYTES // 1048576} MB unpacked; too large for an audit form")
    try:
        return zf.read(name)
    except Exception:  # zlib/lzma/bad-CRC errors all mean a damaged part
        raise ReadError(f"{name} is damaged (its compressed data cannot be read)") from None


def _main_part(zf: zipfile.ZipFile, names: dict[str, str]) -> str | None:
    """The officeDocument part named by ``_rels/.rels``; ``word/document.xml`` by convention."""
    rels = names.get("_rels/.rels")
    if rels is not None:
        try:
            root = _parse(_read_part(zf, rels), "_rels/.rels")
        except ReadError:
            root = None
        for rel in root.iter(f"{{{_REL_NS}}}Relationship") if root is not None else ():
            if str(rel.get("Type", "")).endswith("/officeDocument"):
                target = names.get(str(rel.get("Target", "")).lstrip("/").lower())
                if target is not None:
                    return target
    return names.get("word/document.xml")


def _heading_styles(root: Any) -> dict[str, bool]:
    """styleId -> whether the paragraph style is a heading: by name, id or outline level, or by
    being based on one (a council's "Audit heading" built on Heading 2)."""
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    w = f"{{{ns}}}"
    own: dict[str, bool] = {}
    based_on: dict[str, str] = {}
    for st in root.iter(f"{w}style"):
        sid = st.get(f"{w}styleId") or ""
        name_el = st.find(f"{w}name")
        name = name_el.get(f"{w}val", "") if name_el is not None else ""
        lvl = st.find(f"{w}pPr/{w}outlineLvl")
        level_ok = lvl is not None and _int(lvl.get(f"{w}val"), 9) < 9
        own[sid] = bool(_HEADING_STYLE.match(name) or _HEADING_STYLE.match(sid) or level_ok)
        base = st.find(f"{w}basedOn")
        if base is not None:
            based_on[sid] = str(base.get(f"{w}val", ""))
    out: dict[str, bool] = {}
    for sid in own:
        cur, seen = sid, set()
        while cur in own and cur not in seen and not own[cur]:
            seen.add(cur)
            cur = based_on.get(cur, "")
        out[sid] = own.get(cur, False)
    return out


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


# --------------------------------------------------------------------------- the body


class _Document:
    """Walks a document body in order and turns paragraphs and tables into text and grids."""

    def __init__(self, root: Any, styles_xml: bytes | None) -> None:
        ns = root.tag[1:].split("}")[0]
        w = f"{{{ns}}}"
        self.w = w
        self.P, self.TBL, self.TR, self.TC = f"{w}p", f"{w}tbl", f"{w}tr", f"{w}tc"
        self.SDT, self.SDT_PR, self.SDT_CONTENT = f"{w}sdt", f"{w}sdtPr", f"{w}sdtContent"
        self.CUSTOM_XML, self.R = f"{w}customXml", f"{w}r"
        self.VAL = f"{w}val"
        self._styles_xml = styles_xml
        self._styles: dict[str, bool] | None = None
        self.GRID_BEFORE, self.GRID_SPAN = f"{w}trPr/{w}gridBefore", f"{w}tcPr/{w}gridSpan"
        self.V_MERGE, self.P_STYLE = f"{w}tcPr/{w}vMerge", f"{w}pPr/{w}pStyle"
        body = root.find(f"{w}body")
        self.body = body if body is not None else root
        self._skip = {f"{w}{t}" for t in (
            "rPr", "pPr", "tblPr", "tblGrid", "trPr", "tcPr", "sdtPr", "sdtEndPr", "delText", "instrText", "del",
            "moveFrom", "txbxContent", "drawing", "pict", "object", "fldData", "footnoteReference",
            "endnoteReference", "commentReference",
        )} | {f"{{{MC}}}Fallback"}
        self._text = {f"{w}t": None, f"{w}tab": "\t", f"{w}br": "\n", f"{w}cr": "\n", f"{w}noBreakHyphen": "-"}

    # ------------------------------------------------------------------ structure

    def blocks(self, parent: Any, hidden: bool = False) -> Iterator[tuple[Any, bool]]:
        """Body paragraphs and tables in document order, through content controls and custom XML.

        ``hidden`` marks a content control still showing its placeholder: its paragraphs count
        for numbering but hold nothing.
        """
        for ch in parent:
            tag = ch.tag
            if tag == self.P or tag == self.TBL:
                yield ch, hidden
            elif tag == self.SDT:
                content = ch.find(self.SDT_CONTENT)
                if content is not None:
                    yield from self.blocks(content, hidden or self._placeholder(ch))
            elif tag == self.CUSTOM_XML:
                yield from self.blocks(ch, hidden)

    def _wrapped(self, parent: Any, tag: str) -> Iterator[Any]:
        """Children with ``tag``, looking through row- and cell-level content controls."""
        for ch in parent:
            if ch.tag == tag:
                yield ch
            elif ch.tag == self.SDT:
                content = ch.find(self.SDT_CONTENT)
                if content is not None:
                    yield from self._wrapped(content, tag)
            elif ch.tag == self.CUSTOM_XML:
                yield from self._wrapped(ch, tag)

    def table_grid(self, tbl: Any, number: int) -> Grid:
        """A table's cells by grid column: a cell spanning columns (gridSpan) moves the next one along,
        a vertically merged continuation is empty, so columns line up with the header."""
        rows: list[Row] = []
        for r, tr in enumerate(self._wrapped(tbl, self.TR), 1):
            before = tr.find(self.GRID_BEFORE)
            col = max(0, _int(before.get(self.VAL), 0)) if before is not None else 0
            cells: dict[int, Any] = {}
            for tc in self._wrapped(tr, self.TC):
                span_el = tc.find(self.GRID_SPAN)
                span = min(max(1, _int(span_el.get(self.VAL), 1)), 64) if span_el is not None else 1
                vmerge = tc.find(self.V_MERGE)
                continued = vmerge is not None and vmerge.get(self.VAL) in (None, "continue")
                if not continued:
                    text = self.cell_text(tc).strip()
                    if text:
                        cells[col] = text
                col += span
            if cells:
                rows.append(Row(r, cells))
        return Grid(rows, lambda row, _col: f"table {number}, row {row}")

    def cell_text(self, tc: Any) -> str:
        """A cell's paragraphs joined by new lines; a nested table adds its rows as tab-separated lines."""
        lines: list[str] = []
        for el, hidden in self.blocks(tc):
            if hidden:
                continue
            if el.tag == self.P:
                lines.append(self.paragraph_text(el))
            else:
                for tr in self._wrapped(el, self.TR):
                    lines.append("\t".join(self.cell_text(tc2).replace("\n", " ") for tc2 in self._wrapped(tr, self.TC)))
        return "\n".join(line for line in lines if line.strip())

    # ------------------------------------------------------------------ text

    def paragraph_text(self, p: Any) -> str:
        out: list[str] = []
        self._collect(p, out)
        text = "".join(out)
        if text.lstrip()[:6].lower() in ("click ", "choose") and norm_key(text) in _PLACEHOLDERS:
            return ""
        return text

    def _collect(self, el: Any, out: list[str]) -> None:
        w = self.w
        for ch in el:
            tag = ch.tag
            if not isinstance(tag, str) or tag in self._skip:
                continue
            if tag in self._text:
                fixed = self._text[tag]
                out.append(fixed if fixed is not None else (ch.text or ""))
            elif tag == self.SDT:
                box = self._checkbox(ch)
                if box is not None:
                    out.append(box)
                elif (day := self._picked_date(ch)) is not None:
                    out.append(day)
                elif not self._placeholder(ch):
                    content = ch.find(self.SDT_CONTENT)
                    if content is not None:
                        self._collect(content, out)
            elif tag == f"{w}fldChar":
                box = self._form_checkbox(ch)
                if box is not None:
                    out.append(box)
            elif tag == f"{w}sym":
                out.append(self._symbol(ch))
            else:
                self._collect(ch, out)

    def _placeholder(self, sdt: Any) -> bool:
        el = sdt.find(f"{self.SDT_PR}/{self.w}showingPlcHdr")
        return el is not None and str(el.get(self.VAL, "1")).lower() not in _FALSE

    def _checkbox(self, sdt: Any) -> str | None:
        """A content-control checkbox (``w14:checkbox``) as ☒/☐; its own glyph run is ignored."""
        box = sdt.find(f"{self.SDT_PR}/{{{W14}}}checkbox")
        if box is None:
            return None
        checked = box.find(f"{{{W14}}}checked")
        on = checked is not None and str(checked.get(f"{{{W14}}}val", "0")).lower() in ("1", "true", "on")
        return TICKED if on else UNTICKED

    def _picked_date(self, sdt: Any) -> str | None:
        """A date-picker content control's date (``w:date/@w:fullDate``) as ISO text, whatever format it shows."""
        el = sdt.find(f"{self.SDT_PR}/{self.w}date")
        if el is None or self._placeholder(sdt):
            return None
        m = _ISO_DAY.match(str(el.get(f"{self.w}fullDate", "")))
        return m.group(0) if m else None

    def _form_checkbox(self, fld: Any) -> str | None:
        """A legacy form-field checkbox (``w:ffData/w:checkBox``) at its field's start."""
        w = self.w
        if fld.get(f"{w}fldCharType") != "begin":
            return None
        box = fld.find(f"{w}ffData/{w}checkBox")
        if box is None:
            return None
        checked = box.find(f"{w}checked")
        if checked is not None:
            on = str(checked.get(self.VAL, "1")).lower() not in _FALSE
        else:
            default = box.find(f"{w}default")
            on = default is not None and str(default.get(self.VAL, "0")).lower() not in _FALSE
        return TICKED if on else UNTICKED

    def _symbol(self, sym: Any) -> str:
        """A symbol-font character (``w:sym``): only checkbox glyphs matter here."""
        w = self.w
        try:
            code = int(str(sym.get(f"{w}char", "")), 16)
        except ValueError:
            return ""
        if "wingdings" in str(sym.get(f"{w}font", "")).lower():
            return _WINGDINGS_BOXES.get(code & 0xFF if code >= 0xF000 else code, "")
        return _UNICODE_BOXES.get(code, "")

    # ------------------------------------------------------------------ headings

    def is_heading(self, p: Any, text: str, is_field: bool) -> bool:
        """A Heading/Title style or outline level, or a short paragraph all in bold that is not ``Label: value``."""
        w = self.w
        style = p.find(self.P_STYLE)
        if style is not None:
            sid = str(style.get(self.VAL, ""))
            if _HEADING_STYLE.match(sid) or self._heading_style(sid):
                return True
        lvl = p.find(f"{w}pPr/{w}outlineLvl")
        if lvl is not None and _int(lvl.get(self.VAL), 9) < 9:
            return True
        if is_field or len(text) > _SHORT_HEADING:
            return False
        runs = [r for r in p.iter(self.R) if "".join(t.text or "" for t in r.iter(f"{w}t")).strip()]
        return bool(runs) and all(self._bold(r) for r in runs)

    def _heading_style(self, style_id: str) -> bool:
        if self._styles is None:
            self._styles = {}
            if self._styles_xml is not None:
                try:
                    self._styles = _heading_styles(_parse(self._styles_xml, "word/styles.xml"))
                except ReadError:
                    pass  # a broken styles part costs only the headings it would have named
        return self._styles.get(style_id, False)

    def _bold(self, run: Any) -> bool:
        b = run.find(f"{self.w}rPr/{self.w}b")
        return b is not None and str(b.get(self.VAL, "1")).lower() not in _FALSE
