"""The till's last sale, always in the same place under the basket, and its receipt.

After a restart staff see whether the sale they were taking went through before ringing it up again, and
"Receipt again" shows its receipt to print or copy once more. A sale just paid becomes the last sale, and
checkout opens its receipt at once (``open_receipt``); ``receipt_closed`` fires when the receipt is closed,
so checkout is ready for the next client.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSizePolicy, QWidget

from aestheticc_pos.services.sales import Receipt
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.dialogs.receipt_dialog import ReceiptDialog
from aestheticc_pos.ui.widgets.elided import ElidedLabel


class LastSale(QWidget):
    """ "Last sale on this till: A-000123 · £45.00 · 09:30 · Nadia Okafor" and "Receipt again"."""

    receipt_closed = Signal()

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.receipt: Receipt | None = None
        self.receipt_dialog: ReceiptDialog | None = None
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.label = ElidedLabel("")  # a long client name ends in "…"; the button keeps its whole caption
        self.label.setObjectName("hint")
        self.button = QPushButton("Receipt again")
        self.button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.button.setToolTip("Show the last sale's receipt, to print or copy it again")
        self.button.clicked.connect(self.open_receipt)
        self.button.setEnabled(False)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)
        # As tall as the button once styled (a height fixed before the style sheet applies cut its caption),
        # and the same height sale or none: the line never wraps and the button is always there.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def show_sale(self, receipt: Receipt | None) -> None:
        if receipt is None:
            return
        self.receipt = receipt
        who = f" · {receipt.client_name}" if receipt.client_name else ""
        when = fmt.time(receipt.created_at, self.desk.settings.tz)
        self.label.setText(
            f"Last sale on this till: {receipt.number} · {fmt.money(receipt.net)} · {when}{who}"
        )
        self.button.setEnabled(True)

    def open_receipt(self) -> None:
        if self.receipt is None:
            return
        if self.receipt_dialog is not None:
            self.receipt_dialog.deleteLater()  # the previous sale's
        self.receipt_dialog = ReceiptDialog(self.receipt, self.desk.settings, self, desk=self.desk)
        self.receipt_dialog.finished.connect(lambda _result: self.receipt_closed.emit())
        self.receipt_dialog.open()
