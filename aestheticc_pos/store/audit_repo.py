"""The audit log in the database: append an entry chained to the last one, and verify the whole chain.

Appending takes the next number of the "audit_log" series, which locks it until the transaction ends, so
two tills never chain onto the same previous hash.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from aestheticc_pos.domain.audit import AuditEntry, chain_entry, verify_chain
from aestheticc_pos.store.tables import AuditLogRow
from aestheticc_pos.store.unit_of_work import NEXT_NUMBER


def append_audit(
    session: Session,
    *,
    at: dt.datetime,
    staff_id: str,
    action: str,
    record_type: str,
    record_id: str,
    reason: str | None = None,
    details: Mapping[str, str | int] | None = None,
) -> AuditEntry:
    # The "audit_log" number series is the lock point: the upsert holds its row until commit, so two tills
    # append one after the other and never chain onto the same previous entry (SQLite or PostgreSQL).
    seq = int(session.execute(NEXT_NUMBER, {"name": "audit_log"}).scalar_one())
    head = session.scalars(select(AuditLogRow).where(AuditLogRow.seq == seq - 1)).first()
    entry = chain_entry(
        None if head is None else _entry(head),
        at=at,
        staff_id=staff_id,
        action=action,
        record_type=record_type,
        record_id=record_id,
        reason=reason,
        details=details,
    )
    session.add(
        AuditLogRow(
            seq=entry.seq,
            at=entry.at,
            staff_id=staff_id,
            action=action,
            record_type=record_type,
            record_id=record_id,
            reason=reason,
            details=json.dumps(dict(entry.details), sort_keys=True),
            prev_hash=entry.prev_hash,
            hash=entry.hash,
        )
    )
    session.flush()
    return entry


def audit_entries(
    session: Session, *, record_type: str | None = None, record_id: str | None = None
) -> list[AuditEntry]:
    query = select(AuditLogRow).order_by(AuditLogRow.seq)
    if record_type is not None:
        query = query.where(AuditLogRow.record_type == record_type)
    if record_id is not None:
        query = query.where(AuditLogRow.record_id == record_id)
    return [_entry(row) for row in session.scalars(query)]


def first_broken_audit_entry(session: Session) -> int | None:
    """The ``seq`` of the first entry that was tampered with or removed, or None when the chain holds."""
    return verify_chain(_entry(row) for row in session.scalars(select(AuditLogRow).order_by(AuditLogRow.seq)))


def _entry(row: AuditLogRow) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        staff_id=row.staff_id or "",
        action=row.action,
        record_type=row.record_type,
        record_id=row.record_id,
        reason=row.reason,
        details=json.loads(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
