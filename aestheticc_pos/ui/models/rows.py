"""A short list of frozen values as a table: ``RowsModel`` shows each value column by column (``Column`` says
how), and ``rows_table`` is the calm read-only table every list screen puts it in.

    model = RowsModel((Column("Name", lambda t: t.name), Column("Price", lambda t: fmt.money(t.price), RIGHT)))
    table = rows_table(model, stretch=0)
    model.set_rows(treatments)

For short lists only (a menu, the members, backups): the model holds the values themselves. Long lists use a
model over ids with rows fetched on demand (``models/clients.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

AnyIndex = QModelIndex | QPersistentModelIndex
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_MUTED = QBrush(QColor("#9d97a8"))


@dataclass(frozen=True, slots=True)
class Column:
    caption: str
    text: Callable[[Any], str]
    align: Qt.AlignmentFlag = LEFT
    tip: Callable[[Any], str] | None = None  # the tooltip, when the cell's text is a short form


class RowsModel(QAbstractTableModel):
    """Rows of frozen values (each with an ``id``), shown column by column. For short lists only (a menu, the
    members): it holds the values themselves. Rows for which ``muted(row)`` is true are drawn grey."""

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        muted: Callable[[Any], bool] = lambda _row: False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._muted = muted
        self._rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row(self, index: int) -> Any:
        return self._rows[index]

    def row_of(self, row_id: str) -> int | None:
        return next((i for i, row in enumerate(self._rows) if row.id == row_id), None)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row, column = self._rows[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return (column.tip or column.text)(row)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(column.align)
        if role == Qt.ItemDataRole.ForegroundRole and self._muted(row):
            return _MUTED
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.columns[section].caption
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(self.columns[section].align)
        return None


def rows_table(model: QAbstractTableModel, *, stretch: int = 0) -> QTableView:
    """A calm, read-only table over ``model``: whole rows selected, column ``stretch`` takes the spare width."""
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.setStyleSheet("QTableView::item { padding: 0px 8px; } QHeaderView::section { padding: 6px 8px; }")
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(36)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    header.setHighlightSections(False)
    return table
