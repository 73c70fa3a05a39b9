"""What the clinic sells: treatments, products, packages with steps, membership tiers (DESIGN.md §3).

These are the catalogue's terms as plain frozen values. A client package or membership keeps its own copy
(snapshot) of the terms it was sold under, so editing the catalogue never changes what a client bought.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.domain.money import STANDARD_VAT_BP, Money, check_basis_points

EXEMPT_VAT_BP = 0
MAX_VALIDITY_DAYS = 3660
MAX_SESSIONS = 100


class ItemKind(enum.StrEnum):
    """What a basket line sells."""

    TREATMENT = "treatment"
    PRODUCT = "product"
    PACKAGE = "package"
    MEMBERSHIP = "membership"


class DepositKind(enum.StrEnum):
    NONE = "none"
    FIXED = "fixed"
    PERCENT = "percent"


@dataclass(frozen=True, slots=True)
class DepositRule:
    """How much a client pays online when booking a treatment.

    FIXED takes ``amount`` (never more than the discounted price); PERCENT takes ``percent_bp`` of the
    discounted price (the member discount applies first: DESIGN.md §3 "Pricing").
    """

    kind: DepositKind = DepositKind.NONE
    amount: Money | None = None
    percent_bp: int = 0

    def __post_init__(self) -> None:
        if self.kind is DepositKind.FIXED and (self.amount is None or self.amount.pence <= 0):
            raise InvalidInput("A fixed deposit needs an amount above zero.", field="deposit")
        if self.kind is DepositKind.PERCENT:
            check_basis_points(self.percent_bp, what="A deposit percentage")
            if self.percent_bp == 0:
                raise InvalidInput("A percentage deposit needs a percentage above zero.", field="deposit")

    def deposit_for(self, discounted_price: Money) -> Money:
        """The deposit due on a treatment whose price after discounts is ``discounted_price``."""
        if self.kind is DepositKind.NONE:
            return Money.zero(discounted_price.currency)
        if self.kind is DepositKind.FIXED:
            assert self.amount is not None
            return self.amount.min(discounted_price)
        return discounted_price.percent(self.percent_bp)


NO_DEPOSIT = DepositRule()


@dataclass(frozen=True, slots=True)
class Treatment:
    """A treatment (or consultation, or review) on the menu. ``price`` includes VAT."""

    id: str
    name: str
    price: Money
    vat_rate_bp: int = STANDARD_VAT_BP
    duration_minutes: int = 30
    deposit_rule: DepositRule = NO_DEPOSIT
    active: bool = True

    def __post_init__(self) -> None:
        require_name(self.name, "A treatment")
        require_price(self.price, "A treatment")
        check_basis_points(self.vat_rate_bp, what="A VAT rate")
        if not 5 <= self.duration_minutes <= 8 * 60:
            raise InvalidInput("A treatment lasts between 5 minutes and 8 hours.", field="duration")


@dataclass(frozen=True, slots=True)
class Product:
    """A retail product (skincare, aftercare). ``price`` includes VAT."""

    id: str
    name: str
    price: Money
    vat_rate_bp: int = STANDARD_VAT_BP
    active: bool = True

    def __post_init__(self) -> None:
        require_name(self.name, "A product")
        require_price(self.price, "A product")
        check_basis_points(self.vat_rate_bp, what="A VAT rate")


@dataclass(frozen=True, slots=True)
class PackageStep:
    """One step of a package: ``sessions`` of one treatment.

    ``position`` counts from 1. ``min_days_after_previous`` is measured from the last session of the previous
    step (ignored for step 1); ``min_days_between_sessions`` separates this step's own sessions.
    """

    position: int
    treatment_id: str
    name: str
    sessions: int = 1
    min_days_after_previous: int = 0
    min_days_between_sessions: int = 0

    def __post_init__(self) -> None:
        if self.position < 1:
            raise InvalidInput("Package steps are numbered from 1.", field="steps")
        if not 1 <= self.sessions <= MAX_SESSIONS:
            raise InvalidInput(f"A step has between 1 and {MAX_SESSIONS} sessions.", field="sessions")
        if self.min_days_after_previous < 0 or self.min_days_between_sessions < 0:
            raise InvalidInput("A minimum delay cannot be negative.", field="delay")


@dataclass(frozen=True, slots=True)
class Package:
    """A course of treatments sold up front at one fixed price, valid ``validity_days`` from purchase."""

    id: str
    name: str
    price: Money
    validity_days: int
    steps: tuple[PackageStep, ...]
    description: str = ""
    active: bool = True
    vat_rate_bp: int = STANDARD_VAT_BP

    def __post_init__(self) -> None:
        require_name(self.name, "A package")
        require_price(self.price, "A package")
        check_basis_points(self.vat_rate_bp, what="A VAT rate")
        check_validity_days(self.validity_days)
        if not self.steps:
            raise InvalidInput("A package needs at least one treatment step.", field="steps")
        if [s.position for s in self.steps] != list(range(1, len(self.steps) + 1)):
            raise InvalidInput("Package steps must be numbered 1, 2, 3… in order.", field="steps")

    @property
    def total_sessions(self) -> int:
        return sum(step.sessions for step in self.steps)

    def step(self, position: int) -> PackageStep:
        return self.steps[position - 1]


class BenefitsStart(enum.StrEnum):
    """When a new member's discount starts."""

    SIGN_UP = "sign_up"
    FIRST_PAYMENT = "first_payment"


@dataclass(frozen=True, slots=True)
class Tier:
    """A membership level: a monthly price collected by Direct Debit and a discount on what it covers."""

    id: str
    name: str
    monthly_price: Money
    discount_bp: int
    covers_treatments: bool = True
    covers_products: bool = False
    covers_packages: bool = False
    benefits_start: BenefitsStart = BenefitsStart.FIRST_PAYMENT
    grace_days: int = 7
    active: bool = True
    description: str = ""
    signup_fee_pence: int = 0  # collected once, with the first month

    def __post_init__(self) -> None:
        require_name(self.name, "A membership tier")
        require_price(self.monthly_price, "A membership tier")
        if self.monthly_price.pence == 0:
            raise InvalidInput("A membership tier needs a monthly price above zero.", field="price")
        check_basis_points(self.discount_bp, what="A member discount")
        if not 0 <= self.grace_days <= 60:
            raise InvalidInput("A grace period is between 0 and 60 days.", field="grace")
        if self.signup_fee_pence < 0:
            raise InvalidInput("A sign-up fee cannot be negative.", field="signup_fee")

    @property
    def signup_fee(self) -> Money:
        """The one-off fee collected with the first month (zero when the tier has none)."""
        return Money(self.signup_fee_pence, self.monthly_price.currency)

    def covers(self, kind: ItemKind) -> bool:
        """Whether this tier's discount applies to a line of ``kind``."""
        return discount_covers(kind, self.covers_treatments, self.covers_products, self.covers_packages)


def discount_covers(kind: ItemKind, treatments: bool, products: bool, packages: bool) -> bool:
    """Whether a member discount covering these kinds applies to a line of ``kind`` (never a membership)."""
    return {ItemKind.TREATMENT: treatments, ItemKind.PRODUCT: products, ItemKind.PACKAGE: packages}.get(
        kind, False
    )


@dataclass(frozen=True, slots=True)
class Catalogue:
    """A read-only view of the sellable catalogue, for rules that need to look items up."""

    treatments: dict[str, Treatment] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    packages: dict[str, Package] = field(default_factory=dict)
    tiers: dict[str, Tier] = field(default_factory=dict)


def check_validity_days(days: int) -> int:
    """A package's validity in days: at least one (a package valid for no days could never be used)."""
    if days < 1:
        raise InvalidInput(
            f"A package must be valid for at least 1 day (you typed {days}): type how many days it lasts "
            "from the day the client buys it.",
            field="validity",
        )
    if days > MAX_VALIDITY_DAYS:
        raise InvalidInput(
            f"A package can be valid for {MAX_VALIDITY_DAYS} days at most (you typed {days}).",
            field="validity",
        )
    return days


def require_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"{what} needs a name.", field="name")
    if len(name) > 120:
        raise InvalidInput(f"{what}'s name is too long (120 characters at most).", field="name")
    return name.strip()


def require_price(price: Money, what: str) -> Money:
    if not isinstance(price, Money):
        raise InvalidInput(f"{what} needs a price.", field="price")
    if price.pence < 0:
        raise InvalidInput(f"{what}'s price cannot be negative.", field="price")
    return price
