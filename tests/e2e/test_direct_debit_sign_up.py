"""A member signs up at the desk while the network is down; it comes back; the client scans the link; the
Direct Debit is set up and the first subscription created once. The status bar and the Sync screen tell the
truth at each moment. Training wiring: the app's own SyncConnection against the simulator on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from sqlalchemy import select

from aestheticc_pos.app import build_services
from aestheticc_pos.clock import FixedClock
from aestheticc_pos.services.demo import fill_demo_clinic
from aestheticc_pos.services.handlers import MessageBus
from aestheticc_pos.settings import DATABASE_FILE, AppSettings, load_settings, sqlite_url
from aestheticc_pos.store.tables import MembershipRow
from aestheticc_pos.sync.connection import SyncConnection
from aestheticc_pos.sync.runner import SyncStatus
from aestheticc_pos.sync.secrets import MemorySecretStore
from aestheticc_pos.sync.simulator import Simulator
from aestheticc_pos.ui.main_window import MainWindow
from aestheticc_pos.ui.widgets.qr import qr_modules

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
WAIT = 20_000


@pytest.fixture
def till(qtbot, tmp_path_factory):
    folder = tmp_path_factory.mktemp("practice")
    services = build_services(AppSettings(data_dir=folder, database_url=sqlite_url(folder / DATABASE_FILE)))
    services.clock = FixedClock(NOW)
    fill_demo_clinic(services, clients=30, seed=5, members=False)
    services.uow.engine.dispose()
    settings = load_settings()
    shutil.copyfile(folder / DATABASE_FILE, settings.data_dir / DATABASE_FILE)
    services = build_services(settings)
    services.clock = FixedClock(NOW)
    simulator = Simulator().start()
    connection = SyncConnection(
        services.uow,  # type: ignore[arg-type]
        services.clock,
        services.today,
        MemorySecretStore({"live": "live_e2e-token-0123456789abcdef"}),
        "live",
        bus=MessageBus(services),
        base_url=simulator.base_url,
        interval=0.3,
    )
    window = MainWindow(services, app_settings=settings, sync=connection)

    def settle(_w: MainWindow) -> None:
        connection.stop(timeout=20)
        qtbot.waitUntil(lambda: not window.desk.runner.busy, timeout=10_000)

    qtbot.addWidget(window, before_close_func=settle)
    window.resize(1366, 768)
    window.show()
    yield window, simulator, services
    simulator.stop()


def test_a_direct_debit_sign_up_from_offline_to_the_first_subscription(
    qtbot, till, sign_in, tmp_path
) -> None:
    window, simulator, services = till
    sync = window.sync
    qtbot.waitUntil(lambda: sync.state.status is SyncStatus.ONLINE, timeout=WAIT)
    qtbot.waitUntil(
        lambda: window.sync_label.text() == "Sync: online", timeout=WAIT
    )  # counted after the state

    # The network goes down; the till carries on.
    simulator.stop()
    services.clock.advance(minutes=25)
    qtbot.waitUntil(lambda: sync.state.status is SyncStatus.OFFLINE, timeout=WAIT)
    sign_in(window, "Sophie Laurent")
    view = window.open_screen("memberships")
    dialog = view.sign_up()
    qtbot.waitUntil(lambda: dialog.tier_id.count() == 3, timeout=WAIT)
    qtbot.keyClicks(dialog.search, "a")
    qtbot.waitUntil(lambda: dialog.results.count() > 0, timeout=WAIT)
    dialog.results.setCurrentRow(0)
    client_name = dialog.chosen_client().full_name
    dialog.tier_id.setCurrentIndex(dialog.tier_id.findData("tier-gold"))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: view.selected() is not None and view.selected().client_name == client_name, timeout=WAIT
    )
    panel = view.panel
    assert panel.link.isVisible() and not panel.link.code.isVisible()
    assert "being prepared" in panel.link.note.text()
    qtbot.waitUntil(lambda: window.sync_label.text() == "Sync: offline · 3 queued", timeout=WAIT)

    sync_view = window.open_screen("sync")
    qtbot.waitUntil(lambda: sync_view.overview is not None and sync_view.overview.queued == 3, timeout=WAIT)
    assert "Offline" in sync_view.state_label.text()
    # Offline, the first try met the network failure: the screen, refreshed by that commit, may say so.
    assert sync_view.queued.text() in (
        "Waiting to be sent: 3",
        "Waiting to be sent: 3 (1 will be tried again after a network problem)",
    )
    assert sync_view.last_sync.text() == "Last successful sync: 24 Nov 2026 09:00 (25 minutes ago)"
    window.grab().save(str(tmp_path / "sync-offline.png"))

    # The network is back: the work goes, the link appears as a QR code.
    simulator.start()
    services.clock.advance(minutes=5)  # past the back-off of a try the network failure met while offline
    qtbot.waitUntil(lambda: sync.state.status is SyncStatus.ONLINE, timeout=WAIT)
    qtbot.waitUntil(lambda: sync_view.overview.queued == 0, timeout=WAIT)
    # The status bar counts again after the cycle's last step (a pull reads several pages): wait for it.
    qtbot.waitUntil(lambda: window.sync_label.text() == "Sync: online", timeout=WAIT)
    assert "Online" in sync_view.state_label.text()
    # The time of the sync is stored after the cycle's last step; the screen shows it once that commit is read.
    qtbot.waitUntil(lambda: "(just now)" in sync_view.last_sync.text(), timeout=WAIT)
    assert (simulator.count("customers"), simulator.count("billing_requests")) == (1, 1)

    window.open_screen("memberships")
    qtbot.waitUntil(lambda: view.panel.link.code.isVisible(), timeout=WAIT)
    with services.uow(read_only=True) as uow:
        flow_id, url = uow.session.execute(
            select(MembershipRow.gc_flow_id, MembershipRow.gc_authorisation_url)
        ).one()
    assert view.panel.link.link == url and url.startswith(simulator.base_url)
    assert view.panel.link.code._modules == qr_modules(url)
    qtbot.mouseClick(view.panel.link.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == url
    window.grab().save(str(tmp_path / "membership-link.png"))

    # The client scans it and authorises; the next sync sets up the mandate and the subscription, once.
    simulator.authorise(flow_id)
    qtbot.waitUntil(lambda: simulator.count("subscriptions") == 1, timeout=WAIT)
    sync_view = window.open_screen("sync")
    qtbot.waitUntil(
        lambda: any(e.what == "Direct Debit authorised by the client" for e in sync_view.overview.recent),
        timeout=WAIT,
    )
    authorised = next(
        e for e in sync_view.overview.recent if e.what == "Direct Debit authorised by the client"
    )
    assert authorised.client_name == client_name
    qtbot.wait(1000)  # a few more cycles: nothing is sent twice
    assert simulator.count("subscriptions") == 1
    assert sync_view.attention_model.rowCount() == 0
    window.grab().save(str(tmp_path / "sync-online.png"))
