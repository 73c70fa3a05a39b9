"""A payment link's life (domain/payment_links.py): the moves staff make are refused with a sentence when the
link is not in a state for them; what GoCardless reports never is, and a report that does not apply changes
nothing (None)."""

from __future__ import annotations

import pytest

from aestheticc_pos.domain import payment_links as links
from aestheticc_pos.domain.errors import RuleViolation
from aestheticc_pos.domain.payment_links import LinkStatus

S = LinkStatus
NOT_OPEN = [s for s in S if s not in (S.PREPARING, S.OPEN)]
NOT_CLOSED = [s for s in S if s not in (S.CANCELLED, S.EXPIRED, S.FAILED)]


def test_statuses_are_the_strings_already_stored() -> None:
    assert [s.value for s in S] == [
        "preparing",
        "open",
        "authorised",
        "paid",
        "cancelled",
        "expired",
        "failed",
        "refund_pending",
        "refunded",
    ]
    assert [p.value for p in links.LinkPurpose] == ["basket", "invoice", "deposit", "portal"]
    assert set(links.STATUS_WORDS) == set(S)


@pytest.mark.parametrize("status", [S.PREPARING, S.OPEN])
def test_staff_cancel_a_link_nobody_has_paid_or_approved(status: LinkStatus) -> None:
    assert links.can_cancel(status)
    assert links.cancel(status) is S.CANCELLED


@pytest.mark.parametrize("status", NOT_OPEN)
def test_a_link_approved_paid_or_closed_is_not_cancelled(status: LinkStatus) -> None:
    assert not links.can_cancel(status)
    with pytest.raises(RuleViolation, match="it cannot be cancelled now"):
        links.cancel(status)


def test_the_refusal_to_cancel_says_what_the_link_is() -> None:
    with pytest.raises(RuleViolation, match="^This link is paid: it cannot be cancelled now.$"):
        links.cancel(S.PAID)


@pytest.mark.parametrize("status", [S.CANCELLED, S.EXPIRED, S.FAILED])
def test_a_link_closed_without_money_is_sent_again(status: LinkStatus) -> None:
    assert links.can_resend(status)
    links.require_resendable(status)


@pytest.mark.parametrize("status", NOT_CLOSED)
def test_a_link_still_open_or_paid_is_not_sent_again(status: LinkStatus) -> None:
    assert not links.can_resend(status)
    with pytest.raises(RuleViolation, match="Only a cancelled, expired or failed link can be sent again."):
        links.require_resendable(status)


def test_only_a_paid_link_is_refunded() -> None:
    assert links.refund(S.PAID) is S.REFUND_PENDING
    for status in (s for s in S if s is not S.PAID):
        with pytest.raises(RuleViolation, match="there is no payment to refund"):
            links.refund(status)


def test_a_link_being_prepared_opens_when_gocardless_has_made_its_page() -> None:
    assert links.page_made(S.PREPARING) is S.OPEN
    assert all(links.page_made(s) is None for s in S if s is not S.PREPARING)


def test_the_payer_approving_moves_an_open_link_only() -> None:
    assert links.authorised(S.PREPARING) is S.AUTHORISED
    assert links.authorised(S.OPEN) is S.AUTHORISED
    for status in (S.AUTHORISED, S.PAID, S.CANCELLED, S.REFUNDED):
        assert links.authorised(status) is None


def test_money_confirmed_makes_a_link_paid_once() -> None:
    for status in (S.PREPARING, S.OPEN, S.AUTHORISED, S.CANCELLED, S.EXPIRED, S.FAILED):
        assert links.payment_confirmed(status) is S.PAID
    assert links.payment_confirmed(S.PAID) is None  # recorded already


def test_a_failed_payment_never_unpays_a_paid_link() -> None:
    assert links.payment_failed(S.AUTHORISED) is S.FAILED
    assert links.payment_failed(S.PAID) is None


@pytest.mark.parametrize("status", [S.PREPARING, S.OPEN, S.AUTHORISED])
def test_a_live_link_closed_at_gocardless_is_cancelled_or_expired(status: LinkStatus) -> None:
    assert links.closed(status, expired=False) is S.CANCELLED
    assert links.closed(status, expired=True) is S.EXPIRED


@pytest.mark.parametrize("status", [S.PAID, S.CANCELLED, S.EXPIRED, S.FAILED, S.REFUND_PENDING, S.REFUNDED])
def test_a_link_paid_or_closed_already_is_not_closed_again(status: LinkStatus) -> None:
    assert links.closed(status, expired=True) is None


def test_a_refund_paid_back_is_recorded_once() -> None:
    assert links.refunded(S.REFUND_PENDING) is S.REFUNDED
    assert links.refunded(S.REFUNDED) is None
