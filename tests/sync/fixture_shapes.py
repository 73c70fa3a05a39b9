"""What GoCardless's responses look like, field by field: a table written from the official client's test fixtures
(gocardless/gocardless-pro-python ``tests/fixtures``, the resource classes beside them) and the status enums of
the API (NOTES.md §4). Facts only: names, JSON types, allowed statuses; nothing here is read from those files.

A type is ``str``, ``int``, ``bool``, ``obj`` or ``list``; a trailing ``?`` means the API sends ``null`` when the
field does not apply (an optional field nobody set). ``fields`` must be present in every response; ``when_present``
holds the keys of ``links``/``details`` and similar maps, which carry only what applies (a payment not paid out has
no ``links.payout``), and sections that may be ``null``: their own fields are checked only when the section is an
object. ``statuses`` is the field ``status`` (or ``type``) and its allowed values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Shape:
    fields: dict[str, str]
    when_present: dict[str, str] = field(default_factory=dict)
    statuses: frozenset[str] = frozenset()
    status_field: str = "status"
    # Sections whose fields in ``when_present`` must all be there whenever the section is an object.
    whole_sections: frozenset[str] = frozenset()


_FX = {
    "fx": "obj",
    "fx.estimated_exchange_rate": "str?",
    "fx.exchange_rate": "str?",
    "fx.fx_amount": "int?",
    "fx.fx_currency": "str?",
}

CUSTOMER = Shape(
    fields={
        "id": "str",
        "created_at": "str",
        "email": "str?",
        "given_name": "str?",
        "family_name": "str?",
        "company_name": "str?",
        "address_line1": "str?",
        "address_line2": "str?",
        "address_line3": "str?",
        "city": "str?",
        "region": "str?",
        "postal_code": "str?",
        "country_code": "str?",
        "language": "str?",
        "phone_number": "str?",
        "danish_identity_number": "str?",
        "swedish_identity_number": "str?",
        "metadata": "obj",
    }
)

# A billing request's ``resources``: the customer as the payer gave it (no address: that is the billing detail),
# their bank account and their billing detail.
_BR_RESOURCES = {
    "resources.customer": "obj",
    "resources.customer.id": "str",
    "resources.customer.created_at": "str",
    "resources.customer.email": "str?",
    "resources.customer.given_name": "str?",
    "resources.customer.family_name": "str?",
    "resources.customer.company_name": "str?",
    "resources.customer.language": "str?",
    "resources.customer.phone_number": "str?",
    "resources.customer.metadata": "obj",
    "resources.customer_bank_account": "obj?",  # none for a payment by bank
    "resources.customer_bank_account.id": "str",
    "resources.customer_bank_account.created_at": "str",
    "resources.customer_bank_account.account_holder_name": "str",
    "resources.customer_bank_account.account_number_ending": "str",
    "resources.customer_bank_account.account_type": "str?",
    "resources.customer_bank_account.bank_account_token": "str?",
    "resources.customer_bank_account.bank_name": "str",
    "resources.customer_bank_account.country_code": "str",
    "resources.customer_bank_account.currency": "str",
    "resources.customer_bank_account.enabled": "bool",
    "resources.customer_bank_account.payer_name_verification_result": "str?",
    "resources.customer_bank_account.metadata": "obj",
    "resources.customer_bank_account.links": "obj",
    "resources.customer_bank_account.links.customer": "str",
    "resources.customer_billing_detail": "obj",
    "resources.customer_billing_detail.id": "str",
    "resources.customer_billing_detail.created_at": "str",
    "resources.customer_billing_detail.address_line1": "str?",
    "resources.customer_billing_detail.address_line2": "str?",
    "resources.customer_billing_detail.address_line3": "str?",
    "resources.customer_billing_detail.city": "str?",
    "resources.customer_billing_detail.region": "str?",
    "resources.customer_billing_detail.postal_code": "str?",
    "resources.customer_billing_detail.country_code": "str?",
    "resources.customer_billing_detail.danish_identity_number": "str?",
    "resources.customer_billing_detail.swedish_identity_number": "str?",
    "resources.customer_billing_detail.ip_address": "str?",
    "resources.customer_billing_detail.schemes": "list",
}

BILLING_REQUEST = Shape(
    fields={
        "id": "str",
        "created_at": "str",
        "status": "str",
        "actions": "list",
        "fallback_enabled": "bool",
        "fallback_occurred": "bool",
        "metadata": "obj",
        "purpose_code": "str?",
        "payment_context_code": "str?",
        "payment_purpose_code": "str?",
        "links": "obj",
        "links.creditor": "str",
        "mandate_request": "obj?",
        "payment_request": "obj?",
        "subscription_request": "obj?",
        "instalment_schedule_request": "obj?",
        "resources": "obj",
    },
    when_present={
        **{
            f"links.{name}": "str"
            for name in (
                "bank_authorisation",
                "customer",
                "customer_bank_account",
                "customer_billing_detail",
                "mandate_request",
                "mandate_request_mandate",
                "payment_request",
                "payment_request_payment",
                "organisation",
                "payment_provider",
                "subscription_request",
                "subscription_request_subscription",
                "instalment_schedule_request",
                "instalment_schedule_request_instalment_schedule",
            )
        },
        "mandate_request.scheme": "str?",
        "mandate_request.currency": "str",
        "mandate_request.verify": "str",
        "mandate_request.authorisation_source": "str?",
        "mandate_request.consent_type": "str?",
        "mandate_request.description": "str?",
        "mandate_request.funds_settlement": "str",
        "mandate_request.payer_requested_dual_signature": "bool",
        "mandate_request.sweeping": "bool",
        "mandate_request.metadata": "obj",
        "mandate_request.constraints": "obj?",
        "mandate_request.links": "obj",
        "mandate_request.links.mandate": "str",
        "payment_request.amount": "int",
        "payment_request.currency": "str",
        "payment_request.description": "str?",
        "payment_request.reference": "str?",
        "payment_request.scheme": "str?",
        "payment_request.app_fee": "int?",
        "payment_request.funds_settlement": "str",
        "payment_request.metadata": "obj",
        "payment_request.links": "obj",
        "payment_request.links.payment": "str",
        **_BR_RESOURCES,
    },
    statuses=frozenset({"pending", "ready_to_fulfil", "fulfilling", "fulfilled", "cancelled"}),
    whole_sections=frozenset(
        {
            "mandate_request",
            "payment_request",
            "resources.customer",
            "resources.customer_bank_account",
            "resources.customer_billing_detail",
        }
    ),
)

BILLING_REQUEST_FLOW = Shape(
    fields={
        "id": "str",
        "created_at": "str",
        "authorisation_url": "str",
        "auto_fulfil": "bool",
        "customer_details_captured": "bool",
        "exit_uri": "str?",
        "expires_at": "str",
        "language": "str?",
        "lock_bank_account": "bool",
        "lock_currency": "bool",
        "lock_customer_details": "bool",
        "prefilled_bank_account": "obj",
        "prefilled_customer": "obj",
        "redirect_uri": "str?",
        "session_token": "str?",
        "show_redirect_buttons": "bool",
        "show_success_redirect_button": "bool",
        "skip_success_screen": "bool",
        "links": "obj",
        "links.billing_request": "str",
    },
    when_present={
        "prefilled_bank_account.account_type": "str?",
        **{
            f"prefilled_customer.{name}": "str?"
            for name in (
                "address_line1",
                "address_line2",
                "address_line3",
                "city",
                "company_name",
                "country_code",
                "danish_identity_number",
                "email",
                "family_name",
                "given_name",
                "postal_code",
                "region",
                "swedish_identity_number",
            )
        },
    },
)

BILLING_REQUEST_TEMPLATE = Shape(
    fields={
        "id": "str",
        "created_at": "str",
        "updated_at": "str",
        "authorisation_url": "str",
        "name": "str",
        "metadata": "obj",
        "redirect_uri": "str?",
        "mandate_request_constraints": "obj?",
        "mandate_request_currency": "str?",
        "mandate_request_description": "str?",
        "mandate_request_metadata": "obj?",
        "mandate_request_scheme": "str?",
        "mandate_request_verify": "str?",
        "payment_request_amount": "str?",
        "payment_request_currency": "str?",
        "payment_request_description": "str?",
        "payment_request_metadata": "obj?",
        "payment_request_scheme": "str?",
    }
)

MANDATE = Shape(
    fields={
        "id": "str",
        "created_at": "str",
        "authorisation_source": "str?",
        "consent_parameters": "obj",
        "consent_type": "str?",
        "funds_settlement": "str",
        "mandate_type": "str",
        "metadata": "obj",
        "next_possible_charge_date": "str?",
        "next_possible_standard_ach_charge_date": "str?",
        "payments_require_approval": "bool",
        "reference": "str",
        "scheme": "str",
        "status": "str",
        "verified_at": "str?",
        "links": "obj",
        "links.creditor": "str",
        "links.customer": "str",
        "links.customer_bank_account": "str",
    },
    when_present={"links.new_mandate": "str"},
    statuses=frozenset(
        {
            "pending_customer_approval",
            "pending_submission",
            "submitted",
            "active",
            "suspended_by_payer",
            "failed",
            "cancelled",
            "expired",
            "consumed",
            "blocked",
        }
    ),
)

SUBSCRIPTION = Shape(
    fields={
        "id": "str",
        "created_at": "str",
        "amount": "int",
        "app_fee": "int?",
        "count": "int?",
        "currency": "str",
        "day_of_month": "int?",
        "earliest_charge_date_after_resume": "str?",
        "end_date": "str?",
        "interval": "int",
        "interval_unit": "str",
        "metadata": "obj",
        "month": "str?",
        "name": "str?",
        "parent_plan_paused": "bool",
        "payment_reference": "str?",
        "retry_if_possible": "bool",
        "start_date": "str",
        "status": "str",
        "upcoming_payments": "list",
        "links": "obj",
        "links.mandate": "str",
    },
    statuses=frozenset(
        {"pending_customer_approval", "customer_approval_denied", "active", "finished", "cancelled", "paused"}
    ),
)

PAYMENT = Shape(
    fields={
        "id": "str",
        "created_at": "str",
        "amount": "int",
        "amount_refunded": "int",
        "app_fee": "int?",
        "charge_date": "str",
        "currency": "str",
        "description": "str?",
        "faster_ach": "bool",
        **_FX,
        "metadata": "obj",
        "reference": "str?",
        "retry_if_possible": "bool",
        "scheme": "str",
        "status": "str",
        "links": "obj",
        "links.creditor": "str",
    },
    when_present={
        "links.mandate": "str",
        "links.subscription": "str",
        "links.payout": "str",
        "links.instalment_schedule": "str",
    },
    statuses=frozenset(
        {
            "pending_customer_approval",
            "pending_submission",
            "submitted",
            "confirmed",
            "paid_out",
            "cancelled",
            "customer_approval_denied",
            "failed",
            "charged_back",
        }
    ),
)

REFUND = Shape(
    fields={
        "id": "str",
        "created_at": "str",
        "amount": "int",
        "currency": "str",
        **_FX,
        "metadata": "obj",
        "reference": "str?",
        "status": "str",
        "links": "obj",
        "links.payment": "str",
    },
    when_present={"links.mandate": "str"},
    statuses=frozenset(
        {"created", "pending_submission", "submitted", "paid", "cancelled", "bounced", "funds_returned"}
    ),
)

PAYOUT = Shape(
    fields={
        "id": "str",
        "created_at": "str",
        "amount": "int",
        "arrival_date": "str?",
        "currency": "str",
        "deducted_fees": "int",
        **_FX,
        "metadata": "obj",
        "payout_type": "str",
        "reference": "str",
        "status": "str",
        "tax_currency": "str?",
        "links": "obj",
        "links.creditor": "str",
        "links.creditor_bank_account": "str",
    },
    statuses=frozenset({"pending", "paid", "bounced"}),
)

PAYOUT_ITEM = Shape(
    fields={"amount": "str", "type": "str", "taxes": "list", "links": "obj"},
    when_present={"links.payment": "str", "links.mandate": "str", "links.refund": "str"},
    statuses=frozenset(
        {
            "payment_paid_out",
            "payment_failed",
            "payment_charged_back",
            "payment_refunded",
            "refund",
            "gocardless_fee",
            "app_fee",
            "revenue_share",
            "surcharge_fee",
            "refund_funds_returned",
        }
    ),
    status_field="type",
)

EVENT = Shape(
    fields={
        "id": "str",
        "created_at": "str",
        "action": "str",
        "resource_type": "str",
        "customer_notifications": "list",
        "details": "obj",
        "details.origin": "str",
        "details.cause": "str",
        "details.description": "str",
        "metadata": "obj",
        "resource_metadata": "obj",
        "links": "obj",
        "source": "obj",
        "source.type": "str",
        "source.name": "str",
    },
    when_present={
        "details.bank_account_id": "str",
        "details.currency": "str",
        "details.item_count": "int",
        "details.not_retried_reason": "str",
        "details.property": "str",
        "details.reason_code": "str",
        "details.scheme": "str",
        "details.will_attempt_retry": "bool",
        **{
            f"links.{name}": "str"
            for name in (
                "bank_authorisation",
                "billing_request",
                "billing_request_flow",
                "creditor",
                "customer",
                "customer_bank_account",
                "instalment_schedule",
                "mandate",
                "mandate_request",
                "mandate_request_mandate",
                "new_customer_bank_account",
                "new_mandate",
                "organisation",
                "outbound_payment",
                "parent_event",
                "payer_authorisation",
                "payment",
                "payment_account_transaction",
                "payment_request_payment",
                "payout",
                "previous_customer_bank_account",
                "refund",
                "scheme_identifier",
                "subscription",
            )
        },
    },
)
EVENT_ORIGINS = frozenset({"bank", "api", "gocardless", "customer", "payer"})
EVENT_SOURCE_TYPES = frozenset({"app", "user", "gc_team", "access_token"})

_TYPES: dict[str, type | tuple[type, ...]] = {
    "str": str,
    "int": int,
    "bool": bool,
    "obj": dict,
    "list": list,
}


def problems(shape: Shape, body: dict[str, Any], what: str) -> list[str]:
    """Every way ``body`` (one resource as the API sent it) differs from ``shape``; empty when it matches."""
    found: list[str] = []
    for path, kind in shape.fields.items():
        present, value = _lookup(body, path)
        if not present:
            found.append(f"{what}: {path} is missing")
        else:
            found += _type_problem(what, path, kind, value)
    for path, kind in shape.when_present.items():
        present, value = _lookup(body, path)
        if present:
            found += _type_problem(what, path, kind, value)
            continue
        section = path.rsplit(".", 1)[0]
        if section in shape.whole_sections and isinstance(_lookup(body, section)[1], dict):
            found.append(f"{what}: {path} is missing")
    unknown = _unknown_keys(shape, body)
    found += [f"{what}: {path} is not a field of this resource" for path in unknown]
    if shape.statuses:
        status = body.get(shape.status_field)
        if status not in shape.statuses:
            found.append(f"{what}: {shape.status_field} {status!r} is not one of the API's values")
    return found


def _lookup(body: dict[str, Any], path: str) -> tuple[bool, Any]:
    """(present, value) of a dotted path; a path under a ``null`` section counts as absent."""
    value: Any = body
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _type_problem(what: str, path: str, kind: str, value: Any) -> list[str]:
    nullable = kind.endswith("?")
    expected = _TYPES[kind.rstrip("?")]
    if value is None:
        return [] if nullable else [f"{what}: {path} is null"]
    if isinstance(value, bool) and expected is int:
        return [f"{what}: {path} is a bool, not an int"]
    if not isinstance(value, expected):
        return [f"{what}: {path} is {type(value).__name__}, not {kind}"]
    return []


def _unknown_keys(shape: Shape, body: dict[str, Any]) -> list[str]:
    """Keys the API never sends: a top-level field, or a field of a known section, not in the table."""
    known = set(shape.fields) | set(shape.when_present)
    sections = {p.rsplit(".", 1)[0] for p in known if "." in p}
    free = {
        "metadata",
        "resource_metadata",
        "consent_parameters",
        "prefilled_bank_account",
        "prefilled_customer",
    }
    unknown = []

    def walk(value: dict[str, Any], prefix: str) -> None:
        for key, inner in value.items():
            path = f"{prefix}{key}"
            if path not in known and (prefix == "" or prefix.rstrip(".") in sections):
                unknown.append(path)
            elif isinstance(inner, dict) and path in sections and path not in free:
                walk(inner, path + ".")

    walk(body, "")
    return unknown
