"""The checkout basket as a table: one row per priced line of a ``Quote`` (``domain.pricing``).

The model shows what the pricing engine said and nothing else: it never computes a price. Edits that change
the basket (the quantity, using or declining a package session) are not applied here; they are emitted as
signals, the checkout view changes its basket and asks for a new quote, and ``set_quote`` shows it.

A row's "Use package" check box appears in the Reason column when a package session can pay for the line:
ticked when the quote redeems one (the reason names the package and session), unticked when the receptionist
declined it. ``set_quote`` takes, besides the quote, the sessions that *could* pay for each declined line, so a
declined line keeps its box.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont

from aestheticc_pos.domain.benefits import PackageCredit
from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.pricing import MAX_QUANTITY, Quote, QuotedLine
from aestheticc_pos.ui import format as fmt

ITEM, QUANTITY, PRICE, DISCOUNT, REASON, NET, VAT = range(7)
HEADERS = ("Item", "Qty", "Price", "Discount", "Reason", "Net", "VAT")
_MONEY_COLUMNS = (PRICE, DISCOUNT, NET, VAT)
_KIND_NAMES = {
    ItemKind.TREATMENT: "Treatment",
    ItemKind.PRODUCT: "Product",
    ItemKind.PACKAGE: "Package",
    ItemKind.MEMBERSHIP: "Membership",
}
_DISCOUNT_COLOUR = QColor("#5b4b8a")
_MUTED_COLOUR = QColor("#6b6478")

Index = QModelIndex | QPersistentModelIndex


class BasketModel(QAbstractTableModel):
    """Rows are the quote's lines, in basket order (row ``n`` is the ``n``-th item the view priced)."""

    package_choice_changed = Signal(int, bool)  # row, use the package session
    quantity_changed = Signal(int, int)  # row, new quantity

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._quote: Quote | None = None
        self._offers: dict[int, PackageCredit] = {}

    # --- what the view sets and reads -----------------------------------------------------------------------

    def set_quote(self, quote: Quote | None, offers: Mapping[int, PackageCredit] | None = None) -> None:
        """Show ``quote`` (None: an empty basket). ``offers[row]`` is a session that could pay for a line the
        receptionist declined."""
        same_shape = (
            quote is not None and self._quote is not None and len(quote.lines) == len(self._quote.lines)
        )
        if same_shape:
            self._quote, self._offers = quote, dict(offers or {})
            if self.rowCount():
                self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, len(HEADERS) - 1))
            return
        self.beginResetModel()
        self._quote, self._offers = quote, dict(offers or {})
        self.endResetModel()

    @property
    def quote(self) -> Quote | None:
        return self._quote

    def line(self, row: int) -> QuotedLine:
        assert self._quote is not None
        return self._quote.lines[row]

    def package_offer(self, row: int) -> PackageCredit | None:
        """The package session that pays, or could pay, for ``row``; None when no package covers it."""
        if self._quote is None or not 0 <= row < len(self._quote.lines):
            return None
        return self._quote.lines[row].package_credit or self._offers.get(row)

    def uses_package(self, row: int) -> bool:
        return self._quote is not None and self._quote.lines[row].package_credit is not None

    # --- QAbstractTableModel --------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own signature
        if parent.isValid() or self._quote is None:
            return 0
        return len(self._quote.lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        if orientation is not Qt.Orientation.Horizontal or not 0 <= section < len(HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            side = Qt.AlignmentFlag.AlignRight if section in _MONEY_COLUMNS else Qt.AlignmentFlag.AlignLeft
            return int(side | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not self._valid(index):
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == QUANTITY:
            flags |= Qt.ItemFlag.ItemIsEditable
        if index.column() == REASON and self.package_offer(index.row()) is not None:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        if not self._valid(index):
            return None
        row, column = index.row(), index.column()
        line = self.line(row)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column, line)
        if role == Qt.ItemDataRole.EditRole:
            return line.line.quantity if column == QUANTITY else self._text(row, column, line)
        if (
            role == Qt.ItemDataRole.CheckStateRole
            and column == REASON
            and self.package_offer(row) is not None
        ):
            return Qt.CheckState.Checked if self.uses_package(row) else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column in _MONEY_COLUMNS:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if column == QUANTITY:
                return int(Qt.AlignmentFlag.AlignCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if column in (DISCOUNT, REASON) and line.discount:
                return _DISCOUNT_COLOUR
            if column == REASON:
                return _MUTED_COLOUR
            return None
        if role == Qt.ItemDataRole.FontRole and column == NET:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column, line)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{HEADERS[column]}: {self._text(row, column, line)}"
        return None

    def setData(self, index: Index, value, role: int = Qt.ItemDataRole.EditRole) -> bool:  # type: ignore[no-untyped-def]
        """Emits the change the receptionist asked for; the row changes when the new quote arrives."""
        if not self._valid(index):
            return False
        row, column = index.row(), index.column()
        if (
            role == Qt.ItemDataRole.CheckStateRole
            and column == REASON
            and self.package_offer(row) is not None
        ):
            use = Qt.CheckState(value) == Qt.CheckState.Checked if not isinstance(value, bool) else value
            if use != self.uses_package(row):
                self.package_choice_changed.emit(row, use)
            return True
        if role == Qt.ItemDataRole.EditRole and column == QUANTITY:
            try:
                quantity = int(value)
            except (TypeError, ValueError):
                return False
            if not 1 <= quantity <= MAX_QUANTITY:
                return False
            if quantity != self.line(row).line.quantity:
                self.quantity_changed.emit(row, quantity)
            return True
        return False

    # --- helpers --------------------------------------------------------------------------------------------

    def _valid(self, index: Index) -> bool:
        return (
            index.isValid()
            and self._quote is not None
            and 0 <= index.row() < len(self._quote.lines)
            and 0 <= index.column() < len(HEADERS)
        )

    def _text(self, row: int, column: int, line: QuotedLine) -> str:
        if column == ITEM:
            return line.line.name
        if column == QUANTITY:
            return str(line.line.quantity)
        if column == PRICE:
            return fmt.money(line.line.unit_price)
        if column == DISCOUNT:
            return fmt.money(-line.discount) if line.discount else ""
        if column == REASON:
            offer = self.package_offer(row)
            if offer is not None and line.package_credit is None:
                return f"Use package: {offer.package_name}"
            return line.discount_reason or ""
        if column == NET:
            return fmt.money(line.net)
        if column == VAT:
            return fmt.money(line.vat)
        return ""

    def _tooltip(self, row: int, column: int, line: QuotedLine) -> str | None:
        if column == ITEM:
            return f"{_KIND_NAMES.get(line.line.kind, line.line.kind.value)}: {line.line.name}"
        if column == REASON and self.package_offer(row) is not None:
            if self.uses_package(row):
                return "A package session pays for this treatment. Untick to charge it instead (Space)."
            return "Tick to pay for this treatment with a package session (Space)."
        if column == VAT:
            return (
                f"VAT {fmt.percent(line.line.vat_rate_bp)} included"
                if line.line.vat_rate_bp
                else "Exempt from VAT"
            )
        return None
