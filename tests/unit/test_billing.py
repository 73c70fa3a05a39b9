"""Periods, the paid-through watermark, arrears and the billing plan (DESIGN.md §3 "Periods and the first month").

Every expected value below was worked out by hand from the rule, not from the code.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aestheticc_pos.domain import billing
from aestheticc_pos.domain.billing import Period
from aestheticc_pos.domain.catalogue import Tier
from aestheticc_pos.domain.money import Money


def d(y: int, m: int, day: int) -> dt.date:
    return dt.date(y, m, day)


JOINED = d(2027, 1, 4)  # the member: joins on 4 Jan
JAN = Period(d(2027, 1, 4), d(2027, 2, 3))
FEB = Period(d(2027, 2, 4), d(2027, 3, 3))
MAR = Period(d(2027, 3, 4), d(2027, 4, 3))
APR = Period(d(2027, 4, 4), d(2027, 5, 3))


# --- Periods -----------------------------------------------------------------------------------------------


def test_period_n_runs_from_sign_up_plus_n_months_to_the_day_before_the_next() -> None:
    assert [billing.period(JOINED, n) for n in range(4)] == [JAN, FEB, MAR, APR]


def test_a_membership_started_on_the_31st_follows_the_last_day_of_each_month() -> None:
    started = d(2027, 1, 31)
    assert [billing.period(started, n) for n in range(3)] == [
        Period(d(2027, 1, 31), d(2027, 2, 27)),
        Period(d(2027, 2, 28), d(2027, 3, 30)),
        Period(d(2027, 3, 31), d(2027, 4, 29)),
    ]


@pytest.mark.parametrize(
    ("day", "expected"),
    [(d(2027, 1, 4), 0), (d(2027, 2, 3), 0), (d(2027, 2, 4), 1), (d(2027, 3, 31), 2), (d(2026, 12, 1), 0)],
)
def test_the_period_holding_a_day(day: dt.date, expected: int) -> None:
    assert billing.period_index(JOINED, day) == expected


def test_period_text_names_the_year_once_when_it_can() -> None:
    assert billing.period_text(JAN) == "4 Jan–3 Feb 2027"
    assert billing.period_text(Period(d(2026, 12, 24), d(2027, 1, 23))) == "24 Dec 2026–23 Jan 2027"


def test_the_first_payment_is_the_first_month_and_the_sign_up_fee() -> None:
    gold = Tier("t", "Gold", Money(4900), 2000, signup_fee_pence=2500)
    assert billing.first_payment_amount(gold) == Money(7400)
    assert billing.first_payment_amount(Tier("s", "Silver", Money(2900), 1000)) == Money(2900)


# --- Paid through -------------------------------------------------------------------------------------------


def test_paid_through_moves_only_over_an_unbroken_run_from_the_start() -> None:
    # The bug: the 4 Feb and 4 Mar collections arrive while 4 Jan–3 Feb was never paid.
    assert billing.paid_through_after(JOINED, None, {FEB.start, MAR.start}) is None
    # Once January is paid, the run reaches the end of March.
    assert billing.paid_through_after(JOINED, None, {JAN.start, FEB.start, MAR.start}) == MAR.end
    # From a stored watermark, only what continues it counts.
    assert billing.paid_through_after(JOINED, JAN.end, {FEB.start, APR.start}) == FEB.end
    assert billing.paid_through_after(JOINED, FEB.end, set()) == FEB.end


def test_a_watermark_inside_a_period_continues_with_that_period() -> None:
    assert billing.paid_through_after(JOINED, d(2027, 2, 10), {FEB.start}) == FEB.end


# --- Arrears ------------------------------------------------------------------------------------------------


def test_arrears_are_the_months_up_to_today_neither_collected_nor_being_collected() -> None:
    owed = billing.arrears_periods(
        JOINED, JAN.end, collected={MAR.start}, in_flight={APR.start}, today=d(2027, 4, 10)
    )
    assert owed == (FEB,)  # March was collected, April is being collected
    owed = billing.arrears_periods(JOINED, JAN.end, collected=set(), in_flight=set(), today=d(2027, 3, 4))
    assert owed == (FEB, MAR)


def test_arrears_stop_at_the_last_day_of_a_membership_ending_sooner() -> None:
    owed = billing.arrears_periods(
        JOINED, JAN.end, collected=set(), in_flight=set(), today=d(2027, 4, 10), ends_on=d(2027, 2, 20)
    )
    assert owed == (FEB,)


# --- The plan -----------------------------------------------------------------------------------------------


def test_the_first_month_paid_with_the_set_up_then_the_subscription_from_the_second() -> None:
    # Joined 4 Jan, the instant first payment covers January, the mandate can be charged from 11 Jan.
    plan = billing.plan_billing(
        JOINED, accounted={JAN.start}, paid_through=None, earliest_charge=d(2027, 1, 11)
    )
    assert (plan.one_offs, plan.subscription_start, plan.subscription_end) == ((), FEB.start, None)


def test_without_a_first_payment_the_first_month_is_a_one_off_direct_debit() -> None:
    plan = billing.plan_billing(JOINED, accounted=(), paid_through=None, earliest_charge=d(2027, 1, 11))
    assert (plan.one_offs, plan.subscription_start) == ((JAN,), FEB.start)


def test_a_client_who_authorises_late_pays_every_month_since_joining_once() -> None:
    # Authorised on 3 Feb; first possible charge 9 Feb: January and February as one-offs, subscription from March.
    plan = billing.plan_billing(JOINED, accounted=(), paid_through=None, earliest_charge=d(2027, 2, 9))
    assert (plan.one_offs, plan.subscription_start) == ((JAN, FEB), MAR.start)


def test_a_replacement_inside_the_charge_window_collects_the_next_month_as_a_one_off() -> None:
    # Paid through 3 Mar; the old subscription is cancelled on 2 Mar, the mandate's next charge is 5 Mar.
    plan = billing.plan_billing(
        JOINED, accounted={JAN.start, FEB.start}, paid_through=FEB.end, earliest_charge=d(2027, 3, 5)
    )
    assert (plan.first_open, plan.one_offs, plan.subscription_start) == (MAR, (MAR,), APR.start)


def test_a_replacement_well_before_the_charge_date_needs_no_one_off() -> None:
    plan = billing.plan_billing(
        JOINED, accounted={JAN.start}, paid_through=JAN.end, earliest_charge=d(2027, 1, 20)
    )
    assert (plan.one_offs, plan.subscription_start) == ((), FEB.start)


def test_a_failed_month_is_the_desks_or_the_retrys_never_collected_again_by_the_plan() -> None:
    # February failed (accounted: GoCardless retries it or the desk takes it); the plan goes on from March.
    plan = billing.plan_billing(
        JOINED,
        accounted={JAN.start, FEB.start},
        paid_through=JAN.end,
        earliest_charge=d(2027, 2, 20),
        owed_until=d(2027, 2, 18),
    )
    assert (plan.one_offs, plan.subscription_start) == ((), MAR.start)


def test_under_notice_nothing_is_planned_after_the_last_day() -> None:
    plan = billing.plan_billing(
        JOINED,
        accounted={JAN.start},
        paid_through=JAN.end,
        earliest_charge=d(2027, 2, 9),
        ends_on=d(2027, 3, 20),
    )
    assert (plan.one_offs, plan.subscription_start, plan.subscription_end) == (
        (FEB,),
        MAR.start,
        d(2027, 3, 21),
    )
    plan = billing.plan_billing(
        JOINED,
        accounted={JAN.start},
        paid_through=JAN.end,
        earliest_charge=d(2027, 2, 9),
        ends_on=d(2027, 2, 28),
    )
    assert (plan.one_offs, plan.subscription_start, plan.subscription_end) == ((FEB,), None, None)


@given(
    started=st.dates(min_value=d(2025, 1, 1), max_value=d(2028, 12, 31)),
    paid_months=st.integers(min_value=0, max_value=14),
    lead_days=st.integers(min_value=0, max_value=80),
)
def test_every_month_is_collected_exactly_once_by_what_is_paid_the_one_offs_and_the_subscription(
    started: dt.date, paid_months: int, lead_days: int
) -> None:
    accounted = {billing.period(started, n).start for n in range(paid_months)}
    earliest = started + dt.timedelta(days=lead_days)
    plan = billing.plan_billing(started, accounted=accounted, paid_through=None, earliest_charge=earliest)
    assert plan.subscription_start is not None and plan.subscription_start >= earliest
    one_off_starts = [p.start for p in plan.one_offs]
    collected = sorted(accounted) + one_off_starts
    assert len(collected) == len(set(collected))  # nothing twice
    # Every month before the subscription's first is paid or a one-off, with no gap.
    expected = [
        billing.period(started, n).start
        for n in range(billing.period_index(started, plan.subscription_start))
    ]
    assert sorted(collected) == expected
