"""The step rules: when a session of a package step may be booked (DESIGN.md §3 "Packages").

The previous step must be fully booked or attended; a session must be at least ``min_days_after_previous`` after
the latest session of the previous step, at least ``min_days_between_sessions`` away from each other session of its
own step, not before the purchase and not after expiry.

Session dates: a reservation's date is its RESERVE ``session_on``, the day of the appointment in the clinic's time
zone (``appointments.clinic_date``); a redemption's date is its REDEEM ``session_on``, the day attended. Step delays
are measured between those dates. Delays are enforced when booking (``ledger.reserve``); a redemption records what
happened and is not refused for delays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from aestheticc_pos.domain.catalogue import PackageStep
from aestheticc_pos.domain.errors import BookingRefused, DomainError, NotFound, PackageExpired
from aestheticc_pos.domain.packages.model import (
    Book,
    ClientPackage,
    ClientPackageStatus,
    LedgerEntry,
    LedgerKind,
    book_balance,
    book_sessions,
    format_date,
    no_sessions,
    replay,
    require_active,
)


@dataclass(frozen=True, slots=True)
class BrokenBooking:
    """A booked session that no longer fits the step rules; ``message`` says so to staff."""

    appointment_id: str
    step_position: int
    session_on: dt.date
    message: str
    earliest: dt.date | None


def check_booking(
    cp: ClientPackage, step_position: int, on: dt.date, *, ignoring_appointment_id: str | None = None
) -> None:
    """Refuse booking a session of a step on ``on`` unless every rule allows it.

    Raises RuleViolation (refunded), NotFound (no such step), PackageExpired (``on`` after expiry),
    NoSessionsRemaining, or BookingRefused for the step rules: the previous step must be fully booked or attended,
    ``on`` must be at least ``min_days_after_previous`` after the latest of its sessions, at least
    ``min_days_between_sessions`` away from each other session of the step (before or after it), and not before
    the purchase. BookingRefused.earliest is the first date from ``on`` onwards that the rules allow, or None
    when none does before expiry. ``ignoring_appointment_id``: check as if that appointment's booking were
    released (moving an appointment).
    """
    book = replay(cp)
    if ignoring_appointment_id is not None:
        book = book.without({ignoring_appointment_id})
    check_step_rules(cp, book, step_position, on)


def earliest_booking_date(
    cp: ClientPackage, step_position: int, from_date: dt.date, *, ignoring_appointment_id: str | None = None
) -> dt.date | None:
    """The first date ≥ ``from_date`` on which ``check_booking`` passes, or None when there is none."""
    book = replay(cp)
    if ignoring_appointment_id is not None:
        book = book.without({ignoring_appointment_id})
    step = cp.step(step_position)
    if cp.status is not ClientPackageStatus.ACTIVE or from_date > cp.expires_on:
        return None
    if book_balance(cp, book, step_position).remaining <= 0:
        return None
    day, _ = _first_allowed(cp, book, step, from_date)
    return day if day is not None and day <= cp.expires_on else None


def broken_bookings(cp: ClientPackage) -> list[BrokenBooking]:
    """Booked sessions that break the step rules now, by date.

    A booking that depends on a broken one breaks too: with the consultation cancelled, the treatment breaks,
    and so does the review booked after it.
    """
    return _broken(cp, replay(cp))


def bookings_broken_by_cancel(cp: ClientPackage, appointment_id: str) -> list[BrokenBooking]:
    """The bookings that releasing ``appointment_id`` would break (and did not break already), by date."""
    book = replay(cp)
    if appointment_id not in book.reservations:
        raise NotFound(f"No session of {cp.name} is booked for this appointment.")
    already = {b.appointment_id for b in _broken(cp, book)}
    return [b for b in _broken(cp, book.without({appointment_id})) if b.appointment_id not in already]


def check_step_rules(cp: ClientPackage, book: Book, step_position: int, on: dt.date) -> None:
    require_active(cp)
    step = cp.step(step_position)
    if on > cp.expires_on:
        raise PackageExpired(
            f"{cp.name} expires on {format_date(cp.expires_on)}, "
            f"so no session can be booked for {format_date(on)}."
        )
    if book_balance(cp, book, step_position).remaining <= 0:
        raise no_sessions(cp, step)
    _, refusal = _first_allowed(cp, book, step, on)
    if refusal is not None:
        raise refusal


def _first_allowed(
    cp: ClientPackage, book: Book, step: PackageStep, on: dt.date
) -> tuple[dt.date | None, BookingRefused | None]:
    """The first date ≥ ``on`` the step rules allow (ignoring expiry), and the refusal of ``on`` if it is not it.

    The date is None when the previous step is not fully booked. A refusal's ``earliest`` is None when the first
    allowed date is after expiry.
    """
    name = _capitalised(step.name)
    lower, why = cp.purchased_on, f"the package was bought on {format_date(cp.purchased_on)}"
    previous = _previous_step(cp, book, step)
    if previous is not None:
        prev_name = previous.name.lower()
        done = book_sessions(book, previous.position)
        missing = book_balance(cp, book, previous.position).total - len(done)
        if missing > 0:
            plural = "s" if missing > 1 else ""
            what = (
                f"the {prev_name}"
                if missing == 1 and not done
                else f"the remaining {missing} {prev_name} session{plural}"
            )
            reason = f"book {what} first"
            return None, BookingRefused(f"{name} cannot be booked yet: {reason}.", None, reason)
        last = max(s.session_on for s in done)
        after = last + dt.timedelta(days=step.min_days_after_previous)
        if after >= lower:
            what = f"the {prev_name}" if len(done) == 1 else f"the last {prev_name} session"
            if step.min_days_after_previous:
                gap = _days_word(step.min_days_after_previous)
                lower, why = after, f"at least {gap} after {what} on {format_date(last)}"
            else:
                lower, why = after, f"not before {what} on {format_date(last)}"
    day = max(on, lower)
    pushed = day > on
    gap = step.min_days_between_sessions
    if gap:
        own = [s.session_on for s in book_sessions(book, step.position)]
        moved = True
        while moved:
            moved = False
            for other in own:
                if abs((day - other).days) < gap:
                    day, pushed, moved = other + dt.timedelta(days=gap), True, True
                    why = (
                        f"at least {_days_word(gap)} after the previous {step.name.lower()} "
                        f"session on {format_date(other)}"
                    )
    if not pushed:
        return day, None
    if day > cp.expires_on:
        message = (
            f"{name} cannot be booked on {format_date(on)}: the next date allowed, {format_date(day)} ({why}), "
            f"is after the package expires on {format_date(cp.expires_on)}."
        )
        return day, BookingRefused(message, None, why)
    return day, BookingRefused(f"{name} can be booked from {format_date(day)}: {why}.", day, why)


def _previous_step(cp: ClientPackage, book: Book, step: PackageStep) -> PackageStep | None:
    """The nearest earlier step that has sessions (a step adjusted down to none imposes nothing)."""
    for earlier in reversed(cp.steps[: step.position - 1]):
        if book_balance(cp, book, earlier.position).total > 0:
            return earlier
    return None


def _broken(cp: ClientPackage, book: Book) -> list[BrokenBooking]:
    broken: dict[str, BrokenBooking] = {}
    changed = True
    while changed:
        changed = False
        for appointment, session in sorted(book.reservations.items(), key=lambda kv: kv[1].entry_index):
            if appointment in broken:
                continue
            try:
                check_step_rules(
                    cp, book.without({appointment, *broken}), session.step_position, session.session_on
                )
            except DomainError as refusal:
                step = cp.step(session.step_position)
                broken[appointment] = BrokenBooking(
                    appointment_id=appointment,
                    step_position=session.step_position,
                    session_on=session.session_on,
                    message=(
                        f"The {step.name.lower()} booked for {format_date(session.session_on)} "
                        f"no longer fits the package rules. {refusal}"
                    ),
                    earliest=getattr(refusal, "earliest", None),
                )
                changed = True
    return sorted(broken.values(), key=lambda b: (b.session_on, b.step_position, b.appointment_id))


# --- small helpers -------------------------------------------------------------------------------------------


def _capitalised(name: str) -> str:
    return name[:1].upper() + name[1:]


def _days_word(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def step_gaps(ledger: Iterable[LedgerEntry]) -> dict[int, int]:
    """Per step position, the days from the last session redeemed on the step before to the first redeemed on
    this one, for each step where both have a redemption (what the redemption report averages per package
    step, against its ``min_days_after_previous``). Redeem entries count by their ``session_on`` whatever came
    after them, as the report has always counted them."""
    first: dict[int, dt.date] = {}
    last: dict[int, dt.date] = {}
    for entry in ledger:
        if entry.kind is LedgerKind.REDEEM and entry.session_on is not None:
            position, day = entry.step_position, entry.session_on
            first[position] = min(first.get(position, day), day)
            last[position] = max(last.get(position, day), day)
    return {
        position: (day - last[position - 1]).days
        for position, day in sorted(first.items())
        if position - 1 in last
    }
