"""Packages: what the clinic still owes in unused sessions (deferred revenue), how it moved month by month, and
the sessions about to expire (how much of each package clients use: ``report_redemption``).

A session is worth its package's price divided by the sessions sold (``price ÷ sessions``, the value a refund
gives back). Unredeemed sessions are those neither redeemed nor refunded (a booked one still counts: it is not
used yet): ``sessions + adjusted − redeemed − refunded`` per step. A package is a liability until its expiry
date has passed; what is left then is breakage ("expired"). Values are summed in fractions of a penny and
rounded once per figure.

The monthly roll-forward (``domain/reports.roll_forward``): sold (``purchased_on``), redeemed (redeem entries of
the session ledger less voids, on the day of the session), refunded (refund entries, when written), adjusted
(a manager's adjust entries, when written), expired (the unredeemed sessions of packages whose last day fell in
the month and has passed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Integer, String, and_, case, cast, func, literal, null, select, union_all

from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.packages import LedgerKind
from aestheticc_pos.domain.reports import (
    LiabilityFlows,
    Period,
    RollForwardMonth,
    check_range,
    month_start,
    next_month,
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
    date_bounds,
    date_periods,
    moment_bounds,
    pence_sum,
    period_of,
    rounded_sum,
)
from aestheticc_pos.store.tables import (
    ClientPackageRow,
    ClientPackageStepRow,
    ClientRow,
    PackageRow,
    SessionLedgerRow,
)
from aestheticc_pos.store.unit_of_work import UnitOfWork

EXPIRING_DAYS = 30
_st = ClientPackageStepRow
SESSION_FIGURES = {
    "sold": func.sum(_st.sessions),
    "total": func.sum(_st.sessions + _st.adjusted),
    "open": func.sum(_st.sessions + _st.adjusted - _st.redeemed - _st.refunded),
    "unbooked": func.sum(_st.sessions + _st.adjusted - _st.redeemed - _st.reserved - _st.refunded),
    "booked": func.sum(_st.reserved),
    "redeemed": func.sum(_st.redeemed),
    "refunded": func.sum(_st.refunded),
    "unit": cast(ClientPackageRow.price_pence, Float) / func.sum(_st.sessions),
}
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


def client_package_sessions(*figures: str, live_on: dt.date | None = None):  # type: ignore[no-untyped-def]
    """Per client package (all of them, or those live on ``live_on``): its package, price, VAT rate, purchase
    and expiry days, and the ``figures`` asked for (``SESSION_FIGURES``): sessions sold, with adjustments
    (``total``), unredeemed (``open``), not booked, booked, redeemed, refunded; ``unit`` is what one session
    is worth (price ÷ sessions sold). Only what is asked for is summed: a package group has many packages.

    On SQLite the packages are read in id order from ``ix_client_packages_report`` and their steps from
    ``ix_client_package_steps_report``, which has the same order: a package's steps are beside the previous
    package's, where reading them in any other order jumps about the index (several times slower). The
    condition on the expiry is always there: without one, SQLite reads the packages through the narrower
    unique index on ``id`` and the table beside it. A caller may narrow it (``.where``): a few days of expiries
    are read from ``ix_client_packages_report_expiry`` instead."""
    cp = ClientPackageRow
    return (
        select(
            cp.id.label("id"),
            cp.package_id.label("package_id"),
            cp.price_pence.label("price_pence"),
            cp.vat_rate_bp.label("vat_rate_bp"),
            cp.purchased_on.label("purchased_on"),
            cp.expires_on.label("expires_on"),
            *(SESSION_FIGURES[name].label(name) for name in figures),
        )
        .join(ClientPackageStepRow, ClientPackageStepRow.client_package_id == cp.id)
        .where(cp.expires_on >= (live_on or BEGINNING))
        .group_by(cp.id)
    )


def liability_on_in(uow: UnitOfWork, day: dt.date) -> tuple[int, int]:
    """The unredeemed sessions and their value (pence) on ``day`` (today: only counters as they are now)."""
    counts = client_package_sessions("open", "unit", live_on=day).subquery("open_sessions")
    sessions, value = uow.session.execute(
        select(pence_sum(counts.c.open), rounded_sum(counts.c.unit * counts.c.open))
    ).one()
    return int(sessions), int(value)


def liability_in(
    uow: UnitOfWork, clinic: ReportClinic, first: dt.date, last: dt.date, within: int
) -> LiabilityReport:
    """Every figure but the expiring sessions in one statement over the client packages read once
    (``client_package_sessions``, materialised): the liability per package and in total, and the flows of
    the roll-forward. Period 0 of the roll-forward is everything before ``first`` (the opening); then one
    period per month."""
    months: list[dt.date] = []
    month = first
    while month <= last:
        months.append(month)
        month = next_month(month)
    spans = [Period(BEGINNING, first - dt.timedelta(days=1))] + [
        Period(m, next_month(m) - dt.timedelta(days=1)) for m in months
    ]
    figures = _liability_figures(uow, clinic, date_bounds(spans), moment_bounds(clinic, spans))
    size = len(spans)
    packages = sorted(figures.get("package", []), key=lambda r: (-r.value, r.name, r.key))
    total = next(iter(figures.get("total", [])), None)

    def flow(what: str) -> list[int]:
        return by_index(((r.i, r.value) for r in figures.get(what, [])), size)

    redeemed, refunded, expired, adjusted = (
        flow(what) for what in ("redeemed", "refunded", "expired", "adjusted")
    )
    sold = _sold(uow, spans)
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
    return LiabilityReport(
        as_of=clinic.today,
        by_package=tuple(
            PackageLiability(
                r.key, r.name, int(r.n), int(r.sessions), clinic.money(r.value), clinic.money(r.vat)
            )
            for r in packages
        ),
        sessions=int(total.sessions) if total else 0,
        value=clinic.money(total.value if total else 0),
        vat=clinic.money(total.vat if total else 0),
        months=tuple(roll_forward(flows[0].change, list(zip(months, flows[1:], strict=True)))),
        expiring_within_days=within,
        expiring=_expiring(uow, clinic, within),
        currency=clinic.currency,
    )


def _liability_figures(
    uow: UnitOfWork, clinic: ReportClinic, days: list[dt.date], moments: list[dt.datetime]
) -> dict[str, list[Any]]:
    """Rows ``(what, key, name, i, n, sessions, value, vat)``: ``what`` is ``package`` (one per package, with
    its ``key`` and ``name``), ``total``, or a flow of the roll-forward (``expired``, ``redeemed``,
    ``refunded``, ``adjusted``) in period ``i`` (``days`` and ``moments`` bound the periods)."""
    cps = client_package_sessions("open", "unit").cte("client_package_sessions").prefix_with("MATERIALIZED")
    c = cps.c
    value = c.unit * c.open
    vat = value * c.vat_rate_bp / (c.vat_rate_bp + 10_000)
    live = and_(c.expires_on >= clinic.today, c.open > 0)
    no_text, no_number = cast(null(), String), cast(null(), Integer)

    def row(what, *, key=no_text, name=no_text, i=no_number, n=0, sessions=0, value=0, vat=0):  # type: ignore[no-untyped-def]
        def number(x):  # type: ignore[no-untyped-def]
            return literal(x, Integer) if isinstance(x, int) else x

        return (
            (literal(what, String) if isinstance(what, str) else what).label("what"),
            key.label("key"),
            name.label("name"),
            i.label("i"),
            number(n).label("n"),
            number(sessions).label("sessions"),
            number(value).label("value"),
            number(vat).label("vat"),
        )

    # The ledger's flows in one pass, beside the packages (both in client package order): a session is used on
    # the day of its visit (a void gives it back on that day too); a refund or an adjustment counts when it
    # was written.
    ledger = SessionLedgerRow
    used = ledger.kind.in_([LedgerKind.REDEEM.value, LedgerKind.VOID.value])
    flow = case(
        (used, literal("redeemed", String)),
        (ledger.kind == LedgerKind.REFUND.value, literal("refunded", String)),
        (ledger.kind == LedgerKind.ADJUST.value, literal("adjusted", String)),
    )
    when = case((used, period_of(ledger.session_on, days)), else_=period_of(ledger.created_at, moments))
    signed = case((ledger.kind == LedgerKind.VOID.value, -ledger.sessions), else_=ledger.sessions)
    ended = period_of(c.expires_on, days)
    statement = union_all(
        select(
            *row(
                "package",
                key=c.package_id,
                name=PackageRow.name,
                n=func.count(),
                sessions=pence_sum(c.open),
                value=rounded_sum(value),
                vat=rounded_sum(vat),
            )
        )
        .join(PackageRow, PackageRow.id == c.package_id)
        .where(live)
        .group_by(c.package_id, PackageRow.name),
        select(
            *row(
                "total",
                n=func.count(),
                sessions=pence_sum(c.open),
                value=rounded_sum(value),
                vat=rounded_sum(vat),
            )
        ).where(live),
        # Rows outside every period (and ledger entries of no flow) make groups of their own, with no period
        # (or no flow): they are left out below, where testing them here would work each CASE out again.
        select(*row("expired", i=ended, value=rounded_sum(value)))
        .where(c.expires_on < clinic.today)
        .group_by(ended),
        select(*row(flow, i=when, value=rounded_sum(c.unit * signed)))
        .select_from(cps)
        .join(ledger, ledger.client_package_id == c.id)
        .group_by(flow, when),
    )
    out: dict[str, list[Any]] = {}
    for r in uow.session.execute(statement).all():
        if r.what is not None and (r.what in ("package", "total") or r.i is not None):
            out.setdefault(r.what, []).append(r)
    return out


def _sold(uow: UnitOfWork, spans: list[Period]) -> list[int]:
    """The price of the packages bought in each period, read from ``ix_client_packages_report_sold`` one
    period's range at a time (no sorting of the packages by period)."""
    cp, days = ClientPackageRow, date_periods(spans)
    rows = uow.session.execute(
        select(days.c.i, pence_sum(cp.price_pence))
        .join(days, and_(cp.purchased_on >= days.c.first, cp.purchased_on < days.c.after))
        .group_by(days.c.i)
    ).all()
    return [int(x) for x in by_index(rows, len(spans))]


def _expiring(uow: UnitOfWork, clinic: ReportClinic, within: int) -> tuple[ClientWithExpiringSessions, ...]:
    cp = ClientPackageRow
    soon = and_(cp.expires_on >= clinic.today, cp.expires_on <= clinic.today + dt.timedelta(days=within))
    counts = client_package_sessions("sold", "unbooked", "booked").where(soon).subquery("open_sessions")
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
