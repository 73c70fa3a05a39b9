"""What the Sync screen and the status bar show about the work for GoCardless, and what a manager may do with it.

Reads the outbox, the log of events applied (``processed_events``) and the sync engine's own facts
(``sync_state``); never the network. Staff see sentences: who the work is for ("Membership of Amy Jones") and
what it does ("start the monthly collection"), never raw payloads or bank details.

A manager may **retry** work GoCardless refused (after fixing its cause, e.g. the client's email) or **discard**
it (with a reason, audited): discarding also discards the later work of the same record that depended on it, since
that can never be sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aestheticc_pos.domain.errors import InvalidInput, NotFound, RuleViolation
from aestheticc_pos.domain.memberships import LOST_MANDATE_STATUSES, MembershipStatus
from aestheticc_pos.domain.outbox import OPEN, OutboxStatus
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.staff import require_staff
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.tables import (
    ClientRow,
    MembershipRow,
    OutboxRow,
    ProcessedEventRow,
    SyncStateRow,
)

# The sync engine's keys in ``sync_state`` (``sync/engine.py`` writes them).
LAST_SYNC_KEY = "last_successful_sync"

QUEUED_STATUSES = OPEN
RECENT_EVENTS = 50

KIND_WORDS = {
    "create_customer": "add the client to GoCardless",
    "create_billing_request": "prepare the Direct Debit request",
    "create_flow": "create the authorisation link",
    "create_subscription": "start the monthly collection",
    "update_subscription": "change the monthly amount",
    "pause_subscription": "pause the monthly collection",
    "resume_subscription": "resume the monthly collection",
    "cancel_subscription": "stop the monthly collection",
    "create_payment": "collect a payment",
    "cancel_payment": "cancel a payment GoCardless would retry",
    "create_refund": "refund a payment",
}

EVENT_WORDS = {
    ("billing_requests", "fulfilled"): "Direct Debit authorised by the client",
    ("billing_requests", "cancelled"): "Direct Debit set-up cancelled",
    ("billing_requests", "expired"): "Direct Debit link expired",
    ("mandates", "created"): "Mandate created",
    ("mandates", "submitted"): "Mandate submitted to the bank",
    ("mandates", "active"): "Mandate active",
    ("mandates", "reinstated"): "Mandate reinstated",
    ("mandates", "cancelled"): "Mandate cancelled",
    ("mandates", "failed"): "Mandate failed",
    ("mandates", "expired"): "Mandate expired",
    ("mandates", "blocked"): "Mandate blocked",
    ("mandates", "transferred"): "Mandate moved to another bank",
    ("mandates", "replaced"): "Mandate replaced",
    ("subscriptions", "created"): "Monthly collection started",
    ("subscriptions", "amended"): "Monthly amount changed",
    ("subscriptions", "payment_created"): "Monthly payment scheduled",
    ("subscriptions", "paused"): "Monthly collection paused",
    ("subscriptions", "resumed"): "Monthly collection resumed",
    ("subscriptions", "cancelled"): "Monthly collection stopped",
    ("subscriptions", "finished"): "Monthly collection finished",
    ("payments", "created"): "Payment scheduled",
    ("payments", "submitted"): "Payment submitted to the bank",
    ("payments", "confirmed"): "Payment collected",
    ("payments", "paid_out"): "Payment paid out to the clinic",
    ("payments", "failed"): "Payment failed",
    ("payments", "late_failure_settled"): "Payment failed late",
    ("payments", "charged_back"): "Payment charged back",
    ("payments", "chargeback_settled"): "Chargeback settled",
    ("payments", "cancelled"): "Payment cancelled",
    ("payments", "resubmission_requested"): "Payment retry requested",
    ("refunds", "created"): "Refund created",
    ("refunds", "paid"): "Refund paid",
}


@dataclass(frozen=True, slots=True)
class AttentionItem:
    """Work GoCardless refused (``failed``): what it was for, why, and how much later work waits for it."""

    id: str
    record_type: str
    record_id: str
    client_name: str | None
    what: str
    error: str
    attempts: int
    since: dt.datetime
    held_back: int  # later work of the same record that waits for this one


@dataclass(frozen=True, slots=True)
class EventLogEntry:
    at: dt.datetime
    event_id: str
    what: str
    client_name: str | None
    outcome: str
    note: str | None


@dataclass(frozen=True, slots=True)
class LinkToSend:
    """A member whose Direct Debit link is lost or unused: staff should offer a new one."""

    membership_id: str
    client_name: str
    reason: str


@dataclass(frozen=True, slots=True)
class SyncOverview:
    queued: int  # work waiting to be sent (pending, being sent, or waiting for earlier work)
    retrying: int  # of those, work that failed for a passing reason and will be tried again
    attention: tuple[AttentionItem, ...]
    last_successful_sync: dt.datetime | None
    recent: tuple[EventLogEntry, ...]
    links_to_send: tuple[LinkToSend, ...]


@use_case(Audience.ANY_STAFF)
def sync_overview(services: Services, *, recent: int = RECENT_EVENTS) -> SyncOverview:
    recent = inputs.how_many(recent, maximum=1000)
    with services.uow(read_only=True) as uow:
        s = uow.session
        queued = _count(s, OutboxRow.status.in_(QUEUED_STATUSES))
        retrying = _count(s, OutboxRow.status.in_(QUEUED_STATUSES), OutboxRow.last_error.is_not(None))
        attention = tuple(_attention(s))
        last = s.get(SyncStateRow, LAST_SYNC_KEY)
        return SyncOverview(
            queued=queued,
            retrying=retrying,
            attention=attention,
            last_successful_sync=None if last is None else _parse(last.value),
            recent=tuple(_recent(s, recent)),
            links_to_send=tuple(_links_to_send(s)),
        )


@use_case(Audience.ANY_STAFF)
def queued_count(services: Services) -> tuple[int, int]:
    """(work queued, work needing attention): the status bar's two numbers, in one cheap read."""
    with services.uow(read_only=True) as uow:
        s = uow.session
        return _count(s, OutboxRow.status.in_(QUEUED_STATUSES)), _count(
            s, OutboxRow.status == OutboxStatus.FAILED
        )


@use_case(Action.RESOLVE_SYNC)
def retry_item(services: Services, *, outbox_id: str, staff_id: str) -> None:
    """Send refused work again at the next sync (after its cause was fixed). Manager only; audited."""
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, Action.RESOLVE_SYNC)
        row = _failed_row(s, outbox_id)
        previous = row.last_error or ""
        row.status = OutboxStatus.PENDING
        row.next_attempt_at = None
        row.last_error = None
        row.updated_at = services.now()
        _audit(services, s, staff_id, "sync.retried", row, error=previous[:200])
        uow.commit()


@use_case(Action.RESOLVE_SYNC)
def discard_item(services: Services, *, outbox_id: str, staff_id: str, reason: str) -> int:
    """Give up on refused work and on the later work of its record that waited for it. Manager only, with a
    reason; audited. Returns how many items were discarded."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Say why this work is discarded (it is kept in the audit log).", field="reason")
    with services.uow() as uow:
        s = uow.session
        require_staff(s, staff_id, Action.RESOLVE_SYNC)
        row = _failed_row(s, outbox_id)
        discarded = [row, *_dependants(s, row)]
        now = services.now()
        for item in discarded:
            item.status = OutboxStatus.DISCARDED
            item.next_attempt_at = None
            item.updated_at = now
        _audit(services, s, staff_id, "sync.discarded", row, reason=reason, count=len(discarded))
        uow.commit()
    return len(discarded)


# --- Helpers ---------------------------------------------------------------------------------------------------


def _count(s: Session, *conditions: object) -> int:
    return s.scalar(select(func.count()).select_from(OutboxRow).where(*conditions)) or 0  # type: ignore[arg-type]


def _failed_row(s: Session, outbox_id: str) -> OutboxRow:
    row = s.scalars(select(OutboxRow).where(OutboxRow.id == outbox_id).with_for_update()).one_or_none()
    if row is None:
        raise NotFound("That work for GoCardless no longer exists.")
    if row.status != OutboxStatus.FAILED:
        raise RuleViolation("Only work GoCardless refused can be retried or discarded; this one is not.")
    return row


def _dependants(s: Session, row: OutboxRow) -> list[OutboxRow]:
    """Unsent rows that wait, directly or through others, for ``row``."""
    found: list[OutboxRow] = []
    frontier = [row.id]
    while frontier:
        children = s.scalars(
            select(OutboxRow).where(OutboxRow.depends_on.in_(frontier), OutboxRow.status.in_(QUEUED_STATUSES))
        ).all()
        found.extend(children)
        frontier = [child.id for child in children]
    return found


def _attention(s: Session) -> list[AttentionItem]:
    rows = s.scalars(
        select(OutboxRow).where(OutboxRow.status == OutboxStatus.FAILED).order_by(OutboxRow.seq)
    ).all()
    items = []
    for row in rows:
        items.append(
            AttentionItem(
                id=row.id,
                record_type=row.record_type,
                record_id=row.record_id,
                client_name=_client_of(s, row.record_type, row.record_id),
                what=KIND_WORDS.get(row.kind, row.kind.replace("_", " ")),
                error=row.last_error or "GoCardless refused it.",
                attempts=row.attempts,
                since=row.updated_at,
                held_back=len(_dependants(s, row)),
            )
        )
    return items


def _recent(s: Session, limit: int) -> list[EventLogEntry]:
    rows = s.scalars(
        select(ProcessedEventRow)
        .order_by(ProcessedEventRow.processed_at.desc(), ProcessedEventRow.event_id.desc())
        .limit(limit)
    ).all()
    return [
        EventLogEntry(
            at=row.processed_at,
            event_id=row.event_id,
            what=event_words(row.resource_type, row.action),
            client_name=None if row.membership_id is None else _client_of(s, "membership", row.membership_id),
            outcome=row.outcome,
            note=row.note,
        )
        for row in rows
    ]


def event_words(resource_type: str, action: str) -> str:
    words = EVENT_WORDS.get((resource_type, action))
    if words is not None:
        return words
    resource = resource_type.replace("_", " ").rstrip("s") or "Event"
    return f"{resource.capitalize()} {action.replace('_', ' ')}".strip()


def _links_to_send(s: Session) -> list[LinkToSend]:
    """Members whose mandate was lost, or whose link stopped working before they used it."""
    rows = s.execute(
        select(MembershipRow, ClientRow)
        .join(ClientRow, ClientRow.id == MembershipRow.client_id)
        .where(MembershipRow.status != MembershipStatus.ENDED.value)
        .where(
            MembershipRow.gc_mandate_status.in_(sorted(LOST_MANDATE_STATUSES))
            | (
                (MembershipRow.status == MembershipStatus.PENDING_MANDATE.value)
                & MembershipRow.gc_billing_request_id.is_not(None)
                & MembershipRow.gc_authorisation_url.is_(None)
                & MembershipRow.gc_mandate_id.is_(None)
            )
        )
        .order_by(func.lower(ClientRow.last_name), func.lower(ClientRow.first_name), ClientRow.id)
    ).all()
    links = []
    for membership, client in rows:
        if _set_up_queued(s, membership.id):
            continue
        if membership.gc_mandate_status in LOST_MANDATE_STATUSES:
            reason = f"Their Direct Debit is {membership.gc_mandate_status}."
        else:
            reason = "Their Direct Debit link expired or was cancelled before they used it."
        links.append(LinkToSend(membership.id, f"{client.first_name} {client.last_name}", reason))
    return links


def _set_up_queued(s: Session, membership_id: str) -> bool:
    return (
        _count(
            s,
            OutboxRow.record_type == "membership",
            OutboxRow.record_id == membership_id,
            OutboxRow.kind.in_(("create_billing_request", "create_flow")),
            OutboxRow.status.in_((*QUEUED_STATUSES, OutboxStatus.FAILED)),
        )
        > 0
    )


def _client_of(s: Session, record_type: str, record_id: str) -> str | None:
    if record_type != "membership":
        return None
    row = s.execute(
        select(ClientRow.first_name, ClientRow.last_name)
        .join(MembershipRow, MembershipRow.client_id == ClientRow.id)
        .where(MembershipRow.id == record_id)
    ).first()
    return None if row is None else f"{row.first_name} {row.last_name}"


def _audit(
    services: Services, s: Session, staff_id: str, action: str, row: OutboxRow, **details: object
) -> None:
    append_audit(
        s,
        at=services.now(),
        staff_id=staff_id,
        action=action,
        record_type=row.record_type,
        record_id=row.record_id,
        reason=details.pop("reason", None),  # type: ignore[arg-type]
        details={"outbox_id": row.id, "kind": row.kind, **details},  # type: ignore[dict-item]
    )


def _parse(value: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)
