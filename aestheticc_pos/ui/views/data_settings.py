"""Two cards of Settings (manager): where this till's data lives, and its backups.

    DatabaseCard(desk, app_settings, may_change)   # ``app_settings``: this start's AppSettings
    BackupsCard(desk, app_settings, may_change)    # ``may_change()``: True, or says why not on the screen

``DatabaseCard`` shows where the data is (a password never shown) and can point this PC at the clinic's
PostgreSQL server from the next start (``till_settings.change_database``). ``BackupsCard`` lists the backups
(``services/backups.py``), takes one now, and restores the chosen one after asking; once restored it emits
``restored`` with the sentence to show, and the screen offers nothing more until the app is restarted.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QMessageBox, QPushButton

from aestheticc_pos.services import backups
from aestheticc_pos.services.backups import BackupFile, Restored
from aestheticc_pos.services.till_settings import change_database
from aestheticc_pos.settings import (
    DATABASE_FILE,
    AppSettings,
    postgresql_url_problem,
    read_settings_file,
    redact_url,
)
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.forms import Card, error_label
from aestheticc_pos.ui.models.rows import RIGHT, Column, RowsModel, rows_table

RESTART = "Close Aestheticc POS and open it again now: until then the screens still show the old data."


class DatabaseCard(Card):
    """Where the data lives; "Use from the next start" points this PC at a PostgreSQL server."""

    def __init__(self, desk: Desk, app_settings: AppSettings | None, may_change: Callable[[], bool]) -> None:
        super().__init__("Where the data lives")
        self.desk = desk
        self.app_settings = app_settings
        self._may_change = may_change
        box = self.box
        self.where = QLabel("")
        self.where.setObjectName("path")
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.next_start = QLabel("")
        self.next_start.setObjectName("caption")
        self.next_start.setWordWrap(True)
        box.addWidget(self.where)
        box.addWidget(self.next_start)
        caption = QLabel("To share one database between several tills, point this PC at the clinic's server:")
        caption.setWordWrap(True)
        box.addWidget(caption)
        self.server_url = QLineEdit()
        self.server_url.setPlaceholderText("postgresql+psycopg://till:password@server/clinic")
        self.server_error = error_label()
        self.use_server_button = QPushButton("Use from the next start")
        self.use_server_button.clicked.connect(self.use_server)
        self.use_this_pc_button = QPushButton("Use this PC's own database again")
        self.use_this_pc_button.setObjectName("link")
        self.use_this_pc_button.clicked.connect(self.use_this_pc)
        row = QHBoxLayout()
        row.addWidget(self.server_url, 1)
        row.addWidget(self.use_server_button)
        box.addLayout(row)
        box.addWidget(self.server_error)
        box.addWidget(self.use_this_pc_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.server_url.textEdited.connect(lambda _t: self.server_error.hide())
        self._show_database()

    def set_editable(self, editable: bool) -> None:
        self.server_url.setReadOnly(not editable)
        self.use_server_button.setEnabled(editable and self.app_settings is not None)
        self.use_this_pc_button.setEnabled(editable)

    def use_server(self) -> None:
        """Point this PC at the PostgreSQL server typed in, from the next start."""
        url = self.server_url.text().strip()
        problem = postgresql_url_problem(url)
        if problem:
            self.server_error.setText(problem)
            self.server_error.show()
            self.server_url.setFocus()
            return
        self._write_database_url(
            url, f"From the next start this till uses the server at {_where(url)}. Restart to switch."
        )

    def use_this_pc(self) -> None:
        """Go back to the SQLite file in this PC's data folder, from the next start."""
        self._write_database_url("", "From the next start this till uses its own database again.")

    def _write_database_url(self, url: str, message: str) -> None:
        if self.app_settings is None or not self._may_change():
            return
        data_dir = self.app_settings.data_dir

        def done(_none: None) -> None:
            self.server_url.clear()
            self._show_database()
            self.desk.message.emit(message)

        services, staff_id = self.desk.services, self.desk.staff_id
        self.desk.run(
            lambda: change_database(services, data_dir, url, staff_id), done, self._show_server_error
        )

    def _show_server_error(self, message: str) -> None:
        self.server_error.setText(message)
        self.server_error.show()

    def _show_database(self) -> None:
        a = self.app_settings
        if a is None:
            self.where.setText("This screen was opened without the app's settings.")
            self.next_start.hide()
            return
        self.where.setText(f"This till's data is in {_where(a.database_url)}.")
        chosen = str(read_settings_file(a.data_dir).get("database_url", "")).strip()
        next_url = chosen or f"sqlite:///{a.data_dir / DATABASE_FILE}"
        pending = _where(next_url) != _where(a.database_url)
        self.next_start.setText(f"From the next start: {_where(next_url)}." if pending else "")
        self.next_start.setVisible(pending)
        self.use_this_pc_button.setVisible(not a.is_sqlite or bool(chosen))


class BackupsCard(Card):
    """The backups of this till's database, newest first; "Back up now" and "Restore…"."""

    restored = Signal(str)  # the sentence for the screen: what was restored, and that the app must restart

    def __init__(self, desk: Desk, app_settings: AppSettings | None, may_change: Callable[[], bool]) -> None:
        super().__init__("Backups")
        self.desk = desk
        self.app_settings = app_settings
        self.confirm: QMessageBox | None = None
        self._may_change = may_change
        self._editable = False
        box = self.box
        self.note = QLabel("")
        self.note.setObjectName("caption")
        self.note.setWordWrap(True)
        box.addWidget(self.note)
        row = QHBoxLayout()
        self.back_up_button = QPushButton("Back up now")
        self.back_up_button.clicked.connect(self.back_up_now)
        self.restore_button = QPushButton("Restore…")
        self.restore_button.clicked.connect(self.restore_selected)
        row.addWidget(self.back_up_button)
        row.addWidget(self.restore_button)
        row.addStretch(1)
        box.addLayout(row)
        self.status = error_label()
        box.addWidget(self.status)
        self.model = RowsModel(
            (
                Column(
                    "Taken",
                    lambda b: fmt.date_time(b.taken_at, self.desk.settings.tz),
                    tip=lambda b: str(b.path),
                ),
                Column("Size", lambda b: _size(b.size_bytes), RIGHT),
            ),
            parent=self,
        )
        self.table = rows_table(self.model, stretch=0)
        self.table.setMinimumHeight(200)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        box.addWidget(self.table, 1)

    def set_editable(self, editable: bool) -> None:
        self._editable = editable
        self._update_buttons()

    def load(self) -> None:
        """Reload the list of backups."""
        app_settings = self.app_settings
        if app_settings is not None:
            self.desk.run(lambda: backups.list_backups(app_settings), self.show_backups, self._failed)

    def show_backups(self, found: list[BackupFile]) -> None:
        a = self.app_settings
        if a is None:
            self.note.setText("Backups are not available on this screen.")
        elif not a.is_sqlite:
            self.note.setText(backups.POSTGRESQL_REFUSAL)
        else:
            none_yet = "" if found else " There are none yet."
            self.note.setText(
                f"Backups of this till's database are kept in {a.backups_dir} (the newest 30). "
                f"Copy them to a USB drive or a cloud folder from time to time.{none_yet}"
            )
        chosen = self.selected()
        self.model.set_rows(found)
        names = [b.name for b in found]
        if chosen is not None and chosen.name in names:
            self.table.selectRow(names.index(chosen.name))
        self._update_buttons()

    def selected(self) -> BackupFile | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def back_up_now(self) -> None:
        if self.app_settings is None or not self._may_change():
            return
        services, app_settings, staff_id = self.desk.services, self.app_settings, self.desk.staff_id
        self.back_up_button.setEnabled(False)
        self.back_up_button.setText("Backing up…")

        def done(taken: BackupFile) -> None:
            self._idle()
            self.desk.message.emit(f"Backed up: {taken.name}.")
            self.load()

        self.desk.run(lambda: backups.back_up_now(services, app_settings, staff_id), done, self._failed)

    def restore_selected(self) -> QMessageBox | None:
        """Ask, then restore the chosen backup (a safety backup of the current data is taken first)."""
        chosen = self.selected()
        if chosen is None or self.app_settings is None or not self._may_change():
            return None
        when = fmt.date_time(chosen.taken_at, self.desk.settings.tz)
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Restore a backup",
            f"Replace all of the clinic's data with the backup taken on {when}?\n\n"
            "Everything recorded since then is replaced. A backup of the data as it is now is taken first, "
            "so this can be undone. Aestheticc POS must then be restarted.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.button(QMessageBox.StandardButton.Yes).setText("Restore it")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.accepted.connect(lambda: self._restore(chosen.path, when))
        self.confirm = box
        box.open()
        return box

    def _restore(self, path: Path, when: str) -> None:
        assert self.app_settings is not None
        services, app_settings, staff_id = self.desk.services, self.app_settings, self.desk.staff_id
        self.restore_button.setEnabled(False)
        self.restore_button.setText("Restoring…")

        def done(restored: Restored) -> None:
            self.restore_button.setText("Restore…")
            self.restored.emit(
                f"The backup taken on {when} is restored. {RESTART} "
                f"The data as it was before is kept in {restored.safety_backup.name}."
            )
            self.desk.message.emit(f"Backup restored. {RESTART}")
            self.load()

        self.desk.run(
            lambda: backups.restore_backup(services, app_settings, path, staff_id), done, self._failed
        )

    def _failed(self, message: str) -> None:
        self._idle()
        self.status.setText(message)
        self.status.show()

    def _idle(self) -> None:
        self.back_up_button.setText("Back up now")
        self.restore_button.setText("Restore…")
        self.status.hide()
        self._update_buttons()

    def _update_buttons(self) -> None:
        sqlite = self.app_settings is not None and self.app_settings.is_sqlite
        busy = self.back_up_button.text() != "Back up now" or self.restore_button.text() != "Restore…"
        ready = self._editable and sqlite and not busy
        self.back_up_button.setEnabled(ready)
        self.restore_button.setEnabled(ready and self.selected() is not None)


def _where(url: str) -> str:
    """Where a database URL points, for staff: "this PC (C:\\…\\aestheticc.db)" or the server, password hidden."""
    if url.startswith("sqlite:///"):
        return f"this PC's own database file, {Path(url.removeprefix('sqlite:///'))}"
    return redact_url(url)


def _size(size_bytes: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size_bytes >= scale:
            return f"{size_bytes / scale:,.1f} {unit}"
    return f"{size_bytes} bytes"
