"""SheetWriter's fast row path (xlsx_safe) against xlsxwriter itself.

The fast path keeps a constant-memory worksheet's pending row itself and writes its XML
without xlsxwriter's per-cell machinery, on xlsxwriter internals. These tests write the same
cells both ways, through the fast path and through a reference that makes one public
xlsxwriter call a cell as SheetWriter did before, and require the very same file, part for
part; and they read hostile text back with openpyxl.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import zipfile
from functools import partial
from pathlib import Path
from typing import Any, Callable

import openpyxl
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit_cli.writers.xlsx_safe import (
    MAX_CELL_CHARS,
    MEMO,
    MEMO_TEXT,
    SheetWriter,
    Styles,
    cell_text,
    display,
    exact_worksheet_class,
    fast_rows_supported,
    new_workbook,
    remember,
)

CREATED = dt.datetime(2026, 6, 30, 12, 0)


class Level(enum.IntEnum):
    HIGH = 3


class Tag(str):
    """A str subclass: written as its own text."""


HOSTILE: list[Any] = [
    "plain", "=1+1", "+A1", "-2", "@SUM(A1)", '=HYPERLINK("http://x","y")', "<r>x</r>", "<r><t>y</t></r>",
    "a\x00b\x07c\x1f", "\ufffe\uffffz", "_x0041_ literal", "ok_x12", "cr\rhere", " lead", "trail ", "\u00a0nbsp",
    "\u2003em", "x\x1c", "\x85", "a&b<c>d", '"quoted"', "\n", "\nlead", "two\nlines here", "tab\t", "",
    " ", "\t", "é" * 5, "\U0001F600" * 3, "x" * 40_000, "\U0001F600" * 20_000, "\ud800lone",
    0, -0.0, 0.0, 1, -7, 3.25, 0.1 + 0.2, 1e300, 1e-300, 2**53 + 1, 10**20, 55.55555555555556,
    float("nan"), float("inf"), -float("inf"), True, False, None, ["a", "b"], ("t", 1.0), {"k": 1},
    Level.HIGH, Tag("tagged"), 12.0,
]


class Reference:
    """SheetWriter's cell writing before the fast path: one public xlsxwriter call a cell."""

    def __init__(self, workbook: Any, styles: Styles, name: str) -> None:
        cls = exact_worksheet_class()
        plain = cls.__mro__[1] if fast_rows_supported() else cls  # ExactWorksheet, without fast rows
        self.ws = workbook.add_worksheet(name, worksheet_class=plain)
        self.widths: dict[int, float] = {}
        self.col_fmt: dict[int, Any] = {}

    def put(self, row: int, col: int, value: Any, fmt: Any = None, *, cap: int = 10_000) -> None:
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

    def put_row(self, row: int, values: list[Any], fmt: Any = None, start: int = 0, *,
                formats: list[Any] | None = None, cap: int = 10_000) -> None:
        for i, value in enumerate(values):
            self.put(row, start + i, value, fmt if formats is None else formats[i], cap=cap)

    def _measure(self, col: int, length: int) -> None:
        if length > self.widths.get(col, 0):
            self.widths[col] = length


def write_both(tmp_path: Path, scenario: Callable[[Any, Styles], None]) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The workbook ``scenario`` writes through SheetWriter and through the reference, part by part."""
    out = []
    for kind in (SheetWriter, Reference):
        path = tmp_path / f"{kind.__name__}.xlsx"
        wb = new_workbook(path, created=CREATED, constant_memory=True)
        styles = Styles(wb)
        scenario(partial(kind, wb, styles), styles)
        wb.close()
        with zipfile.ZipFile(path) as z:
            out.append({n: z.read(n) for n in z.namelist()})
    return out[0], out[1]


def test_the_installed_xlsxwriter_gets_the_fast_rows() -> None:
    """Fails once xlsxwriter moves to a release the fast path was not checked against (it then
    falls back to the slower public writers): run this file against the new release, then add
    it to FAST_ROW_RELEASES, or fix the fast path."""
    assert fast_rows_supported(), f"xlsxwriter {xlsxwriter.__version__} is not in FAST_ROW_RELEASES"
    cls = exact_worksheet_class()
    assert cls.__name__ == "FastRowWorksheet"
    assert cls.__mro__[1].__name__ == "ExactWorksheet"


def test_hostile_values_give_the_same_file_as_xlsxwriter(tmp_path: Path) -> None:
    widths: list[dict[int, float]] = []

    def scenario(sheet: Callable[[str], Any], styles: Styles) -> None:
        sh = sheet("Values")
        formats = [None, styles.get("red"), styles.get(num_format="0.0"), styles.wrap]
        for r, value in enumerate(HOSTILE):
            sh.put_row(r, [value, value, value, value], formats=formats)  # every kind of cell in every format
            sh.put(r, 5, value, cap=16)
        widths.append(sh.widths)

    fast, reference = write_both(tmp_path, scenario)
    assert fast == reference
    assert widths[0] == widths[1]


def test_rows_shared_with_xlsxwriter_give_the_same_file(tmp_path: Path) -> None:
    """Column and row formats, row heights, merged ranges, xlsxwriter's own cells and formulas
    in a row SheetWriter writes to, a cell written twice, rows written out of order."""

    def scenario(sheet: Callable[[str], Any], styles: Styles) -> None:
        sh = sheet("Shared")
        ws = sh.ws
        ws.set_column(5, 5, 20, styles.get("amber"))  # a column format, for cells without one
        ws.set_row(3, 30, styles.get("grey"))  # a row format and height, set before the row
        sh.put_row(0, ["a", 1.5, None, "d"], formats=[None, styles.label, styles.wrap, None])
        sh.put_row(1, ["x", 2.0, None, "y", None, "col format"])
        ws.merge_range(2, 0, 2, 3, "", styles.header)  # xlsxwriter's blanks, then a title over them
        sh.put(2, 0, "Merged title", styles.header, cap=0)
        sh.put_row(3, ["row format", None, 3.5])
        sh.put(4, 4, "late column first")
        sh.put(4, 1, "early column second")
        sh.put(4, 1, "written twice")
        ws.write_string(4, 2, "xlsxwriter's own")
        sh.put(4, 2, "then SheetWriter's")
        sh.put(5, 0, "SheetWriter's")
        ws.write_string(5, 0, "then xlsxwriter's")
        ws.set_row(5, 40)  # a height set while the row is still open
        sh.put_row(6, ["beside a formula", 7.0])
        ws.write_formula(6, 2, "=1+1", None, 2)
        sh.put(6, 3, "after the formula")
        sh.put(7, 0, "=2+2")
        ws.write_formula(7, 0, "=3+3", None, 6)  # a formula over SheetWriter's text
        sh.put_row(9, ["skipped a row"])
        sh.put_row(8, ["too late: row 8 is written"])
        sh.put_row(10, ["beyond the last column", 1.0], start=16_383)
        sh.put_row(11, [1.0, "last row, written at close"])

        other = sheet("Second")  # the first sheet's last row is still open while this one is written
        other.put_row(0, ["second sheet", 9.0], formats=[styles.get("lightgreen"), styles.get("green")])

    fast, reference = write_both(tmp_path, scenario)
    assert fast == reference


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(st.one_of(
    st.text(max_size=30), st.text(alphabet=st.characters(max_codepoint=0x7f), max_size=8),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-10**20, max_value=10**20),
    st.booleans(), st.none(), st.lists(st.text(max_size=5), max_size=3),
), max_size=12), max_size=15), pick=st.lists(st.integers(0, 3), min_size=12, max_size=12))
def test_any_rows_give_the_same_file_as_xlsxwriter(tmp_path: Path, rows: list[list[Any]], pick: list[int]) -> None:
    widths: list[dict[int, float]] = []

    def scenario(sheet: Callable[[str], Any], styles: Styles) -> None:
        sh = sheet("Rows")
        pool = [None, styles.get("red"), styles.get(num_format="0.0"), styles.wrap]
        for r, values in enumerate(rows):
            sh.put_row(r, values, formats=[pool[p] for p in pick[: len(values)]])
        widths.append(sh.widths)

    fast, reference = write_both(tmp_path, scenario)
    assert fast == reference
    assert widths[0] == widths[1]


def test_hostile_text_reads_back_as_text(tmp_path: Path) -> None:
    path = tmp_path / "text.xlsx"
    wb = new_workbook(path, constant_memory=True)
    sh = SheetWriter(wb, Styles(wb), "Text")
    texts = ["=1+1", "+A1", "-2", "@SUM(A1)", "a\x00b\x07c\x1f\ufffe", "x" * 40_000, "\U0001F600" * 20_000,
             " both ", "<r>x</r>"]
    sh.put_row(0, texts)
    wb.close()
    cells = next(openpyxl.load_workbook(path).active.iter_rows())
    assert all(c.data_type == "s" for c in cells)
    got = [c.value for c in cells]
    assert got[:4] == ["=1+1", "+A1", "-2", "@SUM(A1)"]  # never a formula
    assert got[4] == "abc"  # characters XML cannot hold are dropped
    for capped in got[5:7]:
        assert len(capped.encode("utf-16-le")) // 2 <= MAX_CELL_CHARS and "[truncated:" in capped
    assert got[7:] == [" both ", "<r>x</r>"]


def test_memos_stay_bounded() -> None:
    memo: dict[Any, Any] = {}
    for n in range(MEMO + 10):
        remember(memo, f"t{n}", n)
    assert len(memo) == 10  # full: forgotten, then filled again
    remember(memo, "x" * (MEMO_TEXT + 1), 0)
    assert len(memo) == 10  # a long text is never kept
