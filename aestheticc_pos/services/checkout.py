"""Checkout: price a basket for a client with the one pricing engine, and complete a sale.

``price_basket_in`` is the one place every checkout type (POS, deposit at booking, payment link, invoice)
gets its prices from: it loads the catalogue items and the client's benefits (package sessions, member
discount in force that day) and calls ``domain.pricing.quote``.

A completed sale is written in one transaction with its lines, tenders, package ledger entries, new client
packages, new memberships and any Direct Debit work for the outbox; it is never edited afterwards.

A membership is sold at the till too: a basket item of kind MEMBERSHIP whose ``item_id`` is the tier, for a
known client, quantity 1. Completing the sale starts it with ``memberships.start_membership_in`` inside the
sale's transaction, so a refused payment starts nothing, and the same rules refuse it (a client with a
membership that has not ended, a tier no longer offered).

- **The first month is paid at the till** (DESIGN.md §3 "Periods and the first month"): the item becomes a
  line at the tier's monthly price, "Gold membership · first month 2 Dec 2026–1 Jan 2027, then £49.00 a month
  by Direct Debit", and, when the tier has one, a second line for the sign-up fee. Both are standard-rated
  and never discounted (no tier covers a membership line). The membership starts active, paid through the end
  of its first month; its Direct Debit set-up asks for the mandate only, and the subscription collects from the
  second month.
- **The rest of the basket** is priced for the member the client becomes at that moment: their first payment
  is collected by this very sale, so the tier's discount applies whichever way its benefits start
  (``memberships.member_discount_on_joining``). ``quote_basket`` and ``complete_sale`` both price with it, so
  the total shown is the total taken.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aestheticc_pos.domain import billing
from aestheticc_pos.domain import packages as package_rules
from aestheticc_pos.domain.appointments import AppointmentStatus
from aestheticc_pos.domain.benefits import Benefits
from aestheticc_pos.domain.catalogue import ItemKind, Tier
from aestheticc_pos.domain.checkout import Settlement, Tender, TenderKind, amount_text, settle
from aestheticc_pos.domain.errors import InvalidInput, NotPermitted, RuleViolation
from aestheticc_pos.domain.money import STANDARD_VAT_BP, Money
from aestheticc_pos.domain.pricing import BasketLine, Channel, PriceOverride, Quote, QuotedLine, quote
from aestheticc_pos.domain.staff import Action, Role, can
from aestheticc_pos.services import inputs
from aestheticc_pos.services.appointments import attend_in
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import ClinicSettings, Services, read_clinic_settings
from aestheticc_pos.services.memberships import (
    member_discount_for,
    member_discount_on_joining,
    start_membership_in,
)
from aestheticc_pos.services.packages import lock_client_packages, record_ledger_entry, sell_package_in
from aestheticc_pos.services.staff import require_staff
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.outbox_repo import enqueue
from aestheticc_pos.store.tables import AppointmentRow, PaymentLinkRow, SaleLineRow, SaleRow, TenderRow
from aestheticc_pos.store.unit_of_work import UnitOfWork

_MAX_LINE_NAME = 120  # BasketLine's names, as for every catalogue name
_MEMBERSHIP_NEEDS_CLIENT = "Choose the client first: a membership belongs to a client."


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


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    name: str
    quantity: int
    unit_price: Money
    gross: Money
    discount: Money
    discount_reason: str | None
    net: Money
    vat: Money
    vat_rate_bp: int


@dataclass(frozen=True, slots=True)
class Receipt:
    """A completed sale as the receipt shows it."""

    sale_id: str
    number: str
    created_at: dt.datetime
    client_id: str | None
    client_name: str | None
    staff_name: str
    lines: tuple[ReceiptLine, ...]
    gross: Money
    discount: Money
    net: Money
    vat: Money
    tenders: tuple[Tender, ...]
    change_due: Money
    clinic_name: str
    clinic_address: str
    vat_number: str


@use_case(Audience.ANY_STAFF)
def quote_basket(
    services: Services,
    *,
    client_id: str | None,
    items: list[BasketItem],
    channel: Channel = Channel.POS,
    on: dt.date | None = None,
    staff_id: str | None = None,
) -> Quote:
    """Price a basket for a client (or a walk-in, ``client_id`` None) without writing anything."""
    channel = inputs.choice(Channel, channel, what="a way of checking out")
    if on is not None:
        on = inputs.calendar_day(on, what="The day to price for")
    with services.uow(read_only=True) as uow:
        settings = read_clinic_settings(uow.session)
        day = on or services.today(settings)
        return price_basket_in(
            uow, client_id=client_id, items=items, on=day, channel=channel, staff_id=staff_id
        )


def price_basket_in(
    uow: UnitOfWork,
    *,
    client_id: str | None,
    items: list[BasketItem],
    on: dt.date,
    channel: Channel,
    staff_id: str | None = None,
) -> Quote:
    """The quote of ``items`` for ``client_id`` on ``on``, inside the caller's unit of work.

    Every checkout type calls this, so a member gets the same discount at the till, on a deposit, a payment
    link or an invoice. ``staff_id`` is needed only when a line carries a price override (manager only).
    A basket that signs the client up to a membership is priced with that membership's discount (module
    docstring), and refused when the client cannot join.
    """
    s = uow.session
    if client_id is not None:
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
    credits = package_rules.package_credits(repo.client_packages_of(s, client_id), on)
    if joining is None:
        discount = member_discount_for(s, client_id, on)
    else:
        discount = member_discount_on_joining(s, client_id, joining, on)
    return Benefits(package_credits=credits, member_discount=discount)


@use_case(Action.TAKE_PAYMENTS)
def complete_sale(
    services: Services,
    *,
    client_id: str | None,
    items: list[BasketItem],
    payments: list[Payment],
    staff_id: str,
    expected_total: Money | None = None,
    sale_id: str | None = None,
) -> Receipt:
    """Take payment for a basket and write the sale, all in one transaction.

    ``sale_id`` is the id the till gave the sale before sending it: submitting the same id again (the till
    never heard the answer, or died before showing it) returns the first receipt and writes nothing more.

    The basket is priced again inside the transaction; if that total differs from ``expected_total`` (the
    one the client was shown: a membership lapsed, another till used the package session), nothing is
    written and the refusal says the new total. Package sessions are redeemed, packages sold become the
    client's, a membership sold is started (pending until the client authorises its Direct Debit), booked
    appointments in the basket are marked attended, and a Direct Debit tender is queued for GoCardless
    against the client's mandate.
    """
    if sale_id is not None:
        sale_id = _sale_id(sale_id)
        done = _existing_sale(services, sale_id)
        if done is not None:
            return done
    if not items:
        raise InvalidInput("The basket is empty. Add a treatment, product, package or membership first.")
    now = services.now()
    with services.uow() as uow:
        s = uow.session
        staff = require_staff(s, staff_id, Action.TAKE_PAYMENTS)
        settings = read_clinic_settings(s)
        today = now.astimezone(settings.tz).date()
        if client_id is not None:
            lock_client_packages(uow, client_id)  # before reading the packages the sale will use
        priced = price_basket_in(
            uow, client_id=client_id, items=items, on=today, channel=Channel.POS, staff_id=staff_id
        )
        check_expected_total(
            priced, expected_total, then="Check the basket with the client before taking payment."
        )
        sale_id, settlement = record_sale_in(
            uow,
            services,
            settings,
            priced=priced,
            payments=payments,
            client_id=client_id,
            staff_id=staff_id,
            sale_id=sale_id,
        )
        try:
            uow.commit()
        except IntegrityError:
            done = _existing_sale(services, sale_id)  # the same sale, committed by a submit racing this one
            if done is None:
                raise
            return done
    receipt = sale_receipt(services, sale_id)
    return _with_change(receipt, settlement, staff.name)


@use_case(Audience.ANY_STAFF)
def last_sale(services: Services) -> Receipt | None:
    """The newest sale rung up with this till's prefix, for "Last sale on this till: A-000123, £236.00,
    14:02 — print the receipt again?" after a restart (it may have gone through just before the till died)."""
    with services.uow(read_only=True) as uow:
        prefix = read_clinic_settings(uow.session).till_prefix
        sale_id = uow.session.scalar(
            select(SaleRow.id)
            .where(SaleRow.till_prefix == prefix, SaleRow.kind == "sale")
            .order_by(SaleRow.created_at.desc(), SaleRow.number.desc())
            .limit(1)
        )
    return None if sale_id is None else sale_receipt(services, sale_id)


def _sale_id(value: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise InvalidInput("That sale's reference is not one the till makes. Start the sale again.") from None


def _existing_sale(services: Services, sale_id: str) -> Receipt | None:
    with services.uow(read_only=True) as uow:
        known = uow.session.scalar(select(SaleRow.id).where(SaleRow.id == sale_id, SaleRow.kind == "sale"))
    return None if known is None else sale_receipt(services, sale_id)


def check_expected_total(
    priced: Quote, expected_total: Money | None, *, then: str, what: str = "The total"
) -> None:
    """Refuse when the total priced now is not the one staff showed the client (a membership lapsed, a price
    or a package changed meanwhile); the sentence says the new total and ``then`` what to do."""
    if expected_total is not None and priced.net != expected_total:
        raise RuleViolation(
            f"{what} changed to {amount_text(priced.net)} since it was shown ({amount_text(expected_total)}). {then}"
        )


def record_sale_in(
    uow: UnitOfWork,
    services: Services,
    settings: ClinicSettings,
    *,
    priced: Quote,
    payments: list[Payment],
    client_id: str | None,
    staff_id: str,
    sale_id: str | None = None,
) -> tuple[str, Settlement]:
    """Take ``payments`` for an already priced basket and write its sale inside the caller's unit of work.

    What ``complete_sale`` writes, for a quote priced by the caller (an issued invoice keeps the prices it was
    issued with): the sale numbered on this till, with ``priced.channel``; each line fulfilled (sessions
    redeemed, packages and memberships started, visits attended); the tenders, a Direct Debit one queued for
    GoCardless; price overrides audited. Lock the client's packages before pricing. Returns the new sale's id
    and how it was settled; the caller commits.
    """
    s = uow.session
    now = services.now()
    today = now.astimezone(settings.tz).date()
    tenders = [_tender(p, priced.currency) for p in payments]
    settlement = settle(priced.net, tenders)
    if client_id is not None:  # the lock order (DESIGN.md §4): the client before the number series
        lock_client_packages(uow, client_id)
    sale_id = sale_id or services.new_id()
    prefix = settings.till_prefix
    number = uow.next_number(f"sale:{prefix}", prefix + "-{n:06d}")
    s.add(
        SaleRow(
            id=sale_id,
            number=number,
            till_prefix=prefix,
            client_id=client_id,
            staff_id=staff_id,
            kind="sale",
            channel=priced.channel.value,
            gross_pence=priced.gross.pence,
            discount_pence=priced.discount.pence,
            net_pence=priced.net.pence,
            vat_pence=priced.vat.pence,
            currency=priced.currency,
            created_at=now,
        )
    )
    s.flush()
    joined = False  # a membership's lines (its first month, its sign-up fee) start it once
    for position, line in enumerate(priced.lines, start=1):
        cp_id = None
        if line.line.kind is not ItemKind.MEMBERSHIP:
            cp_id = _fulfil_line(uow, services, settings, line, client_id, today, sale_id, staff_id)
        elif not joined:
            if client_id is None:
                raise InvalidInput(_MEMBERSHIP_NEEDS_CLIENT)
            start_membership_in(
                uow,
                services,
                client_id=client_id,
                tier_id=line.line.item_id,
                staff_id=staff_id,
                first_month_sale_id=sale_id,
            )
            joined = True
        s.add(_sale_line(sale_id, position, line, cp_id))
    for tender in _kept_tenders(settlement):
        s.add(
            TenderRow(
                sale_id=sale_id,
                kind=tender.kind.value,
                amount_pence=tender.amount.pence,
                currency=tender.amount.currency,
                reference=tender.reference,
            )
        )
        if tender.kind is TenderKind.DIRECT_DEBIT:
            _queue_direct_debit(uow, client_id, sale_id, number, tender)
        elif tender.kind is TenderKind.PAYMENT_LINK:
            _take_link_payment(s, tender, sale_id)
        elif tender.kind is TenderKind.DEPOSIT:
            from aestheticc_pos.services.deposits import credit_deposit_in  # deposits are priced by checkout

            assert tender.reference is not None  # settle() refuses a deposit tender without one
            credit_deposit_in(
                uow, deposit_id=tender.reference, amount=tender.amount, client_id=client_id, sale_id=sale_id
            )
    append_audit(  # every sale is in the hash-chained audit log (DESIGN.md §7), the audit head locked last
        s,
        at=now,
        staff_id=staff_id,
        action="sale.recorded",
        record_type="sale",
        record_id=sale_id,
        details={
            "number": number,
            "net_pence": priced.net.pence,
            "tenders": ",".join(sorted({t.kind.value for t in settlement.tenders})),
            "channel": priced.channel.value,
        },
    )
    audit_price_overrides(s, priced, at=now, record_type="sale", record_id=sale_id)
    s.flush()
    return sale_id, settlement


@use_case(Audience.ANY_STAFF)
def sale_receipt(services: Services, sale_id: str) -> Receipt:
    with services.uow(read_only=True) as uow:
        s = uow.session
        settings = read_clinic_settings(s)
        sale = s.get(SaleRow, sale_id)
        if sale is None:
            raise InvalidInput("That sale does not exist.")
        lines = s.scalars(
            select(SaleLineRow).where(SaleLineRow.sale_id == sale_id).order_by(SaleLineRow.position)
        )
        tenders = s.scalars(select(TenderRow).where(TenderRow.sale_id == sale_id))
        client = repo.load_client(s, sale.client_id) if sale.client_id else None
        staff = repo.load_staff_row(s, sale.staff_id)
        cur = sale.currency
        return Receipt(
            sale_id=sale.id,
            number=sale.number,
            created_at=sale.created_at,
            client_id=sale.client_id,
            client_name=client.full_name if client else None,
            staff_name=staff.name,
            lines=tuple(
                ReceiptLine(
                    name=r.name,
                    quantity=r.quantity,
                    unit_price=Money(r.unit_price_pence, cur),
                    gross=Money(r.gross_pence, cur),
                    discount=Money(r.discount_pence, cur),
                    discount_reason=r.discount_reason,
                    net=Money(r.net_pence, cur),
                    vat=Money(r.vat_pence, cur),
                    vat_rate_bp=r.vat_rate_bp,
                )
                for r in lines
            ),
            gross=Money(sale.gross_pence, cur),
            discount=Money(sale.discount_pence, cur),
            net=Money(sale.net_pence, cur),
            vat=Money(sale.vat_pence, cur),
            tenders=tuple(
                Tender(TenderKind(t.kind), Money(t.amount_pence, t.currency), t.reference) for t in tenders
            ),
            change_due=Money.zero(cur),
            clinic_name=settings.name,
            clinic_address=settings.address,
            vat_number=settings.vat_number,
        )


@use_case(Audience.ANY_STAFF)
def sales_of_client(services: Services, client_id: str, *, limit: int = 200) -> list[Receipt]:
    """A client's purchase history, newest first."""
    with services.uow(read_only=True) as uow:
        ids = list(
            uow.session.scalars(
                select(SaleRow.id)
                .where(SaleRow.client_id == client_id)
                .order_by(SaleRow.created_at.desc())
                .limit(limit)
            )
        )
    return [sale_receipt(services, sale_id) for sale_id in ids]


# --- helpers ------------------------------------------------------------------------------------------------


def _basket_lines(
    uow: UnitOfWork, item: BasketItem, client_id: str | None, staff_id: str | None, on: dt.date
) -> list[BasketLine]:
    """The priced lines of one basket item: one, or for a membership its first month and its sign-up fee."""
    if _kind(item) is not ItemKind.MEMBERSHIP:
        return [_basket_line(uow, item, client_id, staff_id)]
    if client_id is None:
        raise InvalidInput(_MEMBERSHIP_NEEDS_CLIENT)
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
        cp = repo.load_client_package(s, appointment.client_package_id)
        raise RuleViolation(
            f"This visit was paid with a session of {cp.name} when it was attended, so there is nothing to "
            "charge for the treatment. Add any products or other items the client is buying."
        )
    if appointment.status not in (AppointmentStatus.BOOKED, AppointmentStatus.ATTENDED):
        raise RuleViolation(
            "This appointment did not take place, so its treatment cannot be charged as a visit."
        )


def _fulfil_line(
    uow: UnitOfWork,
    services: Services,
    settings: ClinicSettings,
    line: QuotedLine,
    client_id: str | None,
    today: dt.date,
    sale_id: str,
    staff_id: str,
) -> str | None:
    """Do what a sold line promises; returns the client package the line concerns, if any."""
    s = uow.session
    basket = line.line
    if basket.kind is ItemKind.PACKAGE:
        if client_id is None:
            raise InvalidInput("Choose the client first: a package belongs to a client.")
        package = catalogue_repo.load_package(s, basket.item_id)
        first = None
        for _ in range(basket.quantity):
            cp = sell_package_in(
                uow,
                package,
                client_package_id=services.new_id(),
                client_id=client_id,
                today=today,
                sale_id=sale_id,
            )
            first = first or cp.id
        return first
    appointment = repo.load_appointment(s, basket.appointment_id) if basket.appointment_id else None
    if appointment is not None and appointment.client_id != client_id:
        raise InvalidInput("That appointment belongs to another client.")
    credit = line.package_credit
    booked = appointment is not None and appointment.status is AppointmentStatus.BOOKED
    if (
        booked
        and appointment is not None
        and appointment.client_package_id is not None
        and (credit is None or credit.client_package_id != appointment.client_package_id)
    ):
        # Paid (or paid from another package) instead of the session booked for it: give that one back.
        _unlink_booked_session(uow, appointment.id, appointment.client_package_id, today, staff_id, sale_id)
        appointment = repo.load_appointment(s, appointment.id)
    if credit is not None and not (
        booked and appointment is not None and appointment.client_package_id == credit.client_package_id
    ):
        cp = repo.load_client_package(s, credit.client_package_id)
        visit = (
            appointment.id if appointment is not None else None
        )  # so the redemption can be undone by visit
        _, entry = package_rules.redeem(cp, credit.step_position, visit, today, today)
        record_ledger_entry(uow, cp, entry, staff_id=staff_id, sale_id=sale_id)
    if booked and appointment is not None:
        # Marks the visit attended, and redeems the session booked for it if it still has one.
        attend_in(uow, services, appointment.id, staff_id=staff_id, sale_id=sale_id)
    return credit.client_package_id if credit is not None else None


def _unlink_booked_session(
    uow: UnitOfWork, appointment_id: str, client_package_id: str, today: dt.date, staff_id: str, sale_id: str
) -> None:
    cp = repo.load_client_package(uow.session, client_package_id)
    _, entry = package_rules.release(cp, appointment_id, today)
    record_ledger_entry(uow, cp, entry, staff_id=staff_id, sale_id=sale_id)
    row = _appointment_row(uow, appointment_id)
    row.client_package_id = None
    row.step_position = None
    uow.session.flush()


def _appointment_row(uow: UnitOfWork, appointment_id: str) -> AppointmentRow:
    row = uow.session.get(AppointmentRow, appointment_id)
    assert row is not None  # loaded earlier in the same transaction
    return row


def _sale_line(sale_id: str, position: int, line: QuotedLine, client_package_id: str | None) -> SaleLineRow:
    credit = line.package_credit
    return SaleLineRow(
        sale_id=sale_id,
        client_package_id=client_package_id,
        **priced_line_columns(position, line, step_position=credit.step_position if credit else None),
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


def _tender(payment: Payment, currency: str) -> Tender:
    try:
        kind = TenderKind(payment.kind)
    except ValueError:
        raise InvalidInput(f"“{payment.kind}” is not a way to pay.") from None
    amount = inputs.money(payment.amount, what="The amount paid", currency=currency)
    return Tender(kind=kind, amount=amount, reference=(payment.reference or None))


def _kept_tenders(settlement: Settlement) -> list[Tender]:
    """The tenders as the clinic keeps them: cash net of the change handed back."""
    kept = []
    change = settlement.change_due
    for tender in settlement.tenders:
        if tender.kind is TenderKind.CASH and change:
            taken = tender.amount - tender.amount.min(change)
            change = change - tender.amount.min(change)
            if taken:
                kept.append(Tender(tender.kind, taken, tender.reference))
            continue
        kept.append(tender)
    return kept


def _take_link_payment(s: Session, tender: Tender, sale_id: str) -> None:
    """A ``payment_link`` tender is money GoCardless reported paid through a link of this basket: the link
    (named by its billing request or its own id) must be paid, for that amount, and on no other sale."""
    link = s.scalars(
        select(PaymentLinkRow)
        .where(
            or_(
                PaymentLinkRow.gc_billing_request_id == tender.reference,
                PaymentLinkRow.id == tender.reference,
            )
        )
        .with_for_update()
    ).first()
    if link is None or link.status != "paid":
        raise RuleViolation(
            "GoCardless has not reported that payment link as paid, so it cannot pay for this sale. "
            "Take another payment, or wait until the client has paid the link."
        )
    if link.amount_pence != tender.amount.pence or link.currency != tender.amount.currency:
        raise RuleViolation(
            f"That payment link was paid {amount_text(Money(link.amount_pence, link.currency))}, not "
            f"{amount_text(tender.amount)}. Take the difference another way."
        )
    if link.sale_id is not None and link.sale_id != sale_id:
        raise RuleViolation("That payment link's money is already on another sale. Take another payment.")
    link.sale_id = sale_id


def _queue_direct_debit(
    uow: UnitOfWork, client_id: str | None, sale_id: str, number: str, tender: Tender
) -> None:
    membership = repo.current_membership_of(uow.session, client_id) if client_id else None
    mandate = membership.mandate_id if membership else None
    if not mandate or tender.reference not in (mandate, None):
        raise RuleViolation(
            "This client has no active Direct Debit mandate to collect from. Take another payment."
        )
    enqueue(
        uow.session,
        kind="create_payment",
        record_type="sale",
        record_id=sale_id,
        payload={
            "amount": tender.amount.pence,
            "currency": tender.amount.currency,
            "mandate_id": mandate,
            "description": f"Aestheticc sale {number}",
            "metadata": {"sale_id": sale_id},
        },
    )


def _with_change(receipt: Receipt, settlement: Settlement, staff_name: str) -> Receipt:
    return replace(
        receipt, change_due=settlement.change_due, tenders=settlement.tenders, staff_name=staff_name
    )
