"""The catalogue screen: treatments, products, packages and membership tiers, one tab each.

Everyone who can open it sees the lists; only a manager adds, edits, takes items off sale or offers them
again (the services check too), and publishes the active packages and tiers to the booking portal (a folder of
``catalogue.json`` and ``index.html``; the folder is remembered per till). The add and edit forms are in
``dialogs/`` (``treatment_form.py``, ``product_form.py``, ``package_form.py``, ``tier_form.py``). The four lists
are small (a clinic's menu), so one background call loads them all and each tab filters its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.catalogue import DepositKind, Package, Product, Tier, Treatment
from aestheticc_pos.services import catalogue, portal
from aestheticc_pos.services.catalogue_items import CatalogueKind
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.dialogs.folders import PORTAL, choose_folder
from aestheticc_pos.ui.dialogs.package_form import PackageForm
from aestheticc_pos.ui.dialogs.product_form import ProductForm
from aestheticc_pos.ui.dialogs.tier_form import TierForm
from aestheticc_pos.ui.dialogs.treatment_form import TreatmentForm
from aestheticc_pos.ui.forms import FormDialog, error_label
from aestheticc_pos.ui.models.rows import RIGHT, Column, RowsModel, rows_table
from aestheticc_pos.ui.topics import CATALOGUE

MANAGER_ONLY = "Only a manager can change the catalogue."


# --- The screen --------------------------------------------------------------------------------------------------


class _Catalogue(NamedTuple):
    treatments: list[Treatment]
    products: list[Product]
    packages: list[Package]
    tiers: list[Tier]


class CatalogueView(QWidget):
    """Tabs of the catalogue. ``refresh()`` reloads every list (also after any change to the catalogue)."""

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self._catalogue = _Catalogue([], [], [], [])
        self.form: FormDialog | None = None  # the add/edit form open now, if any
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSpacing(12)
        title = QLabel("Catalogue")
        title.setObjectName("title")
        self.publish_button = QPushButton("Publish to booking portal…")
        self.publish_button.setToolTip(
            "Write the packages and tiers on offer to the booking portal's folder (a manager)"
        )
        self.publish_button.clicked.connect(lambda: self.publish())
        heading = QHBoxLayout()
        heading.addWidget(title)
        heading.addStretch(1)
        heading.addWidget(self.publish_button)
        layout.addLayout(heading)
        subtitle = QLabel("What the clinic sells: treatments, products, packages and membership tiers.")
        subtitle.setObjectName("subtitle")
        self.notice = QLabel(MANAGER_ONLY)
        self.notice.setObjectName("banner")
        self.status = error_label()
        for widget in (subtitle, self.notice, self.status):
            layout.addWidget(widget)

        self.treatments = CataloguePage("treatment", "Add treatment", _TREATMENT_COLUMNS)
        self.products = CataloguePage("product", "Add product", _PRODUCT_COLUMNS)
        self.packages = CataloguePage("package", "Add package", _PACKAGE_COLUMNS, stretch=3)
        self.tiers = CataloguePage("tier", "Add tier", _TIER_COLUMNS, stretch=len(_TIER_COLUMNS) - 1)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.pages: dict[CatalogueKind, CataloguePage] = {
            CatalogueKind.TREATMENT: self.treatments,
            CatalogueKind.PRODUCT: self.products,
            CatalogueKind.PACKAGE: self.packages,
            CatalogueKind.TIER: self.tiers,
        }
        for kind, page, caption in (
            (CatalogueKind.TREATMENT, self.treatments, "Treatments"),
            (CatalogueKind.PRODUCT, self.products, "Products"),
            (CatalogueKind.PACKAGE, self.packages, "Packages"),
            (CatalogueKind.TIER, self.tiers, "Membership tiers"),
        ):
            self.tabs.addTab(page, caption)
            page.add_button.clicked.connect(lambda _=False, k=kind: self.add(k))
            page.edit_requested.connect(lambda item, k=kind: self.edit(k, item))
            page.toggle_requested.connect(lambda item, k=kind: self.set_offered(k, item, not item.active))
        layout.addWidget(self.tabs, 1)

        desk.changed.connect(self._on_changed)
        desk.staff_changed.connect(lambda _member: self._apply_role())
        self._apply_role()

    # --- loading -------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        self._apply_role()
        services = self.desk.services

        def load() -> _Catalogue:
            return _Catalogue(
                catalogue.list_treatments(services, active_only=False),
                catalogue.list_products(services, active_only=False),
                catalogue.list_packages(services, active_only=False),
                catalogue.list_tiers(services, active_only=False),
            )

        self.desk.run(load, self._show, self._show_error)

    def _show(self, loaded: _Catalogue) -> None:
        self._catalogue = loaded
        self.status.hide()
        self.treatments.set_items(loaded.treatments)
        self.products.set_items(loaded.products)
        self.packages.set_items(loaded.packages)
        self.tiers.set_items(loaded.tiers)

    def _on_changed(self, what: frozenset[str]) -> None:
        if CATALOGUE in what:
            self.refresh()

    # --- changing the catalogue (manager) -----------------------------------------------------------------

    def add(self, kind: CatalogueKind) -> FormDialog | None:
        """Open the form for a new item of ``kind``; returns it (None when the signed-in staff may not)."""
        return self._open_form(kind, None)

    def edit(self, kind: CatalogueKind, item: Any) -> FormDialog | None:
        return self._open_form(kind, item)

    def set_offered(self, kind: CatalogueKind, item: Any, offered: bool) -> None:
        """Take ``item`` off sale, or offer it again."""
        if not self._may_change():
            return
        services, staff_id = self.desk.services, self.desk.staff_id
        change = catalogue.reactivate if offered else catalogue.deactivate

        def done(changed: Any) -> None:
            verb = "is offered again" if offered else "is no longer offered"
            self.desk.message.emit(f"{changed.name} {verb}.")

        self.desk.run(lambda: change(services, kind, item.id, staff_id=staff_id), done, self._show_error)

    def publish(self, folder: Path | None = None) -> None:
        """Publish the catalogue to the booking portal's folder (asks which, from the last one, when none)."""
        if not self._may_change():
            return
        if folder is None:
            folder = choose_folder(self, PORTAL, "Publish the booking portal to")
            if folder is None:
                return
        services, staff_id, out_dir = self.desk.services, self.desk.staff_id, folder
        self.publish_button.setEnabled(False)
        self.publish_button.setText("Publishing…")

        def finished() -> None:
            self.publish_button.setText("Publish to booking portal…")
            self._apply_role()

        def done(published: portal.Published) -> None:
            finished()
            self.status.hide()
            self.desk.message.emit(published.sentence)

        def failed(sentence: str) -> None:
            finished()
            self._show_error(sentence)

        self.desk.run(lambda: portal.publish_catalogue(services, out_dir, staff_id=staff_id), done, failed)

    def _open_form(self, kind: CatalogueKind, item: Any) -> FormDialog | None:
        if not self._may_change():
            return None
        if kind is CatalogueKind.TREATMENT:
            form: FormDialog = TreatmentForm(self.desk, item, parent=self)
        elif kind is CatalogueKind.PRODUCT:
            form = ProductForm(self.desk, item, parent=self)
        elif kind is CatalogueKind.PACKAGE:
            form = PackageForm(self.desk, self._catalogue.treatments, item, parent=self)
        else:
            form = TierForm(self.desk, item, parent=self)
        form.saved.connect(lambda saved: self.pages[kind].select(saved.id))
        self.form = form
        form.open()
        return form

    def _may_change(self) -> bool:
        if self.desk.is_manager:
            return True
        self._show_error(MANAGER_ONLY)
        return False

    def _apply_role(self) -> None:
        manager = self.desk.is_manager
        self.notice.setVisible(not manager)
        self.publish_button.setEnabled(manager)
        for page in self.pages.values():
            page.set_editable(manager)

    def _show_error(self, message: str) -> None:
        self.status.setText(message)
        self.status.show()


class CataloguePage(QWidget):
    """One tab: its buttons, a "show items no longer offered" switch and the list."""

    edit_requested = Signal(object)
    toggle_requested = Signal(object)

    def __init__(self, noun: str, add_text: str, columns: Sequence[Column], *, stretch: int = 0) -> None:
        super().__init__()
        self.noun = noun
        self._items: list[Any] = []
        self._wanted: str | None = None  # the id to select once the list holds it
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(10)
        bar = QHBoxLayout()
        self.add_button = QPushButton(add_text)
        self.add_button.setObjectName("primary")
        self.add_button.setToolTip("Ctrl+N")
        self.edit_button = QPushButton("Edit…")
        self.toggle_button = QPushButton("Stop offering")
        self.show_inactive = QCheckBox("Show what is no longer offered")
        for widget in (self.add_button, self.edit_button, self.toggle_button):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.show_inactive)
        layout.addLayout(bar)
        self.model = RowsModel(columns, muted=lambda item: not item.active, parent=self)
        self.table = rows_table(self.model, stretch=stretch)
        self.empty = QLabel("")
        self.empty.setObjectName("subtitle")
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        self._editable = False

        self.edit_button.clicked.connect(self._edit_selected)
        self.toggle_button.clicked.connect(self._toggle_selected)
        self.table.doubleClicked.connect(lambda _index: self._edit_selected())
        for keys, action in ((Qt.Key.Key_Return, self._edit_selected), ("Ctrl+N", self.add_button.click)):
            shortcut = QShortcut(QKeySequence(keys), self, activated=action)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # this tab only
        self.show_inactive.toggled.connect(lambda _on: self.set_items(self._items))
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self._update_buttons()

    def set_items(self, items: Sequence[Any]) -> None:
        """Show ``items`` (those no longer offered only when asked), keeping the selection where it was."""
        wanted = self._wanted or getattr(self.selected(), "id", None)
        self._wanted = None
        self._items = list(items)
        shown = [i for i in self._items if i.active or self.show_inactive.isChecked()]
        self.model.set_rows(shown)
        hidden = len(self._items) - len(shown)
        if not self._items:
            self.empty.setText(f"No {self.noun}s yet.")
        elif hidden:
            self.empty.setText(
                f"{hidden} {self.noun}{'s' if hidden != 1 else ''} no longer offered, not shown."
            )
        else:
            self.empty.setText("")
        row = None if wanted is None else self.model.row_of(wanted)
        if row is not None:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))
        self._update_buttons()

    def select(self, item_id: str) -> None:
        """Select the item now, or once the next ``set_items`` brings it (an item just added)."""
        row = self.model.row_of(item_id)
        if row is None:
            self._wanted = item_id
            if any(i.id == item_id and not i.active for i in self._items):
                self.show_inactive.setChecked(True)  # refills the list, with it
            return
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))

    def selected(self) -> Any:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def set_editable(self, editable: bool) -> None:
        self._editable = editable
        for button in (self.add_button, self.edit_button, self.toggle_button):
            button.setVisible(editable)
        self._update_buttons()

    def _update_buttons(self) -> None:
        item = self.selected()
        self.edit_button.setEnabled(item is not None)
        self.toggle_button.setEnabled(item is not None)
        self.toggle_button.setText("Offer again" if item is not None and not item.active else "Stop offering")

    def _edit_selected(self) -> None:
        item = self.selected()
        if item is not None and self._editable:
            self.edit_requested.emit(item)

    def _toggle_selected(self) -> None:
        item = self.selected()
        if item is not None:
            self.toggle_requested.emit(item)


# --- What each list shows ----------------------------------------------------------------------------------------


def _vat(basis_points: int) -> str:
    return "Exempt" if basis_points == 0 else fmt.percent(basis_points)


def _offered(item: Any) -> str:
    return "" if item.active else "No longer offered"


def _deposit(t: Treatment) -> str:
    rule = t.deposit_rule
    if rule.kind is DepositKind.FIXED:
        return fmt.money(rule.amount)
    if rule.kind is DepositKind.PERCENT:
        return f"{fmt.percent(rule.percent_bp)} of the price"
    return "None"


def _steps(p: Package) -> str:
    """ "Botox consultation ×1 → 2 days → Botox treatment ×1", "Microneedling ×6, 28 days apart"."""
    parts = []
    for step in p.steps:
        if step.position > 1 and step.min_days_after_previous:
            parts.append(_days(step.min_days_after_previous))
        apart = f", {_days(step.min_days_between_sessions)} apart" if step.min_days_between_sessions else ""
        parts.append(f"{step.name} ×{step.sessions}{apart}")
    return " → ".join(parts)


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def _covers(t: Tier) -> str:
    covered = [
        name
        for name, yes in (
            ("treatments", t.covers_treatments),
            ("products", t.covers_products),
            ("packages", t.covers_packages),
        )
        if yes
    ]
    return ", ".join(covered).capitalize() if covered else "Nothing"


_TREATMENT_COLUMNS = (
    Column("Name", lambda t: t.name),
    Column("Price", lambda t: fmt.money(t.price), RIGHT),
    Column("VAT", lambda t: _vat(t.vat_rate_bp)),
    Column("Duration", lambda t: f"{t.duration_minutes} min", RIGHT),
    Column("Deposit at booking", _deposit),
    Column("", _offered),
)
_PRODUCT_COLUMNS = (
    Column("Name", lambda p: p.name),
    Column("Price", lambda p: fmt.money(p.price), RIGHT),
    Column("VAT", lambda p: _vat(p.vat_rate_bp)),
    Column("", _offered),
)
_PACKAGE_COLUMNS = (
    Column("Name", lambda p: p.name),
    Column("Price", lambda p: fmt.money(p.price), RIGHT),
    Column("Valid for", lambda p: _days(p.validity_days), RIGHT),
    Column("Steps", _steps),
    Column("", _offered),
)
_TIER_COLUMNS = (
    Column("Name", lambda t: t.name),
    Column("Monthly", lambda t: fmt.money(t.monthly_price), RIGHT),
    Column("Sign-up fee", lambda t: fmt.money(t.signup_fee) if t.signup_fee else "None", RIGHT),
    Column("Discount", lambda t: fmt.percent(t.discount_bp), RIGHT),
    Column("Discount covers", _covers),
    Column(
        "Benefits start",
        lambda t: "At sign-up" if t.benefits_start.value == "sign_up" else "At the first payment",
    ),
    Column("Grace", lambda t: _days(t.grace_days), RIGHT),
    Column("", _offered),
)
