"""The outbox as the sync engine sees it: which rows are due, what they send, and how an outcome is recorded.

Helpers over a caller's session (DESIGN.md §5); they never commit and never touch the network. Statuses:

- ``pending``: may be sent once ``next_attempt_at`` (None = at once) has come.
- ``in_flight``: taken by the engine and being sent. A crash leaves it so; the engine treats it as pending again
  at its next start (``SyncEngine.recover_in_flight``), which is safe because the idempotency key is the same.
- ``waiting_for_prerequisite``: waits for the row named by ``depends_on``; ``ready`` makes it pending once that
  row is done. A prerequisite that failed keeps it waiting (and ``ready`` reports it as blocked).
- ``done``: sent; ``remote_id`` is GoCardless's id for it. ``failed``: refused for good; ``last_error`` says why.

Order: per record (``record_type``, ``record_id``), only the lowest ``seq`` not done may be sent, so a customer
goes before its billing request, and that before its flow; a failed row holds back the rest of its record.

``attempts`` counts the sends started: ``mark_in_flight`` adds one *before* the request leaves. (The membership
service may rewrite or withdraw a row only while ``attempts == 0``, so a row whose send was interrupted by a crash
must never look unsent.)
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased, object_session

from aestheticc_pos.domain import billing
from aestheticc_pos.store.tables import (
    DepositRow,
    MembershipPaymentRow,
    MembershipRow,
    OutboxRow,
    PackageLinkRow,
    PaymentLinkRow,
    new_id,
)
from aestheticc_pos.sync.gateway import (
    FlowResult,
    GatewayError,
    RateLimited,
    RemoteResult,
)

BACKOFF_BASE = dt.timedelta(seconds=5)
BACKOFF_CAP = dt.timedelta(minutes=30)
MEMBERSHIP = "membership"
PAYMENT_LINK = "payment_link"
PACKAGE_LINK = "package_link"
DEPOSIT = "deposit"

# Finished work: sent, or given up by a manager (it no longer holds back the rest of its record).
FINISHED = ("done", "discarded")

# Ready states reported by ``ready``.
READY = "pending"
WAITING = "waiting"
BLOCKED = "blocked"

# The membership column each kind's remote id is written back to (record_type "membership").
_MEMBERSHIP_COLUMNS = {
    "create_customer": "gc_customer_id",
    "create_billing_request": "gc_billing_request_id",
    "create_flow": "gc_flow_id",
    "create_subscription": "gc_subscription_id",
}


_RECORDS: dict[str, Any] = {
    MEMBERSHIP: MembershipRow,
    PAYMENT_LINK: PaymentLinkRow,
    PACKAGE_LINK: PackageLinkRow,
}

# (record type, kind) → the local table and column that take the remote id when the work is done.
_WRITE_BACK: dict[tuple[str, str], tuple[Any, str | None]] = {
    **{(MEMBERSHIP, kind): (MembershipRow, column) for kind, column in _MEMBERSHIP_COLUMNS.items()},
    (PAYMENT_LINK, "create_payment_request"): (PaymentLinkRow, "gc_billing_request_id"),
    (PAYMENT_LINK, "create_payment_link_flow"): (PaymentLinkRow, "gc_flow_id"),
    (PACKAGE_LINK, "create_billing_request_template"): (PackageLinkRow, "gc_template_id"),
    (PACKAGE_LINK, "update_billing_request_template"): (PackageLinkRow, None),
    (DEPOSIT, "create_refund"): (DepositRow, "gc_refund_id"),
    (PAYMENT_LINK, "create_refund"): (PaymentLinkRow, "gc_refund_id"),
}


class UnresolvedPayload(ValueError):
    """A payload needs an id that is not known locally (its prerequisite has no remote id yet)."""


# --- Which rows are due --------------------------------------------------------------------------------------


def due_rows(session: Session, now: dt.datetime, limit: int) -> list[OutboxRow]:
    """Pending rows whose time has come, in ``seq`` order, at most one per record: its lowest ``seq`` not done.

    A record whose first unfinished row is in flight, waiting, failed or not yet due contributes nothing.
    """
    other = aliased(OutboxRow)
    first_unfinished = (
        select(func.min(other.seq))
        .where(
            other.record_type == OutboxRow.record_type,
            other.record_id == OutboxRow.record_id,
            other.status.not_in(FINISHED),
        )
        .scalar_subquery()
    )
    query = (
        select(OutboxRow)
        .where(
            OutboxRow.status == "pending",
            (OutboxRow.next_attempt_at.is_(None)) | (OutboxRow.next_attempt_at <= now),
            OutboxRow.seq == first_unfinished,
        )
        .order_by(OutboxRow.seq)
        .limit(limit)
    )
    return list(session.scalars(query))


def ready(session: Session, row: OutboxRow) -> str:
    """Make a waiting row pending when its prerequisite is done: returns ``READY``, ``WAITING`` or ``BLOCKED``.

    ``BLOCKED`` means the prerequisite failed: the row stays waiting until staff deal with it. A prerequisite
    that no longer exists (withdrawn work) no longer holds the row back. A row not waiting is left alone.
    """
    if row.status != "waiting_for_prerequisite":
        return READY if row.status == "pending" else WAITING
    prerequisite = None if row.depends_on is None else _by_id(session, row.depends_on)
    if prerequisite is None or prerequisite.status == "done":
        row.status = "pending"
        return READY
    return BLOCKED if prerequisite.status in ("failed", "discarded") else WAITING


def promote_ready(session: Session) -> list[str]:
    """``ready`` on every waiting row; returns the ids of the rows blocked by a failed prerequisite."""
    waiting = session.scalars(
        select(OutboxRow).where(OutboxRow.status == "waiting_for_prerequisite").order_by(OutboxRow.seq)
    ).all()
    blocked = [row.id for row in waiting if ready(session, row) == BLOCKED]
    session.flush()
    return blocked


def count_waiting(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "waiting_for_prerequisite")
        )
        or 0
    )


# --- What a row sends ----------------------------------------------------------------------------------------


def resolve_payload(session: Session, row: OutboxRow) -> dict[str, Any]:
    """The payload to send, with the ids it leaves to its prerequisites filled in (the row is not changed).

    Rules (see the payload contract in ``services/memberships.py``):

    1. ``subscription_id: None`` (update/pause/resume/cancel_subscription) → the ``remote_id`` of the row this
       one ``depends_on`` (the create_subscription it waited for).
    2. ``create_billing_request`` without ``links.customer`` → the remote id of the prerequisite when it is a
       create_customer, otherwise of the latest create_customer done for the same record; for a membership,
       failing those, ``memberships.gc_customer_id``.
    3. ``create_flow`` without ``links.billing_request`` → likewise from the create_billing_request row (the
       prerequisite, else the latest done for the record), else ``memberships.gc_billing_request_id``.
    4. ``create_subscription``, and a membership's ``create_payment``, without ``links.mandate`` →
       ``memberships.gc_mandate_id`` (the mandate arrives by event, after the client authorised the flow, so it
       is read when the row is sent, not when it was queued).

    Raises ``UnresolvedPayload`` when a needed id is not known: the row cannot be sent as it stands.
    """
    payload = _copy(row.payload or {})
    kind = row.kind
    if "subscription_id" in payload and payload["subscription_id"] is None:
        prerequisite = None if row.depends_on is None else _by_id(session, row.depends_on)
        remote = None if prerequisite is None else prerequisite.remote_id
        if remote is None and row.record_type == MEMBERSHIP:
            remote = _membership_value(session, row.record_id, "gc_subscription_id")
        payload["subscription_id"] = _required(remote, row, "the subscription")
    if kind == "create_billing_request":
        _fill_link(session, row, payload, "customer", "create_customer", "gc_customer_id", "the customer")
    elif kind == "create_flow":
        _fill_link(
            session,
            row,
            payload,
            "billing_request",
            "create_billing_request",
            "gc_billing_request_id",
            "the Direct Debit request",
        )
    elif kind == "create_payment_link_flow":
        _fill_link(
            session,
            row,
            payload,
            "billing_request",
            "create_payment_request",
            "gc_billing_request_id",
            "the payment link's request",
        )
    elif kind == "cancel_billing_request" and not payload.get("billing_request_id"):
        remote = _remote_of_kind(session, row, "create_payment_request")
        if remote is None and row.record_type == PAYMENT_LINK:
            remote = _record_value(session, row, "gc_billing_request_id")
        payload["billing_request_id"] = _required(remote, row, "the payment link's request")
    elif kind == "update_billing_request_template" and not payload.get("billing_request_template_id"):
        remote = _remote_of_kind(session, row, "create_billing_request_template")
        if remote is None and row.record_type == PACKAGE_LINK:
            remote = _record_value(session, row, "gc_template_id")
        payload["billing_request_template_id"] = _required(remote, row, "the package's payment link")
    elif kind == "create_subscription" or (
        kind == "create_payment" and row.record_type == MEMBERSHIP and not payload.get("mandate_id")
    ):
        links = dict(payload.get("links") or {})
        if not links.get("mandate") and row.record_type == MEMBERSHIP:
            links["mandate"] = _membership_value(session, row.record_id, "gc_mandate_id")
        links["mandate"] = _required(links.get("mandate"), row, "the client's Direct Debit mandate")
        payload["links"] = links
    return payload


def _fill_link(
    session: Session,
    row: OutboxRow,
    payload: dict[str, Any],
    link: str,
    source_kind: str,
    membership_column: str,
    what: str,
) -> None:
    links = dict(payload.get("links") or {})
    if not links.get(link):
        links[link] = _remote_of_kind(session, row, source_kind)
    if not links.get(link) and row.record_type in _RECORDS:
        links[link] = _record_value(session, row, membership_column)
    links[link] = _required(links.get(link), row, what)
    payload["links"] = links


def _remote_of_kind(session: Session, row: OutboxRow, kind: str) -> str | None:
    if row.depends_on is not None:
        prerequisite = _by_id(session, row.depends_on)
        if prerequisite is not None and prerequisite.kind == kind and prerequisite.remote_id:
            return prerequisite.remote_id
    return session.scalar(
        select(OutboxRow.remote_id)
        .where(
            OutboxRow.record_type == row.record_type,
            OutboxRow.record_id == row.record_id,
            OutboxRow.kind == kind,
            OutboxRow.status == "done",
            OutboxRow.seq < row.seq,
        )
        .order_by(OutboxRow.seq.desc())
        .limit(1)
    )


def _required(value: Any, row: OutboxRow, what: str) -> Any:
    if not value:
        raise UnresolvedPayload(
            f"The till does not know {what} yet, so {_describe(row)} cannot be sent to GoCardless."
        )
    return value


# --- Recording an outcome ------------------------------------------------------------------------------------


def mark_in_flight(row: OutboxRow, now: dt.datetime, payload: dict[str, Any] | None = None) -> None:
    """Take the row for sending: in flight, one more attempt, and the resolved payload kept for every replay."""
    row.status = "in_flight"
    row.attempts = (row.attempts or 0) + 1
    row.next_attempt_at = None
    if payload is not None and payload != row.payload:
        row.payload = payload  # a new value, so the session sees the change
    row.updated_at = now


def hold_until(row: OutboxRow, when: dt.datetime, now: dt.datetime) -> None:
    """Put a row taken for sending back, unsent, until ``when`` (a cancellation that must wait for a payment
    the member still owes). The attempt counted when it was taken is given back: nothing went out."""
    row.status = "pending"
    row.attempts = max(0, (row.attempts or 0) - 1)
    row.next_attempt_at = when
    row.last_error = None
    row.updated_at = now


def mark_done(row: OutboxRow, result: RemoteResult, now: dt.datetime) -> None:
    """Done, with GoCardless's id, which also goes onto the local record it concerns (``_WRITE_BACK``): a
    membership's customer, request, flow and subscription; a payment link's request, and its page (the link is
    then open); a package's public link and the terms GoCardless now has; a deposit's refund."""
    row.status = "done"
    row.remote_id = result.remote_id
    row.last_error = None
    row.next_attempt_at = None
    row.updated_at = now
    if row.record_type == MEMBERSHIP and row.kind == "create_payment":
        _record_membership_payment(row, result)
        return
    target = _WRITE_BACK.get((row.record_type, row.kind))
    if target is None:
        return
    table, column = target
    values: dict[str, Any] = {column: result.remote_id} if column else {}
    url = getattr(result, "authorisation_url", None)
    if row.record_type == MEMBERSHIP and isinstance(result, FlowResult):
        values["gc_authorisation_url"] = result.authorisation_url
    elif row.record_type == PAYMENT_LINK and isinstance(result, FlowResult):
        values["authorisation_url"] = result.authorisation_url
    elif row.record_type == PACKAGE_LINK:
        values["authorisation_url"] = url
        payload = row.payload or {}
        if "name" in payload:
            values["name"] = payload["name"]
        if "payment_request_amount" in payload:
            values["price_pence"] = int(payload["payment_request_amount"])
    session = object_session(row)
    if session is None:  # pragma: no cover - rows are always loaded through a session
        raise RuntimeError("mark_done needs a row that belongs to a session")
    key = table.package_id if table is PackageLinkRow else table.id
    if values:
        session.execute(update(table).where(key == row.record_id).values(values))
    if row.record_type == PAYMENT_LINK and row.kind == "create_payment_link_flow":
        session.execute(
            update(PaymentLinkRow)
            .where(PaymentLinkRow.id == row.record_id, PaymentLinkRow.status == "preparing")
            .values(status="open")
        )


def backoff(attempts: int, rng: random.Random) -> dt.timedelta:
    """Full jitter: a random wait between 0 and 5 s × 2^(attempts - 1), that ceiling capped at 30 minutes."""
    exponent = min(max(attempts - 1, 0), 20)
    ceiling = min(BACKOFF_BASE * (2**exponent), BACKOFF_CAP)
    return dt.timedelta(seconds=rng.uniform(0, ceiling.total_seconds()))


def mark_retry(row: OutboxRow, error: Exception, now: dt.datetime, rng: random.Random) -> dt.datetime:
    """Back to pending, to be sent again at the returned time (backoff, or the end of a rate-limit window).

    A ``RateLimited`` waits its ``retry_after`` (never longer than the backoff cap).
    ``attempts`` was counted when the send started (``mark_in_flight``).
    """
    if isinstance(error, RateLimited):
        wait = min(error.retry_after, BACKOFF_CAP)
    else:
        wait = backoff(row.attempts or 1, rng)
    row.status = "pending"
    row.next_attempt_at = now + wait
    row.last_error = staff_sentence(error)
    row.updated_at = now
    return row.next_attempt_at


def mark_discarded(row: OutboxRow, reason: str, now: dt.datetime) -> None:
    """Not sent because it is no longer needed (``reason`` says why, for staff); it holds nothing back."""
    row.status = "discarded"
    row.next_attempt_at = None
    row.last_error = reason
    row.updated_at = now


def mark_failed(row: OutboxRow, error: Exception, now: dt.datetime) -> None:
    """Refused for good: failed, with the error's sentence for staff. Later work of the record stays held."""
    row.status = "failed"
    row.next_attempt_at = None
    row.last_error = staff_sentence(error)
    row.updated_at = now


def staff_sentence(error: Exception) -> str:
    """A short sentence for staff: the gateway's own (it carries no secrets), or a plain one for anything else."""
    if isinstance(error, GatewayError | UnresolvedPayload):
        return str(error)[:500]
    return (
        "The till could not prepare this request for GoCardless; tell the person who looks after the system."
    )


# --- Helpers -------------------------------------------------------------------------------------------------


def _record_membership_payment(row: OutboxRow, result: RemoteResult) -> None:
    """A one-off membership payment GoCardless created: its row (pending), for the period its metadata names,
    so the membership knows that month is being collected before any event about it arrives."""
    session = object_session(row)
    if session is None:  # pragma: no cover - rows are always loaded through a session
        raise RuntimeError("mark_done needs a row that belongs to a session")
    payload = row.payload or {}
    start_text = (payload.get("metadata") or {}).get("period_start")
    known = session.scalar(
        select(MembershipPaymentRow.id).where(MembershipPaymentRow.gc_payment_id == result.remote_id)
    )
    if known is not None or not isinstance(start_text, str):
        return
    started_on = _membership_value(session, row.record_id, "started_on")
    period = billing.period_holding(started_on, dt.date.fromisoformat(start_text))
    charge = result.data.get("charge_date")
    session.add(
        MembershipPaymentRow(
            id=new_id(),
            membership_id=row.record_id,
            gc_payment_id=result.remote_id,
            amount_pence=int(payload.get("amount") or 0),
            currency=str(payload.get("currency") or "GBP"),
            charge_date=dt.date.fromisoformat(charge) if isinstance(charge, str) else None,
            period_start=period.start,
            period_end=period.end,
            status="pending",
            source="direct_debit",
        )
    )


def _by_id(session: Session, outbox_id: str) -> OutboxRow | None:
    return session.scalars(select(OutboxRow).where(OutboxRow.id == outbox_id)).one_or_none()


def _membership_value(session: Session, membership_id: str, column: str) -> Any:
    return session.scalar(select(getattr(MembershipRow, column)).where(MembershipRow.id == membership_id))


def _record_value(session: Session, row: OutboxRow, column: str) -> Any:
    """A column of the local record the row concerns (a membership, payment link or package link)."""
    table = _RECORDS.get(row.record_type)
    if table is None or not hasattr(table, column):
        return None
    key = table.package_id if table is PackageLinkRow else table.id
    return session.scalar(select(getattr(table, column)).where(key == row.record_id))


def _describe(row: OutboxRow) -> str:
    return f"the {row.kind.replace('_', ' ')} for {row.record_type} {row.record_id}"


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
