"""First-run set-up asks for the team too: each person typed is added with the PIN typed, or a starting PIN made
up and shown once; a wrong row is said before anything is written."""

from __future__ import annotations

from PySide6.QtCore import Qt

from aestheticc_pos.domain.staff import Role
from aestheticc_pos.services import clinic
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.ui.views.welcome import WelcomeView
from aestheticc_pos.ui.views.welcome_team import starting_pin

WAIT = 10_000


def _welcome(qtbot, desk) -> WelcomeView:
    view = WelcomeView(desk)
    qtbot.addWidget(
        view, before_close_func=lambda _w: qtbot.waitUntil(lambda: not desk.runner.busy, timeout=WAIT)
    )
    view.resize(1366, 740)
    view.show()
    qtbot.keyClicks(view.name, "Bath Skin Clinic")
    qtbot.keyClicks(view.manager_name, "Helen Ward")
    qtbot.keyClicks(view.manager_pin, "482193")
    return view


def _person(view: WelcomeView, row: int, name: str, role: Role, pin: str = "") -> None:
    name_edit, role_combo, pin_edit = view.team.rows[row]
    name_edit.setText(name)
    role_combo.setCurrentIndex(role_combo.findData(role.value))
    pin_edit.setText(pin)


def test_the_team_is_added_with_typed_pins_and_made_up_ones_shown_once(qtbot, desk) -> None:
    view = _welcome(qtbot, desk)
    assert len(view.team.rows) == 3
    _person(view, 0, "Dr Priya  Patel", Role.PRACTITIONER, "2468")
    _person(view, 1, "Nadia Okafor", Role.PRACTITIONER)
    qtbot.mouseClick(view.team.add_button, Qt.MouseButton.LeftButton)
    _person(view, 3, "Rita Evans", Role.RECEPTIONIST)

    qtbot.mouseClick(view.setup_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.pins.isVisible(), timeout=WAIT)
    assert not view.cards.isVisible()

    staff = {m.name: m for m in staff_service.list_staff(desk.services)}
    assert {name: m.role for name, m in staff.items()} == {
        "Helen Ward": Role.MANAGER,
        "Dr Priya Patel": Role.PRACTITIONER,
        "Nadia Okafor": Role.PRACTITIONER,
        "Rita Evans": Role.RECEPTIONIST,
    }
    shown = view.pins.table.text()
    assert (
        "Nadia Okafor" in shown and "Rita Evans" in shown and "Priya" not in shown
    )  # a typed PIN is not shown
    for name in ("Nadia Okafor", "Rita Evans"):
        pin = shown.split(name)[1].split("<b>")[1].split("</b>")[0]
        assert staff_service.log_in(desk.services, staff[name].id, pin).name == name
    assert staff_service.log_in(desk.services, staff["Dr Priya Patel"].id, "2468").role is Role.PRACTITIONER

    with qtbot.waitSignal(view.ready, timeout=WAIT):
        qtbot.mouseClick(view.pins.continue_button, Qt.MouseButton.LeftButton)
    assert view.pins.table.text() == ""  # shown once


def test_a_wrong_row_is_said_first_and_nothing_is_written(qtbot, desk) -> None:
    view = _welcome(qtbot, desk)
    _person(view, 0, "Nadia Okafor", Role.PRACTITIONER, "12")
    qtbot.mouseClick(view.setup_button, Qt.MouseButton.LeftButton)
    assert view.status.text() == "Nadia Okafor: A PIN is 4 to 8 digits."
    _person(view, 0, "", Role.PRACTITIONER, "2468")
    qtbot.mouseClick(view.setup_button, Qt.MouseButton.LeftButton)
    assert view.status.text() == "Row 1 of your team has a PIN but no name. Type the name."
    assert not clinic.is_set_up(desk.services) and staff_service.list_staff(desk.services) == []
    assert view.setup_button.isEnabled()

    _person(view, 0, "", Role.PRACTITIONER, "")  # an empty team is fine: just the manager
    with qtbot.waitSignal(view.ready, timeout=WAIT):
        qtbot.mouseClick(view.setup_button, Qt.MouseButton.LeftButton)
    assert [m.name for m in staff_service.list_staff(desk.services)] == ["Helen Ward"]


def test_starting_pins_are_four_digits_and_not_obvious() -> None:
    pins = {starting_pin() for _ in range(2000)}
    assert all(len(p) == 4 and p.isdigit() for p in pins)
    assert not pins & {"0000", "1111", "1234", "2345", "9876", "4321"}
    assert len(pins) > 1000  # made up, not one PIN for everyone
