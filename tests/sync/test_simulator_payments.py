"""Payment links in the GoCardless simulator (Instant Bank Pay billing requests, templates, cancel/expire,
refunds), driven by the real gocardless-pro client and by ``requests`` as the payer's browser."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import gocardless_pro
import pytest
import requests
from gocardless_pro import errors

from aestheticc_pos.sync.simulator import ScenarioError

DEPOSIT = {"amount": 2500, "currency": "GBP", "description": "Deposit: Botox consultation"}


def _link(client: gocardless_pro.Client, customer: str | None = None, **extra: object):
    params: dict[str, object] = {"payment_request": dict(DEPOSIT), **extra}
    if customer:
        params["links"] = {"customer": customer}
    br = client.billing_requests.create(params=params)
    flow = client.billing_request_flows.create(params={"links": {"billing_request": br.id}})
    return br, flow


def _open(url: str) -> requests.Response:
    page = requests.get(url, timeout=5)
    assert page.url.startswith("http://127.0.0.1:")  # a template's link redirects to its new flow, locally
    return page


def _pay(page: requests.Response, **fields: str) -> requests.Response:
    """Submit the "Pay by bank" form on ``page`` as a browser would."""
    action = re.search(r"<form method='post' action='([^']+)' id='pay'>", page.text).group(1)
    return requests.post(urljoin(page.url, action), data=fields, timeout=5, allow_redirects=False)


def _inputs(page: requests.Response) -> list[str]:
    return re.findall(r"<input name='(\w+)'", page.text)


# ----- a payment link paid on the hosted page ---------------------------------------------------------------
def test_a_payment_link_without_a_customer_is_paid_on_the_hosted_page(simulator, gc_client):
    br, flow = _link(gc_client, metadata={"deposit_id": "dep-1"})
    assert br.status == "pending" and br.payment_request.scheme == "faster_payments"
    assert br.payment_request.amount == 2500 and br.mandate_request is not None  # {} when not requested
    assert [a["type"] for a in br.actions] == [
        "collect_customer_details",
        "confirm_payer_details",
        "bank_authorisation",
    ]
    assert flow.authorisation_url == f"{simulator.base_url}/flow/{flow.id}"

    page = _open(flow.authorisation_url)
    assert page.status_code == 200 and "Pay by bank" in page.text
    assert "£25.00" in page.text and "Deposit: Botox consultation" in page.text
    assert "Pay £25.00 by bank" in page.text
    assert _inputs(page) == ["given_name", "family_name", "email"]

    refused = _pay(page, given_name="Bea", family_name="Lopes", email="")
    assert refused.status_code == 422 and "Enter your email address." in refused.text
    assert simulator.count("customers") == 0 and simulator.count("payments") == 0

    done = _pay(page, given_name="Bea", family_name="Lopes", email="bea@example.com")
    assert done.status_code == 200 and "Payment made" in done.text

    br = gc_client.billing_requests.get(br.id)
    assert br.status == "fulfilled"
    payment_id = br.links.payment_request_payment
    assert br.payment_request.links["payment"] == payment_id
    customer = gc_client.customers.get(br.links.customer)
    assert (customer.given_name, customer.family_name, customer.email) == ("Bea", "Lopes", "bea@example.com")
    payment = gc_client.payments.get(payment_id)
    assert (payment.amount, payment.currency, payment.scheme) == (2500, "GBP", "faster_payments")
    assert payment.description == "Deposit: Botox consultation"
    assert payment.status == "confirmed"  # Instant Bank Pay settles at once (the simulator's default)
    assert payment.links.mandate is None and simulator.count("mandates") == 0
    assert f"<p id='payment'>{payment_id}</p>" in done.text

    events = [(e.resource_type, e.action) for e in gc_client.events.all()]
    assert events == [
        ("billing_requests", "created"),
        ("billing_requests", "flow_created"),
        ("billing_requests", "flow_visited"),
        ("billing_requests", "collect_customer_details"),
        ("billing_requests", "payer_details_confirmed"),
        ("billing_requests", "bank_authorisation_authorised"),
        ("billing_requests", "fulfilled"),
        ("payments", "created"),
        ("payments", "submitted"),
        ("payments", "confirmed"),
    ]
    fulfilled = gc_client.events.list(params={"billing_request": br.id, "action": "fulfilled"}).records[0]
    assert fulfilled.links.payment_request_payment == payment_id
    assert fulfilled.links.customer == customer.id and fulfilled.details.origin == "gocardless"
    confirmed = gc_client.events.list(params={"payment": payment_id, "action": "confirmed"}).records[0]
    assert confirmed.details.cause == "payment_confirmed"

    # Opening or submitting the page again shows the payment; nothing is paid twice.
    again = _pay(page, given_name="Bea", family_name="Lopes", email="bea@example.com")
    assert again.status_code == 200 and "Payment made" in again.text
    assert simulator.count("payments") == 1 and simulator.count("customers") == 1


def test_a_payment_link_for_a_known_customer_asks_for_no_details(simulator, gc_client):
    customer = gc_client.customers.create(
        params={"given_name": "Ana", "family_name": "Silva", "email": "ana@example.com"}
    )
    br, flow = _link(gc_client, customer=customer.id)
    assert [a["type"] for a in br.actions] == ["confirm_payer_details", "bank_authorisation"]

    page = _open(flow.authorisation_url)
    assert _inputs(page) == [] and "Paying as Ana Silva" in page.text
    assert _pay(page).status_code == 200

    br = gc_client.billing_requests.get(br.id)
    assert br.status == "fulfilled" and br.links.customer == customer.id
    assert simulator.count("customers") == 1
    actions = [e.action for e in gc_client.events.list(params={"billing_request": br.id}).records]
    assert "collect_customer_details" not in actions and actions[-1] == "fulfilled"


def test_a_billing_request_with_a_mandate_and_a_payment_keeps_the_direct_debit_page(simulator, gc_client):
    br = gc_client.billing_requests.create(
        params={"mandate_request": {"scheme": "bacs", "currency": "GBP"}, "payment_request": dict(DEPOSIT)}
    )
    flow = gc_client.billing_request_flows.create(params={"links": {"billing_request": br.id}})
    page = _open(flow.authorisation_url)
    assert "Authorise Direct Debit" in page.text and "account_number" in _inputs(page)


def test_a_payment_by_bank_needs_gbp_or_eur(gc_client):
    with pytest.raises(errors.ValidationFailedError) as info:
        gc_client.billing_requests.create(params={"payment_request": {"amount": 100, "currency": "USD"}})
    assert info.value.errors[0]["field"] == "currency"


# ----- templates: one link, any number of buyers ------------------------------------------------------------
def _template(client: gocardless_pro.Client, **extra: object):
    params = {
        "name": "Microneedling course",
        "payment_request_amount": "450.00",
        "payment_request_currency": "GBP",
        "payment_request_description": "Microneedling course (6 sessions)",
        "payment_request_metadata": {"package_id": "pkg-micro"},
        "redirect_uri": "https://clinic.example/thanks",
        **extra,
    }
    return client.billing_request_templates.create(params=params)


def test_a_template_is_bought_by_two_visitors(simulator, gc_client):
    template = _template(gc_client)
    assert template.id.startswith("BRT")
    assert template.authorisation_url == f"{simulator.base_url}/template/{template.id}"
    assert (
        template.payment_request_amount == "450.00" and template.payment_request_scheme == "faster_payments"
    )
    assert template.mandate_request_constraints is not None  # a wrapped section: always an object
    assert gc_client.billing_request_templates.get(template.id).name == "Microneedling course"
    assert [t.id for t in gc_client.billing_request_templates.list().records] == [template.id]

    buyers = [("Cara", "Dunne", "cara@example.com"), ("Dev", "Patel", "dev@example.com")]
    for given, family, email in buyers:
        page = _open(template.authorisation_url)
        assert "/flow/BRF" in page.url and "£450.00" in page.text
        assert _pay(page, given_name=given, family_name=family, email=email).status_code == 200

    assert simulator.count("billing_requests") == 2 and simulator.count("billing_request_flows") == 2
    customers = gc_client.customers.list().records
    assert sorted(c.email for c in customers) == ["cara@example.com", "dev@example.com"]
    payments = gc_client.payments.list().records
    assert len(payments) == 2 and {p.amount for p in payments} == {45000}
    assert {p.status for p in payments} == {"confirmed"}
    # Neither the billing request nor the payment links to the template: the template's
    # payment_request_metadata, copied onto every payment, says which package was bought.
    assert all(p.metadata == {"package_id": "pkg-micro"} for p in payments)
    requests_made = gc_client.billing_requests.list().records
    assert all(r.payment_request.metadata == {"package_id": "pkg-micro"} for r in requests_made)

    fulfilled = gc_client.events.list(params={"resource_type": "billing_requests", "action": "fulfilled"})
    paid = {e.links.payment_request_payment: e.links.customer for e in fulfilled.records}
    assert set(paid) == {p.id for p in payments} and set(paid.values()) == {c.id for c in customers}
    created = gc_client.events.list(params={"resource_type": "billing_requests", "action": "created"})
    assert {e.details.origin for e in created.records} == {"payer"}
    assert len(simulator.events("payments", "confirmed")) == 2


def test_a_template_update_changes_later_visits_only(simulator, gc_client):
    template = _template(gc_client)
    first = _open(template.authorisation_url)
    _pay(first, given_name="Cara", family_name="Dunne", email="cara@example.com")

    updated = gc_client.billing_request_templates.update(
        template.id, params={"payment_request_amount": "400", "name": "Microneedling course (offer)"}
    )
    assert updated.payment_request_amount == "400.00" and updated.name == "Microneedling course (offer)"
    assert (
        updated.updated_at >= template.updated_at and updated.authorisation_url == template.authorisation_url
    )

    second = _open(template.authorisation_url)
    assert "£400.00" in second.text
    _pay(second, given_name="Dev", family_name="Patel", email="dev@example.com")
    assert sorted(p["amount"] for p in simulator.all("payments")) == [40000, 45000]


def test_template_validation(gc_client):
    with pytest.raises(errors.ValidationFailedError) as info:
        _template(gc_client, payment_request_amount=45000)  # full units as a string, never pence
    assert info.value.errors[0]["field"] == "payment_request_amount"
    with pytest.raises(errors.ValidationFailedError) as info:
        gc_client.billing_request_templates.create(params={"name": "Nothing to pay"})
    assert info.value.errors[0]["field"] == "payment_request_amount"
    with pytest.raises(errors.InvalidApiUsageError) as info:
        gc_client.billing_request_templates.get("BRT404")
    assert info.value.code == 404


def test_an_unknown_template_link_is_not_found(simulator):
    assert requests.get(f"{simulator.base_url}/template/BRT404", timeout=5).status_code == 404


# ----- cancelled and expired links --------------------------------------------------------------------------
def test_a_cancelled_link_stops_working(simulator, gc_client):
    br, flow = _link(gc_client)
    page = _open(flow.authorisation_url)

    assert gc_client.billing_requests.cancel(br.id).status == "cancelled"
    with pytest.raises(errors.InvalidStateError):
        gc_client.billing_requests.cancel(br.id)

    assert requests.get(flow.authorisation_url, timeout=5).status_code == 410
    assert _pay(page, given_name="Bea", family_name="Lopes", email="bea@example.com").status_code == 410
    cancelled = gc_client.events.list(params={"billing_request": br.id, "action": "cancelled"}).records
    assert len(cancelled) == 1 and cancelled[0].details.origin == "api"
    assert simulator.count("payments") == 0


def test_a_paid_link_cannot_be_cancelled(simulator, gc_client):
    br, flow = _link(gc_client)
    simulator.authorise(flow.id, given_name="Bea", email="bea@example.com")
    with pytest.raises(errors.InvalidStateError):
        gc_client.billing_requests.cancel(br.id)
    assert gc_client.billing_requests.get(br.id).status == "fulfilled"


def test_an_expired_billing_request_is_cancelled_by_gocardless(simulator, gc_client):
    br, flow = _link(gc_client)
    simulator.expire_billing_request(br.id)

    assert gc_client.billing_requests.get(br.id).status == "cancelled"
    page = requests.get(flow.authorisation_url, timeout=5)
    assert page.status_code == 410 and "Link expired" in page.text
    event = gc_client.events.list(params={"billing_request": br.id, "action": "cancelled"}).records[0]
    assert event.details.origin == "gocardless" and event.details.cause == "billing_request_cancelled"
    with pytest.raises(ScenarioError):
        simulator.expire_billing_request(br.id)
    with pytest.raises(errors.InvalidStateError):  # no new page for a cancelled request
        gc_client.billing_request_flows.create(params={"links": {"billing_request": br.id}})


def test_an_expired_flow_can_be_sent_again(simulator, gc_client):
    br, flow = _link(gc_client)
    simulator.expire_flow(flow.id)
    assert requests.get(flow.authorisation_url, timeout=5).status_code == 410
    assert gc_client.billing_requests.get(br.id).status == "pending"

    resent = gc_client.billing_request_flows.create(params={"links": {"billing_request": br.id}})
    page = _open(resent.authorisation_url)
    assert _pay(page, given_name="Bea", family_name="Lopes", email="bea@example.com").status_code == 200
    assert gc_client.billing_requests.get(br.id).status == "fulfilled"


def test_flows_lapse_after_seven_days(simulator, gc_client):
    _, flow = _link(gc_client)
    simulator.advance(days=7, seconds=1)
    assert requests.get(flow.authorisation_url, timeout=5).status_code == 410


# ----- what happens to the payment afterwards ----------------------------------------------------------------
def test_a_payment_by_bank_can_be_confirmed_or_fail_later(simulator, gc_client):
    _, flow = _link(gc_client)
    br = simulator.authorise(flow.id, payment_status="submitted", given_name="Bea", email="bea@example.com")
    confirmed_later = br["links"]["payment_request_payment"]
    assert gc_client.payments.get(confirmed_later).status == "submitted"
    simulator.confirm_payment(confirmed_later)
    assert gc_client.payments.get(confirmed_later).status == "confirmed"

    simulator.options.instant_payment_status_on_authorise = "submitted"
    _, flow = _link(gc_client)
    declined = simulator.authorise(flow.id, family_name="Moss")["links"]["payment_request_payment"]
    simulator.fail_payment(declined)
    assert gc_client.payments.get(declined).status == "failed"
    failed = gc_client.events.list(params={"payment": declined, "action": "failed"}).records[0]
    assert failed.details.cause == "bank_declined_payment" and failed.details.scheme == "faster_payments"
    assert failed.details.will_attempt_retry is False
    with pytest.raises(errors.InvalidStateError) as info:
        gc_client.payments.retry(declined)
    assert info.value.errors[0]["reason"] == "retry_failed"
    with pytest.raises(errors.InvalidStateError):
        gc_client.refunds.create(
            params={"amount": 100, "total_amount_confirmation": 100, "links": {"payment": declined}}
        )


def test_a_deposit_is_refunded_and_the_refund_moves_on(simulator, gc_client):
    _, flow = _link(gc_client)
    payment = simulator.authorise(flow.id, given_name="Bea", email="bea@example.com")["links"][
        "payment_request_payment"
    ]
    headers = {"Idempotency-Key": "deposit-1-refund-v1"}
    params = {"amount": 1000, "total_amount_confirmation": 1000, "links": {"payment": payment}}
    refund = gc_client.refunds.create(params=params, headers=headers)
    assert gc_client.refunds.create(params=params, headers=headers).id == refund.id  # replay: same refund
    assert refund.status == "created" and refund.links.payment == payment and refund.links.mandate is None
    assert gc_client.payments.get(payment).amount_refunded == 1000

    simulator.pay_refund(refund.id)
    assert gc_client.refunds.get(refund.id).status == "paid"
    rest = gc_client.refunds.create(
        params={"amount": 1500, "total_amount_confirmation": 2500, "links": {"payment": payment}}
    )
    simulator.fail_refund(rest.id)
    assert gc_client.refunds.get(rest.id).status == "funds_returned"
    with pytest.raises(ScenarioError):
        simulator.pay_refund(refund.id)

    events = gc_client.events.list(params={"resource_type": "refunds"}).records
    assert [(e.action, e.details.cause, e.links.refund) for e in events] == [
        ("created", "refund_created", refund.id),
        ("paid", "refund_paid", refund.id),
        ("created", "refund_created", rest.id),
        ("failed", "refund_failed", rest.id),
        ("funds_returned", "refund_funds_returned", rest.id),
    ]
    assert all(e.links.payment == payment for e in events)
    assert gc_client.events.list(params={"refund": refund.id}).records[-1].action == "paid"


# ----- idempotency, pagination and controls -----------------------------------------------------------------
def test_repeated_creates_with_one_key_return_the_first_resource(simulator, gc_client):
    headers = {"Idempotency-Key": "deposit-7-create_payment_request-v1"}
    params = {"payment_request": dict(DEPOSIT)}
    first = gc_client.billing_requests.create(params=params, headers=headers)
    again = gc_client.billing_requests.create(
        params={"payment_request": {**DEPOSIT, "amount": 1}}, headers=headers
    )
    assert again.id == first.id and again.payment_request.amount == 2500
    assert simulator.count("billing_requests") == 1

    t_headers = {"Idempotency-Key": "package-3-template-v1"}
    template = gc_client.billing_request_templates.create(
        params={"name": "Peel", "payment_request_amount": "80.00", "payment_request_currency": "GBP"},
        headers=t_headers,
    )
    replay = gc_client.billing_request_templates.create(
        params={"name": "Other", "payment_request_amount": "1.00", "payment_request_currency": "GBP"},
        headers=t_headers,
    )
    assert replay.id == template.id and replay.name == "Peel"
    assert simulator.count("billing_request_templates") == 1

    strict = gocardless_pro.Client(
        access_token="sim-token", base_url=simulator.base_url, raise_on_idempotency_conflict=True, timeout=5
    )
    with pytest.raises(errors.IdempotentCreationConflictError) as info:
        strict.billing_requests.create(params=params, headers=headers)
    assert info.value.code == 409 and info.value.conflicting_resource_id == first.id
    with pytest.raises(errors.IdempotentCreationConflictError) as info:
        strict.billing_request_templates.create(params={"name": "Peel"}, headers=t_headers)
    assert info.value.conflicting_resource_id == template.id


def test_events_from_payment_links_page_without_gaps(simulator, gc_client):
    template = _template(gc_client)
    for n in range(3):
        page = _open(template.authorisation_url)
        _pay(page, given_name=f"Buyer{n}", family_name="Test", email=f"buyer{n}@example.com")
    br, _ = _link(gc_client)
    gc_client.billing_requests.cancel(br.id)
    everything = simulator.events()
    assert len(everything) > 30

    paged = [e.id for e in gc_client.events.all(params={"limit": 7})]
    assert paged == [e["id"] for e in everything] and len(set(paged)) == len(paged)
    first = gc_client.events.list(params={"limit": 7})
    assert len(first.records) == 7 and first.after == first.records[-1].id
    watermark = everything[10]["created_at"]
    later = [e.id for e in gc_client.events.all(params={"created_at[gt]": watermark, "limit": 5})]
    assert later == [e["id"] for e in everything if e["created_at"] > watermark]
    only_payments = gc_client.events.all(params={"resource_type": "payments", "limit": 2})
    assert [e.action for e in only_payments] == ["created", "submitted", "confirmed"] * 3


def test_payment_link_controls_over_http(simulator, gc_client):
    br, flow = _link(gc_client)
    url = simulator.base_url + "/_sim/"
    assert requests.post(url + "expire_billing_request", json={"billing_request_id": br.id}, timeout=5).ok
    assert gc_client.billing_requests.get(br.id).status == "cancelled"
    refused = requests.post(url + "expire_billing_request", json={"billing_request_id": br.id}, timeout=5)
    assert refused.status_code == 400

    template = _template(gc_client)
    visit = requests.post(url + "visit_template", json={"template_id": template.id}, timeout=5).json()
    assert visit["result"]["authorisation_url"].startswith(simulator.base_url + "/flow/BRF")
    paid = simulator.authorise(visit["result"]["id"], family_name="Test")
    payment = paid["links"]["payment_request_payment"]
    refund = gc_client.refunds.create(
        params={"amount": 45000, "total_amount_confirmation": 45000, "links": {"payment": payment}}
    )
    assert requests.post(url + "pay_refund", json={"refund_id": refund.id}, timeout=5).ok
    assert gc_client.refunds.get(refund.id).status == "paid"


def test_faults_do_not_touch_the_hosted_pages(simulator, gc_client):
    template = _template(gc_client)
    simulator.inject("reset", times=5)
    page = _open(template.authorisation_url)  # pages are never faulted; the API would be
    assert page.status_code == 200 and "£450.00" in page.text
    assert [f.times for f in simulator.faults.pending] == [5]  # not one consumed
    assert simulator.count("billing_requests") == 1
