"""The API subset: one handler per endpoint, operating on the store under its lock.

Every handler returns ``(status, body)``; API errors are raised as ``SimApiError``.
Bodies use GoCardless's envelopes: ``{"<plural>": {...}}`` for one resource and
``{"<plural>": [...], "meta": {...}}`` for lists.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

from .clock import add_working_days
from .payment_links import PaymentLinks
from .state import SimApiError, Store, invalid_state, paginate, public, validation

CREDITOR_ID = "CR000SIMULATOR"
CURRENCIES = {"AUD", "CAD", "DKK", "EUR", "GBP", "NZD", "SEK", "USD"}
INACTIVE_MANDATE = {"failed", "cancelled", "expired", "consumed", "blocked"}
MAX_AMENDMENTS = 10
MAX_RETRIES = 3
MAX_REFUNDS = 5
MONTHS = [m.lower() for m in calendar.month_name]

Result = tuple[int, dict[str, Any] | None]


class Options:
    """Behaviour switches for the simulator."""

    def __init__(self) -> None:
        # Status a mandate gets when the payer completes the hosted page.
        self.mandate_status_on_authorise = "pending_submission"
        # "object": unrequested sections of a billing request are sent as {} (safe for the client's
        # wrappers); "null": sent as null, as the real API very likely does.
        self.unrequested_sections = "object"
        # Working days between today and a new mandate's next_possible_charge_date.
        self.mandate_lead_days = 4
        # Status a payment by bank (a payment-only billing request) reaches on its own once the payer has
        # authorised it: "pending_submission", "submitted", "confirmed" (money collected; the default, as
        # Instant Bank Pay settles within moments) or "failed". Scenario controls move it on from there.
        self.instant_payment_status_on_authorise = "confirmed"


# ----- small helpers ----------------------------------------------------------------------------
def _params(body: Any, key: str) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise SimApiError(
            400,
            "invalid_api_usage",
            "Request body must be a JSON object",
            reason="invalid_document_structure",
        )
    inner = body.get(key, {})
    if inner is None:
        return {}
    if not isinstance(inner, dict):
        raise SimApiError(
            400, "invalid_api_usage", f"{key} must be an object", reason="invalid_document_structure"
        )
    return inner


def _metadata(params: dict[str, Any], field: str = "metadata") -> dict[str, str]:
    meta = params.get("metadata") or {}
    if not isinstance(meta, dict) or len(meta) > 3:
        raise validation(field, "must be an object with at most 3 keys")
    for k, v in meta.items():
        if len(str(k)) > 50 or not isinstance(v, str) or len(v) > 500:
            raise validation(
                f"{field}[{k}]", "keys are at most 50 characters and values strings of at most 500"
            )
    return dict(meta)


def _amount(params: dict[str, Any], field: str = "amount", pointer: str = "") -> int:
    value = params.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise validation(field, "must be a positive integer (minor units)", f"{pointer}/{field}")
    return value


def _currency(params: dict[str, Any], pointer: str = "") -> str:
    value = params.get("currency")
    if value not in CURRENCIES:
        raise validation("currency", "is not a supported currency", f"{pointer}/currency")
    return value


def _date(value: Any, field: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise validation(field, "must be a date (YYYY-MM-DD)") from None


def _month_day(year: int, month: int, day: int) -> date:
    last = calendar.monthrange(year, month)[1]
    return date(year, month, last if day == -1 else min(day, last))


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


def charge_dates(sub: dict[str, Any]) -> Iterator[date]:
    """All charge dates of a subscription, in order (finite if count or end_date is set)."""
    start = date.fromisoformat(sub["start_date"])
    end = date.fromisoformat(sub["end_date"]) if sub.get("end_date") else None
    count = sub.get("count")
    interval = sub.get("interval") or 1
    unit = sub["interval_unit"]
    dom = sub.get("day_of_month")
    produced = 0
    k = 0
    while True:
        if unit == "weekly":
            current = start + timedelta(weeks=interval * k)
        elif unit == "monthly":
            y, m = _add_months(start.year, start.month, interval * k)
            current = _month_day(y, m, dom if dom else start.day)
        else:  # yearly
            month = MONTHS.index(sub["month"]) if sub.get("month") else start.month
            current = _month_day(start.year + interval * k, month, dom if dom else start.day)
        k += 1
        if current < start:
            continue
        if (end and current > end) or (count and produced >= count):
            return
        produced += 1
        yield current
        if k > 12 * 100:
            return


class Api(PaymentLinks):
    def __init__(self, store: Store, options: Options, base_url: Callable[[], str]) -> None:
        self.store = store
        self.options = options
        self.base_url = base_url

    # ===== routing ===============================================================================
    def handle(
        self, method: str, parts: list[str], query: dict[str, str], body: Any, idem_key: str | None
    ) -> Result:
        if not parts:
            raise SimApiError(404, "invalid_api_usage", "Not found", reason="path_not_found")
        kind = parts[0]
        routes = {
            "customers": ("customers", self.create_customer),
            "customer_bank_accounts": ("customer_bank_accounts", None),
            "billing_requests": ("billing_requests", self.create_billing_request),
            "billing_request_flows": ("billing_request_flows", self.create_flow),
            "billing_request_templates": ("billing_request_templates", self.create_template),
            "mandates": ("mandates", None),
            "subscriptions": ("subscriptions", self.create_subscription),
            "payments": ("payments", self.create_payment),
            "refunds": ("refunds", self.create_refund),
            "events": ("events", None),
        }
        if kind not in routes:
            raise SimApiError(404, "invalid_api_usage", "Not found", reason="path_not_found")
        _, create = routes[kind]
        if len(parts) == 1:
            if method == "GET" and kind != "billing_request_flows":
                return 200, paginate(kind, list(self.store.resources[kind].values()), query)
            if method == "POST" and create is not None:
                return self._create(kind, create, body, idem_key)
        elif len(parts) == 2:
            if method == "GET" and kind != "billing_request_flows":
                return 200, {kind: public(self.store.get(kind, parts[1]))}
            if method == "PUT" and kind == "billing_request_templates":
                return 200, {kind: public(self.update_template(parts[1], _params(body, kind)))}
            if method == "PUT" and kind in ("customers", "mandates", "payments", "refunds", "subscriptions"):
                return self.update(kind, parts[1], _params(body, kind))
        elif len(parts) == 4 and parts[2] == "actions" and method == "POST":
            action = getattr(self, f"action_{kind}_{parts[3]}", None)
            if action is not None:
                resource = self.store.get(kind, parts[1])
                data = _params(body, "data")
                action(resource, data)
                return 200, {kind: public(resource)}
        raise SimApiError(404, "invalid_api_usage", "Not found", reason="path_not_found")

    def _create(
        self, kind: str, create: Callable[[dict[str, Any]], dict[str, Any]], body: Any, key: str | None
    ) -> Result:
        if key:
            existing = self.store.idempotency.get((kind, key))
            if existing:
                raise SimApiError(
                    409,
                    "invalid_state",
                    "A resource has already been created with this idempotency key",
                    errors=[
                        {
                            "reason": "idempotent_creation_conflict",
                            "message": "A resource has already been created with this idempotency key",
                            "links": {"conflicting_resource_id": existing},
                        }
                    ],
                )
        resource = create(_params(body, kind))
        if key:
            self.store.idempotency[(kind, key)] = resource["id"]
        return 201, {kind: public(resource)}

    # ===== customers =============================================================================
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

    def create_customer(self, p: dict[str, Any]) -> dict[str, Any]:
        meta = _metadata(p)
        if not (p.get("email") or p.get("family_name") or p.get("company_name")):
            raise validation("family_name", "must be provided (or company_name)", "/customers/family_name")
        customer = {f: p.get(f) for f in self.CUSTOMER_FIELDS}
        customer["language"] = customer["language"] or "en"
        customer["metadata"] = meta
        return self.store.add("customers", customer)

    def update(self, kind: str, ident: str, p: dict[str, Any]) -> Result:
        resource = self.store.get(kind, ident)
        if "metadata" in p:
            resource["metadata"] = _metadata(p)
        if kind == "customers":
            for f in self.CUSTOMER_FIELDS:
                if f in p:
                    resource[f] = p[f]
        if kind == "subscriptions":
            self.amend_subscription(resource, p)
        return 200, {kind: public(resource)}

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

    # ===== billing requests ======================================================================
    def _section(self, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            return value
        return None if self.options.unrequested_sections == "null" else {}

    def create_billing_request(self, p: dict[str, Any], origin: str = "api") -> dict[str, Any]:
        meta = _metadata(p)
        mr = p.get("mandate_request")
        pr = p.get("payment_request")
        if not mr and not pr:
            raise validation(
                "mandate_request", "a mandate_request or a payment_request is required", "/billing_requests"
            )
        links: dict[str, Any] = {"creditor": CREDITOR_ID}
        customer_id = (p.get("links") or {}).get("customer")
        if customer_id:
            if not self.store.find("customers", customer_id):
                raise validation("links[customer]", "was not found", "/billing_requests/links/customer")
            links["customer"] = customer_id
        mandate_request = None
        if mr:
            scheme = mr.get("scheme") or "bacs"
            currency = _currency(mr, "/billing_requests/mandate_request")
            if scheme == "bacs" and currency != "GBP":
                raise validation(
                    "currency", "must be GBP for bacs", "/billing_requests/mandate_request/currency"
                )
            mandate_request = {
                "scheme": scheme,
                "currency": currency,
                "verify": mr.get("verify") or "recommended",
                "authorisation_source": "web",
                "description": mr.get("description"),
                "metadata": mr.get("metadata") or {},
                "constraints": {},
                "links": {},
            }
            links["mandate_request"] = self.store.new_id("billing_requests").replace("BRQ", "MRQ")
        payment_request = None
        if pr:
            pointer = "/billing_requests/payment_request"
            currency = _currency(pr, pointer)
            if mandate_request:
                scheme = pr.get("scheme") or mandate_request["scheme"]
            else:
                scheme = pr.get("scheme") or self.check_instant_currency(currency, pointer)
            payment_request = {
                "amount": _amount(pr, pointer=pointer),
                "currency": currency,
                "description": pr.get("description"),
                "reference": pr.get("reference"),
                "scheme": scheme,
                "app_fee": None,
                "funds_settlement": "managed",
                "metadata": _metadata(pr, "payment_request[metadata]"),
                "links": {},
            }
            links["payment_request"] = self.store.new_id("billing_requests").replace("BRQ", "PRQ")
        actions = []
        if mandate_request:
            if not customer_id:
                actions.append(self._action("collect_customer_details", ["collect_bank_account"]))
            actions.append(self._action("collect_bank_account", []))
            actions.append(self._action("confirm_payer_details", []))
        else:  # a payment by bank: the payer authorises it at their bank, no account details are typed
            if not customer_id:
                actions.append(self._action("collect_customer_details", []))
            actions.append(self._action("confirm_payer_details", []))
            actions.append(self._action("bank_authorisation", ["confirm_payer_details"]))
        br = self.store.add(
            "billing_requests",
            {
                "status": "pending",
                "actions": actions,
                "fallback_enabled": False,
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

    def authorise(
        self,
        flow: dict[str, Any],
        form: dict[str, str],
        mandate_status: str | None = None,
        payment_status: str | None = None,
    ) -> dict[str, Any]:
        """What the payer does on the hosted page: details, bank account, confirm; then fulfil.

        A payment-only billing request is paid by bank instead (``pay_by_bank``), with no bank details typed.
        """
        br = self.store.get("billing_requests", flow["links"]["billing_request"])
        if self.flow_expired(flow):
            raise invalid_state("billing_request_flow_expired", "This link has expired")
        if br["status"] != "pending":
            raise invalid_state("billing_request_not_pending", f"The billing request is {br['status']}")
        self.visit_flow(flow)
        if self.is_instant(br):
            return self.pay_by_bank(flow, br, form, payment_status)
        pre = flow["prefilled_customer"]
        links = br["links"]
        br_link = {"billing_request": br["id"]}
        customer = self.store.find("customers", links.get("customer"))
        if customer is None:
            details = {f: form.get(f) or pre.get(f) for f in self.CUSTOMER_FIELDS}
            details["family_name"] = details["family_name"] or "Payer"
            customer = self.create_customer(details)
            links["customer"] = customer["id"]
            self.store.emit(
                "billing_requests",
                "collect_customer_details",
                {**br_link, "customer": customer["id"]},
                "payer",
                "billing_request_collect_customer_details",
                "Customer details have been collected.",
            )
        currency = (br["mandate_request"] or br["payment_request"] or {}).get("currency", "GBP")
        holder = form.get("account_holder_name") or " ".join(
            x for x in (customer.get("given_name"), customer.get("family_name")) if x
        )
        account = self.add_bank_account(customer, holder, form.get("account_number", ""), currency)
        links["customer_bank_account"] = account["id"]
        self.store.emit(
            "billing_requests",
            "collect_bank_account",
            {**br_link, "customer_bank_account": account["id"]},
            "payer",
            "billing_request_collect_bank_account",
            "Bank account details have been collected.",
        )
        self.store.emit(
            "billing_requests",
            "payer_details_confirmed",
            br_link,
            "payer",
            "billing_request_payer_details_confirmed",
            "Payer has confirmed all their details.",
        )
        br["resources"] = {
            "customer": public(customer),
            "customer_bank_account": public(account),
            "customer_billing_detail": {},
        }
        for action in br["actions"]:
            action["status"] = "completed"
        br["status"] = "ready_to_fulfil"
        br["_mandate_status"] = mandate_status or self.options.mandate_status_on_authorise
        if flow["auto_fulfil"]:
            self.fulfil(br, origin="gocardless")
        return br

    def fulfil(self, br: dict[str, Any], origin: str) -> None:
        links = br["links"]
        event_links = {"billing_request": br["id"], "customer": links["customer"]}
        if links.get("customer_bank_account"):
            event_links["customer_bank_account"] = links["customer_bank_account"]
        mandate = payment = None
        if br["mandate_request"]:
            mr = br["mandate_request"]
            mandate = self.new_mandate(
                links["customer"], links["customer_bank_account"], mr["scheme"], emit=False
            )
            links["mandate_request_mandate"] = mandate["id"]
            event_links["mandate_request_mandate"] = mandate["id"]
            mr["links"] = {**(mr.get("links") or {}), "mandate": mandate["id"]}
        if self.is_instant(br):
            payment = self.new_instant_payment(br)
            br["payment_request"]["links"] = {
                **(br["payment_request"].get("links") or {}),
                "payment": payment["id"],
            }
            links["payment_request_payment"] = payment["id"]
            event_links["payment_request_payment"] = payment["id"]
        elif br["payment_request"]:
            pr = br["payment_request"]
            if mandate is None:
                mandate = self.new_mandate(
                    links["customer"], links["customer_bank_account"], "bacs", emit=False
                )
            payment = self.new_payment(
                mandate,
                pr["amount"],
                pr["currency"],
                pr.get("description"),
                None,
                dict(pr.get("metadata") or {}),
                "gocardless",
                emit=False,
            )
            pr["links"] = {**(pr.get("links") or {}), "payment": payment["id"]}
            links["payment_request_payment"] = payment["id"]
            event_links["payment_request_payment"] = payment["id"]
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
        if payment is not None and mandate is None:
            self.move_instant_payment(
                payment, br.pop("_payment_status", self.options.instant_payment_status_on_authorise)
            )
        target = br.pop("_mandate_status", self.options.mandate_status_on_authorise)
        if mandate is not None and target != "pending_submission":
            from . import scenarios

            scenarios.drive_mandate(self, mandate, target)

    # ===== mandates ==============================================================================
    def new_mandate(
        self, customer_id: str, account_id: str, scheme: str, emit: bool = True
    ) -> dict[str, Any]:
        today = self.store.clock.today()
        mandate = self.store.add(
            "mandates",
            {
                "authorisation_source": "web",
                "consent_parameters": {},
                "consent_type": None,
                "funds_settlement": "managed",
                "mandate_type": "bank_debit",
                "metadata": {},
                "next_possible_charge_date": add_working_days(
                    today, self.options.mandate_lead_days
                ).isoformat(),
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

    def action_mandates_cancel(self, mandate: dict[str, Any], data: dict[str, Any]) -> None:
        if mandate["status"] in INACTIVE_MANDATE:
            raise invalid_state(
                "cancellation_failed", f"The mandate is {mandate['status']} and cannot be cancelled"
            )
        from . import scenarios

        scenarios.end_mandate(
            self,
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

    def _usable_mandate(self, params: dict[str, Any], pointer: str) -> dict[str, Any]:
        mandate_id = (params.get("links") or {}).get("mandate")
        mandate = self.store.find("mandates", mandate_id)
        if mandate is None:
            raise validation("links[mandate]", "was not found", f"{pointer}/links/mandate")
        if mandate["status"] in INACTIVE_MANDATE:
            raise invalid_state("mandate_is_inactive", f"The mandate is {mandate['status']}")
        return mandate

    # ===== subscriptions =========================================================================
    def create_subscription(self, p: dict[str, Any]) -> dict[str, Any]:
        pointer = "/subscriptions"
        mandate = self._usable_mandate(p, pointer)
        amount = _amount(p, pointer=pointer)
        currency = _currency(p, pointer)
        unit = p.get("interval_unit")
        if unit not in ("weekly", "monthly", "yearly"):
            raise validation("interval_unit", "must be weekly, monthly or yearly", f"{pointer}/interval_unit")
        interval = p.get("interval") or 1
        dom = p.get("day_of_month")
        if dom is not None and (not isinstance(dom, int) or not (1 <= dom <= 28 or dom == -1)):
            raise validation("day_of_month", "must be between 1 and 28, or -1", f"{pointer}/day_of_month")
        if p.get("count") and p.get("end_date"):
            raise validation("count", "cannot be combined with end_date", f"{pointer}/count")
        earliest = date.fromisoformat(mandate["next_possible_charge_date"])
        start = _date(p["start_date"], "start_date") if p.get("start_date") else earliest
        if start < earliest:
            raise validation(
                "start_date",
                f"must be on or after mandate's next_possible_charge_date ({earliest.isoformat()})",
                f"{pointer}/start_date",
            )
        sub = self.store.add(
            "subscriptions",
            {
                "amount": amount,
                "app_fee": None,
                "count": p.get("count"),
                "currency": currency,
                "day_of_month": dom,
                "earliest_charge_date_after_resume": None,
                "end_date": p.get("end_date"),
                "interval": interval,
                "interval_unit": unit,
                "metadata": _metadata(p),
                "month": p.get("month"),
                "name": p.get("name"),
                "parent_plan_paused": False,
                "payment_reference": p.get("payment_reference"),
                "retry_if_possible": bool(p.get("retry_if_possible", False)),
                "start_date": start.isoformat(),
                "status": "active",
                "upcoming_payments": [],
                "links": {"mandate": mandate["id"]},
                "_amendments": 0,
                "_charged": 0,
            },
        )
        self.refresh_upcoming(sub)
        self.store.emit(
            "subscriptions",
            "created",
            {"subscription": sub["id"]},
            "api",
            "subscription_created",
            "Subscription created via the API.",
        )
        return sub

    def refresh_upcoming(self, sub: dict[str, Any]) -> None:
        upcoming = []
        if sub["status"] == "active":
            for i, when in enumerate(charge_dates(sub)):
                if i < sub["_charged"]:
                    continue
                upcoming.append({"charge_date": when.isoformat(), "amount": sub["amount"]})
                if len(upcoming) >= 10:
                    break
        sub["upcoming_payments"] = upcoming

    def amend_subscription(self, sub: dict[str, Any], p: dict[str, Any]) -> None:
        if sub["status"] in ("cancelled", "finished", "customer_approval_denied"):
            raise invalid_state("subscription_not_active", f"The subscription is {sub['status']}")
        for field in ("name", "payment_reference"):
            if field in p:
                sub[field] = p[field]
        if "amount" in p and p["amount"] != sub["amount"]:
            amount = _amount(p, pointer="/subscriptions")
            if sub["_amendments"] >= MAX_AMENDMENTS:
                raise SimApiError(
                    422,
                    "validation_failed",
                    "The amount of a subscription can be changed at most 10 times",
                    reason="number_of_subscription_amendments_exceeded",
                )
            sub["_amendments"] += 1
            sub["amount"] = amount
            self.refresh_upcoming(sub)
        self.store.emit(
            "subscriptions",
            "amended",
            {"subscription": sub["id"]},
            "api",
            "subscription_amended",
            "This subscription has been amended.",
        )

    def action_subscriptions_pause(self, sub: dict[str, Any], data: dict[str, Any]) -> None:
        if sub["status"] != "active":
            raise invalid_state("subscription_not_active", f"The subscription is {sub['status']}")
        sub["status"] = "paused"
        self.refresh_upcoming(sub)
        self.store.emit(
            "subscriptions",
            "paused",
            {"subscription": sub["id"]},
            "api",
            "subscription_paused",
            "This subscription has been paused.",
        )

    def action_subscriptions_resume(self, sub: dict[str, Any], data: dict[str, Any]) -> None:
        if sub["status"] != "paused":
            raise invalid_state("subscription_not_paused", f"The subscription is {sub['status']}")
        sub["status"] = "active"
        # Charge dates missed while paused are skipped.
        today = self.store.clock.today()
        for i, when in enumerate(charge_dates(sub)):
            if when >= today:
                sub["_charged"] = max(sub["_charged"], i)
                break
        self.refresh_upcoming(sub)
        self.store.emit(
            "subscriptions",
            "resumed",
            {"subscription": sub["id"]},
            "api",
            "subscription_resumed",
            "This subscription has been resumed.",
        )

    def action_subscriptions_cancel(self, sub: dict[str, Any], data: dict[str, Any]) -> None:
        if sub["status"] in ("cancelled", "finished"):
            raise invalid_state("cancellation_failed", f"The subscription is already {sub['status']}")
        self.end_subscription(sub, "api", "subscription_cancelled", "The subscription was cancelled.")

    def end_subscription(self, sub: dict[str, Any], origin: str, cause: str, description: str) -> None:
        sub["status"] = "cancelled"
        sub["upcoming_payments"] = []
        self.store.emit("subscriptions", "cancelled", {"subscription": sub["id"]}, origin, cause, description)
        for payment in self.store.resources["payments"].values():
            if (
                payment["links"].get("subscription") == sub["id"]
                and payment["status"] == "pending_submission"
            ):
                self.cancel_payment(payment, origin, cause, "The subscription was cancelled.")

    # ===== payments ==============================================================================
    def create_payment(self, p: dict[str, Any]) -> dict[str, Any]:
        pointer = "/payments"
        mandate = self._usable_mandate(p, pointer)
        amount = _amount(p, pointer=pointer)
        currency = _currency(p, pointer)
        charge = _date(p["charge_date"], "charge_date") if p.get("charge_date") else None
        earliest = date.fromisoformat(mandate["next_possible_charge_date"])
        if charge is not None and charge < earliest:
            raise validation(
                "charge_date",
                f"must be on or after mandate's next_possible_charge_date ({earliest})",
                f"{pointer}/charge_date",
            )
        payment = self.new_payment(
            mandate, amount, currency, p.get("description"), charge, _metadata(p), "api"
        )
        payment["reference"] = p.get("reference")
        payment["retry_if_possible"] = bool(p.get("retry_if_possible", True))
        return payment

    def new_payment(
        self,
        mandate: dict[str, Any],
        amount: int,
        currency: str,
        description: str | None,
        charge: date | None,
        metadata: dict[str, str],
        origin: str,
        subscription: dict[str, Any] | None = None,
        emit: bool = True,
    ) -> dict[str, Any]:
        links = {"creditor": CREDITOR_ID, "mandate": mandate["id"]}
        if subscription is not None:
            links["subscription"] = subscription["id"]
        payment = self.store.add(
            "payments",
            {
                "amount": amount,
                "amount_refunded": 0,
                "app_fee": None,
                "charge_date": (
                    charge or date.fromisoformat(mandate["next_possible_charge_date"])
                ).isoformat(),
                "currency": currency,
                "description": description,
                "faster_ach": False,
                "fx": {
                    "estimated_exchange_rate": None,
                    "exchange_rate": None,
                    "fx_amount": None,
                    "fx_currency": None,
                },
                "metadata": metadata,
                "reference": None,
                "retry_if_possible": True,
                "scheme": mandate["scheme"],
                "status": "pending_submission",
                "links": links,
                "_retries": 0,
            },
        )
        if emit:
            self.emit_payment_created(payment, origin)
        return payment

    def emit_payment_created(self, payment: dict[str, Any], origin: str) -> None:
        event_links = {"payment": payment["id"]}
        if payment["links"].get("subscription"):
            event_links["subscription"] = payment["links"]["subscription"]
        self.store.emit("payments", "created", event_links, origin, "payment_created", "Payment created.")

    def cancel_payment(self, payment: dict[str, Any], origin: str, cause: str, description: str) -> None:
        payment["status"] = "cancelled"
        self.store.emit("payments", "cancelled", {"payment": payment["id"]}, origin, cause, description)

    def action_payments_cancel(self, payment: dict[str, Any], data: dict[str, Any]) -> None:
        if payment["status"] != "pending_submission":
            raise invalid_state(
                "cancellation_failed", f"The payment is {payment['status']} and cannot be cancelled"
            )
        self.cancel_payment(payment, "api", "payment_cancelled", "The payment was cancelled.")

    def action_payments_retry(self, payment: dict[str, Any], data: dict[str, Any]) -> None:
        if payment["status"] != "failed":
            raise invalid_state(
                "retry_failed", f"Only failed payments can be retried (payment is {payment['status']})"
            )
        if not payment["links"].get("mandate"):
            raise invalid_state(
                "retry_failed", "A payment by bank cannot be retried; send a new payment link"
            )
        if payment["_retries"] >= MAX_RETRIES:
            raise invalid_state("retry_failed", "This payment has been retried the maximum number of times")
        mandate = self.store.get("mandates", payment["links"]["mandate"])
        if mandate["status"] in INACTIVE_MANDATE:
            raise invalid_state("mandate_is_inactive", f"The mandate is {mandate['status']}")
        payment["_retries"] += 1
        payment["status"] = "pending_submission"
        if data.get("charge_date"):
            payment["charge_date"] = _date(data["charge_date"], "charge_date").isoformat()
        self.store.emit(
            "payments",
            "resubmission_requested",
            {"payment": payment["id"]},
            "api",
            "payment_retried",
            "An attempt to retry this payment was requested.",
        )

    # ===== refunds ===============================================================================
    def create_refund(self, p: dict[str, Any]) -> dict[str, Any]:
        pointer = "/refunds"
        payment = self.store.find("payments", (p.get("links") or {}).get("payment"))
        if payment is None:
            raise validation("links[payment]", "was not found", f"{pointer}/links/payment")
        amount = _amount(p, pointer=pointer)
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
                "fx": {
                    "estimated_exchange_rate": None,
                    "exchange_rate": None,
                    "fx_amount": None,
                    "fx_currency": None,
                },
                "metadata": _metadata(p),
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
