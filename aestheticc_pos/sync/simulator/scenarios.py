"""Scenario controls: what the banks and GoCardless do after the API call, with the events they emit.

These run under the store lock (the ``Simulator`` methods take it) and raise ``ScenarioError`` when a
transition is not possible from the resource's current status.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from .common import INACTIVE_MANDATE
from .working_days import add_working_days, next_working_day

if TYPE_CHECKING:
    from .resources import Api

PENDING_MANDATE = {"pending_customer_approval", "pending_submission", "submitted"}
SUBMIT_BEFORE_DAYS = 2  # working days before its charge date that a Direct Debit payment goes to the banks


class ScenarioError(ValueError):
    """The scenario cannot be applied to the resource in its current state."""


def _require(resource: dict[str, Any], allowed: set[str], what: str) -> None:
    if resource["status"] not in allowed:
        raise ScenarioError(f"cannot {what} {resource['id']}: status is {resource['status']}")


# ----- mandates ---------------------------------------------------------------------------------
def drive_mandate(api: Api, mandate: dict[str, Any], target: str) -> None:
    """Move a new mandate to ``target`` (submitted, active, failed, cancelled, expired)."""
    if target == "submitted":
        submit_mandate(api, mandate)
    elif target == "active":
        activate_mandate(api, mandate)
    elif target == "failed":
        fail_mandate(api, mandate)
    elif target == "cancelled":
        cancel_mandate(api, mandate)
    elif target == "expired":
        expire_mandate(api, mandate)
    elif target != "pending_submission":
        raise ScenarioError(f"unsupported mandate status {target!r}")


def submit_mandate(api: Api, mandate: dict[str, Any]) -> None:
    _require(mandate, {"pending_customer_approval", "pending_submission"}, "submit")
    mandate["status"] = "submitted"
    api.store.emit(
        "mandates",
        "submitted",
        {"mandate": mandate["id"]},
        "gocardless",
        "mandate_submitted",
        "The mandate has been submitted to the banks.",
    )


def activate_mandate(api: Api, mandate: dict[str, Any]) -> None:
    _require(mandate, PENDING_MANDATE, "activate")
    if mandate["status"] != "submitted":
        submit_mandate(api, mandate)
    mandate["status"] = "active"
    api.store.emit(
        "mandates",
        "active",
        {"mandate": mandate["id"]},
        "gocardless",
        "mandate_activated",
        "The time window after submission for the banks to refuse a mandate has ended without any errors being "
        "received, so this mandate is now active.",
    )


def end_mandate(
    api: Api, mandate: dict[str, Any], status: str, origin: str, cause: str, description: str, **details: Any
) -> None:
    """Terminal mandate state: cancels its subscriptions and its payments not yet submitted."""
    mandate["status"] = status
    action = status
    api.store.emit("mandates", action, {"mandate": mandate["id"]}, origin, cause, description, **details)
    sub_cause = "mandate_cancelled" if status != "failed" else "mandate_failed"
    for sub in list(api.store.resources["subscriptions"].values()):
        if sub["links"]["mandate"] == mandate["id"] and sub["status"] in (
            "active",
            "paused",
            "pending_customer_approval",
        ):
            api.end_subscription(
                sub, "gocardless", sub_cause, f"The subscription was cancelled because its mandate {status}."
            )
    for payment in list(api.store.resources["payments"].values()):
        if payment["links"].get("mandate") == mandate["id"] and payment["status"] in (
            "pending_submission",
            "pending_customer_approval",
        ):
            api.cancel_payment(
                payment, "gocardless", sub_cause, f"The payment was cancelled because its mandate {status}."
            )


def fail_mandate(api: Api, mandate: dict[str, Any]) -> None:
    _require(mandate, PENDING_MANDATE, "fail")
    end_mandate(
        api,
        mandate,
        "failed",
        "bank",
        "invalid_bank_details",
        "The specified bank account does not exist or was closed.",
        scheme="bacs",
        reason_code="AUDDIS-5",
    )


def cancel_mandate(api: Api, mandate: dict[str, Any]) -> None:
    _require(mandate, PENDING_MANDATE | {"active"}, "cancel")
    end_mandate(
        api,
        mandate,
        "cancelled",
        "bank",
        "bank_account_closed",
        "The customer's bank account was closed.",
        scheme="bacs",
        reason_code="ADDACS-B",
    )


def expire_mandate(api: Api, mandate: dict[str, Any]) -> None:
    _require(mandate, PENDING_MANDATE | {"active"}, "expire")
    end_mandate(
        api,
        mandate,
        "expired",
        "gocardless",
        "mandate_expired",
        "The mandate expired because no payments were collected against it for a dormancy period.",
    )


# ----- payments ---------------------------------------------------------------------------------
def _payment_event(
    api: Api, payment: dict[str, Any], action: str, origin: str, cause: str, description: str, **details: Any
) -> None:
    links = {"payment": payment["id"]}
    links.update(details.pop("extra_links", {}))
    api.store.emit("payments", action, links, origin, cause, description, **details)


def submit_payment(api: Api, payment: dict[str, Any]) -> None:
    _require(payment, {"pending_submission"}, "submit")
    payment["status"] = "submitted"
    _payment_event(
        api, payment, "submitted", "gocardless", "payment_submitted", "Payment submitted to the banks."
    )


def confirm_payment(api: Api, payment: dict[str, Any]) -> None:
    _require(payment, {"pending_submission", "submitted"}, "confirm")
    if payment["status"] == "pending_submission":
        submit_payment(api, payment)
    payment["status"] = "confirmed"
    _payment_event(
        api,
        payment,
        "confirmed",
        "gocardless",
        "payment_confirmed",
        "Enough time has passed since the payment was submitted for the banks to return an error, so this "
        "payment is now confirmed.",
    )


def fail_payment(api: Api, payment: dict[str, Any], will_retry: bool = False) -> None:
    _require(payment, {"pending_submission", "submitted"}, "fail")
    if payment["status"] == "pending_submission":
        submit_payment(api, payment)
    payment["status"] = "failed"
    if not payment["links"].get("mandate"):
        # A payment by bank (faster_payments): the payer's bank declined it; it is never retried.
        payment["_will_retry"] = False
        _payment_event(
            api,
            payment,
            "failed",
            "bank",
            "bank_declined_payment",
            "Payment declined by the bank.",
            scheme=payment["scheme"],
            will_attempt_retry=False,
            not_retried_reason="other",
        )
        return
    details: dict[str, Any] = {
        "scheme": payment["scheme"],
        "reason_code": "ARRUD-0",
        "will_attempt_retry": will_retry,
    }
    if not will_retry:
        details["not_retried_reason"] = "failure_filter_applied"
    _payment_event(
        api,
        payment,
        "failed",
        "bank",
        "insufficient_funds",
        "The customer's account had insufficient funds to make this payment.",
        **details,
    )
    payment["_will_retry"] = will_retry


def resubmit_payment(api: Api, payment: dict[str, Any], charge_date: date | None = None) -> None:
    """GoCardless retries a failed payment itself (Success+), as its failure event said it would.

    The payment goes back to pending_submission, charged on ``charge_date`` (rolled to a working day) or as soon
    as the mandate allows.
    """
    _require(payment, {"failed"}, "resubmit")
    if not payment.get("_will_retry"):
        raise ScenarioError(
            f"cannot resubmit {payment['id']}: its failure did not say GoCardless would retry it"
        )
    mandate = api.store.get("mandates", payment["links"]["mandate"])
    if mandate["status"] in INACTIVE_MANDATE:
        raise ScenarioError(f"cannot resubmit {payment['id']}: its mandate is {mandate['status']}")
    earliest = api.next_charge_date(mandate)
    when = next_working_day(charge_date) if charge_date else earliest
    if when < earliest:
        raise ScenarioError(
            f"cannot charge {payment['id']} on {when}: the mandate's earliest day is {earliest}"
        )
    payment["status"] = "pending_submission"
    payment["charge_date"] = when.isoformat()
    payment["_will_retry"] = False  # the next failure says again whether there will be another retry
    # GoCardless's own retries have cause payment_autoretried; payment_retried is a retry asked for through the API.
    _payment_event(
        api,
        payment,
        "resubmission_requested",
        "gocardless",
        "payment_autoretried",
        "The payment was scheduled for resubmission automatically by GoCardless.",
    )


def charge_back(api: Api, payment: dict[str, Any]) -> None:
    _require(payment, {"confirmed", "paid_out"}, "charge back")
    payment["status"] = "charged_back"
    _payment_event(
        api,
        payment,
        "charged_back",
        "bank",
        "authorisation_disputed",
        "The customer has disputed that the amount taken differs from the amount they were notified of.",
        scheme=payment["scheme"],
        reason_code="DDICA-3",
    )


def pay_out(api: Api, payment: dict[str, Any]) -> str:
    _require(payment, {"confirmed"}, "pay out")
    payout_id = api.store.new_id("payouts")
    payment["status"] = "paid_out"
    payment["links"]["payout"] = payout_id
    _payment_event(
        api,
        payment,
        "paid_out",
        "gocardless",
        "payment_paid_out",
        "The payment has been paid out by GoCardless.",
        extra_links={"payout": payout_id},
    )
    return payout_id


def late_failure(api: Api, payment: dict[str, Any]) -> None:
    """A failure reported after the payment was confirmed (or paid out)."""
    _require(payment, {"confirmed", "paid_out"}, "late-fail")
    paid_out = payment["status"] == "paid_out"
    payment["status"] = "failed"
    _payment_event(
        api,
        payment,
        "failed",
        "bank",
        "insufficient_funds",
        "The customer's account had insufficient funds to make this payment.",
        scheme=payment["scheme"],
        reason_code="ARRUD-0",
        will_attempt_retry=False,
        not_retried_reason="failure_filter_applied",
    )
    if paid_out:
        _payment_event(
            api,
            payment,
            "late_failure_settled",
            "gocardless",
            "late_failure_settled",
            "The payment was a late failure which had already been paid out, so it has been debited from a payout.",
        )


# ----- subscriptions over time ------------------------------------------------------------------
def run_until(api: Api, target: date, auto_confirm: bool = False, confirm_after_days: int = 3) -> list[str]:
    """Walk the clock day by day to ``target``, creating subscription payments as GoCardless does: each
    ``Options.subscription_payment_lead_days`` working days before its charge date.

    With ``auto_confirm`` the pending mandates become active, and each pending payment is submitted
    ``SUBMIT_BEFORE_DAYS`` working days before its charge date and confirmed ``confirm_after_days`` days after
    it. Returns the ids of the payments created.
    """
    clock = api.store.clock
    day = clock.today()
    created: list[str] = []
    while True:
        if auto_confirm:
            for mandate in list(api.store.resources["mandates"].values()):
                if mandate["status"] in PENDING_MANDATE:
                    activate_mandate(api, mandate)
        for sub in list(api.store.resources["subscriptions"].values()):
            if sub["status"] == "active":
                created += _create_due_payments(api, sub, day)
        if auto_confirm:
            for payment in list(api.store.resources["payments"].values()):
                charge = date.fromisoformat(payment["charge_date"])
                if (
                    payment["status"] == "pending_submission"
                    and add_working_days(charge, -SUBMIT_BEFORE_DAYS) <= day
                ):
                    submit_payment(api, payment)
                due = charge + timedelta(days=confirm_after_days)
                if payment["status"] == "submitted" and due <= day:
                    confirm_payment(api, payment)
        if day >= target:
            break
        day += timedelta(days=1)
        clock.set(day)
    return created


def _create_due_payments(api: Api, sub: dict[str, Any], day: date) -> list[str]:
    """The payments of ``sub`` whose creation day has come by ``day``; finishes ``sub`` after its last one."""
    from .subscriptions import charge_dates

    lead = api.options.subscription_payment_lead_days
    mandate = api.store.get("mandates", sub["links"]["mandate"])
    created = []
    for i, when in enumerate(charge_dates(sub)):
        if add_working_days(when, -lead) > day:
            break
        if i < sub["_charged"]:
            continue
        payment = api.new_payment(
            mandate, sub["amount"], sub["currency"], sub.get("name"), when, {}, "gocardless", subscription=sub
        )
        payment["reference"] = sub.get("payment_reference")
        sub["_charged"] = i + 1
        created.append(payment["id"])
        api.store.emit(
            "subscriptions",
            "payment_created",
            {"subscription": sub["id"], "payment": payment["id"]},
            "gocardless",
            "payment_created",
            "Payment created by a subscription.",
        )
    finite = sub.get("count") or sub.get("end_date")
    if finite and not list(charge_dates(sub))[sub["_charged"] :]:
        sub["status"] = "finished"
        api.store.emit(
            "subscriptions",
            "finished",
            {"subscription": sub["id"]},
            "gocardless",
            "subscription_finished",
            "The subscription has finished.",
        )
    api.refresh_upcoming(sub)
    return created


# ----- billing requests and refunds -------------------------------------------------------------
def expire_billing_request(api: Api, br: dict[str, Any]) -> None:
    """The link lapsed unpaid: its flows stop working and the request is cancelled by GoCardless."""
    _require(br, {"pending", "ready_to_fulfil"}, "expire")
    api.expire_billing_request(br)


def expire_flow(api: Api, flow: dict[str, Any]) -> None:
    """Only this link stops working; its billing request stays pending, so a new flow can be sent for it.

    GoCardless sends no event when a flow expires.
    """
    past = api.store.clock.iso(api.store.clock.now() - timedelta(seconds=1))
    flow["expires_at"] = min(flow["expires_at"], past)


def _refund_event(api: Api, refund: dict[str, Any], action: str, cause: str, description: str) -> None:
    api.store.emit(
        "refunds", action, {"refund": refund["id"], **refund["links"]}, "gocardless", cause, description
    )


def pay_refund(api: Api, refund: dict[str, Any]) -> None:
    _require(refund, {"created", "pending_submission", "submitted"}, "pay")
    refund["status"] = "paid"
    _refund_event(api, refund, "paid", "refund_paid", "The refund has been paid to your customer.")


def fail_refund(api: Api, refund: dict[str, Any]) -> None:
    """The refund did not reach the payer: it bounces, then the funds come back to the clinic."""
    _require(refund, {"created", "pending_submission", "submitted", "paid"}, "fail")
    refund["status"] = "bounced"
    _refund_event(
        api,
        refund,
        "failed",
        "refund_failed",
        "The refund did not reach your customer, the funds will be returned to you.",
    )
    refund["status"] = "funds_returned"
    _refund_event(
        api,
        refund,
        "funds_returned",
        "refund_funds_returned",
        "The funds for the refund have been returned to you.",
    )
