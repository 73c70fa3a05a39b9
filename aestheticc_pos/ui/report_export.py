"""A report's tables as the owner takes them away: CSV for a spreadsheet, a PDF on A4, or printed.

A ``ReportTable`` is what a Reports page shows in a table: a title, the column captions, and each row twice —
as shown (``£1,234.56``, ``24 Nov 2026``) and as a spreadsheet reads it (``1234.56``, ``2026-11-24``). The
CSV holds the second; the PDF and the print the first.

The PDF and the print run on the GUI thread (fonts and text layout are GUI-thread objects).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QWidget

from aestheticc_pos.domain.money import Money
from aestheticc_pos.ui import format as fmt

Cell = str | int | float | Money | dt.date | None
PDF_DPI = 300


@dataclass(frozen=True, slots=True)
class ReportTable:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    right: frozenset[int] = field(default_factory=frozenset)  # columns aligned right (figures)
    note: str = ""  # a sentence under the title (the range, how a figure is counted)
    stretch: int = 0  # the column given the width left over on screen (the others are as wide as their text)

    def shown(self, row: int, column: int) -> str:
        return shown(self.rows[row][column])

    def file_name(self, suffix: str) -> str:
        safe = "".join(ch if ch.isalnum() or ch in " -" else " " for ch in self.title)
        return f"{' '.join(safe.split())}.{suffix}"


def shown(cell: Cell) -> str:
    """A cell as the screen and the PDF show it."""
    if cell is None:
        return ""
    if isinstance(cell, Money):
        return fmt.money(cell)
    if isinstance(cell, dt.date):
        return fmt.date(cell)
    if isinstance(cell, int):
        return f"{cell:,}"
    if isinstance(cell, float):
        return f"{cell:,.1f}"
    return cell


def plain(cell: Cell) -> str:
    """A cell as a spreadsheet reads it: amounts without symbol or separators, ISO dates."""
    if cell is None:
        return ""
    if isinstance(cell, Money):
        return fmt.editable_amount(cell)
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell)


def save_csv(table: ReportTable, path: str | Path) -> Path:
    """Write the table as CSV (UTF-8 with a byte-order mark, so a spreadsheet opens accents right)."""
    path = Path(path)
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow([plain(cell) for cell in row])
    return path


def tables_html(heading: str, tables: Sequence[ReportTable], clinic_name: str, printed: str) -> str:
    parts = [
        f'<p style="font-size:15pt; font-weight:600; margin:0;">{escape(clinic_name or "Aestheticc POS")}</p>',
        f'<p style="font-size:12pt; margin:0;">{escape(heading)}</p>',
        f'<p style="color:#6b6478; margin:0 0 8px 0;">Printed {escape(printed)}</p>',
    ]
    for table in tables:
        parts.append(
            f'<p style="font-size:11pt; font-weight:600; margin:12px 0 2px 0;">{escape(table.title)}</p>'
        )
        if table.note:
            parts.append(f'<p style="color:#6b6478; margin:0 0 4px 0;">{escape(table.note)}</p>')
        head = "".join(
            f'<th align="{"right" if i in table.right else "left"}" style="border-bottom:1px solid #999;">'
            f"{escape(c)}</th>"
            for i, c in enumerate(table.columns)
        )
        body = "".join(
            "<tr>"
            + "".join(
                f'<td align="{"right" if i in table.right else "left"}">{escape(shown(cell))}</td>'
                for i, cell in enumerate(row)
            )
            + "</tr>"
            for row in table.rows
        )
        if not table.rows:
            body = f'<tr><td colspan="{len(table.columns)}" style="color:#6b6478;">Nothing in this range.</td></tr>'
        parts.append(f'<table width="100%" cellspacing="0" cellpadding="3"><tr>{head}</tr>{body}</table>')
    return (
        "<html><body style=\"font-family: 'DejaVu Sans', 'Segoe UI', sans-serif; font-size: 8.5pt; color:#2b2b2b;\">"
        + "".join(parts)
        + "</body></html>"
    )


def _document(html: str) -> QTextDocument:
    document = QTextDocument()
    document.setHtml(html)
    return document


def save_pdf(
    heading: str, tables: Sequence[ReportTable], clinic_name: str, printed: str, path: str | Path
) -> Path:
    """Write the tables to an A4 PDF (pages as many as they need). ``OSError`` when it cannot be written."""
    path = Path(path)
    writer = QPdfWriter(str(path))
    writer.setResolution(PDF_DPI)
    writer.setTitle(heading)
    writer.setCreator(clinic_name or "Aestheticc POS")
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait, QMarginsF(15, 15, 15, 15)
        )
    )
    document = _document(tables_html(heading, tables, clinic_name, printed))
    document.print_(writer)
    if not path.exists() or path.stat().st_size == 0:
        raise OSError(f"Could not write {path}.")
    return path


def print_tables(
    heading: str, tables: Sequence[ReportTable], clinic_name: str, printed: str, parent: QWidget | None = None
) -> bool:
    """Ask which printer, then print. False when staff cancelled."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(heading)
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle(f"Print {heading}")
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    _document(tables_html(heading, tables, clinic_name, printed)).print_(printer)
    return True
