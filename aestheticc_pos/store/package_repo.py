"""Rows ↔ domain values for client packages: a package with its steps and its session ledger, read in a
statement or two built once, and the writers of a package sold, of a ledger entry and of a package's terms.

Every function takes the unit of work's session; loaders return frozen domain values and raise ``NotFound``
with a sentence for an unknown id. Writers add rows; the caller's unit of work commits. Changing a step's
session counters is ``UnitOfWork``'s (conditional updates, so two tills never both take the last session).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, exists, or_, select, text, update
from sqlalchemy.orm import Session, selectinload

from aestheticc_pos.domain.catalogue import PackageStep
from aestheticc_pos.domain.errors import NotFound
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.packages import ClientPackage, ClientPackageStatus, LedgerEntry, LedgerKind
from aestheticc_pos.store.catalogue_repo import package_step_from
from aestheticc_pos.store.tables import (
    ClientPackageRow,
    ClientPackageStepRow,
    SessionLedgerRow,
)

# Statements of the package hot paths, built once, on the tables (the rows become domain values).
_packages = ClientPackageRow.__table__
_steps = ClientPackageStepRow.__table__
_ledgers = SessionLedgerRow.__table__
_PACKAGE_COLUMNS = ("id", "client_id", "package_id", "name", "price_pence", "currency")
_PACKAGE_COLUMNS += ("purchased_on", "expires_on", "status")
_LEDGER_COLUMNS = ("client_package_id", "step_position", "kind", "sessions", "session_on", "appointment_id")
_LEDGER_COLUMNS += ("reason", "created_at")
_WITH_STEPS = (  # a package's row once per step, with that step's terms (only what the domain value needs)
    *(_packages.c[name] for name in _PACKAGE_COLUMNS),
    _steps.c.position.label("step_position"),
    _steps.c.treatment_id.label("step_treatment_id"),
    _steps.c.name.label("step_name"),
    _steps.c.sessions.label("step_sessions"),
    _steps.c.min_days_after_previous.label("step_min_days_after_previous"),
    _steps.c.min_days_between_sessions.label("step_min_days_between_sessions"),
)
_JOIN_STEPS = _packages.join(_steps, _steps.c.client_package_id == _packages.c.id)
_USABLE_PACKAGES = (
    select(*_WITH_STEPS)
    .select_from(_JOIN_STEPS)
    .where(
        _packages.c.client_id == bindparam("client_id"),
        _packages.c.status == ClientPackageStatus.ACTIVE.value,
        _packages.c.expires_on >= bindparam("on"),
    )
    .order_by(_packages.c.purchased_on, _packages.c.id, _steps.c.position)
)
_covering_step = _steps.alias("covering_step")
_COVERING = (
    select(*_WITH_STEPS)
    .select_from(_JOIN_STEPS)
    .where(
        _packages.c.client_id == bindparam("client_id"),
        or_(
            _packages.c.id == bindparam("including"),
            and_(
                _packages.c.status == ClientPackageStatus.ACTIVE.value,
                _packages.c.expires_on >= bindparam("today"),
                exists().where(
                    _covering_step.c.client_package_id == _packages.c.id,
                    _covering_step.c.treatment_id == bindparam("treatment_id"),
                ),
            ),
        ),
    )
    .order_by(_packages.c.purchased_on, _packages.c.id, _steps.c.position)
)
_LEDGERS_OF = (
    select(*(_ledgers.c[name] for name in _LEDGER_COLUMNS))
    .where(_ledgers.c.client_package_id.in_(bindparam("ids", expanding=True)))
    .order_by(_ledgers.c.seq)
)


# --- Client packages ----------------------------------------------------------------------------------------


def load_client_package(session: Session, client_package_id: str) -> ClientPackage:
    row = session.scalars(
        select(ClientPackageRow)
        .where(ClientPackageRow.id == client_package_id)
        .options(selectinload(ClientPackageRow.steps))
    ).one_or_none()
    if row is None:
        raise NotFound("That client package does not exist.")
    return _client_packages(session, [row])[0]


def client_packages_of(session: Session, client_id: str) -> list[ClientPackage]:
    """All of a client's packages (refunded ones included), oldest purchase first."""
    rows = session.scalars(
        select(ClientPackageRow)
        .where(ClientPackageRow.client_id == client_id)
        .options(selectinload(ClientPackageRow.steps))
        .order_by(ClientPackageRow.purchased_on, ClientPackageRow.id)
    ).all()
    return _client_packages(session, list(rows))


def usable_client_packages_of(session: Session, client_id: str, on: dt.date) -> list[ClientPackage]:
    """The client's packages that can still be used on ``on`` (active, not expired), oldest purchase first,
    with their steps and ledgers: what checkout prices with. Three statements at most, built once."""
    session.flush()
    return _with_steps_and_ledgers(
        session, session.execute(_USABLE_PACKAGES, {"client_id": client_id, "on": on}).all()
    )


def _with_steps_and_ledgers(session: Session, rows: list[Row[Any]]) -> list[ClientPackage]:
    """Client packages from their rows joined with their steps (``_WITH_STEPS``), with their ledgers: one
    statement more, none for no rows."""
    if not rows:
        return []
    packages: dict[str, Row[Any]] = {}
    steps: dict[str, list[PackageStep]] = defaultdict(list)
    for row in rows:
        packages.setdefault(row.id, row)
        steps[row.id].append(
            PackageStep(
                position=row.step_position,
                treatment_id=row.step_treatment_id,
                name=row.step_name,
                sessions=row.step_sessions,
                min_days_after_previous=row.step_min_days_after_previous,
                min_days_between_sessions=row.step_min_days_between_sessions,
            )
        )
    ledger: dict[str, list[LedgerEntry]] = defaultdict(list)
    for entry in session.execute(_LEDGERS_OF, {"ids": list(packages)}):
        ledger[entry.client_package_id].append(_ledger_entry(entry))
    return [_client_package(row, steps[id_], ledger[id_]) for id_, row in packages.items()]


def client_packages_covering(
    session: Session, client_id: str, treatment_id: str, today: dt.date, *, including: str | None
) -> list[ClientPackage]:
    """The client's packages that could pay for ``treatment_id`` on ``today`` (active, not expired, with a step
    of that treatment), and the package ``including`` whatever its state: only their ledgers are read."""
    session.flush()
    parameters = {
        "client_id": client_id,
        "treatment_id": treatment_id,
        "today": today,
        "including": including,
    }
    return _with_steps_and_ledgers(session, session.execute(_COVERING, parameters).all())


def add_client_package(
    session: Session,
    cp: ClientPackage,
    *,
    sale_id: str | None,
    description: str,
    vat_rate_bp: int,
    validity_days: int,
) -> None:
    """Write a newly sold client package: its snapshot of the terms and one counter row per step."""
    session.add(
        ClientPackageRow(
            id=cp.id,
            client_id=cp.client_id,
            package_id=cp.package_id,
            name=cp.name,
            description=description,
            price_pence=cp.price.pence,
            currency=cp.price.currency,
            vat_rate_bp=vat_rate_bp,
            validity_days=validity_days,
            purchased_on=cp.purchased_on,
            expires_on=cp.expires_on,
            status=cp.status.value,
            sale_id=sale_id,
            sessions_sold=cp.total_sessions,
        )
    )
    session.flush()
    for step in cp.steps:
        session.add(
            ClientPackageStepRow(
                client_package_id=cp.id,
                package_id=cp.package_id,
                position=step.position,
                treatment_id=step.treatment_id,
                name=step.name,
                sessions=step.sessions,
                min_days_after_previous=step.min_days_after_previous,
                min_days_between_sessions=step.min_days_between_sessions,
            )
        )
    session.flush()


def add_ledger_entry(
    session: Session,
    cp: ClientPackage,
    entry: LedgerEntry,
    *,
    staff_id: str | None,
    sale_id: str | None = None,
    at: dt.datetime,
) -> None:
    """Add ``entry`` to the package's ledger, written ``at`` (the services' clock, as every other record), with
    the package's price and sessions sold (what its sessions are worth, for the reports)."""
    session.add(
        SessionLedgerRow(
            client_package_id=cp.id,
            step_position=entry.step_position,
            kind=entry.kind.value,
            sessions=entry.sessions,
            session_on=entry.session_on,
            appointment_id=entry.appointment_id,
            sale_id=sale_id,
            reason=entry.reason,
            staff_id=staff_id,
            created_at=at,
            package_price_pence=cp.price.pence,
            package_sessions=cp.total_sessions,
        )
    )


def set_step_gaps(session: Session, client_package_id: str, gaps: dict[int, int | None]) -> None:
    """Write the days from the step before (``domain.packages.step_gaps``) of the steps in ``gaps``."""
    for position, days in gaps.items():
        session.execute(
            update(ClientPackageStepRow)
            .where(
                ClientPackageStepRow.client_package_id == client_package_id,
                ClientPackageStepRow.position == position,
            )
            .values(days_after_previous=days)
        )


def save_client_package_terms(session: Session, cp: ClientPackage) -> None:
    """Write the parts of a client package that change outside the ledger: status and expiry."""
    row = session.get(ClientPackageRow, cp.id)
    if row is None:
        raise NotFound("That client package does not exist.")
    row.status = cp.status.value
    row.expires_on = cp.expires_on


def _client_packages(session: Session, rows: list[ClientPackageRow]) -> list[ClientPackage]:
    if not rows:
        return []
    ledger: dict[str, list[LedgerEntry]] = defaultdict(list)
    entries = session.scalars(
        select(SessionLedgerRow)
        .where(SessionLedgerRow.client_package_id.in_([r.id for r in rows]))
        .order_by(SessionLedgerRow.seq)
    )
    for e in entries:
        ledger[e.client_package_id].append(_ledger_entry(e))
    return [_client_package(row, [package_step_from(s) for s in row.steps], ledger[row.id]) for row in rows]


def _ledger_entry(e: SessionLedgerRow | Row[Any]) -> LedgerEntry:
    return LedgerEntry(
        kind=LedgerKind(e.kind),
        step_position=e.step_position,
        sessions=e.sessions,
        session_on=e.session_on,
        appointment_id=e.appointment_id,
        reason=e.reason,
        recorded_on=e.created_at.date(),
    )


def _client_package(
    row: ClientPackageRow | Row[Any], steps: list[PackageStep], ledger: list[LedgerEntry]
) -> ClientPackage:
    return ClientPackage(
        id=row.id,
        client_id=row.client_id,
        package_id=row.package_id,
        name=row.name,
        price=Money(row.price_pence, row.currency),
        purchased_on=row.purchased_on,
        expires_on=row.expires_on,
        steps=tuple(steps),
        ledger=tuple(ledger),
        status=ClientPackageStatus(row.status),
    )


# --- What the reports read without joining (migration 0015) -------------------------------------------------

_PACKAGE_SUMS = text(
    "UPDATE client_packages SET (sessions_sold, sessions_adjusted, sessions_redeemed, sessions_reserved, "
    "sessions_refunded) = (SELECT coalesce(sum(s.sessions), 0), coalesce(sum(s.adjusted), 0), "
    "coalesce(sum(s.redeemed), 0), coalesce(sum(s.reserved), 0), coalesce(sum(s.refunded), 0) "
    "FROM client_package_steps s WHERE s.client_package_id = client_packages.id)"
)
_STEP_PACKAGES = text(
    "UPDATE client_package_steps SET package_id = (SELECT cp.package_id FROM client_packages cp "
    "WHERE cp.id = client_package_steps.client_package_id)"
)
_LEDGER_PRICES = text(
    "UPDATE session_ledger SET (package_price_pence, package_sessions) = (SELECT cp.price_pence, "
    "cp.sessions_sold FROM client_packages cp WHERE cp.id = session_ledger.client_package_id)"
)
_DAYS_BETWEEN = {  # days from ``{1}`` to ``{0}`` (dates), by dialect
    "sqlite": "CAST(julianday({0}) - julianday({1}) AS INTEGER)",
    "postgresql": "({0} - {1})",
}
# Each step's first and last redeemed day, in one grouped pass over the ledger; then each step beside the one
# before it. (Asked step by step, a correlated lookup, SQLite without statistics read every redemption for
# each step: minutes on a million-client group.)
_STEP_GAPS = (
    "WITH redeemed AS (SELECT client_package_id, step_position, min(session_on) AS first_on, "
    "max(session_on) AS last_on FROM session_ledger WHERE kind = 'redeem' AND session_on IS NOT NULL "
    "GROUP BY client_package_id, step_position) "
    "UPDATE client_package_steps SET days_after_previous = gaps.days FROM (SELECT this.client_package_id, "
    "this.step_position, {days} AS days FROM redeemed this JOIN redeemed before_ ON "
    "before_.client_package_id = this.client_package_id AND before_.step_position = this.step_position - 1) gaps "
    "WHERE client_package_steps.client_package_id = gaps.client_package_id "
    "AND client_package_steps.position = gaps.step_position"
)


def rebuild_package_totals(connection: Connection) -> None:
    """Work out again, from the steps and the ledger, what the write paths keep for the reports: each client
    package's session counters summed over its steps, each step's package and days from the step before
    (``domain.packages.step_gaps``), each ledger entry's package price and sessions sold. For rows written
    by SQL (migration 0015, ``bench/generate.py``)."""
    connection.execute(_PACKAGE_SUMS)
    connection.execute(_STEP_PACKAGES)
    connection.execute(_LEDGER_PRICES)
    connection.execute(text("UPDATE client_package_steps SET days_after_previous = NULL"))
    days = _DAYS_BETWEEN[connection.dialect.name].format("this.first_on", "before_.last_on")
    connection.execute(text(_STEP_GAPS.format(days=days)))
