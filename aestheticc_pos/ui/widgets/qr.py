"""A link as a QR code a client scans with their phone at the desk, with "Copy link" under it.

The code is always drawn whole at its size, with its quiet zone (4 light modules round it): a code that lost
a corner to a squeezed layout cannot be scanned, so its panel asks for room enough for all of it.

panel = LinkPanel("Scan to set up your Direct Debit")
panel.set_link(url)        # None: hides the code and says why
"""

from __future__ import annotations

import segno
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

QUIET_ZONE = 4  # modules of white around the code, as the standard asks


def qr_modules(text: str) -> list[list[bool]]:
    """The QR code of ``text`` as rows of dark (True) / light modules, without the quiet zone."""
    code = segno.make_qr(text, error="m")
    return [[bool(cell) for cell in row] for row in code.matrix]


def qr_image(text: str, size: int) -> QImage:
    """The QR code of ``text`` drawn on a white square of ``size`` pixels (quiet zone included)."""
    image = QImage(size, size, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    _paint(painter, qr_modules(text), size)
    painter.end()
    return image


def _paint(painter: QPainter, modules: list[list[bool]], side: int) -> None:
    painter.fillRect(0, 0, side, side, QColor("white"))
    if not modules:
        return
    step = side / (len(modules) + 2 * QUIET_ZONE)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("black"))
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if dark:
                left, top = (x + QUIET_ZONE) * step, (y + QUIET_ZONE) * step
                painter.drawRect(QRectF(left, top, step + 0.5, step + 0.5))


class QrCode(QWidget):
    """Paints the QR code of its text, square, as large as it is given room for."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._modules: list[list[bool]] = []
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setFixedSize(180, 180)
        self.set_text(text)

    def set_text(self, text: str) -> None:
        self.text = text
        self._modules = qr_modules(text) if text else []
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(180, 180)

    def paintEvent(self, _event) -> None:  # type: ignore[no-untyped-def]
        painter = QPainter(self)
        _paint(painter, self._modules, min(self.width(), self.height()))
        painter.end()


class LinkPanel(QWidget):
    """A caption, the QR code of a link, then "Copy link" (for email or SMS) and any other buttons in a row
    under it: beside the code, a narrow card would cut their captions."""

    def __init__(self, caption: str, parent: QWidget | None = None, *, size: int = 150) -> None:
        super().__init__(parent)
        self.link: str | None = None
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        self.caption = QLabel(caption)
        self.caption.setObjectName("caption")
        self.caption.setWordWrap(True)
        self.code = QrCode()
        self.code.setFixedSize(size, size)
        self.note = QLabel("")
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        self.copy_button = QPushButton("Copy link")
        self.copy_button.setToolTip("Copy the link, to paste into an email or a text message")
        self.copy_button.clicked.connect(self.copy)
        self._buttons = QHBoxLayout()
        self._buttons.setSpacing(8)
        self._buttons.addWidget(self.copy_button)
        self._buttons.addStretch(1)
        column.addWidget(self.caption)
        column.addWidget(self.code, 0, Qt.AlignmentFlag.AlignLeft)
        column.addLayout(self._buttons)
        column.addWidget(self.note)

    def add_button(self, button: QPushButton) -> None:
        """Another action beside "Copy link" ("Email the link…"); it shows and hides itself."""
        self._buttons.insertWidget(self._buttons.indexOf(self.copy_button) + 1, button)

    def set_link(self, link: str | None, *, missing: str = "") -> None:
        """Show ``link``; with none, hide the code and show ``missing`` (why there is no link yet)."""
        self.link = link or None
        self.code.set_text(link or "")
        self.code.setVisible(self.link is not None)
        self.copy_button.setVisible(self.link is not None)
        self.caption.setVisible(self.link is not None)
        self.note.setText("" if self.link is not None else missing)
        self.note.setVisible(self.link is None and bool(missing))

    def copy(self) -> None:
        if self.link is not None:
            QGuiApplication.clipboard().setText(self.link)
            self.note.setText("Link copied: paste it into an email or a text message.")
            self.note.show()
