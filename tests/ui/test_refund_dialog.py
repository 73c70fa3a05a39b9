"""The refund dialog over the demo clinic: a receptionist starts it, a manager allows it with their PIN."""

from __future__ import annotations

from PySide6.QtCore import Qt
from sqlalchemy import select

from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.services import refunds as refunds_service
from aestheticc_pos.services.checkout import complete_sale
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.store.tables import ProductRow, SaleRow
from aestheticc_pos.ui.dialogs.refund_dialog import RefundDialog, managers_of


def _serum_sale(desk):
    with desk.services.uow(read_only=True) as uow:
        product_id, price = uow.session.execute(
            select(ProductRow.id, ProductRow.price_pence).order_by(ProductRow.name).limit(1)
        ).one()
    return complete_sale(
        desk.services,
        client_id=None,
        items=[BasketItem(ItemKind.PRODUCT, product_id, quantity=2)],
        payments=[Payment("cash", f"{price * 2 / 100:.2f}")],
        staff_id=desk.staff_id,
    )


def _documents(desk) -> list[tuple[str, int]]:
    with desk.services.uow(read_only=True) as uow:
        return [
            tuple(r)
            for r in uow.session.execute(select(SaleRow.kind, SaleRow.net_pence).order_by(SaleRow.number))
        ]


def test_a_receptionist_needs_a_managers_pin_and_a_reason_then_one_unit_goes_back(qtbot, demo_desk) -> None:
    sale = _serum_sale(demo_desk)
    before = _documents(demo_desk)
    view = refunds_service.refundable_sale(demo_desk.services, sale.sale_id, demo_desk.staff_id)
    dialog = RefundDialog(demo_desk, view, managers_of(demo_desk))
    qtbot.addWidget(dialog)
    assert dialog.asks_manager  # Rita is a receptionist

    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.errors["lines"].text() == "Choose how many of a line go back."
    dialog.units[1].setValue(1)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.errors["reason"].text() == "Say why the money goes back."
    qtbot.keyClicks(dialog.reason, "Returned sealed")
    dialog.method.setCurrentIndex(dialog.method.findText("Cash from the drawer"))
    dialog.manager.setCurrentIndex(dialog.manager.findText("Sophie Laurent"))
    qtbot.keyClicks(dialog.pin, "999999")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled(), timeout=5000)
    assert "PIN" in dialog.status.text()  # a wrong PIN allows nothing
    assert _documents(demo_desk) == before

    dialog.pin.clear()
    qtbot.keyClicks(dialog.pin, "123456")
    with qtbot.waitSignal(dialog.saved, timeout=5000) as saved:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    refund = saved.args[0]
    unit = sale.net.pence // 2
    assert (refund.kind, refund.net.pence, refund.refers_to) == ("refund", -unit, sale.number)
    assert _documents(demo_desk) == [*before, ("refund", -unit)]


def test_a_void_takes_every_line_and_the_way_it_was_paid(qtbot, demo_desk, switch_staff) -> None:
    switch_staff(demo_desk, "Sophie Laurent")
    sale = _serum_sale(demo_desk)
    view = refunds_service.refundable_sale(demo_desk.services, sale.sale_id, demo_desk.staff_id)
    dialog = RefundDialog(demo_desk, view, [], void=True)
    qtbot.addWidget(dialog)
    assert not dialog.asks_manager and dialog.method.count() == 1
    assert [box.value() for box in dialog.units.values()] == [2]
    qtbot.keyClicks(dialog.reason, "Rang up on the wrong client")
    with qtbot.waitSignal(dialog.saved, timeout=5000) as saved:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert (saved.args[0].kind, saved.args[0].net) == ("void", -sale.net)
