"""Memberships: members by tier month by month, monthly recurring revenue (MRR) and how it moved (new, upgrades,
downgrades, churn), members in arrears, the Direct Debit collection success rate, and the payments coming in.

A membership is a member on a day from its start to its last day (``ends_on``, when it has one), unless it is
still waiting for its Direct Debit (``pending_mandate``). Its monthly price on a day is what was billed for the
latest period begun by then (the sign-up fee left out; a tier change bills from the next collection), or its
tier's price before anything was billed. A paused membership is a member that brings no recurring revenue.
Each month's figures are taken at its last day (today, for the month under way).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Date,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from aestheticc_pos.domain.billing import PaymentStatus
from aestheticc_pos.domain.memberships import MembershipStatus
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.reports import (
    MrrMonth,
    check_range,
    month_start,
    next_month,
    rate_bp,
)
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import use_case
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.report_collections import (
    NOT_COLLECTED,
    CollectionMonth,
    ComingPayment,
    collections_in,
    coming_in,
)
from aestheticc_pos.services.report_sql import ReportClinic, clinic_in, pence_sum
from aestheticc_pos.store.kept_sums import NEVER
from aestheticc_pos.store.tables import ClientRow, MembershipPaymentRow, MembershipRow, MembershipSpanRow
from aestheticc_pos.store.unit_of_work import UnitOfWork

ARREARS_SHOWN = 500  # members in arrears listed on screen: the most overdue
NOT_BILLED = (PaymentStatus.CANCELLED.value, PaymentStatus.REFUNDED.value)
SETTLED = (PaymentStatus.CONFIRMED.value, PaymentStatus.PAID.value)  # a period collected, however
IN_ARREARS = (MembershipStatus.PAST_DUE.value, MembershipStatus.SUSPENDED.value)
MRR, MOVES = "\x01mrr", "\x01moves"  # the statement's two rows that are not a tier (no tier is named so)


@dataclass(frozen=True, slots=True)
class TierMembers:
    month: dt.date
    tier_name: str
    members: int


@dataclass(frozen=True, slots=True)
class MemberInArrears:
    membership_id: str
    client_id: str
    client_name: str
    tier_name: str
    status: MembershipStatus
    owed: Money  # payments failed or charged back and not yet collected
    past_due_since: dt.date | None
    days_overdue: int


@dataclass(frozen=True, slots=True)
class MembersInArrears:
    """The members in arrears, the most overdue first: with a limit, only the first of them (``more``: there
    are others). ``count`` and ``total`` are of every member in arrears."""

    members: tuple[MemberInArrears, ...]
    count: int
    total: Money
    more: bool = False


@dataclass(frozen=True, slots=True)
class MembershipsReport:
    months: tuple[dt.date, ...]  # the first day of each month
    tiers: tuple[str, ...]
    members_by_tier: tuple[TierMembers, ...]
    mrr: tuple[MrrMonth, ...]
    arrears: tuple[MemberInArrears, ...]  # the ``ARREARS_SHOWN`` most overdue
    arrears_total: Money  # owed by every member in arrears
    in_arrears: int  # every member in arrears
    arrears_more: bool  # ``arrears`` lists only the most overdue: there are others
    collections: tuple[CollectionMonth, ...]
    collected: int
    failed: int
    coming: tuple[ComingPayment, ...]
    coming_total: Money
    currency: str

    @property
    def collection_rate_bp(self) -> int | None:
        return rate_bp(self.collected, self.collected + self.failed)

    def money(self, pence: int) -> Money:
        return Money(pence, self.currency)


@use_case(Action.VIEW_REPORTS)
def memberships_report(
    services: Services, *, first_month: dt.date, last_month: dt.date, staff_id: str
) -> MembershipsReport:
    """Memberships from ``first_month`` to ``last_month`` (any day of each)."""
    first = month_start(inputs.calendar_day(first_month, what="The first month"))
    last = month_start(inputs.calendar_day(last_month, what="The last month"))
    check_range(first, last)
    with services.uow(read_only=True) as uow:
        clinic = clinic_in(uow, services.now())
        return memberships_in(uow, clinic, first, last)


@use_case(Action.VIEW_REPORTS)
def members_in_arrears(
    services: Services, *, limit: int | None = ARREARS_SHOWN, staff_id: str
) -> MembersInArrears:
    """The members in arrears, the longest past due first (then by surname): with a ``limit``, only that many
    (a group has thousands, more than a screen lists; the exports ask for every one, ``limit=None``)."""
    if limit is not None:
        limit = inputs.whole_number(limit, what="The number of members", minimum=1, maximum=100_000)
    with services.uow(read_only=True) as uow:
        return _arrears(uow, clinic_in(uow, services.now()), limit)


def memberships_in(uow: UnitOfWork, clinic: ReportClinic, first: dt.date, last: dt.date) -> MembershipsReport:
    months: list[dt.date] = []
    month = first
    while month <= last:
        months.append(month)
        month = next_month(month)
    # Snapshot days: the day before the first month (the opening), then each month's last day (or today).
    days = [first - dt.timedelta(days=1)] + [
        min(next_month(m) - dt.timedelta(days=1), clinic.today) for m in months
    ]
    figures, by_tier = _member_figures(uow, days)
    n = len(days)
    mrr, moved_by = figures[:n], figures[n:]
    mrr_months = tuple(
        MrrMonth(month, mrr[i], *moved_by[4 * i : 4 * i + 4], closing=mrr[i + 1])
        for i, month in enumerate(months)
    )
    members_by_tier = tuple(
        TierMembers(months[i], tier, count)
        for tier, counts in by_tier
        for i, count in enumerate(counts[1:])
        if count
    )
    tiers = tuple(sorted({m.tier_name for m in members_by_tier}))
    collections, collected, failed = collections_in(uow, clinic, months)
    arrears = _arrears(uow, clinic, ARREARS_SHOWN)
    coming, coming_total = coming_in(uow, clinic)
    return MembershipsReport(
        months=tuple(months),
        tiers=tiers,
        members_by_tier=members_by_tier,
        mrr=mrr_months,
        arrears=arrears.members,
        arrears_total=arrears.total,
        in_arrears=arrears.count,
        arrears_more=arrears.more,
        collections=collections,
        collected=collected,
        failed=failed,
        coming=coming,
        coming_total=coming_total,
        currency=clinic.currency,
    )


def _member_figures(uow: UnitOfWork, days: list[dt.date]) -> tuple[list[int], list[tuple[str, list[int]]]]:
    """In one statement over the memberships read once (``_prices``, materialised): the MRR on each of ``days``
    and its movements between consecutive days (new, upgrades, downgrades, churn: ``4 × (len(days) - 1)``
    figures), and the members of each tier on each day. The movements sum only the memberships whose price
    moved at all: most of a group's members pay the same all year."""
    points = sorted(set(days))
    statement = _figures_statement(tuple(points.index(day) for day in days), len(points))
    rows = uow.session.execute(statement, {f"day{j}": day for j, day in enumerate(points)}).all()
    n = len(days)
    totals = next(r for r in rows if r[0] == MRR)
    moved = next(r for r in rows if r[0] == MOVES)
    figures = [int(x) for x in totals[1 : 1 + n]] + [int(x) for x in moved[1 + n :]]
    by_tier = sorted((str(r[0]), [int(x) for x in r[1 : 1 + n]]) for r in rows if r[0] not in (MRR, MOVES))
    return figures, by_tier


@lru_cache(maxsize=32)
def _figures_statement(at: tuple[int, ...], count: int) -> CompoundSelect:
    """``_member_figures``' statement for days that are, in order, the snapshot days ``at`` of ``count``
    distinct days (bound as ``day0`` < ``day1`` < …): built once per shape, as it takes longer to build than
    the database takes to run it."""
    prices = _prices([bindparam(f"day{j}", type_=Date()) for j in range(count)], at)
    n = len(at)
    price = [prices.c[f"p{i}"] for i in range(n)]
    moves: list[ColumnElement[int]] = []
    for i in range(1, n):
        before, after = price[i - 1], price[i]
        moved = func.abs(after - before)
        moves += [
            pence_sum(case((and_(before == 0, after > 0), after), else_=0)),
            pence_sum(case((and_(before > 0, after > before), moved), else_=0)),
            pence_sum(case((and_(after > 0, after < before), moved), else_=0)),
            pence_sum(case((and_(before > 0, after == 0), before), else_=0)),
        ]
    zero = literal(0, Integer)
    return union_all(
        select(literal(MRR, String), *(pence_sum(p) for p in price), *(zero for _ in moves)),
        select(literal(MOVES, String), *(zero for _ in price), *moves).where(
            or_(*(price[i] != price[i - 1] for i in range(1, n)))
        ),
        select(
            prices.c.tier_name, *(pence_sum(prices.c[f"m{i}"]) for i in range(n)), *(zero for _ in moves)
        ).group_by(prices.c.tier_name),
    )


def mrr_on_in(uow: UnitOfWork, day: dt.date) -> tuple[int, int]:
    """The members and the MRR (pence) on ``day``: the memberships at their own price summed from their
    summary (``store/membership_spans.py``), then each repriced one (``memberships.repriced``) at what was
    billed for it by then."""
    members, mrr = uow.session.execute(_mrr_statement(), {"day0": day}).one()
    return int(members), int(mrr)


@lru_cache(maxsize=1)
def _mrr_statement() -> Select[Any]:
    """``mrr_on_in``'s statement, the day bound as ``day0``: built once."""
    k = MembershipSpanRow
    day = bindparam("day0", type_=Date())
    own = select(
        pence_sum(k.members).label("m"),
        pence_sum(case((k.status == MembershipStatus.PAUSED.value, 0), else_=k.price_pence)).label("p"),
    ).where(_member_on(k, day), _own_price_since(k, day))
    billed = _repriced_prices([day], (0,)).subquery("billed")
    both = union_all(own, select(pence_sum(billed.c.m0), pence_sum(billed.c.p0))).subquery("both")
    return select(pence_sum(both.c.m), pence_sum(both.c.p))


def arrears_in(uow: UnitOfWork) -> tuple[int, int]:
    """How many members are in arrears, and what they owe (pence): from the memberships in arrears, each one's
    owed payments summed off their own index (joining the other way round tested every owed payment of the
    group, most of them paid since, against its membership)."""
    m = MembershipRow
    count, owed = uow.session.execute(
        select(func.count(), pence_sum(_owes(m))).where(m.status.in_(IN_ARREARS))
    ).one()
    return int(count or 0), int(owed or 0)


def _owes(m: Any) -> Any:
    """What the membership ``m`` owes (pence), as a correlated SQL value: its payments owed (``_owed``) summed
    off their own index."""
    p = MembershipPaymentRow
    return (
        select(pence_sum(p.amount_pence))
        .where(p.membership_id == m.id, _owed(p))
        .correlate(m)
        .scalar_subquery()
    )


def _owed(p: Any) -> ColumnElement[bool]:
    """A payment ``p`` still owed: failed or charged back, and its period not collected since (by GoCardless's
    retry, which moves the same payment on, or at the desk, a payment of its own). The statuses are written
    out in the SQL, so the database can read the owed payments' own small index (``ix_membership_payments_owed``,
    a partial index whose condition a bound parameter would not prove)."""
    again = aliased(MembershipPaymentRow)
    collected_since = (
        select(again.id)
        .where(
            again.membership_id == p.membership_id,
            again.period_start == p.period_start,
            again.status.in_(SETTLED),
        )
        .correlate(p)
        .exists()
    )
    return and_(p.status.in_([literal_column(f"'{s}'") for s in NOT_COLLECTED]), ~collected_since)


def _prices(points: list[Any], at: tuple[int, ...]):  # type: ignore[no-untyped-def]
    """Rows of ``tier_name`` and, for each day ``i`` (``points[at[i]]``, ``points`` ascending), ``m{i}``
    (members then) and ``p{i}`` (their monthly price then; 0 when not a member or paused), materialised: every
    figure is a sum over these rows, and a movement summed over them is the sum of each membership's own.

    A membership never billed at another price than its own pays that price on every day it is a member,
    and it is a member on a run of consecutive snapshot days (in date order): those memberships come summed
    by tier, paused or not, and where their run begins and ends (a few hundred rows, whose members all join
    and leave together, so a movement of the sum is the sum of theirs). The repriced ones (a tier changed:
    flagged by their writes, ``store/membership_repricing.py``) come one row each, priced day by day from
    their payments, and are the only ones that move up or down. A flagged one billed only at its own price
    after all comes to the same figures by either way."""
    rows = union_all(_own_price_groups(points, at), _repriced_prices(points, at))
    return rows.cte("member_prices").prefix_with("MATERIALIZED")


def _member_on(m: Any, day: Any) -> ColumnElement[bool]:
    """A member on ``day``: started by then, not waiting for its mandate, and not ended before it (ended
    without an end date: never)."""
    return _in_range(m, day, day)


def _in_range(m: Any, first: Any, last: Any) -> ColumnElement[bool]:
    """A member on one day at least from ``first`` to ``last`` (``m``: the memberships, or their spans, whose
    "no end" is ``NEVER``)."""
    no_end = m.ends_on.is_(None) if m is MembershipRow else m.ends_on == NEVER
    return and_(
        m.started_on <= last,
        m.status != MembershipStatus.PENDING_MANDATE.value,
        or_(and_(~no_end, m.ends_on >= first), and_(no_end, m.status != MembershipStatus.ENDED.value)),
    )


def _own_price_groups(points: list[Any], at: tuple[int, ...]) -> Select[Any]:
    """The memberships billed only at their own price, as rows of ``_prices`` summed by tier, paused or not,
    and the span of snapshot days they are members on: from ``s``, the first day on or after their start, to
    the last one before ``e``, the first day after their end (of ``points``, ascending). Each row of the
    memberships' summary by their days (``store/membership_spans.py``) is placed on its span, then summed by
    span: a few hundred rows."""
    k = MembershipSpanRow  # the memberships summed by their days (``store/membership_spans.py``)
    last = literal(len(points), Integer)
    ends_on = case((k.ends_on == NEVER, None), else_=k.ends_on)  # no end
    same_dates = (
        select(
            k.started_on,
            ends_on.label("ends_on"),
            k.status,
            k.tier_name,
            k.members.label("n"),
            k.price_pence.label("price"),
        )
        .where(_in_range(k, points[0], points[-1]), _own_price_since(k, points[0]))
        .subquery("same_dates")
    )
    d = same_dates.c
    first_in = case(*((d.started_on <= day, literal(j, Integer)) for j, day in enumerate(points)), else_=last)
    first_out = case(
        (d.ends_on.is_(None), last),
        *((d.ends_on < day, literal(j, Integer)) for j, day in enumerate(points)),
        else_=last,
    )
    spans = select(
        d.tier_name,
        case((d.status == MembershipStatus.PAUSED.value, 1), else_=0).label("paused"),
        first_in.label("s"),
        first_out.label("e"),
        d.n,
        d.price,
    ).subquery("spans")
    groups = (
        select(
            spans.c.tier_name,
            spans.c.paused,
            spans.c.s,
            spans.c.e,
            func.sum(spans.c.n).label("n"),
            func.sum(spans.c.price).label("price"),
        )
        .group_by(spans.c.tier_name, spans.c.paused, spans.c.s, spans.c.e)
        .subquery("groups")
    )
    g = groups.c

    def member(j: int) -> ColumnElement[bool]:
        return and_(g.s <= j, g.e > j)

    zero = literal(0, Integer)
    return select(
        g.tier_name,
        *(case((member(j), g.n), else_=zero).label(f"m{i}") for i, j in enumerate(at)),
        *(
            case((and_(member(j), g.paused == 0), g.price), else_=zero).label(f"p{i}")
            for i, j in enumerate(at)
        ),
    )


def _repriced_prices(points: list[Any], at: tuple[int, ...]) -> Select[Any]:
    """The repriced memberships not at their own price since ``points[0]``, as rows of ``_prices``: one each,
    priced on each day at the latest period billed by then (not cancelled or refunded; the sign-up fee left
    out), or their own price before any, or from ``own_price_from``."""
    m, pay = MembershipRow, MembershipPaymentRow
    days = [points[j] for j in at]
    columns: list[Any] = [m.tier_name]
    for i, day in enumerate(days):
        columns.append(case((_member_on(m, day), 1), else_=0).label(f"m{i}"))
    for i, day in enumerate(days):
        billed_then = (
            select(pay.amount_pence - case((pay.period_start == m.started_on, m.signup_fee_pence), else_=0))
            .where(pay.membership_id == m.id, pay.period_start <= day, pay.status.not_in(NOT_BILLED))
            .order_by(pay.period_start.desc())
            .limit(1)
            .correlate(m)
            .scalar_subquery()
        )
        paying = and_(_member_on(m, day), m.status != MembershipStatus.PAUSED.value)
        price = case(
            (m.own_price_from <= day, m.monthly_price_pence),
            else_=func.coalesce(billed_then, m.monthly_price_pence),
        )
        columns.append(case((paying, price), else_=0).label(f"p{i}"))
    in_range = _in_range(m, points[0], points[-1])
    not_own_since = and_(m.repriced == true(), or_(m.own_price_from.is_(None), m.own_price_from > points[0]))
    return select(*columns).where(not_own_since, in_range)  # the others of ``_own_price_since``


def _own_price_since(m: Any, day: Any) -> ColumnElement[bool]:
    """Billed at its own price on every day from ``day``: never billed at another (not ``repriced``), or at its
    own again by then (``own_price_from``, ``store/membership_repricing.py``; a span's "not" is ``NEVER``, after
    every day). The others are priced from their payments."""
    return or_(m.repriced == false(), m.own_price_from <= day)


def _arrears(uow: UnitOfWork, clinic: ReportClinic, limit: int | None) -> MembersInArrears:
    """The members in arrears in order (longest past due, surname, membership), at most ``limit``, and the count
    and total of every one, in one statement: each member's owed payments (failed or charged back and not
    collected since) summed once, the count and total taken over them all (window sums, before the limit),
    then the first ``limit`` in order."""
    m = MembershipRow
    owes = _owes(m).label("owed")
    every = (
        select(m.id, m.client_id, m.tier_name, m.status, m.past_due_since, owes)
        .where(m.status.in_(IN_ARREARS))
        .cte("arrears")
        .prefix_with("MATERIALIZED")
    )
    a = every.c
    listed = (
        select(
            a.id,
            ClientRow.id,
            ClientRow.first_name,
            ClientRow.last_name,
            a.tier_name,
            a.status,
            a.owed,
            a.past_due_since,
            func.count().over(),
            func.sum(a.owed).over(),
        )
        .join(ClientRow, ClientRow.id == a.client_id)
        .order_by(a.past_due_since, ClientRow.last_name, a.id)
    )
    rows = uow.session.connection().execute(listed if limit is None else listed.limit(limit)).all()
    count, total = (int(rows[0][8]), int(rows[0][9] or 0)) if rows else (0, 0)
    # A group has thousands of members in arrears and few distinct amounts: each Money is made once.
    amounts: dict[Any, Money] = {}
    members = tuple(
        MemberInArrears(
            membership_id=mid,
            client_id=cid,
            client_name=f"{first} {last}".strip(),
            tier_name=tier,
            status=MembershipStatus(status),
            owed=amounts.get(amount) or amounts.setdefault(amount, clinic.money(amount)),
            past_due_since=since,
            days_overdue=(clinic.today - since).days if since else 0,
        )
        for mid, cid, first, last, tier, status, amount, since, *_totals in rows
    )
    return MembersInArrears(members, count, clinic.money(total), more=count > len(members))
