"""Add or edit a client: first and last name, phone, email, date of birth (optional), notes, marketing
consent.

    ClientFormDialog(desk)           # a new client
    ClientFormDialog(desk, client)   # edit that one

The details are saved through ``add_client`` / ``edit_client`` (``forms.py`` says how refusals are shown and
what a save tells): everything the clinic's rules refuse is shown at once, each sentence under the field it
is about, the topmost of them taking the focus, and everything typed stays as it was. A client just added is
opened at once (``desk.open_client``): their record, not the one that was open before.
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QLineEdit, QPlainTextEdit, QWidget

from aestheticc_pos.domain.clients import Client, validate_client_fields
from aestheticc_pos.domain.errors import Refusals
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import inputs
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.forms import Call, FormDialog
from aestheticc_pos.ui.models.clients import phone_text


class ClientFormDialog(FormDialog):
    """Open it with ``open()`` (window-modal, returns at once); ``saved(Client)`` fires once saved."""

    what = "this client"

    def __init__(self, desk: Desk, client: Client | None = None, parent: QWidget | None = None) -> None:
        super().__init__(
            desk,
            title=f"Edit {client.full_name}" if client else "New client",
            save_text="Save changes" if client else "Add client",
            parent=parent,
        )
        self.client = client
        self.setWindowTitle("Edit client" if client else "New client")
        self.setMinimumWidth(560)
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

        self.add_field("first_name", "First name", self.first_name)
        self.add_field("last_name", "Last name", self.last_name)
        self.add_field("phone", "Phone", self.phone)
        self.add_field("email", "Email", self.email)
        self.add_field("date_of_birth", "Date of birth", self.date_of_birth)
        self.add_field("notes", "Notes", self.notes)
        self.add_field("marketing_consent", "Marketing", self.marketing_consent)
        self.finish_layout()
        if client is not None:
            self._fill(client)
        self.first_name.setFocus()
        if client is None:
            self.saved.connect(lambda added: desk.open_client.emit(added.id))

    def prepare(self) -> Call:
        """Every field checked at once, as the service will (so all that is wrong shows together)."""
        typed_birth = self.date_of_birth.text().strip()
        refusals = Refusals()
        born = (
            refusals.check("date_of_birth", lambda: inputs.date(typed_birth, what="Date of birth"))
            if typed_birth
            else None
        )
        values = {
            "first_name": self.first_name.text(),
            "last_name": self.last_name.text(),
            "email": self.email.text(),
            "phone": self.phone.text(),
            "date_of_birth": born,
            "notes": self.notes.toPlainText(),
            "marketing_consent": self.marketing_consent.isChecked(),
        }
        today = self.desk.services.today(self.desk.settings)
        refusals.check(None, lambda: validate_client_fields(**values, today=today))
        refusals.raise_any()
        services, staff_id = self.desk.services, self.desk.staff_id
        if self.client is None:
            return lambda: clients_service.add_client(services, staff_id=staff_id, **values)  # type: ignore[arg-type]
        client_id = self.client.id
        return lambda: clients_service.edit_client(services, client_id, staff_id=staff_id, **values)

    def saved_message(self, result: Client) -> str:
        return f"{result.full_name}'s details saved." if self.client else f"{result.full_name} added."

    def _fill(self, client: Client) -> None:
        self.first_name.setText(client.first_name)
        self.last_name.setText(client.last_name)
        self.phone.setText(phone_text(client.phone))
        self.email.setText(client.email or "")
        self.date_of_birth.setText(fmt.editable_date(client.date_of_birth))
        self.notes.setPlainText(client.notes)
        self.marketing_consent.setChecked(client.marketing_consent)
