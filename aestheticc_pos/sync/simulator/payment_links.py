"""Payment links: billing requests with a ``payment_request`` (Instant Bank Pay) and billing request templates.

A mixin of ``resources.Api`` (it uses the store, ``create_customer``, ``create_billing_request``, ``create_flow``
and ``fulfil`` from there).

- A payment-only billing request (no ``mandate_request``) is paid on its hosted page: the payer gives a name
  and an email when the request has no customer, then "pays by bank". The request is fulfilled at once: a
  customer when needed, a payment with scheme ``faster_payments`` and no mandate, and the events
  billing_requests ``collect_customer_details`` / ``payer_details_confirmed`` / ``bank_authorisation_authorised``
  / ``fulfilled`` (links ``payment_request_payment``), payments ``created`` → ``submitted`` → ``confirmed``
  (``Options.instant_payment_status_on_authorise`` decides how far the payment goes on its own; the scenario
  controls move it on from there).
- The payment does **not** link back to its billing request: the payments fixture has no ``links.billing_request``.
  The billing request links to the payment (``links.payment_request_payment`` and ``payment_request.links.payment``),
  and so does its ``fulfilled`` event.
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
from datetime import timedelta
from decimal import Decimal
from typing import Any

from .state import SimApiError, invalid_state, public, validation

INSTANT_SCHEMES = {"GBP": "faster_payments", "EUR": "sepa_credit_transfer"}
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


class PaymentLinks:
    """Instant Bank Pay billing requests and billing request templates (mixed into ``resources.Api``)."""

    store: Any
    options: Any

    # ===== instant payments ======================================================================
    @staticmethod
    def is_instant(br: dict[str, Any]) -> bool:
        """A billing request for a payment only (no mandate): paid by bank transfer, not Direct Debit."""
        return bool(br.get("payment_request")) and not br.get("mandate_request")

    def new_instant_payment(self, br: dict[str, Any]) -> dict[str, Any]:
        pr = br["payment_request"]
        today = self.store.clock.today()
        return self.store.add(
            "payments",
            {
                "amount": pr["amount"],
                "amount_refunded": 0,
                "app_fee": None,
                "charge_date": today.isoformat(),
                "currency": pr["currency"],
                "description": pr.get("description"),
                "faster_ach": False,
                "fx": {
                    "estimated_exchange_rate": None,
                    "exchange_rate": None,
                    "fx_amount": None,
                    "fx_currency": None,
                },
                "metadata": dict(pr.get("metadata") or {}),
                "reference": pr.get("reference"),
                "retry_if_possible": False,
                "scheme": pr["scheme"],
                "status": "pending_submission",
                "links": {"creditor": br["links"]["creditor"]},
                "_retries": 0,
            },
        )

    def pay_by_bank(
        self, flow: dict[str, Any], br: dict[str, Any], form: dict[str, str], payment_status: str | None
    ) -> dict[str, Any]:
        """The payer completes a payment-only flow: details if needed, authorises at the bank; then fulfil."""
        links = br["links"]
        br_link = {"billing_request": br["id"]}
        customer = self.store.find("customers", links.get("customer"))
        if customer is None:
            pre = flow["prefilled_customer"]
            details = {f: form.get(f) or pre.get(f) for f in self.CUSTOMER_FIELDS}  # type: ignore[attr-defined]
            details["family_name"] = details["family_name"] or "Payer"
            customer = self.create_customer(details)  # type: ignore[attr-defined]
            links["customer"] = customer["id"]
            self.store.emit(
                "billing_requests",
                "collect_customer_details",
                {**br_link, "customer": customer["id"]},
                "payer",
                "billing_request_collect_customer_details",
                "Customer details have been collected for this billing request.",
            )
        self.store.emit(
            "billing_requests",
            "payer_details_confirmed",
            br_link,
            "payer",
            "billing_request_payer_details_confirmed",
            "Payer has confirmed all their details for this billing request.",
        )
        self.store.emit(
            "billing_requests",
            "bank_authorisation_authorised",
            br_link,
            "payer",
            "billing_request_bank_authorisation_authorised",
            "A bank authorisation for this billing request has been authorised by the payer.",
        )
        br["resources"] = {
            "customer": public(customer),
            "customer_bank_account": {},
            "customer_billing_detail": {},
        }
        for action in br["actions"]:
            action["status"] = "completed"
        br["status"] = "ready_to_fulfil"
        br["_payment_status"] = payment_status or self.options.instant_payment_status_on_authorise
        if flow["auto_fulfil"]:
            self.fulfil(br, origin="gocardless")  # type: ignore[attr-defined]
        return br

    def move_instant_payment(self, payment: dict[str, Any], target: str) -> None:
        """Take a new instant payment to ``target``: pending_submission, submitted, confirmed or failed."""
        from . import scenarios

        if target == "pending_submission":
            return
        if target == "submitted":
            scenarios.submit_payment(self, payment)  # type: ignore[arg-type]
        elif target == "confirmed":
            scenarios.confirm_payment(self, payment)  # type: ignore[arg-type]
        elif target == "failed":
            scenarios.fail_payment(self, payment)  # type: ignore[arg-type]
        else:
            raise scenarios.ScenarioError(f"unsupported payment status {target!r}")

    # ===== templates =============================================================================
    def create_template(self, p: dict[str, Any]) -> dict[str, Any]:
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
        self._apply_template_fields(template, p, creating=True)
        template_id = self.store.new_id("billing_request_templates")
        template["id"] = template_id
        template["authorisation_url"] = f"{self.base_url()}/template/{template_id}"  # type: ignore[attr-defined]
        template["updated_at"] = self.store.now_iso()
        return self.store.add("billing_request_templates", template)

    def update_template(self, template_id: str, p: dict[str, Any]) -> dict[str, Any]:
        template = self.store.get("billing_request_templates", template_id)
        updated = dict(template)
        self._apply_template_fields(updated, p, creating=False)
        template.update(updated)
        template["updated_at"] = self.store.now_iso()
        return template

    def _apply_template_fields(self, t: dict[str, Any], p: dict[str, Any], creating: bool) -> None:
        from .resources import CURRENCIES, _metadata

        pointer = "/billing_request_templates"
        if "name" in p or creating:
            name = p.get("name")
            if not isinstance(name, str) or not name.strip() or len(name) > 255:
                raise validation("name", "must be given, at most 255 characters", f"{pointer}/name")
            t["name"] = name
        if "metadata" in p:
            t["metadata"] = _metadata(p)
        for field in ("payment_request_metadata", "mandate_request_metadata"):
            if field in p:
                t[field] = _metadata({"metadata": p[field]}, field)
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

    def visit_template(self, template: dict[str, Any]) -> dict[str, Any]:
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
        br = self.create_billing_request(params, origin="payer")  # type: ignore[attr-defined]
        br["_template"] = template["id"]
        flow = self.create_flow(  # type: ignore[attr-defined]
            {"redirect_uri": template.get("redirect_uri"), "links": {"billing_request": br["id"]}},
            origin="payer",
        )
        return flow

    # ===== cancel and expire =====================================================================
    def expire_billing_request(self, br: dict[str, Any]) -> None:
        """The payer never paid and the link lapsed: its flows stop working and GoCardless cancels it.

        GoCardless has no "expired" status or event for billing requests; the simulator reports a lapsed one
        as ``cancelled`` with origin ``gocardless`` (a cancel by the app has origin ``api``).
        """
        if br["status"] not in ("pending", "ready_to_fulfil"):
            raise invalid_state("billing_request_not_pending", f"The billing request is {br['status']}")
        self.expire_flows(br)
        br["status"] = "cancelled"
        self.store.emit(
            "billing_requests",
            "cancelled",
            {"billing_request": br["id"]},
            "gocardless",
            "billing_request_cancelled",
            "This billing request expired before the payer completed it, so it has been cancelled.",
        )

    def expire_flows(self, br: dict[str, Any]) -> list[str]:
        """Every flow of ``br`` stops working (its page answers "Link expired"); returns their ids."""
        past = self.store.clock.iso(self.store.clock.now() - timedelta(seconds=1))
        expired = []
        for flow in self.store.resources["billing_request_flows"].values():
            if flow["links"]["billing_request"] == br["id"] and flow["expires_at"] > past:
                flow["expires_at"] = past
                expired.append(flow["id"])
        return expired

    @staticmethod
    def check_instant_currency(currency: str, pointer: str) -> str:
        if currency not in INSTANT_SCHEMES:
            raise SimApiError(
                422,
                "validation_failed",
                "Validation failed",
                errors=[
                    {
                        "field": "currency",
                        "message": "must be GBP or EUR for a payment by bank",
                        "request_pointer": f"{pointer}/currency",
                    }
                ],
            )
        return INSTANT_SCHEMES[currency]
