"""The Excel cell reader: values exactly as Excel holds them, read from the sheet XML."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from audit_cli.errors import ReadError
from audit_cli.readers.xlsx_cells import from_excel, is_date_format, read_workbook


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
