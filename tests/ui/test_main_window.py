"""The way in, as staff meet it: welcome on an empty database, the demo, login with a PIN, the desk."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from aestheticc_pos.app import build_services
from aestheticc_pos.clock import FixedClock
from aestheticc_pos.services import clinic as clinic_service
from aestheticc_pos.services import close_of_day
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.demo import DEMO_MANAGER_PIN, fill_demo_clinic
from aestheticc_pos.settings import load_settings
from aestheticc_pos.ui.main_window import MainWindow, screens
from aestheticc_pos.ui.views.login import CHOOSE_NAME


@pytest.fixture
def services():
    services = build_services(load_settings())
    services.clock = FixedClock(dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC))
    return services


def _window(qtbot, services, **kwargs) -> MainWindow:
    window = MainWindow(services, **kwargs)
    qtbot.addWidget(window)
    window.show()
    return window


def _log_in(qtbot, window: MainWindow, name: str, pin: str = "1234") -> None:
    qtbot.waitUntil(lambda: name in window.login.buttons, timeout=5000)
    qtbot.mouseClick(window.login.buttons[name], Qt.MouseButton.LeftButton)
    qtbot.keyClicks(window.login.pin, pin)
    qtbot.keyClick(window.login.pin, Qt.Key.Key_Return)


def test_first_start_sets_up_the_real_clinic_then_logs_the_manager_in(qtbot, services) -> None:
    window = _window(qtbot, services)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.welcome, timeout=5000)
    w = window.welcome
    qtbot.keyClicks(w.name, "Bath Skin Clinic")
    qtbot.keyClicks(w.manager_name, "Helen Ward")
    qtbot.keyClicks(w.manager_pin, "12")  # too short: refused, nothing lost
    qtbot.mouseClick(w.setup_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "PIN" in w.status.text() and w.setup_button.isEnabled(), timeout=5000)
    assert w.name.text() == "Bath Skin Clinic"
    w.manager_pin.clear()
    qtbot.keyClicks(w.manager_pin, "482193")
    qtbot.mouseClick(w.setup_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.login, timeout=5000)
    _log_in(qtbot, window, "Helen Ward", "482193")
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.workspace, timeout=5000)
    assert "Helen Ward" in window.staff_label.text()
    reports = window.open_screen("reports")
    qtbot.waitUntil(lambda: "Bath Skin Clinic" in reports.pages["dashboard"].heading.text(), timeout=5000)
    assert "Bath Skin Clinic" in window.windowTitle()


def test_demo_then_a_wrong_pin_then_the_right_one(qtbot, services) -> None:
    window = _window(qtbot, services, training=True)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.welcome, timeout=5000)
    qtbot.mouseClick(window.welcome.demo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.login, timeout=60_000)
    _log_in(qtbot, window, "Rita Evans", "9999")
    qtbot.waitUntil(lambda: "not right" in window.login.error.text(), timeout=5000)
    assert window.pages.currentWidget() is window.login
    _log_in(qtbot, window, "Rita Evans")
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.workspace, timeout=5000)
    assert window.windowTitle().endswith("training")
    assert window.current_screen() == "today"
    assert [window.nav.item(i).text() for i in range(window.nav.count())][0] == "Today"
    assert "Clinic at a glance" not in [window.nav.item(i).text() for i in range(window.nav.count())]


def test_an_existing_clinic_opens_on_the_login(qtbot, services) -> None:
    fill_demo_clinic(services, clients=20, seed=1)
    window = _window(qtbot, services)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.login, timeout=5000)
    qtbot.waitUntil(lambda: "Sophie Laurent" in window.login.buttons, timeout=5000)
    qtbot.waitUntil(lambda: "Lumière Aesthetics" in window.login.title.text(), timeout=5000)


def test_the_window_takes_the_daily_backup_in_the_background(qtbot) -> None:
    settings = load_settings()
    services = build_services(settings)
    window = MainWindow(services, app_settings=settings)
    qtbot.addWidget(window)
    assert window._backup_timer.isActive()
    window._scheduled_backup()
    qtbot.waitUntil(
        lambda: settings.backups_dir.exists() and any(settings.backups_dir.iterdir()), timeout=5000
    )
    qtbot.waitUntil(lambda: not window.desk.runner.busy, timeout=5000)


def test_every_side_bar_screen_has_its_icon() -> None:
    from aestheticc_pos.ui.main_window import RESOURCES

    for screen in screens():
        if screen.shortcut is not None:  # in the side bar, with a key or none ("")
            assert (RESOURCES / "icons" / f"{screen.key}.svg").is_file(), screen.key


def test_a_message_floats_over_the_page_and_signing_out_leaves_nothing_behind(qtbot, services) -> None:
    fill_demo_clinic(services, clients=20, seed=1)
    window = _window(qtbot, services)
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.login, timeout=5000)
    login_place = window.login.geometry()
    window.show_message("Something to read on the sign-in screen.")
    assert window.message_bar.isVisible() and window.login.geometry() == login_place

    _log_in(qtbot, window, "Sophie Laurent", DEMO_MANAGER_PIN)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.workspace, timeout=5000)
    earlier = close_of_day.visits_to_settle(services, window.desk.staff_id, from_earlier_days=True)
    assert earlier, "the demo clinic has visits of earlier days still booked"
    qtbot.waitUntil(lambda: "still booked" in window.message_bar.text(), timeout=5000)
    assert window.message_bar.text() == (
        f"Welcome, Sophie Laurent. {len(earlier)} visits of an earlier day are still booked: mark each "
        "attended, no-show or cancelled on Close of day (F12)."
    )
    titles = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert {"Close of day", "Staff"} <= set(titles)

    window.hide_message()
    qtbot.waitUntil(lambda: not window.desk.runner.busy, timeout=5000)
    today = window.stack.currentWidget()
    places = (window.pages.geometry(), window.stack.geometry(), today.geometry(), window.nav.geometry())
    window.show_message("That practitioner is booked at 10:00. " * 6)
    qtbot.wait(50)
    assert window.message_bar.isVisible()
    assert (
        window.pages.geometry(),
        window.stack.geometry(),
        today.geometry(),
        window.nav.geometry(),
    ) == places
    message = window.message_bar.geometry()
    stack_top_left = window.stack.mapTo(window.centralWidget(), window.stack.rect().topLeft())
    assert message.left() >= stack_top_left.x() and message.right() <= window.centralWidget().width()
    assert message.height() >= window.message_bar.heightForWidth(message.width())  # every line shown
    qtbot.mouseClick(window.message_bar, Qt.MouseButton.LeftButton)  # a click puts it away
    assert not window.message_bar.isVisible()

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window.nav, Qt.Key.Key_F12)
    assert window.current_screen() == "close_of_day"
    window.open_screen("staff")
    assert window.current_screen() == "staff"

    window.show_message("Booked Zara Green for Botox with Dr Amira Shah on 25 Nov 2026 at 10:00.")
    window.sign_out()
    assert window.pages.currentWidget() is window.login
    assert not window.message_bar.isVisible() and window.message_bar.text() == ""
    assert window.login.prompt.text() == CHOOSE_NAME and window.login.error.text() == ""
    assert window.login.pin.text() == "" and not window.login.pin.isEnabled()
    qtbot.waitUntil(lambda: not window.desk.runner.busy, timeout=5000)


def _manager_window(qtbot, demo_desk) -> MainWindow:
    window = _window(qtbot, demo_desk.services)
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: "Sophie Laurent" in window.login.buttons, timeout=5000)
    manager = next(m for m in staff_service.list_staff(demo_desk.services) if m.name == "Sophie Laurent")
    window._signed_in(manager)
    assert window.pages.currentWidget() is window.workspace
    return window


def test_each_screen_is_made_when_first_opened_and_every_key_opens_one(qtbot, demo_desk) -> None:
    window = _manager_window(qtbot, demo_desk)
    assert window.current_screen() == "today"
    assert set(window.views) == {"today"}  # signing in made Today only
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    keys = {s.shortcut: s.key for s in screens() if s.shortcut}
    for number in range(1, 13):
        qtbot.keyClick(window.nav, getattr(Qt.Key, f"Key_F{number}"))
        assert window.current_screen() == keys[f"F{number}"]
        assert window.nav.currentItem().text() == next(
            s.title for s in screens() if s.key == keys[f"F{number}"]
        )
    assert set(window.views) == {"today", *keys.values()}
    clients = window.views["clients"]
    window.open_screen("clients")
    assert window.views["clients"] is clients  # made once, shown again
    qtbot.waitUntil(lambda: not window.desk.runner.busy, timeout=10_000)


def test_settings_with_changes_asks_before_the_window_leaves_it(qtbot, demo_desk) -> None:
    window = _manager_window(qtbot, demo_desk)
    view = window.open_screen("settings")
    qtbot.waitUntil(lambda: view.name.text() == "Lumière Aesthetics", timeout=5000)
    view.name.setText("Lumière Aesthetics Bath")

    window.nav.setCurrentRow(
        next(i for i in range(window.nav.count()) if window.nav.item(i).text() == "Clients")
    )
    qtbot.waitUntil(lambda: view.question is not None and view.question.isVisible(), timeout=5000)
    assert window.current_screen() == "settings" and view.isVisible()  # asked before leaving, not after
    assert window.nav.currentItem().text() == "Settings"
    cancel = next(b for b in view.question.buttons() if b.text() == "Cancel")
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert window.current_screen() == "settings" and view.name.text() == "Lumière Aesthetics Bath"
    assert "clients" not in window.views

    window.open_screen("clients")
    qtbot.waitUntil(lambda: view.question is not None and view.question.isVisible(), timeout=5000)
    discard = next(b for b in view.question.buttons() if b.text() == "Discard")
    qtbot.mouseClick(discard, Qt.MouseButton.LeftButton)
    assert window.current_screen() == "clients" and window.nav.currentItem().text() == "Clients"
    assert view.name.text() == "Lumière Aesthetics" and view.question is None  # asked once, then left
    qtbot.wait(50)
    assert view.question is None
    assert clinic_service.clinic_settings(demo_desk.services).name == "Lumière Aesthetics"
    window.open_screen("settings")
    window.open_screen("today")  # nothing changed: leaving asks nothing
    assert window.current_screen() == "today" and view.question is None
    qtbot.waitUntil(lambda: not window.desk.runner.busy, timeout=10_000)
