"""Closing the day: what the till expects per tender, the cash counted against it, and what a closed day means
(the clinic's day, in its time zone; an X report any time, a Z report once, at close).

Money in: every tender of the day's sales, cash net of the change given. Money out: refunds, by the way they were
paid back. The drawer should hold the opening float plus the cash taken minus the cash paid back; the count
says what it holds. A difference is allowed — drawers are counted by people — but it needs a reason, which the
Z report carries. A closed day is never changed: a mistake found later is put right by a new document (a refund, a
correction) on a later day.

Pure rules: the service reads the day's sales and refunds and hands them in as ``Movement`` values.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aestheticc_pos.domain.checkout import TenderKind, amount_text
from aestheticc_pos.domain.errors import InvalidInput, RuleViolation
from aestheticc_pos.domain.money import Money, sum_money


class Direction(enum.StrEnum):
    IN = "in"  # a sale's tender
    OUT = "out"  # a refund paid back


@dataclass(frozen=True, slots=True)
class Movement:
    """Money that moved through the till: ``amount`` (positive) in or out by ``tender``, on document ``number``."""

    tender: TenderKind
    direction: Direction
    amount: Money
    number: str

    def __post_init__(self) -> None:
        if self.amount.is_negative:
            raise ValueError("a movement's amount is positive; its direction says which way it went")


@dataclass(frozen=True, slots=True)
class TenderLine:
    """One tender's part of the day: taken in, paid back, and what stays with the clinic."""

    tender: TenderKind
    taken: Money
    refunded: Money

    @property
    def net(self) -> Money:
        return self.taken - self.refunded


@dataclass(frozen=True, slots=True)
class Takings:
    """The day per tender (every tender listed, in a fixed order, zero where nothing moved) and in total."""

    lines: tuple[TenderLine, ...]
    currency: str

    def line(self, tender: TenderKind) -> TenderLine:
        return next(line for line in self.lines if line.tender is tender)

    @property
    def taken(self) -> Money:
        return sum_money([line.taken for line in self.lines], self.currency)

    @property
    def refunded(self) -> Money:
        return sum_money([line.refunded for line in self.lines], self.currency)

    @property
    def net(self) -> Money:
        return self.taken - self.refunded


def takings(movements: Iterable[Movement], currency: str = "GBP") -> Takings:
    """The day's takings per tender from its movements (all in ``currency``)."""
    taken: dict[TenderKind, Money] = {t: Money.zero(currency) for t in TenderKind}
    refunded: dict[TenderKind, Money] = {t: Money.zero(currency) for t in TenderKind}
    for movement in movements:
        if movement.amount.currency != currency:
            raise InvalidInput(f"Document {movement.number} is in another currency than the till's day.")
        bucket = taken if movement.direction is Direction.IN else refunded
        bucket[movement.tender] = bucket[movement.tender] + movement.amount
    lines = tuple(TenderLine(t, taken[t], refunded[t]) for t in TenderKind)
    return Takings(lines=lines, currency=currency)


@dataclass(frozen=True, slots=True)
class CashCount:
    """The drawer: the float it started with, what should be in it, what was counted, and why they differ."""

    opening_float: Money
    expected: Money
    counted: Money
    reason: str

    @property
    def difference(self) -> Money:
        """Counted minus expected: positive is over, negative is short."""
        return self.counted - self.expected

    @property
    def to_bank(self) -> Money:
        """The cash to take to the bank, leaving the float in the drawer for tomorrow."""
        return self.counted - self.opening_float


def count_cash(day: Takings, *, opening_float: Money, counted: Money, reason: str = "") -> CashCount:
    """Check a cash count against the day. A difference needs a reason (a sentence saying so otherwise)."""
    for amount, what in ((opening_float, "The float"), (counted, "The cash counted")):
        if amount.currency != day.currency:
            raise InvalidInput(f"{what} is in another currency than the till's day.")
        if amount.is_negative:
            raise InvalidInput(f"{what} cannot be negative.")
    expected = opening_float + day.line(TenderKind.CASH).net
    reason = " ".join((reason or "").split())
    count = CashCount(opening_float=opening_float, expected=expected, counted=counted, reason=reason)
    if count.difference and not reason:
        short = count.difference.is_negative
        raise RuleViolation(
            f"The drawer is {amount_text(-count.difference if short else count.difference)} "
            f"{'short' if short else 'over'} "
            f"(expected {amount_text(expected)}, counted {amount_text(counted)}). "
            "Count again, or say why before closing the day."
        )
    return count


class ReportKind(enum.StrEnum):
    X = "X"  # a look at the day so far; changes nothing
    Z = "Z"  # the close: once a day, and the day is closed


def require_open(day: dt.date, closed_days: Iterable[dt.date]) -> None:
    """Refuse a change to a closed day: it is corrected by a new document on a later day."""
    if day in set(closed_days):
        raise RuleViolation(
            f"{day.day} {day:%b %Y} is closed, so nothing recorded on it can change. "
            "Record a refund or a correction today instead."
        )


def unsettled_visits(booked: Mapping[str, dt.datetime], now: dt.datetime) -> list[str]:
    """Appointments still "booked" whose time has passed (id → start), oldest first: before the day closes each
    is marked attended, no-show or cancelled, so no package session stays held by a visit that is over."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return [a for a, starts in sorted(booked.items(), key=lambda item: (item[1], item[0])) if starts < now]
