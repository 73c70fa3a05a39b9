"""The promise to the clinic: a member's discount applies automatically at every checkout type — POS, the online
deposit at booking, a payment link and an invoice — with the same discount and totals; a member whose
membership lapsed, or is suspended, gets none at any of them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from staffing import front_desk

from aestheticc_pos.domain import memberships as membership_rules
from aestheticc_pos.domain.catalogue import DepositKind, DepositRule, ItemKind, Product, Tier, Treatment
from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.money import Money
from aestheticc_pos.services import appointments, invoices, payment_links
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services.checkout import complete_sale, quote_basket
from aestheticc_pos.services.link_requests import quote_from_json
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.tables import DepositRow, OutboxRow, PaymentLinkRow

GBP = Money.parse
TODAY = dt.date(2026, 11, 24)  # the services fixture's clock: 09:00 London
BOTOX = Treatment(
    id="t-botox",
    name="Botox treatment",
    price=GBP("250.00"),
    deposit_rule=DepositRule(DepositKind.PERCENT, percent_bp=2000),  # 20% of the discounted price
)
SERUM = Product(id="p-serum", name="Vitamin C serum", price=GBP("45.00"))
GOLD = Tier(id="tier-gold", name="Gold", monthly_price=GBP("49.00"), discount_bp=2000, covers_products=True)

# (line name, gross, discount, reason, net) per line, and the basket's net total
Priced = tuple[tuple[tuple[str, int, int, str | None, int], ...], int]


@pytest.fixture
def clinic(services, manager):
    with services.uow() as uow:
        catalogue_repo.save_treatment(uow.session, BOTOX)
        catalogue_repo.save_product(uow.session, SERUM)
        catalogue_repo.save_tier(uow.session, GOLD)
        uow.commit()
    client = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Amy", last_name="Jones", email="amy@example.com"
    )
    return client.id


def _membership(services, client_id: str, state: str) -> None:
    started = dt.date(2026, 9, 10)
    m = membership_rules.sign_up(GOLD, membership_id=services.new_id(), client_id=client_id, on=started)
    m = membership_rules.mandate_set_up(m, "MD0001", customer_id="CU0001")
    m = membership_rules.mandate_activated(m)
    m = membership_rules.payment_confirmed(m, dt.date(2026, 10, 9), started)
    if state == "active":
        m = membership_rules.payment_confirmed(m, dt.date(2026, 12, 9), dt.date(2026, 11, 10))
    elif state == "lapsed":
        m = membership_rules.end(m, dt.date(2026, 11, 1))
    elif state == "suspended":
        m = membership_rules.payment_failed(m, dt.date(2026, 10, 14), will_retry=False)
        m = membership_rules.daily_review(m, TODAY)
        assert m.status is membership_rules.MembershipStatus.SUSPENDED
    with services.uow() as uow:
        repo.save_membership(uow.session, m)
        uow.commit()


def _lines(priced) -> Priced:
    lines = tuple(
        (q.line.name, q.gross.pence, q.discount.pence, q.discount_reason, q.net.pence) for q in priced.lines
    )
    return lines, priced.net.pence


BASKET = [BasketItem(ItemKind.TREATMENT, BOTOX.id), BasketItem(ItemKind.PRODUCT, SERUM.id)]


def pos(services, client_id, staff) -> Priced:
    total = quote_basket(services, client_id=client_id, items=BASKET).net
    receipt = complete_sale(
        services,
        client_id=client_id,
        items=BASKET,
        payments=[Payment(TenderKind.CARD, total)],
        staff_id=staff,
    )
    lines = tuple(
        (r.name, r.gross.pence, r.discount.pence, r.discount_reason, r.net.pence) for r in receipt.lines
    )
    return lines, receipt.net.pence


def payment_link(services, client_id, staff) -> Priced:
    link = payment_links.create_basket_link(services, client_id=client_id, items=BASKET, staff_id=staff)
    lines = tuple(
        (x.name, x.gross.pence, x.discount.pence, x.discount_reason, x.net.pence) for x in link.lines
    )
    assert link.amount.pence == sum(x[4] for x in lines)
    return lines, link.amount.pence


def invoice(services, client_id, staff) -> Priced:
    draft = invoices.create_invoice_draft(services, client_id=client_id, items=BASKET, staff_id=staff)
    issued = invoices.issue_invoice(services, draft.id, staff_id=staff)
    lines = tuple(
        (x.name, x.gross.pence, x.discount.pence, x.discount_reason, x.net.pence) for x in issued.lines
    )
    return lines, issued.net.pence


def deposit(services, client_id, staff) -> Priced:
    """The deposit prices the booked treatment; the product is not part of a booking, so it is priced on a
    link of its own with the same engine (what a client booking online and adding the serum would pay)."""
    starts = dt.datetime(2026, 11, 30, 11, 0, tzinfo=ZoneInfo("Europe/London"))
    booked = appointments.book_appointment(
        services,
        client_id=client_id,
        treatment_id=BOTOX.id,
        practitioner_id=staff,
        starts_at=starts,
        staff_id=staff,
    )
    with services.uow(read_only=True) as uow:
        row = uow.session.get(DepositRow, booked.deposit_id)
        link = uow.session.get(PaymentLinkRow, row.payment_link_id)
        (treatment,) = quote_from_json(link.quote).lines
        deposit_pence = row.amount_pence
    assert deposit_pence == (treatment.net.pence * 2000 + 5000) // 10000  # 20% of the discounted price
    product = payment_links.create_basket_link(
        services, client_id=client_id, items=[BasketItem(ItemKind.PRODUCT, SERUM.id)], staff_id=staff
    )
    (serum,) = product.lines
    lines = (
        (
            treatment.line.name,
            treatment.gross.pence,
            treatment.discount.pence,
            treatment.discount_reason,
            treatment.net.pence,
        ),
        (serum.name, serum.gross.pence, serum.discount.pence, serum.discount_reason, serum.net.pence),
    )
    return lines, treatment.net.pence + serum.net.pence


CHANNELS: dict[str, Callable] = {
    "pos": pos,
    "deposit": deposit,
    "payment_link": payment_link,
    "invoice": invoice,
}
MEMBER = (
    (
        ("Botox treatment", 25000, 5000, "Gold member 20%", 20000),
        ("Vitamin C serum", 4500, 900, "Gold member 20%", 3600),
    ),
    23600,
)
NOT_A_MEMBER = (
    (("Botox treatment", 25000, 0, None, 25000), ("Vitamin C serum", 4500, 0, None, 4500)),
    29500,
)


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize(
    ("state", "expected"), [("active", MEMBER), ("lapsed", NOT_A_MEMBER), ("suspended", NOT_A_MEMBER)]
)
def test_the_same_basket_is_priced_the_same_at_every_checkout_type(
    services, manager, clinic, channel: str, state: str, expected: Priced
) -> None:
    _membership(services, clinic, state)

    assert CHANNELS[channel](services, clinic, manager) == expected


def test_a_payment_link_is_queued_for_gocardless_with_the_discounted_amount(
    services, manager, clinic
) -> None:
    _membership(services, clinic, "active")

    link = payment_links.create_basket_link(services, client_id=clinic, items=BASKET, staff_id=manager)

    with services.uow(read_only=True) as uow:
        rows = uow.session.execute(
            select(OutboxRow.kind, OutboxRow.payload)
            .where(OutboxRow.record_id == link.id)
            .order_by(OutboxRow.seq)
        ).all()
    assert [kind for kind, _ in rows] == ["create_payment_request", "create_payment_link_flow"]
    request = rows[0].payload
    assert request["payment_request"] == {
        "amount": 23600,
        "currency": "GBP",
        "description": "Botox treatment, Vitamin C serum",
    }
    assert request["links"] == {"customer": "CU0001"}  # the member's GoCardless customer, not a new one
    assert rows[1].payload["prefilled_customer"]["email"] == "amy@example.com"
    assert link.status == "preparing" and link.authorisation_url is None
