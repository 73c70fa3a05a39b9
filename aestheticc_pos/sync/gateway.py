"""The payment gateway port: what the sync engine asks of GoCardless, in our own words (DESIGN.md §5).

One method per outbox kind, each taking the row's payload and its stored idempotency key, so the engine can
call ``getattr(gateway, row.kind)(row.payload, row.idempotency_key)``. Payloads follow the contract in
``services/memberships.py`` and ``services/checkout.py``; the engine has already filled in ids that came from the
rows a row depends on (``subscription_id``, ``links.customer``, ``links.billing_request``). Results and reads are
plain values (dataclasses, dicts, strings), never client objects, so nothing here ties the engine to
``gocardless_pro``.

Every method raises only the errors below (and ``ValueError`` for a payload the engine built wrongly):

- ``TransientGatewayError``: offline, timed out, a 5xx or a response that is not JSON. Try again later.
- ``RateLimited`` (a transient error): wait ``retry_after``, then try again.
- ``PermanentGatewayError``: GoCardless refused the request (validation, invalid state, bad usage). Trying
  again with the same payload will fail the same way; ``str(error)`` is a sentence for staff.
- ``AuthenticationFailed``: the access token is wrong, revoked or lacks permission. Nothing will work until
  someone enters a new token in Settings.

The real adapter is ``sync/gocardless.py``; tests run it against the simulator (``sync/simulator/``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class RemoteResult:
    """What GoCardless answered to a create or an action: the resource's id, its status and its fields."""

    remote_id: str
    status: str | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FlowResult(RemoteResult):
    """A hosted "authorise Direct Debit" page for a billing request: show ``authorisation_url`` to the client.

    ``replaced_flow_id`` is set when an earlier flow with the same idempotency key already existed but its page
    address could not be read back (flows have no GET), so a new flow was made for the same billing request.
    """

    authorisation_url: str | None = None
    expires_at: str | None = None
    replaced_flow_id: str | None = None


@dataclass(frozen=True, slots=True)
class TemplateResult(RemoteResult):
    """A reusable payment link (a billing request template): ``authorisation_url`` is its permanent address.

    Every visit to it makes a new billing request and, once paid, a new customer and payment.
    """

    authorisation_url: str | None = None


@dataclass(frozen=True, slots=True)
class EventPage:
    """One page of events, oldest order not guaranteed; ``after`` is the cursor of the next page or None.

    ``linked``: what ``include=`` added to the page, by plural (``{"payments": [...]}``): each resource of that
    kind the page's events link to, once, as it is now."""

    events: list[dict[str, Any]]
    after: str | None
    linked: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class GatewayError(Exception):
    """Base of the gateway's errors. ``str(error)`` is a sentence for staff; ``detail`` is for the log."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class TransientGatewayError(GatewayError):
    """Network failure, timeout, 5xx or a malformed response: the request may have reached GoCardless or not.

    Retrying with the same idempotency key is safe.
    """


class RateLimited(TransientGatewayError):
    """GoCardless asked us to slow down (HTTP 429). Do not call again for ``retry_after`` (until the
    ``RateLimit-Reset`` the refusal named; a duration, so the caller measures it on its own clock)."""

    def __init__(self, retry_after: dt.timedelta, *, detail: str | None = None) -> None:
        super().__init__(
            "GoCardless asked the till to slow down; queued work will be sent again in a minute or two.",
            detail=detail,
        )
        self.retry_after = max(retry_after, dt.timedelta(0))


class PermanentGatewayError(GatewayError):
    """GoCardless refused the request; sending it again unchanged will not help.

    ``reason`` is GoCardless's machine reason (``validation_failed``, ``cancellation_failed``,
    ``mandate_is_inactive``…) and ``field`` the offending field when GoCardless named one.
    """

    def __init__(
        self, message: str, reason: str | None = None, field: str | None = None, *, detail: str | None = None
    ) -> None:
        super().__init__(message, detail=detail)
        self.reason = reason
        self.field = field


class AuthenticationFailed(GatewayError):
    """The access token was refused (401) or lacks permission (403). Stop syncing until Settings has a new one."""


class PaymentGateway(Protocol):
    """What the sync engine needs from GoCardless. Implementations: ``GoCardlessGateway`` (and test fakes)."""

    def create_customer(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult: ...

    def create_billing_request(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult: ...

    def create_flow(self, payload: dict[str, Any], idempotency_key: str) -> FlowResult: ...

    def create_subscription(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult: ...

    def update_subscription(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult: ...

    def cancel_subscription(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult: ...

    def pause_subscription(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult: ...

    def resume_subscription(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult: ...

    def create_payment(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult: ...

    def cancel_payment(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult: ...

    def create_refund(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult: ...

    # Payment links (deposits, a basket paid by link, "Buy" buttons): Instant Bank Pay billing requests.

    def create_payment_request(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult:
        """A billing request with a ``payment_request`` (amount in pence, currency, description)."""
        ...

    def create_payment_link_flow(self, payload: dict[str, Any], idempotency_key: str) -> FlowResult:
        """The hosted "pay by bank" page for a payment request (``links.billing_request``)."""
        ...

    def cancel_billing_request(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult:
        """``billing_request_id``: the link stops working. Already cancelled counts as done."""
        ...

    def create_billing_request_template(
        self, payload: dict[str, Any], idempotency_key: str
    ) -> TemplateResult:
        """A reusable payment link; ``payment_request_amount`` in pence (int) or full units (str)."""
        ...

    def update_billing_request_template(
        self, payload: dict[str, Any], idempotency_key: str
    ) -> TemplateResult:
        """``billing_request_template_id`` plus the fields to change; affects future visits only."""
        ...

    def get_billing_request_template(self, template_id: str) -> dict[str, Any]: ...

    def get_refund(self, refund_id: str) -> dict[str, Any]: ...

    def list_events(
        self,
        since: str | None = None,
        after: str | None = None,
        limit: int = 500,
        *,
        resource_type: str | None = None,
        include: str | None = None,
    ) -> EventPage:
        """One page of events created after ``since`` (ISO timestamp), from cursor ``after``; only those about
        ``resource_type`` when given, with the resources ``include`` names (a singular: ``payment``) linked."""
        ...

    def get_mandate(self, mandate_id: str) -> dict[str, Any]: ...

    def get_billing_request(self, billing_request_id: str) -> dict[str, Any]: ...

    def get_subscription(self, subscription_id: str) -> dict[str, Any]: ...

    def get_payment(self, payment_id: str) -> dict[str, Any]: ...

    def list_payments(self, mandate_id: str) -> list[dict[str, Any]]:
        """Every payment on the mandate (all pages), whatever its status."""
        ...
