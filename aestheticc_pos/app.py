"""The one place that wires the real parts together (DESIGN.md §1):
settings → engine (migrated) → unit-of-work factory → services → message bus, secret store → gateway → sync →
main window.

In training mode the GoCardless side is the simulator, started here on 127.0.0.1 for as long as the app runs.

The PostgreSQL password is kept in the OS keyring (``keyring_store.py``), never in ``settings.json``: the
settings give the URL without it, and ``connection_url`` adds it here, just before the engine is built
(and only there). The unit-of-work factory is given the data folder, where the number floor and the audit
log's head are kept outside the database.

Tests wire the same parts over temporary databases and fakes; nothing here runs at import time.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from aestheticc_pos.clock import SystemClock
from aestheticc_pos.keyring_store import DatabasePasswords, KeyringDatabasePasswords, SecretStoreUnavailable
from aestheticc_pos.services.context import Services
from aestheticc_pos.settings import AppSettings, database_login, redact_url, split_password

if TYPE_CHECKING:
    from aestheticc_pos.sync.connection import SyncConnection
    from aestheticc_pos.sync.simulator import Simulator

log = logging.getLogger(__name__)

TRAINING_INTERVAL = 5.0  # seconds: practice feels immediate (the simulator is on this computer)


def build_services(
    settings: AppSettings, *, migrate: bool = True, passwords: DatabasePasswords | None = None
) -> Services:
    """Services over the configured database, migrated to the newest schema first (a new one is created).

    ``passwords`` holds the PostgreSQL password (default: the OS keyring; asked only for a server URL).
    """
    from aestheticc_pos.store.backup import make_backups_private
    from aestheticc_pos.store.db import create_engine_for
    from aestheticc_pos.store.migrate import upgrade_to_head
    from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory

    url = connection_url(settings.database_url, passwords)
    if migrate and upgrade_to_head(url):  # a database already at head is only read
        log.info("Migrated database %s to the newest schema", redact_url(settings.database_url))
    engine = create_engine_for(url)
    if settings.is_sqlite:
        make_backups_private(settings.backups_dir)
    return Services(uow=UnitOfWorkFactory(engine, data_dir=settings.data_dir), clock=SystemClock())


def connection_url(url: str, passwords: DatabasePasswords | None = None) -> str:
    """``url`` with the password the keyring keeps for its login, to build the engine with; never stored.

    An SQLite URL, a URL that already carries a password (``AESTHETICC_DATABASE_URL``, or a settings file from
    a computer with no keyring) or a login with nothing kept is returned as it is: the server may accept the
    login without a password (a trusted network, a certificate, libpq's own password file).
    """
    login = database_login(url)
    if url.startswith("sqlite") or not login or split_password(url)[1] is not None:
        return url
    store = KeyringDatabasePasswords() if passwords is None else passwords
    if not store.available()[0]:
        return url
    try:
        password = store.get_password(login)
    except SecretStoreUnavailable as error:
        log.warning("The database password could not be read from the keyring: %s", error)
        return url
    if password is None:
        return url
    from sqlalchemy.engine import make_url

    return make_url(url).set(password=password).render_as_string(hide_password=False)


def build_sync(
    settings: AppSettings, services: Services, *, base_url: str | None = None, interval: float | None = None
) -> SyncConnection:
    """The till's connection to GoCardless: the OS keyring's token for the chosen environment (training: the
    simulator at ``base_url`` and its practice token), and the message bus that applies what GoCardless reports
    through the services. It starts when the window starts it."""
    from aestheticc_pos.services.handlers import MessageBus
    from aestheticc_pos.sync.connection import SyncConnection
    from aestheticc_pos.sync.runner import DEFAULT_INTERVAL
    from aestheticc_pos.sync.secrets import KeyringSecretStore

    return SyncConnection(
        services.uow,  # type: ignore[arg-type]
        services.clock,
        services.today,
        KeyringSecretStore(),
        settings.gocardless_environment,
        bus=MessageBus(services),
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


def run_gui(settings: AppSettings, *, smoke: bool = False, notice: str = "") -> int:
    """Start the front desk; with ``smoke``, open the main window, let it draw, and exit 0.

    ``notice`` is a sentence for staff from the start (the database password could not be moved to a keyring).
    """
    load_before_qt()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from aestheticc_pos.email_sender import EmailSender
    from aestheticc_pos.ui.main_window import MainWindow
    from aestheticc_pos.ui.topics import EMAILS, SETTINGS

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Aestheticc POS")
    app.setOrganizationName("Aestheticc")
    if settings.training:
        prepare_training_database(settings)
    services = build_services(settings)
    simulator = start_training_simulator(settings) if settings.training else None
    sync = build_sync(settings, services, base_url=None if simulator is None else simulator.base_url)
    if simulator is not None:  # training: staff can make the simulated GoCardless report things
        from aestheticc_pos.sync.practice import PracticeTurns

        sync.practice = PracticeTurns(services.uow, simulator)  # type: ignore[arg-type]
    window = MainWindow(services, training=settings.training, app_settings=settings, sync=sync)
    # Emails to clients go out on a thread of their own, at once when one is queued (never in training: nothing
    # practised there reaches a real person). It starts, like the sync, once the window is on screen.
    emails = None if settings.training else EmailSender(services)
    if emails is not None:
        window.painted.connect(emails.start)
        # A queued email, or the mail server just saved (what waited for it goes now, not at the next round).
        window.desk.changed.connect(lambda what: emails.wake() if what & {EMAILS, SETTINGS} else None)
    if notice:
        window.show_message(notice)
    if smoke:
        window.show()
        QTimer.singleShot(200, app.quit)
    else:
        window.showMaximized()  # a till's screen belongs to the front desk
    try:
        return app.exec()
    finally:
        sync.stop()
        if emails is not None:
            emails.stop()
        if simulator is not None:
            stop_training_simulator(simulator, settings)


def load_before_qt() -> None:
    """Import what the window needs before its first paint, and nothing more, before Qt is imported: PySide6
    reads the source of every module imported after it (its ``__feature__`` import hook).

    That is the sign-in, Today and first-start screens' services, the sync's message bus (which brings most of
    the others) and its runner. The other screens' modules are imported when a screen is first opened
    (``ui/main_window.py``), and GoCardless's client on the sync's own thread when it first connects
    (``sync/connection.py``): QtCharts, gocardless-pro, the simulator and Alembic are never loaded at start.
    """
    from aestheticc_pos import email_sender  # noqa: F401
    from aestheticc_pos.services import (  # noqa: F401
        appointments,
        backups,
        catalogue,
        clinic,
        close_of_day,
        demo,
        handlers,
        staff,
        sync_status,
        team,
    )
    from aestheticc_pos.store import backup, migrate  # noqa: F401
    from aestheticc_pos.sync import connection, secrets  # noqa: F401


TRAINING_TEMPLATE = "practice-clinic.db"


def prepare_training_database(settings: AppSettings) -> None:
    """Each training session starts from the same practice clinic (the demo clinic, without Direct Debit
    members: trainees sign members up themselves against the simulator, which starts empty each time).

    The practice clinic is built once into ``practice-clinic.db`` in the training folder and copied over the
    training database at every start; what was practised last time is gone, as staff are told on screen.
    """
    import shutil

    from aestheticc_pos.services.demo import fill_demo_clinic
    from aestheticc_pos.settings import DATABASE_FILE, create_private_file, sqlite_url
    from aestheticc_pos.store.audit_repo import HEAD_SUFFIX
    from aestheticc_pos.store.unit_of_work import NUMBER_FLOOR_FILE

    template = settings.data_dir / TRAINING_TEMPLATE
    if not template.exists():
        building = template.with_suffix(".building")
        building.unlink(missing_ok=True)
        log.info("Training: building the practice clinic (once)")
        services = build_services(replace(settings, database_url=sqlite_url(building)))
        fill_demo_clinic(services, clients=120, members=False)
        services.uow.engine.dispose()  # type: ignore[attr-defined]
        building.replace(template)
        building.with_name(building.name + HEAD_SUFFIX).unlink(missing_ok=True)
    database = settings.data_dir / DATABASE_FILE
    # Practice starts over: its audit head and number floor go with the practice data.
    leftovers = [database.with_name(database.name + s) for s in ("", "-wal", "-shm", HEAD_SUFFIX)]
    for leftover in (*leftovers, settings.data_dir / NUMBER_FLOOR_FILE):
        leftover.unlink(missing_ok=True)
    create_private_file(database)  # 0600 before the practice data is copied in
    shutil.copyfile(template, database)


def start_training_simulator(settings: AppSettings) -> Simulator:
    """The practice GoCardless for training mode, on 127.0.0.1 (a free port)."""
    from aestheticc_pos.sync.simulator import Simulator

    simulator = Simulator().start()
    log.info("Training: GoCardless simulator at %s", simulator.base_url)
    return simulator


def stop_training_simulator(simulator: Simulator, settings: AppSettings) -> None:
    simulator.stop()
