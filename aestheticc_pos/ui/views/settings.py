"""Settings (manager): the clinic's details and rules, GoCardless, where this till's data lives, and backups.

    SettingsView(desk, app_settings)   # ``app_settings``: this start's AppSettings (database URL, data folder)

The clinic's settings are shared by every till (``update_clinic_settings``); refusals show under their field
and nothing typed is lost. The other parts are cards of their own: ``GoCardlessCard``
(``gocardless_settings.py``), ``DatabaseCard`` and ``BackupsCard`` (``data_settings.py``). Once a backup is
restored the app must be restarted, so the screen says so and offers nothing more until it is.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QHideEvent, QKeySequence, QShortcut, QShowEvent
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
from aestheticc_pos.services.backups import BackupFile
from aestheticc_pos.services.context import ClinicSettings
from aestheticc_pos.settings import AppSettings
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.forms import (
    FORM_STYLE,
    Card,
    FieldGrid,
    Refused,
    catching_refusals,
    error_label,
    number_field,
)
from aestheticc_pos.ui.topics import SETTINGS
from aestheticc_pos.ui.views.data_settings import RESTART, BackupsCard, DatabaseCard
from aestheticc_pos.ui.views.email_settings import EmailSettingsCard
from aestheticc_pos.ui.views.gocardless_settings import GoCardlessCard
from aestheticc_pos.ui.widgets.unsaved import UnsavedAnswer, ask_about_changes, field_state
from aestheticc_pos.ui.widgets.wheel import calm_wheels

MANAGER_ONLY = "Only a manager can change the settings."
_TEXT_FIELDS = ("name", "vat_number", "phone", "email", "till_prefix")
_STYLE = FORM_STYLE + "QLabel#path { color: #3d3550; } QLabel#caption { color: #6b6478; }"


class SettingsView(QWidget):
    def __init__(self, desk: Desk, app_settings: AppSettings | None = None) -> None:
        super().__init__()
        self.desk = desk
        self.app_settings = app_settings
        self.restart_needed = False
        self.setStyleSheet(_STYLE)

        content = QWidget()
        page = QVBoxLayout(content)
        page.setContentsMargins(32, 8, 32, 24)  # the title bar above has the top margin
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
        # The title, the sentence about the last save and the Save button stay above the scrolling page:
        # Save never scrolls out of view, and a sentence appearing moves nothing under the mouse.
        bar = QWidget()
        header = QHBoxLayout(bar)
        header.setContentsMargins(32, 24, 32, 8)
        titles = QVBoxLayout()
        titles.addWidget(title)
        titles.addWidget(subtitle)
        header.addLayout(titles, 1)
        self.status.setMaximumWidth(460)
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        header.addWidget(self.status, 0, Qt.AlignmentFlag.AlignBottom)
        header.addWidget(self.save_button, 0, Qt.AlignmentFlag.AlignBottom)
        for widget in (self.notice, self.restart_banner):
            page.addWidget(widget)
        columns = QHBoxLayout()
        columns.setSpacing(20)
        left, right = QVBoxLayout(), QVBoxLayout()
        left.setSpacing(16)
        right.setSpacing(16)
        left.addWidget(self._clinic_card())
        self.email_card = EmailSettingsCard(desk)
        left.addWidget(self.email_card)
        left.addStretch(1)
        self.gocardless = GoCardlessCard(desk, app_settings)
        right.addWidget(self.gocardless)
        self.database_card = DatabaseCard(desk, app_settings, self._may_change)
        right.addWidget(self.database_card)
        self.backups_card = BackupsCard(desk, app_settings, self._may_change)
        self.backups_card.restored.connect(self._restored)
        right.addWidget(self.backups_card, 1)
        columns.addLayout(left, 3)
        columns.addLayout(right, 2)
        page.addLayout(columns, 1)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        self.scroll = scroll
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(bar)
        outer.addWidget(scroll, 1)
        self._loaded = ClinicSettings()  # the clinic's settings as last loaded or saved …
        self._as_loaded: tuple[object, ...] | None = None  # … and its fields then, to tell what changed
        self.question: QMessageBox | None = None  # "Save your changes to the settings?" while it is asked
        self._leaving = False  # the window is opening another screen after Save or Discard was chosen

        desk.changed.connect(self._on_changed)
        desk.staff_changed.connect(lambda _member: self._apply_role())
        self._apply_role()

    # --- the clinic's settings -----------------------------------------------------------------------------

    def _clinic_card(self) -> Card:
        card = Card("The clinic")
        self.clinic_card = card
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
        card.box.addLayout(f)
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
            self._come_back()  # saved on the way out: what was refused is shown here
            elsewhere = self.fields.show_refused(result)
            if elsewhere:
                self._show_error(" ".join(elsewhere))
            return
        self._fill(result)
        self.desk.settings = result
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
        self.backups_card.show_backups(found)

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
        self._loaded = s
        self._as_loaded = field_state(self.clinic_card)

    # --- leaving with changes not saved --------------------------------------------------------------------

    def has_changes(self) -> bool:
        """Whether the clinic's details or rules were changed here and not saved."""
        return self._as_loaded is not None and field_state(self.clinic_card) != self._as_loaded

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        calm_wheels(self)  # scrolling the page never changes a rule (and the cards' fields added since)

    def may_leave(self, then: Callable[[], None]) -> bool:
        """Asked by the window before it opens another screen: with changes not saved, ask first and answer
        False; ``then`` opens that screen once Save or Discard is chosen (Cancel stays here)."""
        if self._leaving or not self.desk.is_manager or not self.has_changes():
            return True
        if self.question is None:
            self.question = ask_about_changes(self.window(), "the settings", lambda a: self._leave(a, then))
        return False

    def _leave(self, answer: UnsavedAnswer, then: Callable[[], None]) -> None:
        self.question = None
        if answer is UnsavedAnswer.CANCEL:
            return
        if answer is UnsavedAnswer.SAVE:
            self.save()  # a refusal brings Settings back to show it
        else:
            self._fill(self._loaded)
        self._leaving = True  # saving is under way: leaving now asks nothing more
        try:
            then()
        finally:
            self._leaving = False

    def hideEvent(self, event: QHideEvent) -> None:
        """Another screen was opened: ask about changes not saved, once that screen is showing."""
        super().hideEvent(event)
        if self._leaving or event.spontaneous() or not self.desk.is_manager or self.question is not None:
            return
        if self.has_changes():
            QTimer.singleShot(0, self._ask_on_leaving)

    def _ask_on_leaving(self) -> None:
        window = self.window()
        if (
            self.isVisible()
            or not window.isVisible()
            or not self.desk.is_manager
            or self.question is not None
        ):
            return  # back already, the window is closing, or no one is signed in
        self.question = ask_about_changes(window, "the settings", self._answered)

    def _answered(self, answer: UnsavedAnswer) -> None:
        self.question = None
        if answer is UnsavedAnswer.SAVE:
            self.save()  # a refusal brings Settings back to show it
        elif answer is UnsavedAnswer.DISCARD:
            self._fill(self._loaded)
        else:
            self._come_back()

    def _come_back(self) -> None:
        """Show Settings again, through the window's own way of opening a screen (its side bar follows)."""
        if self.isVisible():
            return
        open_screen = getattr(self.window(), "open_screen", None)
        if callable(open_screen):
            open_screen("settings", refresh=False)

    def _on_changed(self, what: frozenset[str]) -> None:
        if SETTINGS in what and self.save_button.text() != "Saving…":
            self.refresh()

    def _restored(self, sentence: str) -> None:
        self.restart_needed = True
        self.restart_banner.setText(sentence)
        self.restart_banner.show()
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
        self.notice.setVisible(not self.desk.is_manager)
        for widget in (self.name, self.vat_number, self.phone, self.email, self.till_prefix):
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
        self.database_card.set_editable(manager)
        self.backups_card.set_editable(manager)

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
