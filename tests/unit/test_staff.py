"""Staff roles, PINs and lockout (DESIGN.md §7)."""

from __future__ import annotations

import datetime as dt

import pytest

from aestheticc_pos.domain.errors import InvalidInput, NotPermitted
from aestheticc_pos.domain.staff import (
    Action,
    LoginPolicy,
    LoginState,
    Role,
    can,
    hash_pin,
    is_locked,
    register_failure,
    register_success,
    require,
    require_manager,
    require_unlocked,
    verify_pin,
)

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
MANAGER_ONLY = {
    Action.REFUND,
    Action.VOID,
    Action.OVERRIDE_PRICE,
    Action.EXTEND_PACKAGE,
    Action.ADJUST_PACKAGE,
    Action.EDIT_CATALOGUE,
    Action.EDIT_SETTINGS,
    Action.MANAGE_STAFF,
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


def test_a_receptionist_runs_the_desk() -> None:
    assert {a for a in Action if can(Role.RECEPTIONIST, a)} == set(Action) - MANAGER_ONLY


def test_a_practitioner_treats_but_does_not_take_money() -> None:
    assert can(Role.PRACTITIONER, Action.REDEEM_SESSIONS)
    assert can(Role.PRACTITIONER, Action.VIEW_CLIENTS)
    assert not can(Role.PRACTITIONER, Action.TAKE_PAYMENTS)
    assert not can(Role.PRACTITIONER, Action.SELL)


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


def test_a_pin_verifies_against_its_hash_and_salt() -> None:
    hashed, salt = hash_pin("4821")
    assert len(hashed) == 64 and len(salt) == 32
    assert verify_pin("4821", hashed, salt)
    assert not verify_pin("4822", hashed, salt)


def test_each_hash_gets_its_own_salt() -> None:
    assert hash_pin("4821") != hash_pin("4821")
    assert hash_pin("4821", b"fixed-salt") == hash_pin("4821", b"fixed-salt")


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "", "١٢٣٤", " 1234"])
def test_a_pin_is_4_to_8_digits(pin: str) -> None:
    with pytest.raises(InvalidInput, match="4 to 8 digits"):
        hash_pin(pin)


def test_a_malformed_pin_never_verifies() -> None:
    hashed, salt = hash_pin("1234")
    assert not verify_pin("12", hashed, salt)


# --- Lockout ---------------------------------------------------------------------------------------------------


def test_five_wrong_pins_lock_the_login_for_15_minutes() -> None:
    state = LoginState()
    for _ in range(4):
        state = register_failure(state, NOW)
        assert not is_locked(state, NOW)
    state = register_failure(state, NOW)
    assert is_locked(state, NOW)
    assert is_locked(state, NOW + dt.timedelta(minutes=14, seconds=59))
    assert not is_locked(state, NOW + dt.timedelta(minutes=15))


def test_a_locked_login_says_how_long_to_wait() -> None:
    state = LoginState(locked_until=NOW + dt.timedelta(minutes=14, seconds=1))
    with pytest.raises(NotPermitted, match=r"Try again in 15 minutes\.$"):
        require_unlocked(state, NOW)
    with pytest.raises(NotPermitted, match=r"Try again in 1 minute\.$"):
        require_unlocked(state, NOW + dt.timedelta(minutes=14))
    require_unlocked(state, NOW + dt.timedelta(minutes=15))


def test_a_success_clears_the_count() -> None:
    state = register_failure(register_failure(LoginState(), NOW), NOW)
    assert register_success(state).failures == 0


def test_a_stricter_policy() -> None:
    policy = LoginPolicy(max_failures=2, lockout_minutes=60)
    state = register_failure(register_failure(LoginState(), NOW, policy), NOW, policy)
    assert state.locked_until == NOW + dt.timedelta(hours=1)
