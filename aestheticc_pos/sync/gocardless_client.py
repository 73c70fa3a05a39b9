"""The transport under ``GoCardlessGateway`` (``sync/gocardless.py``): one official ``gocardless-pro`` client, its
errors turned into the port's (``sync/gateway.py``), single reads, and the lists read page by page.

- ``requests`` exceptions are caught as well as ``GoCardlessProError``, and everything leaves as one of the
  port's errors: a timeout or a network failure is transient, a 429 is ``RateLimited`` until the window's own
  ``RateLimit-Reset``, a refused token is ``AuthenticationFailed``, anything GoCardless refuses is permanent.
- Results are plain dicts; optional nested sections are read from ``.attributes``, because the client's nested
  wrappers raise AttributeError on a missing or null section.
- Lists are read in GoCardless's largest pages (500), following ``after`` to the end; the events list is read one
  page at a time by the caller (``sync/pull.py``), with linked resources when asked to include them.
- The access token lives only inside the client. It is not an attribute of this object, not in its repr and never
  logged; log lines carry the kind, the idempotency key and GoCardless's request id.

Calls block (the client's own network retries included) and are meant for the sync engine's thread.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import gocardless_pro
import requests
from gocardless_pro import errors

from aestheticc_pos.sync.gateway import (
    AuthenticationFailed,
    EventPage,
    GatewayError,
    PermanentGatewayError,
    RateLimited,
    RemoteResult,
    TransientGatewayError,
)
from aestheticc_pos.sync.gocardless_errors import api_detail, parse_reset, reasons, refused_token

log = logging.getLogger(__name__)

ENVIRONMENTS = ("sandbox", "live")
# A 429 without a readable RateLimit-Reset waits one window (GoCardless counts requests per minute).
_DEFAULT_RATE_LIMIT_WAIT = dt.timedelta(seconds=60)
_PAGE_LIMIT = 500  # GoCardless's largest page

T = TypeVar("T")


class GoCardlessClient:
    """Reads and lists over the official client; ``GoCardlessGateway`` adds the creates and actions.
    ``base_url`` (the simulator, in tests and training mode) wins over ``environment``."""

    def __init__(
        self,
        access_token: str,
        *,
        environment: str = "sandbox",
        base_url: str | None = None,
        timeout: float = 20,
    ) -> None:
        if not access_token:
            raise ValueError("a GoCardless access token is required")
        if environment not in ENVIRONMENTS:
            raise ValueError(f"environment must be one of {ENVIRONMENTS}, not {environment!r}")
        self.environment = environment
        self.base_url = base_url
        self._client = gocardless_pro.Client(
            access_token=access_token, environment=environment, base_url=base_url, timeout=timeout
        )
        self._refused_reset: str | None = None
        self._watch_refusals()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(environment={self.environment!r}, base_url={self.base_url!r})"

    def _watch_refusals(self) -> None:
        """Keep the ``RateLimit-Reset`` of a 429 response. The client updates its ``rate_limit`` only after a
        successful response and its errors do not carry the response, so this client's own error check (an
        attribute of this instance, nothing global) notes the header before raising."""
        api = self._client._api_client
        check = api._handle_errors

        def handle_errors(response: requests.Response) -> None:
            if response.status_code == 429:
                self._refused_reset = response.headers.get("ratelimit-reset")
            check(response)

        api._handle_errors = handle_errors

    # --- reads ---------------------------------------------------------------------------------------------

    def list_events(
        self,
        since: str | None = None,
        after: str | None = None,
        limit: int = 500,
        *,
        resource_type: str | None = None,
        include: str | None = None,
    ) -> EventPage:
        # Flat bracketed keys: the client encodes a nested {"created_at": {"gt": t}} wrongly.
        params: dict[str, Any] = {"limit": limit}
        if since:
            params["created_at[gt]"] = since
        if after:
            params["after"] = after
        if resource_type:
            params["resource_type"] = resource_type
        if include:
            params["include"] = include
        service = self._client.events
        page = self._call("the list of GoCardless events", None, lambda: service.list(params=params))
        body = page.api_response.body if isinstance(page.api_response.body, dict) else {}
        linked = body.get("linked") if isinstance(body.get("linked"), dict) else {}
        return EventPage(
            events=[dict(event.attributes) for event in page.records],
            after=page.after,
            linked={
                k: [dict(r) for r in v if isinstance(r, dict)]
                for k, v in linked.items()
                if isinstance(v, list)
            },
        )

    def get_mandate(self, mandate_id: str) -> dict[str, Any]:
        return self._read("mandates", mandate_id)

    def get_billing_request(self, billing_request_id: str) -> dict[str, Any]:
        return self._read("billing_requests", billing_request_id)

    def get_subscription(self, subscription_id: str) -> dict[str, Any]:
        return self._read("subscriptions", subscription_id)

    def get_payment(self, payment_id: str) -> dict[str, Any]:
        return self._read("payments", payment_id)

    def get_billing_request_template(self, template_id: str) -> dict[str, Any]:
        return self._read("billing_request_templates", template_id)

    def get_refund(self, refund_id: str) -> dict[str, Any]:
        return self._read("refunds", refund_id)

    def list_payments(self, mandate_id: str) -> list[dict[str, Any]]:
        service = self._client.payments
        payments: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            params: dict[str, Any] = {"mandate": mandate_id, "limit": _PAGE_LIMIT}
            if after:
                params["after"] = after
            page = self._call(
                f"the payments of mandate {mandate_id}", None, lambda p=params: service.list(params=p)
            )
            payments.extend(dict(payment.attributes) for payment in page.records)
            after = page.after
            if not after:
                return payments

    # --- the transport ---------------------------------------------------------------------------------

    def _read(self, service_name: str, resource_id: str) -> dict[str, Any]:
        service = getattr(self._client, service_name)
        resource = self._call(
            f"the request for {service_name} {resource_id}", None, lambda: service.get(resource_id)
        )
        return dict(resource.attributes)

    def _call(
        self,
        what: str,
        key: str | None,
        send: Callable[[], T],
        passthrough: tuple[type[Exception], ...] = (),
    ) -> T:
        try:
            return send()
        except passthrough:
            raise
        except (errors.GoCardlessProError, requests.RequestException) as exc:
            raise self._translate(exc, what, key) from None

    def _translate(self, exc: Exception, what: str, key: str | None) -> GatewayError:
        error = self._error_for(exc, what)
        log.warning("GoCardless call for %s (key %s) failed: %s", what, key, error.detail)
        return error

    def _error_for(self, exc: Exception, what: str) -> GatewayError:
        if isinstance(exc, requests.Timeout):
            return TransientGatewayError(
                "GoCardless did not answer in time; queued work will be sent again shortly.",
                detail=f"timeout: {type(exc).__name__}",
            )
        if isinstance(exc, requests.RequestException):
            return TransientGatewayError(
                "The till could not reach GoCardless (is the internet down?); queued work will be sent "
                "when the connection is back.",
                detail=f"network: {type(exc).__name__}",
            )
        if isinstance(exc, errors.MalformedResponseError):
            return TransientGatewayError(
                "GoCardless sent an answer the till could not read; it will try again shortly.",
                detail=f"malformed response, HTTP {exc.status_code}",
            )
        if not isinstance(exc, errors.ApiError):
            # The client refused before sending (an id with a "/" in it, an unknown error type).
            return PermanentGatewayError(
                f"The till could not send {what} to GoCardless: {exc}.",
                reason="client_error",
                detail=str(exc),
            )
        detail = api_detail(exc)
        if isinstance(exc, (errors.AuthenticationError, errors.PermissionsError)):
            return AuthenticationFailed(refused_token(self.environment, exc), detail=detail)
        if isinstance(exc, errors.RateLimitError):
            return RateLimited(self._retry_after(), detail=detail)
        if isinstance(exc, errors.GoCardlessInternalError) or (exc.code or 0) >= 500:
            return TransientGatewayError(
                "GoCardless had a problem on its side; queued work will be sent again shortly.", detail=detail
            )
        first = (exc.errors or [{}])[0]
        return PermanentGatewayError(
            f"GoCardless did not accept {what}: {reasons(exc)}.",
            reason=first.get("reason") or exc.type,
            field=first.get("field"),
            detail=detail,
        )

    def _retry_after(self) -> dt.timedelta:
        """How long until the rate limit window of the 429 just received resets (its own header)."""
        reset = parse_reset(self._refused_reset)
        self._refused_reset = None
        if reset is None:
            return _DEFAULT_RATE_LIMIT_WAIT
        return max(reset - dt.datetime.now(dt.UTC), dt.timedelta(0))


def idempotency_headers(key: str) -> dict[str, str]:
    if not key:
        raise ValueError("every create and action needs its stored idempotency key")
    return {"Idempotency-Key": key}


def remote_result(attributes: dict[str, Any]) -> RemoteResult:
    data = dict(attributes)
    return RemoteResult(remote_id=remote_id_of(data), status=data.get("status"), data=data)


def remote_id_of(data: dict[str, Any]) -> str:
    remote_id = data.get("id")
    if not remote_id:
        raise TransientGatewayError(
            "GoCardless sent an answer the till could not read; it will try again shortly.",
            detail="response without an id",
        )
    return str(remote_id)
