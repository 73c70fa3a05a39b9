"""``GoCardlessGateway``: the payment gateway port over the official ``gocardless-pro`` client (never raw HTTP).

Contracts (see ``sync/gateway.py`` for the port and its errors):

- Every create and action sends the outbox row's stored key as ``Idempotency-Key``, so a replay after a crash
  returns the resource GoCardless already made (the client refetches it on a 409 ``idempotent_creation_conflict``).
- ``billing_request_flows`` has no GET and the client does not refetch on its 409. Its whole point is the page
  address, which cannot be read back, so on that conflict a new flow is made for the same billing request under
  the key ``<key>-after-<conflicting flow id>`` (deterministic, so a crash during that replacement is replayed
  too). The result names the flow it replaced; the old link still works for a client who already has it.
- An action that fails with ``invalid_state`` (a second cancel gives 422 ``cancellation_failed``) re-reads the
  resource: when it is already in the state the action aims at, the action counts as done.
- Errors, reads and lists are the transport's (``sync/gocardless_client.py``): everything leaves as one of the
  port's errors, results are plain dicts.
- Payment links (deposits, a basket paid by link, a package's "Buy" button) are billing requests with a
  ``payment_request`` (Instant Bank Pay) and their flows, or reusable billing request templates. Amounts in our
  payloads are pence everywhere; a template's ``payment_request_amount`` given as pence (an int) is sent as the
  string in full units the API takes there ("25.00").
- The access token lives only inside the client (``GoCardlessClient``), never in a repr or a log line.

Calls block (the client's own network retries included) and are meant for the sync engine's thread.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from gocardless_pro import errors

from aestheticc_pos.sync.gateway import FlowResult, PermanentGatewayError, RemoteResult, TemplateResult
from aestheticc_pos.sync.gocardless_client import (
    GoCardlessClient,
    idempotency_headers,
    remote_id_of,
    remote_result,
)

log = logging.getLogger(__name__)

_MAX_FLOW_REPLAYS = 10  # each replay of a flow row follows the chain of replacements one step further


class GoCardlessGateway(GoCardlessClient):
    """The real gateway: every create and action of the port, per resource, over ``GoCardlessClient``'s reads,
    lists and errors."""

    # --- creates -------------------------------------------------------------------------------------------

    def create_customer(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult:
        return self._create("customers", payload, idempotency_key, "the client's details")

    def create_billing_request(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult:
        return self._create("billing_requests", payload, idempotency_key, "the Direct Debit request")

    def create_subscription(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult:
        return self._create("subscriptions", payload, idempotency_key, "the membership's Direct Debit plan")

    def create_payment(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult:
        params = _with_link(payload, "mandate_id", "mandate")
        return self._create("payments", params, idempotency_key, "the Direct Debit payment")

    def create_refund(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult:
        params = _with_link(payload, "payment_id", "payment")
        return self._create("refunds", params, idempotency_key, "the refund")

    def create_flow(self, payload: dict[str, Any], idempotency_key: str) -> FlowResult:
        return self._create_flow(
            payload,
            idempotency_key,
            "the Direct Debit sign-up link",
            "GoCardless keeps reporting this sign-up link as already made. Start a new Direct Debit sign-up.",
        )

    # --- payment links -------------------------------------------------------------------------------------

    def create_payment_request(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult:
        """A billing request for one payment by bank: ``payment_request`` {amount (pence), currency, description,
        metadata?}, optional ``metadata`` and ``links.customer`` (or ``customer_id``); without a customer the payer
        types a name and an email on the page."""
        params = _with_link(payload, "customer_id", "customer")
        request = params.get("payment_request")
        if not isinstance(request, dict) or not request.get("amount"):
            raise ValueError("a payment link needs a payment_request with an amount in pence")
        return self._create("billing_requests", params, idempotency_key, "the payment link")

    def create_payment_link_flow(self, payload: dict[str, Any], idempotency_key: str) -> FlowResult:
        """The page the payer opens for a payment request: ``links.billing_request`` (or ``billing_request_id``),
        optional ``redirect_uri``, ``exit_uri``, ``prefilled_customer``. Replays behave as ``create_flow``'s."""
        params = _with_link(payload, "billing_request_id", "billing_request")
        if not (params.get("links") or {}).get("billing_request"):
            raise ValueError("links.billing_request must be filled in before the request is sent")
        return self._create_flow(
            params,
            idempotency_key,
            "the payment link page",
            "GoCardless keeps reporting this payment link page as already made. Make a new payment link.",
        )

    def cancel_billing_request(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult:
        """``billing_request_id`` (and optional ``metadata``). A request already cancelled counts as done; one
        already paid (fulfilled) is a ``PermanentGatewayError``."""
        billing_request_id, params = _split_id(payload, "billing_request_id")
        return self._action(
            "billing_requests",
            "cancel",
            billing_request_id,
            params,
            idempotency_key,
            {"cancelled"},
            "cancelling the payment link",
        )

    def create_billing_request_template(
        self, payload: dict[str, Any], idempotency_key: str
    ) -> TemplateResult:
        """``name``, ``payment_request_amount`` (pence as an int, or full units as a string),
        ``payment_request_currency``, ``payment_request_description``, ``payment_request_metadata`` (copied onto
        every payment made from the template: the way to tell which package was bought), ``redirect_uri``…"""
        params = _template_params(payload)
        service = self._client.billing_request_templates
        template = self._call(
            "the package's payment link",
            idempotency_key,
            lambda: service.create(params=params, headers=idempotency_headers(idempotency_key)),
        )
        return _template_result(template.attributes)

    def update_billing_request_template(
        self, payload: dict[str, Any], idempotency_key: str
    ) -> TemplateResult:
        """``billing_request_template_id`` and the fields to change; visits after the change use the new terms."""
        template_id, params = _split_id(payload, "billing_request_template_id")
        params = _template_params(params)
        service = self._client.billing_request_templates
        template = self._call(
            "the change to the package's payment link",
            idempotency_key,
            lambda: service.update(template_id, params=params, headers=idempotency_headers(idempotency_key)),
        )
        return _template_result(template.attributes)

    # --- flows ---------------------------------------------------------------------------------------------

    def _create_flow(
        self, payload: dict[str, Any], idempotency_key: str, what: str, exhausted: str
    ) -> FlowResult:
        service = self._client.billing_request_flows
        key, replaced = idempotency_key, None
        for _ in range(_MAX_FLOW_REPLAYS):
            try:
                flow = self._call(
                    what,
                    idempotency_key,
                    lambda k=key: service.create(params=dict(payload), headers=idempotency_headers(k)),
                    passthrough=(errors.IdempotentCreationConflictError,),
                )
            except errors.IdempotentCreationConflictError as conflict:
                replaced = _conflicting_id(conflict)
                if replaced is None:
                    raise self._translate(conflict, what, idempotency_key) from None
                log.info("flow %s already made under key %s; making a replacement", replaced, key)
                key = f"{idempotency_key}-after-{replaced}"
                continue
            data = dict(flow.attributes)
            return FlowResult(
                remote_id=remote_id_of(data),
                status=data.get("status"),
                data=data,
                authorisation_url=data.get("authorisation_url"),
                expires_at=data.get("expires_at"),
                replaced_flow_id=replaced,
            )
        raise PermanentGatewayError(
            exhausted,
            reason="idempotent_creation_conflict",
            detail=f"{_MAX_FLOW_REPLAYS} flow conflicts for key {idempotency_key}",
        )

    # --- changes to a subscription or payment --------------------------------------------------------------

    def update_subscription(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult:
        subscription_id, params = _split_id(payload, "subscription_id")
        what = "the change to the membership's Direct Debit plan"
        service = self._client.subscriptions
        resource = self._call(
            what,
            idempotency_key,
            lambda: service.update(
                subscription_id, params=params, headers=idempotency_headers(idempotency_key)
            ),
        )
        return remote_result(resource.attributes)

    def cancel_subscription(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult:
        subscription_id, params = _split_id(payload, "subscription_id")
        params.pop("ends_on", None)  # the engine's rule for when to send this; not a request parameter
        return self._action(
            "subscriptions",
            "cancel",
            subscription_id,
            params,
            idempotency_key,
            {"cancelled"},
            "the cancellation",
        )

    def pause_subscription(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult:
        subscription_id, params = _split_id(payload, "subscription_id")
        return self._action(
            "subscriptions", "pause", subscription_id, params, idempotency_key, {"paused"}, "the pause"
        )

    def resume_subscription(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult:
        subscription_id, params = _split_id(payload, "subscription_id")
        return self._action(
            "subscriptions", "resume", subscription_id, params, idempotency_key, {"active"}, "the resumption"
        )

    def cancel_payment(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult:
        payment_id, params = _split_id(payload, "payment_id")
        return self._action(
            "payments", "cancel", payment_id, params, idempotency_key, {"cancelled"}, "cancelling the payment"
        )

    # --- helpers -------------------------------------------------------------------------------------------

    def _create(self, service_name: str, params: dict[str, Any], key: str, what: str) -> RemoteResult:
        service = getattr(self._client, service_name)
        resource = self._call(
            what, key, lambda: service.create(params=dict(params), headers=idempotency_headers(key))
        )
        return remote_result(resource.attributes)

    def _action(
        self,
        service_name: str,
        action: str,
        resource_id: str,
        params: dict[str, Any],
        key: str,
        done_statuses: set[str],
        what: str,
    ) -> RemoteResult:
        service = getattr(self._client, service_name)
        send = getattr(service, action)
        try:
            resource = self._call(
                what,
                key,
                lambda: send(resource_id, params=params or None, headers=idempotency_headers(key)),
                passthrough=(errors.InvalidStateError,),
            )
        except errors.InvalidStateError as refused:
            current = self._call(what, key, lambda: service.get(resource_id))
            status = current.attributes.get("status")
            if status in done_statuses:
                log.info("%s %s on %s already done (status %s)", service_name, action, resource_id, status)
                return remote_result(current.attributes)
            raise self._translate(refused, what, key) from None
        return remote_result(resource.attributes)


def _template_result(attributes: dict[str, Any]) -> TemplateResult:
    data = dict(attributes)
    return TemplateResult(
        remote_id=remote_id_of(data), status=None, data=data, authorisation_url=data.get("authorisation_url")
    )


def _template_params(payload: dict[str, Any]) -> dict[str, Any]:
    """A template's amount is a string in full units ("25.00"); ours are pence, so an int is converted."""
    params = dict(payload)
    amount = params.get("payment_request_amount")
    if isinstance(amount, bool) or not (amount is None or isinstance(amount, (int, str))):
        raise ValueError(
            "payment_request_amount must be pence (an int) or full units (a string such as '25.00')"
        )
    if isinstance(amount, int):
        if amount <= 0:
            raise ValueError("payment_request_amount must be more than zero")
        params["payment_request_amount"] = f"{Decimal(amount) / 100:.2f}"
    return params


def _split_id(payload: dict[str, Any], id_key: str) -> tuple[str, dict[str, Any]]:
    """The id the action is for, and the rest of the payload as request parameters."""
    params = dict(payload)
    resource_id = params.pop(id_key, None)
    if not resource_id:
        raise ValueError(f"{id_key} must be filled in before the request is sent")
    return str(resource_id), params


def _with_link(payload: dict[str, Any], id_key: str, link: str) -> dict[str, Any]:
    """Our payloads may name a linked resource as ``<x>_id``; the API wants it under ``links``."""
    params = dict(payload)
    if id_key in params:
        params["links"] = {**(params.get("links") or {}), link: params.pop(id_key)}
    return params


def _conflicting_id(conflict: errors.IdempotentCreationConflictError) -> str | None:
    try:
        return conflict.conflicting_resource_id
    except errors.ApiError:
        return None
