"""Screenshots of the main screens on the demo clinic, grabbed from the real widgets.

Each screen is checked to have drawn something (not a blank window) and to show what it is there to show: texts
read from its visible labels, buttons, fields and the table cells scrolled into view. With
``AESTHETICC_SCREENSHOTS`` set to a folder, the pictures are saved there (``scripts/screenshots`` refreshes
``docs/screenshots/`` for the README); otherwise they go to the test's temporary folder.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from PySide6.QtCore import QAbstractListModel, Qt
from PySide6.QtGui import QImage, QTextDocumentFragment
from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QGroupBox, QLabel, QLineEdit, QWidget
from staffing import front_desk

from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.memberships import MembershipStatus
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import invoices as invoices_service
from aestheticc_pos.services import membership_views
from aestheticc_pos.services import payment_links as links_service
from aestheticc_pos.services.checkout import complete_sale
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.ui.models.basket import ITEM


def _folder(tmp_path: Path) -> Path:
    chosen = os.environ.get("AESTHETICC_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _save(qtbot, widget, path: Path, *shows: str) -> None:
    """Save a picture of ``widget`` once it has settled, after checking that it shows each of ``shows``."""
    qtbot.wait(400)  # let background answers arrive and the screen settle
    qtbot.waitUntil(lambda: not widget.desk.runner.busy, timeout=10_000)
    qtbot.wait(100)
    image: QImage = widget.grab().toImage()
    assert image.width() >= 1300 and image.height() >= 700
    colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 23)}
    assert len(colours) > 5, f"{path.name} looks blank"  # a blank window has one or two
    seen = _visible_texts(widget)
    missing = [text for text in shows if not any(text in line for line in seen)]
    assert not missing, f"{path.name} does not show {missing}; it shows {seen}"
    assert image.save(str(path))


def _visible_texts(window: QWidget) -> list[str]:
    """What a person can read on ``window`` now: labels (rich text as plain), buttons (without the ``&`` of their
    shortcut), fields, group titles, and the cells of tables and lists that are scrolled into view."""
    texts: list[str] = []
    for widget in window.findChildren(QWidget):
        if not widget.isVisible():
            continue
        if isinstance(widget, QLabel):
            texts.append(QTextDocumentFragment.fromHtml(widget.text()).toPlainText())
        elif isinstance(widget, QAbstractButton):
            texts.append(widget.text().replace("&&", "\0").replace("&", "").replace("\0", "&"))
        elif isinstance(widget, QLineEdit):
            texts.append(widget.text())
        elif isinstance(widget, QGroupBox):
            texts.append(widget.title())
        elif isinstance(widget, QAbstractItemView) and widget.model() is not None:
            texts.extend(_cells_in_view(widget))
    return [text for text in texts if text]


def _cells_in_view(view: QAbstractItemView) -> list[str]:
    model = view.model()
    columns = 1 if isinstance(model, QAbstractListModel) else model.columnCount()
    indexes = [model.index(row, column) for row in range(model.rowCount()) for column in range(columns)]
    shown = view.viewport().rect()
    return [str(i.data()) for i in indexes if i.data() is not None and view.visualRect(i).intersects(shown)]


@pytest.mark.screenshots
def test_screenshots_of_the_main_screens(qtbot, window, sign_in, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    services = window.desk.services
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.login, timeout=5000)
    clinic = window.desk.settings.name
    _save(qtbot, window, folder / "01-login.png", clinic, "Sophie Laurent", "Rita Evans", "Dr Amira Shah")
    sign_in(window, "Sophie Laurent")

    nadia = clients_service.add_client(
        services,
        staff_id=front_desk(services),
        first_name="Nadia",
        last_name="Okafor",
        phone="07700 111222",
        email="nadia.okafor@example.com",
    )
    complete_sale(
        services,
        client_id=nadia.id,
        items=[BasketItem(ItemKind.PACKAGE, "pk-botox-starter")],
        payments=[Payment("card", "280.00")],
        staff_id=window.desk.staff_id,
    )
    shah = next(m for m in appointments_service.practitioners(services) if m.name == "Dr Amira Shah")
    booked = appointments_service.book_appointment(
        services,
        client_id=nadia.id,
        treatment_id="tr-consult",
        practitioner_id=shah.id,
        starts_at=dt.datetime(2026, 11, 24, 18, 45, tzinfo=window.desk.settings.tz),
        staff_id=window.desk.staff_id,
    )

    window.open_screen("today")
    _save(qtbot, window, folder / "02-today.png", "18:45 · Nadia Okafor · Botox consultation")

    window.desk.open_appointment.emit(booked.appointment.id)
    detail = window.views["appointment"]
    qtbot.waitUntil(
        lambda: detail.appointment_id == booked.appointment.id and bool(detail.packages.progress),
        timeout=5000,
    )
    _save(
        qtbot,
        window,
        folder / "03-appointment.png",
        "Botox consultation",
        "Nadia Okafor",
        "Dr Amira Shah",
        "Botox starter",
    )

    gold = next(
        m
        for m in membership_views.memberships_list(services)
        if m.tier_name == "Gold" and m.status is MembershipStatus.ACTIVE
    )
    gold_name = clients_service.get_client(services, gold.client_id).full_name
    view = window.open_screen("checkout")
    view.new_sale()
    qtbot.waitUntil(lambda: len(view.catalogue) > 0, timeout=5000)
    qtbot.keyClicks(view.chooser.search, gold_name)
    qtbot.waitUntil(lambda: gold_name in view.chooser.finder.matches(), timeout=5000)
    while view.chooser.finder.list.currentItem().text(0) != gold_name:
        qtbot.keyClick(view.chooser.search, Qt.Key.Key_Down)
    qtbot.keyClick(view.chooser.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.client is not None, timeout=5000)
    for typed, name in (("botox treat", "Botox treatment (up to 3 areas)"), ("vitamin", "Vitamin C serum")):
        qtbot.keyClicks(view.item_search, typed)
        qtbot.waitUntil(lambda name=name: name in view.item_finder.matches(), timeout=5000)
        while view.item_finder.list.currentItem().text(0) != name:
            qtbot.keyClick(view.item_search, Qt.Key.Key_Down)
        qtbot.keyClick(view.item_search, Qt.Key.Key_Return)
        qtbot.waitUntil(
            lambda name=name: (
                name in [view.model.index(r, ITEM).data() for r in range(view.model.rowCount())]
            ),
            timeout=5000,
        )
    # Gold members pay 20% less: (£250 + £45) × 0.8.
    _save(
        qtbot,
        window,
        folder / "04-checkout.png",
        gold_name,
        "Botox treatment (up to 3 areas)",
        "Vitamin C serum",
        "£236.00",
    )

    clients = window.open_screen("clients")
    qtbot.keyClicks(clients.search, "o")
    qtbot.waitUntil(lambda: clients.searched_text == "o", timeout=5000)
    _save(qtbot, window, folder / "05-clients.png", "Nadia Okafor", "nadia.okafor@example.com")
    window.desk.open_client.emit(nadia.id)
    qtbot.waitUntil(lambda: clients.record.client_id == nadia.id, timeout=5000)
    _save(
        qtbot,
        window,
        folder / "06-client-record.png",
        "Nadia Okafor",
        "07700 111222",
        "nadia.okafor@example.com",
        "Botox starter",
    )

    for key, name, shows in (
        ("memberships", "07-memberships", (gold_name, "Gold")),
        ("catalogue", "08-catalogue", ("Botox treatment (up to 3 areas)", "£250.00")),
        ("settings", "09-settings", (clinic,)),
    ):
        window.open_screen(key)
        _save(qtbot, window, folder / f"{name}.png", *shows)

    draft = invoices_service.create_invoice_draft(
        services,
        client_id=nadia.id,
        items=[BasketItem(ItemKind.PRODUCT, "pr-serum")],
        staff_id=window.desk.staff_id,
    )
    issued = invoices_service.issue_invoice(services, draft.id, staff_id=window.desk.staff_id)
    links_service.create_basket_link(
        services,
        client_id=gold.client_id,
        items=[BasketItem(ItemKind.TREATMENT, "tr-consult")],
        staff_id=window.desk.staff_id,
    )
    payments = window.open_screen("payments")
    payments.show_invoice(issued.id)  # type: ignore[attr-defined]
    assert issued.number is not None
    _save(
        qtbot, window, folder / "10-payments.png", issued.number, "Nadia Okafor", "Vitamin C serum", "£45.00"
    )
    window.open_screen("sync")
    _save(qtbot, window, folder / "11-sync.png", "Sync with GoCardless")


@pytest.mark.screenshots
def test_screenshots_of_the_clinics_day(qtbot, window, sign_in, tmp_path: Path) -> None:
    """Staff, Sales with a refund, the refund dialog, and Close of day with its X report."""
    folder = _folder(tmp_path)
    services = window.desk.services
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.login, timeout=5000)
    sign_in(window, "Sophie Laurent")

    window.open_screen("staff")
    window.hide_message()
    _save(qtbot, window, folder / "12-staff.png", "Sophie Laurent", "Rita Evans", "Dr Amira Shah")

    client = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Nadia", last_name="Okafor"
    )
    sold = complete_sale(
        services,
        client_id=client.id,
        items=[BasketItem(ItemKind.PRODUCT, "pr-serum", quantity=2)],
        payments=[Payment("card", "90.00")],
        staff_id=window.desk.staff_id,
    )
    sales = window.open_screen("sales")
    sales.show_today()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: sales.model.row_of(sold.sale_id) is not None, timeout=5000)  # type: ignore[attr-defined]
    sales.show_sale(sold.sale_id)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: sales.receipt is not None and sales.receipt.number == sold.number, timeout=5000)  # type: ignore[attr-defined]
    actions = sales.sale_actions  # type: ignore[attr-defined]
    actions.start(void=False)
    qtbot.waitUntil(lambda: actions.dialog is not None and actions.dialog.isVisible(), timeout=5000)
    dialog = actions.dialog
    dialog.units[1].setValue(1)
    qtbot.keyClicks(dialog.reason, "Returned sealed")
    qtbot.wait(200)
    image = dialog.grab().toImage()
    assert len(_visible_texts(dialog)) > 5 and image.save(str(folder / "14-refund.png"))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: sales.receipt is not None and sales.receipt.kind == "refund", timeout=8000)  # type: ignore[attr-defined]
    assert window.message_bar.text().startswith(f"Refunded £45.00 of sale {sold.number}")
    window.hide_message()  # the README shows the screen, not the passing message over its title
    _save(qtbot, window, folder / "13-sales.png", sold.number, f"Refund of {sold.number}", "Refund…")

    window.open_screen("close_of_day")
    window.hide_message()
    _save(qtbot, window, folder / "15-close-of-day.png", "Open: X report", "Visits still booked")
