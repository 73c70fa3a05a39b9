"""Customers, their bank accounts and their mandates (the first layer of ``resources.Api``, see ``common``).

A mandate's ``next_possible_charge_date`` is not a stored fact but moves with time, as GoCardless's does: the later of
its first value (the creation day plus ``Options.mandate_lead_days`` working days) and today plus
``Options.payment_lead_days`` working days. ``next_charge_date`` brings it up to date whenever a mandate is read.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from . import scenarios
from .common import CREDITOR_ID, INACTIVE_MANDATE, ApiBase, metadata_param
from .state import invalid_state, validation
from .working_days import add_working_days


class Payers(ApiBase):
    CUSTOMER_FIELDS = [
        "email",
        "given_name",
        "family_name",
        "company_name",
        "address_line1",
        "address_line2",
        "address_line3",
        "city",
        "region",
        "postal_code",
        "country_code",
        "language",
        "phone_number",
    ]

    # ===== customers =============================================================================
    def create_customer(self, p: dict[str, Any]) -> dict[str, Any]:
        meta = metadata_param(p)
        if not (p.get("email") or p.get("family_name") or p.get("company_name")):
            raise validation("family_name", "must be provided (or company_name)", "/customers/family_name")
        customer = {f: p.get(f) for f in self.CUSTOMER_FIELDS}
        customer["language"] = customer["language"] or "en"
        customer["metadata"] = meta
        return self.store.add("customers", customer)

    def add_bank_account(
        self, customer: dict[str, Any], holder: str, number: str, currency: str
    ) -> dict[str, Any]:
        return self.store.add(
            "customer_bank_accounts",
            {
                "account_holder_name": holder,
                "account_number_ending": (number or "00000000")[-2:],
                "account_type": None,
                "bank_name": "SIMULATED BANK PLC",
                "country_code": "GB",
                "currency": currency,
                "enabled": True,
                "metadata": {},
                "links": {"customer": customer["id"]},
            },
        )

    # ===== mandates ==============================================================================
    def new_mandate(
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
            self.emit_mandate_created(mandate)
        return mandate

    def emit_mandate_created(self, mandate: dict[str, Any]) -> None:
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

    def usable_mandate(self, params: dict[str, Any], pointer: str) -> dict[str, Any]:
        """The mandate ``params["links"]["mandate"]`` names, refused when missing or inactive."""
        mandate_id = (params.get("links") or {}).get("mandate")
        mandate = self.store.find("mandates", mandate_id)
        if mandate is None:
            raise validation("links[mandate]", "was not found", f"{pointer}/links/mandate")
        if mandate["status"] in INACTIVE_MANDATE:
            raise invalid_state("mandate_is_inactive", f"The mandate is {mandate['status']}")
        return mandate

    def action_mandates_cancel(self, mandate: dict[str, Any], data: dict[str, Any]) -> None:
        if mandate["status"] in INACTIVE_MANDATE:
            raise invalid_state(
                "cancellation_failed", f"The mandate is {mandate['status']} and cannot be cancelled"
            )
        scenarios.end_mandate(
            self.as_api,
            mandate,
            "cancelled",
            "api",
            "mandate_cancelled",
            "The mandate was cancelled at your request.",
        )

    def action_mandates_reinstate(self, mandate: dict[str, Any], data: dict[str, Any]) -> None:
        if mandate["status"] not in ("cancelled", "expired"):
            raise invalid_state(
                "mandate_not_inactive", "Only cancelled or expired mandates can be reinstated"
            )
        mandate["status"] = "submitted"
        self.store.emit(
            "mandates",
            "resubmission_requested",
            {"mandate": mandate["id"]},
            "api",
            "resubmission_requested",
            "An attempt to reinstate this mandate was requested.",
        )
