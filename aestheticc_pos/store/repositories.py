"""Rows ↔ domain values for clients, memberships, appointments and staff (client packages: ``package_repo``).

Every function takes the unit of work's session; loaders return frozen domain values (never rows still
attached to a session) and raise ``NotFound`` with a sentence for an unknown id. Writers add rows to the
session; the caller's unit of work commits. Catalogue items live in ``catalogue_repo``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from aestheticc_pos.domain.appointments import Appointment, AppointmentStatus
from aestheticc_pos.domain.catalogue import BenefitsStart, Tier
from aestheticc_pos.domain.clients import Client
from aestheticc_pos.domain.errors import NotFound
from aestheticc_pos.domain.memberships import Membership, MembershipStatus
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.staff import LoginState, Role
from aestheticc_pos.store.tables import (
    AppointmentRow,
    ClientRow,
    MembershipRow,
    StaffRow,
)

# Statements of the till's hot paths, built once, on the tables (no ORM objects: the rows become domain values).
_clients = ClientRow.__table__
_memberships = MembershipRow.__table__
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
