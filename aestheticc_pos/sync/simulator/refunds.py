"""Refunds of collected payments, and what becomes of them (a resource of ``api.Api``, see ``common``)."""

from __future__ import annotations

from typing import Any

from .common import amount_param, metadata_param, no_fx, require
from .state import Store, invalid_state, validation

MAX_REFUNDS = 5


class Refunds:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ===== the API ===============================================================================
    def create(self, p: dict[str, Any]) -> dict[str, Any]:
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

    # ===== what the banks and GoCardless do ======================================================
    def submit(self, refund: dict[str, Any]) -> None:
        """GoCardless batches the refund (pending_submission) and sends it to the banks (submitted)."""
        require(refund, {"created", "pending_submission"}, "submit")
        refund["status"] = "submitted"

    def queue(self, refund: dict[str, Any]) -> None:
        """The refund waits for the next batch to the banks."""
        require(refund, {"created"}, "queue")
        refund["status"] = "pending_submission"

    def pay(self, refund: dict[str, Any]) -> None:
        require(refund, {"created", "pending_submission", "submitted"}, "pay")
        refund["status"] = "paid"
        self._event(refund, "paid", "refund_paid", "The refund has been paid to your customer.")

    def fail(self, refund: dict[str, Any]) -> None:
        """The refund did not reach the payer: it bounces (``failed`` event, status ``bounced``), then the funds
        come back to the clinic (``funds_returned``)."""
        require(refund, {"created", "pending_submission", "submitted", "paid"}, "fail")
        refund["status"] = "bounced"
        self._event(
            refund,
            "failed",
            "refund_failed",
            "The refund did not reach your customer, the funds will be returned to you.",
        )
        refund["status"] = "funds_returned"
        self._event(
            refund,
            "funds_returned",
            "refund_funds_returned",
            "The funds for the refund have been returned to you.",
        )

    def _event(self, refund: dict[str, Any], action: str, cause: str, description: str) -> None:
        self.store.emit(
            "refunds", action, {"refund": refund["id"], **refund["links"]}, "gocardless", cause, description
        )
