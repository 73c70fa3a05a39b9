"""Refunds and voids at the till: a new document that points to the sale, never an edit of it (DESIGN.md §3).

- ``refundable_sale``: what the refund dialog shows — each line with what can still go back, the tenders and
  what they have given back, and whether the sale can still be voided.
- ``refund_sale``: give back chosen lines (or units of a line), with a reason, by a manager; money out by
  cash, card or the way it was paid (a GoCardless tender through a GoCardless refund, queued in the outbox).
- ``void_sale``: give back all of a sale on its own day, before that day is closed, the way it was paid.
- ``package_refunds.refund_unused_sessions``: close a package's unused sessions at package value, with its
  money-out document (pointing to the sale that sold it when there is one).

What each line undoes (package sessions closed, a session given back, a membership period unpaid) is in
``refund_effects.py``; the arithmetic in ``domain/refunds.py``. Documents are numbered on this till like sales,
stored with negative amounts, audited, and refused on a day already closed at this till.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from aestheticc_pos.domain import refunds as rules
from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.checkout import Tender, TenderKind
from aestheticc_pos.domain.errors import InvalidInput, NotFound, RuleViolation
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.refunds import DocumentKind, LineBack, PaidTender, RefundMethod
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import inputs
from aestheticc_pos.services import refund_effects as effects
from aestheticc_pos.services.authority import use_case
from aestheticc_pos.services.close_of_day import require_day_open_in, require_today_open_in
from aestheticc_pos.services.context import ClinicSettings, Services, read_clinic_settings
from aestheticc_pos.services.packages import lock_client_packages
from aestheticc_pos.services.sales import Receipt, sale_receipt
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.tables import (
    SaleLineRow,
    SaleRow,
    TenderRow,
)
from aestheticc_pos.store.takings_summary import add_written_to_takings_in
from aestheticc_pos.store.unit_of_work import UnitOfWork

# The way it was paid: GoCardless money first (it goes back to the account it came from), then card, then cash.
_GIVEN_BACK_FIRST = (
    TenderKind.DIRECT_DEBIT,
    TenderKind.PAYMENT_LINK,
    TenderKind.DEPOSIT,
    TenderKind.CARD,
    TenderKind.CASH,
)


@dataclass(frozen=True, slots=True)
class RefundableLine:
    position: int
    name: str
    kind: str
    quantity: int
    returnable: int  # units not yet given back
    net: Money
    gives_back: str  # what giving it back does, for the dialog: "money", "package", "session", "membership"


@dataclass(frozen=True, slots=True)
class RefundableSale:
    sale_id: str
    number: str
    created_at: dt.datetime
    client_name: str | None
    net: Money
    lines: tuple[RefundableLine, ...]
    tenders: tuple[PaidTender, ...]
    given_back: Money
    void_refusal: str | None  # why it cannot be voided (None: it can)


@use_case(Action.TAKE_PAYMENTS)
def refundable_sale(services: Services, sale_id: str, staff_id: str) -> RefundableSale:
    """What the refund dialog shows; seen by the front desk, whose manager then allows the refund."""
    with services.uow(read_only=True) as uow:
        original = _original(uow, sale_id)
        sold = _sold_lines(uow, original)
        tenders = _paid_tenders(uow, original)
        settings = read_clinic_settings(uow.session)
        refusal = _void_refusal(uow, services, settings, original, sold)
        return RefundableSale(
            sale_id=original.id,
            number=original.number,
            created_at=original.created_at,
            client_name=None if original.client_id is None else _client_name(uow, original.client_id),
            net=Money(original.net_pence, original.currency),
            lines=tuple(
                RefundableLine(
                    position=row.position,
                    name=row.name,
                    kind=row.kind,
                    quantity=row.quantity,
                    returnable=line.returnable,
                    net=Money(row.net_pence, original.currency),
                    gives_back=_gives_back(row),
                )
                for row, line in sold
            ),
            tenders=tenders,
            given_back=Money(sum(t.given_back.pence for t in tenders), original.currency),
            void_refusal=refusal,
        )


@use_case(Action.REFUND)
def refund_sale(
    services: Services,
    *,
    sale_id: str,
    lines: Mapping[int, int] | None,
    method: RefundMethod | str,
    reason: str,
    staff_id: str,
    refund_id: str | None = None,
) -> Receipt:
    """Give back ``lines`` (position → units; None: everything not yet given back) of a sale. Returns the
    refund's receipt; the same ``refund_id`` sent twice returns the first one."""
    method = refund_method(method)
    reason = inputs.text(reason, what="A reason for the refund")
    return _give_back(services, sale_id, lines, method, reason, staff_id, refund_id, DocumentKind.REFUND)


@use_case(Action.VOID)
def void_sale(
    services: Services, *, sale_id: str, reason: str, staff_id: str, void_id: str | None = None
) -> Receipt:
    """Undo a sale made today, before the day is closed: all of it goes back the way it was paid."""
    reason = inputs.text(reason, what="A reason for the void")
    return _give_back(
        services, sale_id, None, RefundMethod.ORIGINAL, reason, staff_id, void_id, DocumentKind.VOID
    )


# --- writing a refund or a void ----------------------------------------------------------------------------


def _give_back(
    services: Services,
    sale_id: str,
    wanted: Mapping[int, int] | None,
    method: RefundMethod,
    reason: str,
    staff_id: str,
    document_id: str | None,
    kind: DocumentKind,
) -> Receipt:
    if document_id is not None:
        document_id = _document_id(document_id)
        if _exists(services, document_id):
            return sale_receipt(services, document_id)
    with services.uow() as uow:
        s = uow.session
        settings = read_clinic_settings(s)
        now = services.now()
        original = _original(uow, sale_id)
        if original.client_id is not None:
            lock_client_packages(uow, original.client_id)  # the lock order: the client first (DESIGN.md §4)
        original = _original(uow, sale_id, lock=True)  # then the sale: two tills never give it back twice
        sold = _sold_lines(uow, original)
        if kind is DocumentKind.VOID:
            refusal = _void_refusal(uow, services, settings, original, sold)
            if refusal:
                raise RuleViolation(refusal)
        require_today_open_in(uow, now, what="the refund")
        chosen = rules.everything_left([line for _, line in sold]) if wanted is None else _units(wanted)
        if wanted is None and not chosen:
            raise RuleViolation(f"Everything on sale {original.number} has already been given back.")
        backs = list(rules.lines_back([line for _, line in sold], chosen))
        rows = {row.position: row for row, _ in sold}
        document_id = document_id or services.new_id()
        backs = [
            _undo_line(uow, original, rows[back.position], back, reason, now, staff_id) for back in backs
        ]
        _gross, _discount, net, _vat = rules.total_back(backs, original.currency)
        paid = _paid_tenders(uow, original)
        tenders = rules.tenders_back(paid, net, method)
        left = {(t.tender.kind, t.tender.reference): t.left for t in paid}
        number = uow.next_number(f"sale:{settings.till_prefix}", settings.till_prefix + "-{n:06d}")
        _write_document(uow, original, document_id, number, kind, backs, tenders, reason, staff_id, now)
        for tender in tenders:
            if tender.kind in rules.THROUGH_GOCARDLESS:
                effects.give_back_through_gocardless_in(
                    uow,
                    original,
                    document_id,
                    tender,
                    whole_tender=left.get((tender.kind, tender.reference)) == tender.amount,
                )
        add_written_to_takings_in(s, document_id, _today(uow, now))
        append_audit(
            s,
            at=now,
            staff_id=staff_id,
            action=f"sale.{'voided' if kind is DocumentKind.VOID else 'refunded'}",
            record_type="sale",
            record_id=document_id,
            reason=reason,
            details={
                "number": number,
                "refers_to": original.number,
                "net_pence": -net.pence,
                "tenders": ",".join(sorted({t.kind.value for t in tenders})),
            },
        )
        try:
            uow.commit()
        except IntegrityError:
            if not _exists(services, document_id):
                raise
    return sale_receipt(services, document_id)


def _undo_line(
    uow: UnitOfWork,
    original: SaleRow,
    row: SaleLineRow,
    back: LineBack,
    reason: str,
    now: dt.datetime,
    staff_id: str,
) -> LineBack:
    """Undo what the line did; returns what it gives back (a package line: its unused sessions' value)."""
    today = _today(uow, now)
    gives_back = _gives_back(row)
    if gives_back == "package":
        value = effects.close_packages_in(
            uow, original, row, back.quantity, now=now, today=today, staff_id=staff_id, reason=reason
        )
        return rules.package_value_back(back, value)
    if gives_back == "session":
        effects.give_session_back_in(
            uow, original, row, reason=reason, now=now, today=today, staff_id=staff_id
        )
    elif gives_back == "membership":
        effects.membership_refunded_in(uow, original, today=today)
    return back


def _write_document(
    uow: UnitOfWork,
    original: SaleRow,
    document_id: str,
    number: str,
    kind: DocumentKind,
    backs: list[LineBack],
    tenders: tuple[Tender, ...],
    reason: str,
    staff_id: str,
    now: dt.datetime,
) -> None:
    s = uow.session
    gross, discount, net, vat = rules.total_back(backs, original.currency)
    s.add(
        SaleRow(
            id=document_id,
            number=number,
            till_prefix=number.split("-", 1)[0],
            client_id=original.client_id,
            staff_id=staff_id,
            kind=kind.value,
            refers_to_sale_id=original.id,
            channel=original.channel,
            gross_pence=-gross.pence,
            discount_pence=-discount.pence,
            net_pence=-net.pence,
            vat_pence=-vat.pence,
            currency=original.currency,
            created_at=now,
            reason=reason,
        )
    )
    s.flush()
    sold = {row.position: row for row, _ in _sold_lines(uow, original)}
    for position, back in enumerate(backs, start=1):
        line = sold[back.position]
        s.add(
            SaleLineRow(
                sale_id=document_id,
                position=position,
                kind=line.kind,
                item_id=line.item_id,
                name=line.name,
                quantity=back.quantity,
                unit_price_pence=line.unit_price_pence,
                gross_pence=-back.gross.pence,
                discount_pence=-back.discount.pence,
                discount_reason=line.discount_reason,
                net_pence=-back.net.pence,
                vat_pence=-back.vat.pence,
                vat_rate_bp=line.vat_rate_bp,
                step_position=line.step_position,
                client_package_id=line.client_package_id,
                appointment_id=line.appointment_id,
                refunds_position=line.position,
            )
        )
    for tender in tenders:
        s.add(
            TenderRow(
                sale_id=document_id,
                kind=tender.kind.value,
                amount_pence=-tender.amount.pence,
                currency=tender.amount.currency,
                reference=tender.reference,
            )
        )
    s.flush()


# --- reading -----------------------------------------------------------------------------------------------


def _original(uow: UnitOfWork, sale_id: str, *, lock: bool = False) -> SaleRow:
    sale = uow.session.get(SaleRow, sale_id, with_for_update=lock, populate_existing=lock)
    if sale is None:
        raise NotFound("That sale does not exist.")
    if sale.kind != DocumentKind.SALE.value:
        raise RuleViolation(f"{sale.number} is a {sale.kind}, not a sale: refund the sale it gave back.")
    return sale


def _sold_lines(uow: UnitOfWork, original: SaleRow) -> list[tuple[SaleLineRow, rules.SoldLine]]:
    s = uow.session
    refunded = dict(
        s.execute(
            select(SaleLineRow.refunds_position, func.sum(SaleLineRow.quantity))
            .join(SaleRow, SaleRow.id == SaleLineRow.sale_id)
            .where(SaleRow.refers_to_sale_id == original.id)
            .group_by(SaleLineRow.refunds_position)
        ).all()
    )
    rows = s.scalars(
        select(SaleLineRow).where(SaleLineRow.sale_id == original.id).order_by(SaleLineRow.position)
    ).all()
    cur = original.currency
    return [
        (
            row,
            rules.SoldLine(
                position=row.position,
                name=row.name,
                quantity=row.quantity,
                gross=Money(row.gross_pence, cur),
                discount=Money(row.discount_pence, cur),
                net=Money(row.net_pence, cur),
                vat=Money(row.vat_pence, cur),
                refunded_quantity=int(refunded.get(row.position) or 0),
            ),
        )
        for row in rows
    ]


def _paid_tenders(uow: UnitOfWork, original: SaleRow) -> tuple[PaidTender, ...]:
    """The sale's tenders, GoCardless ones first (the way it was paid goes back there first), with what earlier
    refunds gave back."""
    s = uow.session
    tenders = s.scalars(
        select(TenderRow).where(TenderRow.sale_id == original.id).order_by(TenderRow.id)
    ).all()
    back = effects.given_back(s, original.id)
    paid = [
        PaidTender(
            Tender(TenderKind(t.kind), Money(t.amount_pence, t.currency), t.reference),
            back.pop((t.kind, t.reference), Money.zero(t.currency)),
        )
        for t in tenders
    ]
    return tuple(sorted(paid, key=lambda p: _GIVEN_BACK_FIRST.index(p.tender.kind)))


def _void_refusal(
    uow: UnitOfWork,
    services: Services,
    settings: ClinicSettings,
    original: SaleRow,
    sold: list[tuple[SaleLineRow, rules.SoldLine]],
) -> str | None:
    day = original.created_at.astimezone(settings.tz).date()
    if day != services.now().astimezone(settings.tz).date():
        return f"Sale {original.number} was not made today, so it cannot be voided. Refund it instead."
    if any(line.refunded_quantity for _, line in sold):
        return f"Part of sale {original.number} has already been refunded. Refund the rest instead."
    try:
        require_day_open_in(uow, original.created_at)
    except RuleViolation as closed:
        return str(closed)
    return None


def _today(uow: UnitOfWork, now: dt.datetime) -> dt.date:
    return now.astimezone(read_clinic_settings(uow.session).tz).date()


def _gives_back(row: SaleLineRow) -> str:
    if row.kind == ItemKind.PACKAGE.value:
        return "package"
    if row.kind == ItemKind.MEMBERSHIP.value:
        return "membership"
    if row.client_package_id is not None and row.step_position is not None:
        return "session"
    return "money"


def _units(wanted: Mapping[int, int]) -> dict[int, int]:
    try:
        positions = {int(position): units for position, units in wanted.items()}
    except (TypeError, ValueError, AttributeError):
        raise InvalidInput("Choose the lines to refund from the sale.", field="lines") from None
    return {p: inputs.whole_number(units, what="How many to refund") for p, units in positions.items()}


def _document_id(value: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise InvalidInput("That refund's reference is not one the till makes. Start again.") from None


def refund_method(value: RefundMethod | str) -> RefundMethod:
    try:
        return RefundMethod(value)
    except ValueError:
        raise InvalidInput(
            f"“{value}” is not a way to give money back: choose cash, card or the way it was paid.",
            field="method",
        ) from None


def _exists(services: Services, document_id: str) -> bool:
    with services.uow(read_only=True) as uow:
        return uow.session.get(SaleRow, document_id) is not None


def _client_name(uow: UnitOfWork, client_id: str) -> str:
    return repo.load_client(uow.session, client_id).full_name
