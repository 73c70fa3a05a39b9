"""The message bus: each domain message goes to the use cases it concerns (STYLE.md 13, cosmicpython's bus).

``app.py`` builds one ``MessageBus`` over the app's services and gives it to the sync; tests build theirs over
their own services (and clock). The sync calls ``handle(uow, message)`` inside the unit of work that records the
GoCardless event (or sends the outbox row), so everything a message changes is written in that same transaction;
nothing here commits.

``HANDLERS`` routes each message type to its handlers, tried in order: the first that recognises the record
the message is about answers, the others answer None (a payment is a payment link's or a membership's, never
both; a billing request is a payment link's, a portal purchase or a membership's Direct Debit set-up). Every
handler takes ``(uow, services, message)`` and answers ``Handled`` or None, or raises ``NotKnownYet`` or a
``DomainError`` (``domain/messages.py``). What a membership hears lives in ``membership_events``; payment links,
portal purchases and deposits are told here, through their services.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aestheticc_pos.domain.deposits import DepositStatus
from aestheticc_pos.domain.messages import (
    BillingRequestFulfilled,
    BillingRequestNotFinished,
    ChargebackCancelled,
    Handled,
    MandateActivated,
    MandateEnded,
    MandateReplaced,
    Message,
    NotKnownYet,
    PaymentCancelled,
    PaymentConfirmed,
    PaymentCreated,
    PaymentEvent,
    PaymentFailed,
    PaymentProgressed,
    PaymentRetryScheduled,
    PaymentReversed,
    PlanSubscription,
    RefundFailed,
    RefundPaid,
    SubscriptionCreated,
    SubscriptionPaymentCreated,
    SubscriptionSent,
    SubscriptionStopped,
)
from aestheticc_pos.domain.payment_links import LinkStatus
from aestheticc_pos.services import deposits, membership_billing, membership_events, payment_links, portal
from aestheticc_pos.services.context import Services
from aestheticc_pos.store.tables import ClientRow, DepositRow, PaymentLinkRow
from aestheticc_pos.store.unit_of_work import UnitOfWork

Handler = Callable[[UnitOfWork, Services, Any], Handled | None]


class MessageBus:
    """Routes each message to its handlers (module doc), with ``services`` for the use cases they call."""

    def __init__(
        self, services: Services, handlers: Mapping[type[Message], tuple[Handler, ...]] | None = None
    ) -> None:
        self._services = services
        self._handlers = HANDLERS if handlers is None else handlers

    def handle(self, uow: UnitOfWork, message: Message) -> Handled:
        """Apply ``message`` inside ``uow`` (the caller commits). Raises ``LookupError`` when no handler takes
        it: a message type without a route, or a record none of them recognises."""
        for handler in self._handlers.get(type(message), ()):
            handled = handler(uow, self._services, message)
            if handled is not None:
                return handled
        raise LookupError(f"No handler took {type(message).__name__}.")


# --- Payment links and portal purchases ---------------------------------------------------------------------


def _link_authorised_in(
    uow: UnitOfWork, services: Services, message: BillingRequestFulfilled
) -> Handled | None:
    link = payment_links.link_by_billing_request(uow.session, message.billing_request_id)
    if link is None:
        return None
    payment_links.link_authorised_in(
        uow,
        services,
        billing_request_id=message.billing_request_id,
        payment_id=message.payment_id,
        customer_id=message.customer_id,
    )
    payer = _payer(uow.session, link)
    note = f"{payer} approved “{link.description}” by bank; waiting for GoCardless to confirm it."
    return Handled(note, known=(message.payment_id,) if message.payment_id else ())


def _portal_purchase_in(
    uow: UnitOfWork, services: Services, message: BillingRequestFulfilled
) -> Handled | None:
    """A package bought through its public link: the buyer gets it once the payment is confirmed."""
    bought = message.purchase
    if bought is None:
        return None
    portal.portal_purchase_in(
        uow,
        services,
        billing_request_id=message.billing_request_id,
        payment_id=bought.payment_id,
        package_id=bought.package_id,
        amount=bought.amount,
        buyer_name=bought.buyer_name or "Online buyer",
        buyer_email=bought.buyer_email,
        customer_id=bought.customer_id,
    )
    buyer = bought.buyer_name or "Someone"
    note = f"{buyer} bought a package on the booking portal; it is theirs once the payment is confirmed."
    return Handled(note, known=(bought.payment_id,) if bought.payment_id else ())


def _link_closed_in(
    uow: UnitOfWork, services: Services, message: BillingRequestNotFinished
) -> Handled | None:
    link = payment_links.link_by_billing_request(uow.session, message.billing_request_id)
    if link is None:
        return None
    if message.status != "cancelled":
        return Handled(f"Billing request action “{message.status}” changes nothing here.", applied=False)
    payment_links.link_closed_in(
        uow,
        services,
        billing_request_id=message.billing_request_id,
        status="expired" if message.expired else "cancelled",
    )
    words = "expired unused" if message.expired else "was cancelled"
    note = (
        f"{_payer(uow.session, link)}'s payment link for “{link.description}” {words}: it can be sent again."
    )
    return Handled(note)


def _link_paid_in(uow: UnitOfWork, services: Services, message: PaymentConfirmed) -> Handled | None:
    payment = message.payment.payment_id
    link = payment_links.link_by_payment(uow.session, payment)
    if link is None:
        return None
    payment_links.link_paid_in(uow, services, payment_id=payment)
    if link.status == LinkStatus.REFUND_PENDING:
        return Handled(
            f"“{link.description}” was paid by link after it was settled: the payment is being refunded."
        )
    return Handled(f"{_payer(uow.session, link)} paid by link: “{link.description}”.")


def _link_payment_failed_in(uow: UnitOfWork, services: Services, message: PaymentFailed) -> Handled | None:
    payment = message.payment.payment_id
    link = payment_links.link_by_payment(uow.session, payment)
    if link is None:
        return None
    payment_links.link_failed_in(uow, services, payment_id=payment)
    return Handled(
        f"{_payer(uow.session, link)}'s payment for “{link.description}” failed: the link can be sent again."
    )


def _link_payment_unchanged_in(uow: UnitOfWork, services: Services, message: PaymentEvent) -> Handled | None:
    """What else GoCardless says about a link's payment changes nothing."""
    if payment_links.link_by_payment(uow.session, message.payment.payment_id) is None:
        return None
    return Handled(f"Payment action “{message.status}” changes nothing here.", applied=False)


def _payer(s: Session, link: PaymentLinkRow) -> str:
    """Who pays the link, for the Sync screen's log: the client, or the portal buyer's name."""
    client = None if link.client_id is None else s.get(ClientRow, link.client_id)
    if client is not None:
        return f"{client.first_name} {client.last_name}"
    return link.buyer_name or "The payer"


# --- Refunds: a deposit's, or a payment link's paid twice ---------------------------------------------------


def _deposit_refunded_in(uow: UnitOfWork, services: Services, message: RefundPaid) -> Handled | None:
    deposit = _deposit_of_refund(uow.session, message.refund_id)
    if deposit is None:
        return None
    deposits.deposit_refunded_in(uow, services, deposit_id=deposit.id, refund_id=message.refund_id)
    return Handled("A deposit was refunded to the client.")


def _link_refunded_in(uow: UnitOfWork, services: Services, message: RefundPaid) -> Handled | None:
    if payment_links.link_refunded_in(uow, services, refund_id=message.refund_id) is None:
        return None
    return Handled("A payment made twice was refunded to the client.")


def _deposit_refund_failed_in(uow: UnitOfWork, services: Services, message: RefundFailed) -> Handled | None:
    deposit = _deposit_of_refund(uow.session, message.refund_id)
    if deposit is None:
        return None
    if deposit.status != DepositStatus.REFUND_PENDING:
        return Handled(f"Refund action “{message.status}” changes nothing here.", applied=False)
    deposit.status = DepositStatus.PAID.value  # still held by the clinic: staff can refund it again
    return Handled("A deposit refund failed: the clinic still holds the deposit.")


def _refund_not_known_yet(uow: UnitOfWork, services: Services, message: RefundPaid | RefundFailed) -> Handled:
    """A refund nothing of the till's names yet (the outbox drain records a refund's id once it is sent)."""
    raise NotKnownYet(message.refund_id)


def _deposit_of_refund(s: Session, refund_id: str) -> DepositRow | None:
    return s.scalars(select(DepositRow).where(DepositRow.gc_refund_id == refund_id)).first()


# --- A membership's subscription as the drain sends it ------------------------------------------------------


def _plan_subscription_in(uow: UnitOfWork, services: Services, message: PlanSubscription) -> Handled:
    """Plan the subscription about to be sent; its row's payload is then the subscription to send."""
    planned = membership_billing.prepare_subscription_in(
        uow.session,
        message.outbox_id,
        earliest_charge=message.earliest_charge,
        remote_payments=message.remote_payments,
        now=message.now,
    )
    return Handled() if planned is not None else Handled(membership_billing.NOTHING_TO_BILL, applied=False)


def _subscription_sent_in(uow: UnitOfWork, services: Services, message: SubscriptionSent) -> Handled:
    withdrawn = membership_billing.subscription_sent_in(
        uow.session, message.outbox_id, start_date=message.start_date
    )
    if not withdrawn:
        return Handled(applied=False)
    return Handled(f"{withdrawn} one-off payments withdrawn, the subscription collects them")


HANDLERS: dict[type[Message], tuple[Handler, ...]] = {
    BillingRequestFulfilled: (
        _link_authorised_in,
        _portal_purchase_in,
        membership_events.direct_debit_set_up_in,
    ),
    BillingRequestNotFinished: (_link_closed_in, membership_events.set_up_not_finished_in),
    MandateActivated: (membership_events.mandate_activated_in,),
    MandateEnded: (membership_events.mandate_ended_in,),
    MandateReplaced: (membership_events.mandate_replaced_in,),
    SubscriptionCreated: (membership_events.subscription_created_in,),
    SubscriptionPaymentCreated: (membership_events.subscription_payment_created_in,),
    SubscriptionStopped: (membership_events.subscription_stopped_in,),
    PaymentCreated: (_link_payment_unchanged_in, membership_events.payment_created_in),
    PaymentConfirmed: (_link_paid_in, membership_events.payment_confirmed_in),
    ChargebackCancelled: (_link_payment_unchanged_in, membership_events.payment_confirmed_in),
    PaymentFailed: (_link_payment_failed_in, membership_events.payment_failed_in),
    PaymentRetryScheduled: (_link_payment_unchanged_in, membership_events.payment_retry_scheduled_in),
    PaymentReversed: (_link_payment_unchanged_in, membership_events.payment_reversed_in),
    PaymentCancelled: (_link_payment_unchanged_in, membership_events.payment_cancelled_in),
    PaymentProgressed: (_link_payment_unchanged_in, membership_events.payment_progressed_in),
    RefundPaid: (_deposit_refunded_in, _link_refunded_in, _refund_not_known_yet),
    RefundFailed: (_deposit_refund_failed_in, _refund_not_known_yet),
    PlanSubscription: (_plan_subscription_in,),
    SubscriptionSent: (_subscription_sent_in,),
}
