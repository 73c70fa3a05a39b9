"""A visit inside a caller's unit of work: lock it, mark it attended, give back the session booked for it.

Shared by ``appointments`` (the practitioner's "Attend", a cancellation) and ``sales`` (a checkout of the visit
attends it), so that neither has to call the other. Nothing here commits.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from aestheticc_pos.domain import appointments as booking
from aestheticc_pos.domain import packages as rules
from aestheticc_pos.domain.appointments import Appointment
from aestheticc_pos.domain.errors import NotFound, RuleViolation
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.services.packages import (
    load_client_package_for_change,
    lock_client_packages,
    record_ledger_entry,
)
from aestheticc_pos.store import package_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.tables import AppointmentRow
from aestheticc_pos.store.unit_of_work import UnitOfWork


def lock_visit(uow: UnitOfWork, appointment_id: str) -> Appointment:
    """The appointment, held until the unit of work ends, taken in the one lock order (DESIGN.md §4: staff →
    client → client packages → appointment → membership → number series → audit head): its client first, so
    a checkout of the visit (which holds the client) and a cancellation of it queue instead of deadlocking."""
    client_id = uow.session.scalar(
        select(AppointmentRow.client_id).where(AppointmentRow.id == appointment_id)
    )
    if client_id is None:
        raise NotFound("That appointment does not exist.")
    lock_client_packages(uow, client_id)
    return repo.load_appointment(uow.session, appointment_id, for_update=True)


def attend_in(
    uow: UnitOfWork, services: Services, appointment_id: str, *, staff_id: str, sale_id: str | None = None
) -> Appointment:
    """Mark attended and redeem the booked package session; ``sale_id``: the checkout that attends it."""
    s = uow.session
    settings = read_clinic_settings(s)
    appointment = lock_visit(uow, appointment_id)
    attended = booking.attend(appointment)
    today = services.now().astimezone(settings.tz).date()
    session_on = appointment.session_on(settings.tz)
    if session_on > today:
        raise RuleViolation("This appointment is on a later day; it can be attended on the day.")
    if appointment.client_package_id is not None and appointment.step_position is not None:
        cp = load_client_package_for_change(uow, appointment.client_package_id)
        _, entry = rules.redeem(cp, appointment.step_position, appointment.id, session_on, today)
        record_ledger_entry(uow, cp, entry, staff_id=staff_id, sale_id=sale_id, at=services.now())
    repo.save_appointment(s, attended)
    s.flush()
    return attended


def release_booked_session_in(
    uow: UnitOfWork,
    appointment_id: str,
    client_package_id: str,
    *,
    now: dt.datetime,
    today: dt.date,
    staff_id: str,
    sale_id: str,
) -> None:
    """The visit is paid another way than the package session booked for it: the session goes back to the
    package, and the visit no longer points at it."""
    cp = package_repo.load_client_package(uow.session, client_package_id)
    _, entry = rules.release(cp, appointment_id, today)
    record_ledger_entry(uow, cp, entry, staff_id=staff_id, sale_id=sale_id, at=now)
    row = uow.session.get(AppointmentRow, appointment_id)
    assert row is not None  # loaded earlier in the same transaction
    row.client_package_id = None
    row.step_position = None
    uow.session.flush()
