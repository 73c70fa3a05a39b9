"""Payment links: a basket, an invoice or a booking deposit paid by bank through a GoCardless link.

A link is written here with its priced basket (the one ``quote()`` through ``price_basket_in``, channel
PAYMENT_LINK, so a member's discount is the one they would get at the till) and its GoCardless work queued in
the same transaction; the sync engine sends it and fills in the link's address. Staff show it as a QR code or
copy it into an email or text. A link bills money: package sessions are redeemed at the desk, not on a link.

What the sync engine calls when GoCardless reports (inside its own unit of work, once per event):

- ``link_authorised_in``: the payer approved the payment in their bank (``billing_requests fulfilled``);
- ``link_paid_in``: the payment was confirmed. A basket becomes a completed sale (the lines as priced when the
  link was made, paid with a payment-link tender), an invoice is paid, a deposit is paid — exactly once;
- ``link_failed_in`` / ``link_closed_in``: the payment failed, or the link was cancelled or lapsed unused.
  Staff see it and can send it again (``resend_link``: a new link for the same amount and lines).
- An invoice's link paid after the invoice was settled at the desk or voided is refunded at once
  (``create_refund``, ``refund_pending``), and ``link_refunded_in`` marks it refunded: nobody pays twice.

Outbox rows: record_type ``payment_link``, record_id the link's id, idempotency key
``payment_link-<id>-<kind>-v<n>``. Payloads:

- ``create_payment_request``: ``payment_request`` {amount (pence), currency, description}, ``metadata``
  {payment_link_id}, and ``links.customer`` when the client has a GoCardless customer already;
- ``create_payment_link_flow`` (after it): ``prefilled_customer`` (name, email); the engine adds
  ``links.billing_request`` from the remote id of the row it depends on;
- ``cancel_billing_request``: ``billing_request_id`` (None: the remote id of the row it depends on).

The engine writes the remote ids back: the billing request's id to ``gc_billing_request_id``, the flow's id and
``authorisation_url`` to ``gc_flow_id`` / ``authorisation_url`` (and the status becomes ``open``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.errors import InvalidInput, NotFound, RuleViolation
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.pricing import BasketLine, Channel, PriceOverride, Quote, QuotedLine
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.checkout import (
    BasketItem,
    Payment,
    check_expected_total,
    price_basket_in,
    record_sale_in,
)
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.services.staff import require_staff
from aestheticc_pos.store.outbox_repo import enqueue
from aestheticc_pos.store.tables import (
    ClientRow,
    DepositRow,
    InvoiceRow,
    MembershipRow,
    OutboxRow,
    PaymentLinkRow,
)
from aestheticc_pos.store.unit_of_work import UnitOfWork

RECORD_TYPE = "payment_link"
OPEN_STATUSES = ("preparing", "open")
CLOSED_STATUSES = ("cancelled", "expired", "failed")
UNSENT = ("pending", "waiting_for_prerequisite")


class LinkPurpose:
    BASKET = "basket"
    INVOICE = "invoice"
    DEPOSIT = "deposit"
    PORTAL = "portal"


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
    purpose: str
    status: str
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
        return self.status in CLOSED_STATUSES

    @property
    def can_cancel(self) -> bool:
        return self.status in OPEN_STATUSES


STATUS_WORDS = {
    "preparing": "Being prepared",
    "open": "Sent, not paid yet",
    "authorised": "Approved by the payer",
    "paid": "Paid",
    "cancelled": "Cancelled",
    "expired": "Expired unused",
    "failed": "Payment failed",
    "refund_pending": "Paid twice: being refunded",
    "refunded": "Refunded to the client",
}


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
        if invoice.status != "issued" or invoice.number is None:
            raise RuleViolation("Only an issued invoice that is not paid can be paid by link.")
        open_link = s.scalar(
            select(PaymentLinkRow.id).where(
                PaymentLinkRow.invoice_id == invoice_id,
                PaymentLinkRow.status.in_((*OPEN_STATUSES, "authorised")),
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


def cancel_link_in(uow: UnitOfWork, services: Services, link_id: str) -> None:
    s = uow.session
    row = _lock(s, link_id)
    if row.status not in OPEN_STATUSES:
        raise RuleViolation(f"This link is {STATUS_WORDS[row.status].lower()}: it cannot be cancelled now.")
    unsent = _jobs(s, link_id, statuses=UNSENT)
    sent = _jobs(s, link_id, statuses=("in_flight", "done", "failed"))
    for job in reversed(unsent):  # later work first: it depends on the earlier
        if job.attempts == 0:
            s.delete(job)
            s.flush()
    request = next((j for j in sent if j.kind == "create_payment_request"), None)
    if request is not None:
        _queue(
            s,
            link_id,
            "cancel_billing_request",
            {"billing_request_id": row.gc_billing_request_id},
            depends_on=request.id if row.gc_billing_request_id is None else None,
        )
    row.status = "cancelled"
    row.closed_at = services.now()


@use_case(Action.SELL)
def resend_link(services: Services, *, link_id: str, staff_id: str) -> PaymentLinkView:
    """A new link for the same lines and amount as one that was cancelled, lapsed or failed."""
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, Action.TAKE_PAYMENTS)
        old = _lock(s, link_id)
        if old.status not in CLOSED_STATUSES:
            raise RuleViolation("Only a cancelled, expired or failed link can be sent again.")
        if old.purpose == LinkPurpose.PORTAL:
            raise RuleViolation("A purchase from the booking portal is made again from the portal.")
        newer = s.scalar(select(PaymentLinkRow.id).where(PaymentLinkRow.replaces_id == link_id))
        if newer is not None:
            raise RuleViolation("This link was sent again already; use the newer one.")
        if old.invoice_id is not None:
            invoice = s.get(InvoiceRow, old.invoice_id)
            if invoice is None or invoice.status != "issued":
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
        deposit = s.scalars(select(DepositRow).where(DepositRow.payment_link_id == old.id)).first()
        if deposit is not None and deposit.status in ("requested", "cancelled"):
            deposit.payment_link_id = new_id
            deposit.status = "requested"
            deposit.authorisation_url = None
        uow.commit()
    return link_view(services, new_id)


# --- The link and its GoCardless work ---------------------------------------------------------------------


def new_link_in(
    uow: UnitOfWork,
    services: Services,
    *,
    purpose: str,
    client: ClientRow | None,
    amount: Money,
    description: str,
    quote: Any,
    staff_id: str | None,
    invoice_id: str | None = None,
    replaces_id: str | None = None,
) -> str:
    """Write a link and queue its billing request and hosted flow (module docstring). Returns its id."""
    s = uow.session
    if amount.pence <= 0:
        raise RuleViolation("A payment link needs an amount above zero.")
    link_id = services.new_id()
    s.add(
        PaymentLinkRow(
            id=link_id,
            purpose=purpose,
            client_id=None if client is None else client.id,
            invoice_id=invoice_id,
            staff_id=staff_id,
            replaces_id=replaces_id,
            status="preparing",
            description=description[:200],
            quote=quote if quote is not None else {},
            amount_pence=amount.pence,
            currency=amount.currency,
        )
    )
    s.flush()
    request: dict[str, Any] = {
        "payment_request": {
            "amount": amount.pence,
            "currency": amount.currency,
            "description": description[:200],
        },
        "metadata": {"payment_link_id": link_id},
    }
    prefilled: dict[str, Any] = {}
    if client is not None:
        customer_id = _known_customer(s, client.id)
        if customer_id is not None:
            request["links"] = {"customer": customer_id}
        prefilled = {"given_name": client.first_name, "family_name": client.last_name}
        if client.email:
            prefilled["email"] = client.email
    first = _queue(s, link_id, "create_payment_request", request)
    _queue(s, link_id, "create_payment_link_flow", {"prefilled_customer": prefilled}, depends_on=first)
    return link_id


def _queue(
    s: Session, link_id: str, kind: str, payload: dict[str, Any], *, depends_on: str | None = None
) -> str:
    return enqueue(
        s, kind=kind, record_type=RECORD_TYPE, record_id=link_id, payload=payload, depends_on=depends_on
    )


def _jobs(s: Session, link_id: str, *, statuses: tuple[str, ...]) -> list[OutboxRow]:
    return list(
        s.scalars(
            select(OutboxRow)
            .where(
                OutboxRow.record_type == RECORD_TYPE,
                OutboxRow.record_id == link_id,
                OutboxRow.status.in_(statuses),
            )
            .order_by(OutboxRow.seq)
        )
    )


def _known_customer(s: Session, client_id: str) -> str | None:
    """The client's GoCardless customer (from a membership or an earlier link), so none is made twice."""
    from_membership = s.scalar(
        select(MembershipRow.gc_customer_id)
        .where(MembershipRow.client_id == client_id, MembershipRow.gc_customer_id.is_not(None))
        .limit(1)
    )
    if from_membership is not None:
        return from_membership
    return s.scalar(
        select(PaymentLinkRow.gc_customer_id)
        .where(PaymentLinkRow.client_id == client_id, PaymentLinkRow.gc_customer_id.is_not(None))
        .limit(1)
    )


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
    if row.status in ("preparing", "open"):
        row.status = "authorised"
    return row.id


def link_paid_in(uow: UnitOfWork, services: Services, *, payment_id: str) -> str | None:
    """The payment was confirmed: complete what the link was for, once. Returns the link's id (None: no link
    has that payment)."""
    s = uow.session
    row = link_by_payment(s, payment_id)
    if row is None:
        return None
    if row.status == "paid":
        return row.id
    # GoCardless reported the money: the link is paid before anything is bought with it (a sale's
    # payment_link tender is accepted only for a paid link).
    row.status = "paid"
    row.paid_at = services.now()
    s.flush()
    if row.purpose == LinkPurpose.BASKET:
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
    elif row.purpose == LinkPurpose.INVOICE and row.invoice_id is not None:
        from aestheticc_pos.services.invoices import mark_invoice_paid_by_link_in

        invoice = s.get(InvoiceRow, row.invoice_id, with_for_update=True)
        if invoice is None or invoice.status != "issued":
            _give_back(uow, row)  # paid at the desk or voided meanwhile: the client must not pay twice
            return row.id
        row.sale_id = mark_invoice_paid_by_link_in(
            uow, services, row.invoice_id, billing_request_id=row.gc_billing_request_id or row.id
        )
    elif row.purpose == LinkPurpose.DEPOSIT:
        from aestheticc_pos.services.deposits import deposit_paid_in

        deposit_paid_in(uow, services, link_id=row.id)
    elif row.purpose == LinkPurpose.PORTAL:
        from aestheticc_pos.services.portal import complete_portal_sale_in

        row.sale_id = complete_portal_sale_in(uow, services, row, _any_manager(s))
    return row.id


def _give_back(uow: UnitOfWork, row: PaymentLinkRow) -> None:
    """Queue the refund of a link payment the clinic must not keep (its invoice was settled meanwhile)."""
    s = uow.session
    if row.gc_payment_id is None:  # pragma: no cover - a confirmed payment always names its payment
        raise RuleViolation("The payment to refund is not known.")
    _queue(
        s,
        row.id,
        "create_refund",
        refund_payload(row.amount_pence, row.gc_payment_id, payment_link_id=row.id),
    )
    row.status = "refund_pending"


def refund_payload(amount_pence: int, payment_id: str, **metadata: str) -> dict[str, Any]:
    """A ``create_refund`` of the whole of a payment (GoCardless asks for the total to be confirmed)."""
    return {
        "amount": amount_pence,
        "total_amount_confirmation": amount_pence,
        "links": {"payment": payment_id},
        "metadata": metadata,
    }


def link_refunded_in(uow: UnitOfWork, services: Services, *, refund_id: str) -> str | None:
    """GoCardless paid a link's refund back to the client. Returns the link's id (None: no link has it)."""
    row = uow.session.scalars(
        select(PaymentLinkRow).where(PaymentLinkRow.gc_refund_id == refund_id).with_for_update()
    ).first()
    if row is None:
        return None
    row.status = "refunded"
    row.closed_at = services.now()
    return row.id


def link_failed_in(uow: UnitOfWork, services: Services, *, payment_id: str) -> str | None:
    row = link_by_payment(uow.session, payment_id)
    if row is None or row.status == "paid":
        return None if row is None else row.id
    row.status = "failed"
    row.closed_at = services.now()
    return row.id


def link_closed_in(
    uow: UnitOfWork, services: Services, *, billing_request_id: str, status: str
) -> str | None:
    """The billing request was cancelled (or lapsed): the link no longer works."""
    row = link_by_billing_request(uow.session, billing_request_id)
    if row is None:
        return None
    if row.status in (*OPEN_STATUSES, "authorised"):
        row.status = "expired" if status == "expired" else "cancelled"
        row.closed_at = services.now()
        if row.purpose == LinkPurpose.DEPOSIT:
            from aestheticc_pos.services.deposits import deposit_link_closed_in

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
    services: Services, *, statuses: tuple[str, ...] | None = None, limit: int = 200
) -> list[PaymentLinkView]:
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
    return PaymentLinkView(
        id=row.id,
        purpose=row.purpose,
        status=row.status,
        client_id=row.client_id,
        client_name=name,
        description=row.description,
        amount=Money(row.amount_pence, row.currency),
        lines=lines,
        authorisation_url=row.authorisation_url if row.status == "open" else None,
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


def _lock(s: Session, link_id: str) -> PaymentLinkRow:
    row = s.get(PaymentLinkRow, link_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound("That payment link does not exist.")
    return row


def _any_manager(s: Session) -> str:
    from aestheticc_pos.store.tables import StaffRow

    staff_id = s.scalar(
        select(StaffRow.id).where(StaffRow.role == "manager").order_by(StaffRow.created_at).limit(1)
    )
    if staff_id is None:
        raise RuleViolation("The clinic has no manager to record this payment under.")
    return staff_id


# --- A priced basket kept as JSON (payment links never carry package redemptions) ----------------------------


def quote_to_json(priced: Quote) -> dict[str, Any]:
    if priced.package_credits_used:
        raise ValueError("a payment link's quote never redeems package sessions")
    return {
        "currency": priced.currency,
        "channel": priced.channel.value,
        "priced_on": priced.priced_on.isoformat(),
        "gross": priced.gross.pence,
        "discount": priced.discount.pence,
        "net": priced.net.pence,
        "vat": priced.vat.pence,
        "lines": [
            {
                "kind": q.line.kind.value,
                "item_id": q.line.item_id,
                "name": q.line.name,
                "unit_price": q.line.unit_price.pence,
                "quantity": q.line.quantity,
                "vat_rate_bp": q.line.vat_rate_bp,
                "appointment_id": q.line.appointment_id,
                "override": None
                if q.line.override is None
                else {
                    "unit_price": q.line.override.unit_price.pence,
                    "reason": q.line.override.reason,
                    "staff_id": q.line.override.staff_id,
                },
                "gross": q.gross.pence,
                "discount": q.discount.pence,
                "discount_reason": q.discount_reason,
                "net": q.net.pence,
                "vat": q.vat.pence,
            }
            for q in priced.lines
        ],
    }


def quote_from_json(data: dict[str, Any]) -> Quote:
    cur = data["currency"]

    def money(pence: int) -> Money:
        return Money(int(pence), cur)

    lines = []
    for d in data["lines"]:
        override = d.get("override")
        basket = BasketLine(
            kind=ItemKind(d["kind"]),
            item_id=d["item_id"],
            name=d["name"],
            unit_price=money(d["unit_price"]),
            quantity=int(d["quantity"]),
            vat_rate_bp=int(d["vat_rate_bp"]),
            appointment_id=d.get("appointment_id"),
            use_package=False,
            override=None
            if not override
            else PriceOverride(money(override["unit_price"]), override["reason"], override["staff_id"]),
        )
        lines.append(
            QuotedLine(
                line=basket,
                gross=money(d["gross"]),
                discount=money(d["discount"]),
                discount_reason=d.get("discount_reason"),
                net=money(d["net"]),
                vat=money(d["vat"]),
            )
        )
    return Quote(
        lines=tuple(lines),
        gross=money(data["gross"]),
        discount=money(data["discount"]),
        net=money(data["net"]),
        vat=money(data["vat"]),
        currency=cur,
        channel=Channel(data["channel"]),
        priced_on=dt.date.fromisoformat(data["priced_on"]),
    )
