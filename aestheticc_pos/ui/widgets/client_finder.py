"""The booking dialog's client field: matches in a short table under the search box as the receptionist types.
The search runs through ``Desk.run``; only the answer to the latest text is shown."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services.clients import ClientSummary
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.models.appointments import ClientMatchesModel
from aestheticc_pos.ui.widgets.package_progress import set_tone

SEARCH_DELAY_MS = 180
MATCHES = 20
VISIBLE_MATCHES = 6
ROW_HEIGHT = 28


class ClientFinder(QWidget):
    """Find a client as you type (name, phone or email) and pick one with ↓/↑ and Enter, or a click.

    ``chosen(ClientSummary)`` once picked (the search then shows the name); ``cleared()`` when the receptionist
    types again. Enter in the search field is kept while it picks a client, and passed on once one is chosen.
    """

    chosen = Signal(object)
    cleared = Signal()
    grew = Signal()  # matches or a note appeared: the window may need more room
    failed = Signal(str)

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.client: ClientSummary | None = None
        self._token = 0
        self._matches_for: str | None = None  # the text the shown matches were found for
        self._pick_single = False  # Enter came before the matches: pick the match if it is the only one
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Type a name, phone number or email")
        self.search.setClearButtonEnabled(True)
        self.search.textEdited.connect(self._typed)
        self.search.installEventFilter(self)
        self.matches = ClientMatchesModel(self)
        self.results = self._results_table()
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.hide()
        column.addWidget(self.search)
        column.addWidget(self.results)
        column.addWidget(self.note)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self._search)

    def _results_table(self) -> QTableView:
        table = QTableView()
        table.setModel(self.matches)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.setStyleSheet("QTableView::item { padding: 0px 6px; }")
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.clicked.connect(lambda index: self.pick(index.row()))
        table.installEventFilter(self)
        table.hide()
        return table

    def pick(self, row: int | None = None) -> bool:
        """Choose the client on ``row`` of the matches (the highlighted one by default)."""
        if row is None:
            current = self.results.currentIndex()
            row = current.row() if current.isValid() else 0
        client = self.matches.client(row)
        if client is None:
            return False
        self.choose(client)
        return True

    def choose(self, client: ClientSummary) -> None:
        self.client = client
        self._token += 1  # a search still running must not reopen the list
        self._timer.stop()
        self.search.setText(client.full_name)
        self.results.hide()
        details = [client.phone] if client.phone else []
        if client.date_of_birth is not None:
            details.append(f"born {fmt.date(client.date_of_birth)}")
        self.note.setText(f"✓  {client.full_name}" + (f"  ·  {'  ·  '.join(details)}" if details else ""))
        set_tone(self.note, "ok")
        self.note.show()
        self.chosen.emit(client)

    def _typed(self, _text: str) -> None:
        if self.client is not None:
            self.client = None
            self.cleared.emit()
        self._timer.start()

    def _search(self) -> None:
        typed = self.search.text().strip()
        self._token += 1
        token = self._token
        if not typed:
            self.matches.set_matches([])
            self._matches_for = None
            self.results.hide()
            self.note.hide()
            return
        services = self.desk.services

        def done(found: list[ClientSummary]) -> None:
            if token == self._token and self.client is None:
                self._show_matches(typed, found)

        self.desk.run(
            lambda: clients_service.search_clients(services, typed, limit=MATCHES), done, self.failed.emit
        )

    def _show_matches(self, typed: str, found: list[ClientSummary]) -> None:
        self.matches.set_matches(found)
        self._matches_for = typed
        if self._pick_single and len(found) == 1:
            self._pick_single = False
            self.pick(0)
            return
        self._pick_single = False
        header = self.results.horizontalHeader().sizeHint().height()
        self.results.setFixedHeight(min(len(found), VISIBLE_MATCHES) * ROW_HEIGHT + header + 4)
        self.results.setVisible(bool(found))
        if found:
            self.results.selectRow(0)
            self.note.setText("↓ and Enter to choose" if len(found) > 1 else "Enter to choose")
        else:
            self.note.setText(
                f"No client matches “{typed}”. Check the spelling, or add them on the Clients screen first."
            )
        set_tone(self.note, "muted")
        self.note.show()
        self.grew.emit()

    def _enter_in_search(self) -> bool:
        """Enter in the search field: pick the highlighted match (True), or let it through (False)."""
        typed = self.search.text().strip()
        if self.client is not None or not typed:
            return False
        if self._matches_for != typed:  # typed faster than the search: pick once it answers
            self._pick_single = True
            self._timer.stop()
            self._search()
            return True
        return self.pick()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress:
            return super().eventFilter(watched, event)
        key = event.key()  # type: ignore[attr-defined]
        enter = key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if watched is self.results and enter:
            self.pick()
            return True
        if watched is self.search and enter:
            return self._enter_in_search()
        if watched is self.search and key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.results.isVisible():
            row = self.results.currentIndex().row() + (1 if key == Qt.Key.Key_Down else -1)
            self.results.selectRow(max(0, min(row, self.matches.rowCount() - 1)))
            return True
        return super().eventFilter(watched, event)
