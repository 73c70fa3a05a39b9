"""The liability report's reminder, emailed: choosing a client whose sessions expire soon and pressing Email…
opens the email addressed to them with the reminder written, and Send queues it for the till's background
sender, which delivers it once through a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from smtp_mailbox import PASSWORD, USER, Mailbox, running_mailbox

from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.email_sender import EmailSender
from aestheticc_pos.keyring_store import NO_KEYRING_FOR_MAIL, MemoryPasswords
from aestheticc_pos.services import email as email_service
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.views.reports import ReportsView

WAIT = 15_000


@pytest.fixture
def mail(demo_desk: Desk, switch_staff) -> Iterator[Mailbox]:
    """The clinic's mail server set up by the manager, and the till's background sender running."""
    switch_staff(demo_desk, "Sophie Laurent")
    passwords = MemoryPasswords(no_keyring=NO_KEYRING_FOR_MAIL)
    with running_mailbox() as (box, port):
        email_service.save_mail_server(
            demo_desk.services,
            demo_desk.staff_id,
            host="127.0.0.1",
            port=port,
            security="none",
            user=USER,
            sender="Lumière Aesthetics <hello@lumiere.example>",
            password=PASSWORD,
            passwords=passwords,
        )
        sender = EmailSender(demo_desk.services, interval=0.2, passwords=passwords).start()
        try:
            yield box
        finally:
            sender.stop()


def test_the_reminder_of_expiring_sessions_is_emailed_to_the_client(qtbot, demo_desk, mail) -> None:
    box = mail
    view = ReportsView(demo_desk)
    qtbot.addWidget(view)
    view.resize(1150, 700)
    view.show()
    view.refresh()
    view.show_page("liability")
    page = view.pages["liability"]
    qtbot.waitUntil(lambda: page.loaded and not view.busy, timeout=WAIT)
    page.within.setValue(365)  # a year of expiries: the demo clinic's clients with an email among them
    page.load_expiring()
    qtbot.waitUntil(lambda: page.expiring.within_days == 365 and not view.busy, timeout=WAIT)
    row = next(i for i, c in enumerate(page.expiring.clients) if c.email and i > 0)
    client = page.expiring.clients[row]
    page.cards["expiring"].view.selectRow(row)  # one row per client, in the report's order
    qtbot.waitUntil(
        lambda: page.email_button.isVisible() and client.first_name in page.reminder.toPlainText()
    )

    qtbot.mouseClick(page.email_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: page.email_button.dialog is not None and page.email_button.dialog.isVisible(), timeout=WAIT
    )
    dialog = page.email_button.dialog
    assert dialog.windowTitle() == "Email the reminder"
    assert dialog.to.text() == client.email
    first = min(client.packages, key=lambda p: p.expires_on)
    assert (
        dialog.subject.text()
        == f"Your sessions at Lumière Aesthetics: use them by {fmt.long_date(first.expires_on)}"
    )
    assert dialog.body.toPlainText() == page.reminder.toPlainText()
    assert first.name in dialog.sms.toPlainText() and fmt.date(first.expires_on) in dialog.sms.toPlainText()
    with qtbot.waitSignal(dialog.finished, timeout=WAIT):
        qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)

    [message] = box.wait_for(1)
    assert (message["To"], message["Subject"]) == (client.email, dialog.subject.text())
    text = message.get_content()
    for package in client.packages:
        assert package.name in text and fmt.long_date(package.expires_on) in text
    qtbot.waitUntil(
        lambda: (
            [(e.kind, e.status) for e in email_service.emails(demo_desk.services, record_id=client.client_id)]
            == [("reminder", "sent")]
        ),
        timeout=WAIT,
    )


def test_a_kind_the_till_does_not_email_is_refused(demo_desk, mail) -> None:
    with pytest.raises(InvalidInput, match="reminder"):  # the sentence lists what the till emails
        email_service.email_client(
            demo_desk.services,
            to="ada@example.com",
            subject="Hello",
            body="Hello",
            kind="newsletter",
            record_id=None,
            staff_id=demo_desk.staff_id,
        )
