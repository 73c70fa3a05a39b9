"""GoCardless events applied once each, whatever order they arrive in: the inbox beside the outbox (DESIGN.md §5).

``apply_event(uow, event, today, bus)`` applies ONE event (a plain dict as ``GET /events`` returns it) inside the
caller's unit of work; the caller commits. It translates the event into a domain message (``sync/events.py``)
and hands the message to the message bus in that same unit of work, so what the message changes is written
together with the record of the event, or not at all. ``apply_events(uow_factory, events, today, bus)`` applies
a batch, a page of events (``per_transaction``) in each transaction (retried on a write conflict), sorted by
``created_at`` then ``id``.

Rules:

- **Once only.** Every event id is written to ``processed_events`` in the same transaction as its effect; a
  second apply of the same id is a no-op returning ``Outcome.DUPLICATE``. What the event did is kept beside its
  id (outcome, membership, note): the Sync screen's log of recent events.
- **Never raises for what GoCardless sends.** Unknown resource types and actions, events without the links
  or details we need, and events the domain refuses (``DomainError``) are recorded and returned as
  ``Outcome.IGNORED`` with a note. A refused message leaves nothing half-written (it runs in a savepoint).
  Database errors do propagate: the caller's transaction is then rolled back and the event is not recorded,
  so it is applied on the next pull.
- **Out of order: deferred events.** An event whose message is about a GoCardless id no local record knows yet
  (the bus raises ``NotKnownYet``: ``mandates active`` before ``billing_requests fulfilled`` told us the mandate
  id; ``payments confirmed`` before ``subscriptions payment_created`` made the payment row) is recorded as
  processed and kept in ``sync_state`` (key ``parked:<event id>``, the event as JSON), returning
  ``Outcome.DEFERRED``. It is applied as soon as a message makes that id known (the result lists it in
  ``replayed``), or by ``replay_deferred`` (the engine calls it after draining the outbox, which also records
  ids). Deferred events never placed are dropped after ``DEFER_DAYS`` (events about resources that are not the
  till's, such as another system's payments).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aestheticc_pos.domain.errors import DomainError
from aestheticc_pos.domain.messages import FollowUp, NotKnownYet
from aestheticc_pos.store.tables import ProcessedEventRow, SyncStateRow
from aestheticc_pos.store.unit_of_work import UnitOfWork, run_in_transaction
from aestheticc_pos.sync.bus import MessageBus
from aestheticc_pos.sync.events import Unused, event_day, translate

DEFER_DAYS = 35  # how long an event we cannot place yet is kept
PARKED_PREFIX = "parked:"


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # already processed: nothing done
    IGNORED = "ignored"  # recorded as processed; nothing to do (unknown, not ours, or refused by the domain)
    DEFERRED = "deferred"  # recorded as processed; kept until the record it is about is known


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying one event did. ``replayed`` holds deferred events this one let us apply."""

    event_id: str
    outcome: Outcome
    membership_id: str | None = None
    note: str | None = None
    follow_up: FollowUp | None = None
    replayed: tuple[Applied, ...] = ()


def apply_event(uow: UnitOfWork, event: Mapping[str, Any], today: dt.date, bus: MessageBus) -> Applied:
    """Apply one GoCardless event in the caller's unit of work (the caller commits). Never raises for the
    event's content; see the module docstring."""
    s = uow.session
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id:
        return Applied("", Outcome.IGNORED, note="An event without an id was ignored.")
    if s.get(ProcessedEventRow, event_id) is not None:
        return Applied(event_id, Outcome.DUPLICATE)
    s.add(
        ProcessedEventRow(
            event_id=event_id,
            resource_type=str(event.get("resource_type") or "")[:40],
            action=str(event.get("action") or "")[:60],
        )
    )
    s.flush()
    result, known = _apply(uow, bus, event, today)
    if result.outcome is Outcome.APPLIED and known:
        result = replace(result, replayed=_replay(uow, bus, known, today))
    return result


def apply_events(
    uow_factory: Callable[[], UnitOfWork],
    events: list[dict[str, Any]],
    today: dt.date,
    bus: MessageBus,
    *,
    per_transaction: int = 1,
) -> list[Applied]:
    """Apply ``events`` in ``created_at`` then ``id`` order, ``per_transaction`` of them in each transaction
    (retried whole on a write conflict); duplicates are skipped, found with one query per transaction.

    Returns one result per event, then one for each deferred event applied along the way (flattened from
    ``Applied.replayed``), including those ``replay_deferred`` could apply at the end of the batch.
    """
    ordered = sorted(events, key=_order)
    size = max(1, per_transaction)
    results: list[Applied] = []
    for start in range(0, len(ordered), size):
        chunk = ordered[start : start + size]
        applied = run_in_transaction(uow_factory, partial(_apply_chunk, events=chunk, today=today, bus=bus))
        for one in applied:
            results.append(replace(one, replayed=()))
            results.extend(_flatten(one.replayed))
    for applied_late in run_in_transaction(uow_factory, lambda uow: replay_deferred(uow, today, bus)):
        results.append(replace(applied_late, replayed=()))
        results.extend(_flatten(applied_late.replayed))
    return results


def replay_deferred(uow: UnitOfWork, today: dt.date, bus: MessageBus) -> list[Applied]:
    """Try every deferred event again (the outbox drain may have recorded the id it was waiting for), and drop
    those older than ``DEFER_DAYS``. Returns the ones applied now. The caller commits."""
    s = uow.session
    applied: list[Applied] = []
    for row, parked in _parked(s):
        if s.get(SyncStateRow, row.key) is None:  # applied already, as a replay of an earlier one
            continue
        s.delete(row)
        if event_day(parked["event"], today) < today - dt.timedelta(days=DEFER_DAYS):
            continue
        s.flush()
        result, known = _apply(uow, bus, parked["event"], today)
        if result.outcome is Outcome.APPLIED:
            applied.append(replace(result, replayed=_replay(uow, bus, known, today) if known else ()))
    return applied


# --- One event ----------------------------------------------------------------------------------------------


def _apply_chunk(
    uow: UnitOfWork, *, events: list[dict[str, Any]], today: dt.date, bus: MessageBus
) -> list[Applied]:
    """Apply ``events`` in the caller's unit of work: those already processed are found in one query."""
    ids = [str(e.get("id")) for e in events if isinstance(e.get("id"), str) and e.get("id")]
    done = set(
        uow.session.scalars(select(ProcessedEventRow.event_id).where(ProcessedEventRow.event_id.in_(ids)))
    )
    return [
        Applied(str(e["id"]), Outcome.DUPLICATE) if e.get("id") in done else apply_event(uow, e, today, bus)
        for e in events
    ]


def _apply(
    uow: UnitOfWork, bus: MessageBus, raw: Mapping[str, Any], today: dt.date
) -> tuple[Applied, tuple[str, ...]]:
    """Translate the event, hand its message to the bus, log what it did. Returns the result and the GoCardless
    ids the message made known (deferred events may wait on them)."""
    s = uow.session
    event_id = str(raw["id"])
    known: tuple[str, ...] = ()
    try:
        message = translate(raw, today)
        if isinstance(message, Unused):
            result = Applied(event_id, Outcome.IGNORED, note=message.note)
        else:
            with s.begin_nested():  # a refused message leaves nothing half-written
                handled = bus.handle(uow, message)
            outcome = Outcome.APPLIED if handled.applied else Outcome.IGNORED
            result = Applied(event_id, outcome, handled.membership_id, handled.note, handled.follow_up)
            known = handled.known
    except NotKnownYet as waiting:
        _park(s, raw, waiting.key)
        note = f"Kept until {waiting.key} is known (events arrived out of order)."
        result = Applied(event_id, Outcome.DEFERRED, note=note)
    except DomainError as refused:
        result = Applied(event_id, Outcome.IGNORED, note=f"Not applied: {refused}")
    _log(s, result)
    return result, known


def _log(s: Session, result: Applied) -> None:
    """Keep what the event did beside its id (the Sync screen's log of recent events)."""
    row = s.get(ProcessedEventRow, result.event_id)
    if row is not None:
        row.outcome = str(result.outcome)
        row.membership_id = result.membership_id
        row.note = result.note


# --- Deferred events ----------------------------------------------------------------------------------------


def _park(s: Session, raw: Mapping[str, Any], key: str) -> None:
    value = json.dumps({"wait_for": key, "event": dict(raw)}, default=str)
    s.merge(SyncStateRow(key=f"{PARKED_PREFIX}{raw['id']}", value=value))
    s.flush()


def _parked(s: Session) -> list[tuple[SyncStateRow, dict[str, Any]]]:
    """The deferred events, oldest first."""
    rows = s.scalars(select(SyncStateRow).where(SyncStateRow.key.startswith(PARKED_PREFIX))).all()
    parked = [(row, json.loads(row.value)) for row in rows]
    return sorted(parked, key=lambda pair: _order(pair[1]["event"]))


def _replay(uow: UnitOfWork, bus: MessageBus, known: tuple[str, ...], today: dt.date) -> tuple[Applied, ...]:
    """Apply the deferred events waiting for ``known`` ids (and, in turn, for the ids those make known)."""
    s = uow.session
    waiting = set(known)
    applied: list[Applied] = []
    progress = True
    while progress:
        progress = False
        for row, parked in _parked(s):
            if parked["wait_for"] not in waiting:
                continue
            s.delete(row)
            s.flush()
            result, more = _apply(uow, bus, parked["event"], today)
            if result.outcome is Outcome.APPLIED:
                applied.append(result)
                waiting.update(more)
                progress = progress or bool(more)
    return tuple(applied)


def _flatten(results: tuple[Applied, ...]) -> list[Applied]:
    flat: list[Applied] = []
    for result in results:
        flat.append(replace(result, replayed=()))
        flat.extend(_flatten(result.replayed))
    return flat


def _order(event: Mapping[str, Any]) -> tuple[str, str]:
    return str(event.get("created_at") or ""), str(event.get("id") or "")
