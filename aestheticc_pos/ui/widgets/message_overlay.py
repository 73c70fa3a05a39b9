"""The message that floats over the top of the main window's page: a sentence for staff (an error or a
confirmation), with a shadow, in no layout, so showing it moves nothing under the mouse."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QMouseEvent
from PySide6.QtWidgets import QGraphicsDropShadowEffect, QLabel, QWidget


class MessageOverlay(QLabel):
    """A sentence floating over the top of the page, with a shadow; a click on it puts it away. It is a child
    of the window's central widget but in no layout, so showing it moves nothing."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.setWordWrap(True)
        self.setStyleSheet(
            "QLabel#messageBar { background: #efe9fb; color: #2f2550; padding: 10px 16px;"
            " border: 1px solid #cbbcf0; border-radius: 8px; }"
        )
        self.setToolTip("Click or press Esc to close")
        shadow = QGraphicsDropShadowEffect(self)
        shadow.setBlurRadius(18)
        shadow.setOffset(0, 3)
        shadow.setColor(QColor(61, 53, 80, 90))
        self.setGraphicsEffect(shadow)
        self.hide()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.hide()
        event.accept()


class FollowGeometry(QObject):
    """Calls ``place`` when a watched widget is moved, resized or shown, so the overlay follows the page."""

    def __init__(self, place: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        self._place = place

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Move, QEvent.Type.Show):
            self._place()
        return False
