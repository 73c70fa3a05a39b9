from __future__ import annotations

import datetime as dt

from PySide6.QtWidgets import QLabel

from aestheticc_pos.app import build_services
from aestheticc_pos.services.clock import FixedClock
from aestheticc_pos.services.demo import fill_demo_clinic
from aestheticc_pos.settings import load_settings
from aestheticc_pos.ui.main_window import MainWindow


def _texts(window: MainWindow) -> list[str]:
    return [label.text() for label in window.findChildren(QLabel)]


def test_empty_database_invites_to_the_demo(qtbot) -> None:
    services = build_services(load_settings())
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    texts = _texts(window)
    assert "Welcome to Aestheticc POS" in texts
    assert any("./run demo" in t for t in texts)


def test_demo_clinic_shows_its_figures(qtbot) -> None:
    services = build_services(load_settings())
    services.clock = FixedClock(dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC))
    fill_demo_clinic(services, clients=40, seed=3)
    window = MainWindow(services, training=True)
    qtbot.addWidget(window)
    texts = _texts(window)
    assert "Lumière Aesthetics" in texts
    assert "40" in texts and "Clients" in texts
    assert any("Training mode" in t for t in texts)
    assert window.windowTitle() == "Aestheticc POS — training"
