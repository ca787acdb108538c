"""Small-number suppression arithmetic (``--suppress-small``): pure functions, exact values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit_cli.disclosure import (
    SUPPRESSED,
    count_from_share,
    is_small,
    round_count,
    show_count,
    show_mean,
    show_share,
)


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, 0), (5, 5), (6, 5), (7, 5), (8, 10), (9, 10), (10, 10), (12, 10), (13, 15), (15, 15),
     (17, 15), (18, 20), (22, 20), (23, 25), (100, 100), (102, 100), (103, 105), (9998, 10000)],
)
def test_round_count_to_nearest_five_half_up(count: int, shown: int) -> None:
    assert round_count(count) == shown
    assert show_count(count, True) == shown


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_counts_one_to_four_are_suppressed(count: int) -> None:
    assert is_small(count)
    assert show_count(count, True) == SUPPRESSED == "*"


def test_zero_and_unknown_are_not_suppressed() -> None:
    assert show_count(0, True) == 0
    assert show_count(None, True) is None
    assert not is_small(0) and not is_small(None) and not is_small(5)


def test_without_suppression_everything_is_unchanged() -> None:
    for n in (0, 1, 4, 7, 13):
        assert show_count(n, False) == n
    assert show_share(12.5, 1, False) == 12.5
    assert show_mean(61.25, 2, False) == 61.25


def test_shares_come_from_unrounded_figures_and_hide_with_their_count() -> None:
    # 7 of 9 cases: the count shows as 5, the share stays 7/9, not 5/9
    assert show_count(7, True) == 5
    assert show_share(100 * 7 / 9, 7, True) == 100 * 7 / 9
    assert show_share(100 * 2 / 9, 2, True) == SUPPRESSED
    assert show_share(0.0, 0, True) == 0.0
    assert show_share(None, 0, True) is None


def test_means_of_one_to_four_cases_are_hidden() -> None:
    assert show_mean(72.5, 3, True) == SUPPRESSED
    assert show_mean(72.5, 5, True) == 72.5
    assert show_mean(None, 0, True) is None


def test_count_from_share() -> None:
    assert count_from_share(100 * 4 / 11, 11) == 4
    assert count_from_share(100 * 1 / 3, 3) == 1
    assert count_from_share(None, 10) == 0
    assert count_from_share(50.0, 0) == 0


def test_negative_count_is_refused() -> None:
    with pytest.raises(ValueError):
        round_count(-1)


@given(st.integers(min_value=5, max_value=10**6))
def test_rounding_properties(n: int) -> None:
    r = round_count(n)
    assert r % 5 == 0
    assert abs(r - n) <= 2
    assert round_count(n + 1) >= r  # monotonic
