"""The team, kept by a manager (the Staff screen): who works here, a name or role changed, a leaver marked as
having left, a forgotten PIN reset, a lockout lifted (``staff.unlock_staff``). Every change is audited.

A leaver is kept, never deleted: their sales, bookings and audit entries still name them. They cannot sign in
and are gone from the sign-in screen and the booking lists. A practitioner with appointments still booked is
refused until those are moved or cancelled, so no client turns up for someone who has left.

A reset PIN stops working at once; the person chooses a new one at their next sign-in (``choose_new_pin``).
The clinic always keeps a manager: the last one can be neither marked as left nor given another role.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aestheticc_pos.domain.appointments import AppointmentStatus
from aestheticc_pos.domain.errors import InvalidInput, NotPermitted, RuleViolation
from aestheticc_pos.domain.staff import Action, LoginState, Role, current_state, is_locked
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.services.staff import StaffMember, new_pin_hash, require_staff
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.tables import AppointmentRow, StaffRow
from aestheticc_pos.store.unit_of_work import UnitOfWork, run_in_transaction

LAST_MANAGER = "The clinic needs a manager: make someone else a manager first."


@dataclass(frozen=True, slots=True)
class TeamMember:
    """One row of the Staff screen."""

    id: str
    name: str
    role: Role
    active: bool
    locked_until: dt.datetime | None  # set while a lockout lasts
    wrong_pins: int
    pin_reset: bool  # a new PIN is chosen at the next sign-in
    left_at: dt.datetime | None


@use_case(Action.MANAGE_STAFF)
def team(services: Services, staff_id: str, *, include_left: bool = False) -> list[TeamMember]:
    """Everyone who works here by name (and those who left, after them, when ``include_left``)."""
    now = services.now()
    with services.uow(read_only=True) as uow:
        query = select(StaffRow).order_by(StaffRow.active.desc(), func.lower(StaffRow.name), StaffRow.id)
        if not include_left:
            query = query.where(StaffRow.active)
        return [_member(row, now) for row in uow.session.scalars(query)]


@use_case(Action.MANAGE_STAFF, staff="by_staff_id")
def edit_staff(
    services: Services, *, staff_id: str, name: str, role: Role | str, by_staff_id: str
) -> StaffMember:
    """Change a team member's name or role (the last manager keeps theirs)."""
    name = _name(name)
    new_role = inputs.choice(Role, role, what="a role")

    def edit(uow: UnitOfWork) -> StaffMember:
        s = uow.session
        require_staff(s, by_staff_id, Action.MANAGE_STAFF)
        row = repo.lock_staff_row(s, staff_id)
        old_role = Role(row.role)
        if old_role is Role.MANAGER and new_role is not Role.MANAGER:
            _require_another_manager(s, row.id)
        details: dict[str, str | int] = {}
        if new_role is not old_role:
            details |= {"from_role": old_role.value, "to_role": new_role.value}
        if name != row.name:
            details["renamed"] = 1  # the log carries ids, not names
        if details:
            row.name, row.role = name, new_role.value
            _audit(s, services.now(), by_staff_id, "staff.edited", row.id, details)
        return StaffMember(row.id, row.name, Role(row.role), pin_reset=row.pin_reset)

    return run_in_transaction(services.uow, edit)


@use_case(Action.MANAGE_STAFF, staff="by_staff_id")
def mark_as_left(services: Services, *, staff_id: str, by_staff_id: str) -> StaffMember:
    """A leaver: kept in the history, no longer able to sign in or be booked."""

    def leave(uow: UnitOfWork) -> StaffMember:
        s = uow.session
        require_staff(s, by_staff_id, Action.MANAGE_STAFF)
        row = repo.lock_staff_row(s, staff_id)
        if row.id == by_staff_id:
            raise RuleViolation("You cannot mark yourself as having left: ask another manager.")
        if Role(row.role) is Role.MANAGER:
            _require_another_manager(s, row.id)
        now = services.now()
        booked = s.scalars(
            select(AppointmentRow.starts_at)
            .where(
                AppointmentRow.practitioner_id == row.id,
                AppointmentRow.status == AppointmentStatus.BOOKED.value,
                AppointmentRow.starts_at >= now,
            )
            .order_by(AppointmentRow.starts_at)
        ).all()
        if booked:
            first = booked[0].astimezone(read_clinic_settings(s).tz)
            count = f"{len(booked)} booked appointment{'s' if len(booked) > 1 else ''}"
            raise RuleViolation(
                f"{row.name} still has {count}, the first on {first.day} {first:%b %Y}. "
                "Move them to someone else or cancel them first."
            )
        row.active, row.left_at = False, now
        _audit(s, now, by_staff_id, "staff.left", row.id, {"role": row.role})
        return StaffMember(row.id, row.name, Role(row.role))

    return run_in_transaction(services.uow, leave)


@use_case(Action.MANAGE_STAFF, staff="by_staff_id")
def reset_pin(services: Services, *, staff_id: str, by_staff_id: str) -> StaffMember:
    """Forget a team member's PIN (and any lockout): they choose a new one at their next sign-in."""

    def reset(uow: UnitOfWork) -> StaffMember:
        s = uow.session
        require_staff(s, by_staff_id, Action.MANAGE_STAFF)
        row = repo.lock_staff_row(s, staff_id)
        row.pin_reset = True
        repo.save_login_state(row, LoginState())
        _audit(s, services.now(), by_staff_id, "staff.pin_reset", row.id, {})
        return StaffMember(row.id, row.name, Role(row.role), pin_reset=True)

    return run_in_transaction(services.uow, reset)


@use_case(Audience.TILL)
def choose_new_pin(services: Services, staff_id: str, pin: str) -> StaffMember:
    """After a reset, the person sets their new PIN at the sign-in screen and is signed in. Refused for anyone
    whose PIN was not reset (they change it by signing in first)."""
    pin_hash = None

    def choose(uow: UnitOfWork) -> StaffMember:
        nonlocal pin_hash
        s = uow.session
        row = repo.lock_staff_row(s, staff_id)
        if not row.pin_reset:
            raise NotPermitted("Your PIN has not been reset: sign in with it, or ask a manager to reset it.")
        if pin_hash is None:
            pin_hash = new_pin_hash(pin, Role(row.role))
        row.pin_hash, row.pin_salt = pin_hash
        row.pin_reset = False
        repo.save_login_state(row, LoginState())
        _audit(s, services.now(), row.id, "staff.pin_chosen", row.id, {})
        return StaffMember(row.id, row.name, Role(row.role))

    return run_in_transaction(services.uow, choose)


def _member(row: StaffRow, now: dt.datetime) -> TeamMember:
    state = current_state(repo.login_state(row), now)
    return TeamMember(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        active=row.active,
        locked_until=state.locked_until if is_locked(state, now) else None,
        wrong_pins=state.failures,
        pin_reset=row.pin_reset,
        left_at=row.left_at,
    )


def _name(value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("Type the staff member's name.", field="name")
    return " ".join(inputs.text(value, what="The name", max_length=120).split())


def _require_another_manager(s: Session, staff_id: str) -> None:
    others = s.scalar(
        select(func.count())
        .select_from(StaffRow)
        .where(StaffRow.role == Role.MANAGER.value, StaffRow.active, StaffRow.id != staff_id)
    )
    if not others:
        raise RuleViolation(LAST_MANAGER)


def _audit(
    s: Session, at: dt.datetime, by: str, action: str, staff_id: str, details: dict[str, str | int]
) -> None:
    append_audit(
        s, at=at, staff_id=by, action=action, record_type="staff", record_id=staff_id, details=details
    )
