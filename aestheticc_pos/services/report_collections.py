"""The Memberships report's Direct Debit collection (collected against failed or charged back, month by month) and
the payments coming in the next ``UPCOMING_DAYS`` days: sums of the payments' summary by charge day
(``store/payment_days.py``), never of the payments' rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select

from aestheticc_pos.domain.billing import PaymentStatus
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.reports import Period, next_month, rate_bp
from aestheticc_pos.services.report_sql import ReportClinic, by_index, date_periods, pence_sum
from aestheticc_pos.store.tables import MembershipPaymentDayRow
from aestheticc_pos.store.unit_of_work import UnitOfWork

UPCOMING_DAYS = 30
COLLECTED = (PaymentStatus.CONFIRMED.value,)
NOT_COLLECTED = (PaymentStatus.FAILED.value, PaymentStatus.CHARGED_BACK.value)


@dataclass(frozen=True, slots=True)
class CollectionMonth:
    month: dt.date
    collected: int
    failed: int
    collected_amount: Money
    failed_amount: Money

    @property
    def rate_bp(self) -> int | None:
        return rate_bp(self.collected, self.collected + self.failed)


@dataclass(frozen=True, slots=True)
class ComingPayment:
    charge_date: dt.date
    payments: int
    amount: Money


def collections_in(
    uow: UnitOfWork, clinic: ReportClinic, months: list[dt.date]
) -> tuple[tuple[CollectionMonth, ...], int, int]:
    """Direct Debit payments charged in each month (up to today): collected against failed or charged back."""
    spans = [
        Period(m, min(next_month(m) - dt.timedelta(days=1), clinic.today))
        for m in months
        if m <= clinic.today
    ]
    p = MembershipPaymentDayRow
    figures = [
        pence_sum(case((p.status.in_(statuses), column), else_=0))
        for column in (p.payments, p.amount_pence)
        for statuses in (COLLECTED, NOT_COLLECTED)
    ]
    per: list[tuple[int, int, int, int]] = []
    if spans:  # the summary's few rows a day, by month
        d = date_periods(spans)
        rows = uow.session.execute(
            select(d.c.i, *figures)
            .join(d, and_(p.day >= d.c.first, p.day < d.c.after))
            .where(p.source == "direct_debit", p.day >= spans[0].first, p.day < spans[-1].after)
            .group_by(d.c.i)
        ).all()
        per = by_index(((r[0], r[1:]) for r in rows), len(spans), (0, 0, 0, 0))
    months_out = tuple(
        CollectionMonth(span.first, int(c), int(f), clinic.money(a), clinic.money(b))
        for span, (c, f, a, b) in zip(spans, per, strict=True)
    )
    # The months follow one another from the first to today: the range's counts are their counts added up,
    # where counting the range again would read each of its payments a second time.
    return months_out, sum(m.collected for m in months_out), sum(m.failed for m in months_out)


def coming_in(uow: UnitOfWork, clinic: ReportClinic) -> tuple[tuple[ComingPayment, ...], Money]:
    """Direct Debit payments due in the next ``UPCOMING_DAYS`` days (from today), by charge date."""
    p = MembershipPaymentDayRow
    window = and_(
        p.status == PaymentStatus.PENDING.value,
        p.day >= clinic.today,
        p.day <= clinic.today + dt.timedelta(days=UPCOMING_DAYS),
    )
    rows = uow.session.execute(
        select(p.day, pence_sum(p.payments), pence_sum(p.amount_pence))
        .where(window)
        .group_by(p.day)
        .having(func.sum(p.payments) != 0)
        .order_by(p.day)
    ).all()
    coming = tuple(ComingPayment(day, int(n), clinic.money(a)) for day, n, a in rows)
    return coming, clinic.money(sum(c.amount.pence for c in coming))  # the days' sums added up
