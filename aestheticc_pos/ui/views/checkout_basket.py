"""The checkout's basket table and its keys, and pricing a basket with the package sessions the receptionist
declined.

``price_with_offers`` runs off the GUI thread (``Desk.run``); the rest lives on it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPainter
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QTableView, QWidget

from aestheticc_pos.domain.benefits import PackageCredit
from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.pricing import Quote
from aestheticc_pos.services.checkout import quote_basket
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.pricing import BasketItem
from aestheticc_pos.ui.models.basket import ITEM, QUANTITY, REASON, BasketModel


@dataclass(frozen=True, slots=True)
class Priced:
    """A quote, and for each treatment line the receptionist declined, the package session that could pay."""

    quote: Quote
    offers: dict[int, PackageCredit]


class BasketTable(QTableView):
    """The basket; says what to do while it is empty. Its keys: Delete asks to remove the line
    (``remove_requested``), Space uses or declines the package session, + and − change the quantity."""

    EMPTY = "The basket is empty. Find the client (or choose Walk-in), then add what they buy."
    remove_requested = Signal(int)  # the row of the line

    def __init__(self, model: BasketModel) -> None:
        super().__init__()
        self.basket = model
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(True)
        self.verticalHeader().hide()
        self.verticalHeader().setMinimumSectionSize(40)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(ITEM, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(REASON, QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        row, key, model = self.currentIndex().row(), event.key(), self.basket
        if self.state() is QAbstractItemView.State.EditingState or not 0 <= row < model.rowCount():
            super().keyPressEvent(event)
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.remove_requested.emit(row)
        elif key == Qt.Key.Key_Space and model.package_offer(row) is not None:
            model.setData(
                model.index(row, REASON), not model.uses_package(row), Qt.ItemDataRole.CheckStateRole
            )
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal, Qt.Key.Key_Minus):
            step = -1 if key == Qt.Key.Key_Minus else 1
            model.setData(model.index(row, QUANTITY), model.line(row).line.quantity + step)
        else:
            super().keyPressEvent(event)

    def paintEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().paintEvent(event)
        if self.model() is not None and self.model().rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(QColor("#9d97a8"))
            area = self.viewport().rect().adjusted(40, 0, -40, 0)
            painter.drawText(area, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self.EMPTY)
            painter.end()


# --- background work: plain functions over services, run by Desk.run -----------------------------------------


def price_with_offers(services: Services, client_id: str | None, items: list[BasketItem]) -> Priced:
    """The quote of ``items``, and which declined treatment lines a package session could pay for (by line)."""
    quote = quote_basket(services, client_id=client_id, items=items)
    lines_of = item_of_each_line(quote)
    declined = [
        row
        for row, item in enumerate(lines_of)
        if items[item].kind is ItemKind.TREATMENT and not items[item].use_package
    ]
    offers: dict[int, PackageCredit] = {}
    if declined and client_id is not None:
        accepted = quote_basket(
            services, client_id=client_id, items=[replace(item, use_package=True) for item in items]
        )
        offers = {
            row: credit for row in declined if (credit := accepted.lines[row].package_credit) is not None
        }
    return Priced(quote, offers)


def item_of_each_line(quote: Quote) -> list[int]:
    """For each priced line, the basket item it comes from: one line an item, except a membership whose
    sign-up fee is a second line right after its first month."""
    items: list[int] = []
    previous = None
    for line in quote.lines:
        fee_line = (
            previous is not None
            and line.line.kind is ItemKind.MEMBERSHIP
            and previous.line.kind is ItemKind.MEMBERSHIP
            and previous.line.item_id == line.line.item_id
        )
        items.append(items[-1] if fee_line else len(set(items)))
        previous = line
    return items


def labelled(text: str, field: QWidget, extra: QWidget | None = None) -> QHBoxLayout:
    row = QHBoxLayout()
    label = QLabel(text)
    label.setBuddy(field)
    label.setMinimumWidth(90)
    row.addWidget(label)
    row.addWidget(field, 1)
    if extra is not None:
        row.addWidget(extra)
    return row
