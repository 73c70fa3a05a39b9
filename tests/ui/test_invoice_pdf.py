"""The invoice PDF: an A4 document that reads like a real invoice, checked as text and as rendered pixels.

The PDF written to disk is opened again with Qt's own PDF reader and rendered to an image, so the test
looks at the file the client receives, not only at the document it was drawn from.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtPdf import QPdfDocument

from aestheticc_pos.domain import invoices as rules
from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.invoices import InvoiceStanding, InvoiceStatus
from aestheticc_pos.domain.money import Money, sum_money
from aestheticc_pos.services.context import ClinicSettings
from aestheticc_pos.services.invoice_records import InvoiceDetail, InvoiceLine
from aestheticc_pos.ui.invoice_pdf import (
    invoice_document,
    render_invoice_image,
    render_invoice_images,
    save_invoice_pdf,
)

GBP = Money.parse
PREVIEW = Path("/tmp/invoice-preview.png")
SETTINGS = ClinicSettings(
    name="Lumière Aesthetics",
    address="12 Milsom Street, Bath BA1 1DN",
    vat_number="GB 123 4567 89",
    phone="01225 000111",
    email="hello@lumiere.example",
)


def _line(position: int, name: str, price: str, qty: int = 1, discount: str = "0", reason=None, vat_bp=2000):
    unit = GBP(price)
    gross = unit * qty
    cut = GBP(discount)
    net = gross - cut
    return InvoiceLine(
        position, ItemKind.TREATMENT, f"item-{position}", name, qty, unit, gross, cut, reason, net,
        net.vat_inside(vat_bp), vat_bp,
    )  # fmt: skip


def _invoice(**changes) -> InvoiceDetail:
    lines = (
        _line(1, "Botox treatment (up to 3 areas)", "250.00", discount="50.00", reason="Gold member 20%"),
        _line(2, "Chemical peel", "33.35", qty=2, discount="13.34", reason="Gold member 20%"),
        _line(3, "Vitamin C serum", "45.00"),
        _line(4, "Mole removal (medical)", "150.00", vat_bp=0),
    )
    net = sum_money([x.net for x in lines])
    values = dict(
        id="inv-1",
        number="INV-2026-0042",
        status=InvoiceStatus.ISSUED,
        standing=InvoiceStanding.ISSUED,
        client_id="c-1",
        client_name="Arthur Evans",
        client_email="arthur@example.com",
        client_phone="07700900123",
        staff_name="Rita Evans",
        payment_terms_days=14,
        priced_on=dt.date(2026, 11, 24),
        issued_on=dt.date(2026, 11, 24),
        due_on=dt.date(2026, 12, 8),
        lines=lines,
        gross=sum_money([x.gross for x in lines]),
        discount=sum_money([x.discount for x in lines]),
        net=net,
        vat=sum_money([x.vat for x in lines]),
        vat_bands=rules.vat_bands([(x.vat_rate_bp, x.net, x.vat) for x in lines], "GBP"),
        created_at=dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC),
    )
    values.update(changes)
    return InvoiceDetail(**values)


def _on_white(image: QImage) -> QImage:
    """A rendered PDF page has a transparent background: put it on paper."""
    assert not image.isNull()
    paper = QImage(image.size(), QImage.Format.Format_RGB32)
    paper.fill(QColor("white"))
    painter = QPainter(paper)
    painter.drawImage(0, 0, image)
    painter.end()
    return paper


def _ink_share(image: QImage, x0: float = 0, y0: float = 0, x1: float = 1, y1: float = 1) -> float:
    """The share of sampled pixels that are not white, in the part of the image between those fractions."""
    w, h = image.width(), image.height()
    xs = range(int(x0 * w), int(x1 * w), 2)
    ys = range(int(y0 * h), int(y1 * h), 2)
    inked = sum(1 for y in ys for x in xs if QColor(image.pixel(x, y)).lightness() < 200)
    return inked / (len(xs) * len(ys))


def _count_colour(image: QImage, hue_range: tuple[int, int]) -> int:
    """How many sampled pixels are clearly coloured (saturated) with a hue inside ``hue_range``."""
    count = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            colour = QColor(image.pixel(x, y))
            if colour.saturation() > 80 and hue_range[0] <= colour.hue() <= hue_range[1]:
                count += 1
    return count


def test_the_invoice_says_what_a_uk_vat_invoice_must_say(qapp) -> None:
    invoice = _invoice()
    text = invoice_document(invoice, SETTINGS).toPlainText()
    for expected in (
        "Lumière Aesthetics",
        "12 Milsom Street",
        "Bath BA1 1DN",
        "VAT no. GB 123 4567 89",
        "INVOICE",
        "INV-2026-0042",
        "24 Nov 2026",  # invoice date
        "8 Dec 2026",  # due date
        "Arthur Evans",
        "arthur@example.com",
        "Botox treatment (up to 3 areas)",
        "Gold member 20%",
        "−£50.00",
        "Exempt",
        "Subtotal",
        "£511.70",  # gross: 250 + 2 × 33.35 + 45 + 150
        "Discounts",
        "−£63.34",
        "VAT at 20% on £248.64",  # 200 + 53.36 + 45, less the VAT inside each line
        "£49.72",  # 33.33 + 8.89 + 7.50, each line rounded once
        "Exempt from VAT",
        "Total due",
        "£448.36",
        "Payment due within 14 days of the invoice date.",
        "Please quote INV-2026-0042 with your payment.",
    ):
        assert expected in text, expected
    # The sums on the page are the invoice's own: total = subtotal − discounts, VAT = the bands'.
    assert invoice.net == invoice.gross - invoice.discount
    assert sum(b.vat.pence for b in invoice.vat_bands) == invoice.vat.pence == GBP("49.72").pence


def test_the_pdf_file_renders_to_a_page_with_the_invoice_on_it(qapp, tmp_path: Path) -> None:
    path = save_invoice_pdf(_invoice(), SETTINGS, tmp_path / "INV-2026-0042.pdf")
    assert path.read_bytes().startswith(b"%PDF")

    pdf = QPdfDocument()
    assert pdf.load(str(path)) == QPdfDocument.Error.None_
    assert pdf.pageCount() == 1
    points = pdf.pagePointSize(0)
    assert (round(points.width()), round(points.height())) == (595, 842)  # A4 in points
    page = _on_white(pdf.render(0, QSize(620, 877)))
    assert _ink_share(page) > 0.01  # not blank
    assert _ink_share(page, 0.55, 0.0, 1.0, 0.12) > 0.01  # "INVOICE" and its number, top right
    assert _ink_share(page, 0.0, 0.85, 1.0, 1.0) < 0.005  # the bottom of a short invoice stays empty
    text = pdf.getAllText(0).text()
    for expected in ("INV-2026-0042", "£448.36", "GB 123 4567 89", "Gold member 20%"):
        assert expected in text, expected


def test_the_preview_image_is_the_invoice_and_is_saved_to_look_at(qapp) -> None:
    image = render_invoice_image(_invoice(), SETTINGS, dpi=110)
    assert (image.width(), image.height()) == (909, 1286)  # A4 at 110 dpi
    assert 0.01 < _ink_share(image) < 0.5
    assert _ink_share(image, 0.0, 0.0, 0.5, 0.1) > 0.02  # the clinic's name and address, top left
    assert image.save(str(PREVIEW))


def test_a_paid_invoice_carries_a_green_paid_stamp_and_nothing_due(qapp) -> None:
    paid = _invoice(
        status=InvoiceStatus.PAID,
        standing=InvoiceStanding.PAID,
        paid_at=dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC),
        sale_number="A-000031",
    )
    text = invoice_document(paid, SETTINGS).toPlainText()
    assert "Paid in full on 30 Nov 2026 (receipt A-000031). Thank you." in text
    assert "Total due\n£0.00" in text or "Total due £0.00" in text.replace("\n", " ")
    greens = _count_colour(render_invoice_image(paid, SETTINGS), (120, 160))
    assert greens > 200 > _count_colour(render_invoice_image(_invoice(), SETTINGS), (120, 160))


def test_a_void_invoice_keeps_its_number_and_says_why(qapp) -> None:
    void = _invoice(status=InvoiceStatus.VOID, standing=InvoiceStanding.VOID, void_reason="Issued twice")
    text = invoice_document(void, SETTINGS).toPlainText()
    assert "INV-2026-0042" in text and "Void: Issued twice. Nothing is due on this invoice." in text
    reds = _count_colour(render_invoice_image(void, SETTINGS), (0, 10))
    assert reds > 200


def test_a_draft_is_titled_as_such_and_has_no_number(qapp) -> None:
    draft = _invoice(
        number=None, status=InvoiceStatus.DRAFT, standing=InvoiceStanding.DRAFT, issued_on=None, due_on=None
    )
    text = invoice_document(draft, SETTINGS).toPlainText()
    assert "DRAFT INVOICE" in text and "Not yet issued" in text and "Please quote" not in text


def test_a_long_invoice_runs_onto_more_pages(qapp) -> None:
    many = tuple(_line(n, f"Follow-up review {n}", "10.00") for n in range(1, 61))
    long_invoice = dataclasses.replace(_invoice(), lines=many)
    pages = render_invoice_images(long_invoice, SETTINGS, dpi=72)
    assert len(pages) >= 2
    assert all(_ink_share(page) > 0.001 for page in pages)
    text = invoice_document(long_invoice, SETTINGS).toPlainText()
    assert "Follow-up review 1\n" in text and "Follow-up review 60" in text
