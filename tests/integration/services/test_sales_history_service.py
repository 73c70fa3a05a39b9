"""The Sales screen's list: by day range (the clinic's days), number, client, staff and tender, paged, with the
original a refund points to, in one query per page; receptionists and managers only."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from aestheticc_pos.domain.catalogue import ItemKind, Product
from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.errors import InvalidInput, NotPermitted
from aestheticc_pos.domain.money import Money
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import sales_history
from aestheticc_pos.services.checkout import complete_sale
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store.tables import SaleRow

GBP = Money.parse


@pytest.fixture
def serum(services) -> str:
    with services.uow() as uow:
        catalogue_repo.save_product(
            uow.session, Product(id="p-serum", name="Vitamin C serum", price=GBP("45.00"))
        )
        uow.commit()
    return "p-serum"


def _sell(services, staff_id, client_id=None, pay=(("card", "45"),), quantity=1):
    return complete_sale(
        services,
        client_id=client_id,
        items=[BasketItem(ItemKind.PRODUCT, "p-serum", quantity=quantity)],
        payments=[Payment(kind, amount) for kind, amount in pay],
        staff_id=staff_id,
    )


def test_the_days_sales_newest_first_with_client_staff_tenders_and_total(
    services, serum, receptionist, manager, clock
) -> None:
    ada = clients_service.add_client(
        services, staff_id=receptionist, first_name="Ada", last_name="Lovelace", email="ada@example.com"
    )
    clock.set(dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.UTC))  # yesterday in London
    _sell(services, receptionist)
    clock.set(dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC))
    first = _sell(services, receptionist, ada.id, pay=(("cash", "20"), ("card", "25")))
    clock.set(dt.datetime(2026, 11, 24, 11, 0, tzinfo=dt.UTC))
    second = _sell(services, manager, quantity=2, pay=(("card", "90"),))

    page = sales_history.find_sales(services, receptionist)  # today, by default
    assert [row.number for row in page.rows] == [second.number, first.number]
    assert (page.total_count, page.has_more) == (2, False)
    newest, older = page.rows
    assert (newest.client_name, newest.staff_name, newest.tenders, newest.total, newest.kind) == (
        None,
        "Mia Manager",
        (TenderKind.CARD,),
        GBP("90"),
        "sale",
    )
    assert (older.client_name, older.client_email, older.staff_name) == (
        "Ada Lovelace",
        "ada@example.com",
        "Rita Reception",
    )
    assert set(older.tenders) == {TenderKind.CASH, TenderKind.CARD}

    both_days = sales_history.find_sales(
        services, receptionist, from_day=dt.date(2026, 11, 23), to_day="24/11/2026"
    )
    assert both_days.total_count == 3
    yesterday = sales_history.find_sales(services, receptionist, from_day=dt.date(2026, 11, 23), to_day=None)
    assert [row.number for row in yesterday.rows] == ["A-000001"]


def test_search_by_number_client_staff_tender_and_kind(services, serum, receptionist, manager) -> None:
    ada = clients_service.add_client(services, staff_id=receptionist, first_name="Ada", last_name="Lovelace")
    bea = clients_service.add_client(services, staff_id=receptionist, first_name="Béatrice", last_name="Ode")
    a = _sell(services, receptionist, ada.id)
    b = _sell(services, manager, bea.id, pay=(("cash", "50"),))
    walk_in = _sell(services, receptionist)

    def numbers(**filters) -> list[str]:
        return [row.number for row in sales_history.find_sales(services, receptionist, **filters).rows]

    assert numbers(text=a.number.lower()) == [a.number]
    assert numbers(text="2") == [b.number]  # the digits of a number
    assert numbers(text="love") == [a.number]
    assert numbers(text="beatrice") == [b.number]  # accents and case do not matter
    assert numbers(text="ode bea") == [b.number]
    assert numbers(text="nobody") == []
    assert numbers(sold_by=manager) == [b.number]
    assert numbers(tender="cash") == [b.number]
    assert numbers(tender=TenderKind.CARD) == [walk_in.number, a.number]
    assert numbers(kind="refund") == []
    staff = sales_history.sales_filters(services, receptionist)
    assert [choice.name for choice in staff] == ["Mia Manager", "Rita Reception"]


def test_a_refund_points_to_its_original(services, serum, receptionist, manager) -> None:
    sale = _sell(services, receptionist)
    with (
        services.uow() as uow
    ):  # a refund document as the refunds use case writes it: a new sale pointing back
        uow.session.add(
            SaleRow(
                id="refund-1",
                number="A-000002",
                till_prefix="A",
                client_id=None,
                staff_id=manager,
                kind="refund",
                refers_to_sale_id=sale.sale_id,
                channel="pos",
                gross_pence=4500,
                discount_pence=0,
                net_pence=4500,
                vat_pence=750,
                currency="GBP",
                created_at=services.now(),
            )
        )
        uow.commit()
    rows = sales_history.find_sales(services, receptionist).rows
    refund = next(row for row in rows if row.kind == "refund")
    assert (refund.original_id, refund.original_number, refund.tenders) == (sale.sale_id, sale.number, ())
    assert [row.number for row in sales_history.find_sales(services, manager, kind="refund").rows] == [
        "A-000002"
    ]


def test_pages_come_one_query_each(services, serum, receptionist, clock) -> None:
    for minute in range(7):
        clock.set(dt.datetime(2026, 11, 24, 10, minute, tzinfo=dt.UTC))
        _sell(services, receptionist)
    engine = services.uow.engine  # type: ignore[attr-defined]
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        statements.clear()
        first = sales_history.find_sales(services, receptionist, how_many=3)
        queries_for_first = [q for q in statements if "FROM sales" in q]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(queries_for_first) == 1  # the page, its names and tenders and the count: one query
    second = sales_history.find_sales(services, receptionist, how_many=3, offset=3)
    last = sales_history.find_sales(services, receptionist, how_many=3, offset=6)
    beyond = sales_history.find_sales(services, receptionist, how_many=3, offset=9)
    assert [len(p.rows) for p in (first, second, last, beyond)] == [3, 3, 1, 0]
    assert (first.total_count, first.has_more, last.has_more, beyond.total_count) == (7, True, False, 7)
    assert [r.number for r in first.rows + second.rows + last.rows] == [f"A-{n:06d}" for n in range(7, 0, -1)]


def test_bad_filters_are_sentences_and_practitioners_are_refused(
    services, receptionist, practitioner
) -> None:
    with pytest.raises(InvalidInput, match="before the first day"):
        sales_history.find_sales(
            services, receptionist, from_day=dt.date(2026, 11, 24), to_day=dt.date(2026, 11, 1)
        )
    with pytest.raises(InvalidInput, match="not a date"):
        sales_history.find_sales(services, receptionist, from_day="yesterday-ish")
    with pytest.raises(InvalidInput, match="not a way of paying"):
        sales_history.find_sales(services, receptionist, tender="gold bars")
    with pytest.raises(InvalidInput, match="not a kind of sale"):
        sales_history.find_sales(services, receptionist, kind="gift")
    with pytest.raises(InvalidInput, match="at most ten years"):
        sales_history.find_sales(
            services, receptionist, from_day=dt.date(1900, 1, 1), to_day=dt.date(2199, 12, 31)
        )
    with pytest.raises(InvalidInput, match="How many"):
        sales_history.find_sales(services, receptionist, how_many=0)
    with pytest.raises(NotPermitted):
        sales_history.find_sales(services, practitioner)
    with pytest.raises(NotPermitted):
        sales_history.sales_filters(services, practitioner)
