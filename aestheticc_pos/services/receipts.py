"""A sale's receipt, as the till shows it and prints it (``sales``), and made from a sale just written.

``receipt_of`` makes the receipt of a sale from what ``sales.write_sale_in`` wrote and the quote it wrote it
from, so completing a sale reads nothing back (issue 13); ``sales.receipt_in`` reads one back later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from aestheticc_pos.domain.checkout import Settlement, Tender
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.pricing import Quote
from aestheticc_pos.services.context import ClinicSettings


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    name: str
    quantity: int
    unit_price: Money
    gross: Money
    discount: Money
    discount_reason: str | None
    net: Money
    vat: Money
    vat_rate_bp: int


@dataclass(frozen=True, slots=True)
class Receipt:
    """A completed sale as the receipt shows it."""

    sale_id: str
    number: str
    created_at: dt.datetime
    client_id: str | None
    client_name: str | None
    staff_name: str
    lines: tuple[ReceiptLine, ...]
    gross: Money
    discount: Money
    net: Money
    vat: Money
    tenders: tuple[Tender, ...]
    change_due: Money
    clinic_name: str
    clinic_address: str
    vat_number: str
    kind: str = "sale"  # "refund" or "void": money given back, amounts negative
    refers_to: str | None = None  # a refund's or void's original sale number
    reason: str | None = None  # why a refund or void gave money back


@dataclass(frozen=True, slots=True)
class WrittenSale:
    """What ``write_sale_in`` wrote: enough, with the quote, for the receipt (``receipt_of``)."""

    sale_id: str
    number: str
    created_at: dt.datetime
    settlement: Settlement


def receipt_of(
    written: WrittenSale,
    priced: Quote,
    settings: ClinicSettings,
    *,
    client_id: str | None,
    client_name: str | None,
    staff_name: str,
) -> Receipt:
    """The receipt of a sale just written, from what was written (nothing read back): the tenders as given
    and the change handed back, as the till shows them."""
    return Receipt(
        sale_id=written.sale_id,
        number=written.number,
        created_at=written.created_at,
        client_id=client_id,
        client_name=client_name,
        staff_name=staff_name,
        lines=tuple(
            ReceiptLine(
                name=q.line.name,
                quantity=q.line.quantity,
                unit_price=q.line.unit_price,
                gross=q.gross,
                discount=q.discount,
                discount_reason=q.discount_reason,
                net=q.net,
                vat=q.vat,
                vat_rate_bp=q.line.vat_rate_bp,
            )
            for q in priced.lines
        ),
        gross=priced.gross,
        discount=priced.discount,
        net=priced.net,
        vat=priced.vat,
        tenders=written.settlement.tenders,
        change_due=written.settlement.change_due,
        clinic_name=settings.name,
        clinic_address=settings.address,
        vat_number=settings.vat_number,
    )
