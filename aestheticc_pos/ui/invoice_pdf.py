"""An invoice as the client receives it: an A4 PDF, and the same pages as images for a preview.

Both are drawn from one ``QTextDocument`` (``invoice_document``) built from an ``InvoiceDetail`` and the
clinic's settings: the clinic's name, address and VAT number, "INVOICE" with its number, issue and due dates,
who it is billed to, the priced lines (quantity, unit price, discount and its reason, VAT rate, amount), the
totals with VAT per rate, the payment status and the payment terms. A paid or void invoice also carries a
large "PAID" or "VOID" stamp on its first page; a draft is titled "DRAFT INVOICE" and has no number.

The document is laid out in the units of the device it is drawn on (``_Pages``), so the PDF at 300 dpi and a
preview image at 110 dpi break pages at the same places. All of this runs on the GUI thread (fonts and text
layout are GUI-thread objects).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPageLayout,
    QPageSize,
    QPaintDevice,
    QPainter,
    QPdfWriter,
    QPen,
    QTextDocument,
)

from aestheticc_pos.domain.invoices import InvoiceStanding, InvoiceStatus
from aestheticc_pos.services.context import ClinicSettings
from aestheticc_pos.services.invoice_records import InvoiceDetail, InvoiceLine
from aestheticc_pos.ui import format as fmt

A4_MM = QSizeF(210.0, 297.0)
MARGIN_MM = 16.0
PDF_DPI = 300
PREVIEW_DPI = 110
_MM_PER_INCH = 25.4


def save_invoice_pdf(invoice: InvoiceDetail, settings: ClinicSettings, path: str | Path) -> Path:
    """Write the invoice to ``path`` as an A4 PDF (as many pages as it needs). Returns the path.

    Raises ``OSError`` when the file cannot be written.
    """
    path = Path(path)
    writer = QPdfWriter(str(path))
    writer.setResolution(PDF_DPI)
    writer.setTitle(_title(invoice))
    writer.setCreator(settings.name or "Aestheticc POS")
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)
        )
    )
    pages = _Pages(invoice_document(invoice, settings), writer, PDF_DPI)
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"Could not write {path}.")
    try:
        for index in range(pages.count):
            if index:
                writer.newPage()
            pages.paint(painter, index, _stamp(invoice))
    finally:
        painter.end()
    if not path.exists() or path.stat().st_size == 0:
        raise OSError(f"Could not write {path}.")
    return path


def render_invoice_images(
    invoice: InvoiceDetail, settings: ClinicSettings, *, dpi: int = PREVIEW_DPI
) -> list[QImage]:
    """The invoice's A4 pages as white images at ``dpi``, exactly as the PDF lays them out."""
    size = QSizeF(A4_MM.width() * dpi / _MM_PER_INCH, A4_MM.height() * dpi / _MM_PER_INCH).toSize()
    dots_per_metre = round(dpi / 0.0254)
    probe = _blank_page(size, dots_per_metre)
    pages = _Pages(invoice_document(invoice, settings), probe, dpi)
    images = []
    for index in range(pages.count):
        image = _blank_page(size, dots_per_metre)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        try:
            pages.paint(painter, index, _stamp(invoice))
        finally:
            painter.end()
        images.append(image)
    return images


def render_invoice_image(
    invoice: InvoiceDetail, settings: ClinicSettings, *, dpi: int = PREVIEW_DPI
) -> QImage:
    """The invoice's first page as an image (a preview, or what a test looks at)."""
    return render_invoice_images(invoice, settings, dpi=dpi)[0]


def invoice_document(invoice: InvoiceDetail, settings: ClinicSettings) -> QTextDocument:
    """The invoice as a rich-text document (its HTML is ``invoice_html``)."""
    document = QTextDocument()
    document.setDocumentMargin(0)
    document.setHtml(invoice_html(invoice, settings))
    return document


def invoice_html(invoice: InvoiceDetail, settings: ClinicSettings) -> str:
    """The invoice as the HTML subset ``QTextDocument`` understands (tables, inline styles)."""
    return (
        "<html><body style=\"font-family: 'DejaVu Sans', 'Segoe UI', sans-serif; font-size: 9.5pt; "
        f'color:{_INK};">'
        f"{_heading(invoice, settings)}"
        f"{_bill_to(invoice)}"
        f"{_lines_table(invoice)}"
        f"{_totals(invoice)}"
        f"{_status(invoice)}"
        f"{_footer(invoice, settings)}"
        "</body></html>"
    )


# --- Sections -----------------------------------------------------------------------------------------------

_INK = "#2b2b2b"
_MUTED = "color:#6b6478;"
_ACCENT_COLOUR = "#5b4b8a"
_RULE = "#cfc8dc"
_HEAD_FILL = "#efeaf7"


def _heading(invoice: InvoiceDetail, settings: ClinicSettings) -> str:
    clinic = [
        f'<p style="margin:0; font-size:16pt; font-weight:700;">{escape(settings.name or "Invoice")}</p>'
    ]
    clinic += [
        f'<p style="margin:0; {_MUTED}">{escape(part)}</p>' for part in _address_lines(settings.address)
    ]
    contact = " · ".join(part for part in (settings.phone, settings.email) if part)
    if contact:
        clinic.append(f'<p style="margin:0; {_MUTED}">{escape(contact)}</p>')
    if settings.vat_number:
        clinic.append(f'<p style="margin:0; {_MUTED}">VAT no. {escape(settings.vat_number)}</p>')
    title = "DRAFT INVOICE" if invoice.status is InvoiceStatus.DRAFT else "INVOICE"
    facts = [
        ("Invoice no.", invoice.number or "Not yet issued"),
        ("Invoice date", fmt.date(invoice.issued_on) or "Not yet issued"),
        ("Due date", fmt.date(invoice.due_on) or "—"),
    ]
    fact_rows = "".join(
        f'<tr><td style="{_MUTED} padding-right:10px;">{escape(label)}</td>'
        f'<td align="right" style="font-weight:600;">{escape(value)}</td></tr>'
        for label, value in facts
    )
    right = (
        f'<p align="right" style="margin:0; font-size:22pt; font-weight:700; color:{_ACCENT_COLOUR};">'
        f"{title}</p>"
        f'<table align="right" cellspacing="0" cellpadding="1">{fact_rows}</table>'
    )
    return (
        '<table width="100%" cellspacing="0" cellpadding="0"><tr>'
        f'<td width="55%" valign="top">{"".join(clinic)}</td>'
        f'<td width="45%" valign="top" align="right">{right}</td>'
        "</tr></table>"
    )


def _bill_to(invoice: InvoiceDetail) -> str:
    lines = [f'<p style="margin:0; font-weight:600;">{escape(invoice.client_name)}</p>']
    lines += [
        f'<p style="margin:0;">{escape(value)}</p>'
        for value in (invoice.client_email, invoice.client_phone)
        if value
    ]
    return (
        f'<p style="margin-top:18px; margin-bottom:2px; {_MUTED} font-size:8pt; font-weight:600;">BILL TO</p>'
        f"{''.join(lines)}"
    )


_COLUMNS = (  # header, width %, alignment
    ("Description", 38, "left"),
    ("Qty", 6, "right"),
    ("Unit price", 13, "right"),
    ("Discount", 13, "right"),
    ("VAT", 12, "right"),
    ("Amount", 18, "right"),
)


def _lines_table(invoice: InvoiceDetail) -> str:
    head = "".join(
        f'<th width="{width}%" align="{align}" style="background-color:{_HEAD_FILL}; font-weight:600; '
        f'padding:4px;">{name}</th>'
        for name, width, align in _COLUMNS
    )
    rows = "".join(_line_row(line) for line in invoice.lines)
    return (
        f'<table width="100%" cellspacing="0" cellpadding="4" style="margin-top:18px; '
        f'border-bottom:1px solid {_RULE};"><thead><tr>{head}</tr></thead>{rows}</table>'
    )


def _line_row(line: InvoiceLine) -> str:
    description = escape(line.name)
    if line.discount_reason and line.discount:
        description += f'<br/><span style="{_MUTED} font-size:8pt;">{escape(line.discount_reason)}</span>'
    cells = (
        description,
        str(line.quantity),
        fmt.money(line.unit_price),
        fmt.money(-line.discount) if line.discount else "—",
        fmt.percent(line.vat_rate_bp) if line.vat_rate_bp else "Exempt",
        fmt.money(line.net),
    )
    tds = "".join(
        f'<td align="{align}" valign="top" style="border-top:1px solid {_RULE};">{cell}</td>'
        for cell, (_, _, align) in zip(cells, _COLUMNS, strict=True)
    )
    return f"<tr>{tds}</tr>"


def _totals(invoice: InvoiceDetail) -> str:
    excluding_vat = invoice.net - invoice.vat
    rows = [("Subtotal", fmt.money(invoice.gross), "")]
    if invoice.discount:
        rows.append(("Discounts", fmt.money(-invoice.discount), ""))
    rows.append(("Total excluding VAT", fmt.money(excluding_vat), ""))
    for band in invoice.vat_bands:
        if band.vat_rate_bp:
            label = f"VAT at {fmt.percent(band.vat_rate_bp)} on {fmt.money(band.excluding_vat)}"
            rows.append((label, fmt.money(band.vat), ""))
        else:
            rows.append(("Exempt from VAT", fmt.money(band.net), _MUTED))
    rows.append(("Total", fmt.money(invoice.net), "font-weight:600;"))
    due_style = f"font-size:13pt; font-weight:700; color:{_ACCENT_COLOUR}; border-top:1px solid {_RULE};"
    rows.append(("Total due", fmt.money(invoice.amount_due), due_style))
    body = "".join(
        f'<tr><td style="{style}">{escape(label)}</td><td align="right" style="{style}">{escape(value)}</td></tr>'
        for label, value, style in rows
    )
    return (
        '<table width="100%" cellspacing="0" cellpadding="0" style="margin-top:10px;"><tr>'
        '<td width="50%"></td>'
        f'<td width="50%"><table width="100%" cellspacing="0" cellpadding="3">{body}</table></td>'
        "</tr></table>"
    )


def _status(invoice: InvoiceDetail) -> str:
    text = _status_text(invoice)
    if not text:
        return ""
    colour = _STAMP_COLOURS.get(invoice.standing, QColor(_ACCENT_COLOUR)).name()
    return f'<p style="margin-top:14px; font-weight:600; color:{colour};">{escape(text)}</p>'


def _status_text(invoice: InvoiceDetail) -> str:
    standing = invoice.standing
    if standing is InvoiceStanding.PAID:
        when = f" on {fmt.date(invoice.paid_at.date())}" if invoice.paid_at else ""
        sale = f" (receipt {invoice.sale_number})" if invoice.sale_number else ""
        return f"Paid in full{when}{sale}. Thank you."
    if standing is InvoiceStanding.VOID:
        return (
            f"Void: {invoice.void_reason}. Nothing is due on this invoice."
            if invoice.void_reason
            else "Void."
        )
    if standing is InvoiceStanding.OVERDUE:
        return f"Overdue: payment was due on {fmt.date(invoice.due_on)}."
    if standing is InvoiceStanding.DRAFT:
        return "Draft: not yet issued. Prices may change until it is issued."
    return ""


def _footer(invoice: InvoiceDetail, settings: ClinicSettings) -> str:
    parts = [] if invoice.status is InvoiceStatus.VOID else [f"{invoice.payment_terms}."]
    if invoice.number and invoice.status is InvoiceStatus.ISSUED:
        parts.append(
            f"Please quote {invoice.number} with your payment. Pay at reception or by the link we send you."
        )
    parts.append("Prices include VAT where shown.")
    if settings.name:
        parts.append(f"Thank you for choosing {settings.name}.")
    return (
        f'<p style="margin-top:24px; padding-top:6px; border-top:1px solid {_RULE}; {_MUTED} font-size:8.5pt;">'
        f"{' '.join(escape(p) for p in parts)}</p>"
    )


def _address_lines(address: str) -> list[str]:
    return [part.strip() for part in address.replace("\n", ",").split(",") if part.strip()]


def _title(invoice: InvoiceDetail) -> str:
    return f"Invoice {invoice.number}" if invoice.number else "Draft invoice"


# --- Pages and the stamp -------------------------------------------------------------------------------------

_STAMP_COLOURS = {
    InvoiceStanding.PAID: QColor("#2e7d4f"),
    InvoiceStanding.VOID: QColor("#b3261e"),
    InvoiceStanding.OVERDUE: QColor("#b3261e"),
}


def _stamp(invoice: InvoiceDetail) -> tuple[str, QColor] | None:
    """The mark across the first page of a settled invoice: "PAID" or "VOID"."""
    if invoice.standing in (InvoiceStanding.PAID, InvoiceStanding.VOID):
        return invoice.standing.value.upper(), _STAMP_COLOURS[invoice.standing]
    return None


class _Pages:
    """The document laid out on A4 pages of ``device`` at ``dpi``, with the margins of ``MARGIN_MM``."""

    def __init__(self, document: QTextDocument, device: QPaintDevice, dpi: int) -> None:
        self.document = document
        self.dots_per_mm = dpi / _MM_PER_INCH
        self.margin = MARGIN_MM * self.dots_per_mm
        self.body = QSizeF(
            (A4_MM.width() - 2 * MARGIN_MM) * self.dots_per_mm,
            (A4_MM.height() - 2 * MARGIN_MM) * self.dots_per_mm,
        )
        document.documentLayout().setPaintDevice(device)  # lay out in the device's own units
        document.setPageSize(self.body)

    @property
    def count(self) -> int:
        return max(1, self.document.pageCount())

    def paint(self, painter: QPainter, index: int, stamp: tuple[str, QColor] | None) -> None:
        top = index * self.body.height()
        painter.save()
        painter.translate(self.margin, self.margin - top)
        self.document.drawContents(painter, QRectF(QPointF(0, top), self.body))
        painter.restore()
        if stamp is not None and index == 0:
            self._paint_stamp(painter, *stamp)

    def _paint_stamp(self, painter: QPainter, text: str, colour: QColor) -> None:
        """A rubber stamp: the word in a rounded frame, tilted, in the space beside "Bill to" (clear of amounts)."""
        painter.save()
        font = QFont("DejaVu Sans")
        font.setPixelSize(round(11 * self.dots_per_mm))
        font.setBold(True)
        font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 110)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        pad = 3 * self.dots_per_mm
        box = QRectF(0, 0, metrics.horizontalAdvance(text) + 2 * pad, metrics.height() + pad)
        centre = QPointF(self.margin + self.body.width() * 0.7, self.margin + 36 * self.dots_per_mm)
        painter.translate(centre)
        painter.rotate(-10)
        painter.translate(-box.width() / 2, -box.height() / 2)
        faded = QColor(colour)
        faded.setAlpha(170)
        painter.setPen(QPen(faded, 1.2 * self.dots_per_mm))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(box, 2 * self.dots_per_mm, 2 * self.dots_per_mm)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()


def _blank_page(size: QSize, dots_per_metre: int) -> QImage:
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.setDotsPerMeterX(dots_per_metre)
    image.setDotsPerMeterY(dots_per_metre)
    image.fill(QColor("white"))
    return image
