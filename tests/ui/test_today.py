"""Today, as the receptionist uses it: the day's appointments by practitioner, moving between days, opening
an appointment and booking one."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, Qt

from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.ui.views.today import TodayView

NOV_24, NOV_25 = dt.date(2026, 11, 24), dt.date(2026, 11, 25)


def _today_view(qtbot, desk) -> TodayView:
    view = TodayView(desk)
    qtbot.addWidget(view)
    view.resize(1166, 720)
    view.show()
    qtbot.waitExposed(view)
    return view


def _wait_for_day(qtbot, view: TodayView, day: dt.date) -> None:
    expected = {
        a.id for a in appointments_service.appointments_on(view.desk.services, day, include_cancelled=True)
    }
    qtbot.waitUntil(
        lambda: {a.id for a in view.model.appointments()} == expected and not view.desk.runner.busy,
        timeout=5000,
    )


def _columns(view: TodayView) -> dict[str, list[str]]:
    """What each practitioner's column shows, as "09:15 · Client · Treatment · Booked" lines."""
    model = view.model
    names = model.practitioner_names()
    return {
        names[c]: [model.index(r, c).data() for r in range(model.rowCount()) if model.index(r, c).data()]
        for c in range(model.columnCount())
    }


def test_today_lists_the_days_appointments_by_practitioner(qtbot, demo_desk) -> None:
    view = _today_view(qtbot, demo_desk)
    view.refresh()
    _wait_for_day(qtbot, view, NOV_24)

    expected = appointments_service.appointments_on(demo_desk.services, NOV_24)
    assert expected, "the demo clinic has appointments today"
    columns = _columns(view)
    assert list(columns) == ["Dr Amira Shah", "Dr James Whitfield", "Nurse Chloe Bennett"]
    for appointment in expected:
        line = f"{appointment.starts_at:%H:%M} · {appointment.client_name} · {appointment.treatment_name}"
        assert any(shown.startswith(line) for shown in columns[appointment.practitioner_name]), line
    for lines in columns.values():
        assert lines == sorted(lines)  # each column by time
    assert view.title.text() == "Tuesday 24 Nov 2026"
    assert view.summary.text() == f"Today  ·  {len(expected)} appointments"
    assert not view.today_button.isEnabled()


def test_next_previous_today_and_the_date_picker_move_the_day(qtbot, demo_desk) -> None:
    view = _today_view(qtbot, demo_desk)
    view.refresh()
    _wait_for_day(qtbot, view, NOV_24)

    qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)
    _wait_for_day(qtbot, view, NOV_25)
    assert view.title.text() == "Wednesday 25 Nov 2026"
    assert view.summary.text().startswith("Tomorrow  ·  ")
    assert view.date_picker.date() == QDate(2026, 11, 25)
    tomorrow = appointments_service.appointments_on(demo_desk.services, NOV_25)
    assert sum(len(lines) for lines in _columns(view).values()) == len(tomorrow)

    qtbot.mouseClick(view.previous_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.previous_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.title.text() == "Monday 23 Nov 2026")
    assert view.summary.text().startswith("Yesterday")

    qtbot.mouseClick(view.today_button, Qt.MouseButton.LeftButton)
    _wait_for_day(qtbot, view, NOV_24)
    assert view.title.text() == "Tuesday 24 Nov 2026"

    view.date_picker.setDate(QDate(2026, 11, 29))  # a Sunday: the clinic is closed
    qtbot.waitUntil(lambda: view.pages.currentWidget() is view.empty)
    assert view.empty.text().startswith("No appointments on Sunday 29 Nov 2026.")
    assert view.summary.text() == "In 5 days  ·  0 appointments"


def test_a_click_or_enter_opens_the_appointment_and_a_change_elsewhere_refreshes(qtbot, demo_desk) -> None:
    view = _today_view(qtbot, demo_desk)
    view.refresh()
    _wait_for_day(qtbot, view, NOV_24)
    first = view.model.index(0, 0)
    wanted = view.model.appointment_id(first)

    with qtbot.waitSignal(demo_desk.open_appointment) as opened:
        qtbot.mouseClick(
            view.board.viewport(), Qt.MouseButton.LeftButton, pos=view.board.visualRect(first).center()
        )
    assert opened.args == [wanted]

    second = view.model.index(1, 0)
    view.board.setFocus()
    view.board.setCurrentIndex(second)
    with qtbot.waitSignal(demo_desk.open_appointment) as opened:
        qtbot.keyClick(view.board, Qt.Key.Key_Return)
    assert opened.args == [view.model.appointment_id(second)]

    # Another screen cancels an appointment: Today shows it as cancelled, and no longer counts it.
    appointment = view.model.appointment(second)
    appointments_service.cancel_appointment(
        demo_desk.services, appointment_id=appointment.id, staff_id=demo_desk.staff_id
    )
    qtbot.waitUntil(
        lambda: view.model.appointment(view.model.index_of(appointment.id)).status.value != "booked"
    )
    assert view.model.index_of(appointment.id).data().endswith("Cancelled late")
    assert "1 cancelled or no-show" in view.summary.text()
    assert view.board.currentIndex() == view.model.index_of(appointment.id)  # the selection stays put


def test_book_appointment_button_and_ctrl_n_open_the_booking_form(qtbot, demo_desk) -> None:
    view = _today_view(qtbot, demo_desk)
    view.refresh()
    _wait_for_day(qtbot, view, NOV_24)
    view.next_day()
    _wait_for_day(qtbot, view, NOV_25)

    qtbot.mouseClick(view.book_button, Qt.MouseButton.LeftButton)
    dialog = view.booking_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.day.date() == QDate(2026, 11, 25)  # the day on screen
    dialog.reject()

    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    qtbot.keyClick(view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert view.booking_dialog is not dialog and view.booking_dialog.isVisible()
    view.booking_dialog.reject()


def test_a_practitioner_sees_the_day_but_books_nothing(qtbot, demo_desk, switch_staff) -> None:
    view = _today_view(qtbot, demo_desk)
    assert view.book_button.isVisible()
    switch_staff(demo_desk, "Dr Amira Shah")
    assert not view.book_button.isVisible()
    messages: list[str] = []
    demo_desk.message.connect(messages.append)
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    qtbot.keyClick(view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)  # the shortcut says why not
    assert view.booking_dialog is None
    assert messages == ["Only a manager or a receptionist can book appointments."]
    switch_staff(demo_desk, "Rita Evans")
    assert view.book_button.isVisible()
