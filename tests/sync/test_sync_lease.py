"""One engine at a time per database (the sync lease); a first subscription that cannot be lost.

Two tills are two ``SyncEngine``s on the same SQLite file (their own engines, sessions and holder ids), both
talking to the simulator through the real gocardless-pro client.
"""

from __future__ import annotations

import datetime as dt
import random
import threading

import pytest
from sqlalchemy import delete, select, update
from staffing import front_desk

from aestheticc_pos.services import clients, membership_billing
from aestheticc_pos.services import memberships as memberships_service
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.handlers import MessageBus
from aestheticc_pos.store.db import create_engine_for
from aestheticc_pos.store.tables import MembershipRow, OutboxRow, SyncStateRow
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory
from aestheticc_pos.sync import outbox
from aestheticc_pos.sync.engine import SyncEngine
from aestheticc_pos.sync.gateway import RemoteResult
from aestheticc_pos.sync.gocardless import GoCardlessGateway
from aestheticc_pos.sync.lease import (
    ANOTHER_TILL_SYNCING,
    LEASE_DURATION,
    LEASE_KEY,
    LEASE_RENEW_AFTER,
    SyncLease,
)
from aestheticc_pos.sync.simulator import Simulator

START = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


def _engine(uow: UnitOfWorkFactory, gateway, clinic, holder: str) -> SyncEngine:
    """A till's engine over its own database engine (``uow``), with its own message bus over it."""
    bus = MessageBus(Services(uow=uow, clock=clinic.clock))
    return SyncEngine(uow, gateway, clinic.clock, bus=bus, rng=random.Random(1), holder=holder)


def _sign_up(clinic, n: int) -> str:
    client = clients.add_client(
        clinic.services,
        staff_id=front_desk(clinic.services),
        first_name=f"C{n}",
        last_name="Member",
        email=f"c{n}@example.com",
    )
    return memberships_service.start_membership(
        clinic.services, client_id=client.id, tier_id=clinic.tier_id, staff_id=clinic.receptionist
    ).id


def _rows(uow: UnitOfWorkFactory) -> list[OutboxRow]:
    with uow(read_only=True) as work:
        rows = list(work.session.scalars(select(OutboxRow).order_by(OutboxRow.seq)))
        work.session.expunge_all()
    return rows


def _lease(uow: UnitOfWorkFactory) -> str | None:
    with uow(read_only=True) as work:
        row = work.session.get(SyncStateRow, LEASE_KEY)
        return None if row is None else row.value


@pytest.fixture
def second_till(clinic, tmp_path):
    """Another till's own connection pool on the same database file."""
    db = create_engine_for(f"sqlite:///{tmp_path / 'till.db'}")
    yield UnitOfWorkFactory(db)
    db.dispose()


class SlowGateway:
    """The real gateway, but each create waits at a barrier first (to hold one till mid-send)."""

    def __init__(self, real: GoCardlessGateway) -> None:
        self.real = real
        self.entered = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str):
        return getattr(self.real, name)

    def create_customer(self, payload, key) -> RemoteResult:
        self.entered.set()
        assert self.release.wait(10)
        return self.real.create_customer(payload, key)


def test_a_till_that_cannot_take_the_lease_does_nothing_and_says_so(
    clinic, gateway, simulator: Simulator, second_till
) -> None:
    for n in range(3):
        _sign_up(clinic, n)
    slow = SlowGateway(gateway)
    first = SyncEngine(
        clinic.uow,
        slow,  # type: ignore[arg-type]
        clinic.clock,
        bus=clinic.bus,
        rng=random.Random(1),
        holder="till-1",
    )
    other = _engine(second_till, gateway, clinic, "till-2")
    result: dict[str, object] = {}
    worker = threading.Thread(target=lambda: result.update(report=first.run_cycle(clinic.clock.now().date())))
    worker.start()
    try:
        assert slow.entered.wait(10)  # till 1 holds the lease and is sending its first customer
        assert (_lease(clinic.uow) or "").endswith(" till-1") and other.lease_holder() == "till-1"

        busy = other.run_cycle(clinic.clock.now().date())
        assert busy.another_till_syncing and busy.first_drain.another_till_syncing
        assert busy.first_drain.stopped == ANOTHER_TILL_SYNCING and not busy.ok
        assert (busy.recovered, busy.sent, busy.pull, busy.second_drain) == (0, 0, None, None)
        # Nor may it reset the row till 1 has in flight, drain, or pull.
        assert other.recover_in_flight() == 0
        assert [r.status for r in _rows(second_till)].count("in_flight") == 1
        assert other.drain_once().another_till_syncing
        assert other.pull_events_once(clinic.clock.now().date()).another_till_syncing
    finally:
        slow.release.set()
        worker.join(30)
    report = result["report"]
    assert report.ok and report.sent == 9  # type: ignore[attr-defined]
    assert simulator.count("customers") == 3
    assert _lease(clinic.uow) is None  # released at the end of the cycle
    assert other.run_cycle(clinic.clock.now().date()).ok  # now the other till may sync


def test_two_tills_syncing_at_once_send_each_row_once(
    clinic, gateway, simulator: Simulator, second_till
) -> None:
    for n in range(12):
        _sign_up(clinic, n)
    tills = [_engine(clinic.uow, gateway, clinic, "till-1"), _engine(second_till, gateway, clinic, "till-2")]
    reports: list = []
    barrier = threading.Barrier(2)

    def run(engine: SyncEngine) -> None:
        barrier.wait()
        for _ in range(6):
            reports.append(engine.run_cycle(clinic.clock.now().date()))

    threads = [threading.Thread(target=run, args=(t,)) for t in tills]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert all(r.status == "done" and r.attempts == 1 for r in _rows(clinic.uow))
    assert (simulator.count("customers"), simulator.count("billing_requests")) == (12, 12)
    assert simulator.count("billing_request_flows") == 12
    posts = [key for method, _, key in simulator.requests if method == "POST"]
    assert len(posts) == len(set(posts)) == 36  # no key was ever sent twice
    assert sum(r.sent for r in reports) == 36
    assert all(r.ok or r.another_till_syncing for r in reports)


def test_a_dead_tills_lease_runs_out_and_the_next_till_recovers_its_rows(
    clinic, gateway, simulator: Simulator, second_till
) -> None:
    membership_id = _sign_up(clinic, 1)
    # Till 1 took the lease and a row, sent it, and died before recording the answer.
    lease = SyncLease(clinic.uow, clinic.clock, "till-1")
    assert lease.take()  # taken and never released: the state a killed process leaves behind
    with clinic.uow() as work:
        row = work.session.scalars(select(OutboxRow).where(OutboxRow.kind == "create_customer")).one()
        outbox.mark_in_flight(row, START)
        key, payload = row.idempotency_key, dict(row.payload)
        work.commit()
    gateway.create_customer(payload, key)
    assert (_lease(clinic.uow) or "").endswith(" till-1")

    other = _engine(second_till, gateway, clinic, "till-2")
    assert other.run_cycle(clinic.clock.now().date()).another_till_syncing
    clinic.clock.advance(seconds=LEASE_DURATION.total_seconds() - 1)
    assert other.run_cycle(clinic.clock.now().date()).another_till_syncing
    clinic.clock.advance(seconds=2)

    report = other.run_cycle(clinic.clock.now().date())

    assert report.ok and report.recovered == 1 and report.sent == 3
    assert simulator.count("customers") == 1
    with clinic.uow(read_only=True) as work:
        m = work.session.get(MembershipRow, membership_id)
        assert m is not None and m.gc_customer_id == simulator.all("customers")[0]["id"]
    # A till that restarts with the same holder id takes its own lease back at once.
    with clinic.uow() as work:
        work.session.merge(SyncStateRow(key=LEASE_KEY, value="2099-01-01T00:00:00.000000Z till-2"))
        work.commit()
    assert _engine(clinic.uow, gateway, clinic, "till-2").run_cycle(clinic.clock.now().date()).ok


def test_a_long_drain_renews_the_lease_and_a_holder_that_lost_it_stops(
    clinic, gateway, simulator: Simulator
) -> None:
    for n in range(4):
        _sign_up(clinic, n)
    engine = _engine(clinic.uow, gateway, clinic, "till-1")
    seen: list[str | None] = []
    real = gateway.create_customer

    def slow_customer(payload, key):  # each send takes "two minutes" of the till's clock
        clinic.clock.advance(seconds=LEASE_RENEW_AFTER.total_seconds() * 2)
        seen.append(_lease(clinic.uow))
        return real(payload, key)

    gateway.create_customer = slow_customer  # type: ignore[method-assign]
    report = engine.drain_once()

    assert report.stopped is None and report.sent == 12
    expiries = [v.split(" ")[0] for v in seen if v]
    assert len(expiries) == 4 and expiries == sorted(expiries) and len(set(expiries)) == 4  # renewed

    # Another till took the lease over while this one stalled: it stops before its next row.
    for n in range(4, 6):
        _sign_up(clinic, n)

    def stalled(payload, key):
        with clinic.uow() as work:
            work.session.execute(
                update(SyncStateRow)
                .where(SyncStateRow.key == LEASE_KEY)
                .values(value="2099-01-01T00:00:00.000000Z till-9")
            )
            work.commit()
        clinic.clock.advance(seconds=LEASE_RENEW_AFTER.total_seconds() + 1)
        return real(payload, key)

    gateway.create_customer = stalled  # type: ignore[method-assign]
    lost = engine.drain_once()
    assert lost.another_till_syncing and lost.stopped == ANOTHER_TILL_SYNCING
    assert lost.sent == 1  # the row it was sending is recorded; nothing more is sent
    assert _lease(clinic.uow) == "2099-01-01T00:00:00.000000Z till-9"  # not released: it is not ours


def test_the_first_subscription_is_queued_with_the_event_and_a_lost_one_is_reviewed(
    clinic, gateway, simulator: Simulator
) -> None:
    membership_id = _sign_up(clinic, 1)
    engine = _engine(clinic.uow, gateway, clinic, "till-1")
    today = clinic.clock.now().date()
    assert engine.run_cycle(today).ok
    with clinic.uow(read_only=True) as work:
        flow = work.session.get(MembershipRow, membership_id).gc_flow_id  # type: ignore[union-attr]
    simulator.authorise(flow, account_holder_name="C Member", account_number="55779911")

    # The till stops right after applying the events: the subscription was queued in their transaction.
    pulled = engine.pull_events_once(today)
    assert pulled.subscriptions_queued == 1
    [create] = [r for r in _rows(clinic.uow) if r.kind == "create_subscription"]
    assert create.status == "pending"

    # Work deleted by hand (or lost any other way) leaves the member unbilled: the review lists them, and a
    # manager's "Start billing" puts it right.
    with clinic.uow() as work:
        work.session.execute(delete(OutboxRow).where(OutboxRow.id == create.id))
        work.commit()
    [unbilled] = membership_billing.memberships_not_billed(clinic.services)
    assert unbilled.membership_id == membership_id
    membership_billing.start_billing(clinic.services, membership_id=membership_id, staff_id=clinic.manager)
    assert engine.run_cycle(today).ok
    [subscription] = simulator.all("subscriptions")
    mandate = simulator.all("mandates")[0]
    assert subscription["links"]["mandate"] == mandate["id"] and subscription["amount"] == 4900
    assert subscription["start_date"] >= mandate["next_possible_charge_date"]
    assert membership_billing.memberships_not_billed(clinic.services) == []
