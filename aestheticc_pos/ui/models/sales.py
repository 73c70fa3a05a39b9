"""The Sales screen's table: sales, refunds and voids a page at a time (``services.sales_history.find_sales``).

``SalesModel.search(filters)`` starts over with the first page; the table asks for the next one as it is
scrolled to the bottom (Qt's ``canFetchMore``/``fetchMore``), so a year of sales costs one query per hundred
rows shown. ``load(filters, offset)`` is the service call; ``run(work, on_done, on_error)`` decides where it
runs (the view passes ``desk.run``; by default at once, so the model is tested without threads).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import shiboken6
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.services.sales_history import SalesPage, SaleSummary
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.receipt import TENDER_NAMES

AnyIndex = QModelIndex | QPersistentModelIndex
Filters = dict[str, Any]
Runner = Callable[[Callable[[], SalesPage], Callable[[SalesPage], None], Callable[[str], None]], None]

COLUMNS = ("Number", "Time", "Client", "Staff", "Paid by", "Total", "Kind")
NUMBER, TIME, CLIENT, STAFF, TENDERS, TOTAL, KIND = range(len(COLUMNS))
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_REFUND = QBrush(QColor("#a4262c"))
_VOID = QBrush(QColor("#9d97a8"))


def tenders_text(tenders: tuple[TenderKind, ...]) -> str:
    return " + ".join(TENDER_NAMES.get(t, str(t)) for t in tenders) or "—"


def kind_text(row: SaleSummary) -> str:
    """ "Sale", "Refund of A-000012", "Void of A-000012"."""
    if row.kind == "sale":
        return "Sale"
    of = f" of {row.original_number}" if row.original_number else ""
    return f"{row.kind.capitalize()}{of}"


class SalesModel(QAbstractTableModel):
    load_failed = Signal(str)
    counted = Signal(int)  # how many sales match, once the first page is in

    def __init__(
        self,
        load: Callable[[Filters, int], SalesPage],
        *,
        run: Runner | None = None,
        tz: ZoneInfo | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._load = load
        self._run = run or _run_now
        self.tz = tz or ZoneInfo("Europe/London")
        self.rows: list[SaleSummary] = []
        self.total_count = 0
        self.filters: Filters = {}
        self.show_dates = False
        self._more = False
        self._loading = False
        self._generation = 0

    def search(self, filters: Filters, *, show_dates: bool = False) -> None:
        self.beginResetModel()
        self.filters = dict(filters)
        self.show_dates = show_dates
        self.rows = []
        self.total_count = 0
        self._more = False
        self._loading = False
        self._generation += 1
        self.endResetModel()
        self._fetch(0)

    def sale(self, row: int) -> SaleSummary | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def row_of(self, sale_id: str) -> int | None:
        return next((i for i, row in enumerate(self.rows) if row.id == sale_id), None)

    # --- QAbstractTableModel -----------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole and section == TOTAL:
            return RIGHT
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.sale(index.row()) if index.isValid() else None
        if row is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._cell(row, index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == TOTAL:
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and row.kind != "sale":
            return _REFUND if row.kind == "refund" else _VOID
        return None

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008 - Qt's signature
        return not parent.isValid() and self._more and not self._loading

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008 - Qt's signature
        if self.canFetchMore(parent):
            self._fetch(len(self.rows))

    def _cell(self, row: SaleSummary, column: int) -> str:
        if column == NUMBER:
            return row.number
        if column == TIME:
            return (
                fmt.date_time(row.created_at, self.tz)
                if self.show_dates
                else fmt.time(row.created_at, self.tz)
            )
        if column == CLIENT:
            return row.client_name or "Walk-in"
        if column == STAFF:
            return row.staff_name
        if column == TENDERS:
            return tenders_text(row.tenders)
        if column == TOTAL:
            return fmt.money(row.total)
        if column == KIND:
            return kind_text(row)
        return ""

    # --- pages -------------------------------------------------------------------------------------------

    def _fetch(self, offset: int) -> None:
        generation, filters, load = self._generation, dict(self.filters), self._load
        self._loading = True
        self._run(
            lambda: load(filters, offset),
            lambda page: self._arrived(generation, page),
            lambda message: self._failed(generation, message),
        )

    def _arrived(self, generation: int, page: SalesPage) -> None:
        if not shiboken6.isValid(self) or generation != self._generation:
            return
        self._loading = False
        if page.rows:
            first = len(self.rows)
            self.beginInsertRows(QModelIndex(), first, first + len(page.rows) - 1)
            self.rows.extend(page.rows)
            self.endInsertRows()
        self.total_count = page.total_count
        self._more = page.has_more
        self.counted.emit(page.total_count)

    def _failed(self, generation: int, message: str) -> None:
        if not shiboken6.isValid(self) or generation != self._generation:
            return
        self._loading = False
        self._more = False  # not asked again on every scroll; a new search tries again
        self.load_failed.emit(message)


def _run_now(
    work: Callable[[], SalesPage], on_done: Callable[[SalesPage], None], on_error: Callable[[str], None]
) -> None:
    on_done(work())


def day_span(first: dt.date, last: dt.date) -> bool:
    """Whether a list covers more than one day (its times then carry their dates)."""
    return last != first
