"""Sending the outbox to GoCardless, one row at a time (DESIGN.md §5).

For each due row (``sync/outbox.py`` decides which, in order per record):

1. a short transaction takes it: in flight, one more attempt, the payload with its prerequisites' ids filled in;
2. the gateway is called **outside any transaction** with the row's stored idempotency key;
3. a new transaction records the outcome: done (and the remote ids on the local record), retry later with
   backoff (network, timeout, 5xx, 429), or failed (GoCardless refused it; the sentence is for staff).

``AuthenticationFailed`` stops the drain: the row goes back to pending and the report carries the sentence. A
``RateLimited`` answer stops it too (every other request would get the same answer until the window resets), as
does an empty rate-limit bucket (``sync/rate_limit.py``) and a lost sync lease. Rows a crash left in flight are
pending again after ``recover`` (the same key makes the replay safe).

**A subscription is planned when it is sent.** Before a membership's ``create_subscription`` goes out, the drain
reads the mandate (its ``next_possible_charge_date`` now) and the mandate's payments, and hands the message bus
``PlanSubscription``: membership billing works out the start date, queues a one-off payment for every month
between what is paid and that start, and writes the subscription to send into the row, all in one transaction.
A send retried days later, or a replacement after a tier change, is never refused for a stale date, and no month
is skipped or collected twice. A membership that no longer needs one (it ends first) has the row discarded with
the bus's sentence. Once sent, ``SubscriptionSent`` lets membership billing withdraw the one-off payments a
subscription made by an earlier attempt already collects.

**A subscription cancelled with notice** waits: a member who gave notice still owes every monthly payment charged
on or before ``ends_on``, so the cancellation is held until the day after the last of those.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aestheticc_pos.clock import Clock
from aestheticc_pos.domain.messages import PlanSubscription, SubscriptionSent
from aestheticc_pos.store.tables import OutboxRow
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory
from aestheticc_pos.sync import outbox
from aestheticc_pos.sync.bus import MessageBus
from aestheticc_pos.sync.events import remote_payment
from aestheticc_pos.sync.gateway import (
    AuthenticationFailed,
    PaymentGateway,
    PermanentGatewayError,
    RateLimited,
    TransientGatewayError,
)
from aestheticc_pos.sync.lease import ANOTHER_TILL_SYNCING, SyncLease
from aestheticc_pos.sync.rate_limit import RateLimit

log = logging.getLogger(__name__)

RATE_PAUSE = "Paused to stay within GoCardless's rate limit; the rest is sent shortly."


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
    another_till_syncing: bool = False


class Drain:
    """Sends the due outbox rows (module doc). The engine calls it under the sync lease, one call at a time."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gateway: PaymentGateway,
        clock: Clock,
        bus: MessageBus,
        *,
        lease: SyncLease,
        rate: RateLimit,
        rng: random.Random,
    ) -> None:
        self._uow = uow_factory
        self._gateway = gateway
        self._clock = clock
        self._bus = bus
        self._lease = lease
        self._rate = rate
        self._rng = rng

    def recover(self) -> int:
        """Rows left in flight by an engine that stopped mid-send are pending again, due at once. Only under
        the sync lease (then nobody else is sending, so every row in flight is such a row). Returns how many."""
        with self._uow() as uow:
            count = uow.session.execute(
                update(OutboxRow)
                .where(OutboxRow.status == "in_flight")
                .values(status="pending", next_attempt_at=None)
                .execution_options(synchronize_session=False)
            ).rowcount
            uow.commit()
        if count:
            log.info("%d outbox rows left in flight by an interrupted run are pending again", count)
        return count or 0

    def run(self, max_rows: int) -> DrainReport:
        """Send what is due, one row at a time, until nothing is due, ``max_rows`` were tried, or a stop."""
        tally = _Tally()
        lost_lease = False
        while len(tally.attempted) < max_rows and tally.stopped is None:
            due = self._next_due(tally.attempted, max_rows - len(tally.attempted))
            if not due:
                break
            for outbox_id in due:
                if len(tally.attempted) >= max_rows or tally.stopped is not None:
                    break
                if not self._lease.keep():
                    tally.stopped, lost_lease = ANOTHER_TILL_SYNCING, True
                    break
                if not self._rate.take():
                    tally.stopped = RATE_PAUSE
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
            another_till_syncing=lost_lease,
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
        kind, record_type, payload, key = taken
        subscription = kind == "create_subscription" and record_type == outbox.MEMBERSHIP
        failure: Exception | None = None
        try:
            hold = self._cancellation_hold(payload) if kind == "cancel_subscription" else None
            if hold is not None:
                self._record(outbox_id, lambda row, now: outbox.hold_until(row, hold, now))
                return
            if subscription:
                planned, not_needed = self._plan_subscription(outbox_id, payload)
                if planned is None:
                    self._record(outbox_id, lambda row, now: outbox.mark_discarded(row, not_needed, now))
                    return
                payload = planned
            result = getattr(self._gateway, kind)(payload, key)
        except (AuthenticationFailed, TransientGatewayError, PermanentGatewayError, ValueError) as error:
            failure = error
        if failure is None:
            self._record(outbox_id, lambda row, now: outbox.mark_done(row, result, now))
            if subscription:
                self._subscription_sent(outbox_id, result.data.get("start_date"))
            self._rate.learn()
            tally.sent += 1
        elif isinstance(failure, AuthenticationFailed):
            self._record(outbox_id, lambda row, now: _back_to_pending(row, failure, now))
            tally.stopped = str(failure)
            tally.authentication_failed = True
        elif isinstance(failure, TransientGatewayError):  # RateLimited included
            self._record(outbox_id, lambda row, now: outbox.mark_retry(row, failure, now, self._rng))
            tally.retried += 1
            if isinstance(failure, RateLimited):  # every other request would get the same answer
                self._rate.wait(min(failure.retry_after, outbox.BACKOFF_CAP))
                tally.stopped = str(failure)
        else:
            detail = getattr(failure, "detail", None) or failure
            log.warning("outbox %s (%s) failed: %s", outbox_id, kind, detail)
            self._record(outbox_id, lambda row, now: outbox.mark_failed(row, failure, now))
            tally.failed += 1

    def _take(self, outbox_id: str, tally: _Tally) -> tuple[str, str, dict[str, Any], str] | None:
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
            taken = (row.kind, row.record_type, payload, row.idempotency_key)
            uow.commit()
        return taken

    def _plan_subscription(
        self, outbox_id: str, payload: Mapping[str, Any]
    ) -> tuple[dict[str, Any] | None, str]:
        """Plan a membership's subscription as it is sent (module doc): the mandate's next possible charge date
        and its payments are read now, then the bus plans it in one transaction. Returns the payload to send, or
        None and the sentence saying why nothing is sent. Raises the gateway's errors (a transient one retries
        the row later)."""
        mandate_id = str((payload.get("links") or {}).get("mandate") or "")
        mandate = self._gateway.get_mandate(mandate_id)
        earliest = mandate.get("next_possible_charge_date")
        if not isinstance(earliest, str):
            raise TransientGatewayError(
                "GoCardless has not said yet when this Direct Debit can first be charged; it is tried again "
                "shortly.",
                detail=f"mandate {mandate_id} without next_possible_charge_date",
            )
        payments = tuple(remote_payment(p) for p in self._gateway.list_payments(mandate_id))
        plan = PlanSubscription(outbox_id, dt.date.fromisoformat(earliest), payments, self._clock.now())
        with self._uow() as uow:
            handled = self._bus.handle(uow, plan)
            # the bus wrote the subscription to send into the row
            planned = _payload(uow.session, outbox_id) if handled.applied else None
            uow.commit()
        return planned, handled.note or ""

    def _subscription_sent(self, outbox_id: str, start_date: Any) -> None:
        """A replayed create may return a subscription made by an earlier attempt that starts sooner: the
        one-off payments it now collects itself are withdrawn."""
        started = dt.date.fromisoformat(start_date) if isinstance(start_date, str) else None
        with self._uow() as uow:
            handled = self._bus.handle(uow, SubscriptionSent(outbox_id, started))
            uow.commit()
        if handled.applied and handled.note:
            log.info("outbox %s: %s", outbox_id, handled.note)

    def _cancellation_hold(self, payload: Mapping[str, Any]) -> dt.datetime | None:
        """When a subscription cancelled with notice may be cancelled: None for now, or the moment to try again.

        A member who gave notice still owes every monthly payment charged on or before ``ends_on``; cancelling
        the subscription earlier would cancel those too. So the cancellation waits until the day after the last
        such charge date among the subscription's upcoming payments, and goes out once none is left.
        """
        ends_on = payload.get("ends_on")
        subscription_id = payload.get("subscription_id")
        if not ends_on or not subscription_id:
            return None
        last_day = dt.date.fromisoformat(str(ends_on))
        subscription = self._gateway.get_subscription(str(subscription_id))
        owed = [
            dt.date.fromisoformat(str(p["charge_date"]))
            for p in subscription.get("upcoming_payments") or []
            if p.get("charge_date") and dt.date.fromisoformat(str(p["charge_date"])) <= last_day
        ]
        if not owed:
            return None
        return dt.datetime.combine(max(owed) + dt.timedelta(days=1), dt.time(6, 0), dt.UTC)

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


@dataclass
class _Tally:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    stopped: str | None = None
    authentication_failed: bool = False
    attempted: set[str] = field(default_factory=set)


def _payload(s: Session, outbox_id: str) -> dict[str, Any]:
    return s.scalars(select(OutboxRow).where(OutboxRow.id == outbox_id)).one().payload


def _back_to_pending(row: OutboxRow, error: Exception, now: dt.datetime) -> None:
    """Not sent for a reason of ours (the token): pending, due as soon as a new token is entered."""
    row.status = "pending"
    row.next_attempt_at = None
    row.last_error = outbox.staff_sentence(error)
    row.updated_at = now
