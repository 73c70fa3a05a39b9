"""The Staff screen as a manager uses it: add a practitioner, change a role, reset a PIN, lift a lockout, mark a
leaver; each checked in the database through the services, and each refusal shown as a sentence."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from aestheticc_pos.domain.errors import NotPermitted
from aestheticc_pos.domain.staff import Role
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services import team as team_service
from aestheticc_pos.services.team import LAST_MANAGER
from aestheticc_pos.store.audit_repo import audit_entries
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.views.staff import StaffView

WAIT = 5000


@pytest.fixture(autouse=True)
def _background_work_done(qtbot, desk: Desk):
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
    desk.sign_in(manager)
    return {"manager": manager.id, "reception": reception.id}


@pytest.fixture
def view(qtbot, desk: Desk, team: dict[str, str]) -> StaffView:
    view = StaffView(desk)
    qtbot.addWidget(view)
    view.resize(1100, 700)
    view.show()
    view.refresh()
    _wait_for_rows(qtbot, view, 2)
    return view


def _wait_for_rows(qtbot, view: StaffView, n: int) -> None:
    qtbot.waitUntil(lambda: view.model.rowCount() == n and not view.desk.runner.busy, timeout=WAIT)


def _shown(view: StaffView) -> dict[str, tuple[str, str]]:
    model = view.model
    return {
        model.index(r, 0).data(): (model.index(r, 1).data(), model.index(r, 2).data())
        for r in range(model.rowCount())
    }


def _click(qtbot, button) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _member(desk: Desk, name: str):
    return next(
        m for m in team_service.team(desk.services, desk.staff_id, include_left=True) if m.name == name
    )


def test_a_manager_adds_a_practitioner_who_can_then_sign_in_and_be_booked(qtbot, desk, view) -> None:
    _click(qtbot, view.add_button)
    form = view.form
    qtbot.waitExposed(form)
    qtbot.keyClicks(form.name, "  Dr   Nadia Rahman ")
    form.role.setCurrentIndex(form.role.findData(Role.PRACTITIONER))
    qtbot.keyClicks(form.pin, "12")
    _click(qtbot, form.save_button)
    qtbot.waitUntil(lambda: form.errors["pin"].text() != "", timeout=WAIT)
    assert form.errors["pin"].text() == "A PIN is 4 to 8 digits."
    assert form.isVisible() and form.name.text() == "  Dr   Nadia Rahman "  # nothing typed is lost

    form.pin.clear()
    qtbot.keyClicks(form.pin, "5678")
    with qtbot.waitSignal(form.saved, timeout=WAIT):
        _click(qtbot, form.save_button)
    _wait_for_rows(qtbot, view, 3)
    assert _shown(view)["Dr Nadia Rahman"] == ("Practitioner", "Active")
    assert view.selected().name == "Dr Nadia Rahman"  # the person just added is the one chosen
    nadia = next(m for m in staff_service.list_staff(desk.services) if m.name == "Dr Nadia Rahman")
    assert nadia.role is Role.PRACTITIONER
    assert staff_service.log_in(desk.services, nadia.id, "5678").id == nadia.id
    assert nadia.id in {p.id for p in appointments_service.practitioners(desk.services)}


def test_an_empty_name_is_refused_under_the_field(qtbot, view) -> None:
    _click(qtbot, view.add_button)
    form = view.form
    qtbot.keyClicks(form.pin, "5678")
    _click(qtbot, form.save_button)
    qtbot.waitUntil(lambda: form.errors["name"].text() != "", timeout=WAIT)
    assert form.errors["name"].text() == "Type the staff member's name."
    form.reject()


def test_a_role_is_changed_but_the_last_manager_keeps_theirs(qtbot, desk, team, view) -> None:
    view.choose("Rita Reception")
    _click(qtbot, view.edit_button)
    form = view.form
    assert form.name.text() == "Rita Reception"
    form.name.clear()
    qtbot.keyClicks(form.name, "Rita Evans")
    form.role.setCurrentIndex(form.role.findData(Role.MANAGER))
    with qtbot.waitSignal(form.saved, timeout=WAIT):
        _click(qtbot, form.save_button)
    qtbot.waitUntil(lambda: "Rita Evans" in _shown(view), timeout=WAIT)
    assert _shown(view)["Rita Evans"] == ("Manager", "Active")
    assert _member(desk, "Rita Evans").role is Role.MANAGER

    # Rita is a manager now, so Mia may stop being one; then Rita, the last, may not.
    team_service.edit_staff(
        desk.services,
        staff_id=team["manager"],
        name="Mia Manager",
        role="receptionist",
        by_staff_id=team["reception"],
    )
    desk.sign_in(staff_service.list_staff(desk.services, role="manager")[0])
    view.refresh()
    qtbot.waitUntil(lambda: _shown(view).get("Mia Manager", ("",))[0] == "Receptionist", timeout=WAIT)
    view.choose("Rita Evans")
    _click(qtbot, view.edit_button)
    form = view.form
    form.role.setCurrentIndex(form.role.findData(Role.PRACTITIONER))
    _click(qtbot, form.save_button)
    qtbot.waitUntil(lambda: form.status.text() != "", timeout=WAIT)
    assert form.status.text() == LAST_MANAGER and form.isVisible()
    assert _member(desk, "Rita Evans").role is Role.MANAGER
    form.reject()


def test_a_pin_is_reset_after_asking_and_the_old_one_stops_working(qtbot, desk, team, view) -> None:
    view.choose("Rita Reception")
    _click(qtbot, view.reset_button)
    assert view.confirm.isVisible() and "Reset Rita Reception's PIN?" in view.confirm_text.text()
    table_top = view.table.geometry()
    _click(qtbot, view.confirm_no)  # changed her mind: nothing happens
    assert not view.confirm.isVisible() and view.table.geometry() == table_top
    assert not _member(desk, "Rita Reception").pin_reset

    _click(qtbot, view.reset_button)
    _click(qtbot, view.confirm_yes)
    qtbot.waitUntil(lambda: _shown(view)["Rita Reception"][1].startswith("PIN reset"), timeout=WAIT)
    assert view.table.geometry() == table_top  # the question's space stays: nothing moved
    assert "choose a new one" in view.status.text()
    assert _member(desk, "Rita Reception").pin_reset
    assert not view.reset_button.isEnabled()  # already reset
    with pytest.raises(NotPermitted, match="reset your PIN"):
        staff_service.log_in(desk.services, team["reception"], "1234")
    with desk.services.uow(read_only=True) as uow:
        entries = audit_entries(uow.session, record_type="staff", record_id=team["reception"])
    assert [(e.action, e.staff_id) for e in entries][-1] == ("staff.pin_reset", team["manager"])


def test_a_lockout_is_shown_and_lifted(qtbot, desk, team, view) -> None:
    for _ in range(5):
        with pytest.raises(NotPermitted):
            staff_service.log_in(desk.services, team["reception"], "9999")
    view.refresh()
    qtbot.waitUntil(lambda: _shown(view)["Rita Reception"][1].startswith("Locked until"), timeout=WAIT)
    assert _shown(view)["Rita Reception"][1] == "Locked until 09:15 (5 wrong PINs)"
    view.choose("Rita Reception")
    _click(qtbot, view.unlock_button)
    qtbot.waitUntil(lambda: _shown(view)["Rita Reception"][1] == "Active", timeout=WAIT)
    assert view.status.text() == "Rita Reception can sign in again now."
    assert staff_service.log_in(desk.services, team["reception"], "1234").id == team["reception"]


def test_a_leaver_is_kept_in_the_history_but_gone_from_sign_in_and_booking(qtbot, desk, team, view) -> None:
    view.choose("Mia Manager")
    assert not view.leave_button.isEnabled()  # never oneself
    view.choose("Rita Reception")
    _click(qtbot, view.leave_button)
    _click(qtbot, view.confirm_yes)
    _wait_for_rows(qtbot, view, 1)
    assert view.status.text() == "Rita Reception is marked as having left."
    assert [m.name for m in staff_service.list_staff(desk.services)] == ["Mia Manager"]
    with pytest.raises(Exception, match="not on the team"):
        staff_service.log_in(desk.services, team["reception"], "1234")

    view.show_left.setChecked(True)
    _wait_for_rows(qtbot, view, 2)
    assert _shown(view)["Rita Reception"] == ("Receptionist", "Left on 24 Nov 2026")
    view.choose("Rita Reception")
    for button in (view.edit_button, view.reset_button, view.unlock_button, view.leave_button):
        assert not button.isEnabled()


def test_a_practitioner_with_bookings_ahead_is_refused_with_a_sentence(
    qtbot, demo_desk, switch_staff
) -> None:
    switch_staff(demo_desk, "Sophie Laurent")
    view = StaffView(demo_desk)
    qtbot.addWidget(view)
    view.show()
    view.refresh()
    qtbot.waitUntil(lambda: "Dr Amira Shah" in _shown(view), timeout=WAIT)
    view.choose("Dr Amira Shah")
    _click(qtbot, view.leave_button)
    _click(qtbot, view.confirm_yes)
    qtbot.waitUntil(lambda: "still has" in view.status.text(), timeout=WAIT)
    assert view.status.text().endswith("Move them to someone else or cancel them first.")
    assert "Dr Amira Shah" in {p.name for p in appointments_service.practitioners(demo_desk.services)}
    qtbot.waitUntil(lambda: not demo_desk.runner.busy, timeout=WAIT)


def test_only_a_manager_sees_the_team(qtbot, desk, team) -> None:
    desk.sign_in(next(m for m in staff_service.list_staff(desk.services) if m.name == "Rita Reception"))
    view = StaffView(desk)
    qtbot.addWidget(view)
    view.refresh()
    assert view.model.rowCount() == 0 and not view.add_button.isEnabled()
    assert view.status.text() == "Only a manager can see and change the team."
