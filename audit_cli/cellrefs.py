"""How Excel names a column and a sheet in a reference: one definition for the Excel reader
(the locations it reports, such as ``'Case details'!C12``) and the workbook writers."""

from __future__ import annotations

import re
from functools import lru_cache

# sheet names that may stand unquoted in a reference: a plain name that is not also a cell
_PLAIN_SHEET = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_CELL_LIKE = re.compile(r"([A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*|[Rr]|[Cc])")


def _letters(col: int) -> str:
    letters = ""
    n = col + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


#: A to ZZ, named once: writers and readers look a column's letters up, cell after cell
COLUMN_LETTERS = tuple(_letters(c) for c in range(702))


def column_letter(col: int) -> str:
    """0-based column index to Excel's letters (0 -> A, 26 -> AA)."""
    return COLUMN_LETTERS[col] if 0 <= col < len(COLUMN_LETTERS) else _letters(col)


@lru_cache(maxsize=256)
def sheet_ref(name: str) -> str:
    """A sheet name as Excel writes it in a reference: quoted (``'Case details'``) unless plain."""
    if _PLAIN_SHEET.fullmatch(name) and not _CELL_LIKE.fullmatch(name):
        return name
    return "'" + name.replace("'", "''") + "'"
