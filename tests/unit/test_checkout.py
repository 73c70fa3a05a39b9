"""Settling a sale with tenders: underpayment, change, deposits (DESIGN.md §3 "Checkout documents")."""

from __future__ import annotations

import pytest

from aestheticc_pos.domain.checkout import Tender, TenderKind, amount_text, settle
from aestheticc_pos.domain.errors import InvalidInput, RuleViolation
from aestheticc_pos.domain.money import Money

TOTAL = Money(22400)


def cash(pence: int) -> Tender:
    return Tender(TenderKind.CASH, Money(pence))


def card(pence: int) -> Tender:
    return Tender(TenderKind.CARD, Money(pence))


def deposit(pence: int) -> Tender:
    return Tender(TenderKind.DEPOSIT, Money(pence), reference="dep-1")


def test_exact_card_payment() -> None:
    settled = settle(TOTAL, [card(22400)])
    assert (settled.paid, settled.change_due) == (TOTAL, Money(0))


def test_cash_over_tendered_gives_change() -> None:
    settled = settle(TOTAL, [deposit(5000), cash(20000)])
    assert settled.paid == Money(25000)
    assert settled.change_due == Money(2600)
    assert settled.taken_by_kind() == {TenderKind.DEPOSIT: Money(5000), TenderKind.CASH: Money(17400)}


def test_underpayment_says_how_much_is_still_due() -> None:
    with pytest.raises(RuleViolation, match=r"^£24\.00 is still due\. Add another payment\.$"):
        settle(TOTAL, [card(10000), cash(10000)])


def test_card_cannot_be_over_tendered() -> None:
    with pytest.raises(
        RuleViolation, match=r"Only cash can be more than what is due \(£224\.00\)\. Lower the card"
    ):
        settle(TOTAL, [card(22500)])


def test_card_plus_cash_over_is_fine_when_the_card_does_not_exceed_the_total() -> None:
    assert settle(TOTAL, [card(20000), cash(5000)]).change_due == Money(2600)


def test_a_deposit_cannot_exceed_the_total() -> None:
    with pytest.raises(RuleViolation, match=r"The deposit \(£250\.00\) is more than this sale \(£224\.00\)"):
        settle(TOTAL, [deposit(25000)])


@pytest.mark.parametrize("pence", [0, -100])
def test_zero_or_negative_tenders_are_refused(pence: int) -> None:
    with pytest.raises(InvalidInput, match="more than zero"):
        settle(TOTAL, [cash(25000), card(pence)])


def test_tenders_that_point_elsewhere_need_their_reference() -> None:
    with pytest.raises(InvalidInput, match="mandate"):
        settle(TOTAL, [Tender(TenderKind.DIRECT_DEBIT, TOTAL)])
    assert settle(TOTAL, [Tender(TenderKind.DIRECT_DEBIT, TOTAL, "MD1")]).paid == TOTAL
    assert settle(TOTAL, [Tender(TenderKind.PAYMENT_LINK, TOTAL, "BRQ1")]).paid == TOTAL


def test_a_fully_redeemed_sale_needs_no_tender() -> None:
    settled = settle(Money(0), [])
    assert (settled.paid, settled.change_due, settled.tenders) == (Money(0), Money(0), ())


def test_tender_currency_must_match() -> None:
    with pytest.raises(InvalidInput, match="another currency"):
        settle(TOTAL, [Tender(TenderKind.CASH, Money(22400, "EUR"))])


def test_negative_total_is_refused() -> None:
    with pytest.raises(InvalidInput, match="refund"):
        settle(Money(-1), [])


def test_amount_text() -> None:
    assert amount_text(Money(123456)) == "£1,234.56"
    assert amount_text(Money(-5)) == "-£0.05"
    assert amount_text(Money(1050, "EUR")) == "10.50 EUR"
