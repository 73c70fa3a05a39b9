"""Properties of the pricing engine over generated baskets and benefits."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from aestheticc_pos.domain.benefits import Benefits, MemberDiscount, PackageCredit
from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.money import Money, sum_money
from aestheticc_pos.domain.pricing import BasketLine, Channel, PriceOverride, Quote, quote

PROPERTY = settings(max_examples=200, deadline=None)
TODAY = dt.date(2026, 11, 24)
TREATMENT_IDS = ("t-1", "t-2", "t-3")


@st.composite
def basket_lines(draw: st.DrawFn) -> BasketLine:
    kind = draw(
        st.sampled_from([ItemKind.TREATMENT, ItemKind.PRODUCT, ItemKind.PACKAGE, ItemKind.MEMBERSHIP])
    )
    unit = draw(st.integers(min_value=0, max_value=500_000))
    override = None
    if draw(st.booleans()) and draw(st.booleans()):
        override = PriceOverride(Money(draw(st.integers(0, unit))), "Manager's call", "staff-mgr")
    return BasketLine(
        kind=kind,
        item_id=draw(st.sampled_from(TREATMENT_IDS)),
        name="Item",
        unit_price=Money(unit),
        quantity=draw(st.integers(min_value=1, max_value=5)),
        vat_rate_bp=draw(st.sampled_from([0, 500, 2000])),
        appointment_id=draw(st.sampled_from([None, "apt-1", "apt-2"])),
        use_package=draw(st.booleans()),
        override=override,
    )


@st.composite
def all_benefits(draw: st.DrawFn) -> Benefits:
    credits = draw(
        st.lists(
            st.builds(
                PackageCredit,
                client_package_id=st.sampled_from(["cp-1", "cp-2"]),
                package_name=st.just("Course"),
                treatment_id=st.sampled_from(TREATMENT_IDS),
                step_position=st.integers(1, 3),
                session_number=st.integers(1, 6),
                step_sessions=st.just(6),
                remaining=st.integers(0, 6),
                expires_on=st.dates(TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=365)),
                appointment_id=st.sampled_from([None, "apt-1", "apt-2"]),
            ),
            max_size=4,
        )
    )
    member = draw(
        st.none()
        | st.builds(
            MemberDiscount,
            membership_id=st.just("m-1"),
            tier_name=st.just("Gold"),
            discount_bp=st.integers(0, 10_000),
            covers_treatments=st.booleans(),
            covers_products=st.booleans(),
            covers_packages=st.booleans(),
        )
    )
    return Benefits(package_credits=tuple(credits), member_discount=member)


baskets = st.lists(basket_lines(), max_size=8)


@PROPERTY
@given(baskets, all_benefits())
def test_a_discount_never_exceeds_its_line_nor_goes_below_zero(
    lines: list[BasketLine], benefits: Benefits
) -> None:
    for line in quote(lines, benefits, TODAY).lines:
        assert Money.zero() <= line.discount <= line.gross
        assert line.net == line.gross - line.discount
        assert Money.zero() <= line.vat <= line.net
        if line.discount_reason is None:
            assert line.discount == Money.zero()


@PROPERTY
@given(baskets, all_benefits())
def test_totals_are_the_sums_of_the_lines(lines: list[BasketLine], benefits: Benefits) -> None:
    priced = quote(lines, benefits, TODAY)
    for total in ("gross", "discount", "net", "vat"):
        assert getattr(priced, total) == sum_money([getattr(q, total) for q in priced.lines])


@PROPERTY
@given(baskets, all_benefits())
def test_every_channel_prices_the_same_basket_the_same(lines: list[BasketLine], benefits: Benefits) -> None:
    quotes = [quote(lines, benefits, TODAY, channel) for channel in Channel]
    assert len({_numbers(q) for q in quotes}) == 1


@PROPERTY
@given(baskets, all_benefits())
def test_each_package_session_pays_for_one_line_at_most(lines: list[BasketLine], benefits: Benefits) -> None:
    used = quote(lines, benefits, TODAY).package_credits_used
    for credit in set(used):
        assert used.count(credit) <= benefits.package_credits.count(credit)
    for q in quote(lines, benefits, TODAY).lines:
        if q.package_credit is not None:
            assert q.net == Money.zero()
            assert q.package_credit.expires_on >= TODAY
            assert q.line.kind is ItemKind.TREATMENT and q.line.use_package


def _numbers(priced: Quote) -> tuple[object, ...]:
    lines = tuple(
        (q.gross, q.discount, q.discount_reason, q.net, q.vat, q.package_credit) for q in priced.lines
    )
    return lines, priced.gross, priced.discount, priced.net, priced.vat
