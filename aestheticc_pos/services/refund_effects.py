"""What giving a sold line back undoes, inside the refund's unit of work (rules in ``domain/refunds.py``).

- A package line closes the unused sessions of the packages it sold (``packages.ledger.refund_unused``) and
  is worth their package value.
- A redemption line (a session a package paid for) gives the session back: its redemption is voided.
- A membership line makes the periods the sale paid unpaid again: a membership the sale started ends today
  (its GoCardless work is withdrawn or cancelled); a later period is owed again, as after a chargeback.
- A GoCardless tender (Direct Debit, payment link, deposit) is given back through a GoCardless refund of its
  payment, queued in the outbox; a Direct Debit never sent is withdrawn instead, so it is never collected.

Each function runs in the caller's unit of work, after the caller took the client's lock (DESIGN.md §4).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aestheticc_pos.domain import memberships as ms
from aestheticc_pos.domain import packages as package_rules
from aestheticc_pos.domain.billing import PaymentStatus
from aestheticc_pos.domain.checkout import Tender, TenderKind
from aestheticc_pos.domain.errors import RuleViolation
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.outbox import OPEN, OutboxKind, OutboxStatus
from aestheticc_pos.domain.packages import ClientPackageStatus, LedgerKind
from aestheticc_pos.services.membership_outbox import queue_cancellation, withdraw_unsent_at_end
from aestheticc_pos.services.packages import (
    load_client_package_for_change,
    record_ledger_entry,
    redemption_index,
)
from aestheticc_pos.store import package_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.outbox_repo import enqueue, withdraw_unsent
from aestheticc_pos.store.tables import (
    ClientPackageRow,
    DepositRow,
    MembershipPaymentRow,
    MembershipRow,
    OutboxRow,
    PaymentLinkRow,
    SaleLineRow,
    SaleRow,
    SessionLedgerRow,
    TenderRow,
)
from aestheticc_pos.store.unit_of_work import UnitOfWork

SALE = "sale"  # the outbox's record type for a sale's GoCardless work


def close_packages_in(
    uow: UnitOfWork,
    original: SaleRow,
    line: SaleLineRow,
    units: int,
    *,
    now: dt.datetime,
    today: dt.date,
    staff_id: str,
    reason: str,
) -> Money:
    """Close the unused sessions of ``units`` packages sold on ``line``; returns their package value."""
    ids = uow.session.scalars(
        select(ClientPackageRow.id)
        .where(
            ClientPackageRow.sale_id == original.id,
            ClientPackageRow.package_id == line.item_id,
            ClientPackageRow.status == ClientPackageStatus.ACTIVE.value,
        )
        .order_by(ClientPackageRow.id)
    ).all()
    if not ids and line.client_package_id is not None:
        ids = [line.client_package_id]  # a package sold before its sale kept the package's id on each
    if len(ids) < units:
        raise RuleViolation(
            f"{line.name} has already been refunded or closed, so its sessions cannot be refunded again."
        )
    value = Money.zero(original.currency)
    for cp_id in ids[:units]:
        amount, _sessions = refund_unused_in(
            uow, cp_id, now=now, today=today, staff_id=staff_id, reason=reason
        )
        value = value + amount
    return value


def refund_unused_in(
    uow: UnitOfWork, client_package_id: str, *, now: dt.datetime, today: dt.date, staff_id: str, reason: str
) -> tuple[Money, int]:
    """Close one package's unused sessions (audited); returns their value (``price × unused ÷ total``, half
    up) and how many sessions were closed."""
    cp = load_client_package_for_change(uow, client_package_id)
    refunded, entries, amount = package_rules.refund_unused(cp, today)
    for entry in entries:  # one entry per step: each moves only its own step's counters
        record_ledger_entry(uow, cp, entry, staff_id=staff_id, at=now)
    package_repo.save_client_package_terms(uow.session, refunded)
    closed = sum(e.sessions for e in entries)
    append_audit(
        uow.session,
        at=now,
        staff_id=staff_id,
        action="package.refunded",
        record_type="client_package",
        record_id=cp.id,
        reason=reason,
        details={"sessions": closed, "amount_pence": amount.pence},
    )
    return amount, closed


def sessions_refunded(s: Session, client_package_id: str) -> int:
    """Sessions of the package closed by refunds."""
    total = s.scalar(
        select(func.sum(SessionLedgerRow.sessions)).where(
            SessionLedgerRow.client_package_id == client_package_id,
            SessionLedgerRow.kind == LedgerKind.REFUND.value,
        )
    )
    return int(total or 0)


def give_session_back_in(
    uow: UnitOfWork,
    original: SaleRow,
    line: SaleLineRow,
    *,
    reason: str,
    now: dt.datetime,
    today: dt.date,
    staff_id: str,
) -> None:
    """Void the redemption ``line`` made (with or without an appointment): the session is free again."""
    assert line.client_package_id is not None
    cp = load_client_package_for_change(uow, line.client_package_id)
    entry_index = redemption_index(uow.session, cp.id, sale_id=original.id, step_position=line.step_position)
    if entry_index is None:
        raise RuleViolation(f"The session {line.name} used has already been given back.")
    after, entry = package_rules.void_redemption(cp, entry_index, reason, today)
    record_ledger_entry(uow, cp, entry, staff_id=staff_id, sale_id=original.id, at=now)


def membership_refunded_in(uow: UnitOfWork, original: SaleRow, *, today: dt.date) -> str | None:
    """The periods the sale paid are no longer paid. Returns the membership's id, or None if it paid none."""
    s = uow.session
    payments = s.scalars(
        select(MembershipPaymentRow)
        .where(MembershipPaymentRow.sale_id == original.id, MembershipPaymentRow.status == PaymentStatus.PAID)
        .order_by(MembershipPaymentRow.period_start)
    ).all()
    if not payments:
        return None
    row = s.get(MembershipRow, payments[0].membership_id, with_for_update=True, populate_existing=True)
    assert row is not None  # a payment's membership is never deleted
    m = ms.daily_review(repo.membership_from_row(row), today)
    for payment in payments:
        payment.status = PaymentStatus.REFUNDED
    first = payments[0].period_start
    if first <= m.started_on and m.status is not ms.MembershipStatus.ENDED:
        m = ms.end(m, today)  # the sale that started it is given back: the membership never was paid for
        withdraw_unsent_at_end(s, m.id, today)
        queue_cancellation(s, m, today)
    elif m.status is not ms.MembershipStatus.ENDED:
        m = ms.payment_charged_back(m, first, today)  # the period is owed again, like money taken back
    repo.save_membership(s, m)
    s.flush()
    return m.id


def give_back_through_gocardless_in(
    uow: UnitOfWork, original: SaleRow, refund_id: str, tender: Tender, *, whole_tender: bool
) -> None:
    """Queue the GoCardless refund of ``tender``'s part of the sale's payment (or withdraw a Direct Debit never
    sent, when all of it goes back). Refused while GoCardless has not yet taken the payment."""
    s = uow.session
    if tender.kind is TenderKind.DIRECT_DEBIT:
        job = _direct_debit_job(s, original.id)
        if job is not None and job.remote_id is None:
            if whole_tender and withdraw_unsent(s, job.id):
                return  # never sent, so never collected: nothing to give back
            raise RuleViolation(
                "GoCardless has not collected this sale's Direct Debit yet, so it cannot be refunded through "
                "GoCardless. Give the money back in cash or by card, or wait until it is collected."
            )
        payment_id = None if job is None else job.remote_id
    else:
        payment_id = _link_payment_id(s, original.id, tender)
    if not payment_id:
        raise RuleViolation(
            "The GoCardless payment for this sale is not known yet. Give the money back in cash or by card, "
            "or refund it once the sync has caught up."
        )
    already = _refunded_through_gocardless(s, original.id, payment_id)
    enqueue(
        s,
        kind=OutboxKind.CREATE_REFUND,
        record_type=SALE,
        record_id=refund_id,
        payload=_refund_payload(tender.amount, already, payment_id, original.id, refund_id),
    )


def given_back(s: Session, original_id: str) -> dict[tuple[str, str | None], Money]:
    """What earlier refunds of the sale gave back, per (tender kind, reference) — positive amounts."""
    rows = s.execute(
        select(
            TenderRow.kind,
            TenderRow.reference,
            TenderRow.currency,
            func.sum(TenderRow.amount_pence),
        )
        .join(SaleRow, SaleRow.id == TenderRow.sale_id)
        .where(SaleRow.refers_to_sale_id == original_id)
        .group_by(TenderRow.kind, TenderRow.reference, TenderRow.currency)
    ).all()
    return {(kind, reference): Money(-int(total), currency) for kind, reference, currency, total in rows}


# --- helpers ------------------------------------------------------------------------------------------------


def _direct_debit_job(s: Session, sale_id: str) -> OutboxRow | None:
    return s.scalars(
        select(OutboxRow)
        .where(
            OutboxRow.record_type == SALE,
            OutboxRow.record_id == sale_id,
            OutboxRow.kind == OutboxKind.CREATE_PAYMENT.value,
            OutboxRow.status.not_in([OutboxStatus.DISCARDED.value, OutboxStatus.FAILED.value]),
        )
        .order_by(OutboxRow.seq.desc())
        .limit(1)
    ).first()


def _link_payment_id(s: Session, sale_id: str, tender: Tender) -> str | None:
    if tender.kind is TenderKind.DEPOSIT:
        deposit = None if tender.reference is None else s.get(DepositRow, tender.reference)
        link_id = None if deposit is None else deposit.payment_link_id
        link = None if link_id is None else s.get(PaymentLinkRow, link_id)
    else:
        link = s.scalars(select(PaymentLinkRow).where(PaymentLinkRow.sale_id == sale_id).limit(1)).first()
    return None if link is None else link.gc_payment_id


def _refunded_through_gocardless(s: Session, original_id: str, payment_id: str) -> int:
    """Pence of ``payment_id`` already being refunded for earlier refunds of the sale (not given up on)."""
    refund_ids = select(SaleRow.id).where(SaleRow.refers_to_sale_id == original_id)
    jobs = s.scalars(
        select(OutboxRow.payload).where(
            OutboxRow.record_type == SALE,
            OutboxRow.kind == OutboxKind.CREATE_REFUND.value,
            OutboxRow.record_id.in_(refund_ids),
            OutboxRow.status.in_([*(status.value for status in OPEN), OutboxStatus.DONE.value]),
        )
    ).all()
    return sum(
        int(payload["amount"])
        for payload in jobs
        if (payload.get("links") or {}).get("payment") == payment_id
    )


def _refund_payload(
    amount: Money, already_pence: int, payment_id: str, sale_id: str, refund_id: str
) -> dict[str, Any]:
    """GoCardless asks for the total refunded on the payment so far, this refund included."""
    return {
        "amount": amount.pence,
        "total_amount_confirmation": already_pence + amount.pence,
        "links": {"payment": payment_id},
        "metadata": {"sale_id": sale_id, "refund_id": refund_id},
    }
