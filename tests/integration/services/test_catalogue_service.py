"""The catalogue service: typed input, manager-only changes, audit, and snapshots that edits never touch."""

from __future__ import annotations

import pytest
from staffing import front_desk

from aestheticc_pos.domain.catalogue import BenefitsStart, DepositKind
from aestheticc_pos.domain.errors import InvalidInput, NotFound, NotPermitted, RuleViolation
from aestheticc_pos.domain.money import Money
from aestheticc_pos.services import catalogue, membership_views
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import memberships as memberships_service
from aestheticc_pos.services.catalogue_items import CatalogueKind, StepInput
from aestheticc_pos.store.audit_repo import audit_entries


def _audit(services, record_type: str | None = None):
    with services.uow(read_only=True) as uow:
        return audit_entries(uow.session, record_type=record_type)


def test_a_manager_adds_a_treatment_from_typed_values(services, manager) -> None:
    botox = catalogue.add_treatment(
        services,
        staff_id=manager,
        name="  Anti-wrinkle   3 areas ",
        price="£250.00",
        duration_minutes="45",
        deposit="percent",
        deposit_percent="25",
    )
    consult = catalogue.add_treatment(
        services,
        staff_id=manager,
        name="Consultation",
        price="50",
        vat_rate="exempt",
        deposit="fixed",
        deposit_amount="20",
    )

    assert botox.name == "Anti-wrinkle 3 areas"
    assert (botox.price, botox.vat_rate_bp, botox.duration_minutes) == (Money(25_000), 2000, 45)
    assert (botox.deposit_rule.kind, botox.deposit_rule.percent_bp) == (DepositKind.PERCENT, 2500)
    assert (consult.vat_rate_bp, consult.deposit_rule.amount) == (0, Money(2000))
    assert catalogue.get_treatment(services, botox.id) == botox
    assert [t.name for t in catalogue.list_treatments(services)] == ["Anti-wrinkle 3 areas", "Consultation"]
    [added, _] = _audit(services, "treatment")
    assert (added.action, added.record_id, added.details["price"]) == (
        "treatment.added",
        botox.id,
        "250.00 GBP",
    )

    edited = catalogue.edit_treatment(services, botox.id, staff_id=manager, deposit="none", vat_rate="exempt")
    assert (edited.deposit_rule.kind, edited.vat_rate_bp, edited.price) == (
        DepositKind.NONE,
        0,
        Money(25_000),
    )
    assert dict(_audit(services, "treatment")[-1].details) == {
        "deposit": "percent → none",
        "deposit_percent": "2500 → ",
        "vat_rate": "2000 → 0",
    }


def test_a_price_of_abc_is_refused_with_a_sentence_and_nothing_is_written(services, manager) -> None:
    with pytest.raises(InvalidInput) as error:
        catalogue.add_treatment(services, staff_id=manager, name="Peel", price="abc")
    assert str(error.value) == "The price: “abc” is not an amount of money. Type it like 12.50."
    with pytest.raises(InvalidInput, match="not a VAT rate"):
        catalogue.add_product(services, staff_id=manager, name="SPF 50", price="32.00", vat_rate="5")
    with pytest.raises(InvalidInput, match="cannot be more than the treatment's price"):
        catalogue.add_treatment(
            services, staff_id=manager, name="Peel", price="80", deposit="fixed", deposit_amount="90"
        )
    with pytest.raises(InvalidInput, match="between 5 and 480"):
        catalogue.add_treatment(services, staff_id=manager, name="Peel", price="80", duration_minutes="600")
    assert catalogue.list_treatments(services, active_only=False) == []
    assert catalogue.list_products(services, active_only=False) == []
    assert _audit(services, "treatment") == [] and _audit(services, "product") == []


def test_a_receptionist_cannot_change_the_catalogue(services, manager, receptionist) -> None:
    serum = catalogue.add_product(services, staff_id=manager, name="Serum", price="45.00")
    with pytest.raises(NotPermitted, match="Only a manager can change the catalogue"):
        catalogue.add_product(services, staff_id=receptionist, name="Cream", price="abc")
    with pytest.raises(NotPermitted):
        catalogue.edit_product(services, serum.id, staff_id=receptionist, price="1.00")
    with pytest.raises(NotPermitted):
        catalogue.deactivate(services, "product", serum.id, staff_id=receptionist)
    with pytest.raises(NotPermitted):
        catalogue.add_tier(services, staff_id=receptionist, name="Gold", monthly_price="49", discount="20")
    assert catalogue.list_products(services, active_only=False) == [serum]


def test_edit_keeps_untouched_fields_and_audits_only_what_changed(services, manager) -> None:
    serum = catalogue.add_product(services, staff_id=manager, name="Serum", price="45.00")
    edited = catalogue.edit_product(services, serum.id, staff_id=manager, price="48.50")
    assert (edited.name, edited.price, edited.vat_rate_bp) == ("Serum", Money(4850), 2000)
    assert catalogue.edit_product(services, serum.id, staff_id=manager, name="Serum") == edited  # no change
    entries = _audit(services, "product")
    assert [e.action for e in entries] == ["product.added", "product.edited"]
    assert dict(entries[1].details) == {"price": "45.00 GBP → 48.50 GBP"}
    with pytest.raises(TypeError):
        catalogue.edit_product(services, serum.id, staff_id=manager, colour="red")
    with pytest.raises(NotFound, match="not in the catalogue"):
        catalogue.edit_product(services, "no-such-product", staff_id=manager, price="1")


def test_a_package_copies_its_treatment_names_into_the_steps(services, manager) -> None:
    consult = catalogue.add_treatment(
        services, staff_id=manager, name="Consultation", price="0", vat_rate="exempt"
    )
    botox = catalogue.add_treatment(services, staff_id=manager, name="Botox", price="250")
    review = catalogue.add_treatment(services, staff_id=manager, name="Review", price="0")

    starter = catalogue.add_package(
        services,
        staff_id=manager,
        name="Botox starter",
        description="Consultation, treatment and a 2-week review",
        price="299.00",
        validity_days="180",
        steps=[(consult.id, 1), StepInput(botox.id, 1, 2), (review.id, "1", "14")],
    )

    assert [(s.position, s.name, s.sessions, s.min_days_after_previous) for s in starter.steps] == [
        (1, "Consultation", 1, 0),
        (2, "Botox", 1, 2),
        (3, "Review", 1, 14),
    ]
    assert catalogue.get_package(services, starter.id) == starter

    course = catalogue.edit_package(services, starter.id, staff_id=manager, steps=[(botox.id, 6, 0, 28)])
    assert [(s.name, s.sessions, s.min_days_between_sessions) for s in course.steps] == [("Botox", 6, 28)]
    assert catalogue.list_packages(services) == [course]


def test_package_steps_are_checked(services, manager) -> None:
    botox = catalogue.add_treatment(services, staff_id=manager, name="Botox", price="250")
    with pytest.raises(NotFound, match="Step 2: that treatment is not in the catalogue"):
        catalogue.add_package(
            services,
            staff_id=manager,
            name="P",
            price="1",
            validity_days=30,
            steps=[(botox.id, 1), ("nope", 1)],
        )
    with pytest.raises(InvalidInput, match="at least one treatment step"):
        catalogue.add_package(services, staff_id=manager, name="P", price="1", validity_days=30, steps=[])
    with pytest.raises(InvalidInput, match="number of sessions must be between 1 and 100"):
        catalogue.add_package(
            services, staff_id=manager, name="P", price="1", validity_days=30, steps=[(botox.id, 0)]
        )
    catalogue.deactivate(services, CatalogueKind.TREATMENT, botox.id, staff_id=manager)
    with pytest.raises(RuleViolation, match="Botox is no longer offered"):
        catalogue.add_package(
            services, staff_id=manager, name="P", price="1", validity_days=30, steps=[(botox.id, 1)]
        )
    assert catalogue.list_packages(services, active_only=False) == []


def test_deactivate_takes_an_item_off_sale_and_reactivate_brings_it_back(services, manager) -> None:
    gold = catalogue.add_tier(services, staff_id=manager, name="Gold", monthly_price="49.00", discount="20")
    silver = catalogue.add_tier(
        services, staff_id=manager, name="Silver", monthly_price="29.00", discount="10"
    )
    catalogue.deactivate(services, "tier", gold.id, staff_id=manager)
    assert [t.name for t in catalogue.list_tiers(services)] == ["Silver"]
    assert [t.name for t in catalogue.list_tiers(services, active_only=False)] == ["Silver", "Gold"]
    catalogue.reactivate(services, "tier", gold.id, staff_id=manager)
    assert catalogue.list_tiers(services) == [silver, gold]
    assert [e.action for e in _audit(services, "tier")][-2:] == ["tier.deactivated", "tier.reactivated"]
    with pytest.raises(InvalidInput, match="not one of treatment, product, package or tier"):
        catalogue.deactivate(services, "voucher", gold.id, staff_id=manager)


def test_a_tier_reads_its_discount_and_takes_the_clinics_grace_period(services, manager) -> None:
    gold = catalogue.add_tier(
        services,
        staff_id=manager,
        name="Gold",
        monthly_price="49.00",
        discount="12.5",
        covers_products=True,
        benefits_start="sign_up",
    )
    assert (gold.monthly_price, gold.discount_bp, gold.grace_days) == (Money(4900), 1250, 7)
    assert (gold.covers_treatments, gold.covers_products, gold.benefits_start) == (
        True,
        True,
        BenefitsStart.SIGN_UP,
    )
    with pytest.raises(InvalidInput, match="between 0% and 100%"):
        catalogue.add_tier(services, staff_id=manager, name="Silly", monthly_price="10", discount="120")
    with pytest.raises(InvalidInput, match="monthly price above zero"):
        catalogue.add_tier(services, staff_id=manager, name="Free", monthly_price="0", discount="10")


def test_editing_a_tier_never_changes_a_members_snapshot(services, manager, receptionist) -> None:
    gold = catalogue.add_tier(
        services,
        staff_id=manager,
        name="Gold",
        monthly_price="49.00",
        discount="20",
        benefits_start="sign_up",
    )
    ada = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Ada", last_name="Lovelace"
    )
    member = memberships_service.start_membership(
        services, client_id=ada.id, tier_id=gold.id, staff_id=receptionist
    )

    catalogue.edit_tier(
        services, gold.id, staff_id=manager, name="Gold+", monthly_price="59.00", discount="25"
    )

    assert (
        catalogue.get_tier(services, gold.id).monthly_price,
        catalogue.get_tier(services, gold.id).discount_bp,
    ) == (
        Money(5900),
        2500,
    )
    now = membership_views.membership_of(services, ada.id)
    assert now is not None and now.id == member.id
    assert (now.tier_name, now.monthly_price, now.discount_bp) == ("Gold", Money(4900), 2000)
    with services.uow(read_only=True) as uow:
        discount = memberships_service.member_discount_for(uow.session, ada.id, services.today())
    assert discount is not None and (discount.tier_name, discount.discount_bp) == ("Gold", 2000)
