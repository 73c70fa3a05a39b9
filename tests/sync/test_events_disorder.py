"""Events out of order, duplicated, replayed across pages, unknown, or missing optional fields.

The simulator makes the events (real set-ups, subscriptions and payments); they reach the till through the real
``GET /events`` (shuffled in the simulator's list, read two at a time, with earlier events repeated on later
pages) or, for deliveries spread over several pulls in the wrong order, through ``inbox.apply_events``.
Nothing raises, every membership ends where the in-order story puts it, ``processed_events`` holds each id once
with what it did (applied / ignored / deferred-then-applied, for which membership, and a note).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import pytest
from sqlalchemy import delete, func, select
from staffing import front_desk

from aestheticc_pos.domain.memberships import MembershipStatus
from aestheticc_pos.services import clients
from aestheticc_pos.services import membership_billing as billing_service
from aestheticc_pos.services import memberships as memberships_service
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.tables import MembershipPaymentRow, MembershipRow, ProcessedEventRow, SyncStateRow
from aestheticc_pos.sync import inbox
from aestheticc_pos.sync.engine import SyncEngine
from aestheticc_pos.sync.gateway import EventPage
from aestheticc_pos.sync.gocardless import GoCardlessGateway
from aestheticc_pos.sync.inbox import Outcome
from aestheticc_pos.sync.pull import STREAMS, WATERMARK_KEY
from aestheticc_pos.sync.simulator import Simulator

START = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


@dataclass
class World:
    clinic: object
    simulator: Simulator
    gateway: GoCardlessGateway
    engine: SyncEngine

    @property
    def uow(self):
        return self.clinic.uow  # type: ignore[attr-defined]

    @property
    def bus(self):
        return self.clinic.bus  # type: ignore[attr-defined]

    @property
    def today(self) -> dt.date:
        return self.clinic.clock.now().date()  # type: ignore[attr-defined]

    def sign_up(self, n: int) -> str:
        c = self.clinic
        client = clients.add_client(
            c.services,
            staff_id=front_desk(c.services),
            first_name=f"C{n}",
            last_name="Member",
            email=f"c{n}@example.com",
        )  # type: ignore[attr-defined]
        return memberships_service.start_membership(
            c.services,  # type: ignore[attr-defined]
            client_id=client.id,
            tier_id=c.tier_id,  # type: ignore[attr-defined]
            staff_id=c.receptionist,  # type: ignore[attr-defined]
        ).id

    def membership(self, membership_id: str) -> MembershipRow:
        with self.uow(read_only=True) as uow:
            row = uow.session.get(MembershipRow, membership_id)
            uow.session.expunge(row)
        return row

    def payments(self, membership_id: str) -> dict[str, str]:
        with self.uow(read_only=True) as uow:
            rows = uow.session.scalars(
                select(MembershipPaymentRow).where(MembershipPaymentRow.membership_id == membership_id)
            )
            return {r.gc_payment_id: r.status for r in rows if r.gc_payment_id}

    def log(self) -> dict[str, ProcessedEventRow]:
        with self.uow(read_only=True) as uow:
            rows = list(uow.session.scalars(select(ProcessedEventRow)))
            uow.session.expunge_all()
        return {r.event_id: r for r in rows}

    def go_to(self, day: dt.date) -> None:
        self.simulator.advance_to(day, auto_confirm=False)
        self.clinic.clock.set(dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC))  # type: ignore[attr-defined]


@pytest.fixture
def world(clinic, simulator: Simulator, gateway: GoCardlessGateway) -> World:
    return World(
        clinic,
        simulator,
        gateway,
        SyncEngine(clinic.uow, gateway, clinic.clock, bus=clinic.bus, rng=random.Random(5)),
    )


def _subscribed(world: World, count: int) -> list[str]:
    """``count`` members set up in order (cycles), mandates active, subscriptions created."""
    ids = [world.sign_up(n) for n in range(count)]
    assert world.engine.run_cycle(world.today).ok
    for membership_id in ids:
        m = world.membership(membership_id)
        world.simulator.authorise(m.gc_flow_id, account_holder_name="C Member", account_number="55779911")
    assert world.engine.run_cycle(world.today).ok
    for membership_id in ids:
        world.simulator.activate_mandate(world.membership(membership_id).gc_mandate_id)
    assert world.engine.run_cycle(world.today).ok
    assert world.simulator.count("subscriptions") == count
    return ids


def _shuffle_simulator_events(sim: Simulator, rng: random.Random, after: set[str]) -> None:
    """Reorder the events the simulator lists (those not in ``after``), as if GoCardless listed them in any order."""
    with sim.store.lock:
        events = sim.store.resources["events"]
        old = [e for e in events.values() if e["id"] in after]
        new = [e for e in events.values() if e["id"] not in after]
        rng.shuffle(new)
        events.clear()
        events.update({e["id"]: e for e in old + new})


def test_shuffled_duplicated_replayed_pages_with_unknown_and_partial_events_end_right(world: World) -> None:
    sim, rng = world.simulator, random.Random(42)
    members = _subscribed(world, 3)
    seen_before = {e["id"] for e in sim.events()}
    # A month of collections: one collected, one failed (GoCardless will not retry), one collected then
    # charged back.
    world.go_to(dt.date(2026, 12, 26))
    payments = {
        m: next(
            p
            for p in sim.all("payments")
            if p["links"].get("subscription") == world.membership(m).gc_subscription_id
        )
        for m in members
    }
    sim.confirm_payment(payments[members[0]]["id"])
    sim.pay_out(payments[members[0]]["id"])  # paid_out must not change the local "confirmed"
    sim.fail_payment(payments[members[1]]["id"], will_retry=False)
    sim.confirm_payment(payments[members[2]]["id"])
    sim.charge_back(payments[members[2]]["id"])
    # Events the till does not use, and events with optional sections missing.
    unknown_action = sim.store.emit(
        "mandates", "customer_approval_skipped", {"mandate": "MD999"}, "api", "x", "x"
    )
    unknown_type = sim.store.emit("payouts", "paid", {"payout": "PO1"}, "gocardless", "payout_paid", "Paid.")
    future_type = sim.store.emit("outbound_payments", "created", {}, "api", "x", "x")
    with sim.store.lock:
        for event in sim.store.resources["events"].values():
            if event["id"] in seen_before:
                continue
            event.pop("resource_metadata", None)
            event.pop("customer_notifications", None)
            if event["resource_type"] == "payments" and event["action"] in ("submitted", "confirmed"):
                event["details"].pop("cause", None)  # optional: nothing may depend on it
            if event["resource_type"] == "payments" and event["action"] == "confirmed":
                event["links"].pop("subscription", None)
        sim.store.resources["events"][future_type["id"]]["details"] = {}
    _shuffle_simulator_events(sim, rng, seen_before)

    real = world.gateway.list_events
    delivered: list[str] = []

    def small_pages_with_repeats(since=None, after=None, limit=500, **filters) -> EventPage:
        page = real(since=since, after=after, limit=2, **filters)
        events = list(page.events)
        if delivered:  # an earlier event shows up again on a later page
            repeat = rng.choice(delivered)
            events.append(dict(next(e for e in sim.events() if e["id"] == repeat)))
        events += [dict(e) for e in page.events]  # and the page itself twice
        delivered.extend(e["id"] for e in page.events)
        rng.shuffle(events)
        return EventPage(events=events, after=page.after, linked=page.linked)

    world.gateway.list_events = small_pages_with_repeats  # type: ignore[method-assign]
    report = world.engine.run_cycle(world.today)
    assert report.ok, report
    assert report.pull is not None and report.pull.pages > 3
    new_events = {e["id"] for e in sim.events()} - seen_before
    assert report.pull.received >= len(new_events)  # and the overlap re-read before the watermark
    # The whole history once more (watermark forgotten): nothing changes.
    with world.uow() as uow:
        uow.session.execute(delete(SyncStateRow).where(SyncStateRow.key == WATERMARK_KEY))
        uow.commit()
    before = {
        m: (world.membership(m).status, world.membership(m).paid_through, world.payments(m)) for m in members
    }
    again = world.engine.run_cycle(world.today)
    assert again.ok and again.pull is not None and again.pull.applied == 0
    used = {e["id"] for e in sim.events() if e["resource_type"] in dict(STREAMS)}
    assert again.pull.duplicates == again.pull.received == len(used)
    assert {
        m: (world.membership(m).status, world.membership(m).paid_through, world.payments(m)) for m in members
    } == before

    paid, failed, charged_back = (world.membership(m) for m in members)
    first = {  # each paid their first month as they authorised the Direct Debit
        m: sim.get("billing_requests", world.membership(m).gc_billing_request_id)["links"][
            "payment_request_payment"
        ]
        for m in members
    }
    assert world.payments(members[0]) == {
        first[members[0]]: "confirmed",
        payments[members[0]]["id"]: "confirmed",
    }
    assert paid.status == MembershipStatus.ACTIVE.value and paid.paid_through == dt.date(2027, 1, 23)
    assert world.payments(members[1]) == {
        first[members[1]]: "confirmed",
        payments[members[1]]["id"]: "failed",
    }
    assert failed.status == MembershipStatus.PAST_DUE.value and failed.past_due_since == dt.date(2026, 12, 26)
    assert world.payments(members[2]) == {
        first[members[2]]: "confirmed",
        payments[members[2]]["id"]: "charged_back",
    }
    assert charged_back.status == MembershipStatus.PAST_DUE.value
    assert charged_back.paid_through == dt.date(2026, 12, 23)  # the period from 24 Dec is unpaid again

    log = world.log()
    assert set(log) == used  # each id once (it is the key)
    with world.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(ProcessedEventRow)) == len(log)
    row = log[unknown_action["id"]]  # an action the till does not use, of a type it reads
    assert row.outcome == Outcome.IGNORED and row.note and row.membership_id is None
    # Types the till does not use (payouts, outbound payments) are never even read.
    assert unknown_type["id"] not in log and future_type["id"] not in log
    confirmed = log[
        next(
            e["id"]
            for e in sim.events("payments", "confirmed")
            if e["links"]["payment"] == payments[members[0]]["id"]
        )
    ]
    assert (confirmed.outcome, confirmed.membership_id, confirmed.note) == (
        "applied",
        members[0],
        "Payment collected.",
    )
    fail = log[next(e["id"] for e in sim.events("payments", "failed"))]
    assert (fail.outcome, fail.membership_id) == (
        "applied",
        members[1],
    ) and fail.note == "The payment failed."


def test_events_delivered_backwards_over_several_pulls_are_deferred_then_applied(world: World) -> None:
    """The story of one member, delivered newest first, a few events per delivery, each twice."""
    sim = world.simulator
    membership_id = world.sign_up(1)
    assert world.engine.run_cycle(world.today).ok
    m = world.membership(membership_id)
    first_event = len(sim.events())
    sim.authorise(m.gc_flow_id, account_holder_name="C Member", account_number="55779911")
    mandate = sim.get("billing_requests", m.gc_billing_request_id)["links"]["mandate_request_mandate"]
    sim.activate_mandate(mandate)
    first_payment = sim.get("billing_requests", m.gc_billing_request_id)["links"]["payment_request_payment"]
    # The till learns nothing yet; the subscription is made directly so its events exist too (with the first
    # month known to be paid by the set-up, as applying its events would have recorded).
    with world.uow() as uow:
        uow.session.execute(
            MembershipRow.__table__.update()
            .where(MembershipRow.id == membership_id)
            .values(gc_mandate_id=mandate)
        )
        member = repo.load_membership(uow.session, membership_id)
        billing_service.record_first_payment_in(uow.session, member, first_payment)
        queued = billing_service.queue_first_subscription_in(uow.session, membership_id, world.today)
        uow.commit()
    assert queued is not None
    assert world.engine.drain_once().sent == 1
    with world.uow() as uow:  # the mandate id must come from the events (the subscription id is the drain's)
        uow.session.execute(
            MembershipRow.__table__.update()
            .where(MembershipRow.id == membership_id)
            .values(gc_mandate_id=None)
        )
        uow.commit()
    world.go_to(dt.date(2026, 12, 26))
    [payment] = [p["id"] for p in sim.all("payments") if p["links"].get("subscription")]
    sim.confirm_payment(payment)
    story = sim.events()[first_event:]
    # Missing optional fields: no created_at on one, no details or links at all on others.
    extra = [
        {"id": "EVNOLINKS", "resource_type": "payments", "action": "confirmed"},
        {"id": "EVNODETAILS", "resource_type": "mandates", "action": "active", "links": {"mandate": mandate}},
        {"id": "EVNOTYPE", "action": "created", "links": {}, "details": {}},
    ]
    deliveries = [story[i : i + 3] for i in range(0, len(story), 3)][::-1]
    deliveries[0] = deliveries[0] + extra

    outcomes: list[Outcome] = []
    for delivery in deliveries:
        batch = [dict(e) for e in delivery for _ in range(2)]
        for event in batch:
            linked = (event.get("links") or {}).get("payment")
            if linked:  # what the engine adds to a pulled event (include=payment): its charge date
                event["linked"] = {"payments": [sim.get("payments", linked)]}
            if event["id"] == story[-1]["id"]:
                event.pop("created_at", None)
        results = inbox.apply_events(world.uow, batch, world.today, world.bus)
        outcomes += [r.outcome for r in results]

    assert Outcome.DEFERRED in outcomes and Outcome.DUPLICATE in outcomes
    m = world.membership(membership_id)
    assert m.gc_mandate_id == mandate and m.gc_mandate_status == "active"
    assert m.gc_subscription_id == sim.all("subscriptions")[0]["id"]
    assert world.payments(membership_id) == {first_payment: "confirmed", payment: "confirmed"}
    assert m.status == MembershipStatus.ACTIVE.value and m.paid_through == dt.date(2027, 1, 23)
    with world.uow(read_only=True) as uow:
        parked = uow.session.scalars(
            select(SyncStateRow.key).where(SyncStateRow.key.startswith("parked:"))
        ).all()
    assert parked == []

    log = world.log()
    assert set(log) == {e["id"] for e in sim.events()} | {"EVNOLINKS", "EVNODETAILS", "EVNOTYPE"}
    by_story = {e["id"]: e for e in story}
    deferred_then_applied = [
        log[i]
        for i, e in by_story.items()
        if (e["resource_type"], e["action"])
        in {("mandates", "active"), ("payments", "confirmed"), ("subscriptions", "payment_created")}
    ]
    assert deferred_then_applied and all(
        r.outcome == "applied" and r.membership_id == membership_id and r.note for r in deferred_then_applied
    )
    assert (log["EVNOLINKS"].outcome, log["EVNOLINKS"].note) == ("ignored", "The event names no payment.")
    assert log["EVNODETAILS"].outcome == "applied" and log["EVNODETAILS"].membership_id == membership_id
    assert log["EVNOTYPE"].outcome == "ignored" and log["EVNOTYPE"].membership_id is None
    fulfilled = log[next(i for i, e in by_story.items() if e["action"] == "fulfilled")]
    assert (fulfilled.outcome, fulfilled.membership_id) == ("applied", membership_id)
    assert fulfilled.note == "The Direct Debit is set up."  # its subscription was known already


def test_an_event_about_a_resource_never_placed_stays_deferred_and_is_logged_so(world: World) -> None:
    event = {
        "id": "EVORPHAN",
        "created_at": "2026-11-24T09:00:00.000Z",
        "resource_type": "payments",
        "action": "confirmed",
        "links": {"payment": "PMUNKNOWN"},
        "details": {"origin": "gocardless"},
    }
    [result] = inbox.apply_events(world.uow, [event, dict(event)][:1], world.today, world.bus)
    assert result.outcome is Outcome.DEFERRED
    again = inbox.apply_events(world.uow, [dict(event)], world.today, world.bus)
    assert [r.outcome for r in again] == [Outcome.DUPLICATE]
    row = world.log()["EVORPHAN"]
    assert row.outcome == "deferred" and row.membership_id is None and "PMUNKNOWN" in (row.note or "")
