"""The arithmetic of the reports: periods of a range, the liability roll-forward, MRR movements."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.domain.reports import (
    Grouping,
    LiabilityFlows,
    MrrChange,
    MrrMonth,
    Period,
    classify_mrr,
    months_back,
    mrr_movements,
    next_month,
    periods,
    rate_bp,
    roll_forward,
)

d = dt.date


def test_weeks_run_monday_to_sunday_and_the_ends_are_clipped_to_the_range() -> None:
    assert periods(d(2026, 11, 1), d(2026, 11, 18), Grouping.WEEK) == [
        Period(d(2026, 11, 1), d(2026, 11, 1)),  # a Sunday
        Period(d(2026, 11, 2), d(2026, 11, 8)),
        Period(d(2026, 11, 9), d(2026, 11, 15)),
        Period(d(2026, 11, 16), d(2026, 11, 18)),
    ]


def test_months_and_days() -> None:
    assert periods(d(2026, 12, 20), d(2027, 2, 3), Grouping.MONTH) == [
        Period(d(2026, 12, 20), d(2026, 12, 31)),
        Period(d(2027, 1, 1), d(2027, 1, 31)),
        Period(d(2027, 2, 1), d(2027, 2, 3)),
    ]
    assert [p.first for p in periods(d(2026, 2, 27), d(2026, 3, 1), Grouping.DAY)] == [
        d(2026, 2, 27),
        d(2026, 2, 28),
        d(2026, 3, 1),
    ]
    assert next_month(d(2026, 12, 5)) == d(2027, 1, 1)
    assert months_back(d(2026, 3, 15), 11) == d(2025, 4, 1)


@given(
    st.dates(min_value=d(2000, 1, 1), max_value=d(2040, 1, 1)),
    st.integers(min_value=0, max_value=800),
    st.sampled_from(list(Grouping)),
)
def test_periods_cover_the_range_once(first: dt.date, days: int, grouping: Grouping) -> None:
    last = first + dt.timedelta(days=days)
    out = periods(first, last, grouping)
    assert out[0].first == first and out[-1].last == last
    assert all(a.after == b.first and a.first <= a.last for a, b in zip(out, out[1:], strict=False))


def test_a_backwards_or_endless_range_is_refused() -> None:
    with pytest.raises(InvalidInput, match="ends before it starts"):
        periods(d(2026, 2, 1), d(2026, 1, 1), Grouping.DAY)
    with pytest.raises(InvalidInput, match="ten years"):
        periods(d(2000, 1, 1), d(2026, 1, 1), Grouping.MONTH)


def test_each_month_closes_where_the_next_opens() -> None:
    months = roll_forward(
        20_000,
        [
            (d(2026, 10, 1), LiabilityFlows(redeemed=20_000, expired=20_000, adjusted=10_000)),
            (d(2026, 11, 1), LiabilityFlows(sold=90_000, redeemed=40_000, refunded=50_000)),
        ],
    )
    assert [(m.opening, m.closing) for m in months] == [(20_000, -10_000), (-10_000, -10_000)]


def test_mrr_moves_are_classified_and_bridge_the_month() -> None:
    assert [
        classify_mrr(*pair) for pair in ((0, 4900), (4900, 0), (2900, 4900), (4900, 2900), (4900, 4900))
    ] == [
        MrrChange.NEW,
        MrrChange.CHURN,
        MrrChange.UPGRADE,
        MrrChange.DOWNGRADE,
        MrrChange.UNCHANGED,
    ]
    moves = mrr_movements([(0, 2900), (2900, 4900), (4900, 4900), (4900, 0)])
    assert (
        moves[MrrChange.NEW] == 2900 and moves[MrrChange.UPGRADE] == 2000 and moves[MrrChange.CHURN] == 4900
    )
    MrrMonth(
        d(2026, 11, 1), opening=12_700, new=2900, upgrades=2000, downgrades=0, churn=4900, closing=12_700
    )
    with pytest.raises(ValueError, match="do not bridge"):
        MrrMonth(d(2026, 11, 1), opening=100, new=1, upgrades=0, downgrades=0, churn=0, closing=100)


def test_rates_in_basis_points() -> None:
    assert (rate_bp(2, 3), rate_bp(5, 6), rate_bp(0, 0)) == (6667, 8333, None)
