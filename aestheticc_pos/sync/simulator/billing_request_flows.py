"""Billing request flows: the hosted page's link, and what the payer does there (a resource of ``api.Api``).

A flow is one link to a billing request's hosted page (``authorisation_url``, valid seven days). The payer's answers
on the page are ``authorise``: details, a bank account when a mandate is asked for, their bank's approval of an
instant payment; then the request is fulfilled (``billing_requests``) when the flow auto-fulfils.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from .billing_requests import BillingRequests, pays_instantly
from .common import Options, ScenarioError
from .customers import CUSTOMER_FIELDS, Customers
from .state import Store, invalid_state, public, validation


class BillingRequestFlows:
    def __init__(
        self,
        store: Store,
        options: Options,
        base_url: Callable[[], str],
        customers: Customers,
        billing_requests: BillingRequests,
    ) -> None:
        self.store = store
        self.options = options
        self.base_url = base_url
        self.customers = customers
        self.billing_requests = billing_requests

    # ===== the API ===============================================================================
    def create(self, p: dict[str, Any], origin: str = "api") -> dict[str, Any]:
        br_id = (p.get("links") or {}).get("billing_request")
        br = self.store.find("billing_requests", br_id)
        if br is None:
            raise validation(
                "links[billing_request]", "was not found", "/billing_request_flows/links/billing_request"
            )
        if br["status"] != "pending":
            raise invalid_state("billing_request_not_pending", f"The billing request is {br['status']}")
        flow_id = self.store.new_id("billing_request_flows")
        expires = self.store.clock.now() + timedelta(days=7)
        flow = self.store.add(
            "billing_request_flows",
            {
                "id": flow_id,
                "authorisation_url": f"{self.base_url()}/flow/{flow_id}",
                "auto_fulfil": p.get("auto_fulfil", True) is not False,
                "redirect_uri": p.get("redirect_uri"),
                "exit_uri": p.get("exit_uri"),
                "expires_at": self.store.clock.iso(expires),
                "language": p.get("language") or "en",
                "lock_bank_account": bool(p.get("lock_bank_account")),
                "lock_currency": bool(p.get("lock_currency")),
                "lock_customer_details": bool(p.get("lock_customer_details")),
                "customer_details_captured": "customer" in br["links"],
                "prefilled_customer": dict(p.get("prefilled_customer") or {}),
                "prefilled_bank_account": dict(p.get("prefilled_bank_account") or {}),
                "session_token": p.get("session_token"),
                "show_redirect_buttons": bool(p.get("show_redirect_buttons")),
                "show_success_redirect_button": bool(p.get("show_success_redirect_button")),
                "skip_success_screen": bool(p.get("skip_success_screen")),
                "links": {"billing_request": br["id"]},
                "_visited": False,
            },
        )
        self.store.emit(
            "billing_requests",
            "flow_created",
            {"billing_request": br["id"], "billing_request_flow": flow_id},
            origin,
            "billing_request_flow_created",
            "A billing request flow has been created.",
        )
        return flow

    def action_initialise(self, flow: dict[str, Any], data: dict[str, Any]) -> None:
        """A fresh session token for integrations that drive the flow themselves."""
        flow["session_token"] = "sesh_" + uuid.uuid4().hex

    def expired(self, flow: dict[str, Any]) -> bool:
        return self.store.now_iso() > flow["expires_at"]

    def visit(self, flow: dict[str, Any]) -> None:
        if not flow["_visited"]:
            flow["_visited"] = True
            self.store.emit(
                "billing_requests",
                "flow_visited",
                {"billing_request": flow["links"]["billing_request"], "billing_request_flow": flow["id"]},
                "payer",
                "billing_request_flow_visited",
                "The payer visited the billing request flow.",
            )

    # ===== the payer on the flow's page ==========================================================
    def authorise(
        self,
        flow: dict[str, Any],
        form: dict[str, str],
        mandate_status: str | None = None,
        payment_status: str | None = None,
        instant_available: bool | None = None,
    ) -> dict[str, Any]:
        """What the payer does on the hosted page: their details, a bank account for a mandate, confirm, authorise
        an instant payment at their bank; then fulfil (when the flow auto-fulfils).

        ``instant_available`` says whether the payer's bank can pay instantly (None: the option). Raises
        ``SimApiError`` when the payer cannot finish; details already given stay on the request.
        """
        br = self.store.get("billing_requests", flow["links"]["billing_request"])
        if self.expired(flow):
            raise invalid_state("billing_request_flow_expired", "This link has expired")
        if br["status"] != "pending":
            raise invalid_state("billing_request_not_pending", f"The billing request is {br['status']}")
        self.visit(flow)
        br_link = {"billing_request": br["id"]}
        customer = self._collect_customer(br, flow, form)
        account = self._collect_bank_account(br, customer, form) if br["mandate_request"] else None
        self.store.emit(
            "billing_requests",
            "payer_details_confirmed",
            br_link,
            "payer",
            "billing_request_payer_details_confirmed",
            "Payer has confirmed all their details for this billing request.",
        )
        if pays_instantly(br):
            self._authorise_at_bank(br, instant_available)
        person, billing_detail = self.customers.billing_view(customer)
        br["resources"] = {
            "customer": person,
            "customer_bank_account": public(account) if account else None,
            "customer_billing_detail": billing_detail,
        }
        for action in br["actions"]:
            action["status"] = "completed"
        br["status"] = "ready_to_fulfil"
        br["_mandate_status"] = mandate_status or self.options.mandate_status_on_authorise
        br["_payment_status"] = payment_status or self.options.instant_payment_status_on_authorise
        if flow["auto_fulfil"]:
            self.billing_requests.fulfil(br, origin="gocardless")
        return br

    def _collect_customer(
        self, br: dict[str, Any], flow: dict[str, Any], form: dict[str, str]
    ) -> dict[str, Any]:
        """The request's customer, created from the form (or the flow's prefilled details) when it has none."""
        customer = self.store.find("customers", br["links"].get("customer"))
        if customer is not None:
            return customer
        pre = flow["prefilled_customer"]
        details = {f: form.get(f) or pre.get(f) for f in CUSTOMER_FIELDS}
        details["family_name"] = details["family_name"] or "Payer"
        customer = self.customers.create(details)
        br["links"]["customer"] = customer["id"]
        self.store.emit(
            "billing_requests",
            "collect_customer_details",
            {"billing_request": br["id"], "customer": customer["id"]},
            "payer",
            "billing_request_collect_customer_details",
            "Customer details have been collected for this billing request.",
        )
        return customer

    def _collect_bank_account(
        self, br: dict[str, Any], customer: dict[str, Any], form: dict[str, str]
    ) -> dict[str, Any]:
        """The account the mandate will debit; one given on an earlier, unfinished attempt is kept."""
        account = self.store.find("customer_bank_accounts", br["links"].get("customer_bank_account"))
        if account is not None:
            return account
        holder = form.get("account_holder_name") or " ".join(
            x for x in (customer.get("given_name"), customer.get("family_name")) if x
        )
        currency = br["mandate_request"]["currency"]
        account = self.customers.add_bank_account(customer, holder, form.get("account_number", ""), currency)
        br["links"]["customer_bank_account"] = account["id"]
        self.store.emit(
            "billing_requests",
            "collect_bank_account",
            {"billing_request": br["id"], "customer_bank_account": account["id"]},
            "payer",
            "billing_request_collect_bank_account",
            "Bank account details have been collected for this billing request.",
        )
        return account

    def _authorise_at_bank(self, br: dict[str, Any], instant_available: bool | None) -> None:
        """The payer approves the instant payment in their bank, or falls back to Direct Debit, or cannot pay."""
        available = (
            self.options.instant_payments_available if instant_available is None else instant_available
        )
        br_link = {"billing_request": br["id"]}
        if available:
            self.store.emit(
                "billing_requests",
                "bank_authorisation_authorised",
                br_link,
                "payer",
                "billing_request_bank_authorisation_authorised",
                "A bank authorisation for this billing request has been authorised by the payer.",
            )
        elif br["mandate_request"] and br["fallback_enabled"]:
            br["fallback_occurred"] = True  # fulfil collects the payment by Direct Debit on the new mandate
        else:
            self.store.emit(
                "billing_requests",
                "bank_authorisation_failed",
                br_link,
                "payer",
                "billing_request_bank_authorisation_failed",
                "A bank authorisation for this billing request has failed.",
            )
            raise invalid_state("bank_authorisation_failed", "The payer's bank could not make this payment")

    def exit(self, flow: dict[str, Any]) -> None:
        """The payer left the hosted page without finishing; the request stays pending (the link still works)."""
        br = self.store.get("billing_requests", flow["links"]["billing_request"])
        if br["status"] != "pending":
            raise ScenarioError(f"cannot exit {flow['id']}: its billing request is {br['status']}")
        self.visit(flow)
        self.store.emit(
            "billing_requests",
            "flow_exited",
            {"billing_request": br["id"], "billing_request_flow": flow["id"]},
            "payer",
            "billing_request_flow_exited",
            "The billing request flow has been exited by the payer.",
        )

    def deny_bank_authorisation(self, flow: dict[str, Any]) -> None:
        """The payer refused the instant payment in their bank's app; the request stays pending."""
        br = self.store.get("billing_requests", flow["links"]["billing_request"])
        if br["status"] != "pending" or not pays_instantly(br):
            raise ScenarioError(f"cannot deny a bank authorisation on {flow['id']}: nothing to authorise")
        self.visit(flow)
        self.store.emit(
            "billing_requests",
            "bank_authorisation_denied",
            {"billing_request": br["id"]},
            "payer",
            "billing_request_bank_authorisation_denied",
            "A bank authorisation for this billing request has been denied by the payer.",
        )

    # ===== what GoCardless does ==================================================================
    def expire(self, flow: dict[str, Any]) -> None:
        """Only this link stops working; its billing request stays pending, so a new flow can be sent for it.

        GoCardless sends no event when a flow expires.
        """
        past = self.store.clock.iso(self.store.clock.now() - timedelta(seconds=1))
        flow["expires_at"] = min(flow["expires_at"], past)
