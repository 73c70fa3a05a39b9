"""Invoices: their life from draft to paid or void, due dates, numbers and VAT per rate (DESIGN.md §3).

An invoice is a **draft** while its lines are being put together: it has no number and no dates, can be
re-priced, edited or discarded. **Issuing** it gives it its number (``INV-2026-0001``, one series per calendar
year of issue, no gaps: a discarded draft never took one), its issue date and its due date (issue date plus
the payment terms). Once issued its lines never change. It ends **paid** (at the desk or through a payment
link) or **void** (a manager's decision, with a reason; the number stays on the void invoice, so the series
still has no gap). A paid invoice is not voided: the sale it completed is refunded instead.

"Overdue" is not stored: it is an issued invoice seen after its due date (``standing``).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, replace

from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.errors import InvalidInput, RuleViolation
from aestheticc_pos.domain.money import Money, sum_money

DEFAULT_PAYMENT_TERMS_DAYS = 14
MAX_PAYMENT_TERMS_DAYS = 120
MAX_VOID_REASON = 500


class InvoiceStatus(enum.StrEnum):
    """What is stored: where the invoice is in its life."""

    DRAFT = "draft"
    ISSUED = "issued"
    PAID = "paid"
    VOID = "void"


class InvoiceStanding(enum.StrEnum):
    """What staff see: the status, with an issued invoice past its due date shown as overdue."""

    DRAFT = "draft"
    ISSUED = "issued"
    OVERDUE = "overdue"
    PAID = "paid"
    VOID = "void"


@dataclass(frozen=True, slots=True)
class Invoice:
    """The parts of an invoice its rules look at. ``number``, ``issued_on`` and ``due_on`` are set at issue."""

    status: InvoiceStatus = InvoiceStatus.DRAFT
    number: str | None = None
    issued_on: dt.date | None = None
    due_on: dt.date | None = None
    void_reason: str | None = None

    @property
    def name(self) -> str:
        """How a sentence names it: "Invoice INV-2026-0001", or "This draft invoice"."""
        return f"Invoice {self.number}" if self.number else "This draft invoice"


def issue(invoice: Invoice, *, number: str, on: dt.date, terms_days: int, total: Money) -> Invoice:
    """Issue a draft on ``on``: it takes ``number`` and is due ``terms_days`` later.

    Refused for anything but a draft, and for a draft that asks for nothing (a total of zero).
    """
    require_issuable(invoice)
    if total.pence <= 0:
        raise RuleViolation(
            "This invoice comes to nothing, so there is nothing to ask the client for. "
            "Add what the client owes, or check the items out at the till."
        )
    return replace(
        invoice,
        status=InvoiceStatus.ISSUED,
        number=number,
        issued_on=on,
        due_on=due_date(on, terms_days),
    )


def require_issuable(invoice: Invoice) -> None:
    """Only a draft is issued, once."""
    if invoice.status is not InvoiceStatus.DRAFT:
        raise RuleViolation(f"{invoice.name} was already issued.")


def require_draft(invoice: Invoice) -> None:
    """Refuse to change the lines or terms of an invoice that was issued (its client may already have it)."""
    if invoice.status is InvoiceStatus.DRAFT:
        return
    raise RuleViolation(
        f"{invoice.name} was already issued, so its lines and terms cannot change. "
        "Void it and issue a new invoice instead."
    )


def awaits_payment(status: InvoiceStatus) -> bool:
    """Issued, and neither paid nor void: the client may pay it, at the desk or through a payment link."""
    return status is InvoiceStatus.ISSUED


def mark_paid(invoice: Invoice) -> Invoice:
    """An issued invoice paid in full (at the desk or through a payment link)."""
    if invoice.status is InvoiceStatus.DRAFT:
        raise RuleViolation("This invoice is still a draft. Issue it before taking payment for it.")
    if invoice.status is InvoiceStatus.PAID:
        raise RuleViolation(f"{invoice.name} is already paid. Nothing more is due.")
    if invoice.status is InvoiceStatus.VOID:
        raise RuleViolation(f"{invoice.name} was voided, so nothing is due on it. Issue a new invoice.")
    return replace(invoice, status=InvoiceStatus.PAID)


def void(invoice: Invoice, reason: str | None) -> Invoice:
    """Void an issued invoice; it keeps its number. ``reason`` is required."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput("Say why the invoice is being voided.", field="reason")
    if len(reason) > MAX_VOID_REASON:
        raise InvalidInput(f"A reason is at most {MAX_VOID_REASON} characters. Shorten it.", field="reason")
    if invoice.status is InvoiceStatus.DRAFT:
        raise RuleViolation("A draft has no number to void. Discard the draft instead.")
    if invoice.status is InvoiceStatus.VOID:
        raise RuleViolation(f"{invoice.name} was already voided.")
    if invoice.status is InvoiceStatus.PAID:
        raise RuleViolation(
            f"{invoice.name} is paid, so it cannot be voided. Refund the sale it was paid with instead."
        )
    return replace(invoice, status=InvoiceStatus.VOID, void_reason=reason)


def require_discardable(invoice: Invoice) -> None:
    """Only a draft can be thrown away: an issued invoice has a number that must stay in the series."""
    if invoice.status is not InvoiceStatus.DRAFT:
        raise RuleViolation(f"{invoice.name} was issued, so it cannot be discarded. Void it instead.")


def standing(invoice: Invoice, today: dt.date) -> InvoiceStanding:
    """The status staff see on ``today``: an issued invoice whose due date has passed is overdue."""
    if invoice.status is InvoiceStatus.ISSUED and is_overdue(invoice.due_on, today):
        return InvoiceStanding.OVERDUE
    return InvoiceStanding(invoice.status.value)


def is_overdue(due_on: dt.date | None, today: dt.date) -> bool:
    """Past due: the client had until the end of ``due_on`` to pay."""
    return due_on is not None and today > due_on


def days_overdue(invoice: Invoice, today: dt.date) -> int:
    """Whole days since the due date of an unpaid issued invoice (0 when it is not overdue)."""
    if standing(invoice, today) is not InvoiceStanding.OVERDUE:
        return 0
    assert invoice.due_on is not None
    return (today - invoice.due_on).days


# --- Due dates and numbers ---------------------------------------------------------------------------------


def check_payment_terms(days: int) -> int:
    """Payment terms are whole days from issue: 0 (due on receipt) to ``MAX_PAYMENT_TERMS_DAYS``."""
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_PAYMENT_TERMS_DAYS:
        raise InvalidInput(
            f"Payment terms are a whole number of days from 0 (due on receipt) to {MAX_PAYMENT_TERMS_DAYS}.",
            field="payment_terms_days",
        )
    return days


def due_date(issued_on: dt.date, terms_days: int) -> dt.date:
    """The last day to pay: the issue date plus the payment terms."""
    return issued_on + dt.timedelta(days=check_payment_terms(terms_days))


def terms_text(terms_days: int) -> str:
    """The payment terms as printed on the invoice: "Payment due within 14 days of the invoice date"."""
    if terms_days == 0:
        return "Payment due on receipt"
    unit = "day" if terms_days == 1 else "days"
    return f"Payment due within {terms_days} {unit} of the invoice date"


def number_series(issued_on: dt.date) -> str:
    """The gap-free series an invoice issued on ``issued_on`` takes its number from: one per calendar year."""
    return f"invoice:{issued_on.year}"


def number_template(issued_on: dt.date) -> str:
    """The format of that series' numbers, ``n`` being the sequence: "INV-2026-{n:04d}" → INV-2026-0001."""
    return f"INV-{issued_on.year}-" + "{n:04d}"


# --- Lines -------------------------------------------------------------------------------------------------


def check_invoice_item(kind: ItemKind) -> None:
    """What may be invoiced: treatments, products and packages. A membership is billed by Direct Debit."""
    if ItemKind(kind) is ItemKind.MEMBERSHIP:
        raise InvalidInput(
            "A membership is billed monthly by Direct Debit, so it cannot go on an invoice. "
            "Sign the client up at the till."
        )


@dataclass(frozen=True, slots=True)
class VatBand:
    """The lines at one VAT rate: what they come to (VAT included) and the VAT inside."""

    vat_rate_bp: int
    net: Money
    vat: Money

    @property
    def excluding_vat(self) -> Money:
        return self.net - self.vat


def vat_bands(lines: list[tuple[int, Money, Money]], currency: str) -> tuple[VatBand, ...]:
    """VAT per rate, highest rate first, from ``(vat_rate_bp, net, vat)`` of each line.

    The VAT of a band is the sum of its lines' VAT (each rounded once, on its line), so the bands add up to
    the invoice's VAT exactly.
    """
    rates = sorted({rate for rate, _, _ in lines}, reverse=True)
    return tuple(
        VatBand(
            vat_rate_bp=rate,
            net=sum_money([net for r, net, _ in lines if r == rate], currency),
            vat=sum_money([vat for r, _, vat in lines if r == rate], currency),
        )
        for rate in rates
    )
