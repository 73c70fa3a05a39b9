"""Every month billed, never twice: the first month, the subscription, one-off months, replacements.

The real services, the real gocardless-pro client and the simulator behaving as GoCardless does: a mandate's
next possible charge date three working days ahead, charge dates rolled to working days, subscription payments
created three working days before they are charged. A till open every day syncs each morning
(``Till.live_through``). Each test ends by checking, month by month, that every period from the sign-up to
the last one due was collected exactly once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from harness import Till
from sqlalchemy import select

from aestheticc_pos.domain import billing
from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.memberships import MembershipStatus
from aestheticc_pos.services import catalogue, clinic, membership_views
from aestheticc_pos.services import membership_billing as billing_service
from aestheticc_pos.services import memberships as memberships_service
from aestheticc_pos.services.checkout import complete_sale
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.store.tables import OutboxRow
from aestheticc_pos.sync.simulator import ERROR_500, LOST_RESPONSE

JOINED = dt.date(2026, 11, 24)  # a Tuesday
COLLECTED = ("confirmed", "paid_out")


def _collected_months(till: Till, membership_id: str) -> list[dt.date]:
    """The start of every period the member paid for, at the till or by a payment GoCardless collected."""
    starts = []
    for row in till.payments(membership_id):
        if (
            row.source in ("sale", "desk")
            or row.gc_payment_id
            and till.simulator.get("payments", row.gc_payment_id)["status"] in COLLECTED
        ):
            starts.append(row.period_start)
    return sorted(starts)


def _every_month_once(till: Till, membership_id: str, through: dt.date) -> None:
    """Every period from the start to the one holding ``through`` collected exactly once, none after."""
    months = _collected_months(till, membership_id)
    twice = [start for start, n in Counter(months).items() if n > 1]
    assert not twice, f"collected twice: {twice}"
    m = till.membership(membership_id)
    expected = [
        billing.period(m.started_on, n).start for n in range(billing.period_index(m.started_on, through) + 1)
    ]
    assert months == expected
    assert m.paid_through == billing.period_holding(m.started_on, through).end
    # GoCardless collected exactly as many payments for the member as the till recorded.
    gc_collected = [p for p in till.simulator.all("payments") if p["status"] in COLLECTED]
    assert len(gc_collected) == len(
        [
            r
            for r in till.payments(membership_id)
            if r.source == "direct_debit" and r.gc_payment_id and r.status == "confirmed"
        ]
    )


def _live_subscriptions(till: Till) -> list[dict[str, object]]:
    return [s for s in till.simulator.all("subscriptions") if s["status"] == "active"]


@pytest.fixture(autouse=True)
def _realistic_simulator(till: Till) -> None:
    options = till.simulator.options
    options.payment_lead_days = 3
    options.subscription_payment_lead_days = 3


# --- The first month ---------------------------------------------------------------------------------------


def test_sold_at_the_till_the_first_month_is_on_the_sale_and_the_subscription_collects_from_the_second(
    till: Till,
) -> None:
    client_id = till.add_client()
    receipt = complete_sale(
        till.services,
        client_id=client_id,
        items=[BasketItem(ItemKind.MEMBERSHIP, till.tier_id)],
        payments=[Payment("card", "49")],
        staff_id=till.receptionist,
    )
    assert receipt.net.pence == 4900
    membership_id = membership_views.membership_of(till.services, client_id).id
    till.cycle()
    [request] = till.simulator.all("billing_requests")
    assert not request["payment_request"]  # the first month is paid: a mandate only
    till.authorise(membership_id)
    till.cycle()
    [subscription] = _live_subscriptions(till)
    assert subscription["start_date"] == "2026-12-24" and subscription["amount"] == 4900

    till.live_through(dt.date(2027, 2, 28))

    _every_month_once(till, membership_id, dt.date(2027, 2, 28))
    assert till.membership(membership_id).status == MembershipStatus.ACTIVE.value


def test_signed_up_from_memberships_the_first_month_is_paid_as_the_client_authorises(till: Till) -> None:
    membership_id = till.sign_up()
    till.cycle()
    [request] = till.simulator.all("billing_requests")
    assert request["payment_request"]["amount"] == 4900 and request["mandate_request"]["scheme"] == "bacs"
    assert request["fallback_enabled"] is True
    assert till.membership(membership_id).status == MembershipStatus.PENDING_MANDATE.value

    till.authorise(membership_id)
    till.cycle()

    m = till.membership(membership_id)
    assert (m.status, m.paid_through) == (MembershipStatus.ACTIVE.value, dt.date(2026, 12, 23))
    [first] = till.payments(membership_id)
    assert (first.period_start, first.status) == (JOINED, "confirmed")
    [subscription] = _live_subscriptions(till)
    assert subscription["start_date"] == "2026-12-24"
    assert not till.rows("create_payment")  # nothing else to collect by hand

    till.live_through(dt.date(2027, 2, 28))
    _every_month_once(till, membership_id, dt.date(2027, 2, 28))


def test_a_bank_that_cannot_pay_instantly_pays_the_first_month_by_direct_debit(till: Till) -> None:
    membership_id = till.sign_up()
    till.cycle()
    till.authorise(membership_id, instant_available=False)
    till.cycle()

    [request] = till.simulator.all("billing_requests")
    assert request["fallback_occurred"] is True
    [first] = till.payments(membership_id)
    payment = till.simulator.get("payments", first.gc_payment_id)
    assert (first.period_start, first.status, payment["scheme"]) == (JOINED, "pending", "bacs")
    m = till.membership(membership_id)
    assert (m.status, m.paid_through) == (MembershipStatus.PENDING_MANDATE.value, None)
    [subscription] = _live_subscriptions(till)
    assert subscription["start_date"] == "2026-12-24"

    till.live_through(dt.date(2027, 2, 28))
    _every_month_once(till, membership_id, dt.date(2027, 2, 28))
    assert till.membership(membership_id).status == MembershipStatus.ACTIVE.value


def test_with_instant_payments_turned_off_the_first_month_is_a_one_off_direct_debit(till: Till) -> None:
    clinic.update_clinic_settings(till.services, till.manager, instant_first_payment=False)
    membership_id = till.sign_up()
    till.cycle()
    [request] = till.simulator.all("billing_requests")
    assert not request["payment_request"]
    till.authorise(membership_id)
    till.cycle()

    [one_off] = till.rows("create_payment")
    assert one_off.status == "done"
    assert one_off.payload["metadata"] == {"membership_id": membership_id, "period_start": "2026-11-24"}
    [subscription] = _live_subscriptions(till)
    assert subscription["start_date"] == "2026-12-24"

    till.live_through(dt.date(2027, 2, 28))
    _every_month_once(till, membership_id, dt.date(2027, 2, 28))


def test_a_client_who_authorises_weeks_late_pays_every_month_since_joining_once(till: Till) -> None:
    membership_id = till.sign_up()
    till.cycle()
    till.live_through(dt.date(2026, 12, 18))  # the first link expired unused: a new one is sent
    memberships_service.send_new_mandate_link(
        till.services, membership_id=membership_id, staff_id=till.receptionist
    )
    till.cycle()
    [_, request] = till.simulator.all("billing_requests")
    assert request["payment_request"]["amount"] == 4900  # the first month is still owed
    till.live_through(dt.date(2026, 12, 21))
    till.authorise(membership_id)
    till.cycle()

    # The instant payment paid the first month; the second (24 Dec–23 Jan) starts before the mandate's first
    # possible charge date (29 Dec, after Christmas): a one-off. The subscription collects from 24 Jan.
    [one_off] = till.rows("create_payment")
    assert one_off.payload["metadata"]["period_start"] == "2026-12-24"
    [subscription] = _live_subscriptions(till)
    assert subscription["start_date"] == "2027-01-24"

    till.live_through(dt.date(2027, 3, 1))
    _every_month_once(till, membership_id, dt.date(2027, 3, 1))


def test_a_sign_up_fee_is_collected_once_with_the_first_month(till: Till) -> None:
    catalogue.edit_tier(till.services, till.tier_id, staff_id=till.manager, signup_fee="25.00")
    membership_id = till.sign_up()
    till.cycle()
    [request] = till.simulator.all("billing_requests")
    assert request["payment_request"]["amount"] == 7400
    till.authorise(membership_id)
    till.cycle()
    till.live_through(dt.date(2027, 1, 31))

    amounts = sorted(p["amount"] for p in till.simulator.all("payments") if p["status"] in COLLECTED)
    assert amounts == [4900, 4900, 7400]
    _every_month_once(till, membership_id, dt.date(2027, 1, 31))


# --- Replacing a subscription inside the charge window ------------------------------------------------------


def _member_with_a_subscription(till: Till) -> str:
    membership_id = till.sign_up()
    till.cycle()
    till.authorise(membership_id)
    till.cycle()
    till.live_through(dt.date(2027, 1, 31))
    return membership_id


def _working_days_before(day: dt.date, n: int) -> dt.date:
    while n:
        day -= dt.timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


@pytest.mark.parametrize("working_days_before", [1, 2, 3])
def test_the_eleventh_tier_change_near_a_charge_date_leaves_one_subscription_and_no_month_unpaid(
    till: Till, working_days_before: int
) -> None:
    silver = catalogue.add_tier(
        till.services, staff_id=till.manager, name="Silver", monthly_price="29.00", discount="10"
    ).id
    membership_id = _member_with_a_subscription(till)
    tiers = (silver, till.tier_id)
    for n in range(10):  # ten amendments, sent
        memberships_service.change_tier(
            till.services, membership_id=membership_id, tier_id=tiers[n % 2], staff_id=till.receptionist
        )
    till.cycle()
    charge_day = dt.date(2027, 2, 24)  # a Wednesday
    till.live_through(_working_days_before(charge_day, working_days_before))

    memberships_service.change_tier(
        till.services, membership_id=membership_id, tier_id=silver, staff_id=till.receptionist
    )  # the 11th: replaced
    till.cycle()

    assert [r.status for r in till.rows() if r.status not in ("done", "discarded")] == []
    till.live_through(dt.date(2027, 4, 30))
    assert len(_live_subscriptions(till)) == 1
    assert _live_subscriptions(till)[0]["amount"] == 2900
    _every_month_once(till, membership_id, dt.date(2027, 4, 30))


@pytest.mark.parametrize("working_days_before", [1, 2, 3])
def test_notice_withdrawn_near_a_charge_date_after_the_cancellation_was_sent(
    till: Till, working_days_before: int
) -> None:
    membership_id = _member_with_a_subscription(till)
    memberships_service.give_notice(
        till.services, membership_id=membership_id, ends_on=dt.date(2027, 3, 23), staff_id=till.receptionist
    )
    till.live_through(
        dt.date(2027, 2, 28)
    )  # the 24 Feb payment is collected, then the subscription cancelled
    assert _live_subscriptions(till) == []
    charge_day = dt.date(2027, 3, 24)
    till.live_through(_working_days_before(charge_day, working_days_before))

    memberships_service.withdraw_notice(
        till.services, membership_id=membership_id, staff_id=till.receptionist
    )
    till.cycle()

    till.live_through(dt.date(2027, 5, 31))
    assert len(_live_subscriptions(till)) == 1
    assert till.membership(membership_id).status == MembershipStatus.ACTIVE.value
    _every_month_once(till, membership_id, dt.date(2027, 5, 31))


def test_a_replacement_under_faults_and_restarts_is_made_once(till: Till) -> None:
    membership_id = _member_with_a_subscription(till)
    memberships_service.give_notice(
        till.services, membership_id=membership_id, ends_on=dt.date(2027, 3, 23), staff_id=till.receptionist
    )
    till.live_through(dt.date(2027, 3, 22))  # the old subscription is cancelled after the 24 Feb payment
    memberships_service.withdraw_notice(
        till.services, membership_id=membership_id, staff_id=till.receptionist
    )
    till.simulator.inject(ERROR_500, path_prefix="/mandates")  # the plan's read fails once: tried again later
    till.simulator.inject(LOST_RESPONSE, path_prefix="/subscriptions", method="POST")  # made, answer lost
    till.simulator.inject(LOST_RESPONSE, path_prefix="/payments", method="POST")
    for _ in range(3):
        till.engine.run_cycle(till.today)
        till.restart()  # switched off and on between attempts
        till.clock.advance(minutes=40)
    applied = [fault for fault, _, _ in till.simulator.faults.applied]
    assert applied.count("error_500") == 1 and applied.count("lost_response") == 2
    [replacement] = [r for r in till.rows("create_subscription") if r.depends_on]
    assert replacement.status == "done"
    [one_off] = till.rows("create_payment")
    assert one_off.payload["metadata"]["period_start"] == "2027-03-24" and one_off.status == "done"

    till.restart()
    till.live_through(dt.date(2027, 5, 31))
    assert len(_live_subscriptions(till)) == 1
    assert len(till.simulator.all("subscriptions")) == 2  # the cancelled one and its replacement
    _every_month_once(till, membership_id, dt.date(2027, 5, 31))


def test_a_till_killed_mid_send_replays_the_subscription_once_and_withdraws_what_it_now_collects(
    till: Till,
) -> None:
    membership_id = till.sign_up()
    till.cycle()
    till.authorise(membership_id)
    real_create = till.gateway.create_subscription

    def create_then_die(payload, key):  # type: ignore[no-untyped-def]
        result = real_create(payload, key)
        raise KeyboardInterrupt(f"the till was switched off after {result.remote_id} was made")

    till.gateway.create_subscription = create_then_die  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        till.engine.run_cycle(till.today)
    till.gateway.create_subscription = real_create  # type: ignore[method-assign]
    [create] = till.rows("create_subscription")
    assert create.status == "in_flight" and create.payload["start_date"] == "2026-12-24"
    [made] = till.simulator.all("subscriptions")

    # The till comes back on 24 Dec: planned again now, the subscription would start on 24 Jan with a one-off
    # for December; but GoCardless returns the one the lost attempt made, which collects December itself.
    till.go_to(dt.date(2026, 12, 24))
    till.restart()
    assert till.engine.recover_in_flight() == 1
    till.cycle()

    [create] = till.rows("create_subscription")
    assert create.status == "done" and create.remote_id == made["id"]
    # This attempt planned January on (December as a one-off); the subscription made starts in December, so
    # the one-off for December was withdrawn before it was sent.
    assert (create.payload["start_date"], made["start_date"]) == ("2027-01-24", "2026-12-24")
    assert till.rows("create_payment") == []
    assert till.simulator.count("subscriptions") == 1
    till.live_through(dt.date(2027, 2, 28))
    _every_month_once(till, membership_id, dt.date(2027, 2, 28))


# --- The review ---------------------------------------------------------------------------------------------


def test_a_discarded_subscription_is_listed_as_not_billed_and_starting_it_again_skips_no_month(
    till: Till,
) -> None:
    membership_id = till.sign_up()
    till.cycle()
    till.authorise(membership_id)
    till.engine.drain_once()  # the set-up is sent; nothing to plan yet
    till.engine.pull_events_once(till.today)  # the mandate is known: the subscription is queued
    [create] = till.rows("create_subscription")
    with till.uow() as uow:
        row = uow.session.scalars(select(OutboxRow).where(OutboxRow.id == create.id)).one()
        row.status, row.last_error = "failed", "GoCardless did not accept the membership's Direct Debit plan."
        uow.commit()
    from aestheticc_pos.services import sync_status

    sync_status.discard_item(till.services, outbox_id=create.id, staff_id=till.manager, reason="test")
    till.live_through(dt.date(2027, 1, 10))

    [not_billed] = billing_service.memberships_not_billed(till.services)
    assert not_billed.membership_id == membership_id and "discarded" in not_billed.reason

    billing_service.start_billing(till.services, membership_id=membership_id, staff_id=till.manager)
    till.cycle()
    assert billing_service.memberships_not_billed(till.services) == []
    till.live_through(dt.date(2027, 3, 1))
    _every_month_once(till, membership_id, dt.date(2027, 3, 1))


def test_a_subscription_cancelled_at_gocardless_is_found_by_the_review(till: Till) -> None:
    membership_id = _member_with_a_subscription(till)
    [subscription] = _live_subscriptions(till)
    import gocardless_pro

    gocardless_pro.Client(access_token="sim-token", base_url=till.simulator.base_url).subscriptions.cancel(
        subscription["id"]
    )
    till.cycle()
    assert till.membership(membership_id).gc_subscription_id is None
    [not_billed] = billing_service.memberships_not_billed(till.services)
    assert not_billed.membership_id == membership_id and "stopped at GoCardless" in not_billed.reason


# --- Failed payments GoCardless retries ----------------------------------------------------------------------


def test_a_retry_scheduled_by_gocardless_keeps_the_member_past_due_and_a_desk_payment_cancels_it_once(
    till: Till,
) -> None:
    membership_id = _member_with_a_subscription(till)
    failing = [p for p in till.go_to(dt.date(2027, 2, 24), auto_confirm=False)]
    [payment_id] = [p for p in failing if till.simulator.get("payments", p)["charge_date"] == "2027-02-24"]
    till.simulator.fail_payment(payment_id, will_retry=True)
    till.cycle()
    till.simulator.resubmit_payment(payment_id, charge_date="2027-03-03")
    till.cycle()

    view = membership_views.membership_of(till.services, till.membership(membership_id).client_id)
    assert view is not None
    assert (view.status, view.retry_on) == (MembershipStatus.PAST_DUE, dt.date(2027, 3, 3))
    due = membership_views.arrears_of(till.services, membership_id)
    assert due is not None and due.months == 1 and due.period_start == dt.date(2027, 2, 24)

    memberships_service.record_desk_payment_of_arrears(
        till.services, membership_id=membership_id, amount=due.amount, staff_id=till.manager
    )
    till.cycle()
    till.cycle()
    assert till.simulator.get("payments", payment_id)["status"] == "cancelled"
    assert len(till.rows("cancel_payment")) == 1
    view = membership_views.membership_of(till.services, till.membership(membership_id).client_id)
    assert view is not None and view.status is MembershipStatus.ACTIVE and view.retry_on is None
