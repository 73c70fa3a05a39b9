"""The Payments screen's parts: a tab of filter chips, list and side panel (``ListTab``), and the side panels
of the chosen invoice and the chosen payment link, with what can be done to each now. They only show and
hold buttons; ``views/payments.py`` connects the buttons to the services."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.invoices import InvoiceStanding
from aestheticc_pos.domain.payment_links import STATUS_WORDS
from aestheticc_pos.services.invoice_records import InvoiceDetail, InvoiceSummary
from aestheticc_pos.services.payment_links import PaymentLinkView
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.client_messages import invoice_message, invoice_pdf_bytes, payment_link_message
from aestheticc_pos.ui.dialogs.send_to_client import EmailButton
from aestheticc_pos.ui.models.rows import Column, RowsModel, rows_table
from aestheticc_pos.ui.widgets.qr import LinkPanel

BEING_PREPARED = (
    "The payment link is being prepared: its QR code appears here once the till has reached GoCardless "
    "(see Sync, F8)."
)
SCAN_TO_PAY = "The client scans this to pay by bank, or you copy the link into an email or a text:"
_STANDING_WORDS = {
    InvoiceStanding.DRAFT: "Draft",
    InvoiceStanding.ISSUED: "Issued",
    InvoiceStanding.OVERDUE: "Overdue",
    InvoiceStanding.PAID: "Paid",
    InvoiceStanding.VOID: "Void",
}


def standing_text(invoice: InvoiceSummary | InvoiceDetail) -> str:
    """ "Draft", "Due 8 Dec 2026", "Overdue since 8 Dec 2026", "Paid", "Void"."""
    standing = invoice.standing
    if standing is InvoiceStanding.ISSUED and invoice.due_on is not None:
        return f"Due {fmt.date(invoice.due_on)}"
    if standing is InvoiceStanding.OVERDUE and invoice.due_on is not None:
        return f"Overdue since {fmt.date(invoice.due_on)}"
    return _STANDING_WORDS[standing]


def link_status_text(link: PaymentLinkView) -> str:
    return STATUS_WORDS.get(link.status, link.status)


class ListTab(QWidget):
    """Filter chips, a list and a side panel. ``set_rows`` keeps the chosen row when it is still there;
    ``chosen`` is emitted whenever the chosen row may have changed."""

    chosen = Signal()

    def __init__(
        self,
        filters: Sequence[tuple[str, Callable[[Any], bool]]],
        columns: Sequence[Column],
        panel: QFrame,
        *,
        noun: str,
        none_yet: str,
    ) -> None:
        super().__init__()
        self.filters = list(filters)
        self.noun, self.none_yet = noun, none_yet
        self.all: list[Any] = []
        self.wanted: str | None = None  # the row to choose once the list holds it
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 12, 0, 0)
        column.setSpacing(10)
        chips = QHBoxLayout()
        chips.setSpacing(8)
        self.group = QButtonGroup(self)
        self.chips: list[QPushButton] = []
        for index, (caption, _test) in enumerate(self.filters):
            chip = QPushButton(caption)
            chip.setObjectName("chip")
            chip.setCheckable(True)
            self.group.addButton(chip, index)
            self.chips.append(chip)
            chips.addWidget(chip)
        chips.addStretch(1)
        self.chips[0].setChecked(True)
        self.group.idToggled.connect(lambda _id, on: self._apply() if on else None)
        column.addLayout(chips)
        body = QHBoxLayout()
        body.setSpacing(16)
        self.model = RowsModel(columns, parent=self)
        self.table = rows_table(self.model, stretch=1)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self.chosen.emit())
        self.empty = QLabel("")
        self.empty.setObjectName("subtitle")
        self.empty.setWordWrap(True)
        rows = QVBoxLayout()
        rows.addWidget(self.table, 1)
        rows.addWidget(self.empty)
        body.addLayout(rows, 1)
        self.panel = panel
        body.addWidget(panel)
        column.addLayout(body, 1)

    def set_rows(self, rows: list[Any]) -> None:
        self.all = rows
        for chip, (caption, test) in zip(self.chips, self.filters, strict=True):
            chip.setText(f"{caption}  {sum(1 for r in rows if test(r))}")
        self._apply()

    def set_filter(self, caption: str) -> None:
        self.chips[[c for c, _ in self.filters].index(caption)].setChecked(True)

    def selected(self) -> Any:
        chosen = self.table.selectionModel().selectedRows()
        return self.model.row(chosen[0].row()) if chosen else None

    def choose(self, row_id: str) -> None:
        """Select ``row_id``, switching to the first filter that shows it."""
        self.wanted = row_id
        if not any(r.id == row_id for r in self.all):
            return  # chosen when the list next holds it
        test = self.filters[self.group.checkedId()][1]
        row = next(r for r in self.all if r.id == row_id)
        if not test(row):
            index = next(i for i, (_c, t) in enumerate(self.filters) if t(row))
            self.chips[index].setChecked(True)  # applies, and selects the wanted row
        else:
            self._apply()

    def _apply(self) -> None:
        wanted = self.wanted or getattr(self.selected(), "id", None)
        caption, test = self.filters[self.group.checkedId()]
        shown = [r for r in self.all if test(r)]
        self.model.set_rows(shown)
        if not self.all:
            self.empty.setText(self.none_yet)
        else:
            self.empty.setText("" if shown else f"No {self.noun} under “{caption}”.")
        row = None if wanted is None else self.model.row_of(wanted)
        if row is not None:
            self.wanted = None
            self.table.selectRow(row)
        self.chosen.emit()


class _Panel(QFrame):
    """A card: a heading, a hint while nothing is chosen, a grid of facts, then what the subclass adds."""

    def __init__(self, hint: str, captions: tuple[str, ...]) -> None:
        super().__init__()
        self.setObjectName("card")
        self.setFixedWidth(330)
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(20, 18, 20, 18)
        self.box.setSpacing(10)
        self.name = QLabel("")
        self.name.setObjectName("heading")
        self.name.setWordWrap(True)
        self.hint = QLabel(hint)
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)
        self.box.addWidget(self.name)
        self.box.addWidget(self.hint)
        self.facts = QGridLayout()
        self.facts.setHorizontalSpacing(12)
        self.facts.setVerticalSpacing(6)
        self.facts.setColumnStretch(1, 1)
        self.values: dict[str, QLabel] = {}
        for row, caption in enumerate(captions):
            label = QLabel(caption)
            label.setObjectName("caption")
            value = QLabel("")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.facts.addWidget(label, row, 0, Qt.AlignmentFlag.AlignTop)
            self.facts.addWidget(value, row, 1)
            self.values[caption] = value
        self.box.addLayout(self.facts)
        self.link = LinkPanel(SCAN_TO_PAY, size=140)
        self.box.addWidget(self.link)
        self.email_link = EmailButton("Email the &link…")
        self.link.add_button(self.email_link)
        self.note = QLabel("")
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        self.box.addWidget(self.note)

    def _show_facts(self, shown: bool) -> None:
        self.name.setVisible(shown)
        self.hint.setVisible(not shown)
        for index in range(self.facts.count()):
            widget = self.facts.itemAt(index).widget()
            if widget is not None:
                widget.setVisible(shown)

    def _show_link(self, link: PaymentLinkView | None) -> None:
        """The QR code while the link is open; "being prepared" until the sync has made it."""
        waiting = link is not None and link.status in ("preparing", "open")
        self.link.setVisible(waiting)
        if waiting and link is not None:
            self.link.set_link(link.authorisation_url, missing=BEING_PREPARED)
        self.email_link.set_target(
            link_email(link) if waiting and link is not None else None,
            client_id=link.client_id if link is not None else None,
        )


class InvoicePanel(_Panel):
    """The chosen invoice: its facts, its payment link, and the actions its standing allows."""

    def __init__(self) -> None:
        super().__init__(
            "Choose an invoice in the list to see it, print it or take payment for it.",
            ("Client", "Standing", "Issued", "Due", "Total", "Lines"),
        )
        self.issue = QPushButton("Iss&ue the invoice")
        self.pay_at_desk = QPushButton("Pay at the &desk…")
        self.pay_by_link = QPushButton("Pay &by link")
        self.preview = QPushButton("Pre&view")
        self.save_pdf = QPushButton("&PDF…")
        self.print_button = QPushButton("P&rint…")
        self.void = QPushButton("V&oid…")
        self.discard = QPushButton("Discard the draft")
        self.email_invoice = EmailButton("&Email invoice…")
        self.issue.setObjectName("primary")
        self.pay_at_desk.setObjectName("primary")
        self.actions = (
            self.issue,
            self.pay_at_desk,
            self.pay_by_link,
            self.preview,
            self.save_pdf,
            self.print_button,
            self.email_invoice,
            self.void,
            self.discard,
        )
        # Preview, PDF and Print side by side, and Email beside Void: the panel fits a 768-pixel-high screen.
        rows = {self.preview: QHBoxLayout(), self.email_invoice: QHBoxLayout()}
        row_of = {
            self.save_pdf: rows[self.preview],
            self.print_button: rows[self.preview],
            self.void: rows[self.email_invoice],
        }
        for button in self.actions:
            if button in rows:
                rows[button].setSpacing(6)
                self.box.addLayout(rows[button])
                rows[button].addWidget(button)
            elif button in row_of:
                row_of[button].addWidget(button)
            else:
                self.box.addWidget(button)
        self.box.addStretch(1)
        self.show_invoice(None, None, may_pay=False, is_manager=False)

    def show_invoice(
        self,
        invoice: InvoiceDetail | None,
        link: PaymentLinkView | None,
        *,
        may_pay: bool,
        is_manager: bool,
    ) -> None:
        self._show_facts(invoice is not None)
        if invoice is None:
            for button in self.actions:
                button.hide()
            self.link.hide()
            self.email_link.hide()
            self.note.hide()
            return
        self.name.setText(f"Invoice {invoice.number}" if invoice.number else "Draft invoice")
        self.values["Client"].setText(invoice.client_name)
        self.values["Standing"].setText(standing_text(invoice))
        self.values["Issued"].setText(fmt.date(invoice.issued_on) or "Not yet")
        self.values["Due"].setText(fmt.date(invoice.due_on) or invoice.payment_terms)
        self.values["Total"].setText(fmt.money(invoice.net))
        self.values["Lines"].setText(
            "\n".join(
                f"{line.name}{f' × {line.quantity}' if line.quantity != 1 else ''}  {fmt.money(line.net)}"
                for line in invoice.lines
            )
        )
        standing = invoice.standing
        draft = standing is InvoiceStanding.DRAFT
        owed = standing in (InvoiceStanding.ISSUED, InvoiceStanding.OVERDUE)
        live_link = link is not None and link.status in ("preparing", "open", "authorised")
        self._show_link(link if owed else None)
        allowed = {
            self.issue: draft,
            self.pay_at_desk: owed and may_pay,
            self.pay_by_link: owed and may_pay and not live_link,
            self.preview: True,
            self.save_pdf: True,
            self.print_button: True,
            self.email_invoice: not draft and standing is not InvoiceStanding.VOID,
            self.void: owed and is_manager,
            self.discard: draft,
        }
        for button, shown in allowed.items():
            button.setVisible(shown)
        pay_url = link.authorisation_url if owed and link is not None and link.status == "open" else None
        self.email_invoice.set_target(
            lambda settings: invoice_message(invoice, settings, pay_url),
            client_id=invoice.client_id,
            attachment=lambda settings: invoice_pdf_bytes(invoice, settings),
        )
        self.email_invoice.setVisible(allowed[self.email_invoice])
        note = ""
        if owed and link is not None and link.status == "authorised":
            note = (
                "The client approved the payment in their bank; it shows as paid once GoCardless confirms it."
            )
        elif owed and not is_manager:
            note = "A manager can void an invoice sent by mistake."
        elif standing is InvoiceStanding.PAID and invoice.sale_number:
            note = f"Paid: sale {invoice.sale_number}."
        elif standing is InvoiceStanding.VOID and invoice.void_reason:
            note = f"Voided: {invoice.void_reason}"
        self.note.setText(note)
        self.note.setVisible(bool(note))


class LinkDetailPanel(_Panel):
    """The chosen payment link: what it is for, its QR code while open, cancel it or send it again."""

    def __init__(self) -> None:
        super().__init__(
            "Choose a payment link in the list to show its QR code, cancel it or send it again.",
            ("Client", "For", "Amount", "Status", "Created", "Paid"),
        )
        self.cancel = QPushButton("&Cancel the link")
        self.resend = QPushButton("Send it &again")
        self.resend.setObjectName("primary")
        self.actions = (self.resend, self.cancel)
        for button in self.actions:
            self.box.addWidget(button)
        self.box.addStretch(1)
        self.show_link(None, ZoneInfo("Europe/London"), may_pay=False)

    def show_link(self, link: PaymentLinkView | None, tz: ZoneInfo, *, may_pay: bool) -> None:
        self._show_facts(link is not None)
        if link is None:
            for button in self.actions:
                button.hide()
            self.link.hide()
            self.email_link.hide()
            self.note.hide()
            return
        self.name.setText(f"Payment link: {fmt.money(link.amount)}")
        self.values["Client"].setText(link.client_name or "—")
        self.values["For"].setText(link.description)
        self.values["Amount"].setText(fmt.money(link.amount))
        self.values["Status"].setText(link_status_text(link))
        self.values["Created"].setText(fmt.date_time(link.created_at, tz))
        self.values["Paid"].setText(fmt.date_time(link.paid_at, tz) if link.paid_at else "—")
        self._show_link(link)
        self.cancel.setVisible(may_pay and link.can_cancel)
        self.resend.setVisible(may_pay and link.can_resend)
        note = ""
        if link.status == "authorised":
            note = (
                "The client approved the payment in their bank; it shows as paid once GoCardless confirms it."
            )
        elif link.can_resend:
            note = "This link no longer works. Send it again for a new link with the same amount."
        self.note.setText(note)
        self.note.setVisible(bool(note))


def link_email(link: PaymentLinkView):  # type: ignore[no-untyped-def]
    """What "Email the link" sends, once the sync has made the link (nothing to send before)."""
    url = link.authorisation_url
    if not url:
        return None
    return lambda settings: payment_link_message(
        record_id=link.id,
        client_name=link.client_name,
        description=link.description,
        amount=link.amount,
        url=url,
        settings=settings,
    )
