"""The Audit screen, for managers: the log of every sensitive action, searchable, and a check that it is whole.

The log is a table model over entry numbers (``AuditLogModel``): a search returns the numbers, newest first, and
rows are fetched a page at a time as the table shows them (``services.audit.audit_log_rows``), so a log of a
million entries costs a list of integers. "Check the log" walks the whole chain off the GUI thread and shows the
result in a space kept for it above the table, so nothing moves under the mouse.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import shiboken6
from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.errors import DomainError
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import audit as audit_service
from aestheticc_pos.services.audit import AuditCheck, AuditChoices, AuditRow
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.models.rows import rows_table

AnyIndex = QModelIndex | QPersistentModelIndex
Rows = dict[int, AuditRow]
PageRunner = Callable[[Callable[[], Rows], Callable[[Rows], None], Callable[[str], None]], None]

COLUMNS = ("When", "Staff", "Action", "Record", "Reason", "Details")
WHEN, STAFF, ACTION, RECORD, REASON, DETAILS = range(len(COLUMNS))
SEQ_ROLE = Qt.ItemDataRole.UserRole
LOADING = "…"
MANAGER_ONLY = "Only a manager can see the audit log."
NOT_CHECKED = "Check reads the whole log, entry by entry, and compares its end with the copy kept outside it."
ANY_DAY = QDate(2000, 1, 1)  # the date fields' "Any day"
INTACT_COLOUR, BROKEN_COLOUR, MUTED_COLOUR = "#2e7d5b", "#a4262c", "#6b6478"


def details_text(details: Mapping[str, str | int]) -> str:
    """An entry's details as staff read them: "net: £24.00, channel: pos" (amounts kept in pence shown as money,
    in the entry's currency, else pounds)."""
    currency = str(details.get("currency", "GBP"))
    parts = []
    for key, value in sorted(details.items()):
        if key.endswith("_pence") and isinstance(value, int):
            parts.append(f"{key.removesuffix('_pence').replace('_', ' ')}: {_money(value, currency)}")
        elif key != "currency":
            parts.append(f"{key.replace('_', ' ')}: {value}")
    return ", ".join(parts)


def _money(pence: int, currency: str) -> str:
    try:
        return fmt.money(Money(pence, currency))
    except (TypeError, ValueError):  # an entry written by a version that kept something else here
        return f"{pence} {currency} pence"


class AuditSearch(NamedTuple):
    """What the filters ask for (``services.audit.find_audit_entries``' keywords)."""

    action: str | None = None
    done_by: str | None = None
    record_type: str | None = None
    record_id: str | None = None
    from_day: dt.date | None = None
    to_day: dt.date | None = None


class AuditLogModel(QAbstractTableModel):
    """Audit entries by number, newest first; rows fetched a page at a time through ``load_rows``.

    ``run(work, on_done, on_error)`` decides where ``load_rows`` runs (the view passes ``desk.run``); by default
    at once on the caller's thread, so the model is tested without threads or a window. ``tz`` is the clinic's
    time zone for the "When" column. ``load_failed(str)`` carries the sentence when a page could not be read.
    """

    load_failed = Signal(str)

    def __init__(
        self,
        load_rows: Callable[[list[int]], Rows],
        *,
        run: PageRunner | None = None,
        page_size: int = 100,
        max_cached_pages: int = 20,
        tz: Any = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._load_rows = load_rows
        self._run = run or _run_now
        self.page_size = page_size
        self._max_pages = max_cached_pages
        self.tz = tz
        self._seqs: list[int] = []
        self._pages: OrderedDict[int, Rows] = OrderedDict()
        self._pending: set[int] = set()
        self._generation = 0
        self._fetching_now = False

    def set_seqs(self, seqs: Sequence[int]) -> None:
        self.beginResetModel()
        self._seqs = list(seqs)
        self._generation += 1
        self._pages.clear()
        self._pending.clear()
        self.endResetModel()

    def seq(self, row: int) -> int:
        return self._seqs[row]

    def entry(self, row: int) -> AuditRow | None:
        """The row's entry, fetching its page if needed (None while it is on its way)."""
        if not 0 <= row < len(self._seqs):
            return None
        page = row // self.page_size
        if page not in self._pages:
            self._fetch(page)
        rows = self._pages.get(page)
        if rows is None:
            return None
        self._pages.move_to_end(page)
        return rows.get(self._seqs[row])

    @property
    def cached_rows(self) -> int:
        return sum(len(page) for page in self._pages.values())

    # --- QAbstractTableModel -----------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._seqs)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section] if 0 <= section < len(COLUMNS) else None
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._seqs):
            return None
        if role == SEQ_ROLE:
            return self._seqs[index.row()]
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        entry = self.entry(index.row())
        if entry is None:
            return LOADING if index.column() == WHEN else ""
        text = self._cell(entry, index.column())
        return (text or None) if role == Qt.ItemDataRole.ToolTipRole else text

    def _cell(self, entry: AuditRow, column: int) -> str:
        if column == WHEN:
            return fmt.date_time(entry.at, self.tz) if self.tz is not None else entry.at.isoformat()
        if column == STAFF:
            return entry.staff_name
        if column == ACTION:
            return entry.action
        if column == RECORD:
            return f"{entry.record_type} {entry.record_id}".strip()
        if column == REASON:
            return entry.reason or ""
        if column == DETAILS:
            return details_text(entry.details)
        return ""

    # --- on-demand pages ---------------------------------------------------------------------------------

    def _fetch(self, page: int) -> None:
        if page in self._pending:
            return
        seqs = self._seqs[page * self.page_size : (page + 1) * self.page_size]
        generation, load = self._generation, self._load_rows
        self._pending.add(page)
        self._fetching_now = True
        try:
            self._run(
                lambda: load(seqs),
                lambda rows: self._arrived(generation, page, rows),
                lambda message: self._failed(generation, page, message),
            )
        finally:
            self._fetching_now = False

    def _arrived(self, generation: int, page: int, rows: Rows) -> None:
        if not shiboken6.isValid(self) or generation != self._generation:
            return
        self._pending.discard(page)
        self._pages[page] = rows
        while len(self._pages) > self._max_pages:
            self._pages.popitem(last=False)
        if not self._fetching_now:
            first = page * self.page_size
            last = min(first + self.page_size, len(self._seqs)) - 1
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))

    def _failed(self, generation: int, page: int, message: str) -> None:
        if not shiboken6.isValid(self) or generation != self._generation:
            return
        self._pages[page] = {}  # not asked again on every repaint; a new search tries again
        self._pending.discard(page)
        self.load_failed.emit(message)


class AuditView(QWidget):
    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.check: AuditCheck | None = None
        self._no_wheel = _WheelOnlyWithFocus(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSpacing(12)
        title = QLabel("Audit log")
        title.setObjectName("title")
        subtitle = QLabel("Every sensitive action: who did it, when, to which record, and why.")
        subtitle.setObjectName("subtitle")
        layout.addWidget(title)
        layout.addWidget(subtitle)

        card = QFrame()
        card.setObjectName("card")
        row = QHBoxLayout(card)
        row.setContentsMargins(20, 14, 20, 14)
        self.result = QLabel(NOT_CHECKED)
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        result_space = QScrollArea()  # the result's own space: nothing below moves when it arrives
        result_space.setWidget(self.result)
        result_space.setWidgetResizable(True)
        result_space.setFrameShape(QFrame.Shape.NoFrame)
        result_space.setFixedHeight(104)
        result_space.setStyleSheet(
            "QScrollArea, QScrollArea > QWidget > QWidget { background: transparent; }"
        )
        row.addWidget(result_space, 1)
        self.verify_button = QPushButton("Check the log")
        self.verify_button.setObjectName("primary")
        self.verify_button.setToolTip("Check that no entry was changed, removed or added out of place")
        self.verify_button.clicked.connect(self.verify)
        row.addWidget(self.verify_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(card)

        filters = QHBoxLayout()
        self.action = self._combo("Every action")
        self.staff = self._combo("All staff")
        self.record_type = self._combo("Every kind of record")
        self.record_id = QLineEdit()
        self.record_id.setPlaceholderText("Record id")
        self.record_id.setMaximumWidth(220)
        self.record_id.returnPressed.connect(self.search)
        self.record_id.editingFinished.connect(self._search_if_changed)
        self.from_day = self._day("From")
        self.to_day = self._day("To")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setObjectName("link")
        self.clear_button.clicked.connect(self.clear_filters)
        for widget in (self.action, self.staff, self.record_type, self.record_id, self.from_day, self.to_day):
            filters.addWidget(widget)
        filters.addWidget(self.clear_button)
        filters.addStretch(1)
        layout.addLayout(filters)

        self.status = QLabel(" ")  # the count, or why the log could not be read: one line, always there
        layout.addWidget(self.status)
        self.model = AuditLogModel(self._load_rows, run=self._run_page, parent=self)
        self.model.load_failed.connect(self._show_error)
        self.table = rows_table(self.model, stretch=DETAILS)
        layout.addWidget(self.table, 1)
        self._searched: AuditSearch | None = None

    # --- what the window calls ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """Load the filters' choices and the entries matching the current search."""
        if not self.desk.may(Action.VIEW_AUDIT_LOG):
            self._show_error(MANAGER_ONLY)
            self.verify_button.setEnabled(False)
            self.model.set_seqs([])
            return
        self.verify_button.setEnabled(True)
        self.model.tz = self.desk.settings.tz
        services, staff_id = self.desk.services, self.desk.staff_id
        self.desk.run(lambda: audit_service.audit_log_choices(services, staff_id), self._fill_choices)
        self.search()

    def search(self) -> None:
        """Show the entries matching the filters, newest first."""
        if not self.desk.may(Action.VIEW_AUDIT_LOG):
            return
        wanted = self.current_search()
        self._searched = wanted
        services, staff_id = self.desk.services, self.desk.staff_id
        self.desk.run(
            lambda: audit_service.find_audit_entries(services, staff_id, **wanted._asdict()),
            lambda seqs: self._show_entries(wanted, seqs),
            self._show_error,
        )

    def verify(self) -> None:
        """Check the whole log off the GUI thread; the result goes in its own space above the table."""
        if not self.desk.may(Action.VIEW_AUDIT_LOG):
            self._show_error(MANAGER_ONLY)
            return
        self.verify_button.setEnabled(False)
        self.verify_button.setText("Checking…")
        self.result.setStyleSheet("")
        self.result.setText("Checking every entry of the log…")
        services, staff_id = self.desk.services, self.desk.staff_id
        self.desk.run(
            lambda: audit_service.verify_audit_log(services, staff_id), self._show_check, self._check_failed
        )

    def current_search(self) -> AuditSearch:
        return AuditSearch(
            action=self.action.currentData(),
            done_by=self.staff.currentData(),
            record_type=self.record_type.currentData(),
            record_id=self.record_id.text().strip() or None,
            from_day=_day_of(self.from_day),
            to_day=_day_of(self.to_day),
        )

    def clear_filters(self) -> None:
        for widget in (self.action, self.staff, self.record_type, self.from_day, self.to_day):
            widget.blockSignals(True)
        self.action.setCurrentIndex(0)
        self.staff.setCurrentIndex(0)
        self.record_type.setCurrentIndex(0)
        self.from_day.setDate(ANY_DAY)
        self.to_day.setDate(ANY_DAY)
        for widget in (self.action, self.staff, self.record_type, self.from_day, self.to_day):
            widget.blockSignals(False)
        self.record_id.clear()
        self.search()

    # --- results -----------------------------------------------------------------------------------------

    def _show_entries(self, wanted: AuditSearch, seqs: list[int]) -> None:
        if wanted != self._searched:
            return  # an older search arrived after a newer one was asked for
        self.model.set_seqs(seqs)
        n = len(seqs)
        if wanted == AuditSearch():
            text = f"{n:,} {'entry' if n == 1 else 'entries'}, newest first."
        else:
            text = f"{n:,} {'entry matches' if n == 1 else 'entries match'} the search, newest first."
        self.status.setStyleSheet(f"color: {MUTED_COLOUR};")
        self.status.setText(text)

    def _show_check(self, check: AuditCheck) -> None:
        self.check = check
        self.verify_button.setEnabled(True)
        self.verify_button.setText("Check the log")
        last_on = fmt.date_time(check.last_at, self.desk.settings.tz) if check.last_at else ""
        lines = [check.summary(last_on), *(f"• {problem}" for problem in check.problems)]
        if not check.intact:
            lines.append(audit_service.WHAT_TO_DO)
        self.result.setText("\n".join([*lines, *check.notes]))
        colour = INTACT_COLOUR if check.intact else BROKEN_COLOUR
        self.result.setStyleSheet(f"color: {colour};")

    def _check_failed(self, sentence: str) -> None:
        self.verify_button.setEnabled(self.desk.may(Action.VIEW_AUDIT_LOG))
        self.verify_button.setText("Check the log")
        self.result.setStyleSheet(f"color: {BROKEN_COLOUR};")
        self.result.setText(f"The log could not be checked. {sentence}")

    def _show_error(self, sentence: str) -> None:
        self.status.setStyleSheet(f"color: {BROKEN_COLOUR};")
        self.status.setText(sentence)

    def _fill_choices(self, choices: AuditChoices) -> None:
        _refill(self.action, "Every action", [(a, a) for a in choices.actions])
        _refill(self.staff, "All staff", [(name, sid) for sid, name in choices.staff])
        _refill(self.record_type, "Every kind of record", [(t, t) for t in choices.record_types])

    # --- helpers -----------------------------------------------------------------------------------------

    def _load_rows(self, seqs: list[int]) -> Rows:
        return audit_service.audit_log_rows(self.desk.services, self.desk.staff_id, seqs)

    def _run_page(
        self, work: Callable[[], Rows], on_done: Callable[[Rows], None], on_error: Callable[[str], None]
    ) -> None:
        self.desk.run(work, on_done, on_error)

    def _search_if_changed(self) -> None:
        if self.current_search() != self._searched:
            self.search()

    def _combo(self, anything: str) -> QComboBox:
        combo = QComboBox()
        combo.addItem(anything, None)
        combo.setMinimumWidth(170)
        combo.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        combo.installEventFilter(self._no_wheel)
        combo.currentIndexChanged.connect(lambda _i: self._search_if_changed())
        return combo

    def _day(self, caption: str) -> QDateEdit:
        field = QDateEdit()
        field.setCalendarPopup(True)
        field.setDisplayFormat("d MMM yyyy")
        field.setMinimumDate(ANY_DAY)
        field.setSpecialValueText(f"{caption}: any day")
        field.setDate(ANY_DAY)
        field.setMinimumWidth(150)
        field.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        field.installEventFilter(self._no_wheel)
        field.dateChanged.connect(lambda _d: self._search_if_changed())
        return field


class _WheelOnlyWithFocus(QObject):
    """A wheel turned over a filter that does not have focus scrolls the page, never changes the filter."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()
            return True
        return False


def _refill(combo: QComboBox, anything: str, items: list[tuple[str, str]]) -> None:
    chosen = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    combo.addItem(anything, None)
    for text, data in items:
        combo.addItem(text, data)
    index = combo.findData(chosen) if chosen is not None else 0
    combo.setCurrentIndex(max(index, 0))
    combo.blockSignals(False)


def _day_of(field: QDateEdit) -> Any:
    day = field.date()
    return None if day == ANY_DAY else day.toPython()


def _run_now(
    work: Callable[[], Rows], on_done: Callable[[Rows], None], on_error: Callable[[str], None]
) -> None:
    try:
        rows = work()
    except DomainError as error:
        on_error(str(error))
    else:
        on_done(rows)
