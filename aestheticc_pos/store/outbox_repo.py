"""Queue GoCardless work in the outbox, in the caller's transaction (DESIGN.md §5); find, rewrite, withdraw or
discard a record's work. Kinds and statuses, and which moves are allowed, are ``domain/outbox.py``'s.

The idempotency key is deterministic (``<record_type>-<record_id>-<kind>-v<n>``) and stored before the first
attempt, so a replay after a crash or a restart returns the resource GoCardless already created.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aestheticc_pos.domain import outbox
from aestheticc_pos.domain.outbox import OPEN as OPEN  # the membership services take these two from here
from aestheticc_pos.domain.outbox import UNSENT as UNSENT
from aestheticc_pos.domain.outbox import OutboxKind, OutboxStatus
from aestheticc_pos.store.tables import OutboxRow


def idempotency_key(record_type: str, record_id: str, kind: OutboxKind | str, version: int = 1) -> str:
    return f"{record_type}-{record_id}-{kind}-v{version}"


def enqueue(
    session: Session,
    *,
    kind: OutboxKind | str,
    record_type: str,
    record_id: str,
    payload: dict[str, Any],
    depends_on: str | None = None,
    version: int | None = None,
    new_id: str | None = None,
) -> str:
    """Add one piece of GoCardless work; returns its outbox id (for ``depends_on`` of later work).

    ``version`` distinguishes repeats of the same kind for one record (a second tier change amends the
    subscription again and must not be taken for a replay of the first); by default the next one
    (``next_version``).
    """
    kind = OutboxKind(kind)
    if version is None:
        version = next_version(session, record_type, record_id, kind)
    row = OutboxRow(
        kind=kind.value,
        record_type=record_type,
        record_id=record_id,
        payload=payload,
        idempotency_key=idempotency_key(record_type, record_id, kind, version),
        status=outbox.queued(waits_for_prerequisite=bool(depends_on)).value,
        depends_on=depends_on,
    )
    if new_id is not None:
        row.id = new_id
    session.add(row)
    session.flush()
    return row.id


def next_version(session: Session, record_type: str, record_id: str, kind: OutboxKind | str) -> int:
    """One more than the highest version of ``kind`` ever queued for this record (1 for the first).

    The highest, not a count: rows that were never sent may be deleted, and a key must never be reused.
    """
    prefix = idempotency_key(record_type, record_id, kind, 0)[:-1]
    keys = session.scalars(
        select(OutboxRow.idempotency_key).where(
            OutboxRow.record_type == record_type, OutboxRow.record_id == record_id, OutboxRow.kind == kind
        )
    ).all()
    versions = [
        int(key[len(prefix) :]) for key in keys if key.startswith(prefix) and key[len(prefix) :].isdigit()
    ]
    return max(versions, default=0) + 1


# --- A record's work --------------------------------------------------------------------------------------


def jobs_of(
    session: Session,
    record_type: str,
    record_id: str,
    kinds: tuple[OutboxKind | str, ...],
    *,
    statuses: tuple[OutboxStatus | str, ...] | None = None,
) -> list[OutboxRow]:
    """The record's outbox rows of these kinds, oldest first (optionally only those in ``statuses``)."""
    query = select(OutboxRow).where(
        OutboxRow.record_type == record_type, OutboxRow.record_id == record_id, OutboxRow.kind.in_(kinds)
    )
    if statuses is not None:
        query = query.where(OutboxRow.status.in_(statuses))
    return list(session.scalars(query.order_by(OutboxRow.seq)))


def latest_job(
    session: Session,
    record_type: str,
    record_id: str,
    kind: OutboxKind | str,
    *,
    statuses: tuple[OutboxStatus | str, ...],
) -> OutboxRow | None:
    jobs = jobs_of(session, record_type, record_id, (kind,), statuses=statuses)
    return jobs[-1] if jobs else None


def job(session: Session, job_id: str, *, lock: bool = False) -> OutboxRow:
    """One outbox row (locked until the unit of work ends with ``lock``); it must exist."""
    query = select(OutboxRow).where(OutboxRow.id == job_id)
    return session.scalars(query.with_for_update() if lock else query).one()


def waiting_for(session: Session, job_id: str, kind: OutboxKind | str) -> str | None:
    """The id of work of ``kind`` queued to wait for ``job_id``, if any."""
    return session.scalar(
        select(OutboxRow.id).where(OutboxRow.depends_on == job_id, OutboxRow.kind == OutboxKind(kind).value)
    )


def lock_unsent(session: Session, job_id: str) -> OutboxRow | None:
    """The outbox row, locked, if it was never sent; None once the engine has taken it."""
    job = session.scalars(
        select(OutboxRow)
        .where(OutboxRow.id == job_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    return job if job is not None and outbox.is_unsent(OutboxStatus(job.status), job.attempts) else None


def rewrite_unsent(session: Session, job_id: str, **changes: Any) -> bool:
    """Change the payload of work never sent; False when it was sent already (nothing changed)."""
    job = lock_unsent(session, job_id)
    if job is None:
        return False
    job.payload = {**job.payload, **changes}
    session.flush()
    return True


def withdraw_unsent(session: Session, job_id: str) -> bool:
    """Delete work never sent, with the work waiting for it; False when it was sent already."""
    job = lock_unsent(session, job_id)
    if job is None:
        return False
    for dependent in session.scalars(select(OutboxRow.id).where(OutboxRow.depends_on == job_id)).all():
        if not withdraw_unsent(
            session, dependent
        ):  # pragma: no cover - work waiting for unsent work is unsent
            return False
    session.delete(job)
    session.flush()
    return True


def discard(session: Session, job: OutboxRow, reason: str, now: Any) -> None:
    """Give up on work that will not be sent (it no longer holds back the rest of its record); refused for work
    that is finished already."""
    job.status = outbox.discard(OutboxStatus(job.status)).value
    job.next_attempt_at = None
    job.last_error = reason
    job.updated_at = now
    session.flush()
