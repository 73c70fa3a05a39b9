"""What may be done to a sale on the Sales screen: refund some or all of it, or void it on its own day.

``SaleActions`` puts its two buttons in the Sales screen's row for them and follows the sale chosen there. Both
open ``RefundDialog`` with what the sale can still give back (read off the GUI thread); after a refund the
screen shows the new document, selected, and its receipt can be printed from there.
"""

from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import refunds as refunds_service
from aestheticc_pos.services.refunds import RefundableSale
from aestheticc_pos.services.sales import Receipt
from aestheticc_pos.services.sales_history import SaleSummary
from aestheticc_pos.services.staff import StaffMember
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.dialogs.refund_dialog import RefundDialog, managers_of


class SaleActions:
    """Refund… and Void… for the sale chosen on the Sales screen (``follow`` it; ``show_document`` selects the
    refund once written)."""

    def __init__(
        self,
        desk: Desk,
        row: QHBoxLayout,
        parent: QWidget,
        show_document: Callable[[str], None],
        show_error: Callable[[str], None],
    ) -> None:
        self.desk, self.parent = desk, parent
        self.show_document, self.show_error = show_document, show_error
        self.sale: SaleSummary | None = None
        self.dialog: RefundDialog | None = None
        self.refund_button = QPushButton("&Refund…")
        self.refund_button.setToolTip("Give back some or all of this sale (a manager allows it)")
        self.refund_button.clicked.connect(lambda: self.start(void=False))
        self.void_button = QPushButton("&Void…")
        self.void_button.setToolTip("Undo a sale made today, before the day is closed (a manager allows it)")
        self.void_button.clicked.connect(lambda: self.start(void=True))
        for button in (self.refund_button, self.void_button):
            button.setAutoDefault(False)
            row.addWidget(button)
        row.addStretch(1)
        self.follow(None)

    def follow(self, sale: SaleSummary | None) -> None:
        """The sale now chosen (None: none): only a sale, not a refund or void, can be given back."""
        self.sale = sale
        may = self.desk.may(Action.TAKE_PAYMENTS)
        is_sale = sale is not None and sale.kind == "sale"
        self.refund_button.setEnabled(may and is_sale)
        self.void_button.setEnabled(may and is_sale)

    def start(self, *, void: bool) -> None:
        if self.sale is None:
            return
        services, staff_id, sale_id = self.desk.services, self.desk.staff_id, self.sale.id
        desk = self.desk

        def load() -> tuple[RefundableSale, list[StaffMember]]:
            return refunds_service.refundable_sale(services, sale_id, staff_id), managers_of(desk)

        self.desk.run(load, lambda loaded: self._open(*loaded, void=void), self.show_error)

    def _open(self, sale: RefundableSale, managers: list[StaffMember], *, void: bool) -> None:
        if not shiboken6.isValid(self.parent):
            return
        if void and sale.void_refusal:
            self.show_error(sale.void_refusal)
            return
        if not void and not any(line.returnable for line in sale.lines):
            self.show_error(f"Everything on sale {sale.number} has already been given back.")
            return
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = RefundDialog(self.desk, sale, managers, void=void, parent=self.parent)
        self.dialog.saved.connect(self._done)
        self.dialog.open()

    def _done(self, receipt: Receipt) -> None:
        self.show_document(receipt.sale_id)
