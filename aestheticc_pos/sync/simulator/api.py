"""The API subset: one object per resource (see ``common``), composed here, and the routing of requests to them.

``Api.handle`` runs under the store's lock and returns ``(status, body)``; API errors are raised as ``SimApiError``.
Bodies use GoCardless's envelopes: ``{"<plural>": {...}}`` for one resource and ``{"<plural>": [...], "meta":
{...}}`` for lists. ``POST /<plural>/:id/actions/<name>`` calls the ``action_<name>`` method of that resource.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .billing_request_flows import BillingRequestFlows
from .billing_request_templates import BillingRequestTemplates
from .billing_requests import BillingRequests
from .common import Options, envelope, metadata_param
from .customers import Customers
from .mandates import Mandates
from .payments import Payments
from .payouts import Payouts
from .refunds import Refunds
from .state import SimApiError, Store, paginate, public, validation
from .subscriptions import Subscriptions

Result = tuple[int, dict[str, Any] | None]

# What ``GET /events?include=<singular>`` can add under ``linked``.
INCLUDABLE = {"billing_request", "mandate", "payment", "refund", "subscription"}


class Api:
    def __init__(self, store: Store, options: Options, base_url: Callable[[], str]) -> None:
        self.store = store
        self.customers = Customers(store)
        self.mandates = Mandates(store, options)
        self.payouts = Payouts(store)
        self.payments = Payments(store, self.mandates, self.payouts)
        self.refunds = Refunds(store)
        self.subscriptions = Subscriptions(store, options, self.mandates, self.payments)
        # A mandate that ends cancels its subscriptions (with their unsubmitted payments), then its own unsubmitted
        # payments: in this order, so each payment's event says why it was cancelled.
        self.mandates.dependents = [self.subscriptions, self.payments]
        self.billing_requests = BillingRequests(store, options, self.mandates, self.payments)
        self.flows = BillingRequestFlows(store, options, base_url, self.customers, self.billing_requests)
        self.templates = BillingRequestTemplates(store, base_url, self.billing_requests, self.flows)
        # The resources that have actions (``action_<name>`` methods).
        self._actions: dict[str, object] = {
            "mandates": self.mandates,
            "payments": self.payments,
            "subscriptions": self.subscriptions,
            "billing_requests": self.billing_requests,
            "billing_request_flows": self.flows,
        }

    # ===== routing ===============================================================================
    def handle(
        self, method: str, parts: list[str], query: dict[str, str], body: Any, idem_key: str | None
    ) -> Result:
        if not parts:
            raise SimApiError(404, "invalid_api_usage", "Not found", reason="path_not_found")
        kind = parts[0]
        routes: dict[str, Callable[[dict[str, Any]], dict[str, Any]] | None] = {
            "customers": self.customers.create,
            "customer_bank_accounts": None,
            "billing_requests": self.billing_requests.create,
            "billing_request_flows": self.flows.create,
            "billing_request_templates": self.templates.create,
            "mandates": None,
            "subscriptions": self.subscriptions.create,
            "payments": self.payments.create,
            "refunds": self.refunds.create,
            "events": None,
            "payouts": None,
        }
        if kind == "payout_items" and len(parts) == 1 and method == "GET":
            return 200, self.payouts.items(query)
        if kind not in routes:
            raise SimApiError(404, "invalid_api_usage", "Not found", reason="path_not_found")
        create = routes[kind]
        if len(parts) == 1:
            if method == "GET" and kind != "billing_request_flows":
                page = paginate(kind, self.fresh(kind, list(self.store.resources[kind].values())), query)
                if kind == "events" and "include" in query:
                    page["linked"] = self.linked(page["events"], query["include"], query.get("resource_type"))
                return 200, page
            if method == "POST" and create is not None:
                return self._create(kind, create, body, idem_key)
        elif len(parts) == 2:
            if method == "GET" and kind != "billing_request_flows":
                return 200, {kind: public(self.fresh(kind, [self.store.get(kind, parts[1])])[0])}
            if method == "PUT" and kind == "billing_request_templates":
                return 200, {kind: public(self.templates.update(parts[1], envelope(body, kind)))}
            if method == "PUT" and kind in ("customers", "mandates", "payments", "refunds", "subscriptions"):
                return self.update(kind, parts[1], envelope(body, kind))
        elif len(parts) == 4 and parts[2] == "actions" and method == "POST":
            action = getattr(self._actions.get(kind), f"action_{parts[3]}", None)
            if action is not None:
                resource = self.store.get(kind, parts[1])
                action(resource, envelope(body, "data"))
                return 200, {kind: public(self.fresh(kind, [resource])[0])}
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
        resource = create(envelope(body, kind))
        if key:
            self.store.idempotency[(kind, key)] = resource["id"]
        return 201, {kind: public(resource)}

    def update(self, kind: str, ident: str, p: dict[str, Any]) -> Result:
        resource = self.store.get(kind, ident)
        if "metadata" in p:
            resource["metadata"] = metadata_param(p)
        if kind == "customers":
            self.customers.update(resource, p)
        if kind == "subscriptions":
            self.subscriptions.amend(resource, p)
        return 200, {kind: public(self.fresh(kind, [resource])[0])}

    # ===== reading ===============================================================================
    def fresh(self, kind: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``records`` with the fields GoCardless works out when they are read brought up to date (a mandate's
        next_possible_charge_date moves with time)."""
        if kind == "mandates":
            for mandate in records:
                self.mandates.next_charge_date(mandate)
        return records

    def linked(
        self, events: list[dict[str, Any]], include: str, resource_type: str | None
    ) -> dict[str, list[dict[str, Any]]]:
        """The ``linked`` section of ``GET /events?include=<singular>``: each resource of that kind the page's
        events link to, once, as it is now. ``include`` goes with ``resource_type`` and names that same type."""
        if include not in INCLUDABLE:
            raise validation("include", f"must be one of {', '.join(sorted(INCLUDABLE))}", "/include")
        if resource_type != include + "s":
            raise validation("include", f"can only be used with resource_type {include}s", "/include")
        kind = include + "s"
        ids = dict.fromkeys(e["links"][include] for e in events if e["links"].get(include))
        records = [r for r in (self.store.find(kind, i) for i in ids) if r is not None]
        return {kind: [public(r) for r in self.fresh(kind, records)]}
