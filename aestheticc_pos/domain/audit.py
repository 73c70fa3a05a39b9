"""The audit log: an append-only, hash-chained record of every sensitive action (DESIGN.md §7).

Each entry's hash is the SHA-256 of a canonical JSON of its fields and the previous entry's hash, so changing,
removing or reordering any entry breaks the chain, which ``check_chain`` reports entry by entry. Cutting entries
off the end leaves a valid chain: the store keeps the newest sequence number and hash (the ``AuditHead``)
outside the table too, and ``check_chain`` compares the log with it. Entries carry ids, never client names or
bank details.

A break never stops the log: the next entry chains onto the last one still there, with a sequence number above
every one handed out before (``chain_entry(..., seq=...)``), so the gap stays visible to every later check.
"""

from __future__ import annotations

import datetime as dt
import enum
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
    seq: int | None = None,
) -> AuditEntry:
    """The entry that follows ``prev`` (the first of the log when ``prev`` is None).

    ``seq`` is the entry's number, by default the one after ``prev``. A larger one leaves a gap on purpose:
    entries were lost, and the numbers they had are never handed out again.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("An audit entry needs a time with its time zone.", field="at")
    for name, value in (("staff_id", staff_id), ("action", action), ("record_type", record_type)):
        if not value:
            raise InvalidInput(f"An audit entry needs its {name}.", field=name)
    details = MappingProxyType(dict(details or {}))  # a frozen entry's details cannot change either
    for key, value in details.items():
        if not isinstance(key, str) or isinstance(value, bool) or not isinstance(value, str | int):
            raise InvalidInput("Audit details are names with text or whole-number values.", field="details")
    following = 1 if prev is None else prev.seq + 1
    if seq is None:
        seq = following
    elif seq < following:
        raise ValueError(f"audit entry {seq} cannot follow entry {following - 1}")
    prev_hash = GENESIS_HASH if prev is None else prev.hash
    at = at.astimezone(dt.UTC)
    fields = (seq, at, staff_id, action, record_type, record_id, reason, details, prev_hash)
    return AuditEntry(*fields, hash=entry_hash(*fields))


def verify_chain(entries: Iterable[AuditEntry]) -> int | None:
    """The ``seq`` of the first entry that does not fit the chain (edited, missing before it, out of place), or None.

    ``entries`` is the whole log from its first entry, in order.
    """
    breaks = check_chain(entries, limit=1).breaks
    return breaks[0].seq if breaks else None


@dataclass(frozen=True, slots=True)
class AuditHead:
    """The newest entry of the log as this till last saw it written: kept outside the table (DESIGN.md §7)."""

    seq: int
    hash: str
    at: dt.datetime | None = None


class BreakKind(enum.StrEnum):
    CHANGED = "changed"  # the entry's fields no longer give its hash: it was edited
    MISSING = "missing"  # entries before it are gone (a gap in the numbers)
    UNLINKED = "unlinked"  # it does not point at the entry before it: that one was replaced or rewritten
    TRUNCATED = "truncated"  # the log ends before the head kept outside it: the newest entries are gone
    REPLACED_HEAD = "replaced_head"  # the entry at the kept head is not the one that was written


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """One place where the log is not what was written. ``seq`` is the entry where it shows; for missing
    entries, ``first_missing``…``seq - 1`` (or …``head.seq`` at the end) were there once."""

    kind: BreakKind
    seq: int
    first_missing: int | None = None


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """What ``check_chain`` found: how many entries, the last one, and every break (up to ``limit``)."""

    entries: int
    last_seq: int | None
    last_at: dt.datetime | None
    breaks: tuple[ChainBreak, ...]
    more_breaks: int = 0  # breaks found beyond ``limit``

    @property
    def intact(self) -> bool:
        return not self.breaks


def check_chain(
    entries: Iterable[AuditEntry],
    head: AuditHead | None = None,
    *,
    numbered_up_to: int | None = None,
    limit: int = 20,
) -> ChainCheck:
    """Walk the whole log (from its first entry, in order) and report every place it breaks.

    After a break the walk carries on from the entry where it showed, so one edit or one gap is reported once
    and the rest of the log is still checked. ``head`` (kept outside the table) finds the newest entries
    removed, or the newest entry replaced; ``numbered_up_to`` (the highest number the store has handed out)
    finds the newest entries removed too, when nobody reset the counter with them. ``limit`` caps the breaks
    listed; ``more_breaks`` counts the rest.
    """
    found: list[ChainBreak] = []
    extra = 0
    count = 0
    expected_seq, prev_hash = 1, GENESIS_HASH
    last: AuditEntry | None = None
    head_hash_seen: str | None = None

    def report(item: ChainBreak) -> None:
        nonlocal extra
        if len(found) < limit:
            found.append(item)
        else:
            extra += 1

    for entry in entries:
        count += 1
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
        if entry.seq > expected_seq:
            report(ChainBreak(BreakKind.MISSING, entry.seq, first_missing=expected_seq))
        elif entry.seq < expected_seq or entry.prev_hash != prev_hash:
            report(ChainBreak(BreakKind.UNLINKED, entry.seq))
        if entry.hash != recomputed:
            report(ChainBreak(BreakKind.CHANGED, entry.seq))
        if head is not None and entry.seq == head.seq:
            head_hash_seen = entry.hash
        expected_seq, prev_hash, last = entry.seq + 1, entry.hash, entry
    newest = max(head.seq if head is not None else 0, numbered_up_to or 0)
    if newest > (0 if last is None else last.seq):
        report(ChainBreak(BreakKind.TRUNCATED, newest, first_missing=expected_seq))
    elif head is not None and head_hash_seen is not None and head_hash_seen != head.hash:
        report(ChainBreak(BreakKind.REPLACED_HEAD, head.seq))
    return ChainCheck(
        entries=count,
        last_seq=None if last is None else last.seq,
        last_at=None if last is None else _utc(last.at),
        breaks=tuple(found),
        more_breaks=extra,
    )


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
