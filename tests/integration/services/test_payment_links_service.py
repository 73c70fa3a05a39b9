"""Payment links, deposits and portal purchases as the desk and the sync engine drive them (the engine's part is
played here by the same service calls it makes: the link's ids written back, then authorised, then paid)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
from catalogue_fixtures import BOTOX_STARTER, CONSULTATION, REVIEW, save_demo_catalogue
from sqlalchemy import func, select
from staffing import front_desk

from aestheticc_pos.domain.catalogue import DepositKind, DepositRule, ItemKind, Treatment
from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.errors import BookingRefused, RuleViolation
from aestheticc_pos.domain.money import Money
from aestheticc_pos.services import appointments, deposits, invoices, packages, payment_links, portal
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services.checkout import complete_sale
from aestheticc_pos.services.context import read_clinic_settings, write_clinic_settings
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.services.sales import sales_of_client
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store.tables import ClientRow, OutboxRow, PaymentLinkRow, SaleRow

GBP = Money.parse
LONDON = ZoneInfo("Europe/London")
PEEL = Treatment(
    id="t-peel",
    name="Chemical peel",
    price=GBP("120.00"),
    deposit_rule=DepositRule(DepositKind.FIXED, amount=GBP("30.00")),
)


@pytest.fixture
def client_id(services, manager) -> str:
    save_demo_catalogue(services)
    with services.uow() as uow:
        catalogue_repo.save_treatment(uow.session, PEEL)
        uow.commit()
    return clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Amy", last_name="Jones", email="amy@example.com"
    ).id


def _sent(services, link_id: str, n: int = 1) -> tuple[str, str]:
    """What the sync engine records once GoCardless made the link: its billing request, flow and address."""
    br, flow = f"BRQ{n:04d}", f"BRF{n:04d}"
    with services.uow() as uow:
        row = uow.session.get(PaymentLinkRow, link_id)
        row.gc_billing_request_id, row.gc_flow_id = br, flow
        row.authorisation_url, row.status = f"http://127.0.0.1/flow/{flow}", "open"
        for job in uow.session.scalars(select(OutboxRow).where(OutboxRow.record_id == link_id)):
            job.status = "done"
        uow.commit()
    return br, f"PM{n:04d}"


def _paid(services, br: str, payment: str) -> str | None:
    with services.uow() as uow:
        payment_links.link_authorised_in(uow, services, billing_request_id=br, payment_id=payment)
        link_id = payment_links.link_paid_in(uow, services, payment_id=payment)
        uow.commit()
    return link_id


def test_a_basket_paid_by_link_becomes_one_sale_with_the_prices_of_the_link(
    services, manager, client_id
) -> None:
    items = [BasketItem(ItemKind.TREATMENT, CONSULTATION.id)]
    link = payment_links.create_basket_link(services, client_id=client_id, items=items, staff_id=manager)
    br, payment = _sent(services, link.id)
    assert payment_links.link_view(services, link.id).authorisation_url == "http://127.0.0.1/flow/BRF0001"

    with services.uow() as uow:  # the price changes before the client pays: they pay what the link said
        catalogue_repo.save_treatment(
            uow.session, Treatment(CONSULTATION.id, CONSULTATION.name, GBP("80.00"))
        )
        uow.commit()
    _paid(services, br, payment)
    _paid(services, br, payment)  # the event again: nothing more

    (receipt,) = sales_of_client(services, client_id)
    assert receipt.net == GBP("50.00")
    assert [(t.kind, t.amount, t.reference) for t in receipt.tenders] == [
        (TenderKind.PAYMENT_LINK, GBP("50.00"), br)
    ]
    view = payment_links.link_view(services, link.id)
    assert (view.status, view.sale_id) == ("paid", receipt.sale_id)


def test_a_link_cancelled_before_it_was_sent_withdraws_its_work_and_can_be_sent_again(
    services, manager, client_id
) -> None:
    items = [BasketItem(ItemKind.TREATMENT, CONSULTATION.id)]
    link = payment_links.create_basket_link(services, client_id=client_id, items=items, staff_id=manager)

    cancelled = payment_links.cancel_link(services, link_id=link.id, staff_id=manager)

    assert cancelled.status == "cancelled" and cancelled.can_resend
    with services.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(OutboxRow)) == 0
    again = payment_links.resend_link(services, link_id=link.id, staff_id=manager)
    assert (again.amount, again.replaces_id, again.status) == (GBP("50.00"), link.id, "preparing")
    with pytest.raises(RuleViolation, match="sent again already"):
        payment_links.resend_link(services, link_id=link.id, staff_id=manager)


def test_a_link_gocardless_has_is_cancelled_there_and_an_expired_one_is_shown(
    services, manager, client_id
) -> None:
    items = [BasketItem(ItemKind.TREATMENT, CONSULTATION.id)]
    first = payment_links.create_basket_link(services, client_id=client_id, items=items, staff_id=manager)
    br, _ = _sent(services, first.id)
    payment_links.cancel_link(services, link_id=first.id, staff_id=manager)
    with services.uow(read_only=True) as uow:
        cancel = uow.session.scalars(
            select(OutboxRow).where(OutboxRow.kind == "cancel_billing_request")
        ).one()
        assert cancel.payload == {"billing_request_id": br}

    second = payment_links.create_basket_link(services, client_id=client_id, items=items, staff_id=manager)
    br2, _ = _sent(services, second.id, 2)
    with services.uow() as uow:
        payment_links.link_closed_in(uow, services, billing_request_id=br2, status="expired")
        uow.commit()
    assert payment_links.link_view(services, second.id).status == "expired"
    assert [v.status for v in payment_links.links_of_client(services, client_id)] == ["expired", "cancelled"]


def test_an_invoice_paid_by_its_link(services, manager, client_id) -> None:
    draft = invoices.create_invoice_draft(
        services,
        client_id=client_id,
        items=[BasketItem(ItemKind.TREATMENT, CONSULTATION.id)],
        staff_id=manager,
    )
    issued = invoices.issue_invoice(services, draft.id, staff_id=manager)
    link = payment_links.create_invoice_link(services, invoice_id=issued.id, staff_id=manager)
    with pytest.raises(RuleViolation, match="already has a payment link"):
        payment_links.create_invoice_link(services, invoice_id=issued.id, staff_id=manager)
    br, payment = _sent(services, link.id)

    _paid(services, br, payment)

    paid = invoices.invoice_detail(services, issued.id)
    assert paid.status.value == "paid" and paid.sale_id == payment_links.link_view(services, link.id).sale_id
    assert link.description == f"Invoice {issued.number}"


def _book_peel(services, manager, client_id, days: int = 6) -> appointments.Booked:
    starts = dt.datetime(2026, 11, 24, 11, 0, tzinfo=LONDON) + dt.timedelta(days=days)
    return appointments.book_appointment(
        services,
        client_id=client_id,
        treatment_id=PEEL.id,
        practitioner_id=manager,
        starts_at=starts,
        staff_id=manager,
    )


def _pay_deposit(services, booked, n: int = 1) -> tuple[str, str]:
    view = deposits.deposit_of_appointment(services, booked.appointment.id)
    br, payment = _sent(services, view.link_id, n)
    _paid(services, br, payment)
    return br, payment


def test_a_deposit_is_asked_for_when_booking_then_paid_then_credited_at_checkout(
    services, manager, client_id
) -> None:
    booked = _book_peel(services, manager, client_id, days=0)
    view = deposits.deposit_of_appointment(services, booked.appointment.id)
    assert (view.amount, view.status) == (GBP("30.00"), "requested")

    _pay_deposit(services, booked)
    assert deposits.deposit_of_appointment(services, booked.appointment.id).status == "paid"

    items = [BasketItem(ItemKind.TREATMENT, PEEL.id, appointment_id=booked.appointment.id)]
    pay = [Payment(TenderKind.DEPOSIT, GBP("30.00"), view.id), Payment(TenderKind.CARD, GBP("90.00"))]
    receipt = complete_sale(services, client_id=client_id, items=items, payments=pay, staff_id=manager)

    assert receipt.net == GBP("120.00")
    assert deposits.deposit_of_appointment(services, booked.appointment.id).status == "credited"
    reuse = [Payment(TenderKind.DEPOSIT, GBP("30.00"), view.id), Payment(TenderKind.CARD, GBP("90.00"))]
    with pytest.raises(RuleViolation, match="used at an earlier checkout"):
        complete_sale(
            services,
            client_id=client_id,
            items=[BasketItem(ItemKind.TREATMENT, PEEL.id)],
            payments=reuse,
            staff_id=manager,
        )


def test_cancelled_in_time_a_paid_deposit_is_refunded_through_gocardless(
    services, manager, client_id
) -> None:
    booked = _book_peel(services, manager, client_id)
    _, payment = _pay_deposit(services, booked)

    cancelled = appointments.cancel_appointment(
        services, appointment_id=booked.appointment.id, staff_id=manager
    )

    assert cancelled.deposit == "The £30.00 deposit is refunded to the client through GoCardless."
    with services.uow(read_only=True) as uow:
        refund = uow.session.scalars(select(OutboxRow.payload).where(OutboxRow.kind == "create_refund")).one()
    assert refund["links"] == {"payment": payment} and refund["amount"] == 3000
    assert deposits.deposit_of_appointment(services, booked.appointment.id).status == "refund_pending"


def test_a_no_show_keeps_the_deposit_unless_the_clinic_refunds_it(
    services, manager, client_id, clock
) -> None:
    booked = _book_peel(services, manager, client_id)
    _pay_deposit(services, booked)
    clock.advance(days=6, hours=3)  # the appointment has passed

    missed = appointments.mark_no_show(services, appointment_id=booked.appointment.id, staff_id=manager)

    assert missed.deposit == "The £30.00 deposit is kept (no-show, as the clinic's policy says)."
    with services.uow() as uow:
        settings = read_clinic_settings(uow.session)
        write_clinic_settings(uow.session, replace(settings, late_deposit="refund"))
        uow.commit()
    other = _book_peel(services, manager, client_id, days=8)
    _pay_deposit(services, other, 2)
    clock.advance(days=2, hours=3)
    assert (
        "refunded"
        in appointments.mark_no_show(services, appointment_id=other.appointment.id, staff_id=manager).deposit
    )


def test_an_unpaid_deposit_is_simply_cancelled_with_its_booking(services, manager, client_id) -> None:
    booked = _book_peel(services, manager, client_id)

    cancelled = appointments.cancel_appointment(
        services, appointment_id=booked.appointment.id, staff_id=manager
    )

    assert cancelled.deposit == "The £30.00 deposit was not paid; its link is cancelled."
    assert deposits.deposit_of_appointment(services, booked.appointment.id).status == "cancelled"


def test_a_package_session_booking_asks_no_deposit(services, manager, client_id) -> None:
    from catalogue_fixtures import sell_package

    sell_package(services, BOTOX_STARTER, client_id)
    starts = dt.datetime(2026, 11, 25, 10, 0, tzinfo=LONDON)
    booked = appointments.book_appointment(
        services,
        client_id=client_id,
        treatment_id=CONSULTATION.id,
        practitioner_id=manager,
        starts_at=starts,
        staff_id=manager,
    )
    assert booked.deposit_id is None


def test_a_portal_purchase_gives_the_buyer_the_package_and_its_step_rules(services, manager) -> None:
    save_demo_catalogue(services)
    with services.uow() as uow:
        link_id = portal.portal_purchase_in(
            uow,
            services,
            billing_request_id="BRQ9",
            payment_id="PM9",
            package_id=BOTOX_STARTER.id,
            amount=GBP("300.00"),
            buyer_name="Jo Bloggs",
            buyer_email="Jo@Example.com",
            customer_id="CU9",
        )
        uow.commit()
    _paid(services, "BRQ9", "PM9")

    with services.uow(read_only=True) as uow:
        client_id, first, last, email = uow.session.execute(
            select(ClientRow.id, ClientRow.first_name, ClientRow.last_name, ClientRow.email)
        ).one()
        sale_id = uow.session.scalars(select(SaleRow.id)).one()
    assert (first, last, email) == ("Jo", "Bloggs", "Jo@example.com")
    assert payment_links.link_view(services, link_id).sale_id == sale_id
    (summary,) = packages.client_packages_overview(services, client_id)
    assert [(s.name, s.remaining) for s in summary.steps] == [
        ("Consultation", 1),
        ("Botox treatment", 1),
        ("Review", 1),
    ]
    first = appointments.book_appointment(
        services,
        client_id=client_id,
        treatment_id=CONSULTATION.id,
        practitioner_id=manager,
        starts_at=dt.datetime(2026, 11, 26, 10, 0, tzinfo=LONDON),
        staff_id=manager,
    )
    assert first.appointment.step_position == 1
    with pytest.raises(BookingRefused):  # the treatment step is at least two days after the consultation
        appointments.book_appointment(
            services,
            client_id=client_id,
            treatment_id="botox",
            practitioner_id=manager,
            starts_at=dt.datetime(2026, 11, 27, 10, 0, tzinfo=LONDON),
            staff_id=manager,
        )

    with services.uow() as uow:  # the same buyer again: matched by email, whatever the case
        portal.portal_purchase_in(
            uow,
            services,
            billing_request_id="BRQ10",
            payment_id="PM10",
            package_id=BOTOX_STARTER.id,
            amount=GBP("300.00"),
            buyer_name="Jo Bloggs",
            buyer_email="jo@example.com",
            customer_id="CU10",
        )
        uow.commit()
    _paid(services, "BRQ10", "PM10")
    with services.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(ClientRow)) == 1
    assert len(packages.client_packages_overview(services, client_id)) == 2
    assert REVIEW.price == GBP("0.00")
