"""Staff roles, what each may do, PINs and login lockout (DESIGN.md §7).

Who may do what: a manager may do everything. A receptionist runs the desk: clients, bookings, selling,
taking payment, redeeming sessions and memberships, but not refunds, voids, price overrides, package
extensions or adjustments, the catalogue, settings, staff, client erasure or the audit log. A practitioner
sees clients and appointments, books follow-ups and records the session they treated (redeeming it from the
package), but does not take payments: money goes through the front desk. A clinic whose practitioners run the
till gives them the receptionist role.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace

from aestheticc_pos.domain.errors import InvalidInput, NotPermitted

# scrypt cost: about 16 MiB and a few tens of milliseconds per check, per OWASP's minimum for scrypt.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
PIN_HASH_BYTES = 32
SALT_BYTES = 16


class Role(enum.StrEnum):
    MANAGER = "manager"
    RECEPTIONIST = "receptionist"
    PRACTITIONER = "practitioner"


class Action(enum.StrEnum):
    """Things staff do that a role may or may not allow. The value reads after "Only a manager can …"."""

    VIEW_CLIENTS = "see client records"
    EDIT_CLIENTS = "change client details"
    BOOK_APPOINTMENTS = "book appointments"
    REDEEM_SESSIONS = "record a treated session"
    SELL = "sell treatments, products and packages"
    TAKE_PAYMENTS = "take payments"
    MANAGE_MEMBERSHIPS = "sign up, pause or end memberships"
    REFUND = "refund a sale"
    VOID = "void a sale"
    OVERRIDE_PRICE = "override a price"
    EXTEND_PACKAGE = "extend a package"
    ADJUST_PACKAGE = "adjust a package's sessions"
    EDIT_CATALOGUE = "change the catalogue"
    EDIT_SETTINGS = "change the settings"
    MANAGE_STAFF = "manage staff"
    EXPORT_CLIENT = "export a client's record"
    ERASE_CLIENT = "erase a client's record"
    VIEW_REPORTS = "see the reports"
    VIEW_AUDIT_LOG = "see the audit log"
    RESOLVE_SYNC = "retry or discard work GoCardless refused"


_PRACTITIONER = frozenset({Action.VIEW_CLIENTS, Action.BOOK_APPOINTMENTS, Action.REDEEM_SESSIONS})
_RECEPTIONIST = _PRACTITIONER | {
    Action.EDIT_CLIENTS,
    Action.SELL,
    Action.TAKE_PAYMENTS,
    Action.MANAGE_MEMBERSHIPS,
    Action.EXPORT_CLIENT,
}
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.MANAGER: frozenset(Action),
    Role.RECEPTIONIST: frozenset(_RECEPTIONIST),
    Role.PRACTITIONER: _PRACTITIONER,
}


def can(role: Role, action: Action) -> bool:
    """Whether ``role`` may do ``action``."""
    return action in PERMISSIONS[Role(role)]


def require(role: Role, action: Action) -> None:
    """Raise ``NotPermitted`` with a sentence naming who may do ``action``."""
    if can(role, action):
        return
    if can(Role.RECEPTIONIST, action):
        raise NotPermitted(f"Only a manager or a receptionist can {action.value}.")
    require_manager(role, action.value)


def require_manager(role: Role, action_sentence: str) -> None:
    """Raise ``NotPermitted`` ("Only a manager can refund a sale.") unless ``role`` is a manager."""
    if Role(role) is not Role.MANAGER:
        raise NotPermitted(f"Only a manager can {action_sentence}.")


# --- PINs ------------------------------------------------------------------------------------------------------


def hash_pin(pin: str, salt: bytes | None = None) -> tuple[str, str]:
    """Hash a 4–8 digit PIN with scrypt and a per-user salt (random unless given): ``(hash_hex, salt_hex)``."""
    check_pin(pin)
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    return _scrypt(pin, salt).hex(), salt.hex()


def verify_pin(pin: str, hash_hex: str, salt_hex: str) -> bool:
    """Whether ``pin`` matches the stored hash (constant-time comparison). A malformed PIN never matches."""
    if not _is_pin(pin):
        return False
    return hmac.compare_digest(_scrypt(pin, bytes.fromhex(salt_hex)), bytes.fromhex(hash_hex))


def check_pin(pin: str) -> str:
    if not _is_pin(pin):
        raise InvalidInput("A PIN is 4 to 8 digits.", field="pin")
    return pin


def _is_pin(pin: object) -> bool:
    return isinstance(pin, str) and pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8


def _scrypt(pin: str, salt: bytes) -> bytes:
    return hashlib.scrypt(
        pin.encode("ascii"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=PIN_HASH_BYTES
    )


# --- Lockout ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    max_failures: int = 5
    lockout_minutes: int = 15


DEFAULT_LOGIN_POLICY = LoginPolicy()


@dataclass(frozen=True, slots=True)
class LoginState:
    """One staff member's failed logins since the last success or lockout. Times are aware UTC."""

    failures: int = 0
    locked_until: dt.datetime | None = None


def register_failure(
    state: LoginState, now: dt.datetime, policy: LoginPolicy = DEFAULT_LOGIN_POLICY
) -> LoginState:
    """Count a wrong PIN; the ``max_failures``-th locks the login for ``lockout_minutes``."""
    failures = state.failures + 1
    if failures >= policy.max_failures:
        return LoginState(failures=0, locked_until=now + dt.timedelta(minutes=policy.lockout_minutes))
    return replace(state, failures=failures)


def register_success(state: LoginState) -> LoginState:
    """A correct PIN clears the count (a login still locked must be refused before checking the PIN)."""
    return replace(state, failures=0)


def is_locked(state: LoginState, now: dt.datetime) -> bool:
    return state.locked_until is not None and now < state.locked_until


def require_unlocked(state: LoginState, now: dt.datetime) -> None:
    """Raise ``NotPermitted`` with the minutes left while the login is locked."""
    if not is_locked(state, now):
        return
    assert state.locked_until is not None
    minutes = -(-(state.locked_until - now) // dt.timedelta(minutes=1))  # round up
    unit = "minute" if minutes == 1 else "minutes"
    raise NotPermitted(f"Too many wrong PINs: this login is locked. Try again in {minutes} {unit}.")
