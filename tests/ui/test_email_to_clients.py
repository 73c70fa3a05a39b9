"""Sending things to clients from where they are shown, through a real SMTP server on 127.0.0.1: an invoice (with
its PDF and its pay link) and a payment link from Payments, the link just sent at checkout, and a membership's
Direct Debit link. Each button opens the email addressed to the client, with an SMS-ready text to copy; Send
queues it and the till's background sender delivers it once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from smtp_mailbox import PASSWORD, USER, Mailbox, running_mailbox
from sqlalchemy import select

from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.staff import Role
from aestheticc_pos.email_sender import EmailSender
from aestheticc_pos.keyring_store import NO_KEYRING_FOR_MAIL, MemoryPasswords
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import email as email_service
from aestheticc_pos.services import invoices as invoices_service
from aestheticc_pos.services import membership_views, payment_links
from aestheticc_pos.services import memberships as memberships_service
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.pricing import BasketItem
from aestheticc_pos.store.tables import MembershipRow, OutboxRow, PaymentLinkRow
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.dialogs.send_to_client import EmailButton, SendToClientDialog
from aestheticc_pos.ui.views.checkout_links import SentLinkCard
from aestheticc_pos.ui.views.memberships import MembershipsView
from aestheticc_pos.ui.views.payments import PaymentsView

WAIT = 5000
SERUM = [BasketItem(ItemKind.PRODUCT, "pr-serum")]


@pytest.fixture
def mail(demo_desk: Desk) -> Iterator[tuple[Mailbox, EmailSender]]:
    """The clinic's mail server set up (password in a keyring), and the till's background sender running."""
    services = demo_desk.services
    passwords = MemoryPasswords(no_keyring=NO_KEYRING_FOR_MAIL)
    manager = next(m.id for m in staff_service.list_staff(services) if m.role is Role.MANAGER)
    with running_mailbox() as (box, port):
        email_service.save_mail_server(
            services,
            manager,
            host="127.0.0.1",
            port=port,
            security="none",
            user=USER,
            sender="Lumière Aesthetics <hello@lumiere.example>",
            password=PASSWORD,
            passwords=passwords,
        )
        sender = EmailSender(services, interval=0.2, passwords=passwords).start()
        try:
            yield box, sender
        finally:
            sender.stop()


def _client_with_email(desk: Desk) -> clients_service.ClientSummary:
    members = {m.client_id for m in membership_views.memberships_list(desk.services)}
    return next(
        c
        for c in clients_service.search_clients(desk.services, "", limit=200)
        if c.email and c.id not in members
    )


def _send(qtbot, button: EmailButton) -> SendToClientDialog:
    """Click the button, wait for the email dialog, send it; returns the dialog (closed)."""
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: button.dialog is not None and button.dialog.isVisible(), timeout=WAIT)
    dialog = button.dialog
    assert dialog is not None
    with qtbot.waitSignal(dialog.finished, timeout=WAIT):
        qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    return dialog


def _link_made(services, link_id: str) -> str:
    """What the sync records once GoCardless made the link (its address; the link is open)."""
    url = f"http://127.0.0.1/flow/BRF-{link_id[:8]}"
    with services.uow() as uow:
        row = uow.session.get(PaymentLinkRow, link_id)
        row.gc_billing_request_id, row.gc_flow_id = f"BRQ-{link_id[:8]}", f"BRF-{link_id[:8]}"
        row.authorisation_url, row.status = url, "open"
        for job in uow.session.scalars(select(OutboxRow).where(OutboxRow.record_id == link_id)):
            job.status = "done"
        uow.commit()
    return url


def test_an_invoice_and_its_pay_link_are_emailed_from_payments(qtbot, demo_desk, mail) -> None:
    box, _sender = mail
    services = demo_desk.services
    client = _client_with_email(demo_desk)
    draft = invoices_service.create_invoice_draft(
        services, client_id=client.id, items=SERUM, staff_id=demo_desk.staff_id
    )
    invoice = invoices_service.issue_invoice(services, draft.id, staff_id=demo_desk.staff_id)
    link = payment_links.create_invoice_link(services, invoice_id=invoice.id, staff_id=demo_desk.staff_id)
    url = _link_made(services, link.id)

    view = PaymentsView(demo_desk)
    qtbot.addWidget(view)
    view.resize(1366, 768)
    view.show()
    view.refresh()
    view.show_invoice(invoice.id)
    panel = view.invoice_panel
    qtbot.waitUntil(lambda: view.invoice is not None and panel.email_invoice.isVisible(), timeout=WAIT)
    dialog = _send(qtbot, panel.email_invoice)
    assert dialog.to.text() == client.email
    assert dialog.message.attachment_name == f"Invoice {invoice.number}.pdf"
    assert url in dialog.sms.toPlainText() and invoice.number in dialog.sms.toPlainText()

    [message] = box.wait_for(1)
    assert (message["To"], message["Subject"]) == (
        client.email,
        f"Invoice {invoice.number} from Lumière Aesthetics",
    )
    text, pdf = [part for part in message.walk() if not part.is_multipart()]
    assert url in text.get_content() and "£45.00" in text.get_content()
    assert pdf.get_payload(decode=True).startswith(b"%PDF")

    view.tabs.setCurrentWidget(view.links)
    view.show_link(link.id)
    qtbot.waitUntil(lambda: view.link_panel.email_link.isVisible(), timeout=WAIT)
    dialog = _send(qtbot, view.link_panel.email_link)
    assert dialog.message.kind == "payment_link"
    box.wait_for(2)
    assert box.received[1]["Subject"] == "Your payment link from Lumière Aesthetics"
    assert url in box.received[1].get_content()
    qtbot.waitUntil(
        lambda: [e.status for e in email_service.emails(services, record_id=invoice.id)] == ["sent"],
        timeout=WAIT,
    )


def test_the_link_just_sent_at_checkout_is_emailed_once_it_is_made(qtbot, demo_desk, mail) -> None:
    box, sender = mail
    services = demo_desk.services
    client = _client_with_email(demo_desk)
    link = payment_links.create_basket_link(
        services, client_id=client.id, items=SERUM, staff_id=demo_desk.staff_id
    )
    card = SentLinkCard(demo_desk)
    qtbot.addWidget(card)
    card.show()
    card.show_link(link)
    assert not card.email_link.isVisible()  # nothing to send while GoCardless is making it
    url = _link_made(services, link.id)
    qtbot.waitUntil(lambda: card.email_link.isVisible(), timeout=WAIT)

    dialog = _send(qtbot, card.email_link)
    assert dialog.to.text() == client.email
    [message] = box.wait_for(1)
    assert url in message.get_content() and "£45.00" in message.get_content()
    qtbot.waitUntil(
        lambda: email_service.emails(services, record_id=link.id)[0].status == "sent", timeout=WAIT
    )
    rounds = sender.rounds
    qtbot.waitUntil(lambda: sender.rounds >= rounds + 2, timeout=WAIT)
    assert len(box.received) == 1  # sent once


def test_a_membership_direct_debit_link_is_emailed_from_memberships(qtbot, demo_desk, mail) -> None:
    box, _sender = mail
    services = demo_desk.services
    client = _client_with_email(demo_desk)
    membership = memberships_service.start_membership(
        services, client_id=client.id, tier_id="tier-gold", staff_id=demo_desk.staff_id
    )
    url = "http://127.0.0.1/flow/BRF-mandate"
    with services.uow() as uow:  # what the sync records once GoCardless made the Direct Debit link
        uow.session.get(MembershipRow, membership.id).gc_authorisation_url = url
        uow.commit()

    view = MembershipsView(demo_desk)
    qtbot.addWidget(view)
    view.resize(1366, 768)
    view.show()
    view.refresh()
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=WAIT)
    row = next(r for r in range(view.model.rowCount()) if view.model.row(r).id == membership.id)
    view.table.selectRow(row)
    qtbot.waitUntil(lambda: view.panel.email_link.isVisible(), timeout=WAIT)
    dialog = _send(qtbot, view.panel.email_link)
    assert dialog.message.kind == "mandate_link" and url in dialog.sms.toPlainText()

    [message] = box.wait_for(1)
    assert message["To"] == client.email
    assert message["Subject"] == "Set up your Gold membership Direct Debit"
    assert url in message.get_content() and "£49.00 a month" in message.get_content()
    qtbot.waitUntil(
        lambda: email_service.emails(services, record_id=membership.id)[0].status == "sent", timeout=WAIT
    )
    [sent] = email_service.emails(services, record_id=membership.id)
    assert sent.kind == "mandate_link"
