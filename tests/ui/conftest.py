"""Fixtures for screen tests: a ``Desk`` over a fresh database in the test's own data directory.

``desk`` is an empty clinic; ``demo_desk`` holds a small demo clinic (40 clients, 24 Nov 2026 09:00 UTC on a
``FixedClock``) with Rita Evans (receptionist) signed in. ``sign_in(desk, name)`` switches staff.
"""

from __future__ import annotations

import datetime as dt

import pytest

from aestheticc_pos.app import build_services
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.clock import FixedClock
from aestheticc_pos.services.demo import fill_demo_clinic
from aestheticc_pos.settings import load_settings
from aestheticc_pos.ui.desk import Desk

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def ui_services():
    services = build_services(load_settings())
    services.clock = FixedClock(NOW)
    return services


@pytest.fixture
def desk(qtbot, ui_services) -> Desk:
    desk = Desk(ui_services)
    desk.settings = ui_services.settings()
    return desk


@pytest.fixture
def demo_desk(desk: Desk) -> Desk:
    fill_demo_clinic(desk.services, clients=40, seed=5)
    desk.settings = desk.services.settings()
    sign_in(desk, "Rita Evans")
    return desk


def sign_in(desk: Desk, name: str) -> None:
    member = next(m for m in staff_service.list_staff(desk.services) if m.name == name)
    desk.sign_in(member)
