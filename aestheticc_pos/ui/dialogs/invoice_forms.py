"""The Payments screen's invoice dialogs: take payment at the desk, void (manager, with a reason), preview.

    PayInvoiceDialog(desk, invoice)      # ``invoice``: an InvoiceDetail that is issued and not paid
    VoidInvoiceDialog(desk, invoice)
    InvoicePreviewDialog(invoice, settings)

The two forms save through ``services/invoices.py`` on the desk's thread pool (``FormDialog``): a refusal is
shown in the form as the service's sentence and nothing typed is lost. The preview draws the invoice's pages
on the GUI thread (text layout lives there), exactly as the PDF lays them out.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.services import inputs
from aestheticc_pos.services import invoices as invoices_service
from aestheticc_pos.services.context import ClinicSettings
from aestheticc_pos.services.invoice_records import InvoiceDetail, InvoicePayment
from aestheticc_pos.services.pricing import Payment
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.forms import Call, FormDialog
from aestheticc_pos.ui.invoice_pdf import render_invoice_images


def invoice_name(invoice: InvoiceDetail) -> str:
    """ "Invoice INV-2026-0042", or "The draft invoice" before it has a number."""
    return f"Invoice {invoice.number}" if invoice.number else "The draft invoice"


class PayInvoiceDialog(FormDialog):
    """What the client pays at the desk for an issued invoice: cash, card or both (cash may give change)."""

    def __init__(self, desk: Desk, invoice: InvoiceDetail, parent: QWidget | None = None) -> None:
        super().__init__(
            desk, title=f"Pay {invoice_name(invoice).lower()}", save_text="Take payment", parent=parent
        )
        self.setMinimumWidth(480)
        self.invoice = invoice
        due = QLabel(f"{fmt.money(invoice.amount_due)}  ·  {invoice.client_name}")
        due.setObjectName("heading")
        self.add_field("due", "To pay", due)
        self.card = QLineEdit()
        self.card.setPlaceholderText(fmt.editable_amount(invoice.amount_due))
        self.card.setMaximumWidth(200)
        self.cash = QLineEdit()
        self.cash.setMaximumWidth(200)
        self.add_field("card", "By card", self.card, hint="The amount taken on the clinic's card terminal.")
        self.add_field("cash", "In cash", self.cash, hint="Cash handed over; the change is worked out.")
        self.finish_layout()
        self.card.setFocus()

    def payments(self) -> list[Payment]:
        """The tenders typed (both empty: the whole amount by card, as the placeholder says)."""
        currency = self.invoice.currency
        typed: list[Payment] = []
        for field, kind, what in (
            (self.card, TenderKind.CARD, "The card amount"),
            (self.cash, TenderKind.CASH, "The cash amount"),
        ):
            text = field.text().strip()
            if not text:
                continue
            try:
                inputs.money(text, what=what, currency=currency)
            except InvalidInput as error:
                raise InvalidInput(str(error), field=kind.value) from None
            typed.append(Payment(kind, text))
        return typed or [Payment(TenderKind.CARD, self.invoice.amount_due)]

    def prepare(self) -> Call:
        payments = self.payments()
        services, staff_id, invoice_id = self.desk.services, self.desk.staff_id, self.invoice.id
        return lambda: invoices_service.pay_invoice_at_desk(
            services, invoice_id, payments=payments, staff_id=staff_id
        )

    def saved_message(self, result: InvoicePayment) -> str:
        sentence = (
            f"{invoice_name(result.invoice)} is paid: {fmt.money(result.receipt.net)}, "
            f"sale {result.receipt.number}."
        )
        if result.receipt.change_due:
            sentence += f" Change due {fmt.money(result.receipt.change_due)}."
        return sentence


class VoidInvoiceDialog(FormDialog):
    """A manager voids an issued invoice that is not paid, saying why (kept in the audit log)."""

    def __init__(self, desk: Desk, invoice: InvoiceDetail, parent: QWidget | None = None) -> None:
        super().__init__(
            desk, title=f"Void {invoice_name(invoice).lower()}", save_text="Void the invoice", parent=parent
        )
        self.setMinimumWidth(520)
        self.invoice = invoice
        what = QLabel(
            f"{fmt.money(invoice.net)} to {invoice.client_name}. A void invoice keeps its number and can no "
            "longer be paid."
        )
        what.setWordWrap(True)
        self.add_field("what", "Invoice", what)
        self.reason = QPlainTextEdit()
        self.reason.setPlaceholderText("Why it is voided, e.g. issued to the wrong client")
        self.reason.setFixedHeight(80)
        self.reason.setTabChangesFocus(True)
        self.add_field("reason", "Reason", self.reason, top=True)
        self.finish_layout()
        self.reason.setFocus()

    def prepare(self) -> Call:
        reason = self.reason.toPlainText().strip()
        if not reason:
            raise InvalidInput("Say why the invoice is voided.", field="reason")
        services, staff_id, invoice_id = self.desk.services, self.desk.staff_id, self.invoice.id
        return lambda: invoices_service.void_invoice(services, invoice_id, staff_id=staff_id, reason=reason)

    def saved_message(self, result: InvoiceDetail) -> str:
        return f"{invoice_name(result)} is void. It keeps its number; nothing is owed on it."


class InvoicePreviewDialog(QDialog):
    """The invoice's pages, as the client will see them. Esc closes."""

    def __init__(
        self, invoice: InvoiceDetail, settings: ClinicSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Preview: {invoice_name(invoice)}")
        self.resize(980, 860)
        column = QVBoxLayout(self)
        column.setContentsMargins(16, 16, 16, 12)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        pages = QWidget()
        pages.setStyleSheet("background: #e9e5df;")
        box = QVBoxLayout(pages)
        box.setSpacing(16)
        self.pages: list[QLabel] = []
        for image in render_invoice_images(invoice, settings):
            page = QLabel()
            page.setPixmap(QPixmap.fromImage(image))
            page.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            box.addWidget(page)
            self.pages.append(page)
        scroll.setWidget(pages)
        column.addWidget(scroll, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        close = QPushButton("Close")
        close.setDefault(True)
        close.clicked.connect(self.accept)
        buttons.addWidget(close)
        column.addLayout(buttons)
