"""Word case files (.docx): one case from its tables and paragraphs.

``word/document.xml`` is read straight from the zip with lxml: about 15x faster than
walking python-docx objects, and it sees content controls, which python-docx does not.
A content-control or legacy form-field checkbox becomes its glyph (☒ ticked, ☐ not), so
the shared layout rules in ``grid`` read Word checkboxes and typed glyphs the same way.

The body is read without visiting every XML node from Python, which is what made a form
slow: laying out walks the structure only, down to the cells (body, tables, rows, cells,
content controls), then one ``iter()`` over the elements that show text (``w:t``, ``w:tab``,
checkboxes, symbols...) gives each to the paragraph showing it and that paragraph to its
cell. Which paragraph that is, and whether anything between hides the element (deleted
text, field codes, text boxes, a checkbox control's own glyph run), is found by looking up
from it, usually two parents. A cell holding a nested table, or a paragraph inside another,
is read the exact, slower way (see ``_Document``).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import PurePath
from typing import Any

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


def read(data: bytes, template: Template, source: str, archive: Mapping[str, bytes] | None = None) -> ReadResult:
    """The one case a Word form holds. ``archive``: the document's parts from
    ``safety.check`` (each checked as it is first read), else they are read from ``data``."""
    root, styles_part = _load(data, archive)
    doc = _Document(root, styles_part)
    b = CaseBuilder(template, source)
    index = index_for(template)
    para_no = table_no = 0
    in_notes = False
    carry = None
    for block in doc.blocks:
        if isinstance(block, _Table):
            table_no += 1
            carry = read_form_grid(doc.table_grid(block, table_no), b, carry)
            continue
        el, hidden = block
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

    # a DOCTYPE needs a "!": with none in the head (the usual case), upper-casing 64 KB to look for one is wasted
    if xml.find(b"!", 0, 65536) >= 0 and b"<!DOCTYPE" in xml[:65536].upper():
        raise ReadError(f"{name} contains a DTD (not allowed in a Word document); the file is not read")
    try:
        root = etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError as exc:
        raise ReadError(f"{name} is not well-formed XML ({shorten(str(exc), 100)})") from None
    if root.getroottree().docinfo.doctype:
        raise ReadError(f"{name} contains a DTD (not allowed in a Word document); the file is not read")
    return root


def _load(data: bytes, archive: Mapping[str, bytes] | None = None) -> tuple[Any, Callable[[], bytes] | None]:
    """The document's root element, and how to read the styles part: it is read (inflated,
    checked) and parsed only if a paragraph needs it, which most documents' do not.

    The parts come from ``archive`` (the safety check's) when given, else from the zip in
    ``data``: this is the only place the zip is opened."""
    if archive is not None:
        return _load_parts(list(archive), archive.__getitem__)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        raise ReadError("not a valid .docx file (not a zip archive, or a damaged one)") from None
    with zf:
        root, styles_part = _load_parts(zf.namelist(), partial(_read_part, zf))
        if styles_part is None:
            return root, None
        styles = styles_part()  # now: the zip is closed once this returns
        return root, lambda: styles


def _load_parts(names: list[str], read_part: Callable[[str], bytes]) -> tuple[Any, Callable[[], bytes] | None]:
    """``_load`` given the package's part names and how to read a part."""
    by_lower = {n.lower(): n for n in names}
    main = _main_part(by_lower, read_part)
    if main is None:
        raise ReadError("not a Word document (the zip has no word/document.xml)")
    root = _parse(read_part(main), "word/document.xml")
    styles_name = by_lower.get("word/styles.xml")
    styles = partial(read_part, styles_name) if styles_name else None
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


def _main_part(names: dict[str, str], read_part: Callable[[str], bytes]) -> str | None:
    """The officeDocument part named by ``_rels/.rels``; ``word/document.xml`` by convention."""
    rels = names.get("_rels/.rels")
    if rels is not None:
        xml = read_part(rels)  # a damaged or hostile part rejects the file, as any part does
        try:
            root = _parse(xml, "_rels/.rels")
        except ReadError:
            root = None  # relationships that are not XML: the conventional name is tried
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
    style_id, name_tag, val, based_on_tag = f"{w}styleId", f"{w}name", f"{w}val", f"{w}basedOn"
    ppr, outline = f"{w}pPr", f"{w}outlineLvl"
    own: dict[str, bool] = {}
    based_on: dict[str, str] = {}
    for st in root.iter(f"{w}style"):
        sid = st.get(style_id) or ""
        name_el = _child(st, name_tag)
        name = name_el.get(val, "") if name_el is not None else ""
        lvl = _grandchild(st, ppr, outline)
        level_ok = lvl is not None and _int(lvl.get(val), 9) < 9
        own[sid] = bool(_HEADING_STYLE.match(name) or _HEADING_STYLE.match(sid) or level_ok)
        base = _child(st, based_on_tag)
        if base is not None:
            based_on[sid] = str(base.get(val, ""))
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


# Plain iteration over an element's few children beats ``find()`` (path parsing) and ``iterchildren(tag)``
# (a tag matcher set up per call) several times over; it matters once per cell and paragraph.


def _child(el: Any, tag: str) -> Any:
    """``el.find(tag)``: the first child with ``tag``."""
    for ch in el:
        if ch.tag == tag:
            return ch
    return None


def _grandchild(el: Any, child: str, grandchild: str) -> Any:
    """``el.find("child/grandchild")``: the first ``grandchild`` under any ``child``, in document order."""
    for ch in el:
        if ch.tag == child:
            for g in ch:
                if g.tag == grandchild:
                    return g
    return None


# --------------------------------------------------------------------------- the body

#: elements whose content no paragraph shows: properties, deleted or moved-away text, field codes, text boxes
#: and pictures (their paragraphs are not the paragraph's own text), note and comment marks
_HIDING = (
    "rPr", "pPr", "tblPr", "tblGrid", "trPr", "tcPr", "sdtPr", "sdtEndPr", "delText", "instrText", "del",
    "moveFrom", "txbxContent", "drawing", "pict", "object", "fldData", "footnoteReference",
    "endnoteReference", "commentReference",
)
#: elements that show fixed text
_FIXED = {"tab": "\t", "br": "\n", "cr": "\n", "noBreakHyphen": "-"}


class _Names:
    """Clark-notation names in one WordprocessingML namespace (transitional or strict), built once per namespace
    rather than formatted again for every element."""

    def __init__(self, ns: str) -> None:
        w = f"{{{ns}}}"
        self.body, self.p, self.tbl, self.tr, self.tc, self.r, self.t = (
            f"{w}{t}" for t in ("body", "p", "tbl", "tr", "tc", "r", "t"))
        self.sdt, self.sdt_pr, self.sdt_content, self.custom_xml = (
            f"{w}{t}" for t in ("sdt", "sdtPr", "sdtContent", "customXml"))
        self.ppr, self.rpr, self.tcpr, self.trpr = f"{w}pPr", f"{w}rPr", f"{w}tcPr", f"{w}trPr"
        self.p_style, self.outline_lvl, self.bold = f"{w}pStyle", f"{w}outlineLvl", f"{w}b"
        self.grid_before, self.grid_span, self.v_merge = f"{w}gridBefore", f"{w}gridSpan", f"{w}vMerge"
        self.fld_char, self.sym, self.ff_data, self.check_box = f"{w}fldChar", f"{w}sym", f"{w}ffData", f"{w}checkBox"
        self.checked, self.default, self.date, self.showing_placeholder = (
            f"{w}checked", f"{w}default", f"{w}date", f"{w}showingPlcHdr")
        self.val, self.full_date, self.fld_char_type, self.char, self.font = (
            f"{w}val", f"{w}fullDate", f"{w}fldCharType", f"{w}char", f"{w}font")
        self.fixed = {f"{w}{t}": text for t, text in _FIXED.items()}
        #: elements that show text, or a glyph in place of their content
        self.showing = (self.t, *self.fixed, self.sdt, self.fld_char, self.sym)
        #: looking up from a shown element, any of these on the way hides it: it is inside hidden content, or
        #: inside an element that shows only its own text or glyph
        self.hiding = frozenset({f"{w}{t}" for t in _HIDING} | {f"{{{MC}}}Fallback"} | set(self.showing)) - {self.sdt}


_names = lru_cache(maxsize=16)(_Names)

#: a cell's paragraphs (lxml elements) and nested tables (``_Nested``) in order, as the exact reading lays it out
_Plan = list[Any]


@dataclass(frozen=True)
class _Nested:
    """A table inside a cell: its cells row by row, which read as tab-separated lines of the cell's text."""

    rows: list[list[_Plan]]


@dataclass(frozen=True)
class _Table:
    """A body table laid out: each row's number as the user counts rows, and its cells (``w:tc``) to read by grid
    column (a vertically merged continuation is left out, so its column stays empty)."""

    rows: list[tuple[int, list[tuple[int, Any]]]]


_Block = tuple[Any, bool] | _Table  # a body paragraph (and whether a placeholder hides it), or a table


def _paragraph_text(pieces: list[str]) -> str:
    """A paragraph's pieces of text joined, or "" for Word's placeholder prompt left as plain text."""
    text = "".join(pieces)
    # the first test only saves time: a prompt starts "Click"/"Choose" after any spaces, and only "c" and "C"
    # lower-case to "c"
    if (text and (text[0] in "cC" or text[0].isspace()) and text.lstrip()[:6].lower() in ("click ", "choose")
            and norm_key(text) in _PLACEHOLDERS):
        return ""
    return text


def _lines(texts: list[str]) -> str:
    """Paragraph texts (or table lines) as one cell's text: the ones holding more than blanks, one a line."""
    return "\n".join([line for line in texts if line.strip()])


class _Document:
    """A document body laid out as paragraphs and tables, with the text of each body paragraph and cell.

    The quick reading covers what Word writes: paragraphs in the body and in a body table's cell, straight or
    in content controls and custom XML. Laying out stops at the cells, and one ``iter()`` over the elements
    that show text gives each piece to its paragraph and that paragraph to its cell. A piece found in any other
    paragraph (one in a nested table, or inside another paragraph) marks the cell or body paragraph holding it
    *irregular*: its text is then read exactly, walking its layout down and giving each piece to the paragraph
    that shows it (``_exact_texts``).
    """

    def __init__(self, root: Any, styles_part: Callable[[], bytes] | None) -> None:
        self.n = n = _names(root.tag[1:].split("}")[0])
        self._styles_part = styles_part
        self._styles: dict[str, bool] | None = None
        body = _child(root, n.body)
        self.body = body if body is not None else root
        self._paragraphs: set[Any] = set()  # body paragraphs whose text is wanted (not behind a placeholder)
        self._cells: dict[Any, list[list[str]]] = {}  # the cells read: pieces of text of each of their paragraphs
        self._irregular: set[Any] = set()  # cells and body paragraphs whose text is read exactly
        self._sdts: dict[Any, tuple[str | None, Any]] = {}
        self._spans, self._merges, self._befores = self._cell_properties()
        self.blocks: list[_Block] = self._layout(self.body, False, [])
        self._pieces = self._read_texts()

    # ------------------------------------------------------------------ layout

    def _layout(self, parent: Any, hidden: bool, out: list[_Block]) -> list[_Block]:
        """Body paragraphs and tables in document order, through content controls and custom XML.

        ``hidden`` marks a content control still showing its placeholder: its paragraphs count
        for numbering but hold nothing (its tables are read all the same).
        """
        n = self.n
        for ch in parent:
            tag = ch.tag
            if tag == n.p:
                if not hidden:
                    self._paragraphs.add(ch)
                out.append((ch, hidden))
            elif tag == n.tbl:
                out.append(_Table(self._table_rows(ch)))
            elif tag == n.sdt:
                content = _child(ch, n.sdt_content)
                if content is not None:
                    self._layout(content, hidden or self._placeholder(ch), out)
            elif tag == n.custom_xml:
                self._layout(ch, hidden, out)
        return out

    def _wrapped(self, parent: Any, tag: str, out: list[Any]) -> list[Any]:
        """Children with ``tag``, looking through row- and cell-level content controls."""
        n = self.n
        for ch in parent:
            own = ch.tag
            if own == tag:
                out.append(ch)
            elif own == n.sdt:
                content = _child(ch, n.sdt_content)
                if content is not None:
                    self._wrapped(content, tag, out)
            elif own == n.custom_xml:
                self._wrapped(ch, tag, out)
        return out

    def _table_rows(self, tbl: Any) -> list[tuple[int, list[tuple[int, Any]]]]:
        """A table's cells by grid column: a cell spanning columns (gridSpan) moves the next one along,
        a vertically merged continuation is not read, so columns line up with the header."""
        n = self.n
        befores, spans, merges, cells, val = self._befores, self._spans, self._merges, self._cells, n.val
        rows = []
        for number, tr in enumerate(self._wrapped(tbl, n.tr, []), 1):
            before = befores.get(tr)
            col = max(0, _int(before.get(val), 0)) if before is not None else 0
            read = []
            for tc in self._wrapped(tr, n.tc, []):
                merge = merges.get(tc)
                if merge is None or merge.get(val) not in (None, "continue"):
                    cells[tc] = []
                    read.append((col, tc))
                span = spans.get(tc)
                col += min(max(1, _int(span.get(val), 1)), 64) if span is not None else 1
            rows.append((number, read))
        return rows

    def _cell_properties(self) -> tuple[dict[Any, Any], dict[Any, Any], dict[Any, Any]]:
        """Each cell's ``tcPr/gridSpan`` and ``tcPr/vMerge`` and each row's ``trPr/gridBefore``, from one pass
        over the body: the first in document order is the one ``find()`` would give."""
        n = self.n
        spans: dict[Any, Any] = {}
        merges: dict[Any, Any] = {}
        befores: dict[Any, Any] = {}
        for el in self.body.iter(n.grid_span, n.v_merge, n.grid_before):
            parent = el.getparent()
            tag = el.tag
            if tag == n.grid_before:
                if parent.tag == n.trpr:
                    befores.setdefault(parent.getparent(), el)
            elif parent.tag == n.tcpr:
                (spans if tag == n.grid_span else merges).setdefault(parent.getparent(), el)
        return spans, merges, befores

    # ------------------------------------------------------------------ grids

    def table_grid(self, table: _Table, number: int) -> Grid:
        """A body table as a grid: its rows with at least one cell holding text."""
        rows: list[Row] = []
        cell_pieces, irregular = self._cells, self._irregular
        for row_no, cells in table.rows:
            texts: dict[int, Any] = {}
            for col, tc in cells:
                # a cell's paragraphs joined by new lines
                paragraphs = cell_pieces[tc]
                if tc in irregular:
                    text = self._exact_cell_text(tc).strip()
                elif len(paragraphs) == 1:  # most cells
                    text = _paragraph_text(paragraphs[0]).strip()
                else:
                    text = _lines([_paragraph_text(pieces) for pieces in paragraphs]).strip()
                if text:
                    texts[col] = text
            if texts:
                rows.append(Row(row_no, texts))
        return Grid(rows, lambda row, _col: f"table {number}, row {row}")

    def _exact_cell_text(self, tc: Any) -> str:
        """An irregular cell's text, read the exact way: its paragraphs, and a nested table's rows as
        tab-separated lines."""
        wanted: set[Any] = set()
        plan = self._plan(tc, [], wanted)
        return self._plan_text(plan, self._exact_texts(tc, wanted))

    # ------------------------------------------------------------------ text

    def paragraph_text(self, p: Any) -> str:
        """A body paragraph's text ("" for Word's own placeholder prompt)."""
        if p in self._irregular:
            return self._exact_texts(p, {p}).get(p, "")
        return _paragraph_text(self._pieces.get(p, []))

    def _read_texts(self) -> dict[Any, list[str]]:
        """The quick reading: one ``iter()`` over the elements that show text, in document order. A piece goes
        to the paragraph showing it: a body paragraph's into the result, a cell paragraph's into its cell."""
        n = self.n
        run, para, t, fixed, cells = n.r, n.p, n.t, n.fixed, self._cells
        pieces_of: dict[Any, list[str]] = {}
        last: Any = None  # the paragraph the last piece went to, and its pieces
        pieces: list[str] = []
        for el in self.body.iter(*n.showing):
            parent = el.getparent()
            p = parent.getparent() if parent.tag == run else None
            if p is None or p is not last:  # not the next piece of the last paragraph (the usual case)
                if p is None or p.tag != para:  # not in a run straight in a paragraph
                    p = self._paragraph_of(el, parent)
                    if p is None:
                        continue
                if p is not last:
                    cell = cells.get(p.getparent())
                    if cell is not None:  # a paragraph straight in a cell (``_pieces_for``, its usual case)
                        pieces = []
                        cell.append(pieces)
                    else:
                        found = self._pieces_for(p, pieces_of)
                        pieces = [] if found is None else found  # a paragraph nobody reads: a list nobody reads
                    last = p
            tag = el.tag  # ``_value(el)``, inlined: this loop sees every piece of text in the document
            value = (el.text or "") if tag == t else fixed[tag] if tag in fixed else self._glyph(el)
            if value:
                pieces.append(value)
        return pieces_of

    def _paragraph_of(self, el: Any, node: Any) -> Any:
        """The nearest paragraph above ``el`` (whose parent is ``node``) that shows it; None when an element on
        the way hides it (see ``_hides``) or no paragraph holds it."""
        n = self.n
        child = el
        while node is not None:
            if node.tag == n.p:
                return node
            if self._hides(node, child):
                return None
            child, node = node, node.getparent()
        return None

    def _pieces_for(self, p: Any, pieces_of: dict[Any, list[str]]) -> list[str] | None:
        """Where a paragraph's pieces of text go: a wanted body paragraph's list, or a new line of the cell it is
        in (straight, or through content controls and custom XML as ``_plan`` lays a cell out). None for a
        paragraph that shows nothing (behind a placeholder, not in a cell read); any other paragraph makes the
        cell or body paragraph holding it irregular, and its pieces wait for the exact reading."""
        if p in self._paragraphs:
            return pieces_of.setdefault(p, [])
        n, cells = self.n, self._cells
        node, shown = p.getparent(), True
        while node is not None:
            cell = cells.get(node)
            if cell is not None:
                if not shown:
                    return None
                pieces: list[str] = []
                cell.append(pieces)
                return pieces
            tag = node.tag
            if tag == n.sdt_content:
                sdt = node.getparent()
                if sdt is None or sdt.tag != n.sdt:
                    break
                shown = shown and _child(sdt, n.sdt_content) is node and not self._placeholder(sdt)
                node = sdt.getparent()
            elif tag == n.custom_xml:
                node = node.getparent()
            else:
                break
        while node is not None:
            if node in cells or node in self._paragraphs:
                self._irregular.add(node)
                break
            node = node.getparent()
        return None

    def _exact_texts(self, unit: Any, wanted: set[Any]) -> dict[Any, str]:
        """The text of the ``wanted`` paragraphs within ``unit`` (an irregular cell or body paragraph): each
        element showing text goes to the wanted paragraph showing it, looking up through any other paragraph."""
        pieces_of: dict[Any, list[str]] = {}
        for el in unit.iter(*self.n.showing):
            owner = self._owner(el, wanted)
            if owner is not None and (value := self._value(el)):
                pieces_of.setdefault(owner, []).append(value)
        return {p: _paragraph_text(pieces) for p, pieces in pieces_of.items()}

    def _owner(self, el: Any, wanted: set[Any]) -> Any:
        """The wanted paragraph showing ``el``, or None: an element on the way hides it, or it is in no wanted
        paragraph. Paragraphs that are not wanted (inside another, say) are looked through."""
        child, node = el, el.getparent()
        while node is not None:
            if node in wanted:
                return node
            if self._hides(node, child):
                return None
            child, node = node, node.getparent()
        return None

    def _hides(self, node: Any, child: Any) -> bool:
        """Whether ``node`` hides its ``child`` from the paragraph around it: hidden content (properties, deleted
        text, field codes, text boxes...), an element showing only its own text or glyph, or a content control
        showing its state, its placeholder or another ``w:sdtContent``."""
        tag = node.tag
        return tag in self.n.hiding or tag == self.n.sdt and self._sdt(node)[1] is not child

    def _plan(self, parent: Any, out: _Plan, wanted: set[Any]) -> _Plan:
        """An irregular cell laid out: its paragraphs (added to ``wanted``) and nested tables, through content
        controls (leaving out one showing its placeholder) and custom XML."""
        n = self.n
        for ch in parent:
            tag = ch.tag
            if tag == n.p:
                wanted.add(ch)
                out.append(ch)
            elif tag == n.tbl:
                out.append(_Nested([[self._plan(tc, [], wanted) for tc in self._wrapped(tr, n.tc, [])]
                                    for tr in self._wrapped(ch, n.tr, [])]))
            elif tag == n.sdt:
                content = _child(ch, n.sdt_content)
                if content is not None and not self._placeholder(ch):
                    self._plan(content, out, wanted)
            elif tag == n.custom_xml:
                self._plan(ch, out, wanted)
        return out

    def _plan_text(self, plan: _Plan, texts: dict[Any, str]) -> str:
        """A laid-out cell's text: its paragraphs' texts and its nested tables' rows as tab-separated lines."""
        lines: list[str] = []
        for item in plan:
            if type(item) is _Nested:
                lines.extend("\t".join(self._plan_text(c, texts).replace("\n", " ") for c in row) for row in item.rows)
            else:
                lines.append(texts.get(item, ""))
        return _lines(lines)

    def _value(self, el: Any) -> str | None:
        """The text an element showing text shows: its own, a fixed character, or a glyph."""
        n = self.n
        tag = el.tag
        return (el.text or "") if tag == n.t else n.fixed[tag] if tag in n.fixed else self._glyph(el)

    def _glyph(self, el: Any) -> str | None:
        """The text an element shows in place of its content: a checkbox's glyph, a picked date, a symbol."""
        n = self.n
        if el.tag == n.sdt:
            return self._sdt(el)[0]
        if el.tag == n.fld_char:
            return self._form_checkbox(el)
        return self._symbol(el)

    def _sdt(self, sdt: Any) -> tuple[str | None, Any]:
        """What an inline content control shows, as (text in its place, the content element shown instead):
        a checkbox's glyph or a picked date and none of its content; nothing while it shows its placeholder;
        else its first ``w:sdtContent``. Kept per control, as every element inside looks it up."""
        known = self._sdts.get(sdt)
        if known is None:
            box = self._checkbox(sdt)
            if box is not None:
                known = (box, None)
            elif (day := self._picked_date(sdt)) is not None:
                known = (day, None)
            elif self._placeholder(sdt):
                known = (None, None)
            else:
                known = (None, _child(sdt, self.n.sdt_content))
            self._sdts[sdt] = known
        return known

    def _placeholder(self, sdt: Any) -> bool:
        n = self.n
        el = _grandchild(sdt, n.sdt_pr, n.showing_placeholder)
        return el is not None and str(el.get(n.val, "1")).lower() not in _FALSE

    def _checkbox(self, sdt: Any) -> str | None:
        """A content-control checkbox (``w14:checkbox``) as ☒/☐; its own glyph run is ignored."""
        box = _grandchild(sdt, self.n.sdt_pr, f"{{{W14}}}checkbox")
        if box is None:
            return None
        checked = _child(box, f"{{{W14}}}checked")
        on = checked is not None and str(checked.get(f"{{{W14}}}val", "0")).lower() in ("1", "true", "on")
        return TICKED if on else UNTICKED

    def _picked_date(self, sdt: Any) -> str | None:
        """A date-picker content control's date (``w:date/@w:fullDate``) as ISO text, whatever format it shows."""
        n = self.n
        el = _grandchild(sdt, n.sdt_pr, n.date)
        if el is None or self._placeholder(sdt):
            return None
        m = _ISO_DAY.match(str(el.get(n.full_date, "")))
        return m.group(0) if m else None

    def _form_checkbox(self, fld: Any) -> str | None:
        """A legacy form-field checkbox (``w:ffData/w:checkBox``) at its field's start."""
        n = self.n
        if fld.get(n.fld_char_type) != "begin":
            return None
        box = _grandchild(fld, n.ff_data, n.check_box)
        if box is None:
            return None
        checked = _child(box, n.checked)
        if checked is not None:
            on = str(checked.get(n.val, "1")).lower() not in _FALSE
        else:
            default = _child(box, n.default)
            on = default is not None and str(default.get(n.val, "0")).lower() not in _FALSE
        return TICKED if on else UNTICKED

    def _symbol(self, sym: Any) -> str:
        """A symbol-font character (``w:sym``): only checkbox glyphs matter here."""
        n = self.n
        try:
            code = int(str(sym.get(n.char, "")), 16)
        except ValueError:
            return ""
        if "wingdings" in str(sym.get(n.font, "")).lower():
            return _WINGDINGS_BOXES.get(code & 0xFF if code >= 0xF000 else code, "")
        return _UNICODE_BOXES.get(code, "")

    # ------------------------------------------------------------------ headings

    def is_heading(self, p: Any, text: str, is_field: bool) -> bool:
        """A Heading/Title style or outline level, or a short paragraph all in bold that is not ``Label: value``."""
        n = self.n
        style = _grandchild(p, n.ppr, n.p_style)
        if style is not None:
            sid = str(style.get(n.val, ""))
            if _HEADING_STYLE.match(sid) or self._heading_style(sid):
                return True
        lvl = _grandchild(p, n.ppr, n.outline_lvl)
        if lvl is not None and _int(lvl.get(n.val), 9) < 9:
            return True
        if is_field or len(text) > _SHORT_HEADING:
            return False
        runs = [r for r in p.iter(n.r) if "".join(t.text or "" for t in r.iter(n.t)).strip()]
        return bool(runs) and all(self._bold(r) for r in runs)

    def _heading_style(self, style_id: str) -> bool:
        if self._styles is None:
            self._styles = {}
            if self._styles_part is not None:
                xml = self._styles_part()  # a damaged or hostile part rejects the file, as any part does
                try:
                    self._styles = _heading_styles(_parse(xml, "word/styles.xml"))
                except ReadError:
                    pass  # styles that are not well-formed XML cost only the headings they would have named
        return self._styles.get(style_id, False)

    def _bold(self, run: Any) -> bool:
        b = _grandchild(run, self.n.rpr, self.n.bold)
        return b is not None and str(b.get(self.n.val, "1")).lower() not in _FALSE
