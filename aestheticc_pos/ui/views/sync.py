"""The Sync screen: is the till in touch with GoCardless, what is waiting, what needs a person, what happened.

Everything here is read through ``services.sync_status`` after each sync cycle (and on demand): the state from
the runner, the work queued, the work GoCardless refused (a manager may retry it after fixing its cause, or
discard it with a reason), members who need a new Direct Debit link, and the recent events GoCardless sent.
With it, ``membership_billing.memberships_not_billed``: members with a Direct Debit whom nothing bills
monthly (a manager starts their billing again). In training mode a practice panel makes the simulated
GoCardless report the rarer turns (``sync_practice.py``).
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import membership_billing, memberships, sync_status
from aestheticc_pos.services.membership_billing import NotBilled
from aestheticc_pos.services.membership_views import MembershipView
from aestheticc_pos.services.sync_status import AttentionItem, EventLogEntry, LinkToSend, SyncOverview
from aestheticc_pos.sync.runner import SyncState, SyncStatus
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.forms import error_label
from aestheticc_pos.ui.models.rows import Column, RowsModel, rows_table
from aestheticc_pos.ui.topics import MEMBERSHIPS, SYNC
from aestheticc_pos.ui.views.sync_practice import PracticePanel

STATUS_WORDS = {
    SyncStatus.NOT_CONFIGURED: "Not set up",
    SyncStatus.NO_KEYRING: "No keyring",
    SyncStatus.STARTING: "Connecting…",
    SyncStatus.ONLINE: "Online",
    SyncStatus.OFFLINE: "Offline",
    SyncStatus.TOKEN_REFUSED: "Token refused",
    SyncStatus.FAILED: "Stopped — retrying",
}
STATUS_COLOURS = {
    SyncStatus.ONLINE: "#2e7d5b",
    SyncStatus.OFFLINE: "#b26a00",
    SyncStatus.STARTING: "#6b7280",
    SyncStatus.NOT_CONFIGURED: "#6b7280",
}
ALARM = "#b3261e"
ALL_BILLED = "Every member with a Direct Debit is being billed each month."


def _ago(moment: dt.datetime | None, now: dt.datetime) -> str:
    if moment is None:
        return "never"
    seconds = max(int((now - moment).total_seconds()), 0)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        minutes = seconds // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    if seconds < 86400:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    days = seconds // 86400
    return f"{days} day{'s' if days != 1 else ''} ago"


class SyncView(QWidget):
    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.overview: SyncOverview | None = None
        self.not_billed: list[NotBilled] = []
        content = _Page()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSpacing(12)
        title = QLabel("Sync with GoCardless")
        title.setObjectName("title")
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("subtitle")
        layout.addWidget(title)
        layout.addWidget(self.subtitle)

        card = QFrame()
        card.setObjectName("card")
        row = QHBoxLayout(card)
        row.setContentsMargins(20, 16, 20, 16)
        facts = QVBoxLayout()
        self.state_label = QLabel("")
        self.state_label.setObjectName("heading")
        self.sentence = QLabel("")
        self.sentence.setWordWrap(True)
        self.last_sync = QLabel("")
        self.last_sync.setObjectName("muted")
        self.queued = QLabel("")
        self.queued.setObjectName("muted")
        for widget in (self.state_label, self.sentence, self.last_sync, self.queued):
            facts.addWidget(widget)
        row.addLayout(facts, 1)
        self.sync_now_button = QPushButton("Sync now")
        self.sync_now_button.setObjectName("primary")
        self.sync_now_button.clicked.connect(self.sync_now)
        row.addWidget(self.sync_now_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(card)

        self.error = error_label()
        layout.addWidget(self.error)

        # Training mode: make the simulated GoCardless report something, where its effects show.
        practice = (
            None if desk.sync is None or desk.sync.connection is None else desk.sync.connection.practice
        )
        self.practice = None if practice is None else PracticePanel(desk, practice)
        if self.practice is not None:
            layout.addWidget(self.practice)

        # Needs attention
        self.attention_title = QLabel("Needs attention")
        self.attention_title.setObjectName("heading")
        layout.addWidget(self.attention_title)
        self.attention_model = RowsModel(
            (
                Column("Client", lambda a: a.client_name or "—"),
                Column("What", lambda a: a.what),
                Column("Why GoCardless refused it", lambda a: a.error, tip=lambda a: a.error),
                Column("Waiting behind it", lambda a: str(a.held_back) if a.held_back else "—"),
            ),
            parent=self,
        )
        self.attention_table = rows_table(self.attention_model, stretch=2)
        self.attention_table.setMaximumHeight(170)
        self.attention_table.selectionModel().selectionChanged.connect(lambda *_: self._enable())
        layout.addWidget(self.attention_table)
        self.attention_empty = QLabel("Nothing needs attention.")
        self.attention_empty.setObjectName("muted")
        layout.addWidget(self.attention_empty)
        actions = QHBoxLayout()
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Send it again at the next sync, once its cause is fixed")
        self.retry_button.clicked.connect(self.retry_selected)
        self.discard_button = QPushButton("Discard…")
        self.discard_button.clicked.connect(self.discard_selected)
        self.manager_hint = QLabel("Only a manager can retry or discard refused work.")
        self.manager_hint.setObjectName("muted")
        actions.addWidget(self.retry_button)
        actions.addWidget(self.discard_button)
        actions.addWidget(self.manager_hint)
        actions.addStretch(1)
        layout.addLayout(actions)

        # New links
        self.links_title = QLabel("Members who need a new Direct Debit link")
        self.links_title.setObjectName("heading")
        layout.addWidget(self.links_title)
        self.links_model = RowsModel(
            (Column("Member", lambda link: link.client_name), Column("Why", lambda link: link.reason)),
            parent=self,
        )
        self.links_table = rows_table(self.links_model, stretch=1)
        self.links_table.setMaximumHeight(130)
        self.links_table.selectionModel().selectionChanged.connect(lambda *_: self._enable())
        layout.addWidget(self.links_table)
        links_actions = QHBoxLayout()
        self.new_link_button = QPushButton("Prepare a new link")
        self.new_link_button.clicked.connect(self.new_link_for_selected)
        links_actions.addWidget(self.new_link_button)
        links_actions.addStretch(1)
        layout.addLayout(links_actions)

        # Not being billed
        billed_title = QLabel("Not being billed")
        billed_title.setObjectName("heading")
        layout.addWidget(billed_title)
        self.not_billed_model = RowsModel(
            (
                Column("Member", lambda n: n.client_name),
                Column("Tier", lambda n: n.tier_name),
                Column("Why", lambda n: n.reason, tip=lambda n: n.reason),
            ),
            parent=self,
        )
        self.not_billed_table = rows_table(self.not_billed_model, stretch=2)
        self.not_billed_table.setMaximumHeight(130)
        self.not_billed_table.selectionModel().selectionChanged.connect(lambda *_: self._enable())
        layout.addWidget(self.not_billed_table)
        self.not_billed_empty = QLabel(ALL_BILLED)
        self.not_billed_empty.setObjectName("muted")
        layout.addWidget(self.not_billed_empty)
        for widget in (self.not_billed_table, self.not_billed_empty):
            widget.hide()  # until the list is loaded
        billing_actions = QHBoxLayout()
        self.start_billing_button = QPushButton("Start billing")
        self.start_billing_button.setToolTip(
            "Send GoCardless the member's monthly collection at the next sync"
        )
        self.start_billing_button.clicked.connect(self.start_billing_for_selected)
        self.billing_hint = QLabel("Only a manager can start billing.")
        self.billing_hint.setObjectName("muted")
        billing_actions.addWidget(self.start_billing_button)
        billing_actions.addWidget(self.billing_hint)
        billing_actions.addStretch(1)
        layout.addLayout(billing_actions)

        # Recent events
        recent = QLabel("Recent events from GoCardless")
        recent.setObjectName("heading")
        heading_row = QHBoxLayout()
        heading_row.addWidget(recent)
        heading_row.addStretch(1)
        self.all_events = QCheckBox("Show every event")
        self.all_events.setToolTip("Also the steps GoCardless reports that change nothing at the clinic")
        self.all_events.toggled.connect(lambda _on: self._show_events())
        heading_row.addWidget(self.all_events)
        layout.addLayout(heading_row)
        self.events_model = RowsModel(
            (
                Column("When", lambda e: fmt.date_time(e.at, self.desk.settings.tz)),
                Column("What", lambda e: e.what),
                Column("Client", lambda e: e.client_name or "—"),
                Column("Result", _event_result, tip=_event_result),
            ),
            muted=lambda e: e.outcome != "applied",
            parent=self,
        )
        self.events_table = rows_table(self.events_model, stretch=3)
        layout.addWidget(self.events_table, 1)
        # With every section full the page is taller than a small screen: it scrolls, the window never grows.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        # Bound methods, not lambdas: Qt drops the connections when this view goes.
        desk.changed.connect(self._on_changed)
        desk.staff_changed.connect(self._on_staff)
        if desk.sync is not None:
            desk.sync.state_changed.connect(self._on_state)
        self._show_state()
        self._enable()

    # --- loading -------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        services = self.desk.services

        def load() -> tuple[SyncOverview, list[NotBilled]]:
            return sync_status.sync_overview(services), membership_billing.memberships_not_billed(services)

        self.desk.run(load, self._show, self._show_error)
        if self.practice is not None:
            self.practice.refresh()

    def _on_staff(self, _member: object) -> None:
        self._enable()

    def _on_state(self, _state: object) -> None:
        self._show_state()

    def _on_changed(self, what: frozenset[str]) -> None:
        if what & {SYNC, MEMBERSHIPS}:
            self.refresh()

    def _show(self, loaded: tuple[SyncOverview, list[NotBilled]]) -> None:
        overview, not_billed = loaded  # a refusal stays shown: a background sync refreshes this screen too
        self.overview = overview
        self.not_billed = not_billed
        self.not_billed_model.set_rows(not_billed)
        self.not_billed_table.setVisible(bool(not_billed))
        self.not_billed_empty.setVisible(not not_billed)
        self.attention_model.set_rows(overview.attention)
        self.attention_empty.setVisible(not overview.attention)
        self.attention_table.setVisible(bool(overview.attention))
        self.links_model.set_rows(overview.links_to_send)
        for widget in (self.links_title, self.links_table, self.new_link_button):
            widget.setVisible(bool(overview.links_to_send))
        self._show_events()
        self._show_state()
        self._enable()

    def _show_events(self) -> None:
        recent = () if self.overview is None else self.overview.recent
        if not self.all_events.isChecked():
            recent = tuple(e for e in recent if e.outcome != "ignored")
        self.events_model.set_rows(recent)

    def _show_state(self) -> None:
        bridge = self.desk.sync
        state: SyncState | None = None if bridge is None else bridge.state
        if bridge is not None and bridge.training:
            where = "Training: a simulated GoCardless on this computer. No real money moves."
        elif bridge is not None and bridge.connection is not None:
            where = f"GoCardless {bridge.connection.environment} environment."
        else:
            where = "GoCardless is not connected on this till."
        self.subtitle.setText(where)
        status = SyncStatus.NOT_CONFIGURED if state is None else state.status
        colour = STATUS_COLOURS.get(status, ALARM)
        self.state_label.setText(f"<span style='color:{colour}'>●</span> {STATUS_WORDS[status]}")
        self.sentence.setText("" if state is None else state.sentence)
        now = self.desk.services.now()
        last = None if self.overview is None else self.overview.last_successful_sync
        when = (
            "never" if last is None else f"{fmt.date_time(last, self.desk.settings.tz)} ({_ago(last, now)})"
        )
        self.last_sync.setText(f"Last successful sync: {when}")
        queued = 0 if self.overview is None else self.overview.queued
        retrying = 0 if self.overview is None else self.overview.retrying
        text = f"Waiting to be sent: {queued}" if queued else "Nothing waiting to be sent."
        if retrying:
            text += f" ({retrying} will be tried again after a network problem)"
        connected = bridge is not None and (bridge.training or bridge.connection is not None)
        if not connected:  # never "nothing needs attention" while nothing can be sent
            text = (
                f"{queued} waiting to be sent, and nothing is sent until GoCardless is connected: "
                "a manager connects it in Settings → GoCardless."
                if queued
                else "Nothing is sent from this till until GoCardless is connected (Settings → GoCardless)."
            )
        self.attention_empty.setText(
            "Nothing needs attention."
            if connected
            else "Nothing has been refused: the work waits for GoCardless."
        )
        self.queued.setText(text)
        self.sync_now_button.setEnabled(bridge is not None and bridge.connection is not None)

    def _enable(self) -> None:
        manager = self.desk.may(Action.RESOLVE_SYNC)
        chosen = self.selected_item() is not None
        self.retry_button.setEnabled(manager and chosen)
        self.discard_button.setEnabled(manager and chosen)
        has_items = bool(self.overview and self.overview.attention)
        for widget in (self.retry_button, self.discard_button):
            widget.setVisible(has_items)
        self.manager_hint.setVisible(has_items and not manager)
        self.new_link_button.setEnabled(
            self.desk.may(Action.MANAGE_MEMBERSHIPS) and self.selected_link() is not None
        )
        self.start_billing_button.setVisible(bool(self.not_billed))
        self.start_billing_button.setEnabled(manager and self.selected_not_billed() is not None)
        self.billing_hint.setVisible(bool(self.not_billed) and not manager)

    def _show_error(self, sentence: str) -> None:
        self.error.setText(sentence)
        self.error.show()

    # --- actions -------------------------------------------------------------------------------------------

    def selected_item(self) -> AttentionItem | None:
        rows = self.attention_table.selectionModel().selectedRows()
        return self.attention_model.row(rows[0].row()) if rows else None

    def selected_link(self) -> LinkToSend | None:
        rows = self.links_table.selectionModel().selectedRows()
        return self.links_model.row(rows[0].row()) if rows else None

    def selected_not_billed(self) -> NotBilled | None:
        rows = self.not_billed_table.selectionModel().selectedRows()
        return self.not_billed_model.row(rows[0].row()) if rows else None

    def sync_now(self) -> None:
        if self.desk.sync is not None:
            self.desk.sync.sync_now()
            self.desk.message.emit("Syncing with GoCardless now…")

    def retry_selected(self) -> None:
        self.error.hide()  # the last refusal was about an earlier action
        item = self.selected_item()
        if item is None:
            return
        services, staff_id = self.desk.services, self.desk.staff_id

        def done(_: object) -> None:
            self.desk.message.emit(f"It will be sent again: {item.what}.")
            self.sync_now()

        self.desk.run(
            lambda: sync_status.retry_item(services, outbox_id=item.id, staff_id=staff_id),
            done,
            self._show_error,
        )

    def discard_selected(self, reason: str | None = None) -> None:
        self.error.hide()  # the last refusal was about an earlier action
        item = self.selected_item()
        if item is None:
            return
        if reason is None:
            reason, ok = QInputDialog.getText(
                self,
                "Discard this work",
                f"Why is “{item.what}” for {item.client_name or 'this record'} discarded?\n"
                "It will never be sent; the reason is kept in the audit log.",
            )
            if not ok:
                return
        services, staff_id = self.desk.services, self.desk.staff_id

        def done(count: int) -> None:
            extra = f" with {count - 1} later step{'s' if count > 2 else ''}" if count > 1 else ""
            self.desk.message.emit(f"Discarded{extra}: {item.what}.")

        self.desk.run(
            lambda: sync_status.discard_item(
                services, outbox_id=item.id, staff_id=staff_id, reason=reason or ""
            ),
            done,
            self._show_error,
        )

    def new_link_for_selected(self) -> None:
        self.error.hide()  # the last refusal was about an earlier action
        link = self.selected_link()
        if link is None:
            return
        services, staff_id = self.desk.services, self.desk.staff_id

        def done(view: MembershipView) -> None:
            self.desk.message.emit(
                f"A new Direct Debit link for {view.client_name} is being prepared; it shows on their membership "
                "once the till has reached GoCardless."
            )
            self.sync_now()

        self.desk.run(
            lambda: memberships.send_new_mandate_link(
                services, membership_id=link.membership_id, staff_id=staff_id
            ),
            done,
            self._show_error,
        )

    def start_billing_for_selected(self) -> None:
        self.error.hide()  # the last refusal was about an earlier action
        chosen = self.selected_not_billed()
        if chosen is None:
            return
        services, staff_id = self.desk.services, self.desk.staff_id

        def done(_outbox_id: str) -> None:
            self.desk.message.emit(
                f"{chosen.client_name}'s monthly collection will be sent to GoCardless at the next sync."
            )
            self.sync_now()

        self.desk.run(
            lambda: membership_billing.start_billing(
                services, membership_id=chosen.membership_id, staff_id=staff_id
            ),
            done,
            self._show_error,
        )


class _Page(QWidget):
    """The screen inside its scroll area: as tall as the window, or as its minimum when that is taller.
    (For a page with word-wrapped labels a scroll area otherwise takes the page's preferred height, and the
    tables' preferred heights make it scroll when everything would fit.)"""

    def heightForWidth(self, _width: int) -> int:
        return self.minimumSizeHint().height()


def _event_result(entry: EventLogEntry) -> str:
    if entry.note:
        return entry.note
    return {"applied": "Recorded", "ignored": "Nothing to do", "deferred": "Waiting for its record"}.get(
        entry.outcome, entry.outcome
    )
