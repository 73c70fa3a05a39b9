"""The pricing engine, with worked examples in pounds and pence (DESIGN.md §3 "Pricing")."""

from __future__ import annotations

import datetime as dt

import pytest

from aestheticc_pos.domain.benefits import NO_BENEFITS, Benefits, MemberDiscount, PackageCredit
from aestheticc_pos.domain.catalogue import DepositKind, DepositRule, ItemKind
from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.pricing import BasketLine, Channel, PriceOverride, deposit_due, quote

TODAY = dt.date(2026, 11, 24)
GOLD = MemberDiscount(membership_id="m-1", tier_name="Gold", discount_bp=2000)
SILVER = MemberDiscount(membership_id="m-2", tier_name="Silver", discount_bp=1000)


def gbp(pence: int) -> Money:
    return Money(pence, "GBP")


def treatment(pence: int, *, item_id: str = "t-peel", qty: int = 1, **extra: object) -> BasketLine:
    return BasketLine(ItemKind.TREATMENT, item_id, "Chemical peel", gbp(pence), qty, **extra)  # type: ignore[arg-type]


def product(pence: int, **extra: object) -> BasketLine:
    return BasketLine(ItemKind.PRODUCT, "p-spf", "SPF 50 cream", gbp(pence), **extra)  # type: ignore[arg-type]


def credit(
    *,
    treatment_id: str = "t-micro",
    package: str = "Microneedling course",
    session: int = 3,
    remaining: int = 4,
    expires_on: dt.date = dt.date(2027, 5, 1),
    appointment_id: str | None = None,
    client_package_id: str = "cp-1",
) -> PackageCredit:
    return PackageCredit(
        client_package_id=client_package_id,
        package_name=package,
        treatment_id=treatment_id,
        step_position=1,
        session_number=session,
        step_sessions=6,
        remaining=remaining,
        expires_on=expires_on,
        appointment_id=appointment_id,
    )


# --- Member discount ---------------------------------------------------------------------------------------------


def test_gold_20_percent_on_a_250_pound_treatment() -> None:
    priced = quote([treatment(25000)], Benefits(member_discount=GOLD), TODAY)

    line = priced.lines[0]
    assert (line.gross, line.discount, line.net, line.vat) == (gbp(25000), gbp(5000), gbp(20000), gbp(3333))
    assert line.discount_reason == "Gold member 20%"
    assert (priced.gross, priced.discount, priced.net, priced.vat) == (
        gbp(25000),
        gbp(5000),
        gbp(20000),
        gbp(3333),
    )


def test_ten_percent_of_33_35_is_a_3_34_discount() -> None:
    line = quote([treatment(3335)], Benefits(member_discount=SILVER), TODAY).lines[0]
    assert line.discount == gbp(334)
    assert line.net == gbp(3001)


def test_discount_is_rounded_once_on_the_line_not_per_unit() -> None:
    # 3 × £33.35 = £100.05; 10% = £10.005 → £10.01 (per unit it would be 3 × £3.34 = £10.02).
    line = quote([treatment(3335, qty=3)], Benefits(member_discount=SILVER), TODAY).lines[0]
    assert line.gross == gbp(10005)
    assert line.discount == gbp(1001)


def test_vat_exempt_line_has_no_vat() -> None:
    line = quote([treatment(25000, vat_rate_bp=0)], Benefits(member_discount=GOLD), TODAY).lines[0]
    assert line.net == gbp(20000)
    assert line.vat == gbp(0)


def test_products_are_not_covered_by_default() -> None:
    line = quote([product(2400)], Benefits(member_discount=GOLD), TODAY).lines[0]
    assert line.discount == gbp(0)
    assert line.discount_reason is None
    assert line.vat == gbp(400)


def test_a_tier_that_covers_products_discounts_them() -> None:
    generous = MemberDiscount("m-3", "Platinum", 3000, covers_products=True)
    line = quote([product(2400)], Benefits(member_discount=generous), TODAY).lines[0]
    assert line.discount == gbp(720)
    assert line.discount_reason == "Platinum member 30%"


def test_package_purchases_are_not_covered_by_default() -> None:
    course = BasketLine(ItemKind.PACKAGE, "pk-micro", "Microneedling course", gbp(90000))
    line = quote([course], Benefits(member_discount=GOLD), TODAY).lines[0]
    assert line.discount == gbp(0)
    assert line.net == gbp(90000)


def test_a_membership_fee_is_never_discounted() -> None:
    fee = BasketLine(ItemKind.MEMBERSHIP, "tier-gold", "Gold membership", gbp(4900))
    generous = MemberDiscount("m-3", "Platinum", 3000, covers_products=True, covers_packages=True)
    assert quote([fee], Benefits(member_discount=generous), TODAY).lines[0].discount == gbp(0)


def test_fractional_percentages_read_well() -> None:
    line = quote(
        [treatment(10000)], Benefits(member_discount=MemberDiscount("m", "Bronze", 1250)), TODAY
    ).lines[0]
    assert line.discount == gbp(1250)
    assert line.discount_reason == "Bronze member 12.5%"


def test_no_benefits_no_discount() -> None:
    priced = quote([treatment(25000), product(2400)], NO_BENEFITS, TODAY)
    assert priced.discount == gbp(0)
    assert priced.net == gbp(27400)
    assert priced.vat == gbp(4567)  # £41.67 + £4.00


# --- Package redemption ------------------------------------------------------------------------------------------


def test_a_package_session_pays_for_the_treatment_and_no_other_discount_applies() -> None:
    micro = treatment(20000, item_id="t-micro")
    priced = quote([micro], Benefits(package_credits=(credit(),), member_discount=GOLD), TODAY)

    line = priced.lines[0]
    assert (line.discount, line.net, line.vat) == (gbp(20000), gbp(0), gbp(0))
    assert line.discount_reason == "Package: Microneedling course, session 3 of 6"
    assert line.package_credit == credit()
    assert priced.package_credits_used == (credit(),)


def test_the_receptionist_can_decline_the_redemption() -> None:
    micro = treatment(20000, item_id="t-micro", use_package=False)
    line = quote([micro], Benefits(package_credits=(credit(),), member_discount=GOLD), TODAY).lines[0]
    assert line.package_credit is None
    assert line.discount == gbp(4000)
    assert line.discount_reason == "Gold member 20%"


def test_the_package_that_expires_first_pays() -> None:
    later = credit(client_package_id="cp-later", expires_on=dt.date(2027, 9, 1))
    sooner = credit(client_package_id="cp-sooner", expires_on=dt.date(2027, 1, 1))
    line = quote(
        [treatment(20000, item_id="t-micro")], Benefits(package_credits=(later, sooner)), TODAY
    ).lines[0]
    assert line.package_credit == sooner


def test_the_session_reserved_for_the_appointment_pays_first() -> None:
    free = credit(client_package_id="cp-free", expires_on=dt.date(2027, 1, 1))
    reserved = credit(client_package_id="cp-booked", appointment_id="apt-7", remaining=0)
    micro = treatment(20000, item_id="t-micro", appointment_id="apt-7")
    line = quote([micro], Benefits(package_credits=(free, reserved)), TODAY).lines[0]
    assert line.package_credit == reserved


def test_a_session_reserved_for_another_appointment_is_not_used() -> None:
    reserved = credit(appointment_id="apt-7", remaining=0)
    micro = treatment(20000, item_id="t-micro", appointment_id="apt-8")
    line = quote([micro], Benefits(package_credits=(reserved,), member_discount=GOLD), TODAY).lines[0]
    assert line.package_credit is None
    assert line.discount == gbp(4000)


def test_each_credit_pays_for_one_line_only() -> None:
    lines = [treatment(20000, item_id="t-micro"), treatment(20000, item_id="t-micro")]
    priced = quote(lines, Benefits(package_credits=(credit(remaining=4),), member_discount=GOLD), TODAY)
    assert priced.lines[0].package_credit is not None
    assert priced.lines[1].package_credit is None
    assert priced.lines[1].discount_reason == "Gold member 20%"


def test_a_credit_covers_as_many_units_as_it_has_sessions_left() -> None:
    covered = quote(
        [treatment(20000, item_id="t-micro", qty=2)], Benefits(package_credits=(credit(remaining=2),)), TODAY
    )
    assert covered.net == gbp(0)
    not_covered = quote(
        [treatment(20000, item_id="t-micro", qty=3)], Benefits(package_credits=(credit(remaining=2),)), TODAY
    )
    assert not_covered.net == gbp(60000)
    assert not_covered.lines[0].package_credit is None


def test_an_expired_package_does_not_pay() -> None:
    old = credit(expires_on=TODAY - dt.timedelta(days=1))
    last_day = credit(expires_on=TODAY)
    assert quote([treatment(20000, item_id="t-micro")], Benefits(package_credits=(old,)), TODAY).net == gbp(
        20000
    )
    assert quote(
        [treatment(20000, item_id="t-micro")], Benefits(package_credits=(last_day,)), TODAY
    ).net == gbp(0)


def test_a_package_for_another_treatment_does_not_pay() -> None:
    line = quote([treatment(9000, item_id="t-peel")], Benefits(package_credits=(credit(),)), TODAY).lines[0]
    assert line.package_credit is None


def test_a_free_review_session_still_records_its_redemption() -> None:
    review = credit(treatment_id="t-review", package="Botox starter", session=1, remaining=1)
    line = quote([treatment(0, item_id="t-review")], Benefits(package_credits=(review,)), TODAY).lines[0]
    assert line.package_credit == review
    assert line.discount_reason == "Package: Botox starter, session 1 of 6"


# --- Manual price override ---------------------------------------------------------------------------------------


def test_an_override_replaces_the_member_discount() -> None:
    override = PriceOverride(gbp(18000), "Goodwill after a late start", "staff-mgr")
    line = quote([treatment(25000, override=override)], Benefits(member_discount=GOLD), TODAY).lines[0]
    assert line.discount == gbp(7000)
    assert line.net == gbp(18000)
    assert line.discount_reason == "Price override: Goodwill after a late start"


def test_an_override_smaller_than_the_member_discount_still_replaces_it() -> None:
    override = PriceOverride(gbp(24000), "Patch test included", "staff-mgr")
    line = quote([treatment(25000, qty=2, override=override)], Benefits(member_discount=GOLD), TODAY).lines[0]
    assert line.discount == gbp(2000)


def test_a_package_session_wins_over_an_override() -> None:
    override = PriceOverride(gbp(10000), "Regular client", "staff-mgr")
    micro = treatment(20000, item_id="t-micro", override=override)
    assert quote([micro], Benefits(package_credits=(credit(),)), TODAY).net == gbp(0)


def test_an_override_cannot_raise_the_price_or_go_negative_or_lack_a_reason() -> None:
    with pytest.raises(InvalidInput, match="more than the price"):
        treatment(10000, override=PriceOverride(gbp(10001), "Extra area", "staff-mgr"))
    with pytest.raises(InvalidInput, match="negative"):
        PriceOverride(gbp(-1), "Oops", "staff-mgr")
    with pytest.raises(InvalidInput, match="reason"):
        PriceOverride(gbp(100), "  ", "staff-mgr")


# --- Channels, deposits, bad input -------------------------------------------------------------------------------


def test_the_channel_is_recorded_and_changes_nothing() -> None:
    basket = [treatment(25000), product(2400)]
    quotes = [quote(basket, Benefits(member_discount=GOLD), TODAY, channel) for channel in Channel]
    assert [q.channel for q in quotes] == list(Channel)
    assert {(q.gross, q.discount, q.net, q.vat) for q in quotes} == {
        (gbp(27400), gbp(5000), gbp(22400), gbp(3733))
    }


def test_a_percentage_deposit_is_taken_on_the_discounted_price() -> None:
    line = quote([treatment(25000)], Benefits(member_discount=GOLD), TODAY, Channel.DEPOSIT).lines[0]
    assert deposit_due(line, DepositRule(DepositKind.PERCENT, percent_bp=2500)) == gbp(5000)


def test_a_fixed_deposit_never_exceeds_the_discounted_price() -> None:
    line = quote([treatment(4000)], Benefits(member_discount=GOLD), TODAY, Channel.DEPOSIT).lines[0]
    assert deposit_due(line, DepositRule(DepositKind.FIXED, amount=gbp(5000))) == gbp(3200)
    assert deposit_due(line, DepositRule()) == gbp(0)


def test_an_empty_basket_is_zero() -> None:
    priced = quote([], Benefits(member_discount=GOLD), TODAY)
    assert (priced.gross, priced.net, priced.currency, priced.lines) == (gbp(0), gbp(0), "GBP", ())


@pytest.mark.parametrize("quantity", [0, -1, 1000])
def test_a_line_needs_a_sensible_quantity(quantity: int) -> None:
    with pytest.raises(InvalidInput, match="quantity"):
        treatment(1000, qty=quantity)


def test_a_line_cannot_have_a_negative_price() -> None:
    with pytest.raises(InvalidInput, match="cannot be negative"):
        treatment(-1)


def test_a_basket_cannot_mix_currencies() -> None:
    euro = BasketLine(ItemKind.PRODUCT, "p-1", "Serum", Money(1000, "EUR"))
    with pytest.raises(InvalidInput, match="mix currencies"):
        quote([product(1000), euro], NO_BENEFITS, TODAY)


def test_only_treatment_lines_have_a_treatment_id() -> None:
    assert treatment(1000).treatment_id == "t-peel"
    assert product(1000).treatment_id is None
