"""Services over a real, migrated database (SQLite, and PostgreSQL when configured) with a fixed clock.

``services`` is wired the way ``app.py`` wires the real app, with a ``FixedClock`` at 09:00 London time on
24 Nov 2026. ``manager``, ``receptionist`` and ``practitioner`` are staff ids with PIN 1234.
"""

from __future__ import annotations

import datetime as dt

import pytest
from staffing import a_manager

from aestheticc_pos.clock import FixedClock
from aestheticc_pos.domain.staff import Role
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.context import ClinicSettings, Services, write_clinic_settings
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory

START = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)  # 09:00 in London (GMT in November)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def services(uow_factory: UnitOfWorkFactory, clock: FixedClock) -> Services:
    services = Services(uow=uow_factory, clock=clock)
    with services.uow() as uow:
        write_clinic_settings(
            uow.session,
            ClinicSettings(name="Test Clinic", address="1 High Street, Bath", vat_number="GB123456789"),
        )
        uow.commit()
    return services


@pytest.fixture
def manager(services: Services) -> str:
    """Mia Manager: the clinic's first manager (already there when a fixture before this one needed staff)."""
    return a_manager(services)


@pytest.fixture
def receptionist(services: Services, manager: str) -> str:
    return staff_service.add_staff(
        services, name="Rita Reception", role=Role.RECEPTIONIST, pin="1234", by_staff_id=manager
    ).id


@pytest.fixture
def practitioner(services: Services, manager: str) -> str:
    return staff_service.add_staff(
        services, name="Dr Priya Patel", role=Role.PRACTITIONER, pin="1234", by_staff_id=manager
    ).id
