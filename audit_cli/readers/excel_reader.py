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
from functools import lru_cache, partial
from pathlib import PurePath
from typing import Callable, Mapping

from ..cellrefs import column_letter, sheet_ref
from ..model import CaseField, Issue, Template
from ..values import norm_answer, norm_key, shorten
from . import ReadResult
from .common import CaseBuilder, TemplateIndex, index_for
from .grid import Grid, Row, field_value, no_answer_table, read_answer_cell, read_form_grid
from .xlsx_cells import read_parts, read_workbook

#: cells (``<c>`` elements, formatted empty ones included) read from one workbook at most
MAX_CELLS = 2_000_000
#: rows searched for a register's header
REGISTER_HEADER_ROWS = 30


def read(data: bytes, template: Template, source: str, archive: Mapping[str, bytes] | None = None) -> ReadResult:
    """A register when any sheet is one, else a form. ``archive``: the workbook's parts from
    ``safety.check`` (each checked as it is first read), else they are read from ``data``."""
    sheets = load_sheets(data, archive)
    index = index_for(template)
    registers = [(g, lay) for g in sheets if (lay := find_register(g, index)) is not None]
    if registers:
        result = ReadResult()
        for grid, layout in registers:
            read_register(grid, layout, template, source, result)
        return result
    b = CaseBuilder(template, source)
    tables = [t for grid in sheets if (t := read_form_grid(grid, b)) is not None]
    if not tables:
        no_answer_table(b, source)
    case = b.build(fallback_id=PurePath(source).stem)
    assert case is not None  # a form always has its file name to fall back on
    return ReadResult(cases=[case])


# --------------------------------------------------------------------------- cells


def load_sheets(data: bytes, archive: Mapping[str, bytes] | None = None) -> list[Grid]:
    """Every worksheet as a ``Grid``; ``ReadError`` for a file that is not a readable workbook."""
    grids = []
    for sheet in (read_workbook(data, MAX_CELLS) if archive is None else read_parts(archive, MAX_CELLS)):
        rows = [Row(number, cells) for number, cells in sheet.rows]
        grids.append(Grid(rows, _locator(sheet_ref(sheet.name))))
    return grids


def _locator(ref: str) -> Callable[[int, int], str]:
    """``Sheet!C7`` for a row number and 0-based column (asked for every cell a case reads)."""
    return lambda row, col: f"{ref}!{column_letter(col)}{row}"


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return shorten(text, 120)




# --------------------------------------------------------------------------- registers

_EVIDENCE = frozenset({"evidence", "rationale"})
_COMMENT = frozenset({"comment", "comments", "note", "notes"})
_ANSWER = frozenset({"", "answer", "response", "judgement", "judgment", "rating"})
_SPLIT_ID = re.compile(r"[\s:\-–—_/()]+")
_OPTION_LIST = re.compile(r"\s*[/|,]\s*")
#: a truncated question text after the id (``A1 Was the adult asked…``) is at least this long
_MIN_QUESTION_PREFIX = 12


@dataclass(frozen=True)
class RegisterLayout:
    """A register sheet's header row (index into ``Grid.rows``) and what each column holds."""

    header: int
    fields: dict[int, CaseField]
    answers: dict[int, str]  # column -> criterion id
    evidence: dict[str, int]  # criterion id -> column
    comments: dict[str, int]


def register_column(index: TemplateIndex, text: str) -> tuple[str, str] | None:
    """(criterion id, answer|evidence|comment|other) for a header led by a criterion id.

    ``A1``, ``A1 answer`` (response, judgement, rating), ``A1 (Yes/Partly/No)`` or ``A1`` followed
    by its question are the answer column; ``A1 evidence`` (rationale) and ``A1 - comment(s)``
    (note(s)) are picked up; any other suffix (``A1 score``, ``A1 RAG``) is ``other``: not read.
    None when the header is not led by a criterion id.
    """
    crit = index.criteria_by_key.get(norm_key(text))
    if crit is not None:
        return crit.id, "answer"
    parts = _SPLIT_ID.split(text.strip(), maxsplit=1)
    first, rest = parts[0], (parts[1] if len(parts) > 1 else "")
    crit = index.criteria_by_key.get(norm_key(first)) if first else None
    if crit is None:
        return None
    key = norm_key(rest)
    if key in _ANSWER:
        return crit.id, "answer"
    if key in _EVIDENCE:
        return crit.id, "evidence"
    if key in _COMMENT:
        return crit.id, "comment"
    words = [norm_answer(w) for w in _OPTION_LIST.split(rest.strip(" ()[]")) if w.strip()]
    if len(words) >= 2 and all(w in index.option_words for w in words):
        return crit.id, "answer"  # A1 (Yes/Partly/No)
    question = norm_key(crit.text)
    if key == question or (len(key) >= _MIN_QUESTION_PREFIX and question.startswith(key)):
        return crit.id, "answer"  # A1 Was the adult asked…
    return crit.id, "other"


class _HeaderLookups:
    """A template's readings of header texts, each remembered: a run meets the same register
    headers, and the same first rows of its forms, file after file."""

    def __init__(self, index: TemplateIndex) -> None:
        self.index = index
        self.field = lru_cache(maxsize=8192)(index.field)
        self.column = lru_cache(maxsize=8192)(partial(register_column, index))

    def __reduce__(self) -> tuple[type[_HeaderLookups], tuple[TemplateIndex]]:
        """Pickled (a template sent to a worker process) as its index alone: the caches are rebuilt."""
        return _HeaderLookups, (self.index,)


def _lookups(index: TemplateIndex) -> _HeaderLookups:
    """The lookups for an index, built once and kept with its template (as ``index_for`` keeps the index)."""
    return index.template.derived("excel_header_lookups", lambda t: _HeaderLookups(index_for(t)))


def find_register(grid: Grid, index: TemplateIndex) -> RegisterLayout | None:
    """A header row, within the first rows, holding the identifier field and criterion ids as column headers.

    The row must be a header: its cells mostly field labels and criterion columns, none holding
    a criterion's question text (an answer row with a case-details box beside it is not one).
    A single criterion column right after the identifier label is a label and its value
    (``Case reference | F-1``), not a register.
    """
    ident = index.template.identifier
    lookups = _lookups(index)
    for i, row in enumerate(grid.rows[:REGISTER_HEADER_ROWS]):
        texts = {c: v for c, v in row.cells.items() if isinstance(v, str) and len(v) <= 100}
        fields = {c: f for c, v in texts.items() if (f := lookups.field(v)) is not None}
        if ident not in fields.values():
            continue
        answers: dict[int, str] = {}
        evidence: dict[str, int] = {}
        comments: dict[str, int] = {}
        led = 0  # headers led by a criterion id, read or not
        for c, v in texts.items():
            if c in fields:
                continue
            found = lookups.column(v)
            if found is None:
                continue
            led += 1
            cid, role = found
            if role == "answer":
                answers.setdefault(c, cid)
            elif role != "other":
                (evidence if role == "evidence" else comments).setdefault(cid, c)
        if not answers or 4 * (len(fields) + led) < 3 * len(row.cells):
            continue  # not a header row: too many cells are neither fields nor criterion columns
        if any(isinstance(v, str) and norm_key(v) in index.criteria_by_text for v in row.cells.values()):
            continue
        if len(set(answers.values())) == 1:
            ident_col = next(c for c, f in fields.items() if f is ident)
            after = [c for c in sorted(row.cells) if c > ident_col]
            if after and after[0] in answers:
                continue  # ``Case reference | F-1``: a label and its value
        return RegisterLayout(i, fields, answers, evidence, comments)
    return None


_SUMMARY_ROWS = frozenset({"total", "totals", "grandtotal", "average", "averages", "mean", "sum", "count"})


def read_register(grid: Grid, layout: RegisterLayout, template: Template, source: str, result: ReadResult) -> None:
    """Every non-empty row below the header is a case; a row without its reference is an error, not scored.

    A summary row under the cases (``Total``, ``Average`` in the reference column) is a
    spreadsheet's own arithmetic, not a case: it is skipped with a note."""
    ident_col = next((c for c, f in layout.fields.items() if f.role == "identifier"), -1)
    # (answer column, criterion, evidence column, comment column); column -1: none (no cell is there)
    answers = [(col, cid, layout.evidence.get(cid, -1), layout.comments.get(cid, -1))
               for col, cid in layout.answers.items()]
    locate = grid.locate
    for row in grid.rows[layout.header + 1:]:
        cells, number = row.cells, row.number
        ref = cells.get(ident_col)
        if isinstance(ref, str) and norm_key(ref) in _SUMMARY_ROWS:
            result.issues.append(Issue("warning", "summary-row", f"a {ref.strip()!r} row is not a case; it is skipped",
                                       locate(number, ident_col)))
            continue
        b = CaseBuilder(template, source, location=locate(number, 0))
        for col, fld in layout.fields.items():
            if col in cells:
                b.set_field(fld, field_value(fld, cells[col]), locate(number, col))
        for col, cid, ev_col, co_col in answers:
            read_answer_cell(b, cid, cells.get(col), locate(number, col), cells.get(ev_col), cells.get(co_col))
        case = b.build(fallback_id=None)
        if case is not None:
            result.cases.append(case)
        else:
            result.issues.extend(b.issues)
