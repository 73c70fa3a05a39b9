"""A day at the front desk, through the main window as staff use it: log in, book a Botox starter step too
early and read the refusal, book it on the allowed date, attend the consultation, check out a Gold member and
see 20% off, sell a package, and watch the sessions left change on the appointment screen."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, Qt, QTime
from staffing import front_desk

from aestheticc_pos.domain.memberships import MembershipStatus
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import membership_views
from aestheticc_pos.ui.main_window import MainWindow
from aestheticc_pos.ui.models.basket import ITEM, NET, REASON
from aestheticc_pos.ui.views.checkout_payment import TenderMode

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
EVENING = QTime(19, 0)


def _choose(combo, starts_with: str) -> None:
    combo.setCurrentIndex(next(i for i in range(combo.count()) if combo.itemText(i).startswith(starts_with)))


def _pick(qtbot, finder, field, typed: str, wanted: str) -> None:
    qtbot.keyClicks(field, typed)
    qtbot.waitUntil(lambda: wanted in finder.matches(), timeout=5000)
    while finder.list.currentItem().text(0) != wanted:
        qtbot.keyClick(field, Qt.Key.Key_Down)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def _checkout(qtbot, window: MainWindow, client: str, typed: str, item: str):
    view = window.open_screen("checkout")
    view.new_sale()
    qtbot.waitUntil(lambda: len(view.catalogue) > 0, timeout=5000)
    _pick(qtbot, view.chooser.finder, view.chooser.search, client, client)
    qtbot.waitUntil(lambda: view.client is not None and view.client.name == client, timeout=5000)
    _pick(qtbot, view.item_finder, view.item_search, typed, item)
    qtbot.waitUntil(lambda: view.model.rowCount() == 1 and not view.payment.busy, timeout=5000)
    return view


def _pay_by_card(qtbot, view) -> str:
    view.payment.set_mode(TenderMode.CARD)
    qtbot.waitUntil(lambda: view.payment.pay_button.isEnabled(), timeout=5000)
    qtbot.mouseClick(view.payment.pay_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: view.last_sale.receipt_dialog is not None and view.last_sale.receipt_dialog.isVisible(),
        timeout=5000,
    )
    text = view.last_sale.receipt_dialog.preview.toPlainText()
    view.last_sale.receipt_dialog.accept()
    return text


def _book(qtbot, window: MainWindow, client: str, treatment: str, day: QDate):
    today = window.open_screen("today")
    dialog = today.open_booking()
    qtbot.waitUntil(lambda: dialog.treatment.count() > 0 and dialog.practitioner.count() > 0, timeout=5000)
    dialog.finder.search.setFocus()
    qtbot.keyClicks(dialog.finder.search, client)
    qtbot.waitUntil(lambda: dialog.finder.results.isVisible(), timeout=5000)
    qtbot.keyClick(dialog.finder.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.client is not None, timeout=5000)
    _choose(dialog.treatment, treatment)
    _choose(dialog.practitioner, "Dr James Whitfield")
    dialog.day.setDate(day)
    dialog.time.setTime(EVENING)
    return dialog


def _counts(view, package: int, step: int) -> tuple[str, ...]:
    return tuple(label.text() for label in view.packages.progress[package].counts[step])


def test_a_day_at_the_front_desk(qtbot, window: MainWindow, sign_in) -> None:
    services = window.desk.services
    clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Nadia", last_name="Okafor", phone="07700 111222"
    )
    gold = next(
        m
        for m in membership_views.memberships_list(services)
        if m.tier_name == "Gold" and m.status is MembershipStatus.ACTIVE
    )
    gold_name = clients_service.get_client(services, gold.client_id).full_name

    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.login, timeout=5000)
    sign_in(window, "Rita Evans")

    # Nadia buys the Botox starter at the till.
    view = _checkout(qtbot, window, "Nadia Okafor", "botox sta", "Botox starter")
    assert view.payment.total.text() == "£280.00"
    assert "Botox starter" in _pay_by_card(qtbot, view)

    # The consultation today, paid by the package.
    dialog = _book(qtbot, window, "Okafor", "Botox consultation", QDate(2026, 11, 24))
    qtbot.waitUntil(
        lambda: dialog.package_hint.text().startswith("Uses a session of Botox starter"), timeout=5000
    )
    with qtbot.waitSignal(dialog.booked) as booked:
        qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    consultation = booked.args[0]

    # The treatment tomorrow is too early: the refusal names the rule and the earliest date.
    dialog = _book(qtbot, window, "Okafor", "Botox treatment", QDate(2026, 11, 25))
    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.earliest_button.isVisible(), timeout=5000)
    assert dialog.error.text() == (
        "Treatment can be booked from 26 Nov 2026: at least 2 days after the consultation on 24 Nov 2026."
    )
    with qtbot.waitSignal(dialog.booked) as booked:
        qtbot.mouseClick(dialog.earliest_button, Qt.MouseButton.LeftButton)
    treatment = booked.args[0]
    assert treatment.starts_at.astimezone(window.desk.settings.tz).date() == dt.date(2026, 11, 26)

    # The practitioner opens the consultation from Today: booked, not yet used.
    today = window.open_screen("today")
    qtbot.waitUntil(lambda: today.select(consultation.id), timeout=5000)
    today.open_current()
    qtbot.waitUntil(lambda: window.current_screen() == "appointment", timeout=5000)
    detail = window.views["appointment"]
    qtbot.waitUntil(
        lambda: detail.appointment_id == consultation.id and len(detail.packages.progress) == 1, timeout=5000
    )
    # used / booked / remaining: consultation booked today, treatment booked on the 26th, review not yet.
    assert [_counts(detail, 0, step) for step in (1, 2, 3)] == [
        ("0", "1", "0"),
        ("0", "1", "0"),
        ("0", "0", "1"),
    ]

    # Attend: the consultation's session is used; the treatment stays booked.
    qtbot.mouseClick(detail.attend_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _counts(detail, 0, 1) == ("1", "0", "0"), timeout=5000)
    assert _counts(detail, 0, 2) == ("0", "1", "0")

    # A Gold member's treatment: 20% off automatically.
    view = _checkout(qtbot, window, gold_name, "botox treat", "Botox treatment (up to 3 areas)")
    row = next(
        r for r in range(view.model.rowCount()) if view.model.index(r, ITEM).data().startswith("Botox")
    )
    assert view.model.index(row, REASON).data() == "Gold member 20%"
    assert view.model.index(row, NET).data() == "£200.00"
    assert "Gold member 20%" in _pay_by_card(qtbot, view)

    # Nadia buys a second Botox starter: the appointment screen now shows both packages' sessions.
    view = _checkout(qtbot, window, "Nadia Okafor", "botox sta", "Botox starter")
    _pay_by_card(qtbot, view)
    window.desk.open_appointment.emit(treatment.id)
    qtbot.waitUntil(
        lambda: detail.appointment_id == treatment.id and len(detail.packages.progress) == 2, timeout=5000
    )
    counts = sorted([_counts(detail, i, step) for step in (1, 2, 3)] for i in (0, 1))
    assert counts == [
        [("0", "0", "1"), ("0", "0", "1"), ("0", "0", "1")],  # the new package: every session left
        [("1", "0", "0"), ("0", "1", "0"), ("0", "0", "1")],  # the first: consultation used, treatment booked
    ]
