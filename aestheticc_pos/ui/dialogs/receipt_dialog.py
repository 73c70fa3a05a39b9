"""A sale's receipt: the slip as the client gets it, and what to do with it (print, save as PDF, email it to the
client, copy as text).

After payment (checkout) it also shows the change to hand back, and Enter starts the next sale. Opened again
later (``reprint=True``: the Sales screen, the till's last sale) it says when the sale was made, and Enter closes
it. "Email receipt…" (given the ``desk``) queues the receipt, with its PDF, to the client's address.
"""

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

from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services.clients import ClientSummary
from aestheticc_pos.services.context import ClinicSettings
from aestheticc_pos.services.sales import Receipt
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.client_messages import receipt_message
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.dialogs.send_to_client import SendToClientDialog
from aestheticc_pos.ui.receipt import (
    TENDER_NAMES,
    print_receipt,
    receipt_html,
    receipt_pdf,
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
    """Shown by checkout once a sale is written (Enter, New sale, closes it: the sale is already recorded), and
    to see or print a past sale's receipt again (``reprint``)."""

    def __init__(
        self,
        receipt: Receipt,
        settings: ClinicSettings,
        parent: QWidget | None = None,
        *,
        desk: Desk | None = None,
        reprint: bool = False,
    ) -> None:
        super().__init__(parent)
        self.receipt, self.settings, self.desk = receipt, settings, desk
        self.email_dialog: SendToClientDialog | None = None
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
        when = fmt.date_time(receipt.created_at, settings.tz)
        done = QLabel(f"Receipt {receipt.number}" if reprint else f"Sale {receipt.number} recorded")
        done.setObjectName("heading")
        done.setToolTip(f"{when}, served by {receipt.staff_name}")
        total = QLabel(f"{fmt.money(receipt.net)} paid")
        total.setObjectName("paidTotal")
        paid_by = ", ".join(
            f"{TENDER_NAMES.get(t.kind, str(t.kind))} {fmt.money(t.amount)}" for t in receipt.tenders
        )
        how = QLabel(
            (f"{when}, served by {receipt.staff_name}\n" if reprint else "") + (paid_by or "Nothing to pay.")
        )
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
        self.email_button = QPushButton("&Email receipt…")
        self.email_button.setToolTip(
            "Email the receipt, with its PDF, to the client (sent in the background)"
        )
        self.email_button.clicked.connect(self.email_receipt)
        self.email_button.setVisible(desk is not None)
        for button in (self.print_button, self.pdf_button, self.email_button, self.copy_button):
            button.setAutoDefault(False)
            side.addWidget(button)
        self.status = QLabel("")
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        side.addWidget(self.status)
        side.addStretch(1)
        self.new_sale_button = QPushButton("Close (Enter)" if reprint else "New sale (Enter)")
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

    def email_receipt(self) -> None:
        """Open the email to the client, addressed to them when they have an address on file."""
        desk = self.desk
        if desk is None:
            return
        client_id = self.receipt.client_id
        if client_id is None:
            self._open_email(None)
            return
        services = desk.services
        self.email_button.setEnabled(False)
        desk.run(
            lambda: clients_service.client_summaries(services, [client_id]),
            lambda found: self._open_email(found.get(client_id)),
            self._email_failed,
        )

    def _open_email(self, client: ClientSummary | None) -> None:
        self.email_button.setEnabled(True)
        assert self.desk is not None
        if self.email_dialog is not None:
            self.email_dialog.deleteLater()
        try:
            attachment = receipt_pdf(self.receipt, self.settings)
        except OSError:
            attachment = None  # the text of the receipt is in the message all the same
        self.email_dialog = SendToClientDialog(
            self.desk,
            receipt_message(self.receipt, self.settings),
            to=client.email if client is not None else None,
            attachment=attachment,
            parent=self,
        )
        self.email_dialog.queued.connect(lambda queued: self.status.setText(f"Emailing it to {queued.to}."))
        self.email_dialog.open()

    def _email_failed(self, sentence: str) -> None:
        self.email_button.setEnabled(True)
        self.status.setText(sentence)

    def copy_text(self) -> None:
        QGuiApplication.clipboard().setText(receipt_text(self.receipt, self.settings))
        self.status.setText("Copied. Paste it into an email to the client.")
