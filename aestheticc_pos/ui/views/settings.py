"""Settings (manager): the clinic's details and rules, GoCardless, where this till's data lives, and backups.

    SettingsView(desk, app_settings)   # ``app_settings``: this start's AppSettings (database URL, data folder)

The clinic's settings are shared by every till (``update_clinic_settings``); refusals show under their field
and nothing typed is lost. The database section shows where the data is (a password never shown) and can
point this PC at the clinic's PostgreSQL server from the next start (``till_settings.change_database``). Backups go
through ``services/backups.py``; restoring asks first, and afterwards the app must be restarted, so the screen
says so and offers nothing more until it is.
"""

from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.appointments import NoShowPolicy
from aestheticc_pos.services import backups, clinic
from aestheticc_pos.services.backups import BackupFile, Restored
from aestheticc_pos.services.context import ClinicSettings
from aestheticc_pos.services.till_settings import change_database
from aestheticc_pos.settings import (
    DATABASE_FILE,
    AppSettings,
    postgresql_url_problem,
    read_settings_file,
    redact_url,
)
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import SETTINGS, Desk
from aestheticc_pos.ui.dialogs.catalogue_forms import (
    FORM_STYLE,
    FieldGrid,
    Refused,
    catching_refusals,
    error_label,
    number_field,
)
from aestheticc_pos.ui.views.catalogue import RIGHT, Column, RowsModel, rows_table
from aestheticc_pos.ui.views.gocardless_settings import GoCardlessCard

MANAGER_ONLY = "Only a manager can change the settings."
RESTART = "Close Aestheticc POS and open it again now: until then the screens still show the old data."
_TEXT_FIELDS = ("name", "vat_number", "phone", "email", "till_prefix")
_STYLE = FORM_STYLE + "QLabel#path { color: #3d3550; } QLabel#caption { color: #6b6478; }"


class SettingsView(QWidget):
    def __init__(self, desk: Desk, app_settings: AppSettings | None = None) -> None:
        super().__init__()
        self.desk = desk
        self.app_settings = app_settings
        self.restart_needed = False
        self.confirm: QMessageBox | None = None
        self.setStyleSheet(_STYLE)

        content = QWidget()
        page = QVBoxLayout(content)
        page.setContentsMargins(32, 24, 32, 24)
        page.setSpacing(12)
        title = QLabel("Settings")
        title.setObjectName("title")
        subtitle = QLabel("The clinic's details and rules, where this till keeps its data, and backups.")
        subtitle.setObjectName("subtitle")
        self.notice = QLabel(MANAGER_ONLY)
        self.notice.setObjectName("banner")
        self.restart_banner = QLabel("")
        self.restart_banner.setObjectName("banner")
        self.restart_banner.setWordWrap(True)
        self.restart_banner.hide()
        self.status = error_label()
        self.save_button = QPushButton("Save settings")
        self.save_button.setObjectName("primary")
        self.save_button.setToolTip("Saves the clinic's details and rules (Ctrl+S)")
        self.save_button.clicked.connect(self.save)
        QShortcut(QKeySequence.StandardKey.Save, self, activated=self.save)
        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(title)
        titles.addWidget(subtitle)
        header.addLayout(titles, 1)
        header.addWidget(self.save_button, 0, Qt.AlignmentFlag.AlignBottom)
        page.addLayout(header)
        for widget in (self.notice, self.restart_banner, self.status):
            page.addWidget(widget)
        columns = QHBoxLayout()
        columns.setSpacing(20)
        left, right = QVBoxLayout(), QVBoxLayout()
        left.setSpacing(16)
        right.setSpacing(16)
        left.addWidget(self._clinic_card())
        left.addStretch(1)
        self.gocardless = GoCardlessCard(desk, app_settings)
        right.addWidget(self.gocardless)
        right.addWidget(self._database_card())
        right.addWidget(self._backups_card(), 1)
        columns.addLayout(left, 3)
        columns.addLayout(right, 2)
        page.addLayout(columns, 1)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        desk.changed.connect(self._on_changed)
        desk.staff_changed.connect(lambda _member: self._apply_role())
        self._apply_role()

    # --- the clinic's settings -----------------------------------------------------------------------------

    def _clinic_card(self) -> QFrame:
        card, box = _card("The clinic")
        self.name = QLineEdit()
        self.address = QPlainTextEdit()
        self.address.setFixedHeight(64)
        self.address.setTabChangesFocus(True)
        self.vat_number = _narrow(QLineEdit(), 220, "e.g. GB123456789")
        self.phone = _narrow(QLineEdit(), 220)
        self.email = QLineEdit()
        self.time_zone = QComboBox()
        self.time_zone.setEditable(True)
        self.time_zone.addItems(_time_zones())
        self.time_zone.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        completer = QCompleter(_time_zones(), self.time_zone)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.time_zone.setCompleter(completer)
        self.time_zone.setMinimumWidth(260)
        self.time_zone.setMaximumWidth(300)
        self.till_prefix = _narrow(QLineEdit(), 100, "e.g. A")
        self.grace_days = number_field(0, 60, 140, " days")
        self.instant_first_payment = QCheckBox("Take it as the client authorises their Direct Debit")
        self.late_cancel_hours = number_field(0, 168, 140, " hours")
        self.no_show_policy = QComboBox()
        self.no_show_policy.addItem("Forfeit the session (it counts as used)", NoShowPolicy.FORFEIT.value)
        self.no_show_policy.addItem("Give the session back", NoShowPolicy.RETURN.value)
        self.no_show_policy.setMaximumWidth(340)
        self.late_deposit = QComboBox()
        self.late_deposit.addItem("Keep the deposit", "keep")
        self.late_deposit.addItem("Refund the deposit", "refund")
        self.late_deposit.setMaximumWidth(340)

        self.fields = FieldGrid()
        f = self.fields
        f.add_field("name", "Name", self.name)
        f.add_field("address", "Address", self.address)
        f.add_field("vat_number", "VAT number", self.vat_number)
        f.add_field("phone", "Phone", self.phone)
        f.add_field("email", "Email", self.email)
        f.add_field("time_zone", "Time zone", self.time_zone)
        f.add_field(
            "till_prefix",
            "Till prefix",
            self.till_prefix,
            hint="Starts the sale numbers (A-000123): 1 to 4 letters or digits.",
        )
        f.add_field(
            "grace_days",
            "Grace period",
            self.grace_days,
            hint="How long members keep their discount after a failed Direct Debit.",
        )
        f.add_field(
            "instant_first_payment",
            "First month",
            self.instant_first_payment,
            hint="By instant bank payment; unticked, by Direct Debit a few days later.",
        )
        f.add_field(
            "late_cancel_hours",
            "Late cancellation",
            self.late_cancel_hours,
            hint="Cancelling less than this long before the appointment is late.",
        )
        f.add_field(
            "no_show_policy",
            "No-show, late cancellation",
            self.no_show_policy,
            hint="What happens to the package session it had booked.",
        )
        f.add_field(
            "late_deposit",
            "Deposit when late",
            self.late_deposit,
            hint="A paid deposit on a late cancellation or no-show; cancelled in time, it is always refunded.",
        )
        box.addLayout(f)
        return card

    def refresh(self) -> None:
        self._apply_role()
        self.gocardless.refresh()
        services, app_settings = self.desk.services, self.app_settings

        def load() -> tuple[ClinicSettings, list[BackupFile]]:
            found = [] if app_settings is None else backups.list_backups(app_settings)
            return clinic.clinic_settings(services), found

        self.desk.run(load, self._show, self._show_error)

    def save(self) -> None:
        """Save the clinic's settings as typed; refusals show under their field."""
        if not self.desk.is_manager:
            self._show_error(MANAGER_ONLY)
            return
        self.fields.clear_errors()
        self.status.hide()
        values: dict[str, Any] = {name: getattr(self, name).text() for name in _TEXT_FIELDS}
        values.update(
            address=self.address.toPlainText(),
            time_zone=self.time_zone.currentText().strip(),
            grace_days=self.grace_days.value(),
            late_cancel_hours=self.late_cancel_hours.value(),
            no_show_policy=self.no_show_policy.currentData(),
            late_deposit=self.late_deposit.currentData(),
            instant_first_payment=self.instant_first_payment.isChecked(),
        )
        services, staff_id = self.desk.services, self.desk.staff_id
        self.save_button.setEnabled(False)
        self.save_button.setText("Saving…")
        self.desk.run(
            catching_refusals(lambda: clinic.update_clinic_settings(services, staff_id, **values)),
            self._saved,
            self._save_failed,
        )

    def _saved(self, result: ClinicSettings | Refused) -> None:
        self._end_saving()
        if isinstance(result, Refused):
            if not self.fields.show_error(result.field, result.message):
                self._show_error(result.message)
            return
        self._fill(result)
        self.desk.settings = result
        self.desk.notify(SETTINGS)
        self.desk.message.emit("The settings are saved.")
        self._say("Saved.", tone="info")

    def _save_failed(self, message: str) -> None:
        self._end_saving()
        self._show_error(message)

    def _end_saving(self) -> None:
        self.save_button.setText("Save settings")
        self._apply_role()

    def _show(self, loaded: tuple[ClinicSettings, list[BackupFile]]) -> None:
        settings, found = loaded
        self._fill(settings)
        self._show_backups(found)

    def _fill(self, s: ClinicSettings) -> None:
        for name in _TEXT_FIELDS:
            getattr(self, name).setText(getattr(s, name))
        self.address.setPlainText(s.address)
        self.time_zone.setCurrentText(s.time_zone)
        self.grace_days.setValue(s.grace_days)
        self.late_cancel_hours.setValue(s.late_cancel_hours)
        self.no_show_policy.setCurrentIndex(self.no_show_policy.findData(s.no_show_policy.value))
        self.late_deposit.setCurrentIndex(max(self.late_deposit.findData(s.late_deposit), 0))
        self.instant_first_payment.setChecked(s.instant_first_payment)

    def _on_changed(self, what: frozenset[str]) -> None:
        if SETTINGS in what and self.save_button.text() != "Saving…":
            self.refresh()

    # --- where the data lives ------------------------------------------------------------------------------

    def _database_card(self) -> QFrame:
        card, box = _card("Where the data lives")
        self.database = QLabel("")
        self.database.setObjectName("path")
        self.database.setWordWrap(True)
        self.database.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.next_start = QLabel("")
        self.next_start.setObjectName("caption")
        self.next_start.setWordWrap(True)
        box.addWidget(self.database)
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
        return card

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
            self.database.setText("This screen was opened without the app's settings.")
            self.next_start.hide()
            return
        self.database.setText(f"This till's data is in {_where(a.database_url)}.")
        chosen = str(read_settings_file(a.data_dir).get("database_url", "")).strip()
        next_url = chosen or f"sqlite:///{a.data_dir / DATABASE_FILE}"
        pending = _where(next_url) != _where(a.database_url)
        self.next_start.setText(f"From the next start: {_where(next_url)}." if pending else "")
        self.next_start.setVisible(pending)
        self.use_this_pc_button.setVisible(not a.is_sqlite or bool(chosen))

    # --- backups -------------------------------------------------------------------------------------------

    def _backups_card(self) -> QFrame:
        card, box = _card("Backups")
        self.backups_note = QLabel("")
        self.backups_note.setObjectName("caption")
        self.backups_note.setWordWrap(True)
        box.addWidget(self.backups_note)
        row = QHBoxLayout()
        self.back_up_button = QPushButton("Back up now")
        self.back_up_button.clicked.connect(self.back_up_now)
        self.restore_button = QPushButton("Restore…")
        self.restore_button.clicked.connect(self.restore_selected)
        row.addWidget(self.back_up_button)
        row.addWidget(self.restore_button)
        row.addStretch(1)
        box.addLayout(row)
        self.backups_status = error_label()
        box.addWidget(self.backups_status)
        self.backups_model = RowsModel(
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
        self.backups_table = rows_table(self.backups_model, stretch=0)
        self.backups_table.setMinimumHeight(200)
        self.backups_table.selectionModel().selectionChanged.connect(lambda *_: self._apply_role())
        box.addWidget(self.backups_table, 1)
        return card

    def back_up_now(self) -> None:
        if self.app_settings is None or not self._may_change():
            return
        services, app_settings, staff_id = self.desk.services, self.app_settings, self.desk.staff_id
        self.back_up_button.setEnabled(False)
        self.back_up_button.setText("Backing up…")

        def done(taken: BackupFile) -> None:
            self._backups_idle()
            self.desk.message.emit(f"Backed up: {taken.name}.")
            self._load_backups()

        self.desk.run(
            lambda: backups.back_up_now(services, app_settings, staff_id), done, self._backup_failed
        )

    def _load_backups(self) -> None:
        """Reload the list of backups only (the clinic's fields keep what is typed in them)."""
        app_settings = self.app_settings
        if app_settings is not None:
            self.desk.run(lambda: backups.list_backups(app_settings), self._show_backups, self._backup_failed)

    def selected_backup(self) -> BackupFile | None:
        rows = self.backups_table.selectionModel().selectedRows()
        return self.backups_model.row(rows[0].row()) if rows else None

    def restore_selected(self) -> QMessageBox | None:
        """Ask, then restore the chosen backup (a safety backup of the current data is taken first)."""
        chosen = self.selected_backup()
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
            self.restart_needed = True
            self.restore_button.setText("Restore…")
            self.restart_banner.setText(
                f"The backup taken on {when} is restored. {RESTART} "
                f"The data as it was before is kept in {restored.safety_backup.name}."
            )
            self.restart_banner.show()
            self.desk.message.emit(f"Backup restored. {RESTART}")
            self._apply_role()
            self._load_backups()

        self.desk.run(
            lambda: backups.restore_backup(services, app_settings, path, staff_id), done, self._backup_failed
        )

    def _backup_failed(self, message: str) -> None:
        self._backups_idle()
        self.backups_status.setText(message)
        self.backups_status.show()

    def _backups_idle(self) -> None:
        self.back_up_button.setText("Back up now")
        self.restore_button.setText("Restore…")
        self.backups_status.hide()
        self._apply_role()

    def _show_backups(self, found: list[BackupFile]) -> None:
        a = self.app_settings
        if a is None:
            self.backups_note.setText("Backups are not available on this screen.")
        elif not a.is_sqlite:
            self.backups_note.setText(backups.POSTGRESQL_REFUSAL)
        else:
            none_yet = "" if found else " There are none yet."
            self.backups_note.setText(
                f"Backups of this till's database are kept in {a.backups_dir} (the newest 30). "
                f"Copy them to a USB drive or a cloud folder from time to time.{none_yet}"
            )
        chosen = self.selected_backup()
        self.backups_model.set_rows(found)
        names = [b.name for b in found]
        if chosen is not None and chosen.name in names:
            self.backups_table.selectRow(names.index(chosen.name))
        self._apply_role()

    # --- who may do what -----------------------------------------------------------------------------------

    def _may_change(self) -> bool:
        if self.restart_needed:
            self._show_error(RESTART)
            return False
        if self.desk.is_manager:
            return True
        self._show_error(MANAGER_ONLY)
        return False

    def _apply_role(self) -> None:
        manager = self.desk.is_manager and not self.restart_needed
        sqlite = self.app_settings is not None and self.app_settings.is_sqlite
        self.notice.setVisible(not self.desk.is_manager)
        for widget in (self.name, self.vat_number, self.phone, self.email, self.till_prefix, self.server_url):
            widget.setReadOnly(not manager)
        self.address.setReadOnly(not manager)
        for widget in (
            self.time_zone,
            self.grace_days,
            self.instant_first_payment,
            self.late_cancel_hours,
            self.no_show_policy,
            self.late_deposit,
        ):
            widget.setEnabled(manager)
        self.save_button.setEnabled(manager and self.save_button.text() != "Saving…")
        self.use_server_button.setEnabled(manager and self.app_settings is not None)
        self.use_this_pc_button.setEnabled(manager)
        busy = self.back_up_button.text() != "Back up now" or self.restore_button.text() != "Restore…"
        self.back_up_button.setEnabled(manager and sqlite and not busy)
        self.restore_button.setEnabled(manager and sqlite and not busy and self.selected_backup() is not None)

    def _show_error(self, message: str) -> None:
        self._say(message, tone="error")

    def _say(self, text: str, *, tone: str) -> None:
        """A sentence under the page's title: "error" (red) or "info"."""
        self.status.setObjectName(tone)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        self.status.setText(text)
        self.status.show()


# --- Helpers ---------------------------------------------------------------------------------------------------


def _card(heading: str) -> tuple[QFrame, QVBoxLayout]:
    card = QFrame()
    card.setObjectName("card")
    box = QVBoxLayout(card)
    box.setContentsMargins(20, 16, 20, 18)
    box.setSpacing(10)
    title = QLabel(heading)
    title.setObjectName("heading")
    box.addWidget(title)
    return card, box


def _narrow(edit: QLineEdit, width: int, placeholder: str = "") -> QLineEdit:
    edit.setMaximumWidth(width)
    edit.setPlaceholderText(placeholder)
    return edit


_ZONES: list[str] = []


def _time_zones() -> list[str]:
    """Region/City time zones, sorted (Europe/London …), read once."""
    if not _ZONES:
        _ZONES.extend(
            sorted(
                z
                for z in zoneinfo.available_timezones()
                if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/"))
            )
        )
    return _ZONES


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
