"""Billing requests, their flows and what the payer does on the hosted page (a layer of ``resources.Api``).

Three kinds of request (NOTES.md §3, §11):

- **Mandate only** (``mandate_request``): the payer gives details and a bank account; fulfil creates the mandate.
- **Payment only** (``payment_request``, Instant Bank Pay; a payment link): the payer gives a name and an email
  when the request has no customer, then authorises the payment at their bank. Fulfil creates a customer when
  needed and a payment with scheme ``faster_payments`` (``sepa_credit_transfer`` for EUR) and no mandate.
- **Both** ("instant first payment with Direct Debit set-up"): one flow in which the payer sets up the mandate and
  authorises the first payment at their bank. A GBP payment request is instant (``faster_payments``) unless it
  names a Direct Debit scheme; other currencies have no instant scheme with a set-up, so their request is refused
  unless ``fallback_enabled``, which collects the payment by Direct Debit from the start.

An instant payment goes to ``Options.instant_payment_status_on_authorise`` at once (created → submitted →
confirmed events). When the payer's bank cannot pay instantly (``Options.instant_payments_available``, or the
``instant_available`` argument of ``authorise``), a request with a mandate request and ``fallback_enabled`` falls
back (``fallback_occurred``): its first payment is an ordinary Direct Debit payment on the new mandate, charged on
the mandate's next_possible_charge_date. Otherwise the payer cannot finish: ``bank_authorisation_failed``, and the
request stays pending.

The instant payment does **not** link back to its billing request (the payments fixture has no
``links.billing_request``): the billing request links to it (``links.payment_request_payment`` and
``payment_request.links.payment``), and so does its ``fulfilled`` event.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from . import scenarios
from .common import CREDITOR_ID, amount_param, currency_param, metadata_param, no_fx
from .state import invalid_state, public, validation
from .subscriptions import Subscriptions

INSTANT_SCHEMES = {"GBP": "faster_payments", "EUR": "sepa_credit_transfer"}
# The currencies (and their schemes) in which an instant first payment can come with a Direct Debit set-up.
DUAL_INSTANT_SCHEMES = {"GBP": "faster_payments"}


class BillingRequests(Subscriptions):
    # ===== billing requests ======================================================================
    def _section(self, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            return value
        return None if self.options.unrequested_sections == "null" else {}

    def create_billing_request(self, p: dict[str, Any], origin: str = "api") -> dict[str, Any]:
        meta = metadata_param(p)
        mr = p.get("mandate_request")
        pr = p.get("payment_request")
        if not mr and not pr:
            raise validation(
                "mandate_request", "a mandate_request or a payment_request is required", "/billing_requests"
            )
        fallback = p.get("fallback_enabled", False)
        if not isinstance(fallback, bool):
            raise validation(
                "fallback_enabled", "must be true or false", "/billing_requests/fallback_enabled"
            )
        links: dict[str, Any] = {"creditor": CREDITOR_ID}
        customer_id = (p.get("links") or {}).get("customer")
        if customer_id:
            if not self.store.find("customers", customer_id):
                raise validation("links[customer]", "was not found", "/billing_requests/links/customer")
            links["customer"] = customer_id
        mandate_request = None
        if mr:
            pointer = "/billing_requests/mandate_request"
            scheme = mr.get("scheme") or "bacs"
            currency = currency_param(mr, pointer)
            if scheme == "bacs" and currency != "GBP":
                raise validation("currency", "must be GBP for bacs", f"{pointer}/currency")
            mandate_request = {
                "scheme": scheme,
                "currency": currency,
                "verify": mr.get("verify") or "recommended",
                "authorisation_source": "web",
                "description": mr.get("description"),
                "metadata": metadata_param(mr, "mandate_request[metadata]"),
                "constraints": {},
                "links": {},
            }
            links["mandate_request"] = self.store.new_id("billing_requests").replace("BRQ", "MRQ")
        payment_request = None
        if pr:
            payment_request = self._payment_request(pr, mandate_request, fallback)
            links["payment_request"] = self.store.new_id("billing_requests").replace("BRQ", "PRQ")
        actions = []
        if not customer_id:
            requires = ["collect_bank_account"] if mandate_request else []
            actions.append(self._action("collect_customer_details", requires))
        if mandate_request:
            actions.append(self._action("collect_bank_account", []))
        actions.append(self._action("confirm_payer_details", []))
        if payment_request and payment_request["scheme"] in INSTANT_SCHEMES.values():
            # The payer authorises an instant payment at their bank; no account details are typed for it.
            actions.append(self._action("bank_authorisation", ["confirm_payer_details"]))
        br = self.store.add(
            "billing_requests",
            {
                "status": "pending",
                "actions": actions,
                "fallback_enabled": fallback,
                "fallback_occurred": False,
                "metadata": meta,
                "purpose_code": None,
                "mandate_request": self._section(mandate_request),
                "payment_request": self._section(payment_request),
                "subscription_request": self._section(None),
                "instalment_schedule_request": self._section(None),
                "resources": {},
                "links": links,
            },
        )
        self.store.emit(
            "billing_requests",
            "created",
            {"billing_request": br["id"], **({"customer": customer_id} if customer_id else {})},
            origin,
            "billing_request_created",
            "This billing request has been created.",
        )
        return br

    def _payment_request(
        self, pr: dict[str, Any], mandate_request: dict[str, Any] | None, fallback: bool
    ) -> dict[str, Any]:
        pointer = "/billing_requests/payment_request"
        currency = currency_param(pr, pointer)
        scheme = pr.get("scheme")
        if mandate_request is None:
            scheme = scheme or self.check_instant_currency(currency, pointer)
        elif scheme is None or scheme in INSTANT_SCHEMES.values():
            instant = DUAL_INSTANT_SCHEMES.get(currency)
            if instant is not None and scheme in (None, instant):
                scheme = instant
            elif fallback:  # no instant scheme: collected by Direct Debit on the new mandate from the start
                scheme = mandate_request["scheme"]
            else:
                raise validation(
                    "currency",
                    "an instant payment with a Direct Debit set-up must be in GBP (faster_payments); "
                    "set fallback_enabled to collect it by Direct Debit",
                    f"{pointer}/currency",
                )
        return {
            "amount": amount_param(pr, pointer=pointer),
            "currency": currency,
            "description": pr.get("description"),
            "reference": pr.get("reference"),
            "scheme": scheme,
            "app_fee": None,
            "funds_settlement": "managed",
            "metadata": metadata_param(pr, "payment_request[metadata]"),
            "links": {},
        }

    @staticmethod
    def _action(kind: str, requires: list[str]) -> dict[str, Any]:
        return {
            "type": kind,
            "required": True,
            "completes_actions": [],
            "requires_actions": requires,
            "status": "pending",
            "available_currencies": [],
        }

    @staticmethod
    def is_payment_only(br: dict[str, Any]) -> bool:
        """A payment link: a payment request and no mandate request (paid by bank, not Direct Debit)."""
        return bool(br.get("payment_request")) and not br.get("mandate_request")

    @staticmethod
    def pays_instantly(br: dict[str, Any]) -> bool:
        """The request's payment is an instant bank payment (the payer authorises it at their bank)."""
        pr = br.get("payment_request") or {}
        return pr.get("scheme") in INSTANT_SCHEMES.values()

    @staticmethod
    def check_instant_currency(currency: str, pointer: str) -> str:
        if currency not in INSTANT_SCHEMES:
            raise validation("currency", "must be GBP or EUR for a payment by bank", f"{pointer}/currency")
        return INSTANT_SCHEMES[currency]

    def action_billing_requests_cancel(self, br: dict[str, Any], data: dict[str, Any]) -> None:
        if br["status"] in ("fulfilled", "cancelled", "fulfilling"):
            raise invalid_state(
                "billing_request_already_" + br["status"], f"The billing request is {br['status']}"
            )
        br["status"] = "cancelled"
        self.store.emit(
            "billing_requests",
            "cancelled",
            {"billing_request": br["id"]},
            "api",
            "billing_request_cancelled",
            "This billing request has been cancelled.",
        )

    def action_billing_requests_fulfil(self, br: dict[str, Any], data: dict[str, Any]) -> None:
        if br["status"] != "ready_to_fulfil":
            raise invalid_state(
                "billing_request_not_ready_to_fulfil", f"The billing request is {br['status']}"
            )
        self.fulfil(br, origin="api")

    # ===== billing request flows =================================================================
    def create_flow(self, p: dict[str, Any], origin: str = "api") -> dict[str, Any]:
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

    def action_billing_request_flows_initialise(self, flow: dict[str, Any], data: dict[str, Any]) -> None:
        return None

    def flow_expired(self, flow: dict[str, Any]) -> bool:
        return self.store.now_iso() > flow["expires_at"]

    def visit_flow(self, flow: dict[str, Any]) -> None:
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

    # ===== the payer =============================================================================
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
        if self.flow_expired(flow):
            raise invalid_state("billing_request_flow_expired", "This link has expired")
        if br["status"] != "pending":
            raise invalid_state("billing_request_not_pending", f"The billing request is {br['status']}")
        self.visit_flow(flow)
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
        if self.pays_instantly(br):
            self._authorise_at_bank(br, instant_available)
        br["resources"] = {
            "customer": public(customer),
            "customer_bank_account": public(account) if account else {},
            "customer_billing_detail": {},
        }
        for action in br["actions"]:
            action["status"] = "completed"
        br["status"] = "ready_to_fulfil"
        br["_mandate_status"] = mandate_status or self.options.mandate_status_on_authorise
        br["_payment_status"] = payment_status or self.options.instant_payment_status_on_authorise
        if flow["auto_fulfil"]:
            self.fulfil(br, origin="gocardless")
        return br

    def _collect_customer(
        self, br: dict[str, Any], flow: dict[str, Any], form: dict[str, str]
    ) -> dict[str, Any]:
        """The request's customer, created from the form (or the flow's prefilled details) when it has none."""
        customer = self.store.find("customers", br["links"].get("customer"))
        if customer is not None:
            return customer
        pre = flow["prefilled_customer"]
        details = {f: form.get(f) or pre.get(f) for f in self.CUSTOMER_FIELDS}
        details["family_name"] = details["family_name"] or "Payer"
        customer = self.create_customer(details)
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
        account = self.add_bank_account(customer, holder, form.get("account_number", ""), currency)
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

    # ===== fulfil ================================================================================
    def fulfil(self, br: dict[str, Any], origin: str) -> None:
        links = br["links"]
        event_links = {"billing_request": br["id"], "customer": links["customer"]}
        if links.get("customer_bank_account"):
            event_links["customer_bank_account"] = links["customer_bank_account"]
        mandate = payment = None
        mr = br["mandate_request"]
        if mr:
            mandate = self.new_mandate(
                links["customer"], links["customer_bank_account"], mr["scheme"], mr["metadata"], emit=False
            )
            links["mandate_request_mandate"] = event_links["mandate_request_mandate"] = mandate["id"]
            mr["links"] = {**(mr.get("links") or {}), "mandate": mandate["id"]}
        pr = br["payment_request"]
        if pr:
            payment = self._first_payment(br, mandate)
            pr["links"] = {**(pr.get("links") or {}), "payment": payment["id"]}
            links["payment_request_payment"] = event_links["payment_request_payment"] = payment["id"]
        br["status"] = "fulfilled"
        self.store.emit(
            "billing_requests",
            "fulfilled",
            event_links,
            origin,
            "billing_request_fulfilled",
            "This billing request has been fulfilled, and the resources have been created.",
        )
        if mandate is not None:
            self.emit_mandate_created(mandate)
        if payment is not None:
            self.emit_payment_created(payment, "gocardless")
        payment_target = br.pop("_payment_status", self.options.instant_payment_status_on_authorise)
        if payment is not None and not payment["links"].get("mandate"):
            self.move_instant_payment(payment, payment_target)
        target = br.pop("_mandate_status", self.options.mandate_status_on_authorise)
        if mandate is not None and target != "pending_submission":
            scenarios.drive_mandate(self.as_api, mandate, target)

    def _first_payment(self, br: dict[str, Any], mandate: dict[str, Any] | None) -> dict[str, Any]:
        """The payment of the request's payment_request: instant, or by Direct Debit on the new mandate."""
        pr = br["payment_request"]
        if self.pays_instantly(br) and not br["fallback_occurred"]:
            return self.new_instant_payment(br)
        assert mandate is not None  # only a request with a mandate_request collects by Direct Debit
        return self.new_payment(
            mandate,
            pr["amount"],
            pr["currency"],
            pr.get("description"),
            None,
            dict(pr["metadata"]),
            "gocardless",
            emit=False,
        )

    def new_instant_payment(self, br: dict[str, Any]) -> dict[str, Any]:
        pr = br["payment_request"]
        return self.store.add(
            "payments",
            {
                "amount": pr["amount"],
                "amount_refunded": 0,
                "app_fee": None,
                "charge_date": self.store.clock.today().isoformat(),
                "currency": pr["currency"],
                "description": pr.get("description"),
                "faster_ach": False,
                "fx": no_fx(),
                "metadata": dict(pr["metadata"]),
                "reference": pr.get("reference"),
                "retry_if_possible": False,
                "scheme": pr["scheme"],
                "status": "pending_submission",
                "links": {"creditor": br["links"]["creditor"]},
                "_retries": 0,
            },
        )

    def move_instant_payment(self, payment: dict[str, Any], target: str) -> None:
        """Take a new instant payment to ``target``: pending_submission, submitted, confirmed or failed."""
        if target == "pending_submission":
            return
        if target == "submitted":
            scenarios.submit_payment(self.as_api, payment)
        elif target == "confirmed":
            scenarios.confirm_payment(self.as_api, payment)
        elif target == "failed":
            scenarios.fail_payment(self.as_api, payment)
        else:
            raise scenarios.ScenarioError(f"unsupported payment status {target!r}")
