"""Reading GoCardless's events and applying them (DESIGN.md §5).

The watermark is the latest ``created_at`` applied (``sync_state`` key ``events_watermark``). A pull asks for
events created after the watermark minus ``EVENT_OVERLAP`` (GoCardless's ``created_at[gt]`` would skip an event
created in the same millisecond as the last one seen; the overlap is re-read in the same pages and
``processed_events`` makes it a no-op), reads every page, dedupes by id and applies the events through the inbox
(``sync/inbox.py``: each becomes a domain message for the message bus), up to a page's worth (500) in one
transaction. Only when every page was read and every event applied does the watermark move, to the latest
``created_at`` seen; a pull stopped by a network error applies what it read (except events whose payment it
could not read) and leaves the watermark where it was. An unfinished set-up or a lost mandate is counted as a
new link to offer (the first subscription was queued with the event that set up the mandate).

**Related resources come with the events, never one request each.** ``include`` works on one resource type's
events, so the related resources come from streams per resource type (``STREAMS``), in pages of 500: the payments
stream asks ``include=payment`` and the billing requests stream ``include=billing_request``, so each page brings
the payments its events are about (a payment's charge date, or its metadata, places it in the right monthly
period; a retry's new charge date) and the billing requests (a portal purchase's package and buyer). A pull
first reads one page of every kind of event: when nothing happened that is all (an idle till asks once a
cycle); when what happened fits in it, only the streams whose includes those events need are read; otherwise
every stream is. A subscription's ``payment_created`` uses the payment its ``payments created`` twin brought;
only a payment no page brought, that the till has no row for, is read on its own (``PullReport.reads``). N
events cost about N / 500 pages, plus one page per stream.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aestheticc_pos.clock import Clock
from aestheticc_pos.domain.messages import FollowUp
from aestheticc_pos.store.tables import (
    MembershipPaymentRow,
    PaymentLinkRow,
    ProcessedEventRow,
    SyncStateRow,
)
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory
from aestheticc_pos.sync import inbox, outbox
from aestheticc_pos.sync.bus import MessageBus
from aestheticc_pos.sync.gateway import AuthenticationFailed, GatewayError, PaymentGateway, RateLimited
from aestheticc_pos.sync.inbox import Applied, Outcome
from aestheticc_pos.sync.lease import ANOTHER_TILL_SYNCING, SyncLease
from aestheticc_pos.sync.rate_limit import RateLimit

log = logging.getLogger(__name__)

WATERMARK_KEY = "events_watermark"
EVENT_OVERLAP = dt.timedelta(seconds=1)  # re-read this much before the watermark (equal timestamps)
EVENTS_PAGE_LIMIT = 500  # GoCardless's maximum page size
RATE_PAUSE = "Paused to stay within GoCardless's rate limit; the rest is read shortly."
# The resource types whose events the till applies, and what each stream has linked to its pages. Payments come
# before subscriptions, so a pull stopped half-way has the payments of the payment_created events it read.
STREAMS: tuple[tuple[str, str | None], ...] = (
    ("billing_requests", "billing_request"),
    ("mandates", None),
    ("payments", "payment"),
    ("subscriptions", None),
    ("refunds", None),
)
_ABOUT_A_PAYMENT = ("payments", "subscriptions")  # events whose ``links.payment`` is read with them


@dataclass(frozen=True, slots=True)
class PullReport:
    """What one pull of ``GET /events`` did.

    ``pages``: pages of events read; ``reads``: other requests (payments no page brought); ``received``:
    distinct events read; ``applied`` / ``duplicates`` / ``ignored`` / ``deferred``: their outcomes
    (``applied`` includes deferred events applied now); ``subscriptions_queued``: first subscriptions queued
    because a mandate was set up; ``new_links``: memberships whose client should be offered a new Direct Debit
    link (their ids in ``new_link_memberships``); ``watermark``: the stored watermark after the pull;
    ``stopped``: why the pull ended early (a sentence; the watermark did not move), or None.
    """

    pages: int = 0
    reads: int = 0
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


class Pull:
    """Reads and applies the events since the watermark (module doc). The engine calls it under the sync lease,
    one call at a time."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gateway: PaymentGateway,
        clock: Clock,
        bus: MessageBus,
        *,
        lease: SyncLease,
        rate: RateLimit,
    ) -> None:
        self._uow = uow_factory
        self._gateway = gateway
        self._clock = clock
        self._bus = bus
        self._lease = lease
        self._rate = rate

    def run(self, today: dt.date) -> PullReport:
        """Read every page since the watermark, apply the events, then move the watermark."""
        watermark = read_state(self._uow, WATERMARK_KEY)
        since = None if watermark is None else _gc_time(_parse_time(watermark) - EVENT_OVERLAP)
        read = _Read()
        for resource_type, include in self._streams(read, since):
            if not self._read_stream(read, since, resource_type, include):
                break
        if read.another_till:
            return PullReport(pages=read.pages, stopped=ANOTHER_TILL_SYNCING, another_till_syncing=True)
        batch = list(read.events.values())
        missing = _link_related(batch, read)
        reads = 0
        if read.stopped is None:
            try:
                reads = self._read_missing_payments(missing)
            except GatewayError as error:
                read.stopped, read.auth_failed = self._network_failure(error)
        if read.stopped is not None:  # without its payment an event's period would be guessed: read it again
            unlinked = {e["id"] for e in missing if not (e.get("linked") or {}).get("payments")}
            batch = [e for e in batch if e["id"] not in unlinked]
        results = inbox.apply_events(self._uow, batch, today, self._bus, per_transaction=EVENTS_PAGE_LIMIT)
        if read.stopped is None:
            latest = max((t for t in (_event_time(e) for e in batch) if t is not None), default=None)
            if latest is not None and (watermark is None or latest > _parse_time(watermark)):
                watermark = _gc_time(latest)
                write_state(self._uow, WATERMARK_KEY, watermark)
        queued, new_links = _follow_ups(results)
        outcomes = [r.outcome for r in results]
        return PullReport(
            pages=read.pages,
            reads=reads,
            received=len(read.events),
            applied=outcomes.count(Outcome.APPLIED),
            duplicates=outcomes.count(Outcome.DUPLICATE),
            ignored=outcomes.count(Outcome.IGNORED),
            deferred=outcomes.count(Outcome.DEFERRED),
            subscriptions_queued=queued,
            new_links=len(new_links),
            new_link_memberships=tuple(new_links),
            watermark=watermark,
            stopped=read.stopped,
            authentication_failed=read.auth_failed,
        )

    def _streams(self, read: _Read, since: str | None) -> tuple[tuple[str, str | None], ...]:
        """The streams still to read after one page of every kind of event (``read`` gets it): none when nothing
        new happened (an idle till asks once; events re-read in the overlap were applied already), the ones whose
        includes the new events need when they fit in that page, else every stream."""
        probe = _Read()
        if not self._read_page(probe, since, None, None, None):
            read.pages, read.stopped, read.auth_failed = probe.pages, probe.stopped, probe.auth_failed
            read.another_till = probe.another_till
            return ()
        read.pages = probe.pages
        used = dict(STREAMS)
        read.add([e for e in probe.events.values() if e.get("resource_type") in used], {})
        if probe.after is not None:  # more than a page: every stream, from its start
            return STREAMS
        events = list(read.events.values())
        if events:  # the overlap re-read before the watermark needs nothing more: only new events count
            with self._uow(read_only=True) as uow:
                done = _processed(uow.session, events)
            events = [e for e in events if e["id"] not in done]
        wanted = set()
        if any(e.get("resource_type") in _ABOUT_A_PAYMENT and _payment_of(e) for e in events):
            wanted.add("payments")
        if any(
            e.get("resource_type") == "billing_requests" and e.get("action") == "fulfilled" for e in events
        ):
            wanted.add("billing_requests")
        return tuple((t, include) for t, include in STREAMS if t in wanted)

    def _read_stream(self, read: _Read, since: str | None, resource_type: str, include: str | None) -> bool:
        """Every page of one resource type's events into ``read``; False when the pull must stop."""
        cursor: str | None = None
        while True:
            if not self._read_page(read, since, cursor, resource_type, include):
                return False
            cursor = read.after
            if cursor is None:
                return True

    def _read_page(
        self,
        read: _Read,
        since: str | None,
        cursor: str | None,
        resource_type: str | None,
        include: str | None,
    ) -> bool:
        """One page into ``read`` (its cursor in ``read.after``); False when the pull must stop."""
        if not self._lease.keep():
            read.another_till = True
            return False
        if not self._rate.take():
            read.stopped = RATE_PAUSE
            return False
        try:
            page = self._gateway.list_events(
                since=since,
                after=cursor,
                limit=EVENTS_PAGE_LIMIT,
                resource_type=resource_type,
                include=include,
            )
        except GatewayError as error:
            read.stopped, read.auth_failed = self._network_failure(error)
            return False
        read.pages += 1
        read.add(page.events, page.linked)
        read.after = page.after
        return True

    def _network_failure(self, error: GatewayError) -> tuple[str, bool]:
        """The same taxonomy as a drain: a sentence for the report, and whether the token was refused."""
        log.warning("pulling GoCardless events stopped: %s", error.detail or error)
        if isinstance(error, RateLimited):
            self._rate.wait(min(error.retry_after, outbox.BACKOFF_CAP))
        return str(error), isinstance(error, AuthenticationFailed)

    def _read_missing_payments(self, wanted: list[dict[str, Any]]) -> int:
        """Read the payment of each new event that no page brought and the till has no row for (one request per
        payment: the rare event whose ``payments created`` twin is older than the watermark). Returns how many."""
        if not wanted:
            return 0
        with self._uow(read_only=True) as uow:
            s = uow.session
            processed = _processed(s, wanted)
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
            if event["id"] in processed or payment_id in known:
                continue
            if payment_id not in fetched:
                fetched[payment_id] = self._gateway.get_payment(payment_id)
            event["linked"] = {**(event.get("linked") or {}), "payments": [fetched[payment_id]]}
        return len(fetched)


@dataclass
class _Read:
    """What the pages of one pull brought: events by id, linked resources by plural and id, why it stopped."""

    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    linked: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    pages: int = 0
    after: str | None = None  # the cursor of the page after the last one read
    stopped: str | None = None
    auth_failed: bool = False
    another_till: bool = False

    def add(self, events: list[dict[str, Any]], linked: Mapping[str, list[dict[str, Any]]]) -> None:
        for event in events:
            event_id = event.get("id") if isinstance(event, Mapping) else None
            if isinstance(event_id, str) and event_id:
                self.events.setdefault(event_id, dict(event))
        for kind, records in linked.items():
            by_id = self.linked.setdefault(kind, {})
            for record in records:
                if isinstance(record, Mapping) and isinstance(record.get("id"), str):
                    by_id[record["id"]] = dict(record)


def _payment_of(event: Mapping[str, Any]) -> str | None:
    links = event.get("links")
    payment = links.get("payment") if isinstance(links, Mapping) else None
    return payment if isinstance(payment, str) else None


def _link_related(batch: list[dict[str, Any]], read: _Read) -> list[dict[str, Any]]:
    """Put beside each event what the pages brought for it: ``linked`` payments (as ``include=payment`` gives
    them) and, for a fulfilled billing request, ``linked_billing_request``. Returns the events about a payment
    no page brought."""
    payments = read.linked.get("payments", {})
    requests = read.linked.get("billing_requests", {})
    missing: list[dict[str, Any]] = []
    for event in batch:
        links = event.get("links") if isinstance(event.get("links"), Mapping) else {}
        payment_id = links.get("payment")
        if isinstance(payment_id, str) and event.get("resource_type") in _ABOUT_A_PAYMENT:
            if payment_id in payments:
                event["linked"] = {**(event.get("linked") or {}), "payments": [payments[payment_id]]}
            elif not (event.get("linked") or {}).get("payments"):
                missing.append(event)
        request_id = links.get("billing_request")
        if (
            event.get("resource_type") == "billing_requests"
            and event.get("action") == "fulfilled"
            and request_id in requests
        ):
            event.setdefault("linked_billing_request", requests[request_id])
    return missing


def read_state(uow_factory: UnitOfWorkFactory, key: str) -> str | None:
    """One of the sync's own facts kept in ``sync_state`` (None: never written)."""
    with uow_factory(read_only=True) as uow:
        row = uow.session.get(SyncStateRow, key)
        return None if row is None else row.value


def write_state(uow_factory: UnitOfWorkFactory, key: str, value: str) -> None:
    with uow_factory() as uow:
        uow.session.merge(SyncStateRow(key=key, value=value))
        uow.commit()


def _processed(s: Session, events: list[dict[str, Any]]) -> set[str]:
    """The ids of ``events`` already applied."""
    return set(
        s.scalars(
            select(ProcessedEventRow.event_id).where(
                ProcessedEventRow.event_id.in_([str(e["id"]) for e in events])
            )
        )
    )


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
