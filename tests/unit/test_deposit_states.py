"""A deposit's life (domain/deposits.py): requested → paid → credited at checkout; on a cancelled booking
cancelled (unpaid), refunded, or kept when late and the clinic's policy says so."""

from __future__ import annotations

import re

import pytest

from aestheticc_pos.domain import deposits as rules
from aestheticc_pos.domain.deposits import DepositStatus, LateDeposit
from aestheticc_pos.domain.errors import RuleViolation

S = DepositStatus


def test_statuses_are_the_strings_already_stored() -> None:
    assert [s.value for s in S] == [
        "requested",
        "paid",
        "credited",
        "refund_pending",
        "refunded",
        "kept",
        "cancelled",
    ]
    assert [p.value for p in LateDeposit] == ["keep", "refund"]
    assert set(rules.STATUS_WORDS) == set(S)


def test_the_appointment_shows_the_deposit_in_its_own_words() -> None:
    assert rules.on_appointment(S.REQUESTED) == "requested"
    assert rules.on_appointment(S.CANCELLED) == "not paid"
    assert rules.on_appointment(S.REFUND_PENDING) == "refund pending"


def test_a_paid_deposit_is_credited_once() -> None:
    assert rules.credit(S.PAID) is S.CREDITED
    with pytest.raises(RuleViolation, match="^That deposit was used at an earlier checkout already.$"):
        rules.credit(S.CREDITED)


@pytest.mark.parametrize("status", [S.REQUESTED, S.REFUND_PENDING, S.REFUNDED, S.KEPT, S.CANCELLED])
def test_a_deposit_not_paid_is_not_credited(status: DepositStatus) -> None:
    with pytest.raises(
        RuleViolation, match=re.escape(f"That deposit cannot be used: {rules.STATUS_WORDS[status]}.")
    ):
        rules.credit(status)


def test_only_a_paid_deposit_is_refunded_or_kept() -> None:
    assert rules.refund(S.PAID) is S.REFUND_PENDING
    assert rules.keep(S.PAID) is S.KEPT
    for status in (s for s in S if s is not S.PAID):
        with pytest.raises(RuleViolation, match="cannot be refunded"):
            rules.refund(status)
        with pytest.raises(RuleViolation, match="cannot be kept"):
            rules.keep(status)


def test_only_a_requested_deposit_is_cancelled_unpaid() -> None:
    assert rules.cancel_unpaid(S.REQUESTED) is S.CANCELLED
    with pytest.raises(RuleViolation, match="cannot be cancelled"):
        rules.cancel_unpaid(S.PAID)


@pytest.mark.parametrize("late", [False, True])
@pytest.mark.parametrize("policy", list(LateDeposit))
def test_cancelling_the_booking_cancels_an_unpaid_deposit(late: bool, policy: LateDeposit) -> None:
    assert rules.on_booking_cancelled(S.REQUESTED, late=late, policy=policy) is S.CANCELLED


def test_cancelling_in_time_refunds_a_paid_deposit_whatever_the_policy() -> None:
    for policy in LateDeposit:
        assert rules.on_booking_cancelled(S.PAID, late=False, policy=policy) is S.REFUND_PENDING


def test_cancelling_late_keeps_or_refunds_a_paid_deposit_as_the_clinic_says() -> None:
    assert rules.on_booking_cancelled(S.PAID, late=True, policy=LateDeposit.KEEP) is S.KEPT
    assert rules.on_booking_cancelled(S.PAID, late=True, policy=LateDeposit.REFUND) is S.REFUND_PENDING


@pytest.mark.parametrize("status", [S.CREDITED, S.REFUND_PENDING, S.REFUNDED, S.KEPT, S.CANCELLED])
def test_cancelling_the_booking_leaves_a_settled_deposit_alone(status: DepositStatus) -> None:
    assert rules.on_booking_cancelled(status, late=True, policy=LateDeposit.KEEP) is None


def test_a_paid_link_pays_a_deposit_waiting_for_it_even_after_its_booking_cancelled_it() -> None:
    assert rules.link_paid(S.REQUESTED) is S.PAID
    assert rules.link_paid(S.CANCELLED) is S.PAID
    for status in (S.PAID, S.CREDITED, S.REFUND_PENDING, S.REFUNDED, S.KEPT):
        assert rules.link_paid(status) is None


def test_a_closed_link_cancels_only_a_requested_deposit() -> None:
    assert rules.link_closed(S.REQUESTED) is S.CANCELLED
    assert rules.link_closed(S.PAID) is None


def test_a_link_sent_again_puts_an_unpaid_deposit_back_to_requested() -> None:
    assert rules.link_replaced(S.CANCELLED) is S.REQUESTED
    assert rules.link_replaced(S.REQUESTED) is S.REQUESTED
    assert rules.link_replaced(S.PAID) is None


def test_a_refund_paid_back_is_recorded_once() -> None:
    assert rules.refunded(S.REFUND_PENDING) is S.REFUNDED
    assert rules.refunded(S.REFUNDED) is None
