"""Add or edit a client: first and last name, phone, email, date of birth (optional), notes, marketing consent.

The details are saved through ``add_client`` / ``edit_client`` on the desk's thread pool. When the clinic's
rules refuse them, the sentence shows under the field it is about (``InvalidInput.field``), that field takes
the focus, and everything typed stays as it was. On success the dialog tells the desk (``notify("clients")``
and a message) and emits ``saved`` with the client.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.clients import Client
from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import inputs
from aestheticc_pos.ui.desk import CLIENTS, Desk
from aestheticc_pos.ui.models.clients import phone_text

_INVALID = "border: 1px solid #a4262c;"


@dataclass(frozen=True, slots=True)
class _Refused:
    """What the pool thread hands back when the rules refuse a field, so the dialog can say where."""

    field: str | None
    message: str


class ClientFormDialog(QDialog):
    """``ClientFormDialog(desk)`` adds a client; ``ClientFormDialog(desk, client)`` edits that one.

    Open it with ``open()`` (window-modal, returns at once); ``saved(Client)`` fires after a successful save.
    """

    saved = Signal(object)  # Client

    def __init__(self, desk: Desk, client: Client | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.client = client
        self.setWindowTitle("Edit client" if client else "New client")
        self.setMinimumWidth(560)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 20, 24, 20)
        outer.setSpacing(12)
        heading = QLabel(f"Edit {client.full_name}" if client else "New client")
        heading.setObjectName("heading")
        outer.addWidget(heading)

        self.first_name = QLineEdit()
        self.last_name = QLineEdit()
        self.phone = QLineEdit()
        self.phone.setPlaceholderText("e.g. 07700 900123")
        self.email = QLineEdit()
        self.email.setPlaceholderText("e.g. name@example.com")
        self.date_of_birth = QLineEdit()
        self.date_of_birth.setPlaceholderText("DD/MM/YYYY (optional)")
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Allergies, preferences, anything the team should know")
        self.notes.setFixedHeight(90)
        self.notes.setTabChangesFocus(True)
        self.marketing_consent = QCheckBox("Agrees to receive offers and news by email and text")

        self.fields: dict[str, QWidget] = {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "phone": self.phone,
            "email": self.email,
            "date_of_birth": self.date_of_birth,
            "notes": self.notes,
            "marketing_consent": self.marketing_consent,
        }
        captions = {
            "first_name": "First name",
            "last_name": "Last name",
            "phone": "Phone",
            "email": "Email",
            "date_of_birth": "Date of birth",
            "notes": "Notes",
            "marketing_consent": "Marketing",
        }
        self.errors: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(4)
        grid.setColumnStretch(1, 1)
        for index, (name, widget) in enumerate(self.fields.items()):
            caption = QLabel(captions[name])
            caption.setBuddy(widget)
            error = QLabel("")
            error.setObjectName("error")
            error.setWordWrap(True)
            error.hide()
            self.errors[name] = error
            align = Qt.AlignmentFlag.AlignTop if name == "notes" else Qt.AlignmentFlag.AlignVCenter
            grid.addWidget(caption, index * 2, 0, alignment=Qt.AlignmentFlag.AlignLeft | align)
            grid.addWidget(widget, index * 2, 1)
            grid.addWidget(error, index * 2 + 1, 1)
        outer.addLayout(grid)

        self.status = QLabel("")
        self.status.setObjectName("error")
        self.status.setWordWrap(True)
        self.status.hide()
        outer.addWidget(self.status)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.save_button = QPushButton("Save changes" if client else "Add client")
        self.save_button.setObjectName("primary")
        self.save_button.setDefault(True)
        self.save_button.setToolTip("Enter or Ctrl+S")
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        outer.addLayout(buttons)
        QShortcut(QKeySequence.StandardKey.Save, self, activated=self.save)

        for name in ("first_name", "last_name", "phone", "email", "date_of_birth"):
            edit = self.fields[name]
            assert isinstance(edit, QLineEdit)
            edit.textEdited.connect(lambda _text, n=name: self._clear_error(n))
        self.notes.textChanged.connect(lambda: self._clear_error("notes"))
        if client is not None:
            self._fill(client)
        self.first_name.setFocus()

    # --- saving --------------------------------------------------------------------------------------------

    def save(self) -> None:
        """Check and save what is typed; refusals are shown under their field and nothing is cleared."""
        if not self.save_button.isEnabled():
            return  # a save is on its way
        self._clear_errors()
        try:
            born = self._typed_date_of_birth()
        except InvalidInput as error:
            self.show_error("date_of_birth", str(error))
            return
        values = {
            "first_name": self.first_name.text(),
            "last_name": self.last_name.text(),
            "email": self.email.text(),
            "phone": self.phone.text(),
            "date_of_birth": born,
            "notes": self.notes.toPlainText(),
            "marketing_consent": self.marketing_consent.isChecked(),
        }
        services = self.desk.services
        client_id = self.client.id if self.client else None
        staff_id = self.desk.staff_id

        def work() -> Client | _Refused:
            try:
                if client_id is None:
                    return clients_service.add_client(services, staff_id=staff_id, **values)  # type: ignore[arg-type]
                return clients_service.edit_client(services, client_id, staff_id=staff_id, **values)
            except InvalidInput as error:
                return _Refused(error.field, str(error))

        self._set_busy(True)
        self.desk.run(work, self._save_finished, self._save_failed)

    def show_error(self, field: str | None, message: str) -> None:
        """Show a sentence under ``field`` (or under the form when it names no field here) and focus it."""
        label = self.errors.get(field or "")
        if label is None:
            self.status.setText(message)
            self.status.show()
            return
        label.setText(message)
        label.show()
        widget = self.fields[field or ""]
        if not isinstance(widget, QCheckBox):
            widget.setStyleSheet(_INVALID)
        widget.setFocus()
        if isinstance(widget, QLineEdit):
            widget.selectAll()

    def _save_finished(self, result: Client | _Refused) -> None:
        if not shiboken6.isValid(self):
            return  # closed with its window; the service call itself completed
        self._set_busy(False)
        if isinstance(result, _Refused):
            self.show_error(result.field, result.message)
            return
        added = self.client is None
        self.client = result
        self.desk.notify(CLIENTS)
        self.desk.message.emit(
            f"{result.full_name} added." if added else f"{result.full_name}'s details saved."
        )
        self.saved.emit(result)
        self.accept()

    def _save_failed(self, message: str) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_busy(False)
        self.show_error(None, message)

    # --- helpers -------------------------------------------------------------------------------------------

    def _typed_date_of_birth(self) -> dt.date | None:
        text = self.date_of_birth.text().strip()
        if not text:
            return None
        return inputs.date(text, what="Date of birth")

    def _fill(self, client: Client) -> None:
        self.first_name.setText(client.first_name)
        self.last_name.setText(client.last_name)
        self.phone.setText(phone_text(client.phone))
        self.email.setText(client.email or "")
        born = client.date_of_birth
        self.date_of_birth.setText(f"{born:%d/%m/%Y}" if born else "")
        self.notes.setPlainText(client.notes)
        self.marketing_consent.setChecked(client.marketing_consent)

    def _set_busy(self, busy: bool) -> None:
        self.save_button.setEnabled(not busy)
        self.save_button.setText("Saving…" if busy else ("Save changes" if self.client else "Add client"))
        self.cancel_button.setEnabled(not busy)

    def _clear_error(self, field: str) -> None:
        label = self.errors[field]
        if label.isVisible() or label.text():
            label.clear()
            label.hide()
            self.fields[field].setStyleSheet("")

    def _clear_errors(self) -> None:
        for name in self.errors:
            self._clear_error(name)
        self.status.clear()
        self.status.hide()
