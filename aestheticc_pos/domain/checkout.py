"""Taking payment for a sale: tenders and the change due (DESIGN.md §3 "Checkout documents").

``settle`` checks that the tenders pay the quote's total exactly, except that cash may be over-tendered and
the difference given back as change. Package sessions are not tenders: ``pricing.quote`` already priced a
redeemed line at zero.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from aestheticc_pos.domain.errors import InvalidInput, RuleViolation
from aestheticc_pos.domain.money import Money, sum_money


class TenderKind(enum.StrEnum):
    CASH = "cash"
    CARD = "card"  # on the clinic's own terminal: the app records the amount, never card details
    DIRECT_DEBIT = "direct_debit"  # collected against the client's mandate (reference: the mandate id)
    DEPOSIT = "deposit"  # a deposit the client already paid when booking (reference: the deposit)
    PAYMENT_LINK = "payment_link"  # paid through a GoCardless link (reference: the billing request id)


# Tenders that point at a record elsewhere, and the sentence shown when that record is missing.
_NEEDS_REFERENCE = {
    TenderKind.DIRECT_DEBIT: "A Direct Debit payment needs the client's mandate.",
    TenderKind.DEPOSIT: "A deposit payment needs the deposit it comes from.",
    TenderKind.PAYMENT_LINK: "A payment-link payment needs the link it was paid through.",
}

_NAMES = {
    TenderKind.CASH: "cash",
    TenderKind.CARD: "card",
    TenderKind.DIRECT_DEBIT: "Direct Debit",
    TenderKind.DEPOSIT: "deposit",
    TenderKind.PAYMENT_LINK: "payment link",
}


@dataclass(frozen=True, slots=True)
class Tender:
    """One way the client pays part of a sale."""

    kind: TenderKind
    amount: Money
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class Settlement:
    """How a sale was paid: ``paid`` is what was handed over, ``change_due`` goes back in cash."""

    paid: Money
    change_due: Money
    tenders: tuple[Tender, ...]

    def taken_by_kind(self) -> dict[TenderKind, Money]:
        """What the clinic keeps per kind of tender (cash net of change), for the till report."""
        taken: dict[TenderKind, Money] = {}
        for tender in self.tenders:
            taken[tender.kind] = taken.get(tender.kind, Money.zero(tender.amount.currency)) + tender.amount
        if self.change_due:
            taken[TenderKind.CASH] = taken[TenderKind.CASH] - self.change_due
        return taken


def settle(total: Money, tenders: list[Tender] | tuple[Tender, ...]) -> Settlement:
    """Check that ``tenders`` pay ``total``; only cash may exceed it, and the excess is change."""
    tenders = tuple(tenders)
    if total.is_negative:
        raise InvalidInput("A sale cannot have a negative total. Record a refund instead.", field="total")
    for tender in tenders:
        _check_tender(tender, total.currency)

    deposits = sum_money([t.amount for t in tenders if t.kind is TenderKind.DEPOSIT], total.currency)
    if deposits > total:
        raise RuleViolation(
            f"The deposit ({amount_text(deposits)}) is more than this sale ({amount_text(total)}). "
            "Credit only what is due and refund the rest of the deposit."
        )
    not_cash = [t for t in tenders if t.kind is not TenderKind.CASH]
    if sum_money([t.amount for t in not_cash], total.currency) > total:
        kinds = " and ".join(sorted({_NAMES[t.kind] for t in not_cash}))
        raise RuleViolation(
            f"Only cash can be more than what is due ({amount_text(total)}). Lower the {kinds} amount."
        )
    paid = sum_money([t.amount for t in tenders], total.currency)
    if paid < total:
        raise RuleViolation(f"{amount_text(total - paid)} is still due. Add another payment.")
    return Settlement(paid=paid, change_due=paid - total, tenders=tenders)


def amount_text(amount: Money) -> str:
    """An amount for a sentence to staff: "£12.50" (other currencies: "12.50 EUR"). Screens use ui/format.py."""
    if amount.currency == "GBP":
        sign = "-" if amount.is_negative else ""
        whole, pence = divmod(abs(amount.pence), 100)
        return f"{sign}£{whole:,}.{pence:02d}"
    return str(amount)


def _check_tender(tender: Tender, currency: str) -> None:
    name = _NAMES[TenderKind(tender.kind)]
    if tender.amount.currency != currency:
        raise InvalidInput(f"The {name} payment is in another currency than the sale.", field="tenders")
    if tender.amount.pence <= 0:
        raise InvalidInput(f"A {name} payment must be more than zero.", field="tenders")
    if tender.kind in _NEEDS_REFERENCE and not tender.reference:
        raise InvalidInput(_NEEDS_REFERENCE[tender.kind], field="tenders")
