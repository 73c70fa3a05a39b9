"""The sync lease on every database a clinic may use (SQLite and, when configured, PostgreSQL): while one till
is sending, another till's cycle sends nothing and resets nothing; once it is done, the other takes its turn.

The gateway here is a small working fake (each create answers a new id) whose first create waits until the test
lets it go, so the first till is caught in the middle of sending."""

from __future__ import annotations

import itertools
import threading
from typing import Any

from sqlalchemy import select
from staffing import front_desk

from aestheticc_pos.services import catalogue, memberships
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services.handlers import MessageBus
from aestheticc_pos.store.tables import OutboxRow
from aestheticc_pos.sync.engine import SyncEngine
from aestheticc_pos.sync.gateway import EventPage, FlowResult, RemoteResult


class HeldGateway:
    """Answers creates with new ids and keeps a list of the idempotency keys it was sent; the first call waits
    for ``release``."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def _answer(self, prefix: str, key: str) -> str:
        with self._lock:
            first = not self.keys
            self.keys.append(key)
        if first:
            self.entered.set()
            assert self.release.wait(20), "the test never let the first request go"
        return f"{prefix}{next(self._ids):04d}"

    def create_customer(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult:
        return RemoteResult(self._answer("CU", idempotency_key), "created")

    def create_billing_request(self, payload: dict[str, Any], idempotency_key: str) -> RemoteResult:
        return RemoteResult(self._answer("BRQ", idempotency_key), "pending")

    def create_flow(self, payload: dict[str, Any], idempotency_key: str) -> FlowResult:
        flow = self._answer("BRF", idempotency_key)
        return FlowResult(flow, None, authorisation_url=f"https://pay.example/flow/{flow}")

    def list_events(
        self, since: str | None = None, after: str | None = None, limit: int = 500, **filters: Any
    ) -> EventPage:
        return EventPage(events=[], after=None)


def test_one_till_syncs_at_a_time_on_a_shared_database(services, manager) -> None:
    tier = catalogue.add_tier(services, staff_id=manager, name="Gold", monthly_price="49.00", discount="20")
    client = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Amy", last_name="Jones", email="amy@example.com"
    )
    memberships.start_membership(services, client_id=client.id, tier_id=tier.id, staff_id=manager)
    gateway = HeldGateway()
    bus = MessageBus(services)
    first = SyncEngine(services.uow, gateway, services.clock, bus=bus, holder="till-a")  # type: ignore[arg-type]
    second = SyncEngine(services.uow, gateway, services.clock, bus=bus, holder="till-b")  # type: ignore[arg-type]
    today = services.today()

    sending = threading.Thread(target=lambda: first.run_cycle(today))
    sending.start()
    try:
        assert gateway.entered.wait(20)
        assert first.lease_holder() == "till-a"
        busy = second.run_cycle(today)
        assert busy.first_drain.another_till_syncing and not busy.ok
        with services.uow(read_only=True) as uow:  # the row till A is sending was not reset by till B
            in_flight = uow.session.scalars(
                select(OutboxRow.kind).where(OutboxRow.status == "in_flight")
            ).all()
        assert in_flight == ["create_customer"]
    finally:
        gateway.release.set()
        sending.join(20)

    assert first.lease_holder() is None  # released at the end of its cycle
    turn = second.run_cycle(today)
    assert turn.ok and turn.sent == 0  # till A sent everything; nothing twice
    assert len(gateway.keys) == len(set(gateway.keys)) == 3
