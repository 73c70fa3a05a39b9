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

Events (``pull_events_once``): the watermark is the latest ``created_at`` applied (``sync_state`` key
``events_watermark``). A pull asks for events created after the watermark minus ``EVENT_OVERLAP`` (GoCardless's
``created_at[gt]`` would skip an event created in the same millisecond as the last one seen; the overlap is
re-read and ``processed_events`` makes it a no-op), reads every page, dedupes by id, fills in the payment of
``payment_created`` events (what ``include=payment`` would add) and applies them with ``events.apply_events``.
Only when every page was read and every event applied does the watermark move, to the latest ``created_at``
seen; a pull stopped by a network error applies what it read and leaves the watermark where it was. An
unfinished set-up or a lost mandate is counted as a new link to offer (the first subscription was queued with
the event that set up the mandate).

**A subscription is planned when it is sent.** Before a membership's ``create_subscription`` goes out, the
engine reads the mandate (its ``next_possible_charge_date`` now) and the mandate's payments, and
``membership_billing.prepare_subscription_in`` works out the start date and queues a one-off payment for every
month between what is paid and that start. A send retried days later, or a replacement after a tier change,
is never refused for a stale date, and no month is skipped or collected twice. A membership that no longer
needs one (it ends first) has the row discarded with a sentence.

``run_cycle``: take the lease, ``recover_in_flight``, drain, pull, drain again (so a subscription queued by an
event is sent in the same cycle), release the lease.

**One engine at a time per database.** Every public call holds the sync lease (``sync/lease.py``) while it
works; a till that cannot take it does nothing and says so (``ANOTHER_TILL_SYNCING``), and a holder that lost it
during long work stops at once. While an engine holds the lease nobody else is sending, so a row still in flight
was left by an engine that stopped mid-send: ``recover_in_flight`` (only under the lease) makes such rows
pending again.

Calls on one engine are serialised (a lock), so a background thread's cycle and a "send now" from the screen
never run at the same time. No Qt here: the caller decides when to drain.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from aestheticc_pos.services import membership_billing
from aestheticc_pos.services.clock import Clock
from aestheticc_pos.services.context import Services
from aestheticc_pos.store.tables import (
    MembershipPaymentRow,
    MembershipRow,
    OutboxRow,
    PaymentLinkRow,
    ProcessedEventRow,
    SyncStateRow,
)
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory
from aestheticc_pos.sync import events as sync_events
from aestheticc_pos.sync import outbox
from aestheticc_pos.sync.events import Applied, FollowUp, Outcome
from aestheticc_pos.sync.gateway import (
    AuthenticationFailed,
    GatewayError,
    PaymentGateway,
    PermanentGatewayError,
    RateLimited,
    TransientGatewayError,
)
from aestheticc_pos.sync.lease import SyncLease

log = logging.getLogger(__name__)

DEFAULT_REQUESTS_PER_MINUTE = 1000  # GoCardless's standard allowance per token (NOTES.md §8)
WATERMARK_KEY = "events_watermark"
LAST_SYNC_KEY = "last_successful_sync"
EVENT_OVERLAP = dt.timedelta(seconds=1)  # re-read this much before the watermark (equal timestamps)
EVENTS_PAGE_LIMIT = 500  # GoCardless's maximum page size
ANOTHER_TILL_SYNCING = "Another till is syncing with GoCardless; this till takes over if that one stops."


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


@dataclass(frozen=True, slots=True)
class PullReport:
    """What one pull of ``GET /events`` did.

    ``received``: distinct events read; ``applied`` / ``duplicates`` / ``ignored`` / ``deferred``: their
    outcomes (``applied`` includes deferred events applied now); ``subscriptions_queued``: first subscriptions
    queued because a mandate was set up; ``new_links``: memberships whose client should be offered a new Direct Debit link
    (their ids in ``new_link_memberships``); ``watermark``: the stored watermark after the pull; ``stopped``:
    why the pull ended early (a sentence; the watermark did not move), or None.
    """

    pages: int = 0
    received: int = 0
    applied: int = 0
    duplicates: int = 0
    ignored: int = 0
    deferred: int = 0
    subscriptions_queued: int = 0
    new_links: int = 0
    new_link_memberships: tuple[str, ...] = ()
    watermark: str | None = None
    stopped: str | None = None
    authentication_failed: bool = False
    another_till_syncing: bool = False


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
    """Sends the outbox and pulls events (module doc). ``holder`` names this engine in the sync lease (a new
    id per engine by default; give each till its own)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gateway: PaymentGateway,
        clock: Clock,
        *,
        rate_share: float = 0.5,
        rng: random.Random | None = None,
        requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE,
        holder: str | None = None,
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
        self.holder = (holder or f"till-{uuid.uuid4().hex[:12]}").replace(" ", "_")[:40]
        self._busy = threading.RLock()
        self._lease = SyncLease(uow_factory, clock, self.holder)

    # --- public -------------------------------------------------------------------------------------------

    def recover_in_flight(self) -> int:
        """Rows left in flight by an engine that stopped mid-send are pending again, due at once.

        Only under the sync lease (then nobody else is sending, so every row in flight is such a row);
        returns 0 without touching anything when another till holds it. Returns how many rows were reset.
        """
        with self._busy, self._lease.held() as held:
            if not held:
                return 0
            return self._recover()

    def drain_once(self, max_rows: int = 100) -> DrainReport:
        """Send what is due, one row at a time, until nothing is due, ``max_rows`` were tried, or a stop.

        Does nothing (``another_till_syncing``) when another till holds the sync lease."""
        with self._busy, self._lease.held() as held:
            if not held:
                return DrainReport(stopped=ANOTHER_TILL_SYNCING, another_till_syncing=True)
            return self._drain(max_rows)

    def run_cycle(self, today: dt.date) -> CycleReport:
        """One sync cycle under the sync lease: recover rows left in flight, drain, pull events, sweep, drain.

        Stops after the first drain when the token was refused; never raises for a network problem. When
        another till holds the lease nothing is done and the report says so (``another_till_syncing``).
        """
        with self._busy, self._lease.held() as held:
            if not held:
                busy = DrainReport(stopped=ANOTHER_TILL_SYNCING, another_till_syncing=True)
                return CycleReport(0, busy, None, None, another_till_syncing=True)
            recovered = self._recover()
            first = self._drain(100)
            if first.authentication_failed or first.another_till_syncing:
                return CycleReport(recovered, first, None, None)
            pull = self._pull(today)
            if pull.authentication_failed or pull.another_till_syncing:
                return CycleReport(recovered, first, pull, None)
            second = self._drain(100)
            report = CycleReport(recovered, first, pull, second)
            if report.ok:
                self._set_state(LAST_SYNC_KEY, self._clock.now().isoformat())
            return report

    def pull_events_once(self, today: dt.date) -> PullReport:
        """Read every page of events since the watermark, apply them, then move the watermark (module doc).

        Does nothing (``another_till_syncing``) when another till holds the sync lease."""
        with self._busy, self._lease.held() as held:
            if not held:
                return PullReport(stopped=ANOTHER_TILL_SYNCING, another_till_syncing=True)
            return self._pull(today)

    # --- the sync lease (``sync/lease.py``) ---------------------------------------------------------------

    def lease_holder(self) -> str | None:
        """Who holds the sync lease now (a holder id), or None when nobody does."""
        return self._lease.current_holder()

    # --- the work, under the lease ------------------------------------------------------------------------

    def _recover(self) -> int:
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

    def _drain(self, max_rows: int) -> DrainReport:
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
            another_till_syncing=lost_lease,
        )

    def _pull(self, today: dt.date) -> PullReport:
        watermark = self._get_state(WATERMARK_KEY)
        since = None if watermark is None else _gc_time(_parse_time(watermark) - EVENT_OVERLAP)
        received: dict[str, dict[str, Any]] = {}
        pages = 0
        cursor: str | None = None
        stopped: str | None = None
        auth_failed = False
        while True:
            if not self._lease.keep():
                return PullReport(pages=pages, stopped=ANOTHER_TILL_SYNCING, another_till_syncing=True)
            if not self._bucket.take(self._clock.now()):
                stopped = "Paused to stay within GoCardless's rate limit; the rest is read shortly."
                break
            try:
                page = self._gateway.list_events(since=since, after=cursor, limit=EVENTS_PAGE_LIMIT)
            except GatewayError as error:
                stopped, auth_failed = self._network_failure(error)
                break
            pages += 1
            for event in page.events:
                event_id = event.get("id") if isinstance(event, Mapping) else None
                if isinstance(event_id, str) and event_id:
                    received.setdefault(event_id, dict(event))
            cursor = page.after
            if cursor is None:
                break
        batch = list(received.values())
        if stopped is None:
            try:
                self._add_linked_payments(batch)
                self._add_linked_billing_requests(batch)
            except GatewayError as error:  # apply nothing without the payments: periods would be guessed
                stopped, auth_failed = self._network_failure(error)
                batch = []
        services = Services(uow=self._uow, clock=self._clock)
        results = sync_events.apply_events(self._uow, batch, today, services) if batch else []
        if not batch:
            with self._uow() as uow:
                results = sync_events.replay_deferred(uow, today, services)
                uow.commit()
        if stopped is None:
            latest = max((t for t in (_event_time(e) for e in batch) if t is not None), default=None)
            if latest is not None and (watermark is None or latest > _parse_time(watermark)):
                watermark = _gc_time(latest)
                self._set_state(WATERMARK_KEY, watermark)
        queued, new_links = self._follow_ups(results)
        outcomes = [r.outcome for r in results]
        return PullReport(
            pages=pages,
            received=len(received),
            applied=outcomes.count(Outcome.APPLIED),
            duplicates=outcomes.count(Outcome.DUPLICATE),
            ignored=outcomes.count(Outcome.IGNORED),
            deferred=outcomes.count(Outcome.DEFERRED),
            subscriptions_queued=queued,
            new_links=len(new_links),
            new_link_memberships=tuple(new_links),
            watermark=watermark,
            stopped=stopped,
            authentication_failed=auth_failed,
        )

    # --- events -------------------------------------------------------------------------------------------

    def _network_failure(self, error: GatewayError) -> tuple[str, bool]:
        """The same taxonomy as a drain: a sentence for the report, and whether the token was refused."""
        log.warning("pulling GoCardless events stopped: %s", error.detail or error)
        if isinstance(error, RateLimited):
            self._bucket.empty_until(self._clock.now() + min(error.retry_after, outbox.BACKOFF_CAP))
        return str(error), isinstance(error, AuthenticationFailed)

    def _add_linked_payments(self, batch: list[dict[str, Any]]) -> None:
        """What ``include=payment`` adds: the payment named by each new event about a payment the till has no
        row for yet (its charge date, or its metadata, places it in the right monthly period), and by each
        retry GoCardless scheduled (its new charge date). One read per payment; events already processed, and
        payments already known, cost nothing."""
        wanted = [
            e
            for e in batch
            if (
                e.get("resource_type") == "payments"
                or (e.get("resource_type") == "subscriptions" and e.get("action") == "payment_created")
            )
            and isinstance((e.get("links") or {}).get("payment"), str)
            and not (e.get("linked") or {}).get("payments")
        ]
        if not wanted:
            return
        with self._uow(read_only=True) as uow:
            s = uow.session
            processed = set(
                s.scalars(
                    select(ProcessedEventRow.event_id).where(
                        ProcessedEventRow.event_id.in_([str(e["id"]) for e in wanted])
                    )
                )
            )
            payment_ids = {e["links"]["payment"] for e in wanted}
            known = set(
                s.scalars(
                    select(MembershipPaymentRow.gc_payment_id).where(
                        MembershipPaymentRow.gc_payment_id.in_(payment_ids)
                    )
                )
            ) | set(  # a payment link's payment needs no period
                s.scalars(
                    select(PaymentLinkRow.gc_payment_id).where(PaymentLinkRow.gc_payment_id.in_(payment_ids))
                )
            )
        fetched: dict[str, dict[str, Any]] = {}
        for event in wanted:
            payment_id = event["links"]["payment"]
            retry = event.get("action") == "resubmission_requested"
            if event["id"] in processed or (payment_id in known and not retry):
                continue
            if payment_id not in fetched:
                fetched[payment_id] = self._gateway.get_payment(payment_id)
            event["linked"] = {**(event.get("linked") or {}), "payments": [fetched[payment_id]]}

    def _add_linked_billing_requests(self, batch: list[dict[str, Any]]) -> None:
        """A fulfilled billing request the till did not make (a purchase through a package's public link) is
        read in full, so applying it knows the package (its payment's metadata) and the buyer's name and email.
        One read per such request; requests of memberships and payment links cost nothing."""
        wanted = [
            e
            for e in batch
            if e.get("resource_type") == "billing_requests"
            and e.get("action") == "fulfilled"
            and isinstance((e.get("links") or {}).get("billing_request"), str)
            and "linked_billing_request" not in e
        ]
        if not wanted:
            return
        ids = {e["links"]["billing_request"] for e in wanted}
        with self._uow(read_only=True) as uow:
            s = uow.session
            processed = set(
                s.scalars(
                    select(ProcessedEventRow.event_id).where(
                        ProcessedEventRow.event_id.in_([str(e["id"]) for e in wanted])
                    )
                )
            )
            ours = set(
                s.scalars(
                    select(MembershipRow.gc_billing_request_id).where(
                        MembershipRow.gc_billing_request_id.in_(ids)
                    )
                )
            ) | set(
                s.scalars(
                    select(PaymentLinkRow.gc_billing_request_id).where(
                        PaymentLinkRow.gc_billing_request_id.in_(ids)
                    )
                )
            )
        for event in wanted:
            br = event["links"]["billing_request"]
            if event["id"] in processed or br in ours:
                continue
            event["linked_billing_request"] = self._gateway.get_billing_request(br)

    @staticmethod
    def _follow_ups(results: list[Applied]) -> tuple[int, list[str]]:
        """(first subscriptions queued, memberships whose client should be offered a new link)."""
        new_links: list[str] = []
        queued: list[str] = []
        for result in results:
            if result.membership_id is None:
                continue
            if result.follow_up is FollowUp.SEND_NEW_LINK and result.membership_id not in new_links:
                new_links.append(result.membership_id)
            elif result.follow_up is FollowUp.CREATE_SUBSCRIPTION and result.membership_id not in queued:
                queued.append(result.membership_id)
        return len(queued), new_links

    def _get_state(self, key: str) -> str | None:
        with self._uow(read_only=True) as uow:
            row = uow.session.get(SyncStateRow, key)
            return None if row is None else row.value

    def _set_state(self, key: str, value: str) -> None:
        with self._uow() as uow:
            uow.session.merge(SyncStateRow(key=key, value=value))
            uow.commit()

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
        failure: Exception | None = None
        try:
            hold = self._cancellation_hold(payload) if kind == "cancel_subscription" else None
            if hold is not None:
                self._record(outbox_id, lambda row, now: outbox.hold_until(row, hold, now))
                return
            if kind == "create_subscription" and record_type == outbox.MEMBERSHIP:
                planned = self._plan_subscription(outbox_id, payload)
                if planned is None:
                    self._record(
                        outbox_id,
                        lambda row, now: outbox.mark_discarded(row, membership_billing.NOTHING_TO_BILL, now),
                    )
                    return
                payload = planned
            result = getattr(self._gateway, kind)(payload, key)
        except (AuthenticationFailed, TransientGatewayError, PermanentGatewayError, ValueError) as error:
            failure = error
        if failure is None:
            self._record(outbox_id, lambda row, now: outbox.mark_done(row, result, now))
            if kind == "create_subscription" and record_type == outbox.MEMBERSHIP:
                self._subscription_sent(outbox_id, result.data.get("start_date"))
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
                self._bucket.empty_until(self._clock.now() + min(failure.retry_after, outbox.BACKOFF_CAP))
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

    def _plan_subscription(self, outbox_id: str, payload: Mapping[str, Any]) -> dict[str, Any] | None:
        """Plan a membership's subscription as it is sent (module doc): the mandate's next possible charge date
        and its payments are read now, then the one-off payments and the start date are written in one
        transaction. Raises the gateway's errors (a transient one retries the row later)."""
        mandate_id = str((payload.get("links") or {}).get("mandate") or "")
        mandate = self._gateway.get_mandate(mandate_id)
        earliest = mandate.get("next_possible_charge_date")
        if not isinstance(earliest, str):
            raise TransientGatewayError(
                "GoCardless has not said yet when this Direct Debit can first be charged; it is tried again "
                "shortly.",
                detail=f"mandate {mandate_id} without next_possible_charge_date",
            )
        payments = self._gateway.list_payments(mandate_id)
        with self._uow() as uow:
            planned = membership_billing.prepare_subscription_in(
                uow.session,
                outbox_id,
                earliest_charge=dt.date.fromisoformat(earliest),
                remote_payments=payments,
                now=self._clock.now(),
            )
            uow.commit()
        return planned

    def _subscription_sent(self, outbox_id: str, start_date: Any) -> None:
        """A replayed create may return a subscription made by an earlier attempt that starts sooner: the
        one-off payments it now collects itself are withdrawn."""
        started = dt.date.fromisoformat(start_date) if isinstance(start_date, str) else None
        with self._uow() as uow:
            withdrawn = membership_billing.subscription_sent_in(uow.session, outbox_id, start_date=started)
            uow.commit()
        if withdrawn:
            log.info(
                "outbox %s: %d one-off payments withdrawn, the subscription collects them",
                outbox_id,
                withdrawn,
            )

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


def _parse_time(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def _event_time(event: Mapping[str, Any]) -> dt.datetime | None:
    value = event.get("created_at")
    if not isinstance(value, str):
        return None
    try:
        return _parse_time(value)
    except ValueError:
        return None


def _gc_time(value: dt.datetime) -> str:
    """GoCardless's timestamp format: UTC, milliseconds, ``Z``."""
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _back_to_pending(row: OutboxRow, error: Exception, now: dt.datetime) -> None:
    """Not sent for a reason of ours (the token): pending, due as soon as a new token is entered."""
    row.status = "pending"
    row.next_attempt_at = None
    row.last_error = outbox.staff_sentence(error)
    row.updated_at = now


__all__ = [
    "ANOTHER_TILL_SYNCING",
    "CycleReport",
    "DrainReport",
    "PullReport",
    "SyncEngine",
    "TokenBucket",
]
