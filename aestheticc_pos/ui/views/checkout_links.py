"""Checkout's other ways to be paid: send the basket as a payment link, or invoice it.

``BasketDocuments`` checks what the receptionist asked (a client chosen, a priced basket, no package session
on it: a link or an invoice bills money, sessions are used at the desk) and calls the services off the GUI
thread with the total on screen as ``expected_total``. "Invoice" issues the invoice at once, in one transaction
(``invoices.invoice_basket``: a refusal or a crash leaves no draft behind); it then waits on the Payments screen (F9) to
be printed, saved as a PDF, paid at the desk or by link. Either way the basket is cleared (``billed``: checkout
starts a new sale) and the message bar says what happened; a refusal is the service's sentence under the
payment panel and the basket stays as it was. It reads the basket through the ``shown`` callable checkout
gives it (a ``ShownBasket``), so it needs nothing else of the screen.

``SentLinkCard`` takes the payment panel's place while the client scans the link: its QR code and "Copy link"
once the sync has made it ("being prepared" until then; it looks again when the sync reports and every few
seconds meanwhile).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout

from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.payment_links import STATUS_WORDS
from aestheticc_pos.domain.pricing import Quote
from aestheticc_pos.services import invoices as invoices_service
from aestheticc_pos.services import payment_links
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.invoice_records import InvoiceDetail
from aestheticc_pos.services.payment_links import PaymentLinkView
from aestheticc_pos.services.pricing import BasketItem
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.dialogs.send_to_client import EmailButton
from aestheticc_pos.ui.topics import PAYMENTS, SYNC
from aestheticc_pos.ui.views.checkout_payment import PaymentPanel
from aestheticc_pos.ui.views.payments_panels import BEING_PREPARED, SCAN_TO_PAY, link_email
from aestheticc_pos.ui.widgets.qr import LinkPanel

LOOK_AGAIN_MS = 4000
_CARD_STYLE = """
QLabel#checkoutTotal { font-size: 34px; font-weight: 700; color: #3d3550; }
QLabel#muted { color: #6b6478; }
QLabel#caption { color: #6b6478; font-size: 12px; }
"""
NO_CLIENT = "Choose the client first (Alt+F): a payment link or an invoice goes to a client."
USES_PACKAGE = (
    "A payment link or an invoice bills money, so it cannot use a package session. Untick “Use package” on "
    "the line (Space), or take payment here."
)


@dataclass(frozen=True, slots=True)
class ShownBasket:
    """The basket as checkout shows it: the quote on screen, the items it priced, and the client chosen."""

    quote: Quote | None
    items: tuple[BasketItem, ...]
    client_id: str | None


class BasketDocuments(QObject):
    """Turns the checkout's basket into a payment link or an issued invoice (module docstring)."""

    link_sent = Signal(object)  # PaymentLinkView
    billed = Signal()  # the basket went out as a link or an invoice: checkout starts a new sale

    def __init__(
        self, desk: Desk, payment: PaymentPanel, shown: Callable[[], ShownBasket], parent: QObject
    ) -> None:
        super().__init__(parent)
        self.desk = desk
        self.payment = payment
        self.shown = shown

    def send_link(self) -> None:
        checked = self._checked()
        if checked is None:
            return
        services, client_id, items, staff_id, total = checked

        def done(link: PaymentLinkView) -> None:
            self._finished()
            self.desk.message.emit(
                f"A payment link of {fmt.money(link.amount)} for {link.client_name} is being prepared; the "
                "basket is cleared. The client scans the QR code beside the basket once it shows, or you "
                "copy the link to them; the sale is recorded when they pay."
            )
            self.link_sent.emit(link)

        self._run(
            lambda: payment_links.create_basket_link(
                services, client_id=client_id, items=items, staff_id=staff_id, expected_total=total
            ),
            done,
        )

    def invoice(self) -> None:
        checked = self._checked()
        if checked is None:
            return
        services, client_id, items, staff_id, total = checked

        def done(invoice: InvoiceDetail) -> None:
            self._finished()
            self.desk.message.emit(
                f"Invoice {invoice.number} issued to {invoice.client_name}: {fmt.money(invoice.net)}, due "
                f"{fmt.date(invoice.due_on)}. The basket is cleared; print the invoice, save its PDF or take "
                "payment for it on the Payments screen (F9)."
            )

        self._run(
            lambda: invoices_service.invoice_basket(
                services, client_id=client_id, items=items, staff_id=staff_id, expected_total=total
            ),
            done,
        )

    # --- helpers --------------------------------------------------------------------------------------------

    def _checked(self) -> tuple[Services, str, list[BasketItem], str, Money] | None:
        basket = self.shown()
        quote = basket.quote
        refusal = ""
        if quote is None or not basket.items:
            refusal = "The basket is empty. Add what the client is paying for first."
        elif self.payment.busy:
            refusal = "The prices are being updated. Check the total, then try again."
        elif self.desk.staff is None:
            refusal = "Sign in first."
        elif basket.client_id is None:
            refusal = NO_CLIENT
        elif quote.package_credits_used:
            refusal = USES_PACKAGE
        if refusal:
            self.payment.show_error(refusal)
            return None
        assert quote is not None and basket.client_id is not None
        self.payment.show_error("")
        return self.desk.services, basket.client_id, list(basket.items), self.desk.staff_id, quote.net

    def _run(self, work: Callable[[], object], done: Callable) -> None:  # type: ignore[type-arg]
        self.payment.set_paying(True)

        def failed(sentence: str) -> None:
            self.payment.set_paying(False)
            self.payment.show_error(sentence)

        self.desk.run(work, done, failed)

    def _finished(self) -> None:
        self.payment.set_paying(False)
        self.billed.emit()


class SentLinkCard(QFrame):
    """The link just sent, for the client to scan; "Next sale" (Enter) goes back to the payment panel."""

    done = Signal()

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.link: PaymentLinkView | None = None
        self.setObjectName("card")
        self.setFixedWidth(360)
        self.setStyleSheet(_CARD_STYLE)
        box = QVBoxLayout(self)
        box.setContentsMargins(22, 18, 22, 18)
        box.setSpacing(10)
        self.heading = QLabel("")
        self.heading.setObjectName("heading")
        self.heading.setWordWrap(True)
        self.amount = QLabel("")
        self.amount.setObjectName("checkoutTotal")
        self.what = QLabel("")
        self.what.setObjectName("muted")
        self.what.setWordWrap(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.panel = LinkPanel(SCAN_TO_PAY, size=170)
        self.email_link = EmailButton("Email the &link…", desk)
        self.panel.add_button(self.email_link)
        for widget in (self.heading, self.amount, self.what, self.status, self.panel):
            box.addWidget(widget)
        box.addStretch(1)
        self.next_button = QPushButton("Next sale")
        self.next_button.setObjectName("primary")
        self.next_button.setDefault(True)
        self.next_button.setToolTip("Back to checkout for the next client (the link stays on Payments, F9)")
        self.next_button.clicked.connect(self.done)
        box.addWidget(self.next_button)
        self._timer = QTimer(self)
        self._timer.setInterval(LOOK_AGAIN_MS)
        self._timer.timeout.connect(self.reload)
        desk.changed.connect(self._on_changed)

    def show_link(self, link: PaymentLinkView) -> None:
        self.link = link
        self.heading.setText(f"Payment link for {link.client_name}")
        self.amount.setText(fmt.money(link.amount))
        self.what.setText(link.description)
        self.status.setText(_status_sentence(link))
        waiting = link.status in ("preparing", "open")
        self.panel.setVisible(waiting)
        if waiting:
            self.panel.set_link(link.authorisation_url, missing=BEING_PREPARED)
        self.email_link.set_target(link_email(link) if waiting else None, client_id=link.client_id)
        if link.status == "preparing":
            self._timer.start()
        else:
            self._timer.stop()

    def stop(self) -> None:
        self._timer.stop()
        self.link = None

    def reload(self) -> None:
        if self.link is None:
            return
        services, link_id = self.desk.services, self.link.id

        def show(link: PaymentLinkView) -> None:
            if self.link is not None and self.link.id == link.id:
                self.show_link(link)

        self.desk.run(lambda: payment_links.link_view(services, link_id), show, lambda _sentence: None)

    def _on_changed(self, what: frozenset[str]) -> None:
        if what & {SYNC, PAYMENTS}:
            self.reload()


def _status_sentence(link: PaymentLinkView) -> str:
    """The link's state, with what it means for the receptionist once it is no longer waiting."""
    words = STATUS_WORDS.get(link.status, link.status)
    after = {
        "authorised": "The client approved it in their bank; the sale is recorded when GoCardless confirms it.",
        "paid": f"The sale is recorded in {link.client_name}'s history.",
        "cancelled": "It no longer works; send it again from Payments (F9) if the client still wants to pay.",
        "expired": "It lapsed unused; send it again from Payments (F9).",
        "failed": "The bank refused the payment; send the link again from Payments (F9).",
    }.get(link.status)
    return f"{words}. {after}" if after else words
