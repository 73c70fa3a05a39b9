"""The sync engine: sends the outbox and pulls GoCardless's events, one till at a time (DESIGN.md §5).

It composes the parts: the drain (``sync/drain.py``: the outbox, one row at a time), the pull
(``sync/pull.py``: events since the watermark, applied through the inbox as domain messages for the message bus),
the rate limit both share (``sync/rate_limit.py``) and the sync lease (``sync/lease.py``).

``run_cycle``: take the lease, recover rows left in flight, drain, pull, drain again (so a subscription queued by
an event is sent in the same cycle), release the lease.

**One engine at a time per database.** Every public call holds the sync lease while it works; a till that cannot
take it does nothing and says so (``ANOTHER_TILL_SYNCING``), and a holder that lost it during long work stops at
once. While an engine holds the lease nobody else is sending, so a row still in flight was left by an engine that
stopped mid-send: ``recover_in_flight`` (only under the lease) makes such rows pending again.

Calls on one engine are serialised (a lock), so a background thread's cycle and a "send now" from the screen
never run at the same time. No Qt here: the caller decides when to sync.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from aestheticc_pos.clock import Clock
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory
from aestheticc_pos.sync.bus import MessageBus
from aestheticc_pos.sync.drain import Drain, DrainReport
from aestheticc_pos.sync.gateway import PaymentGateway
from aestheticc_pos.sync.lease import ANOTHER_TILL_SYNCING, SyncLease
from aestheticc_pos.sync.pull import Pull, PullReport, write_state
from aestheticc_pos.sync.rate_limit import DEFAULT_REQUESTS_PER_MINUTE, RateLimit

LAST_SYNC_KEY = "last_successful_sync"


@dataclass(frozen=True, slots=True)
class CycleReport:
    """One sync cycle: ``recovered`` rows left in flight by an engine that stopped mid-send, drain, pull,
    drain again.

    ``ok``: nothing stopped early (the time of the last successful sync is stored when it is).
    ``another_till_syncing``: the cycle did not run because another till holds the sync lease (its first drain
    says so in ``stopped``; nothing is wrong, that till is sending the work).
    """

    recovered: int
    first_drain: DrainReport
    pull: PullReport | None
    second_drain: DrainReport | None
    another_till_syncing: bool = False

    @property
    def sent(self) -> int:
        return self.first_drain.sent + (self.second_drain.sent if self.second_drain else 0)

    @property
    def ok(self) -> bool:
        reports: list[DrainReport | PullReport | None] = [self.first_drain, self.pull, self.second_drain]
        return all(r is not None and r.stopped is None for r in reports)


class SyncEngine:
    """Sends the outbox and pulls events (module doc). ``bus`` applies the domain messages (``app.py`` gives it
    ``services/handlers.py``'s). ``holder`` names this engine in the sync lease (a new id per engine by default;
    give each till its own). ``rate_share``: the share of GoCardless's rate limit this engine may use, its budget
    refilled as real time passes on ``monotonic`` (not ``clock``, which may stand still)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gateway: PaymentGateway,
        clock: Clock,
        *,
        bus: MessageBus,
        rate_share: float = 0.5,
        rng: random.Random | None = None,
        requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE,
        holder: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        rate = RateLimit(
            gateway, share=rate_share, requests_per_minute=requests_per_minute, monotonic=monotonic
        )
        self.holder = (holder or f"till-{uuid.uuid4().hex[:12]}").replace(" ", "_")[:40]
        self._uow = uow_factory
        self._clock = clock
        self._busy = threading.RLock()
        self._lease = SyncLease(uow_factory, clock, self.holder)
        rng = rng if rng is not None else random.Random()
        self._drain = Drain(uow_factory, gateway, clock, bus, lease=self._lease, rate=rate, rng=rng)
        self._pull = Pull(uow_factory, gateway, clock, bus, lease=self._lease, rate=rate)

    def recover_in_flight(self) -> int:
        """Rows left in flight by an engine that stopped mid-send are pending again, due at once.

        Only under the sync lease (then nobody else is sending, so every row in flight is such a row);
        returns 0 without touching anything when another till holds it. Returns how many rows were reset.
        """
        with self._busy, self._lease.held() as held:
            if not held:
                return 0
            return self._drain.recover()

    def drain_once(self, max_rows: int = 100) -> DrainReport:
        """Send what is due, one row at a time, until nothing is due, ``max_rows`` were tried, or a stop.

        Does nothing (``another_till_syncing``) when another till holds the sync lease."""
        with self._busy, self._lease.held() as held:
            if not held:
                return DrainReport(stopped=ANOTHER_TILL_SYNCING, another_till_syncing=True)
            return self._drain.run(max_rows)

    def run_cycle(self, today: dt.date) -> CycleReport:
        """One sync cycle under the sync lease: recover rows left in flight, drain, pull events, drain.

        Stops after the first drain when the token was refused; never raises for a network problem. When
        another till holds the lease nothing is done and the report says so (``another_till_syncing``).
        """
        with self._busy, self._lease.held() as held:
            if not held:
                busy = DrainReport(stopped=ANOTHER_TILL_SYNCING, another_till_syncing=True)
                return CycleReport(0, busy, None, None, another_till_syncing=True)
            recovered = self._drain.recover()
            first = self._drain.run(100)
            if first.authentication_failed or first.another_till_syncing:
                return CycleReport(recovered, first, None, None)
            pull = self._pull.run(today)
            if pull.authentication_failed or pull.another_till_syncing:
                return CycleReport(recovered, first, pull, None)
            second = self._drain.run(100)
            report = CycleReport(recovered, first, pull, second)
            if report.ok:
                write_state(self._uow, LAST_SYNC_KEY, self._clock.now().isoformat())
            return report

    def pull_events_once(self, today: dt.date) -> PullReport:
        """Read every page of events since the watermark, apply them, then move the watermark (``sync/pull.py``).

        Does nothing (``another_till_syncing``) when another till holds the sync lease."""
        with self._busy, self._lease.held() as held:
            if not held:
                return PullReport(stopped=ANOTHER_TILL_SYNCING, another_till_syncing=True)
            return self._pull.run(today)

    def lease_holder(self) -> str | None:
        """Who holds the sync lease now (a holder id), or None when nobody does."""
        return self._lease.current_holder()
