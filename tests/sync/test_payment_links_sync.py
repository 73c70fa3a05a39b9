"""Payment links, deposits and the booking portal end to end: the real gocardless-pro client, the sync engine
and the simulator on 127.0.0.1 (the payer's bank page driven through the simulator's controls)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from staffing import a_manager, front_desk

from aestheticc_pos.domain.catalogue import (
    DepositKind,
    DepositRule,
    ItemKind,
    Package,
    PackageStep,
    Treatment,
)
from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.errors import BookingRefused
from aestheticc_pos.domain.money import Money
from aestheticc_pos.services import (
    appointments,
    deposits,
    invoices,
    packages,
    payment_links,
    portal,
    sync_status,
)
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services.invoice_records import InvoiceDetail
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.services.sales import sales_of_client
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store.tables import ClientRow, PaymentLinkRow
from aestheticc_pos.sync.engine import SyncEngine

GBP = Money.parse
LONDON = ZoneInfo("Europe/London")
CONSULTATION = Treatment(id="t-consult", name="Consultation", price=GBP("50.00"))
BOTOX = Treatment(
    id="t-botox",
    name="Botox treatment",
    price=GBP("250.00"),
    deposit_rule=DepositRule(DepositKind.FIXED, amount=GBP("50.00")),
)
REVIEW = Treatment(id="t-review", name="Review", price=GBP("0.00"), duration_minutes=15)
STARTER = Package(
    id="pk-botox-starter",
    name="Botox starter",
    price=GBP("280.00"),
    validity_days=120,
    steps=(
        PackageStep(1, CONSULTATION.id, "Consultation", sessions=1),
        PackageStep(2, BOTOX.id, "Treatment", sessions=1, min_days_after_previous=2),
        PackageStep(3, REVIEW.id, "Review", sessions=1, min_days_after_previous=14),
    ),
)


@pytest.fixture
def till(clinic, gateway):
    with clinic.services.uow() as uow:
        for treatment in (CONSULTATION, BOTOX, REVIEW):
            catalogue_repo.save_treatment(uow.session, treatment)
        uow.session.flush()
        catalogue_repo.save_package(uow.session, STARTER)
        uow.commit()
    engine = SyncEngine(clinic.uow, gateway, clinic.clock, bus=clinic.bus)
    return clinic, engine


def _cycle(engine, clinic) -> None:
    report = engine.run_cycle(clinic.services.today())
    assert report.ok, report


def _flow_of(clinic, link_id: str) -> str:
    with clinic.services.uow(read_only=True) as uow:
        return uow.session.get(PaymentLinkRow, link_id).gc_flow_id


def _client(clinic, email: str = "amy@example.com") -> str:
    return clients_service.add_client(
        clinic.services,
        staff_id=front_desk(clinic.services),
        first_name="Amy",
        last_name="Jones",
        email=email,
    ).id


def _issued_invoice(clinic, client_id: str) -> InvoiceDetail:
    draft = invoices.create_invoice_draft(
        clinic.services,
        client_id=client_id,
        items=[BasketItem(ItemKind.TREATMENT, CONSULTATION.id)],
        staff_id=clinic.manager,
    )
    return invoices.issue_invoice(clinic.services, draft.id, staff_id=clinic.manager)


def test_a_basket_link_is_made_paid_by_bank_and_becomes_one_sale(till, simulator) -> None:
    clinic, engine = till
    client_id = _client(clinic)
    link = payment_links.create_basket_link(
        clinic.services,
        client_id=client_id,
        items=[BasketItem(ItemKind.TREATMENT, BOTOX.id)],
        staff_id=clinic.manager,
    )

    _cycle(engine, clinic)
    opened = payment_links.link_view(clinic.services, link.id)
    assert opened.status == "open" and opened.authorisation_url.startswith(simulator.base_url)
    (request,) = simulator.all("billing_requests")
    assert request["payment_request"]["amount"] == 25000

    simulator.authorise(_flow_of(clinic, link.id))
    _cycle(engine, clinic)
    _cycle(engine, clinic)

    paid = payment_links.link_view(clinic.services, link.id)
    (receipt,) = sales_of_client(clinic.services, client_id)
    assert (paid.status, paid.sale_id, receipt.net) == ("paid", receipt.sale_id, GBP("250.00"))
    assert simulator.count("payments") == 1
    log = [e.note for e in sync_status.sync_overview(clinic.services).recent if e.outcome == "applied"]
    assert "Amy Jones paid by link: “Botox treatment”." in log


def test_a_cancelled_link_is_cancelled_at_gocardless_and_an_expired_one_can_be_sent_again(
    till, simulator
) -> None:
    clinic, engine = till
    client_id = _client(clinic)
    items = [BasketItem(ItemKind.TREATMENT, CONSULTATION.id)]
    first = payment_links.create_basket_link(
        clinic.services, client_id=client_id, items=items, staff_id=clinic.manager
    )
    second = payment_links.create_basket_link(
        clinic.services, client_id=client_id, items=items, staff_id=clinic.manager
    )
    _cycle(engine, clinic)

    payment_links.cancel_link(clinic.services, link_id=first.id, staff_id=clinic.manager)
    with clinic.services.uow(read_only=True) as uow:
        br = uow.session.get(PaymentLinkRow, second.id).gc_billing_request_id
    simulator.expire_billing_request(br)
    _cycle(engine, clinic)

    statuses = {r["id"]: r["status"] for r in simulator.all("billing_requests")}
    assert sorted(statuses.values()) == ["cancelled", "cancelled"]
    assert payment_links.link_view(clinic.services, second.id).status == "expired"
    again = payment_links.resend_link(clinic.services, link_id=second.id, staff_id=clinic.manager)
    _cycle(engine, clinic)
    assert payment_links.link_view(clinic.services, again.id).status == "open"
    assert simulator.count("billing_requests") == 3


def test_a_deposit_is_paid_then_refunded_when_the_booking_is_cancelled_in_time(till, simulator) -> None:
    clinic, engine = till
    client_id = _client(clinic)
    booked = appointments.book_appointment(
        clinic.services,
        client_id=client_id,
        treatment_id=BOTOX.id,
        practitioner_id=clinic.manager,
        starts_at=dt.datetime(2026, 12, 3, 10, 0, tzinfo=LONDON),
        staff_id=clinic.receptionist,
    )
    _cycle(engine, clinic)
    deposit = deposits.deposit_of_appointment(clinic.services, booked.appointment.id)
    assert deposit.authorisation_url is not None and deposit.amount == GBP("50.00")

    simulator.authorise(_flow_of(clinic, deposit.link_id))
    _cycle(engine, clinic)
    assert deposits.deposit_of_appointment(clinic.services, booked.appointment.id).status == "paid"

    cancelled = appointments.cancel_appointment(
        clinic.services, appointment_id=booked.appointment.id, staff_id=clinic.receptionist
    )
    assert "refunded" in cancelled.deposit
    _cycle(engine, clinic)
    (refund,) = simulator.all("refunds")
    assert refund["amount"] == 5000
    simulator.pay_refund(refund["id"])
    _cycle(engine, clinic)

    assert deposits.deposit_of_appointment(clinic.services, booked.appointment.id).status == "refunded"
    assert sales_of_client(clinic.services, client_id) == []


def test_an_invoice_paid_by_its_link(till, simulator) -> None:
    clinic, engine = till
    client_id = _client(clinic)
    issued = _issued_invoice(clinic, client_id)
    link = payment_links.create_invoice_link(clinic.services, invoice_id=issued.id, staff_id=clinic.manager)
    _cycle(engine, clinic)

    simulator.authorise(_flow_of(clinic, link.id))
    _cycle(engine, clinic)

    assert invoices.invoice_detail(clinic.services, issued.id).status.value == "paid"


def test_the_botox_starter_bought_on_the_published_page_becomes_the_buyers_package(
    till, simulator, tmp_path
) -> None:
    clinic, engine = till
    manager = a_manager(clinic.services)
    first = portal.publish_catalogue(clinic.services, tmp_path, staff_id=manager)
    assert first.waiting_for_links == 1
    _cycle(engine, clinic)
    published = portal.publish_catalogue(clinic.services, tmp_path, staff_id=manager)
    assert published.waiting_for_links == 0
    page = (tmp_path / "index.html").read_text("utf-8")
    (template,) = simulator.all("billing_request_templates")
    assert template["authorisation_url"] in page and template["payment_request_amount"] == "280.00"

    visit = simulator.visit_template(template["id"])  # a visitor presses Buy
    simulator.authorise(visit["id"], given_name="Bea", family_name="Moss", email="bea@example.com")
    _cycle(engine, clinic)
    _cycle(engine, clinic)

    with clinic.services.uow(read_only=True) as uow:
        client_id, name = uow.session.execute(
            select(ClientRow.id, ClientRow.first_name + " " + ClientRow.last_name).where(
                ClientRow.email == "bea@example.com"
            )
        ).one()
        assert uow.session.scalar(select(func.count()).select_from(ClientRow)) == 1
    assert name == "Bea Moss"
    (summary,) = packages.client_packages_overview(clinic.services, client_id)
    assert [(s.name, s.remaining) for s in summary.steps] == [
        ("Consultation", 1),
        ("Treatment", 1),
        ("Review", 1),
    ]
    (receipt,) = sales_of_client(clinic.services, client_id)
    assert receipt.net == GBP("280.00")

    consultation = appointments.book_appointment(
        clinic.services,
        client_id=client_id,
        treatment_id=CONSULTATION.id,
        practitioner_id=clinic.manager,
        starts_at=dt.datetime(2026, 11, 26, 10, 0, tzinfo=LONDON),
        staff_id=clinic.receptionist,
    )
    assert consultation.appointment.step_position == 1 and consultation.deposit_id is None
    with pytest.raises(BookingRefused) as refused:
        appointments.book_appointment(
            clinic.services,
            client_id=client_id,
            treatment_id=BOTOX.id,
            practitioner_id=clinic.manager,
            starts_at=dt.datetime(2026, 11, 27, 10, 0, tzinfo=LONDON),
            staff_id=clinic.receptionist,
        )
    assert refused.value.earliest == dt.date(2026, 11, 28)


def test_an_invoice_paid_at_the_desk_and_then_by_its_link_is_refunded_not_kept(till, simulator) -> None:
    clinic, engine = till
    client_id = _client(clinic)
    issued = _issued_invoice(clinic, client_id)
    link = payment_links.create_invoice_link(clinic.services, invoice_id=issued.id, staff_id=clinic.manager)
    _cycle(engine, clinic)
    invoices.pay_invoice_at_desk(
        clinic.services, issued.id, payments=[Payment(TenderKind.CARD, GBP("50.00"))], staff_id=clinic.manager
    )

    simulator.authorise(_flow_of(clinic, link.id))  # the client pays the link as well
    _cycle(engine, clinic)

    assert payment_links.link_view(clinic.services, link.id).status == "refund_pending"
    (refund,) = simulator.all("refunds")
    assert refund["amount"] == 5000
    simulator.pay_refund(refund["id"])
    _cycle(engine, clinic)
    assert payment_links.link_view(clinic.services, link.id).status == "refunded"
    assert len(sales_of_client(clinic.services, client_id)) == 1  # the desk payment only
    assert invoices.invoice_detail(clinic.services, issued.id).status.value == "paid"
