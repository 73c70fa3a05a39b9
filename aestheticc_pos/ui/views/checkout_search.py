"""Finding who and what at checkout: a drop-down of matches under a search box, the catalogue the item search
offers, and the card that says who the client is and what lowers their prices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtWidgets import QHeaderView, QLineEdit, QTreeWidget, QTreeWidgetItem, QWidget

from aestheticc_pos.domain.catalogue import ItemKind, Tier
from aestheticc_pos.services import catalogue as catalogue_service
from aestheticc_pos.services import client_record
from aestheticc_pos.services.context import Services
from aestheticc_pos.ui import format as fmt

KIND_NAMES = {
    ItemKind.TREATMENT: "Treatment",
    ItemKind.PRODUCT: "Product",
    ItemKind.PACKAGE: "Package",
    ItemKind.MEMBERSHIP: "Membership",
}
MAX_MATCHES = 8  # rows a drop-down of matches shows
_KIND_ORDER = {ItemKind.TREATMENT: 0, ItemKind.PRODUCT: 1, ItemKind.PACKAGE: 2, ItemKind.MEMBERSHIP: 3}


@dataclass(frozen=True, slots=True)
class Sellable:
    """A line of the catalogue the item search offers. A membership's ``item_id`` is its tier and its
    ``price_text`` says what the client pays and gets ("£49.00 a month, 20% off treatments")."""

    kind: ItemKind
    item_id: str
    name: str
    price_text: str


@dataclass(frozen=True, slots=True)
class ClientCard:
    id: str
    name: str
    membership: str  # "Gold member, 20% off" or ""
    packages: str  # "Microneedling course of 6: 5 sessions left" or ""


class Finder(QObject):
    """A drop-down list of matches under a line edit. Focus stays in the edit: Up and Down move, Enter picks,
    Escape closes. The list floats over ``host`` (a child widget, not a window, so it never steals focus)."""

    picked = Signal(object)

    def __init__(self, edit: QLineEdit, host: QWidget, *, columns: int) -> None:
        super().__init__(host)
        self.edit, self.host = edit, host
        self.list = QTreeWidget(host)
        self.list.setObjectName("matches")
        self.list.setColumnCount(columns)
        self.list.setHeaderHidden(True)
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.list.itemClicked.connect(lambda _item, _column: self.pick())
        self.list.hide()
        edit.installEventFilter(self)

    def show_rows(self, rows: Sequence[tuple[object, tuple[str, ...]]], *, empty: str = "") -> None:
        """Show ``rows`` (the value picked, the texts of its columns); ``empty`` is shown when there are none."""
        self.list.clear()
        for value, texts in rows:
            item = QTreeWidgetItem(list(texts))
            item.setData(0, Qt.ItemDataRole.UserRole, value)
            item.setTextAlignment(len(texts) - 1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.list.addTopLevelItem(item)
        if not rows and empty:
            item = QTreeWidgetItem([empty])
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addTopLevelItem(item)
        if self.list.topLevelItemCount() == 0:
            self.list.hide()
            return
        if rows:
            self.list.setCurrentItem(self.list.topLevelItem(0))
        self._place()
        self.list.show()
        self.list.raise_()

    def matches(self) -> list[str]:
        """The first column of the rows shown (tests and accessibility)."""
        if not self.list.isVisible():
            return []
        return [self.list.topLevelItem(i).text(0) for i in range(self.list.topLevelItemCount())]

    def pick(self) -> None:
        item = self.list.currentItem()
        value = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        if value is None:
            return
        self.list.hide()
        self.picked.emit(value)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.edit:
            if event.type() == QEvent.Type.KeyPress and self.list.isVisible():
                key = event.key()  # type: ignore[attr-defined]
                if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                    self._move(1 if key == Qt.Key.Key_Down else -1)
                    return True
                if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():  # type: ignore[attr-defined]
                    self.pick()
                    return True
                if key == Qt.Key.Key_Escape:
                    self.list.hide()
                    return True
            elif event.type() == QEvent.Type.FocusOut:
                self.list.hide()
        return super().eventFilter(watched, event)

    def _move(self, step: int) -> None:
        count = self.list.topLevelItemCount()
        current = self.list.indexOfTopLevelItem(self.list.currentItem()) if self.list.currentItem() else -1
        row = max(0, min(count - 1, current + step))
        item = self.list.topLevelItem(row)
        if item is not None and item.flags() & Qt.ItemFlag.ItemIsEnabled:
            self.list.setCurrentItem(item)

    def _place(self) -> None:
        top_left = self.edit.mapTo(self.host, QPoint(0, self.edit.height() + 2))
        rows = self.list.topLevelItemCount()
        row_height = max(self.list.sizeHintForRow(0), 28)
        self.list.setGeometry(top_left.x(), top_left.y(), max(self.edit.width(), 420), rows * row_height + 6)


# --- background work: plain functions over services, run by Desk.run -----------------------------------------


def load_sellables(services: Services) -> list[Sellable]:
    """What checkout can sell: active treatments, products, packages and membership tiers."""
    found = [
        Sellable(ItemKind.TREATMENT, t.id, t.name, fmt.money(t.price))
        for t in catalogue_service.list_treatments(services)
    ]
    found += [
        Sellable(ItemKind.PRODUCT, p.id, p.name, fmt.money(p.price))
        for p in catalogue_service.list_products(services)
    ]
    found += [
        Sellable(ItemKind.PACKAGE, k.id, k.name, fmt.money(k.price))
        for k in catalogue_service.list_packages(services)
    ]
    found += [
        Sellable(ItemKind.MEMBERSHIP, t.id, f"{t.name} membership", _membership_terms(t))
        for t in catalogue_service.list_tiers(services)
    ]
    return found


def load_client_card(services: Services, client_id: str) -> ClientCard:
    facts = client_record.client_card(services, client_id)
    membership = facts.membership
    member = ""
    if membership is not None:
        member = (
            f"{membership.tier_name} member, {fmt.percent(membership.discount_bp)} off"
            if membership.discount_in_force
            else f"{membership.tier_name} member (no discount today)"
        )
    packages = "; ".join(
        f"{p.name}: {p.remaining} session{'s' if p.remaining != 1 else ''} left" for p in facts.packages
    )
    return ClientCard(facts.client.id, facts.client.full_name, member, packages)


def match_sellables(catalogue: list[Sellable], typed: str) -> list[Sellable]:
    """Items whose name has every typed word at the start of one of its words (or inside it, ranked later)."""
    words = typed.lower().split()
    if not words:
        return []

    def rank(s: Sellable) -> tuple[int, int, str] | None:
        name = s.name.lower()
        starts = [w.strip("()") for w in name.split()]
        if all(any(part.startswith(w) for part in starts) for w in words):
            return (0 if name.startswith(words[0]) else 1, _KIND_ORDER[s.kind], name)
        if all(w in name for w in words):
            return (2, _KIND_ORDER[s.kind], name)
        return None

    ranked = [(r, s) for s in catalogue if (r := rank(s)) is not None]
    return [s for _, s in sorted(ranked, key=lambda pair: pair[0])]


def _membership_terms(tier: Tier) -> str:
    """ "£49.00 a month, 20% off treatments and products"."""
    monthly = f"{fmt.money(tier.monthly_price)} a month"
    covered = [
        what
        for what, kind in (
            ("treatments", ItemKind.TREATMENT),
            ("products", ItemKind.PRODUCT),
            ("packages", ItemKind.PACKAGE),
        )
        if tier.covers(kind)
    ]
    if not tier.discount_bp or not covered:
        return monthly
    kinds = covered[0] if len(covered) == 1 else ", ".join(covered[:-1]) + " and " + covered[-1]
    return f"{monthly}, {fmt.percent(tier.discount_bp)} off {kinds}"
