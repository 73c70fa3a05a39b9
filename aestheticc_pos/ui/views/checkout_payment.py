"""The payment side of checkout: the totals of the quote on screen, and how the client pays.

Cash (the amount handed over; the change is shown as it is typed), card (on the clinic's own terminal: the
app records the amount, never card details) or split (several payments, e.g. £100 by card and the rest in
cash). When the basket comes from an appointment whose deposit was paid by link, the deposit is offered
(ticked) as the first tender and only the rest is due. An empty amount means "exactly what is due". Amounts
are read by the sale itself (``services.checkout.complete_sale``), which says in a sentence what is wrong
with one; this panel only parses them to show the change or what is still due while staff type.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.domain.money import Money, sum_money
from aestheticc_pos.domain.pricing import Quote
from aestheticc_pos.services.deposits import DepositView
from aestheticc_pos.services.pricing import Payment
from aestheticc_pos.ui import format as fmt

_STYLE = """
QLabel#checkoutTotal { font-size: 40px; font-weight: 700; color: #3d3550; }
QLabel#changeDue { font-size: 20px; font-weight: 600; color: #2f6b3a; }
QLabel#muted { color: #6b6478; }
QPushButton#tender { padding: 8px 0px; }
QPushButton#tender:checked { background: #5b4b8a; color: #ffffff; border: none; font-weight: 600; }
QPushButton#primary { font-size: 17px; padding: 14px; }
QPushButton#primary:disabled { background: #c9c1dd; color: #f7f5f2; }
"""


class TenderMode(enum.Enum):
    CASH = "Ca&sh"
    CARD = "Car&d"
    SPLIT = "S&plit"


_AMOUNT_LABELS = {
    TenderMode.CASH: "Cash handed over",
    TenderMode.CARD: "Amount on the card terminal",
    TenderMode.SPLIT: "Next payment",
}
_SPLIT_KINDS = (TenderKind.CARD, TenderKind.CASH)
_KIND_NAMES = {TenderKind.CARD: "Card", TenderKind.CASH: "Cash"}


class PaymentPanel(QFrame):
    """Totals and tenders. Emits ``take_payment`` for the button, Enter in the amount (cash or card mode),
    and the checkout's Ctrl+Enter; ``send_link`` and ``invoice`` for the other ways to be paid."""

    take_payment = Signal()
    send_link = Signal()
    invoice = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("card")
        self.setStyleSheet(_STYLE)
        self.setFixedWidth(360)
        self._quote: Quote | None = None
        self._added: list[Payment] = []
        self._pricing = False
        self._paying = False
        self.mode = TenderMode.CASH
        self.deposit: DepositView | None = None  # a paid deposit of the basket's appointment

        box = QVBoxLayout(self)
        box.setContentsMargins(22, 18, 22, 18)
        box.setSpacing(8)
        caption = QLabel("Total to pay")
        caption.setObjectName("muted")
        self.total = QLabel(fmt.money(Money.zero()))
        self.total.setObjectName("checkoutTotal")
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        box.addWidget(caption)
        box.addWidget(self.total)
        figures = QGridLayout()
        self.subtotal, self.discounts, self.vat = QLabel(), QLabel(), QLabel()
        for row, (text, value) in enumerate(
            (("Subtotal", self.subtotal), ("Discounts", self.discounts), ("VAT included", self.vat))
        ):
            label = QLabel(text)
            label.setObjectName("muted")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            figures.addWidget(label, row, 0)
            figures.addWidget(value, row, 1)
        box.addLayout(figures)
        self.use_deposit = QCheckBox("")
        self.use_deposit.setChecked(True)
        self.use_deposit.setToolTip("Take the deposit the client paid when booking off what they pay now")
        self.use_deposit.toggled.connect(lambda _on: self._update_hint())
        self.use_deposit.hide()
        box.addWidget(self.use_deposit)
        box.addWidget(_rule())

        heading = QLabel("Payment")
        heading.setObjectName("heading")
        box.addWidget(heading)
        modes = QHBoxLayout()
        self.mode_buttons: dict[TenderMode, QPushButton] = {}
        group = QButtonGroup(self)
        group.setExclusive(True)
        for mode in TenderMode:
            button = QPushButton(mode.value)
            button.setObjectName("tender")
            button.setCheckable(True)
            button.clicked.connect(lambda _=False, m=mode: self.set_mode(m))
            group.addButton(button)
            modes.addWidget(button)
            self.mode_buttons[mode] = button
        box.addLayout(modes)

        self.amount_label = QLabel()
        box.addWidget(self.amount_label)
        entry = QHBoxLayout()
        self.split_kind = QComboBox()
        for kind in _SPLIT_KINDS:
            self.split_kind.addItem(_KIND_NAMES[kind])
        self.split_kind.currentIndexChanged.connect(lambda _i: self._update_hint())
        self.amount = QLineEdit()
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.amount.textChanged.connect(lambda _t: self._update_hint())
        self.amount.returnPressed.connect(self._amount_entered)
        self.amount_label.setBuddy(self.amount)
        self.add_button = QPushButton("Add")
        self.add_button.setToolTip("Add this payment and type the next one (Enter)")
        self.add_button.clicked.connect(self.add_split_payment)
        entry.addWidget(self.split_kind)
        entry.addWidget(self.amount, 1)
        entry.addWidget(self.add_button)
        box.addLayout(entry)
        self.split_list = QListWidget()
        self.split_list.setMaximumHeight(84)
        self.split_list.setToolTip("Delete removes the selected payment")
        self.split_list.itemActivated.connect(lambda _item: self._remove_split(self.split_list.currentRow()))
        box.addWidget(self.split_list)

        self.hint = QLabel("")
        self.hint.setObjectName("changeDue")
        self.hint.setWordWrap(True)
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        box.addWidget(self.hint)
        box.addWidget(self.error)
        self.error.hide()
        box.addStretch(1)
        self.pay_button = QPushButton("Take payment")
        self.pay_button.setObjectName("primary")
        self.pay_button.setToolTip("Complete the sale and show the receipt (Ctrl+Enter)")
        self.pay_button.clicked.connect(self.take_payment)
        box.addWidget(self.pay_button)
        shortcut_hint = QLabel("Ctrl+Enter")
        shortcut_hint.setObjectName("muted")
        shortcut_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(shortcut_hint)
        others = QHBoxLayout()
        self.link_button = QPushButton("Payment &link")
        self.link_button.setToolTip(
            "Send a payment link: the client pays this basket later by bank, from a QR code or a link (Alt+L)"
        )
        self.link_button.clicked.connect(self.send_link)
        self.invoice_button = QPushButton("&Invoice")
        self.invoice_button.setToolTip("Invoice this basket: issue an invoice to the client (Alt+I)")
        self.invoice_button.clicked.connect(self.invoice)
        others.addWidget(self.link_button)
        others.addWidget(self.invoice_button)
        box.addLayout(others)
        self.set_mode(TenderMode.CASH, focus=False)
        self.show_quote(None)

    # --- what the checkout view calls -----------------------------------------------------------------------

    def show_quote(self, quote: Quote | None) -> None:
        """Show the totals of the basket as priced (None: an empty basket)."""
        self._quote = quote
        self._pricing = False
        zero = Money.zero(quote.currency if quote else "GBP")
        self.total.setText(fmt.money(quote.net if quote else zero))
        self.subtotal.setText(fmt.money(quote.gross if quote else zero))
        self.discounts.setText(fmt.money(-quote.discount) if quote and quote.discount else fmt.money(zero))
        self.vat.setText(fmt.money(quote.vat if quote else zero))
        self._update_hint()
        self._update_button()

    def set_pricing(self, pricing: bool) -> None:
        """While a new quote is on its way, the total on screen is not the one to pay."""
        self._pricing = pricing
        self._update_button()

    def set_deposit(self, deposit: DepositView | None) -> None:
        """Offer a paid deposit as the first tender (ticked); None takes it away."""
        self.deposit = deposit
        self.use_deposit.setVisible(deposit is not None)
        if deposit is not None:
            self.use_deposit.setText(f"Deposit paid {fmt.money(deposit.amount)}: take it off")
            self.use_deposit.setChecked(True)
        self._update_hint()

    def deposit_credit(self) -> Money:
        """What the deposit takes off the total (nothing when there is none or it is unticked)."""
        currency = self._quote.currency if self._quote else "GBP"
        if self.deposit is None or not self.use_deposit.isChecked():
            return Money.zero(currency)
        return self.deposit.amount

    def set_paying(self, paying: bool) -> None:
        self._paying = paying
        self.pay_button.setText("Taking payment…" if paying else "Take payment")
        self._update_button()

    @property
    def busy(self) -> bool:
        return self._pricing or self._paying

    def show_error(self, sentence: str) -> None:
        self.error.setText(sentence)
        self.error.setVisible(bool(sentence))

    def reset(self) -> None:
        self._added.clear()
        self.split_list.clear()
        self.amount.clear()
        self.show_error("")
        self.set_deposit(None)
        self.set_mode(TenderMode.CASH, focus=False)

    def set_mode(self, mode: TenderMode, *, focus: bool = True) -> None:
        self.mode = mode
        self.mode_buttons[mode].setChecked(True)
        split = mode is TenderMode.SPLIT
        for widget in (self.split_kind, self.add_button, self.split_list):
            widget.setVisible(split)
        self.amount_label.setText(_AMOUNT_LABELS[mode])
        self._update_hint()
        if focus:
            self.amount.setFocus()
            self.amount.selectAll()

    def payments(self) -> list[Payment]:
        """The tenders as typed, after the deposit if it is used; an empty amount is exactly what is due
        (in split mode: the rest)."""
        credit = self.deposit_credit()
        deposit = (
            [Payment(TenderKind.DEPOSIT, credit, self.deposit.id)] if credit.pence and self.deposit else []
        )
        typed = self.amount.text().strip()
        if self.mode is TenderMode.SPLIT:
            kind = self.split_kind_chosen()
            rest = self._due() - self._added_total()
            pending = [Payment(kind, typed)] if typed else ([Payment(kind, rest)] if rest.pence > 0 else [])
            return [*deposit, *self._added, *pending]
        kind = TenderKind.CASH if self.mode is TenderMode.CASH else TenderKind.CARD
        if typed:
            return [*deposit, Payment(kind, typed)]
        due = self._due()
        return [*deposit, Payment(kind, due)] if due.pence > 0 else deposit

    def add_split_payment(self) -> None:
        """Add the amount typed as one payment of the split, and clear the field for the next."""
        typed = self.amount.text().strip()
        if not typed:
            return
        try:
            amount = Money.parse(typed, self._due().currency)
        except InvalidInput as error:
            self.show_error(str(error))
            return
        if amount.pence <= 0:
            self.show_error("A payment must be more than zero.")
            return
        kind = self.split_kind_chosen()
        self._added.append(Payment(kind, amount))
        self.split_list.addItem(QListWidgetItem(f"{_KIND_NAMES[kind]}   {fmt.money(amount)}"))
        self.amount.clear()
        self.show_error("")
        self._update_hint()

    def split_kind_chosen(self) -> TenderKind:
        """How the next payment of a split is made (a combo box's item data would come back as a plain str)."""
        return _SPLIT_KINDS[max(0, self.split_kind.currentIndex())]

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key() == Qt.Key.Key_Delete and self.split_list.hasFocus():
            self._remove_split(self.split_list.currentRow())
            return
        super().keyPressEvent(event)

    # --- helpers --------------------------------------------------------------------------------------------

    def _amount_entered(self) -> None:
        if self.mode is TenderMode.SPLIT and self.amount.text().strip():
            self.add_split_payment()
        else:
            self.take_payment.emit()

    def _remove_split(self, row: int) -> None:
        if 0 <= row < len(self._added):
            del self._added[row]
            self.split_list.takeItem(row)
            self._update_hint()

    def _due(self) -> Money:
        """What is still to pay once the deposit (if used) is taken off."""
        if self._quote is None:
            return Money.zero()
        return (self._quote.net - self.deposit_credit()).max(Money.zero(self._quote.currency))

    def _added_total(self) -> Money:
        due = self._due()
        return sum_money([p.amount for p in self._added if isinstance(p.amount, Money)], due.currency)

    def _typed(self) -> Money | None:
        """The amount in the field, or None when it is empty or not an amount (the sale will say why)."""
        typed = self.amount.text().strip()
        if not typed:
            return None
        try:
            return Money.parse(typed, self._due().currency)
        except InvalidInput:
            return None

    def _update_hint(self) -> None:
        due = self._due()
        rest = due - self._added_total()
        self.amount.setPlaceholderText(f"{fmt.money(rest.max(Money.zero(due.currency)))} (exact)")
        if self._quote is None:
            self.hint.setText("")
            return
        if due.pence == 0:
            self.hint.setText("Nothing more to pay." if self.deposit_credit().pence else "Nothing to pay.")
            return
        typed = self._typed()
        if self.mode is TenderMode.CARD:
            self.hint.setText(f"Take {fmt.money(typed or due)} on the card terminal.")
            return
        if self.mode is TenderMode.CASH:
            if typed is None:
                self.hint.setText("")
            elif typed >= due:
                self.hint.setText(f"Change due {fmt.money(typed - due)}")
            else:
                self.hint.setText(f"{fmt.money(due - typed)} still due")
            return
        paid = self._added_total() + (typed or Money.zero(due.currency))
        if paid > due and self.split_kind_chosen() is TenderKind.CASH:
            self.hint.setText(f"Change due {fmt.money(paid - due)}")
        elif paid >= due:
            self.hint.setText("Paid in full.")
        else:
            self.hint.setText(f"{fmt.money(due - paid)} still due")

    def _update_button(self) -> None:
        ready = self._quote is not None and not self._pricing and not self._paying
        for button in (self.pay_button, self.link_button, self.invoice_button):
            button.setEnabled(ready)


def _rule() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setStyleSheet("color: #e4dfd8;")
    return line
