"""Refunds and voids: a new document pointing to the sale, what each line undoes, and how the money goes back.

Figures are worked by hand from the catalogue below (prices include VAT at 20%).
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select
from staffing import front_desk

from aestheticc_pos.domain import memberships as membership_rules
from aestheticc_pos.domain.catalogue import ItemKind, Package, PackageStep, Product, Tier, Treatment
from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.errors import InvalidInput, NotPermitted, RuleViolation
from aestheticc_pos.domain.memberships import MembershipStatus
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.packages import ClientPackageStatus
from aestheticc_pos.domain.refunds import RefundMethod
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import close_of_day as close_service
from aestheticc_pos.services import package_refunds, refunds
from aestheticc_pos.services import packages as packages_service
from aestheticc_pos.services.checkout import complete_sale
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.services.sales import sale_receipt
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import audit_entries
from aestheticc_pos.store.tables import MembershipPaymentRow, MembershipRow, OutboxRow, SaleRow

GBP = Money.parse


@pytest.fixture
def catalogue(services) -> None:
    with services.uow() as uow:
        s = uow.session
        catalogue_repo.save_treatment(
            s, Treatment(id="t-peel", name="Chemical peel", price=GBP("33.35"), duration_minutes=45)
        )
        catalogue_repo.save_treatment(
            s, Treatment(id="t-micro", name="Microneedling", price=GBP("200.00"), duration_minutes=60)
        )
        catalogue_repo.save_product(s, Product(id="p-serum", name="Vitamin C serum", price=GBP("45.00")))
        catalogue_repo.save_package(
            s,
            Package(
                id="k-micro",
                name="Microneedling course of 6",
                price=GBP("1000.00"),
                validity_days=365,
                steps=(PackageStep(1, "t-micro", "Microneedling", sessions=6),),
            ),
        )
        catalogue_repo.save_tier(
            s, Tier(id="tier-gold", name="Gold", monthly_price=GBP("49.00"), discount_bp=2000)
        )
        uow.commit()


@pytest.fixture
def ada(services, catalogue) -> str:
    return clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Ada", last_name="Lovelace"
    ).id


def sell(services, staff: str, client: str | None, items: list[BasketItem], payments: list[Payment]):
    return complete_sale(services, client_id=client, items=items, payments=payments, staff_id=staff)


def remaining(services, client: str) -> list[tuple[int, int]]:
    return [
        (step.used, step.remaining)
        for summary in packages_service.client_packages_overview(services, client, include_closed=True)
        for step in summary.steps
    ]


def test_some_units_of_a_line_go_back_and_the_shares_add_up_to_the_line(
    services, ada, receptionist, manager
) -> None:
    sale = sell(
        services,
        receptionist,
        ada,
        [BasketItem(ItemKind.TREATMENT, "t-peel", quantity=3)],
        [Payment("card", "100.05")],
    )
    (sold,) = sale.lines
    first = refunds.refund_sale(
        services, sale_id=sale.sale_id, lines={1: 1}, method="card", reason="Reaction", staff_id=manager
    )
    assert (first.kind, first.refers_to, first.reason) == ("refund", sale.number, "Reaction")
    assert first.number == "A-000002"  # numbered on the till like a sale
    assert first.net == -GBP("33.35")
    assert [(t.kind, t.amount) for t in first.tenders] == [(TenderKind.CARD, -GBP("33.35"))]
    rest = refunds.refund_sale(
        services, sale_id=sale.sale_id, lines=None, method="original", reason="Reaction", staff_id=manager
    )
    assert rest.net == -GBP("66.70")
    assert first.vat + rest.vat == -sold.vat  # every penny of VAT given back, none twice
    assert [line.quantity for line in rest.lines] == [2]
    with pytest.raises(RuleViolation) as none_left:
        refunds.refund_sale(
            services, sale_id=sale.sale_id, lines={1: 1}, method="cash", reason="Again", staff_id=manager
        )
    assert str(none_left.value) == "Chemical peel has already been refunded in full."
    view = refunds.refundable_sale(services, sale.sale_id, manager)
    assert view.given_back == GBP("100.05") and view.lines[0].returnable == 0


def test_the_way_it_was_paid_gives_back_card_before_cash_and_never_more_than_each_took(
    services, ada, receptionist, manager
) -> None:
    sale = sell(
        services,
        receptionist,
        ada,
        [BasketItem(ItemKind.PRODUCT, "p-serum", quantity=2)],
        [Payment("cash", "50.00"), Payment("card", "40.00")],
    )
    assert sale.net == GBP("90")
    back = refunds.refund_sale(
        services,
        sale_id=sale.sale_id,
        lines={1: 1},
        method=RefundMethod.ORIGINAL,
        reason="Sealed",
        staff_id=manager,
    )
    assert [(t.kind, t.amount) for t in back.tenders] == [
        (TenderKind.CARD, -GBP("40")),
        (TenderKind.CASH, -GBP("5")),
    ]
    rest = refunds.refund_sale(
        services, sale_id=sale.sale_id, lines=None, method="original", reason="Sealed", staff_id=manager
    )
    assert [(t.kind, t.amount) for t in rest.tenders] == [(TenderKind.CASH, -GBP("45"))]


def test_a_refunded_package_closes_its_unused_sessions_at_package_value(
    services, ada, receptionist, manager
) -> None:
    sale = sell(
        services, receptionist, ada, [BasketItem(ItemKind.PACKAGE, "k-micro")], [Payment("card", "1000")]
    )
    sell(services, receptionist, ada, [BasketItem(ItemKind.TREATMENT, "t-micro")], [])
    sell(services, receptionist, ada, [BasketItem(ItemKind.TREATMENT, "t-micro")], [])
    assert remaining(services, ada) == [(2, 4)]
    back = refunds.refund_sale(
        services, sale_id=sale.sale_id, lines={1: 1}, method="original", reason="Moving", staff_id=manager
    )
    assert back.net == -GBP("666.67")  # £1,000 × 4 ÷ 6, half up: never the list price
    assert [(t.kind, t.amount) for t in back.tenders] == [(TenderKind.CARD, -GBP("666.67"))]
    (closed,) = packages_service.client_packages_overview(services, ada, include_closed=True)
    assert closed.status is ClientPackageStatus.REFUNDED and remaining(services, ada) == [(2, 0)]
    with pytest.raises(RuleViolation):
        refunds.refund_sale(
            services, sale_id=sale.sale_id, lines={1: 1}, method="cash", reason="Again", staff_id=manager
        )


def test_refunding_unused_sessions_writes_its_money_out_document_against_the_sale(
    services, ada, receptionist, manager
) -> None:
    sale = sell(
        services, receptionist, ada, [BasketItem(ItemKind.PACKAGE, "k-micro")], [Payment("cash", "1000")]
    )
    sell(services, receptionist, ada, [BasketItem(ItemKind.TREATMENT, "t-micro")], [])
    (package,) = packages_service.client_packages_overview(services, ada)
    refunded = package_refunds.refund_unused_sessions(
        services,
        client_package_id=package.client_package_id,
        reason="Pregnant",
        staff_id=manager,
        method="cash",
    )
    assert (refunded.amount, refunded.sessions_closed) == (GBP("833.33"), 5)
    with services.uow(read_only=True) as uow:
        document = uow.session.scalars(select(SaleRow).where(SaleRow.refers_to_sale_id == sale.sale_id)).one()
        assert (document.kind, document.net_pence, document.reason) == ("refund", -83333, "Pregnant")


def test_a_refunded_redemption_gives_its_session_back_walk_in_or_booked(
    services, ada, receptionist, manager
) -> None:
    sell(services, receptionist, ada, [BasketItem(ItemKind.PACKAGE, "k-micro")], [Payment("card", "1000")])
    walk_in = sell(services, receptionist, ada, [BasketItem(ItemKind.TREATMENT, "t-micro")], [])
    assert remaining(services, ada) == [(1, 5)]
    view = refunds.refundable_sale(services, walk_in.sale_id, manager)
    assert [line.gives_back for line in view.lines] == ["session"]
    back = refunds.refund_sale(
        services, sale_id=walk_in.sale_id, lines=None, method="cash", reason="Wrong client", staff_id=manager
    )
    assert back.net == GBP("0") and back.tenders == ()
    assert remaining(services, ada) == [(0, 6)]


def test_a_walk_in_redemption_is_undone_by_its_sale_like_a_booked_one(
    services, ada, receptionist, manager
) -> None:
    sell(services, receptionist, ada, [BasketItem(ItemKind.PACKAGE, "k-micro")], [Payment("card", "1000")])
    walk_in = sell(services, receptionist, ada, [BasketItem(ItemKind.TREATMENT, "t-micro")], [])
    (package,) = packages_service.client_packages_overview(services, ada)
    undo = {"client_package_id": package.client_package_id, "reason": "Paid by card instead"}
    with pytest.raises(InvalidInput):
        packages_service.void_redemption(services, **undo, staff_id=manager)  # neither visit nor sale named
    packages_service.void_redemption(services, **undo, sale_id=walk_in.sale_id, staff_id=manager)
    assert remaining(services, ada) == [(0, 6)]
    with pytest.raises(RuleViolation) as twice:
        packages_service.void_redemption(services, **undo, sale_id=walk_in.sale_id, staff_id=manager)
    assert (
        str(twice.value)
        == "That sale redeemed no session of Microneedling course of 6 that is still to give back."
    )
    with pytest.raises(RuleViolation):  # and a refund of that line cannot give it back a second time
        refunds.refund_sale(
            services, sale_id=walk_in.sale_id, lines=None, method="cash", reason="Again", staff_id=manager
        )


def test_a_refunded_first_month_ends_the_membership_it_started(services, ada, receptionist, manager) -> None:
    sale = sell(
        services, receptionist, ada, [BasketItem(ItemKind.MEMBERSHIP, "tier-gold")], [Payment("card", "49")]
    )
    with services.uow(read_only=True) as uow:
        assert uow.session.scalars(select(MembershipRow.status)).one() == MembershipStatus.ACTIVE.value
    refunds.refund_sale(
        services, sale_id=sale.sale_id, lines=None, method="original", reason="Changed mind", staff_id=manager
    )
    with services.uow(read_only=True) as uow:
        assert uow.session.scalars(select(MembershipRow.status)).one() == MembershipStatus.ENDED.value
        assert uow.session.scalars(select(MembershipPaymentRow.status)).all() == ["refunded"]


def test_a_direct_debit_goes_back_through_gocardless_with_the_running_total(
    services, ada, receptionist, manager
) -> None:
    _member_with_mandate(services, ada)
    sale = sell(
        services,
        receptionist,
        ada,
        [BasketItem(ItemKind.PRODUCT, "p-serum", quantity=2)],
        [Payment("direct_debit", "90", reference="MD123")],
    )
    with pytest.raises(RuleViolation) as not_collected:  # unsent, and only part of it goes back
        refunds.refund_sale(
            services, sale_id=sale.sale_id, lines={1: 1}, method="original", reason="Sealed", staff_id=manager
        )
    assert "has not collected this sale's Direct Debit yet" in str(not_collected.value)
    with services.uow() as uow:  # what the sync records once GoCardless took the payment
        job = uow.session.scalars(select(OutboxRow).where(OutboxRow.record_id == sale.sale_id)).one()
        job.status, job.remote_id = "done", "PM0001"
        uow.commit()
    for _ in range(2):
        refunds.refund_sale(
            services, sale_id=sale.sale_id, lines={1: 1}, method="original", reason="Sealed", staff_id=manager
        )
    with services.uow(read_only=True) as uow:
        sent = uow.session.scalars(
            select(OutboxRow.payload).where(OutboxRow.kind == "create_refund").order_by(OutboxRow.seq)
        ).all()
    assert [(p["amount"], p["total_amount_confirmation"], p["links"]) for p in sent] == [
        (4500, 4500, {"payment": "PM0001"}),
        (4500, 9000, {"payment": "PM0001"}),
    ]


def test_a_void_gives_everything_back_today_and_a_direct_debit_never_sent_is_withdrawn(
    services, clock, ada, receptionist, manager
) -> None:
    _member_with_mandate(services, ada)
    sale = sell(
        services,
        receptionist,
        ada,
        [BasketItem(ItemKind.PRODUCT, "p-serum")],
        [Payment("direct_debit", "45", reference="MD123")],
    )
    void = refunds.void_sale(services, sale_id=sale.sale_id, reason="Wrong client", staff_id=manager)
    assert (void.kind, void.net, void.refers_to) == ("void", -GBP("45"), sale.number)
    with services.uow(read_only=True) as uow:
        assert uow.session.scalars(select(OutboxRow).where(OutboxRow.record_id == sale.sale_id)).all() == []
    with pytest.raises(RuleViolation) as twice:
        refunds.void_sale(services, sale_id=sale.sale_id, reason="Again", staff_id=manager)
    assert (
        str(twice.value) == f"Part of sale {sale.number} has already been refunded. Refund the rest instead."
    )

    other = sell(
        services, receptionist, ada, [BasketItem(ItemKind.PRODUCT, "p-serum")], [Payment("cash", "45")]
    )
    clock.advance(days=1)
    with pytest.raises(RuleViolation) as late:
        refunds.void_sale(services, sale_id=other.sale_id, reason="Late", staff_id=manager)
    assert (
        str(late.value)
        == f"Sale {other.number} was not made today, so it cannot be voided. Refund it instead."
    )


def test_a_closed_day_takes_no_void_and_no_more_documents(
    services, clock, ada, receptionist, manager
) -> None:
    sale = sell(
        services, receptionist, ada, [BasketItem(ItemKind.PRODUCT, "p-serum")], [Payment("cash", "45")]
    )
    day = dt.date(2026, 11, 24)
    report = close_service.day_report(services, day, manager)
    assert report.expected_cash_change == GBP("45")
    close_service.close_day(services, day, opening_float="100", counted="145", staff_id=manager)
    with pytest.raises(RuleViolation) as closed:
        refunds.void_sale(services, sale_id=sale.sale_id, reason="Wrong", staff_id=manager)
    assert "24 Nov 2026 is closed" in str(closed.value)
    with pytest.raises(RuleViolation) as today_closed:
        refunds.refund_sale(
            services, sale_id=sale.sale_id, lines=None, method="cash", reason="Wrong", staff_id=manager
        )
    assert str(today_closed.value).startswith("Today is already closed at this till")
    clock.advance(days=1)
    back = refunds.refund_sale(
        services, sale_id=sale.sale_id, lines=None, method="cash", reason="Faulty", staff_id=manager
    )
    report = close_service.day_report(services, day + dt.timedelta(days=1), manager)
    assert report.refunds == 1 and report.expected_cash_change == -GBP("45")
    assert back.created_at.date() == day + dt.timedelta(days=1)


def test_only_a_manager_refunds_and_bad_input_writes_nothing(services, ada, receptionist, manager) -> None:
    sale = sell(
        services, receptionist, ada, [BasketItem(ItemKind.PRODUCT, "p-serum")], [Payment("cash", "45")]
    )
    refund = {"sale_id": sale.sale_id, "lines": None, "method": "cash", "reason": "Faulty"}
    with pytest.raises(NotPermitted) as not_allowed:
        refunds.refund_sale(services, **refund, staff_id=receptionist)
    assert str(not_allowed.value) == "Only a manager can refund a sale."
    for change, sentence in [
        ({"reason": " "}, "A reason for the refund is needed."),
        (
            {"method": "cheque"},
            "“cheque” is not a way to give money back: choose cash, card or the way it was paid.",
        ),
        ({"lines": {}}, "Choose at least one line to refund."),
        ({"lines": {7: 1}}, "That line is not on this sale."),
        ({"lines": {1: 2}}, "Only 1 of Vitamin C serum can still be refunded."),
        ({"lines": {1: "two"}}, None),
    ]:
        with pytest.raises((InvalidInput, RuleViolation)) as refused:
            refunds.refund_sale(services, **{**refund, **change}, staff_id=manager)
        if sentence is not None:
            assert str(refused.value) == sentence
    with services.uow(read_only=True) as uow:
        assert uow.session.scalars(select(SaleRow.kind)).all() == ["sale"]


def test_the_same_refund_sent_twice_is_written_once_and_audited(services, ada, receptionist, manager) -> None:
    sale = sell(
        services, receptionist, ada, [BasketItem(ItemKind.PRODUCT, "p-serum")], [Payment("cash", "45")]
    )
    refund_id = str(uuid.uuid4())
    refund = {
        "sale_id": sale.sale_id,
        "lines": None,
        "method": "cash",
        "reason": "Faulty",
        "staff_id": manager,
    }
    once = refunds.refund_sale(services, **refund, refund_id=refund_id)
    again = refunds.refund_sale(services, **refund, refund_id=refund_id)  # the till never heard the answer
    assert once == again == sale_receipt(services, refund_id)
    with services.uow(read_only=True) as uow:
        entries = [e for e in audit_entries(uow.session) if e.action == "sale.refunded"]
    assert [(e.record_id, e.reason, e.details["refers_to"]) for e in entries] == [
        (refund_id, "Faulty", sale.number)
    ]
    with pytest.raises(RuleViolation) as of_refund:
        refunds.refund_sale(
            services, sale_id=refund_id, lines=None, method="cash", reason="Faulty", staff_id=manager
        )
    assert str(of_refund.value) == f"{once.number} is a refund, not a sale: refund the sale it gave back."


def _member_with_mandate(services, client_id: str) -> None:
    with services.uow() as uow:
        tier = catalogue_repo.load_tier(uow.session, "tier-gold")
        today = dt.date(2026, 11, 24)
        m = membership_rules.sign_up(tier, membership_id=services.new_id(), client_id=client_id, on=today)
        m = membership_rules.mandate_set_up(m, "MD123")
        m = membership_rules.payment_confirmed(m, dt.date(2026, 12, 23), today)
        repo.save_membership(uow.session, m)
        uow.commit()


def test_the_till_takes_no_sale_on_a_day_it_has_closed(services, clock, ada, receptionist, manager) -> None:
    close_service.close_day(
        services, dt.date(2026, 11, 24), opening_float="100", counted="100", staff_id=manager
    )
    with pytest.raises(RuleViolation) as closed:
        sell(services, receptionist, ada, [BasketItem(ItemKind.PRODUCT, "p-serum")], [Payment("cash", "45")])
    assert str(closed.value) == (
        "Today is already closed at this till, so nothing more can be recorded on it. "
        "Record the sale tomorrow, or at another till."
    )
    clock.advance(days=1)
    assert sell(
        services, receptionist, ada, [BasketItem(ItemKind.PRODUCT, "p-serum")], [Payment("cash", "45")]
    ).net
