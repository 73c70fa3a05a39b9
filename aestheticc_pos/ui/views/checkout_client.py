"""Who checkout sells to: find the client as you type (Alt+F) or sell to a walk-in (Alt+W). The card under the
search says who they are and what lowers their prices (their membership, their packages' sessions left).

``client`` is the client chosen (a ``ClientCard``; None: a walk-in). ``changed`` fires when the sale is now
for someone else (the basket is priced again for them); ``picked`` when the receptionist has chosen, so
checkout moves on to the items; ``failed`` carries a service's refusal. Service calls run through
``Desk.run``; a search overtaken by the next key before it started never runs, and an answer to an older search
or an older choice is dropped.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services.clients import ClientSummary
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.models.clients import phone_text
from aestheticc_pos.ui.views.checkout_basket import labelled
from aestheticc_pos.ui.views.checkout_search import MAX_MATCHES, ClientCard, Finder, load_client_card

SEARCH_DELAY_MS = 150


class ClientChooser(QWidget):
    """The client search, "Walk-in" and the client's card. The matches float over ``host`` (the screen)."""

    changed = Signal(object)  # ClientCard | None: the sale is for another client now
    picked = Signal()  # the receptionist chose a client or a walk-in
    failed = Signal(str)

    def __init__(self, desk: Desk, host: QWidget) -> None:
        super().__init__()
        self.desk = desk
        self.client: ClientCard | None = None
        self._search_seq = 0
        self._card_seq = 0
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(10)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Name, phone or email")
        self.search.setClearButtonEnabled(True)
        self.walk_in_button = QPushButton("&Walk-in")
        self.walk_in_button.setToolTip("Sell to someone who is not a client (Alt+W)")
        self.walk_in_button.clicked.connect(self.walk_in)
        column.addLayout(labelled("&Find client", self.search, self.walk_in_button))
        self.card = QLabel("")
        self.card.setObjectName("clientCard")
        self.card.setWordWrap(True)
        column.addWidget(self.card)

        self.finder = Finder(self.search, host, columns=3)
        self.finder.picked.connect(self._pick)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self._search)
        self.search.textEdited.connect(lambda _text: self._timer.start())
        self.show_client(None)

    def load(self, client_id: str) -> None:
        """Sell to ``client_id`` from now on; their card (membership, packages) shows once loaded."""
        services = self.desk.services
        self._card_seq += 1
        seq = self._card_seq
        if self.client is None or self.client.id != client_id:
            self.show_client(ClientCard(client_id, "…", "", ""))  # price for this client from now on

        def show(card: ClientCard) -> None:
            if seq == self._card_seq:
                self.show_client(card)

        self.desk.run(lambda: load_client_card(services, client_id), show, self.failed.emit)

    def show_client(self, card: ClientCard | None) -> None:
        changed = (card.id if card else None) != (self.client.id if self.client else None)
        self.client = card
        if card is None:
            self.card.setText("Walk-in: no client chosen.")
        else:
            details = "  ·  ".join(part for part in (card.membership, card.packages) if part)
            self.card.setText(f"<b>{escape(card.name)}</b>" + (f"  ·  {escape(details)}" if details else ""))
        if changed:
            self.changed.emit(card)

    def walk_in(self) -> None:
        self.search.clear()
        self.finder.show_rows([])
        self.show_client(None)
        self.picked.emit()

    def _search(self) -> None:
        typed = self.search.text().strip()
        self._search_seq += 1
        seq = self._search_seq
        if not typed:
            self.finder.show_rows([])
            return
        services = self.desk.services

        def show(found: list[ClientSummary]) -> None:
            if seq == self._search_seq and self.search.text().strip() == typed:
                rows = [(c, (c.full_name, phone_text(c.phone), c.email or "")) for c in found]
                self.finder.show_rows(rows, empty=f"No client matches “{typed}”.")

        def work() -> list[ClientSummary]:
            if seq != self._search_seq:
                return []  # another key came before this search started: it never runs (show drops it)
            return clients_service.search_clients(services, typed, limit=MAX_MATCHES)

        self.desk.run(work, show, self.failed.emit)

    def _pick(self, client: ClientSummary) -> None:
        self.search.clear()
        self.show_client(ClientCard(client.id, client.full_name, "", ""))
        self.load(client.id)
        self.picked.emit()
