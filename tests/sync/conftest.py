"""Fixtures for the GoCardless sync tests: a fresh simulator per test, the real client pointed at it
(``gateway``: the adapter the till uses, the one way a test gets it; ``gc_client``: the bare client), and a
clinic on a migrated SQLite file (``clinic``: services on a FixedClock, the message bus over them as ``app.py``
builds it, a manager, a receptionist, a Gold tier)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

import gocardless_pro
import pytest
from harness import Till, clock_seconds

from aestheticc_pos.clock import FixedClock
from aestheticc_pos.domain.staff import Role
from aestheticc_pos.services import catalogue
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.context import ClinicSettings, Services, write_clinic_settings
from aestheticc_pos.services.handlers import MessageBus
from aestheticc_pos.store.db import create_engine_for
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory
from aestheticc_pos.sync.engine import SyncEngine
from aestheticc_pos.sync.gocardless import GoCardlessGateway
from aestheticc_pos.sync.simulator import Simulator

START = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
SIM_TOKEN = "sim-token"  # the simulator's practice token
# The simulator answers at once; a second is plenty, and shorter than its timeout faults (2 s) so those time out.
TIMEOUT = 1.0


@dataclass
class Clinic:
    services: Services
    uow: UnitOfWorkFactory
    clock: FixedClock
    manager: str
    receptionist: str
    tier_id: str
    bus: MessageBus


@pytest.fixture
def clinic(tmp_path, copy_migrated_sqlite) -> Iterator[Clinic]:
    url = copy_migrated_sqlite(tmp_path / "till.db")
    db = create_engine_for(url)
    uow = UnitOfWorkFactory(db)
    clock = FixedClock(START)
    services = Services(uow=uow, clock=clock)
    with services.uow() as work:
        write_clinic_settings(work.session, ClinicSettings(name="Test Clinic", address="1 High Street, Bath"))
        work.commit()
    manager = staff_service.add_staff(
        services, name="Mia Manager", role=Role.MANAGER, pin="123456", by_staff_id=None
    ).id
    receptionist = staff_service.add_staff(
        services, name="Rita Reception", role=Role.RECEPTIONIST, pin="1234", by_staff_id=manager
    ).id
    tier = catalogue.add_tier(services, staff_id=manager, name="Gold", monthly_price="49.00", discount="20")
    yield Clinic(services, uow, clock, manager, receptionist, tier.id, MessageBus(services))
    db.dispose()


@pytest.fixture
def till(clinic: Clinic, simulator: Simulator, gateway: GoCardlessGateway) -> Till:
    """A till on the clinic, syncing with the simulator; both clocks at ``START``."""
    engine = SyncEngine(
        clinic.uow,
        gateway,
        clinic.clock,
        bus=clinic.bus,
        rng=random.Random(7),
        monotonic=clock_seconds(clinic.clock),
    )
    return Till(
        clinic.services,
        clinic.uow,
        clinic.clock,
        gateway,
        simulator,
        engine,
        clinic.receptionist,
        clinic.manager,
        clinic.tier_id,
    )


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(timeout_fault_seconds=2.0) as sim:
        yield sim


@pytest.fixture
def gateway(simulator: Simulator) -> GoCardlessGateway:
    """The real adapter over the real client, on the simulator with its clock at ``START``."""
    simulator.set_clock(START)
    return GoCardlessGateway(SIM_TOKEN, base_url=simulator.base_url, timeout=TIMEOUT)


@pytest.fixture
def gc_client(simulator: Simulator) -> gocardless_pro.Client:
    return gocardless_pro.Client(access_token=SIM_TOKEN, base_url=simulator.base_url, timeout=5)
