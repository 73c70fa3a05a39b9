"""The Payments screen on the demo clinic: invoices (issue, pay at the desk, pay by link with its QR code, void
by a manager, PDF, print, preview) and payment links (filter, cancel, send again). Driven through the widgets
and checked against what the services stored."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter
from sqlalchemy import select

from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.invoices import InvoiceStatus
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import invoices as invoices_service
from aestheticc_pos.services import membership_views, payment_links
from aestheticc_pos.services.pricing import BasketItem
from aestheticc_pos.store.tables import OutboxRow, PaymentLinkRow
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.dialogs.invoice_forms import PayInvoiceDialog, VoidInvoiceDialog
from aestheticc_pos.ui.views.payments import PaymentsView
from aestheticc_pos.ui.views.payments_panels import BEING_PREPARED

WAIT = 5000
SERUM = [BasketItem(ItemKind.PRODUCT, "pr-serum")]


def _keep(qtbot, widget) -> None:
    qtbot.addWidget(
        widget, before_close_func=lambda w: qtbot.waitUntil(lambda: not w.desk.runner.busy, timeout=WAIT)
    )


def _view(qtbot, desk: Desk) -> PaymentsView:
    view = PaymentsView(desk)
    _keep(qtbot, view)
    view.resize(1366, 768)
    view.show()
    view.refresh()
    qtbot.waitUntil(lambda: not desk.runner.busy, timeout=WAIT)
    return view


def _client(desk: Desk) -> clients_service.ClientSummary:
    members = {m.client_id for m in membership_views.memberships_list(desk.services)}
    return next(
        c for c in clients_service.search_clients(desk.services, "", limit=100) if c.id not in members
    )


def _draft(desk: Desk, client_id: str) -> str:
    return invoices_service.create_invoice_draft(
        desk.services, client_id=client_id, items=SERUM, staff_id=desk.staff_id
    ).id


def _cells(view: PaymentsView, tab) -> list[list[str]]:  # type: ignore[no-untyped-def]
    model = tab.model
    return [
        [model.data(model.index(r, c)) for c in range(model.columnCount())] for r in range(model.rowCount())
    ]


def _choose_invoice(qtbot, view: PaymentsView, invoice_id: str) -> None:
    view.show_invoice(invoice_id)
    qtbot.waitUntil(lambda: view.invoice is not None and view.invoice.id == invoice_id, timeout=WAIT)


def _after(qtbot, view: PaymentsView, test) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not view.desk.runner.busy and test(), timeout=WAIT)


def _sent(services, link_id: str) -> str:
    """What the sync engine records once GoCardless made the link (its address; the status becomes open)."""
    url = f"http://127.0.0.1/flow/BRF-{link_id[:8]}"
    with services.uow() as uow:
        row = uow.session.get(PaymentLinkRow, link_id)
        row.gc_billing_request_id, row.gc_flow_id = f"BRQ-{link_id[:8]}", f"BRF-{link_id[:8]}"
        row.authorisation_url, row.status = url, "open"
        for job in uow.session.scalars(select(OutboxRow).where(OutboxRow.record_id == link_id)):
            job.status = "done"
        uow.commit()
    return url


def test_a_draft_is_issued_then_paid_at_the_desk_by_card_and_cash(qtbot, demo_desk) -> None:
    client = _client(demo_desk)
    draft_id = _draft(demo_desk, client.id)
    view = _view(qtbot, demo_desk)
    assert _cells(view, view.invoices) == [["Draft", client.full_name, "—", "—", "£45.00", "Draft"]]
    _choose_invoice(qtbot, view, draft_id)
    panel = view.invoice_panel
    assert panel.issue.isVisible() and not panel.pay_at_desk.isVisible()
    messages: list[str] = []
    demo_desk.message.connect(messages.append)

    qtbot.mouseClick(panel.issue, Qt.MouseButton.LeftButton)

    _after(qtbot, view, lambda: view.invoice is not None and view.invoice.number is not None)
    number = view.invoice.number
    assert messages[-1] == f"Invoice {number} issued to {client.full_name}: £45.00, due 8 Dec 2026."
    assert _cells(view, view.invoices)[0] == [
        number,
        client.full_name,
        "24 Nov 2026",
        "8 Dec 2026",
        "£45.00",
        "Due 8 Dec 2026",
    ]
    assert panel.pay_at_desk.isVisible() and panel.pay_by_link.isVisible() and not panel.void.isVisible()

    qtbot.mouseClick(panel.pay_at_desk, Qt.MouseButton.LeftButton)
    dialog = view.dialog
    assert isinstance(dialog, PayInvoiceDialog)
    qtbot.keyClicks(dialog.card, "20")
    qtbot.keyClicks(dialog.cash, "thirty")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.errors["cash"].text().startswith("The cash amount")  # said under the field; kept
    assert dialog.card.text() == "20" and dialog.isVisible()
    dialog.cash.clear()
    qtbot.keyClicks(dialog.cash, "30")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    _after(qtbot, view, lambda: not dialog.isVisible() and view.invoice.status is InvoiceStatus.PAID)
    assert messages[-1].startswith(f"Invoice {number} is paid: £45.00, sale ")
    assert messages[-1].endswith("Change due £5.00.")
    assert _cells(view, view.invoices)[0][-1] == "Paid"
    stored = invoices_service.invoice_detail(demo_desk.services, draft_id)
    assert stored.status is InvoiceStatus.PAID and stored.sale_id is not None


def test_an_invoice_paid_by_link_shows_the_qr_code_once_the_sync_has_made_it(qtbot, demo_desk) -> None:
    client = _client(demo_desk)
    invoice_id = _draft(demo_desk, client.id)
    invoices_service.issue_invoice(demo_desk.services, invoice_id, staff_id=demo_desk.staff_id)
    view = _view(qtbot, demo_desk)
    _choose_invoice(qtbot, view, invoice_id)
    panel = view.invoice_panel

    qtbot.keyClick(panel.pay_by_link, Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)  # "Pay &by link"

    _after(qtbot, view, lambda: view.invoice_link is not None)
    assert panel.link.note.text() == BEING_PREPARED and not panel.link.code.isVisible()
    assert not panel.pay_by_link.isVisible()  # one link per invoice
    [link] = payment_links.links_of_client(demo_desk.services, client.id)
    assert (link.purpose, link.invoice_id, link.amount.pence) == ("invoice", invoice_id, 4500)

    url = _sent(demo_desk.services, link.id)

    _after(qtbot, view, lambda: panel.link.code.isVisible())
    assert panel.link.code.text == url
    view.grab().save("/tmp/payments-invoice-link.png")
    view.tabs.setCurrentWidget(view.links)
    view.show_link(link.id)
    _after(qtbot, view, lambda: view.link_panel.link.code.isVisible())
    assert view.link_panel.values["Status"].text() == "Sent, not paid yet"
    view.grab().save("/tmp/payments-links.png")


def test_only_a_manager_voids_an_invoice_and_says_why(qtbot, demo_desk, switch_staff) -> None:
    client = _client(demo_desk)
    invoice_id = _draft(demo_desk, client.id)
    invoices_service.issue_invoice(demo_desk.services, invoice_id, staff_id=demo_desk.staff_id)
    view = _view(qtbot, demo_desk)
    _choose_invoice(qtbot, view, invoice_id)
    assert not view.invoice_panel.void.isVisible()
    assert view.invoice_panel.note.text() == "A manager can void an invoice sent by mistake."

    switch_staff(demo_desk, "Sophie Laurent")
    assert view.invoice_panel.void.isVisible()
    qtbot.mouseClick(view.invoice_panel.void, Qt.MouseButton.LeftButton)
    dialog = view.dialog
    assert isinstance(dialog, VoidInvoiceDialog)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.errors["reason"].text() == "Say why the invoice is voided."
    qtbot.keyClicks(dialog.reason, "Issued to the wrong client")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    _after(qtbot, view, lambda: view.invoice is not None and view.invoice.status is InvoiceStatus.VOID)
    assert view.invoice_panel.note.text() == "Voided: Issued to the wrong client"
    assert not view.invoice_panel.pay_at_desk.isVisible()
    stored = invoices_service.invoice_detail(demo_desk.services, invoice_id)
    assert stored.void_reason == "Issued to the wrong client"


def test_an_invoice_is_saved_as_a_pdf_printed_and_previewed(qtbot, demo_desk, tmp_path) -> None:
    client = _client(demo_desk)
    invoice_id = _draft(demo_desk, client.id)
    issued = invoices_service.issue_invoice(demo_desk.services, invoice_id, staff_id=demo_desk.staff_id)
    view = _view(qtbot, demo_desk)
    _choose_invoice(qtbot, view, invoice_id)

    saved = view.save_pdf(tmp_path / "invoice.pdf")
    assert saved is not None and saved.read_bytes().startswith(b"%PDF")

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    assert view.print_invoice(printer)
    assert (tmp_path / "printed.pdf").read_bytes().startswith(b"%PDF")

    preview = view.preview_selected()
    assert preview is not None and preview.windowTitle() == f"Preview: Invoice {issued.number}"
    assert preview.pages and not preview.pages[0].pixmap().isNull()
    preview.close()


def test_links_are_filtered_cancelled_and_sent_again(qtbot, demo_desk) -> None:
    client = _client(demo_desk)
    link = payment_links.create_basket_link(
        demo_desk.services, client_id=client.id, items=SERUM, staff_id=demo_desk.staff_id
    )
    view = _view(qtbot, demo_desk)
    view.tabs.setCurrentWidget(view.links)
    rows = _cells(view, view.links)
    assert [r[:4] for r in rows] == [[client.full_name, "Vitamin C serum", "£45.00", "Being prepared"]]
    assert view.links.chips[0].text() == "Open  1"
    view.show_link(link.id)
    _after(qtbot, view, lambda: view.link_panel.cancel.isVisible())
    assert view.link_panel.link.note.text() == BEING_PREPARED

    qtbot.mouseClick(view.link_panel.cancel, Qt.MouseButton.LeftButton)

    _after(qtbot, view, lambda: view.links.model.rowCount() == 0)
    assert view.links.empty.text() == "No payment links under “Open”."
    assert payment_links.link_view(demo_desk.services, link.id).status == "cancelled"
    view.links.set_filter("Expired or cancelled")
    view.show_link(link.id)
    _after(qtbot, view, lambda: view.link_panel.resend.isVisible())

    qtbot.mouseClick(view.link_panel.resend, Qt.MouseButton.LeftButton)

    _after(qtbot, view, lambda: view.links.selected() is not None and view.links.selected().id != link.id)
    newer = view.links.selected()
    assert newer.replaces_id == link.id and newer.status == "preparing"
    assert view.links.chips[0].isChecked()  # shown under "Open"
    stored = payment_links.links_of_client(demo_desk.services, client.id)
    assert [(k.status, k.replaces_id) for k in stored] == [("preparing", link.id), ("cancelled", None)]
