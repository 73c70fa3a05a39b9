"""The hosted pages a payer sees at a flow's ``authorisation_url``.

"Authorise Direct Debit" for a billing request with a mandate request; "Pay by bank" for a payment-only one
(Instant Bank Pay), which asks for a name and an email only when the billing request has no customer.
"""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = "body{font-family:sans-serif;max-width:32em;margin:2em auto}label{display:block;margin:.5em 0}"


def _page(title: str, body: str) -> bytes:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    ).encode()


def form_page(
    flow: dict[str, Any], billing_request: dict[str, Any], customer: dict[str, Any] | None
) -> bytes:
    pre = dict(flow.get("prefilled_customer") or {})
    if customer:
        pre.update({k: v for k, v in customer.items() if isinstance(v, str)})
    pr = billing_request.get("payment_request") or {}
    amount = ""
    if pr.get("amount"):
        amount = f"<p>One-off payment: {pr['amount'] / 100:.2f} {escape(pr.get('currency', ''))}</p>"

    def field(name: str, label: str, value: str = "") -> str:
        return f"<label>{escape(label)} <input name='{name}' id='{name}' value='{escape(value or '', quote=True)}'></label>"

    fields = "".join(
        [
            field("given_name", "First name", pre.get("given_name", "")),
            field("family_name", "Last name", pre.get("family_name", "")),
            field("email", "Email", pre.get("email", "")),
            field("account_holder_name", "Account holder name"),
            field("sort_code", "Sort code", "200000"),
            field("account_number", "Account number", "55779911"),
        ]
    )
    body = (
        "<p>Simulated GoCardless payment page. Nothing here touches a real bank.</p>"
        f"{amount}<form method='post' action='/flow/{escape(flow['id'])}' id='authorise'>{fields}"
        "<button type='submit'>Set up Direct Debit</button></form>"
    )
    return _page("Authorise Direct Debit", body)


def done_page(flow: dict[str, Any], billing_request: dict[str, Any]) -> bytes:
    # A link, never a redirect: following redirect_uri would send traffic off 127.0.0.1.
    link = ""
    if flow.get("redirect_uri"):
        link = f"<p><a id='continue' href='{escape(flow['redirect_uri'], quote=True)}'>Continue</a></p>"
    mandate = billing_request["links"].get("mandate_request_mandate", "")
    return _page(
        "Direct Debit set up",
        f"<p id='status'>{escape(billing_request['status'])}</p><p id='mandate'>{escape(mandate)}</p>{link}",
    )


def message_page(title: str, message: str) -> bytes:
    return _page(title, f"<p id='message'>{escape(message)}</p>")


def money(amount: int, currency: str) -> str:
    """2500, "GBP" → "£25.00"; other currencies as "25.00 EUR"."""
    return f"£{amount / 100:,.2f}" if currency == "GBP" else f"{amount / 100:,.2f} {currency}"


def payment_page(
    flow: dict[str, Any],
    billing_request: dict[str, Any],
    customer: dict[str, Any] | None,
    form: dict[str, str] | None = None,
    error: str | None = None,
) -> bytes:
    pr = billing_request["payment_request"]
    price = money(pr["amount"], pr["currency"])
    fields = ""
    if customer is None:
        pre = {**dict(flow.get("prefilled_customer") or {}), **(form or {})}

        def field(name: str, label: str) -> str:
            value = escape(pre.get(name) or "", quote=True)
            return f"<label>{escape(label)} <input name='{name}' id='{name}' value='{value}'></label>"

        fields = (
            field("given_name", "First name") + field("family_name", "Last name") + field("email", "Email")
        )
    else:
        name = " ".join(x for x in (customer.get("given_name"), customer.get("family_name")) if x)
        fields = f"<p id='payer'>Paying as {escape(name or customer.get('email') or '')}</p>"
    problem = f"<p id='error' role='alert'>{escape(error)}</p>" if error else ""
    body = (
        "<p>Simulated GoCardless payment page. Nothing here touches a real bank.</p>"
        f"<p id='amount'>{escape(price)}</p><p id='description'>{escape(pr.get('description') or '')}</p>"
        f"{problem}<form method='post' action='/flow/{escape(flow['id'])}' id='pay'>{fields}"
        f"<button type='submit'>Pay {escape(price)} by bank</button></form>"
    )
    return _page("Pay by bank", body)


def paid_page(flow: dict[str, Any], billing_request: dict[str, Any], payment: dict[str, Any] | None) -> bytes:
    # A link, never a redirect: following redirect_uri would send traffic off 127.0.0.1.
    link = ""
    if flow.get("redirect_uri"):
        link = f"<p><a id='continue' href='{escape(flow['redirect_uri'], quote=True)}'>Continue</a></p>"
    pr = billing_request["payment_request"]
    status = payment["status"] if payment else billing_request["status"]
    return _page(
        "Payment made",
        f"<p id='amount'>{escape(money(pr['amount'], pr['currency']))}</p>"
        f"<p id='status'>{escape(status)}</p><p id='payment'>{escape(payment['id'] if payment else '')}</p>{link}",
    )
