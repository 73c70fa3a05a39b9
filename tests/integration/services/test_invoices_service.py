"""Invoices through the services, on SQLite and (when configured) PostgreSQL.

Numbers are taken at issue, per year, without gaps, also when several tills (separate OS processes, each with
its own ``Services``) issue at the same instant; a void invoice keeps its number; the member discount is the
till's; paying completes the sale once, even when two tills take payment for the same invoice together.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from catalogue_fixtures import add_client, sell_package
from sqlalchemy import func, select
from twotills import run_tills

from aestheticc_pos.domain import memberships as membership_rules
from aestheticc_pos.domain.catalogue import ItemKind, Package, PackageStep, Product, Tier, Treatment
from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.errors import InvalidInput, NotFound, NotPermitted, RuleViolation
from aestheticc_pos.domain.invoices import InvoiceStanding, InvoiceStatus
from aestheticc_pos.domain.money import Money
from aestheticc_pos.services import invoices as invoices_service
from aestheticc_pos.services import packages as packages_service
from aestheticc_pos.services import payment_links
from aestheticc_pos.services.checkout import quote_basket
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import audit_entries
from aestheticc_pos.store.tables import PaymentLinkRow, SaleRow, TenderRow

GBP = Money.parse
NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
HOLD_SECONDS = 0.4

BOTOX = Treatment(id="t-botox", name="Botox (one area)", price=GBP("250.00"), duration_minutes=30)
PEEL = Treatment(id="t-peel", name="Chemical peel", price=GBP("33.35"), duration_minutes=45)
MICRO = Treatment(id="t-micro", name="Microneedling", price=GBP("200.00"), duration_minutes=60)
MOLE = Treatment(
    id="t-mole", name="Mole removal (medical)", price=GBP("150.00"), duration_minutes=30, vat_rate_bp=0
)
SERUM = Product(id="p-serum", name="Vitamin C serum", price=GBP("45.00"))
COURSE = Package(
    id="k-micro",
    name="Microneedling course of 6",
    price=GBP("1000.00"),
    validity_days=365,
    steps=(PackageStep(1, "t-micro", "Microneedling", sessions=6, min_days_between_sessions=28),),
)
GOLD = Tier(id="tier-gold", name="Gold", monthly_price=GBP("49.00"), discount_bp=2000)


@pytest.fixture
def catalogue(services: Services) -> None:
    with services.uow() as uow:
        for treatment in (BOTOX, PEEL, MICRO, MOLE):
            catalogue_repo.save_treatment(uow.session, treatment)
        catalogue_repo.save_product(uow.session, SERUM)
        catalogue_repo.save_package(uow.session, COURSE)
        catalogue_repo.save_tier(uow.session, GOLD)
        uow.commit()


@pytest.fixture
def ada(services: Services, catalogue: None) -> str:
    return add_client(services, "Ada", "Lovelace")


def _gold_member(services: Services, client_id: str) -> None:
    today = dt.date(2026, 11, 24)
    m = membership_rules.sign_up(GOLD, membership_id=services.new_id(), client_id=client_id, on=today)
    m = membership_rules.payment_confirmed(m, dt.date(2026, 12, 23), today)
    with services.uow() as uow:
        repo.save_membership(uow.session, m)
        uow.commit()


def _item(kind: ItemKind, item_id: str, **options: Any) -> BasketItem:
    return BasketItem(kind, item_id, **options)


BASKET = [
    _item(ItemKind.TREATMENT, "t-botox"),
    _item(ItemKind.TREATMENT, "t-peel", quantity=2),
    _item(ItemKind.PRODUCT, "p-serum"),
    _item(ItemKind.TREATMENT, "t-mole"),
]


def _issued(services: Services, client_id: str, staff_id: str, items: list[BasketItem] | None = None):
    draft = invoices_service.create_invoice_draft(
        services, client_id=client_id, items=items or BASKET, staff_id=staff_id
    )
    return invoices_service.issue_invoice(services, draft.id, staff_id=staff_id)


def _sale_count(services: Services) -> int:
    with services.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(SaleRow)) or 0


# --- Pricing ---------------------------------------------------------------------------------------------------


def test_a_member_gets_on_an_invoice_exactly_the_discount_of_the_till(services, ada, receptionist) -> None:
    _gold_member(services, ada)
    at_till = quote_basket(services, client_id=ada, items=BASKET)
    draft = invoices_service.create_invoice_draft(
        services, client_id=ada, items=BASKET, staff_id=receptionist
    )

    till_lines = [(q.line.name, q.gross, q.discount, q.discount_reason, q.net, q.vat) for q in at_till.lines]
    invoice_lines = [(x.name, x.gross, x.discount, x.discount_reason, x.net, x.vat) for x in draft.lines]
    assert invoice_lines == till_lines
    assert (draft.gross, draft.discount, draft.net, draft.vat) == (
        at_till.gross,
        at_till.discount,
        at_till.net,
        at_till.vat,
    )
    assert at_till.discount > Money.zero()  # the member discount is really there
    assert "Gold member 20%" in {x.discount_reason for x in draft.lines}
    # VAT per rate adds up to the invoice's VAT: the mole removal is exempt.
    assert sum(b.vat.pence for b in draft.vat_bands) == draft.vat.pence
    assert [b.vat_rate_bp for b in draft.vat_bands] == [2000, 0]


def test_an_invoice_charges_a_treatment_a_package_would_cover(services, ada, receptionist) -> None:
    sell_package(services, COURSE, ada)
    at_till = quote_basket(services, client_id=ada, items=[_item(ItemKind.TREATMENT, "t-micro")])
    assert at_till.net == GBP("0")  # at the till the package session pays for it

    draft = invoices_service.create_invoice_draft(
        services, client_id=ada, items=[_item(ItemKind.TREATMENT, "t-micro")], staff_id=receptionist
    )
    assert (draft.net, draft.lines[0].discount_reason) == (GBP("200"), None)
    (summary,) = packages_service.client_packages_overview(services, ada)
    assert summary.steps[0].remaining == 6


# --- Numbers ---------------------------------------------------------------------------------------------------


def test_a_draft_has_no_number_and_discarded_drafts_leave_no_gap(services, ada, receptionist) -> None:
    drafts = [
        invoices_service.create_invoice_draft(services, client_id=ada, items=BASKET, staff_id=receptionist)
        for _ in range(3)
    ]
    assert {(d.number, d.issued_on, d.due_on, d.status) for d in drafts} == {
        (None, None, None, InvoiceStatus.DRAFT)
    }
    invoices_service.discard_invoice_draft(services, drafts[0].id, staff_id=receptionist)
    with pytest.raises(NotFound):
        invoices_service.invoice_detail(services, drafts[0].id)

    second = invoices_service.issue_invoice(services, drafts[2].id, staff_id=receptionist)
    first = invoices_service.issue_invoice(services, drafts[1].id, staff_id=receptionist)
    assert (second.number, first.number) == ("INV-2026-0001", "INV-2026-0002")
    assert (first.issued_on, first.due_on) == (dt.date(2026, 11, 24), dt.date(2026, 12, 8))
    assert first.standing is InvoiceStanding.ISSUED and first.amount_due == first.net


def test_the_series_starts_again_in_a_new_year(services, clock, ada, receptionist) -> None:
    assert _issued(services, ada, receptionist).number == "INV-2026-0001"
    clock.set(dt.datetime(2027, 1, 4, 10, 0, tzinfo=dt.UTC))
    assert _issued(services, ada, receptionist).number == "INV-2027-0001"


def test_a_refused_issue_takes_no_number(services, ada, receptionist) -> None:
    free = invoices_service.create_invoice_draft(
        services,
        client_id=ada,
        items=[_item(ItemKind.TREATMENT, "t-micro", override_price=None)],
        staff_id=receptionist,
    )
    with services.uow() as uow:  # the clinic makes the treatment free before the draft is issued
        catalogue_repo.save_treatment(uow.session, dataclasses.replace(MICRO, price=GBP("0")))
        uow.commit()
    with pytest.raises(RuleViolation, match="comes to nothing"):
        invoices_service.issue_invoice(services, free.id, staff_id=receptionist)
    assert _issued(services, ada, receptionist).number == "INV-2026-0001"


# --- Issue, edit, void -----------------------------------------------------------------------------------------


def test_issuing_prices_again_and_refuses_a_total_that_changed_since_shown(
    services, ada, receptionist
) -> None:
    draft = invoices_service.create_invoice_draft(
        services, client_id=ada, items=[_item(ItemKind.TREATMENT, "t-botox")], staff_id=receptionist
    )
    with services.uow() as uow:
        catalogue_repo.save_treatment(uow.session, dataclasses.replace(BOTOX, price=GBP("300.00")))
        uow.commit()
    with pytest.raises(RuleViolation) as refused:
        invoices_service.issue_invoice(services, draft.id, staff_id=receptionist, expected_total=draft.net)
    assert str(refused.value) == (
        "The invoice total changed to £300.00 since it was shown (£250.00). Check the invoice before issuing it."
    )
    assert invoices_service.invoice_detail(services, draft.id).number is None

    issued = invoices_service.issue_invoice(
        services, draft.id, staff_id=receptionist, expected_total=GBP("300")
    )
    assert (issued.number, issued.net) == ("INV-2026-0001", GBP("300"))


def test_invoicing_a_basket_issues_it_in_one_go_and_a_refusal_leaves_no_draft(
    services, ada, receptionist
) -> None:
    shown = invoices_service.create_invoice_draft(
        services, client_id=ada, items=[_item(ItemKind.TREATMENT, "t-botox")], staff_id=receptionist
    )
    invoices_service.discard_invoice_draft(services, shown.id, staff_id=receptionist)
    with services.uow() as uow:  # the price changes after the basket was shown at £250
        catalogue_repo.save_treatment(uow.session, dataclasses.replace(BOTOX, price=GBP("300.00")))
        uow.commit()
    with pytest.raises(RuleViolation, match=r"changed to £300.00 since it was shown \(£250.00\)"):
        invoices_service.invoice_basket(
            services,
            client_id=ada,
            items=[_item(ItemKind.TREATMENT, "t-botox")],
            staff_id=receptionist,
            expected_total=GBP("250"),
        )
    assert invoices_service.invoices_of_client(services, ada) == []  # no draft left behind, no number taken

    issued = invoices_service.invoice_basket(
        services,
        client_id=ada,
        items=[_item(ItemKind.TREATMENT, "t-botox"), _item(ItemKind.PRODUCT, "p-serum")],
        staff_id=receptionist,
        expected_total=GBP("345"),
    )
    assert (issued.number, issued.net, issued.status) == ("INV-2026-0001", GBP("345"), InvoiceStatus.ISSUED)
    assert [i.id for i in invoices_service.invoices_of_client(services, ada)] == [issued.id]

    cheaper = _item(ItemKind.TREATMENT, "t-peel", override_price="20.00", override_reason="Loyal client")
    with pytest.raises(NotPermitted, match="Only a manager can override a price."):
        invoices_service.invoice_basket(services, client_id=ada, items=[cheaper], staff_id=receptionist)
    assert len(invoices_service.invoices_of_client(services, ada)) == 1


def test_a_draft_is_edited_and_an_issued_invoice_is_not(services, ada, receptionist) -> None:
    draft = invoices_service.create_invoice_draft(
        services, client_id=ada, items=BASKET, staff_id=receptionist
    )
    edited = invoices_service.update_invoice_draft(
        services,
        draft.id,
        staff_id=receptionist,
        items=[*draft.basket_items(), _item(ItemKind.PRODUCT, "p-serum", quantity=2)],
        payment_terms_days=30,
    )
    assert (len(edited.lines), edited.net - draft.net, edited.payment_terms_days) == (5, GBP("90"), 30)
    issued = invoices_service.issue_invoice(services, draft.id, staff_id=receptionist)
    assert issued.due_on == dt.date(2026, 12, 24)
    with pytest.raises(RuleViolation, match=f"Invoice {issued.number} was already issued, so its lines"):
        invoices_service.update_invoice_draft(services, draft.id, staff_id=receptionist, payment_terms_days=7)
    with pytest.raises(RuleViolation, match="cannot be discarded. Void it instead."):
        invoices_service.discard_invoice_draft(services, draft.id, staff_id=receptionist)


def test_a_price_override_needs_a_manager_to_make_and_to_issue(services, ada, manager, receptionist) -> None:
    cheaper = _item(ItemKind.TREATMENT, "t-botox", override_price="200.00", override_reason="Loyal client")
    with pytest.raises(NotPermitted, match="Only a manager can override a price."):
        invoices_service.create_invoice_draft(services, client_id=ada, items=[cheaper], staff_id=receptionist)
    draft = invoices_service.create_invoice_draft(services, client_id=ada, items=[cheaper], staff_id=manager)
    assert (draft.net, draft.lines[0].discount_reason) == (GBP("200"), "Price override: Loyal client")
    with pytest.raises(NotPermitted, match="Only a manager can issue an invoice with a price override."):
        invoices_service.issue_invoice(services, draft.id, staff_id=receptionist)
    issued = invoices_service.issue_invoice(services, draft.id, staff_id=manager)
    with services.uow(read_only=True) as uow:
        (entry,) = audit_entries(uow.session, record_type="invoice", record_id=issued.id)
    assert (entry.action, entry.reason) == ("price.overridden", "Loyal client")


def test_void_needs_a_manager_and_a_reason_is_audited_and_keeps_the_number(
    services, ada, manager, receptionist
) -> None:
    issued = _issued(services, ada, receptionist)
    with pytest.raises(NotPermitted, match="Only a manager can void an invoice."):
        invoices_service.void_invoice(services, issued.id, staff_id=receptionist, reason="Wrong client")
    with pytest.raises(InvalidInput, match="Say why the invoice is being voided."):
        invoices_service.void_invoice(services, issued.id, staff_id=manager, reason=" ")

    voided = invoices_service.void_invoice(services, issued.id, staff_id=manager, reason="Wrong client")
    assert (voided.status, voided.number, voided.void_reason) == (
        InvoiceStatus.VOID,
        "INV-2026-0001",
        "Wrong client",
    )
    assert voided.voided_at == NOW and voided.amount_due == GBP("0")
    with services.uow(read_only=True) as uow:
        (entry,) = audit_entries(uow.session, record_type="invoice", record_id=issued.id)
    assert (entry.action, entry.staff_id, entry.reason) == ("invoice.voided", manager, "Wrong client")
    assert _issued(services, ada, receptionist).number == "INV-2026-0002"
    with pytest.raises(RuleViolation, match="Invoice INV-2026-0001 was voided, so nothing is due on it."):
        invoices_service.pay_invoice_at_desk(
            services, issued.id, payments=[Payment("card", voided.net)], staff_id=receptionist
        )
    with pytest.raises(RuleViolation, match="A draft has no number to void. Discard the draft instead."):
        draft = invoices_service.create_invoice_draft(services, client_id=ada, items=BASKET, staff_id=manager)
        invoices_service.void_invoice(services, draft.id, staff_id=manager, reason="Not needed")


def test_what_cannot_be_invoiced_is_refused_with_a_sentence(services, ada, receptionist) -> None:
    with pytest.raises(
        InvalidInput, match="The invoice has no lines. Add a treatment, product or package first."
    ):
        invoices_service.create_invoice_draft(services, client_id=ada, items=[], staff_id=receptionist)
    with pytest.raises(InvalidInput, match="so it cannot go on an invoice. Sign the client up at the till."):
        invoices_service.create_invoice_draft(
            services, client_id=ada, items=[_item(ItemKind.MEMBERSHIP, "tier-gold")], staff_id=receptionist
        )
    with pytest.raises(InvalidInput, match="Payment terms are a whole number of days"):
        invoices_service.create_invoice_draft(
            services, client_id=ada, items=BASKET, staff_id=receptionist, payment_terms_days=365
        )
    with pytest.raises(NotFound, match="That invoice does not exist"):
        invoices_service.issue_invoice(services, "no-such-invoice", staff_id=receptionist)


def test_a_practitioner_does_not_make_invoices(services, ada, practitioner) -> None:
    with pytest.raises(NotPermitted, match="Only a manager or a receptionist can sell"):
        invoices_service.create_invoice_draft(services, client_id=ada, items=BASKET, staff_id=practitioner)


# --- Payment ---------------------------------------------------------------------------------------------------


def test_paying_at_the_desk_completes_the_sale_once(services, ada, manager, receptionist) -> None:
    issued = _issued(services, ada, receptionist, [_item(ItemKind.PACKAGE, "k-micro"), *BASKET[:2]])
    draft_first = invoices_service.create_invoice_draft(
        services, client_id=ada, items=BASKET, staff_id=receptionist
    )
    with pytest.raises(RuleViolation, match="This invoice is still a draft. Issue it before taking payment"):
        invoices_service.pay_invoice_at_desk(
            services, draft_first.id, payments=[Payment("cash", "1.00")], staff_id=receptionist
        )
    with pytest.raises(RuleViolation, match="is still due. Add another payment."):
        invoices_service.pay_invoice_at_desk(
            services, issued.id, payments=[Payment("card", "100.00")], staff_id=receptionist
        )
    assert _sale_count(services) == 0

    handed_over = issued.net + GBP("10")
    paid = invoices_service.pay_invoice_at_desk(
        services, issued.id, payments=[Payment("cash", handed_over)], staff_id=receptionist
    )
    assert (paid.invoice.status, paid.invoice.paid_at, paid.invoice.amount_due) == (
        InvoiceStatus.PAID,
        NOW,
        GBP("0"),
    )
    assert (paid.receipt.net, paid.receipt.change_due) == (issued.net, GBP("10"))
    assert paid.invoice.sale_id == paid.receipt.sale_id and paid.invoice.sale_number == paid.receipt.number
    with services.uow(read_only=True) as uow:
        sale = uow.session.get(SaleRow, paid.receipt.sale_id)
        assert sale is not None and (sale.channel, sale.net_pence) == ("invoice", issued.net.pence)
    (package,) = packages_service.client_packages_overview(services, ada)  # the client now has the package
    assert package.name == "Microneedling course of 6" and package.steps[0].remaining == 6

    with pytest.raises(RuleViolation, match=f"Invoice {issued.number} is already paid. Nothing more is due."):
        invoices_service.pay_invoice_at_desk(
            services, issued.id, payments=[Payment("cash", handed_over)], staff_id=receptionist
        )
    with pytest.raises(RuleViolation, match="is paid, so it cannot be voided. Refund the sale"):
        invoices_service.void_invoice(services, issued.id, staff_id=manager, reason="Changed her mind")
    assert _sale_count(services) == 1
    assert len(packages_service.client_packages_overview(services, ada)) == 1


def test_an_issued_invoice_keeps_its_prices_until_paid(services, clock, ada, receptionist) -> None:
    _gold_member(services, ada)
    issued = _issued(services, ada, receptionist, [_item(ItemKind.TREATMENT, "t-botox")])
    assert issued.net == GBP("200")
    with services.uow() as uow:
        catalogue_repo.save_treatment(uow.session, dataclasses.replace(BOTOX, price=GBP("400.00")))
        uow.commit()
    clock.set(dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC))  # long after the membership was last paid
    paid = invoices_service.pay_invoice_at_desk(
        services, issued.id, payments=[Payment("card", "200.00")], staff_id=receptionist
    )
    assert paid.receipt.net == GBP("200") and paid.receipt.lines[0].discount_reason == "Gold member 20%"


def test_a_payment_link_payment_is_applied_once(services, ada, receptionist) -> None:
    issued = _issued(services, ada, receptionist)
    link = payment_links.create_invoice_link(services, invoice_id=issued.id, staff_id=receptionist)
    with services.uow() as uow:  # what the sync records once GoCardless made the link and the client paid
        row = uow.session.get(PaymentLinkRow, link.id)
        row.gc_billing_request_id, row.status = "BRQ000123", "open"
        payment_links.link_authorised_in(uow, services, billing_request_id="BRQ000123", payment_id="PM1")
        uow.commit()
    for _ in range(2):  # GoCardless may report the same payment twice
        with services.uow() as uow:
            payment_links.link_paid_in(uow, services, payment_id="PM1")
            uow.commit()
    paid = invoices_service.invoice_detail(services, issued.id)
    assert paid.status is InvoiceStatus.PAID and _sale_count(services) == 1
    with services.uow(read_only=True) as uow:
        tenders = uow.session.execute(
            select(TenderRow.kind, TenderRow.amount_pence, TenderRow.reference)
        ).all()
    assert tenders == [(TenderKind.PAYMENT_LINK.value, issued.net.pence, "BRQ000123")]


def test_an_invoice_is_not_marked_paid_by_a_link_gocardless_did_not_report_paid(
    services, ada, receptionist
) -> None:
    issued = _issued(services, ada, receptionist)
    link = payment_links.create_invoice_link(services, invoice_id=issued.id, staff_id=receptionist)
    for made_up in ("BRQ000999", link.id):  # unknown, and a link of this invoice still open
        with services.uow() as uow, pytest.raises(RuleViolation, match="has not reported a payment"):
            invoices_service.mark_invoice_paid_by_link_in(
                uow, services, issued.id, billing_request_id=made_up
            )
    assert invoices_service.invoice_detail(services, issued.id).status is InvoiceStatus.ISSUED
    assert _sale_count(services) == 0


# --- Read model ------------------------------------------------------------------------------------------------


def test_lists_show_each_invoice_standing_and_overdue_is_derived(
    services, clock, ada, manager, receptionist
) -> None:
    grace = add_client(services, "Grace", "Hopper")
    due_soon = _issued(services, ada, receptionist)
    to_void = _issued(services, grace, receptionist)
    invoices_service.void_invoice(services, to_void.id, staff_id=manager, reason="Duplicate")
    clock.set(NOW + dt.timedelta(minutes=5))
    draft = invoices_service.create_invoice_draft(
        services, client_id=ada, items=BASKET, staff_id=receptionist
    )

    clock.set(dt.datetime(2026, 12, 9, 9, 0, tzinfo=dt.UTC))  # the day after due_soon's due date
    later = _issued(services, grace, receptionist)

    by_id = {s.id: s.standing for s in invoices_service.invoices_list(services)}
    assert by_id == {
        due_soon.id: InvoiceStanding.OVERDUE,
        to_void.id: InvoiceStanding.VOID,
        draft.id: InvoiceStanding.DRAFT,
        later.id: InvoiceStanding.ISSUED,
    }
    assert [s.id for s in invoices_service.invoices_list(services, status="overdue")] == [due_soon.id]
    assert [s.id for s in invoices_service.invoices_list(services, status=InvoiceStatus.ISSUED)] == [later.id]
    assert [s.id for s in invoices_service.invoices_of_client(services, ada)] == [draft.id, due_soon.id]
    assert invoices_service.invoice_detail(services, due_soon.id).standing is InvoiceStanding.OVERDUE
    with pytest.raises(InvalidInput, match="“late” is not an invoice status"):
        invoices_service.invoices_list(services, status="late")

    summary = invoices_service.invoices_of_client(services, ada)[0]
    detail = invoices_service.invoice_detail(services, due_soon.id)
    for value in (summary, detail, detail.lines[0]):  # plain values, never rows still attached to a session
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, "quantity" if value is detail.lines[0] else "number", "changed")


# --- Several tills at once ---------------------------------------------------------------------------------------


def invoice_work(services: Services, job: dict[str, Any]) -> tuple[str, str]:
    """One till issues an invoice or takes payment for one (``run_tills`` reports a refusal)."""
    if job["do"] == "issue":
        issued = invoices_service.issue_invoice(services, job["invoice_id"], staff_id=job["staff_id"])
        return ("issued", issued.number)
    paid = invoices_service.pay_invoice_at_desk(
        services, job["invoice_id"], payments=[Payment("card", job["amount"])], staff_id=job["staff_id"]
    )
    return ("paid", paid.receipt.number)


def test_tills_issuing_at_the_same_moment_get_numbers_without_gaps(
    migrated_url, services, ada, receptionist
) -> None:
    drafts = [
        invoices_service.create_invoice_draft(services, client_id=ada, items=BASKET, staff_id=receptionist)
        for _ in range(5)
    ]
    invoices_service.discard_invoice_draft(services, drafts.pop(2).id, staff_id=receptionist)

    jobs = [{"do": "issue", "invoice_id": d.id, "staff_id": receptionist} for d in drafts]
    outcomes = run_tills(migrated_url, invoice_work, jobs, hold=HOLD_SECONDS)

    assert outcomes == [("issued", f"INV-2026-{n:04d}") for n in range(1, len(drafts) + 1)]
    numbers = sorted(invoices_service.invoice_detail(services, d.id).number or "" for d in drafts)
    assert numbers == [number for _, number in outcomes]


def test_two_tills_taking_payment_for_one_invoice_complete_one_sale(
    migrated_url, services, ada, receptionist
) -> None:
    issued = _issued(services, ada, receptionist, [_item(ItemKind.PACKAGE, "k-micro")])
    job = {"do": "pay", "invoice_id": issued.id, "staff_id": receptionist, "amount": issued.net}

    outcomes = run_tills(migrated_url, invoice_work, [job, job], hold=HOLD_SECONDS)

    assert [kind for kind, *_ in outcomes] == ["paid", "refused"]
    assert outcomes[1][-1] == f"Invoice {issued.number} is already paid. Nothing more is due."
    assert _sale_count(services) == 1
    assert len(packages_service.client_packages_overview(services, ada)) == 1
