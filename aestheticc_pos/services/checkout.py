"""Checkout at the till: price a basket for a client, and complete its sale.

``quote_basket`` shows the total (``pricing.price_basket_in``, the one pricing engine of every checkout type);
``complete_sale`` prices the basket again inside its transaction, refuses a total that changed since it was
shown, and writes the sale with ``sales.write_sale_in`` (lines, tenders, package ledger entries, new client
packages, a membership sold, visits attended, Direct Debit work for the outbox), all in one transaction with
the permission check, each row read once, and the receipt made from what was written (``receipts``). A sale
submitted twice with the same id is written once. ``last_sale`` finds what this till rang up last, after a
restart.

A basket that signs the client up to a membership is priced for the member the client becomes at that moment
(``pricing``), so the total shown is the total taken.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.pricing import Channel, Quote
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import Audience, permitted_staff_in, use_case
from aestheticc_pos.services.close_of_day import require_today_open_in
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.services.pricing import BasketItem, Payment, check_expected_total, price_basket_in
from aestheticc_pos.services.receipts import Receipt, receipt_of
from aestheticc_pos.services.sales import receipt_in, sale_receipt, write_sale_in
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.tables import SaleRow


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


@use_case(Action.TAKE_PAYMENTS, in_transaction=True)
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

    One unit of work does it all, each row read once: the staff member's permission, the sale id already
    taken, the settings, the client (locked, before the packages pricing reads), the day still open, the
    pricing, the writing; the receipt is made from what was written.
    """
    now = services.now()
    with services.uow() as uow:
        s = uow.session
        staff = permitted_staff_in(s, staff_id, Action.TAKE_PAYMENTS)
        if sale_id is not None:
            sale_id = _sale_id(sale_id)
            if _sale_exists_in(s, sale_id):
                return receipt_in(s, read_clinic_settings(s), sale_id)
        if not items:
            raise InvalidInput("The basket is empty. Add a treatment, product, package or membership first.")
        settings = read_clinic_settings(s)
        today = now.astimezone(settings.tz).date()
        client = None if client_id is None else repo.lock_client(s, client_id)
        require_today_open_in(uow, now, what="the sale", settings=settings)
        priced = price_basket_in(
            uow,
            client_id=client_id,
            items=items,
            on=today,
            channel=Channel.POS,
            staff_id=staff_id,
            client_read=True,
        )
        check_expected_total(
            priced, expected_total, then="Check the basket with the client before taking payment."
        )
        try:
            written = write_sale_in(
                uow,
                services,
                settings,
                priced=priced,
                payments=payments,
                client_id=client_id,
                staff_id=staff_id,
                sale_id=sale_id,
                client_locked=True,
            )
            uow.commit()
        except IntegrityError:
            if sale_id is None:
                raise
            uow.rollback()  # the same sale, committed by a submit racing this one: its receipt
            if not _sale_exists_in(s, sale_id):
                raise
            return receipt_in(s, settings, sale_id)
    return receipt_of(
        written,
        priced,
        settings,
        client_id=client_id,
        client_name=None if client is None else client.full_name,
        staff_name=staff.name,
    )


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


def _sale_exists_in(s: Session, sale_id: str) -> bool:
    return s.execute(_SALE_EXISTS, {"id": sale_id}).first() is not None


_sales = SaleRow.__table__.c
_SALE_EXISTS = select(_sales.id).where(_sales.id == bindparam("id"), _sales.kind == "sale")
