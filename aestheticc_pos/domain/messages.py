"""What happened, in messages the rest of the till understands (DESIGN.md §1 and §5, STYLE.md 13).

The sync turns each GoCardless event into one of these messages (``sync/events.py``) and hands it to the message
bus ``app.py`` gave it (``services/handlers.py``), inside the unit of work that records the event, so whatever the
message changes is written, or not, together with the event. While it sends a membership's subscription the drain
sends two more: ``PlanSubscription`` just before, ``SubscriptionSent`` just after.

A message carries GoCardless's ids and what GoCardless said, never a local record: which membership, payment
link, deposit or portal purchase it concerns is for its handler to find. ``membership_id`` is the membership
the till named in the resource's metadata when it created it (GoCardless sends it back with the event), for a
resource the till does not know by its id yet.

``on`` is the day a change counts from. A failure, a chargeback or a lost mandate counts from the day of the event
(arrears run from then); a confirmation, and the set-up that queues the first subscription, from the day the
event is applied (a member is back in good standing only if the payment covers that day).

A handler answers with ``Handled`` (what it did, for the Sync screen's log), raises ``NotKnownYet`` when the
message is about something the till does not know yet (events arrive out of order: the sync keeps the event and
applies it once the id is known), or raises a ``DomainError`` when the rules refuse it.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from aestheticc_pos.domain.money import Money

# --- What a handler answers ---------------------------------------------------------------------------------


class FollowUp(enum.StrEnum):
    """Work that follows a message, for the sync's report."""

    CREATE_SUBSCRIPTION = "create_subscription"  # the mandate is set up: the first subscription was queued
    SEND_NEW_LINK = "send_new_link"  # set-up not finished or mandate lost: offer the client a new link


@dataclass(frozen=True, slots=True)
class Handled:
    """What handling one message did. ``applied`` False: nothing changed (``note`` says why). ``known``: the
    GoCardless ids it made known to the till (events kept until an id is known can be applied now)."""

    note: str | None = None
    membership_id: str | None = None
    follow_up: FollowUp | None = None
    known: tuple[str, ...] = ()
    applied: bool = True


class NotKnownYet(Exception):
    """The message is about ``key`` (a GoCardless id) that no local record knows yet."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


# --- What GoCardless said about a payment and a package bought on the portal --------------------------------


@dataclass(frozen=True, slots=True)
class RemotePayment:
    """A Direct Debit payment as GoCardless described it (None: it did not say). ``membership_id`` and
    ``period_start`` come from its metadata: the till writes them on every one-off membership payment."""

    payment_id: str
    status: str | None = None
    charge_date: dt.date | None = None
    amount_pence: int | None = None
    currency: str | None = None
    subscription_id: str | None = None
    membership_id: str | None = None
    period_start: dt.date | None = None


@dataclass(frozen=True, slots=True)
class PortalPurchase:
    """A package bought through its public link on the booking portal (the buyer is unknown until they pay)."""

    package_id: str
    amount: Money
    buyer_name: str  # empty when GoCardless gave no name
    buyer_email: str | None = None
    customer_id: str | None = None
    payment_id: str | None = None


# --- Messages -----------------------------------------------------------------------------------------------


class Message:
    """Every message's base: a frozen dataclass, routed by its type."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class BillingRequestFulfilled(Message):
    """The client finished authorising a billing request at their bank: a payment link approved, a package
    bought on the portal (``purchase``), or a membership's Direct Debit set up (``mandate_id``; with its first
    month when ``payment_id``)."""

    billing_request_id: str
    on: dt.date
    mandate_id: str | None = None
    customer_id: str | None = None
    payment_id: str | None = None
    purchase: PortalPurchase | None = None
    membership_id: str | None = None


@dataclass(frozen=True, slots=True)
class BillingRequestNotFinished(Message):
    """A billing request ended unused (``status``: cancelled, failed, bank_authorisation_denied, flow_exited);
    ``expired``: GoCardless closed it, not the client."""

    billing_request_id: str
    status: str
    expired: bool = False
    membership_id: str | None = None


@dataclass(frozen=True, slots=True)
class MandateActivated(Message):
    """The Direct Debit mandate is active, or ``reinstated`` (active again after it was cancelled or expired:
    the subscriptions GoCardless cancelled with it stay cancelled). ``on``: the day it is applied."""

    mandate_id: str
    membership_id: str | None = None
    reinstated: bool = False
    on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class MandateEnded(Message):
    """The mandate can collect nothing more (``status``: cancelled, failed, expired, blocked, consumed)."""

    mandate_id: str
    status: str
    on: dt.date
    membership_id: str | None = None


@dataclass(frozen=True, slots=True)
class MandateReplaced(Message):
    """The bank moved the mandate to ``new_mandate_id`` (None: GoCardless did not say which)."""

    mandate_id: str
    new_mandate_id: str | None
    membership_id: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionCreated(Message):
    """GoCardless created a monthly subscription."""

    subscription_id: str
    membership_id: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionPaymentCreated(Message):
    """A subscription made its next monthly payment."""

    subscription_id: str
    payment: RemotePayment
    membership_id: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionStopped(Message):
    """A subscription collects nothing more (``status``: cancelled, finished, customer_approval_denied)."""

    subscription_id: str
    status: str
    membership_id: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentEvent(Message):
    """What GoCardless reported about one payment (the base of the payment messages below). ``status`` is its
    word for it; ``subscription_id`` and ``membership_id`` say where a payment the till has no row for belongs."""

    payment: RemotePayment
    status: str
    on: dt.date
    subscription_id: str | None = None
    membership_id: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentCreated(PaymentEvent):
    """A payment was created (a subscription's, or a one-off the till asked for)."""


@dataclass(frozen=True, slots=True)
class PaymentConfirmed(PaymentEvent):
    """The money was collected."""


@dataclass(frozen=True, slots=True)
class ChargebackCancelled(PaymentEvent):
    """A chargeback was cancelled: the payment is collected again."""


@dataclass(frozen=True, slots=True)
class PaymentFailed(PaymentEvent):
    """The payment failed; ``will_retry``: GoCardless will try it again."""

    will_retry: bool = False


@dataclass(frozen=True, slots=True)
class PaymentRetryScheduled(PaymentEvent):
    """GoCardless will try a failed payment again (on the payment's new ``charge_date``)."""


@dataclass(frozen=True, slots=True)
class PaymentReversed(PaymentEvent):
    """Money collected was taken back (``status``: charged_back, late_failure_settled, chargeback_settled)."""


@dataclass(frozen=True, slots=True)
class PaymentCancelled(PaymentEvent):
    """The payment will never be collected (``status``: cancelled, customer_approval_denied)."""


@dataclass(frozen=True, slots=True)
class PaymentProgressed(PaymentEvent):
    """Any other step of a payment (submitted, paid_out…): it changes nothing at the till."""


@dataclass(frozen=True, slots=True)
class RefundPaid(Message):
    """A refund reached the client."""

    refund_id: str


@dataclass(frozen=True, slots=True)
class RefundFailed(Message):
    """A refund did not reach the client (``status``: failed, funds_returned)."""

    refund_id: str
    status: str


@dataclass(frozen=True, slots=True)
class PlanSubscription(Message):
    """Plan the membership subscription the outbox row ``outbox_id`` is about to send: from the mandate's
    ``earliest_charge`` date and its payments at GoCardless now (``remote_payments``). Handled: the row's payload
    is the subscription to send; not applied: the membership needs none (``note`` says why)."""

    outbox_id: str
    earliest_charge: dt.date
    remote_payments: tuple[RemotePayment, ...]
    now: dt.datetime


@dataclass(frozen=True, slots=True)
class SubscriptionSent(Message):
    """GoCardless answered the outbox row ``outbox_id``'s ``create_subscription`` with a subscription that starts
    on ``start_date`` (a replayed request may return one an earlier attempt made)."""

    outbox_id: str
    start_date: dt.date | None
