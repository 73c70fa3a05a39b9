"""Sales: writing a sale for a priced basket, and its receipt (DESIGN.md §3 "Checkout documents").

``record_sale_in`` is the one way a sale is written, whatever sold it: the till (``checkout.complete_sale``),
an invoice paid at the desk or by link (``invoices``), a basket link paid (``payment_links``), a package bought
on the booking portal (``portal``). It writes, in the caller's transaction, the sale with its lines and tenders,
fulfils every line (package sessions redeemed, packages sold become the client's, a membership sold is started,
booked visits are marked attended), credits a deposit tender, accepts a payment-link tender only for a link
GoCardless reported paid, queues a Direct Debit tender for GoCardless, and audits the sale. A sale is never
edited afterwards.

A membership sold at the till (``pricing`` makes its lines) is started with ``memberships.start_membership_in``
inside the sale's transaction, so a refused payment starts nothing, and the same rules refuse it (a client with
a membership that has not ended, a tier no longer offered). It starts active, paid through the end of its first
month; its Direct Debit set-up asks for the mandate only, and the subscription collects from the second month.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from aestheticc_pos.domain import packages as package_rules
from aestheticc_pos.domain.appointments import AppointmentStatus
from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.checkout import Settlement, Tender, TenderKind, amount_text, settle
from aestheticc_pos.domain.errors import InvalidInput, RuleViolation
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.outbox import OutboxKind
from aestheticc_pos.domain.payment_links import LinkStatus
from aestheticc_pos.domain.pricing import Quote, QuotedLine
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import ClinicSettings, Services, read_clinic_settings
from aestheticc_pos.services.deposits import credit_deposit_in
from aestheticc_pos.services.memberships import start_membership_in
from aestheticc_pos.services.packages import lock_client_packages, record_ledger_entry, sell_package_in
from aestheticc_pos.services.pricing import (
    MEMBERSHIP_NEEDS_CLIENT,
    Payment,
    audit_price_overrides,
    priced_line_columns,
)
from aestheticc_pos.services.receipts import Receipt, ReceiptLine, WrittenSale
from aestheticc_pos.services.visits import attend_in, release_booked_session_in
from aestheticc_pos.store import catalogue_repo, package_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.outbox_repo import enqueue
from aestheticc_pos.store.tables import PaymentLinkRow, SaleLineRow, SaleRow, TenderRow
from aestheticc_pos.store.takings_summary import add_to_takings_in
from aestheticc_pos.store.unit_of_work import UnitOfWork

# A sale's rows are written with statements built once (the till's hot path; no ORM objects to flush).
_INSERT_SALE = insert(SaleRow.__table__)
_INSERT_LINE = insert(SaleLineRow.__table__)
_INSERT_TENDER = insert(TenderRow.__table__)


def record_sale_in(
    uow: UnitOfWork,
    services: Services,
    settings: ClinicSettings,
    *,
    priced: Quote,
    payments: list[Payment],
    client_id: str | None,
    staff_id: str,
    sale_id: str | None = None,
) -> tuple[str, Settlement]:
    """Take ``payments`` for an already priced basket and write its sale inside the caller's unit of work.

    What every sale writes (module docstring), for a quote priced by the caller (an issued invoice keeps the
    prices it was issued with): the sale numbered on this till, with ``priced.channel``; each line fulfilled (sessions
    redeemed, packages and memberships started, visits attended); the tenders, a Direct Debit one queued for
    GoCardless; price overrides audited. Lock the client's packages before pricing. Returns the new sale's id
    and how it was settled; the caller commits.
    """
    written = write_sale_in(
        uow,
        services,
        settings,
        priced=priced,
        payments=payments,
        client_id=client_id,
        staff_id=staff_id,
        sale_id=sale_id,
    )
    return written.sale_id, written.settlement


def write_sale_in(
    uow: UnitOfWork,
    services: Services,
    settings: ClinicSettings,
    *,
    priced: Quote,
    payments: list[Payment],
    client_id: str | None,
    staff_id: str,
    sale_id: str | None = None,
    client_locked: bool = False,
) -> WrittenSale:
    """``record_sale_in``, returning what was written. ``client_locked``: the caller already holds the client
    (``repo.lock_client``, before pricing), so it is not locked a second time."""
    s = uow.session
    now = services.now()
    today = now.astimezone(settings.tz).date()
    tenders = [_tender(p, priced.currency) for p in payments]
    settlement = settle(priced.net, tenders)
    if client_id is not None and not client_locked:  # the lock order (DESIGN.md §4): client, number series
        lock_client_packages(uow, client_id)
    sale_id = sale_id or services.new_id()
    prefix = settings.till_prefix
    number = uow.next_number(f"sale:{prefix}", prefix + "-{n:06d}")
    s.execute(
        _INSERT_SALE,
        {
            "id": sale_id,
            "number": number,
            "till_prefix": prefix,
            "client_id": client_id,
            "staff_id": staff_id,
            "kind": "sale",
            "channel": priced.channel.value,
            "gross_pence": priced.gross.pence,
            "discount_pence": priced.discount.pence,
            "net_pence": priced.net.pence,
            "vat_pence": priced.vat.pence,
            "currency": priced.currency,
            "created_at": now,
        },
    )
    lines = []
    joined = False  # a membership's lines (its first month, its sign-up fee) start it once
    for position, line in enumerate(priced.lines, start=1):
        cp_id = None
        if line.line.kind is not ItemKind.MEMBERSHIP:
            cp_id = _fulfil_line(uow, services, settings, line, client_id, today, sale_id, staff_id)
        elif not joined:
            if client_id is None:
                raise InvalidInput(MEMBERSHIP_NEEDS_CLIENT)
            start_membership_in(
                uow,
                services,
                client_id=client_id,
                tier_id=line.line.item_id,
                staff_id=staff_id,
                first_month_sale_id=sale_id,
            )
            joined = True
        lines.append(_sale_line(sale_id, position, line, cp_id))
    kept = _kept_tenders(settlement)
    s.flush()  # what fulfilling the lines added (client packages sold), before the lines that refer to it
    s.execute(_INSERT_LINE, lines)
    if kept:
        s.execute(
            _INSERT_TENDER,
            [
                {
                    "sale_id": sale_id,
                    "kind": tender.kind.value,
                    "amount_pence": tender.amount.pence,
                    "currency": tender.amount.currency,
                    "reference": tender.reference,
                }
                for tender in kept
            ],
        )
    for tender in kept:
        if tender.kind is TenderKind.DIRECT_DEBIT:
            _queue_direct_debit(uow, client_id, sale_id, number, tender)
        elif tender.kind is TenderKind.PAYMENT_LINK:
            _take_link_payment(s, tender, sale_id)
        elif tender.kind is TenderKind.DEPOSIT:
            assert tender.reference is not None  # settle() refuses a deposit tender without one
            credit_deposit_in(
                uow, deposit_id=tender.reference, amount=tender.amount, client_id=client_id, sale_id=sale_id
            )
    add_to_takings_in(  # the day's takings, locked after the number series (DESIGN.md §4)
        s,
        today,
        kind="sale",
        reason=None,
        seller_id=staff_id,
        currency=priced.currency,
        totals=(priced.gross.pence, priced.discount.pence, priced.net.pence, priced.vat.pence),
        lines=lines,
        tenders=[(t.kind.value, t.amount.currency, t.amount.pence) for t in kept],
    )
    append_audit(  # every sale is in the hash-chained audit log (DESIGN.md §7), the audit head locked last
        s,
        at=now,
        staff_id=staff_id,
        action="sale.recorded",
        record_type="sale",
        record_id=sale_id,
        details={
            "number": number,
            "net_pence": priced.net.pence,
            "tenders": ",".join(sorted({t.kind.value for t in settlement.tenders})),
            "channel": priced.channel.value,
        },
    )
    audit_price_overrides(s, priced, at=now, record_type="sale", record_id=sale_id)
    s.flush()
    return WrittenSale(sale_id, number, now.astimezone(dt.UTC), settlement)


@use_case(Audience.ANY_STAFF)
def sale_receipt(services: Services, sale_id: str) -> Receipt:
    with services.uow(read_only=True) as uow:
        return receipt_in(uow.session, read_clinic_settings(uow.session), sale_id)


def receipt_in(s: Session, settings: ClinicSettings, sale_id: str) -> Receipt:
    """A sale's receipt, read inside the caller's unit of work."""
    sale = s.get(SaleRow, sale_id)
    if sale is None:
        raise InvalidInput("That sale does not exist.")
    lines = s.scalars(
        select(SaleLineRow).where(SaleLineRow.sale_id == sale_id).order_by(SaleLineRow.position)
    )
    tenders = s.scalars(select(TenderRow).where(TenderRow.sale_id == sale_id))
    client = repo.load_client(s, sale.client_id) if sale.client_id else None
    staff = repo.load_staff_row(s, sale.staff_id)
    original = s.get(SaleRow, sale.refers_to_sale_id) if sale.refers_to_sale_id else None
    cur = sale.currency
    return Receipt(
        sale_id=sale.id,
        number=sale.number,
        created_at=sale.created_at,
        client_id=sale.client_id,
        client_name=client.full_name if client else None,
        staff_name=staff.name,
        lines=tuple(
            ReceiptLine(
                name=r.name,
                quantity=r.quantity,
                unit_price=Money(r.unit_price_pence, cur),
                gross=Money(r.gross_pence, cur),
                discount=Money(r.discount_pence, cur),
                discount_reason=r.discount_reason,
                net=Money(r.net_pence, cur),
                vat=Money(r.vat_pence, cur),
                vat_rate_bp=r.vat_rate_bp,
            )
            for r in lines
        ),
        gross=Money(sale.gross_pence, cur),
        discount=Money(sale.discount_pence, cur),
        net=Money(sale.net_pence, cur),
        vat=Money(sale.vat_pence, cur),
        tenders=tuple(
            Tender(TenderKind(t.kind), Money(t.amount_pence, t.currency), t.reference) for t in tenders
        ),
        change_due=Money.zero(cur),
        clinic_name=settings.name,
        clinic_address=settings.address,
        vat_number=settings.vat_number,
        kind=sale.kind,
        refers_to=None if original is None else original.number,
        reason=sale.reason,
    )


@use_case(Audience.ANY_STAFF)
def sales_of_client(services: Services, client_id: str, *, limit: int = 200) -> list[Receipt]:
    """A client's purchase history, newest first."""
    limit = inputs.how_many(limit)
    with services.uow(read_only=True) as uow:
        return sales_of_client_in(uow.session, read_clinic_settings(uow.session), client_id, limit=limit)


def sales_of_client_in(s: Session, settings: ClinicSettings, client_id: str, *, limit: int) -> list[Receipt]:
    """A client's receipts, newest first, read inside the caller's unit of work."""
    ids = list(
        s.scalars(
            select(SaleRow.id)
            .where(SaleRow.client_id == client_id)
            .order_by(SaleRow.created_at.desc())
            .limit(limit)
        )
    )
    return [receipt_in(s, settings, sale_id) for sale_id in ids]


# --- helpers ------------------------------------------------------------------------------------------------


def _fulfil_line(
    uow: UnitOfWork,
    services: Services,
    settings: ClinicSettings,
    line: QuotedLine,
    client_id: str | None,
    today: dt.date,
    sale_id: str,
    staff_id: str,
) -> str | None:
    """Do what a sold line promises; returns the client package the line concerns, if any."""
    s = uow.session
    basket = line.line
    if basket.kind is ItemKind.PACKAGE:
        if client_id is None:
            raise InvalidInput("Choose the client first: a package belongs to a client.")
        package = catalogue_repo.load_package(s, basket.item_id)
        first = None
        for _ in range(basket.quantity):
            cp = sell_package_in(
                uow,
                package,
                client_package_id=services.new_id(),
                client_id=client_id,
                today=today,
                sale_id=sale_id,
            )
            first = first or cp.id
        return first
    appointment = repo.load_appointment(s, basket.appointment_id) if basket.appointment_id else None
    if appointment is not None and appointment.client_id != client_id:
        raise InvalidInput("That appointment belongs to another client.")
    credit = line.package_credit
    booked = appointment is not None and appointment.status is AppointmentStatus.BOOKED
    if (
        booked
        and appointment is not None
        and appointment.client_package_id is not None
        and (credit is None or credit.client_package_id != appointment.client_package_id)
    ):
        # Paid (or paid from another package) instead of the session booked for it: give that one back.
        release_booked_session_in(
            uow,
            appointment.id,
            appointment.client_package_id,
            now=services.now(),
            today=today,
            staff_id=staff_id,
            sale_id=sale_id,
        )
        appointment = repo.load_appointment(s, appointment.id)
    if credit is not None and not (
        booked and appointment is not None and appointment.client_package_id == credit.client_package_id
    ):
        cp = package_repo.load_client_package(s, credit.client_package_id)
        visit = (
            appointment.id if appointment is not None else None
        )  # so the redemption can be undone by visit
        _, entry = package_rules.redeem(cp, credit.step_position, visit, today, today)
        record_ledger_entry(uow, cp, entry, staff_id=staff_id, sale_id=sale_id, at=services.now())
    if booked and appointment is not None:
        # Marks the visit attended, and redeems the session booked for it if it still has one.
        attend_in(uow, services, appointment.id, staff_id=staff_id, sale_id=sale_id)
    return credit.client_package_id if credit is not None else None


def _sale_line(
    sale_id: str, position: int, line: QuotedLine, client_package_id: str | None
) -> dict[str, Any]:
    credit = line.package_credit
    return {
        "sale_id": sale_id,
        "client_package_id": client_package_id,
        "refunds_position": None,
        **priced_line_columns(position, line, step_position=credit.step_position if credit else None),
    }


def _tender(payment: Payment, currency: str) -> Tender:
    try:
        kind = TenderKind(payment.kind)
    except ValueError:
        raise InvalidInput(f"“{payment.kind}” is not a way to pay.") from None
    amount = inputs.money(payment.amount, what="The amount paid", currency=currency)
    return Tender(kind=kind, amount=amount, reference=(payment.reference or None))


def _kept_tenders(settlement: Settlement) -> list[Tender]:
    """The tenders as the clinic keeps them: cash net of the change handed back."""
    kept = []
    change = settlement.change_due
    for tender in settlement.tenders:
        if tender.kind is TenderKind.CASH and change:
            taken = tender.amount - tender.amount.min(change)
            change = change - tender.amount.min(change)
            if taken:
                kept.append(Tender(tender.kind, taken, tender.reference))
            continue
        kept.append(tender)
    return kept


def _take_link_payment(s: Session, tender: Tender, sale_id: str) -> None:
    """A ``payment_link`` tender is money GoCardless reported paid through a link of this basket: the link
    (named by its billing request or its own id) must be paid, for that amount, and on no other sale."""
    link = s.scalars(
        select(PaymentLinkRow)
        .where(
            or_(
                PaymentLinkRow.gc_billing_request_id == tender.reference,
                PaymentLinkRow.id == tender.reference,
            )
        )
        .with_for_update()
    ).first()
    if link is None or LinkStatus(link.status) is not LinkStatus.PAID:
        raise RuleViolation(
            "GoCardless has not reported that payment link as paid, so it cannot pay for this sale. "
            "Take another payment, or wait until the client has paid the link."
        )
    if link.amount_pence != tender.amount.pence or link.currency != tender.amount.currency:
        raise RuleViolation(
            f"That payment link was paid {amount_text(Money(link.amount_pence, link.currency))}, not "
            f"{amount_text(tender.amount)}. Take the difference another way."
        )
    if link.sale_id is not None and link.sale_id != sale_id:
        raise RuleViolation("That payment link's money is already on another sale. Take another payment.")
    link.sale_id = sale_id


def _queue_direct_debit(
    uow: UnitOfWork, client_id: str | None, sale_id: str, number: str, tender: Tender
) -> None:
    membership = repo.current_membership_of(uow.session, client_id) if client_id else None
    mandate = membership.mandate_id if membership else None
    if not mandate or tender.reference not in (mandate, None):
        raise RuleViolation(
            "This client has no active Direct Debit mandate to collect from. Take another payment."
        )
    enqueue(
        uow.session,
        kind=OutboxKind.CREATE_PAYMENT,
        record_type="sale",
        record_id=sale_id,
        payload={
            "amount": tender.amount.pence,
            "currency": tender.amount.currency,
            "mandate_id": mandate,
            "description": f"Aestheticc sale {number}",
            "metadata": {"sale_id": sale_id},
        },
    )
