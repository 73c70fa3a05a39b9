"""Customers and their bank accounts (the first resource of ``api.Api``, see ``common``)."""

from __future__ import annotations

from typing import Any

from .common import metadata_param
from .state import Store, validation

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
        customer["metadata"] = meta
        return self.store.add("customers", customer)

    def update(self, customer: dict[str, Any], p: dict[str, Any]) -> None:
        """The customer fields of a ``PUT /customers/:id`` (its metadata is the router's, as for every kind)."""
        for f in CUSTOMER_FIELDS:
            if f in p:
                customer[f] = p[f]

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
