"""``GoCardlessGateway``: the real gocardless-pro client against the local simulator (never a mock).

Creates send the stored idempotency key, replays return the same resource, actions repeated after success count
as done, and every fault comes out as one of the port's errors.
"""

from __future__ import annotations

import inspect
import socket
import time
from typing import Any

import pytest

from aestheticc_pos.sync.gateway import (
    AuthenticationFailed,
    FlowResult,
    PaymentGateway,
    PermanentGatewayError,
    RateLimited,
    RemoteResult,
    TransientGatewayError,
)
from aestheticc_pos.sync.gocardless import GoCardlessGateway
from aestheticc_pos.sync.simulator import (
    ERROR_500,
    HTML_502,
    LOST_RESPONSE,
    RATE_LIMIT_429,
    RESET,
    TIMEOUT,
    Simulator,
)

CUSTOMER = {"given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com"}


def _keys_sent(simulator: Simulator, path: str) -> list[str | None]:
    return [key for method, sent, key in simulator.requests if method == "POST" and sent.startswith(path)]


def _mandate(simulator: Simulator, gateway: GoCardlessGateway, member: str = "m1") -> str:
    """A customer, a billing request and a flow, authorised by the payer: returns the new mandate's id."""
    customer = gateway.create_customer(CUSTOMER, f"membership-{member}-create_customer-v1")
    request = gateway.create_billing_request(
        {"mandate_request": {"scheme": "bacs", "currency": "GBP"}, "links": {"customer": customer.remote_id}},
        f"membership-{member}-create_billing_request-v1",
    )
    flow = gateway.create_flow(
        {"links": {"billing_request": request.remote_id}, "prefilled_customer": {"email": CUSTOMER["email"]}},
        f"membership-{member}-create_flow-v1",
    )
    simulator.authorise(flow.remote_id, account_holder_name="Ada Lovelace", account_number="55779911")
    billing_request = gateway.get_billing_request(request.remote_id)
    return billing_request["links"]["mandate_request_mandate"]


def _subscription(
    gateway: GoCardlessGateway, mandate_id: str, key: str = "membership-m1-create_subscription-v1"
) -> RemoteResult:
    return gateway.create_subscription(
        {
            "amount": 4900,
            "currency": "GBP",
            "interval_unit": "monthly",
            "day_of_month": 1,
            "name": "Glow membership",
            "links": {"mandate": mandate_id},
        },
        key,
    )


def _payment(simulator: Simulator, gateway: GoCardlessGateway, sale: str) -> RemoteResult:
    mandate_id = _mandate(simulator, gateway)
    return gateway.create_payment(
        {"amount": 1000, "currency": "GBP", "mandate_id": mandate_id}, f"sale-{sale}-create_payment-v1"
    )


def test_the_adapter_has_every_method_of_the_port_with_the_same_parameters() -> None:
    """``PaymentGateway`` is a Protocol: nothing at run time checks that the adapter still matches it."""
    port_methods = {
        name: method
        for name, method in vars(PaymentGateway).items()
        if inspect.isfunction(method) and not name.startswith("_")
    }
    assert {"create_customer", "create_payment", "list_events"} <= port_methods.keys()
    for name, port_method in port_methods.items():
        adapter_method = getattr(GoCardlessGateway, name, None)
        assert inspect.isfunction(adapter_method), f"GoCardlessGateway has no method {name}"
        assert _parameters(adapter_method) == _parameters(port_method), name


def _parameters(method: Any) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(method).parameters.values()]


def test_a_customer_is_created_with_the_stored_key_and_a_replay_returns_the_same_one(
    simulator: Simulator, gateway: GoCardlessGateway
) -> None:
    first = gateway.create_customer(CUSTOMER, "membership-m1-create_customer-v1")
    again = gateway.create_customer(CUSTOMER, "membership-m1-create_customer-v1")

    assert first.remote_id.startswith("CU")
    assert again.remote_id == first.remote_id
    assert again.data["email"] == "ada@example.com"
    assert simulator.count("customers") == 1
    assert _keys_sent(simulator, "/customers") == ["membership-m1-create_customer-v1"] * 2


def test_a_response_lost_after_the_create_is_retried_with_the_same_key(
    simulator: Simulator, gateway: GoCardlessGateway
) -> None:
    simulator.inject(LOST_RESPONSE, path_prefix="/customers", method="POST")

    result = gateway.create_customer(CUSTOMER, "membership-m2-create_customer-v1")

    assert simulator.count("customers") == 1
    assert result.remote_id == simulator.all("customers")[0]["id"]
    assert set(_keys_sent(simulator, "/customers")) == {"membership-m2-create_customer-v1"}


def test_the_whole_set_up_gives_a_link_then_a_subscription_and_a_payment(
    simulator: Simulator, gateway: GoCardlessGateway
) -> None:
    customer = gateway.create_customer(CUSTOMER, "membership-m1-create_customer-v1")
    request = gateway.create_billing_request(
        {"mandate_request": {"scheme": "bacs", "currency": "GBP"}, "links": {"customer": customer.remote_id}},
        "membership-m1-create_billing_request-v1",
    )
    flow = gateway.create_flow(
        {"links": {"billing_request": request.remote_id}}, "membership-m1-create_flow-v1"
    )

    assert request.remote_id.startswith("BRQ") and request.status == "pending"
    assert isinstance(flow, FlowResult)
    assert flow.remote_id.startswith("BRF")
    assert flow.authorisation_url and flow.authorisation_url.startswith(simulator.base_url)
    assert flow.replaced_flow_id is None

    simulator.authorise(flow.remote_id, account_holder_name="Ada Lovelace", account_number="55779911")
    mandate_id = gateway.get_billing_request(request.remote_id)["links"]["mandate_request_mandate"]
    mandate = gateway.get_mandate(mandate_id)
    subscription = _subscription(gateway, mandate_id)
    replayed = _subscription(gateway, mandate_id)
    payment = gateway.create_payment(
        {"amount": 2500, "currency": "GBP", "mandate_id": mandate_id, "metadata": {"sale_id": "s1"}},
        "sale-s1-create_payment-v1",
    )
    payment_again = gateway.create_payment(
        {"amount": 2500, "currency": "GBP", "mandate_id": mandate_id}, "sale-s1-create_payment-v1"
    )

    assert mandate["id"] == mandate_id
    assert subscription.remote_id.startswith("SB") and replayed.remote_id == subscription.remote_id
    assert simulator.count("subscriptions") == 1
    assert payment.remote_id.startswith("PM") and payment_again.remote_id == payment.remote_id
    assert gateway.get_payment(payment.remote_id)["links"]["mandate"] == mandate_id
    assert simulator.count("payments") == 1
    assert _keys_sent(simulator, "/subscriptions") == ["membership-m1-create_subscription-v1"] * 2


def test_a_replayed_flow_cannot_be_read_back_so_a_replacement_is_made(
    simulator: Simulator, gateway: GoCardlessGateway
) -> None:
    request = gateway.create_billing_request(
        {"mandate_request": {"scheme": "bacs", "currency": "GBP"}}, "membership-m3-create_billing_request-v1"
    )
    payload = {"links": {"billing_request": request.remote_id}}

    first = gateway.create_flow(payload, "membership-m3-create_flow-v1")
    again = gateway.create_flow(payload, "membership-m3-create_flow-v1")
    third = gateway.create_flow(payload, "membership-m3-create_flow-v1")

    assert again.replaced_flow_id == first.remote_id
    assert again.remote_id != first.remote_id and again.authorisation_url
    assert again.data["links"]["billing_request"] == request.remote_id
    # Each replay follows the deterministic chain of replacement keys and makes exactly one new flow.
    assert third.replaced_flow_id == again.remote_id
    assert third.remote_id != again.remote_id
    assert simulator.count("billing_request_flows") == 3


def test_subscription_changes_and_actions_repeated_after_success_count_as_done(
    simulator: Simulator, gateway: GoCardlessGateway
) -> None:
    subscription = _subscription(gateway, _mandate(simulator, gateway)).remote_id

    updated = gateway.update_subscription(
        {"subscription_id": subscription, "amount": 5900}, "membership-m1-update_subscription-v1"
    )
    paused = gateway.pause_subscription(
        {"subscription_id": subscription}, "membership-m1-pause_subscription-v1"
    )
    resumed = gateway.resume_subscription(
        {"subscription_id": subscription}, "membership-m1-resume_subscription-v1"
    )
    cancelled = gateway.cancel_subscription(
        {"subscription_id": subscription, "ends_on": "2026-12-31"}, "membership-m1-cancel_subscription-v1"
    )
    cancelled_again = gateway.cancel_subscription(
        {"subscription_id": subscription, "ends_on": "2026-12-31"}, "membership-m1-cancel_subscription-v1"
    )

    assert updated.data["amount"] == 5900
    assert paused.status == "paused"
    assert resumed.status == "active"
    assert cancelled.status == "cancelled"
    assert cancelled_again.remote_id == subscription and cancelled_again.status == "cancelled"
    assert gateway.get_subscription(subscription)["status"] == "cancelled"


def test_a_payment_is_cancelled_once_and_a_repeat_counts_as_done(
    simulator: Simulator, gateway: GoCardlessGateway
) -> None:
    payment = _payment(simulator, gateway, "s2")

    first = gateway.cancel_payment({"payment_id": payment.remote_id}, "membership-m1-cancel_payment-v1")
    again = gateway.cancel_payment({"payment_id": payment.remote_id}, "membership-m1-cancel_payment-v1")

    assert first.status == again.status == "cancelled"


def test_a_payment_that_can_no_longer_be_cancelled_is_a_permanent_error(
    simulator: Simulator, gateway: GoCardlessGateway
) -> None:
    payment = _payment(simulator, gateway, "s3")
    simulator.submit_payment(payment.remote_id)

    with pytest.raises(PermanentGatewayError) as refused:
        gateway.cancel_payment({"payment_id": payment.remote_id}, "membership-m1-cancel_payment-v1")

    assert refused.value.reason == "cancellation_failed"
    assert str(refused.value).startswith("GoCardless did not accept cancelling the payment:")


def test_events_are_read_page_by_page_after_a_watermark(
    simulator: Simulator, gateway: GoCardlessGateway
) -> None:
    _mandate(simulator, gateway)
    everything = simulator.events()
    assert len(everything) >= 3

    seen: list[dict[str, Any]] = []
    page = gateway.list_events(limit=2)
    seen += page.events
    while page.after:
        page = gateway.list_events(after=page.after, limit=2)
        seen += page.events
    latest = max(event["created_at"] for event in seen)

    assert {e["id"] for e in seen} == {e["id"] for e in everything}
    assert all(isinstance(e["details"], dict) and isinstance(e["links"], dict) for e in seen)
    assert gateway.list_events(since=latest).events == []


def test_an_action_needs_the_id_the_engine_fills_in(gateway: GoCardlessGateway) -> None:
    with pytest.raises(ValueError, match="subscription_id"):
        gateway.cancel_subscription({"subscription_id": None}, "membership-m1-cancel_subscription-v1")


# --- faults -------------------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_refused_connection_is_transient() -> None:
    offline = GoCardlessGateway("sim-token", base_url=f"http://127.0.0.1:{_closed_port()}", timeout=2)

    with pytest.raises(TransientGatewayError, match="could not reach GoCardless"):
        offline.create_customer(CUSTOMER, "membership-m1-create_customer-v1")
    with pytest.raises(TransientGatewayError):
        offline.list_events()


@pytest.mark.parametrize("fault", [RESET, HTML_502, ERROR_500])
def test_broken_connections_bad_gateways_and_server_errors_are_transient(
    simulator: Simulator, gateway: GoCardlessGateway, fault: str
) -> None:
    simulator.inject(fault, times=3)

    with pytest.raises(TransientGatewayError) as raised:
        gateway.create_customer(CUSTOMER, "membership-m1-create_customer-v1")

    assert not isinstance(raised.value, RateLimited)
    assert simulator.count("customers") == 0


def test_a_timeout_is_transient(simulator: Simulator) -> None:
    impatient = GoCardlessGateway("sim-token", base_url=simulator.base_url, timeout=0.3)
    simulator.inject(TIMEOUT, times=3)  # reads are retried twice by the client

    with pytest.raises(TransientGatewayError, match="did not answer in time"):
        impatient.get_payment("PM123")


def test_a_429_waits_until_the_reset_the_refusal_named(
    simulator: Simulator, gateway: GoCardlessGateway
) -> None:
    simulator.inject(RATE_LIMIT_429)

    with pytest.raises(RateLimited) as limited:
        gateway.create_customer(CUSTOMER, "membership-m1-create_customer-v1")

    # The simulator's window ends at the next whole minute: the wait is what is left of it, never a blind minute.
    window_end = (int(time.time()) // 60 + 1) * 60
    assert 0 <= limited.value.retry_after.total_seconds() <= window_end - time.time() + 1
    assert isinstance(limited.value, TransientGatewayError)


def test_a_429_is_read_from_its_own_response_not_an_older_one(
    simulator: Simulator, gateway: GoCardlessGateway
) -> None:
    gateway.list_events()  # an earlier answer carried the window's reset too
    simulator.inject(RATE_LIMIT_429, reset_after=5)

    with pytest.raises(RateLimited) as limited:
        gateway.list_events()

    assert 3 <= limited.value.retry_after.total_seconds() <= 6


def test_a_validation_error_is_permanent_with_a_sentence_for_staff(gateway: GoCardlessGateway) -> None:
    with pytest.raises(PermanentGatewayError) as refused:
        gateway.create_customer({"given_name": "Ada"}, "membership-m1-create_customer-v1")

    error = refused.value
    assert error.field == "family_name"
    assert (
        str(error)
        == "GoCardless did not accept the client's details: family_name must be provided (or company_name)."
    )
    assert "HTTP 422 validation_failed" in (error.detail or "")


def test_a_wrong_token_is_an_authentication_failure(simulator: Simulator) -> None:
    simulator.access_token = "the-right-token"
    wrong = GoCardlessGateway("the-wrong-token", base_url=simulator.base_url, timeout=5)

    with pytest.raises(
        AuthenticationFailed, match="not one GoCardless knows.*enter a current token in Settings"
    ):
        wrong.create_customer(CUSTOMER, "membership-m1-create_customer-v1")
    with pytest.raises(AuthenticationFailed):
        wrong.list_events()
