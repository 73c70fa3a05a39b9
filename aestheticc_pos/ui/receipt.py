"""A completed sale as the client takes it away: on screen, printed, as a PDF, or as plain text for an email.

Every form is built from the same ``Receipt`` (``services.checkout``) and the clinic's settings (for the time
zone), so they never disagree. The document is HTML in a ``QTextDocument``:

- ``receipt_document`` is what the receipt dialog shows and what is printed;
- ``save_receipt_pdf`` writes (``receipt_pdf`` returns) an **80 mm wide** PDF, one page as long as the receipt, like the slip of a
  receipt printer: it prints on the till's roll printer as it is, and reads well on a phone when emailed;
- ``print_receipt`` asks for a printer (``QPrintDialog``) and lays the receipt out on that printer's paper;
- ``receipt_text`` is the same receipt in plain text, 42 characters wide, for an email body or a roll printer
  driven as a text device.

All of these run on the GUI thread (fonts and text layout are GUI-thread objects); a receipt takes a few
milliseconds.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QMarginsF, QSizeF
from PySide6.QtGui import QPageLayout, QPageSize, QPainter, QPdfWriter, QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QWidget

from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.money import Money, sum_money
from aestheticc_pos.services.context import ClinicSettings
from aestheticc_pos.services.sales import Receipt
from aestheticc_pos.ui import format as fmt

ROLL_WIDTH_MM = 80.0
ROLL_MARGIN_MM = 5.0
PDF_DPI = 300
TEXT_WIDTH = 42  # characters on an 80 mm slip

TENDER_NAMES = {
    TenderKind.CASH: "Cash",
    TenderKind.CARD: "Card",
    TenderKind.DIRECT_DEBIT: "Direct Debit",
    TenderKind.DEPOSIT: "Deposit paid",
    TenderKind.PAYMENT_LINK: "Payment link",
}


def receipt_document(receipt: Receipt, settings: ClinicSettings) -> QTextDocument:
    """The receipt as a rich-text document (its HTML is ``receipt_html``)."""
    document = QTextDocument()
    document.setDocumentMargin(0)
    document.setHtml(receipt_html(receipt, settings))
    return document


def save_receipt_pdf(receipt: Receipt, settings: ClinicSettings, path: str | Path) -> Path:
    """Write the receipt to ``path`` as an 80 mm wide PDF (one page, as long as the receipt). Returns the path.

    Raises ``OSError`` when the file cannot be written.
    """
    path = Path(path)
    data = receipt_pdf(receipt, settings)
    try:
        path.write_bytes(data)
    except OSError:
        raise OSError(f"Could not write {path}.") from None
    if not path.exists() or path.stat().st_size == 0:
        raise OSError(f"Could not write {path}.")
    return path


def receipt_pdf(receipt: Receipt, settings: ClinicSettings) -> bytes:
    """The receipt as an 80 mm wide PDF, in memory (to save, or to attach to an email)."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(PDF_DPI)
    writer.setTitle(f"Receipt {receipt.number}")
    writer.setCreator(receipt.clinic_name or "Aestheticc POS")
    document = receipt_document(receipt, settings)
    layout = document.documentLayout()
    layout.setPaintDevice(writer)  # lay out in the PDF's own units, whatever the screen's DPI
    dots_per_mm = PDF_DPI / 25.4
    document.setTextWidth((ROLL_WIDTH_MM - 2 * ROLL_MARGIN_MM) * dots_per_mm)
    height_mm = document.size().height() / dots_per_mm + 2 * ROLL_MARGIN_MM
    page = QPageSize(QSizeF(ROLL_WIDTH_MM, max(height_mm, 100.0)), QPageSize.Unit.Millimeter, "Receipt roll")
    writer.setPageLayout(QPageLayout(page, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)))
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError("The receipt could not be drawn as a PDF.")
    try:
        margin = ROLL_MARGIN_MM * dots_per_mm
        painter.translate(margin, margin)
        document.drawContents(painter)
    finally:
        painter.end()
    del writer  # finishes the file in the buffer
    buffer.close()
    return bytes(buffer.data().data())


def print_receipt(receipt: Receipt, settings: ClinicSettings, parent: QWidget | None = None) -> bool:
    """Ask which printer, then print the receipt on its paper. Returns False when staff cancelled."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(f"Receipt {receipt.number}")
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle(f"Print receipt {receipt.number}")
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    print_receipt_on(printer, receipt, settings)
    return True


def print_receipt_on(printer: QPrinter, receipt: Receipt, settings: ClinicSettings) -> None:
    """Print the receipt on ``printer`` as it is set up (its paper, margins; pages as needed)."""
    receipt_document(receipt, settings).print_(printer)


def receipt_text(receipt: Receipt, settings: ClinicSettings) -> str:
    """The receipt as plain text, 42 characters wide, ready to paste into an email."""
    w = TEXT_WIDTH
    out: list[str] = []
    for line in _header_lines(receipt):
        out.append(line.center(w).rstrip())
    out.append("")
    out += [_pair(label, value, w) for label, value in _facts(receipt, settings)]
    out.append("-" * w)
    for line in receipt.lines:
        out.append(line.name)
        out.append(_pair(f"  {line.quantity} x {fmt.money(line.unit_price)}", fmt.money(line.gross), w))
        if line.discount:
            out.append(_pair(f"  {line.discount_reason or 'Discount'}", fmt.money(-line.discount), w))
    out.append("-" * w)
    out.append(_pair("Subtotal", fmt.money(receipt.gross), w))
    if receipt.discount:
        out.append(_pair("Discounts", fmt.money(-receipt.discount), w))
    out.append(_pair("TOTAL", fmt.money(receipt.net), w))
    for label, amount in _vat_rows(receipt):
        out.append(_pair(label, amount, w))
    out.append("-" * w)
    for tender in receipt.tenders:
        out.append(_pair(TENDER_NAMES.get(tender.kind, str(tender.kind)), fmt.money(tender.amount), w))
    if not receipt.tenders:
        out.append(_pair("Paid", fmt.money(Money.zero(receipt.net.currency)), w))
    if receipt.change_due:
        out.append(_pair("Change", fmt.money(receipt.change_due), w))
    out.append("")
    out.append("Thank you for visiting.".center(w).rstrip())
    return "\n".join(out) + "\n"


def _facts(receipt: Receipt, settings: ClinicSettings) -> list[tuple[str, str]]:
    """The receipt's facts: a refund or void also says which sale it gives back, and why."""
    kind = {"refund": "Refund", "void": "Void"}.get(receipt.kind)
    facts = [(kind or "Receipt", receipt.number)]
    if kind is not None:
        facts.append((f"{kind} of", receipt.refers_to or "—"))
    facts += [
        ("Date", fmt.date_time(receipt.created_at, settings.tz)),
        ("Served by", receipt.staff_name),
        ("Client", receipt.client_name or "Walk-in"),
    ]
    if kind is not None and receipt.reason:
        facts.append(("Reason", receipt.reason))
    return facts


def receipt_html(receipt: Receipt, settings: ClinicSettings) -> str:
    """The receipt as the HTML subset ``QTextDocument`` understands (tables, no CSS layout)."""
    head = "".join(
        f'<p align="center" style="margin:0; {_TITLE if i == 0 else _MUTED}">{escape(text)}</p>'
        for i, text in enumerate(_header_lines(receipt))
    )
    facts = [_row(label, value, _MUTED, "", left_width=30) for label, value in _facts(receipt, settings)]
    items = []
    for line in receipt.lines:
        items.append(f'<tr><td colspan="2" style="{_BOLD} padding-top:4px;">{escape(line.name)}</td></tr>')
        items.append(
            _row(f"{line.quantity} × {fmt.money(line.unit_price)}", fmt.money(line.gross), _MUTED, "")
        )
        if line.discount:
            items.append(
                _row(line.discount_reason or "Discount", fmt.money(-line.discount), _ACCENT, _ACCENT)
            )
    totals = [_row("Subtotal", fmt.money(receipt.gross))]
    if receipt.discount:
        totals.append(_row("Discounts", fmt.money(-receipt.discount)))
    totals.append(_row("Total", fmt.money(receipt.net), _TOTAL, _TOTAL))
    totals += [_row(label, amount, _MUTED, _MUTED) for label, amount in _vat_rows(receipt)]
    paid = [_row("Given back" if receipt.kind != "sale" else "Paid", "", _BOLD, "")]
    paid += [_row(TENDER_NAMES.get(t.kind, str(t.kind)), fmt.money(t.amount)) for t in receipt.tenders]
    if not receipt.tenders:
        paid.append(_row("Nothing to pay", ""))
    if receipt.change_due:
        paid.append(_row("Change", fmt.money(receipt.change_due), _BOLD, _BOLD))
    rule = '<hr style="border: none; height: 1px; background-color: #cfc8dc;"/>'
    sections = rule.join(
        f'<table width="100%" cellspacing="0" cellpadding="1">{"".join(rows)}</table>'
        for rows in (facts, items, totals, paid)
    )
    return (
        "<html><body style=\"font-family: 'DejaVu Sans', 'Segoe UI', sans-serif; font-size: 9pt; color:#2b2b2b;\">"
        f"{head}{rule}{sections}"
        f'<p align="center" style="margin-top:10px; {_MUTED}">Thank you for visiting.</p>'
        "</body></html>"
    )


# --- helpers ------------------------------------------------------------------------------------------------

_MUTED = "color:#6b6478;"
_ACCENT = "color:#5b4b8a;"
_BOLD = "font-weight:600;"
_TITLE = "font-size:13pt; font-weight:600;"
_TOTAL = "font-size:12pt; font-weight:700; padding-top:4px;"


def _row(left: str, right: str, left_style: str = "", right_style: str = "", *, left_width: int = 68) -> str:
    """A two-cell row: a description that may wrap, and an amount kept to the right."""
    return (
        f'<tr><td width="{left_width}%" style="{left_style}">{escape(left)}</td>'
        f'<td width="{100 - left_width}%" align="right" style="{right_style}">{escape(right)}</td></tr>'
    )


def _header_lines(receipt: Receipt) -> list[str]:
    lines = [receipt.clinic_name or "Receipt"]
    lines += [part.strip() for part in receipt.clinic_address.replace("\n", ",").split(",") if part.strip()]
    if receipt.vat_number:
        lines.append(f"VAT no. {receipt.vat_number}")
    return lines


def _vat_rows(receipt: Receipt) -> list[tuple[str, str]]:
    """One row per VAT rate: "VAT 20% included" £33.33; exempt lines are named as such."""
    currency = receipt.net.currency
    rates = sorted({line.vat_rate_bp for line in receipt.lines}, reverse=True)
    rows = []
    for rate in rates:
        lines = [line for line in receipt.lines if line.vat_rate_bp == rate]
        if rate == 0:
            exempt = sum_money([line.net for line in lines], currency)
            rows.append(("Exempt from VAT", fmt.money(exempt)))
        else:
            vat = sum_money([line.vat for line in lines], currency)
            rows.append((f"VAT {fmt.percent(rate)} included", fmt.money(vat)))
    return rows


def _pair(left: str, right: str, width: int) -> str:
    """``left`` and ``right`` on one line ``width`` wide; a long left side wraps above the amount."""
    room = width - len(right) - 1
    if len(left) <= room:
        return f"{left}{' ' * (width - len(left) - len(right))}{right}"
    return f"{left}\n{' ' * (width - len(right))}{right}"
