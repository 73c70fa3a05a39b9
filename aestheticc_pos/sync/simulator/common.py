"""What every resource of the simulated API shares: constants, ``Options``, request-parameter checks and
``ScenarioError``. It imports nothing of the other resources (it is the bottom of the simulator).

The API is one ``api.Api`` object composed of one object per resource, each in its own module and given the
resources below it that it uses: ``customers`` → ``mandates`` → ``payments``, ``refunds`` → ``subscriptions`` →
``billing_requests`` → ``billing_request_flows`` (and what the payer does on the hosted page) →
``billing_request_templates``; ``api`` routes requests to them and ``scenarios`` walks them over time. Each
resource module has the API calls, then what the banks and GoCardless do to the resource afterwards (the
scenario controls of ``server.Simulator``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from .state import SimApiError, validation

CREDITOR_ID = "CR000SIMULATOR"
CURRENCIES = {"AUD", "CAD", "DKK", "EUR", "GBP", "NZD", "SEK", "USD"}
INACTIVE_MANDATE = {"failed", "cancelled", "expired", "consumed", "blocked"}


class Options:
    """Behaviour switches for the simulator."""

    def __init__(self) -> None:
        # Status a mandate gets when the payer completes the hosted page.
        self.mandate_status_on_authorise = "pending_submission"
        # "null": unrequested sections of a billing request (payment_request, mandate_request,
        # subscription_request, instalment_schedule_request) are sent as null, as the live API does (the client's
        # wrappers raise on them, so code must read them through ``attributes``); "object": sent as {}.
        self.unrequested_sections = "null"
        # Working days between the day a mandate is created and its first next_possible_charge_date.
        self.mandate_lead_days = 4
        # Working days between today and the earliest charge date of a mandate that exists already: a mandate's
        # next_possible_charge_date is the later of its first one and today plus this many working days.
        self.payment_lead_days = 3
        # Working days before its charge date that a subscription's payment is created (0: on the day itself).
        self.subscription_payment_lead_days = 3
        # Status an instant payment (a payment-only billing request, or the first payment of a Direct Debit
        # set-up) reaches on its own once the payer has authorised it: "pending_submission", "submitted",
        # "confirmed" (money collected; the default, as Instant Bank Pay settles within moments) or "failed".
        # Scenario controls move it on from there.
        self.instant_payment_status_on_authorise = "confirmed"
        # Whether the payer's bank can make an instant payment (``Simulator.authorise`` can say otherwise for one
        # payer). When it cannot, a request with fallback_enabled collects its payment by Direct Debit instead.
        self.instant_payments_available = True


class ScenarioError(ValueError):
    """The scenario cannot be applied to the resource in its current state."""


def require(resource: dict[str, Any], allowed: set[str], what: str) -> None:
    """Raise ``ScenarioError`` unless ``resource`` is in one of the ``allowed`` statuses (``what``: the move)."""
    if resource["status"] not in allowed:
        raise ScenarioError(f"cannot {what} {resource['id']}: status is {resource['status']}")


def no_fx() -> dict[str, None]:
    """The ``fx`` section of a payment or refund in the creditor's own currency."""
    return {"estimated_exchange_rate": None, "exchange_rate": None, "fx_amount": None, "fx_currency": None}


# ----- request parameters -----------------------------------------------------------------------
def envelope(body: Any, key: str) -> dict[str, Any]:
    """The object under ``key`` in a request body (``{"payments": {...}}``, or ``{"data": {...}}`` for actions)."""
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


def metadata_param(params: dict[str, Any], field: str = "metadata") -> dict[str, str]:
    meta = params.get("metadata") or {}
    if not isinstance(meta, dict) or len(meta) > 3:
        raise validation(field, "must be an object with at most 3 keys")
    for k, v in meta.items():
        if len(str(k)) > 50 or not isinstance(v, str) or len(v) > 500:
            raise validation(
                f"{field}[{k}]", "keys are at most 50 characters and values strings of at most 500"
            )
    return dict(meta)


def amount_param(params: dict[str, Any], field: str = "amount", pointer: str = "") -> int:
    value = params.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise validation(field, "must be a positive integer (minor units)", f"{pointer}/{field}")
    return value


def currency_param(params: dict[str, Any], pointer: str = "") -> str:
    value = params.get("currency")
    if value not in CURRENCIES:
        raise validation("currency", "is not a supported currency", f"{pointer}/currency")
    return value


def date_param(value: Any, field: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise validation(field, "must be a date (YYYY-MM-DD)") from None
