"""The one place that wires the real parts together (DESIGN.md §1):
settings → engine (migrated) → unit-of-work factory → services → main window.

Tests wire the same parts over temporary databases and fakes; nothing here runs at import time.
"""

from __future__ import annotations

import logging
import sys

from aestheticc_pos.services.clock import SystemClock
from aestheticc_pos.services.context import Services
from aestheticc_pos.settings import AppSettings, redact_url

log = logging.getLogger(__name__)


def build_services(settings: AppSettings, *, migrate: bool = True) -> Services:
    """Services over the configured database, migrated to the newest schema first (a new one is created)."""
    from aestheticc_pos.store.db import create_engine_for
    from aestheticc_pos.store.migrate import upgrade_to_head
    from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory

    if migrate:
        log.info("Migrating database %s", redact_url(settings.database_url))
        upgrade_to_head(settings.database_url)
    engine = create_engine_for(settings.database_url)
    return Services(uow=UnitOfWorkFactory(engine), clock=SystemClock())


def run_gui(settings: AppSettings, *, smoke: bool = False) -> int:
    """Start the front desk; with ``smoke``, open the main window, let it draw, and exit 0."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from aestheticc_pos.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Aestheticc POS")
    app.setOrganizationName("Aestheticc")
    services = build_services(settings)
    window = MainWindow(services, training=settings.training, app_settings=settings)
    if smoke:
        window.show()
        QTimer.singleShot(200, app.quit)
    else:
        window.showMaximized()  # a till's screen belongs to the front desk
    return app.exec()
