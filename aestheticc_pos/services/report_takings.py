"""Takings: what came in over a range of days, by day, week or month, and split by tender, by practitioner and
by kind of item; the refunds; the discounts given by reason; and what each tier's discount cost against what its
members paid (DESIGN.md §3, checkout documents).

Sales, refunds and voids are documents in one table; a refund or void is stored with negative amounts (its lines
and tenders too), so the money of any selection is a plain ``SUM``. Figures are the documents' ``net`` (what the
client paid, VAT included). A line's practitioner is the one of the appointment it was sold for (a refund line's,
that of the line it gives back); a line without one (a product, a walk-in) counts for the staff member who made
the sale.

Every takings figure sums the per-day summary (``store/takings_summary.py``), written with each document in its
transaction: a range of days is a few rows a day, whatever the clinic sold. What the members paid for their
tiers comes from the membership payments' summary by charge day (``store/payment_days.py``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, literal_column, select
from sqlalchemy.sql.elements import ColumnElement

from aestheticc_pos.domain.billing import PaymentStatus
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.reports import Grouping, Period, check_range, periods
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import use_case
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.report_sql import (
    ReportClinic,
    by_index,
    clinic_in,
    date_bounds,
    pence_sum,
    period_of,
)
from aestheticc_pos.store.tables import (
    MembershipPaymentDayRow,
    StaffRow,
    TakingsDayRow,
    TakingsLineDayRow,
    TenderDayRow,
)
from aestheticc_pos.store.takings_summary import PACKAGE_SESSIONS
from aestheticc_pos.store.unit_of_work import UnitOfWork

SALE = "sale"
MEMBER = " member "  # "Gold member 20%" (domain/benefits.py)
NONE = literal_column("'—'")  # inline, so GROUP BY and SELECT are the same expression on PostgreSQL


@dataclass(frozen=True, slots=True)
class TakingsPeriod:
    period: Period
    sales: int  # documents
    taken: Money  # by sales
    refunded: Money  # by refunds and voids (negative)

    @property
    def net(self) -> Money:
        return self.taken + self.refunded


@dataclass(frozen=True, slots=True)
class Split:
    """One row of a split: ``key`` is a tender or item kind or a staff id; ``taken`` by sales, ``refunded``
    (negative) by refunds and voids."""

    key: str
    name: str
    taken: Money
    refunded: Money

    @property
    def net(self) -> Money:
        return self.taken + self.refunded


@dataclass(frozen=True, slots=True)
class RefundReason:
    reason: str
    documents: int
    amount: Money  # negative


@dataclass(frozen=True, slots=True)
class DiscountReason:
    reason: str
    lines: int
    amount: Money


@dataclass(frozen=True, slots=True)
class TierCost:
    """A tier's discount given at checkout against what its members paid for membership, over the range."""

    tier_name: str
    discount: Money
    members_paid: Money


@dataclass(frozen=True, slots=True)
class TakingsReport:
    first: dt.date
    last: dt.date
    grouping: Grouping
    periods: tuple[TakingsPeriod, ...]
    sales: int
    taken: Money
    refunded: Money
    by_tender: tuple[Split, ...]
    by_practitioner: tuple[Split, ...]
    by_kind: tuple[Split, ...]
    refund_reasons: tuple[RefundReason, ...]
    discounts: tuple[DiscountReason, ...]
    package_sessions_used: Money  # list value of the sessions redeemed from packages (not a discount)
    tier_costs: tuple[TierCost, ...]

    @property
    def net(self) -> Money:
        return self.taken + self.refunded


@use_case(Action.VIEW_REPORTS)
def takings_report(
    services: Services,
    *,
    first: dt.date,
    last: dt.date,
    grouping: Grouping | str = Grouping.DAY,
    staff_id: str,
) -> TakingsReport:
    """The takings from ``first`` to ``last`` (the clinic's days, both included), grouped by ``grouping``."""
    first = inputs.calendar_day(first, what="The first day")
    last = inputs.calendar_day(last, what="The last day")
    check_range(first, last)
    grouping = inputs.choice(Grouping, grouping, what="The grouping")
    with services.uow(read_only=True) as uow:
        clinic = clinic_in(uow, services.now())
        return takings_in(uow, clinic, first, last, grouping)


def takings_in(
    uow: UnitOfWork, clinic: ReportClinic, first: dt.date, last: dt.date, grouping: Grouping
) -> TakingsReport:
    s = uow.session
    bars = periods(first, last, grouping)
    d, ln, t = TakingsDayRow, TakingsLineDayRow, TenderDayRow
    is_sale = d.document_kind == SALE
    per_bar = period_of(d.day, date_bounds(bars))
    figures = (
        pence_sum(case((is_sale, d.documents), else_=0)),
        pence_sum(case((is_sale, d.net_pence), else_=0)),
        pence_sum(case((is_sale, 0), else_=d.net_pence)),
    )
    rows = s.execute(select(per_bar, *figures).where(_days(d.day, first, last)).group_by(per_bar)).all()
    per = by_index(((r[0], r[1:]) for r in rows if r[0] is not None), len(bars), (0, 0, 0))
    series = tuple(
        TakingsPeriod(bar, int(n), clinic.money(taken), clinic.money(refunded))
        for bar, (n, taken, refunded) in zip(bars, per, strict=True)
    )
    count, taken, refunded = (sum(x[i] for x in per) for i in range(3))

    def split(key, name, amount, sale, where, *joins) -> tuple[Split, ...]:  # type: ignore[no-untyped-def]
        query = select(
            key,
            name,
            pence_sum(case((sale == SALE, amount), else_=0)),
            pence_sum(case((sale == SALE, 0), else_=amount)),
        )
        for target, on in joins:
            query = query.outerjoin(target, on)
        found = s.execute(query.where(where).group_by(key, name)).all()
        return tuple(
            Split(str(k), str(n), clinic.money(a), clinic.money(b))
            for k, n, a, b in sorted(found, key=lambda row: (-(row[2] + row[3]), str(row[0])))
        )

    lines_in_range = _days(ln.day, first, last)
    staff_name = func.coalesce(StaffRow.name, NONE)
    by_tender = split(
        t.tender_kind, t.tender_kind, t.amount_pence, t.document_kind, _days(t.day, first, last)
    )
    by_kind = split(ln.line_kind, ln.line_kind, ln.net_pence, ln.document_kind, lines_in_range)
    by_practitioner = split(
        ln.practitioner_id,
        staff_name,
        ln.net_pence,
        ln.document_kind,
        lines_in_range,
        (StaffRow, StaffRow.id == ln.practitioner_id),
    )
    discounts = tuple(
        DiscountReason(str(reason), int(n), clinic.money(amount))
        for reason, n, amount in sorted(
            s.execute(
                select(
                    ln.discount_group,
                    pence_sum(case((ln.document_kind == SALE, ln.lines), else_=0)),
                    pence_sum(ln.discount_pence),
                )
                .where(lines_in_range, ln.discount_group.not_in(["", PACKAGE_SESSIONS]))
                .group_by(ln.discount_group)
            ).all(),
            key=lambda r: (-r[2], str(r[0])),
        )
    )
    sessions_used = s.scalar(
        select(pence_sum(ln.discount_pence)).where(lines_in_range, ln.discount_group == PACKAGE_SESSIONS)
    )
    reason = case((d.reason == literal_column("''"), NONE), else_=d.reason)
    refund_reasons = tuple(
        RefundReason(str(why), int(n), clinic.money(amount))
        for why, n, amount in s.execute(
            select(reason, pence_sum(d.documents), pence_sum(d.net_pence))
            .where(_days(d.day, first, last), d.document_kind != SALE)
            .group_by(reason)
            .order_by(pence_sum(d.net_pence), reason)
        )
    )
    return TakingsReport(
        first=first,
        last=last,
        grouping=grouping,
        periods=series,
        sales=int(count),
        taken=clinic.money(taken),
        refunded=clinic.money(refunded),
        by_tender=by_tender,
        by_practitioner=by_practitioner,
        by_kind=by_kind,
        refund_reasons=refund_reasons,
        discounts=discounts,
        package_sessions_used=clinic.money(sessions_used),
        tier_costs=_tier_costs(uow, clinic, first, last, discounts),
    )


def _days(day: Any, first: dt.date, last: dt.date) -> ColumnElement[bool]:
    return and_(day >= first, day <= last)


def _tier_costs(
    uow: UnitOfWork,
    clinic: ReportClinic,
    first: dt.date,
    last: dt.date,
    discounts: tuple[DiscountReason, ...],
) -> tuple[TierCost, ...]:
    """Each tier with a discount given or a payment collected in the range: the discount (from the reasons
    "Gold member 20%") against the membership payments collected (Direct Debit, desk and till) on a day of the
    range, each under the tier it paid for (its membership's when it was written)."""
    p = MembershipPaymentDayRow  # the payments' summary by charge day (``store/payment_days.py``)
    paid = dict(
        uow.session.execute(
            select(p.tier_name, pence_sum(p.amount_pence))
            .where(
                p.day >= first,
                p.day <= last,
                p.status.in_([PaymentStatus.CONFIRMED.value, PaymentStatus.PAID.value]),
            )
            .group_by(p.tier_name)
            .having(func.sum(p.payments) != 0)
        ).all()
    )
    given: dict[str, Money] = {}
    for d in discounts:
        if MEMBER in d.reason and d.reason.endswith("%"):
            tier = d.reason.rsplit(MEMBER, 1)[0]
            given[tier] = given.get(tier, Money.zero(clinic.currency)) + d.amount
    return tuple(
        TierCost(tier, given.get(tier, Money.zero(clinic.currency)), clinic.money(paid.get(tier, 0)))
        for tier in sorted(set(given) | set(paid))
    )
