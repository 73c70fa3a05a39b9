"""An invoice as stored and as shown: what staff see of it (``InvoiceDetail``, ``InvoiceSummary``, its lines),
read from its rows; its priced lines and totals written from a quote, and read back as basket items (to edit a
draft) or as the quote it was issued with (to be paid).

Shared by ``invoices``'s use cases; nothing here commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from aestheticc_pos.domain import invoices as rules
from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.invoices import InvoiceStanding, InvoiceStatus, VatBand
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.pricing import BasketLine, Channel, PriceOverride, Quote, QuotedLine
from aestheticc_pos.services.pricing import BasketItem, priced_line_columns
from aestheticc_pos.services.sales import Receipt
from aestheticc_pos.store.tables import ClientRow, InvoiceLineRow, InvoiceRow, SaleRow, StaffRow


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """A priced line as the invoice shows it. ``override_price`` is a manager's unit price, with its reason."""

    position: int
    kind: ItemKind
    item_id: str | None
    name: str
    quantity: int
    unit_price: Money
    gross: Money
    discount: Money
    discount_reason: str | None
    net: Money
    vat: Money
    vat_rate_bp: int
    appointment_id: str | None = None
    override_price: Money | None = None
    override_reason: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceDetail:
    """One invoice as staff and the client see it. ``standing`` is its status on the clinic's today."""

    id: str
    number: str | None
    status: InvoiceStatus
    standing: InvoiceStanding
    client_id: str
    client_name: str
    client_email: str | None
    client_phone: str | None
    staff_name: str
    payment_terms_days: int
    priced_on: dt.date
    issued_on: dt.date | None
    due_on: dt.date | None
    lines: tuple[InvoiceLine, ...]
    gross: Money
    discount: Money
    net: Money
    vat: Money
    vat_bands: tuple[VatBand, ...]
    created_at: dt.datetime
    paid_at: dt.datetime | None = None
    sale_id: str | None = None
    sale_number: str | None = None
    voided_at: dt.datetime | None = None
    void_reason: str | None = None

    @property
    def currency(self) -> str:
        return self.net.currency

    @property
    def amount_due(self) -> Money:
        """What the client still owes: the total while issued, nothing once paid or void (or as a draft)."""
        return self.net if self.status is InvoiceStatus.ISSUED else Money.zero(self.currency)

    @property
    def payment_terms(self) -> str:
        return rules.terms_text(self.payment_terms_days)

    def basket_items(self) -> list[BasketItem]:
        """The lines as basket items, to edit a draft (overrides kept, so editing them still needs a manager)."""
        return [basket_item(line) for line in self.lines]


@dataclass(frozen=True, slots=True)
class InvoiceSummary:
    """A row of an invoice list."""

    id: str
    number: str | None
    standing: InvoiceStanding
    client_id: str
    client_name: str
    issued_on: dt.date | None
    due_on: dt.date | None
    total: Money
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class InvoicePayment:
    """An invoice paid at the desk: the invoice as it now is, and the receipt of the sale its payment made."""

    invoice: InvoiceDetail
    receipt: Receipt


def detail_of(s: Session, row: InvoiceRow, today: dt.date) -> InvoiceDetail:
    """The invoice as staff and the client see it on ``today``."""
    lines = tuple(invoice_lines(s, row.id, row.currency))
    client = s.get(ClientRow, row.client_id)
    staff = s.get(StaffRow, row.staff_id)
    sale_number = s.scalar(select(SaleRow.number).where(SaleRow.id == row.sale_id)) if row.sale_id else None
    cur = row.currency
    return InvoiceDetail(
        id=row.id,
        number=row.number,
        status=InvoiceStatus(row.status),
        standing=rules.standing(invoice_state(row), today),
        client_id=row.client_id,
        client_name=_client_name(client),
        client_email=None if client is None or client.anonymised_at else client.email,
        client_phone=None if client is None or client.anonymised_at else client.phone,
        staff_name=staff.name if staff else "",
        payment_terms_days=row.payment_terms_days,
        priced_on=row.priced_on,
        issued_on=row.issued_on,
        due_on=row.due_on,
        lines=lines,
        gross=Money(row.gross_pence, cur),
        discount=Money(row.discount_pence, cur),
        net=Money(row.net_pence, cur),
        vat=Money(row.vat_pence, cur),
        vat_bands=rules.vat_bands([(x.vat_rate_bp, x.net, x.vat) for x in lines], cur),
        created_at=row.created_at,
        paid_at=row.paid_at,
        sale_id=row.sale_id,
        sale_number=sale_number,
        voided_at=row.voided_at,
        void_reason=row.void_reason,
    )


def summaries_of(
    s: Session,
    today: dt.date,
    *,
    client_id: str | None,
    standing: InvoiceStanding | None,
    limit: int,
    offset: int,
) -> list[InvoiceSummary]:
    """Invoices newest first (a client's, or all), optionally only those of one standing on ``today``."""
    query = select(InvoiceRow, ClientRow).join(ClientRow, ClientRow.id == InvoiceRow.client_id)
    if client_id is not None:
        query = query.where(InvoiceRow.client_id == client_id)
    if standing is InvoiceStanding.OVERDUE:
        query = query.where(InvoiceRow.status == InvoiceStatus.ISSUED.value, InvoiceRow.due_on < today)
    elif standing is InvoiceStanding.ISSUED:
        query = query.where(InvoiceRow.status == InvoiceStatus.ISSUED.value, InvoiceRow.due_on >= today)
    elif standing is not None:
        query = query.where(InvoiceRow.status == standing.value)
    query = query.order_by(InvoiceRow.created_at.desc(), InvoiceRow.id).limit(limit).offset(offset)
    return [
        InvoiceSummary(
            id=row.id,
            number=row.number,
            standing=rules.standing(invoice_state(row), today),
            client_id=row.client_id,
            client_name=_client_name(client),
            issued_on=row.issued_on,
            due_on=row.due_on,
            total=Money(row.net_pence, row.currency),
            created_at=row.created_at,
        )
        for row, client in s.execute(query)
    ]


def invoice_state(row: InvoiceRow) -> rules.Invoice:
    """The parts of the stored invoice its rules look at."""
    return rules.Invoice(
        status=InvoiceStatus(row.status),
        number=row.number,
        issued_on=row.issued_on,
        due_on=row.due_on,
        void_reason=row.void_reason,
    )


def invoice_lines(s: Session, invoice_id: str, currency: str) -> list[InvoiceLine]:
    """The invoice's lines, in order, as the invoice shows them."""
    return [_line_from_row(r, currency) for r in _line_rows(s, invoice_id)]


def write_priced(s: Session, row: InvoiceRow, priced: Quote, on: dt.date) -> None:
    """Put ``priced`` on the invoice, priced ``on``: its totals, and its lines instead of the ones it had."""
    for name, value in priced_totals(priced).items():
        setattr(row, name, value)
    row.priced_on = on
    s.execute(delete(InvoiceLineRow).where(InvoiceLineRow.invoice_id == row.id))
    s.flush()
    write_lines(s, row.id, priced)


def priced_totals(priced: Quote) -> dict[str, int | str]:
    """The invoice's total columns for a quote."""
    return {
        "gross_pence": priced.gross.pence,
        "discount_pence": priced.discount.pence,
        "net_pence": priced.net.pence,
        "vat_pence": priced.vat.pence,
        "currency": priced.currency,
    }


def write_lines(s: Session, invoice_id: str, priced: Quote) -> None:
    """Add the quote's lines to an invoice that has none, with any manager's price override."""
    for position, q in enumerate(priced.lines, start=1):
        override = q.line.override
        s.add(
            InvoiceLineRow(
                invoice_id=invoice_id,
                **priced_line_columns(position, q),
                override_price_pence=override.unit_price.pence if override else None,
                override_reason=override.reason if override else None,
                override_staff_id=override.staff_id if override else None,
            )
        )
    s.flush()


def basket_item(line: InvoiceLine) -> BasketItem:
    """The line as a basket item, to edit a draft (an override kept, so editing it still needs a manager)."""
    return BasketItem(
        kind=line.kind,
        item_id=line.item_id or "",
        quantity=line.quantity,
        appointment_id=line.appointment_id,
        use_package=False,
        override_price=line.override_price,
        override_reason=line.override_reason,
    )


def issued_quote(s: Session, row: InvoiceRow) -> Quote:
    """The invoice's lines as the quote they were issued with (never priced again)."""
    assert row.issued_on is not None
    cur = row.currency
    quoted = []
    for r in _line_rows(s, row.id):
        override = None
        if r.override_price_pence is not None and r.override_staff_id is not None:
            override = PriceOverride(
                Money(r.override_price_pence, cur), r.override_reason or "", r.override_staff_id
            )
        basket = BasketLine(
            kind=ItemKind(r.kind),
            item_id=r.item_id or "",
            name=r.name,
            unit_price=Money(r.unit_price_pence, cur),
            quantity=r.quantity,
            vat_rate_bp=r.vat_rate_bp,
            appointment_id=r.appointment_id,
            use_package=False,
            override=override,
        )
        quoted.append(
            QuotedLine(
                line=basket,
                gross=Money(r.gross_pence, cur),
                discount=Money(r.discount_pence, cur),
                discount_reason=r.discount_reason,
                net=Money(r.net_pence, cur),
                vat=Money(r.vat_pence, cur),
            )
        )
    return Quote(
        lines=tuple(quoted),
        gross=Money(row.gross_pence, cur),
        discount=Money(row.discount_pence, cur),
        net=Money(row.net_pence, cur),
        vat=Money(row.vat_pence, cur),
        currency=cur,
        channel=Channel.INVOICE,
        priced_on=row.issued_on,
    )


# --- helpers ------------------------------------------------------------------------------------------------


def _line_rows(s: Session, invoice_id: str) -> list[InvoiceLineRow]:
    return list(
        s.scalars(
            select(InvoiceLineRow)
            .where(InvoiceLineRow.invoice_id == invoice_id)
            .order_by(InvoiceLineRow.position)
        )
    )


def _line_from_row(r: InvoiceLineRow, cur: str) -> InvoiceLine:
    return InvoiceLine(
        position=r.position,
        kind=ItemKind(r.kind),
        item_id=r.item_id,
        name=r.name,
        quantity=r.quantity,
        unit_price=Money(r.unit_price_pence, cur),
        gross=Money(r.gross_pence, cur),
        discount=Money(r.discount_pence, cur),
        discount_reason=r.discount_reason,
        net=Money(r.net_pence, cur),
        vat=Money(r.vat_pence, cur),
        vat_rate_bp=r.vat_rate_bp,
        appointment_id=r.appointment_id,
        override_price=None if r.override_price_pence is None else Money(r.override_price_pence, cur),
        override_reason=r.override_reason,
    )


def _client_name(client: ClientRow | None) -> str:
    if client is None or client.anonymised_at is not None:
        return "Erased client"
    return f"{client.first_name} {client.last_name}"
