"""Fixtures for screen tests: a ``Desk`` over a fresh database in the test's own data directory.

``desk`` is an empty clinic (a copy of a database migrated once per run); ``demo_desk`` holds a small demo clinic
(40 clients, 24 Nov 2026 09:00 UTC on a ``FixedClock``) with Rita Evans (receptionist) signed in.
``sign_in(desk, name)`` switches staff.

The demo clinic is made once per run (through the real services) and each test gets its own copy of the file.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from aestheticc_pos.app import build_services
from aestheticc_pos.clock import FixedClock
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.demo import fill_demo_clinic
from aestheticc_pos.settings import DATABASE_FILE, AppSettings, load_settings, sqlite_url
from aestheticc_pos.ui.desk import Desk

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def ui_services(copy_migrated_sqlite):
    settings = load_settings()
    copy_migrated_sqlite(settings.data_dir / DATABASE_FILE)
    services = build_services(settings)
    services.clock = FixedClock(NOW)
    return services


@pytest.fixture
def desk(qtbot, ui_services) -> Desk:
    desk = Desk(ui_services)
    desk.settings = ui_services.settings()
    return desk


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite_template: Path) -> Path:
    folder = tmp_path_factory.mktemp("demo-clinic")
    path = folder / DATABASE_FILE
    shutil.copyfile(migrated_sqlite_template, path)
    services = build_services(AppSettings(data_dir=folder, database_url=sqlite_url(path)))
    services.clock = FixedClock(NOW)
    fill_demo_clinic(services, clients=40, seed=5)
    services.uow.engine.dispose()  # closes the connections, so the WAL is checkpointed into the file
    return path


@pytest.fixture
def demo_desk(qtbot, demo_database: Path) -> Desk:
    settings = load_settings()
    shutil.copyfile(demo_database, settings.data_dir / DATABASE_FILE)
    services = build_services(settings)
    services.clock = FixedClock(NOW)
    desk = Desk(services)
    desk.settings = services.settings()
    sign_in(desk, "Rita Evans")
    return desk


def sign_in(desk: Desk, name: str) -> None:
    member = next(m for m in staff_service.list_staff(desk.services) if m.name == name)
    desk.sign_in(member)


@pytest.fixture
def switch_staff():
    """``switch_staff(desk, name)``: another member of staff takes over the till (``sign_in``)."""
    return sign_in
