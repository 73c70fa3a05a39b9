"""Invoices: draft, issue, void, and take payment for them (rules in ``domain/invoices.py``).

Pricing: an invoice is priced by ``pricing.price_basket_in`` on the invoice channel, the same ``quote`` the
till uses, so a member gets exactly the discount they would get at the desk that day. A draft is priced when
it is made or edited, and priced again when it is issued (an invoice shows the prices and discounts in force
on its issue date; ``expected_total`` refuses the issue when that changed what staff were shown). Once issued
its lines are fixed: paying it takes exactly the issued total, even if a membership lapsed since.

Package sessions are not redeemed on an invoice: it bills money owed, so every treatment line is charged
(``use_package`` False) and the client keeps their sessions for visits checked out at the till. A visit
booked on a package session is refused, since invoicing it would give that session back and charge instead.
Selling a package on an invoice is fine: the client gets the package when the invoice is paid. A membership
is never invoiced (its Direct Debit bills it).

Paying (at the desk, or through a payment link) completes the sale the lines describe, once, inside the same
transaction: ``sales.record_sale_in`` writes it with the channel "invoice", fulfils its lines (packages
become the client's, booked visits are marked attended) and the invoice points at it.

Numbers: an invoice takes its number only when issued, from the series of its issue year, so discarded drafts
leave no gap; a void invoice keeps its number.

What staff see of an invoice (``InvoiceDetail``, ``InvoiceSummary``) and how its lines are stored are
``invoice_records``'s.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from aestheticc_pos.domain import invoices as rules
from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.checkout import Settlement, TenderKind
from aestheticc_pos.domain.errors import InvalidInput, NotFound, RuleViolation
from aestheticc_pos.domain.invoices import InvoiceStanding, InvoiceStatus
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.payment_links import LinkStatus
from aestheticc_pos.domain.pricing import Channel, Quote
from aestheticc_pos.domain.staff import Action, Role, require_manager
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.services.invoice_records import (
    InvoiceDetail,
    InvoicePayment,
    InvoiceSummary,
    basket_item,
    detail_of,
    invoice_lines,
    invoice_state,
    issued_quote,
    priced_totals,
    summaries_of,
    write_lines,
    write_priced,
)
from aestheticc_pos.services.packages import lock_client_packages
from aestheticc_pos.services.pricing import (
    BasketItem,
    Payment,
    audit_price_overrides,
    check_expected_total,
    price_basket_in,
)
from aestheticc_pos.services.sales import record_sale_in, sale_receipt
from aestheticc_pos.services.staff import require_staff
from aestheticc_pos.store import package_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.tables import (
    InvoiceLineRow,
    InvoiceRow,
    PaymentLinkRow,
    TenderRow,
)
from aestheticc_pos.store.unit_of_work import UnitOfWork

_NO_LINES = "The invoice has no lines. Add a treatment, product or package first."


# --- Drafts --------------------------------------------------------------------------------------------------


@use_case(Action.SELL)
def create_invoice_draft(
    services: Services,
    *,
    client_id: str,
    items: list[BasketItem],
    staff_id: str,
    payment_terms_days: int = rules.DEFAULT_PAYMENT_TERMS_DAYS,
) -> InvoiceDetail:
    """A new draft invoice for a client, priced today. It has no number until it is issued."""
    terms = rules.check_payment_terms(payment_terms_days)
    with services.uow() as uow:
        require_staff(uow.session, staff_id, Action.SELL)
        invoice_id = _draft_in(uow, services, client_id, items, staff_id, terms)
        uow.commit()
    return invoice_detail(services, invoice_id)


@use_case(Action.SELL)
def invoice_basket(
    services: Services,
    *,
    client_id: str,
    items: list[BasketItem],
    staff_id: str,
    expected_total: Money | None = None,
    payment_terms_days: int = rules.DEFAULT_PAYMENT_TERMS_DAYS,
) -> InvoiceDetail:
    """Invoice a checkout basket at once: the draft and its issue in one transaction, so a refusal (the total
    is not ``expected_total``, an override needs a manager) or a crash leaves no draft behind."""
    terms = rules.check_payment_terms(payment_terms_days)
    with services.uow() as uow:
        staff = require_staff(uow.session, staff_id, Action.SELL)
        invoice_id = _draft_in(uow, services, client_id, items, staff_id, terms)
        _issue_in(uow, services, invoice_id, staff.role, staff_id, expected_total)
        uow.commit()
    return invoice_detail(services, invoice_id)


def _draft_in(
    uow: UnitOfWork, services: Services, client_id: str, items: list[BasketItem], staff_id: str, terms: int
) -> str:
    """Write a draft for ``items`` priced today; its id."""
    s = uow.session
    today = services.now().astimezone(read_clinic_settings(s).tz).date()
    priced = _price(uow, client_id, items, today, staff_id)
    invoice_id = services.new_id()
    s.add(
        InvoiceRow(
            id=invoice_id,
            client_id=client_id,
            staff_id=staff_id,
            status=InvoiceStatus.DRAFT.value,
            payment_terms_days=terms,
            priced_on=today,
            created_at=services.now(),
            **priced_totals(priced),
        )
    )
    s.flush()
    write_lines(s, invoice_id, priced)
    return invoice_id


@use_case(Action.SELL)
def update_invoice_draft(
    services: Services,
    invoice_id: str,
    *,
    staff_id: str,
    items: list[BasketItem] | None = None,
    payment_terms_days: int | None = None,
) -> InvoiceDetail:
    """Change a draft's lines (``items``) or payment terms, and price it again today.

    ``items`` None keeps the lines (``InvoiceDetail.basket_items``) and only prices them again.
    """
    terms = None if payment_terms_days is None else rules.check_payment_terms(payment_terms_days)
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, Action.SELL)
        row = _lock_invoice(s, invoice_id)
        rules.require_draft(invoice_state(row))
        today = services.now().astimezone(read_clinic_settings(s).tz).date()
        if items is None:
            items = [basket_item(line) for line in invoice_lines(s, invoice_id, row.currency)]
        priced = _price(uow, row.client_id, items, today, staff_id)
        write_priced(s, row, priced, today)
        if terms is not None:
            row.payment_terms_days = terms
        uow.commit()
    return invoice_detail(services, invoice_id)


@use_case(Action.SELL)
def discard_invoice_draft(services: Services, invoice_id: str, *, staff_id: str) -> None:
    """Throw a draft away. It never had a number, so the series keeps no gap."""
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, Action.SELL)
        row = _lock_invoice(s, invoice_id)
        rules.require_discardable(invoice_state(row))
        s.execute(delete(InvoiceLineRow).where(InvoiceLineRow.invoice_id == invoice_id))
        s.delete(row)
        uow.commit()


# --- Issue and void ------------------------------------------------------------------------------------------


@use_case(Action.SELL)
def issue_invoice(
    services: Services, invoice_id: str, *, staff_id: str, expected_total: Money | None = None
) -> InvoiceDetail:
    """Price the draft on today's date, give it the next number of this year's series and its due date.

    When the new total differs from ``expected_total`` (what staff were shown: a membership lapsed, a price
    changed), nothing is issued and the refusal gives the new total. The number is taken last, inside the
    same transaction, so a refused or failed issue leaves no gap.
    """
    with services.uow() as uow:
        staff = require_staff(uow.session, staff_id, Action.SELL)
        _issue_in(uow, services, invoice_id, staff.role, staff_id, expected_total)
        uow.commit()
    return invoice_detail(services, invoice_id)


def _issue_in(
    uow: UnitOfWork,
    services: Services,
    invoice_id: str,
    role: Role,
    staff_id: str,
    expected_total: Money | None,
) -> None:
    s = uow.session
    now = services.now()
    row = _lock_invoice(s, invoice_id)
    state = invoice_state(row)
    rules.require_issuable(state)
    today = now.astimezone(read_clinic_settings(s).tz).date()
    items = [basket_item(line) for line in invoice_lines(s, invoice_id, row.currency)]
    if any(item.override_price is not None for item in items):
        require_manager(role, "issue an invoice with a price override")
    priced = _price(uow, row.client_id, items, today, staff_id)
    check_expected_total(
        priced, expected_total, what="The invoice total", then="Check the invoice before issuing it."
    )
    number = uow.next_number(rules.number_series(today), rules.number_template(today))
    issued = rules.issue(state, number=number, on=today, terms_days=row.payment_terms_days, total=priced.net)
    write_priced(s, row, priced, today)
    row.status = issued.status.value
    row.number = issued.number
    row.issued_on = issued.issued_on
    row.due_on = issued.due_on
    audit_price_overrides(s, priced, at=now, record_type="invoice", record_id=invoice_id)


@use_case(Action.VOID_INVOICE)
def void_invoice(services: Services, invoice_id: str, *, staff_id: str, reason: str) -> InvoiceDetail:
    """A manager voids an issued, unpaid invoice, saying why (audited). It keeps its number."""
    now = services.now()
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, Action.VOID_INVOICE)
        row = _lock_invoice(s, invoice_id)
        voided = rules.void(invoice_state(row), reason)
        row.status = voided.status.value
        row.void_reason = voided.void_reason
        row.voided_at = now
        append_audit(
            s,
            at=now,
            staff_id=staff_id,
            action="invoice.voided",
            record_type="invoice",
            record_id=invoice_id,
            reason=voided.void_reason,
            details={"number": row.number or "", "total_pence": row.net_pence},
        )
        uow.commit()
    return invoice_detail(services, invoice_id)


# --- Payment -------------------------------------------------------------------------------------------------


@use_case(Action.TAKE_PAYMENTS)
def pay_invoice_at_desk(
    services: Services, invoice_id: str, *, payments: list[Payment], staff_id: str
) -> InvoicePayment:
    """Take payment for an issued invoice at the desk (tenders as at the till; cash may give change).

    Completes the invoice's sale in the same transaction, exactly once: a second payment of the same invoice,
    here or on another till, is refused because the invoice is then paid.
    """
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, Action.TAKE_PAYMENTS)
        sale_id, settlement = _complete_invoice_sale(uow, services, invoice_id, payments, staff_id)
        uow.commit()
    receipt = replace(
        sale_receipt(services, sale_id), change_due=settlement.change_due, tenders=settlement.tenders
    )
    return InvoicePayment(invoice=invoice_detail(services, invoice_id), receipt=receipt)


def mark_invoice_paid_by_link_in(
    uow: UnitOfWork, services: Services, invoice_id: str, *, billing_request_id: str
) -> str | None:
    """Record that the client paid the invoice through its payment link, inside the caller's unit of work
    (the sync engine applies a confirmed payment this way, ``payment_links.link_paid_in``).

    ``billing_request_id`` must name a link of this invoice that GoCardless reported paid. Completes the
    invoice's sale with a payment-link tender, on behalf of the staff member who made the invoice. Returns
    the new sale's id, or None when this payment was recorded already. A payment for an invoice that was
    voided or paid at the desk meanwhile is refused with a ``RuleViolation``: that money must be refunded.
    """
    if not billing_request_id:
        raise InvalidInput("A payment-link payment needs the link it was paid through.")
    s = uow.session
    link = s.scalars(
        select(PaymentLinkRow).where(
            PaymentLinkRow.invoice_id == invoice_id,
            or_(
                PaymentLinkRow.gc_billing_request_id == billing_request_id,
                PaymentLinkRow.id == billing_request_id,
            ),
        )
    ).first()
    if link is None or LinkStatus(link.status) is not LinkStatus.PAID:
        raise RuleViolation(
            "GoCardless has not reported a payment through this invoice's link, so the invoice stays unpaid."
        )
    row = _lock_invoice(s, invoice_id)
    if row.status == InvoiceStatus.PAID and _paid_by_link(s, row, billing_request_id):
        return None
    amount = Money(row.net_pence, row.currency)
    link = Payment(TenderKind.PAYMENT_LINK, amount, billing_request_id)
    sale_id, _settlement = _complete_invoice_sale(uow, services, invoice_id, [link], row.staff_id)
    return sale_id


# --- Read model ----------------------------------------------------------------------------------------------


@use_case(Audience.ANY_STAFF)
def invoice_detail(services: Services, invoice_id: str) -> InvoiceDetail:
    with services.uow(read_only=True) as uow:
        s = uow.session
        row = s.get(InvoiceRow, invoice_id)
        if row is None:
            raise NotFound("That invoice does not exist (a draft may have been discarded).")
        return detail_of(s, row, services.today(read_clinic_settings(s)))


@use_case(Audience.ANY_STAFF)
def invoices_of_client(services: Services, client_id: str, *, limit: int = 200) -> list[InvoiceSummary]:
    """A client's invoices, newest first."""
    return _summaries(services, client_id=client_id, standing=None, limit=limit, offset=0)


@use_case(Audience.ANY_STAFF)
def invoices_list(
    services: Services,
    *,
    status: InvoiceStanding | InvoiceStatus | str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[InvoiceSummary]:
    """Invoices newest first, optionally only those whose standing is ``status`` ("issued": issued and not
    yet past due; "overdue": issued and past its due date; "draft", "paid", "void")."""
    wanted = None if status is None else _standing(status)
    return _summaries(services, client_id=None, standing=wanted, limit=limit, offset=offset)


def _summaries(
    services: Services, *, client_id: str | None, standing: InvoiceStanding | None, limit: int, offset: int
) -> list[InvoiceSummary]:
    limit, offset = inputs.how_many(limit), inputs.offset(offset)
    with services.uow(read_only=True) as uow:
        s = uow.session
        today = services.today(read_clinic_settings(s))
        return summaries_of(s, today, client_id=client_id, standing=standing, limit=limit, offset=offset)


# --- helpers ------------------------------------------------------------------------------------------------


def _price(uow: UnitOfWork, client_id: str, items: list[BasketItem], on: dt.date, staff_id: str) -> Quote:
    if not items:
        raise InvalidInput(_NO_LINES)
    invoiced = [_invoiceable(uow, item) for item in items]
    return price_basket_in(
        uow, client_id=client_id, items=invoiced, on=on, channel=Channel.INVOICE, staff_id=staff_id
    )


def _invoiceable(uow: UnitOfWork, item: BasketItem) -> BasketItem:
    """The item as an invoice charges it: never paid from a package session (module docstring)."""
    rules.check_invoice_item(inputs.choice(ItemKind, item.kind, what="something the till sells"))
    if item.appointment_id is not None:
        appointment = repo.load_appointment(uow.session, item.appointment_id)
        if appointment.client_package_id is not None:
            cp = package_repo.load_client_package(uow.session, appointment.client_package_id)
            raise RuleViolation(
                f"This visit is booked on a session of {cp.name}, so there is nothing to invoice for it. "
                "Check it out at the till to use the session."
            )
    return replace(item, use_package=False)


def _complete_invoice_sale(
    uow: UnitOfWork, services: Services, invoice_id: str, payments: list[Payment], staff_id: str
) -> tuple[str, Settlement]:
    s = uow.session
    row = _lock_invoice(s, invoice_id)
    paid = rules.mark_paid(invoice_state(row))
    lock_client_packages(uow, row.client_id)  # a package on the invoice becomes the client's
    sale_id, settlement = record_sale_in(
        uow,
        services,
        read_clinic_settings(s),
        priced=issued_quote(s, row),
        payments=payments,
        client_id=row.client_id,
        staff_id=staff_id,
    )
    row.status = paid.status.value
    row.paid_at = services.now()
    row.sale_id = sale_id
    s.flush()
    return sale_id, settlement


def _paid_by_link(s: Session, row: InvoiceRow, billing_request_id: str) -> bool:
    return (
        s.scalar(
            select(TenderRow.id).where(
                TenderRow.sale_id == row.sale_id,
                TenderRow.kind == TenderKind.PAYMENT_LINK.value,
                TenderRow.reference == billing_request_id,
            )
        )
        is not None
    )


def _lock_invoice(s: Session, invoice_id: str) -> InvoiceRow:
    """The invoice, held until the transaction ends (PostgreSQL ``FOR UPDATE``; SQLite holds the write lock)."""
    row = s.scalars(
        select(InvoiceRow)
        .where(InvoiceRow.id == invoice_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        raise NotFound("That invoice does not exist (a draft may have been discarded).")
    return row


def _standing(value: InvoiceStanding | InvoiceStatus | str) -> InvoiceStanding:
    try:
        return InvoiceStanding(value)
    except ValueError:
        choices = ", ".join(s.value for s in InvoiceStanding)
        raise InvalidInput(f"“{value}” is not an invoice status: choose {choices}.") from None
