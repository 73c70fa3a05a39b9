"""Nothing clipped at 1366×768: dates and times in a client's record, the memberships list, "Receipt again",
a QR code whole with its quiet zone; and a time typed as "11:00" is 11:00."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QTime
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView
from test_book_appointment import _dialog, _find_and_pick
from test_settings_leaving import settle

from aestheticc_pos.services import checkout as checkout_service
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services.appointments import appointments_of_client
from aestheticc_pos.ui.views.checkout_last_sale import LastSale
from aestheticc_pos.ui.views.client_record import ClientRecordView
from aestheticc_pos.ui.views.memberships import MembershipsView
from aestheticc_pos.ui.widgets.qr import QUIET_ZONE, qr_modules
from aestheticc_pos.ui.widgets.time_field import NOT_A_TIME

WAIT = 10_000
LINK = "https://pay-sandbox.gocardless.com/billing/static/flow?id=BRF0001234567890ABCDEF"


def _every_column_fits(table: QAbstractItemView, *, but: int) -> None:
    """Each column (but the one that takes the spare width and elides) is as wide as its widest cell."""
    header = table.horizontalHeader() if hasattr(table, "horizontalHeader") else table.header()
    for column in range(header.count()):
        if column == but:
            continue
        needed = max(table.sizeHintForColumn(column), header.sectionSizeHint(column))
        assert header.sectionSize(column) >= needed, (column, header.sectionSize(column), needed)


def test_a_clients_past_appointments_and_purchases_show_whole_dates_and_times(qtbot, demo_desk) -> None:
    services = demo_desk.services
    client_id = max(
        clients_service.search_client_ids(services, ""),
        key=lambda i: len(appointments_of_client(services, i)),
    )
    record = ClientRecordView(demo_desk)
    qtbot.addWidget(record)
    record.resize(1366 - 210, 768 - 120)  # beside the side bar, under the window's bars
    record.show()
    record.show_client(client_id)
    qtbot.waitUntil(lambda: record.record is not None and record.past_table.rowCount() > 0, timeout=WAIT)

    for tab in (record.past_table, record.upcoming_table, record.sales_tree):
        record.tabs.setCurrentWidget(tab)
        _every_column_fits(tab, but=2)
    settle(qtbot, demo_desk)


def test_the_memberships_list_fits_every_column_but_the_name(qtbot, demo_desk) -> None:
    view = MembershipsView(demo_desk)
    qtbot.addWidget(view)
    view.resize(1366 - 210, 768 - 40)
    view.show()
    view.refresh()
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=WAIT)
    _every_column_fits(view.table, but=0)
    assert view.table.horizontalScrollBar().maximum() == 0  # nothing beyond the right edge either
    settle(qtbot, demo_desk)


def test_the_qr_code_stays_whole_with_its_quiet_zone_while_a_sentence_shows(qtbot, demo_desk) -> None:
    view = MembershipsView(demo_desk)
    qtbot.addWidget(view)
    view.resize(1366 - 210, 768 - 40)
    view.show()
    view.refresh()
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=WAIT)
    view.table.selectRow(0)
    panel = view.panel
    panel.link.show()
    panel.link.set_link(LINK)
    for button in (panel.new_link, panel.take_arrears, panel.change_tier, panel.give_notice, panel.end):
        button.show()  # the most a member's panel holds
    view.status.setText("GoCardless could not be reached: the link is queued. Check Sync (F8).")
    view.status.show()
    qtbot.wait(50)

    code = panel.link.code
    assert (code.width(), code.height()) == (150, 150)
    corner = code.mapTo(panel, QPoint(code.width() - 1, code.height() - 1))
    assert panel.rect().contains(corner), "the code's far corner lies outside its panel: it is cut off"
    assert view.height() <= 768 - 40  # the panel scrolls rather than stretching the window

    image = code.grab().toImage()
    modules = len(qr_modules(LINK)) + 2 * QUIET_ZONE
    quiet = int(QUIET_ZONE * image.width() / modules) - 1
    white = QColor("white")
    for i in range(image.width()):
        for j in range(quiet):  # every edge's quiet zone is light
            for x, y in ((i, j), (j, i), (i, image.height() - 1 - j), (image.width() - 1 - j, i)):
                assert image.pixelColor(x, y) == white, (x, y)
    settle(qtbot, demo_desk)


def test_receipt_again_keeps_its_whole_caption_beside_a_long_last_sale(qtbot, demo_desk) -> None:
    last = LastSale(demo_desk)
    last.setStyleSheet((Path(__file__).parents[2] / "resources" / "style.qss").read_text(encoding="utf-8"))
    qtbot.addWidget(last)
    last.resize(460, last.height())
    last.show()
    receipt = checkout_service.last_sale(demo_desk.services)
    assert receipt is not None
    last.show_sale(receipt)
    last.label.setText(last.label.text() + " · Alexandra Montgomery-Fairweather")
    last.resize(460, last.height())
    qtbot.wait(20)
    assert last.button.width() >= last.button.sizeHint().width()
    assert last.button.height() >= last.button.sizeHint().height()  # the caption whole, top to bottom
    assert last.rect().contains(last.button.geometry())
    assert last.label.geometry().right() < last.button.geometry().left()
    assert last.label.shown_text().endswith("…") and last.label.toolTip() == last.label.text()


@pytest.mark.parametrize(
    ("typed", "time"), [("11:00", QTime(11, 0)), ("1100", QTime(11, 0)), ("9.30", QTime(9, 30))]
)
def test_a_time_typed_as_people_type_it_is_that_time(qtbot, demo_desk, typed: str, time: QTime) -> None:
    dialog = _dialog(qtbot, demo_desk)
    dialog.time.setFocus()
    dialog.time.selectAll()
    qtbot.keyClicks(dialog.time, typed)
    qtbot.keyClick(dialog.time, Qt.Key.Key_Tab)
    assert dialog.time.time() == time
    assert dialog.starts_at().hour == time.hour() and dialog.starts_at().minute == time.minute()
    assert dialog.time.text() == time.toString("HH:mm")
    settle(qtbot, demo_desk)


def test_a_time_that_is_not_one_is_said_and_nothing_is_booked(qtbot, demo_desk) -> None:
    zelda = clients_service.add_client(
        demo_desk.services, staff_id=demo_desk.staff_id, first_name="Zelda", last_name="Quist"
    )
    dialog = _dialog(qtbot, demo_desk)
    _find_and_pick(qtbot, dialog, "Quist", "Zelda Quist")
    dialog.treatment.setCurrentIndex(0)
    dialog.practitioner.setCurrentIndex(0)
    dialog.time.selectAll()
    qtbot.keyClicks(dialog.time, "25:00")
    dialog.book()
    assert dialog.error.text() == NOT_A_TIME and not dialog.error.isHidden()
    settle(qtbot, demo_desk)
    assert appointments_of_client(demo_desk.services, zelda.id) == []  # nothing was booked
