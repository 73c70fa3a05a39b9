"""Staff sign-in through the services (DESIGN.md §7): PIN rules, lockout, unlock, and PIN hashes upgraded.

The team here is made with managers' 6-digit PINs (the shared ``manager`` fixture predates that rule).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import pytest
from sqlalchemy import update
from twotills import run_tills

from aestheticc_pos.clock import FixedClock
from aestheticc_pos.domain.errors import InvalidInput, NotFound, NotPermitted
from aestheticc_pos.domain.staff import Role
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.context import Services
from aestheticc_pos.settings import PIN_HASH_COST_ENV
from aestheticc_pos.store.audit_repo import audit_entries
from aestheticc_pos.store.tables import StaffRow

START = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)  # the services fixture's clock: 09:00 in London
LOCKED_AT_FIFTH = (
    "That PIN is not right, and that was 5 wrong PINs in a row: this login is now locked until 09:15. "
    "Try again then, or ask a manager to unlock it."
)


@dataclass(frozen=True)
class Team:
    manager: str
    receptionist: str
    practitioner: str


@pytest.fixture
def team(services: Services) -> Team:
    manager = staff_service.add_staff(
        services, name="Mia Manager", role=Role.MANAGER, pin="482193", by_staff_id=None
    ).id
    receptionist = staff_service.add_staff(
        services, name="Rita Reception", role=Role.RECEPTIONIST, pin="1234", by_staff_id=manager
    ).id
    practitioner = staff_service.add_staff(
        services, name="Dr Priya Patel", role=Role.PRACTITIONER, pin="5678", by_staff_id=manager
    ).id
    return Team(manager, receptionist, practitioner)


def _refusal(services: Services, staff_id: str, pin: str) -> str:
    with pytest.raises(NotPermitted) as refused:
        staff_service.log_in(services, staff_id, pin)
    return str(refused.value)


def _row(services: Services, staff_id: str) -> StaffRow:
    with services.uow(read_only=True) as uow:
        row = uow.session.get(StaffRow, staff_id)
        assert row is not None
        uow.session.expunge(row)  # readable after the unit of work ends
        return row


# --- PIN rules -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pin", ["1234", "12345"])
def test_a_new_manager_needs_a_pin_of_at_least_6_digits(services: Services, team: Team, pin: str) -> None:
    with pytest.raises(InvalidInput, match=r"^A manager's PIN is 6 to 8 digits\.$"):
        staff_service.add_staff(services, name="Max", role=Role.MANAGER, pin=pin, by_staff_id=team.manager)
    with pytest.raises(InvalidInput, match=r"^A manager's PIN is 6 to 8 digits\.$"):
        staff_service.add_staff(services, name="First", role=Role.MANAGER, pin=pin, by_staff_id=None)
    assert [m.name for m in staff_service.list_staff(services, role=Role.MANAGER)] == ["Mia Manager"]


def test_the_first_manager_and_other_staff_pins(services: Services, team: Team) -> None:
    assert staff_service.log_in(services, team.manager, "482193").role is Role.MANAGER
    assert staff_service.log_in(services, team.receptionist, "1234").role is Role.RECEPTIONIST
    assert staff_service.log_in(services, team.practitioner, "5678").role is Role.PRACTITIONER
    with pytest.raises(InvalidInput, match=r"^A PIN is 4 to 8 digits\.$"):
        staff_service.add_staff(
            services, name="Nina", role=Role.PRACTITIONER, pin="123", by_staff_id=team.manager
        )


def test_a_managers_4_digit_pin_from_before_the_rule_still_signs_in(services: Services, team: Team) -> None:
    _store_legacy_hash(services, team.manager, "4321")
    assert staff_service.log_in(services, team.manager, "4321").id == team.manager


# --- Lockout ---------------------------------------------------------------------------------------------------


def test_five_wrong_pins_lock_the_login_and_every_refusal_is_true(
    services: Services, clock: FixedClock, team: Team
) -> None:
    said = [_refusal(services, team.receptionist, "9999") for _ in range(5)]
    assert said == [
        "That PIN is not right. Try again.",
        "That PIN is not right. Try again.",
        "That PIN is not right. 2 tries left before this login is locked for 15 minutes.",
        "That PIN is not right. 1 try left before this login is locked for 15 minutes.",
        LOCKED_AT_FIFTH,
    ]
    clock.advance(minutes=3)
    locked = (
        "Too many wrong PINs: this login is locked until 09:15. Try again in 12 minutes, "
        "or ask a manager to unlock it."
    )
    assert _refusal(services, team.receptionist, "1234") == locked  # the right PIN too
    assert _refusal(services, team.receptionist, "9999") == locked
    row = _row(services, team.receptionist)
    assert (row.failed_attempts, row.locked_until) == (5, START + dt.timedelta(minutes=15))
    with services.uow(read_only=True) as uow:
        [entry] = [e for e in audit_entries(uow.session, record_id=team.receptionist) if "locked" in e.action]
    assert (entry.action, entry.staff_id, dict(entry.details)) == (
        "staff.locked_out",
        team.receptionist,
        {"wrong_pins": 5},
    )
    assert staff_service.log_in(services, team.practitioner, "5678")  # nobody else is locked out


def test_a_lock_that_ran_out_is_cleared(services: Services, clock: FixedClock, team: Team) -> None:
    for _ in range(5):
        _refusal(services, team.receptionist, "9999")
    clock.advance(minutes=15)
    assert _refusal(services, team.receptionist, "9999") == "That PIN is not right. Try again."
    assert staff_service.log_in(services, team.receptionist, "1234").id == team.receptionist
    row = _row(services, team.receptionist)
    assert (row.failed_attempts, row.locked_until) == (0, None)
    # Five more wrong PINs lock it again, with the same true sentences.
    said = [_refusal(services, team.receptionist, "9999") for _ in range(5)]
    assert said[0] == "That PIN is not right. Try again."
    assert said[-1] == LOCKED_AT_FIFTH.replace("09:15", "09:30")


def test_something_that_cannot_be_a_pin_is_not_counted(services: Services, team: Team) -> None:
    for typed in ("", "12", "12345678901", "12a4"):
        with pytest.raises(InvalidInput, match=r"^A PIN is 4 to 8 digits\.$"):
            staff_service.log_in(services, team.receptionist, typed)
    assert _row(services, team.receptionist).failed_attempts == 0


def test_a_right_pin_clears_the_count(services: Services, team: Team) -> None:
    for _ in range(4):
        _refusal(services, team.receptionist, "9999")
    staff_service.log_in(services, team.receptionist, "1234")
    assert _refusal(services, team.receptionist, "9999") == "That PIN is not right. Try again."


def test_a_manager_unlocks_a_login(services: Services, team: Team) -> None:
    for _ in range(5):
        _refusal(services, team.receptionist, "9999")
    for someone in (team.receptionist, team.practitioner):
        with pytest.raises(NotPermitted, match=r"^Only a manager can manage staff\.$"):
            staff_service.unlock_staff(services, staff_id=team.receptionist, by_staff_id=someone)
    assert "locked until" in _refusal(services, team.receptionist, "1234")

    unlocked = staff_service.unlock_staff(services, staff_id=team.receptionist, by_staff_id=team.manager)

    assert (unlocked.id, unlocked.name) == (team.receptionist, "Rita Reception")
    assert staff_service.log_in(services, team.receptionist, "1234").id == team.receptionist
    with services.uow(read_only=True) as uow:
        [entry] = [
            e for e in audit_entries(uow.session, record_id=team.receptionist) if e.action == "staff.unlocked"
        ]
    assert (entry.staff_id, dict(entry.details)) == (team.manager, {"was_locked": 1, "wrong_pins": 5})


def test_unlocking_someone_not_on_the_team(services: Services, team: Team) -> None:
    for nobody in ("nobody", "a\x00b"):  # PostgreSQL refuses a NUL in text: still just nobody here
        with pytest.raises(NotFound, match="not on the team"):
            staff_service.unlock_staff(services, staff_id=nobody, by_staff_id=team.manager)
        with pytest.raises(NotFound, match="not on the team"):
            staff_service.log_in(services, nobody, "1234")


# --- PIN hashes and their cost ---------------------------------------------------------------------------------


def test_a_hash_from_before_costs_were_stored_is_upgraded_at_the_next_sign_in(
    services: Services, team: Team
) -> None:
    _store_legacy_hash(services, team.receptionist, "2468")
    _refusal(services, team.receptionist, "1357")
    assert "$" not in _row(services, team.receptionist).pin_hash  # a wrong PIN changes nothing

    staff_service.log_in(services, team.receptionist, "2468")

    row = _row(services, team.receptionist)
    assert row.pin_hash.startswith("scrypt$n=16$r=1$p=1$")  # the fast cost tests/conftest.py chose
    assert staff_service.log_in(services, team.receptionist, "2468").id == team.receptionist
    assert _row(services, team.receptionist).pin_hash == row.pin_hash  # hashed once, not at every sign-in


def test_the_standard_cost_is_what_the_setting_says_by_default(
    services: Services, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _row(services, team.manager).pin_hash.startswith("scrypt$n=16$r=1$p=1$")
    monkeypatch.delenv(PIN_HASH_COST_ENV)  # as on a clinic's till

    staff_service.log_in(services, team.manager, "482193")  # checked at the fast cost, hashed at the standard

    assert _row(services, team.manager).pin_hash.startswith("scrypt$n=32768$r=6$p=1$")
    assert staff_service.log_in(services, team.manager, "482193").id == team.manager
    added = staff_service.add_staff(
        services, name="Nina Nurse", role=Role.PRACTITIONER, pin="1111", by_staff_id=team.manager
    )
    assert _row(services, added.id).pin_hash.startswith("scrypt$n=32768$r=6$p=1$")


def _store_legacy_hash(services: Services, staff_id: str, pin: str) -> None:
    """Give ``staff_id`` a PIN hashed the way it was before each hash named its cost (n=2**14, r=8, p=1)."""
    salt = b"legacy-salt-0001"
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32).hex()
    with services.uow() as uow:
        uow.session.execute(
            update(StaffRow).where(StaffRow.id == staff_id).values(pin_hash=digest, pin_salt=salt.hex())
        )
        uow.commit()


# --- Tills guessing at the same moment -------------------------------------------------------------------------

TILLS = 4
GUESSES_PER_TILL = 5
HOLD_SECONDS = 0.05


def guessing(services: Services, staff_id: str) -> tuple[str, list[str]]:
    """One till types wrong PINs as fast as it can; what it was told each time."""
    said = []
    for guess in range(GUESSES_PER_TILL):
        try:
            staff_service.log_in(services, staff_id, f"{9000 + guess}")
            said.append("signed in")
        except NotPermitted as refusal:
            said.append(str(refusal))
    return ("done", said)


def test_tills_guessing_at_once_get_five_wrong_pins_between_them(
    migrated_url: str, services: Services, team: Team
) -> None:
    outcomes = run_tills(migrated_url, guessing, [team.receptionist] * TILLS, hold=HOLD_SECONDS, now=START)

    said = [sentence for _, sentences in outcomes for sentence in sentences]
    checked = [s for s in said if s.startswith("That PIN is not right")]
    assert len(said) == TILLS * GUESSES_PER_TILL
    assert sorted(checked) == sorted(
        [
            "That PIN is not right. Try again.",
            "That PIN is not right. Try again.",
            "That PIN is not right. 2 tries left before this login is locked for 15 minutes.",
            "That PIN is not right. 1 try left before this login is locked for 15 minutes.",
            LOCKED_AT_FIFTH,
        ]
    )
    assert all(
        s.startswith("Too many wrong PINs: this login is locked until 09:15.")
        for s in said
        if s not in checked
    )
    row = _row(services, team.receptionist)
    assert (row.failed_attempts, row.locked_until) == (5, START + dt.timedelta(minutes=15))


def test_the_sign_in_list_sorts_names_ignoring_case(services: Services, team: Team) -> None:
    staff_service.add_staff(
        services, name="amy lowercase", role=Role.RECEPTIONIST, pin="2468", by_staff_id=team.manager
    )
    names = [m.name for m in staff_service.list_staff(services)]
    assert names == ["amy lowercase", "Dr Priya Patel", "Mia Manager", "Rita Reception"]
