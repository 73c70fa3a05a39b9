"""A till that syncs with the simulator: the real services on a SQLite file, the real gocardless-pro client,
the sync engine, and helpers that read what the till and GoCardless hold. The till's clock and the
simulator's are kept on the same day (``go_to``)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from staffing import front_desk

from aestheticc_pos.clock import FixedClock
from aestheticc_pos.services import clients
from aestheticc_pos.services import memberships as memberships_service
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.handlers import MessageBus
from aestheticc_pos.store.tables import (
    MembershipPaymentRow,
    MembershipRow,
    OutboxRow,
    ProcessedEventRow,
    SyncStateRow,
)
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory
from aestheticc_pos.sync.engine import CycleReport, SyncEngine
from aestheticc_pos.sync.gocardless import GoCardlessGateway
from aestheticc_pos.sync.pull import WATERMARK_KEY
from aestheticc_pos.sync.simulator import Simulator


def clock_seconds(clock: FixedClock) -> Callable[[], float]:
    """The test clock as the engine's monotonic timer: a test that moves the clock moves the time the rate
    budget refills by (and a 429's wait) too. The app gives the engine ``time.monotonic``."""
    return lambda: clock.now().timestamp()


@dataclass
class Till:
    services: Services
    uow: UnitOfWorkFactory
    clock: FixedClock
    gateway: GoCardlessGateway
    simulator: Simulator
    engine: SyncEngine
    receptionist: str
    manager: str
    tier_id: str

    @property
    def today(self) -> dt.date:
        return self.clock.now().date()

    def cycle(self) -> CycleReport:
        report = self.engine.run_cycle(self.today)
        assert report.ok, report
        return report

    def go_to(self, day: dt.date, *, auto_confirm: bool = True) -> list[str]:
        """Both clocks to ``day``; the simulator runs the subscriptions' schedule on the way."""
        created = self.simulator.advance_to(day, auto_confirm=auto_confirm)
        self.clock.set(dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.UTC))
        return created

    def live_through(self, day: dt.date) -> None:
        """Day by day to ``day``, a sync cycle each morning (as a till open every day would)."""
        while self.today < day:
            self.go_to(self.today + dt.timedelta(days=1))
            self.cycle()

    def restart(self) -> None:
        """The till stopped and started again: a new engine (its own lease holder) over the same database."""
        self.engine = SyncEngine(
            self.uow,
            self.gateway,
            self.clock,
            bus=MessageBus(self.services),
            rng=random.Random(11),
            holder=self.engine.holder,
            monotonic=clock_seconds(self.clock),
        )

    def add_client(self, first: str = "Ada", last: str = "Lovelace") -> str:
        return clients.add_client(
            self.services,
            staff_id=front_desk(self.services),
            first_name=first,
            last_name=last,
            email=f"{first.lower()}@example.com",
        ).id

    def sign_up(self, client_id: str | None = None) -> str:
        view = memberships_service.start_membership(
            self.services,
            client_id=client_id or self.add_client(),
            tier_id=self.tier_id,
            staff_id=self.receptionist,
        )
        return view.id

    def authorise(self, membership_id: str, **kwargs: object) -> None:
        """The client completes the hosted Direct Debit page the till showed them."""
        flow = self.membership(membership_id).gc_flow_id
        assert flow, "the sign-up link has not been sent yet"
        self.simulator.authorise(
            flow, account_holder_name="Ada Lovelace", account_number="55779911", **kwargs
        )

    def membership(self, membership_id: str) -> MembershipRow:
        with self.uow(read_only=True) as uow:
            row = uow.session.get(MembershipRow, membership_id)
            assert row is not None
            uow.session.expunge(row)
        return row

    def rows(self, kind: str | None = None) -> list[OutboxRow]:
        with self.uow(read_only=True) as uow:
            query = select(OutboxRow).order_by(OutboxRow.seq)
            if kind is not None:
                query = query.where(OutboxRow.kind == kind)
            rows = list(uow.session.scalars(query))
            uow.session.expunge_all()
        return rows

    def payments(self, membership_id: str) -> list[MembershipPaymentRow]:
        with self.uow(read_only=True) as uow:
            rows = list(
                uow.session.scalars(
                    select(MembershipPaymentRow)
                    .where(MembershipPaymentRow.membership_id == membership_id)
                    .order_by(MembershipPaymentRow.period_start, MembershipPaymentRow.id)
                )
            )
            uow.session.expunge_all()
        return rows

    def log(self) -> dict[str, ProcessedEventRow]:
        """What each applied event did, by event id (the Sync screen's log)."""
        with self.uow(read_only=True) as uow:
            rows = list(uow.session.scalars(select(ProcessedEventRow)))
            uow.session.expunge_all()
        return {r.event_id: r for r in rows}

    def watermark(self) -> str | None:
        with self.uow(read_only=True) as uow:
            row = uow.session.get(SyncStateRow, WATERMARK_KEY)
            return None if row is None else row.value

    def posts(self) -> int:
        return len([r for r in self.simulator.requests if r[0] == "POST"])
