"""The Memberships report's Direct Debit collection (collected against failed or charged back, month by month) and
the payments coming in the next ``UPCOMING_DAYS`` days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select

from aestheticc_pos.domain.billing import PaymentStatus
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.reports import Period, next_month, rate_bp
from aestheticc_pos.services.report_sql import ReportClinic, by_index, date_periods, pence_sum
from aestheticc_pos.store.tables import MembershipPaymentRow
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
    p = MembershipPaymentRow
    done = case((p.status.in_(COLLECTED), 1))
    lost = case((p.status.in_(NOT_COLLECTED), 1))
    amount_done = pence_sum(case((p.status.in_(COLLECTED), p.amount_pence), else_=0))
    amount_lost = pence_sum(case((p.status.in_(NOT_COLLECTED), p.amount_pence), else_=0))
    direct_debit = p.source == "direct_debit"
    per: list[tuple[int, int, int, int]] = []
    if spans:
        # Summed by charge day first, in the covering index's order (no sorting of the payments), then the
        # few hundred days by month.
        days = (
            select(
                p.charge_date.label("day"),
                func.count(done).label("done"),
                func.count(lost).label("lost"),
                amount_done.label("amount_done"),
                amount_lost.label("amount_lost"),
            )
            .where(direct_debit, p.charge_date >= spans[0].first, p.charge_date < spans[-1].after)
            .group_by(p.charge_date)
            .subquery("days")
        )
        d, x = date_periods(spans), days.c
        rows = uow.session.execute(
            select(d.c.i, *(pence_sum(c) for c in (x.done, x.lost, x.amount_done, x.amount_lost)))
            .join(d, and_(x.day >= d.c.first, x.day < d.c.after))
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
    p = MembershipPaymentRow
    window = and_(
        p.status == PaymentStatus.PENDING.value,
        p.charge_date >= clinic.today,
        p.charge_date <= clinic.today + dt.timedelta(days=UPCOMING_DAYS),
    )
    rows = uow.session.execute(
        select(p.charge_date, func.count(), pence_sum(p.amount_pence))
        .where(window)
        .group_by(p.charge_date)
        .order_by(p.charge_date)
    ).all()
    coming = tuple(ComingPayment(day, int(n), clinic.money(a)) for day, n, a in rows)
    return coming, clinic.money(sum(c.amount.pence for c in coming))  # the days' sums added up
