"""The way in: signing in with a PIN, being told the truth about a lockout, and the first manager's PIN."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from aestheticc_pos.domain.errors import NotPermitted
from aestheticc_pos.domain.staff import Role
from aestheticc_pos.services import clinic
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services import team as team_service
from aestheticc_pos.services.staff import PIN_WAS_RESET
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.views.login import CHOOSE_NAME, NOT_THE_SAME, LoginView
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


def test_after_a_reset_the_person_chooses_a_new_pin_typed_twice(qtbot, desk, team, login) -> None:
    team_service.reset_pin(desk.services, staff_id=team["reception"], by_staff_id=team["manager"])
    login.reload()
    qtbot.waitUntil(lambda: "new PIN to choose" in login.buttons["Rita Reception"].text(), timeout=WAIT)
    button_place = login.sign_in_button.geometry()
    qtbot.mouseClick(login.buttons["Rita Reception"], Qt.MouseButton.LeftButton)
    assert login.choosing_pin and login.confirm.isVisible()
    assert "a manager reset your PIN" in login.prompt.text()
    assert login.sign_in_button.geometry() == button_place  # the second field had its space kept

    qtbot.keyClicks(login.pin, "5678")
    qtbot.keyClick(login.pin, Qt.Key.Key_Return)
    assert login.confirm.hasFocus()
    qtbot.keyClicks(login.confirm, "5679")
    qtbot.keyClick(login.confirm, Qt.Key.Key_Return)
    assert login.error.text() == NOT_THE_SAME
    assert login.pin.text() == "" and login.confirm.text() == ""

    qtbot.keyClicks(login.pin, "56")
    qtbot.keyClicks(login.confirm, "56")
    qtbot.mouseClick(login.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: login.error.text() != "" and login.pin.isEnabled(), timeout=WAIT)
    assert login.error.text() == "A PIN is 4 to 8 digits."

    with qtbot.waitSignal(login.signed_in, timeout=WAIT) as signed_in:
        qtbot.keyClicks(login.pin, "5678")
        qtbot.keyClicks(login.confirm, "5678")
        qtbot.keyClick(login.confirm, Qt.Key.Key_Return)
    assert signed_in.args[0].id == team["reception"]
    assert staff_service.log_in(desk.services, team["reception"], "5678").id == team["reception"]
    with pytest.raises(NotPermitted):
        staff_service.log_in(desk.services, team["reception"], "1234")
    assert login.prompt.text() == CHOOSE_NAME and not login.confirm.isVisible()  # nothing left for the next


def test_a_pin_reset_while_the_screen_was_open_turns_into_choosing_one(qtbot, desk, team, login) -> None:
    team_service.reset_pin(desk.services, staff_id=team["reception"], by_staff_id=team["manager"])
    qtbot.mouseClick(login.buttons["Rita Reception"], Qt.MouseButton.LeftButton)  # the list from before
    assert not login.choosing_pin
    _type_pin(qtbot, login, "1234")
    assert login.error.text() == PIN_WAS_RESET
    assert login.choosing_pin and login.confirm.isVisible()
    with qtbot.waitSignal(login.signed_in, timeout=WAIT):
        qtbot.keyClicks(login.pin, "8642")
        qtbot.keyClicks(login.confirm, "8642")
        qtbot.keyClick(login.confirm, Qt.Key.Key_Return)
    assert staff_service.log_in(desk.services, team["reception"], "8642").id == team["reception"]


def test_reset_forgets_the_person_and_every_sentence(qtbot, login) -> None:
    qtbot.mouseClick(login.buttons["Rita Reception"], Qt.MouseButton.LeftButton)
    _type_pin(qtbot, login, "9999")
    assert login.error.text() != ""
    login.reset()
    assert (login.prompt.text(), login.error.text(), login.pin.text()) == (CHOOSE_NAME, "", "")
    assert not login.pin.isEnabled() and not login.sign_in_button.isEnabled()
