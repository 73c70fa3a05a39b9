"""Mandates, and what the banks and GoCardless do to them (a resource of ``api.Api``, see ``common``).

A mandate's ``next_possible_charge_date`` is not a stored fact but moves with time, as GoCardless's does: the later of
its first value (the creation day plus ``Options.mandate_lead_days`` working days) and today plus
``Options.payment_lead_days`` working days. ``next_charge_date`` brings it up to date whenever a mandate is read.

A mandate that ends (cancelled, failed, expired, blocked, consumed) takes with it what was to be collected on it:
its ``dependents`` (the subscriptions, then the payments; ``api.Api`` wires them, as they are resources above this
one) are told in that order, and each event that causes links to the mandate's as ``links.parent_event``. A
mandate that is *replaced* (the creditor moved to a new scheme identifier) is cancelled with the action
``replaced`` and ``links.new_mandate``; its subscriptions and unsubmitted payments move to the new mandate, which
is active at once. A cancelled or expired mandate can be *reinstated* by the payer's bank (or after
``POST /mandates/:id/actions/reinstate``): active again, but the subscriptions GoCardless cancelled stay
cancelled.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from .common import CREDITOR_ID, INACTIVE_MANDATE, Options, ScenarioError, require
from .state import Store, invalid_state, validation
from .working_days import add_working_days

PENDING_MANDATE = {"pending_customer_approval", "pending_submission", "submitted"}


class EndsWithMandate(Protocol):
    def mandate_ended(self, mandate: dict[str, Any], status: str, cause: str, parent_event: str) -> None:
        """``mandate`` has just ended with ``status``; ``cause`` is the cause of what that ends in turn, and
        ``parent_event`` the id of the mandate's event (each event it causes links to it)."""

    def mandate_replaced(self, mandate: dict[str, Any], new_mandate: dict[str, Any]) -> None:
        """``mandate`` was replaced by ``new_mandate``: what was collected on it is collected on the new one."""


class Mandates:
    def __init__(self, store: Store, options: Options) -> None:
        self.store = store
        self.options = options
        self.dependents: list[EndsWithMandate] = []

    # ===== the API ===============================================================================
    def new(
        self,
        customer_id: str,
        account_id: str,
        scheme: str,
        metadata: dict[str, str] | None = None,
        emit: bool = True,
    ) -> dict[str, Any]:
        first_charge = add_working_days(self.store.clock.today(), self.options.mandate_lead_days)
        mandate = self.store.add(
            "mandates",
            {
                "authorisation_source": "web",
                "consent_parameters": {},
                "consent_type": None,
                "funds_settlement": "managed",
                "mandate_type": "bank_debit",
                "metadata": dict(metadata or {}),
                "next_possible_charge_date": first_charge.isoformat(),
                "next_possible_standard_ach_charge_date": None,  # ACH only
                "payments_require_approval": False,
                "reference": None,
                "scheme": scheme,
                "status": "pending_submission",
                "verified_at": None,
                "links": {
                    "creditor": CREDITOR_ID,
                    "customer": customer_id,
                    "customer_bank_account": account_id,
                },
                "_first_charge": first_charge,
            },
        )
        mandate["reference"] = "SIM-" + mandate["id"][2:10]
        if emit:
            self.emit_created(mandate)
        return mandate

    def emit_created(self, mandate: dict[str, Any]) -> None:
        self.store.emit(
            "mandates",
            "created",
            {"mandate": mandate["id"]},
            "gocardless",
            "mandate_created",
            "Mandate created via the API.",
        )

    def next_charge_date(self, mandate: dict[str, Any]) -> date:
        """The mandate's next_possible_charge_date as of now, stored on it; an inactive mandate keeps its last."""
        if mandate["status"] not in INACTIVE_MANDATE:
            soonest = add_working_days(self.store.clock.today(), self.options.payment_lead_days)
            mandate["next_possible_charge_date"] = max(mandate["_first_charge"], soonest).isoformat()
        return date.fromisoformat(mandate["next_possible_charge_date"])

    def usable(self, params: dict[str, Any], pointer: str) -> dict[str, Any]:
        """The mandate ``params["links"]["mandate"]`` names, refused when missing or inactive."""
        mandate_id = (params.get("links") or {}).get("mandate")
        mandate = self.store.find("mandates", mandate_id)
        if mandate is None:
            raise validation("links[mandate]", "was not found", f"{pointer}/links/mandate")
        if mandate["status"] in INACTIVE_MANDATE:
            raise invalid_state("mandate_is_inactive", f"The mandate is {mandate['status']}")
        return mandate

    def action_cancel(self, mandate: dict[str, Any], data: dict[str, Any]) -> None:
        if mandate["status"] in INACTIVE_MANDATE:
            raise invalid_state(
                "cancellation_failed", f"The mandate is {mandate['status']} and cannot be cancelled"
            )
        self.end(
            mandate, "cancelled", "api", "mandate_cancelled", "The mandate was cancelled at your request."
        )

    def action_reinstate(self, mandate: dict[str, Any], data: dict[str, Any]) -> None:
        if mandate["status"] not in ("cancelled", "expired"):
            raise invalid_state(
                "mandate_not_inactive", "Only cancelled or expired mandates can be reinstated"
            )
        mandate["status"] = "submitted"
        mandate["_reinstating"] = True  # ``reinstate`` takes it to active when the banks accept it
        self.store.emit(
            "mandates",
            "resubmission_requested",
            {"mandate": mandate["id"]},
            "api",
            "resubmission_requested",
            "An attempt to reinstate this mandate was requested.",
        )

    # ===== what the banks and GoCardless do ======================================================
    def drive(self, mandate: dict[str, Any], target: str) -> None:
        """Move a new mandate to ``target`` (submitted, active, failed, cancelled, expired)."""
        if target == "submitted":
            self.submit(mandate)
        elif target == "active":
            self.activate(mandate)
        elif target == "failed":
            self.fail(mandate)
        elif target == "cancelled":
            self.cancel(mandate)
        elif target == "expired":
            self.expire(mandate)
        elif target != "pending_submission":
            raise ScenarioError(f"unsupported mandate status {target!r}")

    def submit(self, mandate: dict[str, Any]) -> None:
        require(mandate, {"pending_customer_approval", "pending_submission"}, "submit")
        mandate["status"] = "submitted"
        self.store.emit(
            "mandates",
            "submitted",
            {"mandate": mandate["id"]},
            "gocardless",
            "mandate_submitted",
            "The mandate has been submitted to the banks.",
        )

    def activate(self, mandate: dict[str, Any]) -> None:
        require(mandate, PENDING_MANDATE, "activate")
        if mandate["status"] != "submitted":
            self.submit(mandate)
        mandate["status"] = "active"
        self.store.emit(
            "mandates",
            "active",
            {"mandate": mandate["id"]},
            "gocardless",
            "mandate_activated",
            "The time window after submission for the banks to refuse a mandate has ended without any errors "
            "being received, so this mandate is now active.",
        )

    def end(
        self, mandate: dict[str, Any], status: str, origin: str, cause: str, description: str, **details: Any
    ) -> None:
        """Terminal mandate state: its subscriptions and its payments not yet submitted are cancelled."""
        mandate["status"] = status
        event = self.store.emit(
            "mandates", status, {"mandate": mandate["id"]}, origin, cause, description, **details
        )
        then = "mandate_cancelled" if status != "failed" else "mandate_failed"
        for dependent in self.dependents:
            dependent.mandate_ended(mandate, status, then, event["id"])

    def require_approval(self, mandate: dict[str, Any], required: bool = True) -> None:
        """From now on the mandate's new payments and subscriptions wait for the payer's approval (a second
        signatory on a business account)."""
        require(mandate, PENDING_MANDATE | {"active"}, "change the approvals of")
        mandate["payments_require_approval"] = required

    def block(self, mandate: dict[str, Any]) -> None:
        """The payer's details matched the clinic's (or GoCardless's) block list: nothing can be collected."""
        require(mandate, PENDING_MANDATE | {"active"}, "block")
        self.end(
            mandate,
            "blocked",
            "gocardless",
            "mandate_blocked",
            "The mandate has been blocked because the customer's details matched against an entry in the "
            "blocklist populated by you.",
        )

    def consume(self, mandate: dict[str, Any]) -> None:
        """A mandate for one payment was used by it and can collect nothing more."""
        require(mandate, PENDING_MANDATE | {"active"}, "consume")
        self.end(
            mandate,
            "consumed",
            "gocardless",
            "mandate_consumed",
            "The mandate has been used to create a payment and has now been consumed. It cannot be used again.",
        )

    def replace(self, mandate: dict[str, Any]) -> dict[str, Any]:
        """The creditor moved to a new scheme identifier: ``mandate`` is cancelled and replaced by a new, active
        mandate on the same bank account (same metadata), which takes over its subscriptions and unsubmitted
        payments. Returns the new mandate."""
        require(mandate, PENDING_MANDATE | {"active"}, "replace")
        links = mandate["links"]
        new = self.new(
            links["customer"],
            links["customer_bank_account"],
            mandate["scheme"],
            mandate["metadata"],
            emit=False,
        )
        new["status"] = "active"
        new["_first_charge"] = mandate["_first_charge"]
        mandate["status"] = "cancelled"
        self.store.emit(
            "mandates",
            "replaced",
            {"mandate": mandate["id"], "new_mandate": new["id"]},
            "gocardless",
            "scheme_identifier_changed",
            "The creditor has changed to a different scheme identifier so this mandate has been cancelled and "
            "replaced by a new one.",
        )
        for dependent in self.dependents:
            dependent.mandate_replaced(mandate, new)
        return new

    def reinstate(self, mandate: dict[str, Any]) -> None:
        """The payer's bank undoes a cancellation or expiry (or accepts a reinstatement the API asked for)."""
        require(mandate, {"cancelled", "expired", "submitted"}, "reinstate")
        if mandate["status"] == "submitted" and not mandate.get("_reinstating"):
            raise ScenarioError(f"cannot reinstate {mandate['id']}: it was never cancelled or expired")
        mandate.pop("_reinstating", None)
        mandate["status"] = "active"
        self.store.emit(
            "mandates",
            "reinstated",
            {"mandate": mandate["id"]},
            "bank",
            "mandate_reinstated",
            "A cancelled mandate has been re-instated by the customer's bank.",
        )

    def fail(self, mandate: dict[str, Any]) -> None:
        require(mandate, PENDING_MANDATE, "fail")
        self.end(
            mandate,
            "failed",
            "bank",
            "invalid_bank_details",
            "The specified bank account does not exist or was closed.",
            scheme="bacs",
            reason_code="AUDDIS-5",
        )

    def cancel(self, mandate: dict[str, Any]) -> None:
        """The payer's bank cancels the mandate (their account was closed)."""
        require(mandate, PENDING_MANDATE | {"active"}, "cancel")
        self.end(
            mandate,
            "cancelled",
            "bank",
            "bank_account_closed",
            "The customer's bank account was closed.",
            scheme="bacs",
            reason_code="ADDACS-B",
        )

    def expire(self, mandate: dict[str, Any]) -> None:
        require(mandate, PENDING_MANDATE | {"active"}, "expire")
        self.end(
            mandate,
            "expired",
            "gocardless",
            "mandate_expired",
            "The mandate expired because no payments were collected against it for a dormancy period.",
        )
