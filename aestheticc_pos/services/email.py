"""Email to clients through the clinic's own mail server: set up by a manager, queued at the till, sent once.

Staff send a receipt, an invoice, a link or a reminder of sessions about to expire from the screen that shows
it (the screen writes the text: the UI is the one place that formats money). ``email_client`` only queues the
message, in the database, so a till with no network loses nothing; ``send_queued_emails`` (run by the till in
the background) sends what is due.

Sent once: a message is marked ``sending`` and committed before the server is asked, and ``sent`` after. A till
that stops in between cannot know whether the server took it, so once it has been ``sending`` for longer than any
send takes (``STUCK_AFTER``: another till may be sending it right now) the message becomes ``failed``
with a sentence asking staff to check with the client, never sent again on its own. A server that cannot be
reached is tried again later (1, 5, 15, 60 minutes, then hourly); one that refuses the message for good (a wrong
address or password) fails it at once with its sentence. ``send_again`` puts a failed one back in the queue.

The mail server's password lives in the OS keyring (``keyring_store.KeyringMailPasswords``), never here.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aestheticc_pos.domain.clients import normalise_email
from aestheticc_pos.domain.errors import InvalidInput, NotFound, RuleViolation
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.keyring_store import KeyringMailPasswords, Passwords, SecretStoreUnavailable
from aestheticc_pos.mailer import MailRefused, MailServer, MailUnavailable, Outgoing, Security, SmtpMailer
from aestheticc_pos.services import inputs
from aestheticc_pos.services.authority import Audience, use_case
from aestheticc_pos.services.context import Services, read_clinic_settings
from aestheticc_pos.store.audit_repo import append_audit
from aestheticc_pos.store.tables import EmailRow, SettingRow

log = logging.getLogger(__name__)

KINDS = ("receipt", "invoice", "payment_link", "mandate_link", "reminder")  # reminder: sessions expiring
RETRY_AFTER = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=15),
    dt.timedelta(hours=1),
)
STOPPED_WHILE_SENDING = (
    "The till stopped while this was being sent, so it may or may not have arrived. "
    "Ask the client; send it again only if it did not."
)
NOT_SET_UP = "Set up the clinic's email in Settings → Email first (the mail server and its sender address)."
_KEYS = {"host": "mail_host", "port": "mail_port", "security": "mail_security", "user": "mail_user"}
_SENDER = "mail_sender"
ATTACHMENT_LIMIT = 10 * 1024 * 1024
# A message still "sending" this long after it was taken was left by a till that stopped (another till may be
# sending one right now: that one is younger).
STUCK_AFTER = dt.timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class QueuedEmail:
    id: str
    kind: str
    record_id: str | None
    to: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class MailSetup:
    """What the Settings → Email card shows: the server (None before it is set up), and whether this computer
    can keep its password (``keyring_sentence`` says why not) and keeps one for it."""

    server: MailServer | None
    keyring_available: bool
    keyring_sentence: str
    password_kept: bool


@dataclass(frozen=True, slots=True)
class SendRound:
    """What one round of sending did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0


@use_case(Action.EDIT_SETTINGS)
def mail_server(services: Services, staff_id: str) -> MailServer | None:
    """The clinic's mail server as set up (None before it is)."""
    with services.uow(read_only=True) as uow:
        return _server(uow.session)


@use_case(Action.EDIT_SETTINGS, retry=False)
def mail_setup(services: Services, staff_id: str, *, passwords: Passwords | None = None) -> MailSetup:
    """The mail server as set up, and what the keyring can do for its password (it is never read out)."""
    with services.uow(read_only=True) as uow:
        server = _server(uow.session)
    store = KeyringMailPasswords() if passwords is None else passwords
    available, sentence = store.available()
    kept = False
    if available and server is not None and server.login:
        try:
            kept = store.get_password(server.login) is not None
        except SecretStoreUnavailable as error:
            available, sentence = False, str(error)
    return MailSetup(server, available, sentence, kept)


@use_case(Action.EDIT_SETTINGS, retry=False)
def send_test_email(
    services: Services,
    staff_id: str,
    *,
    to: str,
    mailer: SmtpMailer | None = None,
    passwords: Passwords | None = None,
) -> str:
    """Send a short message now, through the saved server, to check the settings; returns the address.

    Not queued: the manager is waiting for the answer. A server that cannot be reached or refuses says so in
    a sentence (``RuleViolation``).
    """
    address = normalise_email(to if isinstance(to, str) else "")
    if address is None:
        raise InvalidInput("Type the address to send the test to.", field="test_to")
    with services.uow(read_only=True) as uow:
        server = _server(uow.session)
        name = read_clinic_settings(uow.session).name or "The clinic"
    if server is None:
        raise RuleViolation(NOT_SET_UP)
    if mailer is None:
        mailer = SmtpMailer(server, _password(server, passwords))
    message = Outgoing(
        message_id=f"<test-{services.new_id()}@aestheticc-pos>",
        to=address,
        subject=f"Test email from {name}",
        body=(
            f"This is a test from {name}: the till can send email through {server.host}.\n"
            "Receipts, invoices and payment links will reach clients from this address.\n"
        ),
    )
    try:
        mailer.send(message)
    except (MailUnavailable, MailRefused) as error:
        raise RuleViolation(str(error)) from None
    log.info("Test email sent through the clinic's mail server")
    return address


@use_case(Action.EDIT_SETTINGS, retry=False)
def save_mail_server(
    services: Services,
    staff_id: str,
    *,
    host: str,
    port: int | str,
    security: Security | str,
    user: str,
    sender: str,
    password: str | None = None,
    passwords: Passwords | None = None,
) -> MailServer:
    """Set up the mail server. A password given goes to the keyring (refused, with nothing saved, where there is
    none); None keeps the one already kept."""
    server = MailServer(
        host=_host(host),
        port=inputs.whole_number(port, what="The port", minimum=1, maximum=65535),
        security=inputs.choice(Security, security, what="a kind of security"),
        user=inputs.text(user, what="The user name", required=False, max_length=200),
        sender=_sender(sender),
    )
    if password:
        if not server.user:
            raise InvalidInput("Give the user name the password belongs to.", field="user")
        store = KeyringMailPasswords() if passwords is None else passwords
        try:
            store.set_password(server.login, password)
        except SecretStoreUnavailable as error:
            raise RuleViolation(str(error)) from None
    with services.uow() as uow:
        s = uow.session
        values = {
            _KEYS["host"]: server.host,
            _KEYS["port"]: str(server.port),
            _KEYS["security"]: server.security.value,
            _KEYS["user"]: server.user,
            _SENDER: server.sender,
        }
        for key, value in values.items():
            row = s.get(SettingRow, key)
            if row is None:
                s.add(SettingRow(key=key, value=value))
            else:
                row.value = value
        append_audit(
            s,
            at=services.now(),
            staff_id=staff_id,
            action="settings.mail_server_changed",
            record_type="settings",
            record_id="mail",
            details={"host": server.host, "port": server.port, "security": server.security.value},
        )
        uow.commit()
    return server


@use_case(Action.TAKE_PAYMENTS)
def email_client(
    services: Services,
    *,
    to: str,
    subject: str,
    body: str,
    kind: str,
    record_id: str | None,
    staff_id: str,
    attachment: bytes | None = None,
    attachment_name: str | None = None,
) -> QueuedEmail:
    """Queue a message to a client; it is sent in the background (at once when the server can be reached)."""
    address = normalise_email(to if isinstance(to, str) else "")
    if address is None:
        raise InvalidInput("Type the client's email address.", field="to")
    if kind not in KINDS:
        raise InvalidInput(f"“{kind}” is not something the till emails ({', '.join(KINDS)}).")
    subject = inputs.text(subject, what="The subject", max_length=200)
    if not isinstance(body, str) or not body.strip() or "\x00" in body:
        raise InvalidInput("The message is empty.")
    if attachment is not None and (not isinstance(attachment, bytes) or len(attachment) > ATTACHMENT_LIMIT):
        raise InvalidInput("The attachment is too large to email (10 MB at most).")
    with services.uow() as uow:
        s = uow.session
        if _server(s) is None:
            raise RuleViolation(NOT_SET_UP)
        email_id = services.new_id()
        row = EmailRow(
            id=email_id,
            kind=kind,
            record_id=record_id,
            to_address=address,
            subject=subject,
            body=body,
            attachment=attachment,
            attachment_name=attachment_name if attachment is not None else None,
            message_id=f"<{email_id}@aestheticc-pos>",
            status="queued",
            attempts=0,
            staff_id=staff_id,
            next_attempt_at=services.now(),
        )
        s.add(row)
        s.flush()
        queued = _queued(row)
        uow.commit()
    log.info("Email %s queued (%s for %s)", email_id, kind, record_id)
    return queued


@use_case(Audience.ANY_STAFF)
def emails(
    services: Services, *, record_id: str | None = None, waiting_only: bool = False
) -> list[QueuedEmail]:
    """Emails newest first: those of one record, or those not sent yet (queued, sending or failed)."""
    with services.uow(read_only=True) as uow:
        query = select(EmailRow).order_by(EmailRow.created_at.desc(), EmailRow.id).limit(500)
        if record_id is not None:
            query = query.where(EmailRow.record_id == record_id)
        if waiting_only:
            query = query.where(EmailRow.status != "sent")
        return [_queued(row) for row in uow.session.scalars(query)]


@use_case(Action.TAKE_PAYMENTS)
def send_again(services: Services, email_id: str, staff_id: str) -> QueuedEmail:
    """Put a failed email back in the queue (after staff checked the address or the settings)."""
    with services.uow() as uow:
        row = uow.session.get(EmailRow, email_id)
        if row is None:
            raise NotFound("That email is not in the list any more.")
        if row.status != "failed":
            raise RuleViolation("Only an email that failed can be sent again.")
        row.status, row.next_attempt_at, row.last_error = "queued", services.now(), None
        uow.session.flush()
        queued = _queued(row)
        uow.commit()
    return queued


@use_case(Audience.TILL, retry=False)
def send_queued_emails(
    services: Services,
    *,
    mailer: SmtpMailer | None = None,
    passwords: Passwords | None = None,
    batch: int = 20,
) -> SendRound:
    """Send what is due, one message at a time; see the module docstring for "once"."""
    now = services.now()
    with services.uow() as uow:
        s = uow.session
        server = _server(s)
        stuck = s.execute(
            update(EmailRow)
            .where(EmailRow.status == "sending", EmailRow.next_attempt_at <= now - STUCK_AFTER)
            .values(status="failed", last_error=STOPPED_WHILE_SENDING)
        ).rowcount
        due = s.scalars(
            select(EmailRow.id)
            .where(EmailRow.status == "queued", EmailRow.next_attempt_at <= now)
            .order_by(EmailRow.next_attempt_at, EmailRow.id)
            .limit(batch)
        ).all()
        uow.commit()
    if stuck:
        log.warning(
            "%s email(s) were being sent when the till stopped; marked failed for staff to check", stuck
        )
    if not due or server is None:
        return SendRound(failed=stuck)
    if mailer is None:
        mailer = SmtpMailer(server, _password(server, passwords))
    sent = retrying = failed = 0
    for email_id in due:
        outgoing = _take(services, email_id)
        if outgoing is None:
            continue  # another till took it
        try:
            mailer.send(outgoing)
        except MailUnavailable as error:
            retrying += 1
            _finish(services, email_id, status="queued", error=str(error), retry=True)
            break  # the server is away: the rest waits too
        except MailRefused as error:
            failed += 1
            _finish(services, email_id, status="failed", error=str(error))
        else:
            sent += 1
            _finish(services, email_id, status="sent")
    return SendRound(sent=sent, retrying=retrying, failed=failed + stuck)


def _take(services: Services, email_id: str) -> Outgoing | None:
    with services.uow() as uow:
        taken = uow.session.execute(
            update(EmailRow)
            .where(EmailRow.id == email_id, EmailRow.status == "queued")
            .values(status="sending", next_attempt_at=services.now())
        ).rowcount
        row = uow.session.get(EmailRow, email_id)
        uow.commit()
    if not taken or row is None:
        return None
    return Outgoing(
        message_id=row.message_id,
        to=row.to_address,
        subject=row.subject,
        body=row.body,
        attachment_name=row.attachment_name,
        attachment=row.attachment,
    )


def _finish(
    services: Services, email_id: str, *, status: str, error: str | None = None, retry: bool = False
) -> None:
    now = services.now()
    with services.uow() as uow:
        row = uow.session.get(EmailRow, email_id)
        if row is None:
            return
        row.status, row.last_error = status, error
        row.attempts += 1
        if status == "sent":
            row.sent_at = now
            log.info("Email %s sent", email_id)
        elif retry:
            row.next_attempt_at = now + RETRY_AFTER[min(row.attempts, len(RETRY_AFTER)) - 1]
        else:
            log.warning("Email %s refused by the mail server", email_id)
        uow.commit()


def _server(s: Session) -> MailServer | None:
    keys = [*_KEYS.values(), _SENDER]
    values = dict(s.execute(select(SettingRow.key, SettingRow.value).where(SettingRow.key.in_(keys))).all())
    if not values.get("mail_host") or not values.get(_SENDER):
        return None
    return MailServer(
        host=values["mail_host"],
        port=int(values.get("mail_port") or 587),
        security=Security(values.get("mail_security") or Security.STARTTLS.value),
        user=values.get("mail_user", ""),
        sender=values[_SENDER],
    )


def _password(server: MailServer, passwords: Passwords | None) -> str | None:
    if not server.login:
        return None
    store = KeyringMailPasswords() if passwords is None else passwords
    try:
        return store.get_password(server.login)
    except SecretStoreUnavailable as error:
        log.warning("The email password could not be read from the keyring: %s", error)
        return None


def _host(value: str) -> str:
    host = inputs.text(value, what="The mail server", max_length=253)
    if any(c.isspace() or c in "/@:" for c in host):
        raise InvalidInput("Type the mail server's name only, like smtp.example.com.", field="host")
    return host


def _sender(value: str) -> str:
    sender = inputs.text(value, what="The sender address", max_length=254)
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    normalise_email(address)
    return sender


def _queued(row: EmailRow) -> QueuedEmail:
    return QueuedEmail(
        id=row.id,
        kind=row.kind,
        record_id=row.record_id,
        to=row.to_address,
        subject=row.subject,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )
