"""Booking at the desk, keyboard first: find the client as you type, choose, book; the package's step rules
refuse with a sentence and offer the earliest date allowed; nothing typed is lost on an error."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, Qt, QTime
from PySide6.QtWidgets import QComboBox, QDialog
from staffing import front_desk

from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services.checkout import complete_sale
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.ui.dialogs.book_appointment import BookAppointmentDialog
from aestheticc_pos.ui.topics import APPOINTMENTS, PACKAGES

EVENING = QTime(19, 0)  # the demo books nobody after 18:45, so every practitioner is free then


def _client_with_botox_starter(desk) -> clients_service.Client:
    client = clients_service.add_client(
        desk.services,
        staff_id=front_desk(desk.services),
        first_name="Nadia",
        last_name="Okafor",
        phone="07700 111222",
    )
    complete_sale(
        desk.services,
        client_id=client.id,
        items=[BasketItem(ItemKind.PACKAGE, "pk-botox-starter")],
        payments=[Payment("card", "280.00")],
        staff_id=desk.staff_id,
    )
    return client


def _dialog(qtbot, desk) -> BookAppointmentDialog:
    dialog = BookAppointmentDialog(desk)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.treatment.count() > 0 and dialog.practitioner.count() > 0)
    return dialog


def _choose(combo: QComboBox, starts_with: str) -> None:
    index = next(i for i in range(combo.count()) if combo.itemText(i).startswith(starts_with))
    combo.setCurrentIndex(index)


def _find_and_pick(qtbot, dialog: BookAppointmentDialog, typed: str, name: str) -> None:
    dialog.finder.search.setFocus()
    qtbot.keyClicks(dialog.finder.search, typed)
    qtbot.waitUntil(lambda: dialog.finder.results.isVisible())
    qtbot.keyClick(dialog.finder.search, Qt.Key.Key_Return)
    assert dialog.client is not None and dialog.client.full_name == name
    assert dialog.finder.search.text() == name and not dialog.finder.results.isVisible()
    assert dialog.treatment.hasFocus()


def test_booking_the_botox_starter_then_a_refused_step_books_on_the_earliest_date(qtbot, demo_desk) -> None:
    client = _client_with_botox_starter(demo_desk)

    # The consultation, today: the package pays for it.
    dialog = _dialog(qtbot, demo_desk)
    _find_and_pick(qtbot, dialog, "07700 111222", "Nadia Okafor")
    assert dialog.finder.note.text().startswith("✓  Nadia Okafor  ·  07700")
    _choose(dialog.treatment, "Botox consultation")
    _choose(dialog.practitioner, "Dr James Whitfield")
    dialog.time.setTime(EVENING)
    assert dialog.day.date() == QDate(2026, 11, 24)
    assert dialog.use_package.isChecked()
    qtbot.waitUntil(
        lambda: dialog.package_hint.text().startswith("Uses a session of Botox starter (step 1 of 3)")
    )
    heard: list[frozenset[str]] = []
    demo_desk.changed.connect(heard.append)
    qtbot.keyClick(dialog.time, Qt.Key.Key_Return)  # Enter books
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert {APPOINTMENTS, PACKAGES} <= heard[0]  # what the booking's commit wrote
    [consultation] = [a for a in appointments_service.appointments_of_client(demo_desk.services, client.id)]
    assert (consultation.treatment_id, consultation.package_name, consultation.step_position) == (
        "tr-consult",
        "Botox starter",
        1,
    )

    # The treatment, tomorrow: too soon after the consultation. Enter typed before the search answers still
    # picks the only match.
    dialog = _dialog(qtbot, demo_desk)
    dialog.finder.search.setFocus()
    qtbot.keyClicks(dialog.finder.search, "Okafor")
    qtbot.keyClick(dialog.finder.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.client is not None and dialog.client.full_name == "Nadia Okafor")
    assert dialog.treatment.hasFocus()
    _choose(dialog.treatment, "Botox treatment")
    _choose(dialog.practitioner, "Dr James Whitfield")
    dialog.day.setDate(QDate(2026, 11, 25))
    dialog.time.setTime(EVENING)
    dialog.notes.setText("Forehead and crow's feet")
    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.earliest_button.isVisible())

    assert dialog.error.text() == (
        "Treatment can be booked from 26 Nov 2026: at least 2 days after the consultation on 24 Nov 2026."
    )
    assert dialog.earliest_button.text() == "Book on 26 Nov 2026 instead"
    assert dialog.isVisible() and dialog.book_button.isEnabled()
    # Nothing typed is lost.
    assert dialog.finder.search.text() == "Nadia Okafor"
    assert dialog.treatment.currentData() == "tr-botox"
    assert dialog.practitioner.currentText() == "Dr James Whitfield"
    assert (dialog.day.date(), dialog.time.time()) == (QDate(2026, 11, 25), EVENING)
    assert dialog.notes.text() == "Forehead and crow's feet"

    with qtbot.waitSignal(dialog.booked) as booked:
        qtbot.mouseClick(dialog.earliest_button, Qt.MouseButton.LeftButton)
    treatment = booked.args[0]
    local = treatment.starts_at.astimezone(demo_desk.settings.tz)
    assert (local.date(), local.time()) == (dt.date(2026, 11, 26), dt.time(19, 0))
    assert (treatment.package_name, treatment.step_position, treatment.notes) == (
        "Botox starter",
        2,
        "Forehead and crow's feet",
    )
    assert not dialog.isVisible()


def test_keyboard_only_booking_with_errors_shown_as_sentences(qtbot, demo_desk) -> None:
    messages: list[str] = []
    demo_desk.message.connect(messages.append)
    clients_service.add_client(
        demo_desk.services,
        staff_id=front_desk(demo_desk.services),
        first_name="Zelda",
        last_name="Quince",
        phone="07700 555001",
    )
    clients_service.add_client(
        demo_desk.services,
        staff_id=front_desk(demo_desk.services),
        first_name="Zoe",
        last_name="Quince",
        phone="07700 555002",
    )
    dialog = _dialog(qtbot, demo_desk)

    # Enter before choosing anyone: a sentence, no traceback, nothing booked.
    qtbot.keyClick(dialog.finder.search, Qt.Key.Key_Return)
    assert dialog.error.text().startswith("Choose the client")

    # Two matches: ↓ highlights the second, Enter picks it, the focus moves on to the treatment.
    qtbot.keyClicks(dialog.finder.search, "Quince")
    qtbot.waitUntil(lambda: dialog.finder.matches.rowCount() == 2 and dialog.finder.results.isVisible())
    qtbot.keyClick(dialog.finder.search, Qt.Key.Key_Down)
    qtbot.keyClick(dialog.finder.search, Qt.Key.Key_Return)
    assert dialog.client.full_name == "Zoe Quince"
    assert dialog.treatment.hasFocus()

    # Tab order follows the form.
    qtbot.keyClick(dialog.treatment, Qt.Key.Key_Tab)
    assert dialog.practitioner.hasFocus()

    qtbot.keyClick(dialog.practitioner, Qt.Key.Key_Return)
    assert dialog.error.text() == "Choose a treatment."
    assert dialog.treatment.hasFocus()
    _choose(dialog.treatment, "HydraFacial")
    _choose(dialog.practitioner, "Nurse Chloe Bennett")
    qtbot.waitUntil(
        lambda: dialog.package_hint.text() == "No package of this client covers it: it is paid at checkout."
    )

    # A time already gone: the service's sentence, and the form as it was.
    dialog.time.setTime(QTime(8, 0))
    qtbot.keyClick(dialog.time, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.error.isVisible() and dialog.book_button.isEnabled())
    assert dialog.error.text() == "That time has already passed. Choose a time from now on."
    assert not dialog.earliest_button.isVisible()
    assert (dialog.client.full_name, dialog.treatment.currentData()) == ("Zoe Quince", "tr-hydrafacial")

    dialog.time.setTime(EVENING)
    assert not dialog.error.isVisible()  # a change clears the old sentence
    with qtbot.waitSignal(dialog.booked) as booked:
        qtbot.keyClick(dialog.time, Qt.Key.Key_Return)
    assert booked.args[0].package_name is None
    assert messages[-1] == (
        "Booked Zoe Quince for HydraFacial with Nurse Chloe Bennett on Tuesday 24 Nov 2026 at 19:00."
    )
