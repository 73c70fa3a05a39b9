"""GoCardless events → domain messages (DESIGN.md §5, NOTES.md §6): ``translate`` and nothing else.

``translate(event, today)`` reads one event (a plain dict as ``GET /events`` returns it, with the payment that
``include=payment`` brought beside it under ``linked``, and a portal purchase's billing request, brought by
``include=billing_request``, under ``linked_billing_request``) and returns the message it means (``domain/messages.py``), or ``Unused`` with the
reason it tells the till nothing: a resource type or action we do not use, or an event without the link it
needs. It reads no database: which local record a message is about is the message bus's to find.

**Which day** (a message's ``on``): a failure, a retry, a chargeback or a lost mandate counts from the event's
own day (``created_at``, in UTC): arrears run from then. A confirmation, and the set-up that queues the first
subscription, count from ``today``, the day the event is applied: the member is back in good standing only if
the payment covers today. Both rules make the result independent of the order in which events about
*different* resources arrive (events about the same payment are applied in ``created_at`` order).

``remote_payment`` reads a GoCardless payment (an event's linked payment, or one of a mandate's payments the drain
listed) into the domain's ``RemotePayment``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aestheticc_pos.domain import memberships as ms
from aestheticc_pos.domain.messages import (
    BillingRequestFulfilled,
    BillingRequestNotFinished,
    ChargebackCancelled,
    MandateActivated,
    MandateEnded,
    MandateReplaced,
    Message,
    PaymentCancelled,
    PaymentConfirmed,
    PaymentCreated,
    PaymentEvent,
    PaymentFailed,
    PaymentProgressed,
    PaymentRetryScheduled,
    PaymentReversed,
    PortalPurchase,
    RefundFailed,
    RefundPaid,
    RemotePayment,
    SubscriptionCreated,
    SubscriptionPaymentCreated,
    SubscriptionStopped,
)
from aestheticc_pos.domain.money import Money

LOST_MANDATE_ACTIONS = frozenset(ms.LOST_MANDATE_STATUSES)
UNFINISHED_SET_UP_ACTIONS = frozenset({"cancelled", "failed", "bank_authorisation_denied", "flow_exited"})
STOPPED_SUBSCRIPTION_ACTIONS = frozenset({"cancelled", "finished", "customer_approval_denied"})
REVERSAL_ACTIONS = frozenset({"charged_back", "late_failure_settled", "chargeback_settled"})
REFUND_FAILED_ACTIONS = frozenset({"failed", "funds_returned"})

# A payment's actions and their messages; any other action is a ``PaymentProgressed``.
_PAYMENT_MESSAGES: dict[str, type[PaymentEvent]] = {
    "created": PaymentCreated,
    "confirmed": PaymentConfirmed,
    "chargeback_cancelled": ChargebackCancelled,
    "failed": PaymentFailed,
    "resubmission_requested": PaymentRetryScheduled,
    "cancelled": PaymentCancelled,
    "customer_approval_denied": PaymentCancelled,
    **dict.fromkeys(REVERSAL_ACTIONS, PaymentReversed),
}
_COUNTED_FROM_TODAY = (PaymentConfirmed, ChargebackCancelled)


@dataclass(frozen=True, slots=True)
class Unused:
    """An event that tells the till nothing, and why (the Sync screen's log shows it)."""

    note: str


def translate(event: Mapping[str, Any], today: dt.date) -> Message | Unused:
    """The message ``event`` means, or ``Unused`` (module doc). Never raises for what GoCardless sends."""
    links = event.get("links")
    details = event.get("details")
    e = _Event(
        event,
        today,
        links if isinstance(links, Mapping) else {},
        details if isinstance(details, Mapping) else {},
    )
    translator = _TRANSLATORS.get(str(event.get("resource_type") or ""))
    if translator is None:
        return Unused(f"Events about {event.get('resource_type') or 'unknown resources'} are not used.")
    return translator(e)


def remote_payment(payment: Mapping[str, Any], payment_id: str | None = None) -> RemotePayment:
    """A GoCardless payment as the domain reads it (``payment_id`` when the payment may be an empty mapping)."""
    links = payment.get("links") if isinstance(payment.get("links"), Mapping) else {}
    metadata = payment.get("metadata") if isinstance(payment.get("metadata"), Mapping) else {}
    amount = payment.get("amount")
    return RemotePayment(
        payment_id=payment_id or str(payment.get("id") or ""),
        status=_text(payment.get("status")),
        charge_date=_date(payment.get("charge_date")),
        amount_pence=amount if isinstance(amount, int) else None,
        currency=_text(payment.get("currency")),
        subscription_id=_text(links.get("subscription")),
        membership_id=_text(metadata.get("membership_id")),
        period_start=_date(metadata.get("period_start")),
    )


def event_day(event: Mapping[str, Any], today: dt.date) -> dt.date:
    """The UTC day the event happened (``today`` when ``created_at`` is missing or unreadable)."""
    created_at = event.get("created_at")
    if isinstance(created_at, str):
        try:
            return dt.datetime.fromisoformat(created_at).astimezone(dt.UTC).date()
        except ValueError:
            pass
    return today


# --- One resource type each ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Event:
    raw: Mapping[str, Any]
    today: dt.date
    links: Mapping[str, Any]
    details: Mapping[str, Any]

    @property
    def action(self) -> str:
        return str(self.raw.get("action") or "")

    @property
    def day(self) -> dt.date:
        return event_day(self.raw, self.today)

    @property
    def membership_id(self) -> str | None:
        """The membership the till named in the resource's metadata."""
        metadata = self.raw.get("resource_metadata")
        return _text(metadata.get("membership_id")) if isinstance(metadata, Mapping) else None

    def link(self, name: str) -> str | None:
        value = self.links.get(name)
        return value if isinstance(value, str) and value else None


def _billing_request(e: _Event) -> Message | Unused:
    br = e.link("billing_request")
    if br is None:
        return Unused("The event names no billing request.")
    if e.action == "fulfilled":
        return BillingRequestFulfilled(
            br,
            on=e.today,
            mandate_id=e.link("mandate_request_mandate"),
            customer_id=e.link("customer"),
            payment_id=e.link("payment_request_payment"),
            purchase=_portal_purchase(e),
            membership_id=e.membership_id,
        )
    if e.action in UNFINISHED_SET_UP_ACTIONS:
        expired = e.details.get("origin") == "gocardless"
        return BillingRequestNotFinished(br, e.action, expired=expired, membership_id=e.membership_id)
    return Unused(f"Billing request action “{e.action}” changes nothing here.")


def _portal_purchase(e: _Event) -> PortalPurchase | None:
    """A billing request made from a package's public link (the pull attached it as ``linked_billing_request``):
    its payment request names the package in its metadata."""
    linked = e.raw.get("linked_billing_request")
    if not isinstance(linked, Mapping):
        return None
    request = linked.get("payment_request") if isinstance(linked.get("payment_request"), Mapping) else {}
    metadata = request.get("metadata") if isinstance(request.get("metadata"), Mapping) else {}
    package_id = metadata.get("package_id")
    if not isinstance(package_id, str) or not package_id:
        return None
    resources = linked.get("resources") if isinstance(linked.get("resources"), Mapping) else {}
    customer = resources.get("customer") if isinstance(resources.get("customer"), Mapping) else {}
    links = linked.get("links") if isinstance(linked.get("links"), Mapping) else {}
    name = " ".join(str(customer.get(k) or "").strip() for k in ("given_name", "family_name")).strip()
    return PortalPurchase(
        package_id=package_id,
        amount=Money(int(request.get("amount") or 0), str(request.get("currency") or "GBP")),
        buyer_name=name,
        buyer_email=_text(customer.get("email")),
        customer_id=e.link("customer") or links.get("customer"),
        payment_id=e.link("payment_request_payment") or links.get("payment_request_payment"),
    )


def _mandate(e: _Event) -> Message | Unused:
    mandate = e.link("mandate")
    if mandate is None:
        return Unused("The event names no mandate.")
    if e.action in ("active", "reinstated"):
        return MandateActivated(mandate, e.membership_id, reinstated=e.action == "reinstated", on=e.today)
    if e.action in LOST_MANDATE_ACTIONS:
        return MandateEnded(mandate, e.action, e.day, e.membership_id)
    if e.action == "replaced":
        return MandateReplaced(mandate, e.link("new_mandate"), e.membership_id)
    return Unused(f"Mandate action “{e.action}” changes nothing here.")


def _subscription(e: _Event) -> Message | Unused:
    subscription = e.link("subscription")
    if subscription is None:
        return Unused("The event names no subscription.")
    if e.action == "created":
        return SubscriptionCreated(subscription, e.membership_id)
    if e.action == "payment_created":
        payment = e.link("payment")
        if payment is None:
            return Unused("The event names no payment.")
        return SubscriptionPaymentCreated(subscription, _linked_payment(e.raw, payment), e.membership_id)
    if e.action in STOPPED_SUBSCRIPTION_ACTIONS:
        return SubscriptionStopped(subscription, e.action, e.membership_id)
    return Unused(f"Subscription action “{e.action}” changes nothing here.")


def _payment(e: _Event) -> Message | Unused:
    payment = e.link("payment")
    if payment is None:
        return Unused("The event names no payment.")
    kind = _PAYMENT_MESSAGES.get(e.action, PaymentProgressed)
    facts = {
        "payment": _linked_payment(e.raw, payment),
        "status": e.action,
        "on": e.today if kind in _COUNTED_FROM_TODAY else e.day,
        "subscription_id": e.link("subscription"),
        "membership_id": e.membership_id,
    }
    if kind is PaymentFailed:
        return PaymentFailed(**facts, will_retry=e.details.get("will_attempt_retry") is True)
    return kind(**facts)


def _refund(e: _Event) -> Message | Unused:
    refund = e.link("refund")
    if refund is None:
        return Unused("The event names no refund.")
    if e.action == "paid":
        return RefundPaid(refund)
    if e.action in REFUND_FAILED_ACTIONS:
        return RefundFailed(refund, e.action)
    return Unused(f"Refund action “{e.action}” changes nothing here.")


_TRANSLATORS: dict[str, Callable[[_Event], Message | Unused]] = {
    "billing_requests": _billing_request,
    "mandates": _mandate,
    "subscriptions": _subscription,
    "payments": _payment,
    "refunds": _refund,
}


# --- Helpers ------------------------------------------------------------------------------------------------


def _linked_payment(raw: Mapping[str, Any], payment_id: str) -> RemotePayment:
    """The payment as ``include=payment`` returned it with the event (only its id when it did not)."""
    linked = raw.get("linked")
    payments = linked.get("payments") if isinstance(linked, Mapping) else None
    for payment in payments if isinstance(payments, list) else []:
        if isinstance(payment, Mapping) and payment.get("id") == payment_id:
            return remote_payment(payment, payment_id)
    return RemotePayment(payment_id)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None
