"""Every endpoint the till uses answers in the shape GoCardless's own fixtures show (``fixture_shapes.py``).

Each call goes through the till's gateway (``GoCardlessGateway``: the real gocardless-pro client) to the
simulator, and the resource it returns is checked field by field: every field the fixtures show is there, with
the same JSON type (or null where the API sends null), no field the API does not have, and a status the API can
send. Resources are checked in the states the till meets them in: new, set up by the payer, collected, paid
out, charged back, refunded, cancelled.
"""

from __future__ import annotations

from typing import Any

from fixture_shapes import (
    BILLING_REQUEST,
    BILLING_REQUEST_FLOW,
    BILLING_REQUEST_TEMPLATE,
    CUSTOMER,
    EVENT,
    EVENT_ORIGINS,
    EVENT_SOURCE_TYPES,
    MANDATE,
    PAYMENT,
    PAYOUT,
    PAYOUT_ITEM,
    REFUND,
    SUBSCRIPTION,
    Shape,
    problems,
)

from aestheticc_pos.sync.gocardless import GoCardlessGateway
from aestheticc_pos.sync.pull import STREAMS
from aestheticc_pos.sync.simulator import Simulator

# Every endpoint the till's gateway calls (``sync/gocardless.py``), and the linked resources the pull reads.
ENDPOINTS = {
    "POST /customers",
    "POST /billing_requests",
    "POST /billing_requests (payment link)",
    "GET /billing_requests/:id",
    "POST /billing_requests/:id/actions/cancel",
    "POST /billing_request_flows",
    "POST /billing_request_flows (payment link)",
    "POST /billing_request_templates",
    "PUT /billing_request_templates/:id",
    "GET /billing_request_templates/:id",
    "GET /mandates/:id",
    "POST /subscriptions",
    "PUT /subscriptions/:id",
    "POST /subscriptions/:id/actions/pause",
    "POST /subscriptions/:id/actions/resume",
    "POST /subscriptions/:id/actions/cancel",
    "GET /subscriptions/:id",
    "POST /payments",
    "POST /payments/:id/actions/cancel",
    "GET /payments?mandate=",
    "GET /payments/:id",
    "POST /refunds",
    "GET /refunds/:id",
    "GET /payouts/:id",
    "GET /payout_items?payout=",
    "GET /events",
    "GET /events?include=payment (linked)",
    "GET /events?include=billing_request (linked)",
}
CUSTOMER_DETAILS = {"given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com"}


class Checked:
    """Collects the problems of every response, so one run reports them all."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self.endpoints: set[str] = set()

    def __call__(self, endpoint: str, shape: Shape, body: dict[str, Any]) -> dict[str, Any]:
        self.endpoints.add(endpoint)
        self.found += problems(shape, body, endpoint)
        return body


def test_every_endpoint_the_till_uses_answers_as_the_fixtures_show(
    simulator: Simulator, gateway: GoCardlessGateway, gc_client
) -> None:
    check = Checked()
    key = iter(f"shape-{n}" for n in range(1000))

    # A membership's Direct Debit set-up: customer, billing request (mandate and first month), flow.
    customer = gateway.create_customer({**CUSTOMER_DETAILS, "metadata": {"membership_id": "m-1"}}, next(key))
    check("POST /customers", CUSTOMER, customer.data)
    set_up = gateway.create_billing_request(
        {
            "mandate_request": {"scheme": "bacs", "currency": "GBP", "metadata": {"membership_id": "m-1"}},
            "payment_request": {"amount": 4900, "currency": "GBP", "description": "First month"},
            "fallback_enabled": True,
            "metadata": {"membership_id": "m-1"},
            "links": {"customer": customer.remote_id},
        },
        next(key),
    )
    check("POST /billing_requests", BILLING_REQUEST, set_up.data)
    flow = gateway.create_flow(
        {"links": {"billing_request": set_up.remote_id}, "prefilled_customer": CUSTOMER_DETAILS}, next(key)
    )
    check("POST /billing_request_flows", BILLING_REQUEST_FLOW, flow.data)
    simulator.authorise(flow.remote_id, account_holder_name="Ada Lovelace", account_number="55779911")
    fulfilled = check(
        "GET /billing_requests/:id", BILLING_REQUEST, gateway.get_billing_request(set_up.remote_id)
    )
    assert fulfilled["status"] == "fulfilled"
    mandate_id = fulfilled["links"]["mandate_request_mandate"]
    first_payment = fulfilled["links"]["payment_request_payment"]
    check("GET /mandates/:id", MANDATE, gateway.get_mandate(mandate_id))
    simulator.activate_mandate(mandate_id)

    # The monthly subscription and what the till does to it.
    sub = gateway.create_subscription(
        {
            "amount": 4900,
            "currency": "GBP",
            "interval_unit": "monthly",
            "day_of_month": 24,
            "name": "Gold membership",
            "metadata": {"membership_id": "m-1"},
            "links": {"mandate": mandate_id},
        },
        next(key),
    )
    check("POST /subscriptions", SUBSCRIPTION, sub.data)
    sub_id = sub.remote_id
    check(
        "PUT /subscriptions/:id",
        SUBSCRIPTION,
        gateway.update_subscription({"subscription_id": sub_id, "amount": 5900}, next(key)).data,
    )
    check(
        "POST /subscriptions/:id/actions/pause",
        SUBSCRIPTION,
        gateway.pause_subscription({"subscription_id": sub_id}, next(key)).data,
    )
    check(
        "POST /subscriptions/:id/actions/resume",
        SUBSCRIPTION,
        gateway.resume_subscription({"subscription_id": sub_id}, next(key)).data,
    )
    check("GET /subscriptions/:id", SUBSCRIPTION, gateway.get_subscription(sub_id))

    # One-off payments: created, listed, cancelled; one collected, paid out, charged back; one refunded.
    one_off = gateway.create_payment(
        {"amount": 4900, "currency": "GBP", "mandate_id": mandate_id, "metadata": {"membership_id": "m-1"}},
        next(key),
    )
    check("POST /payments", PAYMENT, one_off.data)
    check(
        "POST /payments/:id/actions/cancel",
        PAYMENT,
        gateway.cancel_payment({"payment_id": one_off.remote_id}, next(key)).data,
    )
    collected = gateway.create_payment(
        {"amount": 2500, "currency": "GBP", "mandate_id": mandate_id}, next(key)
    )
    simulator.confirm_payment(collected.remote_id)
    payout_id = simulator.pay_out(collected.remote_id)
    simulator.charge_back(collected.remote_id)
    for payment in gateway.list_payments(mandate_id):
        check("GET /payments?mandate=", PAYMENT, payment)
    check("GET /payments/:id", PAYMENT, gateway.get_payment(first_payment))
    refund = gateway.create_refund(
        {
            "amount": 900,
            "total_amount_confirmation": 900,
            "payment_id": first_payment,
            "metadata": {"sale_id": "s-1"},
        },
        next(key),
    )
    check("POST /refunds", REFUND, refund.data)
    simulator.queue_refund(refund.remote_id)
    assert (
        check("GET /refunds/:id", REFUND, gateway.get_refund(refund.remote_id))["status"]
        == "pending_submission"
    )
    simulator.submit_refund(refund.remote_id)
    assert check("GET /refunds/:id", REFUND, gateway.get_refund(refund.remote_id))["status"] == "submitted"
    simulator.fail_refund(refund.remote_id)
    assert [e["action"] for e in simulator.events("refunds")] == ["created", "failed", "funds_returned"]
    check("GET /refunds/:id", REFUND, gateway.get_refund(refund.remote_id))
    check("GET /payouts/:id", PAYOUT, gc_client.payouts.get(payout_id).attributes)
    for item in gc_client.payout_items.list(params={"payout": payout_id}).records:
        check("GET /payout_items?payout=", PAYOUT_ITEM, item.attributes)

    # Payment links: an Instant Bank Pay request, its flow, cancelled; a reusable template.
    link = gateway.create_payment_request(
        {
            "payment_request": {"amount": 2000, "currency": "GBP", "description": "Deposit"},
            "metadata": {"payment_link_id": "l-1"},
        },
        next(key),
    )
    check("POST /billing_requests (payment link)", BILLING_REQUEST, link.data)
    link_flow = gateway.create_payment_link_flow({"billing_request_id": link.remote_id}, next(key))
    check("POST /billing_request_flows (payment link)", BILLING_REQUEST_FLOW, link_flow.data)
    check(
        "POST /billing_requests/:id/actions/cancel",
        BILLING_REQUEST,
        gateway.cancel_billing_request({"billing_request_id": link.remote_id}, next(key)).data,
    )
    template = gateway.create_billing_request_template(
        {"name": "Botox starter", "payment_request_amount": 25000, "payment_request_currency": "GBP"},
        next(key),
    )
    check("POST /billing_request_templates", BILLING_REQUEST_TEMPLATE, template.data)
    updated = gateway.update_billing_request_template(
        {"billing_request_template_id": template.remote_id, "name": "Botox starter (new)"}, next(key)
    )
    check("PUT /billing_request_templates/:id", BILLING_REQUEST_TEMPLATE, updated.data)
    check(
        "GET /billing_request_templates/:id",
        BILLING_REQUEST_TEMPLATE,
        gateway.get_billing_request_template(template.remote_id),
    )

    check(
        "POST /subscriptions/:id/actions/cancel",
        SUBSCRIPTION,
        gateway.cancel_subscription({"subscription_id": sub_id}, next(key)).data,
    )
    simulator.cancel_mandate(mandate_id)  # its cancellations link their parent event

    # The events, as the pull reads them, with what each stream includes.
    shapes = {"payments": PAYMENT, "billing_requests": BILLING_REQUEST}
    seen_actions = set()
    for resource_type, include in STREAMS:
        page = gateway.list_events(resource_type=resource_type, include=include)
        for event in page.events:
            check("GET /events", EVENT, event)
            seen_actions.add((event["resource_type"], event["action"]))
            if event["details"]["origin"] not in EVENT_ORIGINS:
                check.found.append(f"event {event['id']}: origin {event['details']['origin']!r}")
            if event["source"]["type"] not in EVENT_SOURCE_TYPES:
                check.found.append(f"event {event['id']}: source.type {event['source']['type']!r}")
        for linked in page.linked.get(resource_type, []):
            check(f"GET /events?include={include} (linked)", shapes[resource_type], linked)

    assert check.found == [], "\n".join(check.found)
    assert check.endpoints == ENDPOINTS
    assert {
        ("payments", "charged_back"),
        ("refunds", "funds_returned"),
        ("mandates", "cancelled"),
    } <= seen_actions


def test_the_table_finds_what_is_wrong() -> None:
    """The check itself can fail: a missing field, a wrong type, an extra field, an unknown status."""
    good = {"amount": "45.00", "type": "payment_paid_out", "taxes": [], "links": {"payment": "PM1"}}
    assert problems(PAYOUT_ITEM, good, "item") == []
    assert problems(PAYOUT_ITEM, {**good, "amount": 4500}, "item") == ["item: amount is int, not str"]
    assert problems(PAYOUT_ITEM, {k: v for k, v in good.items() if k != "taxes"}, "item") == [
        "item: taxes is missing"
    ]
    assert problems(PAYOUT_ITEM, {**good, "links": {"pay": "PM1"}}, "item") == [
        "item: links.pay is not a field of this resource"
    ]
    assert problems(PAYOUT_ITEM, {**good, "type": "bonus"}, "item") == [
        "item: type 'bonus' is not one of the API's values"
    ]
    assert problems(PAYOUT_ITEM, {**good, "colour": "red"}, "item") == [
        "item: colour is not a field of this resource"
    ]


def test_initialise_gives_a_flow_a_fresh_session_token(gc_client) -> None:
    br = gc_client.billing_requests.create(params={"mandate_request": {"scheme": "bacs", "currency": "GBP"}})
    flow = gc_client.billing_request_flows.create(params={"links": {"billing_request": br.id}})
    assert flow.session_token is None

    first = gc_client.billing_request_flows.initialise(flow.id)
    second = gc_client.billing_request_flows.initialise(flow.id)

    assert first.session_token and second.session_token and first.session_token != second.session_token
    assert problems(BILLING_REQUEST_FLOW, first.attributes, "initialise") == []
    assert br.attributes["payment_request"] is None and br.attributes["subscription_request"] is None  # null
