"""Staff roles, what each may do, PINs and login lockout (DESIGN.md §7).

Who may do what (the permission matrix of DESIGN.md §7, every action listed):

- A **practitioner** sees Today, appointments and a client's packages, and records the session they treated
  (attending it redeems it from the package). Money, bookings and client details go through the front desk;
  a clinic whose practitioners run the till gives them the receptionist role.
- A **receptionist** also adds and edits clients, books and cancels, checks out, sells packages and
  memberships, sends payment links, invoices and deposits, makes membership changes at the desk, and cashes
  up and closes the day.
- A **manager** may do everything: refunds, voids, price overrides, package extensions, adjustments and
  transfers; the catalogue and publishing it; settings, the GoCardless token and environment, the database
  location and the email server; staff, PIN resets and unlocks; backups and restores; client export and
  erasure; the audit log; reports; and retrying or discarding sync work.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from aestheticc_pos.domain.errors import InvalidInput, NotPermitted


class Role(enum.StrEnum):
    MANAGER = "manager"
    RECEPTIONIST = "receptionist"
    PRACTITIONER = "practitioner"


class Action(enum.StrEnum):
    """Things staff do that a role may or may not allow. The value reads after "Only a manager can …"."""

    # Everyone
    VIEW_CLIENTS = "see client records"
    REDEEM_SESSIONS = "record a treated session"
    # The front desk
    EDIT_CLIENTS = "add or change client details"
    BOOK_APPOINTMENTS = "book or cancel appointments"
    SELL = "sell treatments, products and packages"
    TAKE_PAYMENTS = "take payments"
    MANAGE_MEMBERSHIPS = "sign up, pause or end memberships"
    CASH_UP = "cash up and close the day"
    # Managers
    REFUND = "refund a sale"
    VOID = "void a sale"
    VOID_INVOICE = "void an invoice"
    OVERRIDE_PRICE = "override a price"
    EXTEND_PACKAGE = "extend a package"
    ADJUST_PACKAGE = "adjust a package's sessions"
    TRANSFER_PACKAGE = "transfer a package"
    EDIT_CATALOGUE = "change the catalogue"
    PUBLISH_PORTAL = "publish the booking portal"
    EDIT_SETTINGS = "change the settings"
    MANAGE_GOCARDLESS = "change the GoCardless connection"
    CHANGE_DATABASE = "change where the database is"
    MANAGE_STAFF = "manage staff"
    BACKUPS = "take or restore backups"
    EXPORT_CLIENT = "export a client's record"
    ERASE_CLIENT = "erase a client's record"
    VIEW_REPORTS = "see the reports"
    VIEW_AUDIT_LOG = "see the audit log"
    RESOLVE_SYNC = "retry or discard work GoCardless refused"


_PRACTITIONER = frozenset({Action.VIEW_CLIENTS, Action.REDEEM_SESSIONS})
_RECEPTIONIST = _PRACTITIONER | {
    Action.EDIT_CLIENTS,
    Action.BOOK_APPOINTMENTS,
    Action.SELL,
    Action.TAKE_PAYMENTS,
    Action.MANAGE_MEMBERSHIPS,
    Action.CASH_UP,
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

MANAGER_PIN_DIGITS = 6
PIN_HASH_BYTES = 32
SALT_BYTES = 16
_MAX_SCRYPT_MEMORY = 256 * 1024 * 1024  # a stored cost needing more than this is refused, not computed


@dataclass(frozen=True, slots=True)
class PinHashCost:
    """scrypt's work factors for a PIN hash: ``n`` (CPU and memory, a power of two), ``r`` (block size), ``p``."""

    n: int
    r: int
    p: int = 1

    @property
    def memory_bytes(self) -> int:
        return 128 * self.r * (self.n + self.p + 2)


# About 100 ms and 24 MiB a guess on a two-core till (measured 102–110 ms; n=2**14, r=8 took 60–68 ms and
# n=2**15, r=8 140–165 ms), so whoever copies the database also pays about 0.1 s a guess per core.
STANDARD_PIN_COST = PinHashCost(n=2**15, r=6, p=1)
# Microseconds a hash, for the test suite only (``AESTHETICC_PIN_HASH_COST=fast``, see settings.py).
FAST_PIN_COST = PinHashCost(n=2**4, r=1, p=1)
# Hashes stored before each hash named its cost (64 hex digits, nothing else) were made at this one.
LEGACY_PIN_COST = PinHashCost(n=2**14, r=8, p=1)
PIN_HASH_COSTS: dict[str, PinHashCost] = {"standard": STANDARD_PIN_COST, "fast": FAST_PIN_COST}

_STORED_HASH = re.compile(r"scrypt\$n=([0-9]{1,8})\$r=([0-9]{1,3})\$p=([0-9]{1,2})\$([0-9a-f]{64})")
_LEGACY_HASH = re.compile(r"[0-9a-f]{64}")


def check_pin(pin: str, role: Role | str | None = None) -> str:
    """``pin`` if it may be set as the PIN of someone with ``role``: 4 to 8 digits, and at least 6 for a manager.

    Only for setting a PIN: a manager's 4-digit PIN set before the 6-digit rule still signs in (``verify_pin``).
    """
    manager = role is not None and Role(role) is Role.MANAGER
    if not _is_pin(pin) or (manager and len(pin) < MANAGER_PIN_DIGITS):
        sentence = "A manager's PIN is 6 to 8 digits." if manager else "A PIN is 4 to 8 digits."
        raise InvalidInput(sentence, field="pin")
    return pin


def hash_pin(
    pin: str, salt: bytes | None = None, *, cost: PinHashCost = STANDARD_PIN_COST
) -> tuple[str, str]:
    """Hash a 4–8 digit PIN with scrypt and a per-user salt (random unless given): ``(pin_hash, salt_hex)``.

    ``pin_hash`` names the cost it was made at (``scrypt$n=32768$r=6$p=1$<64 hex digits>``), so it still
    verifies after the cost changes; ``needs_rehash`` says when to hash the PIN again.
    """
    check_pin(pin)
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = _scrypt(pin, salt, cost)
    return f"scrypt$n={cost.n}$r={cost.r}$p={cost.p}${digest.hex()}", salt.hex()


def verify_pin(pin: str, pin_hash: str, salt_hex: str) -> bool:
    """Whether ``pin`` matches a stored hash, at whatever cost it was made (constant-time comparison).

    A malformed PIN, salt or hash never matches.
    """
    if not _is_pin(pin):
        return False
    try:
        cost, digest = _parse(pin_hash)
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    return hmac.compare_digest(_scrypt(pin, salt, cost), digest)


def needs_rehash(pin_hash: str, cost: PinHashCost) -> bool:
    """Whether a stored hash was made at another cost than ``cost`` (or before hashes named their cost)."""
    try:
        return _parse(pin_hash)[0] != cost
    except ValueError:
        return True


def _is_pin(pin: object) -> bool:
    return isinstance(pin, str) and pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8


def _parse(pin_hash: str) -> tuple[PinHashCost, bytes]:
    if _LEGACY_HASH.fullmatch(pin_hash):
        return LEGACY_PIN_COST, bytes.fromhex(pin_hash)
    match = _STORED_HASH.fullmatch(pin_hash)
    if match is None:
        raise ValueError("not a PIN hash")
    n, r, p = (int(match[i]) for i in (1, 2, 3))
    cost = PinHashCost(n=n, r=r, p=p)
    if n < 2 or n & (n - 1) or r < 1 or p < 1 or cost.memory_bytes > _MAX_SCRYPT_MEMORY:
        raise ValueError("a PIN hash with an impossible cost")
    return cost, bytes.fromhex(match[4])


def _scrypt(pin: str, salt: bytes, cost: PinHashCost) -> bytes:
    return hashlib.scrypt(
        pin.encode("ascii"),
        salt=salt,
        n=cost.n,
        r=cost.r,
        p=cost.p,
        maxmem=_MAX_SCRYPT_MEMORY,
        dklen=PIN_HASH_BYTES,
    )


# --- Lockout ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    max_failures: int = 5
    lockout_minutes: int = 15
    warn_from: int = 3  # from this many wrong PINs in a row, a refusal says how many tries are left


DEFAULT_LOGIN_POLICY = LoginPolicy()


@dataclass(frozen=True, slots=True)
class LoginState:
    """One staff member's wrong PINs in a row, and the lock the last of them set. Times are aware UTC."""

    failures: int = 0
    locked_until: dt.datetime | None = None


def current_state(state: LoginState, now: dt.datetime) -> LoginState:
    """The state as it stands at ``now``: a lock that has run out is cleared, and the count starts again."""
    if state.locked_until is not None and now >= state.locked_until:
        return LoginState()
    return state


def register_failure(
    state: LoginState, now: dt.datetime, policy: LoginPolicy = DEFAULT_LOGIN_POLICY
) -> LoginState:
    """Count a wrong PIN on a login that is not locked; the ``max_failures``-th in a row locks it for
    ``lockout_minutes``. Counting starts again after a lock has run out."""
    failures = current_state(state, now).failures + 1
    if failures >= policy.max_failures:
        return LoginState(failures=failures, locked_until=now + dt.timedelta(minutes=policy.lockout_minutes))
    return LoginState(failures=failures)


def register_success(state: LoginState) -> LoginState:
    """A correct PIN clears the count and any lock that ran out (one still running is refused before the PIN
    is checked: ``require_unlocked``)."""
    return LoginState()


def is_locked(state: LoginState, now: dt.datetime) -> bool:
    return state.locked_until is not None and now < state.locked_until


def require_unlocked(state: LoginState, now: dt.datetime, tz: dt.tzinfo = dt.UTC) -> None:
    """Raise ``NotPermitted`` saying until when (clock time in ``tz``) and for how long a login is locked."""
    if not is_locked(state, now):
        return
    assert state.locked_until is not None
    left = _minutes(state.locked_until - now)
    raise NotPermitted(
        f"Too many wrong PINs: this login is locked until {_clock(state.locked_until, tz)}. "
        f"Try again in {left}, or ask a manager to unlock it."
    )


def wrong_pin_refusal(
    state: LoginState, now: dt.datetime, tz: dt.tzinfo = dt.UTC, policy: LoginPolicy = DEFAULT_LOGIN_POLICY
) -> str:
    """What staff read after a wrong PIN, given the state ``register_failure`` left: true at every count."""
    if is_locked(state, now):
        assert state.locked_until is not None
        return (
            f"That PIN is not right, and that was {policy.max_failures} wrong PINs in a row: this login is now "
            f"locked until {_clock(state.locked_until, tz)}. Try again then, or ask a manager to unlock it."
        )
    if state.failures < policy.warn_from:
        return "That PIN is not right. Try again."
    left = policy.max_failures - state.failures
    tries = "1 try" if left == 1 else f"{left} tries"
    return (
        f"That PIN is not right. {tries} left before this login is locked for "
        f"{_minutes(dt.timedelta(minutes=policy.lockout_minutes))}."
    )


def _minutes(span: dt.timedelta) -> str:
    minutes = -(-span // dt.timedelta(minutes=1))  # rounded up: "1 minute" until the very end
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _clock(moment: dt.datetime, tz: dt.tzinfo) -> str:
    """``moment`` as the clinic's clock shows it, rounded up to the minute (never earlier than it is)."""
    local = moment.astimezone(tz)
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    return local.strftime("%H:%M")
