"""Reading GoCardless's events and applying them (DESIGN.md §5).

The watermark is the latest ``created_at`` applied (``sync_state`` key ``events_watermark``). A pull asks for
events created after the watermark minus ``EVENT_OVERLAP`` (GoCardless's ``created_at[gt]`` would skip an event
created in the same millisecond as the last one seen; the overlap is re-read and ``processed_events`` makes it a
no-op), reads every page, dedupes by id, reads the related resources an event needs in a batch (below) and
applies the events through the inbox (``sync/inbox.py``: each becomes a domain message for the message bus).
Only when every page was read and every event applied does the watermark move, to the latest ``created_at``
seen; a pull stopped by a network error applies what it read and leaves the watermark where it was. An unfinished
set-up or a lost mandate is counted as a new link to offer (the first subscription was queued with the event that
set up the mandate).

Related resources: the payment of each event about a payment the till has no row for yet (what
``include=payment`` would add: its charge date, or its metadata, places it in the right monthly period), and the
billing request of a purchase on the booking portal (its package and buyer). Events already processed, and
resources already known, cost nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aestheticc_pos.clock import Clock
from aestheticc_pos.domain.messages import FollowUp
from aestheticc_pos.store.tables import (
    MembershipPaymentRow,
    MembershipRow,
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


@dataclass(frozen=True, slots=True)
class PullReport:
    """What one pull of ``GET /events`` did.

    ``received``: distinct events read; ``applied`` / ``duplicates`` / ``ignored`` / ``deferred``: their
    outcomes (``applied`` includes deferred events applied now); ``subscriptions_queued``: first subscriptions
    queued because a mandate was set up; ``new_links``: memberships whose client should be offered a new Direct
    Debit link (their ids in ``new_link_memberships``); ``watermark``: the stored watermark after the pull;
    ``stopped``: why the pull ended early (a sentence; the watermark did not move), or None.
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
        received: dict[str, dict[str, Any]] = {}
        pages = 0
        cursor: str | None = None
        stopped: str | None = None
        auth_failed = False
        while True:
            if not self._lease.keep():
                return PullReport(pages=pages, stopped=ANOTHER_TILL_SYNCING, another_till_syncing=True)
            if not self._rate.take(self._clock.now()):
                stopped = RATE_PAUSE
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
        results = inbox.apply_events(self._uow, batch, today, self._bus) if batch else []
        if not batch:
            with self._uow() as uow:
                results = inbox.replay_deferred(uow, today, self._bus)
                uow.commit()
        if stopped is None:
            latest = max((t for t in (_event_time(e) for e in batch) if t is not None), default=None)
            if latest is not None and (watermark is None or latest > _parse_time(watermark)):
                watermark = _gc_time(latest)
                write_state(self._uow, WATERMARK_KEY, watermark)
        queued, new_links = _follow_ups(results)
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

    def _network_failure(self, error: GatewayError) -> tuple[str, bool]:
        """The same taxonomy as a drain: a sentence for the report, and whether the token was refused."""
        log.warning("pulling GoCardless events stopped: %s", error.detail or error)
        if isinstance(error, RateLimited):
            self._rate.empty_until(self._clock.now() + min(error.retry_after, outbox.BACKOFF_CAP))
        return str(error), isinstance(error, AuthenticationFailed)

    def _add_linked_payments(self, batch: list[dict[str, Any]]) -> None:
        """What ``include=payment`` adds: the payment named by each new event about a payment the till has no
        row for yet, and by each retry GoCardless scheduled (its new charge date). One read per payment."""
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
            processed = _processed(s, wanted)
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
