"""How a membership is billed: its monthly periods, what has been paid, what is owed and what to collect next.

Pure rules over dates (DESIGN.md §3 "Periods and the first month"):

- **Periods.** Period n runs from the sign-up date plus n months to the day before period n + 1. A membership
  started on the 29th, 30th or 31st follows the last day of each month, as its GoCardless collections do
  (``subscription_day_of_month``): 31 Jan–27 Feb, 28 Feb–30 Mar, 31 Mar–29 Apr…
- **Every period is paid exactly once, the first included.** ``paid_through`` is the last day of the unbroken
  run of collected periods from the start (``paid_through_after``): money collected for a later period while
  an earlier one is unpaid does not move it.
- **What to collect next** (``plan_billing``): the subscription starts at the first period after everything
  already paid, being collected or owed as arrears, and never before the mandate's
  ``next_possible_charge_date``; a period that falls in between is collected as a one-off Direct Debit
  payment, never skipped. Under notice, nothing is planned for a period that starts after the last day.
- **Arrears** (``arrears_periods``): the periods up to today that are neither collected nor being collected.

Callers gather the facts (which periods are collected, being collected or accounted for) from the payments
they know and hand them in as the periods' start dates.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from aestheticc_pos.domain.catalogue import Tier
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.packages import format_date


class PaymentStatus(enum.StrEnum):
    """A membership payment as the till knows it: a Direct Debit as GoCardless last reported it, or money taken
    at the desk or the till (``PAID``), and ``REFUNDED`` when a refund gave a till payment back."""

    PENDING = "pending"  # queued or submitted, not collected yet
    CONFIRMED = "confirmed"  # collected by Direct Debit
    PAID = "paid"  # taken at the desk or the till
    FAILED = "failed"
    CHARGED_BACK = "charged_back"
    CANCELLED = "cancelled"  # never collected: the period is open again
    REFUNDED = "refunded"


class PaymentSource(enum.StrEnum):
    """How a membership payment came in."""

    DIRECT_DEBIT = "direct_debit"  # collected by GoCardless against the mandate
    DESK = "desk"  # arrears taken at the desk
    SALE = "sale"  # the first month, paid at the till with the sale that started the membership


# What GoCardless reports for a payment that collects nothing and never will.
NEVER_COLLECTED = frozenset({PaymentStatus.CANCELLED.value, "customer_approval_denied"})

LAST_DAY_OF_MONTH = -1  # GoCardless's day_of_month for "the last day of each month"
_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """One monthly period of a membership, both days inclusive."""

    start: dt.date
    end: dt.date


@dataclass(frozen=True, slots=True)
class BillingPlan:
    """What to ask GoCardless for so that every period from ``first_open`` on is collected once.

    ``one_offs``: periods to collect as one-off Direct Debit payments, as soon as the mandate allows.
    ``subscription_start``: the monthly subscription's first charge date, or None when no period needs one
    (the membership ends first). ``subscription_end``: GoCardless's ``end_date`` (no payment on or after it)
    for a membership under notice, else None.
    """

    first_open: Period
    one_offs: tuple[Period, ...]
    subscription_start: dt.date | None
    subscription_end: dt.date | None


# --- Periods ---------------------------------------------------------------------------------------------


def period(started_on: dt.date, n: int) -> Period:
    """Period ``n`` (0 is the first) of a membership started on ``started_on``."""
    if n < 0:
        raise ValueError("a membership's periods are numbered from 0")
    return Period(_period_start(started_on, n), _period_start(started_on, n + 1) - _ONE_DAY)


def period_index(started_on: dt.date, day: dt.date) -> int:
    """The number of the period holding ``day`` (0 for any day before the start)."""
    if day < started_on:
        return 0
    k = (day.year - started_on.year) * 12 + day.month - started_on.month
    while k > 0 and _period_start(started_on, k) > day:
        k -= 1
    while _period_start(started_on, k + 1) <= day:
        k += 1
    return k


def period_holding(started_on: dt.date, day: dt.date) -> Period:
    """The period holding ``day`` (the first period for a day before the start)."""
    return period(started_on, period_index(started_on, day))


def next_period(started_on: dt.date, paid_through: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The period holding the first day not paid for: ``(first day, last day)``, both inclusive."""
    if paid_through is None or paid_through < started_on:
        first = period(started_on, 0)
    else:
        first = period_holding(started_on, paid_through + _ONE_DAY)
    return first.start, first.end


def period_text(p: Period) -> str:
    """ "4 Jan–3 Feb 2027", or "24 Dec 2026–23 Jan 2027" across a year end (for staff and bank statements)."""
    first = format_date(p.start)
    if p.start.year == p.end.year:
        first = first.rsplit(" ", 1)[0]
    return f"{first}–{format_date(p.end)}"


def subscription_day_of_month(started_on: dt.date) -> int:
    """GoCardless's ``day_of_month`` for a membership started on ``started_on``: 1..28, or -1 (last day)."""
    return started_on.day if started_on.day <= 28 else LAST_DAY_OF_MONTH


def first_payment_amount(tier: Tier) -> Money:
    """What the first payment collects: the first month and the tier's sign-up fee, if any."""
    return tier.monthly_price + tier.signup_fee


# --- What has been paid ------------------------------------------------------------------------------------


def paid_through_after(
    started_on: dt.date, paid_through: dt.date | None, collected: Collection[dt.date]
) -> dt.date | None:
    """``paid_through`` moved over every collected period that continues the unbroken run from the start.

    ``collected`` holds the start dates of the periods whose money was collected (a confirmed Direct Debit
    payment, the first month at the till, a desk payment). A period after a gap does not count until the gap
    is paid.
    """
    k = _first_unpaid_index(started_on, paid_through)
    while _period_start(started_on, k) in collected:
        paid_through = period(started_on, k).end
        k += 1
    return paid_through


def arrears_periods(
    started_on: dt.date,
    paid_through: dt.date | None,
    *,
    collected: Collection[dt.date],
    in_flight: Collection[dt.date],
    today: dt.date,
    ends_on: dt.date | None = None,
) -> tuple[Period, ...]:
    """The periods a member owes today: from the first unpaid one to the one holding today (or the last day of
    the membership, if earlier), except those already collected or being collected (``in_flight``: a Direct
    Debit payment created and not failed)."""
    last_day = today if ends_on is None else min(today, ends_on)
    first = _first_unpaid_index(started_on, paid_through)
    owed = []
    k = first
    while (p := period(started_on, k)).start <= last_day:
        if p.start not in collected and p.start not in in_flight:
            owed.append(p)
        k += 1
    return tuple(owed)


# --- What to collect next ----------------------------------------------------------------------------------


def plan_billing(
    started_on: dt.date,
    *,
    accounted: Iterable[dt.date],
    paid_through: dt.date | None,
    earliest_charge: dt.date,
    ends_on: dt.date | None = None,
    owed_until: dt.date | None = None,
) -> BillingPlan:
    """Plan the collections of every period after those already accounted for (module docstring).

    ``accounted``: the start dates of periods paid, being collected, or failed (a failed period is arrears,
    for GoCardless's retry or the desk, never collected again here). ``owed_until``: for a member in arrears,
    today: the periods up to the one holding it are the desk's to collect. ``earliest_charge``: the mandate's
    ``next_possible_charge_date``.
    """
    first = _first_unpaid_index(started_on, paid_through)
    for start in accounted:
        if start >= started_on:
            first = max(first, period_index(started_on, start) + 1)
    if owed_until is not None:
        first = max(first, period_index(started_on, owed_until) + 1)
    k = first
    while _period_start(started_on, k) < earliest_charge:
        k += 1
    one_offs = tuple(period(started_on, n) for n in range(first, k))
    start: dt.date | None = _period_start(started_on, k)
    end = None
    if ends_on is not None:
        one_offs = tuple(p for p in one_offs if p.start <= ends_on)
        if start is not None and start > ends_on:
            start = None
        else:
            end = ends_on + _ONE_DAY
    return BillingPlan(period(started_on, first), one_offs, start, end)


# --- Helpers -----------------------------------------------------------------------------------------------


def _first_unpaid_index(started_on: dt.date, paid_through: dt.date | None) -> int:
    """The period holding the first day not paid for."""
    if paid_through is None or paid_through < started_on:
        return 0
    return period_index(started_on, paid_through + _ONE_DAY)


def _period_start(started_on: dt.date, k: int) -> dt.date:
    """The first day of the ``k``-th monthly period (``k`` = 0 is the start itself)."""
    if k == 0:
        return started_on
    year, month0 = divmod(started_on.year * 12 + started_on.month - 1 + k, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    day = started_on.day if started_on.day <= 28 else last_day
    return dt.date(year, month0 + 1, day)
