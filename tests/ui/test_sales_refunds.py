"""Refund and void from the Sales screen: the manager's PIN, the new document chosen in the list, its receipt
saying what it gives back."""

from __future__ import annotations

from PySide6.QtCore import Qt

from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.services import catalogue as catalogue_service
from aestheticc_pos.services.checkout import complete_sale
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.ui.views.sales import SalesView


def _view(qtbot, desk) -> SalesView:
    view = SalesView(desk)
    qtbot.addWidget(view)
    view.resize(1156, 700)
    view.show()
    view.show_today()
    return view


def _sell(desk) -> str:
    product = catalogue_service.list_products(desk.services)[0]
    return complete_sale(
        desk.services,
        client_id=None,
        items=[BasketItem(ItemKind.PRODUCT, product.id)],
        payments=[Payment("card", product.price)],
        staff_id=desk.staff_id,
    ).number


def _choose(qtbot, view: SalesView, number: str) -> None:
    qtbot.waitUntil(lambda: view.model.rowCount() > 0 and not view.model._loading, timeout=5000)
    row = next(r for r in range(view.model.rowCount()) if view.model.sale(r).number == number)
    view.table.selectRow(row)
    qtbot.waitUntil(lambda: view.receipt is not None and view.receipt.number == number, timeout=5000)


def test_a_refund_allowed_by_the_manager_is_chosen_in_the_list_with_its_receipt(qtbot, demo_desk) -> None:
    number = _sell(demo_desk)
    view = _view(qtbot, demo_desk)
    _choose(qtbot, view, number)
    assert view.sale_actions.refund_button.isEnabled()

    qtbot.mouseClick(view.sale_actions.refund_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: view.sale_actions.dialog is not None and view.sale_actions.dialog.isVisible(), timeout=5000
    )
    dialog = view.sale_actions.dialog
    dialog.choose_everything()
    qtbot.keyClicks(dialog.reason, "Faulty pump")
    dialog.manager.setCurrentIndex(dialog.manager.findText("Sophie Laurent"))
    qtbot.keyClicks(dialog.pin, "123456")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: view.receipt is not None and view.receipt.kind == "refund", timeout=8000)
    chosen = view.selected_sale()
    assert (chosen.kind, chosen.original_number) == ("refund", number)
    shown = " ".join(view.preview.toPlainText().split())
    assert f"Refund of {number}" in shown
    assert "Reason Faulty pump" in shown and "Given back" in shown
    assert not view.sale_actions.refund_button.isEnabled()  # a refund is not given back again


def test_void_of_a_sale_already_refunded_says_why_not(qtbot, demo_desk, switch_staff) -> None:
    switch_staff(demo_desk, "Sophie Laurent")
    number = _sell(demo_desk)
    view = _view(qtbot, demo_desk)
    _choose(qtbot, view, number)
    qtbot.mouseClick(view.sale_actions.void_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: view.sale_actions.dialog is not None and view.sale_actions.dialog.isVisible(), timeout=5000
    )
    dialog = view.sale_actions.dialog
    assert not dialog.asks_manager  # Sophie is a manager
    qtbot.keyClicks(dialog.reason, "Wrong client")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.receipt is not None and view.receipt.kind == "void", timeout=8000)

    _choose(qtbot, view, number)
    view.sale_actions.dialog = None
    qtbot.mouseClick(view.sale_actions.void_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "already been refunded" in view.status.text(), timeout=5000)
    assert view.sale_actions.dialog is None
