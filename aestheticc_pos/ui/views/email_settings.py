"""The Email part of Settings (manager): the clinic's own mail server, through which the till emails receipts,
invoices and payment links to clients, and a test email to check it.

The password goes straight to the OS keyring (``services.email.save_mail_server``) and the field is cleared: it
is never shown again, never written to the database, a file or a log. Where the computer has no keyring the card
says so in a sentence and the password field is closed; a server that needs no password can still be used.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from aestheticc_pos.keyring_store import Passwords
from aestheticc_pos.mailer import MailServer, Security
from aestheticc_pos.services import email as email_service
from aestheticc_pos.services.email import MailSetup
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.forms import Card, FieldGrid, Refused, catching_refusals, number_field, select

SECURITY_CHOICES = (
    (Security.STARTTLS, "STARTTLS (usually port 587)", 587),
    (Security.TLS, "TLS from the start (usually port 465)", 465),
    (Security.NONE, "None (a server on the clinic's own network)", 25),
)
NOT_SET_UP = "Not set up yet: receipts, invoices and links cannot be emailed to clients until it is."
KEPT_SAFE = (
    "The password is kept in this computer's password store (keyring), never in the database or a file."
)


class EmailSettingsCard(Card):
    """``passwords`` is where the password is kept (default: the OS keyring)."""

    def __init__(self, desk: Desk, passwords: Passwords | None = None) -> None:
        super().__init__("Email to clients")
        self.desk = desk
        self.passwords = passwords
        self.setup: MailSetup | None = None
        self._busy = False  # a save or a test is on its way (buttons stay enabled: focus never jumps away)
        self._no_wheel = _WheelOnlyWithFocus(self)
        self.state = QLabel(NOT_SET_UP)
        self.state.setWordWrap(True)
        self.state.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.state.setMinimumHeight(
            2 * self.state.fontMetrics().lineSpacing() + 2
        )  # one line or two: no jump
        self.box.addWidget(self.state)

        self.host = QLineEdit()
        self.host.setPlaceholderText("e.g. smtp.office365.com")
        self.port = number_field(1, 65535, 100)
        self.port.setValue(587)
        self.security = QComboBox()
        for value, caption, _port in SECURITY_CHOICES:
            self.security.addItem(caption, value.value)
        self.security.setMaximumWidth(340)
        self.security.currentIndexChanged.connect(lambda _i: self._default_port())
        self.user = QLineEdit()
        self.user.setPlaceholderText("Often the sender's address")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.sender = QLineEdit()
        self.sender.setPlaceholderText("e.g. Lumière Aesthetics <hello@lumiere.example>")
        for widget in (self.port, self.security):
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            widget.installEventFilter(self._no_wheel)
        self.fields = FieldGrid()
        self.fields.add_field("host", "Mail server", self.host)
        self.fields.add_field("port", "Port", self.port)
        self.fields.add_field("security", "Security", self.security)
        self.fields.add_field("user", "User name", self.user)
        self.fields.add_field("password", "Password", self.password)
        self.fields.add_field("sender", "Sender", self.sender, hint="The address clients see and reply to.")
        self.box.addLayout(self.fields)
        self.keyring_note = QLabel(KEPT_SAFE)
        self.keyring_note.setObjectName("caption")
        self.keyring_note.setWordWrap(True)
        self.box.addWidget(self.keyring_note)

        self.save_button = QPushButton("Save email settings")
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save)
        self.test_to = QLineEdit()
        self.test_to.setPlaceholderText("Send a test to…")
        self.test_button = QPushButton("Send test email")
        self.test_button.setToolTip("Send a short message now, through the saved settings")
        self.test_button.clicked.connect(self.send_test)
        self.test_to.returnPressed.connect(self.send_test)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addSpacing(12)
        buttons.addWidget(self.test_to, 1)
        buttons.addWidget(self.test_button)
        self.box.addLayout(buttons)
        self.feedback = QLabel("")
        self.feedback.setWordWrap(True)
        self.feedback.setMinimumHeight(36)  # kept for its sentence: nothing moves under the mouse
        self.feedback.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.box.addWidget(self.feedback)
        desk.staff_changed.connect(self._on_staff)  # a bound method: Qt drops it when the card goes

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().showEvent(event)
        self.refresh()

    def _on_staff(self, _member: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        manager = self.desk.is_manager
        self._set_editable(manager)
        if not manager:
            return
        services, staff_id, passwords = self.desk.services, self.desk.staff_id, self.passwords
        self.desk.run(
            lambda: email_service.mail_setup(services, staff_id, passwords=passwords),
            self._show,
            self._say_error,
        )

    def save(self) -> None:
        if not self.desk.is_manager:
            self._say_error("Only a manager can change the settings.")
            return
        if self._busy:
            return
        self.fields.clear_errors()
        services, staff_id, passwords = self.desk.services, self.desk.staff_id, self.passwords
        values = dict(
            host=self.host.text(),
            port=self.port.value(),
            security=self.security.currentData(),
            user=self.user.text(),
            sender=self.sender.text(),
            password=self.password.text() or None,
        )
        self._busy = True
        self.desk.run(
            catching_refusals(
                lambda: email_service.save_mail_server(services, staff_id, passwords=passwords, **values)
            ),
            self._saved,
            self._save_failed,
        )

    def send_test(self) -> None:
        if self._busy or not self.desk.is_manager:
            return
        services, staff_id, passwords, to = (
            self.desk.services,
            self.desk.staff_id,
            self.passwords,
            self.test_to.text(),
        )
        self._busy = True
        self._say(f"Sending a test to {to.strip()}…", "info")
        self.desk.run(
            lambda: email_service.send_test_email(services, staff_id, to=to, passwords=passwords),
            self._test_sent,
            self._test_failed,
        )

    # --- results -----------------------------------------------------------------------------------------------

    # Each answer comes back from the thread pool: the card (Settings closed, signed out) may be gone by then.

    def _show(self, setup: MailSetup) -> None:
        if not shiboken6.isValid(self):
            return
        self.setup = setup
        server = setup.server
        if server is not None:
            self.host.setText(server.host)
            self.port.setValue(server.port)
            select(self.security, server.security.value)
            self.user.setText(server.user)
            self.sender.setText(server.sender)
        self.state.setText(_state_text(server))
        if not self.test_to.text():
            self.test_to.setText(self.desk.settings.email)
        if not setup.keyring_available:
            self.keyring_note.setText(setup.keyring_sentence)
            self.keyring_note.setObjectName("error")
            self.password.clear()
            self.password.setEnabled(False)
            self.password.setPlaceholderText("No password store on this computer")
        else:
            self.keyring_note.setText(KEPT_SAFE)
            self.keyring_note.setObjectName("caption")
            self.password.setEnabled(self.desk.is_manager)
            self.password.setPlaceholderText(
                "Kept safely: type a new one only to change it"
                if setup.password_kept
                else "The mail password"
            )
        _repolish(self.keyring_note)

    def _saved(self, result: MailServer | Refused) -> None:
        self._busy = False
        if not shiboken6.isValid(self):
            return
        if isinstance(result, Refused):
            if not self.fields.show_error(result.field or "", result.message):
                self._say_error(result.message)
            return
        self.password.clear()
        self._say("The email settings are saved. Send a test to check them.", "info")
        self.refresh()

    def _save_failed(self, sentence: str) -> None:
        self._busy = False
        self._say_error(sentence)

    def _test_sent(self, address: str) -> None:
        self._busy = False
        self._say(f"A test email was sent to {address}. Check that it arrived.", "info")

    def _test_failed(self, sentence: str) -> None:
        self._busy = False
        self._say_error(sentence)

    def _say_error(self, sentence: str) -> None:
        self._say(sentence, "error")

    def _say(self, text: str, tone: str) -> None:
        if not shiboken6.isValid(self):
            return
        self.feedback.setObjectName(tone)
        _repolish(self.feedback)
        self.feedback.setText(text)

    def _set_editable(self, on: bool) -> None:
        for edit in (self.host, self.user, self.sender):
            edit.setReadOnly(not on)
        for widget in (self.port, self.security, self.save_button, self.test_button, self.test_to):
            widget.setEnabled(on)
        self.password.setEnabled(on and (self.setup is None or self.setup.keyring_available))

    def _default_port(self) -> None:
        """Choosing the kind of security moves the port to its usual one, unless another was typed."""
        usual = {p for _v, _c, p in SECURITY_CHOICES}
        if self.port.value() in usual:
            chosen = self.security.currentData()
            self.port.setValue(next(p for v, _c, p in SECURITY_CHOICES if v.value == chosen))


def _state_text(server: MailServer | None) -> str:
    if server is None:
        return NOT_SET_UP
    security = {Security.STARTTLS: "STARTTLS", Security.TLS: "TLS", Security.NONE: "no encryption"}[
        server.security
    ]
    return f"Emails go through {server.host}:{server.port} ({security}) from {server.sender}."


def _repolish(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class _WheelOnlyWithFocus(QObject):
    """A wheel turned over a field that does not have focus scrolls the page, never changes the field."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()
            return True
        return False
