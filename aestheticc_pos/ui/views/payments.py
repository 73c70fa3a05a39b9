"""The Payments screen: the clinic's invoices and payment links, for staff who take payments.

Two tabs, each a list filtered by chips with the chosen row in a side panel (``views/payments_panels.py``):

- **Invoices**: number, client, issued, due, total and standing (overdue included). A draft is issued here; an
  issued invoice is paid at the desk (cash, card or both), paid by link (its QR code shows once the sync has
  made the link), or voided by a manager with a reason. Any invoice can be previewed, saved as a PDF or printed.
- **Payment links**: every link (baskets, invoices, deposits, portal purchases) with its status in words. An
  open link shows its QR code and "Copy link"; one not paid can be cancelled; a cancelled, expired or failed
  one can be sent again.

One background call loads both lists; the chips only pick from them. The screen reloads when sales, the sync,
clients or payments change (``Desk.changed``). Dialogs are in ``dialogs/invoice_forms.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.invoices import InvoiceStanding
from aestheticc_pos.domain.payment_links import CLOSED_STATUSES
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import invoices as invoices_service
from aestheticc_pos.services import payment_links
from aestheticc_pos.services.invoice_records import InvoiceDetail, InvoiceSummary
from aestheticc_pos.services.payment_links import PaymentLinkView
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.dialogs.folders import INVOICE_PDF, choose_save_path, remember
from aestheticc_pos.ui.dialogs.invoice_forms import (
    InvoicePreviewDialog,
    PayInvoiceDialog,
    VoidInvoiceDialog,
    invoice_name,
)
from aestheticc_pos.ui.forms import FormDialog, error_label
from aestheticc_pos.ui.invoice_pdf import PDF_DPI, render_invoice_images, save_invoice_pdf
from aestheticc_pos.ui.models.rows import RIGHT, Column
from aestheticc_pos.ui.topics import CLIENTS, PAYMENTS, SALES, SYNC
from aestheticc_pos.ui.views.payments_panels import (
    InvoicePanel,
    LinkDetailPanel,
    ListTab,
    link_status_text,
    standing_text,
)

S = InvoiceStanding
INVOICE_FILTERS: tuple[tuple[str, Callable[[InvoiceSummary], bool]], ...] = (
    ("All", lambda _i: True),
    ("Drafts", lambda i: i.standing is S.DRAFT),
    ("Waiting for payment", lambda i: i.standing in (S.ISSUED, S.OVERDUE)),
    ("Overdue", lambda i: i.standing is S.OVERDUE),
    ("Paid", lambda i: i.standing is S.PAID),
    ("Void", lambda i: i.standing is S.VOID),
)
LINK_FILTERS: tuple[tuple[str, Callable[[PaymentLinkView], bool]], ...] = (
    ("Open", lambda k: k.status in ("preparing", "open", "authorised")),
    ("Paid", lambda k: k.status == "paid"),
    ("Expired or cancelled", lambda k: k.status in CLOSED_STATUSES),
    ("Refunded", lambda k: k.status in ("refund_pending", "refunded")),
    ("All", lambda _k: True),
)
INVOICE_COLUMNS = (
    Column("Number", lambda i: i.number or "Draft"),
    Column("Client", lambda i: i.client_name),
    Column("Issued", lambda i: fmt.date(i.issued_on) or "—"),
    Column("Due", lambda i: fmt.date(i.due_on) or "—"),
    Column("Total", lambda i: fmt.money(i.total), RIGHT),
    Column("Standing", standing_text),
)
_STYLE = """
QPushButton#chip { border-radius: 14px; padding: 5px 14px; }
QPushButton#chip:checked { background: #5b4b8a; color: #ffffff; border-color: #5b4b8a; }
QLabel#muted { color: #6b6478; }
QLabel#caption { color: #6b6478; font-size: 12px; }
"""


class _Loaded(NamedTuple):
    invoices: list[InvoiceSummary]
    links: list[PaymentLinkView]


class PaymentsView(QWidget):
    """``refresh()`` reloads both lists; ``show_invoice(id)`` / ``show_link(id)`` choose one."""

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.setStyleSheet(_STYLE)
        self.invoice: InvoiceDetail | None = None  # the chosen invoice in full
        self.invoice_link: PaymentLinkView | None = None  # its newest payment link
        self.dialog: QDialog | None = None  # the dialog open now, if any
        self._detail_seq = 0

        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSpacing(8)
        title = QLabel("Payments")
        title.setObjectName("title")
        subtitle = QLabel("Invoices and payment links: what clients owe, and links waiting to be paid.")
        subtitle.setObjectName("subtitle")
        layout.addWidget(title)
        layout.addWidget(subtitle)
        self.status = error_label()
        layout.addWidget(self.status)

        self.invoice_panel = InvoicePanel()
        self.link_panel = LinkDetailPanel()
        for button in (
            self.invoice_panel.email_invoice,
            self.invoice_panel.email_link,
            self.link_panel.email_link,
        ):
            button.desk = desk  # "Email invoice…", "Email the link…"
        self.invoices = ListTab(
            INVOICE_FILTERS,
            INVOICE_COLUMNS,
            self.invoice_panel,
            noun="invoices",
            none_yet="No invoices yet. At checkout, “Invoice” (Alt+I) makes one.",
        )
        self.links = ListTab(
            LINK_FILTERS,
            _link_columns(desk),
            self.link_panel,
            noun="payment links",
            none_yet="No payment links yet. At checkout, “Payment link” (Alt+L) makes one.",
        )
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.invoices, "&Invoices")
        self.tabs.addTab(self.links, "Payment &links")
        layout.addWidget(self.tabs, 1)
        self.invoices.chosen.connect(self._invoice_chosen)
        self.links.chosen.connect(self._show_link_panel)

        p = self.invoice_panel
        p.issue.clicked.connect(self.issue_selected)
        p.pay_at_desk.clicked.connect(lambda: self._open_dialog(PayInvoiceDialog))
        p.void.clicked.connect(lambda: self._open_dialog(VoidInvoiceDialog))
        p.pay_by_link.clicked.connect(self.pay_selected_by_link)
        p.preview.clicked.connect(self.preview_selected)
        p.save_pdf.clicked.connect(lambda: self.save_pdf())
        p.print_button.clicked.connect(lambda: self.print_invoice())
        p.discard.clicked.connect(self.discard_selected)
        self.link_panel.cancel.clicked.connect(lambda: self._change_link(payment_links.cancel_link))
        self.link_panel.resend.clicked.connect(lambda: self._change_link(payment_links.resend_link))
        desk.changed.connect(self._on_changed)
        desk.staff_changed.connect(self._on_staff)

    # --- loading -------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        services = self.desk.services

        def load() -> _Loaded:
            return _Loaded(invoices_service.invoices_list(services), payment_links.links_list(services))

        self.desk.run(load, self._show, self._show_error)

    def show_invoice(self, invoice_id: str) -> None:
        self.tabs.setCurrentWidget(self.invoices)
        self.invoices.choose(invoice_id)

    def show_link(self, link_id: str) -> None:
        self.tabs.setCurrentWidget(self.links)
        self.links.choose(link_id)

    def _show(self, loaded: _Loaded) -> None:
        self.status.hide()
        self.invoices.set_rows(loaded.invoices)
        self.links.set_rows(loaded.links)

    def _on_changed(self, what: frozenset[str]) -> None:
        if what & {SALES, SYNC, CLIENTS, PAYMENTS}:
            self.refresh()

    def _on_staff(self, _member: object) -> None:
        self._show_invoice_panel()
        self._show_link_panel()

    # --- the chosen invoice --------------------------------------------------------------------------------

    def _invoice_chosen(self) -> None:
        chosen: InvoiceSummary | None = self.invoices.selected()
        self._detail_seq += 1
        seq = self._detail_seq
        if chosen is None:
            self.invoice, self.invoice_link = None, None
            self._show_invoice_panel()
            return
        if self.invoice is not None and self.invoice.id != chosen.id:
            self.invoice, self.invoice_link = None, None  # no action on the last one while this one loads
            self._show_invoice_panel()
        services, invoice_id, client_id = self.desk.services, chosen.id, chosen.client_id

        def load() -> tuple[InvoiceDetail, PaymentLinkView | None]:
            detail = invoices_service.invoice_detail(services, invoice_id)
            link = next(
                (k for k in payment_links.links_of_client(services, client_id) if k.invoice_id == invoice_id),
                None,
            )
            return detail, link

        def show(loaded: tuple[InvoiceDetail, PaymentLinkView | None]) -> None:
            if seq == self._detail_seq:
                self.invoice, self.invoice_link = loaded
                self._show_invoice_panel()

        self.desk.run(load, show, self._show_error)

    def _show_invoice_panel(self) -> None:
        self.invoice_panel.show_invoice(
            self.invoice,
            self.invoice_link,
            may_pay=self.desk.may(Action.TAKE_PAYMENTS),
            is_manager=self.desk.is_manager,
        )

    def issue_selected(self) -> None:
        invoice = self.invoice
        if invoice is None:
            return
        services, staff_id = self.desk.services, self.desk.staff_id

        def done(issued: InvoiceDetail) -> None:
            self.invoices.wanted = issued.id
            self.desk.message.emit(
                f"Invoice {issued.number} issued to {issued.client_name}: {fmt.money(issued.net)}, "
                f"due {fmt.date(issued.due_on)}."
            )

        self.desk.run(
            lambda: invoices_service.issue_invoice(
                services, invoice.id, staff_id=staff_id, expected_total=invoice.net
            ),
            done,
            self._show_error,
        )

    def discard_selected(self) -> None:
        invoice = self.invoice
        if invoice is None:
            return
        services, staff_id = self.desk.services, self.desk.staff_id

        def done(_none: None) -> None:
            self.desk.message.emit(f"The draft invoice for {invoice.client_name} is discarded.")

        self.desk.run(
            lambda: invoices_service.discard_invoice_draft(services, invoice.id, staff_id=staff_id),
            done,
            self._show_error,
        )

    def pay_selected_by_link(self) -> None:
        invoice = self.invoice
        if invoice is None:
            return
        services, staff_id = self.desk.services, self.desk.staff_id

        def done(link: PaymentLinkView) -> None:
            self.invoices.wanted = invoice.id
            self.desk.message.emit(
                f"A payment link of {fmt.money(link.amount)} for {invoice_name(invoice).lower()} is being "
                "prepared: its QR code shows on the invoice once the till has reached GoCardless."
            )

        self.desk.run(
            lambda: payment_links.create_invoice_link(services, invoice_id=invoice.id, staff_id=staff_id),
            done,
            self._show_error,
        )

    def preview_selected(self) -> InvoicePreviewDialog | None:
        if self.invoice is None:
            return None
        dialog = InvoicePreviewDialog(self.invoice, self.desk.settings, parent=self)
        self.dialog = dialog
        dialog.open()
        return dialog

    def save_pdf(self, path: str | Path | None = None) -> Path | None:
        """Save the chosen invoice as a PDF (asks where, in the folder used last, when no ``path``)."""
        invoice = self.invoice
        if invoice is None:
            return None
        if path is None:
            name = f"{invoice.number or 'Draft invoice ' + invoice.client_name}.pdf"
            path = choose_save_path(self, INVOICE_PDF, "Save the invoice as a PDF", name, "PDF (*.pdf)")
            if path is None:
                return None
        try:
            saved = save_invoice_pdf(invoice, self.desk.settings, path)
        except OSError:
            self._show_error(f"The PDF could not be saved to {path}. Choose another folder and try again.")
            return None
        remember(INVOICE_PDF, saved.parent)
        self.desk.message.emit(f"{invoice_name(invoice)} saved as {saved}.")
        return saved

    def print_invoice(self, printer: QPrinter | None = None) -> bool:
        """Print the chosen invoice (asks which printer when none is given). False when nothing was printed."""
        invoice = self.invoice
        if invoice is None:
            return False
        if printer is None:
            printer = QPrinter(QPrinter.PrinterMode.HighResolution)
            printer.setDocName(invoice_name(invoice))
            dialog = QPrintDialog(printer, self)
            dialog.setWindowTitle(f"Print {invoice_name(invoice).lower()}")
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return False
        pages = render_invoice_images(invoice, self.desk.settings, dpi=min(printer.resolution(), PDF_DPI))
        painter = QPainter()
        if not painter.begin(printer):
            self._show_error("The printer could not be started. Check it is on, then print again.")
            return False
        try:
            for index, page in enumerate(pages):
                if index:
                    printer.newPage()
                area = painter.viewport()
                size = QSize(page.width(), page.height()).scaled(area.size(), _KEEP_ASPECT)
                painter.drawImage(area.x(), area.y(), page.scaled(size, _KEEP_ASPECT, _SMOOTH))
        finally:
            painter.end()
        self.desk.message.emit(f"{invoice_name(invoice)} sent to the printer.")
        return True

    def _open_dialog(self, make: Callable[..., FormDialog]) -> FormDialog | None:
        if self.invoice is None:
            return None
        dialog = make(self.desk, self.invoice, parent=self)
        invoice_id = self.invoice.id
        dialog.saved.connect(lambda _result: setattr(self.invoices, "wanted", invoice_id))
        self.dialog = dialog
        dialog.open()
        return dialog

    # --- the chosen link -----------------------------------------------------------------------------------

    def _show_link_panel(self) -> None:
        self.link_panel.show_link(
            self.links.selected(), self.desk.settings.tz, may_pay=self.desk.may(Action.TAKE_PAYMENTS)
        )

    def _change_link(self, change: Callable[..., PaymentLinkView]) -> None:
        link: PaymentLinkView | None = self.links.selected()
        if link is None:
            return
        services, staff_id = self.desk.services, self.desk.staff_id
        resending = change is payment_links.resend_link

        def done(changed: PaymentLinkView) -> None:
            self.links.wanted = changed.id
            if resending:
                self.links.set_filter("Open")
            who = changed.client_name or "the client"
            self.desk.message.emit(
                f"A new payment link of {fmt.money(changed.amount)} for {who} is being prepared: its QR code "
                "shows here once the till has reached GoCardless."
                if resending
                else f"The payment link of {fmt.money(changed.amount)} for {who} is cancelled."
            )

        self.desk.run(lambda: change(services, link_id=link.id, staff_id=staff_id), done, self._show_error)

    def _show_error(self, sentence: str) -> None:
        self.status.setText(sentence)
        self.status.show()


def _link_columns(desk: Desk) -> tuple[Column, ...]:
    return (
        Column("Client", lambda k: k.client_name or "—"),
        Column("For", lambda k: k.description),
        Column("Amount", lambda k: fmt.money(k.amount), RIGHT),
        Column("Status", link_status_text),
        Column("Created", lambda k: fmt.date_time(k.created_at, desk.settings.tz)),
    )


_KEEP_ASPECT = Qt.AspectRatioMode.KeepAspectRatio
_SMOOTH = Qt.TransformationMode.SmoothTransformation
