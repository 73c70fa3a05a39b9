"""A client's record: details, packages (used / booked / left per step, expiry), membership and its Direct
Debit, appointments to come and past, and what they bought.

Everything is read in one background call, in one transaction (``services/client_record.py``), so the screen
shows one consistent moment and the window never waits on the database. It reloads when the desk reports a change to clients,
appointments, sales, packages or memberships.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.appointments import AppointmentStatus
from aestheticc_pos.domain.memberships import MembershipStatus
from aestheticc_pos.services.appointments import AppointmentView
from aestheticc_pos.services.client_record import ClientRecord, client_record, package_is_open
from aestheticc_pos.services.membership_views import MembershipView
from aestheticc_pos.services.sales import Receipt
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.dialogs.client_form import ClientFormDialog
from aestheticc_pos.ui.models.clients import phone_text
from aestheticc_pos.ui.topics import APPOINTMENTS, CLIENTS, MEMBERSHIPS, PACKAGES, SALES
from aestheticc_pos.ui.widgets.package_progress import PackageProgress

WATCHED = frozenset({CLIENTS, APPOINTMENTS, SALES, PACKAGES, MEMBERSHIPS})
_LOCAL_STYLE = """
QTabWidget::pane { border: 1px solid #e4dfd8; border-radius: 8px; background: #ffffff; top: -1px; }
QTabBar::tab { background: #ece8f3; color: #3d3550; padding: 8px 16px; margin-right: 4px;
               border-top-left-radius: 6px; border-top-right-radius: 6px; }
QTabBar::tab:selected { background: #ffffff; font-weight: 600; }
QLabel#muted { color: #6b6478; }
QLabel#caption { color: #6b6478; }
QScrollArea, QScrollArea > QWidget > QWidget { background: #ffffff; border: none; }
QScrollArea QLabel { background: transparent; }
QTreeWidget, QTableWidget { border: none; }
QTreeWidget::item { padding: 6px 0; }
QTableWidget::item, QTreeWidget::item { padding-left: 6px; padding-right: 10px; }
"""
_APPOINTMENT_WORDS = {
    AppointmentStatus.BOOKED: "Booked",
    AppointmentStatus.ATTENDED: "Attended",
    AppointmentStatus.CANCELLED: "Cancelled",
    AppointmentStatus.LATE_CANCELLED: "Late cancellation",
    AppointmentStatus.NO_SHOW: "No-show",
}
_MEMBERSHIP_WORDS = {
    MembershipStatus.PENDING_MANDATE: "Waiting for the Direct Debit",
    MembershipStatus.ACTIVE: "Active",
    MembershipStatus.PAST_DUE: "Payment missed",
    MembershipStatus.SUSPENDED: "Suspended: arrears to pay",
    MembershipStatus.PAUSED: "Paused",
    MembershipStatus.CANCELLING: "Notice given",
    MembershipStatus.ENDED: "Ended",
}


class ClientRecordView(QWidget):
    """``show_client(id)`` loads and shows a client; ``refresh()`` reloads the one shown."""

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.record: ClientRecord | None = None
        self.form: ClientFormDialog | None = None
        self._client_id: str | None = None
        self._asked = 0  # number of the newest load asked for; older answers are dropped
        self.setStyleSheet(_LOCAL_STYLE)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(32, 16, 32, 24)
        outer.setSpacing(12)
        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        self.title = QLabel("")
        self.title.setObjectName("title")
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("subtitle")
        self.subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        header.addLayout(titles, 1)
        self.edit_button = QPushButton("Edit details")
        self.edit_button.setToolTip("Ctrl+E")
        self.edit_button.setEnabled(False)
        self.edit_button.clicked.connect(self.edit)
        header.addWidget(self.edit_button, alignment=Qt.AlignmentFlag.AlignTop)
        outer.addLayout(header)

        body = QHBoxLayout()
        body.setSpacing(20)
        side = QVBoxLayout()
        side.setSpacing(16)
        self.details_card, self.details = _card("Details")
        self.membership_card, self.membership = _card("Membership")
        side.addWidget(self.details_card)
        side.addWidget(self.membership_card)
        side.addStretch(1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setFixedWidth(380)
        body.addWidget(side_widget)

        self.tabs = QTabWidget()
        self.packages_list = QVBoxLayout()
        self.packages_list.setContentsMargins(16, 16, 16, 16)
        self.packages_list.setSpacing(12)
        packages_page = QWidget()
        packages_page.setLayout(self.packages_list)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(packages_page)
        self.upcoming_table = _appointments_table()
        self.past_table = _appointments_table()
        self.sales_tree = _sales_tree()
        for page in (scroll, self.upcoming_table, self.past_table, self.sales_tree):
            self.tabs.addTab(page, "")
        for table in (self.upcoming_table, self.past_table):
            table.cellDoubleClicked.connect(lambda row, _col, t=table: self._open_appointment(t, row))
        body.addWidget(self.tabs, 1)
        outer.addLayout(body, 1)

        shortcut = QShortcut(QKeySequence("Ctrl+E"), self, activated=self.edit)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        desk.changed.connect(self._on_changed)
        self._set_tab_titles(None)

    @property
    def client_id(self) -> str | None:
        return self._client_id

    def show_client(self, client_id: str) -> None:
        if client_id != self._client_id:
            self.record = None
            self._client_id = client_id
            self.title.setText("Opening the client record…")
            self.subtitle.clear()
            self.edit_button.setEnabled(False)
        self.refresh()

    def refresh(self) -> None:
        if self._client_id is None:
            return
        self._asked += 1
        asked, client_id, services = self._asked, self._client_id, self.desk.services
        self.desk.run(
            lambda: client_record(services, client_id),
            lambda record: self._show(asked, record),
            lambda message: self._failed(asked, message),
        )

    def edit(self) -> None:
        if self.record is None:
            return
        self.form = ClientFormDialog(self.desk, self.record.client, parent=self)
        self.form.open()

    # --- showing -----------------------------------------------------------------------------------------

    def _show(self, asked: int, record: ClientRecord) -> None:
        if not shiboken6.isValid(self) or asked != self._asked or record.client.id != self._client_id:
            return
        self.record = record
        client = record.client
        self.title.setText(client.full_name)
        self.subtitle.setText(_at_a_glance(record, self.desk.settings.tz))
        self.edit_button.setEnabled(True)
        self._show_details(record)
        self._show_membership(record.membership)
        self._show_packages(record)
        tz = self.desk.settings.tz
        _fill_appointments(self.upcoming_table, record.upcoming, tz)
        _fill_appointments(self.past_table, record.past, tz)
        _fill_sales(self.sales_tree, record.sales, tz)
        self._set_tab_titles(record)

    def _failed(self, asked: int, message: str) -> None:
        if not shiboken6.isValid(self) or asked != self._asked:
            return
        self.title.setText("This record could not be opened")
        self.subtitle.setText(message)
        self.edit_button.setEnabled(self.record is not None)

    def _show_details(self, record: ClientRecord) -> None:
        client = record.client
        born = "Not given"
        if client.date_of_birth:
            born = f"{fmt.date(client.date_of_birth)} (age {_age(client.date_of_birth, record.today)})"
        _fill_rows(
            self.details,
            [
                ("Phone", phone_text(client.phone) or "Not given"),
                ("Email", _Elided(client.email or "Not given")),
                ("Date of birth", born),
                ("Marketing", "Agrees to offers and news" if client.marketing_consent else "No marketing"),
                ("Notes", client.notes or "None"),
            ],
        )

    def _show_membership(self, m: MembershipView | None) -> None:
        if m is None:
            _fill_rows(self.membership, [("", "Not a member.")])
            return
        discount = fmt.percent(m.discount_bp)
        rows = [
            ("Tier", f"{m.tier_name} · {fmt.money(m.monthly_price)} a month"),
            ("Status", _MEMBERSHIP_WORDS.get(m.status, m.status.value)),
            ("Direct Debit", m.direct_debit[:1].upper() + m.direct_debit[1:]),
            ("Paid through", fmt.date(m.paid_through) or "Nothing collected yet"),
            ("Discount", f"{discount} today" if m.discount_in_force else f"{discount}, not in force today"),
        ]
        if m.past_due_since:
            rows.append(("Missed since", fmt.date(m.past_due_since)))
        if m.retry_on:
            rows.append(("", f"GoCardless will try the failed payment again on {fmt.date(m.retry_on)}."))
        if m.ends_on:
            rows.append(("Ends on", fmt.date(m.ends_on)))
        _fill_rows(self.membership, rows)

    def _show_packages(self, record: ClientRecord) -> None:
        _clear(self.packages_list)
        if not record.packages:
            empty = QLabel("No packages bought yet.")
            empty.setObjectName("muted")
            self.packages_list.addWidget(empty)
        for summary in record.packages:
            self.packages_list.addWidget(PackageProgress(summary, record.today))
        self.packages_list.addStretch(1)

    def _set_tab_titles(self, record: ClientRecord | None) -> None:
        def titled(text: str, count: int | None) -> str:
            return f"{text} ({count})" if count else text

        self.tabs.setTabText(0, titled("Packages", record and sum(map(package_is_open, record.packages))))
        self.tabs.setTabText(1, titled("Upcoming", record and len(record.upcoming)))
        self.tabs.setTabText(2, titled("Past appointments", record and len(record.past)))
        self.tabs.setTabText(3, titled("Purchases", record and len(record.sales)))

    def _open_appointment(self, table: QTableWidget, row: int) -> None:
        item = table.item(row, 0)
        if item is not None and item.data(Qt.ItemDataRole.UserRole):
            self.desk.open_appointment.emit(item.data(Qt.ItemDataRole.UserRole))

    def _on_changed(self, what: frozenset[str]) -> None:
        if what & WATCHED:
            self.refresh()


# --- helpers -------------------------------------------------------------------------------------------------


def _card(heading: str) -> tuple[QFrame, QGridLayout]:
    card = QFrame()
    card.setObjectName("card")
    box = QVBoxLayout(card)
    box.setContentsMargins(16, 12, 16, 14)
    title = QLabel(heading)
    title.setObjectName("heading")
    box.addWidget(title)
    rows = QGridLayout()
    rows.setHorizontalSpacing(14)
    rows.setVerticalSpacing(6)
    rows.setColumnStretch(1, 1)
    box.addLayout(rows)
    return card, rows


def _fill_rows(grid: QGridLayout, rows: list[tuple[str, str | QLabel]]) -> None:
    _clear(grid)
    for index, (caption, value) in enumerate(rows):
        if caption:
            label = QLabel(caption)
            label.setObjectName("caption")
            grid.addWidget(label, index, 0, alignment=Qt.AlignmentFlag.AlignTop)
        if isinstance(value, QLabel):
            text = value
        else:
            text = QLabel(value)
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(text, index, 1 if caption else 0, 1, 1 if caption else 2)


class _Elided(QLabel):
    """One line that ends in "…" when it does not fit (a long email address); the tooltip holds all of it."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.setToolTip(text)
        self.setMinimumWidth(40)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def paintEvent(self, _event: object) -> None:
        painter = QPainter(self)
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.width())
        painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), shown)
        painter.end()


def _clear(layout: QGridLayout | QVBoxLayout) -> None:
    while layout.count():
        widget = layout.takeAt(0).widget()
        if widget is not None:
            widget.hide()  # gone now, deleted when control returns to the event loop
            widget.deleteLater()


def _appointments_table() -> QTableWidget:
    table = QTableWidget(0, 5)
    table.setHorizontalHeaderLabels(["Date", "Time", "Treatment", "Practitioner", "Status"])
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.verticalHeader().setDefaultSectionSize(32)
    _set_widths(table.horizontalHeader(), stretch=2)
    return table


def _fill_appointments(table: QTableWidget, appointments: list[AppointmentView], tz: ZoneInfo) -> None:
    table.setRowCount(len(appointments))
    for row, a in enumerate(appointments):
        local = a.starts_at.astimezone(tz)
        treatment = a.treatment_name
        if a.package_name:
            treatment += (
                f" ({a.package_name}, step {a.step_position})" if a.step_position else f" ({a.package_name})"
            )
        cells = (
            fmt.date(local.date()),
            fmt.time(a.starts_at, tz),
            treatment,
            a.practitioner_name,
            _APPOINTMENT_WORDS.get(a.status, a.status.value),
        )
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            if column == 0:
                item.setData(Qt.ItemDataRole.UserRole, a.id)
            table.setItem(row, column, item)


def _sales_tree() -> QTreeWidget:
    tree = QTreeWidget()
    tree.setColumnCount(4)
    tree.setHeaderLabels(["Date", "Number", "Items", "Total"])
    tree.setAlternatingRowColors(True)
    tree.setUniformRowHeights(True)
    tree.setRootIsDecorated(True)
    tree.header().setStretchLastSection(False)
    _set_widths(tree.header(), stretch=2)
    tree.headerItem().setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return tree


def _fill_sales(tree: QTreeWidget, sales: list[Receipt], tz: ZoneInfo) -> None:
    tree.clear()
    right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    for sale in sales:
        local = sale.created_at.astimezone(tz)
        items = ", ".join(
            line.name if line.quantity == 1 else f"{line.name} ×{line.quantity}" for line in sale.lines
        )
        top = QTreeWidgetItem([fmt.date(local.date()), sale.number, items, fmt.money(sale.net)])
        top.setToolTip(2, items)
        top.setTextAlignment(3, right)
        for line in sale.lines:
            text = (
                line.name
                if line.quantity == 1
                else f"{line.name} × {line.quantity} at {fmt.money(line.unit_price)}"
            )
            if line.discount.pence:
                text += f"  ({line.discount_reason or 'discount'} {fmt.money(-line.discount)})"
            child = QTreeWidgetItem(["", "", text, fmt.money(line.net)])
            child.setToolTip(2, text)
            child.setTextAlignment(3, right)
            top.addChild(child)
        tree.addTopLevelItem(top)


def _set_widths(header: QHeaderView, *, stretch: int) -> None:
    """Every column as wide as its widest date, time or name (nothing clipped, whatever the font), column
    ``stretch`` taking the rest; headings left-aligned like the cells."""
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)


def _at_a_glance(record: ClientRecord, tz: ZoneInfo) -> str:
    """The line under the name: age, membership, sessions left, next appointment."""
    parts = []
    if record.client.date_of_birth:
        parts.append(f"Age {_age(record.client.date_of_birth, record.today)}")
    m = record.membership
    if m is not None:
        state = (
            ""
            if m.status is MembershipStatus.ACTIVE
            else f" ({_MEMBERSHIP_WORDS.get(m.status, m.status.value).lower()})"
        )
        parts.append(f"{m.tier_name} member{state}")
    open_packages = [p for p in record.packages if package_is_open(p)]
    if open_packages:
        left = sum(p.remaining for p in open_packages)
        parts.append(f"{left} package session{'s' if left != 1 else ''} left")
    if record.upcoming:
        parts.append(f"next visit {fmt.date(record.upcoming[0].starts_at.astimezone(tz).date())}")
    return "  ·  ".join(parts) or "No visits booked"


def _age(born: dt.date, today: dt.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
