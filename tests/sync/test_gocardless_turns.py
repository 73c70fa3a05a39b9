"""The less common turns GoCardless reports, each produced by the simulator and applied by the real till.

Mandates replaced (``links.new_mandate``), reinstated, blocked and consumed; payments whose chargeback was
cancelled or settled, or whose approval the payer refused; subscriptions the payer refused; Direct Debit set-ups
that failed, were refused at the bank or were left on the page. Each test drives the simulator through its
scenario control, syncs with the real gocardless-pro client and checks what the membership became
(DESIGN.md §3, spec "packages-and-memberships": a replaced mandate keeps collecting, a chargeback makes the member
owe that period again, a lost mandate or an unfinished set-up means a new link).
"""

from __future__ import annotations

import datetime as dt

import pytest
from harness import Till

from aestheticc_pos.domain.memberships import MembershipStatus
from aestheticc_pos.services import membership_billing
from aestheticc_pos.services import memberships as memberships_service

JOINED = dt.date(2026, 11, 24)
FIRST_PERIOD_END = dt.date(2026, 12, 23)


def _member(till: Till) -> str:
    """A member whose Direct Debit is set up and active, first month paid, subscription live from 24 Dec."""
    membership_id = till.sign_up()
    till.cycle()
    till.authorise(membership_id)
    till.cycle()
    till.simulator.activate_mandate(till.membership(membership_id).gc_mandate_id or "")
    till.cycle()
    m = till.membership(membership_id)
    assert (m.status, m.paid_through, m.gc_mandate_status) == ("active", FIRST_PERIOD_END, "active")
    assert m.gc_subscription_id
    return membership_id


def _december_payment(till: Till, membership_id: str) -> str:
    """Live to 29 Dec: the subscription's first payment (24 Dec) is created, charged and confirmed."""
    till.live_through(dt.date(2026, 12, 29))
    m = till.membership(membership_id)
    [payment] = [
        p for p in till.simulator.all("payments") if p["links"].get("subscription") == m.gc_subscription_id
    ]
    assert payment["status"] == "confirmed"
    assert till.membership(membership_id).paid_through == dt.date(2027, 1, 23)
    return payment["id"]


def _not_billed(till: Till) -> list[str]:
    return [n.membership_id for n in membership_billing.memberships_not_billed(till.services)]


# --- Mandates -----------------------------------------------------------------------------------------------


def test_a_replaced_mandate_moves_the_membership_to_the_new_mandate_and_keeps_collecting(till: Till) -> None:
    membership_id = _member(till)
    old = till.membership(membership_id).gc_mandate_id or ""
    subscription = till.membership(membership_id).gc_subscription_id or ""

    new = till.simulator.replace_mandate(old)
    report = till.cycle()

    [replaced] = till.simulator.events("mandates", "replaced")
    assert replaced["links"] == {"mandate": old, "new_mandate": new}
    m = till.membership(membership_id)
    assert (m.gc_mandate_id, m.gc_subscription_id, m.status) == (new, subscription, "active")
    assert report.pull is not None and report.pull.new_links == 0  # nothing for staff to do
    assert till.simulator.get("subscriptions", subscription)["links"]["mandate"] == new
    assert _not_billed(till) == []

    _december_payment(till, membership_id)  # collected on the new mandate, the period paid
    [payment] = [p for p in till.simulator.all("payments") if p["links"].get("subscription") == subscription]
    assert payment["links"]["mandate"] == new


def test_a_reinstated_mandate_is_in_good_standing_and_its_subscription_is_queued_again(till: Till) -> None:
    membership_id = _member(till)
    mandate = till.membership(membership_id).gc_mandate_id or ""
    first_subscription = till.membership(membership_id).gc_subscription_id

    till.simulator.cancel_mandate(mandate)
    lost = till.cycle()
    m = till.membership(membership_id)
    assert lost.pull is not None and lost.pull.new_link_memberships == (membership_id,)
    assert (m.gc_mandate_status, m.gc_subscription_id) == ("cancelled", None)

    till.simulator.reinstate_mandate(mandate)
    back = till.cycle()

    [reinstated] = till.simulator.events("mandates", "reinstated")
    assert reinstated["resource_metadata"] == {"membership_id": membership_id}
    assert back.pull is not None and back.pull.subscriptions_queued == 1 and back.pull.new_links == 0
    till.cycle()  # the new subscription is sent and its event read
    m = till.membership(membership_id)
    assert (m.gc_mandate_id, m.gc_mandate_status, m.status) == (mandate, "active", "active")
    assert m.gc_subscription_id not in (None, first_subscription)
    live = [s for s in till.simulator.all("subscriptions") if s["status"] == "active"]
    assert [(s["id"], s["links"]["mandate"]) for s in live] == [(m.gc_subscription_id, mandate)]
    assert _not_billed(till) == []


@pytest.mark.parametrize(
    ("scenario", "status"), [("block_mandate", "blocked"), ("consume_mandate", "consumed")]
)
def test_a_blocked_or_consumed_mandate_stops_billing_and_asks_for_a_new_link(
    till: Till, scenario: str, status: str
) -> None:
    membership_id = _member(till)
    mandate = till.membership(membership_id).gc_mandate_id or ""
    subscription = till.membership(membership_id).gc_subscription_id or ""

    getattr(till.simulator, scenario)(mandate)
    report = till.cycle()

    [ended] = till.simulator.events("mandates", status)
    [cancelled] = till.simulator.events("subscriptions", "cancelled")
    assert cancelled["links"] == {"subscription": subscription, "parent_event": ended["id"]}
    m = till.membership(membership_id)
    assert (m.gc_mandate_status, m.gc_subscription_id) == (status, None)
    assert report.pull is not None and report.pull.new_link_memberships == (membership_id,)
    assert m.status == "active" and m.paid_through == FIRST_PERIOD_END  # what was paid for is kept
    till.live_through(dt.date(2026, 12, 26))
    memberships_service.daily_review(till.services)  # the till's morning check
    assert till.membership(membership_id).status == MembershipStatus.PAST_DUE.value
    assert till.membership(membership_id).past_due_since == dt.date(2026, 12, 24)


# --- Payments -----------------------------------------------------------------------------------------------


def test_a_chargeback_makes_the_member_owe_the_period_and_its_cancellation_pays_it_again(till: Till) -> None:
    membership_id = _member(till)
    payment = _december_payment(till, membership_id)

    till.simulator.charge_back(payment)
    till.cycle()
    m = till.membership(membership_id)
    assert (m.status, m.paid_through) == ("past_due", FIRST_PERIOD_END)  # December's period owed again
    assert {r.gc_payment_id: r.status for r in till.payments(membership_id)}[payment] == "charged_back"

    till.simulator.cancel_chargeback(payment)
    till.cycle()

    assert till.simulator.get("payments", payment)["status"] == "confirmed"
    m = till.membership(membership_id)
    assert (m.status, m.paid_through, m.past_due_since) == ("active", dt.date(2027, 1, 23), None)
    assert {r.gc_payment_id: r.status for r in till.payments(membership_id)}[payment] == "confirmed"


def test_a_settled_chargeback_keeps_the_period_owed_and_names_a_payout_that_can_be_read(
    till: Till, gc_client
) -> None:
    membership_id = _member(till)
    payment = _december_payment(till, membership_id)
    paid_into = till.simulator.pay_out(payment)
    till.simulator.charge_back(payment)
    till.cycle()
    till.live_through(dt.date(2026, 12, 30))  # settled against the next day's payout

    debited_from = till.simulator.settle_chargeback(payment)
    report = till.cycle()

    assert report.pull is not None and report.pull.applied == 1
    m = till.membership(membership_id)
    assert (m.status, m.paid_through) == ("past_due", FIRST_PERIOD_END)
    [settled] = till.simulator.events("payments", "chargeback_settled")
    assert settled["links"]["payout"] == debited_from
    payout = gc_client.payouts.get(paid_into)
    assert (payout.amount, payout.deducted_fees, payout.status) == (4900 - 69, 69, "pending")
    items = gc_client.payout_items.list(params={"payout": debited_from}).records
    assert [(i.type, i.amount, i.links.payment) for i in items][-1] == (
        "payment_charged_back",
        "-49.00",
        payment,
    )


def test_a_payment_the_payer_refuses_is_never_collected_and_the_member_falls_behind(till: Till) -> None:
    membership_id = _member(till)
    till.simulator.require_approval(till.membership(membership_id).gc_mandate_id or "")
    till.live_through(dt.date(2026, 12, 21))  # the December payment is created, waiting for approval
    m = till.membership(membership_id)
    [payment] = [
        p for p in till.simulator.all("payments") if p["links"].get("subscription") == m.gc_subscription_id
    ]
    assert payment["status"] == "pending_customer_approval"

    till.simulator.deny_payment_approval(payment["id"])
    till.live_through(dt.date(2026, 12, 29))
    memberships_service.daily_review(till.services)

    assert {r.gc_payment_id: r.status for r in till.payments(membership_id)}[payment["id"]] == "cancelled"
    m = till.membership(membership_id)
    assert (m.status, m.paid_through, m.past_due_since) == (
        "past_due",
        FIRST_PERIOD_END,
        dt.date(2026, 12, 24),
    )


# --- Subscriptions and set-ups ------------------------------------------------------------------------------


def test_a_subscription_the_payer_refuses_stops_billing_and_is_listed_as_not_billed(till: Till) -> None:
    membership_id = till.sign_up()
    till.cycle()
    till.authorise(membership_id)
    mandate = till.simulator.all("mandates")[0]["id"]
    till.simulator.require_approval(mandate)
    till.cycle()  # the subscription is created and waits for the payer's approval
    subscription = till.membership(membership_id).gc_subscription_id or ""
    assert till.simulator.get("subscriptions", subscription)["status"] == "pending_customer_approval"

    till.simulator.deny_subscription_approval(subscription)
    report = till.cycle()

    assert report.pull is not None
    assert till.membership(membership_id).gc_subscription_id is None
    assert _not_billed(till) == [membership_id]
    [log] = [e for e in till.simulator.events("subscriptions", "customer_approval_denied")]
    assert log["links"] == {"subscription": subscription}


@pytest.mark.parametrize(
    ("scenario", "action"),
    [
        ("fail_billing_request", "failed"),
        ("deny_bank_authorisation", "bank_authorisation_denied"),
        ("exit_flow", "flow_exited"),
    ],
)
def test_a_set_up_that_did_not_finish_asks_for_a_new_link(till: Till, scenario: str, action: str) -> None:
    membership_id = till.sign_up()
    till.cycle()
    m = till.membership(membership_id)
    assert m.gc_authorisation_url
    target = m.gc_billing_request_id if scenario == "fail_billing_request" else m.gc_flow_id

    getattr(till.simulator, scenario)(target or "")
    report = till.cycle()

    [event] = till.simulator.events("billing_requests", action)
    assert event["links"]["billing_request"] == m.gc_billing_request_id
    assert report.pull is not None and report.pull.new_link_memberships == (membership_id,)
    m = till.membership(membership_id)
    assert m.gc_authorisation_url is None  # the link is no longer shown
    assert (m.status, m.gc_mandate_id) == ("pending_mandate", None)
