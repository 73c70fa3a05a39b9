"""The audit log in the database: append an entry chained to the last one, check the whole chain, read it.

Appending first takes the "audit_log" row of ``number_sequences`` (an upsert that holds it until the
transaction ends), so two tills append one after the other and never chain onto the same previous hash. The new
entry chains onto the last entry really in the table, and its number is above every number handed out
before: the series' counter and the head kept outside the table (below). So when the newest entries were
deleted, the till carries on (no unique-key clash on a reused number, as there used to be) and the gap stays in
the log for every later check to report.

The head — the newest entry's number and hash — is also kept in a small file outside the database
(``AuditHeadFile``), written after each commit that appended, so a log cut short is found. For an SQLite
database it lies beside the database file; for a PostgreSQL server, in this till's data folder, one per server
and database (each till knows the newest entry it wrote itself). The head is not a secret, so it is a file
rather than a keyring entry: it is written after every audited action, which a keyring may refuse or prompt
for, and a till without a keyring must still check its log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Row, Select, distinct, insert, select, text
from sqlalchemy.orm import Session

from aestheticc_pos.domain.audit import (
    AuditEntry,
    AuditHead,
    ChainCheck,
    chain_entry,
    check_chain,
    verify_chain,
)
from aestheticc_pos.settings import make_private_file, redact_url, split_password, write_private_text
from aestheticc_pos.store.db import after_commit, sqlite_path_from_url
from aestheticc_pos.store.tables import AuditLogRow, NumberSequenceRow

log = logging.getLogger(__name__)

AUDIT_HEAD = (
    "aestheticc_audit_head"  # Session.info key: this database's AuditHeadFile, when the app keeps one
)
AUDIT_SERIES = "audit_log"
HEAD_SUFFIX = ".audit-head"
_READ_BATCH = 2000

# The lock point of every append (see the module's docstring); returns the series' next number.
_TAKE_AUDIT_SERIES = text(
    "INSERT INTO number_sequences (name, next_value) VALUES (:name, 2) "
    "ON CONFLICT (name) DO UPDATE SET next_value = number_sequences.next_value + 1 "
    "RETURNING next_value - 1"
)
_audit = AuditLogRow.__table__
_LAST_ENTRY = select(_audit).order_by(_audit.c.seq.desc()).limit(1)
_INSERT_ENTRY = insert(_audit)
_MOVE_AUDIT_SERIES = text("UPDATE number_sequences SET next_value = :next_value WHERE name = :name")


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
    """Write the next entry of the log in the caller's transaction. Never refused because of a broken log."""
    session.flush()  # the statements below are Core ones, built once: they never autoflush
    counter = int(session.execute(_TAKE_AUDIT_SERIES, {"name": AUDIT_SERIES}).scalar_one())
    last = session.execute(_LAST_ENTRY).first()
    head_file: AuditHeadFile | None = session.info.get(AUDIT_HEAD)
    kept = head_file.read_quietly() if head_file is not None else None
    seq = max(counter, 1 if last is None else last.seq + 1, 1 if kept is None else kept.seq + 1)
    if seq != counter:
        log.warning("Audit log: entry %s follows entry %s (entries are missing)", seq, last and last.seq)
        session.execute(_MOVE_AUDIT_SERIES, {"name": AUDIT_SERIES, "next_value": seq + 1})
    entry = chain_entry(
        None if last is None else _entry(last),
        at=at,
        staff_id=staff_id,
        action=action,
        record_type=record_type,
        record_id=record_id,
        reason=reason,
        details=details,
        seq=seq,
    )
    session.execute(
        _INSERT_ENTRY,
        {
            "seq": entry.seq,
            "at": entry.at,
            "staff_id": staff_id,
            "action": action,
            "record_type": record_type,
            "record_id": record_id,
            "reason": reason,
            "details": json.dumps(dict(entry.details), sort_keys=True),
            "prev_hash": entry.prev_hash,
            "hash": entry.hash,
        },
    )
    if head_file is not None:
        pending = after_commit(session, "the audit head", head_file.record_pending)
        pending["head"] = AuditHead(entry.seq, entry.hash, entry.at)
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
    return verify_chain(_all_entries(session))


@dataclass(frozen=True, slots=True)
class AuditLogCheck:
    """The chain checked from its first entry, against the head kept outside the table when there is one."""

    chain: ChainCheck
    head: AuditHead | None
    head_kept: bool  # this till keeps a head for this database (the app does; a bare test wiring does not)
    head_unreadable: bool = False


def check_audit_log(session: Session) -> AuditLogCheck:
    """Walk the whole log in order (read in batches, never all at once) and compare its end with the head kept
    outside the table and with the highest number the "audit_log" series has handed out."""
    head_file: AuditHeadFile | None = session.info.get(AUDIT_HEAD)
    head, unreadable = None, False
    if head_file is not None:
        try:
            head = head_file.read()
        except ValueError:
            unreadable = True
    counter = session.scalar(
        select(NumberSequenceRow.next_value).where(NumberSequenceRow.name == AUDIT_SERIES)
    )
    numbered_up_to = None if counter is None else int(counter) - 1
    return AuditLogCheck(
        chain=check_chain(_all_entries(session), head, numbered_up_to=numbered_up_to),
        head=head,
        head_kept=head_file is not None,
        head_unreadable=unreadable,
    )


def last_audit_head(session: Session) -> AuditHead | None:
    """The newest entry in the table now, as a head (None for an empty log)."""
    row = session.scalars(select(AuditLogRow).order_by(AuditLogRow.seq.desc()).limit(1)).first()
    return None if row is None else AuditHead(row.seq, row.hash, _utc(row.at))


# --- Reading the log page by page -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which entries: every field that is set must match. Times are UTC, ``since`` included, ``until`` not."""

    action: str | None = None
    staff_id: str | None = None
    record_type: str | None = None
    record_id: str | None = None  # the record's id, or the start of it
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def audit_seqs(session: Session, query: AuditQuery, *, limit: int | None = None) -> list[int]:
    """The numbers of the matching entries, newest first (ids for a table model that fetches rows on demand)."""
    statement = _filtered(select(AuditLogRow.seq), query).order_by(AuditLogRow.seq.desc())
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.scalars(statement))


def audit_entries_by_seq(session: Session, seqs: Sequence[int]) -> dict[int, AuditEntry]:
    """The entries with these numbers (a page of the table); numbers no longer in the log are left out."""
    if not seqs:
        return {}
    rows = session.scalars(select(AuditLogRow).where(AuditLogRow.seq.in_(list(seqs))))
    return {row.seq: _entry(row) for row in rows}


def audit_choices(session: Session) -> tuple[list[str], list[str], list[str]]:
    """What the log holds to filter by: its actions, the staff ids in it, its record types (sorted)."""
    actions = session.scalars(select(distinct(AuditLogRow.action)).order_by(AuditLogRow.action))
    staff = session.scalars(select(distinct(AuditLogRow.staff_id)).where(AuditLogRow.staff_id.is_not(None)))
    types = session.scalars(select(distinct(AuditLogRow.record_type)).order_by(AuditLogRow.record_type))
    return list(actions), sorted(s for s in staff if s), list(types)


def _filtered(statement: Select[Any], query: AuditQuery) -> Select[Any]:
    if query.action:
        statement = statement.where(AuditLogRow.action == query.action)
    if query.staff_id:
        statement = statement.where(AuditLogRow.staff_id == query.staff_id)
    if query.record_type:
        statement = statement.where(AuditLogRow.record_type == query.record_type)
    if query.record_id:
        pattern = query.record_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(AuditLogRow.record_id.like(pattern, escape="\\"))
    if query.since is not None:
        statement = statement.where(AuditLogRow.at >= query.since)
    if query.until is not None:
        statement = statement.where(AuditLogRow.at < query.until)
    return statement


# --- The head kept outside the table --------------------------------------------------------------------------


class AuditHeadFile:
    """The newest audit entry this till has seen committed (number, hash, time), in a small JSON file (0600).

    It only moves forward: a higher number replaces it, a lower one (a commit that finished later on another
    thread) does not. ``reset`` is for a restore, where the log legitimately becomes the backup's. Safe to use
    from several threads; the file is replaced whole, so a reader never sees half of it.
    """

    def __init__(self, path: Path, database: str = "") -> None:
        self.path = path
        self._database = database  # the password-free URL, for whoever opens the file
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AuditHeadFile({self.path.name})"

    def read(self) -> AuditHead | None:
        """The head, or None when none was kept yet; ``ValueError`` when the file is damaged."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as error:
            raise ValueError("the audit head cannot be read") from error
        try:
            data = json.loads(text)
            at = dt.datetime.fromisoformat(data["at"]) if data.get("at") else None
            return AuditHead(int(data["seq"]), str(data["hash"]), at)
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError("the audit head is damaged") from error

    def read_quietly(self) -> AuditHead | None:
        try:
            return self.read()
        except ValueError:
            log.warning("Audit head file unreadable; appending from the table alone")
            return None

    def record(self, head: AuditHead) -> None:
        """Keep ``head`` if it is newer than the one kept."""
        with self._lock:
            kept = self.read_quietly()
            if kept is not None and kept.seq >= head.seq:
                return
            self._write(head)

    def record_pending(self, pending: dict[str, Any]) -> None:
        """``after_commit``'s action: keep the head the committed transaction appended."""
        self.record(pending["head"])

    def reset(self, head: AuditHead | None) -> None:
        """The log was replaced as a whole (a restore): keep its head, or forget the head for an empty log."""
        with self._lock:
            if head is None:
                self.path.unlink(missing_ok=True)
            else:
                self._write(head)

    def _write(self, head: AuditHead) -> None:
        data = {
            "database": self._database,
            "seq": head.seq,
            "hash": head.hash,
            "at": None if head.at is None else _utc(head.at).isoformat(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_private_text(self.path, json.dumps(data, indent=2))


def audit_head_file(data_dir: Path, database_url: str) -> AuditHeadFile:
    """Where this till keeps the audit head of the database at ``database_url`` (see the module's docstring)."""
    bare = redact_url(split_password(database_url)[0])
    path = sqlite_path_from_url(database_url)
    if path is not None:
        head = path.with_name(path.name + HEAD_SUFFIX)
    else:
        name = hashlib.sha256(bare.encode("utf-8")).hexdigest()[:12]
        head = data_dir / f"audit-head-{name}.json"
    make_private_file(head)
    return AuditHeadFile(head, bare)


# --- Helpers ----------------------------------------------------------------------------------------------------


def _all_entries(session: Session) -> Iterator[AuditEntry]:
    after = 0
    while True:
        rows = list(
            session.scalars(
                select(AuditLogRow)
                .where(AuditLogRow.seq > after)
                .order_by(AuditLogRow.seq)
                .limit(_READ_BATCH)
            )
        )
        for row in rows:
            yield _entry(row)
            session.expunge(row)  # keep memory flat over a long log
        if len(rows) < _READ_BATCH:
            return
        after = rows[-1].seq


def _entry(row: AuditLogRow | Row[Any]) -> AuditEntry:
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


def _utc(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
