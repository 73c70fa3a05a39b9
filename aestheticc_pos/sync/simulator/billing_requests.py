"""Billing requests: creating, fulfilling and lapsing them (a resource of ``api.Api``, see ``common``). Their flows
and what the payer does on the hosted page are ``billing_request_flows``.

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

from .common import (
    CREDITOR_ID,
    Options,
    ScenarioError,
    amount_param,
    currency_param,
    metadata_param,
    no_fx,
    require,
)
from .mandates import Mandates
from .payments import Payments
from .state import Store, invalid_state, validation

INSTANT_SCHEMES = {"GBP": "faster_payments", "EUR": "sepa_credit_transfer"}
# The currencies (and their schemes) in which an instant first payment can come with a Direct Debit set-up.
DUAL_INSTANT_SCHEMES = {"GBP": "faster_payments"}


def is_payment_only(br: dict[str, Any]) -> bool:
    """A payment link: a payment request and no mandate request (paid by bank, not Direct Debit)."""
    return bool(br.get("payment_request")) and not br.get("mandate_request")


def pays_instantly(br: dict[str, Any]) -> bool:
    """The request's payment is an instant bank payment (the payer authorises it at their bank)."""
    pr = br.get("payment_request") or {}
    return pr.get("scheme") in INSTANT_SCHEMES.values()


def instant_scheme(currency: str, pointer: str) -> str:
    """The instant scheme a payment by bank in ``currency`` uses; refused for a currency that has none."""
    if currency not in INSTANT_SCHEMES:
        raise validation("currency", "must be GBP or EUR for a payment by bank", f"{pointer}/currency")
    return INSTANT_SCHEMES[currency]


class BillingRequests:
    def __init__(self, store: Store, options: Options, mandates: Mandates, payments: Payments) -> None:
        self.store = store
        self.options = options
        self.mandates = mandates
        self.payments = payments

    # ===== the API ===============================================================================
    def _section(self, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            return value
        return None if self.options.unrequested_sections == "null" else {}

    def create(self, p: dict[str, Any], origin: str = "api") -> dict[str, Any]:
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
                "consent_type": None,
                "description": mr.get("description"),
                "funds_settlement": "managed",
                "payer_requested_dual_signature": False,
                "sweeping": False,
                "metadata": metadata_param(mr, "mandate_request[metadata]"),
                "constraints": None,
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
                "payment_context_code": None,
                "payment_purpose_code": None,
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
            scheme = scheme or instant_scheme(currency, pointer)
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

    def action_cancel(self, br: dict[str, Any], data: dict[str, Any]) -> None:
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

    def action_fulfil(self, br: dict[str, Any], data: dict[str, Any]) -> None:
        if br["status"] != "ready_to_fulfil":
            raise invalid_state(
                "billing_request_not_ready_to_fulfil", f"The billing request is {br['status']}"
            )
        self.fulfil(br, origin="api")

    # ===== fulfil (the payer has given all that was asked) ============================================
    def fulfil(self, br: dict[str, Any], origin: str) -> None:
        links = br["links"]
        event_links = {"billing_request": br["id"], "customer": links["customer"]}
        if links.get("customer_bank_account"):
            event_links["customer_bank_account"] = links["customer_bank_account"]
        mandate = payment = None
        mr = br["mandate_request"]
        if mr:
            mandate = self.mandates.new(
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
            self.mandates.emit_created(mandate)
        if payment is not None:
            self.payments.emit_created(payment, "gocardless")
        payment_target = br.pop("_payment_status", self.options.instant_payment_status_on_authorise)
        if payment is not None and not payment["links"].get("mandate"):
            self.move_instant_payment(payment, payment_target)
        target = br.pop("_mandate_status", self.options.mandate_status_on_authorise)
        if mandate is not None and target != "pending_submission":
            self.mandates.drive(mandate, target)

    def _first_payment(self, br: dict[str, Any], mandate: dict[str, Any] | None) -> dict[str, Any]:
        """The payment of the request's payment_request: instant, or by Direct Debit on the new mandate."""
        pr = br["payment_request"]
        if pays_instantly(br) and not br["fallback_occurred"]:
            return self.new_instant_payment(br)
        assert mandate is not None  # only a request with a mandate_request collects by Direct Debit
        return self.payments.new(
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
            self.payments.submit(payment)
        elif target == "confirmed":
            self.payments.confirm(payment)
        elif target == "failed":
            self.payments.fail(payment)
        else:
            raise ScenarioError(f"unsupported payment status {target!r}")

    # ===== what GoCardless does ==================================================================
    def expire(self, br: dict[str, Any]) -> None:
        """The payer never paid and the link lapsed: its flows stop working and GoCardless cancels it.

        GoCardless has no "expired" status or event for billing requests; the simulator reports a lapsed one
        as ``cancelled`` with origin ``gocardless`` (a cancel by the app has origin ``api``).
        """
        require(br, {"pending", "ready_to_fulfil"}, "expire")
        self._expire_flows(br)
        br["status"] = "cancelled"
        self.store.emit(
            "billing_requests",
            "cancelled",
            {"billing_request": br["id"]},
            "gocardless",
            "billing_request_cancelled",
            "This billing request expired before the payer completed it, so it has been cancelled.",
        )

    def fail(self, br: dict[str, Any]) -> None:
        """GoCardless could not complete the request: its links stop working. Billing requests have no "failed"
        status, so its status is left as it was; only the ``failed`` event says so."""
        require(br, {"pending", "ready_to_fulfil"}, "fail")
        self._expire_flows(br)
        self.store.emit(
            "billing_requests",
            "failed",
            {"billing_request": br["id"]},
            "gocardless",
            "billing_request_failed",
            "This billing request has failed.",
        )

    def _expire_flows(self, br: dict[str, Any]) -> None:
        """Every flow of ``br`` stops working (its page answers "Link expired")."""
        past = self.store.clock.iso(self.store.clock.now() - timedelta(seconds=1))
        for flow in self.store.resources["billing_request_flows"].values():
            if flow["links"]["billing_request"] == br["id"] and flow["expires_at"] > past:
                flow["expires_at"] = past
