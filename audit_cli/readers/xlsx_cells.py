"""Cell values of an .xlsx/.xlsm workbook, read straight from its XML parts with lxml.

Why not openpyxl: it builds a Python object per cell and per style, about 20-40 ms
for a small audit form, when all a reader needs is each cell's value. Parsing the
sheet XML directly gives the same values (the cached result of a formula, a real
date where the cell's number format is a date, shared and inline strings, booleans)
in about a millisecond. python-calamine is as fast, but it aborts the whole process
on some hostile files (a cell at XFD1048576), which no ``except`` can catch.

Safety: ``safety.check`` has already refused DTDs, zip bombs and lying headers; the
parser here still resolves no entities, loads no DTD and touches no network, parts
are streamed (never inflated whole), and a cell budget bounds the work.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from typing import IO, Any, Iterator

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


@dataclass
class Sheet:
    name: str
    rows: list[tuple[int, dict[int, Any]]]  # (1-based row number, {0-based column: value}) for non-empty rows


def _parser_kwargs() -> dict[str, Any]:
    return {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}


def _parse(stream: IO[bytes]) -> Any:
    from lxml import etree

    return etree.parse(stream, etree.XMLParser(**_parser_kwargs())).getroot()


def _rels(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """A part's relationships: id -> (type, resolved target path in the zip)."""
    folder, name = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", name + ".rels")
    if rels_name not in zf.NameToInfo:
        return {}
    with zf.open(rels_name) as fh:
        root = _parse(fh)
    out: dict[str, tuple[str, str]] = {}
    for rel in root.iter("{%s}Relationship" % NS_PKG_REL):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], path)
    return out


def _shared_strings(zf: zipfile.ZipFile, path: str | None) -> list[str]:
    if not path or path not in zf.NameToInfo:
        return []
    from lxml import etree

    out: list[str] = []
    with zf.open(path) as fh:
        for _, si in etree.iterparse(fh, events=("end",), tag=_SI, **_parser_kwargs()):
            if si.getparent().tag == _M + "sst":
                out.append(_text(si))
                si.clear()
    return out


def _text(el: Any) -> str:
    """A rich or plain string's text: every ``<t>`` but the phonetic guides (``<rPh>``)."""
    t = el.find(_T)
    if t is not None and len(el) == 1:
        return t.text or ""
    return "".join(t.text or "" for t in el.iter(_T) if t.getparent().tag != _RPH)


def is_date_format(code: str) -> bool:
    """Whether a custom number format shows a date or time (quoted text, colours and escapes aside)."""
    if code.lower() == "general":
        return False
    return bool(_DATE_TOKENS.search(_QUOTED.sub("", code)))


def _date_styles(zf: zipfile.ZipFile, path: str | None) -> list[bool]:
    """For each cell style index, whether its number format is a date."""
    if not path or path not in zf.NameToInfo:
        return []
    with zf.open(path) as fh:
        root = _parse(fh)
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


def _number(text: str) -> int | float:
    return int(text) if _INT.match(text) else float(text)


class _Budget:
    def __init__(self, cells: int) -> None:
        self.left = cells
        self.limit = cells


def _sheet_rows(stream: IO[bytes], strings: list[str], dates: list[bool], date1904: bool,
                budget: _Budget, name: str) -> Iterator[tuple[int, dict[int, Any]]]:
    """Rows streamed one ``<row>`` at a time (one parser event per row, not per cell), cleared once read."""
    from lxml import etree

    row_no = 0
    for _, row in etree.iterparse(stream, events=("end",), tag=_ROW, **_parser_kwargs()):
        r = row.get("r")
        row_no = int(r) if r and r.isdigit() else row_no + 1
        cells: dict[int, Any] = {}
        col = -1
        for el in row.iterchildren(_C):
            budget.left -= 1
            if budget.left < 0:
                raise ReadError(
                    f"sheet {name!r} is too large for an audit form (over {budget.limit:,} cells in the workbook)")
            if not len(el):  # a formatted but empty cell (forms have hundreds): nothing to read
                if el.get("r") is None:
                    col += 1
                continue
            ref = el.get("r")
            m = _CELL_REF.match(ref) if ref else None
            col = column_index(m.group(1)) if m else col + 1
            value = _cell_value(el, strings, dates, date1904)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            cells[col] = value
        row.clear()
        while row.getprevious() is not None:  # keep memory flat on long sheets
            del row.getparent()[0]
        if cells:
            yield row_no, cells


def _cell_value(el: Any, strings: list[str], dates: list[bool], date1904: bool) -> Any:
    kind = el.get("t", "n")
    if kind == "inlineStr":
        is_ = el.find(_IS)
        return None if is_ is None else _text(is_)
    v = el.find(_V)
    text = None if v is None else v.text
    if text is None:
        return None
    if kind == "s":
        try:
            return strings[int(text)]
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
    style = el.get("s")
    if style is not None and style.isdigit() and int(style) < len(dates) and dates[int(style)]:
        try:
            return from_excel(float(number), date1904)
        except (OverflowError, ValueError):
            return number
    return number


def read_workbook(data: bytes, max_cells: int = 2_000_000) -> list[Sheet]:
    """Every worksheet's non-empty cells, in workbook order. ``ReadError`` for a file that is not a workbook."""
    from lxml import etree

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ReadError(f"not a valid Excel workbook (bad zip: {exc})") from None
    try:
        with zf:
            root_rels = _rels(zf, "")
            book = next((p for t, p in root_rels.values() if t == "officeDocument"), "xl/workbook.xml")
            if book not in zf.NameToInfo:
                raise ReadError("not a valid Excel workbook (no workbook part)")
            with zf.open(book) as fh:
                wb = _parse(fh)
            pr = wb.find(_M + "workbookPr")
            date1904 = pr is not None and pr.get("date1904", "").lower() in ("1", "true")
            rels = _rels(zf, book)
            strings = _shared_strings(zf, next((p for t, p in rels.values() if t == "sharedStrings"), None))
            dates = _date_styles(zf, next((p for t, p in rels.values() if t == "styles"), None))
            budget = _Budget(max_cells)
            sheets: list[Sheet] = []
            holder = wb.find(_M + "sheets")
            for s in (holder if holder is not None else []):
                rid = s.get("{%s}id" % NS_REL)
                kind, path = rels.get(rid or "", ("", ""))
                if kind != "worksheet" or path not in zf.NameToInfo:
                    continue
                if s.get("state") in ("hidden", "veryHidden"):
                    continue  # lookup lists behind dropdowns, not something an auditor filled in
                name = s.get("name", "Sheet")
                with zf.open(path) as fh:
                    rows = sorted(_sheet_rows(fh, strings, dates, date1904, budget, name), key=lambda r: r[0])
                sheets.append(Sheet(name, rows))
            return sheets
    except ReadError:
        raise
    except (etree.XMLSyntaxError, zipfile.BadZipFile, zlib_error(), KeyError, ValueError, EOFError, OSError) as exc:
        raise ReadError(f"not a valid Excel workbook ({type(exc).__name__}: {' '.join(str(exc).split())[:120]})") from None


def zlib_error() -> type[Exception]:
    import zlib

    return zlib.error
