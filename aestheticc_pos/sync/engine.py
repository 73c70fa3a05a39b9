"""The sync engine: sends the outbox to GoCardless, one row at a time (DESIGN.md §5).

For each due row (``sync/outbox.py`` decides which, in order per record):

1. a short transaction takes it: in flight, one more attempt, the payload with its prerequisites' ids filled in;
2. the gateway is called **outside any transaction** with the row's stored idempotency key;
3. a new transaction records the outcome: done (and the remote ids on the local record), retry later with
   backoff (network, timeout, 5xx, 429), or failed (GoCardless refused it; the sentence is for staff).

``AuthenticationFailed`` stops the drain: the row goes back to pending and the report carries the sentence. A
``RateLimited`` answer stops it too (every other request would get the same answer until the window resets).
Rows a crash left in flight are pending again after ``recover_in_flight`` (the same key makes the replay safe).

The engine keeps under ``rate_share`` of GoCardless's limit with a token bucket refilled by the engine's clock:
the limit is the gateway's last known one when it exposes it (``gateway.rate_limit``: an int, or the client's
``{"ratelimit-limit": n, …}`` mapping), otherwise ``requests_per_minute`` (1000, GoCardless's standard). When the
bucket is empty the drain stops early and says so; the next drain continues.

No threads and no Qt here: the caller decides when to drain.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from aestheticc_pos.services.clock import Clock
from aestheticc_pos.store.tables import OutboxRow
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory
from aestheticc_pos.sync import outbox
from aestheticc_pos.sync.gateway import (
    AuthenticationFailed,
    PaymentGateway,
    PermanentGatewayError,
    RateLimited,
    TransientGatewayError,
)

log = logging.getLogger(__name__)

DEFAULT_REQUESTS_PER_MINUTE = 1000  # GoCardless's standard allowance per token (NOTES.md §8)


@dataclass(frozen=True, slots=True)
class DrainReport:
    """What one drain did. ``waiting``: rows still waiting for a prerequisite after it; ``blocked``: the ids of
    those whose prerequisite failed. ``stopped``: why the drain ended early (a sentence), or None."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    waiting: int = 0
    blocked: tuple[str, ...] = ()
    stopped: str | None = None
    authentication_failed: bool = False


@dataclass
class _Tally:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    stopped: str | None = None
    authentication_failed: bool = False
    attempted: set[str] = field(default_factory=set)


class TokenBucket:
    """At most ``per_minute`` requests a minute on average, with bursts of up to a minute's worth."""

    def __init__(self, per_minute: float, now: dt.datetime) -> None:
        self.per_minute = max(per_minute, 1.0)
        self.tokens = self.per_minute
        self._at = now

    def set_rate(self, per_minute: float) -> None:
        self.per_minute = max(per_minute, 1.0)
        self.tokens = min(self.tokens, self.per_minute)

    def take(self, now: dt.datetime) -> bool:
        elapsed = max((now - self._at).total_seconds(), 0.0)
        self._at = max(now, self._at)
        self.tokens = min(self.per_minute, self.tokens + elapsed * self.per_minute / 60)
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def empty_until(self, when: dt.datetime) -> None:
        """No request before ``when`` (a rate-limit reset)."""
        self.tokens = 0.0
        self._at = max(self._at, when)


class SyncEngine:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gateway: PaymentGateway,
        clock: Clock,
        *,
        rate_share: float = 0.5,
        rng: random.Random | None = None,
        requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE,
    ) -> None:
        if not 0 < rate_share <= 1:
            raise ValueError("rate_share must be above 0 and at most 1")
        self._uow = uow_factory
        self._gateway = gateway
        self._clock = clock
        self._rate_share = rate_share
        self._rng = rng if rng is not None else random.Random()
        self._default_rpm = requests_per_minute
        self._bucket = TokenBucket(self._limit() * rate_share, clock.now())

    # --- public -------------------------------------------------------------------------------------------

    def recover_in_flight(self) -> int:
        """At start: rows a crash left in flight are pending again, due at once. Returns how many."""
        with self._uow() as uow:
            count = uow.session.execute(
                update(OutboxRow)
                .where(OutboxRow.status == "in_flight")
                .values(status="pending", next_attempt_at=None)
            ).rowcount
            uow.commit()
        if count:
            log.info("%d outbox rows left in flight by an interrupted run are pending again", count)
        return count or 0

    def drain_once(self, max_rows: int = 100) -> DrainReport:
        """Send what is due, one row at a time, until nothing is due, ``max_rows`` were tried, or a stop."""
        tally = _Tally()
        while len(tally.attempted) < max_rows and tally.stopped is None:
            due = self._next_due(tally.attempted, max_rows - len(tally.attempted))
            if not due:
                break
            for outbox_id in due:
                if len(tally.attempted) >= max_rows or tally.stopped is not None:
                    break
                if not self._bucket.take(self._clock.now()):
                    tally.stopped = "Paused to stay within GoCardless's rate limit; the rest is sent shortly."
                    break
                tally.attempted.add(outbox_id)
                self._process(outbox_id, tally)
        with self._uow() as uow:
            blocked = outbox.promote_ready(uow.session)
            waiting = outbox.count_waiting(uow.session)
            uow.commit()
        return DrainReport(
            sent=tally.sent,
            retried=tally.retried,
            failed=tally.failed,
            waiting=waiting,
            blocked=tuple(blocked),
            stopped=tally.stopped,
            authentication_failed=tally.authentication_failed,
        )

    # --- one row ------------------------------------------------------------------------------------------

    def _next_due(self, attempted: set[str], limit: int) -> list[str]:
        with self._uow() as uow:
            outbox.promote_ready(uow.session)
            rows = outbox.due_rows(uow.session, self._clock.now(), limit + len(attempted))
            ids = [row.id for row in rows if row.id not in attempted][:limit]
            uow.commit()
        return ids

    def _process(self, outbox_id: str, tally: _Tally) -> None:
        taken = self._take(outbox_id, tally)
        if taken is None:
            return
        kind, payload, key = taken
        failure: Exception | None = None
        try:
            result = getattr(self._gateway, kind)(payload, key)
        except (AuthenticationFailed, TransientGatewayError, PermanentGatewayError, ValueError) as error:
            failure = error
        if failure is None:
            self._record(outbox_id, lambda row, now: outbox.mark_done(row, result, now))
            self._learn_rate_limit()
            tally.sent += 1
        elif isinstance(failure, AuthenticationFailed):
            self._record(outbox_id, lambda row, now: _back_to_pending(row, failure, now))
            tally.stopped = str(failure)
            tally.authentication_failed = True
        elif isinstance(failure, TransientGatewayError):  # RateLimited included
            self._record(outbox_id, lambda row, now: outbox.mark_retry(row, failure, now, self._rng))
            tally.retried += 1
            if isinstance(failure, RateLimited):  # every other request would get the same answer
                self._bucket.empty_until(min(failure.reset_at, self._clock.now() + outbox.BACKOFF_CAP))
                tally.stopped = str(failure)
        else:
            detail = getattr(failure, "detail", None) or failure
            log.warning("outbox %s (%s) failed: %s", outbox_id, kind, detail)
            self._record(outbox_id, lambda row, now: outbox.mark_failed(row, failure, now))
            tally.failed += 1

    def _take(self, outbox_id: str, tally: _Tally) -> tuple[str, dict[str, Any], str] | None:
        """In its own transaction: lock the row, check it is still due, resolve its payload, mark it in flight."""
        with self._uow() as uow:
            s = uow.session
            row = s.scalars(
                select(OutboxRow)
                .where(OutboxRow.id == outbox_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).one_or_none()
            now = self._clock.now()
            if row is None or row.status != "pending":
                return None  # withdrawn, or taken by another till, since the due list was read
            if not hasattr(self._gateway, row.kind):
                outbox.mark_failed(row, ValueError(row.kind), now)
                row.last_error = (
                    f"The till does not know how to send {row.kind.replace('_', ' ')} to GoCardless."
                )
                uow.commit()
                tally.failed += 1
                return None
            try:
                payload = outbox.resolve_payload(s, row)
            except outbox.UnresolvedPayload as error:
                outbox.mark_failed(row, error, now)
                uow.commit()
                tally.failed += 1
                return None
            outbox.mark_in_flight(row, now, payload)
            taken = (row.kind, payload, row.idempotency_key)
            uow.commit()
        return taken

    def _record(self, outbox_id: str, change: Callable[[OutboxRow, dt.datetime], object]) -> None:
        with self._uow() as uow:
            row = uow.session.scalars(
                select(OutboxRow)
                .where(OutboxRow.id == outbox_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).one()
            change(row, self._clock.now())
            uow.session.flush()
            uow.commit()

    # --- rate limit ---------------------------------------------------------------------------------------

    def _limit(self) -> float:
        known = getattr(self._gateway, "rate_limit", None)
        if isinstance(known, Mapping):
            known = known.get("ratelimit-limit")
        try:
            value = float(known) if known is not None else 0.0
        except (TypeError, ValueError):
            value = 0.0
        return value if value > 0 else float(self._default_rpm)

    def _learn_rate_limit(self) -> None:
        self._bucket.set_rate(self._limit() * self._rate_share)


def _back_to_pending(row: OutboxRow, error: Exception, now: dt.datetime) -> None:
    """Not sent for a reason of ours (the token): pending, due as soon as a new token is entered."""
    row.status = "pending"
    row.next_attempt_at = None
    row.last_error = outbox.staff_sentence(error)
    row.updated_at = now


__all__ = ["DrainReport", "SyncEngine", "TokenBucket"]
