"""Writing workbooks that hold case text safely (SPEC section 9), shared by every xlsx writer.

Case text is hostile until proven otherwise: a value starting with ``=``, ``+``,
``-`` or ``@`` must stay text, a control character or lone surrogate must not
crash the save (and lose the whole workbook), and an over-long value must not
be cut silently. Everything a writer puts in a cell goes through ``SheetWriter``,
which writes strings with ``write_string`` only, never ``write()``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from . import utc_naive

if TYPE_CHECKING:  # xlsxwriter is imported where a workbook is made, not at package import
    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

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


@lru_cache(maxsize=None)
def exact_worksheet_class() -> type:
    """xlsxwriter's Worksheet, writing numbers at full precision."""
    from xlsxwriter.worksheet import Worksheet

    class ExactWorksheet(Worksheet):  # type: ignore[misc]
        def _xml_number_element(self, number: float, attributes: Any = ()) -> None:
            attr = "".join(f' {k}="{self._escape_attributes(v)}"' for k, v in attributes)
            self.fh.write(f"<c{attr}><v>{exact_number(number)}</v></c>")

    return ExactWorksheet


class Styles:
    """The workbook's formats, made once each (xlsxwriter formats cannot be combined)."""

    BASE: dict[str, Any] = {"valign": "top", "font_size": 10}

    def __init__(self, workbook: "Workbook") -> None:
        self.workbook = workbook
        self._cache: dict[tuple[Any, ...], "Format"] = {}

    def get(self, tone: str | None = None, **props: Any) -> "Format":
        key = (tone, *sorted(props.items()))
        fmt = self._cache.get(key)
        if fmt is None:
            fmt = self._cache[key] = self.workbook.add_format({**self.BASE, **(TONES[tone] if tone else {}), **props})
        return fmt

    # the formats writers use by name
    @property
    def header(self) -> "Format":
        return self.get(bold=True, text_wrap=True, bg_color="#D9E1F2", border=1, border_color="#8EA9DB")

    @property
    def title(self) -> "Format":
        return self.get(bold=True, font_size=14)

    @property
    def heading(self) -> "Format":
        return self.get(bold=True, font_size=12)

    @property
    def label(self) -> "Format":
        return self.get(bold=True)

    @property
    def wrap(self) -> "Format":
        return self.get(text_wrap=True)

    @property
    def note(self) -> "Format":
        return self.get(italic=True, font_color="#595959", text_wrap=True)

    @property
    def plain(self) -> "Format":
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
    """One worksheet: every value goes in by type (strings always with ``write_string``), and
    column widths follow what was written."""

    def __init__(self, workbook: "Workbook", styles: Styles, name: str) -> None:
        self.ws: "Worksheet" = workbook.add_worksheet(name, worksheet_class=exact_worksheet_class())
        self.styles = styles
        self.name = name
        self.widths: dict[int, float] = {}
        self.fixed: dict[int, float] = {}
        self.col_fmt: dict[int, "Format"] = {}
        self.row = 0  # the next free row, for writers that append

    def put(self, row: int, col: int, value: Any, fmt: "Format | None" = None, *, cap: int = 10_000) -> None:
        """One cell. Text is cleaned and written as a string; numbers as numbers; None blank.

        ``cap`` bounds how far this cell may widen its column (headers wrap instead)."""
        ws = self.ws
        if fmt is None:
            fmt = self.col_fmt.get(col)
        if value is None:
            if fmt is not None:
                ws.write_blank(row, col, None, fmt)
            return
        if isinstance(value, bool):
            value = "Yes" if value else "No"
        if isinstance(value, (int, float)):
            if isinstance(value, float) and not math.isfinite(value):
                ws.write_blank(row, col, None, fmt)
                return
            ws.write_number(row, col, value, fmt)
            self._measure(col, len(f"{value:.1f}") if isinstance(value, float) else len(str(value)))
            return
        text = cell_text(value if isinstance(value, str) else display(value))
        if not text:
            if fmt is not None:
                ws.write_blank(row, col, None, fmt)
            return
        self._measure(col, min(cap, max((len(line) for line in text.split("\n")), default=0)))
        ws.write_string(row, col, text, fmt)

    def put_row(self, row: int, values: Iterable[Any], fmt: "Format | None" = None, start: int = 0) -> None:
        for i, v in enumerate(values):
            self.put(row, start + i, v, fmt)

    def header(self, row: int, labels: Sequence[str], start: int = 0) -> None:
        for i, label in enumerate(labels):
            self.put(row, start + i, label, self.styles.header, cap=16)

    def append(self, values: Iterable[Any], fmt: "Format | None" = None) -> int:
        """Write a row at ``self.row`` and move on; returns the row written."""
        r = self.row
        self.put_row(r, values, fmt)
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
