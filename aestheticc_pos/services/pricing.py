"""Pricing a basket: the one place every checkout type gets its prices from (DESIGN.md §3 "Pricing").

``price_basket_in`` loads the catalogue items of a basket and the client's benefits (package sessions, the
member discount in force that day) and calls ``domain.pricing.quote``; the till (``checkout``), a deposit at
booking (``deposits``), a payment link (``payment_links``) and an invoice (``invoices``) all call it, so a
member gets the same discount whichever way they pay. Also here: what the till types into a basket
(``BasketItem``) and as payment (``Payment``), the refusal of a total that changed since it was shown
(``check_expected_total``), the audit of price overrides, and the columns of a priced line as stored.

A membership is sold at the till too: a basket item of kind MEMBERSHIP whose ``item_id`` is the tier, for a
known client, quantity 1 (``sales.record_sale_in`` starts it).

- **The first month is paid at the till** (DESIGN.md §3 "Periods and the first month"): the item becomes a
  line at the tier's monthly price, "Gold membership · first month 2 Dec 2026–1 Jan 2027, then £49.00 a month
  by Direct Debit", and, when the tier has one, a second line for the sign-up fee. Both are standard-rated
  and never discounted (no tier covers a membership line).
- **The rest of the basket** is priced for the member the client becomes at that moment: their first payment
  is collected by this very sale, so the tier's discount applies whichever way its benefits start
  (``memberships.member_discount_on_joining``); a client who cannot join is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aestheticc_pos.domain import billing
from aestheticc_pos.domain import packages as package_rules
from aestheticc_pos.domain.appointments import AppointmentStatus
from aestheticc_pos.domain.benefits import Benefits
from aestheticc_pos.domain.catalogue import ItemKind, Tier
from aestheticc_pos.domain.checkout import TenderKind, amount_text
from aestheticc_pos.domain.errors import InvalidInput, NotPermitted, RuleViolation
from aestheticc_pos.domain.money import STANDARD_VAT_BP, Money
from aestheticc_pos.domain.pricing import BasketLine, Channel, PriceOverride, Quote, QuotedLine, quote
from aestheticc_pos.domain.staff import Action, Role, can
from aestheticc_pos.services import inputs
from aestheticc_pos.services.memberships import member_discount_for, member_discount_on_joining
from aestheticc_pos.store import catalogue_repo, package_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.tables import SaleLineRow, SaleRow
from aestheticc_pos.store.unit_of_work import UnitOfWork

MEMBERSHIP_NEEDS_CLIENT = "Choose the client first: a membership belongs to a client."
_MAX_LINE_NAME = 120  # BasketLine's names, as for every catalogue name


@dataclass(frozen=True, slots=True)
class BasketItem:
    """What the receptionist put in the basket. ``override_price`` (typed, with a reason) needs a manager.

    A membership is ``BasketItem(ItemKind.MEMBERSHIP, tier_id)``: quantity 1, never overridden.
    """

    kind: ItemKind
    item_id: str
    quantity: int = 1
    appointment_id: str | None = None
    use_package: bool = True
    override_price: str | Money | None = None
    override_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Payment:
    """A tender as typed at the till: ``amount`` like "50.00" or a Money."""

    kind: TenderKind | str
    amount: str | Money
    reference: str | None = None


def price_basket_in(
    uow: UnitOfWork,
    *,
    client_id: str | None,
    items: list[BasketItem],
    on: dt.date,
    channel: Channel,
    staff_id: str | None = None,
    client_read: bool = False,
) -> Quote:
    """The quote of ``items`` for ``client_id`` on ``on``, inside the caller's unit of work.

    Every checkout type calls this, so a member gets the same discount at the till, on a deposit, a payment
    link or an invoice. ``staff_id`` is needed only when a line carries a price override (manager only).
    A basket that signs the client up to a membership is priced with that membership's discount (module
    docstring), and refused when the client cannot join. ``client_read``: the caller has already read the
    client in this unit of work (a client not on file was refused there).
    """
    s = uow.session
    if client_id is not None and not client_read:
        repo.load_client(s, client_id)
    joining = _joining_tier(uow, items)
    lines = [line for item in items for line in _basket_lines(uow, item, client_id, staff_id, on)]
    return quote(lines, benefits_of(uow, client_id, on, joining=joining), on, channel)


def benefits_of(
    uow: UnitOfWork, client_id: str | None, on: dt.date, *, joining: Tier | None = None
) -> Benefits:
    """What lowers this client's prices on ``on``: usable package sessions and the member discount in force.

    ``joining`` is the tier the basket signs the client up to: its discount as a new member replaces theirs
    (they have no membership that has not ended, or joining is refused).
    """
    if client_id is None:
        return Benefits()
    s = uow.session
    credits = package_rules.package_credits(package_repo.usable_client_packages_of(s, client_id, on), on)
    if joining is None:
        discount = member_discount_for(s, client_id, on)
    else:
        discount = member_discount_on_joining(s, client_id, joining, on)
    return Benefits(package_credits=credits, member_discount=discount)


def check_expected_total(
    priced: Quote, expected_total: Money | None, *, then: str, what: str = "The total"
) -> None:
    """Refuse when the total priced now is not the one staff showed the client (a membership lapsed, a price
    or a package changed meanwhile); the sentence says the new total and ``then`` what to do."""
    if expected_total is not None and priced.net != expected_total:
        raise RuleViolation(
            f"{what} changed to {amount_text(priced.net)} since it was shown ({amount_text(expected_total)}). {then}"
        )


def audit_price_overrides(
    s: Session, priced: Quote, *, at: dt.datetime, record_type: str, record_id: str
) -> None:
    """One audit entry per line whose price a manager overrode, on the document that carries it."""
    for line in priced.lines:
        if line.line.override is not None:
            append_audit(
                s,
                at=at,
                staff_id=line.line.override.staff_id,
                action="price.overridden",
                record_type=record_type,
                record_id=record_id,
                reason=line.line.override.reason,
                details={"item": line.line.item_id, "price_pence": line.line.override.unit_price.pence},
            )


def priced_line_columns(
    position: int, line: QuotedLine, *, step_position: int | None = None
) -> dict[str, Any]:
    """The columns every stored priced line has (sale and invoice lines), from a quoted line."""
    return {
        "position": position,
        "kind": line.line.kind.value,
        "item_id": line.line.item_id,
        "name": line.line.name,
        "quantity": line.line.quantity,
        "unit_price_pence": line.line.unit_price.pence,
        "gross_pence": line.gross.pence,
        "discount_pence": line.discount.pence,
        "discount_reason": line.discount_reason,
        "net_pence": line.net.pence,
        "vat_pence": line.vat.pence,
        "vat_rate_bp": line.line.vat_rate_bp,
        "step_position": step_position,
        "appointment_id": line.line.appointment_id,
    }


# --- helpers ------------------------------------------------------------------------------------------------


def _basket_lines(
    uow: UnitOfWork, item: BasketItem, client_id: str | None, staff_id: str | None, on: dt.date
) -> list[BasketLine]:
    """The priced lines of one basket item: one, or for a membership its first month and its sign-up fee."""
    if _kind(item) is not ItemKind.MEMBERSHIP:
        return [_basket_line(uow, item, client_id, staff_id)]
    if client_id is None:
        raise InvalidInput(MEMBERSHIP_NEEDS_CLIENT)
    tier = catalogue_repo.load_tier(uow.session, item.item_id)
    if item.quantity != 1:
        raise InvalidInput("A client has one membership at a time: sell it once.", field="quantity")
    if item.override_price is not None:
        raise InvalidInput(
            "A membership's price is its monthly price: it cannot be changed at the till.", field="override"
        )
    first = BasketLine(
        kind=ItemKind.MEMBERSHIP,
        item_id=tier.id,
        name=_membership_line_name(tier, on),
        unit_price=tier.monthly_price,
        vat_rate_bp=STANDARD_VAT_BP,
    )
    if not tier.signup_fee:
        return [first]
    fee_name = _shortened(tier.name, " membership · sign-up fee")
    fee = BasketLine(
        kind=ItemKind.MEMBERSHIP,
        item_id=tier.id,
        name=fee_name,
        unit_price=tier.signup_fee,
        vat_rate_bp=STANDARD_VAT_BP,
    )
    return [first, fee]


def _basket_line(
    uow: UnitOfWork, item: BasketItem, client_id: str | None, staff_id: str | None
) -> BasketLine:
    s = uow.session
    kind = _kind(item)
    if kind is ItemKind.TREATMENT:
        found = catalogue_repo.load_treatment(s, item.item_id)
        name, price, vat = found.name, found.price, found.vat_rate_bp
        if item.appointment_id is not None:
            _refuse_a_visit_already_settled(uow, item.appointment_id)
    elif kind is ItemKind.PRODUCT:
        found_p = catalogue_repo.load_product(s, item.item_id)
        name, price, vat = found_p.name, found_p.price, found_p.vat_rate_bp
    else:
        package = catalogue_repo.load_package(s, item.item_id)
        if not package.active:
            raise RuleViolation(f"{package.name} is no longer offered for sale.")
        name, price, vat = package.name, package.price, package.vat_rate_bp
    override = None
    if item.override_price is not None:
        if staff_id is None:
            raise NotPermitted("Only a manager can override a price.")
        manager = repo.load_staff_row(s, staff_id)
        if not can(Role(manager.role), Action.OVERRIDE_PRICE):
            raise NotPermitted("Only a manager can override a price.")
        override = PriceOverride(
            unit_price=inputs.money(item.override_price, what="The new price", currency=price.currency),
            reason=inputs.text(item.override_reason, what="A reason for the new price"),
            staff_id=staff_id,
        )
    return BasketLine(
        kind=kind,
        item_id=item.item_id,
        name=name,
        unit_price=price,
        quantity=item.quantity,
        vat_rate_bp=vat,
        appointment_id=item.appointment_id,
        use_package=item.use_package,
        override=override,
    )


def _kind(item: BasketItem) -> ItemKind:
    return inputs.choice(ItemKind, item.kind, what="something the till sells")


def _joining_tier(uow: UnitOfWork, items: list[BasketItem]) -> Tier | None:
    """The tier the basket signs the client up to, if any (one at most)."""
    tiers = [item.item_id for item in items if _kind(item) is ItemKind.MEMBERSHIP]
    if len(tiers) > 1:
        raise InvalidInput("The basket already has a membership: a client has one at a time.")
    return catalogue_repo.load_tier(uow.session, tiers[0]) if tiers else None


def _membership_line_name(tier: Tier, on: dt.date) -> str:
    """ "Gold membership · first month 2 Dec 2026–1 Jan 2027, then £49.00 a month by Direct Debit" """
    terms = (
        f" membership · first month {billing.period_text(billing.period(on, 0))}, "
        f"then {amount_text(tier.monthly_price)} a month by Direct Debit"
    )
    return _shortened(tier.name, terms)


def _shortened(name: str, terms: str) -> str:
    """``name`` + ``terms`` within a line name's length (a very long tier name is shortened)."""
    room = _MAX_LINE_NAME - len(terms)
    return (name if len(name) <= room else name[: room - 1].rstrip() + "…") + terms


def _refuse_a_visit_already_settled(uow: UnitOfWork, appointment_id: str) -> None:
    """A visit is charged once: not after its package session was used at "Attend", not a second time,
    and not once it was cancelled or missed."""
    s = uow.session
    appointment = repo.load_appointment(s, appointment_id)
    sold = s.scalars(
        select(SaleRow.number)
        .join(SaleLineRow, SaleLineRow.sale_id == SaleRow.id)
        .where(SaleLineRow.appointment_id == appointment_id, SaleRow.kind == "sale")
    ).first()
    if sold is not None:
        raise RuleViolation(f"This visit was already checked out (sale {sold}). Add only what is new.")
    if appointment.status is AppointmentStatus.ATTENDED and appointment.client_package_id is not None:
        cp = package_repo.load_client_package(s, appointment.client_package_id)
        raise RuleViolation(
            f"This visit was paid with a session of {cp.name} when it was attended, so there is nothing to "
            "charge for the treatment. Add any products or other items the client is buying."
        )
    if appointment.status not in (AppointmentStatus.BOOKED, AppointmentStatus.ATTENDED):
        raise RuleViolation(
            "This appointment did not take place, so its treatment cannot be charged as a visit."
        )
