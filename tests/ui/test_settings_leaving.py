"""Settings in a real front desk: the wheel scrolls the page and never flips a rule, Save stays in view,
and leaving with changes not saved asks Save / Discard / Cancel."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QStackedWidget, QWidget

from aestheticc_pos.services import clinic
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.settings import load_settings
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.main_window import MainWindow
from aestheticc_pos.ui.views.settings import SettingsView

WAIT = 10_000


def settle(qtbot, desk: Desk) -> None:
    """Let every service call the test started call back while its screen is still there."""
    qtbot.waitUntil(lambda: not desk.runner.busy, timeout=WAIT)


@pytest.fixture
def view(qtbot, demo_desk: Desk) -> SettingsView:
    demo_desk.sign_in(
        next(m for m in staff_service.list_staff(demo_desk.services) if m.name == "Sophie Laurent")
    )
    view = SettingsView(demo_desk, load_settings())
    qtbot.addWidget(view)
    view.resize(1366 - 210, 768 - 40)  # the page beside the side bar, above the status bar, at 1366×768
    view.show()
    view.refresh()
    qtbot.waitUntil(lambda: view.name.text() == "Lumière Aesthetics", timeout=WAIT)
    return view


def wheel(widget: QWidget, notches: int = -1) -> None:
    """Turn the mouse wheel over the middle of ``widget`` (negative: towards the user, scrolling down)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(widget.mapToGlobal(centre.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_the_wheel_over_the_no_show_rule_scrolls_the_page_and_leaves_the_rule(qtbot, view) -> None:
    rule, bar = view.no_show_policy, view.scroll.verticalScrollBar()
    assert bar.maximum() > 0, "at 1366×768 the settings page scrolls"
    chosen = rule.currentIndex()
    assert rule.focusPolicy() == Qt.FocusPolicy.StrongFocus  # a wheel does not give it focus either

    for _ in range(3):
        wheel(rule)

    assert rule.currentIndex() == chosen
    assert bar.value() > 0  # the page scrolled instead
    assert not view.has_changes()

    for spin in (view.grace_days, view.late_cancel_hours):  # the number fields too
        before = spin.value()
        wheel(spin, notches=1)
        assert spin.value() == before
    settle(qtbot, view.desk)


def test_a_field_with_focus_still_takes_the_wheel(qtbot, view) -> None:
    rule = view.no_show_policy
    rule.setFocus()
    qtbot.waitUntil(rule.hasFocus, timeout=WAIT)
    chosen = rule.currentIndex()
    wheel(rule, notches=-1 if chosen == 0 else 1)
    assert rule.currentIndex() != chosen
    settle(qtbot, view.desk)


def test_save_stays_in_view_whatever_the_scroll(qtbot, view) -> None:
    bar = view.scroll.verticalScrollBar()
    bar.setValue(bar.maximum())
    top_left = view.save_button.mapTo(view, QPoint(0, 0))
    assert view.rect().contains(top_left) and view.save_button.isVisible()
    assert not view.scroll.widget().isAncestorOf(view.save_button)
    assert not view.scroll.widget().isAncestorOf(view.status)  # "Saved." moves nothing on the page
    settle(qtbot, view.desk)


def _host(qtbot, view: SettingsView) -> tuple[QStackedWidget, QWidget]:
    """Settings as one page of a stack of screens, like the window's."""
    host, other = QStackedWidget(), QWidget()
    host.addWidget(view)
    host.addWidget(other)
    host.resize(1156, 728)
    host.show()
    return host, other


def _release(qtbot, host: QStackedWidget, view: SettingsView) -> None:
    """The view leaves the stack before it goes, so each is closed once (the view by qtbot)."""
    settle(qtbot, view.desk)
    view.setParent(None)
    host.close()
    host.deleteLater()


def _answer(qtbot, view: SettingsView, button: str) -> None:
    qtbot.waitUntil(lambda: view.question is not None and view.question.isVisible(), timeout=WAIT)
    box = view.question
    assert box.text() == "Save your changes to the settings?"
    choice = next(b for b in box.buttons() if b.text() == button)
    qtbot.mouseClick(choice, Qt.MouseButton.LeftButton)
    settle(qtbot, view.desk)


def test_leaving_with_a_changed_rule_asks_and_save_keeps_it(qtbot, view) -> None:
    host, other = _host(qtbot, view)
    view.late_cancel_hours.lineEdit().selectAll()
    qtbot.keyClicks(view.late_cancel_hours.lineEdit(), "48")
    assert view.has_changes()

    host.setCurrentWidget(other)
    _answer(qtbot, view, "Save")

    qtbot.waitUntil(lambda: clinic.clinic_settings(view.desk.services).late_cancel_hours == 48, timeout=WAIT)
    qtbot.waitUntil(lambda: not view.has_changes(), timeout=WAIT)
    _release(qtbot, host, view)


def test_leaving_and_discarding_puts_the_saved_rule_back(qtbot, view) -> None:
    host, other = _host(qtbot, view)
    saved = view.no_show_policy.currentIndex()
    view.no_show_policy.setCurrentIndex(1 - saved)

    host.setCurrentWidget(other)
    _answer(qtbot, view, "Discard")

    assert view.no_show_policy.currentIndex() == saved
    assert not view.has_changes()
    host.setCurrentWidget(view)
    host.setCurrentWidget(other)  # nothing changed: leaving again asks nothing
    qtbot.wait(50)
    assert view.question is None
    _release(qtbot, host, view)


def test_leaving_settings_in_the_window_and_cancelling_goes_back_to_settings(qtbot, demo_desk) -> None:
    window = MainWindow(demo_desk.services)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    manager = next(m for m in staff_service.list_staff(demo_desk.services) if m.name == "Sophie Laurent")
    window._signed_in(manager)
    view = window.open_screen("settings")
    qtbot.waitUntil(lambda: view.name.text() == "Lumière Aesthetics", timeout=WAIT)
    view.name.setText("Lumière Aesthetics Bath")

    window.open_screen("today")
    _answer(qtbot, view, "Cancel")

    qtbot.waitUntil(lambda: window.current_screen() == "settings", timeout=WAIT)
    assert view.name.text() == "Lumière Aesthetics Bath"  # nothing typed is lost
    assert window.nav.currentItem().text() == "Settings"
    assert clinic.clinic_settings(demo_desk.services).name == "Lumière Aesthetics"
    settle(qtbot, demo_desk)
