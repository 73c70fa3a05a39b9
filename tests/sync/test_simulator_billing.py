"""The GoCardless simulator's billing behaviour: an instant first payment with a Direct Debit set-up and its fallback,
working days, a mandate's moving next_possible_charge_date, subscription payments created ahead of their charge
dates, GoCardless's own retries, the 429 reset, events' resource_metadata and payment list filters. Driven by the
real gocardless-pro client and the simulator's control surface."""

from __future__ import annotations

import time
from datetime import date
from email.utils import parsedate_to_datetime

import gocardless_pro
import pytest
import requests
from gocardless_pro import errors

from aestheticc_pos.sync.simulator import RATE_LIMIT_429, ScenarioError, SimApiError, Simulator
from aestheticc_pos.sync.simulator.working_days import (
    add_working_days,
    bank_holidays,
    is_working_day,
    next_working_day,
)

FIRST_PAYMENT = {
    "amount": 4900,
    "currency": "GBP",
    "description": "Gold membership: first month",
    "scheme": "faster_payments",
    "metadata": {"membership_id": "m-1", "period_start": "2026-11-24"},
}


def _dual(client: gocardless_pro.Client, fallback: bool | None = None, **payment: object):
    """A billing request setting up a Bacs mandate and taking the first payment, and a flow for it."""
    params: dict[str, object] = {
        "mandate_request": {"scheme": "bacs", "currency": "GBP", "metadata": {"membership_id": "m-1"}},
        "payment_request": {**FIRST_PAYMENT, **payment},
        "metadata": {"membership_id": "m-1"},
    }
    if fallback is not None:
        params["fallback_enabled"] = fallback
    br = client.billing_requests.create(params=params)
    flow = client.billing_request_flows.create(params={"links": {"billing_request": br.id}})
    return br, flow


def _mandate(sim: Simulator, client: gocardless_pro.Client, active: bool = True) -> str:
    br = client.billing_requests.create(params={"mandate_request": {"scheme": "bacs", "currency": "GBP"}})
    flow = client.billing_request_flows.create(params={"links": {"billing_request": br.id}})
    mandate = sim.authorise(flow.id, family_name="Silva")["links"]["mandate_request_mandate"]
    if active:
        sim.activate_mandate(mandate)
    return mandate


def _actions(client: gocardless_pro.Client, **params: str) -> list[tuple[str, str]]:
    return [(e.resource_type, e.action) for e in client.events.all(params=params)]


# ----- 1. an instant first payment with the Direct Debit set-up ----------------------------------------------
def test_a_dual_billing_request_sets_up_the_mandate_and_takes_an_instant_first_payment(simulator, gc_client):
    simulator.set_clock("2026-11-24")
    br, flow = _dual(gc_client, fallback=True)
    assert (br.fallback_enabled, br.fallback_occurred) == (True, False)
    assert (br.payment_request.scheme, br.payment_request.amount) == ("faster_payments", 4900)
    assert [a["type"] for a in br.actions] == [
        "collect_customer_details",
        "collect_bank_account",
        "confirm_payer_details",
        "bank_authorisation",
    ]

    simulator.authorise(flow.id, given_name="Ana", family_name="Silva", email="ana@example.com")

    br = gc_client.billing_requests.get(br.id)
    assert (br.status, br.fallback_occurred) == ("fulfilled", False)
    mandate_id, payment_id = br.links.mandate_request_mandate, br.links.payment_request_payment
    assert mandate_id.startswith("MD") and payment_id.startswith("PM")
    assert br.mandate_request.links == {"mandate": mandate_id}
    assert br.payment_request.links == {"payment": payment_id}

    mandate = gc_client.mandates.get(mandate_id)
    assert (mandate.status, mandate.scheme) == ("pending_submission", "bacs")
    assert mandate.links.customer == br.links.customer and mandate.metadata == {"membership_id": "m-1"}
    payment = gc_client.payments.get(payment_id)
    assert (payment.scheme, payment.status, payment.amount, payment.charge_date) == (
        "faster_payments",
        "confirmed",
        4900,
        "2026-11-24",
    )
    assert payment.attributes["links"] == {"creditor": "CR000SIMULATOR"}  # no mandate, no billing request
    assert payment.metadata == FIRST_PAYMENT["metadata"]

    assert _actions(gc_client) == [
        ("billing_requests", "created"),
        ("billing_requests", "flow_created"),
        ("billing_requests", "flow_visited"),
        ("billing_requests", "collect_customer_details"),
        ("billing_requests", "collect_bank_account"),
        ("billing_requests", "payer_details_confirmed"),
        ("billing_requests", "bank_authorisation_authorised"),
        ("billing_requests", "fulfilled"),
        ("mandates", "created"),
        ("payments", "created"),
        ("payments", "submitted"),
        ("payments", "confirmed"),
    ]
    fulfilled = gc_client.events.list(params={"billing_request": br.id, "action": "fulfilled"}).records[0]
    assert fulfilled.links.mandate_request_mandate == mandate_id
    assert fulfilled.links.payment_request_payment == payment_id
    assert fulfilled.links.customer == br.links.customer
    assert fulfilled.links.customer_bank_account == br.links.customer_bank_account


def test_an_instant_first_payment_can_stop_short_of_confirmed(simulator, gc_client):
    _, flow = _dual(gc_client)
    paid = simulator.authorise(flow.id, payment_status="submitted", family_name="Silva")
    assert paid["fallback_enabled"] is False  # the default, echoed on the resource
    assert gc_client.payments.get(paid["links"]["payment_request_payment"]).status == "submitted"


# ----- 2. fallback to Direct Debit ----------------------------------------------------------------------------
def test_a_bank_that_cannot_pay_instantly_falls_back_to_a_direct_debit_payment(simulator, gc_client):
    simulator.set_clock("2026-11-24")
    simulator.options.instant_payments_available = False
    br, flow = _dual(gc_client, fallback=True)
    simulator.authorise(flow.id, family_name="Silva")

    br = gc_client.billing_requests.get(br.id)
    assert (br.status, br.fallback_occurred) == ("fulfilled", True)
    mandate = gc_client.mandates.get(br.links.mandate_request_mandate)
    payment = gc_client.payments.get(br.links.payment_request_payment)
    assert (payment.scheme, payment.status, payment.links.mandate) == (
        "bacs",
        "pending_submission",
        mandate.id,
    )
    assert payment.charge_date == mandate.next_possible_charge_date == "2026-11-30"
    assert payment.metadata == FIRST_PAYMENT["metadata"] and payment.amount == 4900
    assert _actions(gc_client, payment=payment.id) == [("payments", "created")]
    assert ("billing_requests", "bank_authorisation_authorised") not in _actions(gc_client)


def test_without_fallback_a_payer_whose_bank_cannot_pay_cannot_finish(simulator, gc_client):
    br, flow = _dual(gc_client)
    with pytest.raises(SimApiError) as info:
        simulator.authorise(flow.id, instant_available=False, family_name="Moss")
    assert info.value.errors[0]["reason"] == "bank_authorisation_failed"

    pending = gc_client.billing_requests.get(br.id)
    assert (pending.status, pending.fallback_occurred) == ("pending", False)
    assert pending.links.mandate_request_mandate is None and pending.links.payment_request_payment is None
    assert simulator.count("mandates") == 0 and simulator.count("payments") == 0
    assert _actions(gc_client)[-2:] == [
        ("billing_requests", "payer_details_confirmed"),
        ("billing_requests", "bank_authorisation_failed"),
    ]
    simulator.options.instant_payments_available = False
    page = requests.post(flow.authorisation_url, data={}, timeout=5)  # the hosted page refuses too
    assert page.status_code == 409 and "Cannot complete" in page.text

    # With another bank the payer finishes; the details already given are kept, not collected twice.
    simulator.authorise(flow.id, instant_available=True)
    assert gc_client.billing_requests.get(br.id).status == "fulfilled"
    assert simulator.count("customers") == 1 and simulator.count("customer_bank_accounts") == 1
    collected = [a for t, a in _actions(gc_client, billing_request=br.id) if a.startswith("collect_")]
    assert collected == ["collect_customer_details", "collect_bank_account"]


def test_a_dual_request_in_another_currency_needs_fallback(simulator, gc_client):
    params = {
        "mandate_request": {"scheme": "sepa_core", "currency": "EUR"},
        "payment_request": {"amount": 5000, "currency": "EUR", "description": "First month"},
    }
    with pytest.raises(errors.ValidationFailedError) as info:
        gc_client.billing_requests.create(params=params)
    assert info.value.errors[0]["field"] == "currency"
    assert info.value.errors[0]["request_pointer"] == "/billing_requests/payment_request/currency"

    br = gc_client.billing_requests.create(params={**params, "fallback_enabled": True})
    assert br.payment_request.scheme == "sepa_core"
    assert "bank_authorisation" not in [a["type"] for a in br.actions]
    flow = gc_client.billing_request_flows.create(params={"links": {"billing_request": br.id}})
    simulator.authorise(flow.id, family_name="Weber")
    br = gc_client.billing_requests.get(br.id)
    payment = gc_client.payments.get(br.links.payment_request_payment)
    assert (payment.scheme, payment.currency, payment.links.mandate) == (
        "sepa_core",
        "EUR",
        br.links.mandate_request_mandate,
    )
    assert br.fallback_occurred is False  # Direct Debit from the start: nothing fell back


# ----- 3. working days ----------------------------------------------------------------------------------------
def test_england_and_wales_bank_holidays():
    assert sorted(bank_holidays(2026)) == [
        date(2026, 1, 1),
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 4),
        date(2026, 5, 25),
        date(2026, 8, 31),
        date(2026, 12, 25),
        date(2026, 12, 28),  # Boxing Day is a Saturday
    ]
    assert sorted(bank_holidays(2027)) == [
        date(2027, 1, 1),
        date(2027, 3, 26),
        date(2027, 3, 29),
        date(2027, 5, 3),
        date(2027, 5, 31),
        date(2027, 8, 30),
        date(2027, 12, 27),  # Christmas Day is a Saturday
        date(2027, 12, 28),  # Boxing Day is a Sunday
    ]
    assert date(2022, 1, 3) in bank_holidays(2022) and date(2022, 12, 27) in bank_holidays(2022)
    assert {date(2022, 6, 2), date(2022, 6, 3)} <= bank_holidays(2022) and date(
        2022, 5, 30
    ) not in bank_holidays(2022)
    assert date(2020, 5, 8) in bank_holidays(2020) and date(2020, 5, 4) not in bank_holidays(2020)

    assert next_working_day(date(2026, 12, 25)) == date(2026, 12, 29)
    assert next_working_day(date(2027, 3, 26)) == date(2027, 3, 30)
    assert next_working_day(date(2026, 12, 29)) == date(2026, 12, 29)
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    assert add_working_days(date(2027, 3, 30), -3) == date(2027, 3, 23)
    assert add_working_days(date(2026, 12, 26), 0) == date(2026, 12, 26)
    assert not is_working_day(date(2026, 12, 28)) and is_working_day(date(2026, 12, 29))


def test_charge_dates_roll_forward_to_a_working_day(simulator, gc_client):
    simulator.set_clock("2026-12-01")
    mandate = _mandate(simulator, gc_client)
    christmas = gc_client.payments.create(
        params={"amount": 1000, "currency": "GBP", "charge_date": "2026-12-25", "links": {"mandate": mandate}}
    )
    assert christmas.charge_date == "2026-12-29"

    sub = gc_client.subscriptions.create(
        params={
            "amount": 4900,
            "currency": "GBP",
            "interval_unit": "monthly",
            "day_of_month": 26,
            "start_date": "2027-01-26",
            "links": {"mandate": mandate},
        }
    )
    assert [p["charge_date"] for p in sub.upcoming_payments][:6] == [
        "2027-01-26",
        "2027-02-26",
        "2027-03-30",  # 26 March 2027 is Good Friday, the 29th Easter Monday
        "2027-04-26",
        "2027-05-26",
        "2027-06-28",  # the 26th is a Saturday
    ]
    assert sub.start_date == "2027-01-26"
    assert len(simulator.advance_to("2027-03-22")) == 2
    easter = simulator.advance_to("2027-03-23")  # three working days before the 30th, over Easter
    assert [gc_client.payments.get(p).charge_date for p in easter] == ["2027-03-30"]


# ----- 4. a mandate's next_possible_charge_date moves with time --------------------------------------------------
def test_next_possible_charge_date_moves_with_time(simulator, gc_client):
    simulator.set_clock("2026-01-12")
    mandate = _mandate(simulator, gc_client, active=False)
    assert (
        gc_client.mandates.get(mandate).next_possible_charge_date == "2026-01-16"
    )  # created + 4 working days

    simulator.set_clock("2026-02-12")  # a month later: today + 3 working days
    assert gc_client.mandates.get(mandate).next_possible_charge_date == "2026-02-17"
    assert [m.next_possible_charge_date for m in gc_client.mandates.list().records] == ["2026-02-17"]
    assert simulator.get("mandates", mandate)["next_possible_charge_date"] == "2026-02-17"
    with_mandates = gc_client.events.list(params={"resource_type": "mandates", "include": "mandate"})
    linked = with_mandates.api_response.body["linked"]["mandates"]
    assert [(m["id"], m["next_possible_charge_date"]) for m in linked] == [(mandate, "2026-02-17")]

    base = {"amount": 4900, "currency": "GBP", "links": {"mandate": mandate}}
    with pytest.raises(errors.ValidationFailedError) as info:
        gc_client.subscriptions.create(
            params={**base, "interval_unit": "monthly", "start_date": "2026-02-16"}
        )
    assert info.value.errors[0]["field"] == "start_date"
    sub = gc_client.subscriptions.create(
        params={**base, "interval_unit": "monthly", "start_date": "2026-02-17"}
    )
    assert sub.upcoming_payments[0]["charge_date"] == "2026-02-17"
    with pytest.raises(errors.ValidationFailedError) as info:
        gc_client.payments.create(params={**base, "charge_date": "2026-02-16"})
    assert info.value.errors[0]["field"] == "charge_date"
    assert gc_client.payments.create(params=base).charge_date == "2026-02-17"

    gc_client.mandates.cancel(mandate)
    simulator.set_clock("2026-03-02")  # a cancelled mandate can no longer be charged: its date stays
    assert gc_client.mandates.get(mandate).next_possible_charge_date == "2026-02-17"


# ----- 5. subscription payments are created ahead of their charge dates -------------------------------------------
def _monthly_from_december(sim: Simulator, client: gocardless_pro.Client):
    sim.set_clock("2026-11-02")
    mandate = _mandate(sim, client)
    return client.subscriptions.create(
        params={
            "amount": 4900,
            "currency": "GBP",
            "interval_unit": "monthly",
            "day_of_month": 1,
            "start_date": "2026-12-01",
            "metadata": {"membership_id": "m-1"},
            "links": {"mandate": mandate},
        }
    )


def test_a_subscription_payment_is_created_three_working_days_before_it_is_charged(simulator, gc_client):
    sub = _monthly_from_december(simulator, gc_client)
    assert simulator.advance_to("2026-11-25", auto_confirm=True) == []
    created = simulator.advance_to("2026-11-26", auto_confirm=True)
    assert len(created) == 1
    payment = gc_client.payments.get(created[0])
    assert (payment.charge_date, payment.status, payment.links.subscription) == (
        "2026-12-01",
        "pending_submission",
        sub.id,
    )
    made = gc_client.events.list(params={"subscription": sub.id, "action": "payment_created"}).records
    assert [(e.links.payment, e.created_at[:10]) for e in made] == [(payment.id, "2026-11-26")]
    assert gc_client.subscriptions.get(sub.id).upcoming_payments[0]["charge_date"] == "2027-01-04"

    simulator.advance_to("2026-11-27", auto_confirm=True)  # two working days before the charge date
    assert gc_client.payments.get(payment.id).status == "submitted"
    simulator.advance_to("2026-12-03", auto_confirm=True)
    assert gc_client.payments.get(payment.id).status == "submitted"
    simulator.advance_to("2026-12-04", auto_confirm=True)  # confirm_after_days (3) after the charge date
    assert gc_client.payments.get(payment.id).status == "confirmed"
    steps = [
        (e.action, e.created_at[:10])
        for e in gc_client.events.list(params={"payment": payment.id}).records
        if e.resource_type == "payments"
    ]
    assert steps == [("created", "2026-11-26"), ("submitted", "2026-11-27"), ("confirmed", "2026-12-04")]


def test_with_no_lead_a_subscription_payment_is_created_on_its_charge_date(simulator, gc_client):
    simulator.options.subscription_payment_lead_days = 0
    _monthly_from_december(simulator, gc_client)
    assert simulator.advance_to("2026-11-30") == []
    assert len(simulator.advance_to("2026-12-01")) == 1


def test_cancelling_a_subscription_leaves_its_submitted_payments(simulator, gc_client):
    simulator.set_clock("2026-11-02")
    mandate = _mandate(simulator, gc_client)
    sub = gc_client.subscriptions.create(
        params={
            "amount": 1500,
            "currency": "GBP",
            "interval_unit": "weekly",
            "start_date": "2026-11-09",
            "links": {"mandate": mandate},
        }
    )
    first, second = simulator.advance_to("2026-11-11")  # for 9 and 16 November
    simulator.submit_payment(first)
    gc_client.subscriptions.cancel(sub.id)
    assert gc_client.payments.get(first).status == "submitted"
    assert gc_client.payments.get(second).status == "cancelled"
    cancelled = gc_client.events.list(params={"resource_type": "payments", "action": "cancelled"}).records
    assert [e.links.payment for e in cancelled] == [second]


# ----- 6. GoCardless's own retry (Success+) -------------------------------------------------------------------
def test_gocardless_resubmits_a_failed_payment_it_said_it_would_retry(simulator, gc_client):
    simulator.set_clock("2026-12-01")
    mandate = _mandate(simulator, gc_client)
    payment = gc_client.payments.create(
        params={"amount": 4900, "currency": "GBP", "links": {"mandate": mandate}}
    )
    simulator.fail_payment(payment.id, will_retry=True)

    simulator.set_clock("2026-12-18")
    simulator.resubmit_payment(payment.id)
    again = gc_client.payments.get(payment.id)
    assert (again.status, again.charge_date) == (
        "pending_submission",
        "2026-12-23",
    )  # the mandate's earliest day
    assert again.charge_date == gc_client.mandates.get(mandate).next_possible_charge_date
    event = gc_client.events.list(params={"payment": payment.id, "action": "resubmission_requested"}).records[
        0
    ]
    assert (event.details.origin, event.details.cause) == ("gocardless", "payment_autoretried")
    assert event.links.payment == payment.id
    assert [e.action for e in gc_client.events.list(params={"payment": payment.id}).records] == [
        "created",
        "submitted",
        "failed",
        "resubmission_requested",
    ]

    simulator.fail_payment(payment.id, will_retry=True)
    control = f"{simulator.base_url}/_sim/resubmit_payment"
    resp = requests.post(control, json={"payment_id": payment.id, "charge_date": "2026-12-25"}, timeout=5)
    assert resp.status_code == 200
    assert gc_client.payments.get(payment.id).charge_date == "2026-12-29"

    simulator.fail_payment(payment.id, will_retry=False)
    with pytest.raises(ScenarioError):
        simulator.resubmit_payment(payment.id)
    assert requests.post(control, json={"payment_id": payment.id}, timeout=5).status_code == 400
    assert gc_client.payments.get(payment.id).status == "failed"


# ----- 7. a 429 with a true reset ------------------------------------------------------------------------------
def test_a_429_can_say_exactly_when_to_try_again(simulator, gc_client):
    headers = {"Authorization": "Bearer x", "GoCardless-Version": "2015-07-06"}
    url = f"{simulator.base_url}/customers"
    simulator.inject(RATE_LIMIT_429, reset_after=90)  # beyond any one-minute window
    before = time.time()
    limited = requests.get(url, headers=headers, timeout=5)
    assert limited.status_code == 429 and limited.headers["RateLimit-Remaining"] == "0"
    reset = parsedate_to_datetime(limited.headers["RateLimit-Reset"]).timestamp()
    assert before + 90 <= reset <= before + 92

    after = requests.get(url, headers=headers, timeout=5)  # only that response: then the minute window again
    assert after.status_code == 200
    window_end = parsedate_to_datetime(after.headers["RateLimit-Reset"]).timestamp()
    assert window_end % 60 == 0 and window_end <= time.time() + 60

    simulator.inject(RATE_LIMIT_429, reset_after=1.5)
    with pytest.raises(errors.RateLimitError) as info:
        gc_client.customers.list()
    assert info.value.errors[0]["reason"] == "rate_limit_exceeded"
    with pytest.raises(ValueError):
        simulator.inject("error_500", reset_after=5)


# ----- 8. events carry the metadata of their resource ----------------------------------------------------------
def test_events_carry_their_resource_metadata(simulator, gc_client):
    br, flow = _dual(gc_client)
    paid = simulator.authorise(flow.id, family_name="Silva")
    payment = paid["links"]["payment_request_payment"]
    mandate = paid["links"]["mandate_request_mandate"]
    by_kind = {(e.resource_type, e.action): e.resource_metadata for e in gc_client.events.all()}
    assert by_kind[("billing_requests", "created")] == {"membership_id": "m-1"}
    assert by_kind[("billing_requests", "fulfilled")] == {"membership_id": "m-1"}
    assert by_kind[("mandates", "created")] == {"membership_id": "m-1"}
    assert by_kind[("payments", "confirmed")] == FIRST_PAYMENT["metadata"]

    # The metadata as it is when the event happens: a later change shows on later events only.
    gc_client.payments.update(payment, params={"metadata": {"membership_id": "m-2"}})
    refund = gc_client.refunds.create(
        params={
            "amount": 900,
            "total_amount_confirmation": 900,
            "metadata": {"refund_for": "m-2"},
            "links": {"payment": payment},
        }
    )
    simulator.charge_back(payment)
    about_payment = gc_client.events.list(params={"payment": payment}).records
    payment_events = [e for e in about_payment if e.resource_type == "payments"]
    assert [(e.action, e.resource_metadata) for e in payment_events] == [
        ("created", FIRST_PAYMENT["metadata"]),
        ("submitted", FIRST_PAYMENT["metadata"]),
        ("confirmed", FIRST_PAYMENT["metadata"]),
        ("charged_back", {"membership_id": "m-2"}),
    ]
    refund_event = gc_client.events.list(params={"refund": refund.id}).records[0]
    assert refund_event.resource_metadata == {"refund_for": "m-2"}

    sub = gc_client.subscriptions.create(
        params={
            "amount": 4900,
            "currency": "GBP",
            "interval_unit": "monthly",
            "metadata": {"membership_id": "m-1", "tier": "gold"},
            "links": {"mandate": mandate},
        }
    )
    created = gc_client.events.list(params={"subscription": sub.id}).records[0]
    assert created.resource_metadata == {"membership_id": "m-1", "tier": "gold"}
    assert created.metadata == {}  # the event's own metadata is another thing


# ----- 9. payments listed by mandate or subscription -----------------------------------------------------------
def test_payments_filter_by_mandate_and_subscription_and_paginate(simulator, gc_client):
    simulator.set_clock("2026-11-02")
    first, second = _mandate(simulator, gc_client), _mandate(simulator, gc_client)

    def make(mandate: str) -> str:
        return gc_client.payments.create(
            params={"amount": 1000, "currency": "GBP", "links": {"mandate": mandate}}
        ).id

    on_first = [make(first), make(first), make(first)]
    make(second)
    sub = gc_client.subscriptions.create(
        params={
            "amount": 1500,
            "currency": "GBP",
            "interval_unit": "weekly",
            "start_date": "2026-11-09",
            "links": {"mandate": second},
        }
    )
    from_sub = simulator.advance_to("2026-11-18")  # for 9, 16 and 23 November
    assert len(from_sub) == 3

    assert [p.id for p in gc_client.payments.all(params={"mandate": first, "limit": 2})] == on_first
    page = gc_client.payments.list(params={"mandate": first, "limit": 2})
    assert [p.id for p in page.records] == on_first[:2] and page.after == on_first[1]
    assert [p.id for p in gc_client.payments.all(params={"subscription": sub.id, "limit": 1})] == from_sub
    assert len(gc_client.payments.list(params={"mandate": second}).records) == 4
