"""Sending email through the clinic's own mail server (SMTP): receipts, invoices and payment links to clients.

An adapter, like ``sync/gocardless.py`` is for GoCardless: it knows SMTP and nothing of the clinic's data. The
services queue each message in the database; ``services/email.send_queued_emails`` hands them here one by one.

Errors are of two kinds, so the queue knows what to do: ``MailUnavailable`` (the server cannot be reached, is
busy, or refused for now: try again later) and ``MailRefused`` (the server will never take this message: a wrong
address, a wrong password — staff must act). Both carry a sentence for staff; neither carries the password.
"""

from __future__ import annotations

import enum
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

TIMEOUT_SECONDS = 20


class Security(enum.StrEnum):
    STARTTLS = "starttls"  # port 587: plain, then upgraded to TLS (most providers)
    TLS = "tls"  # port 465: TLS from the first byte
    NONE = "none"  # a server on the clinic's own network that needs neither


@dataclass(frozen=True, slots=True)
class MailServer:
    """Where and how the till sends email. The password is not here: it lives in the keyring."""

    host: str
    port: int
    security: Security
    user: str
    sender: str  # the From address clients see, e.g. "Lumière Aesthetics <hello@lumiere.example>"

    @property
    def login(self) -> str:
        """Whose password the keyring keeps: "user@host:port"."""
        return f"{self.user}@{self.host}:{self.port}" if self.user else ""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to one client, in plain text, with an optional PDF."""

    message_id: str  # kept with the queued message: the same message is never sent under two ids
    to: str
    subject: str
    body: str
    attachment_name: str | None = None
    attachment: bytes | None = None


class MailUnavailable(Exception):
    """The server could not take the message now; try again later. ``str(error)`` is a sentence for staff."""


class MailRefused(Exception):
    """The server will not take this message as it is; staff must act. ``str(error)`` is a sentence."""


class SmtpMailer:
    """Sends through ``server`` with ``password`` (None: the server needs no login)."""

    def __init__(self, server: MailServer, password: str | None, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.server = server
        self._password = password
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"SmtpMailer({self.server.host}:{self.server.port}, {self.server.security.value})"

    def send(self, message: Outgoing) -> None:
        email = _email(self.server.sender, message)
        try:
            with self._connect() as smtp:
                if self.server.user:
                    smtp.login(self.server.user, self._password or "")
                refused = smtp.send_message(email)
        except smtplib.SMTPAuthenticationError:
            raise MailRefused(
                "The mail server refused the user name or password. Check them in Settings → Email."
            ) from None
        except smtplib.SMTPRecipientsRefused:
            raise MailRefused(
                f"The mail server refused the address {message.to}. Check it on the client's record."
            ) from None
        except smtplib.SMTPResponseException as error:
            if 500 <= error.smtp_code < 600:
                raise MailRefused(
                    f"The mail server refused the message ({error.smtp_code}). Check Settings → Email, or the address."
                ) from None
            raise MailUnavailable(
                f"The mail server is busy ({error.smtp_code}); the message will be sent later."
            ) from None
        except (OSError, smtplib.SMTPException, ssl.SSLError):
            raise MailUnavailable(
                f"The mail server {self.server.host} cannot be reached; the message will be sent later."
            ) from None
        if refused:
            raise MailRefused(
                f"The mail server refused the address {message.to}. Check it on the client's record."
            )

    def _connect(self) -> smtplib.SMTP:
        host, port = self.server.host, self.server.port
        if self.server.security is Security.TLS:
            return smtplib.SMTP_SSL(host, port, timeout=self._timeout, context=ssl.create_default_context())
        smtp = smtplib.SMTP(host, port, timeout=self._timeout, local_hostname=_local_name())
        if self.server.security is Security.STARTTLS:
            smtp.starttls(context=ssl.create_default_context())
        return smtp


def _email(sender: str, message: Outgoing) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = message.message_id
    email.set_content(message.body)
    if message.attachment is not None:
        email.add_attachment(
            message.attachment,
            maintype="application",
            subtype="pdf",
            filename=message.attachment_name or "document.pdf",
        )
    return email


def _local_name() -> str:
    name = socket.gethostname()
    return name if name.isascii() and name else "aestheticc-till"
