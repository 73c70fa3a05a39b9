"""What a client package is: the terms it was sold under and its append-only session ledger, replayed into
balances. The ledger is the only truth: every balance is derived by replaying it in order.

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
operation that would break this raises instead (``ledger``).

``replay``, ``book_balance`` and ``book_sessions`` are for the other modules of this package; the rest of the code
reads balances through ``ledger`` and ``summaries``.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, replace

from aestheticc_pos.domain.catalogue import PackageStep
from aestheticc_pos.domain.errors import InvalidInput, NoSessionsRemaining, NotFound, RuleViolation
from aestheticc_pos.domain.money import Money

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

    @property
    def total_sessions(self) -> int:
        """The sessions sold, over every step (adjustments aside): a session is worth price ÷ this."""
        return sum(step.sessions for step in self.steps)

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


# --- ledger replay -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Book:
    """The ledger replayed: open reservations by appointment, active redemptions, adjustments, refunds."""

    reservations: dict[str, BookedSession]
    redemptions: tuple[BookedSession, ...]
    adjusted: dict[int, int]
    refunded: dict[int, int]

    def without(self, appointment_ids: set[str]) -> Book:
        """This state with the open reservations of ``appointment_ids`` released."""
        kept = {a: s for a, s in self.reservations.items() if a not in appointment_ids}
        return replace(self, reservations=kept)


def replay(cp: ClientPackage) -> Book:
    """The ledger of ``cp`` replayed in order, by the rules above."""
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
                if same_redemption(redemptions[i], entry):
                    del redemptions[i]
                    break
        elif entry.kind is LedgerKind.ADJUST:
            adjusted[step] = adjusted.get(step, 0) + entry.sessions
        else:
            refunded[step] = refunded.get(step, 0) + entry.sessions
    return Book(reservations, tuple(redemptions), adjusted, refunded)


def same_redemption(session: BookedSession, entry: LedgerEntry) -> bool:
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


def book_balance(cp: ClientPackage, book: Book, position: int) -> StepBalance:
    """The sessions of step ``position`` as ``book`` has them."""
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


def book_sessions(book: Book, step_position: int | None) -> tuple[BookedSession, ...]:
    """The booked and attended sessions in ``book`` (of one step, or all), by date then ledger order."""
    every = (*book.redemptions, *book.reservations.values())
    chosen = [s for s in every if step_position is None or s.step_position == step_position]
    return tuple(sorted(chosen, key=lambda s: (s.session_on, s.entry_index)))


def append_entry(cp: ClientPackage, entry: LedgerEntry) -> ClientPackage:
    return replace(cp, ledger=(*cp.ledger, entry))


# --- shared wording and checks ------------------------------------------------------------------------------


def format_date(day: dt.date) -> str:
    """A date as staff read it, "26 Nov 2026", whatever the system locale."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def require_active(cp: ClientPackage) -> None:
    if cp.status is not ClientPackageStatus.ACTIVE:
        raise RuleViolation(f"{cp.name} has been refunded, so it cannot be used or changed any more.")


def no_sessions(cp: ClientPackage, step: PackageStep) -> NoSessionsRemaining:
    return NoSessionsRemaining(
        f"No {step.name.lower()} session is left in {cp.name}: every one is used or booked."
    )
