"""Completing a sale is one unit of work that reads each row once, and its receipt is made from what it wrote
(issue 13: "load each row once per use case; build the receipt from what was written").

The receipt the till shows must be the receipt read back from the database later (only the tenders differ on
purpose: the till shows the cash given and the change, the stored sale keeps the cash net of the change).
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import Engine, event, func, select

from aestheticc_pos.domain import memberships as membership_rules
from aestheticc_pos.domain.catalogue import ItemKind, Package, PackageStep, Product, Tier, Treatment
from aestheticc_pos.domain.checkout import Tender, TenderKind
from aestheticc_pos.domain.errors import NotPermitted, RuleViolation
from aestheticc_pos.domain.money import Money
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services.checkout import complete_sale, quote_basket
from aestheticc_pos.services.close_of_day import close_day
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.services.sales import sale_receipt
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.tables import SaleRow

GBP = Money.parse


@pytest.fixture
def gold_member(services: Services, receptionist: str) -> str:
    with services.uow() as uow:
        s = uow.session
        catalogue_repo.save_treatment(
            s, Treatment(id="t-micro", name="Microneedling", price=GBP("200.00"), duration_minutes=60)
        )
        catalogue_repo.save_treatment(
            s, Treatment(id="t-peel", name="Chemical peel", price=GBP("33.35"), duration_minutes=45)
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
        gold = Tier(id="tier-gold", name="Gold", monthly_price=GBP("49.00"), discount_bp=2000)
        catalogue_repo.save_tier(s, gold)
        uow.commit()
    ada = clients_service.add_client(services, staff_id=receptionist, first_name="Ada", last_name="Lovelace")
    today = dt.date(2026, 11, 24)
    m = membership_rules.sign_up(gold, membership_id=services.new_id(), client_id=ada.id, on=today)
    m = membership_rules.payment_confirmed(m, dt.date(2026, 12, 23), today)
    with services.uow() as uow:
        repo.save_membership(uow.session, m)
        uow.commit()
    complete_sale(
        services,
        client_id=ada.id,
        items=[BasketItem(ItemKind.PACKAGE, "k-micro")],
        payments=[Payment("card", "1000.00")],
        staff_id=receptionist,
    )
    return ada.id


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_rest) -> None:  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    def began(_conn) -> None:  # type: ignore[no-untyped-def]
        seen.append("BEGIN")

    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine, "begin", began)
    yield seen
    event.remove(engine, "before_cursor_execute", record)
    event.remove(engine, "begin", began)


BASKET = [
    BasketItem(ItemKind.TREATMENT, "t-micro"),  # a package session
    BasketItem(ItemKind.TREATMENT, "t-peel"),  # Gold 20% off
    BasketItem(ItemKind.PRODUCT, "p-serum", quantity=2),  # products are not covered by Gold
]


def test_the_receipt_shown_is_the_sale_as_written(
    services: Services, gold_member: str, receptionist: str
) -> None:
    total = quote_basket(services, client_id=gold_member, items=BASKET).net
    shown = complete_sale(
        services,
        client_id=gold_member,
        items=BASKET,
        payments=[Payment("cash", "150.00")],
        staff_id=receptionist,
        expected_total=total,
        sale_id=str(uuid.uuid4()),
    )
    stored = sale_receipt(services, shown.sale_id)

    assert shown.change_due == GBP("150.00") - total and shown.tenders == (
        Tender(TenderKind.CASH, GBP("150.00")),
    )
    assert stored.tenders == (Tender(TenderKind.CASH, total),) and stored.change_due == GBP("0")
    assert replace(shown, tenders=stored.tenders, change_due=stored.change_due) == stored
    assert [line.discount_reason for line in shown.lines] == [
        "Package: Microneedling course of 6, session 1 of 6",
        "Gold member 20%",
        None,
    ]
    assert (shown.client_name, shown.staff_name, shown.clinic_name) == (
        "Ada Lovelace",
        "Rita Reception",
        "Test Clinic",
    )


def test_one_transaction_reads_staff_settings_and_the_client_once_and_reads_nothing_back(
    services: Services, gold_member: str, receptionist: str, statements: list[str]
) -> None:
    total = quote_basket(services, client_id=gold_member, items=BASKET).net
    statements.clear()
    complete_sale(
        services,
        client_id=gold_member,
        items=BASKET,
        payments=[Payment("card", total)],
        staff_id=receptionist,
        expected_total=total,
        sale_id=str(uuid.uuid4()),
    )

    def count(fragment: str) -> int:
        return sum(1 for s in statements if fragment in s)

    assert statements.count("BEGIN") == 1, statements
    assert count("FROM staff") == 1 and count("FROM settings") == 1
    assert count("FROM clients") == 1 and count("FROM memberships") == 1
    assert count("FROM sales ") == 1  # the sale id not already taken
    assert count("FROM sale_lines") == 0 and count("FROM tenders") == 0  # the receipt is not read back
    assert count("INSERT INTO sales ") == 1 and count("INSERT INTO audit_log") == 1


def test_a_sale_submitted_again_reads_its_receipt_in_the_same_single_transaction(
    services: Services, gold_member: str, receptionist: str, statements: list[str]
) -> None:
    sale = dict(
        client_id=gold_member,
        items=[BasketItem(ItemKind.PRODUCT, "p-serum")],
        payments=[Payment("card", "45.00")],
        staff_id=receptionist,
        sale_id=str(uuid.uuid4()),
    )
    first = complete_sale(services, **sale)
    statements.clear()
    again = complete_sale(
        services, **{**sale, "items": [BasketItem(ItemKind.PRODUCT, "p-serum", quantity=3)]}
    )

    assert again == replace(first, tenders=again.tenders)  # the first sale, as stored
    assert statements.count("BEGIN") == 1 and not any(s.startswith("INSERT") for s in statements)
    with services.uow(read_only=True) as uow:
        assert (
            uow.session.scalar(select(func.count()).select_from(SaleRow).where(SaleRow.id == first.sale_id))
            == 1
        )


def test_the_permission_is_checked_first_inside_the_sale_and_nothing_is_written(
    services: Services, gold_member: str, practitioner: str, statements: list[str]
) -> None:
    statements.clear()
    with pytest.raises(NotPermitted, match="Only a manager"):
        complete_sale(
            services, client_id=gold_member, items=BASKET, payments=[], staff_id=practitioner, sale_id="bad"
        )
    reads = [s for s in statements if s.startswith(("SELECT", "INSERT", "UPDATE"))]
    assert len(reads) == 1 and "FROM staff" in reads[0]


def test_a_closed_day_still_refuses_the_sale(
    services: Services, gold_member: str, receptionist: str, manager: str
) -> None:
    close_day(services, services.now().date(), opening_float="0", counted="0", staff_id=manager)
    with pytest.raises(RuleViolation, match="already closed"):
        complete_sale(
            services,
            client_id=gold_member,
            items=[BasketItem(ItemKind.PRODUCT, "p-serum")],
            payments=[Payment("card", "45.00")],
            staff_id=receptionist,
        )


def test_two_tills_sending_the_same_sale_at_once_write_it_once(
    services: Services, gold_member: str, receptionist: str
) -> None:
    sale = dict(
        client_id=gold_member,
        items=[BasketItem(ItemKind.PRODUCT, "p-serum")],
        payments=[Payment("card", "45.00")],
        staff_id=receptionist,
        sale_id=str(uuid.uuid4()),
    )
    start = threading.Barrier(2)
    receipts: list[object] = []

    def till() -> None:
        start.wait(timeout=30)
        receipts.append(complete_sale(services, **sale).number)

    threads = [threading.Thread(target=till) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(receipts) == 2 and receipts[0] == receipts[1]
    with services.uow(read_only=True) as uow:
        assert (
            uow.session.scalar(select(func.count()).select_from(SaleRow).where(SaleRow.id == sale["sale_id"]))
            == 1
        )
