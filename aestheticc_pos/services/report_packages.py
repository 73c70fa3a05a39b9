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
the month and has passed). Its opening is worked back from today's liability (``liability_in``).
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
    date_periods,
    moment_bounds,
    pence_sum,
    period_of,
    rounded_sum,
)
from aestheticc_pos.store.tables import (
    ClientPackageRow,
    ClientRow,
    PackageRow,
    SessionLedgerRow,
)
from aestheticc_pos.store.unit_of_work import UnitOfWork

EXPIRING_DAYS = 30
EXPIRING_SHOWN = 500  # packages: the clients of the soonest expiries, on screen
_cp = ClientPackageRow
# A client package's sessions, from the counters it keeps summed over its steps (``UnitOfWork._change``).
SOLD = _cp.sessions_sold
TOTAL = _cp.sessions_sold + _cp.sessions_adjusted  # with adjustments
OPEN = TOTAL - _cp.sessions_redeemed - _cp.sessions_refunded  # unredeemed (a booked one is not used yet)
UNBOOKED = OPEN - _cp.sessions_reserved
UNIT = cast(_cp.price_pence, Float) / func.nullif(_cp.sessions_sold, 0)  # what one session is worth


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
    currency: str

    def money(self, pence: int) -> Money:
        return Money(pence, self.currency)


@dataclass(frozen=True, slots=True)
class ExpiringSessions:
    """The clients with sessions not booked yet on packages expiring from ``as_of`` to ``within_days`` on."""

    as_of: dt.date
    within_days: int
    clients: tuple[ClientWithExpiringSessions, ...]
    currency: str
    more: bool = False  # only the clients of the soonest expiries are listed: there are others

    def money(self, pence: int) -> Money:
        return Money(pence, self.currency)


@use_case(Action.VIEW_REPORTS)
def liability_report(
    services: Services, *, first_month: dt.date, last_month: dt.date, staff_id: str
) -> LiabilityReport:
    """The liability today, per package, and its roll-forward from ``first_month`` to ``last_month``."""
    first = month_start(inputs.calendar_day(first_month, what="The first month"))
    last = month_start(inputs.calendar_day(last_month, what="The last month"))
    check_range(first, last)
    with services.uow(read_only=True) as uow:
        clinic = clinic_in(uow, services.now())
        return liability_in(uow, clinic, first, last)


@use_case(Action.VIEW_REPORTS)
def expiring_sessions(
    services: Services, *, within_days: int = EXPIRING_DAYS, limit: int | None = EXPIRING_SHOWN, staff_id: str
) -> ExpiringSessions:
    """The clients whose unbooked sessions expire within ``within_days`` days, soonest first: the reminders'
    list. With a ``limit``, only the clients of the ``limit`` packages that expire first (each with all of
    their expiring packages), and ``more`` says whether others were left out: a group of a million clients
    has thousands, more than a screen lists (the exports ask for every one, ``limit=None``). Asked apart from
    the liability, so the two are read side by side and choosing other days reads only this."""
    within = inputs.whole_number(within_days, what="The number of days", minimum=1, maximum=365)
    if limit is not None:
        limit = inputs.whole_number(limit, what="The number of packages", minimum=1, maximum=100_000)
    with services.uow(read_only=True) as uow:
        clinic = clinic_in(uow, services.now())
        clients, more = _expiring(uow, clinic, within, limit)
        return ExpiringSessions(clinic.today, within, clients, clinic.currency, more)


def liability_on_in(uow: UnitOfWork, day: dt.date) -> tuple[int, int]:
    """The unredeemed sessions and their value (pence) of the packages live on ``day`` (their counters as they
    are now), read from ``ix_client_packages_liability``."""
    sessions, value = uow.session.execute(
        select(pence_sum(OPEN), rounded_sum(UNIT * OPEN)).where(_cp.expires_on >= day)
    ).one()
    return int(sessions), int(value)


def liability_in(uow: UnitOfWork, clinic: ReportClinic, first: dt.date, last: dt.date) -> LiabilityReport:
    """Every figure in one statement: the liability per package and in total, and the
    flows of each month from ``first`` to ``last``, and from then to today.

    The roll-forward is worked back from today's liability: the opening of ``first`` is today's value less
    everything that moved it since (sold, redeemed, refunded, expired, adjusted), so only the flows from
    ``first`` on are read, not the group's whole history, and the roll-forward always ends where the
    liability is. Every flow is in the ledger or the packages: the counters today are where those flows led."""
    months: list[dt.date] = []
    month = first
    while month <= last:
        months.append(month)
        month = next_month(month)
    spans = [Period(m, next_month(m) - dt.timedelta(days=1)) for m in months]
    if next_month(last) <= clinic.today:  # after the last month, up to today: read only to work back
        spans.append(Period(next_month(last), clinic.today))
    figures = _liability_figures(uow, clinic, spans)
    size = len(spans)
    packages = sorted(figures.get("package", []), key=lambda r: (-r.value, r.name, r.key))
    total = next(iter(figures.get("total", [])), None)

    def flow(what: str) -> list[int]:
        return by_index(((r.i, r.value) for r in figures.get(what, [])), size)

    sold, redeemed, refunded, expired, adjusted = (
        flow(what) for what in ("sold", "redeemed", "refunded", "expired", "adjusted")
    )
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
    value = int(total.value) if total else 0
    opening = value - sum(f.change for f in flows)
    return LiabilityReport(
        as_of=clinic.today,
        by_package=tuple(
            PackageLiability(
                r.key, r.name, int(r.n), int(r.sessions), clinic.money(r.value), clinic.money(r.vat)
            )
            for r in packages
        ),
        sessions=int(total.sessions) if total else 0,
        value=clinic.money(value),
        vat=clinic.money(total.vat if total else 0),
        months=tuple(roll_forward(opening, list(zip(months, flows[: len(months)], strict=True)))),
        currency=clinic.currency,
    )


def _liability_figures(uow: UnitOfWork, clinic: ReportClinic, spans: list[Period]) -> dict[str, list[Any]]:
    """Rows ``(what, key, name, i, n, sessions, value, vat)``: ``what`` is ``package`` (one per package, with
    its ``key`` and ``name``), ``total``, or a flow of the roll-forward (``sold``, ``expired``, ``redeemed``,
    ``refunded``, ``adjusted``) in period ``i`` of ``spans``.

    Each part reads one index in its own order: the live packages by package or by expiry, what was sold by
    day of purchase and what expired by expiry day, one period's range at a time (``date_periods``); the
    ledger's sessions used (on the day of the visit; a void gives one back on that day) by kind and day, and
    its refunds and adjustments (few) by when they were written. A ledger entry carries its package's price
    and sessions sold, so no part joins the ledger to its packages."""
    value = UNIT * OPEN
    vat = value * _cp.vat_rate_bp / (_cp.vat_rate_bp + 10_000)
    live = and_(_cp.expires_on >= clinic.today, OPEN > 0)
    days = date_periods(spans)
    # A package has expired once its last day has passed: the periods up to yesterday (the same indexes).
    # Bounding each period's range this way, not by a condition beside it, keeps SQLite reading one period's
    # range of the index at a time (with ``expires_on < today`` it read from each period's start to today).
    yesterday = clinic.today - dt.timedelta(days=1)
    passed = [Period(p.first, min(p.last, yesterday)) for p in spans if p.first <= yesterday]
    ledger = SessionLedgerRow
    worth = (
        cast(ledger.package_price_pence, Float) * ledger.sessions / func.nullif(ledger.package_sessions, 0)
    )
    used = ledger.kind.in_([LedgerKind.REDEEM.value, LedgerKind.VOID.value])
    other = case(
        (ledger.kind == LedgerKind.REFUND.value, literal("refunded", String)),
        else_=literal("adjusted", String),
    )
    written = period_of(ledger.created_at, moment_bounds(clinic, spans))
    # The total sums the packages' unrounded sums (the same fractions of a penny), rounded once.
    per_package = (
        select(
            _cp.package_id,
            func.count().label("n"),
            pence_sum(OPEN).label("sessions"),
            func.sum(cast(value, Float)).label("value"),
            func.sum(cast(vat, Float)).label("vat"),
        )
        .where(live)
        .group_by(_cp.package_id)
        .cte("per_package")
        .prefix_with("MATERIALIZED")  # read by the packages' part and by the total's
    )
    p = per_package.c
    parts = [
        select(
            *_row(
                "package",
                key=p.package_id,
                name=PackageRow.name,
                n=p.n,
                sessions=p.sessions,
                value=_rounded(p.value),
                vat=_rounded(p.vat),
            )
        ).join(PackageRow, PackageRow.id == p.package_id),
        select(
            *_row(
                "total",
                n=pence_sum(p.n),
                sessions=pence_sum(p.sessions),
                value=rounded_sum(p.value),
                vat=rounded_sum(p.vat),
            )
        ),
        select(*_row("sold", i=days.c.i, value=pence_sum(_cp.price_pence)))
        .join(days, and_(_cp.purchased_on >= days.c.first, _cp.purchased_on < days.c.after))
        .group_by(days.c.i),
        select(
            *_row(
                "redeemed",
                i=days.c.i,
                value=rounded_sum(case((ledger.kind == LedgerKind.VOID.value, -worth), else_=worth)),
            )
        )
        .join(days, and_(ledger.session_on >= days.c.first, ledger.session_on < days.c.after))
        .where(used)
        .group_by(days.c.i),
        # An entry written outside every period has no period: left out below.
        select(*_row(other, i=written, value=rounded_sum(worth)))
        .where(ledger.kind.in_([LedgerKind.REFUND.value, LedgerKind.ADJUST.value]))
        .group_by(other, written),
    ]
    if passed:
        ended = date_periods(passed)
        parts.append(
            select(*_row("expired", i=ended.c.i, value=rounded_sum(value)))
            .join(ended, and_(_cp.expires_on >= ended.c.first, _cp.expires_on < ended.c.after))
            .group_by(ended.c.i)
        )
    out: dict[str, list[Any]] = {}
    for r in uow.session.connection().execute(union_all(*parts)).all():
        if r.what in ("package", "total") or r.i is not None:
            out.setdefault(r.what, []).append(r)
    return out


def _rounded(pence: Any) -> Any:
    """Fractions of a penny (a sum already made) rounded to the penny, as ``rounded_sum`` rounds."""
    return cast(func.round(func.coalesce(pence, 0)), Integer)


def _row(what, *, key=None, name=None, i=None, n=0, sessions=0, value=0, vat=0):  # type: ignore[no-untyped-def]
    """The columns of one part of ``_liability_figures``'s statement (every part has the same)."""

    def number(x):  # type: ignore[no-untyped-def]
        return literal(x, Integer) if isinstance(x, int) else x

    def absent(x, kind):  # type: ignore[no-untyped-def]
        return cast(null(), kind) if x is None else x

    return (
        (literal(what, String) if isinstance(what, str) else what).label("what"),
        absent(key, String).label("key"),
        absent(name, String).label("name"),
        absent(i, Integer).label("i"),
        number(n).label("n"),
        number(sessions).label("sessions"),
        number(value).label("value"),
        number(vat).label("vat"),
    )


def _expiring(
    uow: UnitOfWork, clinic: ReportClinic, within: int, limit: int | None
) -> tuple[tuple[ClientWithExpiringSessions, ...], bool]:
    """Clients with sessions not booked on packages expiring from today to ``within`` days on, in the order
    of their first expiry, and whether the ``limit`` left some out. The packages are read in expiry order from
    ``ix_client_packages_liability``; with a limit, the reading stops after ``limit + 1`` of them, and the
    clients those name are read again whole (a client's later packages beyond the limit included). ``more``:
    another client has sessions expiring in those days."""
    soon = and_(_cp.expires_on >= clinic.today, _cp.expires_on <= clinic.today + dt.timedelta(days=within))
    query = (
        select(
            ClientRow.id,
            ClientRow.first_name,
            ClientRow.last_name,
            ClientRow.email,
            _cp.id,
            _cp.name,
            UNBOOKED,
            _cp.sessions_reserved,
            _cp.expires_on,
            _cp.price_pence * UNBOOKED,
            SOLD,
        )
        .join(ClientRow, ClientRow.id == _cp.client_id)
        .where(soon, UNBOOKED > 0, ClientRow.anonymised_at.is_(None))
        .order_by(_cp.expires_on, ClientRow.last_name, ClientRow.first_name, ClientRow.id, _cp.id)
    )
    connection = uow.session.connection()
    rows = connection.execute(query if limit is None else query.limit(limit + 1)).all()
    more = False
    if limit is not None and len(rows) > limit:
        chosen = list(dict.fromkeys(row[0] for row in rows[:limit]))
        rows = connection.execute(query.where(_cp.client_id.in_(chosen))).all()
        others = query.with_only_columns(_cp.id).where(_cp.client_id.not_in(chosen)).limit(1)
        more = connection.execute(others).first() is not None
    clients: dict[str, ClientWithExpiringSessions] = {}
    for client_id, first, last, email, cp_id, name, unbooked, booked, expires, worth, sold in rows:
        package = ExpiringPackage(
            cp_id, name, int(unbooked), int(booked), expires, clinic.money(_half_up(int(worth), int(sold)))
        )
        known = clients.get(client_id)
        packages = (known.packages if known else ()) + (package,)
        clients[client_id] = ClientWithExpiringSessions(client_id, first, last, email, packages)
    return tuple(clients.values()), more


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)
