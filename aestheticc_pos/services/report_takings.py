"""Takings: what came in over a range of days, by day, week or month, and split by tender, by practitioner and
by kind of item; the refunds; the discounts given by reason; and what each tier's discount cost against what its
members paid (DESIGN.md §3, checkout documents).

Sales, refunds and voids are documents in one table; a refund or void is stored with negative amounts (its lines
and tenders too), so the money of any selection is a plain ``SUM``. Figures are the documents' ``net`` (what the
client paid, VAT included). A line's practitioner is the one of the appointment it was sold for (a refund line's,
that of the line it gives back); a line without one (a product, a walk-in) counts for the staff member who made
the sale.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased
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
    moment_periods,
    pence_sum,
)
from aestheticc_pos.store.tables import (
    AppointmentRow,
    MembershipPaymentRow,
    MembershipRow,
    SaleLineRow,
    SaleRow,
    StaffRow,
    TenderRow,
)
from aestheticc_pos.store.unit_of_work import UnitOfWork

SALE = "sale"
PACKAGE_SESSION = "Package:%"  # a redemption: paid for when the package was sold, not a discount
OVERRIDE = "Price override:%"
OVERRIDES = "Price overrides"
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
    starts, ends = clinic.day_start(first), clinic.day_start(last + dt.timedelta(days=1))
    in_range = and_(SaleRow.created_at >= starts, SaleRow.created_at < ends)
    is_sale = SaleRow.kind == SALE

    p = moment_periods(clinic, bars)
    rows = s.execute(
        select(
            p.c.i,
            func.count(case((is_sale, 1))),
            pence_sum(case((is_sale, SaleRow.net_pence), else_=0)),
            pence_sum(case((is_sale, 0), else_=SaleRow.net_pence)),
        )
        .join(p, and_(SaleRow.created_at >= p.c.starts, SaleRow.created_at < p.c.ends))
        .group_by(p.c.i)
    ).all()
    per = by_index(((r[0], r[1:]) for r in rows), len(bars), (0, 0, 0))
    series = tuple(
        TakingsPeriod(bar, int(n), clinic.money(taken), clinic.money(refunded))
        for bar, (n, taken, refunded) in zip(bars, per, strict=True)
    )
    count, taken, refunded = s.execute(
        select(
            func.count(case((is_sale, 1))),
            pence_sum(case((is_sale, SaleRow.net_pence), else_=0)),
            pence_sum(case((is_sale, 0), else_=SaleRow.net_pence)),
        ).where(in_range)
    ).one()

    def split(key, name, amount, *joins) -> tuple[Split, ...]:  # type: ignore[no-untyped-def]
        query = select(
            key,
            name,
            pence_sum(case((is_sale, amount), else_=0)),
            pence_sum(case((is_sale, 0), else_=amount)),
        ).select_from(SaleRow)
        for n, (target, on) in enumerate(joins):
            query = query.join(target, on, isouter=n > 0)
        found = s.execute(query.where(in_range).group_by(key, name).order_by(key)).all()
        return tuple(
            Split(str(k), str(n), clinic.money(t), clinic.money(r))
            for k, n, t, r in sorted(found, key=lambda row: -(row[2] + row[3]))
        )

    by_tender = split(
        TenderRow.kind, TenderRow.kind, TenderRow.amount_pence, (TenderRow, TenderRow.sale_id == SaleRow.id)
    )
    by_kind, by_practitioner, discounts, sessions_used = _line_figures(uow, clinic, in_range)
    refund_reasons = tuple(
        RefundReason(reason, int(n), clinic.money(amount))
        for reason, n, amount in s.execute(
            select(func.coalesce(SaleRow.reason, NONE), func.count(), pence_sum(SaleRow.net_pence))
            .where(in_range, SaleRow.kind != SALE)
            .group_by(func.coalesce(SaleRow.reason, NONE))
            .order_by(pence_sum(SaleRow.net_pence), func.coalesce(SaleRow.reason, NONE))
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
        package_sessions_used=sessions_used,
        tier_costs=_tier_costs(uow, clinic, first, last, discounts),
    )


def _line_figures(
    uow: UnitOfWork, clinic: ReportClinic, in_range: ColumnElement[bool]
) -> tuple[tuple[Split, ...], tuple[Split, ...], tuple[DiscountReason, ...], Money]:
    """The splits by kind and by practitioner, the discounts by reason and the list value of the package
    sessions used, in one statement: the range's lines are joined to their sales (and a refund line to the
    line it gives back, a line to its appointment) once, materialised, and each figure sums those rows."""
    is_sale = SaleRow.kind == SALE
    original_line = aliased(SaleLineRow)
    original_sale = aliased(SaleRow)
    lines = (
        select(
            case((is_sale, 1), else_=0).label("is_sale"),
            SaleLineRow.kind.label("kind"),
            SaleLineRow.net_pence.label("net"),
            SaleLineRow.discount_pence.label("discount"),
            SaleLineRow.discount_reason.label("reason"),
            func.coalesce(AppointmentRow.practitioner_id, original_sale.staff_id, SaleRow.staff_id).label(
                "who"
            ),
        )
        .select_from(SaleRow)
        .join(SaleLineRow, SaleLineRow.sale_id == SaleRow.id)
        .outerjoin(
            original_line,
            and_(
                original_line.sale_id == SaleRow.refers_to_sale_id,
                original_line.position == SaleLineRow.refunds_position,
            ),
        )
        .outerjoin(original_sale, original_sale.id == SaleRow.refers_to_sale_id)
        .outerjoin(
            AppointmentRow,
            AppointmentRow.id == func.coalesce(SaleLineRow.appointment_id, original_line.appointment_id),
        )
        .where(in_range)
        .cte("lines_in_range")
        .prefix_with("MATERIALIZED")
    )
    c = lines.c
    sold = c.is_sale == 1
    taken = pence_sum(case((sold, c.net), else_=0))
    refunded = pence_sum(case((sold, 0), else_=c.net))
    reason = case((c.reason.like(OVERRIDE), literal_column(f"'{OVERRIDES}'")), else_=c.reason)
    no_text = cast(null(), String)
    staff = aliased(StaffRow)
    statement = union_all(
        select(literal("kind", String), c.kind, c.kind, literal(0, Integer), taken, refunded).group_by(
            c.kind
        ),
        select(
            literal("who", String),
            c.who,
            func.coalesce(staff.name, NONE),
            literal(0, Integer),
            taken,
            refunded,
        )
        .select_from(lines)
        .outerjoin(staff, staff.id == c.who)
        .group_by(c.who, func.coalesce(staff.name, NONE)),
        select(
            literal("discount", String),
            reason,
            no_text,
            func.count(case((sold, 1))),
            pence_sum(c.discount),
            literal(0, Integer),
        )
        .where(c.discount != 0, or_(c.reason.is_(None), ~c.reason.like(PACKAGE_SESSION)))
        .group_by(reason),
        select(
            literal("sessions", String),
            no_text,
            no_text,
            literal(0, Integer),
            pence_sum(c.discount),
            literal(0, Integer),
        ).where(c.reason.like(PACKAGE_SESSION)),
    )
    rows: dict[str, list[Any]] = {}
    for what, key, name, n, a, b in uow.session.execute(statement).all():
        rows.setdefault(what, []).append((key, name, int(n), int(a), int(b)))

    def splits(what: str) -> tuple[Split, ...]:
        found = sorted(rows.get(what, []), key=lambda r: (-(r[3] + r[4]), str(r[0])))
        return tuple(Split(str(k), str(n), clinic.money(t), clinic.money(r)) for k, n, _, t, r in found)

    discounts = tuple(
        DiscountReason(str(r), n, clinic.money(amount))
        for r, _, n, amount, _ in sorted(rows.get("discount", []), key=lambda r: (-r[3], str(r[0])))
        if r is not None
    )
    (_, _, _, sessions_used, _), *_ = rows["sessions"]  # the statement's last part: one row, always
    return splits("kind"), splits("who"), discounts, clinic.money(sessions_used)


def _tier_costs(
    uow: UnitOfWork,
    clinic: ReportClinic,
    first: dt.date,
    last: dt.date,
    discounts: tuple[DiscountReason, ...],
) -> tuple[TierCost, ...]:
    """Each tier with a discount given or a payment collected in the range: the discount (from the reasons
    "Gold member 20%") against the membership payments collected (Direct Debit, desk and till)."""
    paid = dict(
        uow.session.execute(
            select(MembershipRow.tier_name, pence_sum(MembershipPaymentRow.amount_pence))
            .join(MembershipRow, MembershipRow.id == MembershipPaymentRow.membership_id)
            .where(
                MembershipPaymentRow.status.in_([PaymentStatus.CONFIRMED.value, PaymentStatus.PAID.value]),
                MembershipPaymentRow.charge_date >= first,
                MembershipPaymentRow.charge_date <= last,
            )
            .group_by(MembershipRow.tier_name)
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
