"""The day's X report (the day so far) and Z report (the day closed) as the manager files them: on screen,
printed, or as a PDF the width of the till's roll (as the receipt is: ``receipt.py``), from one ``DayReport``
(``services.close_of_day``) so they never disagree.

- ``day_report_html`` is the report as the HTML subset ``QTextDocument`` understands; the Close of day screen
  shows it as it will print;
- ``save_day_report_pdf`` writes it as an 80 mm wide PDF, one page as long as the report;
- ``print_day_report`` asks for a printer and prints it on that printer's paper.

All of these run on the GUI thread (fonts and text layout are GUI-thread objects).
"""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path

from PySide6.QtCore import QMarginsF, QSizeF
from PySide6.QtGui import QPageLayout, QPageSize, QPainter, QPdfWriter, QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QWidget

from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.close_of_day import ReportKind
from aestheticc_pos.services.close_of_day import DayReport
from aestheticc_pos.services.context import ClinicSettings
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.receipt import PDF_DPI, ROLL_MARGIN_MM, ROLL_WIDTH_MM

TENDER_NAMES = {
    TenderKind.CASH: "Cash",
    TenderKind.CARD: "Card",
    TenderKind.DIRECT_DEBIT: "Direct Debit",
    TenderKind.PAYMENT_LINK: "Payment links",
    TenderKind.DEPOSIT: "Deposits",
}


def report_title(report: DayReport) -> str:
    """ "X report 24 Nov 2026, till A" or "Z report 3, 24 Nov 2026, till A"."""
    day = fmt.date(report.day)
    if report.closure is None:
        return f"X report {day}, till {report.till_prefix}"
    return f"Z report {report.closure.z_number}, {day}, till {report.till_prefix}"


def file_name(report: DayReport) -> str:
    """What the PDF is called by default: "Z report 3 A 2026-11-24.pdf"."""
    number = f" {report.closure.z_number}" if report.closure is not None else ""
    return f"{report.kind.value} report{number} {report.till_prefix} {report.day.isoformat()}.pdf"


def day_report_document(
    report: DayReport, settings: ClinicSettings, printed_at: dt.datetime
) -> QTextDocument:
    document = QTextDocument()
    document.setDocumentMargin(0)
    document.setHtml(day_report_html(report, settings, printed_at))
    return document


def save_day_report_pdf(
    report: DayReport, settings: ClinicSettings, printed_at: dt.datetime, path: str | Path
) -> Path:
    """Write the report to ``path`` as an 80 mm wide PDF, one page as long as the report (the slip the roll
    printer gives). Returns the path; ``OSError`` when it cannot be written."""
    path = Path(path)
    writer = QPdfWriter(str(path))
    writer.setResolution(PDF_DPI)
    writer.setTitle(report_title(report))
    writer.setCreator(settings.name or "Aestheticc POS")
    document = day_report_document(report, settings, printed_at)
    document.documentLayout().setPaintDevice(writer)  # laid out in the PDF's units, whatever the screen
    dots_per_mm = PDF_DPI / 25.4
    document.setTextWidth((ROLL_WIDTH_MM - 2 * ROLL_MARGIN_MM) * dots_per_mm)
    height_mm = document.size().height() / dots_per_mm + 2 * ROLL_MARGIN_MM
    page = QPageSize(QSizeF(ROLL_WIDTH_MM, max(height_mm, 100.0)), QPageSize.Unit.Millimeter, "Report roll")
    writer.setPageLayout(QPageLayout(page, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)))
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"Could not write {path}.")
    try:
        painter.translate(ROLL_MARGIN_MM * dots_per_mm, ROLL_MARGIN_MM * dots_per_mm)
        document.drawContents(painter)
    finally:
        painter.end()
    if not path.exists() or path.stat().st_size == 0:
        raise OSError(f"Could not write {path}.")
    return path


def print_day_report(
    report: DayReport, settings: ClinicSettings, printed_at: dt.datetime, parent: QWidget | None = None
) -> bool:
    """Ask which printer, then print the report on its paper. False when staff cancelled."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(report_title(report))
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle(f"Print the {report.kind.value} report")
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    day_report_document(report, settings, printed_at).print_(printer)
    return True


def day_report_html(report: DayReport, settings: ClinicSettings, printed_at: dt.datetime) -> str:
    """The report: the clinic, which report, the documents of the day, the takings per tender, the refunds,
    the net, and (Z) the drawer as counted at close."""
    tz = settings.tz
    closure = report.closure
    heading = (
        "X report: the day so far"
        if report.kind is ReportKind.X
        else f"Z report {closure.z_number if closure else ''}: the day closed"
    )
    facts = [
        _row("Day", fmt.date(report.day)),
        _row("Till", report.till_prefix),
    ]
    if closure is not None:
        facts.append(_row("Closed", fmt.date_time(closure.closed_at, tz)))
        facts.append(_row("Closed by", closure.staff_name))
    facts.append(_row("Printed", fmt.date_time(printed_at, tz)))
    documents = [_row("Sales", str(report.sales)), _row("Refunds", str(report.refunds))]
    if report.first_number:
        numbers = report.first_number
        if report.last_number and report.last_number != report.first_number:
            numbers = f"{report.first_number} to {report.last_number}"
        documents.append(_row("Numbers", numbers))
    takings = report.takings
    taken = [_row("Taken", "", _BOLD)]
    taken += [_row(TENDER_NAMES[line.tender], fmt.money(line.taken)) for line in takings.lines]
    taken.append(_row("Total taken", fmt.money(takings.taken), _BOLD, _BOLD))
    refunded = [_row("Refunds paid back", "", _BOLD)]
    refunded += [
        _row(TENDER_NAMES[line.tender], fmt.money(-line.refunded)) for line in takings.lines if line.refunded
    ]
    refunded.append(_row("Total refunds", fmt.money(-takings.refunded), _BOLD, _BOLD))
    net = [_row("Net takings", fmt.money(takings.net), _TOTAL, _TOTAL)]
    cash = takings.line(TenderKind.CASH)
    drawer = [_row("Cash drawer", "", _BOLD)]
    if closure is None:
        drawer.append(_row("Cash taken less paid back", fmt.money(cash.net)))
        drawer.append(_row("Expected", "the float plus that", _MUTED, _MUTED))
        if report.to_settle:
            n = len(report.to_settle)
            drawer.append(_row(f"{n} visit{'s' if n > 1 else ''} still to settle", "", _ALERT))
    else:
        count = closure.cash
        difference = count.difference
        verdict = "Exact" if not difference else ("Over" if not difference.is_negative else "Short")
        drawer += [
            _row("Float", fmt.money(count.opening_float)),
            _row("Cash taken less paid back", fmt.money(cash.net)),
            _row("Expected", fmt.money(count.expected)),
            _row("Counted", fmt.money(count.counted), _BOLD, _BOLD),
            _row(f"Difference ({verdict.lower()})", fmt.money(difference), _BOLD, _BOLD),
        ]
        if count.reason:
            drawer.append(f'<tr><td colspan="2" style="{_MUTED}">Why: {escape(count.reason)}</td></tr>')
        drawer.append(_row("To the bank (float kept)", fmt.money(count.to_bank)))
    rule = '<hr style="border: none; height: 1px; background-color: #cfc8dc;"/>'
    sections = rule.join(
        f'<table width="100%" cellspacing="0" cellpadding="1">{"".join(rows)}</table>'
        for rows in (facts, documents, taken, refunded, net, drawer)
    )
    clinic = escape(settings.name or "Aestheticc POS")
    return (
        "<html><body style=\"font-family: 'DejaVu Sans', 'Segoe UI', sans-serif; font-size: 9pt; color:#2b2b2b;\">"
        f'<p align="center" style="margin:0; {_TITLE}">{clinic}</p>'
        f'<p align="center" style="margin:0; {_BOLD}">{escape(heading)}</p>'
        f"{rule}{sections}</body></html>"
    )


_MUTED = "color:#6b6478;"
_ALERT = "color:#a4262c; font-weight:600;"
_BOLD = "font-weight:600;"
_TITLE = "font-size:13pt; font-weight:600;"
_TOTAL = "font-size:12pt; font-weight:700; padding-top:4px;"


def _row(left: str, right: str, left_style: str = "", right_style: str = "") -> str:
    return (
        f'<tr><td style="{left_style}">{escape(left)}</td>'
        f'<td align="right" style="white-space: nowrap; {right_style}">{escape(right)}</td></tr>'
    )
