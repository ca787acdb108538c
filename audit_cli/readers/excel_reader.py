"""Excel case files (.xlsx, .xlsm): a form (one case per workbook) or a register (a case per row).

Cell values come from ``xlsx_cells`` (the sheet XML read directly): real dates come back
as dates, a formula cell as the value Excel last calculated, and macros are never run. A
merged range's value sits in its top-left cell and the rest read as empty, which is what
the layout rules want (a heading merged across a table is text in its first cell only).
A cell budget bounds the work on any workbook.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Callable

from ..model import CaseField, Template
from ..values import norm_key, shorten
from . import ReadResult
from .common import CaseBuilder, TemplateIndex, index_for
from .grid import Grid, Row, field_value, read_answer_cell, read_form_grid
from .xlsx_cells import read_workbook

#: cells (including the empty ones openpyxl yields for gaps) read from one workbook at most
MAX_CELLS = 2_000_000
#: rows searched for a register's header
REGISTER_HEADER_ROWS = 30


def read(data: bytes, template: Template, source: str) -> ReadResult:
    """A register when any sheet is one, else a form."""
    sheets = load_sheets(data)
    index = index_for(template)
    registers = [(g, lay) for g in sheets if (lay := find_register(g, index)) is not None]
    if registers:
        result = ReadResult()
        for grid, layout in registers:
            read_register(grid, layout, template, source, result)
        return result
    b = CaseBuilder(template, source)
    for grid in sheets:
        read_form_grid(grid, b)
    case = b.build(fallback_id=PurePath(source).stem)
    assert case is not None  # a form always has its file name to fall back on
    return ReadResult(cases=[case])


# --------------------------------------------------------------------------- cells


def load_sheets(data: bytes) -> list[Grid]:
    """Every worksheet as a ``Grid``; ``ReadError`` for a file that is not a readable workbook."""
    grids = []
    for sheet in read_workbook(data, MAX_CELLS):
        rows = [Row(number, cells) for number, cells in sheet.rows]
        grids.append(Grid(rows, _locator(sheet_ref(sheet.name))))
    return grids


def _locator(ref: str) -> Callable[[int, int], str]:
    """``Sheet!C7`` for a row number and 0-based column."""
    return lambda row, col: f"{ref}!{column_letter(col)}{row}"


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return shorten(text, 120)


_PLAIN_SHEET = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_CELL_LIKE = re.compile(r"([A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*|[Rr]|[Cc])")


def sheet_ref(name: str) -> str:
    """A sheet name as Excel writes it in a reference: quoted (``'Case details'``) unless plain."""
    if _PLAIN_SHEET.fullmatch(name) and not _CELL_LIKE.fullmatch(name):
        return name
    return "'" + name.replace("'", "''") + "'"


def column_letter(col: int) -> str:
    """0-based column index to Excel's letters (0 -> A, 26 -> AA)."""
    letters = ""
    n = col + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


# --------------------------------------------------------------------------- registers

_EVIDENCE = frozenset({"evidence", "rationale"})
_COMMENT = frozenset({"comment", "comments", "note", "notes"})
_ANSWER = frozenset({"", "answer", "response", "judgement", "judgment", "rating"})
_SPLIT_ID = re.compile(r"[\s:\-–—_/()]+")


@dataclass(frozen=True)
class RegisterLayout:
    """A register sheet's header row (index into ``Grid.rows``) and what each column holds."""

    header: int
    fields: dict[int, CaseField]
    answers: dict[int, str]  # column -> criterion id
    evidence: dict[str, int]  # criterion id -> column
    comments: dict[str, int]


def register_column(index: TemplateIndex, text: str) -> tuple[str, str] | None:
    """(criterion id, answer|evidence|comment) for headers ``A1``, ``A1 evidence``, ``A1 - comment``."""
    crit = index.criteria_by_key.get(norm_key(text))
    if crit is not None:
        return crit.id, "answer"
    parts = _SPLIT_ID.split(text.strip(), maxsplit=1)
    first, rest = parts[0], (parts[1] if len(parts) > 1 else "")
    crit = index.criteria_by_key.get(norm_key(first)) if first else None
    if crit is None:
        return None
    key = norm_key(rest)
    if key in _EVIDENCE:
        return crit.id, "evidence"
    if key in _COMMENT:
        return crit.id, "comment"
    return crit.id, "answer"


def find_register(grid: Grid, index: TemplateIndex) -> RegisterLayout | None:
    """A header row holding the identifier field and at least one criterion id, within the first rows."""
    ident = index.template.identifier
    for i, row in enumerate(grid.rows[:REGISTER_HEADER_ROWS]):
        texts = {c: v for c, v in row.cells.items() if isinstance(v, str) and len(v) <= 100}
        fields = {c: f for c, v in texts.items() if (f := index.field(v)) is not None}
        if ident not in fields.values():
            continue
        answers: dict[int, str] = {}
        evidence: dict[str, int] = {}
        comments: dict[str, int] = {}
        for c, v in texts.items():
            if c in fields:
                continue
            found = register_column(index, v)
            if found is None:
                continue
            cid, role = found
            if role == "answer":
                answers.setdefault(c, cid)
            else:
                (evidence if role == "evidence" else comments).setdefault(cid, c)
        if answers:
            return RegisterLayout(i, fields, answers, evidence, comments)
    return None


def read_register(grid: Grid, layout: RegisterLayout, template: Template, source: str, result: ReadResult) -> None:
    """Every non-empty row below the header is a case; a row without its reference is an error, not scored."""
    for row in grid.rows[layout.header + 1:]:
        b = CaseBuilder(template, source, location=grid.locate(row.number, 0))
        for col, fld in layout.fields.items():
            if col in row.cells:
                b.set_field(fld, field_value(fld, row.cells[col]), grid.at(row, col))
        for col, cid in layout.answers.items():
            ev_col, co_col = layout.evidence.get(cid), layout.comments.get(cid)
            evidence = row.cells.get(ev_col) if ev_col is not None else None
            comment = row.cells.get(co_col) if co_col is not None else None
            read_answer_cell(b, cid, row.cells.get(col), grid.at(row, col), evidence, comment)
        case = b.build(fallback_id=None)
        if case is not None:
            result.cases.append(case)
        else:
            result.issues.extend(b.issues)
