"""The hosted "Authorise Direct Debit" page a payer sees at a flow's ``authorisation_url``."""

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
