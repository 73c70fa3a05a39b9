"""The takings summed per clinic day (``store/takings_summary.py``) always equal the same sums over the documents'
own rows: after every kind of document written through the real services, after the migration's backfill, and
with two tills selling on the same day at once (SQLite and PostgreSQL).

The raw sums are written here in SQL of their own, over the sales, their lines and tenders, each document on
its clinic day (London): a sale at 23:30 UTC on a summer evening belongs to the next day.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import pytest
from catalogue_fixtures import add_client
from sqlalchemy import text
from sqlalchemy.orm import Session
from twotills import run_tills

from aestheticc_pos.domain import memberships as membership_rules
from aestheticc_pos.domain.catalogue import ItemKind, Package, PackageStep, Product, Tier, Treatment
from aestheticc_pos.domain.money import Money
from aestheticc_pos.services import appointments, invoices, package_refunds, payment_links, refunds
from aestheticc_pos.services.checkout import complete_sale
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.services.report_takings import takings_report
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.migrate import downgrade, upgrade_to_head
from aestheticc_pos.store.tables import OutboxRow, PaymentLinkRow
from aestheticc_pos.store.takings_summary import (
    OVERRIDES,
    PACKAGE_SESSIONS,
    add_to_takings_in,
    clinic_day_runs,
)

GBP = Money.parse
LONDON = ZoneInfo("Europe/London")
TODAY = dt.date(2026, 11, 24)
GOLD = Tier(id="tier-gold", name="Gold", monthly_price=GBP("49.00"), discount_bp=2000, covers_products=True)

RAW_DOCUMENTS = """
SELECT s.id, s.kind, CASE WHEN s.kind = 'sale' THEN '' ELSE COALESCE(s.reason, '') END, s.currency,
       1, s.gross_pence, s.discount_pence, s.net_pence, s.vat_pence
FROM sales s"""
RAW_LINES = """
SELECT s.id, s.kind, l.kind, COALESCE(a.practitioner_id, os.staff_id, s.staff_id),
       CASE WHEN l.discount_pence = 0 OR l.discount_reason IS NULL THEN ''
            WHEN substr(l.discount_reason, 1, 8) = 'Package:' THEN 'Package sessions'
            WHEN substr(l.discount_reason, 1, 15) = 'Price override:' THEN 'Price overrides'
            ELSE l.discount_reason END,
       s.currency, 1, l.gross_pence, l.discount_pence, l.net_pence, l.vat_pence
FROM sales s JOIN sale_lines l ON l.sale_id = s.id
LEFT JOIN sale_lines ol ON ol.sale_id = s.refers_to_sale_id AND ol.position = l.refunds_position
LEFT JOIN sales os ON os.id = s.refers_to_sale_id
LEFT JOIN appointments a ON a.id = COALESCE(l.appointment_id, ol.appointment_id)"""
RAW_TENDERS = """
SELECT s.id, s.kind, t.kind, t.currency, 1, t.amount_pence FROM sales s JOIN tenders t ON t.sale_id = s.id"""
SUMMARY = {
    "takings_days": (4, "day, document_kind, reason, currency, documents, gross_pence, discount_pence, "
                     "net_pence, vat_pence", RAW_DOCUMENTS),
    "takings_line_days": (6, "day, document_kind, line_kind, practitioner_id, discount_group, currency, lines, "
                          "gross_pence, discount_pence, net_pence, vat_pence", RAW_LINES),
    "tender_days": (4, "day, document_kind, tender_kind, currency, tenders, amount_pence", RAW_TENDERS),
}  # fmt: skip


def summary(connection) -> dict[str, dict[tuple, tuple]]:
    """What the summary tables hold, keyed as they are but for the writer (the reports sum over writers)."""
    out = {}
    for table, (width, columns, _) in SUMMARY.items():
        sums: dict[tuple, list[int]] = {}
        for r in connection.execute(text(f"SELECT {columns} FROM {table}")).all():
            into = sums.setdefault(_key(r[:width]), [0] * (len(r) - width))
            for i, value in enumerate(r[width:]):
                into[i] += int(value)
        out[table] = {k: tuple(v) for k, v in sums.items()}
    return out


def raw(connection) -> dict[str, dict[tuple, tuple]]:
    """The same sums over the documents' rows, each document on its clinic day."""
    day = {
        sale_id: _moment(at).astimezone(LONDON).date()
        for sale_id, at in connection.execute(text("SELECT id, created_at FROM sales"))
    }
    out: dict[str, dict[tuple, tuple]] = {}
    for table, (width, _, statement) in SUMMARY.items():
        sums: dict[tuple, list[int]] = {}
        for sale_id, *rest in connection.execute(text(statement)):
            key = _key((day[sale_id], *rest[: width - 1]))
            into = sums.setdefault(key, [0] * (len(rest) - width + 1))
            for i, value in enumerate(rest[width - 1 :]):
                into[i] += int(value)
        out[table] = {k: tuple(v) for k, v in sums.items()}
    return out


def _key(values) -> tuple:
    first, *rest = values
    return (first if isinstance(first, dt.date) else dt.date.fromisoformat(first), *rest)


def _moment(value) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@pytest.fixture
def catalogue(services, manager) -> None:
    with services.uow() as uow:
        s = uow.session
        catalogue_repo.save_treatment(
            s, Treatment(id="t-peel", name="Chemical peel", price=GBP("50.00"), duration_minutes=45)
        )
        catalogue_repo.save_treatment(
            s, Treatment(id="t-micro", name="Microneedling", price=GBP("150.00"), duration_minutes=60)
        )
        catalogue_repo.save_product(s, Product(id="p-serum", name="Vitamin C serum", price=GBP("45.00")))
        catalogue_repo.save_package(
            s,
            Package(
                id="k-course",
                name="Microneedling course",
                price=GBP("600.00"),
                validity_days=365,
                steps=(PackageStep(1, "t-micro", "Microneedling", sessions=6),),
            ),
        )
        catalogue_repo.save_tier(s, GOLD)
        uow.commit()


def _gold_member(services, client_id: str) -> None:
    started = dt.date(2026, 9, 10)
    m = membership_rules.sign_up(GOLD, membership_id=services.new_id(), client_id=client_id, on=started)
    m = membership_rules.mandate_set_up(m, "MD0001", customer_id="CU0001")
    m = membership_rules.mandate_activated(m)
    m = membership_rules.payment_confirmed(m, dt.date(2026, 10, 9), started)
    m = membership_rules.payment_confirmed(m, dt.date(2026, 12, 9), dt.date(2026, 11, 10))
    with services.uow() as uow:
        repo.save_membership(uow.session, m)
        uow.commit()


def write_every_document(services, clock, manager, receptionist, practitioner, make_client_package) -> None:
    """One of every document the takings count, through the services that write them."""

    def sell(client, items, payments, staff=receptionist):
        return complete_sale(services, client_id=client, items=items, payments=payments, staff_id=staff)

    ada, bob, cal = (add_client(services, name, "Test") for name in ("Ada", "Bob", "Cal"))
    peel, serum = BasketItem(ItemKind.TREATMENT, "t-peel"), BasketItem(ItemKind.PRODUCT, "p-serum")

    clock.set(dt.datetime(2026, 7, 1, 23, 30, tzinfo=dt.UTC))  # 00:30 on 2 July in London
    sell(ada, [serum], [Payment("cash", "45.00")])

    clock.set(dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC))
    several = sell(ada, [peel, serum], [Payment("cash", "20.00"), Payment("card", "75.00")])
    course = sell(ada, [BasketItem(ItemKind.PACKAGE, "k-course")], [Payment("card", "600.00")])
    sell(ada, [BasketItem(ItemKind.TREATMENT, "t-micro")], [])  # a session from the course
    _gold_member(services, bob)
    override = BasketItem(ItemKind.PRODUCT, "p-serum", override_price="30.00", override_reason="Damaged box")
    sell(bob, [peel, override], [Payment("card", "70.00")], staff=manager)  # £50 − 20% and £30
    booked = appointments.book_appointment(
        services,
        client_id=cal,
        treatment_id="t-peel",
        practitioner_id=practitioner,
        starts_at=dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC),
        staff_id=receptionist,
    )
    visit = sell(
        cal,
        [BasketItem(ItemKind.TREATMENT, "t-peel", appointment_id=booked.appointment.id), serum],
        [Payment("cash", "95.00")],
    )
    sell(cal, [BasketItem(ItemKind.MEMBERSHIP, "tier-gold")], [Payment("card", "49.00")])
    draft = invoices.create_invoice_draft(services, client_id=ada, items=[serum], staff_id=receptionist)
    issued = invoices.issue_invoice(services, draft.id, staff_id=receptionist)
    invoices.pay_invoice_at_desk(
        services, issued.id, payments=[Payment("card", "45.00")], staff_id=receptionist
    )
    link = payment_links.create_basket_link(services, client_id=ada, items=[peel], staff_id=manager)
    with services.uow() as uow:  # what the sync engine records once GoCardless made the link, then paid
        row = uow.session.get(PaymentLinkRow, link.id)
        row.gc_billing_request_id, row.gc_flow_id, row.status = "BRQ0001", "BRF0001", "open"
        row.authorisation_url = "http://127.0.0.1/flow/BRF0001"
        for job in uow.session.query(OutboxRow).filter(OutboxRow.record_id == link.id):
            job.status = "done"
        uow.commit()
    with services.uow() as uow:
        payment_links.link_authorised_in(uow, services, billing_request_id="BRQ0001", payment_id="PM0001")
        payment_links.link_paid_in(uow, services, payment_id="PM0001")
        uow.commit()

    clock.set(dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC))
    refunds.refund_sale(
        services, sale_id=several.sale_id, lines={1: 1}, method="cash", reason="Reaction", staff_id=manager
    )
    refunds.refund_sale(
        services, sale_id=visit.sale_id, lines={1: 1}, method="original", reason="Redness", staff_id=manager
    )
    with services.uow(read_only=True) as uow:
        bought = uow.session.execute(
            text("SELECT id FROM client_packages WHERE sale_id = :s"), {"s": course.sale_id}
        ).scalar_one()
    package_refunds.refund_unused_sessions(
        services, client_package_id=bought, reason="Moving", staff_id=manager
    )
    package_refunds.refund_unused_sessions(  # a package brought over from another system: no sale
        services, client_package_id=make_client_package(3), reason="Moving", staff_id=manager
    )
    today = sell(None, [serum], [Payment("card", "45.00")])
    refunds.void_sale(services, sale_id=today.sale_id, reason="Wrong client", staff_id=manager)


def test_every_kind_of_document_adds_to_the_summary_what_its_rows_hold(
    services, clock, catalogue, manager, receptionist, practitioner, make_client_package, engine
) -> None:
    write_every_document(services, clock, manager, receptionist, practitioner, make_client_package)

    with engine.connect() as connection:
        held, expected = summary(connection), raw(connection)
    assert held == expected
    documents = held["takings_days"]
    assert Counter(k[1] for k in documents) == Counter({"sale": 3, "refund": 3, "void": 1})  # sales on 3 days
    assert documents[(dt.date(2026, 7, 2), "sale", "", "GBP")] == (1, 4500, 0, 4500, 750)  # 00:30 London
    assert sum(v[0] for k, v in documents.items() if k[:2] == (dt.date(2026, 11, 23), "sale")) == 8
    groups = {k[4]: v for k, v in held["takings_line_days"].items() if k[1] == "sale"}
    assert (groups["Gold member 20%"][2], groups[OVERRIDES][2], groups[PACKAGE_SESSIONS][2]) == (
        1000,
        1500,
        15000,
    )
    who = {k[3] for k, v in held["takings_line_days"].items() if k[2] == "treatment" and k[1] == "refund"}
    assert practitioner in who  # the refunded visit counts for its practitioner
    tenders = {(k[1], k[2]): v for k, v in held["tender_days"].items() if k[0] == dt.date(2026, 11, 23)}
    assert tenders[("sale", "payment_link")] == (1, 5000)
    assert tenders[("sale", "cash")] == (2, 2000 + 9500)

    report = takings_report(
        services, first=dt.date(2026, 11, 23), last=TODAY, grouping="day", staff_id=manager
    )
    assert (report.sales, report.taken.pence) == (
        9,
        sum(v[3] for k, v in documents.items() if k[1] == "sale" and k[0] >= dt.date(2026, 11, 23)),
    )


def test_the_migration_sums_the_documents_already_written(
    services, clock, catalogue, manager, receptionist, practitioner, make_client_package, engine, migrated_url
) -> None:
    write_every_document(services, clock, manager, receptionist, practitioner, make_client_package)
    with engine.connect() as connection:
        kept = summary(connection)
    engine.dispose()

    downgrade(migrated_url, "0013")
    upgrade_to_head(migrated_url)

    with engine.connect() as connection:
        assert summary(connection) == kept == raw(connection)
    assert sum(len(rows) for rows in kept.values()) > 20


def _sell(services, job) -> tuple:
    staff, kind = job
    receipt = complete_sale(
        services,
        client_id=None,
        items=[BasketItem(ItemKind.PRODUCT, "p-serum")],
        payments=[Payment(kind, "45.00")],
        staff_id=staff,
    )
    return ("sold", str(receipt.net))


def test_two_tills_selling_on_the_same_day_at_once_both_count(
    migrated_url, services, catalogue, receptionist, manager, engine
) -> None:
    outcomes = run_tills(migrated_url, _sell, [(receptionist, "cash"), (manager, "cash")])

    assert outcomes == [("sold", "45.00 GBP"), ("sold", "45.00 GBP")]
    with engine.connect() as connection:
        held = summary(connection)
        assert held == raw(connection)
    assert held["takings_days"] == {(TODAY, "sale", "", "GBP"): (2, 9000, 0, 9000, 1500)}
    assert held["tender_days"] == {(TODAY, "sale", "cash", "GBP"): (2, 9000)}


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Australia/Lord_Howe", "UTC"])
def test_the_backfill_puts_every_moment_on_the_clinic_day_the_reports_give_it(zone) -> None:
    """Runs of whole days share one offset; a day the clocks change in (23 or 25 hours) is a run of its own."""
    tz = ZoneInfo(zone)
    first, last = dt.date(2025, 12, 30), dt.date(2027, 1, 2)
    runs = list(clinic_day_runs(tz, first, last))

    assert runs[0][0] == dt.datetime.combine(first, dt.time(0), tz).astimezone(dt.UTC)
    assert runs[-1][1] == dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tz).astimezone(dt.UTC)
    assert all(a[1] == b[0] for a, b in zip(runs, runs[1:], strict=False))  # no gap, no overlap
    changes = [day for _, _, day in runs if isinstance(day, dt.date)]
    assert len(changes) == (0 if zone == "UTC" else 2)  # the clocks change twice in 2026
    for starts, ends, day in runs:
        moment = starts
        while moment < ends:
            on = day if isinstance(day, dt.date) else (moment + dt.timedelta(seconds=day)).date()
            assert on == moment.astimezone(tz).date(), (zone, moment)
            moment += dt.timedelta(minutes=30)


def test_a_sale_does_not_wait_for_another_writer_holding_the_days_takings(
    services, catalogue, receptionist, manager, engine
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite writers take turns on the database's one write lock")
    # Another writer (this thread: as a till's sync applying a long page of events) adds to today's takings
    # and keeps its transaction open, holding its rows.
    holder = engine.connect()
    held = holder.begin()
    with Session(bind=holder) as session:
        add_to_takings_in(
            session,
            TODAY,
            kind="sale",
            reason=None,
            seller_id=receptionist,
            currency="GBP",
            totals=(1000, 0, 1000, 167),
            lines=[],
            tenders=[("cash", "GBP", 1000)],
        )
        with ThreadPoolExecutor(1) as pool:  # a till's checkout, on a thread of its own
            sale = pool.submit(_sell, services, (receptionist, "card"))
            try:
                assert sale.result(timeout=20) == ("sold", "45.00 GBP")  # it did not wait for the holder
            finally:
                held.commit()
                holder.close()
    report = takings_report(services, first=TODAY, last=TODAY, staff_id=manager)
    assert report.net.pence == 4500 + 1000  # both count
