"""Packages: what the clinic still owes in unused sessions (deferred revenue), how it moved month by month, the
sessions about to expire, and how much of each package clients use and how quickly they go from step to step.

A session is worth its package's price divided by the sessions sold (``price ÷ sessions``, the value a refund
gives back). Unredeemed sessions are those neither redeemed nor refunded (a booked one still counts: it is not
used yet): ``sessions + adjusted − redeemed − refunded`` per step. A package is a liability until its expiry
date has passed; what is left then is breakage ("expired"). Values are summed in fractions of a penny and
rounded once per figure.

The monthly roll-forward (``domain/reports.roll_forward``): sold (``purchased_on``), redeemed (redeem entries of
the session ledger less voids, on the day of the session), refunded (refund entries, when written), adjusted
(a manager's adjust entries, when written), expired (the unredeemed sessions of packages whose last day fell in the month and has passed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Float, and_, case, cast, func, select
from sqlalchemy.orm import aliased

from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.packages import LedgerKind
from aestheticc_pos.domain.reports import (
    LiabilityFlows,
    Period,
    RollForwardMonth,
    check_range,
    month_start,
    next_month,
    rate_bp,
    roll_forward,
)
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import use_case
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.report_sql import (
    ReportClinic,
    by_index,
    clinic_in,
    date_periods,
    days_between,
    moment_periods,
    pence_sum,
    rounded_sum,
)
from aestheticc_pos.store.tables import (
    ClientPackageRow,
    ClientPackageStepRow,
    ClientRow,
    PackageRow,
    PackageStepRow,
    SessionLedgerRow,
)
from aestheticc_pos.store.unit_of_work import UnitOfWork

EXPIRING_DAYS = 30
BEGINNING = dt.date(1900, 1, 1)


@dataclass(frozen=True, slots=True)
class PackageLiability:
    package_id: str
    name: str
    client_packages: int  # live ones with sessions unredeemed
    sessions: int  # unredeemed
    value: Money
    vat: Money  # the VAT inside that value, already accounted for when the package was sold


@dataclass(frozen=True, slots=True)
class ExpiringPackage:
    client_package_id: str
    name: str
    unbooked: int  # sessions neither used nor booked
    booked: int
    expires_on: dt.date
    value: Money  # of the unbooked sessions


@dataclass(frozen=True, slots=True)
class ClientWithExpiringSessions:
    client_id: str
    first_name: str
    last_name: str
    email: str | None
    packages: tuple[ExpiringPackage, ...]

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True, slots=True)
class LiabilityReport:
    as_of: dt.date
    by_package: tuple[PackageLiability, ...]
    sessions: int
    value: Money
    vat: Money
    months: tuple[RollForwardMonth, ...]  # pence
    expiring_within_days: int
    expiring: tuple[ClientWithExpiringSessions, ...]
    currency: str

    def money(self, pence: int) -> Money:
        return Money(pence, self.currency)


@dataclass(frozen=True, slots=True)
class PackageRedemption:
    package_id: str
    name: str
    sold: int  # client packages
    sessions: int  # sold, with adjustments
    redeemed: int
    booked: int
    refunded: int
    expired: int  # left unused when the package expired

    @property
    def rate_bp(self) -> int | None:
        return rate_bp(self.redeemed, self.sessions)


@dataclass(frozen=True, slots=True)
class StepTiming:
    """Step ``position`` of a package: the days from the last session of the step before to the first of this
    one, on average over the clients who had both, against the package's minimum."""

    package_id: str
    package_name: str
    position: int
    step_name: str
    min_days: int
    clients: int
    average_days: float | None


@dataclass(frozen=True, slots=True)
class RedemptionReport:
    packages: tuple[PackageRedemption, ...]
    steps: tuple[StepTiming, ...]


@use_case(Action.VIEW_REPORTS)
def liability_report(
    services: Services,
    *,
    first_month: dt.date,
    last_month: dt.date,
    expiring_within_days: int = EXPIRING_DAYS,
    staff_id: str,
) -> LiabilityReport:
    """The liability today, per package, its roll-forward from ``first_month`` to ``last_month``, and the
    clients whose sessions expire within ``expiring_within_days`` days."""
    first = month_start(inputs.calendar_day(first_month, what="The first month"))
    last = month_start(inputs.calendar_day(last_month, what="The last month"))
    check_range(first, last)
    within = inputs.whole_number(expiring_within_days, what="The number of days", minimum=1, maximum=365)
    with services.uow(read_only=True) as uow:
        clinic = clinic_in(uow, services.now())
        return liability_in(uow, clinic, first, last, within)


@use_case(Action.VIEW_REPORTS)
def redemption_report(services: Services, *, staff_id: str) -> RedemptionReport:
    """Every package sold: how many of its sessions were used, and the days clients took between steps."""
    with services.uow(read_only=True) as uow:
        clinic = clinic_in(uow, services.now())
        return RedemptionReport(_redemptions(uow, clinic), _step_timings(uow))


def _open_sessions(*where):  # type: ignore[no-untyped-def]
    """Per client package (those matching ``where``, a condition on ``ClientPackageRow``): its price, VAT rate,
    package, expiry, and its sessions sold, unredeemed, not booked and booked. The condition is applied before
    the steps are summed, so only the packages asked about are read."""
    cp, st = ClientPackageRow, ClientPackageStepRow
    return (
        select(
            cp.id.label("id"),
            cp.package_id.label("package_id"),
            cp.price_pence.label("price_pence"),
            cp.vat_rate_bp.label("vat_rate_bp"),
            cp.expires_on.label("expires_on"),
            func.sum(st.sessions).label("sold"),
            func.sum(st.sessions + st.adjusted - st.redeemed - st.refunded).label("open"),
            func.sum(st.sessions + st.adjusted - st.redeemed - st.reserved - st.refunded).label("unbooked"),
            func.sum(st.reserved).label("booked"),
        )
        .join(st, st.client_package_id == cp.id)
        .where(*where)
        .group_by(cp.id, cp.package_id, cp.price_pence, cp.vat_rate_bp, cp.expires_on)
        .subquery("open_sessions")
    )


def _unit(counts) -> object:  # type: ignore[no-untyped-def]
    """A session's value in (fractional) pence."""
    return cast(counts.c.price_pence, Float) / counts.c.sold


def liability_on_in(uow: UnitOfWork, day: dt.date) -> tuple[int, int]:
    """The unredeemed sessions and their value (pence) on ``day`` (today: only counters as they are now)."""
    counts = _open_sessions(ClientPackageRow.expires_on >= day)
    sessions, value = uow.session.execute(
        select(pence_sum(counts.c.open), rounded_sum(_unit(counts) * counts.c.open))
    ).one()
    return int(sessions), int(value)


def liability_in(
    uow: UnitOfWork, clinic: ReportClinic, first: dt.date, last: dt.date, within: int
) -> LiabilityReport:
    s = uow.session
    counts = _open_sessions(ClientPackageRow.expires_on >= clinic.today)
    value = _unit(counts) * counts.c.open
    vat = value * counts.c.vat_rate_bp / (counts.c.vat_rate_bp + 10_000)
    live = counts.c.open > 0
    rows = s.execute(
        select(
            counts.c.package_id,
            PackageRow.name,
            func.count(),
            pence_sum(counts.c.open),
            rounded_sum(value),
            rounded_sum(vat),
        )
        .join(PackageRow, PackageRow.id == counts.c.package_id)
        .where(live)
        .group_by(counts.c.package_id, PackageRow.name)
        .order_by(rounded_sum(value).desc(), PackageRow.name)
    ).all()
    by_package = tuple(
        PackageLiability(pid, name, int(n), int(sessions), clinic.money(v), clinic.money(t))
        for pid, name, n, sessions, v, t in rows
    )
    sessions, total, total_vat = s.execute(
        select(pence_sum(counts.c.open), rounded_sum(value), rounded_sum(vat)).where(live)
    ).one()
    return LiabilityReport(
        as_of=clinic.today,
        by_package=by_package,
        sessions=int(sessions),
        value=clinic.money(total),
        vat=clinic.money(total_vat),
        months=tuple(_roll_forward(uow, clinic, first, last)),
        expiring_within_days=within,
        expiring=_expiring(uow, clinic, within),
        currency=clinic.currency,
    )


def _roll_forward(
    uow: UnitOfWork, clinic: ReportClinic, first: dt.date, last: dt.date
) -> list[RollForwardMonth]:
    """Period 0 is everything before ``first`` (the opening); then one period per month."""
    s = uow.session
    months: list[dt.date] = []
    month = first
    while month <= last:
        months.append(month)
        month = next_month(month)
    spans = [Period(BEGINNING, first - dt.timedelta(days=1))] + [
        Period(m, next_month(m) - dt.timedelta(days=1)) for m in months
    ]
    size = len(spans)
    cp, st = ClientPackageRow, ClientPackageStepRow

    days = date_periods(spans)
    sold = by_index(
        s.execute(
            select(days.c.i, pence_sum(cp.price_pence))
            .join(days, and_(cp.purchased_on >= days.c.first, cp.purchased_on < days.c.after))
            .group_by(days.c.i)
        ).all(),
        size,
    )
    expired_days = date_periods(
        [
            Period(p.first, min(p.last, clinic.today - dt.timedelta(days=1)))
            for p in spans
            if p.first < clinic.today
        ]
    )
    gone = _open_sessions(cp.expires_on < clinic.today)
    expired = by_index(
        s.execute(
            select(expired_days.c.i, rounded_sum(_unit(gone) * gone.c.open))
            .join(
                expired_days,
                and_(gone.c.expires_on >= expired_days.c.first, gone.c.expires_on < expired_days.c.after),
            )
            .group_by(expired_days.c.i)
        ).all(),
        size,
    )
    moments = moment_periods(clinic, spans)
    ledger = SessionLedgerRow
    signed = case((ledger.kind == LedgerKind.VOID.value, -ledger.sessions), else_=ledger.sessions)
    sold_sessions = (
        select(func.sum(st.sessions))
        .where(st.client_package_id == ledger.client_package_id)
        .correlate(ledger)
        .scalar_subquery()
    )
    unit = cast(cp.price_pence, Float) / sold_sessions

    def entries(kinds: tuple[LedgerKind, ...], table, on) -> list[int]:  # type: ignore[no-untyped-def]
        return by_index(
            s.execute(
                select(table.c.i, rounded_sum(unit * signed))
                .select_from(ledger)
                .join(cp, cp.id == ledger.client_package_id)
                .join(table, on)
                .where(ledger.kind.in_([k.value for k in kinds]))
                .group_by(table.c.i)
            ).all(),
            size,
        )

    # A session is used on the day of its visit (a void gives it back on that day too); a refund or an
    # adjustment counts when it was written.
    redeemed = entries(
        (LedgerKind.REDEEM, LedgerKind.VOID),
        days,
        and_(ledger.session_on >= days.c.first, ledger.session_on < days.c.after),
    )
    when = and_(ledger.created_at >= moments.c.starts, ledger.created_at < moments.c.ends)
    refunded = entries((LedgerKind.REFUND,), moments, when)
    adjusted = entries((LedgerKind.ADJUST,), moments, when)
    flows = [
        LiabilityFlows(
            sold=int(sold[i]),
            redeemed=int(redeemed[i]),
            refunded=int(refunded[i]),
            expired=int(expired[i]),
            adjusted=int(adjusted[i]),
        )
        for i in range(size)
    ]
    return roll_forward(flows[0].change, list(zip(months, flows[1:], strict=True)))


def _expiring(uow: UnitOfWork, clinic: ReportClinic, within: int) -> tuple[ClientWithExpiringSessions, ...]:
    cp = ClientPackageRow
    soon = and_(cp.expires_on >= clinic.today, cp.expires_on <= clinic.today + dt.timedelta(days=within))
    counts = _open_sessions(soon)
    rows = uow.session.execute(
        select(
            ClientRow.id,
            ClientRow.first_name,
            ClientRow.last_name,
            ClientRow.email,
            cp.id,
            cp.name,
            counts.c.unbooked,
            counts.c.booked,
            cp.expires_on,
            cp.price_pence * counts.c.unbooked,
            counts.c.sold,
        )
        .join(counts, counts.c.id == cp.id)
        .join(ClientRow, ClientRow.id == cp.client_id)
        .where(
            counts.c.unbooked > 0,
            ClientRow.anonymised_at.is_(None),
        )
        .order_by(cp.expires_on, ClientRow.last_name, ClientRow.first_name, ClientRow.id, cp.id)
    ).all()
    clients: dict[str, ClientWithExpiringSessions] = {}
    for client_id, first, last, email, cp_id, name, unbooked, booked, expires, worth, sold in rows:
        package = ExpiringPackage(
            cp_id, name, int(unbooked), int(booked), expires, clinic.money(_half_up(int(worth), int(sold)))
        )
        known = clients.get(client_id)
        packages = (known.packages if known else ()) + (package,)
        clients[client_id] = ClientWithExpiringSessions(client_id, first, last, email, packages)
    return tuple(clients.values())


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def _redemptions(uow: UnitOfWork, clinic: ReportClinic) -> tuple[PackageRedemption, ...]:
    cp, st = ClientPackageRow, ClientPackageStepRow
    expired = case(
        (cp.expires_on < clinic.today, st.sessions + st.adjusted - st.redeemed - st.refunded), else_=0
    )
    rows = uow.session.execute(
        select(
            cp.package_id,
            PackageRow.name,
            func.count(func.distinct(cp.id)),
            pence_sum(st.sessions + st.adjusted),
            pence_sum(st.redeemed),
            pence_sum(st.reserved),
            pence_sum(st.refunded),
            pence_sum(expired),
        )
        .join(st, st.client_package_id == cp.id)
        .join(PackageRow, PackageRow.id == cp.package_id)
        .group_by(cp.package_id, PackageRow.name)
        .order_by(PackageRow.name, cp.package_id)
    ).all()
    return tuple(PackageRedemption(pid, name, *(int(x) for x in figures)) for pid, name, *figures in rows)


def _step_timings(uow: UnitOfWork) -> tuple[StepTiming, ...]:
    ledger = SessionLedgerRow
    sessions = (
        select(
            ledger.client_package_id.label("cp_id"),
            ledger.step_position.label("position"),
            func.min(ledger.session_on).label("first_on"),
            func.max(ledger.session_on).label("last_on"),
        )
        .where(ledger.kind == LedgerKind.REDEEM.value, ledger.session_on.is_not(None))
        .group_by(ledger.client_package_id, ledger.step_position)
        .subquery("redeemed_steps")
    )
    earlier = aliased(sessions, name="earlier")
    cp, step = ClientPackageRow, PackageStepRow
    rows = uow.session.execute(
        select(
            cp.package_id,
            PackageRow.name,
            step.position,
            step.name,
            step.min_days_after_previous,
            func.count(),
            func.avg(days_between(sessions.c.first_on, earlier.c.last_on)),
        )
        .select_from(sessions)
        .join(
            earlier, and_(earlier.c.cp_id == sessions.c.cp_id, earlier.c.position == sessions.c.position - 1)
        )
        .join(cp, cp.id == sessions.c.cp_id)
        .join(PackageRow, PackageRow.id == cp.package_id)
        .join(step, and_(step.package_id == cp.package_id, step.position == sessions.c.position))
        .group_by(cp.package_id, PackageRow.name, step.position, step.name, step.min_days_after_previous)
        .order_by(PackageRow.name, step.position)
    ).all()
    return tuple(
        StepTiming(pid, name, int(pos), step_name, int(minimum), int(n), None if avg is None else float(avg))
        for pid, name, pos, step_name, minimum, n, avg in rows
    )
