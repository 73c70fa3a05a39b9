"""The Sales screen: the day's sales (or any range's), refunds and voids, searchable by number or client and
filtered by staff, way paid and kind; one opened shows its receipt, to print again, save as PDF or email.

The list is a ``SalesModel`` (``models/sales.py``): one query per hundred rows, more as the table scrolls.
Choosing a row reads its receipt (``sales.sale_receipt``) and shows it in the pane beside the list; Enter or a
double-click opens it in the receipt dialog. The pane's button row keeps a place (``actions``) for what may be
done to a sale afterwards (a refund, a void), added by the screens that own those use cases.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QDate, QEvent, QObject, QStandardPaths, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.services import sales as sales_service
from aestheticc_pos.services import sales_history
from aestheticc_pos.services.sales import Receipt
from aestheticc_pos.services.sales_history import SaleSummary, StaffChoice
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.client_messages import receipt_message
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.dialogs.receipt_dialog import ReceiptDialog
from aestheticc_pos.ui.dialogs.send_to_client import SendToClientDialog
from aestheticc_pos.ui.models.sales import CLIENT, KIND, STAFF, TENDERS, SalesModel, kind_text
from aestheticc_pos.ui.receipt import TENDER_NAMES, print_receipt, receipt_html, receipt_pdf, save_receipt_pdf
from aestheticc_pos.ui.topics import SALES
from aestheticc_pos.ui.views.sales_refunds import SaleActions

_STYLE = """
QTextBrowser#slip { background: #ffffff; border: 1px solid #e4dfd8; border-radius: 8px; padding: 10px; }
QLabel#count { color: #6b6478; }
"""
SEARCH_DELAY_MS = 250
CLIENT_AT_LEAST = 140  # pixels the client column keeps before other columns give up width
SHRINKABLE = (KIND, TENDERS, STAFF)  # elided when space is short (whole in the tooltip)
KINDS = (("All kinds", ""), ("Sales", "sale"), ("Refunds", "refund"), ("Voids", "void"))


class SalesView(QWidget):
    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.receipt: Receipt | None = None
        self.receipt_dialog: ReceiptDialog | None = None
        self.email_dialog: SendToClientDialog | None = None
        self.page_size = sales_history.PAGE
        self._no_wheel = _WheelOnlyWithFocus(self)
        self.setStyleSheet(_STYLE)
        page = QVBoxLayout(self)
        page.setContentsMargins(32, 24, 32, 24)
        page.setSpacing(10)
        title = QLabel("Sales")
        title.setObjectName("title")
        subtitle = QLabel("Every sale, refund and void: find one, see its receipt, print or email it again.")
        subtitle.setObjectName("subtitle")
        page.addWidget(title)
        page.addWidget(subtitle)
        page.addLayout(self._filters())
        self.count = QLabel("")
        self.count.setObjectName("count")
        self.count.setFixedHeight(self.count.sizeHint().height() + 4)  # always there: nothing moves
        page.addWidget(self.count)

        body = QHBoxLayout()
        body.setSpacing(18)
        self.model = SalesModel(self._load_page, run=desk.run, tz=desk.settings.tz, parent=self)
        self.model.counted.connect(self._counted)
        self.model.load_failed.connect(self._show_error)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # fitted to what is shown: _fit_columns
        header.setSectionResizeMode(CLIENT, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(60)
        self.model.rowsInserted.connect(lambda *_args: self._fit_columns())
        self.model.modelReset.connect(self._fit_columns)
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _old: self._chosen(current.row())
        )
        self.table.doubleClicked.connect(lambda _index: self.open_receipt())
        body.addWidget(self.table, 5)
        body.addWidget(self._detail(), 3)
        page.addLayout(body, 1)
        self._select_when_shown: str | None = None  # a refund just written: chosen once the list has it
        self.sale_actions = SaleActions(desk, self.actions, self, self.show_document, self.status.setText)

        QShortcut(QKeySequence("Ctrl+F"), self, activated=self.search.setFocus)
        QShortcut(QKeySequence("Ctrl+P"), self, activated=self.print_selected)
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            QShortcut(QKeySequence(key), self.table, activated=self.open_receipt)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.refresh)
        desk.changed.connect(self._on_changed)
        desk.staff_changed.connect(lambda _member: self._clear_receipt())

    # --- building --------------------------------------------------------------------------------------------

    def _filters(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        now = self.desk.services.now().astimezone(self.desk.settings.tz).date()
        today = QDate(now.year, now.month, now.day)
        self.from_day = self._date_edit(today)
        self.to_day = self._date_edit(today)
        self.today_button = QPushButton("Today")
        self.today_button.setToolTip("Show today's sales")
        self.today_button.clicked.connect(self.show_today)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Sale number or client (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(200)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self.staff = self._combo("Anyone")
        self.tender = self._combo("Any payment")
        for kind in TenderKind:
            self.tender.addItem(TENDER_NAMES.get(kind, kind.value), kind.value)
        self.kind = self._combo(KINDS[0][0])
        for caption, value in KINDS[1:]:
            self.kind.addItem(caption, value)
        for caption, widget in (("From", self.from_day), ("to", self.to_day)):
            label = QLabel(caption)
            label.setBuddy(widget)
            row.addWidget(label)
            row.addWidget(widget)
        row.addWidget(self.today_button)
        row.addSpacing(8)
        row.addWidget(self.search, 1)
        for combo in (self.staff, self.tender, self.kind):
            row.addWidget(combo)
        return row

    def _date_edit(self, day: QDate) -> QDateEdit:
        edit = QDateEdit(day)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("dd/MM/yyyy")
        edit.setFixedWidth(120)
        edit.installEventFilter(self._no_wheel)
        edit.dateChanged.connect(lambda _day: self.refresh())
        return edit

    def _combo(self, anything: str) -> QComboBox:
        combo = QComboBox()
        combo.addItem(anything, "")
        combo.installEventFilter(self._no_wheel)
        combo.currentIndexChanged.connect(lambda _index: self.refresh())
        return combo

    def _detail(self) -> QFrame:
        pane = QFrame()
        pane.setObjectName("card")
        column = QVBoxLayout(pane)
        column.setContentsMargins(16, 14, 16, 14)
        column.setSpacing(8)
        self.heading = QLabel("Choose a sale to see its receipt")
        self.heading.setObjectName("heading")
        self.facts = QLabel("")
        self.facts.setObjectName("hint")
        self.facts.setWordWrap(True)
        self.facts.setMinimumHeight(34)  # two lines kept for it
        self.facts.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.preview = QTextBrowser()
        self.preview.setObjectName("slip")
        self.preview.setMinimumWidth(300)
        self.print_button = QPushButton("&Print…")
        self.print_button.setToolTip("Print the receipt again (Ctrl+P)")
        self.print_button.clicked.connect(self.print_selected)
        self.pdf_button = QPushButton("P&DF…")
        self.pdf_button.setToolTip("Save the receipt as a PDF")
        self.pdf_button.clicked.connect(lambda: self.save_pdf())
        self.email_button = QPushButton("&Email…")
        self.email_button.setToolTip("Email the receipt, with its PDF, to the client")
        self.email_button.clicked.connect(self.email_receipt)
        self.open_button = QPushButton("&Open")
        self.open_button.setToolTip("Open the receipt (Enter)")
        self.open_button.clicked.connect(self.open_receipt)
        self.actions = QHBoxLayout()  # what may be done to the sale itself (refund, void) goes here
        self.actions.setSpacing(6)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        for button in (self.print_button, self.pdf_button, self.email_button, self.open_button):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.status = QLabel("")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        self.status.setMinimumHeight(34)
        self.status.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        column.addWidget(self.heading)
        column.addWidget(self.facts)
        column.addWidget(self.preview, 1)
        column.addLayout(buttons)
        column.addLayout(self.actions)
        column.addWidget(self.status)
        self._enable(False)
        return pane

    # --- the list --------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Search again with the filters as they are (the first page; more as the table scrolls)."""
        first, last = self._day(self.from_day), self._day(self.to_day)
        if last < first:
            self._show_error("The last day is before the first day. Choose the days again.")
            return
        self.model.tz = self.desk.settings.tz
        self.model.search(self.filters(), show_dates=first != last)
        self._load_staff()

    def filters(self) -> dict[str, object]:
        return {
            "from_day": self._day(self.from_day),
            "to_day": self._day(self.to_day),
            "text": self.search.text(),
            "sold_by": self.staff.currentData() or None,
            "tender": self.tender.currentData() or None,
            "kind": self.kind.currentData() or None,
        }

    def show_today(self) -> None:
        today = self.desk.services.now().astimezone(self.desk.settings.tz).date()
        day = QDate(today.year, today.month, today.day)
        for edit in (self.from_day, self.to_day):
            edit.blockSignals(True)
            edit.setDate(day)
            edit.blockSignals(False)
        self.refresh()

    def show_sale(self, sale_id: str) -> None:
        """Select a sale shown in the list (after a refund, the new document)."""
        row = self.model.row_of(sale_id)
        if row is not None:
            self.table.selectRow(row)

    def show_document(self, sale_id: str) -> None:
        """Show a document just written (a refund, a void): the list is read again and it is chosen."""
        self._select_when_shown = sale_id
        self.refresh()

    def _load_page(self, filters: dict[str, object], offset: int) -> sales_history.SalesPage:
        return sales_history.find_sales(
            self.desk.services, self.desk.staff_id, offset=offset, how_many=self.page_size, **filters
        )  # type: ignore[arg-type]

    def _load_staff(self) -> None:
        if self.desk.staff is None:
            return
        services, staff_id = self.desk.services, self.desk.staff_id
        self.desk.run(
            lambda: sales_history.sales_filters(services, staff_id), self._fill_staff, lambda _s: None
        )

    def _fill_staff(self, choices: tuple[StaffChoice, ...]) -> None:
        chosen = self.staff.currentData()
        self.staff.blockSignals(True)
        self.staff.clear()
        self.staff.addItem("Anyone", "")
        for choice in choices:
            self.staff.addItem(choice.name, choice.id)
        self.staff.setCurrentIndex(max(self.staff.findData(chosen), 0))
        self.staff.blockSignals(False)

    def _fit_columns(self) -> None:
        """Every column but the client's as wide as its widest text shown (never "2 De…"); the client's
        takes the rest. When that leaves the client less than its names need, up to ``CLIENT_AT_LEAST`` (a range of days with
        refunds: "Refund of A-000288"), the staff, tender and kind columns give up width, never below their
        caption; their text is then elided and whole in its tooltip. Never a horizontal scroll bar."""
        metrics = self.table.fontMetrics()
        font = QFont(self.table.horizontalHeader().font())
        font.setBold(True)  # the style sheet draws captions bold
        bold = QFontMetrics(font)
        widths: dict[int, int] = {}
        captions: dict[int, int] = {}
        for column in range(self.model.columnCount()):
            texts = [self.model.index(row, column).data() or "" for row in range(self.model.rowCount())]
            widest = max((metrics.horizontalAdvance(text) for text in texts), default=0)
            caption = bold.horizontalAdvance(str(self.model.headerData(column, Qt.Orientation.Horizontal)))
            captions[column] = caption + 16
            widths[column] = max(widest, caption) + 16
        client = min(widths.pop(CLIENT), CLIENT_AT_LEAST)  # short names need less
        scroll_bar = self.table.verticalScrollBar().sizeHint().width()  # kept for, shown or not yet
        room = self.table.maximumViewportSize().width() - scroll_bar - client
        excess = sum(widths.values()) - room
        for column in sorted(SHRINKABLE, key=lambda c: -widths.get(c, 0)):
            if excess <= 0 or column not in widths:
                break
            give = min(excess, widths[column] - captions[column])
            widths[column] -= give
            excess -= give
        for column, width in widths.items():
            self.table.setColumnWidth(column, width)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_columns()

    def _counted(self, total: int) -> None:
        first, last = self._day(self.from_day), self._day(self.to_day)
        days = fmt.date(first) if first == last else f"{fmt.date(first)} to {fmt.date(last)}"
        noun = "sale" if total == 1 else "sales"
        self.count.setText(
            f"{total} {noun}, {days}" + (" (more as you scroll)" if self.model.canFetchMore() else "")
        )
        waiting = self._select_when_shown
        if waiting is not None and self.model.row_of(waiting) is not None:
            self._select_when_shown = None
            self.show_sale(waiting)
        elif self.table.currentIndex().row() < 0 and self.model.rowCount():
            self.table.selectRow(0)

    # --- one sale ----------------------------------------------------------------------------------------------

    def _chosen(self, row: int) -> None:
        sale = self.model.sale(row)
        self.sale_actions.follow(sale)
        if sale is None:
            self._clear_receipt()
            return
        services = self.desk.services
        self.status.setText("")
        self.desk.run(
            lambda: sales_service.sale_receipt(services, sale.id), lambda r: self._show_receipt(sale, r)
        )

    def _show_receipt(self, sale: SaleSummary, receipt: Receipt) -> None:
        current = self.selected_sale()
        if current is None or current.id != sale.id:
            return  # another row was chosen meanwhile
        self.receipt = receipt
        tz = self.desk.settings.tz
        self.heading.setText(
            f"{kind_text(sale)} {sale.number}" if sale.kind == "sale" else f"{sale.number}: {kind_text(sale)}"
        )
        self.facts.setText(
            f"{fmt.date_time(sale.created_at, tz)} · {sale.staff_name} · {sale.client_name or 'Walk-in'}"
            f" · {fmt.money(sale.total)}"
        )
        self.preview.setHtml(receipt_html(receipt, self.desk.settings))
        self._enable(True)

    def selected_sale(self) -> SaleSummary | None:
        return self.model.sale(self.table.currentIndex().row())

    def _clear_receipt(self) -> None:
        self.receipt = None
        self.sale_actions.follow(None)
        self.heading.setText("Choose a sale to see its receipt")
        self.facts.setText("")
        self.preview.clear()
        self._enable(False)

    def _enable(self, on: bool) -> None:
        for button in (self.print_button, self.pdf_button, self.email_button, self.open_button):
            button.setEnabled(on)

    def open_receipt(self) -> ReceiptDialog | None:
        if self.receipt is None:
            return None
        if self.receipt_dialog is not None:
            self.receipt_dialog.deleteLater()
        self.receipt_dialog = ReceiptDialog(
            self.receipt, self.desk.settings, self, desk=self.desk, reprint=True
        )
        self.receipt_dialog.open()
        return self.receipt_dialog

    def print_selected(self) -> None:
        if self.receipt is not None and print_receipt(self.receipt, self.desk.settings, self):
            self.status.setText(f"Receipt {self.receipt.number} sent to the printer.")

    def save_pdf(self, path: str | Path | None = None) -> Path | None:
        if self.receipt is None:
            return None
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
            saved = save_receipt_pdf(self.receipt, self.desk.settings, path)
        except OSError:
            self.status.setText(f"The receipt could not be saved to {path}. Choose another folder.")
            return None
        self.status.setText(f"Saved to {saved}.")
        return saved

    def email_receipt(self) -> SendToClientDialog | None:
        sale = self.selected_sale()
        if self.receipt is None or sale is None:
            return None
        if self.email_dialog is not None:
            self.email_dialog.deleteLater()
        try:
            attachment: bytes | None = receipt_pdf(self.receipt, self.desk.settings)
        except OSError:
            attachment = None
        self.email_dialog = SendToClientDialog(
            self.desk,
            receipt_message(self.receipt, self.desk.settings),
            to=sale.client_email,
            attachment=attachment,
            parent=self,
        )
        self.email_dialog.queued.connect(
            lambda queued: self.status.setText(f"Emailing the receipt to {queued.to}.")
        )
        self.email_dialog.open()
        return self.email_dialog

    # --- helpers -----------------------------------------------------------------------------------------------

    def _on_changed(self, what: frozenset[str]) -> None:
        if SALES in what and self.isVisible():
            self.refresh()

    def _show_error(self, sentence: str) -> None:
        self.count.setText(sentence)

    @staticmethod
    def _day(edit: QDateEdit) -> dt.date:
        day = edit.date()
        return dt.date(day.year(), day.month(), day.day())


class _WheelOnlyWithFocus(QObject):
    """A wheel turned over a filter that does not have focus never changes it."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()
            return True
        return False
