"""Close of day as the front desk does it in the demo clinic: the X report, the visits left booked settled one
by one, the drawer counted (a difference needs a reason), the Z report written, shown closed, saved as a PDF."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from aestheticc_pos.domain.appointments import AppointmentStatus
from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.close_of_day import ReportKind
from aestheticc_pos.domain.money import Money
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import catalogue as catalogue_service
from aestheticc_pos.services import close_of_day as close_service
from aestheticc_pos.services.checkout import complete_sale
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.views.close_of_day import CloseOfDayView

WAIT = 10_000
NOV_24 = dt.date(2026, 11, 24)


@pytest.fixture(autouse=True)
def _background_work_done(qtbot, demo_desk):
    yield
    qtbot.waitUntil(lambda: not demo_desk.runner.busy, timeout=WAIT)


@pytest.fixture
def view(qtbot, demo_desk) -> CloseOfDayView:
    view = CloseOfDayView(demo_desk)
    qtbot.addWidget(view)
    view.resize(1156, 720)
    view.show()
    qtbot.waitExposed(view)
    view.refresh()
    qtbot.waitUntil(lambda: view.report is not None and not demo_desk.runner.busy, timeout=WAIT)
    return view


def _click(qtbot, button) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _status_of(desk, appointment_id: str) -> AppointmentStatus:
    return appointments_service.appointment_detail(desk.services, appointment_id).appointment.status


def _settle_first(qtbot, view: CloseOfDayView, button) -> str:
    """Settle the visit at the top of the list with ``button``; returns its appointment id."""
    view.visits.selectRow(0)
    visit = view.selected_visit()
    assert visit is not None
    left = view.visits_model.rowCount()
    _click(qtbot, button)
    qtbot.waitUntil(
        lambda: view.visits_model.rowCount() == left - 1 and not view.desk.runner.busy, timeout=WAIT
    )
    return visit.appointment_id


def test_visits_left_booked_are_settled_then_the_day_is_counted_and_closed(
    qtbot, demo_desk, view, tmp_path
) -> None:
    desk = demo_desk
    left_booked = close_service.visits_to_settle(desk.services, desk.staff_id)
    assert view.visits_model.rowCount() == len(left_booked) > 3
    assert view.state.text() == "Open: X report, the day so far, till A."
    assert "X report: the day so far" in view.preview.toPlainText()
    table_place = view.visits.geometry()

    attended = _settle_first(qtbot, view, view.attended_button)
    no_show = _settle_first(qtbot, view, view.no_show_button)
    cancelled = _settle_first(qtbot, view, view.cancelled_button)
    assert _status_of(desk, attended) is AppointmentStatus.ATTENDED
    assert _status_of(desk, no_show) is AppointmentStatus.NO_SHOW
    assert _status_of(desk, cancelled) in (AppointmentStatus.CANCELLED, AppointmentStatus.LATE_CANCELLED)
    assert "marked cancelled" in view.visits_status.text()
    assert view.visits.geometry() == table_place  # the sentences have their own space

    product = catalogue_service.list_products(desk.services)[0]
    complete_sale(
        desk.services,
        client_id=None,
        items=[BasketItem(ItemKind.PRODUCT, product.id)],
        payments=[Payment("cash", fmt.editable_amount(product.price))],
        staff_id=desk.staff_id,
    )
    view.refresh()
    qtbot.waitUntil(lambda: view.report is not None and view.report.sales == 1, timeout=WAIT)
    assert view.cash_taken.text() == fmt.money(product.price)

    # Visits still booked: the day is not closed yet.
    qtbot.keyClicks(view.opening_float, "100")
    qtbot.keyClicks(view.counted, "100")
    _click(qtbot, view.close_button)
    qtbot.waitUntil(lambda: "still booked" in view.drawer_status.text(), timeout=WAIT)
    assert close_service.day_report(desk.services, NOV_24, desk.staff_id).kind is ReportKind.X

    while view.visits_model.rowCount():
        _settle_first(qtbot, view, view.no_show_button)
    assert close_service.visits_to_settle(desk.services, desk.staff_id) == []

    # The drawer is £5 short: the live difference says so, and closing asks why.
    expected = product.price.pence + 10_000
    view.counted.clear()
    qtbot.keyClicks(view.counted, fmt.editable_amount(Money(expected - 500)))
    assert view.expected.text() == fmt.money(Money(expected))
    assert view.difference.text() == "£5.00 short"
    _click(qtbot, view.close_button)
    qtbot.waitUntil(lambda: "short" in view.drawer_status.text(), timeout=WAIT)
    assert view.reason.property("invalid") is True
    assert close_service.day_report(desk.services, NOV_24, desk.staff_id).kind is ReportKind.X

    qtbot.keyClicks(view.reason, "A £5 note given as change for a £10")
    _click(qtbot, view.close_button)
    qtbot.waitUntil(lambda: view.report is not None and view.report.closure is not None, timeout=WAIT)
    z = close_service.day_report(desk.services, NOV_24, desk.staff_id)
    assert z.kind is ReportKind.Z and z.closure is not None
    assert (z.closure.z_number, z.closure.cash.counted.pence, z.closure.cash.difference.pence) == (
        1,
        expected - 500,
        -500,
    )
    assert z.closure.cash.reason == "A £5 note given as change for a £10"
    assert view.state.text().startswith("Closed: Z report 1,")
    assert view.close_button.text() == "Day closed" and not view.close_button.isEnabled()
    assert view.opening_float.isReadOnly() and view.counted.isReadOnly()
    assert "Z report 1: the day closed" in view.preview.toPlainText()

    saved = view.save_pdf(tmp_path / "z.pdf")
    assert saved is not None and saved.read_bytes().startswith(b"%PDF")
    assert view.report_status.text() == f"Saved to {saved}."

    view.refresh()  # shown again later: still the Z, still closed
    qtbot.waitUntil(lambda: not desk.runner.busy, timeout=WAIT)
    assert view.report.closure is not None and not view.close_button.isEnabled()


def test_an_earlier_day_shows_its_own_report(qtbot, demo_desk, view) -> None:
    view.day.setDate(NOV_24 - dt.timedelta(days=1))
    qtbot.waitUntil(
        lambda: view.report is not None and view.report.day == NOV_24 - dt.timedelta(days=1), timeout=WAIT
    )
    assert view.report.kind is ReportKind.X
    view.day.setDate(NOV_24 + dt.timedelta(days=1))  # a day to come cannot be chosen
    assert view.chosen_day() == NOV_24


def test_a_practitioner_cannot_close_the_day(qtbot, demo_desk, switch_staff) -> None:
    switch_staff(demo_desk, "Dr Amira Shah")
    view = CloseOfDayView(demo_desk)
    qtbot.addWidget(view)
    view.refresh()
    assert not view.close_button.isEnabled()
    assert "Only a manager or a receptionist" in view.drawer_status.text()
