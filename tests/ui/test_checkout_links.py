"""Checkout's other ways to be paid, and deposits, on the demo clinic as Rita Evans (receptionist): the basket
sent as a payment link (its QR code once the sync has made it), the basket invoiced, a paid deposit credited at
checkout, and the deposit on the appointment and in the booking's message."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from sqlalchemy import select

from aestheticc_pos.domain.invoices import InvoiceStatus
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import deposits as deposits_service
from aestheticc_pos.services import invoices as invoices_service
from aestheticc_pos.services import membership_views, payment_links
from aestheticc_pos.store.tables import OutboxRow, PaymentLinkRow
from aestheticc_pos.ui.desk import CheckoutRequest, Desk
from aestheticc_pos.ui.views.appointment import AppointmentView
from aestheticc_pos.ui.views.appointment_facts import DEPOSIT_BEING_PREPARED
from aestheticc_pos.ui.views.checkout import CheckoutView
from aestheticc_pos.ui.views.checkout_links import NO_CLIENT
from aestheticc_pos.ui.views.checkout_payment import TenderMode
from aestheticc_pos.ui.views.payments_panels import BEING_PREPARED

WAIT = 5000


def _keep(qtbot, widget) -> None:
    """Close ``widget`` at the end of the test only once the desk's background work has called back."""
    qtbot.addWidget(
        widget, before_close_func=lambda w: qtbot.waitUntil(lambda: not w.desk.runner.busy, timeout=WAIT)
    )


def _checkout(qtbot, desk: Desk) -> CheckoutView:
    view = CheckoutView(desk)
    _keep(qtbot, view)
    view.resize(1366, 768)
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    view.refresh()
    qtbot.waitUntil(lambda: len(view.catalogue) > 0, timeout=WAIT)
    return view


def _choose(qtbot, finder, field, typed: str, wanted: str) -> None:
    qtbot.keyClicks(field, typed)
    qtbot.waitUntil(lambda: wanted in finder.matches(), timeout=WAIT)
    while finder.list.currentItem().text(0) != wanted:
        qtbot.keyClick(field, Qt.Key.Key_Down)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def _priced(view: CheckoutView, rows: int) -> bool:
    return not view.payment.busy and view.model.rowCount() == len(view.items) == rows


def _a_client_without_membership(desk: Desk) -> clients_service.ClientSummary:
    members = {m.client_id for m in membership_views.memberships_list(desk.services)}
    return next(
        c for c in clients_service.search_clients(desk.services, "", limit=100) if c.id not in members
    )


def _basket_of_serum(qtbot, view: CheckoutView, client_name: str | None) -> None:
    if client_name is not None:
        _choose(qtbot, view.chooser.finder, view.chooser.search, client_name, client_name)
        qtbot.waitUntil(lambda: view.client is not None and view.client.name == client_name, timeout=WAIT)
    _choose(qtbot, view.item_finder, view.item_search, "vit", "Vitamin C serum")
    qtbot.waitUntil(lambda: _priced(view, 1) and view.payment.link_button.isEnabled(), timeout=WAIT)


def _sent(services, link_id: str) -> str:
    """What the sync engine records once GoCardless made the link: its billing request, flow and address."""
    url = f"http://127.0.0.1/flow/BRF-{link_id[:8]}"
    with services.uow() as uow:
        row = uow.session.get(PaymentLinkRow, link_id)
        row.gc_billing_request_id, row.gc_flow_id = f"BRQ-{link_id[:8]}", f"BRF-{link_id[:8]}"
        row.authorisation_url, row.status = url, "open"
        for job in uow.session.scalars(select(OutboxRow).where(OutboxRow.record_id == link_id)):
            job.status = "done"
        uow.commit()
    return url


def _paid(services, link_id: str) -> None:
    """GoCardless reported the link's payment approved, then confirmed."""
    with services.uow() as uow:
        br = uow.session.get(PaymentLinkRow, link_id).gc_billing_request_id
        payment_links.link_authorised_in(uow, services, billing_request_id=br, payment_id=f"PM-{link_id[:8]}")
        payment_links.link_paid_in(uow, services, payment_id=f"PM-{link_id[:8]}")
        uow.commit()


def _book_microneedling(desk: Desk, client_id: str) -> str:
    """Microneedling (a £50 fixed deposit) at 19:00 today, when every practitioner is free."""
    shah = next(m for m in appointments_service.practitioners(desk.services) if m.name == "Dr Amira Shah")
    booked = appointments_service.book_appointment(
        desk.services,
        client_id=client_id,
        treatment_id="tr-micro",
        practitioner_id=shah.id,
        starts_at=dt.datetime(2026, 11, 24, 19, 0, tzinfo=desk.settings.tz),
        staff_id=desk.staff_id,
        use_package=False,
    )
    assert booked.deposit_id is not None
    return booked.appointment.id


# --- the basket as a payment link ------------------------------------------------------------------------------


def test_a_basket_sent_as_a_link_clears_the_basket_and_shows_the_qr_once_the_sync_has_made_it(
    qtbot, demo_desk
) -> None:
    client = _a_client_without_membership(demo_desk)
    view = _checkout(qtbot, demo_desk)
    _basket_of_serum(qtbot, view, client.full_name)
    messages: list[str] = []
    demo_desk.message.connect(messages.append)

    qtbot.keyClick(view.item_search, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)  # "Payment &link"

    qtbot.waitUntil(lambda: view.right.currentWidget() is view.sent_link, timeout=WAIT)
    assert view.model.rowCount() == 0 and view.client is None  # the basket is cleared
    assert messages and messages[-1].startswith(f"A payment link of £45.00 for {client.full_name}")
    assert view.sent_link.heading.text() == f"Payment link for {client.full_name}"
    assert view.sent_link.amount.text() == "£45.00"
    assert view.sent_link.panel.note.text() == BEING_PREPARED
    assert not view.sent_link.panel.code.isVisible()
    [link] = payment_links.links_of_client(demo_desk.services, client.id)
    assert (link.purpose, link.status, link.amount.pence) == ("basket", "preparing", 4500)
    assert [line.name for line in link.lines] == ["Vitamin C serum"]

    url = _sent(demo_desk.services, link.id)

    qtbot.waitUntil(lambda: view.sent_link.panel.code.isVisible(), timeout=WAIT)
    assert view.sent_link.panel.code.text == url
    assert view.sent_link.status.text() == "Sent, not paid yet"
    qtbot.mouseClick(view.sent_link.panel.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == url
    view.grab().save("/tmp/checkout-link-qr.png")

    qtbot.mouseClick(view.sent_link.next_button, Qt.MouseButton.LeftButton)
    assert view.right.currentWidget() is view.payment


def test_a_link_needs_a_client_and_a_refusal_keeps_the_basket(qtbot, demo_desk) -> None:
    view = _checkout(qtbot, demo_desk)
    qtbot.mouseClick(view.chooser.walk_in_button, Qt.MouseButton.LeftButton)
    _basket_of_serum(qtbot, view, None)

    qtbot.mouseClick(view.payment.link_button, Qt.MouseButton.LeftButton)

    assert view.payment.error.text() == NO_CLIENT
    assert view.model.rowCount() == 1  # nothing typed is lost
    assert payment_links.links_list(demo_desk.services) == []

    client = _a_client_without_membership(demo_desk)
    _choose(qtbot, view.chooser.finder, view.chooser.search, client.full_name, client.full_name)
    qtbot.waitUntil(lambda: view.client is not None and view.client.name == client.full_name, timeout=WAIT)
    _choose(qtbot, view.item_finder, view.item_search, "gold memb", "Gold membership")
    qtbot.waitUntil(lambda: _priced(view, 2) and view.payment.link_button.isEnabled(), timeout=WAIT)

    qtbot.mouseClick(view.payment.link_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: view.payment.error.text() != "", timeout=WAIT)
    assert view.payment.error.text() == (
        "A membership is paid monthly by Direct Debit; sign the client up instead."
    )
    assert view.model.rowCount() == 2 and view.right.currentWidget() is view.payment
    assert payment_links.links_list(demo_desk.services) == []


def test_invoicing_the_basket_issues_the_invoice_and_clears_the_basket(qtbot, demo_desk) -> None:
    client = _a_client_without_membership(demo_desk)
    view = _checkout(qtbot, demo_desk)
    _basket_of_serum(qtbot, view, client.full_name)
    messages: list[str] = []
    demo_desk.message.connect(messages.append)

    qtbot.keyClick(view.item_search, Qt.Key.Key_I, Qt.KeyboardModifier.AltModifier)  # "&Invoice"

    qtbot.waitUntil(lambda: view.model.rowCount() == 0 and bool(messages), timeout=WAIT)
    [invoice] = invoices_service.invoices_of_client(demo_desk.services, client.id)
    detail = invoices_service.invoice_detail(demo_desk.services, invoice.id)
    assert detail.status is InvoiceStatus.ISSUED and detail.net.pence == 4500
    assert messages[-1].startswith(
        f"Invoice {detail.number} issued to {client.full_name}: £45.00, due 8 Dec 2026."
    )
    assert "Payments screen (F9)" in messages[-1]


# --- deposits ------------------------------------------------------------------------------------------------


def test_a_paid_deposit_is_offered_at_checkout_and_credited_once(qtbot, demo_desk) -> None:
    client = _a_client_without_membership(demo_desk)
    appointment_id = _book_microneedling(demo_desk, client.id)
    deposit = deposits_service.deposit_of_appointment(demo_desk.services, appointment_id)
    _sent(demo_desk.services, deposit.link_id)
    _paid(demo_desk.services, deposit.link_id)
    view = _checkout(qtbot, demo_desk)

    view.start_request(CheckoutRequest(client.id, appointment_id, "tr-micro"))

    qtbot.waitUntil(lambda: view.payment.use_deposit.isVisible(), timeout=WAIT)
    qtbot.waitUntil(lambda: _priced(view, 1), timeout=WAIT)
    assert view.payment.use_deposit.text() == "Deposit paid £50.00: take it off"
    assert view.payment.use_deposit.isChecked()
    assert view.payment.total.text() == "£200.00"
    qtbot.mouseClick(view.payment.mode_buttons[TenderMode.CARD], Qt.MouseButton.LeftButton)
    assert view.payment.hint.text() == "Take £150.00 on the card terminal."
    qtbot.mouseClick(view.payment.pay_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: view.last_sale.receipt_dialog is not None, timeout=WAIT)
    tenders = [(t.kind.value, t.amount.pence) for t in view.last_sale.receipt_dialog.receipt.tenders]
    assert tenders == [("deposit", 5000), ("card", 15000)]
    credited = deposits_service.deposit_of_appointment(demo_desk.services, appointment_id)
    assert credited.status == "credited"
    assert not view.payment.use_deposit.isVisible()  # the next sale starts without it


def test_the_appointment_shows_its_deposit_link_and_what_cancelling_did_to_it(qtbot, demo_desk) -> None:
    client = _a_client_without_membership(demo_desk)
    appointment_id = _book_microneedling(demo_desk, client.id)
    view = AppointmentView(demo_desk)
    _keep(qtbot, view)
    view.resize(1166, 760)
    view.show()
    with qtbot.waitSignal(view.loaded):
        view.show_appointment(appointment_id)

    assert view.facts.deposit_words.text() == "Deposit requested: £50.00"
    assert view.facts.deposit_link.note.text() == DEPOSIT_BEING_PREPARED
    assert not view.facts.deposit_link.code.isVisible()

    deposit = deposits_service.deposit_of_appointment(demo_desk.services, appointment_id)
    with qtbot.waitSignal(view.loaded):  # the sync's commit says the link changed
        url = _sent(demo_desk.services, deposit.link_id)
    assert view.facts.deposit_link.code.isVisible() and view.facts.deposit_link.code.text == url
    view.grab().save("/tmp/appointment-deposit.png")

    messages: list[str] = []
    demo_desk.message.connect(messages.append)
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(messages), timeout=WAIT)

    assert messages[0].startswith(f"Cancelled late: {client.full_name}, Microneedling.") or messages[
        0
    ].startswith(f"Cancelled: {client.full_name}, Microneedling.")
    assert "deposit" in messages[0].lower()
    qtbot.waitUntil(lambda: view.facts.deposit_words.text() != "Deposit requested: £50.00", timeout=WAIT)
    assert not view.facts.deposit_link.isVisible()
