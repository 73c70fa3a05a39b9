"""The API subset: routing requests to the handlers of each layer (see ``common``), under the store's lock.

``handle`` returns ``(status, body)``; API errors are raised as ``SimApiError``. Bodies use GoCardless's envelopes:
``{"<plural>": {...}}`` for one resource and ``{"<plural>": [...], "meta": {...}}`` for lists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .common import envelope, metadata_param
from .payment_links import PaymentLinks
from .state import SimApiError, paginate, public, validation

Result = tuple[int, dict[str, Any] | None]

# What ``GET /events?include=<singular>`` can add under ``linked``.
INCLUDABLE = {"billing_request", "mandate", "payment", "refund", "subscription"}


class Api(PaymentLinks):
    # ===== routing ===============================================================================
    def handle(
        self, method: str, parts: list[str], query: dict[str, str], body: Any, idem_key: str | None
    ) -> Result:
        if not parts:
            raise SimApiError(404, "invalid_api_usage", "Not found", reason="path_not_found")
        kind = parts[0]
        routes: dict[str, Callable[[dict[str, Any]], dict[str, Any]] | None] = {
            "customers": self.create_customer,
            "customer_bank_accounts": None,
            "billing_requests": self.create_billing_request,
            "billing_request_flows": self.create_flow,
            "billing_request_templates": self.create_template,
            "mandates": None,
            "subscriptions": self.create_subscription,
            "payments": self.create_payment,
            "refunds": self.create_refund,
            "events": None,
        }
        if kind not in routes:
            raise SimApiError(404, "invalid_api_usage", "Not found", reason="path_not_found")
        create = routes[kind]
        if len(parts) == 1:
            if method == "GET" and kind != "billing_request_flows":
                page = paginate(kind, self.fresh(kind, list(self.store.resources[kind].values())), query)
                if kind == "events" and query.get("include"):
                    page["linked"] = self.linked(page["events"], query["include"])
                return 200, page
            if method == "POST" and create is not None:
                return self._create(kind, create, body, idem_key)
        elif len(parts) == 2:
            if method == "GET" and kind != "billing_request_flows":
                return 200, {kind: public(self.fresh(kind, [self.store.get(kind, parts[1])])[0])}
            if method == "PUT" and kind == "billing_request_templates":
                return 200, {kind: public(self.update_template(parts[1], envelope(body, kind)))}
            if method == "PUT" and kind in ("customers", "mandates", "payments", "refunds", "subscriptions"):
                return self.update(kind, parts[1], envelope(body, kind))
        elif len(parts) == 4 and parts[2] == "actions" and method == "POST":
            action = getattr(self, f"action_{kind}_{parts[3]}", None)
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
            for f in self.CUSTOMER_FIELDS:
                if f in p:
                    resource[f] = p[f]
        if kind == "subscriptions":
            self.amend_subscription(resource, p)
        return 200, {kind: public(self.fresh(kind, [resource])[0])}

    # ===== reading ===============================================================================
    def fresh(self, kind: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``records`` with the fields GoCardless works out when they are read brought up to date (a mandate's
        next_possible_charge_date moves with time)."""
        if kind == "mandates":
            for mandate in records:
                self.next_charge_date(mandate)
        return records

    def linked(self, events: list[dict[str, Any]], include: str) -> dict[str, list[dict[str, Any]]]:
        """The ``linked`` section of ``GET /events?include=<singular>``: each resource of that kind the page's
        events link to, once."""
        if include not in INCLUDABLE:
            raise validation("include", f"must be one of {', '.join(sorted(INCLUDABLE))}", "/include")
        kind = include + "s"
        ids = dict.fromkeys(e["links"][include] for e in events if e["links"].get(include))
        records = [r for r in (self.store.find(kind, i) for i in ids) if r is not None]
        return {kind: [public(r) for r in self.fresh(kind, records)]}
