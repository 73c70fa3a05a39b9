"""Clients: search as you type by name, phone or email over the whole client base, add a client, open a record.

The screen is a stack of two pages: the list, and the client record (``ClientRecordView``) with a
"Back to clients" button (Esc). Opening a client (Enter or double-click) shows the record here and also
emits ``desk.open_client`` so the rest of the desk knows; ``show_client(id)`` is how others open one here.

Searching: typing restarts a 150 ms timer; when it fires, ``search_client_page`` runs on the desk's thread pool
and returns the first page of rows (a keyset page of an index, whatever the size of the client base); the model
asks for the next page only when the list is scrolled near its end. The count comes after, separately and
capped at ``COUNT_UP_TO``. Every search is numbered: a search that has not started when the next key arrives
never runs, and an answer older than the one on screen is dropped, so a slow search never overwrites a newer one.
The filters (a membership tier, a package) narrow every search; typing a tier's name ("gold") finds its members.

Keys: Ctrl+F search, Down from the search to the list, Enter opens, Ctrl+N new client, Esc back to the list.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.clients import Client
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services.context import Services
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.dialogs.client_form import ClientFormDialog
from aestheticc_pos.ui.models.clients import (
    BIRTH,
    EMAIL,
    MEMBERSHIP,
    NAME,
    PACKAGES,
    PHONE,
    ClientListModel,
    MoreLoader,
)
from aestheticc_pos.ui.topics import CATALOGUE, CLIENTS
from aestheticc_pos.ui.views.client_record import ClientRecordView

SEARCH_DELAY_MS = 150
COUNT_UP_TO = clients_service.COUNT_UP_TO  # a search counts its matches no further than this


class ClientsView(QWidget):
    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.form: ClientFormDialog | None = None
        self._issued = 0  # number of the newest search sent
        self._shown = 0  # number of the search on screen
        self._open_when_found = False  # Enter pressed before the typed search came back
        self._select_after_search: str | None = None
        self._shown_text: str | None = None
        self._filters_loaded = False

        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_list_page())
        self.pages.addWidget(self._build_record_page())
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.pages)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self._search_now)
        self.search.textChanged.connect(lambda _text: self._timer.start())
        self.search.returnPressed.connect(self._enter_in_search)
        self.search.installEventFilter(self)
        self.table.activated.connect(lambda index: self.open_row(index.row()))
        self.new_button.clicked.connect(self.new_client)
        desk.staff_changed.connect(lambda _member: self._apply_role())
        self._apply_role()
        self.back_button.clicked.connect(self.show_list)
        self.model.load_failed.connect(desk.message)
        QWidget.setTabOrder(self.search, self.table)
        QWidget.setTabOrder(self.table, self.new_button)
        desk.changed.connect(self._on_changed)
        for keys, slot in (("Ctrl+F", self.focus_search), ("Ctrl+N", self.new_client)):
            shortcut = QShortcut(QKeySequence(keys), self, activated=slot)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        back = QShortcut(QKeySequence(Qt.Key.Key_Escape), self.record_page, activated=self.show_list)
        back.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    # --- what the main window and other screens use ----------------------------------------------------------

    def refresh(self) -> None:
        """Run the search again now (keeping the selection), reload the record if one is open."""
        self._timer.stop()
        self._search_now()
        if not self._filters_loaded:
            self._load_filters()
        if self.pages.currentWidget() is self.record_page:
            self.record.refresh()
        else:
            self.focus_search()

    def show_client(self, client_id: str) -> None:
        """Show this client's record inside the Clients screen (does not emit ``desk.open_client``).

        Showing the client already on screen does nothing: the record reloads itself when the desk changes.
        """
        if self.pages.currentWidget() is self.record_page and self.record.client_id == client_id:
            return
        self.record.show_client(client_id)
        self.pages.setCurrentWidget(self.record_page)
        self.record.tabs.setFocus()  # arrows move between the tabs; Esc goes back, Ctrl+E edits

    def show_list(self) -> None:
        self.pages.setCurrentWidget(self.list_page)
        self.focus_search()

    def focus_search(self) -> None:
        if self.pages.currentWidget() is not self.list_page:
            self.pages.setCurrentWidget(self.list_page)
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def open_row(self, row: int) -> None:
        """Open the client on ``row``: the record here, and ``desk.open_client`` for the rest of the desk."""
        if not 0 <= row < self.model.rowCount():
            return
        client_id = self.model.client_id(row)
        self.table.selectRow(row)
        if self.pages.currentWidget() is self.record_page and self.record.client_id == client_id:
            return  # a double-click on a single-click-activation desktop: already open
        self.show_client(client_id)
        self.desk.open_client.emit(client_id)

    def _apply_role(self) -> None:
        """Adding clients is the front desk's; a practitioner looks clients up."""
        self.new_button.setVisible(self.desk.may(Action.EDIT_CLIENTS))

    def new_client(self) -> None:
        if not self.desk.may(Action.EDIT_CLIENTS):
            return
        self.form = ClientFormDialog(self.desk, parent=self)
        self.form.saved.connect(self._client_added)
        self.form.open()

    @property
    def searched_text(self) -> str | None:
        """The search whose results the list shows (None before the first one came back)."""
        return self._shown_text

    @property
    def current_client_id(self) -> str | None:
        index = self.table.currentIndex()
        return self.model.client_id(index.row()) if index.isValid() else None

    # --- searching -----------------------------------------------------------------------------------------

    def _search_now(self) -> None:
        self._timer.stop()
        text = self.search.text()
        filters = self.filters()
        self._issued += 1
        number, services = self._issued, self.desk.services

        def work() -> clients_service.ClientPage | None:
            if number != self._issued:
                return None  # the next key arrived before this search started: it never runs
            return clients_service.search_client_page(services, text, filters=filters)

        self.desk.run(
            work,
            lambda page: self._show_found(number, text, filters, page),
            lambda message: self._search_failed(number, message),
        )

    def filters(self) -> clients_service.ClientFilter:
        """The filters chosen above the list (none: every client)."""
        return clients_service.ClientFilter(
            tier_id=self.tier_filter.currentData(), package_id=self.package_filter.currentData()
        )

    def _show_found(
        self,
        number: int,
        text: str,
        filters: clients_service.ClientFilter,
        page: clients_service.ClientPage | None,
    ) -> None:
        if not shiboken6.isValid(self) or page is None or number <= self._shown:
            return  # the screen is gone, or a newer search is already on screen
        self._shown = number
        # The same search again (a refresh) keeps the selected client; a new one starts at the top match.
        keep = self._select_after_search or (self.current_client_id if text == self._shown_text else None)
        self._shown_text = text
        rows = list(page.rows)
        self.model.set_page(rows, _more(self.desk.services, text, filters, page.next))
        filtered = filters != clients_service.NO_FILTER
        if page.next is None:
            self._set_count(_count_text(text, filtered, len(rows)), "subtitle")
        else:
            self._set_count("Counting…", "subtitle")
            self._count(number, text, filters)
        row = self.model.row_of(keep) if keep else None
        if row is None and rows:
            row = 0
        if row is not None:
            self.table.setCurrentIndex(self.model.index(row, NAME))
            self.table.scrollTo(self.model.index(row, NAME), QAbstractItemView.ScrollHint.PositionAtCenter)
        if number == self._issued:
            self._select_after_search = None
            if self._open_when_found:
                self._open_when_found = False
                if rows:
                    self.open_row(row or 0)

    def _count(self, number: int, text: str, filters: clients_service.ClientFilter) -> None:
        """Count the matches after the first page is on screen, the whole list too, never further than
        ``COUNT_UP_TO`` ("more than 10,000"): a clinic group's million clients are not read to be counted."""
        services = self.desk.services
        filtered = filters != clients_service.NO_FILTER

        def work() -> int | None:
            if number != self._issued:
                return None  # a newer search is on its way: its own count follows it
            return clients_service.count_client_matches(services, text, filters=filters, up_to=COUNT_UP_TO)

        def done(found: int | None) -> None:
            if shiboken6.isValid(self) and found is not None and number == self._shown:
                self._set_count(_count_text(text, filtered, found), "subtitle")

        self.desk.run(work, done, lambda message: None)

    def _load_filters(self) -> None:
        services = self.desk.services
        self.desk.run(lambda: clients_service.client_filters(services), self._show_filters, lambda _m: None)

    def _show_filters(self, choices: clients_service.ClientFilters) -> None:
        if not shiboken6.isValid(self):
            return
        self._filters_loaded = True
        for combo, everyone, anyone, options in (
            (self.tier_filter, "Any membership", "Members (any tier)", choices.tiers),
            (self.package_filter, "Any package", "With an active package", choices.packages),
        ):
            chosen = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(everyone, None)
            combo.addItem(
                anyone, clients_service.ANY_TIER if combo is self.tier_filter else clients_service.ANY_PACKAGE
            )
            for option in options:
                combo.addItem(option.name, option.id)
            index = combo.findData(chosen)
            combo.setCurrentIndex(max(0, index))
            combo.blockSignals(False)

    def _search_failed(self, number: int, message: str) -> None:
        if not shiboken6.isValid(self) or number <= self._shown:
            return
        self._shown = number  # the list keeps the last results; the count line says what went wrong
        self._open_when_found = False
        self._set_count(message, "error")

    def _set_count(self, text: str, style: str) -> None:
        self.count.setText(text)
        if self.count.objectName() != style:
            self.count.setObjectName(style)
            self.count.style().unpolish(self.count)
            self.count.style().polish(self.count)

    def _enter_in_search(self) -> None:
        in_flight = self._shown != self._issued
        if self._timer.isActive() or in_flight or self._shown_text != self.search.text():
            self._open_when_found = True  # open the top match once what was typed has been searched
            if not in_flight or self._timer.isActive():
                self._search_now()
            return
        index = self.table.currentIndex()
        self.open_row(index.row() if index.isValid() else 0)

    def _client_added(self, client: Client) -> None:
        self._select_after_search = client.id
        self.search.setText(client.full_name)  # the new client, found and selected
        self._search_now()

    def _on_changed(self, what: frozenset[str]) -> None:
        if CATALOGUE in what:
            self._load_filters()
        if CLIENTS in what:
            self._search_now()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Down or Page Down in the search box moves to the list, so the mouse is never needed."""
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_PageDown) and self.model.rowCount():
                self.table.setFocus(Qt.FocusReason.TabFocusReason)
                if not self.table.currentIndex().isValid():
                    self.table.setCurrentIndex(self.model.index(0, NAME))
                elif self.table.currentIndex().row() + 1 < self.model.rowCount():
                    self.table.setCurrentIndex(self.model.index(self.table.currentIndex().row() + 1, NAME))
                return True
        return super().eventFilter(watched, event)

    # --- building ------------------------------------------------------------------------------------------

    def _build_list_page(self) -> QWidget:
        self.list_page = QWidget()
        column = QVBoxLayout(self.list_page)
        column.setContentsMargins(32, 24, 32, 24)
        column.setSpacing(12)
        top = QHBoxLayout()
        title = QLabel("Clients")
        title.setObjectName("title")
        top.addWidget(title)
        top.addStretch(1)
        self.new_button = QPushButton("New client")
        self.new_button.setObjectName("primary")
        self.new_button.setToolTip("Ctrl+N")
        top.addWidget(self.new_button)
        column.addLayout(top)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by name, phone or email  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumHeight(40)
        self.search.setStyleSheet("font-size: 16px; padding: 6px 10px;")
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        self.tier_filter, self.package_filter = QComboBox(), QComboBox()
        for combo, tip in (
            (self.tier_filter, "Only members of this tier"),
            (self.package_filter, "Only clients with this package active"),
        ):
            combo.addItem("Any membership" if combo is self.tier_filter else "Any package", None)
            combo.setMinimumHeight(40)
            combo.setMinimumWidth(190)
            combo.setToolTip(tip)
            combo.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            combo.currentIndexChanged.connect(lambda _i: self._search_now())
            filters.addWidget(combo)
        column.addLayout(filters)
        self.count = QLabel("")
        self.count.setObjectName("subtitle")
        column.addWidget(self.count)

        self.model = ClientListModel(self._load_rows, run=self.desk.run, parent=self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)
        self.table.setStyleSheet("QTableView::item { padding-left: 6px; }")
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # never sizes to rows
        self.table.verticalHeader().setDefaultSectionSize(36)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        # Fixed or stretched columns only: sizing to contents would fetch every row.
        for column_index, mode, width in (
            (NAME, QHeaderView.ResizeMode.Stretch, 0),
            (PHONE, QHeaderView.ResizeMode.Fixed, 140),
            (EMAIL, QHeaderView.ResizeMode.Stretch, 0),
            (BIRTH, QHeaderView.ResizeMode.Fixed, 120),
            (MEMBERSHIP, QHeaderView.ResizeMode.Fixed, 150),
            (PACKAGES, QHeaderView.ResizeMode.Stretch, 0),
        ):
            header.setSectionResizeMode(column_index, mode)
            if width:
                header.resizeSection(column_index, width)
        column.addWidget(self.table, 1)
        hint = QLabel("Enter opens the client  ·  Ctrl+N adds one  ·  Ctrl+F searches again")
        hint.setObjectName("subtitle")
        hint.setStyleSheet("font-size: 12px;")
        column.addWidget(hint)
        return self.list_page

    def _build_record_page(self) -> QWidget:
        self.record_page = QWidget()
        column = QVBoxLayout(self.record_page)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        bar = QHBoxLayout()
        bar.setContentsMargins(24, 12, 24, 0)
        self.back_button = QPushButton("← Back to clients")
        self.back_button.setObjectName("link")
        self.back_button.setToolTip("Esc")
        self.back_button.setCursor(Qt.CursorShape.PointingHandCursor)
        bar.addWidget(self.back_button)
        bar.addStretch(1)
        column.addLayout(bar)
        self.record = ClientRecordView(self.desk)
        column.addWidget(self.record, 1)
        return self.record_page

    def _load_rows(self, ids: list[str]) -> dict[str, clients_service.ClientSummary]:
        """The model's page loader; runs on the desk's thread pool (the model passes it to ``desk.run``)."""
        return clients_service.client_summaries(self.desk.services, ids)

    def showEvent(self, event: object) -> None:  # type: ignore[override]
        super().showEvent(event)  # type: ignore[arg-type]
        if self.pages.currentWidget() is self.list_page:
            self.focus_search()


def _count_text(text: str, filtered: bool, found: int) -> str:
    if not text.strip() and not filtered:
        if found == 0:
            return "No clients yet. Press Ctrl+N to add the first one."
        if found >= COUNT_UP_TO:
            return f"More than {COUNT_UP_TO:,} clients"
        return "1 client" if found == 1 else f"{found:,} clients"
    if found == 0:
        if not text.strip():
            return "No client matches these filters."
        return f"No client matches “{text.strip()}”. Check the spelling, or try a phone number or email."
    if found >= COUNT_UP_TO:
        return f"More than {COUNT_UP_TO:,} found: type more to narrow the search."
    return f"{found:,} found"


def _more(
    services: Services,
    text: str,
    filters: clients_service.ClientFilter,
    after: clients_service.SearchCursor | None,
) -> MoreLoader | None:
    """The loader of the page after ``after`` (run by the model when the list nears its end)."""
    if after is None:
        return None

    def load() -> tuple[list[clients_service.ClientSummary], MoreLoader | None]:
        page = clients_service.search_client_page(services, text, filters=filters, after=after)
        return list(page.rows), _more(services, text, filters, page.next)

    return load
