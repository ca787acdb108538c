"""Cell values of an .xlsx/.xlsm workbook, read straight from its XML parts.

Why not openpyxl: it builds a Python object per cell and per style, about 20-40 ms
for a small audit form, when all a reader needs is each cell's value. Reading the
sheet XML directly gives the same values (the cached result of a formula, a real
date where the cell's number format is a date, shared and inline strings, booleans)
in a millisecond or two. python-calamine is as fast, but it aborts the whole process
on some hostile files (a cell at XFD1048576), which no ``except`` can catch.

A worksheet or the shared strings are read one of two ways, with one meaning:

* the plain way, for a part written the way Excel, openpyxl and xlsxwriter write
  them (UTF-8, the main namespace the root's default, no comments, CDATA or PIs,
  cells as ``<c r=.. s=.. t=..><v>..</v></c>``): libxml2 checks the part without
  building a tree, then one regular expression reads it tag by tag. Building an lxml
  element for every empty formatted cell of a form was most of the time;
* the tree way, for any other part and any part libxml2 has a complaint about: lxml
  streams ``<row>`` elements, so an unusual but valid part reads the same and a
  broken one fails with libxml2's own message.

Safety: ``safety.check`` has already refused DTDs, zip bombs and lying headers, and
bounds each part (they are inflated whole); the parser here still resolves no entities,
loads no DTD and touches no network, and a cell budget bounds the work.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, Any

from lxml import etree

from ..errors import ReadError

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_M = "{%s}" % NS_MAIN
_C, _V, _T, _IS, _SI, _RPH, _ROW = (_M + t for t in ("c", "v", "t", "is", "si", "rPh", "row"))

#: built-in number formats that show a date or time
_BUILTIN_DATES = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')
_DATE_TOKENS = re.compile(r"[dmyhs]", re.IGNORECASE)
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")
_INT = re.compile(r"^-?\d{1,15}$")

#: the hardened parser settings, for every part
_PARSER_KWARGS: dict[str, Any] = {"resolve_entities": False, "no_network": True, "load_dtd": False,
                                  "huge_tree": False}


#: (1-based row number, {0-based column: value}) for each non-empty row
Rows = list[tuple[int, dict[int, Any]]]


@dataclass
class Sheet:
    name: str
    rows: Rows


# --------------------------------------------------------------------------- parts


class _ZipParts(Mapping[str, bytes]):
    """A zip's parts by name, each inflated when the reader asks for it: a hidden sheet,
    a drawing or the theme is never inflated."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self._zf = zf

    def __getitem__(self, name: str) -> bytes:
        return self._zf.read(name)

    def __contains__(self, name: object) -> bool:
        return name in self._zf.NameToInfo

    def __iter__(self) -> Iterator[str]:
        return iter(self._zf.NameToInfo)

    def __len__(self) -> int:
        return len(self._zf.NameToInfo)


class _PartStream(io.BytesIO):
    """An inflated part as a stream, named so lxml's errors cite the part as they do from the zip."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


def _tree(parts: Mapping[str, bytes], name: str) -> Any:
    """A small part's tree (relationships, workbook, styles); ``base_url`` names the part in lxml's errors."""
    return etree.fromstring(parts[name], etree.XMLParser(**_PARSER_KWARGS), base_url=name)


def _rels(parts: Mapping[str, bytes], part: str) -> dict[str, tuple[str, str]]:
    """A part's relationships: id -> (type, resolved target path in the zip)."""
    folder, name = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", name + ".rels")
    if rels_name not in parts:
        return {}
    root = _tree(parts, rels_name)
    out: dict[str, tuple[str, str]] = {}
    for rel in root.iter("{%s}Relationship" % NS_PKG_REL):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], path)
    return out


# --------------------------------------------------------------------------- values


def is_date_format(code: str) -> bool:
    """Whether a custom number format shows a date or time (quoted text, colours and escapes aside)."""
    if code.lower() == "general":
        return False
    return bool(_DATE_TOKENS.search(_QUOTED.sub("", code)))


def _date_styles(parts: Mapping[str, bytes], path: str | None) -> list[bool]:
    """For each cell style index, whether its number format is a date."""
    if not path or path not in parts:
        return []
    root = _tree(parts, path)
    custom: dict[int, bool] = {}
    fmts = root.find(_M + "numFmts")
    if fmts is not None:
        for f in fmts.iter(_M + "numFmt"):
            try:
                custom[int(f.get("numFmtId", "-1"))] = is_date_format(f.get("formatCode", ""))
            except ValueError:
                continue
    xfs = root.find(_M + "cellXfs")
    out: list[bool] = []
    if xfs is not None:
        for xf in xfs.iter(_M + "xf"):
            try:
                fid = int(xf.get("numFmtId", "0"))
            except ValueError:
                fid = 0
            out.append(custom.get(fid, fid in _BUILTIN_DATES))
    return out


def from_excel(serial: float, date1904: bool) -> dt.datetime | dt.time:
    """An Excel serial date as a datetime (1900 or 1904 system; 1900's leap-year bug honoured)."""
    if date1904:
        base = dt.datetime(1904, 1, 1)
    elif serial < 60:
        base = dt.datetime(1899, 12, 31)
    else:
        base = dt.datetime(1899, 12, 30)
    if 0 <= serial < 1 and not date1904:
        seconds = round(serial * 86400)
        return dt.time(seconds // 3600 % 24, seconds // 60 % 60, seconds % 60)
    value = base + dt.timedelta(days=serial)
    # Excel stores times to the millisecond; drop float noise below that.
    return value.replace(microsecond=round(value.microsecond / 1000) * 1000 % 1_000_000)


def column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


#: column letters -> index, remembered: a sheet names the same few columns on every row
_column = lru_cache(maxsize=4096)(column_index)


def _number(text: str) -> int | float:
    return int(text) if _INT.match(text) else float(text)


@dataclass(frozen=True)
class _CellContext:
    """What a cell's value depends on beyond the cell itself."""

    strings: list[str]
    dates: list[bool]
    date1904: bool


def _value(kind: str, text: str | None, style: str | None, context: _CellContext) -> Any:
    """A cell's value from its type (``t``), the text of its ``<v>`` and its style (``s``).

    Inline strings (``t="inlineStr"``) are read by the caller, from ``<is>``."""
    if text is None:
        return None
    if kind == "s":
        try:
            return context.strings[int(text)]
        except (ValueError, IndexError):
            return None
    if kind in ("str", "e"):
        return text
    if kind == "b":
        return text.strip() in ("1", "true")
    if kind == "d":
        try:
            return dt.datetime.fromisoformat(text.strip().rstrip("Z"))
        except ValueError:
            return text
    try:
        number = _number(text.strip())
    except ValueError:
        return text
    dates = context.dates
    if style is not None and style.isdigit() and int(style) < len(dates) and dates[int(style)]:
        try:
            return from_excel(float(number), context.date1904)
        except (OverflowError, ValueError):
            return number
    return number


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _Budget:
    def __init__(self, cells: int) -> None:
        self.left = cells
        self.limit = cells


# --------------------------------------------------------------------------- the tree way


def _text(el: Any) -> str:
    """A rich or plain string's text: every ``<t>`` but the phonetic guides (``<rPh>``)."""
    t = el.find(_T)
    if t is not None and len(el) == 1:
        return t.text or ""
    return "".join(t.text or "" for t in el.iter(_T) if t.getparent().tag != _RPH)


def _streamed_strings(stream: IO[bytes]) -> list[str]:
    """The ``<si>`` strings of ``<sst>``, streamed and cleared once read."""
    out: list[str] = []
    for _, si in etree.iterparse(stream, events=("end",), tag=_SI, **_PARSER_KWARGS):
        if si.getparent().tag == _M + "sst":
            out.append(_text(si))
            si.clear()
    return out


def _streamed_rows(stream: IO[bytes], context: _CellContext, budget: _Budget,
                   name: str) -> Iterator[tuple[int, dict[int, Any]]]:
    """Rows streamed one ``<row>`` at a time (one parser event per row, not per cell), cleared once read."""
    row_no = 0
    for _, row in etree.iterparse(stream, events=("end",), tag=_ROW, **_PARSER_KWARGS):
        r = row.get("r")
        row_no = int(r) if r and r.isdigit() else row_no + 1
        cells: dict[int, Any] = {}
        col = -1
        for el in row.iterchildren(_C):
            budget.left -= 1
            if budget.left < 0:
                raise ReadError(f"sheet {name!r} is too large for an audit form "
                                f"(over {budget.limit:,} cells in the workbook)")
            if not len(el):  # a formatted but empty cell (forms have hundreds): nothing to read
                if el.get("r") is None:
                    col += 1
                continue
            ref = el.get("r")
            m = _CELL_REF.match(ref) if ref else None
            col = column_index(m.group(1)) if m else col + 1
            kind = el.get("t", "n")
            if kind == "inlineStr":
                is_ = el.find(_IS)
                value = None if is_ is None else _text(is_)
            else:
                v = el.find(_V)
                value = _value(kind, None if v is None else v.text, el.get("s"), context)
            if not _blank(value):
                cells[col] = value
        row.clear()
        while row.getprevious() is not None:  # keep memory flat on long sheets
            del row.getparent()[0]
        if cells:
            yield row_no, cells


# --------------------------------------------------------------------------- the plain way

#: libxml2's longest text node without ``huge_tree``: a smaller part cannot hold one too long
_MAX_TEXT_NODE = 10_000_000
#: the largest part read the plain way, whose tags are all listed at once; a form's parts are tens
#: of KB, and a bigger part is streamed the tree way in flat memory
_PLAIN_MAX = 4 * 1024 * 1024
_S = "[ \t\r\n]"  # XML white space (``\s`` would take more)
_ATTRS = rf"""(?:{_S}+[^ \t\r\n=/>]+{_S}*={_S}*(?:"[^"]*"|'[^']*'))*+{_S}*+"""
_PROLOG = re.compile(
    rb"""(?:\xef\xbb\xbf)?(?:<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:"1\.0"|'1\.0')"""
    rb"""(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:"[Uu][Tt][Ff]-8"|'[Uu][Tt][Ff]-8'))?"""
    rb"""(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\r\n]*\?>)?""")
_ROOT = re.compile(rf"{_S}*<([^ \t\r\n/>]+)({_ATTRS})>")
_ATTR = re.compile(rf"""([^ \t\r\n=]+){_S}*={_S}*(?:"([^"]*)"|'([^']*)')""")
_REF = re.compile(r"&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(lt|gt|amp|apos|quot));")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "apos": "'", "quot": '"'}
_ATTR_SPACE = re.compile(r"\r\n|[\r\n\t]")
_TAG = re.compile(rf"<(/?)([^ \t\r\n/>]+){_ATTRS}(/?)>")
_ROW_OPEN = re.compile(rf"<row(?={_S}|/|>)")

#: sheetData, tag by tag, as Excel, openpyxl and xlsxwriter write it: cells with ``r``, ``s``, ``t``
#: in that order, empty or holding a value (after its formula) or an inline string; rows numbered
#: by their first attribute. Any other tag is ``other``: the sheet then goes the tree way.
_SHEET_TOKENS = re.compile(
    r"<(?:"
    r'c r="([A-Z]{1,3})[0-9]+"(?: s="([0-9]+)")?(?: t="([A-Za-z]+)")?'  # column letters, style, type
    r"(?:(/)>"  # an empty cell
    r"|>(?:<f(?:[ \t\r\n][^<>]*)?(?:/>|>[^<]*</f>))?"
    r'(?:<v>([^<]*)</v>|<is><t(?: xml:space="preserve")?>([^<]*)</t></is>)</c>)'  # value, inline text
    r'|row r="([0-9]+)"([^<>]*)>'  # row number, the rest of the tag ("/" last for an empty row)
    r"|(/)row>"  # a row's end
    r")|(<)")  # other
#: the shared strings, string by string: plain text, rich text runs, empty, or ``other``
_SST_TOKENS = re.compile(r'<si><t(?: xml:space="preserve")?>([^<]*)</t></si>|<si>(.*?)</si>|(<si/>)|(<)', re.DOTALL)


class _Checker:
    """Whether lxml would build a part's tree without a single complaint, found without building it.

    libxml2 parses with no tree at under half the cost. lxml lets a tree-less parse pass
    namespace errors that a tree parse raises, so any entry in the error log, even a
    warning, counts as a complaint. Two checks happen only while a tree is built: a text
    node over 10 MB (so a bigger part is never clean) and ``xml:id`` values (so a part
    naming one is never clean). A part that is not clean goes the tree way, which reads
    it or fails exactly as lxml does.
    """

    def __init__(self) -> None:
        self._parser = etree.XMLParser(target=_NoTree(), **_PARSER_KWARGS)

    def clean(self, xml: bytes, name: str) -> bool:
        if len(xml) > _MAX_TEXT_NODE or b"xml:id" in xml:
            return False
        try:
            etree.fromstring(xml, self._parser, base_url=name)
        except etree.XMLSyntaxError:
            return False
        return len(self._parser.error_log) == 0


class _NoTree:
    """A parser target that keeps nothing: libxml2 only checks the document."""

    def close(self) -> None:
        return None


def _char(m: re.Match[str]) -> str:
    hex_, dec, name = m.groups()
    return chr(int(hex_, 16)) if hex_ else chr(int(dec)) if dec else _ENTITIES[name]


def _text_value(raw: str) -> str:
    """Element text as libxml2 gives it: line ends normalised, then references decoded."""
    if "\r" in raw:
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    return _REF.sub(_char, raw) if "&" in raw else raw


def _attr_value(raw: str) -> str:
    """An attribute value as libxml2 gives it: each literal line end or tab a space, then references decoded."""
    if "\r" in raw or "\n" in raw or "\t" in raw:
        raw = _ATTR_SPACE.sub(" ", raw)
    return _REF.sub(_char, raw) if "&" in raw else raw


def _plain(xml: bytes) -> tuple[str, str, int] | None:
    """A part's text, root name and where its root's content starts, when the part is plain:
    UTF-8; no DOCTYPE, comment, CDATA or processing instruction; the main namespace the root's
    default, declared nowhere else and bound to no prefix. Then every unprefixed element is a
    SpreadsheetML one, no prefixed one is, and the text between tags is what lxml would give."""
    if len(xml) > _PLAIN_MAX:
        return None
    head = _PROLOG.match(xml)
    start = head.end() if head else 0
    if b"<!" in xml or xml.find(b"<?", start) != -1:
        return None
    try:
        text = xml[start:].decode("utf-8")
    except UnicodeDecodeError:
        return None
    root = _ROOT.match(text)
    if root is None:
        return None
    attrs = {name: _attr_value(dq or sq) for name, dq, sq in _ATTR.findall(root.group(2))}
    decls = [(k, v) for k, v in attrs.items() if k == "xmlns" or k.startswith("xmlns:")]
    if attrs.get("xmlns") != NS_MAIN or text.count("xmlns") != len(decls):
        return None
    if any(k != "xmlns" and v == NS_MAIN for k, v in decls):
        return None
    return text, root.group(1), root.end()


class _El:
    """An element of a rich string, with ``text`` as lxml gives it."""

    __slots__ = ("children", "name", "text")

    def __init__(self, name: str) -> None:
        self.name = name
        self.text: str | None = None
        self.children: list[_El] = []


def _fragment(xml: str) -> list[_El]:
    """The elements of plain, well-formed content, as a small tree."""
    top = _El("")
    stack = [top]
    pending: _El | None = None  # an element whose text runs to the next tag
    pos = 0
    for m in _TAG.finditer(xml):
        if pending is not None:
            pending.text = _text_value(xml[pos:m.start()]) or None
            pending = None
        pos = m.end()
        closing, name, empty = m.group(1), m.group(2), m.group(3)
        if closing:
            stack.pop()
            continue
        el = _El(name)
        stack[-1].children.append(el)
        if not empty:
            stack.append(el)
            pending = el
    return top.children


def _rich_text(children: list[_El]) -> str:
    """``_text`` over a fragment: every ``<t>`` but those right under ``<rPh>``."""
    if len(children) == 1 and children[0].name == "t":
        return children[0].text or ""
    parts: list[str] = []

    def walk(els: list[_El], parent: str) -> None:
        for el in els:
            if el.name == "t" and parent != "rPh":
                parts.append(el.text or "")
            walk(el.children, el.name)

    walk(children, "")
    return "".join(parts)


def _plain_strings(text: str, start: int) -> list[str] | None:
    """Shared strings from a plain ``<sst>`` holding nothing but ``<si>`` elements; None otherwise."""
    out: list[str] = []
    for plain, rich, _, other in _SST_TOKENS.findall(text, start, text.rfind("</sst")):
        if other or "<si" in rich:  # a string inside a string is read the tree way
            return None
        out.append(_rich_text(_fragment(rich)) if rich else _text_value(plain))
    return out


def _shared_strings(parts: Mapping[str, bytes], path: str | None, checker: _Checker) -> list[str]:
    """The shared strings, the plain way when the part allows it, else the tree way."""
    if not path or path not in parts:
        return []
    xml = parts[path]
    plain = _plain(xml)
    if plain is not None and plain[1] == "sst" and checker.clean(xml, path):
        strings = _plain_strings(plain[0], plain[2])
        if strings is not None:
            return strings
    return _streamed_strings(_PartStream(xml, path))


def _sheet_data(text: str, start: int) -> tuple[int, int] | None:
    """Where a plain ``<sheetData>``'s content starts and ends; None when a row lies outside it."""
    begin = text.find("<sheetData", start)
    if text.startswith("<sheetData>", begin):
        begin += len("<sheetData>")
        end = text.find("</sheetData>", begin)
    else:  # none, or an empty ``<sheetData/>``
        begin = end = start
    if end == -1 or _ROW_OPEN.search(text, start, begin) or _ROW_OPEN.search(text, end):
        return None
    return begin, end


def _plain_rows(text: str, start: int, context: _CellContext, budget: _Budget) -> Rows | None:
    """A plain worksheet's non-empty rows; None when the sheet is not plain or would overrun the
    budget (the tree way then raises at the very cell the budget runs out)."""
    region = _sheet_data(text, start)
    if region is None:
        return None
    rows: Rows = []
    cells: dict[int, Any] | None = None  # the open row's
    row_no = count = 0
    for letters, style, kind, empty, v, inline, number, row_tag, row_end, other in _SHEET_TOKENS.findall(
            text, *region):
        if letters:
            if cells is None:
                return None  # a cell outside a row
            count += 1
            if empty:
                continue
            if kind == "inlineStr":
                value: Any = _text_value(inline)
            else:
                value = _value(kind or "n", _text_value(v) if v else None, style or None, context)
            if not _blank(value):
                cells[_column(letters)] = value
        elif number:
            if cells is not None:
                return None  # a row inside a row
            row_no = int(number)
            cells = None if row_tag.endswith("/") else {}
        elif row_end and cells is not None:
            if cells:
                rows.append((row_no, cells))
            cells = None
        else:
            return None
    if cells is not None or count > budget.left:
        return None
    budget.left -= count
    return rows


def _sheet_rows(xml: bytes, path: str, context: _CellContext, budget: _Budget, checker: _Checker, name: str) -> Rows:
    """A worksheet's non-empty rows, the plain way when the part allows it, else the tree way."""
    plain = _plain(xml)
    if plain is not None and plain[1] == "worksheet" and checker.clean(xml, path):
        rows = _plain_rows(plain[0], plain[2], context, budget)
        if rows is not None:
            return rows
    return list(_streamed_rows(_PartStream(xml, path), context, budget, name))


# --------------------------------------------------------------------------- the workbook


def read_workbook(data: bytes, max_cells: int = 2_000_000) -> list[Sheet]:
    """Every worksheet's non-empty cells, in workbook order. ``ReadError`` for a file that is not a workbook."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ReadError(f"not a valid Excel workbook (bad zip: {exc})") from None
    with zf:
        return read_parts(_ZipParts(zf), max_cells)


def read_parts(parts: Mapping[str, bytes], max_cells: int = 2_000_000) -> list[Sheet]:
    """``read_workbook`` over a package's parts by name (inflated already, or as they are asked for)."""
    try:
        return _read_parts(parts, max_cells)
    except ReadError:
        raise
    except (etree.XMLSyntaxError, zipfile.BadZipFile, zlib.error, KeyError, ValueError, EOFError, OSError) as exc:
        reason = " ".join(str(exc).split())[:120]
        raise ReadError(f"not a valid Excel workbook ({type(exc).__name__}: {reason})") from None


def _read_parts(parts: Mapping[str, bytes], max_cells: int) -> list[Sheet]:
    root_rels = _rels(parts, "")
    book = next((p for t, p in root_rels.values() if t == "officeDocument"), "xl/workbook.xml")
    if book not in parts:
        raise ReadError("not a valid Excel workbook (no workbook part)")
    wb = _tree(parts, book)
    pr = wb.find(_M + "workbookPr")
    date1904 = pr is not None and pr.get("date1904", "").lower() in ("1", "true")
    rels = _rels(parts, book)
    checker = _Checker()
    strings = _shared_strings(parts, next((p for t, p in rels.values() if t == "sharedStrings"), None), checker)
    dates = _date_styles(parts, next((p for t, p in rels.values() if t == "styles"), None))
    context = _CellContext(strings, dates, date1904)
    budget = _Budget(max_cells)
    sheets: list[Sheet] = []
    holder = wb.find(_M + "sheets")
    for s in (holder if holder is not None else []):
        rid = s.get("{%s}id" % NS_REL)
        kind, path = rels.get(rid or "", ("", ""))
        if kind != "worksheet" or path not in parts:
            continue
        if s.get("state") in ("hidden", "veryHidden"):
            continue  # lookup lists behind dropdowns, not something an auditor filled in
        name = s.get("name", "Sheet")
        rows = _sheet_rows(parts[path], path, context, budget, checker, name)
        sheets.append(Sheet(name, sorted(rows, key=lambda r: r[0])))
    return sheets
