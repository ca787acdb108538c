"""Reading a hand-made form laid out as a grid of cells: case fields, answer tables, marks, ticked boxes.

Excel sheets and Word tables are both grids. Each reader turns its format into
``Grid`` rows of plain values (text, number, date, bool; a Word checkbox becomes
its glyph ☒/☐) and this module decides what the cells mean, so a form is read the
same way whichever program made it. Every value goes through ``CaseBuilder``,
which is where it gets its meaning and a problem its ``Issue``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import PurePath
from typing import Any, Callable

from ..model import CaseField, Criterion, ScaleOption
from ..values import is_blank, norm_answer, norm_key, quoted, shorten, text_of
from .common import CaseBuilder, TemplateIndex

Locate = Callable[[int, int], str]  # (row number, 0-based column) -> "Audit!C7" / "table 2, row 5"


@dataclass(frozen=True)
class Row:
    """One row's non-blank cells, keyed by 0-based column; ``number`` is the row as the user sees it."""

    number: int
    cells: dict[int, Any]


@dataclass(frozen=True)
class Grid:
    """A sheet or a table: its non-empty rows in order, and how to name a cell's location."""

    rows: list[Row]
    locate: Locate

    def at(self, row: Row, col: int) -> str:
        return self.locate(row.number, col)


# --------------------------------------------------------------------------- marks and ticked boxes

CHECKED_BOXES = "☒☑✓✔✅"
EMPTY_BOXES = "☐□"
_BOX = re.compile(f"([{CHECKED_BOXES}{EMPTY_BOXES}])")
_MARKS = frozenset({"x", "y", "yes", "true"})
_NOT_MARKS = frozenset({"n", "no", "false", "0"})
_DASHES = frozenset({"", "-", "–", "—"})


def ticked_boxes(text: str) -> list[tuple[bool, str]] | None:
    """A cell holding options as checkboxes, ``☒ Yes ☐ Partly ☐ No`` or ``Yes ☒ No ☐``, as (ticked, label) pairs.

    None when the text is not laid out like that (a lone glyph is a mark, not a list of options).
    """
    parts = _BOX.split(text)
    if len(parts) < 3:
        return None
    before, glyphs, after = parts[0].strip(), parts[1::2], [p.strip() for p in parts[2::2]]
    if not before and all(after):
        labels = after  # glyph, then its label
    elif before and all(after[:-1]) and not after[-1]:
        labels = [before, *after[:-1]]  # label, then its glyph
    else:
        return None
    return [(g in CHECKED_BOXES, label) for g, label in zip(glyphs, labels)]


def mark_of(value: Any) -> bool | None:
    """Whether a cell in an option column marks its option; None for text that is not a mark at all."""
    if isinstance(value, bool):
        return value
    raw = text_of(value).strip()
    if raw in _DASHES:
        return False
    text = norm_answer(raw)
    if _BOX.search(text):
        return any(ch in CHECKED_BOXES for ch in text)
    if not text:
        return None  # punctuation alone ("?") says something, but not which option
    if text in _MARKS:
        return True
    if text in _NOT_MARKS:
        return False
    return None


def field_value(fld: CaseField, value: Any) -> Any:
    """A field's cell as the value to parse: ticked boxes give their labels, a lone box its state."""
    if isinstance(value, str):
        boxes = ticked_boxes(value)
        if boxes is not None:
            ticked = [label for on, label in boxes if on]
            return "; ".join(ticked) if ticked else None
        if fld.type == "boolean" and _BOX.search(value):
            return mark_of(value)
    return value


# --------------------------------------------------------------------------- answers


def _boxes_and_note(text: str) -> tuple[str, str | None]:
    """A cell of several lines whose first lines each hold checkboxes: those lines, and the lines after them (a
    note under the options). A line without a box before or among the boxes leaves the cell as it is."""
    if "\n" not in text or not _BOX.search(text):
        return text, None
    lines = [line for line in text.split("\n") if line.strip()]
    k = 0
    while k < len(lines) and _BOX.search(lines[k]):
        k += 1
    if k == 0 or k == len(lines) or any(_BOX.search(line) for line in lines[k:]):
        return text, None
    return "\n".join(lines[:k]), "\n".join(line.strip() for line in lines[k:])


def read_answer_cell(b: CaseBuilder, crit_id: str, value: Any, location: str, evidence: Any = None,
                     comment: Any = None) -> None:
    """An answer cell: typed text, or the options as checkboxes with one ticked.

    A line under the boxes (``☒ No`` then ``see chronology 12/01``) is a note, kept with the
    comment, not part of the last option's label.
    """
    if isinstance(value, str):
        text, note = _boxes_and_note(value)
        boxes = ticked_boxes(text)
        matcher = b.index.matcher(crit_id)
        if boxes is not None and any(matcher.match(label) for _, label in boxes):
            if note is not None:
                comment = note if is_blank(comment) else f"{text_of(comment)}\n{note}"
            ticked = [label for on, label in boxes if on]
            if len(ticked) > 1:
                names = [(o.label if (o := matcher.match(t)) else shorten(t, 20)) for t in ticked]
                listed = ", ".join(names)
                b.issue("error", "multiple-marks", f"{crit_id}: {len(ticked)} options are marked ({listed})",
                        location, None if all(matcher.match(t) for t in ticked) else listed)
                b.set_unreadable(crit_id, "; ".join(names), location, evidence, comment)
            else:
                b.set_answer(crit_id, ticked[0] if ticked else None, location, evidence, comment)
            return
    b.set_answer(crit_id, value, location, evidence, comment)


_LEADING_ID = re.compile(r"^\s*([A-Za-z]{0,3}\d+(?:\.\d+)*[A-Za-z]?)(?:[\s.):\-–—]+|$)")


def match_criterion(index: TemplateIndex, id_value: Any, question: Any) -> Criterion | None:
    """By the id cell, else the question text; also an id cell holding the text, or a text led by its id (``A1. Was…``)."""
    crit = index.criterion(id_value, question)
    if crit is None and isinstance(id_value, str):
        crit = index.criterion(None, id_value)
    for v in (question, id_value):
        if crit is None and isinstance(v, str):
            m = _LEADING_ID.match(v)
            if m:
                crit = index.criteria_by_key.get(norm_key(m.group(1)))
    return crit


# --------------------------------------------------------------------------- answer table headers

_ID_WORDS = frozenset({
    "id", "ref", "reference", "refno", "no", "number", "num", "criterionid", "criterionno", "criterionnumber",
    "criterionref", "questionid", "questionno", "questionnumber", "questionref", "qid", "qno", "qnumber", "q",
    "item", "itemno", "itemnumber", "code",
})
_EITHER_WORDS = frozenset({"criterion", "criteria", "standard", "auditcriterion", "auditcriteria"})
_QUESTION_WORDS = frozenset({
    "question", "questions", "questiontext", "criteriontext", "criteriatext", "criteriondescription",
    "auditquestion", "auditquestions", "description", "prompt", "statement", "standardtext",
})
_ANSWER_WORDS = frozenset({
    "answer", "answers", "response", "responses", "judgement", "judgment", "rating", "met", "metnotmet",
    "result", "grade", "finding", "yesno", "yn", "ypn",
})
_ANSWER_STEMS = ("answer", "response", "judgement", "judgment", "rating")
#: answer headers that lose to any other answer-like header in the same row
_WEAK_ANSWER_WORDS = frozenset({"outcome", "auditoutcome"})
_COMMENT_WORDS = frozenset({"note", "notes", "remarks", "observations", "auditornotes", "auditorsnotes"})
_EVIDENCE_WORDS = frozenset({"rationale", "justification", "reason", "reasons"})
_KEY_ROLES = ("id", "either", "question")
_HEADER_MAX = 100  # longer text is content, not a column header


@lru_cache(maxsize=4096)
def header_role(text: str) -> str | None:
    """What a column header names: id, question, either (the cells decide), answer, evidence, comment."""
    if text.strip() in ("#", "№"):
        return "id"
    key = norm_key(text)
    if key in _ID_WORDS:
        return "id"
    if key in _EITHER_WORDS:
        return "either"
    if key in _QUESTION_WORDS or key.startswith("question"):
        return "question"
    if key in _ANSWER_WORDS or key in _WEAK_ANSWER_WORDS:
        return "answer"
    if "rag" not in key and (key.startswith(_ANSWER_STEMS) or key.endswith(_ANSWER_STEMS)):
        return "answer"
    if key.startswith("evidence") or key in _EVIDENCE_WORDS:
        return "evidence"
    if key.startswith("comment") or key.endswith(("comment", "comments")) or key in _COMMENT_WORDS:
        return "comment"
    return None


@lru_cache(maxsize=4096)
def _option_key(text: str) -> str:
    return norm_answer(text)


def _answer_priority(text: str) -> int:
    """Among several answer-like headers, an exact word beats ``Answer (Y/N)`` beats ``Auditor's judgement``."""
    key = norm_key(text)
    if key in _WEAK_ANSWER_WORDS:
        return 3
    return 0 if key in _ANSWER_WORDS else (1 if key.startswith(_ANSWER_STEMS) else 2)


def _distinct_options(index: TemplateIndex, words: Any) -> bool:
    """Whether header words name at least two different options of one scale (``Yes`` and ``Green`` are one)."""
    per_scale: dict[str, set[str]] = {}
    for w in words:
        for sid, value in index.option_values.get(_option_key(w), ()):
            per_scale.setdefault(sid, set()).add(value)
    return any(len(v) >= 2 for v in per_scale.values())


#: a later header's criterion/question header is short; a longer cell is a body row's question text
_LATER_KEY_MAX = 60


@dataclass(frozen=True)
class _Header:
    roles: dict[int, str]  # column -> role
    options: dict[int, str]  # column -> header text naming a scale option
    texts: dict[int, str]

    def key_cols(self) -> list[int]:
        return [c for c, r in self.roles.items() if r in _KEY_ROLES]

    def _twinned(self, k: int) -> bool:
        return any(c != k and _option_key(t) == _option_key(self.options[k]) for c, t in self.options.items())

    def proper_keys(self) -> list[int]:
        """Criterion/question columns that are not just an option: ``No`` counts only beside its twin (``No.``)."""
        return [k for k in self.key_cols() if k not in self.options or self._twinned(k)]

    def stands_alone(self, index: TemplateIndex) -> bool:
        """A criterion/question column plus an answer column or option columns for two different options.

        A header that is also an option (``No``) is a criterion column only beside its twin
        (``No.`` next to ``No``); in ``Yes | Partly | No | N/A`` it is just an option.
        """
        for k in self.proper_keys():
            if any(r == "answer" and c != k for c, r in self.roles.items()):
                return True
            if _distinct_options(index, [t for c, t in self.options.items() if c != k]):
                return True
        return False

    def is_option_row(self, row: Row, index: TemplateIndex) -> bool:
        """``Yes | Partly | No | N/A`` under a header whose answer cell is merged across them: every cell an
        option label (or an evidence/comment header), naming at least two different options."""
        if len(self.options) < 2:
            return False
        for c in row.cells:
            if c not in self.options and self.roles.get(c) not in ("evidence", "comment"):
                return False
        return _distinct_options(index, self.options.values())

    def looks_like_header(self, row: Row) -> bool:
        """A header row below an earlier table's body: mostly header words, its criterion column a short header."""
        return 2 * len(self.texts) >= len(row.cells) and all(
            len(self.texts[k]) <= _LATER_KEY_MAX for k in self.proper_keys())


def _names_criterion(index: TemplateIndex, row: Row) -> bool:
    """Whether any cell holds a criterion id, a criterion's question text, or a text led by an id (``A1. Was…``):
    such a row is an answer row, never a header. A case-details box beside a header (``Case reference |
    F-1``) does not count: a field label and the value right of it are skipped."""
    after_label = False
    for c in sorted(row.cells):
        v = row.cells[c]
        if after_label:
            after_label = False
            continue
        if field_label(index, v) is not None:
            after_label = True
            continue
        if isinstance(v, str):
            key = norm_key(v)
            if key in index.criteria_by_key or key in index.criteria_by_text:
                return True
            m = _LEADING_ID.match(v)
            if m and norm_key(m.group(1)) in index.criteria_by_key:
                return True
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            if norm_key(text_of(v)) in index.criteria_by_key:
                return True
    return False


def _classify(row: Row, index: TemplateIndex) -> _Header:
    roles: dict[int, str] = {}
    options: dict[int, str] = {}
    texts: dict[int, str] = {}
    seen = index.header_cells
    for col, v in row.cells.items():
        if not isinstance(v, str) or len(v) > _HEADER_MAX:
            continue
        known = seen.get(v)
        if known is None:
            known = (header_role(v), _option_key(v) in index.option_words, v.strip())
            if len(seen) >= _HEADER_CELLS_KEPT:
                seen.clear()
            seen[v] = known
        role, is_option, text = known
        if role:
            roles[col] = role
        if is_option:
            options[col] = text
        if role or is_option:
            texts[col] = text
    return _Header(roles, options, texts)


#: short cell texts classified as header words, kept per template (forms repeat them in every file)
_HEADER_CELLS_KEPT = 20_000


@dataclass(frozen=True)
class AnswerTable:
    """Where one answer table's columns are; rows ``first`` to ``end`` (indexes into ``Grid.rows``) are its body."""

    header_rows: tuple[int, ...]
    first: int
    end: int
    left: int  # leftmost header column: a row's location
    right: int  # rightmost column the table uses
    id_col: int | None
    question_col: int | None
    answer_col: int | None
    option_cols: dict[int, str]  # column -> header (an option's label, value or synonym)
    evidence_col: int | None
    comment_col: int | None


def find_tables(grid: Grid, index: TemplateIndex) -> list[AnswerTable]:
    """Every answer table in a grid, each running to the next header row or the end.

    Once a table has begun, a row starts a new one only when it really is a header: mostly
    header words, no criterion named in it. A row naming a criterion (by id or question text) is
    never a header, so answers such as ``No`` (a number-column word) or ``Yes | Green`` (two option
    words) in a body row do not cut the table.
    """
    rows = grid.rows
    heads = [_classify(r, index) for r in rows]
    starts: list[tuple[int, int]] = []  # (index of the first header row, header rows)
    i = 0
    while i < len(rows):
        h = heads[i]
        if h.key_cols() and (not starts or h.looks_like_header(rows[i])) and not _names_criterion(index, rows[i]):
            j = i + 1
            if (j < len(rows) and rows[j].number == rows[i].number + 1 and _keys_over(h, heads[j])
                    and heads[j].is_option_row(rows[j], index) and not heads[j].stands_alone(index)
                    and not _names_criterion(index, rows[j])):
                starts.append((i, 2))
                i += 2
                continue
            if h.stands_alone(index):
                starts.append((i, 1))
        i += 1
    tables: list[AnswerTable] = []
    for k, (i, n) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(rows)
        table = _resolve(rows, heads, i, n, end, index)
        if table is not None:
            tables.append(table)
    return tables


def _keys_over(top: _Header, sub: _Header) -> bool:
    """Whether a header row has a criterion/question column over an option row: ``No.`` counts beside its twin
    ``No`` in either row."""
    if top.proper_keys():
        return True
    subs = {_option_key(t) for t in sub.options.values()}
    return any(k in top.options and _option_key(top.options[k]) in subs for k in top.key_cols())


def _best(counts: dict[int, int], prefer: set[int]) -> int | None:
    if not counts:
        return None
    return max(counts, key=lambda c: (counts[c], c in prefer, -c))


def _only_marks(body: list[Row], col: int) -> bool:
    """Whether a column's cells are all marks (``x``, ``✓``, ``Y``) or empty: a column of marks, not of ids."""
    return all(mark_of(r.cells[col]) is not None for r in body if col in r.cells)


_HEAD = 8  # leading characters of a key compared before a long text is normalised whole


def _criterion_key(index: TemplateIndex, text: str) -> str | None:
    """``norm_key(text)``, or None when a long text (evidence, most often) cannot be any criterion's
    id or question: its key's first characters start no key of the template. Exact, because a
    prefix's key is a prefix of the whole text's key."""
    if len(text) > 200:
        head = norm_key(text[:32])
        if len(head) >= _HEAD and head[:_HEAD] not in index.key_heads:
            return None
        if len(text) <= _LONG_CACHED:
            return _long_key(text)  # a question with its guidance: the same in every form of a round
    return norm_key(text)


_LONG_CACHED = 4000
_long_key = lru_cache(maxsize=1024)(norm_key)


def _resolve(rows: list[Row], heads: list[_Header], i: int, n: int, end: int,
             index: TemplateIndex) -> AnswerTable | None:
    """Which column is which, deciding ambiguous headers (``No.`` beside ``No``) by what the cells below hold."""
    top = heads[i]
    roles = dict(top.roles)
    options = dict(top.options)
    texts = dict(top.texts)
    if n == 2:
        sub = heads[i + 1]
        options = dict(sub.options)
        texts.update(sub.texts)
        for c, r in sub.roles.items():
            if r in ("evidence", "comment"):
                roles.setdefault(c, r)
    body = rows[i + n:end]
    id_hits: dict[int, int] = {}
    text_hits: dict[int, int] = {}
    by_key, by_text = index.criteria_by_key, index.criteria_by_text
    for row in body:
        for c, v in row.cells.items():
            if isinstance(v, str):
                key = _criterion_key(index, v)  # as norm_key(text_of(v)): cleaning only touches what keys drop
                if key is None:
                    continue
                if key in by_key:
                    id_hits[c] = id_hits.get(c, 0) + 1
                elif key in by_text:
                    text_hits[c] = text_hits.get(c, 0) + 1
            elif isinstance(v, (int, float)) and not isinstance(v, bool) and norm_key(text_of(v)) in by_key:
                id_hits[c] = id_hits.get(c, 0) + 1
    id_like = {c for c, r in roles.items() if r in ("id", "either")}
    id_col = _best(id_hits, id_like)
    if id_col is None:
        plain = sorted(c for c in id_like if c not in options)
        # an option header (``No``) is the number column only when its cells are not marks
        rest = sorted(c for c in id_like if c in options and not _only_marks(body, c)
                      and (len([o for o in options if o != c]) >= 2 or "answer" in roles.values()))
        id_col = (plain or rest or [None])[0]
    q_like = {c for c, r in roles.items() if r in ("question", "either") and c != id_col}
    question_col = _best({c: text_hits.get(c, 0) for c in q_like}, set()) if q_like else \
        _best({c: k for c, k in text_hits.items() if c != id_col}, set())
    if id_col is None and question_col is None:
        return None
    used = {id_col, question_col}
    option_cols = {c: t for c, t in options.items() if c not in used}
    answer_col = None
    if len({norm_answer(t) for t in option_cols.values()}) < 2:
        option_cols = {}
        answers = sorted((c for c, r in roles.items() if r == "answer" and c not in used),
                         key=lambda c: (_answer_priority(texts[c]), c))
        if not answers:
            return None
        answer_col = answers[0]
    used |= set(option_cols) | {answer_col}
    evidence_col = min((c for c, r in roles.items() if r == "evidence" and c not in used), default=None)
    comment_col = min((c for c, r in roles.items() if r == "comment" and c not in used), default=None)
    cols = set(texts) | {c for c in (*used, evidence_col, comment_col) if c is not None}
    return AnswerTable(tuple(range(i, i + n)), i + n, end, min(cols), max(cols), id_col, question_col, answer_col,
                       option_cols, evidence_col, comment_col)


def continue_table(grid: Grid, table: AnswerTable, index: TemplateIndex) -> AnswerTable | None:
    """A table with no header of its own that carries on an earlier one (a Word form with a table per section)."""
    for row in grid.rows:
        if match_criterion(index, row.cells.get(table.id_col), row.cells.get(table.question_col)):
            return replace(table, header_rows=(), first=0, end=len(grid.rows))
    return None


def _read_row(t: AnswerTable, grid: Grid, row: Row, b: CaseBuilder) -> bool:
    """One body row; True when it answered a criterion (so it holds no case fields)."""
    c = row.cells
    crit = match_criterion(b.index, c.get(t.id_col), c.get(t.question_col))
    if crit is None:
        if _holds_answer(t, row) and not _has_field_label(row, b.index):
            ident = c.get(t.id_col)
            quote = quoted(text_of(ident), 20) if not is_blank(ident) else None
            what = f"{quote} is not a criterion of {b.template.id}" if quote \
                else "its question matches no criterion of " + b.template.id
            b.issue("warning", "unknown-criterion", f"this row has an answer but {what}; it is ignored",
                    grid.at(row, t.left), quote)
        return False
    evidence, comment = c.get(t.evidence_col), c.get(t.comment_col)
    if t.option_cols:
        _read_marks(t, grid, row, crit, b, evidence, comment)
    else:
        assert t.answer_col is not None
        read_answer_cell(b, crit.id, c.get(t.answer_col), grid.at(row, t.answer_col), evidence, comment)
    return True


def _holds_answer(t: AnswerTable, row: Row) -> bool:
    if t.option_cols:
        return any(mark_of(row.cells[col]) for col in t.option_cols if col in row.cells)
    return t.answer_col in row.cells


def _read_marks(t: AnswerTable, grid: Grid, row: Row, crit: Criterion, b: CaseBuilder, evidence: Any,
                comment: Any) -> None:
    """One column per option: exactly one marked cell is the answer."""
    matcher = b.index.matcher(crit.id)
    marked: list[tuple[int, ScaleOption]] = []
    bad = False
    for col, header in t.option_cols.items():
        option = matcher.match(header)
        value = row.cells.get(col)
        if option is None or value is None:
            continue
        mark = mark_of(value)
        if mark is None:
            quote = quoted(text_of(value), 20)
            b.issue("error", "unknown-mark", f"{quote} in the {header} column is not a mark for {crit.id} (use x, ✓ or Y)",
                    grid.at(row, col), quote)
            bad = True
        elif mark and all(o.value != option.value for _, o in marked):
            marked.append((col, option))
    where = grid.at(row, t.left)
    if len(marked) > 1:
        names = ", ".join(o.label for _, o in marked)
        b.issue("error", "multiple-marks", f"{crit.id}: {len(marked)} options are marked ({names})", where)
        b.set_unreadable(crit.id, names, where, evidence, comment)
    elif marked:
        col, option = marked[0]
        b.set_answer_option(crit.id, option.value, grid.at(row, col), evidence, comment)
    elif bad:
        b.set_unreadable(crit.id, "", where, evidence, comment)
    else:
        b.set_answer(crit.id, None, where, evidence, comment)


# --------------------------------------------------------------------------- case fields


def field_label(index: TemplateIndex, value: Any) -> CaseField | None:
    """The case field a cell names, when the cell is a label."""
    if not isinstance(value, str) or len(value) > 100:
        return None
    return index.field(value)


def inline_field(index: TemplateIndex, text: str) -> tuple[CaseField, str] | None:
    """``Label: value`` in one cell or paragraph."""
    label, sep, rest = text.partition(":")
    if not sep or len(label) > 100 or not rest.strip():
        return None
    fld = index.field(label)
    return (fld, rest.strip()) if fld is not None else None


def _has_field_label(row: Row, index: TemplateIndex) -> bool:
    return any(field_label(index, v) or (isinstance(v, str) and inline_field(index, v)) for v in row.cells.values())


def read_fields(grid: Grid, b: CaseBuilder, skip: dict[int, tuple[int, int]]) -> None:
    """Label cells with their value in the next non-empty cell to the right (or, for a row of labels, below).

    ``skip`` gives, for a table's header and answer rows, the columns the table occupies: a
    details box beside the table on the same rows is still read.
    """
    index = b.index
    taken: set[int] = set()  # rows used as the values of a row of labels
    for i, row in enumerate(grid.rows):
        if i in taken:
            continue
        if i in skip:
            lo, hi = skip[i]
            row = Row(row.number, {c: v for c, v in row.cells.items() if c < lo or c > hi})
            if not row.cells:
                continue
        cols = sorted(row.cells)
        labels = {c: fld for c in cols if (fld := field_label(index, row.cells[c])) is not None}
        if len(labels) >= 2 and len(labels) == len(cols) and i + 1 < len(grid.rows):
            below = grid.rows[i + 1]
            if below.number == row.number + 1 and i + 1 not in skip and \
                    not any(field_label(index, v) for v in below.cells.values()):
                for c, fld in labels.items():
                    if c in below.cells:
                        b.set_field(fld, field_value(fld, below.cells[c]), grid.at(below, c))
                taken.add(i + 1)
                continue
        used: set[int] = set()
        for k, c in enumerate(cols):
            if c in used:
                continue
            fld = labels.get(c)
            if fld is not None:
                nxt = cols[k + 1] if k + 1 < len(cols) else None
                if nxt is not None and nxt not in labels:
                    used.add(nxt)
                    b.set_field(fld, field_value(fld, row.cells[nxt]), grid.at(row, nxt))
                continue
            v = row.cells[c]
            if isinstance(v, str):
                found = inline_field(index, v)
                if found is not None:
                    b.set_field(found[0], field_value(found[0], found[1]), grid.at(row, c))


# --------------------------------------------------------------------------- a whole form grid


def no_answer_table(b: CaseBuilder, source: str) -> None:
    """The warning for a form in which no answer table was found: nothing in it can be scored."""
    b.issue("warning", "no-answer-table",
            f"no answer table found in {PurePath(source).name}: no header row with a criterion or question column "
            "(ID, Ref, No., Question) and an answer column (Answer, Response, Judgement, Rating) or option columns "
            "(Yes, Partly, No, N/A); none of its answers are read")


def read_form_grid(grid: Grid, b: CaseBuilder, carry: AnswerTable | None = None) -> AnswerTable | None:
    """Answers and fields from one sheet or table of a form; returns the table layout a later headerless table continues."""
    tables = find_tables(grid, b.index)
    if not tables and carry is not None:
        cont = continue_table(grid, carry, b.index)
        tables = [cont] if cont is not None else []
    skip: dict[int, tuple[int, int]] = {}
    for t in tables:
        for i in t.header_rows:
            skip[i] = (t.left, t.right)
        for i in range(t.first, t.end):
            if _read_row(t, grid, grid.rows[i], b):
                skip[i] = (t.left, t.right)
    read_fields(grid, b, skip)
    return tables[-1] if tables else carry
