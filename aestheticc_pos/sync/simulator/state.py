"""In-memory store for the simulator: resources, events, idempotency keys and counters.

All mutation happens under ``Store.lock`` (an RLock), held by the server for the whole of a request,
so each API call is atomic with respect to the others and to the Python control surface.
"""

from __future__ import annotations

import copy
import itertools
import threading
import uuid
from collections import Counter
from typing import Any

from .clock import SimClock

PREFIXES = {
    "customers": "CU",
    "customer_bank_accounts": "BA",
    "billing_requests": "BRQ",
    "billing_request_flows": "BRF",
    "billing_request_templates": "BRT",
    "mandates": "MD",
    "subscriptions": "SB",
    "payments": "PM",
    "refunds": "RF",
    "events": "EV",
    "payouts": "PO",
}

DOCS = "https://developer.gocardless.com/api-reference#"


class SimApiError(Exception):
    """An API error rendered as GoCardless's error envelope."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        errors: list[dict[str, Any]] | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        if errors is None:
            errors = [{"reason": reason or type_, "message": message}]
        self.errors = errors

    def body(self) -> dict[str, Any]:
        reason = self.errors[0].get("reason", self.type) if self.errors else self.type
        return {
            "error": {
                "type": self.type,
                "code": self.status,
                "message": self.message,
                "documentation_url": DOCS + reason,
                "request_id": str(uuid.uuid4()),
                "errors": self.errors,
            }
        }


def public(resource: dict[str, Any]) -> dict[str, Any]:
    """A deep copy without the simulator's private keys (those starting with ``_``)."""
    return {k: copy.deepcopy(v) for k, v in resource.items() if not k.startswith("_")}


def not_found(kind: str, ident: str) -> SimApiError:
    return SimApiError(404, "invalid_api_usage", "Resource not found", reason="resource_not_found")


def validation(field: str, message: str, pointer: str | None = None) -> SimApiError:
    """validation_failed with a field error; every item carries field, message and request_pointer."""
    return SimApiError(
        422,
        "validation_failed",
        "Validation failed",
        errors=[{"field": field, "message": message, "request_pointer": pointer or f"/{field}"}],
    )


def invalid_state(reason: str, message: str, status: int = 422) -> SimApiError:
    return SimApiError(status, "invalid_state", message, reason=reason)


class Store:
    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.resources: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in PREFIXES}
        self.idempotency: dict[tuple[str, str], str] = {}
        self.created = Counter()  # kind -> number of resources created
        self._seq = itertools.count(1)

    # ----- ids and times ---------------------------------------------------------------------
    def new_id(self, kind: str) -> str:
        n = next(self._seq)
        return f"{PREFIXES[kind]}{n:06d}{uuid.uuid4().hex[:6].upper()}"

    def now_iso(self) -> str:
        return self.clock.iso(self.clock.now())

    # ----- resources ---------------------------------------------------------------------------
    def add(self, kind: str, resource: dict[str, Any]) -> dict[str, Any]:
        resource.setdefault("id", self.new_id(kind))
        resource.setdefault("created_at", self.now_iso())
        self.resources[kind][resource["id"]] = resource
        self.created[kind] += 1
        return resource

    def get(self, kind: str, ident: str) -> dict[str, Any]:
        try:
            return self.resources[kind][ident]
        except KeyError:
            raise not_found(kind, ident) from None

    def find(self, kind: str, ident: str | None) -> dict[str, Any] | None:
        if not ident:
            return None
        return self.resources[kind].get(ident)

    # ----- events ------------------------------------------------------------------------------
    def emit(
        self,
        resource_type: str,
        action: str,
        links: dict[str, str],
        origin: str,
        cause: str,
        description: str,
        **details: Any,
    ) -> dict[str, Any]:
        """Record an event; its ``resource_metadata`` is the metadata the resource has now (GoCardless copies it
        onto the event, so a listener can find its own record without another request)."""
        # The resource an event is about is named by the singular of its resource_type in its links.
        subject = self.resources.get(resource_type, {}).get(links.get(resource_type.removesuffix("s"), ""))
        event = {
            "id": self.new_id("events"),
            "created_at": self.now_iso(),
            "resource_type": resource_type,
            "action": action,
            "links": dict(links),
            "details": {"origin": origin, "cause": cause, "description": description, **details},
            "metadata": {},
            "resource_metadata": copy.deepcopy(subject.get("metadata") or {}) if subject else {},
            "customer_notifications": [],
            "source": _source(origin),
        }
        self.resources["events"][event["id"]] = event
        return event

    def events(self, resource_type: str | None = None, action: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                public(e)
                for e in self.resources["events"].values()
                if (resource_type is None or e["resource_type"] == resource_type)
                and (action is None or e["action"] == action)
            ]


def _source(origin: str) -> dict[str, str]:
    """Who an event came from, in the API's words (``app``, ``user``, ``gc_team``, ``access_token``): a call
    with the clinic's access token, or GoCardless itself for what the banks, GoCardless and payers did."""
    if origin == "api":
        return {"type": "access_token", "name": "Aestheticc POS token"}
    return {"type": "gc_team", "name": "GoCardless"}


# ----- listing ---------------------------------------------------------------------------------
_LINK_FILTERS = {
    "customer",
    "mandate",
    "subscription",
    "payment",
    "billing_request",
    "refund",
    "payout",
    "creditor",
    "customer_bank_account",
    "parent_event",
}
_FIELD_FILTERS = {"status", "resource_type", "action", "scheme", "reference", "currency"}
_RANGE_OPS = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _matches(record: dict[str, Any], query: dict[str, str]) -> bool:
    for key, value in query.items():
        if key in ("limit", "after", "before", "include"):
            continue
        if "[" in key and key.endswith("]"):
            field, op = key[:-1].split("[", 1)
            if op not in _RANGE_OPS:
                raise SimApiError(400, "invalid_api_usage", f"Invalid filter {key}", reason="invalid_filters")
            have = record.get(field)
            if have is None or not _RANGE_OPS[op](have, value):
                return False
        elif key in _FIELD_FILTERS:
            values = value.split(",")
            if str(record.get(key)) not in values:
                return False
        elif key in _LINK_FILTERS and record.get("links", {}).get(key) != value:
            return False
        # unknown filters are ignored, as the real API ignores unknown query params
    return True


def paginate(plural: str, records: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    """Cursor pagination in creation order (oldest first); cursors are record ids."""
    try:
        limit = int(query.get("limit", 50))
    except ValueError:
        raise validation("limit", "must be an integer", "/limit") from None
    if not 1 <= limit <= 500:
        raise validation("limit", "must be between 1 and 500", "/limit")
    rows = [r for r in records if _matches(r, query)]
    ids = [r["id"] for r in rows]
    start, end = 0, len(rows)
    if query.get("after"):
        if query["after"] not in ids:
            raise SimApiError(400, "invalid_api_usage", "Cursor is invalid", reason="invalid_cursor")
        start = ids.index(query["after"]) + 1
        end = min(len(rows), start + limit)
    elif query.get("before"):
        if query["before"] not in ids:
            raise SimApiError(400, "invalid_api_usage", "Cursor is invalid", reason="invalid_cursor")
        end = ids.index(query["before"])
        start = max(0, end - limit)
    else:
        end = min(len(rows), limit)
    page = rows[start:end]
    after = page[-1]["id"] if page and end < len(rows) else None
    before = page[0]["id"] if page and start > 0 else None
    return {
        plural: [public(r) for r in page],
        "meta": {"cursors": {"before": before, "after": after}, "limit": limit},
    }
