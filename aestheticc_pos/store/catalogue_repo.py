"""Catalogue rows ↔ the catalogue's domain values (``domain/catalogue.py``).

Every function takes the unit of work's session and returns plain frozen values, never rows. ``save_*``
inserts or updates by id (the caller commits); ``load_*`` raises ``NotFound`` for an unknown id.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.orm import Session, selectinload

from aestheticc_pos.domain.catalogue import (
    BenefitsStart,
    DepositKind,
    DepositRule,
    Package,
    PackageStep,
    Product,
    Tier,
    Treatment,
)
from aestheticc_pos.domain.errors import NotFound
from aestheticc_pos.domain.money import Money
from aestheticc_pos.store.tables import (
    ClientPackageStepRow,
    PackageRow,
    PackageStepRow,
    ProductRow,
    TierRow,
    TreatmentRow,
)

# --- Treatments ---------------------------------------------------------------------------------------------


_LOAD_TREATMENT = select(TreatmentRow.__table__).where(TreatmentRow.__table__.c.id == bindparam("id"))


def load_treatment(session: Session, treatment_id: str) -> Treatment:
    session.flush()  # a Core read never autoflushes: a treatment saved earlier in this unit of work is found
    row = session.execute(_LOAD_TREATMENT, {"id": treatment_id}).first()  # built once: priced at every sale
    if row is None:
        raise NotFound("That treatment is not in the catalogue.")
    return _treatment(row)


def list_treatments(session: Session, *, active_only: bool = False) -> list[Treatment]:
    """Treatments by name; ``active_only`` leaves out those no longer offered."""
    query = select(TreatmentRow).order_by(func.lower(TreatmentRow.name), TreatmentRow.id)  # ignoring case
    if active_only:
        query = query.where(TreatmentRow.active)
    return [_treatment(row) for row in session.scalars(query)]


def save_treatment(session: Session, treatment: Treatment) -> None:
    row = session.get(TreatmentRow, treatment.id) or TreatmentRow(id=treatment.id)
    rule = treatment.deposit_rule
    row.name = treatment.name
    row.price_pence = treatment.price.pence
    row.currency = treatment.price.currency
    row.vat_rate_bp = treatment.vat_rate_bp
    row.duration_minutes = treatment.duration_minutes
    row.deposit_kind = rule.kind.value
    row.deposit_pence = rule.amount.pence if rule.amount is not None else None
    row.deposit_percent_bp = rule.percent_bp
    row.active = treatment.active
    session.add(row)


def _treatment(row: TreatmentRow | Row[Any]) -> Treatment:
    return Treatment(
        id=row.id,
        name=row.name,
        price=Money(row.price_pence, row.currency),
        vat_rate_bp=row.vat_rate_bp,
        duration_minutes=row.duration_minutes,
        deposit_rule=DepositRule(
            kind=DepositKind(row.deposit_kind),
            amount=Money(row.deposit_pence, row.currency) if row.deposit_pence is not None else None,
            percent_bp=row.deposit_percent_bp,
        ),
        active=row.active,
    )


# --- Products -----------------------------------------------------------------------------------------------


def load_product(session: Session, product_id: str) -> Product:
    row = session.get(ProductRow, product_id)
    if row is None:
        raise NotFound("That product is not in the catalogue.")
    return _product(row)


def list_products(session: Session, *, active_only: bool = False) -> list[Product]:
    query = select(ProductRow).order_by(func.lower(ProductRow.name), ProductRow.id)
    if active_only:
        query = query.where(ProductRow.active)
    return [_product(row) for row in session.scalars(query)]


def save_product(session: Session, product: Product) -> None:
    row = session.get(ProductRow, product.id) or ProductRow(id=product.id)
    row.name = product.name
    row.price_pence = product.price.pence
    row.currency = product.price.currency
    row.vat_rate_bp = product.vat_rate_bp
    row.active = product.active
    session.add(row)


def _product(row: ProductRow) -> Product:
    return Product(
        id=row.id,
        name=row.name,
        price=Money(row.price_pence, row.currency),
        vat_rate_bp=row.vat_rate_bp,
        active=row.active,
    )


# --- Packages -----------------------------------------------------------------------------------------------


@cache
def _with_steps() -> Any:
    """Load a package's steps and their treatments. Made when first asked for: building it at import would
    configure every mapper before the window's first paint (about 75 ms of the start)."""
    return selectinload(PackageRow.steps).selectinload(PackageStepRow.treatment)


def load_package(session: Session, package_id: str) -> Package:
    row = session.scalars(
        select(PackageRow)
        .where(PackageRow.id == package_id)
        .options(_with_steps())
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        raise NotFound("That package is not in the catalogue.")
    return _package(row)


def list_packages(session: Session, *, active_only: bool = False) -> list[Package]:
    query = (
        select(PackageRow)
        .options(_with_steps())
        .order_by(func.lower(PackageRow.name), PackageRow.id)
        .execution_options(populate_existing=True)
    )
    if active_only:
        query = query.where(PackageRow.active)
    return [_package(row) for row in session.scalars(query)]


def save_package(session: Session, package: Package) -> None:
    """Insert or update a package and replace its steps (a step's treatment must be in the catalogue)."""
    row = session.scalars(
        select(PackageRow).where(PackageRow.id == package.id).options(selectinload(PackageRow.steps))
    ).one_or_none()
    if row is None:
        row = PackageRow(id=package.id, steps=[])
        session.add(row)
    row.name = package.name
    row.description = package.description
    row.price_pence = package.price.pence
    row.currency = package.price.currency
    row.vat_rate_bp = package.vat_rate_bp
    row.validity_days = package.validity_days
    row.active = package.active
    existing = {step.position: step for step in row.steps}
    row.steps = [_package_step(existing.get(step.position), package.id, step) for step in package.steps]


def _package_step(row: PackageStepRow | None, package_id: str, step: PackageStep) -> PackageStepRow:
    row = row or PackageStepRow(package_id=package_id, position=step.position)
    row.treatment_id = step.treatment_id
    row.name = step.name
    row.sessions = step.sessions
    row.min_days_after_previous = step.min_days_after_previous
    row.min_days_between_sessions = step.min_days_between_sessions
    return row


def _package(row: PackageRow) -> Package:
    return Package(
        id=row.id,
        name=row.name,
        description=row.description,
        price=Money(row.price_pence, row.currency),
        vat_rate_bp=row.vat_rate_bp,
        validity_days=row.validity_days,
        active=row.active,
        steps=tuple(package_step_from(step) for step in row.steps),
    )


def package_step_from(row: PackageStepRow | ClientPackageStepRow) -> PackageStep:
    """The step terms of a catalogue package step or of a client package's snapshot of one."""
    return PackageStep(
        position=row.position,
        treatment_id=row.treatment_id,
        name=row.name,
        sessions=row.sessions,
        min_days_after_previous=row.min_days_after_previous,
        min_days_between_sessions=row.min_days_between_sessions,
    )


# --- Membership tiers ---------------------------------------------------------------------------------------


def load_tier(session: Session, tier_id: str) -> Tier:
    row = session.get(TierRow, tier_id)
    if row is None:
        raise NotFound("That membership tier is not in the catalogue.")
    return _tier(row)


def list_tiers(session: Session, *, active_only: bool = False) -> list[Tier]:
    """Tiers from the cheapest up (the order staff offer them in)."""
    query = select(TierRow).order_by(TierRow.monthly_price_pence, func.lower(TierRow.name), TierRow.id)
    if active_only:
        query = query.where(TierRow.active)
    return [_tier(row) for row in session.scalars(query)]


def save_tier(session: Session, tier: Tier) -> None:
    row = session.get(TierRow, tier.id) or TierRow(id=tier.id)
    row.name = tier.name
    row.description = tier.description
    row.monthly_price_pence = tier.monthly_price.pence
    row.signup_fee_pence = tier.signup_fee_pence
    row.currency = tier.monthly_price.currency
    row.discount_bp = tier.discount_bp
    row.covers_treatments = tier.covers_treatments
    row.covers_products = tier.covers_products
    row.covers_packages = tier.covers_packages
    row.benefits_start = tier.benefits_start.value
    row.grace_days = tier.grace_days
    row.active = tier.active
    session.add(row)


def _tier(row: TierRow) -> Tier:
    return Tier(
        id=row.id,
        name=row.name,
        description=row.description,
        monthly_price=Money(row.monthly_price_pence, row.currency),
        signup_fee_pence=row.signup_fee_pence,
        discount_bp=row.discount_bp,
        covers_treatments=row.covers_treatments,
        covers_products=row.covers_products,
        covers_packages=row.covers_packages,
        benefits_start=BenefitsStart(row.benefits_start),
        grace_days=row.grace_days,
        active=row.active,
    )
