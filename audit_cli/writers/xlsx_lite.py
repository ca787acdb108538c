"""A small, strict SpreadsheetML (.xlsx) writer for the workbooks msp-audit writes by the thousand.

A run writes one workbook per case. xlsxwriter spends about a millisecond on an empty
workbook and some ten microseconds a cell, because it builds every part afresh each time;
over thousands of cases that is most of a run. This writer knows only what those workbooks
use (text, numbers, blanks, a fixed style sheet, column widths, frozen panes, an autofilter,
page set-up, document properties) and does once, per process, everything that does not
depend on a workbook's own cells: the fixed parts are built and compressed once, a
template's fixed text is entered (and compressed) once in a string table each workbook
forks, and cells every workbook repeats are rendered once as ``Run``-s.

It keeps case text as safe as ``xlsx_safe`` does: every string is cleaned by
``xlsx_safe.clean_text`` and written as a shared-string cell, which is never a formula, so
text starting with ``=``, ``+``, ``-`` or ``@`` stays text, and nothing XML cannot hold ever
reaches a part. Elements follow the ECMA-376 schema order (Excel refuses a file whose
elements are out of order), and the same input gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import struct
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..cellrefs import COLUMN_LETTERS, column_letter, sheet_ref
from .xlsx_safe import (
    MAX_WIDTH,
    MIN_WIDTH,
    Styles,
    clean_text,
    display,
    exact_number,
    sheet_name,
)

MAX_ROWS = 1_048_576
MAX_COLS = 16_384
ZIP_LEVEL = 1  # deflate effort: the parts are small and repetitive, more buys little and costs time

_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_CT = "application/vnd.openxmlformats-officedocument"

# Excel reads "_x0041_" in cell text as an escaped character; a literal one keeps its
# underscore only when that is escaped in turn, as "_x005F_".
_EXCEL_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
# text that needs none of that, nor escaping, nor xml:space: most text, so it is looked for first
_PLAIN_TEXT = re.compile(r"(?=\S)[^&<>\r\n\t_]*(?<=\S)\Z")
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}\Z")


# --------------------------------------------------------------------------- XML text


def escape(text: str) -> str:
    """Element text: ``& < >`` escaped, and CR as a reference (a parser reads a bare CR as LF)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def escape_attr(text: str) -> str:
    """An attribute value: as ``escape``, with quotes and the whitespace a parser would fold."""
    return escape(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def _t_element(text: str) -> str:
    """A ``<t>`` element; ``xml:space="preserve"`` where Excel would otherwise trim or fold."""
    if _PLAIN_TEXT.match(text):  # most text: nothing to escape, no space at either end
        return f"<t>{text}</t>"
    if "_x" in text:
        text = _EXCEL_ESCAPE.sub("_x005F_", text)
    if text[:1].isspace() or text[-1:].isspace() or "\n" in text or "\t" in text:
        return f'<t xml:space="preserve">{escape(text)}</t>'
    return f"<t>{escape(text)}</t>"


_LETTERED = len(COLUMN_LETTERS)


def cell_ref(row: int, col: int, absolute: bool = False) -> str:
    """A1-style reference of a 0-based cell."""
    if absolute:
        return f"${column_letter(col)}${row + 1}"
    return f"{column_letter(col)}{row + 1}"


# --------------------------------------------------------------------------- styles


@dataclass(frozen=True)
class Style:
    """One cell format. Colours are ``#RRGGBB``; ``border`` is a thin border all round in that colour."""

    bold: bool = False
    italic: bool = False
    size: float = 11
    color: str | None = None
    fill: str | None = None
    border: str | None = None
    wrap: bool = False
    align: str | None = None  # left | center | right
    valign: str | None = None  # top | center | bottom
    num_format: str | None = None

    def __post_init__(self) -> None:
        for colour in (self.color, self.fill, self.border):
            if colour is not None and not _COLOUR.match(colour):
                raise ValueError(f"colour must be #RRGGBB: {colour!r}")
        if self.align not in (None, "left", "center", "right"):
            raise ValueError(f"unsupported horizontal alignment {self.align!r}")
        if self.valign not in (None, "top", "center", "bottom"):
            raise ValueError(f"unsupported vertical alignment {self.valign!r}")
        if not 1 <= self.size <= 409:
            raise ValueError(f"font size out of range: {self.size}")

    @classmethod
    def from_format(cls, props: Mapping[str, Any]) -> Style:
        """A style from xlsxwriter format properties (those ``xlsx_safe.Styles`` uses); any other
        property is refused rather than dropped, so a new one cannot vanish unnoticed."""
        props = dict(props)
        border, border_color = props.pop("border", 0), props.pop("border_color", None)
        if border not in (0, 1):
            raise ValueError(f"only thin borders are supported, not {border!r}")
        valign = props.pop("valign", None)
        kwargs: dict[str, Any] = {
            "border": (border_color or "#000000") if border else None,
            "valign": {"vcenter": "center"}.get(valign, valign),
        }
        for key, value in props.items():
            if key not in _FORMAT_KEYS:
                raise ValueError(f"format property {key!r} is not supported")
            kwargs[_FORMAT_KEYS[key]] = value
        return cls(**kwargs)


_FORMAT_KEYS = {
    "bold": "bold", "italic": "italic", "font_size": "size", "font_color": "color", "bg_color": "fill",
    "text_wrap": "wrap", "align": "align", "num_format": "num_format",
}
_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10, "@": 49}


class _StyleMaker:
    """Stands in for the xlsxwriter workbook ``xlsx_safe.Styles`` makes formats with."""

    def add_format(self, props: Mapping[str, Any]) -> Style:
        return Style.from_format(props)


class SafeStyles(Styles[Style]):
    """The named formats of ``xlsx_safe.Styles`` (header, title, note, tones...) as ``Style``
    values, made by that class itself, so every workbook msp-audit writes looks the same."""

    def __init__(self) -> None:
        super().__init__(_StyleMaker())


def _argb(colour: str) -> str:
    return "FF" + colour[1:].upper()


class StyleSheet:
    """A fixed set of styles and their ``xl/styles.xml``, rendered once.

    Fixed rather than grown as cells ask: a style's index, and so a file's bytes, must not
    depend on which workbooks were written before it in the same process. Index 0 is the
    default style (Calibri 11), which cells written without a style have.
    """

    def __init__(self, styles: Iterable[Style]) -> None:
        self._index: dict[Style, int] = {Style(): 0}
        for style in styles:
            self._index.setdefault(style, len(self._index))
        #: the ``s`` attribute of a cell in each style ("" for the default)
        self.attrs: tuple[str, ...] = tuple(f' s="{i}"' if i else "" for i in range(len(self._index)))
        self.xml: bytes = self._render().encode()
        self.member = _member("xl/styles.xml", self.xml)

    def index(self, style: Style) -> int:
        """The style's index; a style missing from the sheet is an error, not silently plain."""
        try:
            return self._index[style]
        except KeyError:
            raise KeyError(f"style not in this style sheet: {style}") from None

    def _render(self) -> str:
        fonts: dict[tuple[bool, bool, float, str | None], int] = {}
        fills: dict[str | None, int] = {None: 0}  # fill 1 is gray125, which Excel reserves
        borders: dict[str | None, int] = {None: 0}
        formats: dict[str, int] = {}
        xfs = []
        for style in self._index:
            font = fonts.setdefault((style.bold, style.italic, style.size, style.color), len(fonts))
            fill = fills.setdefault(style.fill, len(fills) + 1) if style.fill else 0
            border = borders.setdefault(style.border, len(borders))
            num = self._num_format(style.num_format, formats)
            xfs.append(self._xf(style, num, font, fill, border))
        return "".join((
            _DECL, f'<styleSheet xmlns="{_MAIN_NS}">',
            self._num_formats(formats),
            f'<fonts count="{len(fonts)}">', *(self._font(*key) for key in fonts), "</fonts>",
            f'<fills count="{len(fills) + 1}"><fill><patternFill patternType="none"/></fill>',
            '<fill><patternFill patternType="gray125"/></fill>',
            *(f'<fill><patternFill patternType="solid"><fgColor rgb="{_argb(c)}"/><bgColor indexed="64"/>'
              "</patternFill></fill>" for c in fills if c),
            f'</fills><borders count="{len(borders)}">', *(self._border(c) for c in borders), "</borders>",
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>',
            f'<cellXfs count="{len(xfs)}">', *xfs, "</cellXfs>",
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>',
            "</styleSheet>",
        ))

    @staticmethod
    def _num_format(code: str | None, formats: dict[str, int]) -> int:
        if code is None:
            return 0
        if code in _BUILTIN_FORMATS:
            return _BUILTIN_FORMATS[code]
        return formats.setdefault(code, 164 + len(formats))  # 164 is the first id a file may define

    @staticmethod
    def _num_formats(formats: dict[str, int]) -> str:
        if not formats:
            return ""
        items = "".join(f'<numFmt numFmtId="{i}" formatCode="{escape_attr(code)}"/>' for code, i in formats.items())
        return f'<numFmts count="{len(formats)}">{items}</numFmts>'

    @staticmethod
    def _font(bold: bool, italic: bool, size: float, color: str | None) -> str:
        return "".join((
            "<font>", "<b/>" if bold else "", "<i/>" if italic else "", f'<sz val="{size:g}"/>',
            f'<color rgb="{_argb(color)}"/>' if color else "", '<name val="Calibri"/><family val="2"/></font>',
        ))

    @staticmethod
    def _border(colour: str | None) -> str:
        if colour is None:
            return "<border><left/><right/><top/><bottom/><diagonal/></border>"
        side = f'style="thin"><color rgb="{_argb(colour)}"/>'
        return f"<border><left {side}</left><right {side}</right><top {side}</top><bottom {side}</bottom><diagonal/></border>"

    @staticmethod
    def _xf(style: Style, num: int, font: int, fill: int, border: int) -> str:
        align = "".join((
            f' horizontal="{style.align}"' if style.align else "",
            f' vertical="{style.valign}"' if style.valign else "",
            ' wrapText="1"' if style.wrap else "",
        ))
        applied = "".join((
            ' applyNumberFormat="1"' if num else "", ' applyFont="1"' if font else "",
            ' applyFill="1"' if fill else "", ' applyBorder="1"' if border else "",
            ' applyAlignment="1"' if align else "",
        ))
        head = f'<xf numFmtId="{num}" fontId="{font}" fillId="{fill}" borderId="{border}" xfId="0"{applied}'
        return f"{head}><alignment{align}/></xf>" if align else f"{head}/>"


# --------------------------------------------------------------------------- strings


class FrozenTable(ValueError):
    """A new string for a table that has been forked (see ``SharedStrings.fork``)."""


class SharedStrings:
    """A workbook's string table, ``xl/sharedStrings.xml``.

    Shared rather than inline strings because Excel reads ``_xHHHH_`` in cell text as an
    escaped character, so such text must be stored escaped, and it is in the shared table
    that every reader (Excel, LibreOffice, openpyxl) undoes that escape. A table filled once
    with a template's fixed text can be ``fork``-ed for each workbook: that text keeps its
    indices, and its XML is rendered and compressed once.
    """

    def __init__(self) -> None:
        self._by_value: dict[str, int] = {}  # as given, before cleaning; -1 when nothing is left
        self._texts: list[str] = []  # cleaned
        self._widths: dict[int, int] = {}  # worked out for the strings that size a column
        self._frozen = False  # forked: its indices are shared, so it takes no new strings
        self._frozen_part: _Deflated | None = None  # <si> elements of the frozen table forked from
        self._frozen_count = 0
        #: ``add``'s answer for a value already added, else None: the quick path for cells
        self.known = self._by_value.get
        self.parent: SharedStrings | None = None  # the table this one was forked from

    def add(self, value: str) -> int:
        """The index of ``value`` once cleaned (``xlsx_safe.clean_text``), or -1 if nothing is left."""
        index = self._by_value.get(value)
        if index is None:
            text = clean_text(value)
            if not text:
                index = -1
            elif self._frozen:
                raise FrozenTable("a string table that has been forked takes no new strings")
            else:
                index = len(self._texts)
                self._texts.append(text)
            self._by_value[value] = index
        return index

    def width(self, index: int) -> int:
        """The longest line's length: how wide the text would make its column."""
        width = self._widths.get(index)
        if width is None:
            width = self._widths[index] = max(map(len, self._texts[index].split("\n")))
        return width

    def freeze(self) -> None:
        """Take no new strings from now on (``add`` raises ``FrozenTable`` for one); the
        strings' XML is rendered and compressed now, once for every fork."""
        if not self._frozen:
            self._frozen = True
            self._frozen_part = _Deflated.of(self._si(self._texts).encode())
            self._frozen_count = len(self._texts)

    def fork(self) -> SharedStrings:
        """A copy to add a workbook's own strings to. This table is frozen from now on, so
        indices (and runs) made with it hold in every fork."""
        self.freeze()
        copy = SharedStrings()
        copy._by_value = self._by_value.copy()
        copy._texts = self._texts.copy()
        copy._widths = self._widths.copy()
        copy._frozen_part, copy._frozen_count = self._frozen_part, self._frozen_count
        copy.known = copy._by_value.get
        copy.parent = self
        return copy

    @staticmethod
    def _si(texts: list[str]) -> str:
        return "".join([f"<si>{_t_element(t)}</si>" for t in texts])

    def member(self) -> _Member:
        """``xl/sharedStrings.xml``, compressed: only the strings added since the fork are new work."""
        head = f'{_DECL}<sst xmlns="{_MAIN_NS}" uniqueCount="{len(self._texts)}">'.encode()
        tail = (self._si(self._texts[self._frozen_count:]) + "</sst>").encode()
        if self._frozen_part is None:
            return _member("xl/sharedStrings.xml", head, tail)
        return _member("xl/sharedStrings.xml", head, self._frozen_part, tail)


# --------------------------------------------------------------------------- sheets


@lru_cache(maxsize=1024)
def _file_width(width: float) -> str:
    """A width in characters as the file stores it, converted as xlsxwriter does (7-pixel
    digits, 5 pixels of padding), so columns are as wide as in the other workbooks."""
    pixels = int(width * 7 + 0.5) + 5 if width >= 1 else int(width * 12 + 0.5)
    return f"{pixels * 256 // 7 / 256:.16g}"


@dataclass
class PageSetup:
    """How a sheet prints (A4 unless told otherwise)."""

    landscape: bool = False
    fit_width: bool = False  # one page wide, as many tall as it takes
    paper: int = 9  # A4
    repeat_rows: int = 0  # rows printed at the top of every page


class Run:
    """Cells of one row rendered once, to be put in any row (``Sheet.put_run``): the columns
    every workbook of a template repeats (a question's section, id and wording) then cost
    one join per row instead of a cell's work each.

    The cells are rendered by a sheet's own ``put``, so they are exactly what ``put`` would
    write, except that a style of None means the default, not the column's style. They hold
    string indices, so a run is valid only with the table it was made with and that table's
    forks; a table is frozen once forked, so those indices stay true.
    """

    def __init__(self, strings: SharedStrings, styles: StyleSheet,
                 cells: Iterable[tuple[int, Any, int | None]], *, cap: int = MAX_COLS) -> None:
        self.strings = strings
        scratch = Sheet("run", styles, strings)
        pieces: list[str] = []
        tail = ""
        cols: list[int] = []
        for col, value, style in cells:
            written = len(scratch._cells)
            scratch.put(0, col, value, style, cap=cap)
            if len(scratch._cells) > written:  # split the cell around its row number, "1"
                head = f'<c r="{column_letter(col)}'
                pieces.append(tail + head)
                tail = scratch._cells[-1][len(head) + 1:]
                cols.append(col)
        if not cols:
            raise ValueError("a run needs at least one cell")
        pieces.append(tail)
        self.pieces = tuple(pieces)  # joined with the row's number between them
        self.first_col, self.last_col = cols[0], cols[-1]
        self.widths = tuple(scratch._measured.items())


class Sheet:
    """One worksheet's cells and settings; made by ``Workbook.add_sheet``.

    Cells are written row by row, left to right (as the file holds them), so each becomes
    XML at once and nothing is sorted later; writing out of order is an error. A cell put
    without a style takes its column's style (``column``) or the default. An empty value
    (None, text that cleans to nothing, a number that is not finite) is written as a blank
    only when a style is given, to carry that style; otherwise not at all. Columns without
    a fixed width are sized from what was put in them, as ``SheetWriter`` sizes them.
    """

    def __init__(self, name: str, styles: StyleSheet, strings: SharedStrings) -> None:
        self.name = name
        self._attrs = styles.attrs
        self._strings = strings
        self._known = strings.known
        self._cells: list[str] = []  # <row> and <c> elements, in order
        self._row = self._col = -1  # the last cell written
        self._row_num = ""  # its row's number as the file writes it
        self._first_row, self._min_col, self._max_col = -1, MAX_COLS, -1
        self._fixed: dict[int, float] = {}
        self._col_style: dict[int, int] = {}
        self._measured: dict[int, int] = {}
        self._freeze: tuple[int, int] | None = None
        self._filter: tuple[int, int, int, int] | None = None
        self.page = PageSetup()

    # ------------------------------------------------------------------ cells

    def put(self, row: int, col: int, value: Any, style: int | None = None, *, cap: int = MAX_COLS) -> None:
        """One cell by type, as ``xlsx_safe.SheetWriter.put``: text (anything that is not a
        number, through ``display``) as a string cell, never a formula, whatever it starts
        with; numbers at full precision; booleans as Yes/No. ``cap`` bounds how far this
        cell may widen its column."""
        if row != self._row or not self._col < col < MAX_COLS or row < 0:  # else the next cell of this row: fine
            self._check(row, col, col)
        xml = self._xml(col, self._row_num if row == self._row else str(row + 1), value, style, cap)
        if xml is not None:
            self._advance(row, col, col)
            self._cells.append(xml)

    def put_row(self, row: int, first_col: int, values: Sequence[Any], styles: Sequence[int | None]) -> None:
        """``put`` for each value from ``first_col`` on, with its style: a row's cells in one call."""
        if len(values) != len(styles):
            raise ValueError("one style (or None) for each value")
        if not values:
            return
        self._check(row, first_col, first_col + len(values) - 1)
        num, xml_of = self._row_num if row == self._row else str(row + 1), self._xml
        written = [(col, xml) for col, (value, style) in enumerate(zip(values, styles), first_col)
                   if (xml := xml_of(col, num, value, style, MAX_COLS)) is not None]
        if written:
            self._advance(row, written[0][0], written[-1][0])
            self._cells += [xml for _, xml in written]

    def put_run(self, row: int, run: Run) -> None:
        """A ``Run``'s cells, in this row."""
        if run.strings is not self._strings and run.strings is not self._strings.parent:
            raise ValueError("a run is only valid with the string table it was made with, or its forks")
        self._check(row, run.first_col, run.last_col)
        self._advance(row, run.first_col, run.last_col)
        self._cells.append(self._row_num.join(run.pieces))
        for col, width in run.widths:
            if col not in self._fixed and width > self._measured.get(col, 0):
                self._measured[col] = width

    def _xml(self, col: int, num: str, value: Any, style: int | None, cap: int) -> str | None:
        """A cell in row number ``num`` (as the file counts), or None for no cell; measures
        the column as it goes."""
        name = COLUMN_LETTERS[col] if col < _LETTERED else column_letter(col)  # column_letter, inlined
        if value is None:
            return None if style is None else f'<c r="{name}{num}"{self._attrs[style]}/>'
        if isinstance(value, str):
            text = value
        elif isinstance(value, bool):
            text = "Yes" if value else "No"
        elif isinstance(value, (int, float)):
            if not math.isfinite(value):  # NaN and infinities are not numbers Excel has
                return None if style is None else f'<c r="{name}{num}"{self._attrs[style]}/>'
            if col not in self._fixed:
                width = len(f"{value:.1f}") if isinstance(value, float) else len(str(value))
                if width > self._measured.get(col, 0):
                    self._measured[col] = width
            s = style if style is not None else self._col_style.get(col, 0)
            return f'<c r="{name}{num}"{self._attrs[s]}><v>{exact_number(value)}</v></c>'
        else:
            text = display(value)
        index = self._known(text)
        if index is None:
            index = self._strings.add(text)
        if index < 0:  # nothing left once cleaned
            return None if style is None else f'<c r="{name}{num}"{self._attrs[style]}/>'
        if col not in self._fixed:
            width = min(cap, self._strings.width(index))
            if width > self._measured.get(col, 0):
                self._measured[col] = width
        s = style if style is not None else self._col_style.get(col, 0)
        return f'<c r="{name}{num}"{self._attrs[s]} t="s"><v>{index}</v></c>'

    def _check(self, row: int, first_col: int, last_col: int) -> None:
        """Refuse cells ``first_col`` to ``last_col`` of ``row`` unless they come after every
        cell written so far; checked before anything is written, so a refusal changes nothing."""
        if row < 0:  # -1 is also what ``_row`` holds before the first cell
            raise ValueError(f"row {row} is outside a worksheet")
        if row != self._row:
            if not self._row < row < MAX_ROWS:
                raise ValueError(f"row {row} written after row {self._row}, or outside a worksheet")
            if not 0 <= first_col <= last_col < MAX_COLS:
                raise ValueError(f"columns {first_col}..{last_col} are outside a worksheet")
        elif not self._col < first_col <= last_col < MAX_COLS:
            raise ValueError(f"cells {first_col}..{last_col} of row {row} written after column {self._col},"
                             " or outside a worksheet")

    def _advance(self, row: int, first_col: int, last_col: int) -> None:
        """Claim cells ``first_col`` to ``last_col`` of ``row``, opening the row if it is new.
        A row's first cell is its leftmost and its last the rightmost, so the used columns
        are tracked a row at a time."""
        if row != self._row:
            if self._row < 0:
                self._first_row = row
            else:
                self._cells.append("</row>")
                self._max_col = max(self._max_col, self._col)
            self._min_col = min(self._min_col, first_col)
            self._row, self._row_num = row, str(row + 1)
            self._cells.append(f'<row r="{self._row_num}">')
        self._col = last_col

    # ------------------------------------------------------------------ settings

    def column(self, col: int, width: float, style: int | None = None) -> None:
        """Fix a column's width (in characters) and, optionally, the style of its unstyled cells.
        Set it before putting cells: only cells put later take the style."""
        if not 0 <= width <= 255:
            raise ValueError(f"column width out of range: {width}")
        self._fixed[col] = width
        if style is not None:
            self._col_style[col] = style

    def freeze(self, rows: int, cols: int = 0) -> None:
        """Keep the first ``rows`` rows and ``cols`` columns in view while scrolling."""
        if not (0 <= rows < MAX_ROWS and 0 <= cols < MAX_COLS):
            raise ValueError(f"cannot freeze {rows} rows and {cols} columns")
        self._freeze = (rows, cols) if rows or cols else None

    def autofilter(self, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
        """Filter buttons on the first row of the range, over the rows below it."""
        if not (0 <= first_row <= last_row < MAX_ROWS and 0 <= first_col <= last_col < MAX_COLS):
            raise ValueError(f"not a range: ({first_row}, {first_col}) to ({last_row}, {last_col})")
        self._filter = (first_row, first_col, last_row, last_col)

    @property
    def filter_range(self) -> str | None:
        """The autofilter's absolute range with the sheet name, as the workbook's hidden
        ``_xlnm._FilterDatabase`` name (which Excel expects beside every autofilter) holds it."""
        if self._filter is None:
            return None
        r0, c0, r1, c1 = self._filter
        return f"{sheet_ref(self.name)}!{cell_ref(r0, c0, True)}:{cell_ref(r1, c1, True)}"

    @property
    def print_titles(self) -> str | None:
        n = self.page.repeat_rows
        return f"{sheet_ref(self.name)}!$1:${n}" if n else None

    # ------------------------------------------------------------------ XML

    def xml(self, selected: bool = False) -> bytes:
        """``xl/worksheets/sheetN.xml``, its elements in schema order."""
        page = self.page
        parts = [_DECL, f'<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_DOC_REL}">']
        if page.fit_width:
            parts.append('<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>')
        parts += [f'<dimension ref="{self._dimension()}"/>', _sheet_views(selected, self._freeze),
                  '<sheetFormatPr defaultRowHeight="15"/>', self._cols(), "<sheetData>"]
        parts += self._cells
        parts.append("</row></sheetData>" if self._cells else "</sheetData>")
        if self._filter is not None:
            r0, c0, r1, c1 = self._filter
            parts.append(f'<autoFilter ref="{cell_ref(r0, c0)}:{cell_ref(r1, c1)}"/>')
        fit = ' fitToHeight="0"' if page.fit_width else ""
        orientation = "landscape" if page.landscape else "portrait"
        parts += [
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>',
            f'<pageSetup paperSize="{page.paper}"{fit} orientation="{orientation}"/>',
            "</worksheet>",
        ]
        return "".join(parts).encode()

    def _dimension(self) -> str:
        if self._row < 0:
            return "A1"
        first, last = cell_ref(self._first_row, self._min_col), cell_ref(self._row, max(self._max_col, self._col))
        return first if first == last else f"{first}:{last}"

    def _cols(self) -> str:
        cols = sorted(set(self._fixed) | set(self._measured))
        if not cols:
            return ""
        out = ["<cols>"]
        for c in cols:
            width = self._fixed.get(c)
            if width is None:  # as SheetWriter.finish sizes a column from its content
                width = min(max(self._measured[c] * 1.1 + 1, MIN_WIDTH), MAX_WIDTH)
            style = self._col_style.get(c)
            style_attr = f' style="{style}"' if style else ""
            out.append(f'<col min="{c + 1}" max="{c + 1}" width="{_file_width(width)}"{style_attr} customWidth="1"/>')
        out.append("</cols>")
        return "".join(out)


@lru_cache(maxsize=64)
def _sheet_views(selected: bool, freeze: tuple[int, int] | None) -> str:
    """``<sheetViews>``: which sheet is open, and the frozen panes, as xlsxwriter writes them."""
    tab = ' tabSelected="1"' if selected else ""
    if freeze is None:
        return f'<sheetViews><sheetView{tab} workbookViewId="0"/></sheetViews>'
    rows, cols = freeze
    split = (f' xSplit="{cols}"' if cols else "") + (f' ySplit="{rows}"' if rows else "")
    if rows and cols:
        pane = "bottomRight"
        selections = (f'<selection pane="topRight" activeCell="{cell_ref(0, cols)}" sqref="{cell_ref(0, cols)}"/>'
                      f'<selection pane="bottomLeft" activeCell="{cell_ref(rows, 0)}" sqref="{cell_ref(rows, 0)}"/>'
                      '<selection pane="bottomRight"/>')
    else:
        pane = "bottomLeft" if rows else "topRight"
        selections = f'<selection pane="{pane}"/>'
    return (f'<sheetViews><sheetView{tab} workbookViewId="0"><pane{split} topLeftCell="{cell_ref(rows, cols)}"'
            f' activePane="{pane}" state="frozen"/>{selections}</sheetView></sheetViews>')


# --------------------------------------------------------------------------- workbook


@dataclass
class Properties:
    """What ``docProps/core.xml`` says about the file, as ``xlsx_safe.new_workbook`` sets it."""

    title: str | None = None
    created: dt.datetime | None = None  # naive UTC; None: now
    author: str = "msp-audit"
    comments: str = "Made by msp-audit"

    def xml(self) -> bytes:
        when = self.created or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        stamp = f"{when:%Y-%m-%dT%H:%M:%SZ}"
        title = f"<dc:title>{escape(clean_text(self.title)[:250])}</dc:title>" if self.title else ""
        return (f"{_core_head(self.author, self.comments)}{title}"
                f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
                f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
                "</cp:coreProperties>").encode()


@lru_cache(maxsize=8)
def _core_head(author: str, comments: str) -> str:
    return (
        f"{_DECL}"
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
        ' xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:creator>{escape(clean_text(author))}</dc:creator>"
        f"<dc:description>{escape(clean_text(comments))}</dc:description>"
        f"<cp:lastModifiedBy>{escape(clean_text(author))}</cp:lastModifiedBy>"
    )


class Workbook:
    """Sheets, a fixed style sheet and a string table, written to .xlsx bytes by ``to_bytes``."""

    def __init__(self, styles: StyleSheet, *, strings: SharedStrings | None = None,
                 properties: Properties | None = None) -> None:
        self.styles = styles
        self.strings = strings if strings is not None else SharedStrings()
        self.properties = properties or Properties()
        self.sheets: list[Sheet] = []
        self._used_names: set[str] = set()

    def add_sheet(self, name: str) -> Sheet:
        """A new sheet at the end. ``name`` must be a valid, unused sheet name (see ``xlsx_safe.sheet_name``)."""
        if sheet_name(name, set(self._used_names)) != name:
            raise ValueError(f"not a usable sheet name: {name!r}")
        self._used_names.add(name.casefold())
        sheet = Sheet(name, self.styles, self.strings)
        self.sheets.append(sheet)
        return sheet

    def to_bytes(self) -> bytes:
        if not self.sheets:
            raise ValueError("a workbook needs at least one sheet")
        names = tuple(s.name for s in self.sheets)
        return _zip([
            _content_types(len(names)),
            _root_rels(),
            _app(names),
            _member("docProps/core.xml", self.properties.xml()),
            _workbook_part(tuple((s.name, s.filter_range, s.print_titles) for s in self.sheets)),
            _workbook_rels(len(names)),
            self.styles.member,
            self.strings.member(),
            *(_member(f"xl/worksheets/sheet{i}.xml", s.xml(selected=i == 1)) for i, s in enumerate(self.sheets, 1)),
        ])


# --------------------------------------------------------------------------- fixed parts

@lru_cache(maxsize=1)
def _root_rels() -> _Member:
    return _member("_rels/.rels", (
        f'{_DECL}<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_DOC_REL}/officeDocument" Target="xl/workbook.xml"/>'
        f'<Relationship Id="rId2" Type="{_PKG_REL}/metadata/core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_DOC_REL}/extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>"
    ).encode())


@lru_cache(maxsize=16)
def _content_types(sheets: int) -> _Member:
    sheet_parts = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_OFFICE_CT}.spreadsheetml.worksheet+xml"/>'
        for i in range(1, sheets + 1)
    )
    return _member("[Content_Types].xml", (
        f'{_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_OFFICE_CT}.spreadsheetml.sheet.main+xml"/>'
        f"{sheet_parts}"
        f'<Override PartName="/xl/styles.xml" ContentType="{_OFFICE_CT}.spreadsheetml.styles+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_OFFICE_CT}.spreadsheetml.sharedStrings+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        f'<Override PartName="/docProps/app.xml" ContentType="{_OFFICE_CT}.extended-properties+xml"/>'
        "</Types>"
    ).encode())


@lru_cache(maxsize=64)
def _workbook_part(sheets: tuple[tuple[str, str | None, str | None], ...]) -> _Member:
    """``xl/workbook.xml`` for sheets named so, with these autofilter ranges and print titles.
    Excel expects a hidden ``_xlnm._FilterDatabase`` name beside every autofilter; names are
    in Excel's order, by name and then sheet."""
    listed = "".join(f'<sheet name="{escape_attr(name)}" sheetId="{i}" r:id="rId{i}"/>'
                     for i, (name, _, _) in enumerate(sheets, 1))
    hidden = '<definedName name="_xlnm._FilterDatabase" localSheetId="{}" hidden="1">{}</definedName>'
    filters = [("_filterdatabase", i, hidden.format(i, escape(filtered)))
               for i, (_, filtered, _) in enumerate(sheets) if filtered]
    titles = [("print_titles", i, f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">{escape(rows)}</definedName>')
              for i, (_, _, rows) in enumerate(sheets) if rows]
    names = sorted(filters + titles)
    defined = f"<definedNames>{''.join(xml for _, _, xml in names)}</definedNames>" if names else ""
    return _member("xl/workbook.xml", (
        f'{_DECL}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_DOC_REL}">'
        f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{listed}</sheets>{defined}</workbook>'
    ).encode())


@lru_cache(maxsize=16)
def _workbook_rels(sheets: int) -> _Member:
    rels = [f'<Relationship Id="rId{i}" Type="{_DOC_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, sheets + 1)]
    rels.append(f'<Relationship Id="rId{sheets + 1}" Type="{_DOC_REL}/styles" Target="styles.xml"/>')
    rels.append(f'<Relationship Id="rId{sheets + 2}" Type="{_DOC_REL}/sharedStrings" Target="sharedStrings.xml"/>')
    xml = f'{_DECL}<Relationships xmlns="{_PKG_REL}">{"".join(rels)}</Relationships>'
    return _member("xl/_rels/workbook.xml.rels", xml.encode())


@lru_cache(maxsize=64)
def _app(names: tuple[str, ...]) -> _Member:
    titles = "".join(f"<vt:lpstr>{escape(n)}</vt:lpstr>" for n in names)
    return _member("docProps/app.xml", (
        f'{_DECL}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"'
        ' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        "<Application>msp-audit</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>"
        '<HeadingPairs><vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>Worksheets</vt:lpstr>'
        f"</vt:variant><vt:variant><vt:i4>{len(names)}</vt:i4></vt:variant></vt:vector></HeadingPairs>"
        f'<TitlesOfParts><vt:vector size="{len(names)}" baseType="lpstr">{titles}</vt:vector></TitlesOfParts>'
        "<LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc><HyperlinksChanged>false</HyperlinksChanged>"
        "</Properties>"
    ).encode())


# --------------------------------------------------------------------------- zip
#
# The zip is written here rather than with ``zipfile``, which compresses every member anew:
# here the parts that are the same in every workbook (content types, relationships, styles,
# a template's strings) are compressed once per process and spliced in, and a member costs a
# few microseconds instead of zipfile's twenty-odd. Only what .xlsx needs: deflated members,
# no zip64, no encryption, names in ASCII; the tests read every file back with ``zipfile``.

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_DEFLATE = 8
_VERSION = 20  # zip 2.0: deflate
#: every member is stamped 1980-01-01 00:00 (MS-DOS date 33, time 0), so bytes never depend on the clock
_DOS_DATE, _DOS_TIME = 33, 0
_ZIP_LIMIT = 0xFFFFFFFF  # beyond this a zip needs zip64
# zlib's memory for each member: an 8 KB window (a part's repeats are near each other) and a
# small hash. zlib's defaults take some 270 KB a member, which the allocator hands back to the
# system and faults in again for the next: more time in page faults than in compressing.
_WINDOW_BITS = -13  # negative: raw deflate, as zip stores it
_MEM_LEVEL = 5


@dataclass(frozen=True)
class _Member:
    """One part, compressed, with what the zip's headers say about it."""

    name: bytes
    crc: int
    size: int
    data: bytes


@dataclass(frozen=True)
class _Deflated:
    """Part of a part, compressed ahead of time to be spliced into members. It ends on a full
    flush (byte-aligned, nothing referring back), so any other compressed data may follow it."""

    raw: bytes
    data: bytes

    @classmethod
    def of(cls, raw: bytes) -> _Deflated:
        return cls(raw, _deflate(raw, last=False))


def _deflate(data: bytes, *, last: bool) -> bytes:
    compressor = zlib.compressobj(ZIP_LEVEL, zlib.DEFLATED, _WINDOW_BITS, _MEM_LEVEL)
    return compressor.compress(data) + compressor.flush(zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH)


def _member(name: str, *parts: bytes | _Deflated) -> _Member:
    """A member holding ``parts`` in order: bytes are compressed now, ``_Deflated`` as they were."""
    crc, size = 0, 0
    data: list[bytes] = []
    pending: list[bytes] = []  # bytes parts not yet compressed
    for part in parts:
        raw = part.raw if isinstance(part, _Deflated) else part
        crc, size = zlib.crc32(raw, crc), size + len(raw)
        if isinstance(part, _Deflated):
            if pending:
                data.append(_deflate(b"".join(pending), last=False))
                pending = []
            data.append(part.data)
        else:
            pending.append(part)
    data.append(_deflate(b"".join(pending), last=True))
    if size >= _ZIP_LIMIT:
        raise ValueError(f"{name} is too large for a zip without zip64")
    return _Member(name.encode("ascii"), crc, size, b"".join(data))


def _zip(members: list[_Member]) -> bytes:
    """A zip archive holding ``members`` in order: local headers and data, then the directory."""
    out: list[bytes] = []
    directory: list[bytes] = []
    offset = 0
    for m in members:
        head = (_VERSION, 0, _DEFLATE, _DOS_TIME, _DOS_DATE, m.crc, len(m.data), m.size, len(m.name))
        local = _LOCAL.pack(0x04034B50, *head, 0)
        directory += (_CENTRAL.pack(0x02014B50, _VERSION, *head, 0, 0, 0, 0, 0, offset), m.name)
        out += (local, m.name, m.data)
        offset += len(local) + len(m.name) + len(m.data)
    listing = b"".join(directory)
    if offset + len(listing) >= _ZIP_LIMIT:
        raise ValueError("workbook too large for a zip without zip64")
    out += (listing, _END.pack(0x06054B50, 0, 0, len(members), len(members), len(listing), offset, 0))
    return b"".join(out)
