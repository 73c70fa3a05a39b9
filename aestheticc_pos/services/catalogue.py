"""The catalogue: treatments, products, packages and membership tiers (DESIGN.md §3; manager only for changes).

Each ``add_*`` takes what the manager typed (prices as text like "120.00", percentages like "20") and returns
the frozen domain value it saved. Each ``edit_*`` takes the same keyword names; the fields not given keep their
value. ``deactivate``/``reactivate`` take an item off sale or put it back. Every change is audited.

How each kind is built from typed fields and checked lives in ``catalogue_items.py``. Editing the catalogue
never changes what clients already bought: client packages and memberships hold their
own snapshot of the terms, and nothing here writes to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aestheticc_pos.domain.catalogue import (
    BenefitsStart,
    DepositKind,
    Package,
    Product,
    Tier,
    Treatment,
)
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.catalogue_items import (
    PACKAGES,
    PRODUCTS,
    TIERS,
    TREATMENTS,
    CatalogueKind,
    ItemContext,
    ItemSpec,
    StepInput,
    VatRate,
    audit_values,
    spec_of,
)
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.services.staff import require_staff
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store.audit_repo import append_audit

MAX_DESCRIPTION = 2000

Item = Treatment | Product | Package | Tier


# --- Treatments ---------------------------------------------------------------------------------------------


@use_case(Action.EDIT_CATALOGUE)
def add_treatment(
    services: Services,
    *,
    staff_id: str,
    name: str,
    price: str | Money,
    vat_rate: VatRate | str | int = VatRate.STANDARD,
    duration_minutes: int | str = 30,
    deposit: DepositKind | str = DepositKind.NONE,
    deposit_amount: str | Money | None = None,
    deposit_percent: str | int | None = None,
    active: bool = True,
) -> Treatment:
    """Add a treatment. ``deposit`` is "none", "fixed" (``deposit_amount``) or "percent" (``deposit_percent``:
    "25" for 25%, or an int number of basis points)."""
    fields = dict(
        name=name,
        price=price,
        vat_rate=vat_rate,
        duration_minutes=duration_minutes,
        deposit=deposit,
        deposit_amount=deposit_amount,
        deposit_percent=deposit_percent,
        active=active,
    )
    return _add(services, staff_id, TREATMENTS, fields)  # type: ignore[return-value]


@use_case(Action.EDIT_CATALOGUE)
def edit_treatment(services: Services, treatment_id: str, *, staff_id: str, **changes: Any) -> Treatment:
    """Change a treatment; ``changes`` take the keyword names of ``add_treatment``."""
    return _edit(services, staff_id, TREATMENTS, treatment_id, changes)  # type: ignore[return-value]


@use_case(Audience.ANY_STAFF)
def list_treatments(services: Services, *, active_only: bool = True) -> list[Treatment]:
    with services.uow(read_only=True) as uow:
        return catalogue_repo.list_treatments(uow.session, active_only=active_only)


@use_case(Audience.ANY_STAFF)
def get_treatment(services: Services, treatment_id: str) -> Treatment:
    with services.uow(read_only=True) as uow:
        return catalogue_repo.load_treatment(uow.session, treatment_id)


# --- Products -----------------------------------------------------------------------------------------------


@use_case(Action.EDIT_CATALOGUE)
def add_product(
    services: Services,
    *,
    staff_id: str,
    name: str,
    price: str | Money,
    vat_rate: VatRate | str | int = VatRate.STANDARD,
    active: bool = True,
) -> Product:
    fields = dict(name=name, price=price, vat_rate=vat_rate, active=active)
    return _add(services, staff_id, PRODUCTS, fields)  # type: ignore[return-value]


@use_case(Action.EDIT_CATALOGUE)
def edit_product(services: Services, product_id: str, *, staff_id: str, **changes: Any) -> Product:
    """Change a product; ``changes`` take the keyword names of ``add_product``."""
    return _edit(services, staff_id, PRODUCTS, product_id, changes)  # type: ignore[return-value]


@use_case(Audience.ANY_STAFF)
def list_products(services: Services, *, active_only: bool = True) -> list[Product]:
    with services.uow(read_only=True) as uow:
        return catalogue_repo.list_products(uow.session, active_only=active_only)


@use_case(Audience.ANY_STAFF)
def get_product(services: Services, product_id: str) -> Product:
    with services.uow(read_only=True) as uow:
        return catalogue_repo.load_product(uow.session, product_id)


# --- Packages -----------------------------------------------------------------------------------------------


@use_case(Action.EDIT_CATALOGUE)
def add_package(
    services: Services,
    *,
    staff_id: str,
    name: str,
    price: str | Money,
    validity_days: int | str,
    steps: Sequence[StepInput | Sequence[Any]],
    description: str = "",
    vat_rate: VatRate | str | int = VatRate.STANDARD,
    active: bool = True,
) -> Package:
    """Add a package. ``steps`` are in order: ``(treatment_id, sessions, min_days_after_previous,
    min_days_between_sessions)``; each step takes its treatment's name from the catalogue."""
    fields = dict(
        name=name,
        price=price,
        validity_days=validity_days,
        steps=steps,
        description=description,
        vat_rate=vat_rate,
        active=active,
    )
    return _add(services, staff_id, PACKAGES, fields)  # type: ignore[return-value]


@use_case(Action.EDIT_CATALOGUE)
def edit_package(services: Services, package_id: str, *, staff_id: str, **changes: Any) -> Package:
    """Change a package; ``changes`` take the keyword names of ``add_package`` (``steps`` replaces them all)."""
    return _edit(services, staff_id, PACKAGES, package_id, changes)  # type: ignore[return-value]


@use_case(Audience.ANY_STAFF)
def list_packages(services: Services, *, active_only: bool = True) -> list[Package]:
    with services.uow(read_only=True) as uow:
        return catalogue_repo.list_packages(uow.session, active_only=active_only)


@use_case(Audience.ANY_STAFF)
def get_package(services: Services, package_id: str) -> Package:
    with services.uow(read_only=True) as uow:
        return catalogue_repo.load_package(uow.session, package_id)


# --- Membership tiers ---------------------------------------------------------------------------------------


@use_case(Action.EDIT_CATALOGUE)
def add_tier(
    services: Services,
    *,
    staff_id: str,
    name: str,
    monthly_price: str | Money,
    discount: str | int,
    covers_treatments: bool = True,
    covers_products: bool = False,
    covers_packages: bool = False,
    benefits_start: BenefitsStart | str = BenefitsStart.FIRST_PAYMENT,
    grace_days: int | str | None = None,
    description: str = "",
    active: bool = True,
    signup_fee: str | Money = "0",
) -> Tier:
    """Add a membership tier. ``discount`` is "20" for 20% (or an int number of basis points);
    ``grace_days`` defaults to the clinic's setting; ``signup_fee`` (default none) is collected once, with
    the first month."""
    fields = dict(
        name=name,
        monthly_price=monthly_price,
        signup_fee=signup_fee,
        discount=discount,
        covers_treatments=covers_treatments,
        covers_products=covers_products,
        covers_packages=covers_packages,
        benefits_start=benefits_start,
        grace_days=grace_days,
        description=description,
        active=active,
    )
    return _add(services, staff_id, TIERS, fields)  # type: ignore[return-value]


@use_case(Action.EDIT_CATALOGUE)
def edit_tier(services: Services, tier_id: str, *, staff_id: str, **changes: Any) -> Tier:
    """Change a tier; ``changes`` take the keyword names of ``add_tier``. Existing members keep the terms
    they signed up to (their membership's snapshot); the new terms apply to sign-ups and tier changes."""
    return _edit(services, staff_id, TIERS, tier_id, changes)  # type: ignore[return-value]


@use_case(Audience.ANY_STAFF)
def list_tiers(services: Services, *, active_only: bool = True) -> list[Tier]:
    with services.uow(read_only=True) as uow:
        return catalogue_repo.list_tiers(uow.session, active_only=active_only)


@use_case(Audience.ANY_STAFF)
def get_tier(services: Services, tier_id: str) -> Tier:
    with services.uow(read_only=True) as uow:
        return catalogue_repo.load_tier(uow.session, tier_id)


# --- Any kind -----------------------------------------------------------------------------------------------


@use_case(Action.EDIT_CATALOGUE)
def deactivate(services: Services, kind: CatalogueKind | str, item_id: str, *, staff_id: str) -> Item:
    """Take an item off sale (and off the booking portal). What clients already bought is unaffected."""
    return _edit(services, staff_id, spec_of(kind), item_id, {"active": False}, verb="deactivated")


@use_case(Action.EDIT_CATALOGUE)
def reactivate(services: Services, kind: CatalogueKind | str, item_id: str, *, staff_id: str) -> Item:
    """Offer an item again."""
    return _edit(services, staff_id, spec_of(kind), item_id, {"active": True}, verb="reactivated")


# --- How each kind is built, loaded and saved ---------------------------------------------------------------


# --- Adding and editing any kind ------------------------------------------------------------------------------


def _add(services: Services, staff_id: str, spec: ItemSpec, fields: dict[str, Any]) -> Any:
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, Action.EDIT_CATALOGUE)
        item = spec.build(ItemContext(s, read_clinic_settings(s), None), services.new_id(), **fields)
        spec.save(s, item)
        s.flush()
        append_audit(
            s,
            at=services.now(),
            staff_id=staff_id,
            action=f"{spec.kind}.added",
            record_type=spec.kind.value,
            record_id=item.id,
            details=audit_values(spec.fields_of(item)),
        )
        uow.commit()
    return item


def _edit(
    services: Services,
    staff_id: str,
    spec: ItemSpec,
    item_id: str,
    changes: dict[str, Any],
    *,
    verb: str = "edited",
) -> Any:
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, Action.EDIT_CATALOGUE)
        current = spec.load(s, item_id)
        fields = spec.fields_of(current)
        unknown = set(changes) - set(fields)
        if unknown:
            raise TypeError(f"unknown {spec.kind} fields: {sorted(unknown)}")
        item = spec.build(
            ItemContext(s, read_clinic_settings(s), current), current.id, **{**fields, **changes}
        )
        before, after = audit_values(fields), audit_values(spec.fields_of(item))
        changed = {key: f"{before[key]} → {after[key]}" for key in after if before.get(key) != after[key]}
        if changed:
            spec.save(s, item)
            s.flush()
            append_audit(
                s,
                at=services.now(),
                staff_id=staff_id,
                action=f"{spec.kind}.{verb}",
                record_type=spec.kind.value,
                record_id=item.id,
                details=changed,
            )
            uow.commit()
    return item
