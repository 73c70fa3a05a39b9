"""The ledger operations on a client package: selling it, booking and releasing sessions, redeeming and voiding
them, a manager's adjustments, extensions and refunds; and the balances they leave (DESIGN.md §3 "Packages").

Each operation returns the package with its new entry appended (and the entry, which the store writes); it raises
instead of breaking ``total = redeemed + reserved + refunded + remaining`` (see ``model``). A redemption records
what happened and is not refused for step delays; a booking is (``steps``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from aestheticc_pos.domain.catalogue import MAX_SESSIONS, MAX_VALIDITY_DAYS, Package
from aestheticc_pos.domain.errors import (
    InvalidInput,
    NoSessionsRemaining,
    NotFound,
    PackageExpired,
    RuleViolation,
)
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.packages.model import (
    BookedSession,
    ClientPackage,
    ClientPackageStatus,
    LedgerEntry,
    LedgerKind,
    StepBalance,
    append_entry,
    book_balance,
    book_sessions,
    format_date,
    no_sessions,
    replay,
    require_active,
    same_redemption,
)
from aestheticc_pos.domain.packages.steps import check_step_rules

# --- selling -------------------------------------------------------------------------------------------------


def sell_package(
    package: Package, *, client_package_id: str, client_id: str, purchased_on: dt.date
) -> ClientPackage:
    """The client package created by selling ``package``: its terms copied, valid ``validity_days`` from today."""
    if not package.active:
        raise RuleViolation(f"{package.name} is no longer offered for sale.")
    return ClientPackage(
        id=client_package_id,
        client_id=client_id,
        package_id=package.id,
        name=package.name,
        price=package.price,
        purchased_on=purchased_on,
        expires_on=purchased_on + dt.timedelta(days=package.validity_days),
        steps=package.steps,
    )


# --- balances ------------------------------------------------------------------------------------------------


def step_balance(cp: ClientPackage, position: int) -> StepBalance:
    """How many sessions of step ``position`` are in total, redeemed, reserved, refunded and remaining."""
    cp.step(position)
    return book_balance(cp, replay(cp), position)


def remaining_sessions(cp: ClientPackage) -> int:
    """Unused, unbooked sessions over all steps."""
    book = replay(cp)
    return sum(book_balance(cp, book, step.position).remaining for step in cp.steps)


def booked_sessions(cp: ClientPackage, step_position: int | None = None) -> tuple[BookedSession, ...]:
    """The booked and attended sessions (of one step, or all), by date then ledger order."""
    return book_sessions(replay(cp), step_position)


@dataclass(frozen=True, slots=True)
class CounterChange:
    """How one ledger entry moves its step's counters: what a store's conditional update adds."""

    step_position: int
    adjusted: int
    redeemed: int
    reserved: int
    refunded: int


def counter_change(before: ClientPackage, entry: LedgerEntry) -> CounterChange:
    """The change ``entry`` makes to its step's counters when appended to ``before``'s ledger.

    A REDEEM's effect depends on the ledger before it (it converts a reservation or consumes a free session),
    so the entry alone does not say it; this does.
    """
    position = entry.step_position
    old = step_balance(before, position)
    new = step_balance(append_entry(before, entry), position)
    return CounterChange(
        step_position=position,
        adjusted=new.total - old.total,
        redeemed=new.redeemed - old.redeemed,
        reserved=new.reserved - old.reserved,
        refunded=new.refunded - old.refunded,
    )


# --- ledger operations ---------------------------------------------------------------------------------------


def reserve(
    cp: ClientPackage, step_position: int, appointment_id: str, session_on: dt.date, today: dt.date
) -> tuple[ClientPackage, LedgerEntry]:
    """Book one session of a step for an appointment on ``session_on``.

    Raises RuleViolation (refunded, appointment already holding a session), PackageExpired, NoSessionsRemaining
    or BookingRefused (step delays), exactly as ``check_booking``.
    """
    require_active(cp)
    book = replay(cp)
    if appointment_id in book.reservations or any(
        r.appointment_id == appointment_id for r in book.redemptions
    ):
        raise RuleViolation("This appointment already holds a session of this package.")
    check_step_rules(cp, book, step_position, session_on)
    entry = LedgerEntry(
        kind=LedgerKind.RESERVE,
        step_position=step_position,
        sessions=1,
        session_on=session_on,
        appointment_id=appointment_id,
        recorded_on=today,
    )
    return append_entry(cp, entry), entry


def release(cp: ClientPackage, appointment_id: str, today: dt.date) -> tuple[ClientPackage, LedgerEntry]:
    """Give back the session booked for ``appointment_id`` (the appointment was cancelled in time)."""
    require_active(cp)
    booked = replay(cp).reservations.get(appointment_id)
    if booked is None:
        raise NotFound(f"No session of {cp.name} is booked for this appointment.")
    entry = LedgerEntry(
        kind=LedgerKind.RELEASE,
        step_position=booked.step_position,
        sessions=1,
        session_on=booked.session_on,
        appointment_id=appointment_id,
        recorded_on=today,
    )
    return append_entry(cp, entry), entry


def redeem(
    cp: ClientPackage,
    step_position: int,
    appointment_id: str | None,
    session_on: dt.date,
    today: dt.date,
    *,
    reason: str | None = None,
) -> tuple[ClientPackage, LedgerEntry]:
    """Use one session of a step for a session that took place on ``session_on`` (checkout, or a forfeit).

    If ``appointment_id`` holds an open reservation of this package, the reservation becomes the redemption;
    otherwise a free session of the step is consumed. ``reason`` is recorded (e.g. "No-show: session forfeited").
    """
    require_active(cp)
    step = cp.step(step_position)
    if session_on > cp.expires_on:
        raise PackageExpired(
            f"{cp.name} expired on {format_date(cp.expires_on)}, "
            f"so it cannot pay for a session on {format_date(session_on)}."
        )
    if session_on < cp.purchased_on:
        raise RuleViolation(
            f"{cp.name} was bought on {format_date(cp.purchased_on)}, "
            f"after the session on {format_date(session_on)}, so it cannot pay for it."
        )
    if session_on > today:
        raise RuleViolation(f"A session on {format_date(session_on)} cannot be redeemed before that day.")
    book = replay(cp)
    if appointment_id is not None and any(r.appointment_id == appointment_id for r in book.redemptions):
        raise RuleViolation("This appointment has already been paid with a session of this package.")
    booked = book.reservations.get(appointment_id) if appointment_id is not None else None
    if booked is not None and booked.step_position != step_position:
        booked_step = cp.step(booked.step_position)
        raise RuleViolation(
            f"This appointment is booked as the {booked_step.name.lower()} of {cp.name}, "
            f"not the {step.name.lower()}."
        )
    if booked is None and book_balance(cp, book, step_position).remaining <= 0:
        raise no_sessions(cp, step)
    entry = LedgerEntry(
        kind=LedgerKind.REDEEM,
        step_position=step_position,
        sessions=1,
        session_on=session_on,
        appointment_id=appointment_id,
        reason=reason,
        recorded_on=today,
    )
    return append_entry(cp, entry), entry


def void_redemption(
    cp: ClientPackage, redemption: str | int, reason: str, today: dt.date
) -> tuple[ClientPackage, LedgerEntry]:
    """Undo a redemption: ``redemption`` is its appointment id, or the index in ``cp.ledger`` of its REDEEM entry.

    The session becomes free again (a reservation it had converted is not reopened).
    """
    require_active(cp)
    _require_reason(reason, "Undoing a redemption")
    book = replay(cp)
    if isinstance(redemption, str):
        target = next((r for r in book.redemptions if r.appointment_id == redemption), None)
    else:
        if not 0 <= redemption < len(cp.ledger) or cp.ledger[redemption].kind is not LedgerKind.REDEEM:
            raise NotFound("That ledger entry is not a redemption of this package.")
        redeemed = cp.ledger[redemption]
        if redeemed.appointment_id is not None:
            target = next((r for r in book.redemptions if r.entry_index == redemption), None)
        else:  # appointment-less redemptions of one step and date are interchangeable
            target = next((r for r in book.redemptions if same_redemption(r, redeemed)), None)
    if target is None:
        raise NotFound(f"There is no redemption of {cp.name} to undo for that session.")
    entry = LedgerEntry(
        kind=LedgerKind.VOID,
        step_position=target.step_position,
        sessions=1,
        session_on=target.session_on,
        appointment_id=target.appointment_id,
        reason=reason.strip(),
        recorded_on=today,
    )
    return append_entry(cp, entry), entry


def adjust(
    cp: ClientPackage, step_position: int, delta: int, reason: str, today: dt.date
) -> tuple[ClientPackage, LedgerEntry]:
    """Add ``delta`` sessions to a step's total (remove them when negative): a manager's correction."""
    require_active(cp)
    step = cp.step(step_position)
    _require_reason(reason, "An adjustment")
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise InvalidInput(
            "An adjustment adds or removes a whole number of sessions, not zero.", field="delta"
        )
    balance = step_balance(cp, step_position)
    if balance.remaining + delta < 0:
        raise NoSessionsRemaining(
            f"Only {_sessions_word(balance.remaining)} of {step.name.lower()} "
            f"{'is' if balance.remaining == 1 else 'are'} unused in {cp.name}, so {-delta} cannot be removed."
        )
    if balance.total + delta > MAX_SESSIONS:
        raise InvalidInput(f"A step has at most {MAX_SESSIONS} sessions.", field="delta")
    entry = LedgerEntry(
        kind=LedgerKind.ADJUST,
        step_position=step_position,
        sessions=delta,
        reason=reason.strip(),
        recorded_on=today,
    )
    return append_entry(cp, entry), entry


def refund_unused(cp: ClientPackage, today: dt.date) -> tuple[ClientPackage, tuple[LedgerEntry, ...], Money]:
    """Close every unused session and give back ``price × unused ÷ total`` (half up), never the list price.

    ``total`` counts every session of the package including adjustments. Refused while a session is booked
    (cancel or check it out first) and when nothing is unused. The package is REFUNDED afterwards.
    """
    require_active(cp)
    book = replay(cp)
    balances = [(step, book_balance(cp, book, step.position)) for step in cp.steps]
    booked = sum(b.reserved for _, b in balances)
    if booked:
        raise RuleViolation(
            f"{cp.name} still has {_sessions_word(booked)} booked. "
            "Cancel or check out those appointments before refunding."
        )
    unused = sum(b.remaining for _, b in balances)
    if unused == 0:
        raise RuleViolation(f"Every session of {cp.name} has been used, so there is nothing to refund.")
    total = sum(b.total for _, b in balances)
    entries = tuple(
        LedgerEntry(
            kind=LedgerKind.REFUND, step_position=step.position, sessions=b.remaining, recorded_on=today
        )
        for step, b in balances
        if b.remaining > 0
    )
    refunded = replace(cp, ledger=cp.ledger + entries, status=ClientPackageStatus.REFUNDED)
    return refunded, entries, cp.price.fraction(unused, total)


def extend_expiry(cp: ClientPackage, new_expires_on: dt.date, reason: str) -> ClientPackage:
    """Move the expiry date later (a manager's decision; the service audits it with ``reason``)."""
    require_active(cp)
    _require_reason(reason, "Extending a package")
    if new_expires_on <= cp.expires_on:
        raise InvalidInput(
            f"The new expiry date must be after the current one, {format_date(cp.expires_on)}.",
            field="expires_on",
        )
    latest = cp.purchased_on + dt.timedelta(days=MAX_VALIDITY_DAYS)
    if new_expires_on > latest:
        raise InvalidInput(
            f"A package can be extended to {format_date(latest)} at the latest.", field="expires_on"
        )
    return replace(cp, expires_on=new_expires_on)


# --- small helpers -------------------------------------------------------------------------------------------


def _require_reason(reason: str | None, what: str) -> None:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(f"{what} needs a reason.", field="reason")


def _sessions_word(n: int) -> str:
    return f"{n} session" if n == 1 else f"{n} sessions"
