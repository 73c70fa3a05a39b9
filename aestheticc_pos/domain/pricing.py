"""The one pricing engine: every checkout type prices its basket with ``quote`` (DESIGN.md §3 "Pricing").

Order of benefits on each line, and never more than one of them:

1. a treatment covered by a usable package session is redeemed: net 0, the discount is the whole line;
2. otherwise a manager's price override replaces the member discount on that line;
3. otherwise the member discount applies to the kinds of line the tier covers, rounded half up once per line.

An override on a line that a package session covers is ignored while the session is used: set ``use_package``
to False to charge the overridden price instead. The channel (POS, deposit, payment link, invoice) is recorded on
the quote and changes no number.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from aestheticc_pos.domain.benefits import Benefits, MemberDiscount, PackageCredit
from aestheticc_pos.domain.catalogue import DepositRule, ItemKind, require_name
from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.domain.money import STANDARD_VAT_BP, Money, check_basis_points, sum_money

MAX_QUANTITY = 999


class Channel(enum.StrEnum):
    """Which checkout asked for the quote."""

    POS = "pos"
    DEPOSIT = "deposit"
    PAYMENT_LINK = "payment_link"
    INVOICE = "invoice"


@dataclass(frozen=True, slots=True)
class PriceOverride:
    """A manager's replacement unit price for one line (audited by the service that records it)."""

    unit_price: Money
    reason: str
    staff_id: str

    def __post_init__(self) -> None:
        if not isinstance(self.unit_price, Money) or self.unit_price.is_negative:
            raise InvalidInput("An overridden price cannot be negative.", field="override")
        if not self.reason or not self.reason.strip():
            raise InvalidInput("A price override needs a reason.", field="override")
        if not self.staff_id:
            raise InvalidInput("A price override needs the manager who approved it.", field="override")


@dataclass(frozen=True, slots=True)
class BasketLine:
    """One line of a basket. ``unit_price`` includes VAT; ``quantity`` is at least 1.

    ``use_package`` False means the client pays for this treatment even though a package session would cover
    it (the receptionist declined the redemption).
    """

    kind: ItemKind
    item_id: str
    name: str
    unit_price: Money
    quantity: int = 1
    vat_rate_bp: int = STANDARD_VAT_BP
    appointment_id: str | None = None
    use_package: bool = True
    override: PriceOverride | None = None

    def __post_init__(self) -> None:
        require_name(self.name, "A basket line")
        if not isinstance(self.unit_price, Money):
            raise InvalidInput(f"{self.name} needs a price.", field="price")
        if self.unit_price.is_negative:
            raise InvalidInput(f"The price of {self.name} cannot be negative.", field="price")
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int):
            raise InvalidInput(f"The quantity of {self.name} must be a whole number.", field="quantity")
        if not 1 <= self.quantity <= MAX_QUANTITY:
            raise InvalidInput(
                f"The quantity of {self.name} must be between 1 and {MAX_QUANTITY}.", field="quantity"
            )
        check_basis_points(self.vat_rate_bp, what="A VAT rate")
        if self.override is not None:
            if self.override.unit_price.currency != self.unit_price.currency:
                raise InvalidInput(
                    f"The overridden price of {self.name} is in another currency.", field="override"
                )
            if self.override.unit_price > self.unit_price:
                raise InvalidInput(
                    f"An overridden price cannot be more than the price of {self.name}.", field="override"
                )

    @property
    def treatment_id(self) -> str | None:
        """The treatment this line sells (its ``item_id``), or None for any other kind of line."""
        return self.item_id if self.kind is ItemKind.TREATMENT else None

    @property
    def gross(self) -> Money:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class QuotedLine:
    """A priced line: ``net = gross − discount`` and ``vat`` is the VAT inside ``net``."""

    line: BasketLine
    gross: Money
    discount: Money
    discount_reason: str | None
    net: Money
    vat: Money
    package_credit: PackageCredit | None = None


@dataclass(frozen=True, slots=True)
class Quote:
    """A priced basket. The totals are the sums of the lines."""

    lines: tuple[QuotedLine, ...]
    gross: Money
    discount: Money
    net: Money
    vat: Money
    currency: str
    channel: Channel
    priced_on: dt.date

    @property
    def package_credits_used(self) -> tuple[PackageCredit, ...]:
        return tuple(q.package_credit for q in self.lines if q.package_credit is not None)


def quote(
    lines: list[BasketLine] | tuple[BasketLine, ...],
    benefits: Benefits,
    on: dt.date,
    channel: Channel = Channel.POS,
    *,
    currency: str = "GBP",
) -> Quote:
    """Price ``lines`` for a client with ``benefits`` on ``on``. ``currency`` names the empty basket's."""
    lines = tuple(lines)
    if lines:
        currency = lines[0].unit_price.currency
    if any(line.unit_price.currency != currency for line in lines):
        raise InvalidInput("A basket cannot mix currencies.", field="currency")

    unused_credits = _usable_credits(benefits.package_credits, on)
    quoted = []
    for line in lines:
        credit = _credit_for(line, unused_credits)
        if credit is not None:
            unused_credits.remove(credit)  # each session pays for one line at most
        quoted.append(_price_line(line, credit, benefits.member_discount))

    return Quote(
        lines=tuple(quoted),
        gross=sum_money([q.gross for q in quoted], currency),
        discount=sum_money([q.discount for q in quoted], currency),
        net=sum_money([q.net for q in quoted], currency),
        vat=sum_money([q.vat for q in quoted], currency),
        currency=currency,
        channel=Channel(channel),
        priced_on=on,
    )


def deposit_due(quoted_line: QuotedLine, deposit_rule: DepositRule) -> Money:
    """The online deposit for a booked treatment: its deposit rule applied to the discounted price."""
    return deposit_rule.deposit_for(quoted_line.net)


def _price_line(line: BasketLine, credit: PackageCredit | None, member: MemberDiscount | None) -> QuotedLine:
    gross = line.gross
    if credit is not None:
        discount, reason = gross, credit.reason
    elif line.override is not None:
        discount = gross - line.override.unit_price * line.quantity
        reason = f"Price override: {line.override.reason.strip()}"
    elif member is not None and member.covers(line.kind):
        discount = gross.percent(member.discount_bp)
        reason = member.reason if discount else None
    else:
        discount, reason = Money.zero(gross.currency), None
    net = gross - discount
    return QuotedLine(line, gross, discount, reason, net, net.vat_inside(line.vat_rate_bp), credit)


def _usable_credits(credits: tuple[PackageCredit, ...], on: dt.date) -> list[PackageCredit]:
    """Credits still valid on ``on``, the earliest-expiring first (the package that pays, DESIGN.md §3)."""
    usable = [c for c in credits if c.expires_on >= on and (c.appointment_id is not None or c.remaining > 0)]
    return sorted(
        usable, key=lambda c: (c.expires_on, c.client_package_id, c.step_position, c.session_number)
    )


def _credit_for(line: BasketLine, credits: list[PackageCredit]) -> PackageCredit | None:
    """The credit that pays for ``line``: its appointment's reserved session, else a free session.

    A reserved session covers one unit; a free credit covers up to ``remaining`` units. A line the credit cannot
    cover entirely is charged (split the line to redeem part of it).
    """
    if line.kind is not ItemKind.TREATMENT or not line.use_package:
        return None
    candidates = [c for c in credits if c.treatment_id == line.treatment_id]
    if line.appointment_id is not None:
        for credit in candidates:
            if credit.appointment_id == line.appointment_id and line.quantity == 1:
                return credit
    for credit in candidates:
        if credit.appointment_id is None and credit.remaining >= line.quantity:
            return credit
    return None
