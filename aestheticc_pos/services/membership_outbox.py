"""The GoCardless work a membership's desk changes queue in the outbox, in the caller's transaction (DESIGN.md §5).

``services/memberships.py`` calls these inside its use cases; nothing here commits or touches the network.

Outbox rows: record_type "membership", record_id the membership's id, idempotency key
``membership-<id>-<kind>-v<n>`` (``n`` counts that kind for the membership). Payloads:

- ``create_customer``: given_name, family_name, email and phone_number (those on file), metadata.
- ``create_billing_request`` (after the customer): ``mandate_request`` {scheme, currency}, metadata, and
  ``links.customer`` when the client already has a GoCardless customer (otherwise the engine adds it from the
  remote id of the customer it depends on); with the first month to collect, also a ``payment_request`` and
  ``fallback_enabled`` (``membership_billing.first_payment_request``).
- ``create_flow`` (after the billing request): ``prefilled_customer``; the engine adds ``links.billing_request``.
- ``create_subscription``: name and metadata only when queued; as the sync engine sends it, its
  ``PlanSubscription`` has ``membership_billing.prepare_subscription_in`` fill in amount, currency,
  interval_unit, day_of_month, start_date (and end_date under notice) and ``links.mandate``.
- ``create_payment``: a one-off payment for one period (amount, currency, description, metadata with
  ``membership_id`` and ``period_start``); the engine adds ``links.mandate``.
- ``update_subscription`` / ``pause_subscription`` / ``resume_subscription`` / ``cancel_subscription``:
  ``subscription_id`` names the subscription; when it is None, it is the one whose id is the remote id of the
  row this one depends on. The other keys are request parameters (``amount``), except ``ends_on`` on
  ``cancel_subscription``: the subscription must collect nothing charged after that day, so the engine cancels
  it at once when its next charge date is later, and otherwise once that payment has been collected.
- ``cancel_payment``: ``payment_id`` (a failed payment's pending retry).

Work never sent (pending or waiting, no attempt yet) is withdrawn rather than undone: withdrawing notice
deletes the unsent cancellation, resuming deletes an unsent pause, ending deletes unsent set-up and subscription
work (and one-off payments for months after the end). Once sent, the opposite request is queued instead.

The first subscription is queued when GoCardless reports the mandate set up
(``membership_billing.queue_first_subscription_in``); it is planned when sent, at the tier price of that moment,
so pausing, ending, notice and a tier change before then need nothing here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from aestheticc_pos.domain.clients import Client
from aestheticc_pos.domain.errors import RuleViolation
from aestheticc_pos.domain.memberships import BillingAction, BillingChange, Membership
from aestheticc_pos.domain.outbox import OutboxStatus
from aestheticc_pos.services import membership_billing as billing_service
from aestheticc_pos.services.context import ClinicSettings
from aestheticc_pos.services.membership_periods import RECORD_TYPE, one_off_period_start
from aestheticc_pos.store.outbox_repo import (
    OPEN,
    UNSENT,
    enqueue,
    jobs_of,
    latest_job,
    lock_unsent,
    rewrite_unsent,
    waiting_for,
    withdraw_unsent,
)
from aestheticc_pos.store.tables import OutboxRow

# Direct Debit schemes by currency (NOTES.md §3): Bacs for pounds, SEPA for euros.
_SCHEMES = {
    "GBP": "bacs",
    "EUR": "sepa_core",
    "SEK": "autogiro",
    "DKK": "betalingsservice",
    "AUD": "becs",
    "NZD": "becs_nz",
    "CAD": "pad",
    "USD": "ach",
}
_SET_UP_KINDS = ("create_customer", "create_billing_request", "create_flow")
_WITHDRAWN_AT_END = (
    "create_customer",
    "create_billing_request",
    "create_flow",
    "create_subscription",
    "update_subscription",
    "pause_subscription",
    "resume_subscription",
)


def queue_mandate_set_up(s: Session, m: Membership, client: Client, settings: ClinicSettings) -> None:
    """Customer → billing request → hosted flow. The request sets up the mandate (Bacs and SEPA need a mandate
    request, NOTES.md §3) and, where it can, collects the first month as the client authorises it."""
    currency = m.tier.monthly_price.currency
    if currency not in _SCHEMES:
        raise RuleViolation(f"Direct Debit memberships cannot be collected in {currency}.")
    customer: dict[str, Any] = {"given_name": client.first_name, "family_name": client.last_name}
    if client.email:
        customer["email"] = client.email
    if client.phone:
        customer["phone_number"] = client.phone
    metadata = {"membership_id": m.id}
    request: dict[str, Any] = {
        # The mandate keeps its request's metadata: GoCardless sends it back on every event about the mandate.
        "mandate_request": {"scheme": _SCHEMES[currency], "currency": currency, "metadata": metadata},
        "metadata": metadata,
    }
    first_payment = billing_service.first_payment_request(s, m, settings)
    if first_payment is not None:
        # A bank that cannot pay instantly pays it by Direct Debit on the new mandate instead (NOTES.md §11).
        request["payment_request"] = first_payment
        request["fallback_enabled"] = True
    after = None
    if m.customer_id is not None:
        request["links"] = {"customer": m.customer_id}
    else:
        after = queue_job(s, m.id, "create_customer", {**customer, "metadata": metadata})
    after = queue_job(s, m.id, "create_billing_request", request, depends_on=after)
    queue_job(s, m.id, "create_flow", {"prefilled_customer": customer}, depends_on=after)


def queue_billing_change(s: Session, m: Membership, change: BillingChange) -> None:
    """Amend or replace the subscription for a tier change.

    With no subscription yet, a ``create_subscription`` never sent needs nothing: it is planned at the tier's
    price when it is sent. One already being sent is amended once GoCardless has created it.
    """
    amount = change.new_amount.pence
    if change.action is BillingAction.AMEND:
        queue_job(
            s, m.id, "update_subscription", {"subscription_id": change.subscription_id, "amount": amount}
        )
    elif change.action is BillingAction.REPLACE:
        # The old subscription stops after the current month; the new one is planned when it is sent (from the
        # mandate's next possible charge date then, any month in between collected as a one-off payment).
        last_day = change.effective_from - dt.timedelta(days=1)
        cancel = queue_job(
            s,
            m.id,
            "cancel_subscription",
            {"subscription_id": change.subscription_id, "ends_on": last_day.isoformat()},
        )
        queue_job(
            s, m.id, "create_subscription", billing_service.subscription_placeholder(m), depends_on=cancel
        )
    else:
        create = _latest_job(s, m.id, "create_subscription", statuses=OPEN)
        if create is None or lock_unsent(s, create.id) is not None or create.payload.get("amount") == amount:
            return
        queue_job(
            s, m.id, "update_subscription", {"subscription_id": None, "amount": amount}, depends_on=create.id
        )


def queue_cancellation(s: Session, m: Membership, last_day: dt.date) -> None:
    """Cancel the membership's subscription so it collects nothing after ``last_day`` (an unsent cancellation
    just gets the new date)."""
    cancel = notice_cancellation(s, m.id)
    if cancel is not None:
        rewrite_unsent(s, cancel.id, ends_on=last_day.isoformat())  # once sent, the first date stands
        return
    subscription_id, after = subscription_target(s, m)
    if subscription_id is not None or after is not None:
        queue_job(
            s,
            m.id,
            "cancel_subscription",
            {"subscription_id": subscription_id, "ends_on": last_day.isoformat()},
            depends_on=after,
        )


def withdraw_unsent_at_end(s: Session, membership_id: str, today: dt.date) -> None:
    """The membership ends ``today``: its set-up and subscription work never sent is withdrawn, and so are the
    one-off payments for months after the end (no longer owed). Cancellations stay: after a tier change, the old
    subscription is only named in one of them."""
    for job in reversed(_jobs(s, membership_id, _WITHDRAWN_AT_END, statuses=UNSENT)):
        withdraw_unsent(s, job.id)
    for job in _jobs(s, membership_id, ("create_payment",), statuses=UNSENT):
        start = one_off_period_start(job.payload)
        if start is not None and start > today:
            withdraw_unsent(s, job.id)


def set_up_in_progress(s: Session, membership_id: str) -> bool:
    """A Direct Debit set-up (customer, billing request, hosted page) is queued, being sent, or refused."""
    return bool(_jobs(s, membership_id, _SET_UP_KINDS, statuses=(*OPEN, OutboxStatus.FAILED)))


def subscription_target(s: Session, m: Membership) -> tuple[str | None, str | None]:
    """(subscription id, outbox id to wait for): the live subscription, or the one a queued create will make."""
    if m.subscription_id is not None:
        return m.subscription_id, None
    create = _latest_job(s, m.id, "create_subscription", statuses=OPEN)
    return None, (None if create is None else create.id)


def notice_cancellation(s: Session, membership_id: str) -> OutboxRow | None:
    """The cancellation queued by notice or by ending (not failed), if any.

    A tier change's cancellation of the old subscription is not one: a new subscription's creation depends on it.
    """
    for job in reversed(_jobs(s, membership_id, ("cancel_subscription",))):
        if job.status == OutboxStatus.FAILED:
            continue
        return None if waiting_for(s, job.id, "create_subscription") is not None else job
    return None


def outstanding_pause(s: Session, membership_id: str) -> OutboxRow | None:
    """The last pause request (not failed), unless a resume was requested after it."""
    for job in reversed(_jobs(s, membership_id, ("pause_subscription", "resume_subscription"))):
        if job.status != OutboxStatus.FAILED:
            return job if job.kind == "pause_subscription" else None
    return None


def queue_job(
    s: Session, membership_id: str, kind: str, payload: dict[str, Any], *, depends_on: str | None = None
) -> str:
    return enqueue(
        s, kind=kind, record_type=RECORD_TYPE, record_id=membership_id, payload=payload, depends_on=depends_on
    )


def _jobs(
    s: Session, membership_id: str, kinds: tuple[str, ...], *, statuses: tuple[str, ...] | None = None
) -> list[OutboxRow]:
    """The membership's outbox rows of these kinds, oldest first."""
    return jobs_of(s, RECORD_TYPE, membership_id, kinds, statuses=statuses)


def _latest_job(s: Session, membership_id: str, kind: str, *, statuses: tuple[str, ...]) -> OutboxRow | None:
    return latest_job(s, RECORD_TYPE, membership_id, kind, statuses=statuses)
