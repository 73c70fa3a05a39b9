"""The demo clinic in a real main window at 1366×768, on a fixed clock (24 Nov 2026 09:00 UTC)."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from PySide6.QtCore import Qt

from aestheticc_pos.app import build_services
from aestheticc_pos.clock import FixedClock
from aestheticc_pos.domain.staff import Role
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.demo import DEMO_MANAGER_PIN, DEMO_PIN, fill_demo_clinic
from aestheticc_pos.settings import DATABASE_FILE, AppSettings, load_settings, sqlite_url
from aestheticc_pos.ui.main_window import MainWindow

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def window(qtbot, tmp_path_factory):
    folder = tmp_path_factory.mktemp("day")
    services = build_services(AppSettings(data_dir=folder, database_url=sqlite_url(folder / DATABASE_FILE)))
    services.clock = FixedClock(NOW)
    fill_demo_clinic(services, clients=60, seed=11)
    services.uow.engine.dispose()
    settings = load_settings()
    shutil.copyfile(folder / DATABASE_FILE, settings.data_dir / DATABASE_FILE)
    services = build_services(settings)
    services.clock = FixedClock(NOW)
    window = MainWindow(services, app_settings=settings)

    def settle(_w: MainWindow) -> None:
        qtbot.waitUntil(lambda: not window.desk.runner.busy, timeout=10_000)

    qtbot.addWidget(window, before_close_func=settle)
    window.resize(1366, 768)
    window.show()
    return window


def log_in(qtbot, window: MainWindow, name: str) -> None:
    """Pick the name on the login screen, type their demo PIN (a manager's is 6 digits) and press Enter."""
    qtbot.waitUntil(lambda: name in window.login.buttons, timeout=5000)
    managers = {m.name for m in staff_service.list_staff(window.desk.services, role=Role.MANAGER)}
    qtbot.mouseClick(window.login.buttons[name], Qt.MouseButton.LeftButton)
    qtbot.keyClicks(window.login.pin, DEMO_MANAGER_PIN if name in managers else DEMO_PIN)
    qtbot.keyClick(window.login.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.workspace, timeout=5000)


@pytest.fixture
def sign_in(qtbot):
    return lambda window, name: log_in(qtbot, window, name)
