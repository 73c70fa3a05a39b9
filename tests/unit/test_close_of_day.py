"""Closing the day, worked by hand: takings per tender, the drawer counted against them, a closed day."""

from __future__ import annotations

import datetime as dt

import pytest

from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.close_of_day import (
    Direction,
    Movement,
    count_cash,
    require_open,
    takings,
    unsettled_visits,
)
from aestheticc_pos.domain.errors import InvalidInput, RuleViolation
from aestheticc_pos.domain.money import Money

IN, OUT = Direction.IN, Direction.OUT


def gbp(pence: int) -> Money:
    return Money(pence)


# A day: three sales (cash £95 with £5 change already taken off, card £280, a link £120), a deposit credited
# (£50), one card refund of £40 and one cash refund of £12.50.
DAY = [
    Movement(TenderKind.CASH, IN, gbp(9500), "A-000101"),
    Movement(TenderKind.CARD, IN, gbp(28000), "A-000102"),
    Movement(TenderKind.PAYMENT_LINK, IN, gbp(12000), "A-000103"),
    Movement(TenderKind.DEPOSIT, IN, gbp(5000), "A-000103"),
    Movement(TenderKind.CARD, OUT, gbp(4000), "A-000104"),
    Movement(TenderKind.CASH, OUT, gbp(1250), "A-000105"),
]


def test_takings_per_tender_and_in_total() -> None:
    day = takings(DAY)
    assert [(line.tender, line.taken.pence, line.refunded.pence, line.net.pence) for line in day.lines] == [
        (TenderKind.CASH, 9500, 1250, 8250),
        (TenderKind.CARD, 28000, 4000, 24000),
        (TenderKind.DIRECT_DEBIT, 0, 0, 0),
        (TenderKind.DEPOSIT, 5000, 0, 5000),
        (TenderKind.PAYMENT_LINK, 12000, 0, 12000),
    ]
    # 95 + 280 + 120 + 50 = 545 taken; 40 + 12.50 = 52.50 back; 492.50 kept.
    assert (day.taken.pence, day.refunded.pence, day.net.pence) == (54500, 5250, 49250)


def test_the_drawer_holds_the_float_plus_the_cash_kept() -> None:
    count = count_cash(takings(DAY), opening_float=gbp(10000), counted=gbp(18250))
    # 100.00 float + 95.00 in − 12.50 out = 182.50 expected.
    assert (count.expected.pence, count.difference.pence, count.to_bank.pence) == (18250, 0, 8250)


def test_a_drawer_short_or_over_needs_a_reason() -> None:
    with pytest.raises(RuleViolation) as short:
        count_cash(takings(DAY), opening_float=gbp(10000), counted=gbp(18000))
    assert str(short.value) == (
        "The drawer is £2.50 short (expected £182.50, counted £180.00). Count again, or say why before closing the day."
    )
    with pytest.raises(RuleViolation, match="£1.00 over"):
        count_cash(takings(DAY), opening_float=gbp(10000), counted=gbp(18350), reason="   ")

    count = count_cash(
        takings(DAY), opening_float=gbp(10000), counted=gbp(18000), reason=" change  given twice "
    )
    assert (count.difference.pence, count.reason) == (-250, "change given twice")


def test_bad_counts_are_refused_with_a_sentence() -> None:
    with pytest.raises(InvalidInput, match="The float cannot be negative"):
        count_cash(takings(DAY), opening_float=gbp(-1), counted=gbp(0))
    with pytest.raises(InvalidInput, match="another currency"):
        count_cash(takings(DAY), opening_float=gbp(0), counted=Money(100, "EUR"))
    with pytest.raises(InvalidInput, match="A-9"):
        takings([Movement(TenderKind.CASH, IN, Money(100, "EUR"), "A-9")])
    with pytest.raises(ValueError):
        Movement(TenderKind.CASH, OUT, gbp(-100), "A-1")


def test_a_closed_day_is_never_changed() -> None:
    require_open(dt.date(2026, 11, 25), [dt.date(2026, 11, 24)])
    with pytest.raises(RuleViolation) as closed:
        require_open(dt.date(2026, 11, 24), [dt.date(2026, 11, 24)])
    assert str(closed.value) == (
        "24 Nov 2026 is closed, so nothing recorded on it can change. Record a refund or a correction today instead."
    )


def test_visits_left_booked_in_the_past_are_listed_oldest_first() -> None:
    now = dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC)
    booked = {
        "later-today": dt.datetime(2026, 11, 24, 18, 0, tzinfo=dt.UTC),
        "this-morning": dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC),
        "weeks-ago": dt.datetime(2026, 11, 6, 10, 0, tzinfo=dt.UTC),
    }
    assert unsettled_visits(booked, now) == ["weeks-ago", "this-morning"]
    with pytest.raises(ValueError):
        unsettled_visits(booked, dt.datetime(2026, 11, 24, 17, 0))
