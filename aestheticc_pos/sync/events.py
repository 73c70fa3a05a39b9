"""Apply GoCardless events to local state, through the domain (DESIGN.md §5, NOTES.md §6).

``apply_event(uow, event, today)`` applies ONE event (a plain dict as ``GET /events`` returns it) inside the
caller's unit of work; the caller commits. ``apply_events(uow_factory, events, today)`` applies a batch, each in
its own transaction (retried on a write conflict), sorted by ``created_at`` then ``id``.

Rules:

- **Once only.** Every event id is written to ``processed_events`` in the same transaction as its effect; a
  second apply of the same id is a no-op returning ``Outcome.DUPLICATE``.
- **Never raises for what GoCardless sends.** Unknown resource types and actions, events without the links
  or details we need, and events the domain refuses (``DomainError``) are recorded and returned as
  ``Outcome.IGNORED`` with a note. Database errors do propagate: the caller's transaction is then rolled back
  and the event is not recorded, so it is applied on the next pull.
- **Finding the membership.** billing_requests → ``memberships.gc_billing_request_id``; mandates →
  ``gc_mandate_id``; subscriptions → ``gc_subscription_id``; payments → ``membership_payments.gc_payment_id``,
  or, for a payment we have no row for yet, ``links.subscription``. Failing those, the event's
  ``resource_metadata.membership_id`` (the app writes it on every resource it creates).
- **Out of order: deferred events.** An event about a billing request, mandate, subscription or payment we
  cannot place yet (``mandates active`` before ``billing_requests fulfilled`` told us the mandate id; ``payments
  confirmed`` before ``subscriptions payment_created`` made the payment row) is recorded as processed and kept
  in ``sync_state`` (key ``parked:<event id>``, the event as JSON), returning ``Outcome.DEFERRED``. It is applied
  as soon as an event tells us that id (the result lists it in ``replayed``), or by ``replay_deferred`` (the
  engine calls it after draining the outbox, which also records ids). Deferred events never placed are dropped
  after ``DEFER_DAYS`` (events about resources that are not a membership's, such as one-off payments).
- **Which day.** A failure or chargeback counts from the event's own day (``created_at``): arrears run from
  then. A confirmation is judged against ``today`` (the day the event is applied): the membership is back in
  good standing only if the payment covers today. Both rules make the result independent of the order in which
  events about *different* resources arrive. Events about the *same* payment must be applied in ``created_at``
  order (a confirmation then a late failure differs from a failure then a successful retry);
  ``apply_events`` sorts them.
- **Payment periods.** A one-off membership payment (the first month with the Direct Debit set-up, or a month
  between two subscriptions) names its period in its metadata (``period_start``). A subscription payment pays
  the monthly period holding its charge date. Both come from ``event["linked"]["payments"]`` (the engine adds
  the payment, as ``include=payment`` would); without it, a subscription payment pays the period after the
  newest one recorded for the membership (GoCardless creates a subscription's payments in order), at the tier's
  price. ``paid_through`` moves over the unbroken run of collected periods (``domain/billing.py``).
- **The first subscription** is queued in the same transaction as the ``billing_requests fulfilled`` event that
  made the mandate known (``membership_billing.queue_first_subscription_in``; its dates are planned when it is
  sent), so no crash can lose it; the result says so with ``FollowUp.CREATE_SUBSCRIPTION``. A set-up that was
  not finished, or a lost mandate, returns ``FollowUp.SEND_NEW_LINK`` (staff offer a new link).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from aestheticc_pos.domain import billing
from aestheticc_pos.domain import memberships as ms
from aestheticc_pos.domain.errors import DomainError
from aestheticc_pos.domain.memberships import Membership
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.packages import format_date
from aestheticc_pos.services import deposits, payment_links, portal
from aestheticc_pos.services import membership_billing as billing_service
from aestheticc_pos.services.clock import SystemClock
from aestheticc_pos.services.context import Services
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.tables import (
    ClientRow,
    DepositRow,
    MembershipPaymentRow,
    MembershipRow,
    PaymentLinkRow,
    ProcessedEventRow,
    SyncStateRow,
    new_id,
)
from aestheticc_pos.store.unit_of_work import UnitOfWork, run_in_transaction

DEFER_DAYS = 35  # how long an event we cannot place yet is kept
PARKED_PREFIX = "parked:"

LOST_MANDATE_ACTIONS = frozenset(ms.LOST_MANDATE_STATUSES)
UNFINISHED_SET_UP_ACTIONS = frozenset({"cancelled", "failed", "bank_authorisation_denied", "flow_exited"})
REVERSAL_ACTIONS = frozenset({"charged_back", "late_failure_settled", "chargeback_settled"})
# Payment actions that change a membership: an event with one of these about an unknown payment is deferred.
PAYMENT_STATUS_ACTIONS = frozenset(
    {"confirmed", "failed", "resubmission_requested", "chargeback_cancelled", "cancelled"}
    | {"customer_approval_denied"}
    | REVERSAL_ACTIONS
)


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # already processed: nothing done
    IGNORED = "ignored"  # recorded as processed; nothing to do (unknown, not ours, or refused by the domain)
    DEFERRED = "deferred"  # recorded as processed; kept until the record it is about is known


class FollowUp(enum.StrEnum):
    """Work the engine (or a service) should do after this event."""

    CREATE_SUBSCRIPTION = "create_subscription"  # the mandate is set up: the first subscription was queued
    SEND_NEW_LINK = "send_new_link"  # set-up not finished or mandate lost: offer the client a new link


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying one event did. ``replayed`` holds deferred events this one let us apply."""

    event_id: str
    outcome: Outcome
    membership_id: str | None = None
    note: str | None = None
    follow_up: FollowUp | None = None
    replayed: tuple[Applied, ...] = ()


# --- Entry points ---------------------------------------------------------------------------------------------


def apply_event(
    uow: UnitOfWork, event: Mapping[str, Any], today: dt.date, services: Services | None = None
) -> Applied:
    """Apply one GoCardless event in the caller's unit of work (the caller commits). Never raises for the
    event's content; see the module docstring. ``services`` gives the clock and ids that payment links use
    (a confirmed link payment writes a sale); the engine passes its own."""
    ctx = _Ctx(uow, services or _services_of(uow))
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
    result, known = _apply(ctx, event, today)
    _log(s, result)
    if result.outcome is Outcome.APPLIED and known:
        result = replace(result, replayed=_replay(ctx, known, today))
    return result


def _log(s: Session, result: Applied) -> None:
    """Keep what the event did beside its id (the Sync screen's log of recent events)."""
    row = s.get(ProcessedEventRow, result.event_id)
    if row is not None:
        row.outcome = str(result.outcome)
        row.membership_id = result.membership_id
        row.note = result.note


def apply_events(
    uow_factory: Callable[[], UnitOfWork],
    events: list[dict[str, Any]],
    today: dt.date,
    services: Services | None = None,
) -> list[Applied]:
    """Apply ``events`` one transaction each, in ``created_at`` then ``id`` order; duplicates are skipped.

    Returns one result per event, then one for each deferred event applied along the way (flattened from
    ``Applied.replayed``), including those ``replay_deferred`` could apply at the end of the batch.
    """
    results: list[Applied] = []
    for event in sorted(events, key=_order):
        applied = run_in_transaction(
            uow_factory, partial(_apply_one, event=event, today=today, services=services)
        )
        results.append(replace(applied, replayed=()))
        results.extend(_flatten(applied.replayed))
    for applied in run_in_transaction(uow_factory, lambda uow: replay_deferred(uow, today, services)):
        results.append(replace(applied, replayed=()))
        results.extend(_flatten(applied.replayed))
    return results


def _apply_one(
    uow: UnitOfWork, *, event: Mapping[str, Any], today: dt.date, services: Services | None
) -> Applied:
    return apply_event(uow, event, today, services)


def replay_deferred(uow: UnitOfWork, today: dt.date, services: Services | None = None) -> list[Applied]:
    """Try every deferred event again (the outbox drain may have recorded the id it was waiting for), and drop
    those older than ``DEFER_DAYS``. Returns the ones applied now. The caller commits."""
    ctx = _Ctx(uow, services or _services_of(uow))
    s = uow.session
    applied: list[Applied] = []
    for row, parked in _parked(s):
        if s.get(SyncStateRow, row.key) is None:  # applied already, as a replay of an earlier one
            continue
        s.delete(row)
        if _event_day(parked["event"], today) < today - dt.timedelta(days=DEFER_DAYS):
            continue
        s.flush()
        result, known = _apply(ctx, parked["event"], today)
        _log(s, result)
        if result.outcome is Outcome.APPLIED:
            applied.append(replace(result, replayed=_replay(ctx, known, today) if known else ()))
    return applied


# --- Dispatch -------------------------------------------------------------------------------------------------


class _Defer(Exception):
    """The event is about ``key`` (a GoCardless id) that no membership knows yet."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True, slots=True)
class _Ctx:
    """What applying events needs beyond the session: the unit of work (sale numbers) and the services."""

    uow: UnitOfWork
    services: Services


def _services_of(uow: UnitOfWork) -> Services:
    return Services(uow=lambda **_: uow, clock=SystemClock())  # type: ignore[arg-type,return-value]


@dataclass(frozen=True, slots=True)
class _Event:
    s: Session
    ctx: _Ctx
    raw: Mapping[str, Any]
    today: dt.date
    links: Mapping[str, Any]
    details: Mapping[str, Any]

    @property
    def id(self) -> str:
        return str(self.raw["id"])

    @property
    def action(self) -> str:
        return str(self.raw.get("action") or "")

    @property
    def day(self) -> dt.date:
        return _event_day(self.raw, self.today)

    def link(self, name: str) -> str | None:
        value = self.links.get(name)
        return value if isinstance(value, str) and value else None

    def result(
        self,
        m: Membership | None,
        note: str | None = None,
        outcome: Outcome = Outcome.APPLIED,
        follow_up: FollowUp | None = None,
    ) -> Applied:
        return Applied(self.id, outcome, None if m is None else m.id, note, follow_up)

    def ignored(self, note: str, m: Membership | None = None) -> Applied:
        return self.result(m, note, Outcome.IGNORED)


# A handler returns the result and the GoCardless ids this event made known (deferred events may wait on them).
_Handled = tuple[Applied, tuple[str, ...]]


def _apply(ctx: _Ctx, raw: Mapping[str, Any], today: dt.date) -> _Handled:
    s = ctx.uow.session
    links = raw.get("links")
    details = raw.get("details")
    e = _Event(
        s,
        ctx,
        raw,
        today,
        links if isinstance(links, Mapping) else {},
        details if isinstance(details, Mapping) else {},
    )
    handler = _HANDLERS.get(str(raw.get("resource_type") or ""))
    if handler is None:
        return e.ignored(f"Events about {raw.get('resource_type') or 'unknown resources'} are not used."), ()
    try:
        with s.begin_nested():  # a refused event leaves nothing half-written
            return handler(e)
    except _Defer as deferred:
        _park(s, raw, deferred.key)
        note = f"Kept until {deferred.key} is known (events arrived out of order)."
        return e.result(None, note, Outcome.DEFERRED), ()
    except DomainError as refused:
        return e.ignored(f"Not applied: {refused}"), ()


def _billing_request(e: _Event) -> _Handled:
    br = e.link("billing_request")
    if br is None:
        return e.ignored("The event names no billing request."), ()
    link = payment_links.link_by_billing_request(e.s, br)
    if link is not None:
        return _link_request(e, br, link)
    if e.action == "fulfilled":
        bought = _portal_purchase(e, br)
        if bought is not None:
            return bought
        m = _membership(e, MembershipRow.gc_billing_request_id, br, defer=True)
        assert m is not None
        mandate = e.link("mandate_request_mandate")
        if mandate is None:
            return e.ignored("The fulfilled billing request names no mandate.", m), ()
        customer = e.link("customer")
        if m.mandate_id == mandate:  # already known (e.g. from the mandate's own events): keep its status
            changed = replace(m, customer_id=m.customer_id or customer)
        else:
            changed = ms.mandate_set_up(m, mandate, customer_id=customer)
        _save(e, changed)
        known: tuple[str, ...] = (mandate,)
        first_payment = e.link("payment_request_payment")
        if first_payment is not None:  # the first month, paid as the client authorised (or by fallback)
            billing_service.record_first_payment_in(e.s, changed, first_payment)
            known = (mandate, first_payment)
        queued = billing_service.queue_first_subscription_in(e.s, changed.id, e.today)
        follow_up = FollowUp.CREATE_SUBSCRIPTION if queued is not None else None
        note = "The Direct Debit is set up" + (
            ": the monthly collection is queued." if queued is not None else "."
        )
        return e.result(changed, note, follow_up=follow_up), known
    if e.action in UNFINISHED_SET_UP_ACTIONS:
        m = _membership(e, MembershipRow.gc_billing_request_id, br)
        if m is None:
            return e.ignored("No membership uses that billing request."), ()
        e.s.execute(  # that link no longer works: stop showing it
            update(MembershipRow)
            .where(MembershipRow.id == m.id, MembershipRow.gc_billing_request_id == br)
            .values(gc_authorisation_url=None)
        )
        note = "The Direct Debit set-up was not finished: offer the client a new link."
        return e.result(m, note, follow_up=FollowUp.SEND_NEW_LINK), ()
    return e.ignored(f"Billing request action “{e.action}” changes nothing here."), ()


def _mandate(e: _Event) -> _Handled:
    mandate = e.link("mandate")
    if mandate is None:
        return e.ignored("The event names no mandate."), ()
    if e.action in ("active", "reinstated"):
        m = _membership(e, MembershipRow.gc_mandate_id, mandate, defer=True)
        assert m is not None
        changed = ms.mandate_activated(m, mandate)
        _save(e, changed)
        return e.result(changed, "The Direct Debit is in good standing."), ()
    if e.action in LOST_MANDATE_ACTIONS:
        m = _membership(e, MembershipRow.gc_mandate_id, mandate, defer=True)
        assert m is not None
        changed = ms.mandate_lost(m, e.day, mandate_id=mandate, mandate_status=e.action)
        _save(e, changed)
        note = f"The Direct Debit was {e.action}: nothing more will be collected. Send the client a new link."
        return e.result(changed, note, follow_up=FollowUp.SEND_NEW_LINK), ()
    if e.action == "replaced":
        new_mandate = e.link("new_mandate")
        m = _membership(e, MembershipRow.gc_mandate_id, mandate, defer=True)
        assert m is not None
        if new_mandate is None:
            return e.ignored("The replaced mandate names no new mandate.", m), ()
        changed = replace(m, mandate_id=new_mandate)
        _save(e, changed)
        return e.result(changed, "The bank moved the Direct Debit to a new mandate."), (new_mandate,)
    return e.ignored(f"Mandate action “{e.action}” changes nothing here."), ()


def _subscription(e: _Event) -> _Handled:
    subscription = e.link("subscription")
    if subscription is None:
        return e.ignored("The event names no subscription."), ()
    if e.action == "created":
        m = _membership(e, MembershipRow.gc_subscription_id, subscription, defer=True)
        assert m is not None
        changed = m if m.subscription_id == subscription else ms.subscription_created(m, subscription)
        _save(e, changed)
        return e.result(changed, "The monthly subscription was created."), (subscription,)
    if e.action == "payment_created":
        payment = e.link("payment")
        if payment is None:
            return e.ignored("The event names no payment."), ()
        m = _membership(e, MembershipRow.gc_subscription_id, subscription, defer=True)
        assert m is not None
        _payment_row(e, m, payment)
        return e.result(m, "A monthly payment is due."), (payment,)
    if e.action in ("cancelled", "finished", "customer_approval_denied"):
        m = _membership(e, MembershipRow.gc_subscription_id, subscription)
        if m is None:
            return e.ignored("No membership uses that subscription."), ()
        changed = ms.subscription_stopped(m, subscription)
        _save(e, changed)
        return e.result(changed, f"The subscription {_word(e.action)}: membership billing has stopped."), ()
    return e.ignored(f"Subscription action “{e.action}” changes nothing here."), ()


def _payment(e: _Event) -> _Handled:
    payment = e.link("payment")
    if payment is None:
        return e.ignored("The event names no payment."), ()
    link = payment_links.link_by_payment(e.s, payment)
    if link is not None:
        return _link_payment(e, payment, link)
    row = _find_payment(e.s, payment)
    known: tuple[str, ...] = ()
    if row is None:
        if e.action != "created" and e.action not in PAYMENT_STATUS_ACTIONS:
            return e.ignored(f"Payment action “{e.action}” changes nothing here."), ()
        subscription = e.link("subscription")
        m = None
        if subscription is not None:
            m = _membership(e, MembershipRow.gc_subscription_id, subscription)
        if m is None:
            m = _membership_of_payment(e, payment)
        if m is None:
            if e.action == "created":  # a subscription's payment_created event will place it
                return e.ignored("No membership is known for that payment yet."), ()
            raise _Defer(payment)
        row = _payment_row(e, m, payment)
        known = (payment,)
    m = _load(e.s, row.membership_id)
    if e.action == "created":
        return e.result(m, "A monthly payment is due."), known
    if e.action not in PAYMENT_STATUS_ACTIONS:  # submitted, paid_out, customer_approval_granted…
        return e.ignored(f"Payment action “{e.action}” changes nothing here.", m), known
    if e.action == "confirmed" or e.action == "chargeback_cancelled":
        row.status = "confirmed"
        e.s.flush()
        paid_through = billing_service.collected_through(e.s, m)
        changed = ms.payment_confirmed(
            m, paid_through, e.today, payment_id=payment, period_start=row.period_start
        )
        note = (
            "Payment collected." if e.action == "confirmed" else "The chargeback was cancelled: paid again."
        )
    elif e.action == "failed":
        will_retry = e.details.get("will_attempt_retry") is True
        changed = m
        if row.status == "confirmed":  # a late failure takes back a period already marked paid
            changed = ms.payment_charged_back(changed, row.period_start, e.day)
        changed = ms.payment_failed(changed, e.day, will_retry, payment if will_retry else None)
        row.status = "failed"
        note = "The payment failed" + (": GoCardless will retry it." if will_retry else ".")
    elif e.action == "resubmission_requested":
        # A retry follows a failure (whichever of the two events arrives first): still owed, with a new date.
        new_date = _date(_linked_payment(e.raw, payment).get("charge_date"))
        row.charge_date = new_date or row.charge_date
        changed = ms.payment_failed(m, e.day, True, payment)
        when = f" on {format_date(new_date)}" if new_date else ""
        note = f"GoCardless will retry the failed payment{when}; the member stays past due until it is collected."
    elif e.action in REVERSAL_ACTIONS:
        changed = ms.payment_charged_back(m, row.period_start, e.day)
        row.status = "charged_back"
        note = "A payment was reversed: the membership is in arrears."
    else:  # cancelled, customer_approval_denied
        changed = m
        if m.pending_retry_payment_id == payment:
            changed = replace(m, pending_retry_payment_id=None)
        row.status = "cancelled"
        note = "The payment was cancelled: that period was not collected."
    _save(e, changed)
    return e.result(changed, note), known


# --- Payment links, portal purchases, deposit refunds ----------------------------------------------------------


def _link_request(e: _Event, br: str, link: PaymentLinkRow) -> _Handled:
    ctx = e.ctx
    if e.action == "fulfilled":
        payment = e.link("payment_request_payment")
        payment_links.link_authorised_in(
            ctx.uow, ctx.services, billing_request_id=br, payment_id=payment, customer_id=e.link("customer")
        )
        note = (
            f"{_payer(e, link)} approved “{link.description}” by bank; waiting for GoCardless to confirm it."
        )
        return e.result(None, note), (payment,) if payment else ()
    if e.action == "cancelled":
        lapsed = e.details.get("origin") == "gocardless"
        payment_links.link_closed_in(
            ctx.uow, ctx.services, billing_request_id=br, status="expired" if lapsed else "cancelled"
        )
        words = "expired unused" if lapsed else "was cancelled"
        note = f"{_payer(e, link)}'s payment link for “{link.description}” {words}: it can be sent again."
        return e.result(None, note), ()
    return e.ignored(f"Billing request action “{e.action}” changes nothing here."), ()


def _portal_purchase(e: _Event, br: str) -> _Handled | None:
    """A billing request made from a package's public link (the engine attached it as
    ``linked_billing_request``): the buyer gets the package once the payment is confirmed."""
    linked = e.raw.get("linked_billing_request")
    if not isinstance(linked, Mapping):
        return None
    request = linked.get("payment_request") if isinstance(linked.get("payment_request"), Mapping) else {}
    metadata = request.get("metadata") if isinstance(request.get("metadata"), Mapping) else {}
    package_id = metadata.get("package_id")
    if not isinstance(package_id, str) or not package_id:
        return None
    resources = linked.get("resources") if isinstance(linked.get("resources"), Mapping) else {}
    customer = resources.get("customer") if isinstance(resources.get("customer"), Mapping) else {}
    links = linked.get("links") if isinstance(linked.get("links"), Mapping) else {}
    payment = e.link("payment_request_payment") or links.get("payment_request_payment")
    name = " ".join(str(customer.get(k) or "").strip() for k in ("given_name", "family_name")).strip()
    amount = Money(int(request.get("amount") or 0), str(request.get("currency") or "GBP"))
    portal.portal_purchase_in(
        e.ctx.uow,
        e.ctx.services,
        billing_request_id=br,
        payment_id=payment,
        package_id=package_id,
        amount=amount,
        buyer_name=name or "Online buyer",
        buyer_email=customer.get("email") if isinstance(customer.get("email"), str) else None,
        customer_id=e.link("customer") or links.get("customer"),
    )
    note = f"{name or 'Someone'} bought a package on the booking portal; it is theirs once the payment is confirmed."
    return e.result(None, note), (payment,) if payment else ()


def _link_payment(e: _Event, payment: str, link: PaymentLinkRow) -> _Handled:
    ctx = e.ctx
    if e.action == "confirmed":
        payment_links.link_paid_in(ctx.uow, ctx.services, payment_id=payment)
        if link.status == "refund_pending":
            note = (
                f"“{link.description}” was paid by link after it was settled: the payment is being refunded."
            )
            return e.result(None, note), ()
        return e.result(None, f"{_payer(e, link)} paid by link: “{link.description}”."), ()
    if e.action == "failed":
        payment_links.link_failed_in(ctx.uow, ctx.services, payment_id=payment)
        note = f"{_payer(e, link)}'s payment for “{link.description}” failed: the link can be sent again."
        return e.result(None, note), ()
    return e.ignored(f"Payment action “{e.action}” changes nothing here."), ()


def _payer(e: _Event, link: PaymentLinkRow) -> str:
    """Who pays the link, for the Sync screen's log: the client, or the portal buyer's name."""
    client = None if link.client_id is None else e.s.get(ClientRow, link.client_id)
    if client is not None:
        return f"{client.first_name} {client.last_name}"
    return link.buyer_name or "The payer"


def _refund(e: _Event) -> _Handled:
    refund = e.link("refund")
    if refund is None:
        return e.ignored("The event names no refund."), ()
    deposit = e.s.scalars(select(DepositRow).where(DepositRow.gc_refund_id == refund)).first()
    refunded_link = (
        payment_links.link_refunded_in(e.ctx.uow, e.ctx.services, refund_id=refund)
        if deposit is None and e.action == "paid"
        else None
    )
    if refunded_link is not None:
        return e.result(None, "A payment made twice was refunded to the client."), ()
    if deposit is None:
        if e.action in ("paid", "failed", "funds_returned"):
            raise _Defer(refund)
        return e.ignored(f"Refund action “{e.action}” changes nothing here."), ()
    if e.action == "paid":
        deposits.deposit_refunded_in(e.ctx.uow, e.ctx.services, deposit_id=deposit.id, refund_id=refund)
        return e.result(None, "A deposit was refunded to the client."), ()
    if e.action in ("failed", "funds_returned") and deposit.status == "refund_pending":
        deposit.status = "paid"  # still held by the clinic: staff can refund it again
        return e.result(None, "A deposit refund failed: the clinic still holds the deposit."), ()
    return e.ignored(f"Refund action “{e.action}” changes nothing here."), ()


_HANDLERS: dict[str, Callable[[_Event], _Handled]] = {
    "billing_requests": _billing_request,
    "mandates": _mandate,
    "subscriptions": _subscription,
    "payments": _payment,
    "refunds": _refund,
}


# --- Helpers --------------------------------------------------------------------------------------------------


def _membership(e: _Event, column: Any, value: str, *, defer: bool = False) -> Membership | None:
    """The membership whose ``column`` is ``value`` (newest first), else the one named in the resource's
    metadata; raises ``_Defer`` (``defer``) or returns None when there is none."""
    query: Select[tuple[MembershipRow]] = (
        select(MembershipRow).where(column == value).order_by(MembershipRow.created_at.desc()).limit(1)
    )
    row = e.s.scalars(query.with_for_update()).one_or_none()
    if row is None:
        metadata = e.raw.get("resource_metadata")
        membership_id = metadata.get("membership_id") if isinstance(metadata, Mapping) else None
        if isinstance(membership_id, str):
            row = e.s.get(MembershipRow, membership_id, with_for_update=True)
    if row is None:
        if defer:
            raise _Defer(value)
        return None
    return repo.membership_from_row(row)


def _membership_of_payment(e: _Event, payment_id: str) -> Membership | None:
    """The membership a one-off payment was made for, from its metadata (the payment itself, as the engine
    added it, or the event's ``resource_metadata``)."""
    for metadata in (_linked_payment(e.raw, payment_id).get("metadata"), e.raw.get("resource_metadata")):
        membership_id = metadata.get("membership_id") if isinstance(metadata, Mapping) else None
        if isinstance(membership_id, str):
            row = e.s.get(MembershipRow, membership_id, with_for_update=True)
            if row is not None:
                return repo.membership_from_row(row)
    return None


def _load(s: Session, membership_id: str) -> Membership:
    row = s.get(MembershipRow, membership_id, with_for_update=True)
    assert row is not None  # a foreign key holds it
    return repo.membership_from_row(row)


def _save(e: _Event, m: Membership) -> None:
    repo.save_membership(e.s, m)
    e.s.flush()


def _find_payment(s: Session, payment_id: str) -> MembershipPaymentRow | None:
    return s.scalars(
        select(MembershipPaymentRow).where(MembershipPaymentRow.gc_payment_id == payment_id)
    ).one_or_none()


def _payment_row(e: _Event, m: Membership, payment_id: str) -> MembershipPaymentRow:
    """The membership's row for a Direct Debit payment, written (pending) if it is new."""
    row = _find_payment(e.s, payment_id)
    if row is not None:
        return row
    linked = _linked_payment(e.raw, payment_id)
    charge_date = _date(linked.get("charge_date"))
    named = billing_service.one_off_period_start(linked)
    if named is not None:
        first = billing.period_holding(m.started_on, named)
        start, end = first.start, first.end
    elif charge_date is not None:
        holding = billing.period_holding(m.started_on, charge_date)
        start, end = holding.start, holding.end
    else:
        newest = e.s.scalar(
            select(MembershipPaymentRow.period_end)
            .where(MembershipPaymentRow.membership_id == m.id)
            .order_by(MembershipPaymentRow.period_end.desc())
            .limit(1)
        )
        start, end = billing.next_period(m.started_on, newest)
    amount = linked.get("amount")
    currency = linked.get("currency")
    row = MembershipPaymentRow(
        id=new_id(),
        membership_id=m.id,
        gc_payment_id=payment_id,
        amount_pence=amount if isinstance(amount, int) else m.tier.monthly_price.pence,
        currency=currency if isinstance(currency, str) else m.tier.monthly_price.currency,
        charge_date=charge_date,
        period_start=start,
        period_end=end,
        status="pending",
        source="direct_debit",
    )
    e.s.add(row)
    e.s.flush()
    return row


def _linked_payment(raw: Mapping[str, Any], payment_id: str) -> Mapping[str, Any]:
    """The payment as ``include=payment`` returned it with the event, or an empty mapping."""
    linked = raw.get("linked")
    payments = linked.get("payments") if isinstance(linked, Mapping) else None
    for payment in payments if isinstance(payments, list) else []:
        if isinstance(payment, Mapping) and payment.get("id") == payment_id:
            return payment
    return {}


def _park(s: Session, raw: Mapping[str, Any], key: str) -> None:
    value = json.dumps({"wait_for": key, "event": dict(raw)}, default=str)
    s.merge(SyncStateRow(key=f"{PARKED_PREFIX}{raw['id']}", value=value))
    s.flush()


def _parked(s: Session) -> list[tuple[SyncStateRow, dict[str, Any]]]:
    """The deferred events, oldest first."""
    rows = s.scalars(select(SyncStateRow).where(SyncStateRow.key.startswith(PARKED_PREFIX))).all()
    parked = [(row, json.loads(row.value)) for row in rows]
    return sorted(parked, key=lambda pair: _order(pair[1]["event"]))


def _replay(ctx: _Ctx, known: tuple[str, ...], today: dt.date) -> tuple[Applied, ...]:
    """Apply the deferred events waiting for ``known`` ids (and, in turn, for the ids those make known)."""
    s = ctx.uow.session
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
            result, more = _apply(ctx, parked["event"], today)
            _log(s, result)
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


def _event_day(event: Mapping[str, Any], today: dt.date) -> dt.date:
    """The UTC day the event happened (``today`` when ``created_at`` is missing or unreadable)."""
    created_at = event.get("created_at")
    if isinstance(created_at, str):
        try:
            return dt.datetime.fromisoformat(created_at).astimezone(dt.UTC).date()
        except ValueError:
            pass
    return today


def _date(value: Any) -> dt.date | None:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _word(action: str) -> str:
    return {"customer_approval_denied": "was refused by the client"}.get(action, f"was {action}")
