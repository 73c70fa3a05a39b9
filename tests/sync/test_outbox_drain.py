"""Draining the outbox: the real services queue the work, the real gocardless-pro client sends it to the simulator.

Each test has a migrated SQLite file, ``Services`` on a ``FixedClock`` (09:00 UTC, 24 Nov 2026) and a
``SyncEngine`` over ``GoCardlessGateway``. Faults are injected in the simulator; between drains the clock is moved
past every backoff, and in the end GoCardless holds exactly one resource per piece of work.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import pytest
from harness import clock_seconds
from sqlalchemy import select, update
from staffing import front_desk

from aestheticc_pos.clock import FixedClock
from aestheticc_pos.services import clients
from aestheticc_pos.services import membership_billing as billing_service
from aestheticc_pos.services import memberships as memberships_service
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.handlers import MessageBus
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.outbox_repo import enqueue
from aestheticc_pos.store.tables import MembershipRow, OutboxRow
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory
from aestheticc_pos.sync import outbox
from aestheticc_pos.sync.drain import DrainReport
from aestheticc_pos.sync.engine import SyncEngine
from aestheticc_pos.sync.gateway import RateLimited, TransientGatewayError
from aestheticc_pos.sync.gocardless import GoCardlessGateway
from aestheticc_pos.sync.simulator import (
    ERROR_500,
    FAULTS,
    HTML_502,
    LOST_RESPONSE,
    RATE_LIMIT_429,
    RESET,
    TIMEOUT,
    Simulator,
)

START = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
SET_UP = ("create_customer", "create_billing_request", "create_flow")


@dataclass
class Till:
    services: Services
    uow: UnitOfWorkFactory
    clock: FixedClock
    gateway: GoCardlessGateway
    simulator: Simulator
    receptionist: str
    tier_id: str

    def engine(self, **options: object) -> SyncEngine:
        options.setdefault("monotonic", clock_seconds(self.clock))
        return SyncEngine(
            self.uow,
            self.gateway,
            self.clock,
            bus=MessageBus(self.services),
            rng=random.Random(7),
            **options,  # type: ignore[arg-type]
        )

    def sign_up(
        self, first: str = "Ada", last: str = "Lovelace", email: str | None = "ada@example.com"
    ) -> str:
        client = clients.add_client(
            self.services, staff_id=front_desk(self.services), first_name=first, last_name=last, email=email
        )
        view = memberships_service.start_membership(
            self.services, client_id=client.id, tier_id=self.tier_id, staff_id=self.receptionist
        )
        return view.id

    def rows(self, membership_id: str | None = None) -> list[OutboxRow]:
        with self.uow(read_only=True) as uow:
            query = select(OutboxRow).order_by(OutboxRow.seq)
            if membership_id is not None:
                query = query.where(OutboxRow.record_id == membership_id)
            rows = list(uow.session.scalars(query))
            uow.session.expunge_all()
        return rows

    def membership(self, membership_id: str) -> MembershipRow:
        with self.uow(read_only=True) as uow:
            row = uow.session.get(MembershipRow, membership_id)
            assert row is not None
            uow.session.expunge(row)
        return row

    def drain_until_settled(self, engine: SyncEngine, rounds: int = 30) -> list[DrainReport]:
        """Drain, moving the clock past every backoff, until nothing is pending or in flight."""
        reports = []
        for _ in range(rounds):
            reports.append(engine.drain_once(max_rows=1000))
            if not [r for r in self.rows() if r.status in ("pending", "in_flight")]:
                return reports
            self.clock.advance(minutes=31)
        raise AssertionError(f"the outbox did not settle: {[(r.kind, r.status) for r in self.rows()]}")


@pytest.fixture
def till(clinic, simulator: Simulator, gateway: GoCardlessGateway) -> Till:
    return Till(
        clinic.services, clinic.uow, clinic.clock, gateway, simulator, clinic.receptionist, clinic.tier_id
    )


def _set_up_counts(simulator: Simulator) -> tuple[int, int, int]:
    return (
        simulator.count("customers"),
        simulator.count("billing_requests"),
        simulator.count("billing_request_flows"),
    )


# --- The happy path ------------------------------------------------------------------------------------------


def test_a_sign_up_is_sent_once_in_order_and_the_ids_come_back(till: Till) -> None:
    membership_id = till.sign_up()
    assert [(r.kind, r.status) for r in till.rows(membership_id)] == [
        ("create_customer", "pending"),
        ("create_billing_request", "waiting_for_prerequisite"),
        ("create_flow", "waiting_for_prerequisite"),
    ]

    report = till.engine().drain_once()

    assert report == DrainReport(sent=3)
    assert _set_up_counts(till.simulator) == (1, 1, 1)
    rows = till.rows(membership_id)
    assert [r.status for r in rows] == ["done", "done", "done"]
    assert all(r.attempts == 1 and r.last_error is None for r in rows)
    customer, request, flow = (r.remote_id for r in rows)
    assert till.simulator.get("billing_requests", request)["links"]["customer"] == customer
    assert till.simulator.get("billing_request_flows", flow)["links"]["billing_request"] == request
    # In order per record: customer, then billing request, then flow.
    posted = [path for method, path, _ in till.simulator.requests if method == "POST"]
    assert posted == ["/customers", "/billing_requests", "/billing_request_flows"]

    m = till.membership(membership_id)
    assert (m.gc_customer_id, m.gc_billing_request_id, m.gc_flow_id) == (customer, request, flow)
    assert m.gc_authorisation_url and m.gc_authorisation_url.startswith(till.simulator.base_url)

    again = till.engine().drain_once()
    assert again == DrainReport()
    assert _set_up_counts(till.simulator) == (1, 1, 1)
    assert len([r for r in till.simulator.requests if r[0] == "POST"]) == 3


def test_a_second_member_is_not_held_back_by_the_first(till: Till) -> None:
    first = till.sign_up()
    second = till.sign_up("Grace", "Hopper", "grace@example.com")
    till.simulator.inject(ERROR_500, path_prefix="/billing_requests")  # only the first member's request

    report = till.engine().drain_once()

    assert (report.sent, report.retried) == (4, 1)
    assert [r.status for r in till.rows(first)] == ["done", "pending", "waiting_for_prerequisite"]
    assert [r.status for r in till.rows(second)] == ["done", "done", "done"]


# --- Faults --------------------------------------------------------------------------------------------------

# The client itself retries timeouts, resets and HTML 502s three times: inject three to reach the engine.
FAULT_TIMES = {TIMEOUT: 3, RESET: 3, HTML_502: 3, ERROR_500: 1, RATE_LIMIT_429: 1, LOST_RESPONSE: 1}


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("path", ["/customers", "/billing_requests"])
def test_faults_are_retried_with_backoff_and_make_one_resource_each(
    till: Till, fault: str, path: str
) -> None:
    if fault == TIMEOUT and path == "/billing_requests":
        pytest.skip("one timeout case is enough (each costs seconds)")
    membership_id = till.sign_up()
    till.simulator.inject(fault, times=FAULT_TIMES[fault], path_prefix=path, method="POST")
    engine = till.engine()

    first = engine.drain_once()

    if fault == LOST_RESPONSE:
        # The client's own retry replays the key: GoCardless answers with the resource it already made.
        assert (first.sent, first.retried) == (3, 0)
    else:
        assert first.retried == 1
        row = next(r for r in till.rows(membership_id) if r.status == "pending")
        assert row.kind == ("create_customer" if path == "/customers" else "create_billing_request")
        assert row.attempts == 1 and row.last_error
        assert "sim-token" not in row.last_error
        assert row.next_attempt_at is not None and row.next_attempt_at > START
        assert engine.drain_once().sent == 0  # not before its time
        till.drain_until_settled(engine)

    assert [r.status for r in till.rows(membership_id)] == ["done", "done", "done"]
    assert _set_up_counts(till.simulator) == (1, 1, 1)
    assert till.membership(membership_id).gc_authorisation_url


@pytest.mark.parametrize("fault", [RESET, HTML_502, ERROR_500, RATE_LIMIT_429])
def test_a_flow_that_was_not_made_is_retried_into_exactly_one(till: Till, fault: str) -> None:
    membership_id = till.sign_up()
    till.simulator.inject(fault, times=FAULT_TIMES[fault], path_prefix="/billing_request_flows")

    till.drain_until_settled(till.engine())

    assert _set_up_counts(till.simulator) == (1, 1, 1)
    assert till.membership(membership_id).gc_authorisation_url


def test_a_lost_flow_answer_is_replaced_by_a_new_flow_whose_link_the_membership_gets(till: Till) -> None:
    """Flows have no GET: the gateway makes a replacement flow for the same billing request (by design)."""
    membership_id = till.sign_up()
    till.simulator.inject(LOST_RESPONSE, path_prefix="/billing_request_flows", method="POST")

    assert till.engine().drain_once().sent == 3

    flow = till.rows(membership_id)[2]
    assert _set_up_counts(till.simulator) == (1, 1, 2)
    m = till.membership(membership_id)
    assert m.gc_flow_id == flow.remote_id
    assert (
        m.gc_authorisation_url
        == till.simulator.get("billing_request_flows", flow.remote_id)["authorisation_url"]
    )


def test_a_rate_limit_stops_the_drain_and_waits_for_the_reset(till: Till) -> None:
    first, second = till.sign_up(), till.sign_up("Grace", "Hopper", "grace@example.com")
    till.simulator.inject(RATE_LIMIT_429, path_prefix="/customers")
    engine = till.engine()

    report = engine.drain_once()

    assert (report.sent, report.retried) == (0, 1)
    assert report.stopped and "slow down" in report.stopped
    assert [r.status for r in till.rows(second)][0] == "pending"
    assert till.rows(second)[0].attempts == 0  # never sent: the drain stopped
    till.drain_until_settled(engine)
    assert [r.status for r in till.rows(first) + till.rows(second)] == ["done"] * 6
    assert till.simulator.count("customers") == 2


def test_backoff_is_full_jitter_doubling_from_five_seconds_up_to_thirty_minutes() -> None:
    rng = random.Random(1)
    for attempts, ceiling in [(1, 5), (2, 10), (3, 20), (10, 1800), (60, 1800)]:
        waits = [outbox.backoff(attempts, rng).total_seconds() for _ in range(200)]
        assert all(0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling * 0.8
    row = OutboxRow(attempts=1, status="in_flight")
    now = START
    until = outbox.mark_retry(row, RateLimited(dt.timedelta(seconds=42)), now, rng)
    assert until == now + dt.timedelta(seconds=42) and row.status == "pending"
    outbox.mark_retry(row, TransientGatewayError("GoCardless did not answer in time."), now, rng)
    assert row.last_error == "GoCardless did not answer in time."


def test_a_refused_token_stops_the_drain_and_leaves_the_work_pending(
    till: Till, simulator: Simulator
) -> None:
    membership_id = till.sign_up()
    simulator.access_token = "the-real-token"  # the till's token is now wrong

    report = till.engine().drain_once()

    assert report.authentication_failed and report.stopped and "Settings" in report.stopped
    assert (report.sent, report.failed) == (0, 0)
    customer = till.rows(membership_id)[0]
    assert customer.status == "pending" and customer.next_attempt_at is None
    simulator.access_token = None
    assert till.engine().drain_once().sent == 3


# --- Permanent errors ----------------------------------------------------------------------------------------


def _mandate_for(till: Till, membership_id: str) -> str:
    """The client authorises the flow; the mandate and the first month's payment are recorded as the events
    code records them."""
    m = till.membership(membership_id)
    assert m.gc_flow_id is not None and m.gc_billing_request_id is not None
    till.simulator.authorise(m.gc_flow_id, account_holder_name="Ada Lovelace", account_number="55779911")
    links = till.simulator.get("billing_requests", m.gc_billing_request_id)["links"]
    mandate = links["mandate_request_mandate"]
    with till.uow() as uow:
        uow.session.execute(
            update(MembershipRow).where(MembershipRow.id == membership_id).values(gc_mandate_id=mandate)
        )
        member = repo.load_membership(uow.session, membership_id)
        billing_service.record_first_payment_in(uow.session, member, links["payment_request_payment"])
        uow.commit()
    return mandate


def _queue_subscription(till: Till, membership_id: str, start_date: dt.date) -> tuple[str, str]:
    """A create_subscription (mandate left to the engine) and an amendment waiting for it."""
    with till.uow() as uow:
        create = enqueue(
            uow.session,
            kind="create_subscription",
            record_type="membership",
            record_id=membership_id,
            payload={
                "amount": 4900,
                "currency": "GBP",
                "interval_unit": "monthly",
                "day_of_month": 24,
                "start_date": start_date.isoformat(),
                "name": "Gold membership",
                "metadata": {"membership_id": membership_id},
                "links": {"mandate": None},
            },
        )
        amend = enqueue(
            uow.session,
            kind="update_subscription",
            record_type="membership",
            record_id=membership_id,
            payload={"subscription_id": None, "amount": 2900},
            depends_on=create,
        )
        uow.commit()
    return create, amend


def test_a_subscription_gets_the_mandate_and_its_amendment_gets_the_subscription(till: Till) -> None:
    membership_id = till.sign_up()
    till.engine().drain_once()
    mandate = _mandate_for(till, membership_id)
    _queue_subscription(till, membership_id, START.date() + dt.timedelta(days=40))

    report = till.engine().drain_once()

    assert report.sent == 2
    create, amend = till.rows(membership_id)[3:]
    subscription = till.simulator.get("subscriptions", create.remote_id)
    assert subscription["links"]["mandate"] == mandate
    assert subscription["amount"] == 2900
    assert amend.payload["subscription_id"] == create.remote_id
    assert till.membership(membership_id).gc_subscription_id == create.remote_id


def test_a_validation_error_fails_the_row_and_holds_back_the_rest_of_the_record(till: Till) -> None:
    membership_id = till.sign_up()
    till.engine().drain_once()
    _mandate_for(till, membership_id)
    with till.uow() as uow:  # a one-off payment GoCardless refuses (no amount), and work waiting for it
        refused_id = enqueue(
            uow.session,
            kind="create_payment",
            record_type="membership",
            record_id=membership_id,
            payload={"amount": 0, "currency": "GBP", "metadata": {"membership_id": membership_id}},
        )
        waiting_id = enqueue(
            uow.session,
            kind="create_subscription",
            record_type="membership",
            record_id=membership_id,
            payload={"name": "Gold membership", "metadata": {"membership_id": membership_id}},
            depends_on=refused_id,
        )
        uow.commit()
    payments_before = till.simulator.count("payments")

    report = till.engine().drain_once()

    assert (report.sent, report.failed, report.waiting, report.blocked) == (0, 1, 1, (waiting_id,))
    refused, waiting = till.rows(membership_id)[3:]
    assert refused.id == refused_id and refused.status == "failed"
    assert refused.last_error and "amount" in refused.last_error and refused.last_error.endswith(".")
    assert waiting.status == "waiting_for_prerequisite"
    till.clock.advance(days=1)
    assert till.engine().drain_once() == DrainReport(waiting=1, blocked=(waiting_id,))
    assert till.simulator.count("subscriptions") == 0 and till.simulator.count("payments") == payments_before


def test_an_invalid_customer_is_failed_and_its_billing_request_and_flow_wait(till: Till) -> None:
    membership_id = till.sign_up()
    with till.uow() as uow:  # more metadata than GoCardless allows (3 keys)
        row = uow.session.scalars(select(OutboxRow).where(OutboxRow.kind == "create_customer")).one()
        row.payload = {**row.payload, "metadata": {"a": "1", "b": "2", "c": "3", "d": "4"}}
        uow.commit()

    report = till.engine().drain_once()

    assert (report.sent, report.failed, report.waiting) == (0, 1, 2)
    assert [r.status for r in till.rows(membership_id)] == ["failed", *["waiting_for_prerequisite"] * 2]
    assert "metadata" in (till.rows(membership_id)[0].last_error or "")
    assert _set_up_counts(till.simulator) == (0, 0, 0)


# --- Crashes -------------------------------------------------------------------------------------------------


def test_a_crash_after_gocardless_made_the_customer_replays_into_the_same_one(till: Till) -> None:
    membership_id = till.sign_up()
    customer = till.rows(membership_id)[0]
    # The first engine took the row and sent it; GoCardless made the customer but no answer ever came back
    # (every one of the client's attempts lost its response), and then the till lost power.
    with till.uow() as uow:
        row = uow.session.scalars(select(OutboxRow).where(OutboxRow.id == customer.id)).one()
        outbox.mark_in_flight(row, START)
        uow.commit()
    till.simulator.inject(LOST_RESPONSE, times=3, path_prefix="/customers", method="POST")
    with pytest.raises(TransientGatewayError):
        till.gateway.create_customer(customer.payload, customer.idempotency_key)
    assert till.simulator.count("customers") == 1
    assert till.engine().drain_once() == DrainReport(waiting=2)  # in flight: nobody sends it twice at once

    restarted = till.engine()
    assert restarted.recover_in_flight() == 1
    report = restarted.drain_once()

    assert report.sent == 3
    assert _set_up_counts(till.simulator) == (1, 1, 1)
    rows = till.rows(membership_id)
    assert rows[0].attempts == 2
    assert till.simulator.all("customers")[0]["id"] == rows[0].remote_id


# --- Rate share ----------------------------------------------------------------------------------------------


class Stopwatch:
    """A monotonic timer the test moves by hand."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


def test_the_engine_keeps_under_its_share_of_the_rate_limit(till: Till) -> None:
    """The budget refills as time passes on the engine's monotonic timer, whatever its clock says: the till's
    clock stands still here (as a fixed clock in training would), and the budget still refills."""
    for n in range(3):
        till.sign_up(f"Client{n}", "Member", f"c{n}@example.com")
    timer = Stopwatch()
    engine = till.engine(rate_share=0.5, requests_per_minute=8, monotonic=timer)  # 4 a minute

    first = engine.drain_once()

    assert first.sent == 4 and first.stopped and "rate limit" in first.stopped
    assert engine.drain_once().sent == 0  # no time has passed
    timer.seconds += 30
    assert engine.drain_once().sent == 2
    timer.seconds += 5 * 60
    assert engine.drain_once().sent == 3


# --- Stress --------------------------------------------------------------------------------------------------


@pytest.mark.stress
def test_two_hundred_sign_ups_with_faults_on_thirty_percent_of_requests(till: Till) -> None:
    rng = random.Random(2026)
    members = [till.sign_up(f"Client{n}", "Member", f"c{n}@example.com") for n in range(200)]
    cheap_faults = [RESET, HTML_502, ERROR_500, RATE_LIMIT_429, LOST_RESPONSE]
    engine = till.engine(rate_share=1.0)
    for _ in range(60):
        unsent = [r for r in till.rows() if r.status != "done"]
        if not unsent:
            break
        till.simulator.clear_faults()
        for _ in range(round(0.3 * len(unsent))):  # about 30% of this round's requests meet a fault
            fault = rng.choice(cheap_faults)
            # A lost flow response makes a replacement flow by design: keep it to customers and requests.
            prefix = rng.choice(["/customers", "/billing_requests"]) if fault == LOST_RESPONSE else None
            till.simulator.inject(fault, path_prefix=prefix, method="POST")
        engine.drain_once(max_rows=1000)
        till.clock.advance(minutes=31)
    till.simulator.clear_faults()
    till.drain_until_settled(engine)

    assert len(till.simulator.faults.applied) > 150
    assert _set_up_counts(till.simulator) == (200, 200, 200)
    assert all(r.status == "done" for r in till.rows())
    assert all(till.membership(m).gc_authorisation_url for m in members)
