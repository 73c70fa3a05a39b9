"""A payment link as GoCardless work: write one with its billing request and hosted page queued, cancel it,
refund its payment, and keep its priced basket as JSON. Everything here runs inside the caller's unit of work.

The lower half of payment links, shared by ``payment_links`` (what staff do with links and what GoCardless
reports about them) and ``deposits`` (a booking's deposit is asked for by link). Statuses and purposes are
``domain/payment_links.py``'s.

Outbox rows: record_type ``payment_link``, record_id the link's id, idempotency key
``payment_link-<id>-<kind>-v<n>``. Payloads:

- ``create_payment_request``: ``payment_request`` {amount (pence), currency, description}, ``metadata``
  {payment_link_id}, and ``links.customer`` when the client has a GoCardless customer already;
- ``create_payment_link_flow`` (after it): ``prefilled_customer`` (name, email); the engine adds
  ``links.billing_request`` from the remote id of the row it depends on;
- ``cancel_billing_request``: ``billing_request_id`` (None: the remote id of the row it depends on);
- ``create_refund`` (``refund_payload``): the whole of a payment, given back.

The engine writes the remote ids back: the billing request's id to ``gc_billing_request_id``, the flow's id and
``authorisation_url`` to ``gc_flow_id`` / ``authorisation_url`` (and the link becomes open).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aestheticc_pos.domain import outbox
from aestheticc_pos.domain import payment_links as links
from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.errors import NotFound, RuleViolation
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.outbox import OutboxKind, OutboxStatus
from aestheticc_pos.domain.payment_links import LinkPurpose, LinkStatus
from aestheticc_pos.domain.pricing import BasketLine, Channel, PriceOverride, Quote, QuotedLine
from aestheticc_pos.services.context import Services
from aestheticc_pos.store.outbox_repo import enqueue, jobs_of
from aestheticc_pos.store.tables import ClientRow, MembershipRow, PaymentLinkRow
from aestheticc_pos.store.unit_of_work import UnitOfWork

RECORD_TYPE = "payment_link"
_SENT = (OutboxStatus.IN_FLIGHT, OutboxStatus.DONE, OutboxStatus.FAILED)
_LINK_WORK = (
    OutboxKind.CREATE_PAYMENT_REQUEST,
    OutboxKind.CREATE_PAYMENT_LINK_FLOW,
    OutboxKind.CANCEL_BILLING_REQUEST,
    OutboxKind.CREATE_REFUND,
)


def new_link_in(
    uow: UnitOfWork,
    services: Services,
    *,
    purpose: LinkPurpose | str,
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
            purpose=LinkPurpose(purpose).value,
            client_id=None if client is None else client.id,
            invoice_id=invoice_id,
            staff_id=staff_id,
            replaces_id=replaces_id,
            status=LinkStatus.PREPARING.value,
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
    first = queue_link_work(s, link_id, OutboxKind.CREATE_PAYMENT_REQUEST, request)
    queue_link_work(
        s, link_id, OutboxKind.CREATE_PAYMENT_LINK_FLOW, {"prefilled_customer": prefilled}, depends_on=first
    )
    return link_id


def cancel_link_in(uow: UnitOfWork, services: Services, link_id: str) -> None:
    """Stop a link nobody has paid or approved: work never sent is withdrawn; a billing request GoCardless
    has (or may have) is cancelled there."""
    s = uow.session
    row = lock_link(s, link_id)
    cancelled = links.cancel(LinkStatus(row.status))
    unsent = jobs_of(s, RECORD_TYPE, link_id, _LINK_WORK, statuses=outbox.UNSENT)
    sent = jobs_of(s, RECORD_TYPE, link_id, _LINK_WORK, statuses=_SENT)
    for job in reversed(unsent):  # later work first: it depends on the earlier
        if outbox.is_unsent(OutboxStatus(job.status), job.attempts):
            s.delete(job)
            s.flush()
    request = next((j for j in sent if j.kind == OutboxKind.CREATE_PAYMENT_REQUEST), None)
    if request is not None:
        queue_link_work(
            s,
            link_id,
            OutboxKind.CANCEL_BILLING_REQUEST,
            {"billing_request_id": row.gc_billing_request_id},
            depends_on=request.id if row.gc_billing_request_id is None else None,
        )
    row.status = cancelled.value
    row.closed_at = services.now()


def refund_payload(amount_pence: int, payment_id: str, **metadata: str) -> dict[str, Any]:
    """A ``create_refund`` of the whole of a payment (GoCardless asks for the total to be confirmed)."""
    return {
        "amount": amount_pence,
        "total_amount_confirmation": amount_pence,
        "links": {"payment": payment_id},
        "metadata": metadata,
    }


def queue_link_work(
    s: Session, link_id: str, kind: OutboxKind, payload: dict[str, Any], *, depends_on: str | None = None
) -> str:
    """Queue one piece of GoCardless work for the link; returns its outbox id."""
    return enqueue(
        s, kind=kind, record_type=RECORD_TYPE, record_id=link_id, payload=payload, depends_on=depends_on
    )


def lock_link(s: Session, link_id: str) -> PaymentLinkRow:
    """The link, held until the transaction ends (read afresh)."""
    row = s.get(PaymentLinkRow, link_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound("That payment link does not exist.")
    return row


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
