"""The Settings screen as the manager uses it: the clinic's rules, the database, backups and restoring one."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from staffing import front_desk

from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import clinic
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.settings import AppSettings, load_settings, read_settings_file
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.views.settings import MANAGER_ONLY, SettingsView

WAIT = 10_000


@pytest.fixture
def app_settings() -> AppSettings:
    """The settings the desk's services were built from (the test's own data folder)."""
    return load_settings()


@pytest.fixture(autouse=True)
def _background_work_done(qtbot, request: pytest.FixtureRequest):
    """Let every service call the test started call back before its desk goes away (whichever desk it used:
    asked for here, before the test, so it is torn down after this waits)."""
    used: list[Desk] = [
        request.getfixturevalue(n) for n in ("desk", "demo_desk") if n in request.fixturenames
    ]
    yield
    for desk in used:
        qtbot.waitUntil(lambda desk=desk: not desk.runner.busy, timeout=WAIT)


@pytest.fixture
def view(qtbot, demo_desk: Desk, app_settings: AppSettings) -> SettingsView:
    _sign_in(demo_desk, "Sophie Laurent")
    return _open(qtbot, demo_desk, app_settings)


def _open(qtbot, desk: Desk, app_settings: AppSettings) -> SettingsView:
    view = SettingsView(desk, app_settings)
    qtbot.addWidget(view)
    view.resize(1366, 768)
    view.show()
    view.refresh()
    qtbot.waitUntil(lambda: view.name.text() == "Lumière Aesthetics", timeout=WAIT)
    return view


def _click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _retype(qtbot, edit, text: str) -> None:
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(edit, text)


def test_changing_the_grace_period_is_saved_for_every_till(qtbot, view) -> None:
    assert view.grace_days.value() == 7
    _retype(qtbot, view.grace_days.lineEdit(), "14")
    _click(qtbot, view.save_button)

    qtbot.waitUntil(lambda: view.status.text() == "Saved.", timeout=WAIT)
    assert clinic.clinic_settings(view.desk.services).grace_days == 14
    assert view.desk.settings.grace_days == 14
    again = _open(qtbot, view.desk, view.app_settings)
    assert again.grace_days.value() == 14


def test_a_bad_time_zone_or_till_prefix_is_refused_under_its_field(qtbot, view) -> None:
    _retype(qtbot, view.time_zone.lineEdit(), "Mars/Olympus")
    _click(qtbot, view.save_button)
    error = view.fields.errors["time_zone"]
    qtbot.waitUntil(error.isVisible, timeout=WAIT)
    assert error.text() == "“Mars/Olympus” is not a time zone (e.g. Europe/London)."
    assert view.time_zone.currentText() == "Mars/Olympus"  # nothing typed is lost

    _retype(qtbot, view.time_zone.lineEdit(), "Europe/Dublin")
    _retype(qtbot, view.till_prefix, "A-1")
    _click(qtbot, view.save_button)
    error = view.fields.errors["till_prefix"]
    qtbot.waitUntil(error.isVisible, timeout=WAIT)
    assert error.text() == "A till prefix is 1 to 4 letters or digits (e.g. A)."
    assert not view.fields.errors["time_zone"].isVisible()
    saved = clinic.clinic_settings(view.desk.services)
    assert (saved.time_zone, saved.till_prefix) == ("Europe/London", "A")


def test_back_up_now_then_restore_it_and_be_told_to_restart(qtbot, view) -> None:
    assert view.backups_card.model.rowCount() == 0
    view.name.setText("Lumière Aesthetics & Skin")  # typed, not saved yet
    _click(qtbot, view.backups_card.back_up_button)
    qtbot.waitUntil(lambda: view.backups_card.model.rowCount() == 1, timeout=WAIT)
    assert view.backups_card.model.data(view.backups_card.model.index(0, 0)) == "24 Nov 2026 09:00"
    assert view.name.text() == "Lumière Aesthetics & Skin"  # nothing typed is lost

    added = clients_service.add_client(
        view.desk.services, staff_id=front_desk(view.desk.services), first_name="Nora", last_name="Later"
    )
    view.backups_card.table.selectRow(0)
    box = view.backups_card.restore_selected()
    assert isinstance(box, QMessageBox) and "24 Nov 2026 09:00" in box.text()
    _click(qtbot, box.button(QMessageBox.StandardButton.Yes))

    qtbot.waitUntil(view.restart_banner.isVisible, timeout=WAIT)
    assert "Close Aestheticc POS and open it again now" in view.restart_banner.text()
    assert not view.backups_card.back_up_button.isEnabled() and not view.save_button.isEnabled()
    assert added.id not in clients_service.search_client_ids(view.desk.services, "Later")
    qtbot.waitUntil(lambda: view.backups_card.model.rowCount() == 2, timeout=WAIT)  # and the safety backup


def test_pointing_this_pc_at_a_postgresql_server_from_the_next_start(
    qtbot, view, app_settings, memory_keyring
) -> None:
    assert "this PC's own database file" in view.database_card.where.text()
    qtbot.keyClicks(view.database_card.server_url, "mysql://till@server/clinic")
    _click(qtbot, view.database_card.use_server_button)
    assert view.database_card.server_error.isVisible()
    assert view.database_card.server_error.text().startswith(
        "A server address starts with postgresql+psycopg://"
    )

    _retype(qtbot, view.database_card.server_url, "postgresql+psycopg://till:s3cret@192.168.1.10/clinic")
    _click(qtbot, view.database_card.use_server_button)
    qtbot.waitUntil(view.database_card.next_start.isVisible, timeout=WAIT)
    assert (
        view.database_card.next_start.text()
        == "From the next start: postgresql+psycopg://till@192.168.1.10/clinic."
    )
    assert read_settings_file(app_settings.data_dir)["database_url"] == (
        "postgresql+psycopg://till@192.168.1.10/clinic"
    )
    assert list(memory_keyring.passwords.values()) == ["s3cret"]  # the password is in the keyring only

    _click(qtbot, view.database_card.use_this_pc_button)
    qtbot.waitUntil(lambda: not view.database_card.next_start.isVisible(), timeout=WAIT)
    assert load_settings().database_url == app_settings.database_url


def test_a_receptionist_cannot_change_the_settings(qtbot, demo_desk: Desk, app_settings) -> None:
    view = _open(qtbot, demo_desk, app_settings)  # Rita Evans, receptionist

    assert view.notice.isVisible() and view.notice.text() == MANAGER_ONLY
    assert view.name.isReadOnly() and not view.save_button.isEnabled()
    assert not view.instant_first_payment.isEnabled()
    assert not view.backups_card.back_up_button.isEnabled()
    view.save()
    assert view.status.text() == MANAGER_ONLY
    view.backups_card.back_up_now()
    assert view.backups_card.model.rowCount() == 0


def _sign_in(desk: Desk, name: str) -> None:
    """Another member of the demo staff takes over the till (as ``conftest.sign_in``)."""
    desk.sign_in(next(m for m in staff_service.list_staff(desk.services) if m.name == name))


def test_the_clinic_chooses_to_refund_a_deposit_on_a_late_cancellation(qtbot, view) -> None:
    assert view.late_deposit.currentData() == "keep"
    view.late_deposit.setCurrentIndex(view.late_deposit.findData("refund"))
    _click(qtbot, view.save_button)

    qtbot.waitUntil(lambda: view.status.text() == "Saved.", timeout=WAIT)
    assert clinic.clinic_settings(view.desk.services).late_deposit == "refund"
    again = _open(qtbot, view.desk, view.app_settings)
    assert again.late_deposit.currentData() == "refund"


def test_the_clinic_takes_the_first_month_by_direct_debit_later_instead_of_at_once(qtbot, view) -> None:
    box = view.instant_first_payment
    assert box.isChecked() and box.isEnabled()  # instant bank payment as the client authorises, by default
    assert box.text() == "Take it as the client authorises their Direct Debit"
    assert box.width() >= box.sizeHint().width()  # its words are never cut
    _click(qtbot, box)
    assert not box.isChecked()
    _click(qtbot, view.save_button)

    qtbot.waitUntil(lambda: view.status.text() == "Saved.", timeout=WAIT)
    assert clinic.clinic_settings(view.desk.services).instant_first_payment is False
    assert view.desk.settings.instant_first_payment is False
    again = _open(qtbot, view.desk, view.app_settings)
    assert not again.instant_first_payment.isChecked()
