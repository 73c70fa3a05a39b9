"""Staff: the team, PIN login with lockout, and the permission check every sensitive service makes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from aestheticc_pos.domain.errors import InvalidInput, NotPermitted
from aestheticc_pos.domain.staff import (
    Action,
    Role,
    check_pin,
    hash_pin,
    register_failure,
    register_success,
    require,
    require_unlocked,
    verify_pin,
)
from aestheticc_pos.services.context import Services
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.tables import StaffRow


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: str
    name: str
    role: Role


def add_staff(
    services: Services, *, name: str, role: Role | str, pin: str, by_staff_id: str | None
) -> StaffMember:
    """Add a team member. The first staff member of a new clinic (``by_staff_id`` None) must be a manager."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Type the staff member's name.", field="name")
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(
            f"“{role}” is not a role: choose manager, receptionist or practitioner.", field="role"
        ) from None
    pin = check_pin(pin)
    pin_hash, salt = hash_pin(pin)
    with services.uow() as uow:
        s = uow.session
        has_staff = s.scalar(select(StaffRow.id).limit(1)) is not None
        if by_staff_id is None:
            if has_staff:
                raise NotPermitted("Only a manager can add staff.")
            if role is not Role.MANAGER:
                raise InvalidInput("The first member of staff must be a manager.", field="role")
        else:
            require_staff(s, by_staff_id, Action.MANAGE_STAFF)
        member = StaffMember(id=services.new_id(), name=name, role=role)
        s.add(StaffRow(id=member.id, name=name, role=role.value, pin_hash=pin_hash, pin_salt=salt))
        s.flush()
        append_audit(
            s,
            at=services.now(),
            staff_id=by_staff_id or member.id,
            action="staff.added",
            record_type="staff",
            record_id=member.id,
            details={"role": role.value},
        )
        uow.commit()
    return member


def list_staff(services: Services, *, role: Role | None = None) -> list[StaffMember]:
    with services.uow(read_only=True) as uow:
        query = select(StaffRow).where(StaffRow.active).order_by(StaffRow.name)
        if role is not None:
            query = query.where(StaffRow.role == role.value)
        return [StaffMember(r.id, r.name, Role(r.role)) for r in uow.session.scalars(query)]


def log_in(services: Services, staff_id: str, pin: str) -> StaffMember:
    """Check a PIN. Five wrong PINs lock the login for 15 minutes; the refusal says for how long."""
    now = services.now()
    with services.uow() as uow:
        row = repo.load_staff_row(uow.session, staff_id)
        state = repo.login_state(row)
        require_unlocked(state, now)
        if verify_pin(pin or "", row.pin_hash, row.pin_salt):
            state = register_success(state)
            ok = True
        else:
            state = register_failure(state, now)
            ok = False
        row.failed_attempts = state.failures
        row.locked_until = state.locked_until
        member = StaffMember(row.id, row.name, Role(row.role))
        uow.commit()
    if not ok:
        if state.locked_until is not None:
            raise NotPermitted("Too many wrong PINs: this login is locked for 15 minutes.")
        raise NotPermitted("That PIN is not right. Try again.")
    return member


def require_staff(session: Session, staff_id: str, action: Action) -> StaffMember:
    """The staff member, if their role allows ``action``; otherwise ``NotPermitted`` with a sentence."""
    row = repo.load_staff_row(session, staff_id)
    role = Role(row.role)
    require(role, action)
    return StaffMember(row.id, row.name, role)
