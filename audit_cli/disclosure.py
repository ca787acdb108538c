"""Small-number suppression for figures shared beyond the board (``--suppress-small``).

A count of 1–4 cases can identify a person, so it is shown as ``*``; every
other count is rounded to the nearest 5 so that a suppressed cell cannot be
recovered from a total by subtraction. Shares are computed from the unrounded
figures (the caller passes them in) but are hidden wherever their count is.
Pure arithmetic: no I/O, no workbook.
"""

from __future__ import annotations

SUPPRESSED = "*"
#: counts from 1 up to this are never shown
SMALL = 4
#: other counts are rounded to a multiple of this
ROUND_TO = 5

Shown = int | float | str | None


def is_small(count: int | None) -> bool:
    """True for a count that must not be shown (1–4); zero and unknown are not small."""
    return count is not None and 1 <= count <= SMALL


def round_count(count: int) -> int:
    """The nearest multiple of 5, halves rounding up (integer arithmetic, no banker's rounding)."""
    if count < 0:
        raise ValueError(f"a count cannot be negative: {count}")
    return ROUND_TO * ((count + ROUND_TO // 2) // ROUND_TO)


def show_count(count: int | None, suppress: bool) -> int | str | None:
    """A count as it may be shown: unchanged without suppression; ``*`` for 1–4; else rounded to 5."""
    if not suppress or count is None:
        return count
    if is_small(count):
        return SUPPRESSED
    return round_count(count)


def show_share(share: float | None, count: int | None, suppress: bool) -> float | str | None:
    """A share (from unrounded figures) unless its own count is suppressed."""
    if suppress and is_small(count):
        return SUPPRESSED
    return share


def show_mean(value: float | None, cases: int | None, suppress: bool) -> float | str | None:
    """A mean over ``cases`` cases; a mean of 1–4 cases would reveal them, so it is hidden too."""
    if suppress and is_small(cases):
        return SUPPRESSED
    return value


def count_from_share(share: float | None, total: int) -> int:
    """The whole count behind a percentage of ``total`` (results store some band figures as shares only)."""
    if share is None or total <= 0:
        return 0
    return int(round(share * total / 100.0))
