"""Client packages: the session ledger, balances, step delays, expiry and refunds (DESIGN.md §3 "Packages").

A client package is the snapshot of a catalogue package sold to one client plus an append-only ledger. Every
balance is derived by replaying the ledger in order, so the ledger is the only truth:

- RESERVE (an appointment was booked from the package) opens a reservation for that appointment: reserved +1.
- RELEASE closes that appointment's open reservation: reserved −1, the session is free again.
- REDEEM of an appointment that holds an open reservation *converts* it: reserved −1, redeemed +1, ``remaining``
  unchanged. REDEEM without an appointment, or of an appointment holding no reservation, consumes a free session:
  redeemed +1, remaining −1.
- VOID undoes one redemption (the one of its appointment, or else one appointment-less redemption of the same step
  and date): redeemed −1 and the session is free again. A reservation it had converted is not reopened; book again.
- ADJUST adds sessions to the step's total (removes them when negative).
- REFUND closes the unused sessions of a step: they count as ``refunded`` and ``remaining`` becomes 0.

Per step: ``total = redeemed + reserved + refunded + remaining`` and ``remaining`` is never negative: every
operation that would break this raises instead.

Session dates: a reservation's date is its RESERVE ``session_on``, the day of the appointment in the clinic's time
zone (``appointments.clinic_date``); a redemption's date is its REDEEM ``session_on``, the day attended. Step delays
are measured between those dates. Delays are enforced when booking (``reserve``); a redemption records what
happened and is not refused for delays.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, replace

from aestheticc_pos.domain.benefits import PackageCredit
from aestheticc_pos.domain.catalogue import MAX_SESSIONS, MAX_VALIDITY_DAYS, Package, PackageStep
from aestheticc_pos.domain.errors import (
    BookingRefused,
    DomainError,
    InvalidInput,
    NoSessionsRemaining,
    NotFound,
    PackageExpired,
    RuleViolation,
)
from aestheticc_pos.domain.money import Money

EXPIRING_SOON_DAYS = 30
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class ClientPackageStatus(enum.StrEnum):
    ACTIVE = "active"
    REFUNDED = "refunded"


class LedgerKind(enum.StrEnum):
    RESERVE = "reserve"
    RELEASE = "release"
    REDEEM = "redeem"
    VOID = "void"
    ADJUST = "adjust"
    REFUND = "refund"


_ONE_SESSION_KINDS = (LedgerKind.RESERVE, LedgerKind.RELEASE, LedgerKind.REDEEM, LedgerKind.VOID)


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerEntry:
    """One change to a client package's sessions.

    RESERVE, RELEASE, REDEEM and VOID concern one session (``sessions == 1``); ADJUST's ``sessions`` is the
    signed number of sessions added to the step's total; REFUND's is the number of unused sessions closed.
    """

    kind: LedgerKind
    step_position: int
    sessions: int
    session_on: dt.date | None = None
    appointment_id: str | None = None
    reason: str | None = None
    recorded_on: dt.date

    def __post_init__(self) -> None:
        if self.step_position < 1:
            raise InvalidInput("Package steps are numbered from 1.", field="step")
        if self.kind in _ONE_SESSION_KINDS and self.sessions != 1:
            raise InvalidInput(f"A {self.kind} entry concerns exactly one session.", field="sessions")
        if self.kind is LedgerKind.REFUND and self.sessions < 1:
            raise InvalidInput("A refund closes at least one session.", field="sessions")
        if self.kind is LedgerKind.ADJUST and self.sessions == 0:
            raise InvalidInput("An adjustment must add or remove at least one session.", field="sessions")
        if self.kind in (LedgerKind.RESERVE, LedgerKind.RELEASE) and not self.appointment_id:
            raise InvalidInput(f"A {self.kind} entry needs the appointment it concerns.", field="appointment")
        if self.kind in _ONE_SESSION_KINDS and self.session_on is None:
            raise InvalidInput(f"A {self.kind} entry needs the date of its session.", field="session_on")
        if self.kind in (LedgerKind.VOID, LedgerKind.ADJUST) and not (self.reason and self.reason.strip()):
            raise InvalidInput(f"A {self.kind} entry needs a reason.", field="reason")


@dataclass(frozen=True, slots=True)
class ClientPackage:
    """A package sold to a client: the terms it was sold under (snapshot) and its session ledger."""

    id: str
    client_id: str
    package_id: str
    name: str
    price: Money
    purchased_on: dt.date
    expires_on: dt.date
    steps: tuple[PackageStep, ...]
    ledger: tuple[LedgerEntry, ...] = ()
    status: ClientPackageStatus = ClientPackageStatus.ACTIVE

    def __post_init__(self) -> None:
        if not self.steps or [s.position for s in self.steps] != list(range(1, len(self.steps) + 1)):
            raise InvalidInput("Package steps must be numbered 1, 2, 3… in order.", field="steps")
        if self.expires_on < self.purchased_on:
            raise InvalidInput("A package cannot expire before it was bought.", field="expires_on")

    def step(self, position: int) -> PackageStep:
        if not 1 <= position <= len(self.steps):
            raise NotFound(f"{self.name} has no step {position}.")
        return self.steps[position - 1]

    def is_expired_on(self, day: dt.date) -> bool:
        return day > self.expires_on


@dataclass(frozen=True, slots=True)
class StepBalance:
    """Sessions of one step: ``total == redeemed + reserved + refunded + remaining``, all ≥ 0."""

    total: int
    redeemed: int
    reserved: int
    remaining: int
    refunded: int = 0


@dataclass(frozen=True, slots=True)
class BookedSession:
    """A session of a step that is booked (open reservation) or attended (redeemed and not voided)."""

    step_position: int
    session_on: dt.date
    appointment_id: str | None
    redeemed: bool
    entry_index: int  # index in ``ledger`` of the RESERVE or REDEEM entry that made it


@dataclass(frozen=True, slots=True)
class BrokenBooking:
    """A booked session that no longer fits the step rules; ``message`` says so to staff."""

    appointment_id: str
    step_position: int
    session_on: dt.date
    message: str
    earliest: dt.date | None


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
    return _balance(cp, _replay(cp), position)


def remaining_sessions(cp: ClientPackage) -> int:
    """Unused, unbooked sessions over all steps."""
    book = _replay(cp)
    return sum(_balance(cp, book, step.position).remaining for step in cp.steps)


def booked_sessions(cp: ClientPackage, step_position: int | None = None) -> tuple[BookedSession, ...]:
    """The booked and attended sessions (of one step, or all), by date then ledger order."""
    return _sessions(_replay(cp), step_position)


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
    new = step_balance(_append(before, entry), position)
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
    _require_active(cp)
    book = _replay(cp)
    if appointment_id in book.reservations or any(
        r.appointment_id == appointment_id for r in book.redemptions
    ):
        raise RuleViolation("This appointment already holds a session of this package.")
    _check(cp, book, step_position, session_on)
    entry = LedgerEntry(
        kind=LedgerKind.RESERVE,
        step_position=step_position,
        sessions=1,
        session_on=session_on,
        appointment_id=appointment_id,
        recorded_on=today,
    )
    return _append(cp, entry), entry


def release(cp: ClientPackage, appointment_id: str, today: dt.date) -> tuple[ClientPackage, LedgerEntry]:
    """Give back the session booked for ``appointment_id`` (the appointment was cancelled in time)."""
    _require_active(cp)
    booked = _replay(cp).reservations.get(appointment_id)
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
    return _append(cp, entry), entry


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
    _require_active(cp)
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
    book = _replay(cp)
    if appointment_id is not None and any(r.appointment_id == appointment_id for r in book.redemptions):
        raise RuleViolation("This appointment has already been paid with a session of this package.")
    booked = book.reservations.get(appointment_id) if appointment_id is not None else None
    if booked is not None and booked.step_position != step_position:
        booked_step = cp.step(booked.step_position)
        raise RuleViolation(
            f"This appointment is booked as the {booked_step.treatment_name.lower()} of {cp.name}, "
            f"not the {step.treatment_name.lower()}."
        )
    if booked is None and _balance(cp, book, step_position).remaining <= 0:
        raise _no_sessions(cp, step)
    entry = LedgerEntry(
        kind=LedgerKind.REDEEM,
        step_position=step_position,
        sessions=1,
        session_on=session_on,
        appointment_id=appointment_id,
        reason=reason,
        recorded_on=today,
    )
    return _append(cp, entry), entry


def void_redemption(
    cp: ClientPackage, redemption: str | int, reason: str, today: dt.date
) -> tuple[ClientPackage, LedgerEntry]:
    """Undo a redemption: ``redemption`` is its appointment id, or the index in ``cp.ledger`` of its REDEEM entry.

    The session becomes free again (a reservation it had converted is not reopened).
    """
    _require_active(cp)
    _require_reason(reason, "Undoing a redemption")
    book = _replay(cp)
    if isinstance(redemption, str):
        target = next((r for r in book.redemptions if r.appointment_id == redemption), None)
    else:
        if not 0 <= redemption < len(cp.ledger) or cp.ledger[redemption].kind is not LedgerKind.REDEEM:
            raise NotFound("That ledger entry is not a redemption of this package.")
        redeemed = cp.ledger[redemption]
        if redeemed.appointment_id is not None:
            target = next((r for r in book.redemptions if r.entry_index == redemption), None)
        else:  # appointment-less redemptions of one step and date are interchangeable
            target = next((r for r in book.redemptions if _same_redemption(r, redeemed)), None)
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
    return _append(cp, entry), entry


def adjust(
    cp: ClientPackage, step_position: int, delta: int, reason: str, today: dt.date
) -> tuple[ClientPackage, LedgerEntry]:
    """Add ``delta`` sessions to a step's total (remove them when negative): a manager's correction."""
    _require_active(cp)
    step = cp.step(step_position)
    _require_reason(reason, "An adjustment")
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise InvalidInput(
            "An adjustment adds or removes a whole number of sessions, not zero.", field="delta"
        )
    balance = step_balance(cp, step_position)
    if balance.remaining + delta < 0:
        raise NoSessionsRemaining(
            f"Only {_sessions_word(balance.remaining)} of {step.treatment_name.lower()} "
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
    return _append(cp, entry), entry


def refund_unused(cp: ClientPackage, today: dt.date) -> tuple[ClientPackage, tuple[LedgerEntry, ...], Money]:
    """Close every unused session and give back ``price × unused ÷ total`` (half up), never the list price.

    ``total`` counts every session of the package including adjustments. Refused while a session is booked
    (cancel or check it out first) and when nothing is unused. The package is REFUNDED afterwards.
    """
    _require_active(cp)
    book = _replay(cp)
    balances = [(step, _balance(cp, book, step.position)) for step in cp.steps]
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
    _require_active(cp)
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


# --- step delays ---------------------------------------------------------------------------------------------


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
    book = _replay(cp)
    if ignoring_appointment_id is not None:
        book = book.without({ignoring_appointment_id})
    _check(cp, book, step_position, on)


def earliest_booking_date(
    cp: ClientPackage, step_position: int, from_date: dt.date, *, ignoring_appointment_id: str | None = None
) -> dt.date | None:
    """The first date ≥ ``from_date`` on which ``check_booking`` passes, or None when there is none."""
    book = _replay(cp)
    if ignoring_appointment_id is not None:
        book = book.without({ignoring_appointment_id})
    step = cp.step(step_position)
    if cp.status is not ClientPackageStatus.ACTIVE or from_date > cp.expires_on:
        return None
    if _balance(cp, book, step_position).remaining <= 0:
        return None
    day, _ = _first_allowed(cp, book, step, from_date)
    return day if day is not None and day <= cp.expires_on else None


def broken_bookings(cp: ClientPackage) -> list[BrokenBooking]:
    """Booked sessions that break the step rules now, by date.

    A booking that depends on a broken one breaks too: with the consultation cancelled, the treatment breaks,
    and so does the review booked after it.
    """
    return _broken(cp, _replay(cp))


def bookings_broken_by_cancel(cp: ClientPackage, appointment_id: str) -> list[BrokenBooking]:
    """The bookings that releasing ``appointment_id`` would break (and did not break already), by date."""
    book = _replay(cp)
    if appointment_id not in book.reservations:
        raise NotFound(f"No session of {cp.name} is booked for this appointment.")
    already = {b.appointment_id for b in _broken(cp, book)}
    return [b for b in _broken(cp, book.without({appointment_id})) if b.appointment_id not in already]


# --- which package, what the practitioner sees, what checkout can use ------------------------------------------


def step_for_treatment(cp: ClientPackage, treatment_id: str, today: dt.date) -> int | None:
    """The step of ``cp`` that a session of ``treatment_id`` uses today: the first matching step with sessions left."""
    if cp.status is not ClientPackageStatus.ACTIVE or cp.is_expired_on(today):
        return None
    book = _replay(cp)
    for step in cp.steps:
        if step.treatment_id == treatment_id and _balance(cp, book, step.position).remaining > 0:
            return step.position
    return None


def choose_package(
    client_packages: list[ClientPackage] | tuple[ClientPackage, ...], treatment_id: str, on: dt.date
) -> ClientPackage | None:
    """The package that pays for ``treatment_id`` on ``on``: the usable one that expires first.

    Ties go to the earliest purchased, then the smallest id, so every till chooses the same package.
    """
    usable = [cp for cp in client_packages if step_for_treatment(cp, treatment_id, on) is not None]
    return min(usable, key=lambda cp: (cp.expires_on, cp.purchased_on, cp.id), default=None)


@dataclass(frozen=True, slots=True)
class StepSummary:
    position: int
    treatment_id: str
    treatment_name: str
    total: int
    used: int
    booked: int
    remaining: int
    next_booking_on: dt.date | None


@dataclass(frozen=True, slots=True)
class PackageSummary:
    """What a practitioner or receptionist sees of a client package on ``today``."""

    client_package_id: str
    name: str
    status: ClientPackageStatus
    purchased_on: dt.date
    expires_on: dt.date
    days_to_expiry: int  # negative once expired
    expiring_soon: bool  # active and expiring within EXPIRING_SOON_DAYS
    expired: bool
    steps: tuple[StepSummary, ...]

    @property
    def remaining(self) -> int:
        return sum(step.remaining for step in self.steps)


def package_summary(cp: ClientPackage, today: dt.date) -> PackageSummary:
    book = _replay(cp)
    steps = []
    for step in cp.steps:
        balance = _balance(cp, book, step.position)
        steps.append(
            StepSummary(
                position=step.position,
                treatment_id=step.treatment_id,
                treatment_name=step.treatment_name,
                total=balance.total,
                used=balance.redeemed,
                booked=balance.reserved,
                remaining=balance.remaining,
                next_booking_on=earliest_booking_date(cp, step.position, today),
            )
        )
    days = (cp.expires_on - today).days
    expired = days < 0
    active = cp.status is ClientPackageStatus.ACTIVE
    return PackageSummary(
        client_package_id=cp.id,
        name=cp.name,
        status=cp.status,
        purchased_on=cp.purchased_on,
        expires_on=cp.expires_on,
        days_to_expiry=days,
        expiring_soon=active and not expired and days <= EXPIRING_SOON_DAYS,
        expired=expired,
        steps=tuple(steps),
    )


def package_credits(
    client_packages: list[ClientPackage] | tuple[ClientPackage, ...], on: dt.date
) -> tuple[PackageCredit, ...]:
    """The package sessions checkout may use on ``on`` (the ``Benefits.package_credits`` of ``quote``).

    Per active, unexpired package: one credit per open reservation (carrying its appointment id and its number
    among the step's sessions by date), and one free credit per step with sessions remaining (numbered
    redeemed + 1).
    """
    credits: list[PackageCredit] = []
    for cp in client_packages:
        if cp.status is not ClientPackageStatus.ACTIVE or cp.is_expired_on(on):
            continue
        book = _replay(cp)
        for step in cp.steps:
            balance = _balance(cp, book, step.position)
            for number, session in enumerate(_sessions(book, step.position), start=1):
                if not session.redeemed and session.session_on <= cp.expires_on:
                    credits.append(_credit(cp, step, balance, number, session.appointment_id))
            if balance.remaining > 0:
                credits.append(_credit(cp, step, balance, balance.redeemed + 1, None))
    return tuple(credits)


def _credit(
    cp: ClientPackage, step: PackageStep, balance: StepBalance, number: int, appointment_id: str | None
) -> PackageCredit:
    return PackageCredit(
        client_package_id=cp.id,
        package_name=cp.name,
        treatment_id=step.treatment_id,
        step_position=step.position,
        session_number=number,
        step_sessions=balance.total,
        remaining=balance.remaining,
        expires_on=cp.expires_on,
        appointment_id=appointment_id,
    )


def format_date(day: dt.date) -> str:
    """A date as staff read it, "26 Nov 2026", whatever the system locale."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


# --- ledger replay -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Book:
    """The ledger replayed: open reservations by appointment, active redemptions, adjustments, refunds."""

    reservations: dict[str, BookedSession]
    redemptions: tuple[BookedSession, ...]
    adjusted: dict[int, int]
    refunded: dict[int, int]

    def without(self, appointment_ids: set[str]) -> _Book:
        """This state with the open reservations of ``appointment_ids`` released."""
        kept = {a: s for a, s in self.reservations.items() if a not in appointment_ids}
        return replace(self, reservations=kept)


def _replay(cp: ClientPackage) -> _Book:
    reservations: dict[str, BookedSession] = {}
    redemptions: list[BookedSession] = []
    adjusted: dict[int, int] = {}
    refunded: dict[int, int] = {}
    for index, entry in enumerate(cp.ledger):
        step, appointment = entry.step_position, entry.appointment_id
        if entry.kind is LedgerKind.RESERVE:
            assert appointment is not None and entry.session_on is not None
            reservations[appointment] = BookedSession(step, entry.session_on, appointment, False, index)
        elif entry.kind is LedgerKind.RELEASE:
            reservations.pop(entry.appointment_id or "", None)
        elif entry.kind is LedgerKind.REDEEM:
            assert entry.session_on is not None
            if appointment is not None and appointment in reservations:
                del reservations[appointment]  # the reservation becomes this redemption
            redemptions.append(BookedSession(step, entry.session_on, appointment, True, index))
        elif entry.kind is LedgerKind.VOID:
            for i in range(len(redemptions) - 1, -1, -1):
                if _same_redemption(redemptions[i], entry):
                    del redemptions[i]
                    break
        elif entry.kind is LedgerKind.ADJUST:
            adjusted[step] = adjusted.get(step, 0) + entry.sessions
        else:
            refunded[step] = refunded.get(step, 0) + entry.sessions
    return _Book(reservations, tuple(redemptions), adjusted, refunded)


def _same_redemption(session: BookedSession, entry: LedgerEntry) -> bool:
    """Whether ``entry`` (a REDEEM or VOID) names the redemption ``session``.

    With an appointment, the appointment identifies it; without, any redemption of the same step and date will
    do, since such redemptions are indistinguishable.
    """
    if entry.appointment_id is not None:
        return session.appointment_id == entry.appointment_id
    return (
        session.appointment_id is None
        and session.step_position == entry.step_position
        and session.session_on == entry.session_on
    )


def _balance(cp: ClientPackage, book: _Book, position: int) -> StepBalance:
    total = cp.step(position).sessions + book.adjusted.get(position, 0)
    redeemed = sum(1 for r in book.redemptions if r.step_position == position)
    reserved = sum(1 for r in book.reservations.values() if r.step_position == position)
    refunded = book.refunded.get(position, 0)
    return StepBalance(
        total=total,
        redeemed=redeemed,
        reserved=reserved,
        remaining=total - redeemed - reserved - refunded,
        refunded=refunded,
    )


def _sessions(book: _Book, step_position: int | None) -> tuple[BookedSession, ...]:
    every = (*book.redemptions, *book.reservations.values())
    chosen = [s for s in every if step_position is None or s.step_position == step_position]
    return tuple(sorted(chosen, key=lambda s: (s.session_on, s.entry_index)))


def _append(cp: ClientPackage, entry: LedgerEntry) -> ClientPackage:
    return replace(cp, ledger=(*cp.ledger, entry))


# --- the step rules ------------------------------------------------------------------------------------------


def _check(cp: ClientPackage, book: _Book, step_position: int, on: dt.date) -> None:
    _require_active(cp)
    step = cp.step(step_position)
    if on > cp.expires_on:
        raise PackageExpired(
            f"{cp.name} expires on {format_date(cp.expires_on)}, "
            f"so no session can be booked for {format_date(on)}."
        )
    if _balance(cp, book, step_position).remaining <= 0:
        raise _no_sessions(cp, step)
    _, refusal = _first_allowed(cp, book, step, on)
    if refusal is not None:
        raise refusal


def _first_allowed(
    cp: ClientPackage, book: _Book, step: PackageStep, on: dt.date
) -> tuple[dt.date | None, BookingRefused | None]:
    """The first date ≥ ``on`` the step rules allow (ignoring expiry), and the refusal of ``on`` if it is not it.

    The date is None when the previous step is not fully booked. A refusal's ``earliest`` is None when the first
    allowed date is after expiry.
    """
    name = _capitalised(step.treatment_name)
    lower, why = cp.purchased_on, f"the package was bought on {format_date(cp.purchased_on)}"
    previous = _previous_step(cp, book, step)
    if previous is not None:
        prev_name = previous.treatment_name.lower()
        done = _sessions(book, previous.position)
        missing = _balance(cp, book, previous.position).total - len(done)
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
        own = [s.session_on for s in _sessions(book, step.position)]
        moved = True
        while moved:
            moved = False
            for other in own:
                if abs((day - other).days) < gap:
                    day, pushed, moved = other + dt.timedelta(days=gap), True, True
                    why = (
                        f"at least {_days_word(gap)} after the previous {step.treatment_name.lower()} "
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


def _previous_step(cp: ClientPackage, book: _Book, step: PackageStep) -> PackageStep | None:
    """The nearest earlier step that has sessions (a step adjusted down to none imposes nothing)."""
    for earlier in reversed(cp.steps[: step.position - 1]):
        if _balance(cp, book, earlier.position).total > 0:
            return earlier
    return None


def _broken(cp: ClientPackage, book: _Book) -> list[BrokenBooking]:
    broken: dict[str, BrokenBooking] = {}
    changed = True
    while changed:
        changed = False
        for appointment, session in sorted(book.reservations.items(), key=lambda kv: kv[1].entry_index):
            if appointment in broken:
                continue
            try:
                _check(cp, book.without({appointment, *broken}), session.step_position, session.session_on)
            except DomainError as refusal:
                step = cp.step(session.step_position)
                broken[appointment] = BrokenBooking(
                    appointment_id=appointment,
                    step_position=session.step_position,
                    session_on=session.session_on,
                    message=(
                        f"The {step.treatment_name.lower()} booked for {format_date(session.session_on)} "
                        f"no longer fits the package rules. {refusal}"
                    ),
                    earliest=getattr(refusal, "earliest", None),
                )
                changed = True
    return sorted(broken.values(), key=lambda b: (b.session_on, b.step_position, b.appointment_id))


# --- small helpers -------------------------------------------------------------------------------------------


def _require_active(cp: ClientPackage) -> None:
    if cp.status is not ClientPackageStatus.ACTIVE:
        raise RuleViolation(f"{cp.name} has been refunded, so it cannot be used or changed any more.")


def _require_reason(reason: str | None, what: str) -> None:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(f"{what} needs a reason.", field="reason")


def _no_sessions(cp: ClientPackage, step: PackageStep) -> NoSessionsRemaining:
    return NoSessionsRemaining(
        f"No {step.treatment_name.lower()} session is left in {cp.name}: every one is used or booked."
    )


def _capitalised(name: str) -> str:
    return name[:1].upper() + name[1:]


def _days_word(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _sessions_word(n: int) -> str:
    return f"{n} session" if n == 1 else f"{n} sessions"
