"""The Sales screen on the demo clinic: the day's sales by default, any range, search, paging as the table
scrolls, a past sale's receipt shown, opened, saved as PDF and emailed to the client through a real SMTP server
on 127.0.0.1 (the button → the queue → the background sender → the message received)."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication, QDialog
from smtp_mailbox import PASSWORD, USER, running_mailbox

from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.staff import Role
from aestheticc_pos.email_sender import EmailSender
from aestheticc_pos.keyring_store import NO_KEYRING_FOR_MAIL, MemoryPasswords
from aestheticc_pos.services import catalogue as catalogue_service
from aestheticc_pos.services import email as email_service
from aestheticc_pos.services import refunds, sales_history
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.checkout import complete_sale
from aestheticc_pos.services.pricing import BasketItem, Payment
from aestheticc_pos.ui.models.sales import CLIENT, KIND, NUMBER, TENDERS, TIME, TOTAL
from aestheticc_pos.ui.receipt import receipt_text
from aestheticc_pos.ui.views.sales import SalesView


def _view(qtbot, desk) -> SalesView:
    view = SalesView(desk)
    qtbot.addWidget(view)
    view.resize(1156, 700)
    view.show()
    return view


def _range(view: SalesView, first: dt.date, last: dt.date) -> None:
    view.from_day.setDate(QDate(first.year, first.month, first.day))
    view.to_day.setDate(QDate(last.year, last.month, last.day))


def _wait_for_rows(qtbot, view: SalesView) -> None:
    qtbot.waitUntil(lambda: view.model.rowCount() > 0 and not view.model._loading, timeout=5000)


def _manager(desk) -> str:
    return next(m.id for m in staff_service.list_staff(desk.services) if m.role is Role.MANAGER)


def _sell_today(desk, times: int = 1) -> list[str]:
    product = catalogue_service.list_products(desk.services)[0]
    numbers = []
    for _ in range(times):
        numbers.append(
            complete_sale(
                desk.services,
                client_id=None,
                items=[BasketItem(ItemKind.PRODUCT, product.id)],
                payments=[Payment("card", product.price)],
                staff_id=desk.staff_id,
            ).number
        )
    return numbers


def test_the_days_sales_by_default_then_any_range_with_every_column(qtbot, demo_desk) -> None:
    [today_sale] = _sell_today(demo_desk)
    view = _view(qtbot, demo_desk)
    view.refresh()
    _wait_for_rows(qtbot, view)
    assert view.model.rowCount() == 1 and view.model.sale(0).number == today_sale
    assert view.count.text() == "1 sale, 24 Nov 2026"
    cells = [view.model.index(0, c).data() for c in (NUMBER, TIME, CLIENT, TENDERS, KIND)]
    assert cells == [today_sale, "09:00", "Walk-in", "Card", "Sale"]

    _range(view, dt.date(2026, 10, 1), dt.date(2026, 11, 24))
    _wait_for_rows(qtbot, view)
    assert view.model.total_count > 20
    first = view.model.sale(0)
    assert view.model.index(0, TIME).data() == "24 Nov 2026 09:00"  # a range shows the dates
    assert view.model.index(0, TOTAL).data().startswith("£")
    named = next(i for i in range(view.model.rowCount()) if view.model.sale(i).client_name)
    client = view.model.sale(named).client_name
    view.search.setText(client.split()[1])
    qtbot.waitUntil(
        lambda: (
            view.model.rowCount()
            and all(
                view.model.sale(i).client_name and client.split()[1] in view.model.sale(i).client_name
                for i in range(view.model.rowCount())
            )
        ),
        timeout=5000,
    )
    view.search.setText(first.number)
    qtbot.waitUntil(lambda: [r.number for r in view.model.rows] == [first.number], timeout=5000)


def test_pages_arrive_as_the_table_scrolls(qtbot, demo_desk) -> None:
    view = _view(qtbot, demo_desk)
    view.page_size = 10
    _range(view, dt.date(2026, 10, 1), dt.date(2026, 11, 24))
    _wait_for_rows(qtbot, view)
    total = view.model.total_count
    shown = view.model.rowCount()  # pages of 10 until the table is full, no more
    assert shown % 10 == 0 and shown < total and "more as you scroll" in view.count.text()
    view.table.scrollToBottom()
    qtbot.waitUntil(lambda: view.model.rowCount() > shown, timeout=5000)
    while view.model.canFetchMore():
        view.model.fetchMore()
        qtbot.waitUntil(lambda: not view.model._loading, timeout=5000)
    numbers = [row.number for row in view.model.rows]
    assert len(numbers) == total == len(set(numbers))  # every sale once, none skipped


def test_a_range_with_refunds_elides_tender_and_kind_before_the_client_and_never_scrolls_sideways(
    qtbot, demo_desk
) -> None:
    [sold] = _sell_today(demo_desk)
    sale_id = next(
        r.id
        for r in sales_history.find_sales(demo_desk.services, staff_id=_manager(demo_desk)).rows
        if r.number == sold
    )
    refunds.refund_sale(
        demo_desk.services,
        sale_id=sale_id,
        lines=None,
        method="card",
        reason="Changed her mind",
        staff_id=_manager(demo_desk),
    )
    view = _view(qtbot, demo_desk)  # the width the main window gives a screen at 1366×768
    _range(view, dt.date(2026, 10, 1), dt.date(2026, 11, 24))  # dates in the time column
    _wait_for_rows(qtbot, view)
    kinds = [view.model.index(r, KIND).data() for r in range(view.model.rowCount())]
    assert f"Refund of {sold}" in kinds
    header = view.table.horizontalHeader()
    widths = [header.sectionSize(c) for c in range(view.model.columnCount())]
    assert sum(widths) <= view.table.viewport().width() + 1  # the client column's stretch takes the rest
    names = [view.model.index(r, CLIENT).data() for r in range(view.model.rowCount())]
    assert widths[CLIENT] >= min(140, max(map(view.table.fontMetrics().horizontalAdvance, names)) + 16)
    assert not view.table.horizontalScrollBar().isVisible()
    metrics = view.table.fontMetrics()
    assert widths[TIME] >= metrics.horizontalAdvance("24 Nov 2026 09:00")  # never "24 No…"
    refund = view.model.index(kinds.index(f"Refund of {sold}"), KIND)
    assert refund.data(Qt.ItemDataRole.ToolTipRole) == f"Refund of {sold}"  # whole when elided


def test_a_past_receipt_is_shown_opened_again_and_saved_as_pdf(qtbot, demo_desk, tmp_path) -> None:
    view = _view(qtbot, demo_desk)
    _range(view, dt.date(2026, 10, 1), dt.date(2026, 11, 23))
    _wait_for_rows(qtbot, view)
    view.table.selectRow(3)
    sale = view.model.sale(3)
    qtbot.waitUntil(lambda: view.receipt is not None and view.receipt.sale_id == sale.id, timeout=5000)
    assert sale.number in view.preview.toPlainText() and view.print_button.isEnabled()
    assert sale.number in view.heading.text()

    saved = view.save_pdf(tmp_path / "again.pdf")
    assert saved is not None and saved.read_bytes().startswith(b"%PDF")

    dialog = view.open_receipt()
    assert dialog is not None
    qtbot.waitExposed(dialog)
    assert dialog.new_sale_button.text() == "Close (Enter)"
    assert dialog.windowTitle() == f"Receipt {sale.number}" and dialog.email_button.isVisible()
    assert sale.number in dialog.preview.toPlainText()
    with qtbot.waitSignal(dialog.finished, timeout=2000):
        qtbot.mouseClick(dialog.new_sale_button, Qt.MouseButton.LeftButton)


def test_emailing_a_receipt_from_the_sales_screen_reaches_the_client_once(qtbot, demo_desk) -> None:
    services = demo_desk.services
    passwords = MemoryPasswords(no_keyring=NO_KEYRING_FOR_MAIL)
    view = _view(qtbot, demo_desk)
    _range(view, dt.date(2026, 10, 1), dt.date(2026, 11, 23))
    _wait_for_rows(qtbot, view)
    row = next(i for i in range(view.model.rowCount()) if view.model.sale(i).client_email)
    view.table.selectRow(row)
    sale = view.model.sale(row)
    qtbot.waitUntil(lambda: view.receipt is not None and view.receipt.sale_id == sale.id, timeout=5000)

    with running_mailbox() as (box, port):
        email_service.save_mail_server(
            services,
            _manager(demo_desk),
            host="127.0.0.1",
            port=port,
            security="none",
            user=USER,
            sender="Lumière Aesthetics <hello@lumiere.example>",
            password=PASSWORD,
            passwords=passwords,
        )
        dialog = view.email_receipt()
        assert dialog is not None
        qtbot.waitExposed(dialog)
        assert dialog.to.text() == sale.client_email
        assert sale.number in dialog.subject.text() and sale.number in dialog.sms.toPlainText()
        qtbot.mouseClick(dialog.copy_sms_button, Qt.MouseButton.LeftButton)
        assert QApplication.clipboard().text() == dialog.sms.toPlainText()
        with qtbot.waitSignal(dialog.finished, timeout=5000):
            qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
        assert dialog.result() == QDialog.DialogCode.Accepted
        assert box.received == []  # queued: the desk never waits for the mail server

        sender = EmailSender(services, interval=0.2, passwords=passwords).start()
        try:
            [message] = box.wait_for(1)
            qtbot.waitUntil(
                lambda: email_service.emails(services, record_id=sale.id)[0].status == "sent", timeout=5000
            )
            rounds = sender.rounds
            qtbot.waitUntil(
                lambda: sender.rounds >= rounds + 2, timeout=5000
            )  # later rounds send nothing again
        finally:
            sender.stop()
    assert len(box.received) == 1
    assert message["To"] == sale.client_email
    assert message["Subject"] == f"Your receipt {sale.number} from Lumière Aesthetics"
    text, pdf = [part for part in message.walk() if not part.is_multipart()]
    assert receipt_text(view.receipt, demo_desk.settings).splitlines()[3] in text.get_content()
    assert pdf.get_filename() == f"Receipt {sale.number}.pdf"
    assert pdf.get_payload(decode=True).startswith(b"%PDF")
    [sent] = email_service.emails(services, record_id=sale.id)
    assert sent.status == "sent"
    assert "Emailing the receipt to" in view.status.text()


def test_an_email_refused_at_the_desk_says_why_under_the_address(qtbot, demo_desk) -> None:
    view = _view(qtbot, demo_desk)
    _range(view, dt.date(2026, 10, 1), dt.date(2026, 11, 23))
    _wait_for_rows(qtbot, view)
    view.table.selectRow(0)
    qtbot.waitUntil(lambda: view.receipt is not None, timeout=5000)
    dialog = view.email_receipt()
    assert dialog is not None
    dialog.to.setText("not an address")
    qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: dialog.fields.errors["to"].isVisible() or bool(dialog.status.text()), timeout=5000
    )
    dialog.to.setText("ada@example.com")
    qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)  # no mail server set up yet
    qtbot.waitUntil(lambda: "Settings → Email" in dialog.status.text(), timeout=5000)
    assert dialog.isVisible()
    dialog.reject()


def test_practitioners_are_refused_the_list_with_a_sentence(qtbot, demo_desk) -> None:
    practitioner = next(
        m for m in staff_service.list_staff(demo_desk.services) if m.role is Role.PRACTITIONER
    )
    demo_desk.sign_in(practitioner)
    view = _view(qtbot, demo_desk)
    errors: list[str] = []
    view.model.load_failed.connect(errors.append)
    view.refresh()
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert "Only" in errors[0] and view.model.rowCount() == 0
