"""Whole sync cycles: the real services on a SQLite file, the real gocardless-pro client, the simulator.

A member signs up offline; cycles (drain, pull events, drain) set up the Direct Debit, queue and create the
subscription once the mandate is known, follow the monthly payments, and handle a failed one paid at the desk.
The till's clock and the simulator's are kept on the same day.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import gocardless_pro
import pytest
from harness import Till
from sqlalchemy import delete

from aestheticc_pos.domain.memberships import MembershipStatus
from aestheticc_pos.services import membership_billing, membership_views
from aestheticc_pos.services import memberships as memberships_service
from aestheticc_pos.services.handlers import MessageBus
from aestheticc_pos.store.tables import MembershipRow, SyncStateRow
from aestheticc_pos.sync.engine import SyncEngine
from aestheticc_pos.sync.gateway import EventPage
from aestheticc_pos.sync.pull import STREAMS, WATERMARK_KEY
from aestheticc_pos.sync.simulator import ERROR_500


def _set_up_and_subscribe(till: Till) -> str:
    """Offline sign-up, cycle 1 (set-up sent), the client authorises, cycle 2 (mandate → subscription)."""
    membership_id = till.sign_up()  # offline: nothing has run yet
    assert till.posts() == 0

    first = till.cycle()
    assert first.recovered == 0 and first.first_drain.sent == 3
    m = till.membership(membership_id)
    assert m.gc_flow_id and m.gc_authorisation_url
    assert m.gc_authorisation_url.startswith(till.simulator.base_url)

    till.simulator.authorise(m.gc_flow_id, account_holder_name="Ada Lovelace", account_number="55779911")
    second = till.cycle()

    assert second.pull is not None and second.pull.subscriptions_queued == 1
    assert second.second_drain is not None and second.second_drain.sent == 1
    m = till.membership(membership_id)
    mandate = till.simulator.get("mandates", m.gc_mandate_id or "")
    assert till.simulator.count("subscriptions") == 1
    subscription = till.simulator.all("subscriptions")[0]
    assert m.gc_subscription_id == subscription["id"]
    assert subscription["links"]["mandate"] == mandate["id"]
    assert subscription["amount"] == 4900 and subscription["currency"] == "GBP"
    assert subscription["day_of_month"] == 24
    assert subscription["metadata"] == {"membership_id": membership_id}
    # The first period start on or after the mandate's first possible charge date.
    assert subscription["start_date"] == "2026-12-24"
    assert mandate["next_possible_charge_date"] <= subscription["start_date"]
    return membership_id


def test_an_offline_sign_up_is_set_up_subscribed_and_collected_through_cycles(till: Till) -> None:
    membership_id = _set_up_and_subscribe(till)
    mandate = till.membership(membership_id).gc_mandate_id
    assert mandate is not None
    till.simulator.activate_mandate(mandate)
    till.cycle()
    assert till.membership(membership_id).gc_mandate_status == "active"

    paid_through = []
    for day in (dt.date(2026, 12, 31), dt.date(2027, 1, 31), dt.date(2027, 2, 28)):
        till.go_to(day)
        till.cycle()
        paid_through.append(till.membership(membership_id).paid_through)

    assert paid_through == [dt.date(2027, 1, 23), dt.date(2027, 2, 23), dt.date(2027, 3, 23)]
    m = till.membership(membership_id)
    assert m.status == MembershipStatus.ACTIVE.value
    # The first month, paid as the client authorised, then three monthly collections.
    assert [(p.period_start, p.status) for p in till.payments(membership_id)] == [
        (dt.date(2026, 11, 24), "confirmed"),
        (dt.date(2026, 12, 24), "confirmed"),
        (dt.date(2027, 1, 24), "confirmed"),
        (dt.date(2027, 2, 24), "confirmed"),
    ]
    assert till.simulator.count("subscriptions") == 1

    # Nothing new: a second cycle sends nothing and applies nothing.
    posts = till.posts()
    again = till.cycle()
    assert again.sent == 0 and again.pull is not None and again.pull.applied == 0
    assert till.posts() == posts

    # The next payment fails and GoCardless will retry it: past due.
    [failing] = till.go_to(dt.date(2027, 3, 24), auto_confirm=False)
    till.simulator.fail_payment(failing, will_retry=True)
    gocardless_pro.Client(access_token="sim-token", base_url=till.simulator.base_url).payments.retry(failing)
    till.cycle()
    m = till.membership(membership_id)
    assert m.status == MembershipStatus.PAST_DUE.value
    assert m.past_due_since == dt.date(2027, 3, 24)
    assert m.pending_retry_payment_id == failing

    # The grace period passes: suspended by the daily review.
    till.clock.set(dt.datetime(2027, 4, 1, 9, 0, tzinfo=dt.UTC))
    memberships_service.daily_review(till.services)
    assert till.membership(membership_id).status == MembershipStatus.SUSPENDED.value

    # Arrears paid at the desk: the pending retry is cancelled, so nobody is charged twice.
    due = membership_views.arrears_of(till.services, membership_id)
    assert due is not None and due.months == 1
    memberships_service.record_desk_payment_of_arrears(
        till.services, membership_id=membership_id, amount=due.amount, staff_id=till.manager
    )
    report = till.cycle()

    assert report.first_drain.sent == 1
    [cancel] = till.rows("cancel_payment")
    assert cancel.status == "done" and cancel.payload["payment_id"] == failing
    assert till.simulator.get("payments", failing)["status"] == "cancelled"
    m = till.membership(membership_id)
    assert m.status == MembershipStatus.ACTIVE.value
    assert m.pending_retry_payment_id is None
    assert m.paid_through == dt.date(2027, 4, 23)
    collected = [p for p in till.simulator.all("payments") if p["status"] in ("confirmed", "paid_out")]
    assert len(collected) == 4  # the failed month was paid at the desk, not collected again


def test_a_replayed_events_page_changes_nothing(till: Till) -> None:
    membership_id = _set_up_and_subscribe(till)
    till.simulator.activate_mandate(till.membership(membership_id).gc_mandate_id or "")
    till.go_to(dt.date(2026, 12, 31))
    till.cycle()
    before = (till.membership(membership_id), [(p.id, p.status) for p in till.payments(membership_id)])
    rows_before = [(r.id, r.status) for r in till.rows()]
    posts = till.posts()

    with till.uow() as uow:  # forget the watermark: every event is read again
        uow.session.execute(delete(SyncStateRow).where(SyncStateRow.key == WATERMARK_KEY))
        uow.commit()
    report = till.cycle()

    assert report.pull is not None
    assert report.pull.received == len(till.simulator.events()) > 0
    assert report.pull.duplicates == report.pull.received and report.pull.applied == 0
    assert report.pull.subscriptions_queued == 0 and report.sent == 0
    after = (till.membership(membership_id), [(p.id, p.status) for p in till.payments(membership_id)])
    assert _comparable(after[0]) == _comparable(before[0]) and after[1] == before[1]
    assert [(r.id, r.status) for r in till.rows()] == rows_before
    assert till.posts() == posts
    assert till.simulator.count("subscriptions") == 1


def _comparable(row: MembershipRow) -> dict[str, object]:
    return {
        c: getattr(row, c) for c in (col.key for col in MembershipRow.__table__.columns) if c != "updated_at"
    }


def test_every_page_is_read_and_the_watermark_moves_to_the_latest_event(till: Till) -> None:
    membership_id = _set_up_and_subscribe(till)
    till.cycle()  # reads the subscription's own events
    events = till.simulator.events()
    assert till.watermark() == max(e["created_at"] for e in events)
    pages: list[tuple[str | None, str | None, str | None]] = []
    real = till.gateway.list_events

    def small_pages(
        since: str | None = None, after: str | None = None, limit: int = 500, **filters: str | None
    ) -> EventPage:
        pages.append((filters.get("resource_type"), since, after))
        return real(since=since, after=after, limit=2, **filters)

    with till.uow() as uow:
        uow.session.execute(delete(SyncStateRow).where(SyncStateRow.key == WATERMARK_KEY))
        uow.commit()
    till.gateway.list_events = small_pages  # type: ignore[method-assign]
    report = till.engine.pull_events_once(till.today)

    # A first page of every kind of event; more than a page happened, so one stream per resource type the till
    # uses, each read to its last page.
    per_type = Counter(e["resource_type"] for e in events)
    assert report.pages == len(pages) == 1 + sum(max(1, (per_type[t] + 1) // 2) for t, _ in STREAMS)
    firsts = [(t, since, after) for t, since, after in pages if after is None]
    assert firsts == [(None, None, None)] + [(t, None, None) for t, _ in STREAMS]
    used = [e for e in events if e["resource_type"] in dict(STREAMS)]
    assert report.received == len(used) and report.watermark == till.watermark()
    assert till.membership(membership_id).gc_subscription_id


def test_an_idle_pull_asks_once_and_a_small_one_reads_only_the_streams_it_needs(till: Till) -> None:
    membership_id = _set_up_and_subscribe(till)
    till.cycle()
    before = len(till.simulator.requests)
    idle = till.engine.pull_events_once(till.today)
    assert idle.pages == 1 and len(till.simulator.requests) == before + 1  # nothing happened: one request

    subscription = till.membership(membership_id).gc_subscription_id
    till.go_to(dt.date(2026, 12, 22))  # the subscription's first payment is created and submitted
    before = len(till.simulator.requests)
    report = till.engine.pull_events_once(till.today)
    paths = [path for _, path, _ in till.simulator.requests[before:]]
    assert len(paths) == report.pages == 2  # every kind of event, then the payments with their payments
    assert "include=payment" in paths[1] and "resource_type=payments" in paths[1]
    [row] = [p for p in till.payments(membership_id) if p.period_start == dt.date(2026, 12, 24)]
    payment = till.simulator.get("payments", row.gc_payment_id)
    assert payment["links"]["subscription"] == subscription
    assert row.charge_date == dt.date.fromisoformat(payment["charge_date"])  # from the linked payment


def test_a_network_error_while_pulling_is_reported_and_the_watermark_stays(till: Till) -> None:
    membership_id = till.sign_up()
    till.cycle()
    m = till.membership(membership_id)
    till.simulator.authorise(
        m.gc_flow_id or "", account_holder_name="Ada Lovelace", account_number="55779911"
    )
    watermark = till.watermark()
    till.simulator.inject(ERROR_500, path_prefix="/events")

    report = till.engine.run_cycle(till.today)

    assert report.pull is not None and report.pull.stopped and not report.ok
    assert till.watermark() == watermark
    assert till.membership(membership_id).gc_mandate_id is None
    till.cycle()  # the next cycle catches up
    assert till.membership(membership_id).gc_subscription_id is not None
    assert till.simulator.count("subscriptions") == 1


def test_the_first_subscription_is_queued_once(till: Till) -> None:
    membership_id = _set_up_and_subscribe(till)
    mandate = till.membership(membership_id).gc_mandate_id
    with till.uow() as uow:
        queued = membership_billing.queue_first_subscription_in(uow.session, membership_id, till.today)
        uow.commit()
    assert queued is None and mandate
    assert len(till.rows("create_subscription")) == 1


def test_a_cancellation_with_notice_waits_for_the_last_payment_owed(till: Till) -> None:
    membership_id = _set_up_and_subscribe(till)  # the subscription collects on the 24th, from 24 Dec
    till.simulator.activate_mandate(till.membership(membership_id).gc_mandate_id or "")
    till.go_to(dt.date(2026, 12, 28))  # the first payment is collected: the membership has started
    till.cycle()
    assert till.membership(membership_id).status == MembershipStatus.ACTIVE.value
    # Notice to the end of 10 Feb: the payment of 24 Jan (for 24 Jan–23 Feb) is still owed.
    memberships_service.give_notice(
        till.services, membership_id=membership_id, ends_on=dt.date(2027, 2, 10), staff_id=till.receptionist
    )
    till.cycle()
    [cancel] = till.rows("cancel_subscription")
    subscription_id = till.membership(membership_id).gc_subscription_id or ""
    assert cancel.status == "pending" and cancel.attempts == 0
    # 24 Jan 2027 is a Sunday: that payment is charged on Monday 25 Jan, so the cancellation waits until the 26th.
    assert cancel.next_attempt_at == dt.datetime(2027, 1, 26, 6, 0, tzinfo=dt.UTC)
    assert till.simulator.get("subscriptions", subscription_id)["status"] == "active"

    till.go_to(dt.date(2027, 1, 28))  # the 24 Jan payment is made and collected
    till.cycle()
    [cancel] = till.rows("cancel_subscription")
    assert cancel.status == "done"
    assert till.simulator.get("subscriptions", subscription_id)["status"] == "cancelled"
    owed = [p for p in till.simulator.all("payments") if p["charge_date"] == "2027-01-25"]
    assert len(owed) == 1 and owed[0]["status"] in {"confirmed", "paid_out"}
    assert till.membership(membership_id).paid_through == dt.date(2027, 2, 23)


class _CrashesOnce:
    """The app's message bus, except that the ``at``-th message it is handed crashes the till (once)."""

    def __init__(self, bus: MessageBus, at: int) -> None:
        self._bus = bus
        self._left = at

    def handle(self, uow, message):  # noqa: ANN001, ANN201 - the bus's own signature
        self._left -= 1
        if self._left == 0:
            raise RuntimeError("the till lost power")
        return self._bus.handle(uow, message)


def test_a_page_of_events_is_applied_in_one_transaction_and_each_event_once(till: Till) -> None:
    membership_id = till.sign_up()
    till.cycle()
    till.authorise(membership_id)
    before = len(till.log())
    crashing = SyncEngine(
        till.uow,
        till.gateway,
        till.clock,
        bus=_CrashesOnce(MessageBus(till.services), at=3),
        rng=random.Random(3),
        holder=till.engine.holder,
    )

    with pytest.raises(RuntimeError):
        crashing.pull_events_once(till.today)

    # Nothing of the page was kept: not the events before the crash, nor what they did.
    assert len(till.log()) == before
    assert till.membership(membership_id).gc_mandate_id is None
    report = till.engine.pull_events_once(till.today)
    assert report.stopped is None and report.applied >= 3
    log = till.log()
    assert till.membership(membership_id).gc_mandate_id is not None
    assert set(log) >= {e["id"] for e in till.simulator.events("billing_requests", "fulfilled")}
    again = till.engine.pull_events_once(till.today)  # the overlap re-read: nothing applied twice
    assert again.applied == 0 and len(till.log()) == len(log)
