"""Customers and their bank accounts (the first resource of ``api.Api``, see ``common``)."""

from __future__ import annotations

from typing import Any

from .common import metadata_param
from .state import Store, validation

ADDRESS_FIELDS = (
    "address_line1",
    "address_line2",
    "address_line3",
    "city",
    "region",
    "postal_code",
    "country_code",
)
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


class Customers:
    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, p: dict[str, Any]) -> dict[str, Any]:
        meta = metadata_param(p)
        if not (p.get("email") or p.get("family_name") or p.get("company_name")):
            raise validation("family_name", "must be provided (or company_name)", "/customers/family_name")
        customer = {f: p.get(f) for f in CUSTOMER_FIELDS}
        customer["language"] = customer["language"] or "en"
        for national in ("danish_identity_number", "swedish_identity_number"):  # Denmark and Sweden only
            customer[national] = p.get(national)
        customer["metadata"] = meta
        return self.store.add("customers", customer)

    def update(self, customer: dict[str, Any], p: dict[str, Any]) -> None:
        """The customer fields of a ``PUT /customers/:id`` (its metadata is the router's, as for every kind)."""
        for f in CUSTOMER_FIELDS:
            if f in p:
                customer[f] = p[f]

    def billing_view(self, customer: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """A customer as a billing request's ``resources`` show it: the person (no address), and their billing
        detail (the address, a ``CBD`` id of its own)."""
        person = {
            k: customer.get(k)
            for k in ("id", "created_at", "email", "given_name", "family_name", "company_name", "language")
        }
        person["phone_number"] = customer.get("phone_number")
        person["metadata"] = dict(customer.get("metadata") or {})
        detail = {
            "id": "CBD" + customer["id"][2:],
            "created_at": customer["created_at"],
            **{k: customer.get(k) for k in ADDRESS_FIELDS},
            "danish_identity_number": customer.get("danish_identity_number"),
            "swedish_identity_number": customer.get("swedish_identity_number"),
            "ip_address": None,
            "schemes": [],
        }
        return person, detail

    def add_bank_account(
        self, customer: dict[str, Any], holder: str, number: str, currency: str
    ) -> dict[str, Any]:
        return self.store.add(
            "customer_bank_accounts",
            {
                "account_holder_name": holder,
                "account_number_ending": (number or "00000000")[-2:],
                "account_type": None,
                "bank_account_token": None,
                "bank_name": "SIMULATED BANK PLC",
                "country_code": "GB",
                "currency": currency,
                "enabled": True,
                "metadata": {},
                "payer_name_verification_result": None,
                "links": {"customer": customer["id"]},
            },
        )
