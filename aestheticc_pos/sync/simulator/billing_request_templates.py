"""Billing request templates: the reusable payment links (a resource of ``api.Api``, see ``common``).

A payment link is a payment-only billing request and its flow (``billing_requests``: Instant Bank Pay; a link that
lapses is ``BillingRequests.expire``).

- A template (``BRT…``) has a permanent ``authorisation_url``. Each visit makes a new billing request (no
  customer, the template's payment request) and a flow for it, then sends the browser to that flow's page.
  Neither the billing request nor the payment links to the template (the fixtures have no such link): a
  listener tells which template was paid from the metadata, because the template's ``payment_request_metadata``
  becomes the billing request's ``payment_request.metadata`` and so the payment's ``metadata``.
- ``payment_request_amount`` on a template is a string in full units (``"100.00"`` is £100), as in the fixture
  and the Java client ("Amount in full"); billing requests and payments carry integer minor units as usual.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .billing_request_flows import BillingRequestFlows
from .billing_requests import INSTANT_SCHEMES, BillingRequests
from .common import CURRENCIES, metadata_param
from .state import Store, validation

_FULL_UNITS = re.compile(r"^\d{1,9}(\.\d{1,2})?$")

TEMPLATE_PAYMENT_FIELDS = (
    "payment_request_amount",
    "payment_request_currency",
    "payment_request_description",
    "payment_request_metadata",
    "payment_request_scheme",
)
TEMPLATE_MANDATE_FIELDS = (
    "mandate_request_currency",
    "mandate_request_description",
    "mandate_request_metadata",
    "mandate_request_scheme",
    "mandate_request_verify",
    "mandate_request_constraints",
)


def minor_units(full: str) -> int:
    """``"25.50"`` → 2550."""
    return int(Decimal(full) * 100)


class BillingRequestTemplates:
    def __init__(
        self,
        store: Store,
        base_url: Callable[[], str],
        billing_requests: BillingRequests,
        flows: BillingRequestFlows,
    ) -> None:
        self.store = store
        self.base_url = base_url
        self.billing_requests = billing_requests
        self.flows = flows

    # ===== the API ===============================================================================
    def create(self, p: dict[str, Any]) -> dict[str, Any]:
        template: dict[str, Any] = {
            "authorisation_url": None,
            "name": None,
            "metadata": {},
            "redirect_uri": None,
            "mandate_request_constraints": {},
            **{f: None for f in TEMPLATE_PAYMENT_FIELDS + TEMPLATE_MANDATE_FIELDS[:-1]},
        }
        template["payment_request_metadata"] = {}
        template["mandate_request_metadata"] = {}
        self._apply_fields(template, p, creating=True)
        template_id = self.store.new_id("billing_request_templates")
        template["id"] = template_id
        template["authorisation_url"] = f"{self.base_url()}/template/{template_id}"
        template["updated_at"] = self.store.now_iso()
        return self.store.add("billing_request_templates", template)

    def update(self, template_id: str, p: dict[str, Any]) -> dict[str, Any]:
        template = self.store.get("billing_request_templates", template_id)
        updated = dict(template)
        self._apply_fields(updated, p, creating=False)
        template.update(updated)
        template["updated_at"] = self.store.now_iso()
        return template

    def _apply_fields(self, t: dict[str, Any], p: dict[str, Any], creating: bool) -> None:
        pointer = "/billing_request_templates"
        if "name" in p or creating:
            name = p.get("name")
            if not isinstance(name, str) or not name.strip() or len(name) > 255:
                raise validation("name", "must be given, at most 255 characters", f"{pointer}/name")
            t["name"] = name
        if "metadata" in p:
            t["metadata"] = metadata_param(p)
        for field in ("payment_request_metadata", "mandate_request_metadata"):
            if field in p:
                t[field] = metadata_param({"metadata": p[field]}, field)
        if "redirect_uri" in p:
            t["redirect_uri"] = p["redirect_uri"]
        for field in ("payment_request_description", "mandate_request_description", "mandate_request_verify"):
            if field in p:
                t[field] = p[field]
        if "mandate_request_constraints" in p:
            t["mandate_request_constraints"] = dict(p["mandate_request_constraints"] or {})
        if "payment_request_amount" in p:
            amount = p["payment_request_amount"]
            if not isinstance(amount, str) or not _FULL_UNITS.match(amount) or minor_units(amount) <= 0:
                raise validation(
                    "payment_request_amount",
                    'must be a positive amount in full units as a string, such as "100.00"',
                    f"{pointer}/payment_request_amount",
                )
            t["payment_request_amount"] = f"{Decimal(amount):.2f}"
        for prefix in ("payment_request", "mandate_request"):
            field = f"{prefix}_currency"
            if field in p:
                if p[field] not in CURRENCIES:
                    raise validation(field, "is not a supported currency", f"{pointer}/{field}")
                t[field] = p[field]
        if "mandate_request_scheme" in p:
            t["mandate_request_scheme"] = p["mandate_request_scheme"]
        if "payment_request_scheme" in p:
            t["payment_request_scheme"] = p["payment_request_scheme"]
        if t.get("payment_request_amount") or t.get("payment_request_currency"):
            if not (t.get("payment_request_amount") and t.get("payment_request_currency")):
                raise validation(
                    "payment_request_amount",
                    "a payment request needs both an amount and a currency",
                    f"{pointer}/payment_request_amount",
                )
            if t["payment_request_currency"] not in INSTANT_SCHEMES:
                raise validation(
                    "payment_request_currency",
                    "must be GBP or EUR for a payment by bank",
                    f"{pointer}/payment_request_currency",
                )
            t["payment_request_scheme"] = (
                t.get("payment_request_scheme") or INSTANT_SCHEMES[t["payment_request_currency"]]
            )
        if not (t.get("payment_request_amount") or t.get("mandate_request_currency")):
            raise validation(
                "payment_request_amount",
                "a template needs a payment request or a mandate request",
                pointer,
            )

    # ===== the visitor ===========================================================================
    def visit(self, template: dict[str, Any]) -> dict[str, Any]:
        """A visitor opens the template's link: a new billing request and a flow for it; returns the flow."""
        params: dict[str, Any] = {}
        if template.get("payment_request_amount"):
            params["payment_request"] = {
                "amount": minor_units(template["payment_request_amount"]),
                "currency": template["payment_request_currency"],
                "description": template.get("payment_request_description"),
                "scheme": template.get("payment_request_scheme"),
                "metadata": dict(template.get("payment_request_metadata") or {}),
            }
        if template.get("mandate_request_currency"):
            params["mandate_request"] = {
                "currency": template["mandate_request_currency"],
                "scheme": template.get("mandate_request_scheme") or "bacs",
                "description": template.get("mandate_request_description"),
                "verify": template.get("mandate_request_verify"),
                "metadata": dict(template.get("mandate_request_metadata") or {}),
            }
        br = self.billing_requests.create(params, origin="payer")
        br["_template"] = template["id"]
        flow = self.flows.create(
            {"redirect_uri": template.get("redirect_uri"), "links": {"billing_request": br["id"]}},
            origin="payer",
        )
        return flow
