"""The checkout's basket table, and pricing a basket with the package sessions the receptionist declined.

``price_with_offers`` runs off the GUI thread (``Desk.run``); the rest lives on it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QTableView, QWidget

from aestheticc_pos.domain.benefits import PackageCredit
from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.pricing import Quote
from aestheticc_pos.services.checkout import BasketItem, quote_basket
from aestheticc_pos.services.context import Services


@dataclass(frozen=True, slots=True)
class Priced:
    """A quote, and for each treatment line the receptionist declined, the package session that could pay."""

    quote: Quote
    offers: dict[int, PackageCredit]


class BasketTable(QTableView):
    """The basket; says what to do while it is empty."""

    EMPTY = "The basket is empty. Find the client (or choose Walk-in), then add what they buy."

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
