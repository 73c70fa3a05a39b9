"""Send a receipt, an invoice or a link to the client by email, with the same news as an SMS-ready text to copy.

The email is queued (``services.email.email_client``) and sent in the background by the till's email sender,
once, even when the till is offline now: the dialog says so and closes. Emails already sent for the same record
are listed with how they went, so nobody sends the same receipt three times by accident.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QTextOption
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import email as email_service
from aestheticc_pos.services.clients import ClientSummary
from aestheticc_pos.services.context import ClinicSettings
from aestheticc_pos.services.email import QueuedEmail
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.client_messages import ClientMessage
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.forms import FORM_STYLE, FieldGrid, Refused, catching_refusals, error_label

WHAT = {
    "receipt": "receipt",
    "invoice": "invoice",
    "payment_link": "payment link",
    "mandate_link": "Direct Debit link",
    "reminder": "reminder",
}
MessageMaker = Callable[[ClinicSettings], ClientMessage]
AttachmentMaker = Callable[[ClinicSettings], bytes | None]
STATUS = {"queued": "waiting to be sent", "sending": "being sent", "sent": "sent", "failed": "not sent"}


class SendToClientDialog(QDialog):
    """``queued(QueuedEmail)`` once the email is in the queue."""

    queued = Signal(object)

    def __init__(
        self,
        desk: Desk,
        message: ClientMessage,
        *,
        to: str | None,
        attachment: bytes | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.desk, self.message, self.attachment = desk, message, attachment
        what = WHAT.get(message.kind, "message")
        self.setWindowTitle(f"Email the {what}")
        self.setStyleSheet(FORM_STYLE)
        self.setMinimumWidth(620)
        column = QVBoxLayout(self)
        column.setContentsMargins(20, 18, 20, 18)
        column.setSpacing(8)
        heading = QLabel(f"Email the {what} to the client")
        heading.setObjectName("heading")
        column.addWidget(heading)

        self.to = QLineEdit(to or "")
        self.to.setPlaceholderText("client@example.com")
        self.subject = QLineEdit(message.subject)
        self.body = QPlainTextEdit(message.body)
        self.body.setMinimumHeight(180)
        self.body.setTabChangesFocus(True)
        self.fields = FieldGrid()
        self.fields.add_field("to", "To", self.to)
        self.fields.add_field("subject", "Subject", self.subject)
        self.fields.add_field("body", "Message", self.body, top=True)
        column.addLayout(self.fields)
        if attachment is not None and message.attachment_name:
            attached = QLabel(f"Attached: {message.attachment_name}")
            attached.setObjectName("hint")
            column.addWidget(attached)

        sms_caption = QLabel("SMS-ready text, to copy into a text message")
        sms_caption.setObjectName("section")
        self.sms = QPlainTextEdit(message.sms)
        self.sms.setReadOnly(True)
        self.sms.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)  # a long link breaks too
        self.sms.setFixedHeight(4 * self.sms.fontMetrics().lineSpacing() + 16)  # the whole text, no scrolling
        self.copy_sms_button = QPushButton("Copy SMS text")
        self.copy_sms_button.setAutoDefault(False)
        self.copy_sms_button.clicked.connect(self.copy_sms)
        sms_row = QHBoxLayout()
        sms_row.addWidget(self.sms, 1)
        sms_row.addWidget(self.copy_sms_button, 0, Qt.AlignmentFlag.AlignTop)
        column.addWidget(sms_caption)
        column.addLayout(sms_row)

        self.history = QLabel("")
        self.history.setObjectName("hint")
        self.history.setWordWrap(True)
        column.addWidget(self.history)
        self.status = error_label()
        self.status.setMinimumHeight(36)  # room kept for a sentence: nothing moves under the mouse
        self.status.show()
        column.addWidget(self.status)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.send_button = QPushButton("Send email")
        self.send_button.setObjectName("primary")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.send_button)
        column.addLayout(buttons)
        (self.subject if self.to.text() else self.to).setFocus()
        self._load_history()

    def send(self) -> None:
        self.fields.clear_errors()
        self.status.setText("")
        services, staff_id, message = self.desk.services, self.desk.staff_id, self.message
        to, subject, body, attachment = (
            self.to.text(),
            self.subject.text(),
            self.body.toPlainText(),
            self.attachment,
        )

        def queue() -> QueuedEmail:
            return email_service.email_client(
                services,
                to=to,
                subject=subject,
                body=body,
                kind=message.kind,
                record_id=message.record_id,
                staff_id=staff_id,
                attachment=attachment,
                attachment_name=message.attachment_name if attachment is not None else None,
            )

        self.send_button.setEnabled(False)
        self.desk.run(catching_refusals(queue), self._queued, self._failed)

    def copy_sms(self) -> None:
        QGuiApplication.clipboard().setText(self.sms.toPlainText())
        self.status.setObjectName("info")
        self.status.setText("Copied. Paste it into a text message to the client.")
        _repolish(self.status)

    def _queued(self, result: QueuedEmail | Refused) -> None:
        self.send_button.setEnabled(True)
        if isinstance(result, Refused):
            if not self.fields.show_error(result.field or "", result.message):
                self._failed(result.message)
            return
        self.desk.message.emit(
            f"The {WHAT.get(result.kind, 'email')} is on its way to {result.to}: "
            "it is sent in the background, as soon as the mail server can be reached."
        )
        self.queued.emit(result)
        self.accept()

    def _failed(self, sentence: str) -> None:
        self.send_button.setEnabled(True)
        self.status.setObjectName("error")
        self.status.setText(sentence)
        _repolish(self.status)

    def _load_history(self) -> None:
        if self.message.record_id is None:
            return
        services, record_id = self.desk.services, self.message.record_id
        self.desk.run(
            lambda: email_service.emails(services, record_id=record_id), self._show_history, lambda _s: None
        )

    def _show_history(self, earlier: list[QueuedEmail]) -> None:
        if not earlier:
            return
        tz = self.desk.settings.tz
        lines = [
            f"{fmt.date_time(e.sent_at or e.created_at, tz)}: {STATUS.get(e.status, e.status)} to {e.to}"
            + (f" — {e.last_error}" if e.status == "failed" and e.last_error else "")
            for e in earlier[:3]
        ]
        self.history.setText("Emailed before: " + "; ".join(lines))


class EmailButton(QPushButton):
    """ "Email link…", "Email invoice…": opens a ``SendToClientDialog`` for what ``set_target`` names, addressed
    to the client's email on file. Hidden while there is nothing to send. ``desk`` may be given later (a panel
    built before its screen hands it the desk)."""

    def __init__(self, caption: str, desk: Desk | None = None, parent: QWidget | None = None) -> None:
        super().__init__(caption, parent)
        self.desk = desk
        self.dialog: SendToClientDialog | None = None
        self._make: MessageMaker | None = None
        self._attachment: AttachmentMaker | None = None
        self._client_id: str | None = None
        self.setAutoDefault(False)
        self.setToolTip("Email it to the client (sent in the background), with an SMS-ready text to copy")
        self.clicked.connect(self.open_dialog)
        self.hide()

    def set_target(
        self,
        make: MessageMaker | None,
        *,
        client_id: str | None = None,
        attachment: AttachmentMaker | None = None,
    ) -> None:
        self._make, self._client_id, self._attachment = make, client_id, attachment
        self.setVisible(make is not None)

    def open_dialog(self) -> None:
        desk, client_id = self.desk, self._client_id
        if desk is None or self._make is None:
            return
        if client_id is None:
            self._open(None)
            return
        services = desk.services
        self.setEnabled(False)
        desk.run(
            lambda: clients_service.client_summaries(services, [client_id]),
            lambda found: self._open(found.get(client_id)),
            self._failed,
        )

    def _open(self, client: ClientSummary | None) -> None:
        self.setEnabled(True)
        if self.desk is None or self._make is None:
            return
        settings = self.desk.settings
        attachment = self._attachment(settings) if self._attachment is not None else None
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = SendToClientDialog(
            self.desk,
            self._make(settings),
            to=client.email if client is not None else None,
            attachment=attachment,
            parent=self.window(),
        )
        self.dialog.open()

    def _failed(self, sentence: str) -> None:
        self.setEnabled(True)
        if self.desk is not None:
            self.desk.message.emit(sentence)


def _repolish(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)
