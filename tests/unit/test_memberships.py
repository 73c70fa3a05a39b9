"""Membership status, Direct Debit events and the discount (DESIGN.md §3 "Memberships", NOTES.md §6)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from aestheticc_pos.domain import billing
from aestheticc_pos.domain import memberships as ms
from aestheticc_pos.domain.catalogue import BenefitsStart, Tier
from aestheticc_pos.domain.errors import InvalidInput, RuleViolation
from aestheticc_pos.domain.memberships import BillingAction, Membership, MembershipStatus
from aestheticc_pos.domain.money import Money

GOLD = Tier("tier-gold", "Gold", Money(4900), 2000)  # benefits from the first payment, 7 grace days
SILVER = Tier("tier-silver", "Silver", Money(2900), 1000, benefits_start=BenefitsStart.SIGN_UP)
PLATINUM = Tier("tier-plat", "Platinum", Money(7900), 3000)
START = dt.date(2026, 3, 1)
MARCH_END = dt.date(2026, 3, 31)
APRIL_END = dt.date(2026, 4, 30)
APRIL_FAILURE = dt.date(2026, 4, 3)


def day(month: int, d: int) -> dt.date:
    return dt.date(2026, month, d)


def signed_up(tier: Tier = GOLD) -> Membership:
    return ms.sign_up(tier, membership_id="m-1", client_id="c-1", on=START)


def active(tier: Tier = GOLD) -> Membership:
    """Paid through March, mandate active, subscription running."""
    m = ms.mandate_activated(ms.mandate_set_up(signed_up(tier), "MD1"))
    m = ms.subscription_created(m, "SB1")
    return ms.payment_confirmed(m, MARCH_END, day(3, 6))


def past_due(since: dt.date = APRIL_FAILURE, *, retry: str | None = "PM2") -> Membership:
    return ms.payment_failed(active(), since, will_retry=retry is not None, retry_payment_id=retry)


# --- Sign-up and the start of benefits ---------------------------------------------------------------------------


def test_sign_up_waits_for_the_mandate() -> None:
    m = signed_up()
    assert m.status is MembershipStatus.PENDING_MANDATE
    assert (m.started_on, m.paid_through, m.first_payment_collected) == (START, None, False)


def test_cannot_sign_up_to_a_tier_no_longer_offered() -> None:
    with pytest.raises(RuleViolation, match="no longer offered"):
        ms.sign_up(replace(GOLD, active=False), membership_id="m", client_id="c", on=START)


def test_first_payment_tier_gives_no_discount_until_the_first_payment() -> None:
    m = ms.mandate_activated(ms.mandate_set_up(signed_up(GOLD), "MD1"))
    assert m.status is MembershipStatus.PENDING_MANDATE
    assert m.mandate_status == "active"
    assert not ms.discount_applies(m, day(3, 2))
    assert ms.member_discount(m, day(3, 2)) is None

    paid = ms.payment_confirmed(m, MARCH_END, day(3, 6))
    assert paid.status is MembershipStatus.ACTIVE
    assert paid.first_payment_collected and paid.paid_through == MARCH_END
    assert ms.discount_applies(paid, day(3, 6))


def test_sign_up_tier_gives_the_discount_at_once() -> None:
    m = signed_up(SILVER)
    assert ms.discount_applies(m, START)
    discount = ms.member_discount(m, START)
    assert discount is not None
    assert (discount.membership_id, discount.reason, discount.covers_treatments) == (
        "m-1",
        "Silver member 10%",
        True,
    )


def test_sign_up_tier_becomes_active_when_the_mandate_is_active() -> None:
    m = ms.mandate_activated(ms.mandate_set_up(signed_up(SILVER), "MD1", customer_id="CU1"))
    assert m.status is MembershipStatus.ACTIVE
    assert (m.mandate_id, m.customer_id) == ("MD1", "CU1")


def test_no_discount_before_the_membership_starts() -> None:
    assert not ms.discount_applies(signed_up(SILVER), START - dt.timedelta(days=1))


def test_mandate_activated_needs_a_mandate() -> None:
    with pytest.raises(RuleViolation, match="No Direct Debit"):
        ms.mandate_activated(signed_up())
    assert ms.mandate_activated(signed_up(), "MD9").mandate_id == "MD9"


def test_billing_request_is_recorded() -> None:
    m = ms.mandate_requested(signed_up(), billing_request_id="BRQ1", customer_id="CU1")
    assert (m.billing_request_id, m.customer_id) == ("BRQ1", "CU1")


# --- Past due, grace, suspended ----------------------------------------------------------------------------------


def test_a_failed_payment_makes_the_membership_past_due() -> None:
    m = past_due(day(4, 3))
    assert m.status is MembershipStatus.PAST_DUE
    assert m.past_due_since == day(4, 3)
    assert m.pending_retry_payment_id == "PM2"


def test_a_second_failure_keeps_the_earliest_date() -> None:
    m = ms.payment_failed(past_due(day(4, 3)), day(4, 8), will_retry=False)
    assert m.past_due_since == day(4, 3)
    assert m.pending_retry_payment_id is None


def test_a_retry_needs_its_payment_id() -> None:
    with pytest.raises(InvalidInput):
        ms.payment_failed(active(), day(4, 3), will_retry=True)


def test_discount_continues_through_the_last_grace_day_and_stops_after() -> None:
    m = past_due(day(4, 3))  # 7 grace days: 4 Apr … 10 Apr
    assert ms.discount_applies(m, day(4, 10))
    assert not ms.discount_applies(m, day(4, 11))


def test_grace_is_applied_the_day_after_it_ends() -> None:
    m = past_due(day(4, 3))
    assert ms.apply_grace(m, day(4, 10)) == m
    suspended = ms.apply_grace(m, day(4, 11))
    assert suspended.status is MembershipStatus.SUSPENDED
    assert not ms.discount_applies(suspended, day(4, 11))


def test_a_zero_day_grace_period_ends_the_discount_the_next_day() -> None:
    m = ms.payment_failed(active(replace(GOLD, grace_days=0)), day(4, 3), will_retry=False)
    assert ms.discount_applies(m, day(4, 3))
    assert not ms.discount_applies(m, day(4, 4))


def test_apply_grace_leaves_other_memberships_alone() -> None:
    m = active()
    assert ms.apply_grace(m, day(12, 1)) == m


def test_a_collected_retry_makes_it_active_again() -> None:
    m = ms.payment_confirmed(past_due(day(4, 3)), APRIL_END, day(4, 9), payment_id="PM2")
    assert m.status is MembershipStatus.ACTIVE
    assert (m.past_due_since, m.pending_retry_payment_id, m.paid_through) == (None, None, APRIL_END)


def test_a_suspended_member_paying_becomes_active() -> None:
    suspended = ms.apply_grace(past_due(day(4, 3)), day(4, 20))
    assert ms.payment_confirmed(suspended, APRIL_END, day(4, 21)).status is MembershipStatus.ACTIVE


def test_a_late_payment_of_an_older_period_leaves_the_member_behind() -> None:
    m = ms.payment_confirmed(past_due(day(5, 4)), APRIL_END, day(5, 6))
    assert m.status is MembershipStatus.PAST_DUE
    assert m.paid_through == APRIL_END
    assert m.past_due_since == day(5, 4)


def test_first_payment_tier_failing_its_first_payment_never_gets_the_discount() -> None:
    m = ms.payment_failed(
        ms.mandate_set_up(signed_up(GOLD), "MD1"), day(3, 5), will_retry=True, retry_payment_id="PM1"
    )
    assert m.status is MembershipStatus.PAST_DUE
    assert not ms.discount_applies(m, day(3, 5))


def test_sign_up_tier_failing_its_first_payment_keeps_the_discount_for_the_grace_period() -> None:
    m = ms.payment_failed(signed_up(SILVER), day(3, 5), will_retry=False)
    assert ms.discount_applies(m, day(3, 12))
    assert not ms.discount_applies(m, day(3, 13))


def test_a_chargeback_reopens_the_period_and_makes_it_past_due() -> None:
    paid_april = ms.payment_confirmed(active(), APRIL_END, day(4, 6))
    m = ms.payment_charged_back(paid_april, day(4, 1), day(5, 20))
    assert m.paid_through == MARCH_END
    assert (m.status, m.past_due_since) == (MembershipStatus.PAST_DUE, day(5, 20))
    assert m.first_payment_collected


def test_a_chargeback_of_the_first_period_leaves_nothing_paid() -> None:
    m = ms.payment_charged_back(active(), START, day(4, 20))
    assert m.paid_through is None


def test_a_cancelled_chargeback_is_paid_again() -> None:
    charged_back = ms.payment_charged_back(active(), START, day(3, 20))
    assert ms.payment_confirmed(charged_back, MARCH_END, day(3, 25)).status is MembershipStatus.ACTIVE


# --- Desk payment of arrears -------------------------------------------------------------------------------------


def test_desk_payment_makes_it_active_and_cancels_the_pending_retry() -> None:
    m, cancel = ms.desk_payment_of_arrears(past_due(day(4, 3), retry="PM2"), APRIL_END, day(4, 5))
    assert cancel == "PM2"
    assert m.status is MembershipStatus.ACTIVE
    assert (m.paid_through, m.past_due_since, m.pending_retry_payment_id) == (APRIL_END, None, None)


def test_desk_payment_of_a_suspended_membership_with_no_retry_pending() -> None:
    suspended = ms.apply_grace(past_due(day(4, 3), retry=None), day(4, 20))
    m, cancel = ms.desk_payment_of_arrears(suspended, APRIL_END, day(4, 20))
    assert (m.status, cancel) == (MembershipStatus.ACTIVE, None)


def test_desk_payment_needs_arrears() -> None:
    with pytest.raises(RuleViolation, match="no arrears"):
        ms.desk_payment_of_arrears(active(), APRIL_END, day(4, 1))


def test_desk_payment_never_moves_paid_through_back() -> None:
    m, _ = ms.desk_payment_of_arrears(past_due(day(4, 3)), None, day(4, 5))
    assert m.paid_through == MARCH_END and m.status is MembershipStatus.ACTIVE


def test_desk_payment_during_notice_returns_to_cancelling() -> None:
    cancelling = ms.give_notice(active(), day(5, 31), day(3, 20))
    failed = ms.payment_failed(cancelling, day(4, 3), will_retry=False)
    assert failed.status is MembershipStatus.PAST_DUE
    m, _ = ms.desk_payment_of_arrears(failed, APRIL_END, day(4, 5))
    assert (m.status, m.ends_on) == (MembershipStatus.CANCELLING, day(5, 31))


# --- Mandate lost ------------------------------------------------------------------------------------------------


def test_a_lost_mandate_keeps_what_was_paid_for_then_falls_past_due() -> None:
    m = ms.mandate_lost(active(), day(3, 15), mandate_id="MD1", mandate_status="cancelled")
    assert m.status is MembershipStatus.ACTIVE
    assert ms.needs_new_mandate(m)
    assert (m.subscription_id, m.pending_retry_payment_id) == (None, None)
    assert ms.discount_applies(m, MARCH_END)

    assert ms.apply_grace(m, MARCH_END) == m
    lapsed = ms.apply_grace(m, day(4, 1))
    assert (lapsed.status, lapsed.past_due_since) == (MembershipStatus.PAST_DUE, day(4, 1))
    assert ms.discount_applies(lapsed, day(4, 8))
    assert ms.apply_grace(m, day(4, 9)).status is MembershipStatus.SUSPENDED


def test_a_lost_mandate_when_already_behind_is_past_due_at_once() -> None:
    m = ms.mandate_lost(active(), day(4, 2), mandate_status="expired")
    assert (m.status, m.past_due_since, m.mandate_status) == (MembershipStatus.PAST_DUE, day(4, 1), "expired")


def test_a_pending_sign_up_tier_whose_mandate_failed_keeps_the_discount_only_for_the_grace_period() -> None:
    m = ms.mandate_lost(ms.mandate_set_up(signed_up(SILVER), "MD1"), day(3, 4), mandate_status="failed")
    assert (m.status, m.past_due_since) == (MembershipStatus.PAST_DUE, START)
    assert ms.discount_applies(m, day(3, 8))
    assert not ms.discount_applies(m, day(3, 9))


def test_an_event_about_a_replaced_mandate_changes_nothing() -> None:
    renewed = ms.mandate_set_up(ms.mandate_lost(active(), day(3, 15)), "MD2")
    assert not ms.needs_new_mandate(renewed)
    assert ms.mandate_lost(renewed, day(3, 20), mandate_id="MD1") == renewed
    assert ms.mandate_activated(renewed, "MD1") == renewed
    assert ms.mandate_activated(renewed, "MD2").mandate_status == "active"


def test_a_new_mandate_and_a_payment_bring_the_member_back() -> None:
    lapsed = ms.apply_grace(ms.mandate_lost(active(), day(3, 15)), day(4, 20))
    assert lapsed.status is MembershipStatus.SUSPENDED
    renewed = ms.subscription_created(ms.mandate_activated(ms.mandate_set_up(lapsed, "MD2")), "SB2")
    assert renewed.status is MembershipStatus.SUSPENDED
    assert ms.payment_confirmed(renewed, APRIL_END, day(4, 25)).status is MembershipStatus.ACTIVE


def test_mandate_lost_needs_a_lost_status() -> None:
    with pytest.raises(InvalidInput):
        ms.mandate_lost(active(), day(3, 15), mandate_status="active")


# --- Pause, notice, end ------------------------------------------------------------------------------------------


def test_a_paused_membership_has_no_discount_and_resumes_active() -> None:
    paused = ms.pause(active())
    assert paused.status is MembershipStatus.PAUSED
    assert not ms.discount_applies(paused, day(3, 10))
    assert ms.resume(paused).status is MembershipStatus.ACTIVE


def test_only_an_active_membership_can_be_paused() -> None:
    with pytest.raises(RuleViolation, match="Only an active membership can be paused; this one is past due."):
        ms.pause(past_due())
    with pytest.raises(RuleViolation, match="not paused"):
        ms.resume(active())


def test_a_payment_failing_while_paused_is_past_due_on_resume() -> None:
    paused = ms.payment_failed(ms.pause(active()), day(4, 3), will_retry=False)
    assert paused.status is MembershipStatus.PAUSED
    assert ms.resume(paused).status is MembershipStatus.PAST_DUE


def test_cancelling_keeps_the_discount_until_the_end_date_inclusive() -> None:
    m = ms.give_notice(active(), ends_on=day(4, 30), today=day(3, 20))
    assert m.status is MembershipStatus.CANCELLING
    assert ms.discount_applies(m, day(4, 30))
    assert not ms.discount_applies(m, day(5, 1))
    assert ms.cancelling_reached_end(m, day(4, 30)) == m
    assert ms.cancelling_reached_end(m, day(5, 1)).status is MembershipStatus.ENDED


def test_notice_can_be_withdrawn() -> None:
    m = ms.withdraw_notice(ms.give_notice(active(), day(4, 30), day(3, 20)))
    assert (m.status, m.ends_on) == (MembershipStatus.ACTIVE, None)


def test_notice_refusals() -> None:
    with pytest.raises(InvalidInput, match="past"):
        ms.give_notice(active(), day(3, 19), day(3, 20))
    with pytest.raises(RuleViolation, match="not started"):
        ms.give_notice(signed_up(), day(4, 30), day(3, 20))
    with pytest.raises(RuleViolation, match="paused"):
        ms.give_notice(ms.pause(active()), day(4, 30), day(3, 20))


def test_notice_given_in_arrears_keeps_the_arrears_and_still_ends() -> None:
    m = ms.give_notice(past_due(day(4, 3)), day(4, 30), day(4, 5))
    assert m.status is MembershipStatus.PAST_DUE
    assert ms.daily_review(m, day(5, 1)).status is MembershipStatus.ENDED


def test_an_ended_membership_has_no_discount_and_refuses_desk_changes() -> None:
    ended = ms.end(active(), day(3, 20))
    assert (ended.status, ended.ends_on) == (MembershipStatus.ENDED, day(3, 20))
    assert not ms.discount_applies(ended, day(3, 20))
    with pytest.raises(RuleViolation, match="has ended"):
        ms.end(ended, day(3, 21))
    with pytest.raises(RuleViolation, match="has ended"):
        ms.change_tier(ended, PLATINUM, day(3, 21))


def test_money_collected_after_the_end_is_still_recorded() -> None:
    ended = ms.end(active(), day(3, 20))
    late = ms.payment_confirmed(ended, APRIL_END, day(4, 6))
    assert (late.status, late.paid_through) == (MembershipStatus.ENDED, APRIL_END)


def test_suspended_never_gets_the_discount() -> None:
    suspended = ms.apply_grace(past_due(day(4, 3)), day(4, 11))
    assert not any(ms.discount_applies(suspended, day(4, d)) for d in range(3, 30))


# --- Tier change ------------------------------------------------------------------------------------------------


def test_a_tier_change_applies_to_the_discount_at_once_and_to_billing_next_collection() -> None:
    m, billing = ms.change_tier(active(GOLD), PLATINUM, day(3, 15))
    assert ms.member_discount(m, day(3, 15)).discount_bp == 3000  # type: ignore[union-attr]
    assert billing.action is BillingAction.AMEND
    assert (billing.subscription_id, billing.new_amount, billing.effective_from) == (
        "SB1",
        Money(7900),
        day(4, 1),
    )
    assert m.subscription_amendments == 1


def test_the_eleventh_price_change_replaces_the_subscription() -> None:
    m = active(GOLD)
    tiers = [PLATINUM, GOLD] * 5
    for tier in tiers:
        m, billing = ms.change_tier(m, tier, day(3, 15))
        assert billing.action is BillingAction.AMEND
    assert m.subscription_amendments == 10

    m, billing = ms.change_tier(m, PLATINUM, day(3, 15))
    assert billing.action is BillingAction.REPLACE
    assert billing.subscription_id == "SB1"  # the one to cancel
    assert (m.subscription_id, m.subscription_amendments) == (None, 0)
    assert ms.subscription_created(m, "SB2").subscription_id == "SB2"


def test_a_tier_change_before_the_subscription_exists_needs_no_billing_change() -> None:
    m, billing = ms.change_tier(signed_up(SILVER), PLATINUM, day(3, 2))
    assert (billing.action, billing.subscription_id) == (BillingAction.NONE, None)
    assert m.tier == PLATINUM


def test_a_tier_change_at_the_same_price_spends_no_amendment() -> None:
    same_price = Tier("tier-gold-plus", "Gold Plus", Money(4900), 2500)
    m, billing = ms.change_tier(active(GOLD), same_price, day(3, 15))
    assert (billing.action, m.subscription_amendments) == (BillingAction.NONE, 0)


def test_tier_change_refusals() -> None:
    with pytest.raises(RuleViolation, match="arrears"):
        ms.change_tier(past_due(), PLATINUM, day(4, 5))
    with pytest.raises(RuleViolation, match="already a Gold member"):
        ms.change_tier(active(GOLD), GOLD, day(3, 15))
    with pytest.raises(RuleViolation, match="no longer offered"):
        ms.change_tier(active(GOLD), replace(PLATINUM, active=False), day(3, 15))
    with pytest.raises(RuleViolation, match="Withdraw the notice"):
        ms.change_tier(ms.give_notice(active(), day(4, 30), day(3, 20)), PLATINUM, day(3, 20))


# --- Monthly periods ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("started", "paid_through", "expected"),
    [
        (day(3, 1), None, (day(3, 1), day(3, 31))),
        (day(3, 1), day(3, 31), (day(4, 1), day(4, 30))),
        (day(1, 15), day(2, 14), (day(2, 15), day(3, 14))),
        (day(1, 31), None, (day(1, 31), day(2, 27))),
        (day(1, 31), day(2, 27), (day(2, 28), day(3, 30))),
        (day(1, 31), day(3, 30), (day(3, 31), day(4, 29))),
        (day(1, 29), day(2, 27), (day(2, 28), day(3, 30))),
        (dt.date(2027, 12, 10), dt.date(2028, 1, 9), (dt.date(2028, 1, 10), dt.date(2028, 2, 9))),
        (dt.date(2028, 1, 30), dt.date(2028, 2, 28), (dt.date(2028, 2, 29), dt.date(2028, 3, 30))),
    ],
)
def test_next_period(
    started: dt.date, paid_through: dt.date | None, expected: tuple[dt.date, dt.date]
) -> None:
    assert billing.next_period(started, paid_through) == expected


def test_next_period_contains_the_first_unpaid_day_even_off_the_boundary() -> None:
    assert billing.next_period(day(1, 15), day(3, 1)) == (day(2, 15), day(3, 14))


def test_periods_follow_each_other_without_gaps_for_years() -> None:
    for started in (day(1, 1), day(1, 28), day(1, 29), day(1, 30), day(1, 31), day(2, 28)):
        paid_through = None
        for _ in range(40):
            first, last = billing.next_period(started, paid_through)
            assert first == (started if paid_through is None else paid_through + dt.timedelta(days=1))
            assert 27 <= (last - first).days <= 30
            paid_through = last


@pytest.mark.parametrize(("d", "expected"), [(1, 1), (28, 28), (29, -1), (30, -1), (31, -1)])
def test_subscription_day_of_month(d: int, expected: int) -> None:
    assert billing.subscription_day_of_month(dt.date(2026, 1, d)) == expected


# --- The first month and billing that stopped ---------------------------------------------------------------


def test_a_first_payment_confirmed_after_its_month_ended_makes_the_member_active() -> None:
    pending = ms.mandate_set_up(signed_up(GOLD), "MD1")
    # March was paid late: confirmed on 10 Apr, with April's payment still on its way.
    m = ms.payment_confirmed(pending, MARCH_END, day(4, 10))
    assert (m.status, m.paid_through, m.first_payment_collected) == (MembershipStatus.ACTIVE, MARCH_END, True)
    assert ms.discount_applies(m, day(4, 10))


def test_money_collected_for_a_later_month_does_not_move_paid_through_past_an_unpaid_one() -> None:
    pending = ms.mandate_set_up(signed_up(GOLD), "MD1")
    m = ms.payment_confirmed(pending, None, day(4, 6))  # April collected, March not yet
    assert (m.paid_through, m.status) == (None, MembershipStatus.ACTIVE)


def test_a_first_month_paid_at_the_till_with_no_direct_debit_lapses_when_it_runs_out() -> None:
    paid_at_till = ms.payment_confirmed(signed_up(GOLD), MARCH_END, START)
    assert paid_at_till.status is MembershipStatus.ACTIVE and paid_at_till.mandate_id is None
    assert ms.daily_review(paid_at_till, MARCH_END).status is MembershipStatus.ACTIVE
    lapsed = ms.daily_review(paid_at_till, day(4, 2))
    assert (lapsed.status, lapsed.past_due_since) == (MembershipStatus.PAST_DUE, day(4, 1))
    assert ms.daily_review(paid_at_till, day(4, 9)).status is MembershipStatus.SUSPENDED


def test_a_stopped_subscription_leaves_the_membership_unbilled_only_if_it_was_its_own() -> None:
    m = active()
    assert ms.subscription_stopped(m, "SB-OLD") == m
    stopped = ms.subscription_stopped(m, "SB1")
    assert (stopped.subscription_id, stopped.status) == (None, MembershipStatus.ACTIVE)
