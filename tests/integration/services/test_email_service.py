"""Email to clients through a real SMTP server on 127.0.0.1 (aiosmtpd): queued at the till, sent once, retried
while the server is away, failed with a sentence when it refuses, never sent twice after a crash."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from smtp_mailbox import Mailbox, free_port, running_mailbox

from aestheticc_pos.domain.errors import InvalidInput, NotPermitted, RuleViolation
from aestheticc_pos.keyring_store import NO_KEYRING_FOR_MAIL, MemoryPasswords
from aestheticc_pos.services import email as email_service
from aestheticc_pos.services.context import Services
from aestheticc_pos.store.tables import EmailRow


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with running_mailbox() as running:
        yield running


@pytest.fixture
def passwords() -> MemoryPasswords:
    return MemoryPasswords(no_keyring=NO_KEYRING_FOR_MAIL)


def _set_up(
    services: Services, manager: str, port: int, passwords: MemoryPasswords, password: str = "s3cret"
):
    return email_service.save_mail_server(
        services,
        manager,
        host="127.0.0.1",
        port=port,
        security="none",
        user="desk",
        sender="Glow Clinic <hello@glow.example>",
        password=password,
        passwords=passwords,
    )


def _receipt(services: Services, receptionist: str, to: str = "Ada@Example.COM") -> email_service.QueuedEmail:
    return email_service.email_client(
        services,
        to=to,
        subject="Your receipt A-000123",
        body="Thank you for your visit.\nTotal £236.00",
        kind="receipt",
        record_id="sale-1",
        staff_id=receptionist,
        attachment=b"%PDF-1.4 receipt",
        attachment_name="A-000123.pdf",
    )


def test_a_receipt_is_queued_then_sent_once_with_its_pdf(
    services: Services, manager: str, receptionist: str, mailbox, passwords
) -> None:
    box, port = mailbox
    _set_up(services, manager, port, passwords)
    assert passwords.passwords == {f"desk@127.0.0.1:{port}": "s3cret"}

    queued = _receipt(services, receptionist)
    assert (queued.status, queued.to) == ("queued", "Ada@example.com")
    assert box.received == []  # queued only: nothing waits on the network at the desk

    assert email_service.send_queued_emails(services, passwords=passwords) == email_service.SendRound(sent=1)
    assert email_service.send_queued_emails(services, passwords=passwords) == email_service.SendRound()

    [message] = box.received
    assert (message["To"], message["Subject"]) == ("Ada@example.com", "Your receipt A-000123")
    assert message["From"] == "Glow Clinic <hello@glow.example>"
    assert message["Message-ID"] == f"<{queued.id}@aestheticc-pos>"
    text, pdf = [part for part in message.walk() if not part.is_multipart()]
    assert "Total £236.00" in text.get_content()
    assert (pdf.get_filename(), pdf.get_payload(decode=True)) == ("A-000123.pdf", b"%PDF-1.4 receipt")
    [shown] = email_service.emails(services, record_id="sale-1")
    assert (shown.status, shown.attempts, shown.sent_at is not None) == ("sent", 1, True)


def test_a_server_that_is_away_is_tried_again_later_and_nothing_is_lost(
    services: Services, manager: str, receptionist: str, passwords, clock, mailbox
) -> None:
    box, port = mailbox
    _set_up(services, manager, free_port(), passwords)  # nothing listens there
    _receipt(services, receptionist)

    assert email_service.send_queued_emails(services, passwords=passwords) == email_service.SendRound(
        retrying=1
    )
    [waiting] = email_service.emails(services, waiting_only=True)
    assert waiting.status == "queued" and "cannot be reached" in (waiting.last_error or "")
    assert (
        email_service.send_queued_emails(services, passwords=passwords) == email_service.SendRound()
    )  # not yet

    _set_up(services, manager, port, passwords)  # the server is back (here: the right address)
    clock.advance(minutes=2)
    assert email_service.send_queued_emails(services, passwords=passwords) == email_service.SendRound(sent=1)
    assert len(box.received) == 1


def test_a_refused_address_or_password_fails_with_a_sentence_and_can_be_sent_again(
    services: Services, manager: str, receptionist: str, passwords, mailbox
) -> None:
    box, port = mailbox
    _set_up(services, manager, port, passwords, password="wrong")
    queued = _receipt(services, receptionist)
    assert email_service.send_queued_emails(services, passwords=passwords) == email_service.SendRound(
        failed=1
    )
    [failed] = email_service.emails(services, waiting_only=True)
    assert (
        failed.last_error
        == "The mail server refused the user name or password. Check them in Settings → Email."
    )

    _set_up(services, manager, port, passwords)
    email_service.send_again(services, queued.id, receptionist)
    box.refuse.add("nobody@glow.example")
    _receipt(services, receptionist, to="nobody@glow.example")
    assert email_service.send_queued_emails(services, passwords=passwords) == email_service.SendRound(
        sent=1, failed=1
    )
    assert [m["To"] for m in box.received] == ["Ada@example.com"]
    with pytest.raises(RuleViolation, match="Only an email that failed"):
        email_service.send_again(services, queued.id, receptionist)


def test_a_till_that_stopped_mid_send_never_sends_it_again_on_its_own(
    services: Services, manager: str, receptionist: str, passwords, mailbox, clock
) -> None:
    box, port = mailbox
    _set_up(services, manager, port, passwords)
    queued = _receipt(services, receptionist)
    with services.uow() as uow:  # what a till killed between asking the server and writing "sent" leaves
        uow.session.get(EmailRow, queued.id).status = "sending"
        uow.commit()

    # Another till may be sending it this very minute: it is left alone until no send could still be going on.
    assert email_service.send_queued_emails(services, passwords=passwords) == email_service.SendRound()
    clock.advance(minutes=6)
    assert email_service.send_queued_emails(services, passwords=passwords) == email_service.SendRound(
        failed=1
    )
    [shown] = email_service.emails(services)
    assert (shown.status, shown.last_error) == ("failed", email_service.STOPPED_WHILE_SENDING)
    assert box.received == []


def test_bad_input_and_the_wrong_people_are_refused(
    services: Services, manager: str, receptionist: str, practitioner: str, passwords
) -> None:
    with pytest.raises(RuleViolation, match="Settings → Email"):
        _receipt(services, receptionist)  # no mail server yet
    with pytest.raises(InvalidInput, match="does not look like an email address"):
        email_service.save_mail_server(
            services, manager, host="smtp.glow.example", port=587, security="starttls", user="", sender="glow"
        )
    with pytest.raises(InvalidInput, match="between 1 and 65535"):
        email_service.save_mail_server(
            services, manager, host="smtp.glow.example", port=0, security="tls", user="", sender="a@b.example"
        )
    with pytest.raises(RuleViolation, match="no password store"):
        _set_up(services, manager, 2525, MemoryPasswords(available=False, no_keyring=NO_KEYRING_FOR_MAIL))
    assert email_service.mail_server(services, manager) is None

    _set_up(services, manager, 2525, passwords)
    with pytest.raises(InvalidInput, match="does not look like an email address"):
        _receipt(services, receptionist, to="ada at example")
    with pytest.raises(NotPermitted, match="Only a manager"):
        _set_up(services, receptionist, 2525, passwords)
    with pytest.raises(NotPermitted):
        _receipt(services, practitioner)
    assert email_service.emails(services) == []


def test_a_test_email_is_sent_at_once_and_says_what_went_wrong(
    services: Services, manager: str, receptionist: str, passwords, mailbox
) -> None:
    box, port = mailbox
    with pytest.raises(RuleViolation, match="Settings → Email"):
        email_service.send_test_email(services, manager, to="owner@glow.example", passwords=passwords)
    _set_up(services, manager, port, passwords)
    setup = email_service.mail_setup(services, manager, passwords=passwords)
    assert (setup.server.host, setup.keyring_available, setup.password_kept) == ("127.0.0.1", True, True)

    assert (
        email_service.send_test_email(services, manager, to="Owner@Glow.example", passwords=passwords)
        == "Owner@glow.example"
    )
    [message] = box.received
    assert (message["To"], message["Subject"]) == ("Owner@glow.example", "Test email from Test Clinic")
    assert "can send email through 127.0.0.1" in message.get_content()
    assert email_service.emails(services) == []  # not queued: sent while the manager waits

    _set_up(services, manager, port, passwords, password="wrong")
    with pytest.raises(RuleViolation, match="refused the user name or password"):
        email_service.send_test_email(services, manager, to="owner@glow.example", passwords=passwords)
    _set_up(services, manager, free_port(), passwords)
    with pytest.raises(RuleViolation, match="cannot be reached"):
        email_service.send_test_email(services, manager, to="owner@glow.example", passwords=passwords)
    with pytest.raises(NotPermitted):
        email_service.send_test_email(services, receptionist, to="owner@glow.example", passwords=passwords)


def test_without_a_keyring_the_setup_says_so_and_keeps_no_password(services: Services, manager: str) -> None:
    no_keyring = MemoryPasswords(available=False, no_keyring=NO_KEYRING_FOR_MAIL)
    setup = email_service.mail_setup(services, manager, passwords=no_keyring)
    assert (setup.server, setup.keyring_available, setup.keyring_sentence, setup.password_kept) == (
        None,
        False,
        NO_KEYRING_FOR_MAIL,
        False,
    )
    email_service.save_mail_server(  # a server that needs no password can still be used
        services,
        manager,
        host="mail.lan",
        port=25,
        security="none",
        user="",
        sender="desk@glow.example",
        passwords=no_keyring,
    )
    assert email_service.mail_setup(services, manager, passwords=no_keyring).server.host == "mail.lan"
