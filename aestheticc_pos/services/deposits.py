"""Deposits taken when booking: asked for by payment link, credited at checkout, refunded or kept on cancelling.

When a treatment with a deposit rule is booked (and no package session pays for it), ``request_deposit_in``
prices the treatment for the client with the one ``quote()`` (channel DEPOSIT: a member's discount first) and
applies the rule to the discounted price (``domain.pricing.deposit_due``); a link for that amount is queued
(``payment_links.new_link_in``) and the appointment's ``deposit_status`` says "requested", then "paid" when
GoCardless confirms the payment.

At checkout the paid deposit is a tender (kind DEPOSIT, reference the deposit's id): ``credit_deposit_in``
marks it credited against that sale, once. A cancelled booking's deposit follows the clinic's policy
(``ClinicSettings.late_deposit``): cancelled in time, it is refunded through GoCardless; cancelled late or a
no-show, it is kept (or refunded, if the clinic says so). A deposit never paid just has its link cancelled.

Outbox rows for a refund: record_type ``deposit``, kind ``create_refund``, payload ``amount`` (pence),
``links.payment`` (the GoCardless payment), ``metadata`` {deposit_id}, and ``total_amount_confirmation``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from aestheticc_pos.domain.appointments import Appointment, AppointmentStatus
from aestheticc_pos.domain.catalogue import ItemKind, Treatment
from aestheticc_pos.domain.checkout import amount_text
from aestheticc_pos.domain.errors import RuleViolation
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.packages import format_date
from aestheticc_pos.domain.pricing import Channel, deposit_due
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.checkout import BasketItem, price_basket_in
from aestheticc_pos.services.context import ClinicSettings, Services, read_clinic_settings
from aestheticc_pos.services.payment_links import (
    LinkPurpose,
    cancel_link_in,
    new_link_in,
    quote_to_json,
    refund_payload,
)
from aestheticc_pos.store.outbox_repo import enqueue
from aestheticc_pos.store.tables import AppointmentRow, ClientRow, DepositRow, PaymentLinkRow
from aestheticc_pos.store.unit_of_work import UnitOfWork

RECORD_TYPE = "deposit"
KEEP, REFUND = "keep", "refund"  # what a late cancellation or a no-show does to a paid deposit

STATUS_WORDS = {
    "requested": "Deposit requested",
    "paid": "Deposit paid",
    "credited": "Deposit used at checkout",
    "refund_pending": "Deposit being refunded",
    "refunded": "Deposit refunded",
    "kept": "Deposit kept (late cancellation or no-show)",
    "cancelled": "Deposit not paid; link cancelled",
}


@dataclass(frozen=True, slots=True)
class DepositView:
    id: str
    appointment_id: str
    amount: Money
    status: str
    link_id: str | None
    link_status: str | None
    authorisation_url: str | None

    @property
    def words(self) -> str:
        return f"{STATUS_WORDS.get(self.status, self.status)}: {amount_text(self.amount)}"


def request_deposit_in(
    uow: UnitOfWork, services: Services, appointment: Appointment, treatment: Treatment, *, staff_id: str
) -> str | None:
    """Ask for the treatment's deposit by link for a new booking; None when it has no deposit to take."""
    if appointment.client_package_id is not None:
        return None  # the package is paid for already
    rule = treatment.deposit_rule
    s = uow.session
    settings = read_clinic_settings(s)
    today = services.today(settings)
    priced = price_basket_in(
        uow,
        client_id=appointment.client_id,
        items=[BasketItem(ItemKind.TREATMENT, treatment.id, use_package=False)],
        on=today,
        channel=Channel.DEPOSIT,
    )
    amount = deposit_due(priced.lines[0], rule)
    if amount.pence <= 0:
        return None
    client = s.get(ClientRow, appointment.client_id)
    when = format_date(appointment.session_on(settings.tz))
    link_id = new_link_in(
        uow,
        services,
        purpose=LinkPurpose.DEPOSIT,
        client=client,
        amount=amount,
        description=f"Deposit for {treatment.name} on {when}",
        quote=quote_to_json(priced),
        staff_id=staff_id,
    )
    deposit_id = services.new_id()
    s.add(
        DepositRow(
            id=deposit_id,
            appointment_id=appointment.id,
            amount_pence=amount.pence,
            currency=amount.currency,
            status="requested",
            payment_link_id=link_id,
        )
    )
    _set_appointment(s, appointment.id, "requested")
    s.flush()
    return deposit_id


def deposit_paid_in(uow: UnitOfWork, services: Services, *, link_id: str) -> None:
    """GoCardless confirmed the deposit's payment (called from ``payment_links.link_paid_in``)."""
    s = uow.session
    deposit = _by_link(s, link_id)
    if deposit is None or deposit.status not in ("requested", "cancelled"):
        return
    link = s.get(PaymentLinkRow, link_id)
    deposit.status = "paid"
    deposit.paid_at = services.now()
    deposit.gc_billing_request_id = None if link is None else link.gc_billing_request_id
    _set_appointment(s, deposit.appointment_id, "paid")
    appointment = s.get(AppointmentRow, deposit.appointment_id)
    if appointment is not None and appointment.status in (
        AppointmentStatus.CANCELLED.value,
        AppointmentStatus.LATE_CANCELLED.value,
        AppointmentStatus.NO_SHOW.value,
    ):
        # Paid after the booking was cancelled: give it back whatever the policy (the client kept nothing).
        _queue_refund(uow, services, deposit)


def deposit_link_closed_in(uow: UnitOfWork, *, link_id: str) -> None:
    deposit = _by_link(uow.session, link_id)
    if deposit is not None and deposit.status == "requested":
        deposit.status = "cancelled"
        _set_appointment(uow.session, deposit.appointment_id, "not paid")


def deposit_refunded_in(
    uow: UnitOfWork, services: Services, *, deposit_id: str, refund_id: str | None
) -> None:
    deposit = uow.session.get(DepositRow, deposit_id, with_for_update=True)
    if deposit is None or deposit.status == "refunded":
        return
    deposit.status = "refunded"
    deposit.refunded_at = services.now()
    if refund_id:
        deposit.gc_refund_id = refund_id
    _set_appointment(uow.session, deposit.appointment_id, "refunded")


def settle_deposit_on_cancel_in(
    uow: UnitOfWork,
    services: Services,
    settings: ClinicSettings,
    appointment_id: str,
    status: AppointmentStatus,
) -> str | None:
    """What cancelling the booking does to its deposit, as a sentence for staff (None: it had none)."""
    s = uow.session
    deposit = s.scalars(
        select(DepositRow).where(DepositRow.appointment_id == appointment_id).with_for_update()
    ).first()
    if deposit is None:
        return None
    amount = amount_text(Money(deposit.amount_pence, deposit.currency))
    if deposit.status == "requested":
        link = None if deposit.payment_link_id is None else s.get(PaymentLinkRow, deposit.payment_link_id)
        if link is not None and link.status in ("preparing", "open"):
            cancel_link_in(uow, services, link.id)
        elif link is not None and link.status == "authorised":
            return (
                f"The client has just paid the {amount} deposit; it is refunded once GoCardless confirms it."
            )
        deposit.status = "cancelled"
        _set_appointment(s, appointment_id, "not paid")
        return f"The {amount} deposit was not paid; its link is cancelled."
    if deposit.status != "paid":
        return None
    late = status in (AppointmentStatus.LATE_CANCELLED, AppointmentStatus.NO_SHOW)
    if late and settings.late_deposit == KEEP:
        deposit.status = "kept"
        _set_appointment(s, appointment_id, "kept")
        why = "no-show" if status is AppointmentStatus.NO_SHOW else "late cancellation"
        return f"The {amount} deposit is kept ({why}, as the clinic's policy says)."
    _queue_refund(uow, services, deposit)
    return f"The {amount} deposit is refunded to the client through GoCardless."


@use_case(Audience.ANY_STAFF)
def paid_deposit_of(services: Services, appointment_id: str) -> DepositView | None:
    return deposit_of_appointment(services, appointment_id, only_paid=True)


@use_case(Audience.ANY_STAFF)
def deposit_of_appointment(
    services: Services, appointment_id: str, *, only_paid: bool = False
) -> DepositView | None:
    with services.uow(read_only=True) as uow:
        s = uow.session
        query = select(DepositRow).where(DepositRow.appointment_id == appointment_id)
        if only_paid:
            query = query.where(DepositRow.status == "paid")
        deposit = s.scalars(query.order_by(DepositRow.created_at.desc())).first()
        if deposit is None:
            return None
        link = None if deposit.payment_link_id is None else s.get(PaymentLinkRow, deposit.payment_link_id)
        return DepositView(
            id=deposit.id,
            appointment_id=appointment_id,
            amount=Money(deposit.amount_pence, deposit.currency),
            status=deposit.status,
            link_id=None if link is None else link.id,
            link_status=None if link is None else link.status,
            authorisation_url=link.authorisation_url if link is not None and link.status == "open" else None,
        )


def credit_deposit_in(
    uow: UnitOfWork, *, deposit_id: str, amount: Money, client_id: str | None, sale_id: str
) -> None:
    """Take a paid deposit off a sale (a DEPOSIT tender), once; refused for another client's deposit, one not
    paid, one already used, or more than was paid."""
    s = uow.session
    deposit = s.get(DepositRow, deposit_id, with_for_update=True)
    if deposit is None:
        raise RuleViolation("That deposit does not exist.")
    appointment = s.get(AppointmentRow, deposit.appointment_id)
    if appointment is None or appointment.client_id != client_id:
        raise RuleViolation("That deposit was paid by another client.")
    if deposit.status == "credited":
        raise RuleViolation("That deposit was used at an earlier checkout already.")
    if deposit.status != "paid":
        raise RuleViolation(
            f"That deposit cannot be used: {STATUS_WORDS.get(deposit.status, deposit.status)}."
        )
    if amount.pence != deposit.amount_pence or amount.currency != deposit.currency:
        raise RuleViolation(
            f"The deposit paid was {amount_text(Money(deposit.amount_pence, deposit.currency))}; "
            "it is credited in full."
        )
    deposit.status = "credited"
    deposit.credited_sale_id = sale_id
    _set_appointment(s, deposit.appointment_id, "credited")


# --- Helpers --------------------------------------------------------------------------------------------------


def _queue_refund(uow: UnitOfWork, services: Services, deposit: DepositRow) -> None:
    s = uow.session
    link = None if deposit.payment_link_id is None else s.get(PaymentLinkRow, deposit.payment_link_id)
    if link is None or link.gc_payment_id is None:
        raise RuleViolation("The deposit's payment is not known yet; refund it once the sync has caught up.")
    enqueue(
        s,
        kind="create_refund",
        record_type=RECORD_TYPE,
        record_id=deposit.id,
        payload=refund_payload(deposit.amount_pence, link.gc_payment_id, deposit_id=deposit.id),
    )
    deposit.status = "refund_pending"
    _set_appointment(s, deposit.appointment_id, "refund pending")


def _by_link(s, link_id: str) -> DepositRow | None:  # type: ignore[no-untyped-def]
    return s.scalars(
        select(DepositRow).where(DepositRow.payment_link_id == link_id).with_for_update()
    ).first()


def _set_appointment(s, appointment_id: str, status: str) -> None:  # type: ignore[no-untyped-def]
    row = s.get(AppointmentRow, appointment_id)
    if row is not None:
        row.deposit_status = status
        row.updated_at = dt.datetime.now(dt.UTC)
