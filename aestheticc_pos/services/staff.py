"""Staff: the team, PIN login with lockout, and the permission check every sensitive service makes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aestheticc_pos import settings as app_settings
from aestheticc_pos.domain.errors import InvalidInput, NotPermitted
from aestheticc_pos.domain.staff import (
    PIN_HASH_COSTS,
    Action,
    LoginState,
    PinHashCost,
    Role,
    check_pin,
    current_state,
    hash_pin,
    is_locked,
    needs_rehash,
    register_failure,
    register_success,
    require,
    require_unlocked,
    verify_pin,
    wrong_pin_refusal,
)
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.tables import StaffRow
from aestheticc_pos.store.unit_of_work import UnitOfWork, run_in_transaction

PIN_WAS_RESET = "A manager reset your PIN: choose a new one to sign in."


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: str
    name: str
    role: Role
    pin_reset: bool = False  # a manager reset their PIN: they choose a new one before signing in


@use_case(Action.MANAGE_STAFF, staff="by_staff_id", first_run=True)
def add_staff(
    services: Services, *, name: str, role: Role | str, pin: str, by_staff_id: str | None
) -> StaffMember:
    """Add a team member. The first staff member of a new clinic (``by_staff_id`` None) must be a manager.

    A manager's PIN is 6 to 8 digits, anyone else's 4 to 8 (``InvalidInput`` says so).
    """
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Type the staff member's name.", field="name")
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(
            f"“{role}” is not a role: choose manager, receptionist or practitioner.", field="role"
        ) from None
    pin_hash, salt = new_pin_hash(pin, role)
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


@use_case(Audience.TILL)
def list_staff(services: Services, *, role: Role | str | None = None) -> list[StaffMember]:
    """Who works here (everyone, or those with ``role``), by name: the login screen's buttons."""
    chosen = None if role is None else inputs.choice(Role, role, what="a role")
    with services.uow(read_only=True) as uow:
        query = select(StaffRow).where(StaffRow.active).order_by(func.lower(StaffRow.name), StaffRow.id)
        if chosen is not None:
            query = query.where(StaffRow.role == chosen.value)
        return [StaffMember(r.id, r.name, Role(r.role), r.pin_reset) for r in uow.session.scalars(query)]


@use_case(Audience.TILL, retry=False)
def log_in(services: Services, staff_id: str, pin: str) -> StaffMember:
    """Check a PIN and return who signed in; otherwise ``NotPermitted`` with a sentence that is true now.

    Five wrong PINs in a row lock the login for 15 minutes. The count is read and written under a lock on the
    staff member's row, taken by the transaction's first statement (PostgreSQL ``FOR UPDATE``; SQLite
    ``BEGIN IMMEDIATE``), so tills guessing at the same moment get five tries between them, not five each.
    The PIN is checked inside that lock too. A correct PIN hashed at another cost than this till's setting
    (``settings.pin_hash_cost``) is hashed again at it. The fifth wrong PIN is written to the audit log.
    Something that is not 4 to 8 digits (an Enter pressed too soon) is refused with ``InvalidInput`` and
    not counted: it cannot be anyone's PIN.
    """
    pin = check_pin(pin)
    cost = pin_hash_cost()
    attempt = run_in_transaction(services.uow, lambda uow: _attempt(services, uow, staff_id, pin, cost))
    if attempt.refusal:
        raise NotPermitted(attempt.refusal)
    return attempt.member


@use_case(Action.MANAGE_STAFF, staff="by_staff_id", retry=False)
def unlock_staff(services: Services, *, staff_id: str, by_staff_id: str) -> StaffMember:
    """A manager clears a staff member's lockout and wrong-PIN count, so they can sign in again at once."""

    def unlock(uow: UnitOfWork) -> StaffMember:
        s = uow.session
        require_staff(s, by_staff_id, Action.MANAGE_STAFF)
        row = repo.lock_staff_row(s, staff_id)
        now = services.now()
        before = current_state(repo.login_state(row), now)
        repo.save_login_state(row, LoginState())
        append_audit(
            s,
            at=now,
            staff_id=by_staff_id,
            action="staff.unlocked",
            record_type="staff",
            record_id=row.id,
            details={"was_locked": int(is_locked(before, now)), "wrong_pins": before.failures},
        )
        return StaffMember(row.id, row.name, Role(row.role))

    return run_in_transaction(services.uow, unlock)


def require_staff(session: Session, staff_id: str, action: Action) -> StaffMember:
    """The staff member, if their role allows ``action``; otherwise ``NotPermitted`` with a sentence."""
    row = repo.load_staff_row(session, staff_id)
    role = Role(row.role)
    require(role, action)
    return StaffMember(row.id, row.name, role)


def new_pin_hash(pin: str, role: Role | str) -> tuple[str, str]:
    """``(pin_hash, pin_salt)`` for a ``StaffRow`` whose new PIN is ``pin``, hashed at this till's cost.

    Every PIN that is set (a new member, a first manager, a changed PIN) goes through here: ``InvalidInput``
    unless it is 4 to 8 digits, 6 to 8 for a manager.
    """
    return hash_pin(check_pin(pin, role), cost=pin_hash_cost())


def pin_hash_cost() -> PinHashCost:
    """The scrypt cost this till hashes PINs at (``settings.pin_hash_cost``: standard, or fast for tests)."""
    return PIN_HASH_COSTS[app_settings.pin_hash_cost()]


@dataclass(frozen=True, slots=True)
class _Attempt:
    member: StaffMember
    refusal: str | None  # None: signed in


def _attempt(services: Services, uow: UnitOfWork, staff_id: str, pin: str, cost: PinHashCost) -> _Attempt:
    """One sign-in attempt, under the row lock (the first statement). Raises ``NotPermitted`` while locked."""
    s = uow.session
    row = repo.lock_staff_row(s, staff_id)
    now = services.now()
    tz = read_clinic_settings(s).tz
    state = current_state(repo.login_state(row), now)
    require_unlocked(state, now, tz)
    member = StaffMember(row.id, row.name, Role(row.role))
    if row.pin_reset:  # not a wrong PIN: there is none until they choose one
        return _Attempt(member, PIN_WAS_RESET)
    if verify_pin(pin, row.pin_hash, row.pin_salt):
        repo.save_login_state(row, register_success(state))
        if needs_rehash(row.pin_hash, cost):
            row.pin_hash, row.pin_salt = hash_pin(pin, cost=cost)
        return _Attempt(member, None)
    state = register_failure(state, now)
    repo.save_login_state(row, state)
    if is_locked(state, now):
        append_audit(
            s,
            at=now,
            staff_id=row.id,
            action="staff.locked_out",
            record_type="staff",
            record_id=row.id,
            details={"wrong_pins": state.failures},
        )
    return _Attempt(member, wrong_pin_refusal(state, now, tz))
