from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from staffing import front_desk

from aestheticc_pos.domain import memberships as membership_rules
from aestheticc_pos.domain.catalogue import (
    BenefitsStart,
    ItemKind,
    Package,
    PackageStep,
    Product,
    Tier,
    Treatment,
)
from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.errors import InvalidInput, NotPermitted, RuleViolation
from aestheticc_pos.domain.memberships import MembershipStatus
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.pricing import Channel
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import membership_views
from aestheticc_pos.services import packages as packages_service
from aestheticc_pos.services.checkout import complete_sale, quote_basket
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import audit_entries
from aestheticc_pos.store.tables import (
    MembershipPaymentRow,
    MembershipRow,
    OutboxRow,
    SaleRow,
    SessionLedgerRow,
)

GBP = Money.parse


@pytest.fixture
def catalogue(services):
    items = {
        "botox": Treatment(id="t-botox", name="Botox (one area)", price=GBP("250.00"), duration_minutes=30),
        "peel": Treatment(id="t-peel", name="Chemical peel", price=GBP("33.35"), duration_minutes=45),
        "serum": Product(id="p-serum", name="Vitamin C serum", price=GBP("45.00")),
        "micro": Treatment(id="t-micro", name="Microneedling", price=GBP("200.00"), duration_minutes=60),
    }
    course = Package(
        id="k-micro",
        name="Microneedling course of 6",
        price=GBP("1000.00"),
        validity_days=365,
        steps=(PackageStep(1, "t-micro", "Microneedling", sessions=6, min_days_between_sessions=28),),
    )
    gold = Tier(id="tier-gold", name="Gold", monthly_price=GBP("49.00"), discount_bp=2000)
    silver = Tier(id="tier-silver", name="Silver", monthly_price=GBP("29.00"), discount_bp=1000)
    platinum = Tier(
        id="tier-platinum",
        name="Platinum",
        monthly_price=GBP("89.00"),
        discount_bp=3000,
        benefits_start=BenefitsStart.SIGN_UP,
    )
    with services.uow() as uow:
        for t in ("botox", "peel", "micro"):
            catalogue_repo.save_treatment(uow.session, items[t])
        catalogue_repo.save_product(uow.session, items["serum"])
        catalogue_repo.save_package(uow.session, course)
        catalogue_repo.save_tier(uow.session, gold)
        catalogue_repo.save_tier(uow.session, silver)
        catalogue_repo.save_tier(uow.session, platinum)
        uow.commit()
    return {**items, "course": course, "gold": gold, "silver": silver, "platinum": platinum}


def _member(services, client_id: str, tier: Tier) -> str:
    today = dt.date(2026, 11, 24)
    m = membership_rules.sign_up(tier, membership_id=services.new_id(), client_id=client_id, on=today)
    m = membership_rules.payment_confirmed(m, dt.date(2026, 12, 23), today)
    with services.uow() as uow:
        repo.save_membership(uow.session, m)
        uow.commit()
    return m.id


def test_gold_member_gets_20_percent_off_a_250_treatment(services, catalogue, receptionist) -> None:
    ada = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Ada", last_name="Lovelace"
    )
    _member(services, ada.id, catalogue["gold"])
    q = quote_basket(services, client_id=ada.id, items=[BasketItem(ItemKind.TREATMENT, "t-botox")])
    (line,) = q.lines
    assert (line.gross, line.discount, line.net, line.vat) == (
        GBP("250"),
        GBP("50"),
        GBP("200"),
        GBP("33.33"),
    )
    assert line.discount_reason == "Gold member 20%"

    receipt = complete_sale(
        services,
        client_id=ada.id,
        items=[BasketItem(ItemKind.TREATMENT, "t-botox")],
        payments=[Payment(TenderKind.CASH, "220")],
        staff_id=receptionist,
        expected_total=GBP("200"),
    )
    assert receipt.number == "A-000001"
    assert receipt.net == GBP("200") and receipt.vat == GBP("33.33")
    assert receipt.change_due == GBP("20")
    assert [(t.kind, t.amount) for t in receipt.tenders] == [(TenderKind.CASH, GBP("220"))]


def test_silver_ten_percent_of_33_35_is_3_34_and_products_are_not_discounted(services, catalogue) -> None:
    ada = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Ada", last_name="Lovelace"
    )
    _member(services, ada.id, catalogue["silver"])
    q = quote_basket(
        services,
        client_id=ada.id,
        items=[BasketItem(ItemKind.TREATMENT, "t-peel"), BasketItem(ItemKind.PRODUCT, "p-serum")],
    )
    assert [line.discount for line in q.lines] == [GBP("3.34"), GBP("0")]
    assert q.net == GBP("33.35") - GBP("3.34") + GBP("45")


def test_the_same_basket_costs_the_same_in_every_channel(services, catalogue) -> None:
    ada = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Ada", last_name="Lovelace"
    )
    _member(services, ada.id, catalogue["gold"])
    items = [BasketItem(ItemKind.TREATMENT, "t-botox"), BasketItem(ItemKind.TREATMENT, "t-peel", quantity=2)]
    quotes = [quote_basket(services, client_id=ada.id, items=items, channel=c) for c in Channel]
    assert len({(q.gross, q.discount, q.net, q.vat) for q in quotes}) == 1


def test_selling_a_package_then_redeeming_a_session_at_checkout(services, catalogue, receptionist) -> None:
    ada = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Ada", last_name="Lovelace"
    )
    sold = complete_sale(
        services,
        client_id=ada.id,
        items=[BasketItem(ItemKind.PACKAGE, "k-micro")],
        payments=[Payment("card", "1000.00")],
        staff_id=receptionist,
    )
    assert sold.net == GBP("1000")
    (summary,) = packages_service.client_packages_overview(services, ada.id)
    assert (summary.steps[0].total, summary.steps[0].remaining) == (6, 6)
    assert summary.expires_on == dt.date(2026, 11, 24) + dt.timedelta(days=365)

    receipt = complete_sale(
        services,
        client_id=ada.id,
        items=[BasketItem(ItemKind.TREATMENT, "t-micro")],
        payments=[],
        staff_id=receptionist,
    )
    (line,) = receipt.lines
    assert (
        line.net == GBP("0") and line.discount_reason == "Package: Microneedling course of 6, session 1 of 6"
    )
    (summary,) = packages_service.client_packages_overview(services, ada.id)
    assert (summary.steps[0].used, summary.steps[0].remaining) == (1, 5)
    with services.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(SessionLedgerRow)) == 1


def test_declining_the_package_charges_the_treatment(services, catalogue, receptionist) -> None:
    ada = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Ada", last_name="Lovelace"
    )
    complete_sale(
        services,
        client_id=ada.id,
        items=[BasketItem(ItemKind.PACKAGE, "k-micro")],
        payments=[Payment("card", "1000")],
        staff_id=receptionist,
    )
    q = quote_basket(
        services, client_id=ada.id, items=[BasketItem(ItemKind.TREATMENT, "t-micro", use_package=False)]
    )
    assert q.net == GBP("200")


def test_underpayment_changed_total_and_bad_amounts_write_nothing(services, catalogue, receptionist) -> None:
    ada = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Ada", last_name="Lovelace"
    )
    items = [BasketItem(ItemKind.TREATMENT, "t-botox")]
    with pytest.raises(RuleViolation, match="£50.00 is still due"):
        complete_sale(
            services, client_id=ada.id, items=items, payments=[Payment("cash", "200")], staff_id=receptionist
        )
    with pytest.raises(InvalidInput, match="not an amount"):
        complete_sale(
            services, client_id=ada.id, items=items, payments=[Payment("cash", "abc")], staff_id=receptionist
        )
    with pytest.raises(RuleViolation, match="total changed to £250.00"):
        complete_sale(
            services,
            client_id=ada.id,
            items=items,
            payments=[Payment("cash", "250")],
            staff_id=receptionist,
            expected_total=GBP("200"),
        )
    with pytest.raises(RuleViolation, match="no active Direct Debit mandate"):
        complete_sale(
            services,
            client_id=ada.id,
            items=items,
            payments=[Payment("direct_debit", "250", "MD1")],
            staff_id=receptionist,
        )
    with services.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(SaleRow)) == 0
    receipt = complete_sale(
        services, client_id=ada.id, items=items, payments=[Payment("card", "250")], staff_id=receptionist
    )
    assert receipt.number == "A-000001"  # refused attempts used no number


def test_price_override_needs_a_manager_and_is_audited(services, catalogue, receptionist, manager) -> None:
    item = BasketItem(ItemKind.TREATMENT, "t-botox", override_price="199.00", override_reason="Goodwill")
    with pytest.raises(NotPermitted):
        quote_basket(services, client_id=None, items=[item], staff_id=receptionist)
    receipt = complete_sale(
        services, client_id=None, items=[item], payments=[Payment("card", "199")], staff_id=manager
    )
    assert receipt.net == GBP("199") and receipt.lines[0].discount_reason == "Price override: Goodwill"
    from aestheticc_pos.store.audit_repo import audit_entries, first_broken_audit_entry

    with services.uow(read_only=True) as uow:
        actions = [e.action for e in audit_entries(uow.session)]
        assert "price.overridden" in actions
        assert first_broken_audit_entry(uow.session) is None


def test_walk_in_cannot_buy_a_package(services, catalogue, receptionist) -> None:
    with pytest.raises(InvalidInput, match="Choose the client first"):
        complete_sale(
            services,
            client_id=None,
            items=[BasketItem(ItemKind.PACKAGE, "k-micro")],
            payments=[Payment("card", "1000")],
            staff_id=receptionist,
        )


def _book_micro(
    services,
    client_id: str,
    practitioner: str,
    receptionist: str,
    *,
    use_package: bool = True,
    hour: int = 15,
):
    from aestheticc_pos.services import appointments as appointments_service

    starts = dt.datetime(2026, 11, 24, hour, 0, tzinfo=dt.UTC)
    return appointments_service.book_appointment(
        services,
        client_id=client_id,
        treatment_id="t-micro",
        practitioner_id=practitioner,
        starts_at=starts,
        staff_id=receptionist,
        use_package=use_package,
    ).appointment


def test_checking_out_a_booked_package_visit_uses_its_booked_session_once(
    services, catalogue, receptionist, practitioner, clock
) -> None:
    from aestheticc_pos.services import appointments as appointments_service

    ada = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Ada", last_name="Lovelace"
    )
    complete_sale(
        services,
        client_id=ada.id,
        items=[BasketItem(ItemKind.PACKAGE, "k-micro")],
        payments=[Payment("card", "1000")],
        staff_id=receptionist,
    )
    visit = _book_micro(services, ada.id, practitioner, receptionist)
    (summary,) = packages_service.client_packages_overview(services, ada.id)
    assert (summary.steps[0].used, summary.steps[0].booked) == (0, 1)
    clock.set(dt.datetime(2026, 11, 24, 16, 0, tzinfo=dt.UTC))
    receipt = complete_sale(
        services,
        client_id=ada.id,
        items=[BasketItem(ItemKind.TREATMENT, "t-micro", appointment_id=visit.id)],
        payments=[],
        staff_id=receptionist,
    )
    assert receipt.net == GBP("0")
    (summary,) = packages_service.client_packages_overview(services, ada.id)
    assert (summary.steps[0].used, summary.steps[0].booked, summary.steps[0].remaining) == (1, 0, 5)
    detail = appointments_service.appointment_detail(services, visit.id)
    assert detail.appointment.status.value == "attended"


def test_paying_for_a_visit_booked_on_a_package_gives_the_session_back(
    services, catalogue, receptionist, practitioner, clock
) -> None:
    ada = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Ada", last_name="Lovelace"
    )
    complete_sale(
        services,
        client_id=ada.id,
        items=[BasketItem(ItemKind.PACKAGE, "k-micro")],
        payments=[Payment("card", "1000")],
        staff_id=receptionist,
    )
    visit = _book_micro(services, ada.id, practitioner, receptionist)
    clock.set(dt.datetime(2026, 11, 24, 16, 0, tzinfo=dt.UTC))
    item = BasketItem(ItemKind.TREATMENT, "t-micro", appointment_id=visit.id, use_package=False)
    receipt = complete_sale(
        services, client_id=ada.id, items=[item], payments=[Payment("card", "200")], staff_id=receptionist
    )
    assert receipt.net == GBP("200")
    (summary,) = packages_service.client_packages_overview(services, ada.id)
    assert (summary.steps[0].used, summary.steps[0].booked, summary.steps[0].remaining) == (0, 0, 6)


# --- A membership sold at the till ----------------------------------------------------------------------------

GOLD_LINE = "Gold membership · first month 24 Nov–23 Dec 2026, then £49.00 a month by Direct Debit"


def _membership_payments(services) -> list[tuple[object, ...]]:
    """(period start, period end, pence, status, source, sale id) of every membership payment."""
    with services.uow(read_only=True) as uow:
        rows = uow.session.execute(
            select(
                MembershipPaymentRow.period_start,
                MembershipPaymentRow.period_end,
                MembershipPaymentRow.amount_pence,
                MembershipPaymentRow.status,
                MembershipPaymentRow.source,
                MembershipPaymentRow.sale_id,
            ).order_by(MembershipPaymentRow.period_start)
        )
        return [tuple(row) for row in rows]


def _written(services) -> tuple[int, int, list[tuple[str, str]]]:
    """(sales, memberships, the membership outbox rows as (kind, status)) in the database."""
    with services.uow(read_only=True) as uow:
        s = uow.session
        outbox = s.execute(
            select(OutboxRow.kind, OutboxRow.status)
            .where(OutboxRow.record_type == "membership")
            .order_by(OutboxRow.seq)
        )
        return (
            s.scalar(select(func.count()).select_from(SaleRow)) or 0,
            s.scalar(select(func.count()).select_from(MembershipRow)) or 0,
            [(kind, status) for kind, status in outbox],
        )


def test_selling_gold_at_the_till_takes_the_first_month_and_starts_it_in_the_sale_transaction(
    services, catalogue, receptionist
) -> None:
    ada = clients_service.add_client(
        services,
        staff_id=front_desk(services),
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
    )
    items = [BasketItem(ItemKind.MEMBERSHIP, "tier-gold"), BasketItem(ItemKind.PRODUCT, "p-serum")]

    q = quote_basket(services, client_id=ada.id, items=items)
    joining, serum = q.lines
    assert joining.line.name == GOLD_LINE
    # The first month is a real line at the tier's price, standard-rated, never discounted.
    assert (joining.gross, joining.discount, joining.net, joining.vat) == (
        GBP("49"),
        GBP("0"),
        GBP("49"),
        GBP("8.17"),
    )
    assert joining.discount_reason is None
    assert (q.net, q.vat) == (GBP("94"), GBP("15.67"))

    # Refused before anything is written (too little paid), and after the membership was written in the
    # transaction (a Direct Debit tender the new membership has no mandate for yet): neither leaves a trace.
    with pytest.raises(RuleViolation, match="£84.00 is still due"):
        complete_sale(
            services, client_id=ada.id, items=items, payments=[Payment("cash", "10")], staff_id=receptionist
        )
    with pytest.raises(RuleViolation, match="no active Direct Debit mandate"):
        complete_sale(
            services,
            client_id=ada.id,
            items=items,
            payments=[Payment("direct_debit", "94", "MD1")],
            staff_id=receptionist,
        )
    assert _written(services) == (0, 0, [])
    assert membership_views.membership_of(services, ada.id) is None

    receipt = complete_sale(
        services,
        client_id=ada.id,
        items=items,
        payments=[Payment("card", "94")],
        staff_id=receptionist,
        expected_total=GBP("94"),
    )
    assert [(line.name, line.net) for line in receipt.lines] == [
        (GOLD_LINE, GBP("49")),
        ("Vitamin C serum", GBP("45")),
    ]
    assert receipt.net == GBP("94")
    member = membership_views.membership_of(services, ada.id)
    assert member is not None
    assert (
        member.tier_name,
        member.status,
        member.started_on,
        member.paid_through,
        member.discount_in_force,
    ) == (
        "Gold",
        MembershipStatus.ACTIVE,
        dt.date(2026, 11, 24),
        dt.date(2026, 12, 23),
        True,
    )
    assert _written(services) == (
        1,
        1,
        [
            ("create_customer", "pending"),
            ("create_billing_request", "waiting_for_prerequisite"),
            ("create_flow", "waiting_for_prerequisite"),
        ],
    )
    with services.uow(read_only=True) as uow:
        s = uow.session
        (entry,) = audit_entries(s, record_type="membership")
        request = s.scalars(select(OutboxRow).where(OutboxRow.kind == "create_billing_request")).one().payload
    assert (entry.action, entry.record_id, entry.staff_id) == ("membership.started", member.id, receptionist)
    # The first month is paid: the Direct Debit set-up asks for the mandate only, and nothing collects it again.
    assert "payment_request" not in request
    assert _membership_payments(services) == [
        (dt.date(2026, 11, 24), dt.date(2026, 12, 23), 4900, "paid", "sale", receipt.sale_id)
    ]


def test_a_sign_up_fee_is_a_line_of_its_own_paid_with_the_first_month(
    services, catalogue, receptionist
) -> None:
    with services.uow() as uow:
        catalogue_repo.save_tier(uow.session, replace(catalogue["gold"], signup_fee_pence=2500))
        uow.commit()
    ada = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Ada", last_name="Lovelace"
    )
    receipt = complete_sale(
        services,
        client_id=ada.id,
        items=[BasketItem(ItemKind.MEMBERSHIP, "tier-gold")],
        payments=[Payment("card", "74")],
        staff_id=receptionist,
        expected_total=GBP("74"),
    )
    assert [(line.name, line.net, line.vat) for line in receipt.lines] == [
        (GOLD_LINE, GBP("49"), GBP("8.17")),
        ("Gold membership · sign-up fee", GBP("25"), GBP("4.17")),
    ]
    [(_, period_end, amount, *_)] = _membership_payments(services)
    assert (amount, period_end) == (7400, dt.date(2026, 12, 23))
    assert _written(services)[:2] == (1, 1)


def test_a_client_who_has_a_membership_cannot_buy_another_at_the_till(
    services, catalogue, receptionist
) -> None:
    ada = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Ada", last_name="Lovelace"
    )
    _member(services, ada.id, catalogue["silver"])
    items = [BasketItem(ItemKind.MEMBERSHIP, "tier-gold")]
    refusal = "Ada Lovelace is already a Silver member. Change the tier, or end that membership first."
    with pytest.raises(RuleViolation, match=refusal):
        quote_basket(services, client_id=ada.id, items=items)
    with pytest.raises(RuleViolation, match=refusal):
        complete_sale(services, client_id=ada.id, items=items, payments=[], staff_id=receptionist)
    assert _written(services)[0] == 0


def test_one_membership_per_basket_sold_once(services, catalogue) -> None:
    ada = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Ada", last_name="Lovelace"
    )
    with pytest.raises(InvalidInput, match="already has a membership"):
        quote_basket(
            services,
            client_id=ada.id,
            items=[
                BasketItem(ItemKind.MEMBERSHIP, "tier-gold"),
                BasketItem(ItemKind.MEMBERSHIP, "tier-silver"),
            ],
        )
    with pytest.raises(InvalidInput, match="one membership at a time"):
        quote_basket(
            services, client_id=ada.id, items=[BasketItem(ItemKind.MEMBERSHIP, "tier-gold", quantity=2)]
        )


def test_a_walk_in_cannot_buy_a_membership(services, catalogue, receptionist) -> None:
    items = [BasketItem(ItemKind.MEMBERSHIP, "tier-gold")]
    with pytest.raises(InvalidInput, match="Choose the client first: a membership belongs to a client."):
        quote_basket(services, client_id=None, items=items)
    with pytest.raises(InvalidInput, match="Choose the client first: a membership belongs to a client."):
        complete_sale(services, client_id=None, items=items, payments=[], staff_id=receptionist)
    assert _written(services) == (0, 0, [])


def test_platinum_benefits_from_sign_up_take_30_percent_off_the_treatment_sold_with_it(
    services, catalogue, receptionist
) -> None:
    ada = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Ada", last_name="Lovelace"
    )
    items = [BasketItem(ItemKind.MEMBERSHIP, "tier-platinum"), BasketItem(ItemKind.TREATMENT, "t-botox")]
    q = quote_basket(services, client_id=ada.id, items=items)
    _, botox = q.lines
    assert (botox.discount, botox.discount_reason, botox.net) == (
        GBP("75"),
        "Platinum member 30%",
        GBP("175"),
    )

    receipt = complete_sale(
        services,
        client_id=ada.id,
        items=items,
        payments=[Payment("card", "264")],
        staff_id=receptionist,
        expected_total=q.net,
    )
    assert (receipt.net, receipt.lines[1].discount_reason) == (GBP("264"), "Platinum member 30%")
    member = membership_views.membership_of(services, ada.id)
    assert member is not None and member.status is MembershipStatus.ACTIVE and member.discount_in_force


def test_gold_benefits_from_the_first_payment_start_with_the_first_month_paid_in_the_same_basket(
    services, catalogue, receptionist
) -> None:
    ada = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Ada", last_name="Lovelace"
    )
    items = [BasketItem(ItemKind.MEMBERSHIP, "tier-gold"), BasketItem(ItemKind.TREATMENT, "t-botox")]
    q = quote_basket(services, client_id=ada.id, items=items)
    # £49.00 for the first month, and £250.00 less Gold's 20%: the first payment is collected by this sale.
    assert (q.discount, q.net) == (GBP("50"), GBP("249"))

    receipt = complete_sale(
        services,
        client_id=ada.id,
        items=items,
        payments=[Payment("card", "249")],
        staff_id=receptionist,
        expected_total=GBP("249"),
    )
    assert (receipt.discount, receipt.lines[1].discount_reason) == (GBP("50"), "Gold member 20%")
    member = membership_views.membership_of(services, ada.id)
    assert member is not None and member.tier_name == "Gold" and member.discount_in_force


def test_a_visit_is_charged_once(services, catalogue, receptionist, practitioner, clock) -> None:
    from aestheticc_pos.services import appointments as appointments_service

    ada = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Ada", last_name="Lovelace"
    )
    complete_sale(
        services,
        client_id=ada.id,
        items=[BasketItem(ItemKind.PACKAGE, "k-micro")],
        payments=[Payment("card", "1000")],
        staff_id=receptionist,
    )
    on_package = _book_micro(services, ada.id, practitioner, receptionist)
    clock.set(dt.datetime(2026, 11, 24, 16, 0, tzinfo=dt.UTC))
    appointments_service.attend_appointment(services, appointment_id=on_package.id, staff_id=practitioner)
    visit = [BasketItem(ItemKind.TREATMENT, "t-micro", appointment_id=on_package.id)]
    with pytest.raises(
        RuleViolation, match="paid with a session of Microneedling course of 6 when it was attended"
    ):
        quote_basket(services, client_id=ada.id, items=visit)

    clock.set(dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC))
    paid = _book_micro(services, ada.id, practitioner, receptionist, use_package=False, hour=13)
    clock.set(dt.datetime(2026, 11, 24, 16, 0, tzinfo=dt.UTC))
    visit = [BasketItem(ItemKind.TREATMENT, "t-micro", appointment_id=paid.id, use_package=False)]
    receipt = complete_sale(
        services, client_id=ada.id, items=visit, payments=[Payment("card", "200")], staff_id=receptionist
    )
    with pytest.raises(RuleViolation, match=re.escape(f"already checked out (sale {receipt.number})")):
        complete_sale(
            services, client_id=ada.id, items=visit, payments=[Payment("card", "200")], staff_id=receptionist
        )


# --- A sale is taken once, whatever the till heard ------------------------------------------------------------


def test_submitting_the_same_sale_twice_returns_the_first_receipt_and_writes_nothing_more(
    services, catalogue, receptionist
) -> None:
    ada = clients_service.add_client(services, staff_id=receptionist, first_name="Ada", last_name="Lovelace")
    sale = dict(
        client_id=ada.id,
        items=[BasketItem(ItemKind.PRODUCT, "p-serum")],
        payments=[Payment("cash", "50")],
        staff_id=receptionist,
        sale_id="8f0c6c36-6b0e-4d2a-9f0e-0d2f5e2b9a11",
    )
    first = complete_sale(services, **sale)
    again = complete_sale(services, **sale)  # the till died before it showed the receipt, and tried again

    assert (again.sale_id, again.number, again.net) == (first.sale_id, first.number, GBP("45"))
    assert _written(services)[0] == 1
    with pytest.raises(InvalidInput, match="reference is not one the till makes"):
        complete_sale(services, **{**sale, "sale_id": "not-a-uuid"})


def test_after_a_restart_the_till_shows_its_last_sale(services, catalogue, receptionist, clock) -> None:
    from aestheticc_pos.services.checkout import last_sale

    assert last_sale(services) is None
    for minutes in (0, 5):
        clock.set(dt.datetime(2026, 11, 24, 14, minutes, tzinfo=dt.UTC))
        complete_sale(
            services,
            client_id=None,
            items=[BasketItem(ItemKind.PRODUCT, "p-serum")],
            payments=[Payment("card", "45")],
            staff_id=receptionist,
        )
    shown = last_sale(services)
    assert shown is not None and (shown.number, shown.net) == ("A-000002", GBP("45"))
