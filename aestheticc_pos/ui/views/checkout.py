"""Checkout: find the client (or sell to a walk-in), add what they buy, see the automatic discounts with their
reasons, and take payment in cash, by card or split between the two; then the receipt.

Or the client pays later: "Payment link" (Alt+L) turns the basket into a link shown as a QR code, and
"Invoice" (Alt+I) issues an invoice (``checkout_links.py``). A basket opened from an appointment
whose deposit was paid by link offers "Deposit paid £X" as the first tender.

A membership is sold here too: its first month is a line at the tier's monthly price (and its sign-up fee a
second line, when the tier has one), paid now with the rest of the sale; once the sale is recorded the message
says the client must authorise the Direct Debit that collects the following months.

The screen owns the basket (a list of ``BasketItem``) and nothing else. Every change to it is priced again by
``services.checkout.quote_basket`` off the GUI thread; only the answer to the latest change is shown (older
ones are dropped). "Take payment" completes the sale with ``expected_total`` = the total on screen, so the
client pays exactly what they were shown; any refusal (still due, total changed, an amount that is not an
amount) is a sentence on the screen and the basket stays as it was.

Keyboard: Alt+F find client, Alt+W walk-in, Alt+A add item (type, arrows, Enter), Delete removes a line,
Space uses or declines a package session, + and − change the quantity, Alt+S / Alt+D / Alt+P cash / card /
split, Ctrl+Enter takes payment (F9 is the Payments screen), Enter on the receipt starts the next sale.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from html import escape
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.pricing import MAX_QUANTITY
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import checkout as checkout_service
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import deposits as deposits_service
from aestheticc_pos.services.checkout import BasketItem, Receipt, complete_sale
from aestheticc_pos.services.clients import ClientSummary
from aestheticc_pos.services.deposits import DepositView
from aestheticc_pos.services.payment_links import PaymentLinkView
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import (
    APPOINTMENTS,
    CATALOGUE,
    CLIENTS,
    MEMBERSHIPS,
    PACKAGES,
    SALES,
    Desk,
)
from aestheticc_pos.ui.dialogs.receipt_dialog import ReceiptDialog
from aestheticc_pos.ui.models.basket import ITEM, QUANTITY, REASON, BasketModel
from aestheticc_pos.ui.views.checkout_basket import (
    BasketTable,
    Priced,
    item_of_each_line,
    labelled,
    price_with_offers,
)
from aestheticc_pos.ui.views.checkout_links import BasketDocuments, SentLinkCard
from aestheticc_pos.ui.views.checkout_payment import PaymentPanel
from aestheticc_pos.ui.views.checkout_search import (
    KIND_NAMES,
    ClientCard,
    Finder,
    Sellable,
    load_client_card,
    load_sellables,
    match_sellables,
)

SEARCH_DELAY_MS = 150
MAX_MATCHES = 8

_STYLE = """
QLabel#clientCard { color: #3d3550; font-size: 15px; }
QLabel#hint { color: #6b6478; font-size: 12px; }
QTreeWidget#matches { background: #ffffff; border: 1px solid #9d8fc7; border-radius: 6px; }
QTreeWidget#matches::item { padding: 5px 4px; }
QTreeWidget#matches::item:selected { background: #d8cdf3; color: #2b2b2b; }
"""


class CheckoutView(QWidget):
    """The checkout screen. ``start(...)`` opens it prefilled; ``sale_completed`` carries the receipt."""

    sale_completed = Signal(object)  # Receipt

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.setStyleSheet(_STYLE)
        self.items: list[BasketItem] = []
        self.client: ClientCard | None = None
        self.catalogue: list[Sellable] = []
        self.receipt_dialog: ReceiptDialog | None = None
        self._priced_items: list[BasketItem] = []  # the basket the shown quote priced
        self._sale_id: str | None = None  # given before the sale is sent; a second send returns the first
        self._last_receipt: Receipt | None = None
        self._quote_seq = 0
        self._search_seq = 0
        self._card_seq = 0
        self._keep_row = 0

        outer = QHBoxLayout(self)
        outer.setContentsMargins(28, 20, 28, 20)
        outer.setSpacing(24)
        outer.addLayout(self._build_basket_side(), 1)
        self.payment = PaymentPanel()
        self.payment.take_payment.connect(self.take_payment)
        self.documents = BasketDocuments(self)
        self.payment.send_link.connect(self.documents.send_link)
        self.payment.invoice.connect(self.documents.invoice)
        self.sent_link = SentLinkCard(desk)
        self.documents.link_sent.connect(self._show_sent_link)
        self.sent_link.done.connect(self._back_to_payment)
        self.right = QStackedWidget()
        self.right.addWidget(self.payment)
        self.right.addWidget(self.sent_link)
        self.right.setFixedWidth(360)
        outer.addWidget(self.right)

        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.take_payment)
        desk.changed.connect(self._on_changed)
        self._show_client(None)

    # --- the screen's contract ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the catalogue and the client's benefits, and price the basket again."""
        services = self.desk.services
        self.desk.run(lambda: load_sellables(services), self._show_catalogue, self._basket_error)
        if self._last_receipt is None:
            self.desk.run(lambda: checkout_service.last_sale(services), self._show_last_sale)
        if self.client is not None:
            self._load_client(self.client.id)
        self._requote(clear_error=False)
        if not self.items:
            self.client_search.setFocus()

    def start(
        self, client_id: str | None, appointment_id: str | None = None, treatment_id: str | None = None
    ) -> None:
        """Open a new sale for ``client_id`` (None: a walk-in), with the appointment's treatment in the basket."""
        self.new_sale()
        if client_id is not None:
            self._load_client(client_id)
        if treatment_id is not None:
            self._set_items([BasketItem(ItemKind.TREATMENT, treatment_id, appointment_id=appointment_id)])
            if appointment_id is not None:
                self._load_deposit(appointment_id)
        elif appointment_id is not None:
            services = self.desk.services
            self.desk.run(
                lambda: appointments_service.appointment_detail(services, appointment_id).appointment,
                lambda a: self._from_appointment(a.client_id, a.id, a.treatment_id),
                self._basket_error,
            )
        self.item_search.setFocus()

    def start_request(self, request: Any) -> None:
        """``start`` from a ``CheckoutRequest`` (what ``Desk.start_checkout`` emits)."""
        self.start(
            request.client_id,
            getattr(request, "appointment_id", None),
            getattr(request, "treatment_id", None),
        )

    def new_sale(self) -> None:
        """Empty the basket and the payment, back to a walk-in."""
        self._back_to_payment(focus=False)
        self._show_client(None)
        self._set_items([])
        self.payment.reset()
        self._basket_error("")
        self.client_search.clear()
        self.item_search.clear()
        self.client_search.setFocus()

    # --- building -------------------------------------------------------------------------------------------

    def _build_basket_side(self) -> QVBoxLayout:
        column = QVBoxLayout()
        column.setSpacing(10)
        title = QLabel("Checkout")
        title.setObjectName("title")
        column.addWidget(title)

        self.client_search = QLineEdit()
        self.client_search.setPlaceholderText("Name, phone or email")
        self.client_search.setClearButtonEnabled(True)
        self.walk_in_button = QPushButton("&Walk-in")
        self.walk_in_button.setToolTip("Sell to someone who is not a client (Alt+W)")
        self.walk_in_button.clicked.connect(self._walk_in)
        column.addLayout(labelled("&Find client", self.client_search, self.walk_in_button))
        self.client_card = QLabel("")
        self.client_card.setObjectName("clientCard")
        self.client_card.setWordWrap(True)
        column.addWidget(self.client_card)

        self.item_search = QLineEdit()
        self.item_search.setPlaceholderText(
            "Type a treatment, product, package or membership; arrows to choose, Enter to add"
        )
        self.item_search.setClearButtonEnabled(True)
        column.addLayout(labelled("&Add item", self.item_search))
        self.basket_error = QLabel("")
        self.basket_error.setObjectName("error")
        self.basket_error.setWordWrap(True)
        self.basket_error.hide()
        column.addWidget(self.basket_error)

        self.model = BasketModel(self)
        self.model.package_choice_changed.connect(self._choose_package)
        self.model.quantity_changed.connect(self._change_quantity)
        self.table = BasketTable()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setMinimumSectionSize(40)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(ITEM, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(REASON, QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        self.table.installEventFilter(self)
        column.addWidget(self.table, 1)
        hint = QLabel(
            "Delete: remove the line  ·  Space: use or decline the package session  ·  + and −: quantity"
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        column.addWidget(hint)
        # The till's last sale, always in the same place: after a restart staff see whether the sale they were
        # taking went through before ringing it up again, and can print its receipt again.
        last = QHBoxLayout()
        self.last_sale = QLabel("")
        self.last_sale.setObjectName("hint")
        self.last_sale_button = QPushButton("Receipt again")
        self.last_sale_button.setToolTip("Show the last sale's receipt, to print or copy it again")
        self.last_sale_button.clicked.connect(self._show_last_receipt)
        self.last_sale_button.setEnabled(False)
        last.addWidget(self.last_sale, 1)
        last.addWidget(self.last_sale_button)
        row = QWidget()
        row.setLayout(last)
        row.setFixedHeight(self.last_sale_button.sizeHint().height() + 4)
        last.setContentsMargins(0, 0, 0, 0)
        column.addWidget(row)

        self.client_finder = Finder(self.client_search, self, columns=3)
        self.client_finder.picked.connect(self._pick_client)
        self._client_timer = QTimer(self)
        self._client_timer.setSingleShot(True)
        self._client_timer.setInterval(SEARCH_DELAY_MS)
        self._client_timer.timeout.connect(self._search_clients)
        self.client_search.textEdited.connect(lambda _text: self._client_timer.start())
        self.item_finder = Finder(self.item_search, self, columns=3)
        self.item_finder.picked.connect(self._add)
        self.item_search.textEdited.connect(self._search_items)
        return column

    # --- client ---------------------------------------------------------------------------------------------

    def _search_clients(self) -> None:
        typed = self.client_search.text().strip()
        self._search_seq += 1
        seq = self._search_seq
        if not typed:
            self.client_finder.show_rows([])
            return
        services = self.desk.services

        def show(found: list[ClientSummary]) -> None:
            if seq == self._search_seq and self.client_search.text().strip() == typed:
                rows = [(c, (c.full_name, c.phone or "", c.email or "")) for c in found]
                self.client_finder.show_rows(rows, empty=f"No client matches “{typed}”.")

        self.desk.run(
            lambda: clients_service.search_clients(services, typed, limit=MAX_MATCHES),
            show,
            self._basket_error,
        )

    def _pick_client(self, client: ClientSummary) -> None:
        self.client_search.clear()
        self._show_client(ClientCard(client.id, client.full_name, "", ""))
        self._load_client(client.id)
        self.item_search.setFocus()

    def _walk_in(self) -> None:
        self.client_search.clear()
        self.client_finder.show_rows([])
        self._show_client(None)
        self.item_search.setFocus()

    def _load_client(self, client_id: str) -> None:
        services = self.desk.services
        self._card_seq += 1
        seq = self._card_seq
        if self.client is None or self.client.id != client_id:
            self._show_client(ClientCard(client_id, "…", "", ""))  # price for this client from now on

        def show(card: ClientCard) -> None:
            if seq == self._card_seq:
                self._show_client(card)

        self.desk.run(lambda: load_client_card(services, client_id), show, self._basket_error)

    def _show_client(self, card: ClientCard | None) -> None:
        changed = (card.id if card else None) != (self.client.id if self.client else None)
        self.client = card
        if card is None:
            self.client_card.setText("Walk-in: no client chosen.")
        else:
            details = "  ·  ".join(part for part in (card.membership, card.packages) if part)
            self.client_card.setText(
                f"<b>{escape(card.name)}</b>" + (f"  ·  {escape(details)}" if details else "")
            )
        if changed and self.items:
            self._requote()

    def _from_appointment(self, client_id: str, appointment_id: str, treatment_id: str) -> None:
        self._load_client(client_id)
        self._set_items(
            [*self.items, BasketItem(ItemKind.TREATMENT, treatment_id, appointment_id=appointment_id)]
        )
        self._load_deposit(appointment_id)

    # --- basket ---------------------------------------------------------------------------------------------

    def _show_catalogue(self, sellables: list[Sellable]) -> None:
        self.catalogue = sellables
        if self.item_search.text().strip():
            self._search_items(self.item_search.text())

    def _search_items(self, typed: str) -> None:
        found = match_sellables(self.catalogue, typed)[:MAX_MATCHES]
        rows = [(s, (s.name, KIND_NAMES[s.kind], s.price_text)) for s in found]
        self.item_finder.show_rows(
            rows, empty=f"Nothing on the menu matches “{typed.strip()}”." if typed.strip() else ""
        )

    def _add(self, sellable: Sellable) -> None:
        self.item_search.clear()
        items = list(self.items)
        same = next(
            (
                i
                for i, item in enumerate(items)
                if sellable.kind is ItemKind.PRODUCT
                and item.kind is ItemKind.PRODUCT
                and item.item_id == sellable.item_id
            ),
            None,
        )
        if same is not None and items[same].quantity < MAX_QUANTITY:
            items[same] = replace(items[same], quantity=items[same].quantity + 1)
            self._keep_row = same
        else:
            items.append(BasketItem(sellable.kind, sellable.item_id))
            self._keep_row = len(items) - 1
        self._set_items(items)

    def remove_line(self, row: int) -> None:
        """Take out the basket item the line at ``row`` belongs to (a membership's fee line: the membership)."""
        item = self._item_of_line(row)
        if 0 <= item < len(self.items):
            self._keep_row = max(0, min(row, self.model.rowCount() - 2))
            self._set_items([it for i, it in enumerate(self.items) if i != item])

    def _choose_package(self, row: int, use: bool) -> None:
        item = self._item_of_line(row)
        if 0 <= item < len(self.items):
            self._keep_row = row
            self._set_items(
                [replace(it, use_package=use) if i == item else it for i, it in enumerate(self.items)]
            )

    def _change_quantity(self, row: int, quantity: int) -> None:
        item = self._item_of_line(row)
        if 0 <= item < len(self.items) and 1 <= quantity <= MAX_QUANTITY:
            self._keep_row = row
            self._set_items(
                [replace(it, quantity=quantity) if i == item else it for i, it in enumerate(self.items)]
            )

    def _item_of_line(self, row: int) -> int:
        """The basket item the priced line at ``row`` comes from (-1: none)."""
        quote = self.model.quote
        if quote is None or not 0 <= row < len(quote.lines):
            return -1
        return item_of_each_line(quote)[row]

    def _set_items(self, items: list[BasketItem]) -> None:
        if items != self.items:
            self._sale_id = None  # another basket: another sale
        self.items = items
        deposit = self.payment.deposit
        if deposit is not None and all(item.appointment_id != deposit.appointment_id for item in items):
            self.payment.set_deposit(None)  # its appointment is no longer in the basket
        self._requote()

    def _load_deposit(self, appointment_id: str) -> None:
        """Offer the appointment's deposit as a tender once it is known to be paid."""
        services = self.desk.services

        def show(deposit: DepositView | None) -> None:
            in_basket = any(item.appointment_id == appointment_id for item in self.items)
            if deposit is not None and in_basket:
                self.payment.set_deposit(deposit)

        self.desk.run(
            lambda: deposits_service.paid_deposit_of(services, appointment_id), show, self._basket_error
        )

    # --- a link sent instead of payment ---------------------------------------------------------------------

    def _show_sent_link(self, link: PaymentLinkView) -> None:
        self.sent_link.show_link(link)
        self.right.setCurrentWidget(self.sent_link)
        self.sent_link.next_button.setFocus()

    def _back_to_payment(self, *, focus: bool = True) -> None:
        self.sent_link.stop()
        self.right.setCurrentWidget(self.payment)
        if focus:
            self.client_search.setFocus()

    def _requote(self, *, clear_error: bool = True) -> None:
        """Price the basket in the background; an answer to an older basket is dropped."""
        if clear_error:
            self._basket_error("")
            self.payment.show_error("")
        self._quote_seq += 1
        seq = self._quote_seq
        items, client_id = list(self.items), self.client.id if self.client else None
        if not items:
            self._priced_items = []
            self._show_priced(None)
            return
        self.payment.set_pricing(True)
        services = self.desk.services

        def done(priced: Priced) -> None:
            if seq == self._quote_seq:
                self._priced_items = items
                self._show_priced(priced)

        def failed(sentence: str) -> None:
            if seq != self._quote_seq:
                return
            self._basket_error(sentence)
            if items != self._priced_items:
                self.items = list(self._priced_items)  # undo the change the engine refused; keep the rest
                self._requote(clear_error=False)
            else:
                self.payment.set_pricing(False)  # nothing to undo; the sale will refuse it with the reason

        self.desk.run(lambda: price_with_offers(services, client_id, items), done, failed)

    def _show_priced(self, priced: Priced | None) -> None:
        row = self._keep_row
        self.model.set_quote(priced.quote if priced else None, priced.offers if priced else None)
        self.payment.show_quote(priced.quote if priced else None)
        if self.model.rowCount():
            row = max(0, min(row, self.model.rowCount() - 1))
            self.table.setCurrentIndex(self.model.index(row, ITEM))

    def _basket_error(self, sentence: str) -> None:
        self.basket_error.setText(sentence)
        self.basket_error.setVisible(bool(sentence))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Basket keys: Delete removes, Space uses or declines the package, + and − change the quantity."""
        if (
            watched is self.table
            and event.type() == QEvent.Type.KeyPress
            and self.table.state() is not QAbstractItemView.State.EditingState
        ):
            row = self.table.currentIndex().row()
            key = event.key()  # type: ignore[attr-defined]
            if 0 <= row < self.model.rowCount():
                if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                    self.remove_line(row)
                    return True
                if key == Qt.Key.Key_Space and self.model.package_offer(row) is not None:
                    self.model.setData(
                        self.model.index(row, REASON),
                        not self.model.uses_package(row),
                        Qt.ItemDataRole.CheckStateRole,
                    )
                    return True
                if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal, Qt.Key.Key_Minus):
                    step = -1 if key == Qt.Key.Key_Minus else 1
                    quantity = self.model.line(row).line.quantity + step
                    self.model.setData(self.model.index(row, QUANTITY), quantity)
                    return True
        return super().eventFilter(watched, event)

    # --- payment --------------------------------------------------------------------------------------------

    def take_payment(self) -> None:
        """Complete the sale for the total on screen, with the tenders typed."""
        quote = self.model.quote
        if quote is None or not self.items:
            self.payment.show_error(
                "The basket is empty. Add a treatment, product, package or membership first."
            )
            self.item_search.setFocus()
            return
        if self.payment.busy:
            self.payment.show_error("The prices are being updated. Check the total, then take payment again.")
            return
        if self.desk.staff is None:
            self.payment.show_error("Sign in to take payment.")
            return
        self.payment.show_error("")
        payments = self.payment.payments()
        items, client_id = list(self._priced_items), self.client.id if self.client else None
        services, staff_id, total = self.desk.services, self.desk.staff_id, quote.net
        # Kept until the sale is shown done or the basket changes: sending it again after an answer that never
        # came back returns the sale already taken instead of taking it twice.
        self._sale_id = self._sale_id or str(uuid.uuid4())
        sale_id = self._sale_id
        sells_membership = any(item.kind is ItemKind.MEMBERSHIP for item in items)
        self.payment.set_paying(True)

        def failed(sentence: str) -> None:
            self.payment.set_paying(False)
            self.payment.show_error(sentence)
            self._requote(clear_error=False)  # a changed total is shown at once; the basket is kept

        self.desk.run(
            lambda: complete_sale(
                services,
                client_id=client_id,
                items=items,
                payments=payments,
                staff_id=staff_id,
                expected_total=total,
                sale_id=sale_id,
            ),
            lambda receipt: self._paid(receipt, joined_membership=sells_membership),
            failed,
        )

    def _paid(self, receipt: Receipt, *, joined_membership: bool = False) -> None:
        self.payment.set_paying(False)
        self.new_sale()
        self._show_last_sale(receipt)
        self.desk.notify(
            SALES, PACKAGES, APPOINTMENTS, CLIENTS, *([MEMBERSHIPS] if joined_membership else [])
        )
        paid = f"Sale {receipt.number} recorded: {fmt.money(receipt.net)}."
        if receipt.change_due:
            paid += f" Change due {fmt.money(receipt.change_due)}."
        if joined_membership:
            paid += (
                f" The first month of the membership is paid; {receipt.client_name} must authorise the Direct"
                " Debit for the following months: the link will be on their membership once it is ready."
            )
        self.desk.message.emit(paid)
        self.sale_completed.emit(receipt)
        if self.receipt_dialog is not None:
            self.receipt_dialog.deleteLater()  # the previous sale's
        self.receipt_dialog = ReceiptDialog(receipt, self.desk.settings, self)
        self.receipt_dialog.finished.connect(self._receipt_closed)
        self.receipt_dialog.open()

    def _show_last_sale(self, receipt: Receipt | None) -> None:
        if receipt is None:
            return
        self._last_receipt = receipt
        who = f" · {receipt.client_name}" if receipt.client_name else ""
        when = receipt.created_at.astimezone(self.desk.settings.tz).strftime("%H:%M")
        self.last_sale.setText(
            f"Last sale on this till: {receipt.number} · {fmt.money(receipt.net)} · {when}{who}"
        )
        self.last_sale_button.setEnabled(True)

    def _show_last_receipt(self) -> None:
        if self._last_receipt is None:
            return
        if self.receipt_dialog is not None:
            self.receipt_dialog.deleteLater()
        self.receipt_dialog = ReceiptDialog(self._last_receipt, self.desk.settings, self)
        self.receipt_dialog.finished.connect(self._receipt_closed)
        self.receipt_dialog.open()

    def _receipt_closed(self) -> None:
        self.window().activateWindow()  # back from the dialog, ready for the next client
        self.client_search.setFocus()

    def _on_changed(self, what: frozenset[str]) -> None:
        if CATALOGUE in what:
            services = self.desk.services
            self.desk.run(lambda: load_sellables(services), self._show_catalogue, self._basket_error)
        if what & {CLIENTS, MEMBERSHIPS, PACKAGES} and self.client is not None and SALES not in what:
            self._load_client(self.client.id)
            self._requote(clear_error=False)
