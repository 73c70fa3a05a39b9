"""The audit log: an append-only, hash-chained record of every sensitive action (DESIGN.md §7).

Each entry's hash is the SHA-256 of a canonical JSON of its fields and the previous entry's hash, so changing,
removing or reordering any entry breaks every hash after it, which ``verify_chain`` reports. Cutting entries off
the end leaves a valid chain: keep the latest sequence number and hash somewhere else too (a backup, a report)
to notice that. Entries carry ids, never client names or bank details.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from aestheticc_pos.domain.errors import InvalidInput

GENESIS_HASH = "0" * 64  # the "previous hash" of the first entry


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what to which record, when and why.

    ``at`` is UTC. A store that hands back naive datetimes (SQLite) still verifies: naive means UTC here.
    """

    seq: int
    at: dt.datetime
    staff_id: str
    action: str  # e.g. "sale.refunded", "package.extended", "price.overridden"
    record_type: str
    record_id: str
    reason: str | None
    details: Mapping[str, str | int] = field(hash=False)
    prev_hash: str
    hash: str


def chain_entry(
    prev: AuditEntry | None,
    *,
    at: dt.datetime,
    staff_id: str,
    action: str,
    record_type: str,
    record_id: str,
    reason: str | None = None,
    details: Mapping[str, str | int] | None = None,
) -> AuditEntry:
    """The entry that follows ``prev`` (the first of the log when ``prev`` is None)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("An audit entry needs a time with its time zone.", field="at")
    for name, value in (("staff_id", staff_id), ("action", action), ("record_type", record_type)):
        if not value:
            raise InvalidInput(f"An audit entry needs its {name}.", field=name)
    details = MappingProxyType(dict(details or {}))  # a frozen entry's details cannot change either
    for key, value in details.items():
        if not isinstance(key, str) or isinstance(value, bool) or not isinstance(value, str | int):
            raise InvalidInput("Audit details are names with text or whole-number values.", field="details")
    seq = 1 if prev is None else prev.seq + 1
    prev_hash = GENESIS_HASH if prev is None else prev.hash
    at = at.astimezone(dt.UTC)
    fields = (seq, at, staff_id, action, record_type, record_id, reason, details, prev_hash)
    return AuditEntry(*fields, hash=entry_hash(*fields))


def verify_chain(entries: Iterable[AuditEntry]) -> int | None:
    """The ``seq`` of the first entry that does not fit the chain (edited, missing before it, out of place), or None.

    ``entries`` is the whole log from its first entry, in order.
    """
    expected_seq, prev_hash = 1, GENESIS_HASH
    for entry in entries:
        recomputed = entry_hash(
            entry.seq,
            entry.at,
            entry.staff_id,
            entry.action,
            entry.record_type,
            entry.record_id,
            entry.reason,
            entry.details,
            entry.prev_hash,
        )
        if entry.seq != expected_seq or entry.prev_hash != prev_hash or entry.hash != recomputed:
            return entry.seq
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    return None


def entry_hash(
    seq: int,
    at: dt.datetime,
    staff_id: str,
    action: str,
    record_type: str,
    record_id: str,
    reason: str | None,
    details: Mapping[str, str | int],
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the canonical JSON of an entry's fields: sorted keys, no spaces, UTF-8."""
    canonical = {
        "seq": seq,
        "at": _utc(at).isoformat(timespec="microseconds"),
        "staff_id": staff_id,
        "action": action,
        "record_type": record_type,
        "record_id": record_id,
        "reason": reason,
        "details": dict(details),
        "prev_hash": prev_hash,
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _utc(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
