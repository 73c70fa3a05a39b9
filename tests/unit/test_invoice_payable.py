"""Which invoices a client can still pay (at the desk or by payment link): issued ones, and no other."""

from __future__ import annotations

from aestheticc_pos.domain import invoices as rules
from aestheticc_pos.domain.invoices import InvoiceStatus


def test_only_an_issued_invoice_awaits_payment() -> None:
    assert rules.awaits_payment(InvoiceStatus.ISSUED)
    for status in (InvoiceStatus.DRAFT, InvoiceStatus.PAID, InvoiceStatus.VOID):
        assert not rules.awaits_payment(status)
