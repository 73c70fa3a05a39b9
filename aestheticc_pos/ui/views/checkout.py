"""Checkout: find the client (or sell to a walk-in), add what they buy, see the automatic discounts with their
reasons, and take payment in cash, by card or split between the two; then the receipt.

Or the client pays later: "Payment link" (Alt+L) turns the basket into a link shown as a QR code, and
"Invoice" (Alt+I) issues an invoice (``checkout_links.py``). A basket opened from an appointment
whose deposit was paid by link offers "Deposit paid £X" as the first tender. The screen's parts are modules
of their own: who buys (``checkout_client.py``), the basket table (``checkout_basket.py``), the payment panel
(``checkout_payment.py``) and the last sale with its receipt (``checkout_last_sale.py``).

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

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QStackedWidget, QVBoxLayout, QWidget

from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.pricing import MAX_QUANTITY
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import checkout as checkout_service
from aestheticc_pos.services import deposits as deposits_service
from aestheticc_pos.services.checkout import complete_sale
from aestheticc_pos.services.deposits import DepositView
from aestheticc_pos.services.payment_links import PaymentLinkView
from aestheticc_pos.services.pricing import BasketItem
from aestheticc_pos.services.sales import Receipt
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import CheckoutRequest, Desk
from aestheticc_pos.ui.models.basket import ITEM, BasketModel
from aestheticc_pos.ui.topics import CATALOGUE, CLIENTS, MEMBERSHIPS, PACKAGES, SALES
from aestheticc_pos.ui.views.checkout_basket import (
    BasketTable,
    Priced,
    item_of_each_line,
    labelled,
    price_with_offers,
)
from aestheticc_pos.ui.views.checkout_client import ClientChooser
from aestheticc_pos.ui.views.checkout_last_sale import LastSale
from aestheticc_pos.ui.views.checkout_links import BasketDocuments, SentLinkCard, ShownBasket
from aestheticc_pos.ui.views.checkout_payment import PaymentPanel
from aestheticc_pos.ui.views.checkout_search import (
    KIND_NAMES,
    MAX_MATCHES,
    ClientCard,
    Finder,
    Sellable,
    load_sellables,
    match_sellables,
)

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
        self.catalogue: list[Sellable] = []
        self._priced_items: list[BasketItem] = []  # the basket the shown quote priced
        self._sale_id: str | None = None  # given before the sale is sent; a second send returns the first
        self._quote_seq = 0
        self._keep_row = 0

        outer = QHBoxLayout(self)
        outer.setContentsMargins(28, 20, 28, 20)
        outer.setSpacing(24)
        outer.addLayout(self._build_basket_side(), 1)
        self.payment = PaymentPanel()
        self.payment.take_payment.connect(self.take_payment)
        self.documents = BasketDocuments(desk, self.payment, self.shown_basket, parent=self)
        self.payment.send_link.connect(self.documents.send_link)
        self.payment.invoice.connect(self.documents.invoice)
        self.documents.billed.connect(self.new_sale)
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

    # --- the screen's contract ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the catalogue and the client's benefits, and price the basket again."""
        services = self.desk.services
        self.desk.run(lambda: load_sellables(services), self._show_catalogue, self._basket_error)
        if self.last_sale.receipt is None:
            self.desk.run(lambda: checkout_service.last_sale(services), self.last_sale.show_sale)
        if self.client is not None:
            self.chooser.load(self.client.id)
        self._requote(clear_error=False)
        if not self.items:
            self.chooser.search.setFocus()

    def start(
        self, client_id: str | None, appointment_id: str | None = None, treatment_id: str | None = None
    ) -> None:
        """Open a new sale for ``client_id`` (None: a walk-in), with the appointment's treatment in the basket."""
        self.new_sale()
        if client_id is not None:
            self.chooser.load(client_id)
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

    def start_request(self, request: CheckoutRequest) -> None:
        """``start`` from a ``CheckoutRequest`` (what ``Desk.start_checkout`` emits)."""
        self.start(request.client_id, request.appointment_id, request.treatment_id)

    @property
    def client(self) -> ClientCard | None:
        """Who the sale is for (None: a walk-in)."""
        return self.chooser.client

    def shown_basket(self) -> ShownBasket:
        """The basket as the screen shows it: what a payment link or an invoice bills."""
        client_id = self.client.id if self.client else None
        return ShownBasket(self.model.quote, tuple(self._priced_items), client_id)

    def new_sale(self) -> None:
        """Empty the basket and the payment, back to a walk-in."""
        self._back_to_payment(focus=False)
        self.chooser.show_client(None)
        self._set_items([])
        self.payment.reset()
        self._basket_error("")
        self.chooser.search.clear()
        self.item_search.clear()
        self.chooser.search.setFocus()

    # --- building -------------------------------------------------------------------------------------------

    def _build_basket_side(self) -> QVBoxLayout:
        column = QVBoxLayout()
        column.setSpacing(10)
        title = QLabel("Checkout")
        title.setObjectName("title")
        column.addWidget(title)

        self.chooser = ClientChooser(self.desk, self)
        self.chooser.changed.connect(self._client_changed)
        self.chooser.picked.connect(lambda: self.item_search.setFocus())
        self.chooser.failed.connect(self._basket_error)
        column.addWidget(self.chooser)

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
        self.table = BasketTable(self.model)
        self.table.remove_requested.connect(self.remove_line)
        column.addWidget(self.table, 1)
        hint = QLabel(
            "Delete: remove the line  ·  Space: use or decline the package session  ·  + and −: quantity"
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        column.addWidget(hint)
        self.last_sale = LastSale(self.desk)
        self.last_sale.receipt_closed.connect(self._receipt_closed)
        column.addWidget(self.last_sale)

        self.item_finder = Finder(self.item_search, self, columns=3)
        self.item_finder.picked.connect(self._add)
        self.item_search.textEdited.connect(self._search_items)
        return column

    # --- client ---------------------------------------------------------------------------------------------

    def _client_changed(self, _card: ClientCard | None) -> None:
        if self.items:
            self._requote()  # priced for the new client

    def _from_appointment(self, client_id: str, appointment_id: str, treatment_id: str) -> None:
        self.chooser.load(client_id)
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
            self.chooser.search.setFocus()

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
        self.last_sale.show_sale(receipt)
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
        self.last_sale.open_receipt()

    def _receipt_closed(self) -> None:
        self.window().activateWindow()  # back from the dialog, ready for the next client
        self.chooser.search.setFocus()

    def _on_changed(self, what: frozenset[str]) -> None:
        if CATALOGUE in what:
            services = self.desk.services
            self.desk.run(lambda: load_sellables(services), self._show_catalogue, self._basket_error)
        if what & {CLIENTS, MEMBERSHIPS, PACKAGES} and self.client is not None and SALES not in what:
            self.chooser.load(self.client.id)
            self._requote(clear_error=False)
