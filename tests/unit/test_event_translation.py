"""GoCardless events become domain messages (sync/events.py): which message, what it carries, which day it
counts from. Pure: no database, no network."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from aestheticc_pos.domain import messages
from aestheticc_pos.domain.messages import RemotePayment
from aestheticc_pos.domain.money import Money
from aestheticc_pos.sync.events import Unused, remote_payment, translate

TODAY = dt.date(2026, 12, 5)
EVENT_DAY = dt.date(2026, 12, 2)


def event(resource_type: str, action: str, links: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "id": "EV1",
        "created_at": "2026-12-02T06:00:00.000Z",
        "resource_type": resource_type,
        "action": action,
        "links": links,
        "details": {"origin": "gocardless", **extra.pop("details", {})},
        "resource_metadata": {"membership_id": "M1"},
        **extra,
    }


@pytest.mark.parametrize(
    ("resource_type", "action", "links", "kind"),
    [
        ("billing_requests", "fulfilled", {"billing_request": "BR1"}, messages.BillingRequestFulfilled),
        ("billing_requests", "flow_exited", {"billing_request": "BR1"}, messages.BillingRequestNotFinished),
        ("mandates", "reinstated", {"mandate": "MD1"}, messages.MandateActivated),
        ("mandates", "expired", {"mandate": "MD1"}, messages.MandateEnded),
        ("mandates", "replaced", {"mandate": "MD1", "new_mandate": "MD2"}, messages.MandateReplaced),
        ("subscriptions", "created", {"subscription": "SB1"}, messages.SubscriptionCreated),
        (
            "subscriptions",
            "payment_created",
            {"subscription": "SB1", "payment": "PM1"},
            messages.SubscriptionPaymentCreated,
        ),
        ("subscriptions", "finished", {"subscription": "SB1"}, messages.SubscriptionStopped),
        ("payments", "created", {"payment": "PM1"}, messages.PaymentCreated),
        ("payments", "confirmed", {"payment": "PM1"}, messages.PaymentConfirmed),
        ("payments", "chargeback_cancelled", {"payment": "PM1"}, messages.ChargebackCancelled),
        ("payments", "failed", {"payment": "PM1"}, messages.PaymentFailed),
        ("payments", "resubmission_requested", {"payment": "PM1"}, messages.PaymentRetryScheduled),
        ("payments", "late_failure_settled", {"payment": "PM1"}, messages.PaymentReversed),
        ("payments", "customer_approval_denied", {"payment": "PM1"}, messages.PaymentCancelled),
        ("payments", "paid_out", {"payment": "PM1"}, messages.PaymentProgressed),
        ("refunds", "paid", {"refund": "RF1"}, messages.RefundPaid),
        ("refunds", "funds_returned", {"refund": "RF1"}, messages.RefundFailed),
    ],
)
def test_each_event_becomes_its_message(
    resource_type: str, action: str, links: dict[str, str], kind: type[messages.Message]
) -> None:
    assert type(translate(event(resource_type, action, links), TODAY)) is kind


@pytest.mark.parametrize(
    ("raw", "note"),
    [
        (event("payouts", "paid", {"payout": "PO1"}), "Events about payouts are not used."),
        (event("payments", "confirmed", {}), "The event names no payment."),
        (event("mandates", "created", {"mandate": "MD1"}), "Mandate action “created” changes nothing here."),
        (event("refunds", "created", {"refund": "RF1"}), "Refund action “created” changes nothing here."),
        ({"id": "EV2", "action": "confirmed", "links": None}, "Events about unknown resources are not used."),
    ],
)
def test_an_event_that_tells_the_till_nothing_says_why(raw: dict[str, Any], note: str) -> None:
    assert translate(raw, TODAY) == Unused(note)


def test_a_failure_counts_from_the_event_day_and_a_confirmation_from_today() -> None:
    failed = translate(
        event("payments", "failed", {"payment": "PM1"}, details={"will_attempt_retry": True}), TODAY
    )
    confirmed = translate(event("payments", "confirmed", {"payment": "PM1"}), TODAY)
    assert isinstance(failed, messages.PaymentFailed) and (failed.on, failed.will_retry) == (EVENT_DAY, True)
    assert isinstance(confirmed, messages.PaymentConfirmed) and confirmed.on == TODAY


def test_a_payment_event_carries_the_payment_the_pull_read_and_the_membership_it_names() -> None:
    linked = {
        "id": "PM1",
        "status": "confirmed",
        "charge_date": "2026-12-01",
        "amount": 4900,
        "currency": "GBP",
        "links": {"subscription": "SB1"},
        "metadata": {"membership_id": "M1", "period_start": "2026-11-24"},
    }
    raw = event(
        "payments", "confirmed", {"payment": "PM1", "subscription": "SB1"}, linked={"payments": [linked]}
    )
    message = translate(raw, TODAY)
    assert isinstance(message, messages.PaymentConfirmed)
    assert (message.subscription_id, message.membership_id, message.status) == ("SB1", "M1", "confirmed")
    assert message.payment == RemotePayment(
        "PM1",
        status="confirmed",
        charge_date=dt.date(2026, 12, 1),
        amount_pence=4900,
        currency="GBP",
        subscription_id="SB1",
        membership_id="M1",
        period_start=dt.date(2026, 11, 24),
    )
    assert remote_payment(linked) == message.payment
    bare = translate(event("payments", "confirmed", {"payment": "PM2"}), TODAY)
    assert isinstance(bare, messages.PaymentConfirmed) and bare.payment == RemotePayment("PM2")


def test_a_purchase_on_the_portal_carries_the_package_and_the_buyer() -> None:
    linked_request = {
        "payment_request": {"amount": 9900, "currency": "GBP", "metadata": {"package_id": "PKG1"}},
        "resources": {
            "customer": {"given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com"}
        },
        "links": {"customer": "CU9", "payment_request_payment": "PM9"},
    }
    raw = event(
        "billing_requests", "fulfilled", {"billing_request": "BR9"}, linked_billing_request=linked_request
    )
    message = translate(raw, TODAY)
    assert isinstance(message, messages.BillingRequestFulfilled) and message.on == TODAY
    assert message.purchase == messages.PortalPurchase(
        "PKG1", Money(9900, "GBP"), "Ada Lovelace", "ada@example.com", customer_id="CU9", payment_id="PM9"
    )
