"""Staff roles, PINs and lockout (DESIGN.md §7)."""

from __future__ import annotations

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

import pytest

from aestheticc_pos.domain.errors import InvalidInput, NotPermitted
from aestheticc_pos.domain.staff import (
    FAST_PIN_COST,
    PIN_HASH_COSTS,
    STANDARD_PIN_COST,
    Action,
    LoginPolicy,
    LoginState,
    Role,
    can,
    check_pin,
    current_state,
    hash_pin,
    is_locked,
    needs_rehash,
    register_failure,
    register_success,
    require,
    require_manager,
    require_unlocked,
    verify_pin,
    wrong_pin_refusal,
)

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
# DESIGN.md §7, row by row.
EVERYONE = {Action.VIEW_CLIENTS, Action.REDEEM_SESSIONS}
FRONT_DESK = {
    Action.EDIT_CLIENTS,
    Action.BOOK_APPOINTMENTS,
    Action.SELL,
    Action.TAKE_PAYMENTS,
    Action.MANAGE_MEMBERSHIPS,
    Action.CASH_UP,
}
MANAGER_ONLY = {
    Action.REFUND,
    Action.VOID,
    Action.VOID_INVOICE,
    Action.OVERRIDE_PRICE,
    Action.EXTEND_PACKAGE,
    Action.ADJUST_PACKAGE,
    Action.TRANSFER_PACKAGE,
    Action.EDIT_CATALOGUE,
    Action.PUBLISH_PORTAL,
    Action.EDIT_SETTINGS,
    Action.MANAGE_GOCARDLESS,
    Action.CHANGE_DATABASE,
    Action.MANAGE_STAFF,
    Action.BACKUPS,
    Action.EXPORT_CLIENT,
    Action.ERASE_CLIENT,
    Action.VIEW_REPORTS,
    Action.VIEW_AUDIT_LOG,
    Action.RESOLVE_SYNC,
}


# --- Roles -----------------------------------------------------------------------------------------------------


def test_a_manager_can_do_everything() -> None:
    assert all(can(Role.MANAGER, action) for action in Action)


@pytest.mark.parametrize("action", sorted(MANAGER_ONLY))
def test_what_needs_a_manager(action: Action) -> None:
    assert not can(Role.RECEPTIONIST, action)
    assert not can(Role.PRACTITIONER, action)


def test_every_action_is_in_one_row_of_the_matrix() -> None:
    assert set(Action) == EVERYONE | FRONT_DESK | MANAGER_ONLY
    assert len(EVERYONE) + len(FRONT_DESK) + len(MANAGER_ONLY) == len(Action)


def test_a_receptionist_runs_the_desk() -> None:
    assert {a for a in Action if can(Role.RECEPTIONIST, a)} == EVERYONE | FRONT_DESK


def test_a_practitioner_treats_but_does_not_take_money_book_or_edit_clients() -> None:
    assert {a for a in Action if can(Role.PRACTITIONER, a)} == EVERYONE


def test_refusals_are_sentences() -> None:
    with pytest.raises(NotPermitted, match=r"^Only a manager can refund a sale\.$"):
        require(Role.RECEPTIONIST, Action.REFUND)
    with pytest.raises(NotPermitted, match=r"^Only a manager or a receptionist can take payments\.$"):
        require(Role.PRACTITIONER, Action.TAKE_PAYMENTS)
    require(Role.RECEPTIONIST, Action.TAKE_PAYMENTS)
    with pytest.raises(NotPermitted, match=r"^Only a manager can void a sale\.$"):
        require_manager(Role.PRACTITIONER, "void a sale")
    require_manager(Role.MANAGER, "void a sale")


# --- PINs ------------------------------------------------------------------------------------------------------

FAST = FAST_PIN_COST  # these tests are about the rules, not the cost


def test_a_pin_verifies_against_its_hash_and_salt() -> None:
    hashed, salt = hash_pin("4821", cost=FAST)
    assert hashed.startswith("scrypt$n=16$r=1$p=1$") and len(hashed.rsplit("$", 1)[1]) == 64
    assert len(salt) == 32
    assert verify_pin("4821", hashed, salt)
    assert not verify_pin("4822", hashed, salt)


def test_each_hash_gets_its_own_salt() -> None:
    assert hash_pin("4821", cost=FAST) != hash_pin("4821", cost=FAST)
    assert hash_pin("4821", b"fixed-salt", cost=FAST) == hash_pin("4821", b"fixed-salt", cost=FAST)


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "", "١٢٣٤", " 1234"])
def test_a_pin_is_4_to_8_digits(pin: str) -> None:
    with pytest.raises(InvalidInput, match=r"^A PIN is 4 to 8 digits\.$"):
        hash_pin(pin, cost=FAST)


@pytest.mark.parametrize("pin", ["1234", "12345", "123456789", "12a456", ""])
def test_a_managers_new_pin_is_6_to_8_digits(pin: str) -> None:
    with pytest.raises(InvalidInput, match=r"^A manager's PIN is 6 to 8 digits\.$"):
        check_pin(pin, Role.MANAGER)


def test_other_staff_keep_4_digit_pins_and_a_managers_old_one_still_verifies() -> None:
    assert check_pin("123456", Role.MANAGER) == "123456"
    assert check_pin("12345678", "manager") == "12345678"
    assert check_pin("1234", Role.RECEPTIONIST) == check_pin("1234", Role.PRACTITIONER) == "1234"
    hashed, salt = hash_pin("1234", cost=FAST)  # a manager's PIN from before the 6-digit rule
    assert verify_pin("1234", hashed, salt)


def test_a_malformed_pin_never_verifies() -> None:
    hashed, salt = hash_pin("1234", cost=FAST)
    assert not verify_pin("12", hashed, salt)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "not a hash",
        "scrypt$n=24$r=1$p=1$" + "0" * 64,  # n is not a power of two
        "scrypt$n=16$r=0$p=1$" + "0" * 64,
        "scrypt$n=16777216$r=8$p=1$" + "0" * 64,  # 16 GiB: refused, never computed
        "scrypt$n=16$r=1$p=1$" + "0" * 63,
    ],
)
def test_a_damaged_hash_never_verifies_and_is_replaced_at_the_next_sign_in(stored: str) -> None:
    assert not verify_pin("1234", stored, "00" * 16)
    assert needs_rehash(stored, FAST)


def test_a_hash_from_before_costs_were_stored_still_verifies_and_is_upgraded() -> None:
    salt = b"s" * 16
    legacy = hashlib.scrypt(b"4821", salt=salt, n=2**14, r=8, p=1, dklen=32).hex()  # the old format
    assert verify_pin("4821", legacy, salt.hex())
    assert not verify_pin("4822", legacy, salt.hex())
    assert needs_rehash(legacy, STANDARD_PIN_COST)


def test_a_hash_names_its_cost_so_it_verifies_after_the_cost_changes() -> None:
    fast, salt = hash_pin("4821", cost=FAST)
    assert needs_rehash(fast, STANDARD_PIN_COST) and not needs_rehash(fast, FAST)
    standard, salt = hash_pin("4821", cost=STANDARD_PIN_COST)  # about 0.1 s
    assert standard.startswith("scrypt$n=32768$r=6$p=1$")
    assert verify_pin("4821", standard, salt)
    assert not needs_rehash(standard, STANDARD_PIN_COST) and needs_rehash(standard, FAST)


def test_the_costs_by_name() -> None:
    assert PIN_HASH_COSTS == {"standard": STANDARD_PIN_COST, "fast": FAST_PIN_COST}
    assert STANDARD_PIN_COST.memory_bytes < 32 * 1024 * 1024  # OpenSSL's default limit, with room


# --- Lockout ---------------------------------------------------------------------------------------------------


def test_five_wrong_pins_lock_the_login_for_15_minutes() -> None:
    state = LoginState()
    for _ in range(4):
        state = register_failure(state, NOW)
        assert not is_locked(state, NOW)
    state = register_failure(state, NOW)
    assert state == LoginState(failures=5, locked_until=NOW + dt.timedelta(minutes=15))
    assert is_locked(state, NOW)
    assert is_locked(state, NOW + dt.timedelta(minutes=14, seconds=59))
    assert not is_locked(state, NOW + dt.timedelta(minutes=15))


def test_every_refusal_tells_the_truth() -> None:
    state, said = LoginState(), []
    for _ in range(5):
        state = register_failure(state, NOW)
        said.append(wrong_pin_refusal(state, NOW))
    assert said == [
        "That PIN is not right. Try again.",
        "That PIN is not right. Try again.",
        "That PIN is not right. 2 tries left before this login is locked for 15 minutes.",
        "That PIN is not right. 1 try left before this login is locked for 15 minutes.",
        "That PIN is not right, and that was 5 wrong PINs in a row: this login is now locked until 09:15. "
        "Try again then, or ask a manager to unlock it.",
    ]


def test_a_lock_that_ran_out_is_cleared_and_counting_starts_again() -> None:
    locked = LoginState(failures=5, locked_until=NOW)
    later = NOW + dt.timedelta(hours=2)
    assert current_state(locked, later) == LoginState()
    require_unlocked(locked, later)
    state = register_failure(locked, later)
    assert state == LoginState(failures=1)
    assert wrong_pin_refusal(state, later) == "That PIN is not right. Try again."
    assert register_success(locked) == LoginState()


def test_a_locked_login_says_until_when_and_how_long_is_left() -> None:
    state = LoginState(failures=5, locked_until=NOW + dt.timedelta(minutes=14, seconds=1))
    paris = ZoneInfo("Europe/Paris")
    with pytest.raises(NotPermitted) as refused:
        require_unlocked(state, NOW, paris)
    assert str(refused.value) == (
        "Too many wrong PINs: this login is locked until 10:15. Try again in 15 minutes, "
        "or ask a manager to unlock it."
    )
    with pytest.raises(NotPermitted, match=r"until 09:15\. Try again in 1 minute, or ask a manager"):
        require_unlocked(state, NOW + dt.timedelta(minutes=14))
    require_unlocked(state, NOW + dt.timedelta(minutes=15))


def test_a_success_clears_the_count() -> None:
    state = register_failure(register_failure(LoginState(), NOW), NOW)
    assert register_success(state).failures == 0


def test_a_stricter_policy() -> None:
    policy = LoginPolicy(max_failures=2, lockout_minutes=60)
    state = register_failure(register_failure(LoginState(), NOW, policy), NOW, policy)
    assert state.locked_until == NOW + dt.timedelta(hours=1)
    assert "locked until 10:00" in wrong_pin_refusal(state, NOW, dt.UTC, policy)
