"""A wheel never changes a field that does not have focus (DESIGN.md §6).

    calm_wheels(page)   # every combo box and spin box under ``page``, now; call again for rows added later

Scrolling a page with the mouse over a combo box or a spin box would otherwise change its value (a clinic's
no-show rule flipped while looking for the Save button). A calmed field takes focus only from a click or Tab,
and a wheel turned over it while it has no focus scrolls the page it sits on instead (the scroll area around
it; where there is none, the wheel does nothing).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QComboBox, QWidget

_CALMED = "calmWheel"  # the property that marks a field already calmed


def calm_wheels(root: QWidget) -> None:
    """Calm every combo box and spin box under ``root`` (and ``root`` itself if it is one)."""
    fields: list[QWidget] = [*root.findChildren(QComboBox), *root.findChildren(QAbstractSpinBox)]
    if isinstance(root, QComboBox | QAbstractSpinBox):
        fields.append(root)
    for field in fields:
        calm_wheel(field)


def calm_wheel(field: QWidget) -> None:
    """``field`` ignores the wheel until it has focus, and takes focus only from a click or Tab."""
    if field.property(_CALMED):
        return
    field.setProperty(_CALMED, True)
    field.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # WheelFocus would hand it focus on the first turn
    field.installEventFilter(_PassWheelOn(field))


class _PassWheelOn(QObject):
    """Owned by its field. A wheel over the unfocused field is not delivered to it: the scroll area around
    the field (if any) gets it instead, so the page scrolls as if the field were not there."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget) or watched.hasFocus():
            return False
        assert isinstance(event, QWheelEvent)
        area = _scroll_area_around(watched)
        if area is not None:
            viewport = area.viewport()
            position = QPointF(viewport.mapFromGlobal(event.globalPosition().toPoint()))
            QCoreApplication.sendEvent(
                viewport,
                QWheelEvent(
                    position,
                    event.globalPosition(),
                    event.pixelDelta(),
                    event.angleDelta(),
                    event.buttons(),
                    event.modifiers(),
                    event.phase(),
                    event.inverted(),
                ),
            )
        return True  # handled: the field never sees it


def _scroll_area_around(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent
