"""The arithmetic of the owner's reports, apart from how the figures are fetched (``services/report_*.py``).

- ``periods``: the days, weeks (Monday to Sunday) or calendar months a range of days falls into, each clipped
  to the range, so a chart's bars and a table's rows add up to the range's total;
- ``roll_forward``: package liability month by month: opening, sold, redeemed, refunded, expired (breakage),
  adjusted, closing — each month's closing is the next month's opening;
- ``classify_mrr`` / ``MrrMonth``: how a member's monthly recurring revenue moved between two dates (new,
  upgrade, downgrade, churn), and the bridge from one month's MRR to the next;
- ``rate_bp``: a share as basis points, rounded half up (None when there is nothing to divide by).

Amounts are integer pence; nothing here fetches or formats anything.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.domain.money import round_half_up_div

MAX_DAYS = 366 * 10  # the longest range a report covers


class Grouping(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Period:
    """The days ``first`` to ``last`` (both included): one bar of a chart, one row of a table."""

    first: dt.date
    last: dt.date

    @property
    def after(self) -> dt.date:
        """The day after the period (its end, exclusive)."""
        return self.last + dt.timedelta(days=1)


def check_range(first: dt.date, last: dt.date) -> None:
    """Refuse a range that ends before it starts or covers more than ten years."""
    if last < first:
        raise InvalidInput("The range ends before it starts: choose an end on or after the start.")
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput("A report covers at most ten years: choose a shorter range.")


def periods(first: dt.date, last: dt.date, grouping: Grouping) -> list[Period]:
    """The periods of ``grouping`` from ``first`` to ``last``, the first and last clipped to the range."""
    check_range(first, last)
    out: list[Period] = []
    start = first
    while start <= last:
        if grouping is Grouping.DAY:
            end = start
        elif grouping is Grouping.WEEK:
            end = start + dt.timedelta(days=6 - start.weekday())
        else:
            end = month_start(next_month(start)) - dt.timedelta(days=1)
        out.append(Period(start, min(end, last)))
        start = min(end, last) + dt.timedelta(days=1)
    return out


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    """The first day of the month after ``day``'s."""
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def months_back(day: dt.date, count: int) -> dt.date:
    """The first day of the month ``count`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - count
    return dt.date(index // 12, index % 12 + 1, 1)


def rate_bp(part: int, whole: int) -> int | None:
    """``part`` of ``whole`` in basis points (2 of 3 → 6667); None when ``whole`` is zero."""
    if whole <= 0:
        return None
    return round_half_up_div(part * 10_000, whole)


# --- Package liability ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LiabilityFlows:
    """What changed the value of unredeemed sessions in a month, at package value (price ÷ sessions)."""

    sold: int = 0
    redeemed: int = 0
    refunded: int = 0
    expired: int = 0  # breakage: sessions never used by the expiry date
    adjusted: int = 0  # sessions a manager added (or took away) at the package's value

    @property
    def change(self) -> int:
        return self.sold + self.adjusted - self.redeemed - self.refunded - self.expired


@dataclass(frozen=True, slots=True)
class RollForwardMonth:
    month: dt.date  # the first day of the month
    opening: int
    flows: LiabilityFlows
    closing: int


def roll_forward(opening: int, months: Sequence[tuple[dt.date, LiabilityFlows]]) -> list[RollForwardMonth]:
    """Each month from ``opening``: closing = opening + sold + adjusted − redeemed − refunded − expired."""
    out: list[RollForwardMonth] = []
    for month, flows in months:
        closing = opening + flows.change
        out.append(RollForwardMonth(month, opening, flows, closing))
        opening = closing
    return out


# --- Monthly recurring revenue -------------------------------------------------------------------------------


class MrrChange(enum.StrEnum):
    """How one member's monthly price moved from one date to a later one."""

    NEW = "new"
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    CHURN = "churn"
    UNCHANGED = "unchanged"


def classify_mrr(before: int, after: int) -> MrrChange:
    """A member paying nothing before and something after is new; the reverse is churn; otherwise the price
    went up (upgrade), down (downgrade) or stayed."""
    if before == after:
        return MrrChange.UNCHANGED
    if before == 0:
        return MrrChange.NEW
    if after == 0:
        return MrrChange.CHURN
    return MrrChange.UPGRADE if after > before else MrrChange.DOWNGRADE


@dataclass(frozen=True, slots=True)
class MrrMonth:
    """The bridge from the MRR at the end of the previous month to the end of ``month``: every amount
    positive; ``closing = opening + new + upgrades − downgrades − churn``."""

    month: dt.date
    opening: int
    new: int
    upgrades: int
    downgrades: int
    churn: int
    closing: int

    def __post_init__(self) -> None:
        if self.opening + self.new + self.upgrades - self.downgrades - self.churn != self.closing:
            raise ValueError(f"the MRR movements of {self.month} do not bridge its opening to its closing")


def mrr_movements(pairs: Iterable[tuple[int, int]]) -> dict[MrrChange, int]:
    """The movement per kind of (before, after) monthly prices, as positive amounts: the rule the reports'
    SQL applies to every member at once (``services/report_memberships.py``), for a handful of them."""
    totals = dict.fromkeys(MrrChange, 0)
    for before, after in pairs:
        totals[classify_mrr(before, after)] += abs(after - before)
    return totals
