"""Choosing a folder or a file to save to, starting where this till saved that kind of thing last.

The folders are remembered per till, in ``folders.ini`` in the app's data directory (never in the clinic's
database: another till has other disks).

    folder = choose_folder(parent, PORTAL, "Publish the booking portal to")
    path = choose_save_path(parent, INVOICE_PDF, "Save the invoice as a PDF", "INV-2026-0001.pdf", "PDF (*.pdf)")
    remember(INVOICE_PDF, path.parent)
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

from aestheticc_pos.settings import load_settings

PORTAL = "folders/booking_portal"
INVOICE_PDF = "folders/invoice_pdf"


def remembered(key: str) -> Path:
    """The folder last used for ``key`` (the home folder the first time)."""
    return Path(str(_store().value(key, str(Path.home()))))


def remember(key: str, folder: Path) -> None:
    store = _store()
    store.setValue(key, str(folder))
    store.sync()


def choose_folder(parent: QWidget, key: str, caption: str) -> Path | None:
    """Ask for a folder (None: staff cancelled) and remember it."""
    chosen = QFileDialog.getExistingDirectory(parent, caption, str(remembered(key)))
    if not chosen:
        return None
    remember(key, Path(chosen))
    return Path(chosen)


def choose_save_path(parent: QWidget, key: str, caption: str, name: str, filter_text: str) -> Path | None:
    """Ask where to save a file called ``name`` by default (None: staff cancelled)."""
    chosen, _filter = QFileDialog.getSaveFileName(parent, caption, str(remembered(key) / name), filter_text)
    return Path(chosen) if chosen else None


def _store() -> QSettings:
    return QSettings(str(load_settings().data_dir / "folders.ini"), QSettings.Format.IniFormat)
