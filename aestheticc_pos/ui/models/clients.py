"""The client list as a table model over client ids, its rows fetched on demand a page at a time.

The model holds only ids (the order a search returned them in). When the view asks for a row that is not
cached, the model asks ``load_rows`` for the page of ids around it (``client_summaries``) and caches that page;
only the pages the view shows are ever loaded (STYLE.md rule 7, as Anki's browser table).

A search hands over its first page of rows with ``set_page(rows, more)``: those rows are shown at once, and
``more`` (a loader of the next page and of the loader after it) is asked only when the view scrolls near the
end (Qt's ``canFetchMore`` / ``fetchMore``), so a million clients are never listed id by id.

``run(work, on_done, on_error)`` decides where ``load_rows`` runs. The view passes ``desk.run`` (a pool thread;
the rows show "…" for the few milliseconds until the page arrives, then ``dataChanged``); by default it runs
at once, on the caller's thread, so the model is tested without threads or a window.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import shiboken6
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from aestheticc_pos.domain.errors import DomainError
from aestheticc_pos.services.clients import ClientSummary
from aestheticc_pos.ui import format as fmt

RowLoader = Callable[[list[str]], dict[str, ClientSummary]]
PageRunner = Callable[
    [
        Callable[[], dict[str, ClientSummary]],
        Callable[[dict[str, ClientSummary]], None],
        Callable[[str], None],
    ],
    None,
]
AnyIndex = QModelIndex | QPersistentModelIndex
# The next page of a search: its rows, and the loader of the page after it (None: it was the last).
MoreLoader = Callable[[], "tuple[list[ClientSummary], MoreLoader | None]"]

CLIENT_ID_ROLE = Qt.ItemDataRole.UserRole
COLUMNS = ("Name", "Phone", "Email", "Date of birth", "Membership", "Packages")
NAME, PHONE, EMAIL, BIRTH, MEMBERSHIP, PACKAGES = range(len(COLUMNS))
LOADING = "…"
GONE = "No longer on file"
_GONE_COLOUR = QBrush(QColor("#9d97a8"))


class ClientListModel(QAbstractTableModel):
    """Rows of clients by id; ``client_id(row)`` is what a screen opens.

    ``load_failed(str)`` carries the sentence when a page could not be fetched (the rows stay "…" until the
    next ``set_ids`` or ``reload``).
    """

    load_failed = Signal(str)

    def __init__(
        self,
        load_rows: RowLoader,
        *,
        run: PageRunner | None = None,
        page_size: int = 50,
        max_cached_pages: int = 40,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if page_size < 1 or max_cached_pages < 1:
            raise ValueError("page_size and max_cached_pages must be at least 1")
        self._load_rows = load_rows
        self._run = run or _run_now
        self.page_size = page_size
        self._max_pages = max_cached_pages
        self._ids: list[str] = []
        self._pages: OrderedDict[int, dict[str, ClientSummary]] = OrderedDict()  # least recently used first
        self._pending: set[int] = set()
        self._failed: set[int] = set()
        self._generation = 0  # pages fetched for an older list of ids are dropped on arrival
        self._fetching_now = False
        self._more: MoreLoader | None = None
        self._more_pending = False

    # --- what screens use --------------------------------------------------------------------------------

    def set_ids(self, ids: Sequence[str]) -> None:
        """Show these clients, in this order. The same ids again only refetch the rows (selection kept)."""
        ids = list(ids)
        self._more = None
        if ids == self._ids:
            self.reload()
            return
        self.beginResetModel()
        self._ids = ids
        self._forget_rows()
        self.endResetModel()

    def set_page(self, rows: Sequence[ClientSummary], more: MoreLoader | None = None) -> None:
        """Show a search's first page of ``rows`` (no fetch for them); ``more`` loads the next page when the
        view scrolls near the end. The same clients again refresh their rows in place (selection kept)."""
        ids = [r.id for r in rows]
        if ids == self._ids:
            self._forget_rows()
            self._seed(0, rows)
            if ids:
                self.dataChanged.emit(self.index(0, 0), self.index(len(ids) - 1, len(COLUMNS) - 1))
        else:
            self.beginResetModel()
            self._ids = ids
            self._forget_rows()
            self._seed(0, rows)
            self.endResetModel()
        self._more = more

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008 - Qt's default argument
        return not parent.isValid() and self._more is not None and not self._more_pending

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008 - Qt's default argument
        if not self.canFetchMore(parent):
            return
        assert self._more is not None
        more, generation = self._more, self._generation
        self._more_pending = True

        def arrived(result: tuple[list[ClientSummary], MoreLoader | None]) -> None:
            if not shiboken6.isValid(self) or generation != self._generation:
                return
            rows, self._more = result
            self._more_pending = False
            known = set(self._ids)  # a client edited between pages may have moved into a later one
            rows = [r for r in rows if r.id not in known]
            if rows:
                start = len(self._ids)
                self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
                self._ids.extend(r.id for r in rows)
                self._seed(start, rows)
                self.endInsertRows()

        def failed(message: str) -> None:
            if shiboken6.isValid(self) and generation == self._generation:
                self._more_pending = False
                self._more = None  # not retried on every scroll; the next search starts again
                self.load_failed.emit(message)

        self._run(more, arrived, failed)  # type: ignore[arg-type]

    def reload(self) -> None:
        """Forget the cached rows (a client's details changed); the visible ones are fetched again."""
        self._forget_rows()
        if self._ids:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, len(COLUMNS) - 1))

    def client_id(self, row: int) -> str:
        return self._ids[row]

    def row_of(self, client_id: str) -> int | None:
        try:
            return self._ids.index(client_id)
        except ValueError:
            return None

    def summary(self, row: int) -> ClientSummary | None:
        """The row's client, fetching its page if needed (None while it is on its way, or if erased since)."""
        return self._row(row)

    @property
    def cached_rows(self) -> int:
        return sum(len(page) for page in self._pages.values())

    # --- QAbstractTableModel -----------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's default argument
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        row, column = index.row(), index.column()
        if role == CLIENT_ID_ROLE:
            return self._ids[row]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            summary = self._row(row)
            if summary is None:
                if column != NAME:
                    return ""
                return GONE if row // self.page_size in self._pages else LOADING
            text = _cell(summary, column)
            if role == Qt.ItemDataRole.ToolTipRole:
                return text or None
            return text
        if role == Qt.ItemDataRole.ForegroundRole:
            page = row // self.page_size
            if page in self._pages and self._ids[row] not in self._pages[page]:
                return _GONE_COLOUR
        return None

    # --- on-demand pages ---------------------------------------------------------------------------------

    def _row(self, row: int) -> ClientSummary | None:
        """The cached client of ``row``; asks for its page when it is not cached (see ``run``)."""
        if not 0 <= row < len(self._ids):
            return None
        page = row // self.page_size
        rows = self._pages.get(page)
        if rows is None:
            self._fetch(page)
            rows = self._pages.get(page)
        if rows is None:
            return None
        self._pages.move_to_end(page)
        return rows.get(self._ids[row])

    def _fetch(self, page: int) -> None:
        if page in self._pending or page in self._failed:
            return
        start = page * self.page_size
        ids = self._ids[start : start + self.page_size]
        generation = self._generation
        self._pending.add(page)
        load = self._load_rows
        self._fetching_now = True
        try:
            self._run(
                lambda: load(ids),
                lambda rows: self._page_arrived(generation, page, rows),
                lambda message: self._page_failed(generation, page, message),
            )
        finally:
            self._fetching_now = False

    def _page_arrived(self, generation: int, page: int, rows: dict[str, ClientSummary]) -> None:
        if not shiboken6.isValid(self) or generation != self._generation:
            return  # the model is gone (window closed) or shows other ids now
        self._pending.discard(page)
        self._pages[page] = rows
        self._pages.move_to_end(page)
        while len(self._pages) > self._max_pages:
            self._pages.popitem(last=False)
        if not self._fetching_now:  # arrived later: tell the views (at once, data() is still answering)
            start = page * self.page_size
            end = min(start + self.page_size, len(self._ids)) - 1
            self.dataChanged.emit(self.index(start, 0), self.index(end, len(COLUMNS) - 1))

    def _page_failed(self, generation: int, page: int, message: str) -> None:
        if not shiboken6.isValid(self) or generation != self._generation:
            return
        self._pending.discard(page)
        self._failed.add(page)  # not retried on every repaint; set_ids or reload tries again
        self.load_failed.emit(message)

    def _forget_rows(self) -> None:
        self._generation += 1
        self._pages.clear()
        self._pending.clear()
        self._failed.clear()
        self._more_pending = False

    def _seed(self, start: int, rows: Sequence[ClientSummary]) -> None:
        """Cache the pages ``rows`` (from row ``start``) fill completely, so they are never fetched."""
        by_id = {r.id: r for r in rows}
        end = start + len(rows)
        for page in range(start // self.page_size, (end - 1) // self.page_size + 1 if rows else 0):
            first, last = page * self.page_size, min((page + 1) * self.page_size, len(self._ids))
            if first >= start and last <= end:
                self._pages[page] = {i: by_id[i] for i in self._ids[first:last] if i in by_id}
        while len(self._pages) > self._max_pages:
            self._pages.popitem(last=False)


def phone_text(digits: str | None) -> str:
    """A stored phone number as staff read it: "07700 900123", "020 7946 0123", "+33612345678" as is."""
    if not digits:
        return ""
    if digits.startswith("0") and len(digits) == 11:
        if digits.startswith("02"):
            return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
        return f"{digits[:5]} {digits[5:]}"
    if digits.startswith("0") and len(digits) == 10:
        return f"{digits[:5]} {digits[5:]}"
    return digits


def _cell(summary: ClientSummary, column: int) -> str:
    if column == NAME:
        return summary.full_name
    if column == PHONE:
        return phone_text(summary.phone)
    if column == EMAIL:
        return summary.email or ""
    if column == BIRTH:
        return fmt.date(summary.date_of_birth)
    if column == MEMBERSHIP:
        return summary.membership
    if column == PACKAGES:
        return summary.packages
    return ""


def _run_now(
    work: Callable[[], dict[str, ClientSummary]],
    on_done: Callable[[dict[str, ClientSummary]], None],
    on_error: Callable[[str], None],
) -> None:
    """The default runner: fetch at once on this thread; a refusal becomes ``load_failed``."""
    try:
        rows = work()
    except DomainError as error:
        on_error(str(error))
    else:
        on_done(rows)
