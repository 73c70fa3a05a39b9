"""Refunds and voids of a sale (DESIGN.md §3 "Checkout documents"): what goes back, line by line, and how.

A sale is never edited. A **refund** is a new document that points to the sale and gives back some of its
lines (or some units of a line); a **void** gives back all of a sale on the day it was made, before the day is
closed. Both are written with negative amounts, so a day's or a month's takings are the plain sum of its
documents.

- A line gives back its share of what was paid for it, unit by unit: after all its units are given back the
  refunds add up to exactly what the line cost (each share is the cumulative share less what earlier refunds
  gave back, so rounding never loses or adds a penny).
- A package line gives back the value of its unused sessions (``price × unused ÷ total``, rounded half up —
  ``packages.ledger.refund_unused``), never more than was paid for it; a redemption line (a session paid by a
  package, net 0) gives the session back and no money.
- Money goes back by cash, by card on the clinic's terminal, or the way it was paid: each tender of the sale
  in turn, up to what it has not yet given back — a Direct Debit, payment-link or deposit tender through
  GoCardless.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aestheticc_pos.domain.checkout import Tender, TenderKind, amount_text
from aestheticc_pos.domain.errors import InvalidInput, RuleViolation
from aestheticc_pos.domain.money import Money, round_half_up_div, sum_money


class DocumentKind(enum.StrEnum):
    """What a row of the sales table is."""

    SALE = "sale"
    REFUND = "refund"
    VOID = "void"


class RefundMethod(enum.StrEnum):
    """How the money goes back to the client."""

    CASH = "cash"
    CARD = "card"  # on the clinic's own terminal
    ORIGINAL = "original"  # each tender of the sale in turn, GoCardless ones through GoCardless


# Tenders whose money GoCardless holds: given back through a GoCardless refund of the payment.
THROUGH_GOCARDLESS = frozenset({TenderKind.DIRECT_DEBIT, TenderKind.PAYMENT_LINK, TenderKind.DEPOSIT})


@dataclass(frozen=True, slots=True)
class SoldLine:
    """A line of the original sale, with how many of its units earlier refunds already gave back."""

    position: int
    name: str
    quantity: int
    gross: Money
    discount: Money
    net: Money
    vat: Money
    refunded_quantity: int = 0

    @property
    def returnable(self) -> int:
        return self.quantity - self.refunded_quantity


@dataclass(frozen=True, slots=True)
class LineBack:
    """What one refund line gives back (positive amounts; the document stores them negative)."""

    position: int
    name: str
    quantity: int
    gross: Money
    discount: Money
    net: Money
    vat: Money


@dataclass(frozen=True, slots=True)
class PaidTender:
    """A tender of the original sale and how much of it earlier refunds already gave back."""

    tender: Tender
    given_back: Money

    @property
    def left(self) -> Money:
        return self.tender.amount - self.given_back


def lines_back(sold: Sequence[SoldLine], wanted: Mapping[int, int]) -> tuple[LineBack, ...]:
    """The share of each chosen line (``wanted``: position → units) to give back, in the sale's order."""
    by_position = {line.position: line for line in sold}
    chosen = {position: units for position, units in wanted.items() if units}
    if not chosen:
        raise InvalidInput("Choose at least one line to refund.", field="lines")
    for position, units in chosen.items():
        line = by_position.get(position)
        if line is None:
            raise InvalidInput("That line is not on this sale.", field="lines")
        if units < 0:
            raise InvalidInput(f"Refund a whole number of {line.name}, not a negative one.", field="lines")
        if line.returnable == 0:
            raise RuleViolation(f"{line.name} has already been refunded in full.")
        if units > line.returnable:
            raise InvalidInput(f"Only {line.returnable} of {line.name} can still be refunded.", field="lines")
    return tuple(_share(by_position[p], chosen[p]) for p in sorted(chosen))


def everything_left(sold: Sequence[SoldLine]) -> dict[int, int]:
    """Every unit not yet given back: a void, or "refund the whole sale"."""
    return {line.position: line.returnable for line in sold if line.returnable}


def package_value_back(line: LineBack, value: Money) -> LineBack:
    """A package line gives back the value of its unused sessions, never more than was paid for it; its VAT
    and discount scale with it."""
    if value.is_negative:
        raise RuleViolation("A package's unused sessions cannot be worth less than nothing.")
    net = value.min(line.net)
    if net == line.net:
        return line
    vat = Money(_scaled(line.vat.pence, net.pence, line.net.pence), net.currency)
    discount = Money(_scaled(line.discount.pence, net.pence, line.net.pence), net.currency)
    return LineBack(line.position, line.name, line.quantity, net + discount, discount, net, vat)


def tenders_back(paid: Sequence[PaidTender], amount: Money, method: RefundMethod) -> tuple[Tender, ...]:
    """The tenders (positive amounts) that give ``amount`` back to the client.

    By cash or card, one tender. The way it was paid: each tender of the sale in turn, up to what it has not
    given back yet; a GoCardless tender keeps its reference (the GoCardless payment) so its refund can be sent.
    """
    if amount.is_negative:
        raise InvalidInput("A refund cannot take money from the client.", field="amount")
    if not amount:
        return ()
    if method is RefundMethod.CASH:
        return (Tender(TenderKind.CASH, amount),)
    if method is RefundMethod.CARD:
        return (Tender(TenderKind.CARD, amount),)
    left = sum_money([t.left for t in paid], amount.currency)
    if left < amount:
        raise RuleViolation(
            f"Only {amount_text(left)} of this sale's payments is left to give back the way it was paid. "
            "Give the rest back in cash or by card."
        )
    out: list[Tender] = []
    owed = amount
    for each in paid:
        if not owed:
            break
        part = each.left.min(owed)
        if part.pence <= 0:
            continue
        out.append(Tender(each.tender.kind, part, each.tender.reference))
        owed = owed - part
    return tuple(out)


def total_back(lines: Sequence[LineBack], currency: str) -> tuple[Money, Money, Money, Money]:
    """Gross, discount, net and VAT given back by ``lines``."""
    return (
        sum_money([line.gross for line in lines], currency),
        sum_money([line.discount for line in lines], currency),
        sum_money([line.net for line in lines], currency),
        sum_money([line.vat for line in lines], currency),
    )


def _share(line: SoldLine, units: int) -> LineBack:
    before, after = line.refunded_quantity, line.refunded_quantity + units

    def part(total: Money) -> Money:
        cumulative = round_half_up_div(total.pence * after, line.quantity)
        earlier = round_half_up_div(total.pence * before, line.quantity)
        return Money(cumulative - earlier, total.currency)

    gross, discount, vat = part(line.gross), part(line.discount), part(line.vat)
    return LineBack(line.position, line.name, units, gross, discount, gross - discount, vat)


def _scaled(pence: int, numerator: int, denominator: int) -> int:
    return 0 if denominator == 0 else round_half_up_div(pence * numerator, denominator)
