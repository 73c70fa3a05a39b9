"""The GoCardless simulator, driven by the real gocardless-pro client."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import gocardless_pro
import pytest
import requests
from gocardless_pro import errors

from aestheticc_pos.sync.simulator import ScenarioError, Simulator


def _setup_mandate(sim: Simulator, client: gocardless_pro.Client, via_page: bool = False) -> dict[str, str]:
    customer = client.customers.create(
        params={"email": "ana@example.com", "given_name": "Ana", "family_name": "Silva"}
    )
    br = client.billing_requests.create(
        params={"mandate_request": {"scheme": "bacs", "currency": "GBP"}, "links": {"customer": customer.id}}
    )
    flow = client.billing_request_flows.create(
        params={"redirect_uri": "https://clinic.example/done", "links": {"billing_request": br.id}}
    )
    if via_page:
        page = requests.get(flow.authorisation_url, timeout=5)
        assert page.status_code == 200 and "Authorise Direct Debit" in page.text
        action = re.search(r"<form method='post' action='([^']+)'", page.text).group(1)
        fields = dict(re.findall(r"<input name='(\w+)' id='\w+' value='([^']*)'", page.text))
        fields["account_holder_name"] = "Ana Silva"
        done = requests.post(simulator_url(sim) + action, data=fields, timeout=5, allow_redirects=False)
        assert done.status_code == 200 and "fulfilled" in done.text
    else:
        sim.authorise(flow.id)
    br = client.billing_requests.get(br.id)
    return {
        "customer": customer.id,
        "billing_request": br.id,
        "flow": flow.id,
        "mandate": br.links.mandate_request_mandate,
    }


def simulator_url(sim: Simulator) -> str:
    return sim.base_url


def _subscription(client: gocardless_pro.Client, mandate_id: str, **extra: object):
    mandate = client.mandates.get(mandate_id)
    params = {
        "amount": 4500,
        "currency": "GBP",
        "interval_unit": "monthly",
        "day_of_month": 5,
        "start_date": mandate.next_possible_charge_date,
        "links": {"mandate": mandate_id},
        **extra,
    }
    return client.subscriptions.create(params=params)


# ----- set-up flow, events and pagination -------------------------------------------------------
def test_hosted_page_completes_billing_request(simulator, gc_client):
    ids = _setup_mandate(simulator, gc_client, via_page=True)
    br = gc_client.billing_requests.get(ids["billing_request"])
    assert br.status == "fulfilled"
    assert br.links.customer == ids["customer"]
    mandate = gc_client.mandates.get(ids["mandate"])
    assert mandate.id.startswith("MD") and mandate.status == "pending_submission"
    assert mandate.links.customer == ids["customer"]
    assert mandate.links.customer_bank_account.startswith("BA")
    assert gc_client.rate_limit["ratelimit-limit"] == 1000
    assert gc_client.rate_limit["ratelimit-reset"].endswith("GMT")

    actions = [(e.resource_type, e.action) for e in gc_client.events.all(params={"limit": 2})]
    assert actions == [
        ("billing_requests", "created"),
        ("billing_requests", "flow_created"),
        ("billing_requests", "flow_visited"),
        ("billing_requests", "collect_bank_account"),
        ("billing_requests", "payer_details_confirmed"),
        ("billing_requests", "fulfilled"),
        ("mandates", "created"),
    ]
    fulfilled = gc_client.events.list(
        params={"resource_type": "billing_requests", "action": "fulfilled"}
    ).records[0]
    assert fulfilled.links.mandate_request_mandate == ids["mandate"]
    assert fulfilled.details.origin == "gocardless" and fulfilled.metadata == {}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", fulfilled.created_at)
    # A second visit after completion shows the done page; posting again is refused.
    flow_url = f"{simulator.base_url}/flow/{ids['flow']}"
    assert requests.post(flow_url, data={}, timeout=5).status_code == 409


def test_event_pages_and_filters(simulator, gc_client):
    ids = _setup_mandate(simulator, gc_client)
    first = gc_client.events.list(params={"limit": 2})
    assert len(first.records) == 2 and first.after == first.records[-1].id and first.before is None
    seen, after = [], None
    while True:
        params = {"limit": 2, **({"after": after} if after else {})}
        page = gc_client.events.list(params=params)
        seen += [e.id for e in page.records]
        after = page.after
        if after is None:
            break
    assert seen == [e["id"] for e in simulator.events()] and len(seen) == len(set(seen))
    mandate_events = gc_client.events.list(params={"mandate": ids["mandate"]}).records
    assert [e.action for e in mandate_events] == ["created"]
    watermark = simulator.events()[2]["created_at"]
    later = gc_client.events.list(params={"created_at[gt]": watermark}).records
    assert all(e.created_at > watermark for e in later)
    with pytest.raises(errors.ValidationFailedError):
        gc_client.events.list(params={"limit": 501})


def test_payment_request_creates_payment_and_customer(simulator, gc_client):
    # A payment request naming a Direct Debit scheme is collected on the new mandate (without one, a GBP
    # payment request beside a mandate request is an instant payment: test_simulator_billing.py).
    br = gc_client.billing_requests.create(
        params={
            "mandate_request": {"scheme": "bacs", "currency": "GBP"},
            "payment_request": {
                "amount": 2500,
                "currency": "GBP",
                "description": "Deposit",
                "scheme": "bacs",
            },
        }
    )
    flow = gc_client.billing_request_flows.create(params={"links": {"billing_request": br.id}})
    assert flow.authorisation_url == f"{simulator.base_url}/flow/{flow.id}"
    simulator.authorise(flow.id, given_name="Bea", family_name="Lopes", email="bea@example.com")
    br = gc_client.billing_requests.get(br.id)
    payment = gc_client.payments.get(br.links.payment_request_payment)
    assert payment.amount == 2500 and payment.links.mandate == br.links.mandate_request_mandate
    assert (payment.scheme, payment.status) == ("bacs", "pending_submission")
    assert gc_client.customers.get(br.links.customer).email == "bea@example.com"
    assert simulator.count("customers") == 1


def test_billing_request_cancel_and_fulfil_actions(simulator, gc_client):
    br = gc_client.billing_requests.create(params={"mandate_request": {"currency": "GBP"}})
    assert br.payment_request is not None  # unrequested sections are objects, never null
    assert gc_client.billing_requests.cancel(br.id).status == "cancelled"  # body "null"
    with pytest.raises(errors.InvalidStateError):
        gc_client.billing_requests.cancel(br.id)
    br2 = gc_client.billing_requests.create(params={"mandate_request": {"currency": "GBP"}})
    flow = gc_client.billing_request_flows.create(
        params={"auto_fulfil": False, "links": {"billing_request": br2.id}}
    )
    simulator.authorise(flow.id, family_name="Costa")
    assert gc_client.billing_requests.get(br2.id).status == "ready_to_fulfil"
    done = gc_client.billing_requests.fulfil(br2.id)
    assert done.status == "fulfilled" and done.links.mandate_request_mandate.startswith("MD")


# ----- idempotency and faults -----------------------------------------------------------------
def test_idempotent_replay_returns_same_resource(simulator, gc_client):
    headers = {"Idempotency-Key": "customer-1-v1"}
    first = gc_client.customers.create(params={"family_name": "Silva"}, headers=headers)
    again = gc_client.customers.create(params={"family_name": "Other"}, headers=headers)
    assert again.id == first.id and again.family_name == "Silva"
    assert simulator.count("customers") == 1
    strict = gocardless_pro.Client(
        access_token="sim-token", base_url=simulator.base_url, raise_on_idempotency_conflict=True
    )
    with pytest.raises(errors.IdempotentCreationConflictError) as info:
        strict.customers.create(params={"family_name": "Silva"}, headers=headers)
    assert info.value.conflicting_resource_id == first.id and info.value.code == 409


def test_concurrent_creates_with_one_key_make_one_resource(simulator, gc_client):
    headers = {"Idempotency-Key": "same-key"}
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(
            pool.map(
                lambda _: gc_client.customers.create(params={"family_name": "Silva"}, headers=headers).id,
                range(8),
            )
        )
    assert len(set(ids)) == 1 and simulator.count("customers") == 1


def test_validation_errors_render(simulator, gc_client):
    with pytest.raises(errors.ValidationFailedError) as info:
        gc_client.billing_requests.create(params={"mandate_request": {"scheme": "bacs", "currency": "EUR"}})
    assert "currency" in str(info.value)
    with pytest.raises(errors.ValidationFailedError):
        gc_client.customers.create(
            params={"family_name": "A", "metadata": {"a": "1", "b": "2", "c": "3", "d": "4"}}
        )


def test_lost_response_then_retry_gives_one_resource(simulator, gc_client):
    mandate = _setup_mandate(simulator, gc_client)["mandate"]
    simulator.inject("lost_response", path_prefix="/payments")
    params = {"amount": 1000, "currency": "GBP", "links": {"mandate": mandate}}
    headers = {"Idempotency-Key": "payment-7-v1"}
    # The client's own retry hits the 409 and fetches the committed payment.
    payment = gc_client.payments.create(params=params, headers=headers)
    assert simulator.count("payments") == 1
    # A later replay (say after a restart) with the same key also returns it.
    assert gc_client.payments.create(params=params, headers=headers).id == payment.id
    assert simulator.count("payments") == 1
    assert len(simulator.events("payments", "created")) == 1


def test_lost_response_without_client_retry_raises_connection_error(simulator, gc_client):
    customers = gc_client.customers  # each attribute access builds a new service
    customers.max_network_retries = 1
    simulator.inject("lost_response", path_prefix="/customers")
    with pytest.raises(requests.ConnectionError):
        customers.create(params={"family_name": "Silva"}, headers={"Idempotency-Key": "k1"})
    assert simulator.count("customers") == 1
    assert gc_client.customers.create(params={"family_name": "Silva"}, headers={"Idempotency-Key": "k1"}).id


def test_html_502_retried_by_client_then_malformed(simulator, gc_client):
    simulator.inject("html_502", times=1)
    assert gc_client.customers.create(params={"family_name": "A"}).family_name == "A"
    simulator.inject("html_502", times=3)
    with pytest.raises(errors.MalformedResponseError) as info:
        gc_client.customers.list()
    assert info.value.status_code == 502
    assert simulator.count("customers") == 1


def test_reset_and_timeout_are_network_errors(simulator):
    client = gocardless_pro.Client(access_token="sim-token", base_url=simulator.base_url, timeout=1)
    simulator.inject("reset")
    assert client.customers.list().records == []  # retried by the client
    customers = client.customers  # each attribute access builds a new service
    customers.max_network_retries = 1
    simulator.inject("timeout")
    with pytest.raises(requests.Timeout):
        customers.list()
    simulator.inject("reset", path_prefix="/customers")
    with pytest.raises(requests.ConnectionError):
        customers.get("CU123")


def test_500_and_429_errors(simulator, gc_client):
    simulator.inject("error_500", path_prefix="/customers")
    with pytest.raises(errors.GoCardlessInternalError) as info:
        gc_client.customers.create(params={"family_name": "A"})
    assert info.value.code == 500
    simulator.inject("rate_limit_429")
    with pytest.raises(errors.RateLimitError) as info:
        gc_client.customers.list()
    assert info.value.errors[0]["reason"] == "rate_limit_exceeded"
    raw = requests.get(f"{simulator.base_url}/customers", headers={"Authorization": "Bearer x"}, timeout=5)
    assert raw.headers["RateLimit-Reset"].endswith("GMT") and int(raw.headers["RateLimit-Limit"]) == 1000
    simulator.rate_limit = 0
    simulator.inject("rate_limit_429")
    resp = requests.get(f"{simulator.base_url}/customers", headers={"Authorization": "Bearer x"}, timeout=5)
    assert resp.status_code == 429 and resp.headers["RateLimit-Remaining"] == "0"
    assert simulator.count("customers") == 0


def test_auth_version_and_not_found(simulator, gc_client):
    resp = requests.get(f"{simulator.base_url}/customers", timeout=5)
    assert resp.status_code == 401
    resp = requests.get(f"{simulator.base_url}/customers", headers={"Authorization": "Bearer x"}, timeout=5)
    assert resp.status_code == 400 and resp.json()["error"]["errors"][0]["reason"] == "missing_version_header"
    with pytest.raises(errors.InvalidApiUsageError) as info:
        gc_client.mandates.get("MD404")
    assert info.value.code == 404


# ----- subscriptions --------------------------------------------------------------------------
def test_subscription_create_amend_cancel(simulator, gc_client):
    mandate = _setup_mandate(simulator, gc_client)["mandate"]
    with pytest.raises(errors.ValidationFailedError) as info:
        _subscription(gc_client, mandate, start_date="2000-01-01")
    assert info.value.errors[0]["field"] == "start_date"
    sub = _subscription(gc_client, mandate)
    assert sub.status == "active" and sub.links.mandate == mandate and sub.upcoming_payments
    for amount in range(4501, 4511):
        sub = gc_client.subscriptions.update(sub.id, params={"amount": amount})
    assert sub.amount == 4510
    with pytest.raises(errors.ValidationFailedError) as info:
        gc_client.subscriptions.update(sub.id, params={"amount": 9999})
    assert info.value.errors[0]["reason"] == "number_of_subscription_amendments_exceeded"
    assert gc_client.subscriptions.pause(sub.id).status == "paused"
    assert gc_client.subscriptions.resume(sub.id).status == "active"
    assert gc_client.subscriptions.cancel(sub.id).status == "cancelled"
    with pytest.raises(errors.InvalidStateError) as info:
        gc_client.subscriptions.cancel(sub.id)
    assert info.value.errors[0]["reason"] == "cancellation_failed"
    actions = [e["action"] for e in simulator.events("subscriptions")]
    assert actions == ["created"] + ["amended"] * 10 + ["paused", "resumed", "cancelled"]


def test_subscription_refused_on_failed_mandate(simulator, gc_client):
    mandate = _setup_mandate(simulator, gc_client)["mandate"]
    sub = _subscription(gc_client, mandate)
    simulator.fail_mandate(mandate)
    assert gc_client.mandates.get(mandate).status == "failed"
    assert gc_client.subscriptions.get(sub.id).status == "cancelled"
    with pytest.raises(errors.InvalidStateError) as info:
        _subscription(gc_client, mandate)
    assert info.value.errors[0]["reason"] == "mandate_is_inactive"
    assert [e["action"] for e in simulator.events("mandates")] == ["created", "failed"]


def test_advance_to_creates_monthly_payments(simulator, gc_client):
    simulator.set_clock("2026-01-12")
    mandate = _setup_mandate(simulator, gc_client)["mandate"]
    simulator.activate_mandate(mandate)
    sub = _subscription(gc_client, mandate, start_date="2026-02-05")
    # 5 April 2026 is Easter Sunday and the 6th Easter Monday: that charge rolls to Tuesday the 7th.
    assert [p["charge_date"] for p in sub.upcoming_payments][:3] == ["2026-02-05", "2026-03-05", "2026-04-07"]
    created = simulator.advance_to(date(2026, 4, 10), auto_confirm=True)
    assert len(created) == 3
    payments = gc_client.payments.list(params={"subscription": sub.id}).records
    assert [p.charge_date for p in payments] == ["2026-02-05", "2026-03-05", "2026-04-07"]
    assert {p.status for p in payments} == {"confirmed"}
    sub_events = gc_client.events.list(params={"subscription": sub.id, "action": "payment_created"}).records
    assert [e.links.payment for e in sub_events] == [p.id for p in payments]
    assert gc_client.subscriptions.get(sub.id).upcoming_payments[0]["charge_date"] == "2026-05-05"
    assert simulator.advance_to(date(2026, 4, 20)) == []  # nothing new, no duplicates
    assert simulator.clock.today() == date(2026, 4, 20)


def test_subscription_with_count_finishes(simulator, gc_client):
    simulator.set_clock("2026-01-12")
    mandate = _setup_mandate(simulator, gc_client)["mandate"]
    sub = _subscription(gc_client, mandate, start_date="2026-02-05", count=2)
    simulator.advance_to("2026-06-01")
    assert gc_client.subscriptions.get(sub.id).status == "finished"
    assert simulator.count("payments") == 2


# ----- payments and scenarios -----------------------------------------------------------------
def test_payment_lifecycle_events(simulator, gc_client):
    mandate = _setup_mandate(simulator, gc_client)["mandate"]
    simulator.activate_mandate(mandate)
    make = lambda: gc_client.payments.create(  # noqa: E731
        params={"amount": 3000, "currency": "GBP", "links": {"mandate": mandate}}
    )
    failed = make()
    simulator.fail_payment(failed.id, will_retry=True)
    event = gc_client.events.list(params={"payment": failed.id, "action": "failed"}).records[0]
    assert event.details.will_attempt_retry is True and event.details.cause == "insufficient_funds"
    assert gc_client.payments.retry(failed.id).status == "pending_submission"
    with pytest.raises(errors.InvalidStateError):
        gc_client.payments.retry(failed.id)

    charged = make()
    simulator.confirm_payment(charged.id)
    payout = simulator.pay_out(charged.id)
    assert gc_client.payments.get(charged.id).links.payout == payout
    simulator.charge_back(charged.id)
    actions = [e.action for e in gc_client.events.list(params={"payment": charged.id}).records]
    assert actions == ["created", "submitted", "confirmed", "paid_out", "charged_back"]

    late = make()
    simulator.confirm_payment(late.id)
    simulator.pay_out(late.id)
    simulator.late_failure(late.id)
    assert gc_client.payments.get(late.id).status == "failed"
    assert simulator.events("payments", "late_failure_settled")[0]["links"]["payment"] == late.id

    cancelled = make()
    assert gc_client.payments.cancel(cancelled.id).status == "cancelled"  # body "null"
    with pytest.raises(errors.InvalidStateError) as info:
        gc_client.payments.cancel(charged.id)
    assert info.value.errors[0]["reason"] == "cancellation_failed" and info.value.code == 422
    with pytest.raises(ScenarioError):
        simulator.pay_out(cancelled.id)


def test_refund_and_mandate_cancel(simulator, gc_client):
    mandate = _setup_mandate(simulator, gc_client)["mandate"]
    payment = gc_client.payments.create(
        params={"amount": 3000, "currency": "GBP", "links": {"mandate": mandate}}
    )
    simulator.confirm_payment(payment.id)
    with pytest.raises(errors.InvalidStateError):
        gc_client.refunds.create(
            params={"amount": 500, "total_amount_confirmation": 999, "links": {"payment": payment.id}}
        )
    refund = gc_client.refunds.create(
        params={"amount": 500, "total_amount_confirmation": 500, "links": {"payment": payment.id}}
    )
    assert refund.id.startswith("RF") and gc_client.refunds.get(refund.id).links.payment == payment.id
    assert gc_client.payments.get(payment.id).amount_refunded == 500
    pending = gc_client.payments.create(
        params={"amount": 100, "currency": "GBP", "links": {"mandate": mandate}}
    )
    assert gc_client.mandates.cancel(mandate).status == "cancelled"  # body "null"
    assert gc_client.payments.get(pending.id).status == "cancelled"
    with pytest.raises(errors.InvalidStateError):
        gc_client.mandates.cancel(mandate)


@pytest.mark.parametrize("scenario,status", [("cancel_mandate", "cancelled"), ("expire_mandate", "expired")])
def test_mandate_end_scenarios(simulator, gc_client, scenario, status):
    mandate = _setup_mandate(simulator, gc_client)["mandate"]
    simulator.activate_mandate(mandate)
    getattr(simulator, scenario)(mandate)
    assert gc_client.mandates.get(mandate).status == status
    assert [e["action"] for e in simulator.events("mandates")] == ["created", "submitted", "active", status]


def test_control_endpoints_and_loopback_only(simulator, gc_client):
    mandate = _setup_mandate(simulator, gc_client)["mandate"]
    resp = requests.post(
        f"{simulator.base_url}/_sim/activate_mandate", json={"mandate_id": mandate}, timeout=5
    )
    assert resp.status_code == 200
    assert gc_client.mandates.get(mandate).status == "active"
    with pytest.raises(ValueError):
        Simulator(host="0.0.0.0")
