"""Several tills on one database, as on a clinic's network: the one harness for the tests that race tills.

A till is its own OS process (``spawn``) with its own engine (its own connection pool) on the database URL and
its own ``Services`` on a fixed clock, as the app builds them on each computer. Its writing units of work hold
their transaction ``hold`` seconds before committing (``LingeringUnitsOfWork``), so the other tills really
overlap it: on SQLite they wait for the write lock, on PostgreSQL for the row locks.

    outcomes = run_tills(migrated_url, book, [booking_a, booking_b])

runs ``book(services, booking)`` on one till per job; all of them leave a barrier together. Each till reports
what ``work`` returned (a tuple in the test's own words), or ``("refused", error class name, sentence)`` for a
refusal staff would see (``DomainError``). Anything else fails the test with its reason. The outcomes come back
sorted, so the winner's comes before the refusals whatever the order the tills finished in.

``work`` must be a function at the top level of its module (a spawned process imports it by name).
``LingeringUnitsOfWork`` also serves tests that race tills as threads over one engine.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import time
from collections.abc import Callable, Sequence
from multiprocessing.synchronize import Barrier
from typing import Any

from sqlalchemy import Engine

from aestheticc_pos.clock import FixedClock
from aestheticc_pos.domain.errors import DomainError
from aestheticc_pos.services.context import Services
from aestheticc_pos.store.db import create_engine_for, make_session_factory
from aestheticc_pos.store.unit_of_work import UnitOfWork

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)  # 09:00 in London, as the services fixtures
HOLD_SECONDS = 0.5

Work = Callable[[Services, Any], tuple[Any, ...]]


class _Lingering(UnitOfWork):
    def __init__(self, session_factory: Any, hold: float) -> None:
        super().__init__(session_factory)
        self._hold = hold

    def commit(self) -> None:
        time.sleep(self._hold)  # keep the transaction (and its locks) open, so the other tills overlap it
        super().commit()


class LingeringUnitsOfWork:
    """A unit-of-work factory over ``engine`` whose writing units of work hold their transaction ``hold``
    seconds before committing; reading ones do not."""

    def __init__(self, engine: Engine, hold: float = HOLD_SECONDS) -> None:
        self.engine = engine
        self.hold = hold
        self._write = make_session_factory(engine)
        self._read = make_session_factory(engine, read_only=True)

    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(self._read) if read_only else _Lingering(self._write, self.hold)


def run_tills(
    url: str, work: Work, jobs: Sequence[Any], *, hold: float = HOLD_SECONDS, now: dt.datetime = NOW
) -> list[tuple[Any, ...]]:
    """Run ``work(services, job)`` on one till per job, all at once; their outcomes, sorted (module doc)."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(len(jobs))
    results = context.Queue()
    processes = [
        context.Process(target=_till, args=(url, work, job, hold, now, start, results)) for job in jobs
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    assert [o for o in outcomes if o[0] == "error"] == [], outcomes
    return sorted(outcomes)


def _till(
    url: str,
    work: Work,
    job: Any,
    hold: float,
    now: dt.datetime,
    start: Barrier,
    results: multiprocessing.Queue,  # type: ignore[type-arg]
) -> None:
    engine = create_engine_for(url)
    services = Services(uow=LingeringUnitsOfWork(engine, hold), clock=FixedClock(now))
    try:
        start.wait(timeout=60)
        results.put(work(services, job))
    except DomainError as refusal:
        results.put(("refused", type(refusal).__name__, str(refusal)))
    except Exception as error:  # any other outcome fails the test, with its reason
        results.put(("error", type(error).__name__, repr(error)))
    finally:
        engine.dispose()
