"""The audit log, for managers: check that it is whole, and read it page by page (DESIGN.md §7).

``verify_audit_log`` walks the whole hash chain and compares its end with the head kept outside the database,
and says in plain sentences what is wrong and where. ``find_audit_entries`` gives the numbers of the entries
that match a search (newest first) and ``audit_log_rows`` a page of them, for a table that fetches rows on
demand. Every use case is for managers (``Action.VIEW_AUDIT_LOG``, declared and checked again inside). The
command line's ``audit verify`` runs ``check_audit_log_in`` in its own unit of work: whoever can open the
database file can check it.

A broken log never stops the till: these only read, and appending goes on (``store/audit_repo.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from aestheticc_pos.domain.audit import BreakKind, ChainBreak
from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services.authority import use_case
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.services.staff import require_staff
from aestheticc_pos.store import audit_repo
from aestheticc_pos.store.audit_repo import AuditQuery
from aestheticc_pos.store.tables import StaffRow
from aestheticc_pos.store.unit_of_work import UnitOfWork

WHAT_TO_DO = (
    "The till carries on and records every new entry. Keep the database and the backups folder as they are, "
    "and ask whoever looks after the clinic's data to compare the log with a backup."
)


@dataclass(frozen=True, slots=True)
class AuditCheck:
    """The result of checking the log: whole or not, how many entries, the last one, what is wrong and where.

    ``problems`` are sentences, one per place the log breaks; ``notes`` are cautions that do not break it
    (no head kept outside the database yet, so removal of the newest entries could not be checked).
    """

    intact: bool
    entries: int
    last_seq: int | None
    last_at: dt.datetime | None  # UTC
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def summary(self, last_on: str) -> str:
        """The result in one sentence; ``last_on`` is the last entry's time as staff read it ("2 Dec 2026 14:02")."""
        entries = f"{self.entries:,} {'entry' if self.entries == 1 else 'entries'}"
        if self.intact:
            if self.entries == 0:
                return "Audit log intact: no entries yet."
            return f"Audit log intact: {entries}, last on {last_on}."
        places = f"{len(self.problems)} place{'' if len(self.problems) == 1 else 's'}"
        last = f", the last on {last_on}" if self.entries else ""
        return f"Audit log broken in {places} ({entries} checked{last})."


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One entry as the Audit screen shows it."""

    seq: int
    at: dt.datetime  # UTC
    staff_id: str
    staff_name: str
    action: str
    record_type: str
    record_id: str
    reason: str | None
    details: Mapping[str, str | int] = field(hash=False)


@dataclass(frozen=True, slots=True)
class AuditChoices:
    """What the log holds to filter by: actions, staff (id, name) and record types, each sorted."""

    actions: tuple[str, ...]
    staff: tuple[tuple[str, str], ...]
    record_types: tuple[str, ...]


@use_case(Action.VIEW_AUDIT_LOG)
def verify_audit_log(services: Services, staff_id: str) -> AuditCheck:
    """Check the whole chain and its head (manager only). Reads only; never refuses because it is broken."""
    with services.uow(read_only=True) as uow:
        require_staff(uow.session, staff_id, Action.VIEW_AUDIT_LOG)
        return check_audit_log_in(uow)


def check_audit_log_in(uow: UnitOfWork) -> AuditCheck:
    """``verify_audit_log`` without the staff check, inside the caller's unit of work (the command line)."""
    found = audit_repo.check_audit_log(uow.session)
    chain = found.chain
    problems = [_sentence(item) for item in chain.breaks]
    if chain.more_breaks:
        problems.append(f"…and {chain.more_breaks:,} more places after these.")
    notes: list[str] = []
    if found.head_unreadable:
        problems.append(
            "The head of the log kept outside the database cannot be read (damaged or changed by hand), so "
            "removal of the newest entries cannot be ruled out."
        )
    elif found.head_kept and found.head is None and chain.entries:
        notes.append(
            "No head of the log is kept outside the database on this computer yet (it is from the next audited "
            "action on), so entries removed from its end could only be found by the log's own numbering."
        )
    return AuditCheck(
        intact=not problems,
        entries=chain.entries,
        last_seq=chain.last_seq,
        last_at=chain.last_at,
        problems=tuple(problems),
        notes=tuple(notes),
    )


@use_case(Action.VIEW_AUDIT_LOG)
def audit_log_choices(services: Services, staff_id: str) -> AuditChoices:
    """The actions, staff and record types in the log, for the Audit screen's filters (manager only)."""
    with services.uow(read_only=True) as uow:
        require_staff(uow.session, staff_id, Action.VIEW_AUDIT_LOG)
        actions, staff_ids, record_types = audit_repo.audit_choices(uow.session)
        names = _staff_names(uow, staff_ids)
    staff = sorted(((sid, names.get(sid, sid)) for sid in staff_ids), key=lambda pair: pair[1].casefold())
    return AuditChoices(tuple(actions), tuple(staff), tuple(record_types))


@use_case(Action.VIEW_AUDIT_LOG)
def find_audit_entries(
    services: Services,
    staff_id: str,
    *,
    action: str | None = None,
    done_by: str | None = None,
    record_type: str | None = None,
    record_id: str | None = None,
    from_day: dt.date | None = None,
    to_day: dt.date | None = None,
) -> list[int]:
    """The numbers of the entries matching every filter given, newest first (manager only).

    ``done_by`` is a staff id; ``record_id`` matches a record's id or its start; ``from_day`` and ``to_day``
    are the clinic's days, both included.
    """
    filters = {
        name: _search_text(value, what)
        for name, value, what in (
            ("action", action, "The action"),
            ("staff_id", done_by, "The staff member"),
            ("record_type", record_type, "The kind of record"),
            ("record_id", record_id, "The record"),
        )
    }
    first, last = _search_day(from_day, "The first day"), _search_day(to_day, "The last day")
    with services.uow(read_only=True) as uow:
        require_staff(uow.session, staff_id, Action.VIEW_AUDIT_LOG)
        tz = read_clinic_settings(uow.session).tz
        query = AuditQuery(**filters, since=_start_of(first, tz), until=_start_of(_day_after(last), tz))
        return audit_repo.audit_seqs(uow.session, query)


@use_case(Action.VIEW_AUDIT_LOG)
def audit_log_rows(services: Services, staff_id: str, seqs: Sequence[int] = ()) -> dict[int, AuditRow]:
    """A page of entries by number (manager only); numbers no longer in the log are left out."""
    seqs = [seq for seq in seqs if isinstance(seq, int) and 0 < seq < 2**63]
    with services.uow(read_only=True) as uow:
        require_staff(uow.session, staff_id, Action.VIEW_AUDIT_LOG)
        entries = audit_repo.audit_entries_by_seq(uow.session, seqs)
        names = _staff_names(uow, {e.staff_id for e in entries.values() if e.staff_id})
    return {
        seq: AuditRow(
            seq=e.seq,
            at=e.at if e.at.tzinfo else e.at.replace(tzinfo=dt.UTC),
            staff_id=e.staff_id,
            staff_name=names.get(e.staff_id, e.staff_id or "—"),
            action=e.action,
            record_type=e.record_type,
            record_id=e.record_id,
            reason=e.reason,
            details=dict(e.details),
        )
        for seq, e in entries.items()
    }


# --- Helpers ----------------------------------------------------------------------------------------------------


def _sentence(item: ChainBreak) -> str:
    """Where the log breaks and what that means, for a manager."""
    seq = item.seq
    if item.kind is BreakKind.CHANGED:
        return f"Entry {seq:,} was changed after it was written: its contents no longer match its hash."
    if item.kind is BreakKind.MISSING:
        return f"{_entries(item.first_missing or seq, seq - 1)} missing: removed from the middle of the log."
    if item.kind is BreakKind.UNLINKED:
        return (
            f"Entry {seq:,} does not follow entry {seq - 1:,}: the entry before it was replaced or rewritten."
        )
    if item.kind is BreakKind.TRUNCATED:
        first = item.first_missing or seq
        return f"{_entries(first, seq)} missing from the end of the log: the newest entries were removed."
    return f"Entry {seq:,} is not the one that was written: the newest entries were replaced."


def _entries(first: int, last: int) -> str:
    return f"Entry {first:,} is" if first >= last else f"Entries {first:,} to {last:,} are"


def _staff_names(uow: UnitOfWork, staff_ids: set[str] | Sequence[str]) -> dict[str, str]:
    if not staff_ids:
        return {}
    rows = uow.session.execute(select(StaffRow.id, StaffRow.name).where(StaffRow.id.in_(list(staff_ids))))
    return {sid: name for sid, name in rows}


def _search_text(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{what} to search for must be text.")
    value = value.strip()
    if any(ord(character) < 32 for character in value):
        raise InvalidInput(f"{what} to search for has a character that cannot be typed. Type it again.")
    if len(value) > 200:
        raise InvalidInput(f"{what} to search for is too long (200 characters at most).")
    return value or None


def _search_day(value: object, what: str) -> dt.date | None:
    if value is None:
        return None
    if not isinstance(value, dt.date):
        raise InvalidInput(f"{what} to search from must be a date.")
    return value.date() if isinstance(value, dt.datetime) else value


def _day_after(day: dt.date | None) -> dt.date | None:
    return None if day is None or day >= dt.date.max else day + dt.timedelta(days=1)


def _start_of(day: dt.date | None, tz: dt.tzinfo) -> dt.datetime | None:
    """The first moment of the clinic's ``day``, in UTC; None (no bound) at the ends of the calendar."""
    if day is None:
        return None
    try:
        return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    except OverflowError:
        return None
