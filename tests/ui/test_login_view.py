"""The way in: signing in with a PIN, being told the truth about a lockout, and the first manager's PIN."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from aestheticc_pos.domain.staff import Role
from aestheticc_pos.services import clinic
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.views.login import LoginView
from aestheticc_pos.ui.views.welcome import WelcomeView

WAIT = 5000


@pytest.fixture(autouse=True)
def _background_work_done(qtbot, desk: Desk):
    """Let every service call the test started call back before the desk goes away."""
    yield
    qtbot.waitUntil(lambda: not desk.runner.busy, timeout=WAIT)


@pytest.fixture
def team(desk: Desk) -> dict[str, str]:
    services = desk.services
    manager = staff_service.add_staff(
        services, name="Mia Manager", role=Role.MANAGER, pin="482193", by_staff_id=None
    )
    reception = staff_service.add_staff(
        services, name="Rita Reception", role=Role.RECEPTIONIST, pin="1234", by_staff_id=manager.id
    )
    return {"manager": manager.id, "reception": reception.id}


@pytest.fixture
def login(qtbot, desk: Desk, team: dict[str, str]) -> LoginView:
    view = LoginView(desk)
    qtbot.addWidget(view)
    view.show()
    view.reload()
    qtbot.waitUntil(lambda: "Rita Reception" in view.buttons, timeout=WAIT)
    return view


def _type_pin(qtbot, view: LoginView, pin: str) -> None:
    qtbot.waitUntil(view.pin.isEnabled, timeout=WAIT)
    qtbot.keyClicks(view.pin, pin)
    qtbot.keyClick(view.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.pin.isEnabled() and view.error.text() != "", timeout=WAIT)


def test_wrong_pins_count_down_then_lock_and_a_manager_unlocks(qtbot, desk, team, login) -> None:
    qtbot.mouseClick(login.buttons["Rita Reception"], Qt.MouseButton.LeftButton)
    said = []
    for _ in range(5):
        _type_pin(qtbot, login, "9999")
        said.append(login.error.text())
        assert login.pin.text() == ""
    assert said[2] == "That PIN is not right. 2 tries left before this login is locked for 15 minutes."
    assert said[4].endswith(
        "this login is now locked until 09:15. Try again then, or ask a manager to unlock it."
    )

    _type_pin(qtbot, login, "1234")  # the right PIN, while locked
    assert login.error.text() == (
        "Too many wrong PINs: this login is locked until 09:15. Try again in 15 minutes, "
        "or ask a manager to unlock it."
    )

    staff_service.unlock_staff(desk.services, staff_id=team["reception"], by_staff_id=team["manager"])
    with qtbot.waitSignal(login.signed_in, timeout=WAIT) as signed_in:
        qtbot.keyClicks(login.pin, "1234")
        qtbot.keyClick(login.pin, Qt.Key.Key_Return)
    assert signed_in.args[0].id == team["reception"]


def test_the_first_manager_is_asked_for_6_digits(qtbot, desk: Desk) -> None:
    view = WelcomeView(desk)
    qtbot.addWidget(view)
    view.show()
    assert view.manager_pin.placeholderText() == "6 to 8 digits"
    qtbot.keyClicks(view.name, "Bath Skin Clinic")
    qtbot.keyClicks(view.manager_name, "Helen Ward")
    qtbot.keyClicks(view.manager_pin, "4821")
    qtbot.mouseClick(view.setup_button, Qt.MouseButton.LeftButton)
    assert view.status.text() == "A manager's PIN is 6 to 8 digits."
    assert view.setup_button.isEnabled() and not clinic.is_set_up(desk.services)

    view.manager_pin.clear()
    qtbot.keyClicks(view.manager_pin, "482193")
    with qtbot.waitSignal(view.ready, timeout=WAIT):
        qtbot.mouseClick(view.setup_button, Qt.MouseButton.LeftButton)
    [manager] = staff_service.list_staff(desk.services)
    assert staff_service.log_in(desk.services, manager.id, "482193") == manager
