"""The catalogue: treatments, products, packages and membership tiers (DESIGN.md §3; manager only for changes).

Each ``add_*`` takes what the manager typed (prices as text like "120.00", percentages like "20") and returns
the frozen domain value it saved. Each ``edit_*`` takes the same keyword names; the fields not given keep their
value. ``deactivate``/``reactivate`` take an item off sale or put it back. Every change is audited.

Editing the catalogue never changes what clients already bought: client packages and memberships hold their
own snapshot of the terms, and nothing here writes to them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from aestheticc_pos.domain.catalogue import (
    EXEMPT_VAT_BP,
    MAX_SESSIONS,
    MAX_VALIDITY_DAYS,
    NO_DEPOSIT,
    BenefitsStart,
    DepositKind,
    DepositRule,
    Package,
    PackageStep,
    Product,
    Tier,
    Treatment,
    require_name,
)
from aestheticc_pos.domain.errors import InvalidInput, NotFound, RuleViolation
from aestheticc_pos.domain.money import STANDARD_VAT_BP, Money
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import ClinicSettings, Services, read_clinic_settings
from aestheticc_pos.services.staff import require_staff
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store.audit_repo import append_audit

MAX_DESCRIPTION = 2000

Item = Treatment | Product | Package | Tier


class CatalogueKind(enum.StrEnum):
    """The four kinds of catalogue item (also the audit log's record type)."""

    TREATMENT = "treatment"
    PRODUCT = "product"
    PACKAGE = "package"
    TIER = "tier"


class VatRate(enum.StrEnum):
    """The VAT rates a clinic's items carry: standard (20%) or exempt (medical treatment by a registered
    professional)."""

    STANDARD = "standard"
    EXEMPT = "exempt"

    @property
    def basis_points(self) -> int:
        return STANDARD_VAT_BP if self is VatRate.STANDARD else EXEMPT_VAT_BP


class StepInput(NamedTuple):
    """One package step as the manager sets it up; a plain tuple ``(treatment_id, sessions, …)`` does too."""

    treatment_id: str
    sessions: int | str = 1
    min_days_after_previous: int | str = 0
    min_days_between_sessions: int | str = 0
    name: str | None = None  # what the package calls the step ("Consultation"); the treatment's name if empty


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
    return _add(services, staff_id, _TREATMENTS, fields)  # type: ignore[return-value]


@use_case(Action.EDIT_CATALOGUE)
def edit_treatment(services: Services, treatment_id: str, *, staff_id: str, **changes: Any) -> Treatment:
    """Change a treatment; ``changes`` take the keyword names of ``add_treatment``."""
    return _edit(services, staff_id, _TREATMENTS, treatment_id, changes)  # type: ignore[return-value]


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
    return _add(services, staff_id, _PRODUCTS, fields)  # type: ignore[return-value]


@use_case(Action.EDIT_CATALOGUE)
def edit_product(services: Services, product_id: str, *, staff_id: str, **changes: Any) -> Product:
    """Change a product; ``changes`` take the keyword names of ``add_product``."""
    return _edit(services, staff_id, _PRODUCTS, product_id, changes)  # type: ignore[return-value]


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
    return _add(services, staff_id, _PACKAGES, fields)  # type: ignore[return-value]


@use_case(Action.EDIT_CATALOGUE)
def edit_package(services: Services, package_id: str, *, staff_id: str, **changes: Any) -> Package:
    """Change a package; ``changes`` take the keyword names of ``add_package`` (``steps`` replaces them all)."""
    return _edit(services, staff_id, _PACKAGES, package_id, changes)  # type: ignore[return-value]


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
    return _add(services, staff_id, _TIERS, fields)  # type: ignore[return-value]


@use_case(Action.EDIT_CATALOGUE)
def edit_tier(services: Services, tier_id: str, *, staff_id: str, **changes: Any) -> Tier:
    """Change a tier; ``changes`` take the keyword names of ``add_tier``. Existing members keep the terms
    they signed up to (their membership's snapshot); the new terms apply to sign-ups and tier changes."""
    return _edit(services, staff_id, _TIERS, tier_id, changes)  # type: ignore[return-value]


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
    return _edit(services, staff_id, _spec(kind), item_id, {"active": False}, verb="deactivated")


@use_case(Action.EDIT_CATALOGUE)
def reactivate(services: Services, kind: CatalogueKind | str, item_id: str, *, staff_id: str) -> Item:
    """Offer an item again."""
    return _edit(services, staff_id, _spec(kind), item_id, {"active": True}, verb="reactivated")


# --- How each kind is built, loaded and saved ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    """What building an item from typed fields needs besides the fields."""

    session: Session
    settings: ClinicSettings
    current: Any  # the item being edited; None when adding


@dataclass(frozen=True, slots=True)
class _Spec:
    kind: CatalogueKind
    load: Callable[[Session, str], Any]
    save: Callable[[Session, Any], None]
    fields_of: Callable[[Any], dict[str, Any]]  # an item as the keyword fields ``build`` takes
    build: Callable[..., Any]  # build(context, item_id, **fields) -> the checked domain value


def _add(services: Services, staff_id: str, spec: _Spec, fields: dict[str, Any]) -> Any:
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, Action.EDIT_CATALOGUE)
        item = spec.build(_Context(s, read_clinic_settings(s), None), services.new_id(), **fields)
        spec.save(s, item)
        s.flush()
        append_audit(
            s,
            at=services.now(),
            staff_id=staff_id,
            action=f"{spec.kind}.added",
            record_type=spec.kind.value,
            record_id=item.id,
            details=_audit_values(spec.fields_of(item)),
        )
        uow.commit()
    return item


def _edit(
    services: Services,
    staff_id: str,
    spec: _Spec,
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
        item = spec.build(_Context(s, read_clinic_settings(s), current), current.id, **{**fields, **changes})
        before, after = _audit_values(fields), _audit_values(spec.fields_of(item))
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


def _build_treatment(
    ctx: _Context,
    item_id: str,
    *,
    name: str,
    price: str | Money,
    vat_rate: VatRate | str | int,
    duration_minutes: int | str,
    deposit: DepositKind | str,
    deposit_amount: str | Money | None,
    deposit_percent: str | int | None,
    active: bool,
) -> Treatment:
    currency = ctx.settings.currency
    price_ = _money(price, "The price", currency)
    kind = _choice(DepositKind, deposit, "The deposit", "none, fixed or percent")
    rule = NO_DEPOSIT
    if kind is DepositKind.FIXED:
        if deposit_amount is None or deposit_amount == "":
            raise InvalidInput("A fixed deposit needs an amount.", field="deposit")
        amount = _money(deposit_amount, "The deposit", currency)
        if amount > price_:
            raise InvalidInput("A deposit cannot be more than the treatment's price.", field="deposit")
        rule = DepositRule(DepositKind.FIXED, amount=amount)
    elif kind is DepositKind.PERCENT:
        if deposit_percent is None or deposit_percent == "":
            raise InvalidInput("A percentage deposit needs a percentage.", field="deposit")
        rule = DepositRule(
            DepositKind.PERCENT, percent_bp=inputs.percent(deposit_percent, what="The deposit")
        )
    return Treatment(
        id=item_id,
        name=_name(name, "A treatment"),
        price=price_,
        vat_rate_bp=_vat_rate(vat_rate),
        duration_minutes=inputs.whole_number(
            duration_minutes, what="A treatment's duration in minutes", minimum=5, maximum=8 * 60
        ),
        deposit_rule=rule,
        active=_flag(active, "active"),
    )


def _treatment_fields(t: Treatment) -> dict[str, Any]:
    rule = t.deposit_rule
    return dict(
        name=t.name,
        price=t.price,
        vat_rate=t.vat_rate_bp,
        duration_minutes=t.duration_minutes,
        deposit=rule.kind,
        deposit_amount=rule.amount,
        deposit_percent=rule.percent_bp if rule.kind is DepositKind.PERCENT else None,
        active=t.active,
    )


def _build_product(
    ctx: _Context, item_id: str, *, name: str, price: str | Money, vat_rate: VatRate | str | int, active: bool
) -> Product:
    return Product(
        id=item_id,
        name=_name(name, "A product"),
        price=_money(price, "The price", ctx.settings.currency),
        vat_rate_bp=_vat_rate(vat_rate),
        active=_flag(active, "active"),
    )


def _product_fields(p: Product) -> dict[str, Any]:
    return dict(name=p.name, price=p.price, vat_rate=p.vat_rate_bp, active=p.active)


def _build_package(
    ctx: _Context,
    item_id: str,
    *,
    name: str,
    price: str | Money,
    validity_days: int | str,
    steps: Iterable[StepInput | Sequence[Any]],
    description: str,
    vat_rate: VatRate | str | int,
    active: bool,
) -> Package:
    return Package(
        id=item_id,
        name=_name(name, "A package"),
        price=_money(price, "The price", ctx.settings.currency),
        validity_days=inputs.whole_number(
            validity_days, what="A package's validity in days", minimum=1, maximum=MAX_VALIDITY_DAYS
        ),
        steps=_package_steps(ctx, steps),
        description=inputs.text(
            description, what="The description", required=False, max_length=MAX_DESCRIPTION
        ),
        vat_rate_bp=_vat_rate(vat_rate),
        active=_flag(active, "active"),
    )


def _package_steps(ctx: _Context, steps: Iterable[StepInput | Sequence[Any]]) -> tuple[PackageStep, ...]:
    """The steps, numbered from 1, each named as the manager typed it or else after its treatment.

    A treatment no longer offered cannot be put into a package, but a package that already has it keeps it.
    """
    already_in = {s.treatment_id for s in ctx.current.steps} if ctx.current is not None else set()
    result = []
    for position, raw in enumerate(steps or (), start=1):
        try:
            step = StepInput(*raw) if not isinstance(raw, str) else None
        except TypeError:
            step = None
        if step is None:
            raise InvalidInput(f"Step {position} needs a treatment and a number of sessions.", field="steps")
        try:
            treatment = catalogue_repo.load_treatment(ctx.session, str(step.treatment_id))
        except NotFound:
            raise NotFound(f"Step {position}: that treatment is not in the catalogue.") from None
        if not treatment.active and treatment.id not in already_in:
            raise RuleViolation(
                f"Step {position}: {treatment.name} is no longer offered. Choose another treatment."
            )
        what = f"Step {position} ({treatment.name})"
        result.append(
            PackageStep(
                position=position,
                treatment_id=treatment.id,
                treatment_name=inputs.text(
                    step.name, what=f"Step {position}'s name", required=False, max_length=120
                )
                or treatment.name,
                sessions=inputs.whole_number(
                    step.sessions, what=f"{what}'s number of sessions", minimum=1, maximum=MAX_SESSIONS
                ),
                min_days_after_previous=inputs.whole_number(
                    step.min_days_after_previous,
                    what=f"{what}'s days after the previous step",
                    maximum=MAX_VALIDITY_DAYS,
                ),
                min_days_between_sessions=inputs.whole_number(
                    step.min_days_between_sessions,
                    what=f"{what}'s days between sessions",
                    maximum=MAX_VALIDITY_DAYS,
                ),
            )
        )
    return tuple(result)


def _package_fields(p: Package) -> dict[str, Any]:
    return dict(
        name=p.name,
        price=p.price,
        validity_days=p.validity_days,
        steps=tuple(
            StepInput(
                s.treatment_id,
                s.sessions,
                s.min_days_after_previous,
                s.min_days_between_sessions,
                s.treatment_name,
            )
            for s in p.steps
        ),
        description=p.description,
        vat_rate=p.vat_rate_bp,
        active=p.active,
    )


def _build_tier(
    ctx: _Context,
    item_id: str,
    *,
    name: str,
    monthly_price: str | Money,
    discount: str | int,
    covers_treatments: bool,
    covers_products: bool,
    covers_packages: bool,
    benefits_start: BenefitsStart | str,
    grace_days: int | str | None,
    description: str,
    active: bool,
    signup_fee: str | Money = "0",
) -> Tier:
    if grace_days is None or grace_days == "":
        grace_days = ctx.settings.grace_days
    fee = _money(
        signup_fee if signup_fee not in (None, "") else "0", "The sign-up fee", ctx.settings.currency
    )
    return Tier(
        id=item_id,
        name=_name(name, "A membership tier"),
        monthly_price=_money(monthly_price, "The monthly price", ctx.settings.currency),
        signup_fee_pence=fee.pence,
        discount_bp=inputs.percent(discount, what="The member discount"),
        covers_treatments=_flag(covers_treatments, "covers treatments"),
        covers_products=_flag(covers_products, "covers products"),
        covers_packages=_flag(covers_packages, "covers packages"),
        benefits_start=_choice(
            BenefitsStart, benefits_start, "When benefits start", "sign_up or first_payment"
        ),
        grace_days=inputs.whole_number(grace_days, what="The grace period in days", maximum=60),
        active=_flag(active, "active"),
        description=inputs.text(
            description, what="The description", required=False, max_length=MAX_DESCRIPTION
        ),
    )


def _tier_fields(t: Tier) -> dict[str, Any]:
    return dict(
        name=t.name,
        monthly_price=t.monthly_price,
        signup_fee=t.signup_fee,
        discount=t.discount_bp,
        covers_treatments=t.covers_treatments,
        covers_products=t.covers_products,
        covers_packages=t.covers_packages,
        benefits_start=t.benefits_start,
        grace_days=t.grace_days,
        description=t.description,
        active=t.active,
    )


_TREATMENTS = _Spec(
    CatalogueKind.TREATMENT,
    catalogue_repo.load_treatment,
    catalogue_repo.save_treatment,
    _treatment_fields,
    _build_treatment,
)
_PRODUCTS = _Spec(
    CatalogueKind.PRODUCT,
    catalogue_repo.load_product,
    catalogue_repo.save_product,
    _product_fields,
    _build_product,
)
_PACKAGES = _Spec(
    CatalogueKind.PACKAGE,
    catalogue_repo.load_package,
    catalogue_repo.save_package,
    _package_fields,
    _build_package,
)
_TIERS = _Spec(
    CatalogueKind.TIER, catalogue_repo.load_tier, catalogue_repo.save_tier, _tier_fields, _build_tier
)
_SPECS = {spec.kind: spec for spec in (_TREATMENTS, _PRODUCTS, _PACKAGES, _TIERS)}


def _spec(kind: CatalogueKind | str) -> _Spec:
    return _SPECS[_choice(CatalogueKind, kind, "The kind of item", "treatment, product, package or tier")]


# --- Reading typed values -----------------------------------------------------------------------------------


def _name(value: str, what: str) -> str:
    return " ".join(require_name(value, what).split())


def _money(value: str | Money, what: str, currency: str) -> Money:
    amount = inputs.money(value, what=what, currency=currency)
    if amount.currency != currency:
        raise InvalidInput(f"{what} must be in {currency}, the clinic's currency.", field="price")
    return amount


def _vat_rate(value: VatRate | str | int) -> int:
    """The basis points of "standard" (20%) or "exempt" (0%); "20", "0%" and the ints 2000 and 0 also do."""
    allowed = {rate.basis_points for rate in VatRate}
    if isinstance(value, int) and not isinstance(value, bool):
        bp = value
    else:
        text = str(getattr(value, "value", value)).strip().lower()
        try:
            bp = VatRate(text).basis_points
        except ValueError:
            try:
                bp = inputs.percent(text, what="The VAT rate")
            except InvalidInput:
                bp = -1
    if bp not in allowed:
        raise InvalidInput(f"“{value}” is not a VAT rate: choose standard (20%) or exempt.", field="vat_rate")
    return bp


def _choice(enum_type: type[Any], value: object, what: str, options: str) -> Any:
    try:
        return enum_type(str(getattr(value, "value", value)).strip().lower())
    except ValueError:
        raise InvalidInput(f"{what}: “{value}” is not one of {options}.") from None


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"“{what}” is yes or no.")
    return value


def _audit_values(fields: dict[str, Any]) -> dict[str, str]:
    """An item's fields as audit details: ids and figures, as text ("120.00 GBP", "yes", "t1×3+14d/28d")."""
    values: dict[str, str] = {}
    for key, value in fields.items():
        if isinstance(value, bool):
            values[key] = "yes" if value else "no"
        elif value is None:
            values[key] = ""
        elif key == "steps":
            values[key] = "; ".join(
                f"{s.treatment_id}×{s.sessions}+{s.min_days_after_previous}d/{s.min_days_between_sessions}d"
                for s in value
            )
        else:
            values[key] = str(getattr(value, "value", value))
    return values
