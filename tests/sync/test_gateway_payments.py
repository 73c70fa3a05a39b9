"""``GoCardlessGateway`` for payment links (deposits, baskets paid by link, a package's "Buy" button): the real
gocardless-pro client against the local simulator, with the payer's browser played by ``requests``."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
import requests

from aestheticc_pos.sync.gateway import (
    AuthenticationFailed,
    FlowResult,
    PaymentGateway,
    PermanentGatewayError,
    RateLimited,
    RemoteResult,
    TemplateResult,
)
from aestheticc_pos.sync.gocardless import GoCardlessGateway
from aestheticc_pos.sync.simulator import LOST_RESPONSE, RATE_LIMIT_429, Simulator

DEPOSIT = {"payment_request": {"amount": 3000, "currency": "GBP", "description": "Deposit: Lip filler"}}


def _keys_sent(simulator: Simulator, path: str) -> list[str | None]:
    return [key for method, sent, key in simulator.requests if method == "POST" and sent.startswith(path)]


def _pay(url: str, **fields: str) -> requests.Response:
    """The payer opens ``url`` (a flow, or a template that sends them to a new flow) and pays by bank."""
    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and page.url.startswith("http://127.0.0.1:")
    action = re.search(r"<form method='post' action='([^']+)' id='pay'>", page.text).group(1)
    done = requests.post(urljoin(page.url, action), data=fields, timeout=5, allow_redirects=False)
    assert done.status_code == 200 and "Payment made" in done.text
    return done


def _paid_deposit(simulator: Simulator, gateway: GoCardlessGateway, deposit: str = "d1") -> str:
    """A deposit link paid by a new payer; returns the payment's id."""
    request = gateway.create_payment_request(DEPOSIT, f"deposit-{deposit}-create_payment_request-v1")
    flow = gateway.create_payment_link_flow(
        {"billing_request_id": request.remote_id}, f"deposit-{deposit}-create_payment_link_flow-v1"
    )
    _pay(flow.authorisation_url, given_name="Ivy", family_name="Hart", email="ivy@example.com")
    return gateway.get_billing_request(request.remote_id)["links"]["payment_request_payment"]


def test_the_adapter_has_every_method_of_the_port(gateway: GoCardlessGateway) -> None:
    wanted = [name for name in vars(PaymentGateway) if not name.startswith("_")]
    assert {"create_payment_request", "cancel_billing_request", "update_billing_request_template"} <= set(
        wanted
    )
    assert [name for name in wanted if not callable(getattr(gateway, name, None))] == []


def test_a_deposit_link_is_made_with_stored_keys_and_paid_by_a_new_payer(
    simulator: Simulator, gateway: GoCardlessGateway
) -> None:
    request = gateway.create_payment_request(
        {**DEPOSIT, "metadata": {"deposit_id": "d1"}}, "deposit-d1-create_payment_request-v1"
    )
    replayed = gateway.create_payment_request(DEPOSIT, "deposit-d1-create_payment_request-v1")
    flow = gateway.create_payment_link_flow(
        {"links": {"billing_request": request.remote_id}, "redirect_uri": "https://clinic.example/paid"},
        "deposit-d1-create_payment_link_flow-v1",
    )

    assert isinstance(request, RemoteResult) and request.remote_id.startswith("BRQ")
    assert request.status == "pending" and request.data["payment_request"]["scheme"] == "faster_payments"
    assert replayed.remote_id == request.remote_id and simulator.count("billing_requests") == 1
    assert _keys_sent(simulator, "/billing_requests") == ["deposit-d1-create_payment_request-v1"] * 2
    assert isinstance(flow, FlowResult) and flow.replaced_flow_id is None
    assert flow.authorisation_url == f"{simulator.base_url}/flow/{flow.remote_id}" and flow.expires_at
    assert _keys_sent(simulator, "/billing_request_flows") == ["deposit-d1-create_payment_link_flow-v1"]

    done = _pay(flow.authorisation_url, given_name="Ivy", family_name="Hart", email="ivy@example.com")

    billing_request = gateway.get_billing_request(request.remote_id)
    assert billing_request["status"] == "fulfilled" and billing_request["metadata"] == {"deposit_id": "d1"}
    payment = gateway.get_payment(billing_request["links"]["payment_request_payment"])
    assert (payment["amount"], payment["status"], payment["scheme"]) == (3000, "confirmed", "faster_payments")
    assert "mandate" not in payment["links"] and payment["id"] in done.text
    assert "https://clinic.example/paid" in done.text  # a link on the page, never followed


def test_a_replayed_payment_link_flow_is_replaced_and_names_the_old_one(
    simulator: Simulator, gateway: GoCardlessGateway
) -> None:
    request = gateway.create_payment_request(DEPOSIT, "deposit-d2-create_payment_request-v1")
    payload = {"billing_request_id": request.remote_id}

    first = gateway.create_payment_link_flow(payload, "deposit-d2-create_payment_link_flow-v1")
    again = gateway.create_payment_link_flow(payload, "deposit-d2-create_payment_link_flow-v1")

    assert again.replaced_flow_id == first.remote_id and again.remote_id != first.remote_id
    assert again.data["links"]["billing_request"] == request.remote_id
    assert requests.get(first.authorisation_url, timeout=5).status_code == 200  # the old link still works
    assert simulator.count("billing_request_flows") == 2


def test_a_payment_link_for_a_known_customer(simulator: Simulator, gateway: GoCardlessGateway) -> None:
    customer = gateway.create_customer(
        {"given_name": "Ana", "family_name": "Silva", "email": "ana@example.com"},
        "client-c1-create_customer-v1",
    )
    request = gateway.create_payment_request(
        {**DEPOSIT, "customer_id": customer.remote_id}, "sale-s9-create_payment_request-v1"
    )
    flow = gateway.create_payment_link_flow(
        {"billing_request_id": request.remote_id}, "sale-s9-create_payment_link_flow-v1"
    )
    _pay(flow.authorisation_url)

    assert request.data["links"]["customer"] == customer.remote_id
    assert gateway.get_billing_request(request.remote_id)["links"]["customer"] == customer.remote_id
    assert simulator.count("customers") == 1


def test_payloads_the_engine_built_wrongly_are_refused_before_sending(
    simulator: Simulator, gateway: GoCardlessGateway
) -> None:
    with pytest.raises(ValueError, match="payment_request"):
        gateway.create_payment_request({"mandate_request": {"currency": "GBP"}}, "k1")
    with pytest.raises(ValueError, match="billing_request"):
        gateway.create_payment_link_flow({"links": {}}, "k2")
    with pytest.raises(ValueError, match="billing_request_id"):
        gateway.cancel_billing_request({"billing_request_id": None}, "k3")
    with pytest.raises(ValueError, match="payment_request_amount"):
        gateway.create_billing_request_template({"name": "X", "payment_request_amount": 1.5}, "k4")
    with pytest.raises(ValueError, match="idempotency key"):
        gateway.create_payment_request(DEPOSIT, "")
    assert simulator.requests == []


def test_a_link_is_cancelled_once_and_a_repeat_counts_as_done(
    simulator: Simulator, gateway: GoCardlessGateway
) -> None:
    request = gateway.create_payment_request(DEPOSIT, "deposit-d3-create_payment_request-v1")
    flow = gateway.create_payment_link_flow(
        {"billing_request_id": request.remote_id}, "deposit-d3-create_payment_link_flow-v1"
    )

    first = gateway.cancel_billing_request(
        {"billing_request_id": request.remote_id}, "deposit-d3-cancel_billing_request-v1"
    )
    again = gateway.cancel_billing_request(
        {"billing_request_id": request.remote_id}, "deposit-d3-cancel_billing_request-v1"
    )

    assert first.status == again.status == "cancelled" and again.remote_id == request.remote_id
    assert requests.get(flow.authorisation_url, timeout=5).status_code == 410
    assert [e["details"]["origin"] for e in simulator.events("billing_requests", "cancelled")] == ["api"]


def test_a_link_already_paid_cannot_be_cancelled(simulator: Simulator, gateway: GoCardlessGateway) -> None:
    _paid_deposit(simulator, gateway, "d4")
    request_id = simulator.all("billing_requests")[0]["id"]

    with pytest.raises(PermanentGatewayError) as refused:
        gateway.cancel_billing_request(
            {"billing_request_id": request_id}, "deposit-d4-cancel_billing_request-v1"
        )

    assert str(refused.value).startswith("GoCardless did not accept cancelling the payment link:")
    assert gateway.get_billing_request(request_id)["status"] == "fulfilled"


def test_an_expired_link_reads_back_as_cancelled_by_gocardless(
    simulator: Simulator, gateway: GoCardlessGateway
) -> None:
    request = gateway.create_payment_request(DEPOSIT, "deposit-d5-create_payment_request-v1")
    simulator.expire_billing_request(request.remote_id)

    assert gateway.get_billing_request(request.remote_id)["status"] == "cancelled"
    events = gateway.list_events().events
    cancelled = [e for e in events if e["action"] == "cancelled"]
    assert [(e["links"]["billing_request"], e["details"]["origin"]) for e in cancelled] == [
        (request.remote_id, "gocardless")
    ]
    # Cancelling it afterwards counts as done: the link is dead either way.
    done = gateway.cancel_billing_request(
        {"billing_request_id": request.remote_id}, "deposit-d5-cancel_billing_request-v1"
    )
    assert done.status == "cancelled"


def test_a_package_buy_button_is_a_template_bought_by_two_visitors(
    simulator: Simulator, gateway: GoCardlessGateway
) -> None:
    payload = {
        "name": "Botox starter",
        "payment_request_amount": 29900,  # pence, as every amount in our payloads
        "payment_request_currency": "GBP",
        "payment_request_description": "Botox starter package",
        "payment_request_metadata": {"package_id": "pkg-botox"},
    }
    template = gateway.create_billing_request_template(payload, "package-botox-template-v1")
    replayed = gateway.create_billing_request_template(payload, "package-botox-template-v1")

    assert isinstance(template, TemplateResult) and template.remote_id.startswith("BRT")
    assert template.data["payment_request_amount"] == "299.00"
    assert template.authorisation_url == f"{simulator.base_url}/template/{template.remote_id}"
    assert replayed.remote_id == template.remote_id and simulator.count("billing_request_templates") == 1
    assert _keys_sent(simulator, "/billing_request_templates") == ["package-botox-template-v1"] * 2

    _pay(template.authorisation_url, given_name="Cara", family_name="Dunne", email="cara@example.com")
    _pay(template.authorisation_url, given_name="Dev", family_name="Patel", email="dev@example.com")

    payments = simulator.all("payments")
    assert len(payments) == 2 and {p["amount"] for p in payments} == {29900}
    assert {p["metadata"]["package_id"] for p in payments} == {"pkg-botox"}
    assert len({simulator.get("customers", c["id"])["email"] for c in simulator.all("customers")}) == 2
    fulfilled = [e for e in gateway.list_events().events if e["action"] == "fulfilled"]
    assert sorted(e["links"]["payment_request_payment"] for e in fulfilled) == sorted(
        p["id"] for p in payments
    )
    for event in fulfilled:  # how a listener learns which package was bought
        payment = gateway.get_payment(event["links"]["payment_request_payment"])
        assert payment["metadata"] == {"package_id": "pkg-botox"}


def test_a_template_update_takes_the_new_price_for_later_buyers(
    simulator: Simulator, gateway: GoCardlessGateway
) -> None:
    template = gateway.create_billing_request_template(
        {"name": "Peel", "payment_request_amount": "80.00", "payment_request_currency": "GBP"},
        "package-peel-template-v1",
    )
    updated = gateway.update_billing_request_template(
        {"billing_request_template_id": template.remote_id, "payment_request_amount": 7250},
        "package-peel-update_template-v2",
    )

    assert isinstance(updated, TemplateResult) and updated.remote_id == template.remote_id
    assert updated.data["payment_request_amount"] == "72.50"
    assert updated.authorisation_url == template.authorisation_url
    assert gateway.get_billing_request_template(template.remote_id)["payment_request_amount"] == "72.50"
    _pay(template.authorisation_url, given_name="Eve", family_name="Ng", email="eve@example.com")
    assert simulator.all("payments")[0]["amount"] == 7250
    with pytest.raises(PermanentGatewayError) as refused:
        gateway.update_billing_request_template(
            {"billing_request_template_id": template.remote_id, "payment_request_currency": "XYZ"},
            "package-peel-update_template-v3",
        )
    assert refused.value.field == "payment_request_currency"


def test_a_deposit_is_refunded_with_its_stored_key(simulator: Simulator, gateway: GoCardlessGateway) -> None:
    payment_id = _paid_deposit(simulator, gateway, "d6")
    payload = {"payment_id": payment_id, "amount": 3000, "total_amount_confirmation": 3000}

    refund = gateway.create_refund(payload, "deposit-d6-create_refund-v1")
    replayed = gateway.create_refund(payload, "deposit-d6-create_refund-v1")
    simulator.pay_refund(refund.remote_id)

    assert refund.remote_id.startswith("RF") and replayed.remote_id == refund.remote_id
    assert simulator.count("refunds") == 1
    read = gateway.get_refund(refund.remote_id)
    assert read["status"] == "paid" and read["links"] == {"payment": payment_id}
    assert gateway.get_payment(payment_id)["amount_refunded"] == 3000
    with pytest.raises(PermanentGatewayError) as refused:  # nothing left to refund
        gateway.create_refund(
            {"payment_id": payment_id, "amount": 1, "total_amount_confirmation": 3001},
            "deposit-d6-create_refund-v2",
        )
    assert refused.value.field == "amount"


def test_a_lost_response_on_a_payment_link_is_retried_with_the_same_key(
    simulator: Simulator, gateway: GoCardlessGateway
) -> None:
    simulator.inject(LOST_RESPONSE, path_prefix="/billing_requests", method="POST")

    result = gateway.create_payment_request(DEPOSIT, "deposit-d7-create_payment_request-v1")

    assert simulator.count("billing_requests") == 1
    assert result.remote_id == simulator.all("billing_requests")[0]["id"]
    assert set(_keys_sent(simulator, "/billing_requests")) == {"deposit-d7-create_payment_request-v1"}


def test_errors_on_payment_links_come_out_as_the_ports_errors(
    simulator: Simulator, gateway: GoCardlessGateway
) -> None:
    simulator.inject(RATE_LIMIT_429, path_prefix="/billing_request_templates")
    with pytest.raises(RateLimited):
        gateway.create_billing_request_template(
            {"name": "Peel", "payment_request_amount": 8000, "payment_request_currency": "GBP"}, "t-v1"
        )
    with pytest.raises(PermanentGatewayError) as refused:
        gateway.create_payment_request(
            {"payment_request": {"amount": 3000, "currency": "USD"}}, "deposit-d8-create_payment_request-v1"
        )
    assert refused.value.field == "currency"
    simulator.access_token = "the-right-token"
    with pytest.raises(AuthenticationFailed):
        gateway.create_payment_request(DEPOSIT, "deposit-d9-create_payment_request-v1")
    assert simulator.count("billing_requests") == 0 and simulator.count("billing_request_templates") == 0


def test_payment_link_events_are_read_page_by_page(simulator: Simulator, gateway: GoCardlessGateway) -> None:
    _paid_deposit(simulator, gateway, "d10")
    _paid_deposit(simulator, gateway, "d11")
    everything = simulator.events()

    seen, page = [], gateway.list_events(limit=3)
    seen += page.events
    while page.after:
        page = gateway.list_events(after=page.after, limit=3)
        seen += page.events

    assert [e["id"] for e in seen] == [e["id"] for e in everything] and len(everything) == 20
    assert all(isinstance(e["details"], dict) and isinstance(e["links"], dict) for e in seen)
    latest = max(e["created_at"] for e in seen)
    assert gateway.list_events(since=latest).events == []
