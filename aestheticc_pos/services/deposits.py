"""Deposits taken when booking: asked for by payment link, credited at checkout, refunded or kept on cancelling.

When a treatment with a deposit rule is booked (and no package session pays for it), ``request_deposit_in``
prices the treatment for the client with the one ``quote()`` (``pricing.price_basket_in``, channel DEPOSIT: a
member's discount first) and applies the rule to the discounted price (``domain.pricing.deposit_due``); a link
for that amount is queued (``link_requests.new_link_in``) and the appointment's ``deposit_status`` says
"requested", then "paid" when GoCardless confirms the payment (``payment_links`` calls ``deposit_paid_in``).

At checkout the paid deposit is a tender (kind DEPOSIT, reference the deposit's id): ``credit_deposit_in``
marks it credited against that sale, once. A cancelled booking's deposit follows the clinic's policy
(``ClinicSettings.late_deposit``): cancelled in time, it is refunded through GoCardless; cancelled late or a
no-show, it is kept (or refunded, if the clinic says so). A deposit never paid just has its link cancelled.
Which moves a deposit may make is ``domain/deposits.py``'s.

Outbox rows for a refund: record_type ``deposit``, kind ``create_refund``, payload ``amount`` (pence),
``links.payment`` (the GoCardless payment), ``metadata`` {deposit_id}, and ``total_amount_confirmation``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from aestheticc_pos.domain import deposits as rules
from aestheticc_pos.domain import payment_links as links
from aestheticc_pos.domain.appointments import Appointment, AppointmentStatus
from aestheticc_pos.domain.catalogue import ItemKind, Treatment
from aestheticc_pos.domain.checkout import amount_text
from aestheticc_pos.domain.deposits import DepositStatus, LateDeposit
from aestheticc_pos.domain.errors import RuleViolation
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.outbox import OutboxKind
from aestheticc_pos.domain.packages import format_date
from aestheticc_pos.domain.payment_links import LinkPurpose, LinkStatus
from aestheticc_pos.domain.pricing import Channel, deposit_due
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import ClinicSettings, Services, read_clinic_settings
from aestheticc_pos.services.link_requests import cancel_link_in, new_link_in, quote_to_json, refund_payload
from aestheticc_pos.services.pricing import BasketItem, price_basket_in
from aestheticc_pos.store.outbox_repo import enqueue
from aestheticc_pos.store.tables import AppointmentRow, ClientRow, DepositRow, PaymentLinkRow
from aestheticc_pos.store.unit_of_work import UnitOfWork

RECORD_TYPE = "deposit"
# A booking that did not take place: a deposit paid after it is given back, whatever the policy.
_NOT_TAKING_PLACE = (AppointmentStatus.CANCELLED, AppointmentStatus.LATE_CANCELLED, AppointmentStatus.NO_SHOW)


@dataclass(frozen=True, slots=True)
class DepositView:
    id: str
    appointment_id: str
    amount: Money
    status: DepositStatus
    link_id: str | None
    link_status: LinkStatus | None
    authorisation_url: str | None

    @property
    def words(self) -> str:
        return f"{rules.STATUS_WORDS[self.status]}: {amount_text(self.amount)}"


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
            status=DepositStatus.REQUESTED.value,
            payment_link_id=link_id,
        )
    )
    _show_on_appointment(s, appointment.id, DepositStatus.REQUESTED)
    s.flush()
    return deposit_id


def deposit_paid_in(uow: UnitOfWork, services: Services, *, link_id: str) -> None:
    """GoCardless confirmed the deposit's payment (``payment_links.link_paid_in`` calls this)."""
    s = uow.session
    deposit = _by_link(s, link_id)
    paid = None if deposit is None else rules.link_paid(_status(deposit))
    if deposit is None or paid is None:
        return
    link = s.get(PaymentLinkRow, link_id)
    _move(s, deposit, paid)
    deposit.paid_at = services.now()
    deposit.gc_billing_request_id = None if link is None else link.gc_billing_request_id
    appointment = s.get(AppointmentRow, deposit.appointment_id)
    if appointment is not None and AppointmentStatus(appointment.status) in _NOT_TAKING_PLACE:
        # Paid after the booking was cancelled: give it back whatever the policy (the client kept nothing).
        _queue_refund(uow, deposit)


def deposit_link_closed_in(uow: UnitOfWork, *, link_id: str) -> None:
    """The deposit's link was cancelled or lapsed at GoCardless (``payment_links.link_closed_in`` calls this)."""
    deposit = _by_link(uow.session, link_id)
    cancelled = None if deposit is None else rules.link_closed(_status(deposit))
    if deposit is not None and cancelled is not None:
        _move(uow.session, deposit, cancelled)


def deposit_link_replaced_in(uow: UnitOfWork, *, old_link_id: str, new_link_id: str) -> None:
    """Staff sent the deposit's link again (``payment_links.resend_link``): an unpaid deposit waits for the new
    link."""
    deposit = uow.session.scalars(select(DepositRow).where(DepositRow.payment_link_id == old_link_id)).first()
    requested = None if deposit is None else rules.link_replaced(_status(deposit))
    if deposit is None or requested is None:
        return
    deposit.payment_link_id = new_link_id
    deposit.status = requested.value
    deposit.authorisation_url = None


def deposit_refunded_in(
    uow: UnitOfWork, services: Services, *, deposit_id: str, refund_id: str | None
) -> None:
    """GoCardless paid the deposit back to the client."""
    deposit = uow.session.get(DepositRow, deposit_id, with_for_update=True)
    refunded = None if deposit is None else rules.refunded(_status(deposit))
    if deposit is None or refunded is None:
        return
    deposit.status = refunded.value
    deposit.refunded_at = services.now()
    if refund_id:
        deposit.gc_refund_id = refund_id
    _show_on_appointment(uow.session, deposit.appointment_id, refunded)


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
    late = status in (AppointmentStatus.LATE_CANCELLED, AppointmentStatus.NO_SHOW)
    outcome = rules.on_booking_cancelled(
        _status(deposit), late=late, policy=LateDeposit(settings.late_deposit)
    )
    amount = amount_text(Money(deposit.amount_pence, deposit.currency))
    if outcome is DepositStatus.CANCELLED:
        link = None if deposit.payment_link_id is None else s.get(PaymentLinkRow, deposit.payment_link_id)
        link_status = None if link is None else LinkStatus(link.status)
        if link_status is LinkStatus.AUTHORISED:
            return (
                f"The client has just paid the {amount} deposit; it is refunded once GoCardless confirms it."
            )
        if link is not None and link_status is not None and links.can_cancel(link_status):
            cancel_link_in(uow, services, link.id)
        _move(s, deposit, outcome)
        return f"The {amount} deposit was not paid; its link is cancelled."
    if outcome is DepositStatus.KEPT:
        _move(s, deposit, outcome)
        why = "no-show" if status is AppointmentStatus.NO_SHOW else "late cancellation"
        return f"The {amount} deposit is kept ({why}, as the clinic's policy says)."
    if outcome is DepositStatus.REFUND_PENDING:
        _queue_refund(uow, deposit)
        return f"The {amount} deposit is refunded to the client through GoCardless."
    return None


@use_case(Audience.ANY_STAFF)
def paid_deposit_of(services: Services, appointment_id: str) -> DepositView | None:
    return deposit_of_appointment(services, appointment_id, only_paid=True)


@use_case(Audience.ANY_STAFF)
def deposit_of_appointment(
    services: Services, appointment_id: str, *, only_paid: bool = False
) -> DepositView | None:
    with services.uow(read_only=True) as uow:
        return deposit_of_appointment_in(uow.session, appointment_id, only_paid=only_paid)


def deposit_of_appointment_in(
    s: Session, appointment_id: str, *, only_paid: bool = False
) -> DepositView | None:
    """``deposit_of_appointment`` inside the caller's transaction (the appointment screen reads it with the rest)."""
    s.flush()  # one statement built once, with its link (a Core read never autoflushes)
    deposit = s.execute(_PAID_DEPOSIT_OF if only_paid else _DEPOSIT_OF, {"id": appointment_id}).first()
    if deposit is None:
        return None
    link_status = None if deposit.link_id is None else LinkStatus(deposit.link_status)
    return DepositView(
        id=deposit.id,
        appointment_id=appointment_id,
        amount=Money(deposit.amount_pence, deposit.currency),
        status=DepositStatus(deposit.status),
        link_id=deposit.link_id,
        link_status=link_status,
        authorisation_url=deposit.link_url if link_status is LinkStatus.OPEN else None,
    )


_d, _l = DepositRow.__table__, PaymentLinkRow.__table__
_DEPOSIT_OF = (
    select(
        _d.c.id,
        _d.c.amount_pence,
        _d.c.currency,
        _d.c.status,
        _l.c.id.label("link_id"),
        _l.c.status.label("link_status"),
        _l.c.authorisation_url.label("link_url"),
    )
    .outerjoin(_l, _l.c.id == _d.c.payment_link_id)
    .where(_d.c.appointment_id == bindparam("id"))
    .order_by(_d.c.created_at.desc())
    .limit(1)
)
_PAID_DEPOSIT_OF = _DEPOSIT_OF.where(_d.c.status == DepositStatus.PAID.value)


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
    credited = rules.credit(_status(deposit))
    if amount.pence != deposit.amount_pence or amount.currency != deposit.currency:
        raise RuleViolation(
            f"The deposit paid was {amount_text(Money(deposit.amount_pence, deposit.currency))}; "
            "it is credited in full."
        )
    _move(s, deposit, credited)
    deposit.credited_sale_id = sale_id


# --- Helpers --------------------------------------------------------------------------------------------------


def _queue_refund(uow: UnitOfWork, deposit: DepositRow) -> None:
    s = uow.session
    refunding = rules.refund(_status(deposit))
    link = None if deposit.payment_link_id is None else s.get(PaymentLinkRow, deposit.payment_link_id)
    if link is None or link.gc_payment_id is None:
        raise RuleViolation("The deposit's payment is not known yet; refund it once the sync has caught up.")
    enqueue(
        s,
        kind=OutboxKind.CREATE_REFUND,
        record_type=RECORD_TYPE,
        record_id=deposit.id,
        payload=refund_payload(deposit.amount_pence, link.gc_payment_id, deposit_id=deposit.id),
    )
    _move(s, deposit, refunding)


def _status(deposit: DepositRow) -> DepositStatus:
    return DepositStatus(deposit.status)


def _move(s: Session, deposit: DepositRow, status: DepositStatus) -> None:
    """The deposit's new status, shown on its appointment too."""
    deposit.status = status.value
    _show_on_appointment(s, deposit.appointment_id, status)


def _by_link(s: Session, link_id: str) -> DepositRow | None:
    return s.scalars(
        select(DepositRow).where(DepositRow.payment_link_id == link_id).with_for_update()
    ).first()


def _show_on_appointment(s: Session, appointment_id: str, status: DepositStatus) -> None:
    row = s.get(AppointmentRow, appointment_id)
    if row is not None:
        row.deposit_status = rules.on_appointment(status)
        row.updated_at = dt.datetime.now(dt.UTC)
