"""Rows ↔ domain values for clients, client packages, memberships, appointments and staff.

Every function takes the unit of work's session; loaders return frozen domain values (never rows still
attached to a session) and raise ``NotFound`` with a sentence for an unknown id. Writers add rows to the
session; the caller's unit of work commits. Catalogue items live in ``catalogue_repo``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import Row, and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session, selectinload

from aestheticc_pos.domain.appointments import Appointment, AppointmentStatus
from aestheticc_pos.domain.catalogue import BenefitsStart, PackageStep, Tier
from aestheticc_pos.domain.clients import Client
from aestheticc_pos.domain.errors import NotFound
from aestheticc_pos.domain.memberships import Membership, MembershipStatus
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.packages import ClientPackage, ClientPackageStatus, LedgerEntry, LedgerKind
from aestheticc_pos.domain.staff import LoginState, Role
from aestheticc_pos.store.catalogue_repo import package_step_from
from aestheticc_pos.store.tables import (
    AppointmentRow,
    ClientPackageRow,
    ClientPackageStepRow,
    ClientRow,
    MembershipRow,
    SessionLedgerRow,
    StaffRow,
)

# Statements of the till's hot paths, built once, on the tables (no ORM objects: the rows become domain values).
_clients = ClientRow.__table__
_memberships = MembershipRow.__table__
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
_CLIENT_COLUMNS = ("id", "first_name", "last_name", "email", "phone", "date_of_birth", "notes")
_CLIENT_COLUMNS += ("marketing_consent", "anonymised_at")
_LOCK_CLIENT = (
    select(*(_clients.c[name] for name in _CLIENT_COLUMNS))
    .where(_clients.c.id == bindparam("id"))
    .with_for_update()
)
_CURRENT_MEMBERSHIP = (
    select(*(c for c in _memberships.c if c.name not in ("created_at", "updated_at")))
    .where(
        _memberships.c.client_id == bindparam("client_id"),
        _memberships.c.status != MembershipStatus.ENDED.value,
    )
    .order_by(_memberships.c.started_on.desc(), _memberships.c.created_at.desc())
    .limit(1)
)

# --- Clients ------------------------------------------------------------------------------------------------


def load_client(session: Session, client_id: str) -> Client:
    row = session.get(ClientRow, client_id)
    if row is None or row.anonymised_at is not None:
        raise NotFound("That client is not on file (they may have been erased).")
    return client_from_row(row)


def lock_client(session: Session, client_id: str) -> Client:
    """The client, read and held until the transaction ends (the client's place in the lock order, DESIGN.md
    §4: PostgreSQL ``FOR UPDATE``; SQLite writers hold the write lock). Read once: what the caller needs of
    the client later in the same unit of work, it takes from the value returned."""
    session.flush()  # the hot paths' Core reads never autoflush: what this unit of work wrote is read back
    row = session.execute(_LOCK_CLIENT, {"id": client_id}).first()
    if row is None or row.anonymised_at is not None:
        raise NotFound("That client is not on file (they may have been erased).")
    return client_from_row(row)


def client_from_row(row: ClientRow | Row[Any]) -> Client:
    return Client(
        id=row.id,
        first_name=row.first_name,
        last_name=row.last_name,
        email=row.email,
        phone=row.phone,
        date_of_birth=row.date_of_birth,
        notes=row.notes or "",
        marketing_consent=bool(row.marketing_consent),
    )


def save_client(session: Session, client: Client) -> None:
    row = session.get(ClientRow, client.id) or ClientRow(id=client.id)
    row.first_name = client.first_name
    row.last_name = client.last_name
    row.email = client.email
    row.phone = client.phone
    row.date_of_birth = client.date_of_birth
    row.notes = client.notes
    row.marketing_consent = client.marketing_consent
    session.add(row)


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
        )
    )
    session.flush()
    for step in cp.steps:
        session.add(
            ClientPackageStepRow(
                client_package_id=cp.id,
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
    client_package_id: str,
    entry: LedgerEntry,
    *,
    staff_id: str | None,
    sale_id: str | None = None,
) -> None:
    session.add(
        SessionLedgerRow(
            client_package_id=client_package_id,
            step_position=entry.step_position,
            kind=entry.kind.value,
            sessions=entry.sessions,
            session_on=entry.session_on,
            appointment_id=entry.appointment_id,
            sale_id=sale_id,
            reason=entry.reason,
            staff_id=staff_id,
        )
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


# --- Memberships --------------------------------------------------------------------------------------------


def load_membership(session: Session, membership_id: str) -> Membership:
    row = session.get(MembershipRow, membership_id)
    if row is None:
        raise NotFound("That membership does not exist.")
    return membership_from_row(row)


def current_membership_of(session: Session, client_id: str) -> Membership | None:
    """The client's membership that has not ended (the newest, should there be several)."""
    row = current_membership_row_of(session, client_id)
    return None if row is None else membership_from_row(row)


def current_membership_row_of(session: Session, client_id: str) -> Row[Any] | None:
    """``current_membership_of``'s row, for a view that shows what the domain value does not carry (the
    Direct Debit authorisation link); ``membership_from_row`` makes the membership of it."""
    session.flush()
    return session.execute(_CURRENT_MEMBERSHIP, {"client_id": client_id}).first()


def membership_from_row(row: MembershipRow | Row[Any]) -> Membership:
    tier = Tier(
        id=row.tier_id,
        name=row.tier_name,
        monthly_price=Money(row.monthly_price_pence, row.currency),
        signup_fee_pence=row.signup_fee_pence,
        discount_bp=row.discount_bp,
        covers_treatments=row.covers_treatments,
        covers_products=row.covers_products,
        covers_packages=row.covers_packages,
        benefits_start=BenefitsStart(row.benefits_start),
        grace_days=row.grace_days,
    )
    return Membership(
        id=row.id,
        client_id=row.client_id,
        tier=tier,
        status=MembershipStatus(row.status),
        started_on=row.started_on,
        paid_through=row.paid_through,
        past_due_since=row.past_due_since,
        ends_on=row.ends_on,
        first_payment_collected=row.first_payment_collected,
        customer_id=row.gc_customer_id,
        billing_request_id=row.gc_billing_request_id,
        mandate_id=row.gc_mandate_id,
        mandate_status=row.gc_mandate_status,
        subscription_id=row.gc_subscription_id,
        subscription_amendments=row.subscription_amendments,
        pending_retry_payment_id=row.pending_retry_payment_id,
    )


def save_membership(session: Session, m: Membership) -> None:
    row = session.get(MembershipRow, m.id) or MembershipRow(id=m.id, client_id=m.client_id)
    row.tier_id = m.tier.id
    row.tier_name = m.tier.name
    row.monthly_price_pence = m.tier.monthly_price.pence
    row.signup_fee_pence = m.tier.signup_fee_pence
    row.currency = m.tier.monthly_price.currency
    row.discount_bp = m.tier.discount_bp
    row.covers_treatments = m.tier.covers_treatments
    row.covers_products = m.tier.covers_products
    row.covers_packages = m.tier.covers_packages
    row.benefits_start = m.tier.benefits_start.value
    row.grace_days = m.tier.grace_days
    row.status = m.status.value
    row.started_on = m.started_on
    row.paid_through = m.paid_through
    row.past_due_since = m.past_due_since
    row.ends_on = m.ends_on
    row.first_payment_collected = m.first_payment_collected
    row.gc_customer_id = m.customer_id
    row.gc_billing_request_id = m.billing_request_id
    row.gc_mandate_id = m.mandate_id
    row.gc_mandate_status = m.mandate_status
    row.gc_subscription_id = m.subscription_id
    row.subscription_amendments = m.subscription_amendments
    row.pending_retry_payment_id = m.pending_retry_payment_id
    session.add(row)


# --- Appointments -------------------------------------------------------------------------------------------


def load_appointment(session: Session, appointment_id: str, *, for_update: bool = False) -> Appointment:
    query = select(AppointmentRow).where(AppointmentRow.id == appointment_id)
    if for_update:
        query = query.with_for_update()
    row = session.scalars(query).one_or_none()
    if row is None:
        raise NotFound("That appointment does not exist.")
    return appointment_from_row(row)


def appointment_from_row(row: AppointmentRow) -> Appointment:
    return Appointment(
        id=row.id,
        client_id=row.client_id,
        treatment_id=row.treatment_id,
        practitioner_id=row.practitioner_id,
        starts_at=row.starts_at,
        duration_minutes=row.duration_minutes,
        status=AppointmentStatus(row.status),
        client_package_id=row.client_package_id,
        step_position=row.step_position,
        notes=row.notes or "",
    )


def save_appointment(session: Session, a: Appointment, *, cancelled_at: dt.datetime | None = None) -> None:
    row = session.get(AppointmentRow, a.id) or AppointmentRow(id=a.id)
    row.client_id = a.client_id
    row.treatment_id = a.treatment_id
    row.practitioner_id = a.practitioner_id
    row.starts_at = a.starts_at
    row.duration_minutes = a.duration_minutes
    row.status = a.status.value
    row.client_package_id = a.client_package_id
    row.step_position = a.step_position
    row.notes = a.notes
    if cancelled_at is not None:
        row.cancelled_at = cancelled_at
    session.add(row)


# --- Staff --------------------------------------------------------------------------------------------------


def load_staff_row(session: Session, staff_id: str) -> StaffRow:
    _require_staff_id(staff_id)
    row = session.get(StaffRow, staff_id)
    if row is None or not row.active:
        raise NotFound("That staff member is not on the team.")
    return row


def lock_staff_row(session: Session, staff_id: str) -> StaffRow:
    """The staff row, held until the transaction ends: ``FOR UPDATE`` on PostgreSQL; on SQLite a write unit of
    work already holds the database's write lock (``BEGIN IMMEDIATE``) from its first statement."""
    _require_staff_id(staff_id)
    row = session.scalars(
        select(StaffRow)
        .where(StaffRow.id == staff_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None or not row.active:
        raise NotFound("That staff member is not on the team.")
    return row


def login_state(row: StaffRow) -> LoginState:
    return LoginState(failures=row.failed_attempts, locked_until=row.locked_until)


def save_login_state(row: StaffRow, state: LoginState) -> None:
    row.failed_attempts = state.failures
    row.locked_until = state.locked_until


def staff_role(row: StaffRow) -> Role:
    return Role(row.role)


def _require_staff_id(staff_id: object) -> None:
    # An id no row can have (PostgreSQL refuses a NUL in text outright) is simply not on the team.
    if not isinstance(staff_id, str) or "\x00" in staff_id:
        raise NotFound("That staff member is not on the team.")
