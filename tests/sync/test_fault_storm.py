"""A fault storm over whole sync cycles, with the engine killed for real mid-send and restarted.

The real services queue the work (sign-ups, tier changes, endings, Direct Debit payments at the desk: a few
hundred outbox rows); the real gocardless-pro client sends it to the simulator (127.0.0.1 only). A first engine
runs in a separate OS process over the same SQLite file and is SIGKILLed while a request of its is held by the
simulator (after GoCardless already made the customer: the answer was lost). A fresh engine waits for the dead
till's lease to run out, recovers its in-flight row and runs full ``run_cycle``s while random timeouts, resets,
HTML 502s, 500s, 429s and lost answers are injected, and payers authorise their mandates on the way.

Afterwards GoCardless holds exactly one customer, billing request, subscription and payment per local intent,
and every membership's local record (ids, mandate, amount after tier changes, cancellations) is what the
simulator holds. ``--stress`` runs it with four times the members and more faults.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest
from harness import clock_seconds
from sqlalchemy import select
from staffing import front_desk

from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.memberships import MembershipStatus
from aestheticc_pos.services import catalogue, checkout, clients, pricing
from aestheticc_pos.services import memberships as memberships_service
from aestheticc_pos.store.tables import MembershipRow, OutboxRow, ProcessedEventRow, SyncStateRow
from aestheticc_pos.sync.engine import SyncEngine
from aestheticc_pos.sync.gocardless import GoCardlessGateway
from aestheticc_pos.sync.lease import LEASE_DURATION
from aestheticc_pos.sync.simulator import (
    ERROR_500,
    HTML_502,
    LOST_RESPONSE,
    RATE_LIMIT_429,
    RESET,
    TIMEOUT,
    Simulator,
)

START = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)

CHILD = textwrap.dedent(
    """
    import datetime as dt, random, sys
    from aestheticc_pos.clock import FixedClock
    from aestheticc_pos.services.context import Services
    from aestheticc_pos.services.handlers import MessageBus
    from aestheticc_pos.store.db import create_engine_for
    from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory
    from aestheticc_pos.sync.engine import SyncEngine
    from aestheticc_pos.sync.gocardless import GoCardlessGateway

    url, base_url, now = sys.argv[1:4]
    clock = FixedClock(dt.datetime.fromisoformat(now))
    gateway = GoCardlessGateway("sim-token", base_url=base_url, timeout=1)
    uow = UnitOfWorkFactory(create_engine_for(url))
    engine = SyncEngine(
        uow, gateway, clock, bus=MessageBus(Services(uow=uow, clock=clock)), rate_share=1.0,
        requests_per_minute=100_000, rng=random.Random(3), holder="till-2",
    )
    for _ in range(1000):
        engine.run_cycle(clock.now().date())
    """
)


@dataclass
class Storm:
    members: int
    rounds: int
    fault_share: float
    timeouts: int  # each costs about a second (the client's timeout), so only a few
    seed: int
    intents: dict[str, list[str]] = field(default_factory=dict)


def _scale(request: pytest.FixtureRequest) -> Storm:
    if request.config.getoption("--stress"):
        return Storm(members=200, rounds=20, fault_share=0.35, timeouts=10, seed=2027)
    return Storm(members=50, rounds=12, fault_share=0.3, timeouts=3, seed=2026)


class Till:
    def __init__(self, clinic, simulator: Simulator, gateway: GoCardlessGateway, tmp_path) -> None:
        self.clinic = clinic
        self.tmp_path = tmp_path
        self.services = clinic.services
        self.uow = clinic.uow
        self.clock = clinic.clock
        self.simulator = simulator
        self.url = f"sqlite:///{tmp_path / 'till.db'}"  # the clinic fixture's file
        self.gateway = gateway

    def engine(self, holder: str = "till-1") -> SyncEngine:
        return SyncEngine(
            self.uow,
            self.gateway,
            self.clock,
            bus=self.clinic.bus,
            rate_share=1.0,
            requests_per_minute=100_000,
            rng=random.Random(11),
            holder=holder,
            monotonic=clock_seconds(self.clock),
        )

    @property
    def today(self) -> dt.date:
        return self.clock.now().date()

    def memberships(self) -> list[MembershipRow]:
        with self.uow(read_only=True) as uow:
            rows = list(uow.session.scalars(select(MembershipRow).order_by(MembershipRow.created_at)))
            uow.session.expunge_all()
        return rows

    def rows(self) -> list[OutboxRow]:
        with self.uow(read_only=True) as uow:
            rows = list(uow.session.scalars(select(OutboxRow).order_by(OutboxRow.seq)))
            uow.session.expunge_all()
        return rows

    def unsettled(self) -> list[OutboxRow]:
        return [r for r in self.rows() if r.status in ("pending", "in_flight", "waiting_for_prerequisite")]


def _posts(simulator: Simulator) -> int:
    return len([r for r in list(simulator.requests) if r[0] == "POST"])


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _sign_up(till: Till, n: int, tier_id: str) -> str:
    client = clients.add_client(
        till.services,
        staff_id=front_desk(till.services),
        first_name=f"Client{n}",
        last_name="Member",
        email=f"c{n}@example.com",
    )
    return memberships_service.start_membership(
        till.services, client_id=client.id, tier_id=tier_id, staff_id=till.clinic.receptionist
    ).id


def _kill_mid_send(till: Till, storm: Storm) -> None:
    """Run an engine in another process and SIGKILL it while GoCardless holds one of its requests, after
    GoCardless made the customer that request asked for (its first answer was lost)."""
    sim = till.simulator
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    script = till.tmp_path / "engine_child.py"
    script.write_text(CHILD)
    child = subprocess.Popen(
        [sys.executable, str(script), till.url, sim.base_url, till.clock.now().isoformat()],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # Let it send some of the customers first (they go out first, in sign-up order).
        _wait_for(lambda: _posts(sim) >= storm.members // 3, 60, "the child engine to send")
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        sim.inject(LOST_RESPONSE, path_prefix="/customers", method="POST")
        sim.inject(TIMEOUT, times=3, path_prefix="/customers", method="POST")
        _wait_for(
            lambda: [f for f, _, _ in list(sim.faults.applied)][-2:] == [LOST_RESPONSE, TIMEOUT],
            60,
            "the child's customer request to be held",
        )
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        if child.stderr is not None:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    sim.clear_faults()


def _desk_work(till: Till, storm: Storm, rng: random.Random, silver: str, gold: str) -> None:
    """What the clinic does between cycles: payers authorise, mandates activate, tiers change, members leave,
    Direct Debit payments are taken at the desk."""
    sim = till.simulator
    for m in till.memberships():
        if m.status == MembershipStatus.ENDED.value:
            continue
        if m.gc_flow_id and m.gc_mandate_id is None and rng.random() < 0.5:
            br = sim.get("billing_requests", m.gc_billing_request_id or "")
            if br["status"] == "pending":
                sim.authorise(m.gc_flow_id, account_holder_name="A Member", account_number="55779911")
        elif (
            m.gc_mandate_id
            and rng.random() < 0.3
            and sim.get("mandates", m.gc_mandate_id)["status"] in ("pending_submission", "submitted")
        ):
            sim.activate_mandate(m.gc_mandate_id)
        roll = rng.random()
        if roll < 0.025 and m.status != MembershipStatus.ENDED.value:
            memberships_service.end_membership(
                till.services, membership_id=m.id, staff_id=till.clinic.manager, reason="Moving away"
            )
            storm.intents.setdefault("ended", []).append(m.id)
        elif roll < 0.08 and m.status in (
            MembershipStatus.PENDING_MANDATE.value,
            MembershipStatus.ACTIVE.value,
        ):
            tier = silver if m.tier_id == gold else gold
            memberships_service.change_tier(
                till.services, membership_id=m.id, tier_id=tier, staff_id=till.clinic.manager
            )
        elif roll < 0.2 and m.gc_mandate_id and m.gc_mandate_status not in ("failed", "cancelled"):
            items = [pricing.BasketItem(ItemKind.PRODUCT, storm.intents["product"][0])]
            quote = checkout.quote_basket(till.services, client_id=m.client_id, items=items)
            receipt = checkout.complete_sale(
                till.services,
                client_id=m.client_id,
                items=items,
                payments=[pricing.Payment("direct_debit", quote.net, m.gc_mandate_id)],
                staff_id=till.clinic.receptionist,
            )
            storm.intents.setdefault("sales", []).append(receipt.number)


class StormDriver(threading.Thread):
    """Injects a random fault before about ``share`` of the requests, spread through the run (the simulator
    applies an injected fault to the next matching request; one is pending at a time)."""

    def __init__(self, sim: Simulator, rng: random.Random, share: float, timeouts: int) -> None:
        super().__init__(name="fault-storm", daemon=True)
        self.sim, self.rng, self.share, self.timeouts = sim, rng, share, timeouts
        self.halt = threading.Event()
        # A 429 stops the whole drain (every other request would get the same answer): rarer than the rest.
        self.faults = [RESET, HTML_502, ERROR_500, LOST_RESPONSE] * 3 + [RATE_LIMIT_429]

    def run(self) -> None:
        seen = injected_at = len(self.sim.requests)
        while not self.halt.is_set():
            count = len(self.sim.requests)
            if count != seen:
                seen = count
                if self.sim.faults.pending and count - injected_at > 20:
                    self.sim.clear_faults()  # aimed at requests that are not being made now
                if not self.sim.faults.pending and self.rng.random() < self.share:
                    self._inject()
                    injected_at = count
            time.sleep(0.0005)

    def _inject(self) -> None:
        if self.timeouts and self.rng.random() < 0.05:
            self.timeouts -= 1
            self.sim.inject(TIMEOUT)
            return
        fault = self.rng.choice(self.faults)
        prefix = None
        if fault == LOST_RESPONSE:
            # A lost flow answer makes a replacement flow by design (flows have no GET): keep it elsewhere.
            prefix = self.rng.choice(
                ["/customers", "/billing_requests", "/subscriptions", "/payments", "/events"]
            )
        self.sim.inject(fault, path_prefix=prefix)

    def stop(self) -> None:
        self.halt.set()
        self.join(5)
        self.sim.clear_faults()


@pytest.fixture
def till(clinic, simulator: Simulator, gateway: GoCardlessGateway, tmp_path) -> Till:
    simulator.rate_limit = 1_000_000  # the storm's 429s are injected ones
    return Till(clinic, simulator, gateway, tmp_path)


def test_a_fault_storm_with_a_killed_engine_ends_with_one_remote_resource_per_intent(
    till: Till, request: pytest.FixtureRequest
) -> None:
    storm = _scale(request)
    rng = random.Random(storm.seed)
    sim = till.simulator
    gold = till.clinic.tier_id
    silver = catalogue.add_tier(
        till.services, staff_id=till.clinic.manager, name="Silver", monthly_price="29.00", discount="10"
    ).id
    product = catalogue.add_product(till.services, staff_id=till.clinic.manager, name="Serum", price="30.00")
    storm.intents["product"] = [product.id]
    for n in range(storm.members):
        _sign_up(till, n, gold if n % 3 else silver)
    assert len(till.rows()) == 3 * storm.members

    # 1. Another till's engine, in its own process, is killed while GoCardless holds its request.
    _kill_mid_send(till, storm)
    in_flight = [r for r in till.rows() if r.status == "in_flight"]
    assert len(in_flight) == 1 and in_flight[0].kind == "create_customer"
    made_before_the_kill = sim.store.idempotency.get(("customers", in_flight[0].idempotency_key))
    assert made_before_the_kill is not None  # GoCardless made it; the till never heard back

    # 2. Its lease holds this till back until it runs out; then this till recovers the row and carries on.
    engine = till.engine()
    held = engine.run_cycle(till.today)
    assert held.another_till_syncing and held.first_drain.stopped and not held.ok
    assert held.sent == 0 and [r.status for r in till.rows() if r.id == in_flight[0].id] == ["in_flight"]
    till.clock.advance(seconds=LEASE_DURATION.total_seconds() + 1)

    # 3. Full cycles in a storm of faults, with the clinic working between them.
    driver = StormDriver(sim, random.Random(storm.seed + 1), storm.fault_share, storm.timeouts)
    driver.start()
    recovered = 0
    for round_no in range(storm.rounds):
        report = engine.run_cycle(till.today)
        assert not report.another_till_syncing
        recovered += report.recovered
        if round_no < storm.rounds - 2:
            _desk_work(till, storm, rng, silver, gold)
        till.clock.advance(minutes=31)
        sim.advance(hours=1)
    driver.stop()
    assert recovered == 1

    # 4. The storm passes: cycles until nothing is left to send and nothing new is applied.
    for _ in range(20):
        report = engine.run_cycle(till.today)
        assert report.ok, report
        if not till.unsettled() and report.sent == 0 and report.pull and report.pull.applied == 0:
            break
        till.clock.advance(minutes=31)
    else:
        raise AssertionError([(r.kind, r.status, r.last_error) for r in till.unsettled()])

    assert len(sim.faults.applied) > storm.members // 2
    _assert_one_remote_resource_per_intent(till, storm, made_before_the_kill)
    _assert_local_state_is_the_remote_state(till)


def _by_metadata(sim: Simulator, kind: str, key: str) -> Counter[str]:
    return Counter(r["metadata"].get(key) for r in sim.all(kind) if r.get("metadata", {}).get(key))


def _assert_one_remote_resource_per_intent(till: Till, storm: Storm, killed_customer: str) -> None:
    sim = till.simulator
    rows = till.rows()
    assert [(r.kind, r.status, r.last_error) for r in rows if r.status != "done"] == []
    members = till.memberships()
    # Ending a membership withdraws its set-up work never sent: those members have nothing remote.
    sent_set_up = {r.record_id for r in rows if r.kind == "create_customer"}
    withdrawn = {m.id for m in members} - sent_set_up
    assert all(m.status == MembershipStatus.ENDED.value for m in members if m.id in withdrawn)
    assert all(m.gc_customer_id is None for m in members if m.id in withdrawn)

    customers = _by_metadata(sim, "customers", "membership_id")
    assert customers == Counter({m: 1 for m in sent_set_up})
    assert sim.count("customers") == len(sent_set_up) > storm.members // 2
    assert killed_customer in {m.gc_customer_id for m in members}

    requests = _by_metadata(sim, "billing_requests", "membership_id")
    assert requests == Counter({r.record_id: 1 for r in rows if r.kind == "create_billing_request"})
    assert sim.count("billing_requests") == len(requests)

    created = [r for r in rows if r.kind == "create_subscription"]
    subscriptions = _by_metadata(sim, "subscriptions", "membership_id")
    assert subscriptions == Counter(r.record_id for r in created)
    assert sim.count("subscriptions") == len(created) == len({r.remote_id for r in created})

    sales = [r for r in rows if r.kind == "create_payment"]
    assert len(sales) == len(storm.intents.get("sales", [])) > 0
    payments = _by_metadata(sim, "payments", "sale_id")
    assert payments == Counter({r.record_id: 1 for r in sales})
    assert {r.remote_id for r in sales} == {
        p["id"] for p in sim.all("payments") if p["metadata"].get("sale_id")
    }
    # Every remote id the outbox recorded is the resource made under that row's key.
    kinds = {
        "create_customer": "customers",
        "create_billing_request": "billing_requests",
        "create_subscription": "subscriptions",
        "create_payment": "payments",
    }
    for row in rows:
        if row.kind in kinds:
            assert sim.store.idempotency[(kinds[row.kind], row.idempotency_key)] == row.remote_id

    # Every event GoCardless emitted was seen, and once.
    with till.uow(read_only=True) as uow:
        processed = list(uow.session.scalars(select(ProcessedEventRow.event_id)))
        parked = list(
            uow.session.scalars(select(SyncStateRow.key).where(SyncStateRow.key.startswith("parked:")))
        )
    assert {e["id"] for e in sim.events()} <= set(processed)
    assert parked == []


def _assert_local_state_is_the_remote_state(till: Till) -> None:
    sim = till.simulator
    checked = Counter()
    for m in till.memberships():
        if m.gc_customer_id is None:  # ended before anything was sent
            assert m.status == MembershipStatus.ENDED.value and m.gc_billing_request_id is None
            continue
        customer = sim.get("customers", m.gc_customer_id)
        assert customer["metadata"] == {"membership_id": m.id}
        if m.gc_billing_request_id is None or m.gc_flow_id is None:  # ended half-way: the rest withdrawn
            assert m.status == MembershipStatus.ENDED.value and m.gc_subscription_id is None
            continue
        br = sim.get("billing_requests", m.gc_billing_request_id)
        assert br["links"]["customer"] == m.gc_customer_id
        flow = sim.get("billing_request_flows", m.gc_flow_id)
        assert flow["links"]["billing_request"] == br["id"]
        assert m.gc_authorisation_url == flow["authorisation_url"]
        mandate_id = br["links"].get("mandate_request_mandate")
        assert m.gc_mandate_id == mandate_id
        if mandate_id is not None:
            mandate = sim.get("mandates", mandate_id)
            assert (m.gc_mandate_status == "active") == (mandate["status"] == "active"), m.id
            checked["mandates"] += 1
        ended = m.status == MembershipStatus.ENDED.value
        if m.gc_subscription_id is None:
            # No subscription: ended before one was made, or never authorised.
            assert ended or mandate_id is None, m.id
            assert not [s for s in sim.all("subscriptions") if s["metadata"]["membership_id"] == m.id]
            continue
        subscription = sim.get("subscriptions", m.gc_subscription_id)
        assert subscription["links"]["mandate"] == m.gc_mandate_id
        assert subscription["metadata"] == {"membership_id": m.id}
        if ended:
            assert subscription["status"] == "cancelled", m.id
            checked["cancelled"] += 1
        else:
            assert subscription["status"] == "active", m.id
            assert subscription["amount"] == m.monthly_price_pence, m.id
            assert subscription["currency"] == m.currency
            checked["active"] += 1
    assert checked["mandates"] and checked["active"], checked
