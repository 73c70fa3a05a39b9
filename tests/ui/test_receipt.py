"""The receipt: as text for an email, as an 80 mm PDF that really shows the receipt, and in its dialog."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication, QDialog

from aestheticc_pos.domain.checkout import Tender, TenderKind
from aestheticc_pos.domain.money import Money, sum_money
from aestheticc_pos.services.context import ClinicSettings
from aestheticc_pos.services.sales import Receipt, ReceiptLine
from aestheticc_pos.ui.dialogs.receipt_dialog import ReceiptDialog
from aestheticc_pos.ui.receipt import print_receipt_on, receipt_document, receipt_text, save_receipt_pdf

GBP = Money.parse
SETTINGS = ClinicSettings(
    name="Lumière Aesthetics",
    address="12 Milsom Street, Bath BA1 1DN",
    vat_number="GB 123 4567 89",
    time_zone="Europe/London",
)


def _line(
    name: str, price: str, discount: str = "0", reason: str | None = None, vat_bp: int = 2000
) -> ReceiptLine:
    gross, cut = GBP(price), GBP(discount)
    net = gross - cut
    return ReceiptLine(name, 1, gross, gross, cut, reason, net, net.vat_inside(vat_bp), vat_bp)


def _receipt(**changes) -> Receipt:
    lines = (
        _line("Botox treatment (up to 3 areas)", "250", "50", "Gold member 20%"),
        _line("Microneedling", "200", "200", "Package: Microneedling course of 6, session 3 of 6"),
        _line("Mole removal (medical)", "150", vat_bp=0),
    )
    values = dict(
        sale_id="s-1",
        number="A-000042",
        created_at=dt.datetime(2026, 7, 1, 13, 5, tzinfo=dt.UTC),
        client_id="c-1",
        client_name="Arthur Evans",
        staff_name="Rita Evans",
        lines=lines,
        gross=sum_money([x.gross for x in lines]),
        discount=sum_money([x.discount for x in lines]),
        net=sum_money([x.net for x in lines]),
        vat=sum_money([x.vat for x in lines]),
        tenders=(Tender(TenderKind.CARD, GBP("100")), Tender(TenderKind.CASH, GBP("260"))),
        change_due=GBP("10"),
        clinic_name=SETTINGS.name,
        clinic_address=SETTINGS.address,
        vat_number=SETTINGS.vat_number,
    )
    values.update(changes)
    return Receipt(**values)


def test_the_text_receipt_has_what_a_uk_receipt_needs() -> None:
    text = receipt_text(_receipt(), SETTINGS)
    for expected in (
        "Lumière Aesthetics",
        "12 Milsom Street",
        "Bath BA1 1DN",
        "VAT no. GB 123 4567 89",
        "A-000042",
        "1 Jul 2026 14:05",  # 13:05 UTC is 14:05 in London in July
        "Rita Evans",
        "Arthur Evans",
        "Botox treatment (up to 3 areas)",
        "Gold member 20%",
        "−£50.00",
        "Package: Microneedling course of 6, session 3 of 6",
        "−£200.00",
        "£350.00",
        "VAT 20% included",
        "£33.33",
        "Exempt from VAT",
        "£150.00",
        "Card",
        "£100.00",
        "Cash",
        "£260.00",
        "Change",
        "£10.00",
    ):
        assert expected in text, expected
    assert all(len(line) <= 42 for line in text.splitlines() if not line.lstrip().startswith("Package:"))
    total_line = next(line for line in text.splitlines() if line.startswith("TOTAL"))
    assert total_line.endswith("£350.00")


def test_a_walk_in_sale_with_nothing_to_pay_says_so() -> None:
    receipt = _receipt(
        client_id=None,
        client_name=None,
        tenders=(),
        change_due=Money.zero(),
        lines=(_line("Microneedling", "200", "200", "Package: Microneedling course of 6, session 3 of 6"),),
        gross=GBP("200"),
        discount=GBP("200"),
        net=Money.zero(),
        vat=Money.zero(),
    )
    text = receipt_text(receipt, SETTINGS)
    assert "Walk-in" in text and "Change" not in text
    document = receipt_document(receipt, SETTINGS).toPlainText()
    assert "Walk-in" in document and "Nothing to pay" in document


def test_the_pdf_is_an_80mm_receipt_that_shows_its_text(qtbot, tmp_path) -> None:
    path = save_receipt_pdf(_receipt(), SETTINGS, tmp_path / "receipt A-000042.pdf")
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5_000

    qtpdf = pytest.importorskip("PySide6.QtPdf", reason="PySide6-Pdf renders the PDF to check what it shows")
    document = qtpdf.QPdfDocument()
    assert document.load(str(path)) == qtpdf.QPdfDocument.Error.None_
    assert document.pageCount() == 1
    size = document.pagePointSize(0)
    assert size.width() == pytest.approx(80 / 25.4 * 72, abs=1)  # 80 mm roll
    assert size.height() > size.width()  # as long as the receipt

    scale = 3
    rendered = document.render(0, QSize(int(size.width() * scale), int(size.height() * scale)))
    page = QImage(rendered.size(), QImage.Format.Format_RGB32)
    page.fill(QColor("white"))
    painter = QPainter(page)
    painter.drawImage(0, 0, rendered)
    painter.end()
    page.save(str(tmp_path / "receipt.png"))

    dark_rows = [
        y
        for y in range(page.height())
        if any(QColor(page.pixel(x, y)).lightness() < 128 for x in range(0, page.width(), 2))
    ]
    assert len(dark_rows) > page.height() * 0.25  # lines of text from top to bottom, not a blank page
    assert dark_rows[0] < page.height() * 0.1 and dark_rows[-1] > page.height() * 0.75
    title = document.getAllText(0).text()
    for expected in ("Lumière Aesthetics", "A-000042", "Gold member 20%", "£350.00", "Change"):
        assert expected in title, expected


def test_printing_lays_the_receipt_out_on_the_printers_paper(qtbot, tmp_path) -> None:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)  # a printer that writes a file, for the test
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    print_receipt_on(printer, _receipt(), SETTINGS)
    printed = (tmp_path / "printed.pdf").read_bytes()
    assert printed.startswith(b"%PDF") and len(printed) > 5_000


def test_the_receipt_dialog_copies_saves_and_starts_the_next_sale_on_enter(qtbot, tmp_path) -> None:
    receipt = _receipt()
    dialog = ReceiptDialog(receipt, SETTINGS)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.new_sale_button, timeout=5000)

    shown = dialog.preview.toPlainText()
    assert "A-000042" in shown and "Botox treatment (up to 3 areas)" in shown and "Gold member 20%" in shown
    assert dialog.change.text() == "Change due £10.00"

    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == receipt_text(receipt, SETTINGS)
    saved = dialog.save_pdf(tmp_path / "r.pdf")
    assert saved is not None and saved.read_bytes().startswith(b"%PDF")
    assert str(saved) in dialog.status.text()
    assert dialog.save_pdf(tmp_path / "no such folder" / "r.pdf") is None
    assert "could not be saved" in dialog.status.text()

    with qtbot.waitSignal(dialog.finished, timeout=2000):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
