"""Direct Debit payments, and what the banks and GoCardless do to them (a resource of ``api.Api``, see ``common``).

GoCardless collects only on working days: a requested ``charge_date`` that is not one is rolled forward to the next
(``working_days``). It must still be on or after the mandate's next_possible_charge_date as requested.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from .common import (
    CREDITOR_ID,
    INACTIVE_MANDATE,
    ScenarioError,
    amount_param,
    currency_param,
    date_param,
    metadata_param,
    no_fx,
    require,
)
from .mandates import Mandates
from .payouts import Payouts
from .state import Store, invalid_state, validation
from .working_days import next_working_day

MAX_RETRIES = 3


class Payments:
    def __init__(self, store: Store, mandates: Mandates, payouts: Payouts) -> None:
        self.store = store
        self.mandates = mandates
        self.payouts = payouts

    # ===== the API ===============================================================================
    def create(self, p: dict[str, Any]) -> dict[str, Any]:
        pointer = "/payments"
        mandate = self.mandates.usable(p, pointer)
        amount = amount_param(p, pointer=pointer)
        currency = currency_param(p, pointer)
        charge = date_param(p["charge_date"], "charge_date") if p.get("charge_date") else None
        earliest = self.mandates.next_charge_date(mandate)
        if charge is not None and charge < earliest:
            raise validation(
                "charge_date",
                f"must be on or after mandate's next_possible_charge_date ({earliest})",
                f"{pointer}/charge_date",
            )
        payment = self.new(mandate, amount, currency, p.get("description"), charge, metadata_param(p), "api")
        payment["reference"] = p.get("reference")
        payment["retry_if_possible"] = bool(p.get("retry_if_possible", True))
        return payment

    def new(
        self,
        mandate: dict[str, Any],
        amount: int,
        currency: str,
        description: str | None,
        charge: date | None,
        metadata: dict[str, str],
        origin: str,
        subscription: dict[str, Any] | None = None,
        emit: bool = True,
    ) -> dict[str, Any]:
        """A Direct Debit payment on ``mandate``, charged on ``charge`` (rolled to a working day) or as soon as
        the mandate allows."""
        links = {"creditor": CREDITOR_ID, "mandate": mandate["id"]}
        if subscription is not None:
            links["subscription"] = subscription["id"]
        charge_date = next_working_day(charge) if charge else self.mandates.next_charge_date(mandate)
        approval = mandate.get("payments_require_approval") is True
        payment = self.store.add(
            "payments",
            {
                "amount": amount,
                "amount_refunded": 0,
                "app_fee": None,
                "charge_date": charge_date.isoformat(),
                "currency": currency,
                "description": description,
                "faster_ach": False,
                "fx": no_fx(),
                "metadata": metadata,
                "reference": None,
                "retry_if_possible": True,
                "scheme": mandate["scheme"],
                "status": "pending_customer_approval" if approval else "pending_submission",
                "links": links,
                "_retries": 0,
            },
        )
        if emit:
            self.emit_created(payment, origin)
        return payment

    def emit_created(self, payment: dict[str, Any], origin: str) -> None:
        event_links = {"payment": payment["id"]}
        if payment["links"].get("subscription"):
            event_links["subscription"] = payment["links"]["subscription"]
        self.store.emit("payments", "created", event_links, origin, "payment_created", "Payment created.")

    def cancel(
        self,
        payment: dict[str, Any],
        origin: str,
        cause: str,
        description: str,
        parent_event: str | None = None,
    ) -> None:
        payment["status"] = "cancelled"
        links = {"payment": payment["id"], **({"parent_event": parent_event} if parent_event else {})}
        self.store.emit("payments", "cancelled", links, origin, cause, description)

    def action_cancel(self, payment: dict[str, Any], data: dict[str, Any]) -> None:
        if payment["status"] != "pending_submission":
            raise invalid_state(
                "cancellation_failed", f"The payment is {payment['status']} and cannot be cancelled"
            )
        self.cancel(payment, "api", "payment_cancelled", "The payment was cancelled.")

    def action_retry(self, payment: dict[str, Any], data: dict[str, Any]) -> None:
        if payment["status"] != "failed":
            raise invalid_state(
                "retry_failed", f"Only failed payments can be retried (payment is {payment['status']})"
            )
        if not payment["links"].get("mandate"):
            raise invalid_state(
                "retry_failed", "A payment by bank cannot be retried; send a new payment link"
            )
        if payment["_retries"] >= MAX_RETRIES:
            raise invalid_state("retry_failed", "This payment has been retried the maximum number of times")
        mandate = self.store.get("mandates", payment["links"]["mandate"])
        if mandate["status"] in INACTIVE_MANDATE:
            raise invalid_state("mandate_is_inactive", f"The mandate is {mandate['status']}")
        charge = date_param(data["charge_date"], "charge_date") if data.get("charge_date") else None
        earliest = self.mandates.next_charge_date(mandate)
        if charge is not None and charge < earliest:
            raise validation(
                "charge_date",
                f"must be on or after mandate's next_possible_charge_date ({earliest})",
                "/data/charge_date",
            )
        payment["_retries"] += 1
        payment["status"] = "pending_submission"
        # Collected as soon as the mandate allows unless a later day was asked for, as a new payment would be.
        payment["charge_date"] = (next_working_day(charge) if charge else earliest).isoformat()
        self.store.emit(
            "payments",
            "resubmission_requested",
            {"payment": payment["id"]},
            "api",
            "payment_retried",
            "An attempt to retry this payment was requested.",
        )

    def mandate_ended(self, mandate: dict[str, Any], status: str, cause: str, parent_event: str) -> None:
        """The mandate's payments not yet submitted are cancelled (submitted ones are with the banks already)."""
        for payment in list(self.store.resources["payments"].values()):
            if payment["links"].get("mandate") == mandate["id"] and payment["status"] in (
                "pending_submission",
                "pending_customer_approval",
            ):
                self.cancel(
                    payment,
                    "gocardless",
                    cause,
                    f"The payment was cancelled because its mandate {status}.",
                    parent_event,
                )

    def mandate_replaced(self, mandate: dict[str, Any], new_mandate: dict[str, Any]) -> None:
        """The replaced mandate's payments not yet submitted are collected on the new one."""
        for payment in self.store.resources["payments"].values():
            if payment["links"].get("mandate") == mandate["id"] and payment["status"] in (
                "pending_submission",
                "pending_customer_approval",
            ):
                payment["links"]["mandate"] = new_mandate["id"]

    # ===== what the banks and GoCardless do ======================================================
    def submit(self, payment: dict[str, Any]) -> None:
        require(payment, {"pending_submission"}, "submit")
        payment["status"] = "submitted"
        self._event(
            payment, "submitted", "gocardless", "payment_submitted", "Payment submitted to the banks."
        )

    def confirm(self, payment: dict[str, Any]) -> None:
        require(payment, {"pending_submission", "submitted"}, "confirm")
        if payment["status"] == "pending_submission":
            self.submit(payment)
        payment["status"] = "confirmed"
        self._event(
            payment,
            "confirmed",
            "gocardless",
            "payment_confirmed",
            "Enough time has passed since the payment was submitted for the banks to return an error, so this "
            "payment is now confirmed.",
        )

    def fail(self, payment: dict[str, Any], will_retry: bool = False) -> None:
        require(payment, {"pending_submission", "submitted"}, "fail")
        if payment["status"] == "pending_submission":
            self.submit(payment)
        payment["status"] = "failed"
        if not payment["links"].get("mandate"):
            # A payment by bank (faster_payments): the payer's bank declined it; it is never retried.
            payment["_will_retry"] = False
            self._event(
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
        self._event(
            payment,
            "failed",
            "bank",
            "insufficient_funds",
            "The customer's account had insufficient funds to make this payment.",
            **details,
        )
        payment["_will_retry"] = will_retry

    def resubmit(self, payment: dict[str, Any], charge_date: date | None = None) -> None:
        """GoCardless retries a failed payment itself (Success+), as its failure event said it would.

        The payment goes back to pending_submission, charged on ``charge_date`` (rolled to a working day) or as
        soon as the mandate allows.
        """
        require(payment, {"failed"}, "resubmit")
        if not payment.get("_will_retry"):
            raise ScenarioError(
                f"cannot resubmit {payment['id']}: its failure did not say GoCardless would retry it"
            )
        mandate = self.store.get("mandates", payment["links"]["mandate"])
        if mandate["status"] in INACTIVE_MANDATE:
            raise ScenarioError(f"cannot resubmit {payment['id']}: its mandate is {mandate['status']}")
        earliest = self.mandates.next_charge_date(mandate)
        when = next_working_day(charge_date) if charge_date else earliest
        if when < earliest:
            raise ScenarioError(
                f"cannot charge {payment['id']} on {when}: the mandate's earliest day is {earliest}"
            )
        payment["status"] = "pending_submission"
        payment["charge_date"] = when.isoformat()
        payment["_will_retry"] = False  # the next failure says again whether there will be another retry
        # GoCardless's own retries have cause payment_autoretried; payment_retried is a retry asked for through
        # the API.
        self._event(
            payment,
            "resubmission_requested",
            "gocardless",
            "payment_autoretried",
            "The payment was scheduled for resubmission automatically by GoCardless.",
        )

    def charge_back(self, payment: dict[str, Any]) -> None:
        require(payment, {"confirmed", "paid_out"}, "charge back")
        payment["status"] = "charged_back"
        self._event(
            payment,
            "charged_back",
            "bank",
            "authorisation_disputed",
            "The customer has disputed that the amount taken differs from the amount they were notified of.",
            scheme=payment["scheme"],
            reason_code="DDICA-3",
        )

    def approve(self, payment: dict[str, Any]) -> None:
        """The payer (a second signatory) approved a payment that needed their approval."""
        require(payment, {"pending_customer_approval"}, "approve")
        payment["status"] = "pending_submission"
        self._event(
            payment,
            "customer_approval_granted",
            "customer",
            "customer_approval_granted",
            "The customer granted approval for this payment",
        )

    def deny_approval(self, payment: dict[str, Any]) -> None:
        """The payer refused a payment that needed their approval: it will never be collected."""
        require(payment, {"pending_customer_approval"}, "deny approval of")
        payment["status"] = "customer_approval_denied"
        self._event(
            payment,
            "customer_approval_denied",
            "customer",
            "customer_approval_denied",
            "The customer denied approval for this payment",
        )

    def cancel_chargeback(self, payment: dict[str, Any]) -> None:
        """The payer's bank withdrew the chargeback: the payment is collected again (paid out, if it was)."""
        require(payment, {"charged_back"}, "cancel the chargeback of")
        payment["status"] = "paid_out" if payment["links"].get("payout") else "confirmed"
        self._event(
            payment,
            "chargeback_cancelled",
            "bank",
            "payment_confirmed",
            "The chargeback for this payment was reversed",
        )

    def settle_chargeback(self, payment: dict[str, Any]) -> str:
        """A chargeback of a payment already paid out is debited from a later payout; returns that payout."""
        require(payment, {"charged_back"}, "settle the chargeback of")
        if not payment["links"].get("payout"):
            raise ScenarioError(f"cannot settle the chargeback of {payment['id']}: it was never paid out")
        payout_id = self.payouts.debit(payment)
        self._event(
            payment,
            "chargeback_settled",
            "gocardless",
            "chargeback_settled",
            "This charged back payment has been settled against a payout.",
            extra_links={"payout": payout_id},
        )
        return payout_id

    def pay_out(self, payment: dict[str, Any]) -> str:
        require(payment, {"confirmed"}, "pay out")
        payout_id = self.payouts.credit(payment)
        payment["status"] = "paid_out"
        payment["links"]["payout"] = payout_id
        self._event(
            payment,
            "paid_out",
            "gocardless",
            "payment_paid_out",
            "The payment has been paid out by GoCardless.",
            extra_links={"payout": payout_id},
        )
        return payout_id

    def late_failure(self, payment: dict[str, Any]) -> None:
        """A failure reported after the payment was confirmed (or paid out)."""
        require(payment, {"confirmed", "paid_out"}, "late-fail")
        paid_out = payment["status"] == "paid_out"
        payment["status"] = "failed"
        self._event(
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
            self._event(
                payment,
                "late_failure_settled",
                "gocardless",
                "late_failure_settled",
                "The payment was a late failure which had already been paid out, so it has been debited from a "
                "payout.",
            )

    def _event(
        self, payment: dict[str, Any], action: str, origin: str, cause: str, description: str, **details: Any
    ) -> None:
        links = {"payment": payment["id"]}
        links.update(details.pop("extra_links", {}))
        self.store.emit("payments", action, links, origin, cause, description, **details)
