"""The Staff screen, for managers: the team with each person's role and state (active, locked out, PIN reset,
left), and what a manager does for them: add someone, change a name or role, reset a forgotten PIN (they
choose a new one at their next sign-in), lift a lockout, mark a leaver (kept in the history, no longer able to
sign in or be booked). Every change goes through ``services/team.py`` or ``services/staff.py``, which audit it.

A reset or a leaver is asked to be confirmed in a space kept under the buttons, where every sentence (a
refusal, what was done) goes too, so nothing moves under the mouse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services import team as team_service
from aestheticc_pos.services.team import TeamMember
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.dialogs.staff_form import StaffForm
from aestheticc_pos.ui.models.rows import Column, RowsModel, rows_table

MANAGER_ONLY = "Only a manager can see and change the team."
ERROR_COLOUR, DONE_COLOUR = "#a4262c", "#2e7d5b"


def status_text(member: TeamMember, tz: Any) -> str:
    """What the Staff screen says of someone: left, locked out, waiting to choose a PIN, or active."""
    if not member.active:
        return f"Left on {fmt.date(member.left_at.astimezone(tz).date())}" if member.left_at else "Left"
    if member.locked_until is not None:
        return f"Locked until {fmt.time(member.locked_until, tz)} ({member.wrong_pins} wrong PINs)"
    if member.pin_reset:
        return "PIN reset: chooses a new one at sign-in"
    if member.wrong_pins:
        return f"Active ({member.wrong_pins} wrong PIN{'s' if member.wrong_pins > 1 else ''})"
    return "Active"


class StaffView(QWidget):
    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.form: StaffForm | None = None
        self._confirmed: Callable[[], None] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSpacing(12)
        title = QLabel("Staff")
        title.setObjectName("title")
        subtitle = QLabel(
            "Who works here. Add someone, change a role, reset a forgotten PIN, lift a lockout or mark a leaver."
        )
        subtitle.setObjectName("subtitle")
        subtitle.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(subtitle)

        tools = QHBoxLayout()
        self.add_button = QPushButton("Add a member of staff…")
        self.add_button.setObjectName("primary")
        self.add_button.setToolTip("Ctrl+N")
        self.add_button.clicked.connect(self.add_member)
        QShortcut(QKeySequence("Ctrl+N"), self, activated=self.add_member)
        self.edit_button = QPushButton("Edit name and role…")
        self.edit_button.clicked.connect(self.edit_member)
        self.reset_button = QPushButton("Reset PIN")
        self.reset_button.clicked.connect(self.ask_reset_pin)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.clicked.connect(self.unlock)
        self.leave_button = QPushButton("Mark as left…")
        self.leave_button.clicked.connect(self.ask_mark_as_left)
        for button in (
            self.add_button,
            self.edit_button,
            self.reset_button,
            self.unlock_button,
            self.leave_button,
        ):
            tools.addWidget(button)
        tools.addStretch(1)
        self.show_left = QCheckBox("Show people who have left")
        self.show_left.toggled.connect(lambda _on: self.refresh())
        tools.addWidget(self.show_left)
        layout.addLayout(tools)

        # One space, kept whatever it shows: the last sentence, or a question to confirm. The table never moves.
        self.notice = QStackedWidget()
        self.notice.setFixedHeight(64)
        self.status = QLabel(" ")
        self.status.setWordWrap(True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.confirm = self._confirm_strip()
        self.notice.addWidget(self.status)
        self.notice.addWidget(self.confirm)
        layout.addWidget(self.notice)

        self.model = RowsModel(
            (
                Column("Name", lambda m: m.name),
                Column("Role", lambda m: m.role.value.title()),
                Column("Status", lambda m: status_text(m, self.desk.settings.tz)),
            ),
            muted=lambda m: not m.active,
            parent=self,
        )
        self.table = rows_table(self.model, stretch=2)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._enable())
        self.table.doubleClicked.connect(lambda _index: self.edit_member())
        layout.addWidget(self.table, 1)
        self._enable()

    def _confirm_strip(self) -> QFrame:
        strip = QFrame()
        strip.setObjectName("card")
        row = QHBoxLayout(strip)
        row.setContentsMargins(16, 8, 16, 8)
        self.confirm_text = QLabel("")
        self.confirm_text.setWordWrap(True)
        self.confirm_yes = QPushButton("Yes")
        self.confirm_yes.setObjectName("primary")
        self.confirm_yes.clicked.connect(self._confirm)
        self.confirm_no = QPushButton("Keep as it is")
        self.confirm_no.clicked.connect(self._cancel_confirm)
        row.addWidget(self.confirm_text, 1)
        row.addWidget(self.confirm_yes)
        row.addWidget(self.confirm_no)
        return strip

    # --- what the window calls -----------------------------------------------------------------------------

    def refresh(self, chosen_id: str | None = None) -> None:
        """Load the team, keeping the row chosen (or choosing ``chosen_id``: someone just added)."""
        if not self.desk.may(Action.MANAGE_STAFF):
            self._say(MANAGER_ONLY, ERROR_COLOUR)
            self.model.set_rows([])
            self.add_button.setEnabled(False)
            return
        self.add_button.setEnabled(True)
        services, staff_id, include_left = self.desk.services, self.desk.staff_id, self.show_left.isChecked()
        chosen = self.selected()
        chosen_id = chosen_id or (chosen.id if chosen else None)
        self.desk.run(
            lambda: team_service.team(services, staff_id, include_left=include_left),
            lambda members: self._show(members, chosen_id),
            lambda sentence: self._say(sentence, ERROR_COLOUR),
        )

    def selected(self) -> TeamMember | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def choose(self, name: str) -> None:
        """Select the row of the person called ``name`` (tests and the keyboard)."""
        for row in range(self.model.rowCount()):
            if self.model.row(row).name == name:
                self.table.selectRow(row)
                return

    # --- actions -------------------------------------------------------------------------------------------

    def add_member(self) -> None:
        if self.desk.may(Action.MANAGE_STAFF):
            self._open_form(StaffForm(self.desk, parent=self))

    def edit_member(self) -> None:
        member = self.selected()
        if member is not None and member.active:
            self._open_form(StaffForm(self.desk, member, parent=self))

    def ask_reset_pin(self) -> None:
        member = self.selected()
        if member is None or not member.active:
            return
        self._ask(
            f"Reset {member.name}'s PIN? It stops working now, and they choose a new one when they next sign in.",
            "Reset the PIN",
            lambda: self._change(
                lambda s, by: team_service.reset_pin(s, staff_id=member.id, by_staff_id=by),
                f"{member.name}'s PIN is reset: they choose a new one when they next sign in.",
            ),
        )

    def ask_mark_as_left(self) -> None:
        member = self.selected()
        if member is None or not member.active:
            return
        self._ask(
            f"Mark {member.name} as having left? They can no longer sign in or be booked; their sales and "
            "visits keep their name.",
            "Mark as left",
            lambda: self._change(
                lambda s, by: team_service.mark_as_left(s, staff_id=member.id, by_staff_id=by),
                f"{member.name} is marked as having left.",
            ),
        )

    def unlock(self) -> None:
        member = self.selected()
        if member is not None and member.active:
            self._change(
                lambda s, by: staff_service.unlock_staff(s, staff_id=member.id, by_staff_id=by),
                f"{member.name} can sign in again now.",
            )

    # --- helpers -------------------------------------------------------------------------------------------

    def _open_form(self, form: StaffForm) -> None:
        self._cancel_confirm()
        self.form = form
        form.saved.connect(lambda member: self.refresh(member.id))
        form.open()

    def _ask(self, question: str, yes: str, then: Callable[[], None]) -> None:
        self.confirm_text.setText(question)
        self.confirm_yes.setText(yes)
        self._confirmed = then
        self.notice.setCurrentWidget(self.confirm)
        self.confirm_no.setFocus()

    def _confirm(self) -> None:
        then, self._confirmed = self._confirmed, None
        self.notice.setCurrentWidget(self.status)
        if then is not None:
            then()

    def _cancel_confirm(self) -> None:
        self._confirmed = None
        self.notice.setCurrentWidget(self.status)

    def _change(self, call: Callable[[Any, str], Any], done: str) -> None:
        services, by = self.desk.services, self.desk.staff_id
        self._busy(True)
        self.desk.run(lambda: call(services, by), lambda _result: self._changed(done), self._refused)

    def _changed(self, sentence: str) -> None:
        if not shiboken6.isValid(self):
            return
        self._busy(False)
        self._say(sentence, DONE_COLOUR)
        self.refresh()

    def _refused(self, sentence: str) -> None:
        if not shiboken6.isValid(self):
            return
        self._busy(False)
        self._say(sentence, ERROR_COLOUR)

    def _busy(self, busy: bool) -> None:
        for button in (self.edit_button, self.reset_button, self.unlock_button, self.leave_button):
            button.setEnabled(False)
        if not busy:
            self._enable()

    def _show(self, members: list[TeamMember], chosen_id: str | None) -> None:
        if not shiboken6.isValid(self):
            return
        self.model.set_rows(members)
        row = self.model.row_of(chosen_id) if chosen_id else None
        self.table.selectRow(row if row is not None else 0)
        self._enable()

    def _enable(self) -> None:
        member = self.selected()
        active = member is not None and member.active
        self.edit_button.setEnabled(active)
        self.reset_button.setEnabled(active and member is not None and not member.pin_reset)
        self.unlock_button.setEnabled(
            active and member is not None and (member.locked_until is not None or member.wrong_pins > 0)
        )
        me = self.desk.staff.id if self.desk.staff is not None else None  # None: signed out meanwhile
        self.leave_button.setEnabled(active and member is not None and me is not None and member.id != me)
        if self.notice.currentWidget() is self.confirm:
            self._cancel_confirm()  # a question about someone else is not left to be answered

    def _say(self, sentence: str, colour: str) -> None:
        self.notice.setCurrentWidget(self.status)
        self.status.setStyleSheet(f"color: {colour};")
        self.status.setText(sentence)
