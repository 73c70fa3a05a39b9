"""Payment links: a basket, an invoice or a booking deposit paid by bank through a GoCardless link.

A link is written with its priced basket (the one ``quote()`` through ``pricing.price_basket_in``, channel
PAYMENT_LINK, so a member's discount is the one they would get at the till) and its GoCardless work queued in
the same transaction (``link_requests``); the sync engine sends it and fills in the link's address. Staff show
it as a QR code or copy it into an email or text. A link bills money: package sessions are redeemed at the
desk, not on a link. Its statuses, and which moves they allow, are ``domain/payment_links.py``'s.

What the sync engine calls when GoCardless reports (inside its own unit of work, once per event):

- ``link_authorised_in``: the payer approved the payment in their bank (``billing_requests fulfilled``);
- ``link_paid_in``: the payment was confirmed. What the link was for is completed, exactly once: a basket
  becomes a sale (the lines as priced when the link was made, paid with a payment-link tender,
  ``sales.record_sale_in``), an invoice is paid (``invoices``), a deposit is paid (``deposits``), a portal
  purchase becomes the buyer's package (``portal``). This module sits above those, so none of them calls back;
- ``link_failed_in`` / ``link_closed_in``: the payment failed, or the link was cancelled or lapsed unused.
  Staff see it and can send it again (``resend_link``: a new link for the same amount and lines).
- An invoice's link paid after the invoice was settled at the desk or voided is refunded at once
  (``create_refund``, ``refund_pending``), and ``link_refunded_in`` marks it refunded: nobody pays twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from aestheticc_pos.domain import invoices as invoice_rules
from aestheticc_pos.domain import payment_links as links
from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.errors import InvalidInput, NotFound, RuleViolation
from aestheticc_pos.domain.invoices import InvoiceStatus
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.outbox import OutboxKind
from aestheticc_pos.domain.payment_links import LinkPurpose, LinkStatus
from aestheticc_pos.domain.pricing import Channel, Quote
from aestheticc_pos.domain.staff import Action, Role
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.services.deposits import deposit_link_closed_in, deposit_link_replaced_in, deposit_paid_in
from aestheticc_pos.services.invoices import mark_invoice_paid_by_link_in
from aestheticc_pos.services.link_requests import (
    cancel_link_in,
    lock_link,
    new_link_in,
    queue_link_work,
    quote_from_json,
    quote_to_json,
    refund_payload,
)
from aestheticc_pos.services.portal import complete_portal_sale_in
from aestheticc_pos.services.pricing import (
    BasketItem,
    Payment,
    check_expected_total,
    price_basket_in,
)
from aestheticc_pos.services.sales import record_sale_in
from aestheticc_pos.services.staff import require_staff
from aestheticc_pos.store.tables import ClientRow, InvoiceRow, PaymentLinkRow, StaffRow
from aestheticc_pos.store.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class LinkLine:
    name: str
    quantity: int
    gross: Money
    discount: Money
    discount_reason: str | None
    net: Money


@dataclass(frozen=True, slots=True)
class PaymentLinkView:
    id: str
    purpose: LinkPurpose
    status: LinkStatus
    client_id: str | None
    client_name: str | None
    description: str
    amount: Money
    lines: tuple[LinkLine, ...]
    authorisation_url: str | None
    created_at: dt.datetime
    paid_at: dt.datetime | None
    sale_id: str | None
    invoice_id: str | None
    replaces_id: str | None

    @property
    def can_resend(self) -> bool:
        return links.can_resend(self.status)

    @property
    def can_cancel(self) -> bool:
        return links.can_cancel(self.status)


# --- Staff actions ----------------------------------------------------------------------------------------


@use_case(Action.SELL)
def create_basket_link(
    services: Services,
    *,
    client_id: str,
    items: list[BasketItem],
    staff_id: str,
    expected_total: Money | None = None,
) -> PaymentLinkView:
    """A link for a basket (a client who left without paying, an order over the phone), priced now with the
    client's member discount; paid, it becomes the sale. Refused for an empty or free basket and a membership
    (billed by Direct Debit). Like an invoice, a link bills money: a treatment a package would cover is charged
    (redeem package sessions at the desk)."""
    if not items:
        raise InvalidInput("The basket is empty. Add what the client is paying for first.")
    for item in items:
        if inputs.choice(ItemKind, item.kind, what="something the till sells") is ItemKind.MEMBERSHIP:
            raise RuleViolation("A membership is paid monthly by Direct Debit; sign the client up instead.")
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, Action.TAKE_PAYMENTS)
        today = services.today(read_clinic_settings(s))
        billed = [_billed(item) for item in items]
        priced = price_basket_in(
            uow, client_id=client_id, items=billed, on=today, channel=Channel.PAYMENT_LINK, staff_id=staff_id
        )
        check_expected_total(
            priced, expected_total, then="Check the basket with the client before sending the link."
        )
        if not priced.net.pence:
            raise RuleViolation("There is nothing to pay on this basket, so no link is needed.")
        client = _client(s, client_id)
        description = _describe(priced)
        link_id = new_link_in(
            uow,
            services,
            purpose=LinkPurpose.BASKET,
            client=client,
            amount=priced.net,
            description=description,
            quote=quote_to_json(priced),
            staff_id=staff_id,
        )
        uow.commit()
    return link_view(services, link_id)


@use_case(Action.SELL)
def create_invoice_link(services: Services, *, invoice_id: str, staff_id: str) -> PaymentLinkView:
    """A link for what an issued, unpaid invoice asks (one open link per invoice)."""
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, Action.TAKE_PAYMENTS)
        invoice = s.get(InvoiceRow, invoice_id, with_for_update=True)
        if invoice is None:
            raise NotFound("That invoice does not exist.")
        if not invoice_rules.awaits_payment(InvoiceStatus(invoice.status)) or invoice.number is None:
            raise RuleViolation("Only an issued invoice that is not paid can be paid by link.")
        open_link = s.scalar(
            select(PaymentLinkRow.id).where(
                PaymentLinkRow.invoice_id == invoice_id,
                PaymentLinkRow.status.in_(links.LIVE_STATUSES),
            )
        )
        if open_link is not None:
            raise RuleViolation(f"Invoice {invoice.number} already has a payment link; send that one.")
        link_id = new_link_in(
            uow,
            services,
            purpose=LinkPurpose.INVOICE,
            client=_client(s, invoice.client_id),
            amount=Money(invoice.net_pence, invoice.currency),
            description=f"Invoice {invoice.number}",
            quote=None,
            staff_id=staff_id,
            invoice_id=invoice_id,
        )
        uow.commit()
    return link_view(services, link_id)


@use_case(Action.SELL)
def cancel_link(services: Services, *, link_id: str, staff_id: str) -> PaymentLinkView:
    """Stop a link that was not paid: unsent work is withdrawn; a link GoCardless has is cancelled there."""
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, Action.TAKE_PAYMENTS)
        cancel_link_in(uow, services, link_id)
        uow.commit()
    return link_view(services, link_id)


@use_case(Action.SELL)
def resend_link(services: Services, *, link_id: str, staff_id: str) -> PaymentLinkView:
    """A new link for the same lines and amount as one that was cancelled, lapsed or failed."""
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, Action.TAKE_PAYMENTS)
        old = lock_link(s, link_id)
        links.require_resendable(LinkStatus(old.status))
        if old.purpose == LinkPurpose.PORTAL:
            raise RuleViolation("A purchase from the booking portal is made again from the portal.")
        newer = s.scalar(select(PaymentLinkRow.id).where(PaymentLinkRow.replaces_id == link_id))
        if newer is not None:
            raise RuleViolation("This link was sent again already; use the newer one.")
        if old.invoice_id is not None:
            invoice = s.get(InvoiceRow, old.invoice_id)
            if invoice is None or not invoice_rules.awaits_payment(InvoiceStatus(invoice.status)):
                raise RuleViolation("That invoice is no longer waiting for payment.")
        new_id = new_link_in(
            uow,
            services,
            purpose=old.purpose,
            client=_client(s, old.client_id) if old.client_id else None,
            amount=Money(old.amount_pence, old.currency),
            description=old.description,
            quote=old.quote,
            staff_id=staff_id,
            invoice_id=old.invoice_id,
            replaces_id=old.id,
        )
        deposit_link_replaced_in(uow, old_link_id=old.id, new_link_id=new_id)
        uow.commit()
    return link_view(services, new_id)


# --- What GoCardless reports (called by the sync engine) ---------------------------------------------------


def link_by_billing_request(s: Session, billing_request_id: str) -> PaymentLinkRow | None:
    return s.scalars(
        select(PaymentLinkRow)
        .where(PaymentLinkRow.gc_billing_request_id == billing_request_id)
        .with_for_update()
    ).first()


def link_by_payment(s: Session, payment_id: str) -> PaymentLinkRow | None:
    return s.scalars(
        select(PaymentLinkRow).where(PaymentLinkRow.gc_payment_id == payment_id).with_for_update()
    ).first()


def link_authorised_in(
    uow: UnitOfWork,
    services: Services,
    *,
    billing_request_id: str,
    payment_id: str | None,
    customer_id: str | None = None,
) -> str | None:
    """The payer approved the payment (billing request fulfilled). Returns the link's id, or None when no
    link has that billing request (not ours, or not known yet)."""
    row = link_by_billing_request(uow.session, billing_request_id)
    if row is None:
        return None
    if payment_id and row.gc_payment_id is None:
        row.gc_payment_id = payment_id
    if customer_id and row.gc_customer_id is None:
        row.gc_customer_id = customer_id
    authorised = links.authorised(LinkStatus(row.status))
    if authorised is not None:
        row.status = authorised.value
    return row.id


def link_paid_in(uow: UnitOfWork, services: Services, *, payment_id: str) -> str | None:
    """The payment was confirmed: complete what the link was for, once. Returns the link's id (None: no link
    has that payment)."""
    s = uow.session
    row = link_by_payment(s, payment_id)
    if row is None:
        return None
    paid = links.payment_confirmed(LinkStatus(row.status))
    if paid is None:
        return row.id
    # GoCardless reported the money: the link is paid before anything is bought with it (a sale's
    # payment_link tender is accepted only for a paid link).
    row.status = paid.value
    row.paid_at = services.now()
    s.flush()
    purpose = LinkPurpose(row.purpose)
    if purpose is LinkPurpose.BASKET:
        settings = read_clinic_settings(s)
        priced = quote_from_json(row.quote)
        sale_id, _ = record_sale_in(
            uow,
            services,
            settings,
            priced=priced,
            payments=[
                Payment(
                    TenderKind.PAYMENT_LINK, Money(row.amount_pence, row.currency), row.gc_billing_request_id
                )
            ],
            client_id=row.client_id,
            staff_id=row.staff_id or _any_manager(s),
        )
        row.sale_id = sale_id
    elif purpose is LinkPurpose.INVOICE and row.invoice_id is not None:
        invoice = s.get(InvoiceRow, row.invoice_id, with_for_update=True)
        if invoice is None or not invoice_rules.awaits_payment(InvoiceStatus(invoice.status)):
            _give_back(uow, row)  # paid at the desk or voided meanwhile: the client must not pay twice
            return row.id
        row.sale_id = mark_invoice_paid_by_link_in(
            uow, services, row.invoice_id, billing_request_id=row.gc_billing_request_id or row.id
        )
    elif purpose is LinkPurpose.DEPOSIT:
        deposit_paid_in(uow, services, link_id=row.id)
    elif purpose is LinkPurpose.PORTAL:
        row.sale_id = complete_portal_sale_in(uow, services, row, _any_manager(s))
    return row.id


def _give_back(uow: UnitOfWork, row: PaymentLinkRow) -> None:
    """Queue the refund of a link payment the clinic must not keep (its invoice was settled meanwhile)."""
    refunding = links.refund(LinkStatus(row.status))
    if row.gc_payment_id is None:  # pragma: no cover - a confirmed payment always names its payment
        raise RuleViolation("The payment to refund is not known.")
    queue_link_work(
        uow.session,
        row.id,
        OutboxKind.CREATE_REFUND,
        refund_payload(row.amount_pence, row.gc_payment_id, payment_link_id=row.id),
    )
    row.status = refunding.value


def link_refunded_in(uow: UnitOfWork, services: Services, *, refund_id: str) -> str | None:
    """GoCardless paid a link's refund back to the client. Returns the link's id (None: no link has it)."""
    row = uow.session.scalars(
        select(PaymentLinkRow).where(PaymentLinkRow.gc_refund_id == refund_id).with_for_update()
    ).first()
    if row is None:
        return None
    refunded = links.refunded(LinkStatus(row.status))
    if refunded is not None:
        row.status = refunded.value
        row.closed_at = services.now()
    return row.id


def link_failed_in(uow: UnitOfWork, services: Services, *, payment_id: str) -> str | None:
    """The link's payment failed. Returns the link's id, or None when no link has that payment; a link paid
    already is left as it is (its id is still returned)."""
    row = link_by_payment(uow.session, payment_id)
    if row is None:
        return None
    failed = links.payment_failed(LinkStatus(row.status))
    if failed is None:
        return row.id
    row.status = failed.value
    row.closed_at = services.now()
    return row.id


def link_closed_in(
    uow: UnitOfWork, services: Services, *, billing_request_id: str, status: str
) -> str | None:
    """The billing request was cancelled (or lapsed, ``status`` "expired"): the link no longer works."""
    row = link_by_billing_request(uow.session, billing_request_id)
    if row is None:
        return None
    closed = links.closed(LinkStatus(row.status), expired=status == "expired")
    if closed is not None:
        row.status = closed.value
        row.closed_at = services.now()
        if row.purpose == LinkPurpose.DEPOSIT:
            deposit_link_closed_in(uow, link_id=row.id)
    return row.id


# --- Reading --------------------------------------------------------------------------------------------------


@use_case(Audience.ANY_STAFF)
def link_view(services: Services, link_id: str) -> PaymentLinkView:
    with services.uow(read_only=True) as uow:
        row = uow.session.get(PaymentLinkRow, link_id)
        if row is None:
            raise NotFound("That payment link does not exist.")
        return _view(uow.session, row)


@use_case(Audience.ANY_STAFF)
def links_of_client(services: Services, client_id: str, *, limit: int = 100) -> list[PaymentLinkView]:
    limit = inputs.how_many(limit)
    with services.uow(read_only=True) as uow:
        rows = uow.session.scalars(
            select(PaymentLinkRow)
            .where(PaymentLinkRow.client_id == client_id)
            .order_by(PaymentLinkRow.created_at.desc())
            .limit(limit)
        ).all()
        return [_view(uow.session, row) for row in rows]


@use_case(Audience.ANY_STAFF)
def links_list(
    services: Services, *, statuses: tuple[LinkStatus | str, ...] | None = None, limit: int = 200
) -> list[PaymentLinkView]:
    limit = inputs.how_many(limit)
    with services.uow(read_only=True) as uow:
        query = select(PaymentLinkRow).order_by(PaymentLinkRow.created_at.desc()).limit(limit)
        if statuses is not None:
            query = query.where(PaymentLinkRow.status.in_(statuses))
        return [_view(uow.session, row) for row in uow.session.scalars(query)]


def _view(s: Session, row: PaymentLinkRow) -> PaymentLinkView:
    client = None if row.client_id is None else s.get(ClientRow, row.client_id)
    lines: tuple[LinkLine, ...] = ()
    if row.quote:
        priced = quote_from_json(row.quote)
        lines = tuple(
            LinkLine(q.line.name, q.line.quantity, q.gross, q.discount, q.discount_reason, q.net)
            for q in priced.lines
        )
    name = f"{client.first_name} {client.last_name}" if client is not None else row.buyer_name
    status = LinkStatus(row.status)
    return PaymentLinkView(
        id=row.id,
        purpose=LinkPurpose(row.purpose),
        status=status,
        client_id=row.client_id,
        client_name=name,
        description=row.description,
        amount=Money(row.amount_pence, row.currency),
        lines=lines,
        authorisation_url=row.authorisation_url if status is LinkStatus.OPEN else None,
        created_at=row.created_at,
        paid_at=row.paid_at,
        sale_id=row.sale_id,
        invoice_id=row.invoice_id,
        replaces_id=row.replaces_id,
    )


# --- Helpers --------------------------------------------------------------------------------------------------


def _billed(item: BasketItem) -> BasketItem:
    """The item as a link bills it: package sessions are redeemed at the desk, not on a link."""
    return BasketItem(
        kind=item.kind,
        item_id=item.item_id,
        quantity=item.quantity,
        appointment_id=item.appointment_id,
        use_package=False,
        override_price=item.override_price,
        override_reason=item.override_reason,
    )


def _describe(priced: Quote) -> str:
    names = [
        q.line.name if q.line.quantity == 1 else f"{q.line.quantity} × {q.line.name}" for q in priced.lines
    ]
    text = ", ".join(names)
    return text if len(text) <= 200 else text[:197] + "…"


def _client(s: Session, client_id: str | None) -> ClientRow:
    client = None if client_id is None else s.get(ClientRow, client_id)
    if client is None:
        raise NotFound("That client does not exist.")
    return client


def _any_manager(s: Session) -> str:
    staff_id = s.scalar(
        select(StaffRow.id).where(StaffRow.role == Role.MANAGER.value).order_by(StaffRow.created_at).limit(1)
    )
    if staff_id is None:
        raise RuleViolation("The clinic has no manager to record this payment under.")
    return staff_id
