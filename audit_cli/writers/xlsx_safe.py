"""Writing workbooks that hold case text safely (SPEC section 9), shared by every xlsx writer.

Case text is hostile until proven otherwise: a value starting with ``=``, ``+``,
``-`` or ``@`` must stay text, a control character or lone surrogate must not
crash the save (and lose the whole workbook), and an over-long value must not
be cut silently. Everything a writer puts in a cell goes through ``SheetWriter``,
which writes strings only ever as string cells (as ``write_string`` does), never
through ``write()``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Iterable, Protocol, Sequence, TypeVar

from . import utc_naive

if TYPE_CHECKING:  # xlsxwriter is imported where a workbook is made, not at package import
    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

F = TypeVar("F")
F_co = TypeVar("F_co", covariant=True)

#: never let xlsxwriter turn text into a formula, a link or a number
WORKBOOK_OPTIONS: dict[str, bool] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "in_memory": True,
}
MAX_CELL_CHARS = 32_767  # Excel's limit, in UTF-16 code units
MAX_SHEET_NAME = 31
MAX_WIDTH = 60.0
MIN_WIDTH = 6.0
# Names, codes and scores repeat from row to row: a SheetWriter remembers the cleaned form of
# short texts and a fast worksheet the XML of numbers and short texts, up to MEMO entries each
# (then it forgets them all and starts again, so memory stays bounded).
MEMO = 4096
MEMO_TEXT = 200  # longer texts seldom repeat and are not remembered

# C0 controls except tab, newline and CR; the two non-characters; any surrogate
# (a Python str never holds a valid pair as two code points, so each one is lone).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_RESERVED_SHEETS = {"history"}

# Red/amber/green, always beside a label or number so that colour is never the only signal.
TONES: dict[str, dict[str, str]] = {
    "green": {"bg_color": "#C6EFCE", "font_color": "#006100"},
    "lightgreen": {"bg_color": "#E2EFDA", "font_color": "#375623"},
    "amber": {"bg_color": "#FFEB9C", "font_color": "#9C5700"},
    "red": {"bg_color": "#FFC7CE", "font_color": "#9C0006"},
    "grey": {"bg_color": "#EDEDED", "font_color": "#404040"},
}


# --------------------------------------------------------------------------- text


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _truncate(text: str, limit: int) -> str:
    """At most ``limit`` UTF-16 units, ending with a note of how much was cut."""
    keep = max(limit - 60, 0)
    head = text[:keep]
    while head and _utf16_len(head) > keep:  # characters outside the BMP count twice in Excel
        head = head[: max(len(head) - (_utf16_len(head) - keep), 0)]
    return f"{head}… [truncated: {len(text) - len(head):,} more characters]"


def clean_text(value: str) -> str:
    """Text Excel can store: XML-illegal characters dropped, capped at 32,767 with a visible note."""
    text = _ILLEGAL.sub("", value)
    if len(text) * 2 <= MAX_CELL_CHARS or _utf16_len(text) <= MAX_CELL_CHARS:
        return text
    return _truncate(text, MAX_CELL_CHARS)


def cell_text(value: str) -> str:
    """``clean_text``, and safe from xlsxwriter's rich-string shortcut.

    xlsxwriter copies a string that starts with ``<r>`` and ends with ``</r>`` into the
    XML unescaped (it takes it for rich text it made itself), so case text shaped like
    that could inject markup or break the file. Such text is wrapped as one escaped
    text run instead, which Excel shows exactly as typed.
    """
    text = clean_text(value)
    if not (text.startswith("<r>") and text.endswith("</r>")):
        return text
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    wrapped = f'<r><t xml:space="preserve">{escaped}</t></r>'
    if _utf16_len(wrapped) > MAX_CELL_CHARS:  # cut, it ends in "]": no longer rich-shaped
        return _truncate(text, MAX_CELL_CHARS)
    return wrapped


def display(value: Any) -> str:
    """A field value as text: lists joined with '; ', booleans as Yes/No."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (list, tuple)):
        return "; ".join(display(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def sheet_name(title: str, used: set[str]) -> str:
    """A worksheet name from a title: ≤31 characters, none of ``[]:*?/\\``, unique (case-insensitive)."""
    name = _SHEET_BAD.sub(" ", _ILLEGAL.sub("", title))
    name = " ".join(name.split()).strip("'").strip() or "Sheet"
    name = name[:MAX_SHEET_NAME].rstrip().rstrip("'") or "Sheet"
    base, n = name, 2
    while name.casefold() in used or name.casefold() in _RESERVED_SHEETS:
        suffix = f" ({n})"
        name = base[: MAX_SHEET_NAME - len(suffix)].rstrip() + suffix
        n += 1
    used.add(name.casefold())
    return name


#: a header wraps rather than widen its column beyond this many characters
HEADER_CAP = 16


def created_at(iso: str | None) -> dt.datetime | None:
    """The workbook's creation time from an ISO timestamp, so equal runs give equal files."""
    return utc_naive(iso)


# --------------------------------------------------------------------------- workbook


def new_workbook(
    target: Path,
    *,
    created: dt.datetime | None = None,
    constant_memory: bool = False,
    title: str | None = None,
) -> "Workbook":
    """A workbook with the safe options. ``constant_memory`` streams rows to temporary files
    beside ``target`` (rows must then be written in order), for runs of thousands of cases."""
    import xlsxwriter

    options: dict[str, Any] = dict(WORKBOOK_OPTIONS)
    if constant_memory:
        options.update(in_memory=False, constant_memory=True, tmpdir=str(target.parent))
    wb = xlsxwriter.Workbook(str(target), options)
    props: dict[str, Any] = {"author": "msp-audit", "comments": "Made by msp-audit"}
    if title:
        props["title"] = clean_text(title)[:250]
    if created is not None:
        props["created"] = created
    wb.set_properties(props)
    return wb


def exact_number(number: float) -> str:
    """The shortest text that reads back as the same double (xlsxwriter's 16 digits lose the
    last bit of about a quarter of all scores, and results must match results.json exactly)."""
    text = repr(float(number))
    if text.endswith(".0"):
        text = text[:-2]
    return text.upper()


#: xlsxwriter releases whose row-writing internals ``_fast_row_worksheet`` was checked against
#: (``tests/test_xlsx_fast_rows.py`` compares its XML with xlsxwriter's own). Any other release
#: gets the plain path through xlsxwriter's public writers: as correct, only slower.
FAST_ROW_RELEASES = ((3, 3),)

# A cell as SheetWriter hands it to a worksheet: (TEXT, text, format), (NUMBER, number, format)
# or (BLANK, None, format); text is already cleaned and within Excel's limit.
TEXT, NUMBER, BLANK = "text", "number", "blank"
Cell = tuple[str, Any, "Format | None"]


def remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    """Keep ``value`` in ``memo`` (see MEMO), unless the key is a long text."""
    if isinstance(key, str) and len(key) > MEMO_TEXT:
        return
    if len(memo) >= MEMO:
        memo.clear()
    memo[key] = value


def fast_rows_supported() -> bool:
    """Whether the installed xlsxwriter is one whose internals the fast row path relies on."""
    import xlsxwriter

    release = tuple(int(p) for p in re.findall(r"\d+", xlsxwriter.__version__)[:2])
    return release in FAST_ROW_RELEASES


@lru_cache(maxsize=None)
def exact_worksheet_class() -> type:
    """xlsxwriter's Worksheet writing numbers at full precision, with ``put_cells`` for
    SheetWriter; where supported, constant-memory rows are written fast."""
    from xlsxwriter.worksheet import Worksheet

    class ExactWorksheet(Worksheet):  # type: ignore[misc]
        def _xml_number_element(self, number: float, attributes: Any = ()) -> None:
            attr = "".join(f' {k}="{self._escape_attributes(v)}"' for k, v in attributes)
            self.fh.write(f"<c{attr}><v>{exact_number(number)}</v></c>")

        def put_cells(self, row: int, cells: Sequence[tuple[int, Cell]]) -> None:
            """Cells of one row, in column order, through xlsxwriter's public writers."""
            for col, (kind, value, fmt) in cells:
                if kind is TEXT:
                    self.write_string(row, col, value, fmt)
                elif kind is NUMBER:
                    self.write_number(row, col, value, fmt)
                else:
                    self.write_blank(row, col, None, fmt)

    return _fast_row_worksheet(ExactWorksheet) if fast_rows_supported() else ExactWorksheet


def _fast_row_worksheet(base: type) -> type:
    """``base`` with constant-memory rows kept and written fast, on xlsxwriter 3.3 internals.

    xlsxwriter spends about 10 µs a cell in its decorator, bounds checks, cell tuples and
    generic cell writer, and a board workbook has a hundred thousand cells. Here the cells
    ``put_cells`` gets wait as SheetWriter made them, beside xlsxwriter's own table of the
    pending row, checked once for the row; when xlsxwriter flushes the row, it is written in
    one string holding exactly the XML xlsxwriter writes (formats get their indexes then, in
    the same order). Cells xlsxwriter's own writers put in the row join in, the later write
    of a cell winning; a row holding any other kind of cell (a formula, say) is handed back
    to xlsxwriter whole.

    Internals relied on: ``previous_row``, ``table``, ``row_info``, ``col_info``,
    ``xls_colmax``, ``_check_dimensions``, ``_write_single_row``, ``_write_row``, the
    ``Cell*Tuple`` types, ``Format._get_xf_index``, XMLwriter's ``_escape_control_characters``
    and ``_escape_data``, and ``utility._preserve_whitespace``.
    """
    from xlsxwriter.utility import _preserve_whitespace, xl_col_to_name
    from xlsxwriter.worksheet import CellBlankTuple, CellNumberTuple, CellStringTuple

    # text that xlsxwriter's escaping (control characters, _xHHHH_, &<>) would change
    needs_escape = re.compile("[\x00-\x08\x0b-\x1f&<>\ufffe\uffff]|_x").search
    column_names: dict[int, str] = {}

    def string_body(ws: Any, text: str) -> str:
        """What follows ``<c r=".." s=".."`` for an inline string, as ``_write_cell`` writes it:
        escaped, xlsxwriter's own rich text kept as it is, edge spaces preserved."""
        if needs_escape(text):
            text = ws._escape_control_characters(text)
            if text.startswith("<r>") and text.endswith("</r>"):
                return f' t="inlineStr"><is>{text}</is></c>'
            preserve = _preserve_whitespace(text)
            text = ws._escape_data(text)
        else:  # a printable ASCII character at each end is never whitespace
            preserve = not (" " < text[:1] < "\x7f" and " " < text[-1:] < "\x7f") and _preserve_whitespace(text)
        space = ' xml:space="preserve"' if preserve else ""
        return f' t="inlineStr"><is><t{space}>{text}</t></is></c>'

    def own_cell(cell: Any) -> Cell | None:
        """One of xlsxwriter's staged cells as a Cell, or None if of a kind left to xlsxwriter."""
        kind = type(cell)
        if kind is CellStringTuple:
            return (TEXT, cell.string, cell.format)
        if kind is CellNumberTuple:
            return (NUMBER, cell.number, cell.format)
        if kind is CellBlankTuple:
            return (BLANK, None, cell.format)
        return None

    class FastRowWorksheet(base):  # type: ignore[misc, valid-type]
        previous_row: int  # xlsxwriter's: the row its table holds, the one not yet written

        def __init__(self) -> None:
            super().__init__()
            self._pending: dict[int, Cell] = {}  # put_cells' cells of the pending row, by column
            self._style_attrs: dict[Any, str] = {}  # format -> its ' s="n"' attribute
            self._number_bodies: dict[float, str] = {}  # number -> "><v>..</v></c>": scores repeat
            self._string_bodies: dict[str, str] = {}  # text -> ' t="inlineStr">..</c>': so do names

        def put_cells(self, row: int, cells: Sequence[tuple[int, Cell]]) -> None:
            """Cells of one row, in column order, kept for the row's flush; bounds and order
            checked as xlsxwriter's writers check them, once for the row."""
            if not self.constant_memory or not cells or cells[-1][0] >= self.xls_colmax:
                super().put_cells(row, cells)
                return
            if self._check_dimensions(row, cells[0][0]) or self._check_dimensions(row, cells[-1][0]):
                return  # below the last row, or a row already written: xlsxwriter ignores the writes
            if row > self.previous_row:
                self._write_single_row(row)
            theirs = self.table.get(row)
            if theirs:  # xlsxwriter's earlier writes to these cells are overwritten
                for col, _ in cells:
                    theirs.pop(col, None)
            self._pending.update(cells)

        def _write_single_row(self, current_row_num: int = 0) -> None:
            row, pending = self.previous_row, self._pending
            if not pending:
                super()._write_single_row(current_row_num)
                return
            self._pending = {}
            theirs = self.table.get(row)
            cells: dict[int, Any] = pending
            if theirs:  # written after put_cells' cells, so they win
                cells = {**pending, **{col: own_cell(cell) for col, cell in theirs.items()}}
                if None in cells.values():  # a kind left to xlsxwriter: it writes the whole row
                    for col, (kind, value, fmt) in pending.items():
                        if col not in theirs:
                            theirs[col] = (CellStringTuple(value, fmt) if kind is TEXT else
                                           CellNumberTuple(value, fmt) if kind is NUMBER else CellBlankTuple(fmt))
                    super()._write_single_row(current_row_num)
                    return
            self.previous_row = current_row_num
            self._write_row(row, None, self.row_info.get(row))
            self.fh.write(self._cells_xml(row, cells))
            self.table.clear()

        def _cells_xml(self, row: int, cells: dict[int, Any]) -> str:
            """The row's cells and closing tag as ``_write_cell`` writes them in constant-memory mode."""
            number = str(row + 1)
            info = self.row_info.get(row)
            row_format = info.row_format if info else None
            col_info, style_attrs = self.col_info, self._style_attrs
            number_bodies, string_bodies = self._number_bodies, self._string_bodies
            parts: list[str] = []
            for col in sorted(cells):
                kind, value, fmt = cells[col]
                if kind is NUMBER:
                    body = number_bodies.get(value) or self._number_body(value)
                elif kind is TEXT:
                    body = string_bodies.get(value) or self._string_body(value)
                else:
                    body = "/>"
                fmt = fmt or row_format
                if not fmt and col in col_info:
                    fmt = col_info[col].column_format
                if fmt:  # indexes are given in first-use order, as _write_cell gives them
                    style = style_attrs.get(fmt) or style_attrs.setdefault(fmt, f' s="{fmt._get_xf_index()}"')
                else:
                    style = ""
                name = column_names.get(col) or column_names.setdefault(col, xl_col_to_name(col))
                parts.append(f'<c r="{name}{number}"{style}{body}')
            parts.append("</row>")
            return "".join(parts)

        def _number_body(self, number: float) -> str:
            body = f"><v>{exact_number(number)}</v></c>"
            if number:  # 0.0 == -0.0, but one prints "-0"
                remember(self._number_bodies, number, body)
            return body

        def _string_body(self, text: str) -> str:
            body = string_body(self, text)
            remember(self._string_bodies, text, body)
            return body

    return FastRowWorksheet


class FormatMaker(Protocol[F_co]):
    """What ``Styles`` makes formats with: an xlsxwriter workbook, or ``xlsx_lite``'s stand-in."""

    def add_format(self, properties: dict[str, Any], /) -> F_co: ...


class Styles(Generic[F]):
    """The workbook's formats, made once each (xlsxwriter formats cannot be combined). Generic
    over the format made, so ``xlsx_lite`` gets the same named formats as its own ``Style``."""

    BASE: dict[str, Any] = {"valign": "top", "font_size": 10}

    def __init__(self, workbook: FormatMaker[F]) -> None:
        self.workbook = workbook
        self._cache: dict[tuple[Any, ...], F] = {}

    def get(self, tone: str | None = None, **props: Any) -> F:
        key = (tone, *sorted(props.items()))
        fmt = self._cache.get(key)
        if fmt is None:
            fmt = self._cache[key] = self.workbook.add_format({**self.BASE, **(TONES[tone] if tone else {}), **props})
        return fmt

    # the formats writers use by name
    @property
    def header(self) -> F:
        return self.get(bold=True, text_wrap=True, bg_color="#D9E1F2", border=1, border_color="#8EA9DB")

    @property
    def title(self) -> F:
        return self.get(bold=True, font_size=14)

    @property
    def heading(self) -> F:
        return self.get(bold=True, font_size=12)

    @property
    def label(self) -> F:
        return self.get(bold=True)

    @property
    def wrap(self) -> F:
        return self.get(text_wrap=True)

    @property
    def note(self) -> F:
        return self.get(italic=True, font_color="#595959", text_wrap=True)

    @property
    def plain(self) -> F:
        return self.get()


# Number formats: values stay at full precision; the format only decides what is shown.
SCORE = "0.0"  # a 0–100 score
ATTAINMENT = "0.0%"  # a 0–1 fraction, shown as a percentage
SHARE = '0.0"%"'  # a percentage already 0–100, shown with a % sign
CHANGE = '+0.0;-0.0;0.0'
COUNT = "0"


def band_tones(labels: Sequence[str]) -> dict[str, str]:
    """Red/amber/green for bands, best first: the best is green, the worst red, the upper half
    of the rest light green and the lower half amber."""
    n = len(labels)
    tones: dict[str, str] = {}
    for rank, label in enumerate(labels):
        if rank == 0 and n > 1 or n == 1:
            tones[label] = "green"
        elif rank == n - 1:
            tones[label] = "red"
        elif rank < (n - 1) / 2:
            tones[label] = "lightgreen"
        else:
            tones[label] = "amber"
    return tones


def attainment_tone(attainment: float | None) -> str | None:
    """Green for (nearly) full marks, amber for part marks, red for none."""
    if attainment is None:
        return None
    if attainment >= 0.75:
        return "green"
    if attainment > 0:
        return "amber"
    return "red"


# --------------------------------------------------------------------------- writing cells


class SheetWriter:
    """One worksheet: every value goes in by type (strings always as string cells, never through
    ``write()``), and column widths follow what was written."""

    def __init__(self, workbook: "Workbook", styles: Styles, name: str) -> None:
        self.ws: "Worksheet" = workbook.add_worksheet(name, worksheet_class=exact_worksheet_class())
        self.styles = styles
        self.name = name
        self.widths: dict[int, float] = {}
        self.fixed: dict[int, float] = {}
        self.col_fmt: dict[int, "Format"] = {}
        self.row = 0  # the next free row, for writers that append
        self._texts: dict[str, tuple[str, int]] = {}  # value -> (cell text, longest line): names repeat

    def put(self, row: int, col: int, value: Any, fmt: "Format | None" = None, *, cap: int = 10_000) -> None:
        """One cell. Text is cleaned and written as a string; numbers as numbers; None blank.

        ``cap`` bounds how far this cell may widen its column (headers wrap instead)."""
        self.put_row(row, (value,), fmt, col, cap=cap)

    def put_row(
        self,
        row: int,
        values: Iterable[Any],
        fmt: "Format | None" = None,
        start: int = 0,
        *,
        formats: Sequence["Format | None"] | None = None,
        cap: int = 10_000,
    ) -> None:
        """Cells from column ``start`` on, each as ``put`` writes it, handed to the worksheet at
        once. ``formats`` gives each its own format.

        Text, finite floats and None, nearly every cell, are dealt with here and not through
        ``_cell``: this loop runs for every cell of the board workbook."""
        cells: list[tuple[int, Cell]] = []
        col_fmt, widths, texts, isfinite = self.col_fmt, self.widths, self._texts, math.isfinite
        for col, value in enumerate(values, start):
            cell_fmt = fmt if formats is None else formats[col - start]
            if cell_fmt is None:
                cell_fmt = col_fmt.get(col)
            kind = value.__class__
            if kind is str:
                text, longest = texts.get(value) or self._learn_text(value)
                if text:
                    width = longest if longest < cap else cap
                    if width > widths.get(col, 0):
                        widths[col] = width
                    cells.append((col, (TEXT, text, cell_fmt)))
                elif cell_fmt is not None:
                    cells.append((col, (BLANK, None, cell_fmt)))
            elif kind is float and isfinite(value):
                width = len(f"{value:.1f}")
                if width > widths.get(col, 0):
                    widths[col] = width
                cells.append((col, (NUMBER, value, cell_fmt)))
            elif value is None:
                if cell_fmt is not None:
                    cells.append((col, (BLANK, None, cell_fmt)))
            else:
                cell = self._cell(col, value, cell_fmt, cap)
                if cell is not None:
                    cells.append((col, cell))
        if cells:
            self.ws.put_cells(row, cells)

    def _learn_text(self, value: str) -> tuple[str, int]:
        """The cell text for ``value`` and its longest line, remembered (names and codes repeat)."""
        text = cell_text(value)
        known = (text, max(map(len, text.split("\n"))) if "\n" in text else len(text))
        remember(self._texts, value, known)
        return known

    def _cell(self, col: int, value: Any, fmt: "Format | None", cap: int) -> Cell | None:
        """The cell ``put`` writes for any value (None for none at all), its width measured:
        None blank, booleans as Yes/No, numbers as numbers (NaN and infinity, which Excel
        cannot hold, blank), anything else as its text."""
        if value is None:
            return (BLANK, None, fmt) if fmt is not None else None
        if isinstance(value, bool):
            value = "Yes" if value else "No"
        elif isinstance(value, (int, float)):
            if isinstance(value, float) and not math.isfinite(value):
                return (BLANK, None, fmt) if fmt is not None else None
            self._measure(col, len(f"{value:.1f}") if isinstance(value, float) else len(str(value)))
            return (NUMBER, value, fmt)
        text, longest = self._learn_text(value if isinstance(value, str) else display(value))
        if not text:
            return (BLANK, None, fmt) if fmt is not None else None
        self._measure(col, min(cap, longest))
        return (TEXT, text, fmt)

    def header(self, row: int, labels: Sequence[str], start: int = 0) -> None:
        self.put_row(row, labels, self.styles.header, start, cap=HEADER_CAP)

    def append(
        self, values: Iterable[Any], fmt: "Format | None" = None, *, formats: Sequence["Format | None"] | None = None
    ) -> int:
        """Write a row at ``self.row`` and move on; returns the row written."""
        r = self.row
        self.put_row(r, values, fmt, formats=formats)
        self.row += 1
        return r

    def skip(self, n: int = 1) -> None:
        self.row += n

    def _measure(self, col: int, length: int) -> None:
        if length > self.widths.get(col, 0):
            self.widths[col] = length

    def width(self, col: int, width: float, wrap: bool = False) -> None:
        """Fix a column's width; a ``wrap`` column's unformatted cells wrap instead of growing."""
        self.fixed[col] = width
        if wrap:
            self.col_fmt[col] = self.styles.wrap

    def finish(self, *, freeze: tuple[int, int] | None = None, landscape: bool = False) -> None:
        """Widths from content (bounded), frozen header, print set-up."""
        for col in sorted(set(self.widths) | set(self.fixed)):
            if col in self.fixed:
                w = self.fixed[col]
            else:
                w = min(max(self.widths[col] * 1.1 + 1, MIN_WIDTH), MAX_WIDTH)
            self.ws.set_column(col, col, w, self.col_fmt.get(col))
        if freeze is not None:
            self.ws.freeze_panes(*freeze)
            if freeze[0] > 0:
                self.ws.repeat_rows(0, freeze[0] - 1)
        self.ws.set_paper(9)  # A4
        if landscape:
            self.ws.set_landscape()
            self.ws.fit_to_pages(1, 0)
