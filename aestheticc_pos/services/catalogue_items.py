"""How each kind of catalogue item is built from what the manager typed, checked, and read back as fields.

The lower half of ``services/catalogue.py``: the use cases there add and edit through an ``ItemSpec`` per kind
(load, save, its fields, and ``build(context, item_id, **fields)`` which returns the checked domain value or
raises ``InvalidInput`` with a sentence). Nothing here opens a unit of work.
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
    check_validity_days,
    require_name,
)
from aestheticc_pos.domain.errors import InvalidInput, NotFound, Refusals, RuleViolation
from aestheticc_pos.domain.money import STANDARD_VAT_BP, Money
from aestheticc_pos.services import inputs
from aestheticc_pos.services.context import ClinicSettings
from aestheticc_pos.store import catalogue_repo

MAX_DESCRIPTION = 2000


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


@dataclass(frozen=True, slots=True)
class ItemContext:
    """What building an item from typed fields needs besides the fields."""

    session: Session
    settings: ClinicSettings
    current: Any  # the item being edited; None when adding


@dataclass(frozen=True, slots=True)
class ItemSpec:
    kind: CatalogueKind
    load: Callable[[Session, str], Any]
    save: Callable[[Session, Any], None]
    fields_of: Callable[[Any], dict[str, Any]]  # an item as the keyword fields ``build`` takes
    build: Callable[..., Any]  # build(context, item_id, **fields) -> the checked domain value


def _build_treatment(
    ctx: ItemContext,
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
    refusals = Refusals()
    name_ = refusals.check("name", lambda: _name(name, "A treatment"))
    price_ = refusals.check("price", lambda: _money(price, "The price", currency))
    vat_bp = refusals.check("vat_rate", lambda: _vat_rate(vat_rate))
    minutes = refusals.check(
        "duration_minutes",
        lambda: inputs.whole_number(
            duration_minutes, what="A treatment's duration in minutes", minimum=5, maximum=8 * 60
        ),
    )
    rule = refusals.check(
        "deposit", lambda: _deposit_rule(deposit, deposit_amount, deposit_percent, price_, currency)
    )
    refusals.raise_any()
    return Treatment(
        id=item_id,
        name=name_,  # every None was refused above
        price=price_,
        vat_rate_bp=vat_bp,
        duration_minutes=minutes,
        deposit_rule=rule,
        active=_flag(active, "active"),
    )


def _deposit_rule(
    deposit: DepositKind | str,
    amount: str | Money | None,
    percent: str | int | None,
    price: Money | None,
    currency: str,
) -> DepositRule:
    """The deposit a booking takes; ``price`` None when the price itself was refused."""
    kind = _choice(DepositKind, deposit, "The deposit", "none, fixed or percent")
    if kind is DepositKind.FIXED:
        if amount is None or amount == "":
            raise InvalidInput("A fixed deposit needs an amount.", field="deposit")
        fixed = _money(amount, "The deposit", currency)
        if price is not None and fixed > price:
            raise InvalidInput("A deposit cannot be more than the treatment's price.", field="deposit")
        return DepositRule(DepositKind.FIXED, amount=fixed)
    if kind is DepositKind.PERCENT:
        if percent is None or percent == "":
            raise InvalidInput("A percentage deposit needs a percentage.", field="deposit")
        return DepositRule(DepositKind.PERCENT, percent_bp=inputs.percent(percent, what="The deposit"))
    return NO_DEPOSIT


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
    ctx: ItemContext,
    item_id: str,
    *,
    name: str,
    price: str | Money,
    vat_rate: VatRate | str | int,
    active: bool,
) -> Product:
    refusals = Refusals()
    name_ = refusals.check("name", lambda: _name(name, "A product"))
    price_ = refusals.check("price", lambda: _money(price, "The price", ctx.settings.currency))
    vat_bp = refusals.check("vat_rate", lambda: _vat_rate(vat_rate))
    refusals.raise_any()
    return Product(
        id=item_id,
        name=name_,  # every None was refused above
        price=price_,
        vat_rate_bp=vat_bp,
        active=_flag(active, "active"),
    )


def _product_fields(p: Product) -> dict[str, Any]:
    return dict(name=p.name, price=p.price, vat_rate=p.vat_rate_bp, active=p.active)


def _build_package(
    ctx: ItemContext,
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
    refusals = Refusals()
    name_ = refusals.check("name", lambda: _name(name, "A package"))
    text = refusals.check(
        "description",
        lambda: inputs.text(description, what="The description", required=False, max_length=MAX_DESCRIPTION),
    )
    price_ = refusals.check("price", lambda: _money(price, "The price", ctx.settings.currency))
    vat_bp = refusals.check("vat_rate", lambda: _vat_rate(vat_rate))
    days = refusals.check("validity_days", lambda: _validity_days(validity_days))
    steps_ = refusals.check("steps", lambda: _package_steps(ctx, steps))
    refusals.raise_any()
    return Package(
        id=item_id,
        name=name_,  # every None was refused above
        price=price_,
        validity_days=days,
        steps=steps_,
        description=text,
        vat_rate_bp=vat_bp,
        active=_flag(active, "active"),
    )


def _validity_days(value: int | str) -> int:
    """How many days a package is valid: typed as a whole number, then the domain's rule (0 is refused)."""
    days = inputs.whole_number(value, what="A package's validity in days", minimum=-100_000, maximum=100_000)
    return check_validity_days(days)


def _package_steps(ctx: ItemContext, steps: Iterable[StepInput | Sequence[Any]]) -> tuple[PackageStep, ...]:
    """The steps, numbered from 1, each named as the manager typed it or else after its treatment.

    A treatment no longer offered cannot be put into a package, but a package that already has it keeps it.
    """
    already_in = {s.treatment_id for s in ctx.current.steps} if ctx.current is not None else set()
    steps = list(steps or ())
    if not steps:  # said here too, with the other fields' refusals (the domain says it again)
        raise InvalidInput("A package needs at least one treatment step.", field="steps")
    result = []
    for position, raw in enumerate(steps, start=1):
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
                name=inputs.text(step.name, what=f"Step {position}'s name", required=False, max_length=120)
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
                s.name,
            )
            for s in p.steps
        ),
        description=p.description,
        vat_rate=p.vat_rate_bp,
        active=p.active,
    )


def _build_tier(
    ctx: ItemContext,
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
    currency = ctx.settings.currency
    refusals = Refusals()
    name_ = refusals.check("name", lambda: _name(name, "A membership tier"))
    monthly = refusals.check("monthly_price", lambda: _money(monthly_price, "The monthly price", currency))
    fee = refusals.check(
        "signup_fee",
        lambda: _money(signup_fee if signup_fee not in (None, "") else "0", "The sign-up fee", currency),
    )
    discount_bp = refusals.check("discount", lambda: inputs.percent(discount, what="The member discount"))
    grace = refusals.check(
        "grace_days", lambda: inputs.whole_number(grace_days, what="The grace period in days", maximum=60)
    )
    refusals.raise_any()
    assert fee is not None
    return Tier(
        id=item_id,
        name=name_,  # every None was refused above
        monthly_price=monthly,
        signup_fee_pence=fee.pence,
        discount_bp=discount_bp,
        covers_treatments=_flag(covers_treatments, "covers treatments"),
        covers_products=_flag(covers_products, "covers products"),
        covers_packages=_flag(covers_packages, "covers packages"),
        benefits_start=_choice(
            BenefitsStart, benefits_start, "When benefits start", "sign_up or first_payment"
        ),
        grace_days=grace,
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


TREATMENTS = ItemSpec(
    CatalogueKind.TREATMENT,
    catalogue_repo.load_treatment,
    catalogue_repo.save_treatment,
    _treatment_fields,
    _build_treatment,
)
PRODUCTS = ItemSpec(
    CatalogueKind.PRODUCT,
    catalogue_repo.load_product,
    catalogue_repo.save_product,
    _product_fields,
    _build_product,
)
PACKAGES = ItemSpec(
    CatalogueKind.PACKAGE,
    catalogue_repo.load_package,
    catalogue_repo.save_package,
    _package_fields,
    _build_package,
)
TIERS = ItemSpec(
    CatalogueKind.TIER, catalogue_repo.load_tier, catalogue_repo.save_tier, _tier_fields, _build_tier
)
SPECS = {spec.kind: spec for spec in (TREATMENTS, PRODUCTS, PACKAGES, TIERS)}


def spec_of(kind: CatalogueKind | str) -> ItemSpec:
    return SPECS[_choice(CatalogueKind, kind, "The kind of item", "treatment, product, package or tier")]


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


def audit_values(fields: dict[str, Any]) -> dict[str, str]:
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
