"""Direct Debit payments and refunds (a layer of ``resources.Api``, see ``common``).

GoCardless collects only on working days: a requested ``charge_date`` that is not one is rolled forward to the next
(``working_days``). It must still be on or after the mandate's next_possible_charge_date as requested.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from .common import (
    CREDITOR_ID,
    INACTIVE_MANDATE,
    amount_param,
    currency_param,
    date_param,
    metadata_param,
    no_fx,
)
from .payers import Payers
from .state import invalid_state, validation
from .working_days import next_working_day

MAX_RETRIES = 3
MAX_REFUNDS = 5


class Payments(Payers):
    # ===== payments ==============================================================================
    def create_payment(self, p: dict[str, Any]) -> dict[str, Any]:
        pointer = "/payments"
        mandate = self.usable_mandate(p, pointer)
        amount = amount_param(p, pointer=pointer)
        currency = currency_param(p, pointer)
        charge = date_param(p["charge_date"], "charge_date") if p.get("charge_date") else None
        earliest = self.next_charge_date(mandate)
        if charge is not None and charge < earliest:
            raise validation(
                "charge_date",
                f"must be on or after mandate's next_possible_charge_date ({earliest})",
                f"{pointer}/charge_date",
            )
        payment = self.new_payment(
            mandate, amount, currency, p.get("description"), charge, metadata_param(p), "api"
        )
        payment["reference"] = p.get("reference")
        payment["retry_if_possible"] = bool(p.get("retry_if_possible", True))
        return payment

    def new_payment(
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
        charge_date = next_working_day(charge) if charge else self.next_charge_date(mandate)
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
                "status": "pending_submission",
                "links": links,
                "_retries": 0,
            },
        )
        if emit:
            self.emit_payment_created(payment, origin)
        return payment

    def emit_payment_created(self, payment: dict[str, Any], origin: str) -> None:
        event_links = {"payment": payment["id"]}
        if payment["links"].get("subscription"):
            event_links["subscription"] = payment["links"]["subscription"]
        self.store.emit("payments", "created", event_links, origin, "payment_created", "Payment created.")

    def cancel_payment(self, payment: dict[str, Any], origin: str, cause: str, description: str) -> None:
        payment["status"] = "cancelled"
        self.store.emit("payments", "cancelled", {"payment": payment["id"]}, origin, cause, description)

    def action_payments_cancel(self, payment: dict[str, Any], data: dict[str, Any]) -> None:
        if payment["status"] != "pending_submission":
            raise invalid_state(
                "cancellation_failed", f"The payment is {payment['status']} and cannot be cancelled"
            )
        self.cancel_payment(payment, "api", "payment_cancelled", "The payment was cancelled.")

    def action_payments_retry(self, payment: dict[str, Any], data: dict[str, Any]) -> None:
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
        earliest = self.next_charge_date(mandate)
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

    # ===== refunds ===============================================================================
    def create_refund(self, p: dict[str, Any]) -> dict[str, Any]:
        pointer = "/refunds"
        payment = self.store.find("payments", (p.get("links") or {}).get("payment"))
        if payment is None:
            raise validation("links[payment]", "was not found", f"{pointer}/links/payment")
        amount = amount_param(p, pointer=pointer)
        if payment["status"] not in ("confirmed", "paid_out"):
            raise invalid_state("refund_payment_invalid_state", f"The payment is {payment['status']}")
        existing = [
            r for r in self.store.resources["refunds"].values() if r["links"]["payment"] == payment["id"]
        ]
        if len(existing) >= MAX_REFUNDS:
            raise invalid_state("number_of_refunds_exceeded", "A payment can be refunded at most 5 times")
        total = payment["amount_refunded"] + amount
        if p.get("total_amount_confirmation") != total:
            raise invalid_state(
                "total_amount_confirmation_invalid", f"total_amount_confirmation must be {total}"
            )
        if total > payment["amount"]:
            raise validation(
                "amount", "exceeds the amount left to refund on the payment", f"{pointer}/amount"
            )
        payment["amount_refunded"] = total
        links = {"payment": payment["id"]}
        if payment["links"].get("mandate"):  # a payment by bank has no mandate
            links["mandate"] = payment["links"]["mandate"]
        refund = self.store.add(
            "refunds",
            {
                "amount": amount,
                "currency": payment["currency"],
                "fx": no_fx(),
                "metadata": metadata_param(p),
                "reference": p.get("reference"),
                "status": "created",
                "links": links,
            },
        )
        self.store.emit(
            "refunds",
            "created",
            {"refund": refund["id"], **links},
            "api",
            "refund_created",
            "The refund has been created.",
        )
        return refund
