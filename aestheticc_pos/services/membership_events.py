"""What GoCardless reports about a membership's Direct Debit, applied through the domain (NOTES.md §6).

The message bus (``services/handlers.py``) hands each function here one domain message (``domain/messages.py``)
inside the unit of work that records the GoCardless event; nothing here commits. Every function takes the bus's
``services`` like any handler, answers with ``Handled``, raises ``NotKnownYet`` for a resource no membership
knows yet (the sync keeps the event until it is known), and lets the domain's refusals (``DomainError``) through.

- **Finding the membership.** A billing request by ``memberships.gc_billing_request_id``, a mandate by
  ``gc_mandate_id``, a subscription by ``gc_subscription_id``, a payment by ``membership_payments.gc_payment_id``
  or, for a payment the till has no row for yet, by its subscription, then by the membership its metadata names.
  Failing those, the membership the message names (the app writes its id on every resource it creates).
- **Payment periods.** A one-off membership payment (the first month with the Direct Debit set-up, or a month
  between two subscriptions) names its period in its metadata (``period_start``). A subscription payment pays
  the monthly period holding its charge date. Both come from the payment GoCardless described (the sync reads
  it with the event); without it, a subscription payment pays the period after the newest one recorded for the
  membership (GoCardless creates a subscription's payments in order), at the tier's price. ``paid_through``
  moves over the unbroken run of collected periods (``domain/billing.py``).
- **The first subscription** is queued in the same transaction as the set-up that made the mandate known
  (``membership_billing.queue_first_subscription_in``; its dates are planned when it is sent), so no crash can
  lose it; the answer says so with ``FollowUp.CREATE_SUBSCRIPTION``. A set-up that was not finished, or a lost
  mandate, answers ``FollowUp.SEND_NEW_LINK`` (staff offer a new link).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from aestheticc_pos.domain import billing
from aestheticc_pos.domain import memberships as ms
from aestheticc_pos.domain.memberships import Membership
from aestheticc_pos.domain.messages import (
    BillingRequestFulfilled,
    BillingRequestNotFinished,
    ChargebackCancelled,
    FollowUp,
    Handled,
    MandateActivated,
    MandateEnded,
    MandateReplaced,
    NotKnownYet,
    PaymentCancelled,
    PaymentConfirmed,
    PaymentCreated,
    PaymentEvent,
    PaymentFailed,
    PaymentProgressed,
    PaymentRetryScheduled,
    PaymentReversed,
    RemotePayment,
    SubscriptionCreated,
    SubscriptionPaymentCreated,
    SubscriptionStopped,
)
from aestheticc_pos.domain.packages import format_date
from aestheticc_pos.services import membership_billing
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.membership_periods import collected_through
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.tables import MembershipPaymentRow, MembershipRow, new_id
from aestheticc_pos.store.unit_of_work import UnitOfWork

_STOPPED_WORDS = {"customer_approval_denied": "was refused by the client"}

# --- The Direct Debit set-up and the mandate ----------------------------------------------------------------


def direct_debit_set_up_in(uow: UnitOfWork, services: Services, message: BillingRequestFulfilled) -> Handled:
    """The client authorised a membership's Direct Debit: the mandate is known, the first month is recorded when
    it was paid with the set-up, and the first subscription is queued."""
    s = uow.session
    m = _waited_membership(s, MembershipRow.gc_billing_request_id, message.billing_request_id, message)
    mandate = message.mandate_id
    if mandate is None:
        return _ignored("The fulfilled billing request names no mandate.", m)
    if m.mandate_id == mandate:  # already known (e.g. from the mandate's own events): keep its status
        changed = replace(m, customer_id=m.customer_id or message.customer_id)
    else:
        changed = ms.mandate_set_up(m, mandate, customer_id=message.customer_id)
    _save(s, changed)
    known: tuple[str, ...] = (mandate,)
    if message.payment_id is not None:  # the first month, paid as the client authorised (or by fallback)
        membership_billing.record_first_payment_in(s, changed, message.payment_id)
        known = (mandate, message.payment_id)
    queued = membership_billing.queue_first_subscription_in(s, changed.id, message.on)
    follow_up = FollowUp.CREATE_SUBSCRIPTION if queued is not None else None
    note = "The Direct Debit is set up" + (
        ": the monthly collection is queued." if queued is not None else "."
    )
    return Handled(note, changed.id, follow_up, known)


def set_up_not_finished_in(
    uow: UnitOfWork, services: Services, message: BillingRequestNotFinished
) -> Handled:
    """The client left the Direct Debit set-up unfinished: its link no longer works, a new one is needed."""
    s = uow.session
    m = _membership(s, MembershipRow.gc_billing_request_id, message.billing_request_id, message)
    if m is None:
        return _ignored("No membership uses that billing request.")
    s.execute(  # that link no longer works: stop showing it
        update(MembershipRow)
        .where(MembershipRow.id == m.id, MembershipRow.gc_billing_request_id == message.billing_request_id)
        .values(gc_authorisation_url=None)
    )
    note = "The Direct Debit set-up was not finished: offer the client a new link."
    return Handled(note, m.id, FollowUp.SEND_NEW_LINK)


def mandate_activated_in(uow: UnitOfWork, services: Services, message: MandateActivated) -> Handled:
    """Active: in good standing. Reinstated after it was lost: GoCardless cancelled the subscription with the
    mandate, so a new one is queued on the same mandate (no new link is needed)."""
    s = uow.session
    m = _waited_membership(s, MembershipRow.gc_mandate_id, message.mandate_id, message)
    changed = ms.mandate_activated(m, message.mandate_id)
    _save(s, changed)
    if not message.reinstated or changed.mandate_id != message.mandate_id:
        return Handled("The Direct Debit is in good standing.", changed.id)
    queued = membership_billing.queue_first_subscription_in(s, changed.id, message.on or services.today())
    if queued is None:
        return Handled("The Direct Debit was reinstated by the client's bank.", changed.id)
    note = "The Direct Debit was reinstated by the client's bank: the monthly collection is queued again."
    return Handled(note, changed.id, FollowUp.CREATE_SUBSCRIPTION)


def mandate_ended_in(uow: UnitOfWork, services: Services, message: MandateEnded) -> Handled:
    s = uow.session
    m = _waited_membership(s, MembershipRow.gc_mandate_id, message.mandate_id, message)
    changed = ms.mandate_lost(m, message.on, mandate_id=message.mandate_id, mandate_status=message.status)
    _save(s, changed)
    note = (
        f"The Direct Debit was {message.status}: nothing more will be collected. Send the client a new link."
    )
    return Handled(note, changed.id, FollowUp.SEND_NEW_LINK)


def mandate_replaced_in(uow: UnitOfWork, services: Services, message: MandateReplaced) -> Handled:
    s = uow.session
    m = _waited_membership(s, MembershipRow.gc_mandate_id, message.mandate_id, message)
    if message.new_mandate_id is None:
        return _ignored("The replaced mandate names no new mandate.", m)
    changed = replace(m, mandate_id=message.new_mandate_id)
    _save(s, changed)
    note = "The bank moved the Direct Debit to a new mandate."
    return Handled(note, changed.id, known=(message.new_mandate_id,))


# --- The subscription ---------------------------------------------------------------------------------------


def subscription_created_in(uow: UnitOfWork, services: Services, message: SubscriptionCreated) -> Handled:
    s = uow.session
    subscription = message.subscription_id
    m = _waited_membership(s, MembershipRow.gc_subscription_id, subscription, message)
    changed = m if m.subscription_id == subscription else ms.subscription_created(m, subscription)
    _save(s, changed)
    return Handled("The monthly subscription was created.", changed.id, known=(subscription,))


def subscription_payment_created_in(
    uow: UnitOfWork, services: Services, message: SubscriptionPaymentCreated
) -> Handled:
    s = uow.session
    m = _waited_membership(s, MembershipRow.gc_subscription_id, message.subscription_id, message)
    _payment_row(s, m, message.payment)
    return Handled("A monthly payment is due.", m.id, known=(message.payment.payment_id,))


def subscription_stopped_in(uow: UnitOfWork, services: Services, message: SubscriptionStopped) -> Handled:
    s = uow.session
    m = _membership(s, MembershipRow.gc_subscription_id, message.subscription_id, message)
    if m is None:
        return _ignored("No membership uses that subscription.")
    changed = ms.subscription_stopped(m, message.subscription_id)
    _save(s, changed)
    words = _STOPPED_WORDS.get(message.status, f"was {message.status}")
    return Handled(f"The subscription {words}: membership billing has stopped.", changed.id)


# --- Payments -----------------------------------------------------------------------------------------------


def payment_created_in(uow: UnitOfWork, services: Services, message: PaymentCreated) -> Handled:
    placed = _place(uow.session, message, created=True)
    if placed is None:  # a subscription's payment_created event will place it
        return _ignored("No membership is known for that payment yet.")
    m, _, known = placed
    return Handled("A monthly payment is due.", m.id, known=known)


def payment_confirmed_in(
    uow: UnitOfWork, services: Services, message: PaymentConfirmed | ChargebackCancelled
) -> Handled:
    """Collected (or collected again, a chargeback cancelled): the period is paid, judged against ``on``."""
    s = uow.session
    m, row, known = _placed(s, message)
    row.status = "confirmed"
    s.flush()
    changed = ms.payment_confirmed(
        m,
        collected_through(s, m),
        message.on,
        payment_id=message.payment.payment_id,
        period_start=row.period_start,
    )
    _save(s, changed)
    again = isinstance(message, ChargebackCancelled)
    note = "The chargeback was cancelled: paid again." if again else "Payment collected."
    return Handled(note, changed.id, known=known)


def payment_failed_in(uow: UnitOfWork, services: Services, message: PaymentFailed) -> Handled:
    s = uow.session
    m, row, known = _placed(s, message)
    payment = message.payment.payment_id
    changed = m
    if row.status == "confirmed":  # a late failure takes back a period already marked paid
        changed = ms.payment_charged_back(changed, row.period_start, message.on)
    changed = ms.payment_failed(
        changed, message.on, message.will_retry, payment if message.will_retry else None
    )
    row.status = "failed"
    _save(s, changed)
    note = "The payment failed" + (": GoCardless will retry it." if message.will_retry else ".")
    return Handled(note, changed.id, known=known)


def payment_retry_scheduled_in(
    uow: UnitOfWork, services: Services, message: PaymentRetryScheduled
) -> Handled:
    """A retry follows a failure (whichever of the two events arrives first): still owed, with a new date."""
    s = uow.session
    m, row, known = _placed(s, message)
    new_date = message.payment.charge_date
    row.charge_date = new_date or row.charge_date
    changed = ms.payment_failed(m, message.on, True, message.payment.payment_id)
    _save(s, changed)
    when = f" on {format_date(new_date)}" if new_date else ""
    note = f"GoCardless will retry the failed payment{when}; the member stays past due until it is collected."
    return Handled(note, changed.id, known=known)


def payment_reversed_in(uow: UnitOfWork, services: Services, message: PaymentReversed) -> Handled:
    s = uow.session
    m, row, known = _placed(s, message)
    changed = ms.payment_charged_back(m, row.period_start, message.on)
    row.status = "charged_back"
    _save(s, changed)
    return Handled("A payment was reversed: the membership is in arrears.", changed.id, known=known)


def payment_cancelled_in(uow: UnitOfWork, services: Services, message: PaymentCancelled) -> Handled:
    s = uow.session
    m, row, known = _placed(s, message)
    changed = m
    if m.pending_retry_payment_id == message.payment.payment_id:
        changed = replace(m, pending_retry_payment_id=None)
    row.status = "cancelled"
    if message.status == "customer_approval_denied":  # refused by the client: the period is owed
        changed = ms.payment_failed(changed, max(message.on, row.period_start), False)
        _save(s, changed)
        note = "The client refused the payment: that period is owed."
        return Handled(note, changed.id, known=known)
    _save(s, changed)
    return Handled("The payment was cancelled: that period was not collected.", changed.id, known=known)


def payment_progressed_in(uow: UnitOfWork, services: Services, message: PaymentProgressed) -> Handled:
    """Submitted, paid out…: nothing changes; the log names the membership when the payment is one of its."""
    s = uow.session
    row = _find_payment(s, message.payment.payment_id)
    m = None if row is None else _load(s, row.membership_id)
    return _ignored(f"Payment action “{message.status}” changes nothing here.", m)


# --- Helpers ------------------------------------------------------------------------------------------------


def _ignored(note: str, m: Membership | None = None) -> Handled:
    return Handled(note, None if m is None else m.id, applied=False)


def _membership(s: Session, column: Any, value: str, message: Any) -> Membership | None:
    """The membership (locked) whose ``column`` is ``value`` (newest first), else the one the message names."""
    query: Select[tuple[MembershipRow]] = (
        select(MembershipRow).where(column == value).order_by(MembershipRow.created_at.desc()).limit(1)
    )
    row = s.scalars(query.with_for_update()).one_or_none()
    if row is None and message.membership_id is not None:
        row = s.get(MembershipRow, message.membership_id, with_for_update=True)
    return None if row is None else repo.membership_from_row(row)


def _waited_membership(s: Session, column: Any, value: str, message: Any) -> Membership:
    """``_membership``, which must be known: until it is, the message waits for ``value`` (``NotKnownYet``)."""
    m = _membership(s, column, value, message)
    if m is None:
        raise NotKnownYet(value)
    return m


def _placed(s: Session, message: PaymentEvent) -> tuple[Membership, MembershipPaymentRow, tuple[str, ...]]:
    placed = _place(s, message, created=False)
    assert placed is not None  # only a created payment may be unknown
    return placed


def _place(
    s: Session, message: PaymentEvent, *, created: bool
) -> tuple[Membership, MembershipPaymentRow, tuple[str, ...]] | None:
    """The payment's membership (locked) and row, written (pending) if it is new, and the ids that makes known.
    A payment no membership claims is None when ``created``, else it waits (``NotKnownYet``)."""
    payment = message.payment.payment_id
    row = _find_payment(s, payment)
    known: tuple[str, ...] = ()
    if row is None:
        m = None
        if message.subscription_id is not None:
            m = _membership(s, MembershipRow.gc_subscription_id, message.subscription_id, message)
        if m is None:
            m = _membership_of_payment(s, message)
        if m is None:
            if created:
                return None
            raise NotKnownYet(payment)
        row = _payment_row(s, m, message.payment)
        known = (payment,)
    return _load(s, row.membership_id), row, known


def _membership_of_payment(s: Session, message: PaymentEvent) -> Membership | None:
    """The membership a one-off payment was made for, from its metadata (the payment itself, as the sync read
    it, or the message)."""
    for membership_id in (message.payment.membership_id, message.membership_id):
        if membership_id is not None:
            row = s.get(MembershipRow, membership_id, with_for_update=True)
            if row is not None:
                return repo.membership_from_row(row)
    return None


def _load(s: Session, membership_id: str) -> Membership:
    row = s.get(MembershipRow, membership_id, with_for_update=True)
    assert row is not None  # a foreign key holds it
    return repo.membership_from_row(row)


def _save(s: Session, m: Membership) -> None:
    repo.save_membership(s, m)
    s.flush()


def _find_payment(s: Session, payment_id: str) -> MembershipPaymentRow | None:
    return s.scalars(
        select(MembershipPaymentRow).where(MembershipPaymentRow.gc_payment_id == payment_id)
    ).one_or_none()


def _payment_row(s: Session, m: Membership, payment: RemotePayment) -> MembershipPaymentRow:
    """The membership's row for a Direct Debit payment, written (pending) if it is new."""
    row = _find_payment(s, payment.payment_id)
    if row is not None:
        return row
    named = payment.period_start or payment.charge_date  # a one-off payment's month, or the charge's
    if named is not None:
        holding = billing.period_holding(m.started_on, named)
        start, end = holding.start, holding.end
    else:
        newest = s.scalar(
            select(MembershipPaymentRow.period_end)
            .where(MembershipPaymentRow.membership_id == m.id)
            .order_by(MembershipPaymentRow.period_end.desc())
            .limit(1)
        )
        start, end = billing.next_period(m.started_on, newest)
    row = MembershipPaymentRow(
        id=new_id(),
        membership_id=m.id,
        gc_payment_id=payment.payment_id,
        amount_pence=m.tier.monthly_price.pence if payment.amount_pence is None else payment.amount_pence,
        currency=m.tier.monthly_price.currency if payment.currency is None else payment.currency,
        charge_date=payment.charge_date,
        period_start=start,
        period_end=end,
        status="pending",
        source=billing.PaymentSource.DIRECT_DEBIT,
    )
    s.add(row)
    s.flush()
    return row
