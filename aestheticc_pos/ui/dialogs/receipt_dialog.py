"""The receipt after payment: the slip as the client gets it, the change to hand back, and what to do with it
(print, save as PDF, copy as text for an email), then the next sale (Enter)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.services.context import ClinicSettings
from aestheticc_pos.services.sales import Receipt
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.receipt import (
    TENDER_NAMES,
    print_receipt,
    receipt_html,
    receipt_text,
    save_receipt_pdf,
)

_STYLE = """
QTextBrowser#slip { background: #ffffff; border: 1px solid #e4dfd8; border-radius: 8px; padding: 12px; }
QLabel#change { font-size: 28px; font-weight: 700; color: #2f6b3a; }
QLabel#paidTotal { font-size: 20px; font-weight: 600; color: #3d3550; }
QLabel#muted { color: #6b6478; }
"""


class ReceiptDialog(QDialog):
    """Shown by checkout once a sale is written. Enter (New sale) closes it; the sale is already recorded."""

    def __init__(self, receipt: Receipt, settings: ClinicSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.receipt, self.settings = receipt, settings
        self.setWindowTitle(f"Receipt {receipt.number}")
        self.setStyleSheet(_STYLE)
        self.resize(760, 620)
        row = QHBoxLayout(self)
        row.setContentsMargins(20, 20, 20, 20)
        row.setSpacing(24)

        self.preview = QTextBrowser()
        self.preview.setObjectName("slip")
        self.preview.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Enter belongs to "New sale"
        self.preview.setFixedWidth(360)
        self.preview.setHtml(receipt_html(receipt, settings))
        self.preview.zoomIn(1)
        row.addWidget(self.preview)

        side = QVBoxLayout()
        side.setSpacing(10)
        done = QLabel(f"Sale {receipt.number} recorded")
        done.setObjectName("heading")
        total = QLabel(f"{fmt.money(receipt.net)} paid")
        total.setObjectName("paidTotal")
        paid_by = ", ".join(
            f"{TENDER_NAMES.get(t.kind, str(t.kind))} {fmt.money(t.amount)}" for t in receipt.tenders
        )
        how = QLabel(paid_by or "Nothing to pay.")
        how.setObjectName("muted")
        how.setWordWrap(True)
        for widget in (done, total, how):
            side.addWidget(widget)
        self.change = QLabel(f"Change due {fmt.money(receipt.change_due)}" if receipt.change_due else "")
        self.change.setObjectName("change")
        self.change.setVisible(bool(receipt.change_due))
        side.addWidget(self.change)
        side.addSpacing(12)

        self.print_button = QPushButton("&Print…")
        self.print_button.clicked.connect(self.print_receipt)
        self.pdf_button = QPushButton("Save as P&DF…")
        self.pdf_button.clicked.connect(lambda: self.save_pdf())
        self.copy_button = QPushButton("&Copy as text")
        self.copy_button.setToolTip("Copy the receipt as plain text, to paste into an email")
        self.copy_button.clicked.connect(self.copy_text)
        for button in (self.print_button, self.pdf_button, self.copy_button):
            button.setAutoDefault(False)
            side.addWidget(button)
        self.status = QLabel("")
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        side.addWidget(self.status)
        side.addStretch(1)
        self.new_sale_button = QPushButton("New sale (Enter)")
        self.new_sale_button.setObjectName("primary")
        self.new_sale_button.setDefault(True)
        self.new_sale_button.setAutoDefault(True)
        self.new_sale_button.clicked.connect(self.accept)
        side.addWidget(self.new_sale_button)
        row.addLayout(side, 1)
        for keys in ("Ctrl+P",):
            QShortcut(QKeySequence(keys), self).activated.connect(self.print_receipt)
        self.new_sale_button.setFocus()

    def print_receipt(self) -> None:
        if print_receipt(self.receipt, self.settings, self):
            self.status.setText("Sent to the printer.")

    def save_pdf(self, path: str | Path | None = None) -> Path | None:
        """Save the receipt as a PDF (asks where when ``path`` is None). Returns the file, or None if cancelled."""
        if path is None:
            folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
            suggested = str(Path(folder) / f"Receipt {self.receipt.number}.pdf")
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Save receipt as PDF", suggested, "PDF files (*.pdf)"
            )
            if not chosen:
                return None
            path = chosen if chosen.lower().endswith(".pdf") else f"{chosen}.pdf"
        try:
            saved = save_receipt_pdf(self.receipt, self.settings, path)
        except OSError:
            self.status.setText(f"The receipt could not be saved to {path}. Choose another folder.")
            return None
        self.status.setText(f"Saved to {saved}.")
        return saved

    def copy_text(self) -> None:
        QGuiApplication.clipboard().setText(receipt_text(self.receipt, self.settings))
        self.status.setText("Copied. Paste it into an email to the client.")
