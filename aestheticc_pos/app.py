"""The one place that wires the real parts together (DESIGN.md §1):
settings → engine (migrated) → unit-of-work factory → services → secret store → gateway → sync → main window.

In training mode the GoCardless side is the simulator, started here on 127.0.0.1 for as long as the app runs.

Tests wire the same parts over temporary databases and fakes; nothing here runs at import time.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from aestheticc_pos.services.clock import SystemClock
from aestheticc_pos.services.context import Services
from aestheticc_pos.settings import AppSettings, redact_url

if TYPE_CHECKING:
    from aestheticc_pos.sync.connection import SyncConnection
    from aestheticc_pos.sync.simulator import Simulator

log = logging.getLogger(__name__)

TRAINING_INTERVAL = 5.0  # seconds: practice feels immediate (the simulator is on this computer)


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


def build_sync(
    settings: AppSettings, services: Services, *, base_url: str | None = None, interval: float | None = None
) -> SyncConnection:
    """The till's connection to GoCardless: the OS keyring's token for the chosen environment (training: the
    simulator at ``base_url`` and its practice token). It starts when the window starts it."""
    from aestheticc_pos.sync.connection import SyncConnection
    from aestheticc_pos.sync.runner import DEFAULT_INTERVAL
    from aestheticc_pos.sync.secrets import KeyringSecretStore

    return SyncConnection(
        services.uow,  # type: ignore[arg-type]
        services.clock,
        services.today,
        KeyringSecretStore(),
        settings.gocardless_environment,
        base_url=base_url,
        training=settings.training,
        interval=interval or (TRAINING_INTERVAL if settings.training else DEFAULT_INTERVAL),
        holder=till_name(settings),
    )


def till_name(settings: AppSettings) -> str:
    """This till's name in the sync lease: the computer and its data folder, so a restarted till takes its
    own lease back at once instead of waiting for it to run out."""
    import hashlib
    import socket

    folder = hashlib.sha256(str(settings.data_dir.resolve()).encode()).hexdigest()[:8]
    return f"{socket.gethostname()[:28]}-{folder}"


def run_gui(settings: AppSettings, *, smoke: bool = False) -> int:
    """Start the front desk; with ``smoke``, open the main window, let it draw, and exit 0."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from aestheticc_pos.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Aestheticc POS")
    app.setOrganizationName("Aestheticc")
    if settings.training:
        prepare_training_database(settings)
    services = build_services(settings)
    simulator = start_training_simulator(settings) if settings.training else None
    sync = build_sync(settings, services, base_url=None if simulator is None else simulator.base_url)
    window = MainWindow(services, training=settings.training, app_settings=settings, sync=sync)
    if smoke:
        window.show()
        QTimer.singleShot(200, app.quit)
    else:
        window.showMaximized()  # a till's screen belongs to the front desk
    try:
        return app.exec()
    finally:
        sync.stop()
        if simulator is not None:
            stop_training_simulator(simulator, settings)


TRAINING_TEMPLATE = "practice-clinic.db"


def prepare_training_database(settings: AppSettings) -> None:
    """Each training session starts from the same practice clinic (the demo clinic, without Direct Debit
    members: trainees sign members up themselves against the simulator, which starts empty each time).

    The practice clinic is built once into ``practice-clinic.db`` in the training folder and copied over the
    training database at every start; what was practised last time is gone, as staff are told on screen.
    """
    import shutil

    from aestheticc_pos.services.demo import fill_demo_clinic
    from aestheticc_pos.settings import DATABASE_FILE, sqlite_url

    template = settings.data_dir / TRAINING_TEMPLATE
    if not template.exists():
        building = template.with_suffix(".building")
        building.unlink(missing_ok=True)
        log.info("Training: building the practice clinic (once)")
        services = build_services(replace(settings, database_url=sqlite_url(building)))
        fill_demo_clinic(services, clients=120, members=False)
        services.uow.engine.dispose()  # type: ignore[attr-defined]
        building.replace(template)
    database = settings.data_dir / DATABASE_FILE
    for leftover in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(template, database)


def start_training_simulator(settings: AppSettings) -> Simulator:
    """The practice GoCardless for training mode, on 127.0.0.1 (a free port)."""
    from aestheticc_pos.sync.simulator import Simulator

    simulator = Simulator().start()
    log.info("Training: GoCardless simulator at %s", simulator.base_url)
    return simulator


def stop_training_simulator(simulator: Simulator, settings: AppSettings) -> None:
    simulator.stop()
