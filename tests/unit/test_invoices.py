"""Invoice rules: draft → issued → paid | void, void keeps the number, overdue is derived, due dates, VAT bands."""

from __future__ import annotations

import datetime as dt

import pytest

from aestheticc_pos.domain import invoices as rules
from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.errors import InvalidInput, RuleViolation
from aestheticc_pos.domain.invoices import Invoice, InvoiceStanding, InvoiceStatus
from aestheticc_pos.domain.money import Money

GBP = Money.parse
NOV_24 = dt.date(2026, 11, 24)


def _issued(terms: int = 14) -> Invoice:
    return rules.issue(Invoice(), number="INV-2026-0007", on=NOV_24, terms_days=terms, total=GBP("120"))


def test_issuing_a_draft_gives_it_its_number_and_a_due_date_from_the_payment_terms() -> None:
    invoice = _issued(terms=30)
    assert (invoice.status, invoice.number, invoice.issued_on, invoice.due_on) == (
        InvoiceStatus.ISSUED,
        "INV-2026-0007",
        NOV_24,
        dt.date(2026, 12, 24),
    )


def test_an_invoice_is_issued_once() -> None:
    with pytest.raises(RuleViolation, match="Invoice INV-2026-0007 was already issued."):
        rules.issue(_issued(), number="INV-2026-0008", on=NOV_24, terms_days=14, total=GBP("1"))


def test_an_invoice_that_comes_to_nothing_is_not_issued() -> None:
    with pytest.raises(RuleViolation, match="comes to nothing"):
        rules.issue(Invoice(), number="INV-2026-0001", on=NOV_24, terms_days=14, total=GBP("0"))


def test_paid_is_reached_only_from_issued() -> None:
    assert rules.mark_paid(_issued()).status is InvoiceStatus.PAID
    with pytest.raises(RuleViolation, match="still a draft. Issue it before taking payment"):
        rules.mark_paid(Invoice())
    with pytest.raises(RuleViolation, match="already paid"):
        rules.mark_paid(rules.mark_paid(_issued()))
    with pytest.raises(RuleViolation, match="was voided, so nothing is due"):
        rules.mark_paid(rules.void(_issued(), "Issued to the wrong client"))


def test_void_keeps_the_number_and_the_reason() -> None:
    voided = rules.void(_issued(), "  Issued to the   wrong client ")
    assert (voided.status, voided.number, voided.void_reason) == (
        InvoiceStatus.VOID,
        "INV-2026-0007",
        "Issued to the wrong client",
    )


def test_void_needs_a_reason() -> None:
    with pytest.raises(InvalidInput, match="Say why the invoice is being voided."):
        rules.void(_issued(), "   ")


def test_a_paid_invoice_is_refunded_not_voided() -> None:
    with pytest.raises(RuleViolation, match="is paid, so it cannot be voided. Refund the sale"):
        rules.void(rules.mark_paid(_issued()), "Client changed their mind")


def test_a_draft_is_discarded_not_voided_and_an_issued_invoice_is_voided_not_discarded() -> None:
    with pytest.raises(RuleViolation, match="A draft has no number to void. Discard the draft instead."):
        rules.void(Invoice(), "Not needed")
    rules.require_discardable(Invoice())
    with pytest.raises(RuleViolation, match="cannot be discarded. Void it instead."):
        rules.require_discardable(_issued())


def test_only_a_draft_can_be_edited() -> None:
    rules.require_draft(Invoice())
    for invoice in (_issued(), rules.mark_paid(_issued()), rules.void(_issued(), "Duplicate")):
        with pytest.raises(RuleViolation, match="its lines and terms cannot change"):
            rules.require_draft(invoice)


def test_an_issued_invoice_is_overdue_the_day_after_its_due_date() -> None:
    invoice = _issued(terms=14)  # due 8 Dec 2026
    assert rules.standing(invoice, dt.date(2026, 12, 8)) is InvoiceStanding.ISSUED
    assert rules.standing(invoice, dt.date(2026, 12, 9)) is InvoiceStanding.OVERDUE
    assert rules.days_overdue(invoice, dt.date(2026, 12, 8)) == 0
    assert rules.days_overdue(invoice, dt.date(2026, 12, 20)) == 12


def test_paid_void_and_draft_invoices_are_never_overdue() -> None:
    long_after = dt.date(2027, 6, 1)
    assert rules.standing(rules.mark_paid(_issued()), long_after) is InvoiceStanding.PAID
    assert rules.standing(rules.void(_issued(), "Duplicate"), long_after) is InvoiceStanding.VOID
    assert rules.standing(Invoice(), long_after) is InvoiceStanding.DRAFT


@pytest.mark.parametrize("days", [-1, 121, 1.5, True, "14"])
def test_payment_terms_are_whole_days_from_0_to_120(days: object) -> None:
    with pytest.raises(InvalidInput, match="Payment terms are a whole number of days"):
        rules.check_payment_terms(days)  # type: ignore[arg-type]


def test_due_date_and_terms_as_printed() -> None:
    assert rules.due_date(dt.date(2026, 12, 31), 14) == dt.date(2027, 1, 14)
    assert rules.due_date(NOV_24, 0) == NOV_24
    assert rules.terms_text(0) == "Payment due on receipt"
    assert rules.terms_text(1) == "Payment due within 1 day of the invoice date"
    assert rules.terms_text(30) == "Payment due within 30 days of the invoice date"


def test_numbers_come_from_one_series_per_year_of_issue() -> None:
    assert rules.number_series(dt.date(2026, 12, 31)) == "invoice:2026"
    assert rules.number_series(dt.date(2027, 1, 1)) == "invoice:2027"
    assert rules.number_template(NOV_24).format(n=1) == "INV-2026-0001"
    assert rules.number_template(NOV_24).format(n=12345) == "INV-2026-12345"


def test_a_membership_cannot_be_invoiced() -> None:
    for kind in (ItemKind.TREATMENT, ItemKind.PRODUCT, ItemKind.PACKAGE):
        rules.check_invoice_item(kind)
    with pytest.raises(InvalidInput, match="billed monthly by Direct Debit, so it cannot go on an invoice"):
        rules.check_invoice_item(ItemKind.MEMBERSHIP)


def test_vat_bands_add_up_to_the_lines_highest_rate_first() -> None:
    lines = [
        (2000, GBP("200"), GBP("33.33")),
        (0, GBP("150"), GBP("0")),
        (2000, GBP("45"), GBP("7.50")),
    ]
    bands = rules.vat_bands(lines, "GBP")
    assert [(b.vat_rate_bp, b.net, b.vat, b.excluding_vat) for b in bands] == [
        (2000, GBP("245"), GBP("40.83"), GBP("204.17")),
        (0, GBP("150"), GBP("0"), GBP("150")),
    ]
