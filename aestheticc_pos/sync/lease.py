"""The sync lease: one till at a time drains the outbox and pulls events from a shared database.

Every till of a clinic runs the app against the same database, so the engine holds a lease before it sends or
pulls: ``sync_state`` key ``sync_lease``, value ``"<expiry> <holder>"`` (the expiry in a fixed-width UTC form, so
values compare as text). It is taken, renewed and released with compare-and-swap statements (an INSERT for a
lease nobody ever took, else an UPDATE whose ``WHERE value = <the value read>`` matches only if nobody changed it
meanwhile), each in its own short transaction, so two tills can never both believe they hold it, on SQLite or on
PostgreSQL. A lease lasts ``LEASE_DURATION`` and is renewed during long work once ``LEASE_RENEW_AFTER`` has
passed since it was last written; a holder that lost it (it stalled past the expiry and another till took over)
learns so from ``keep()`` and must stop at once. When the holder dies its lease runs out and the next till takes
over; a till that restarts under the same holder name takes its own lease back at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from aestheticc_pos.clock import Clock
from aestheticc_pos.store.tables import SyncStateRow
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

LEASE_KEY = "sync_lease"
LEASE_DURATION = dt.timedelta(minutes=5)  # a till that died holding the lease is taken over after this
LEASE_RENEW_AFTER = dt.timedelta(minutes=1)  # renewed during a drain or pull once this has passed
ANOTHER_TILL_SYNCING = "Another till is syncing with GoCardless; this till takes over if that one stops."


class SyncLease:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, holder: str) -> None:
        self._uow = uow_factory
        self._clock = clock
        self.holder = holder
        self._depth = 0
        self._value: str | None = None  # what we last wrote while we hold it
        self._written_at: dt.datetime | None = None

    def current_holder(self) -> str | None:
        """Who holds the lease now, or None when nobody does (or its time ran out)."""
        with self._uow(read_only=True) as uow:
            value = uow.session.scalar(select(SyncStateRow.value).where(SyncStateRow.key == LEASE_KEY))
        if value is None:
            return None
        holder, expires = parse_lease(value)
        return holder if expires is not None and expires > self._clock.now() else None

    @contextmanager
    def held(self) -> Iterator[bool]:
        """Hold the lease for the block (nested blocks share the outer one); yields whether it is held. It is
        released at the end of the outermost block, so tills take turns."""
        if self._depth:
            self._depth += 1
            try:
                yield True
            finally:
                self._depth -= 1
            return
        if not self.take():
            yield False
            return
        self._depth = 1
        try:
            yield True
        finally:
            self._depth = 0
            self.release()

    def take(self) -> bool:
        """Take the lease if nobody holds it, its holder's time ran out, or it is ours (compare-and-swap)."""
        now = self._clock.now()
        mine = lease_value(self.holder, now + LEASE_DURATION)
        try:
            with self._uow() as uow:
                s = uow.session
                current = s.scalar(select(SyncStateRow.value).where(SyncStateRow.key == LEASE_KEY))
                if current is None:
                    s.add(SyncStateRow(key=LEASE_KEY, value=mine))
                    s.flush()
                else:
                    holder, expires = parse_lease(current)
                    if holder != self.holder and expires is not None and expires > now:
                        return False
                    swapped = s.execute(
                        update(SyncStateRow)
                        .where(SyncStateRow.key == LEASE_KEY, SyncStateRow.value == current)
                        .values(value=mine)
                        .execution_options(synchronize_session=False)
                    ).rowcount
                    if swapped != 1:
                        return False
                    if holder != self.holder:
                        log.info("took the sync lease from %s (expired)", holder)
                uow.commit()
        except IntegrityError:  # another till inserted it first
            return False
        self._value, self._written_at = mine, now
        return True

    def keep(self) -> bool:
        """During long work: renew the lease once ``LEASE_RENEW_AFTER`` has passed since it was written. False
        when it is no longer ours (it ran out and another till took it): stop at once."""
        now = self._clock.now()
        if self._value is None:
            return False
        if self._written_at is not None and now - self._written_at < LEASE_RENEW_AFTER:
            return True
        renewed = lease_value(self.holder, now + LEASE_DURATION)
        with self._uow() as uow:
            swapped = uow.session.execute(
                update(SyncStateRow)
                .where(SyncStateRow.key == LEASE_KEY, SyncStateRow.value == self._value)
                .values(value=renewed)
                .execution_options(synchronize_session=False)
            ).rowcount
            uow.commit()
        if swapped != 1:
            log.warning("the sync lease of %s was taken over by another till; stopping", self.holder)
            self._value = None
            return False
        self._value, self._written_at = renewed, now
        return True

    def release(self) -> None:
        value, self._value, self._written_at = self._value, None, None
        if value is None:
            return
        with self._uow() as uow:
            uow.session.execute(
                delete(SyncStateRow)
                .where(SyncStateRow.key == LEASE_KEY, SyncStateRow.value == value)
                .execution_options(synchronize_session=False)
            )
            uow.commit()


def lease_value(holder: str, expires: dt.datetime) -> str:
    """``"<expiry> <holder>"``: the expiry in UTC, fixed width (microseconds), so it sorts as text."""
    return expires.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") + " " + holder


def parse_lease(value: str) -> tuple[str, dt.datetime | None]:
    """(holder, expiry) of a lease value; an unreadable expiry is None (treated as run out)."""
    expires, _, holder = value.partition(" ")
    try:
        parsed = dt.datetime.fromisoformat(expires.replace("Z", "+00:00"))
    except ValueError:
        return holder, None
    return holder, parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)
