"""Leaving a form with changes not yet saved asks first: Save, Discard or Cancel.

    state = field_state(form)                 # what the form's fields hold now, to compare later
    ask_about_changes(parent, "the settings", on_answer)   # on_answer(UnsavedAnswer), once chosen

The question is window-modal and returns at once (``open``), so nothing waits on it; ``on_answer`` is called
with what was chosen (closing the box is Cancel).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)


class UnsavedAnswer(enum.Enum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


def field_state(root: QWidget) -> tuple[Hashable, ...]:
    """What every field under ``root`` holds (text, choice, number, tick), in the order they were made.

    Two states differ when anything was typed, chosen or ticked, or a row of fields was added or removed.
    """
    state: list[Hashable] = []
    for widget in root.findChildren(QWidget):
        parent = widget.parentWidget()
        if isinstance(widget, QLineEdit) and not isinstance(parent, QComboBox | QAbstractSpinBox):
            state.append(("text", widget.text()))
        elif isinstance(widget, QPlainTextEdit | QTextEdit):
            state.append(("text", widget.toPlainText()))
        elif isinstance(widget, QComboBox):
            state.append(("choice", widget.currentIndex(), widget.currentText()))
        elif isinstance(widget, QAbstractSpinBox):
            state.append(("number", widget.text()))
        elif isinstance(widget, QAbstractButton) and widget.isCheckable():
            state.append(("tick", widget.isChecked()))
    return tuple(state)


def ask_about_changes(parent: QWidget, what: str, on_answer: Callable[[UnsavedAnswer], None]) -> QMessageBox:
    """Ask whether to save the changes to ``what`` ("the settings", "this client") before leaving."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Unsaved changes")
    box.setText(f"Save your changes to {what}?")
    box.setInformativeText("Discard loses what you typed; Cancel goes back to it.")
    buttons = {
        box.addButton("Save", QMessageBox.ButtonRole.AcceptRole): UnsavedAnswer.SAVE,
        box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole): UnsavedAnswer.DISCARD,
        box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole): UnsavedAnswer.CANCEL,
    }
    box.setDefaultButton(next(b for b, a in buttons.items() if a is UnsavedAnswer.SAVE))
    box.setEscapeButton(next(b for b, a in buttons.items() if a is UnsavedAnswer.CANCEL))
    box.finished.connect(lambda _result: on_answer(buttons.get(box.clickedButton(), UnsavedAnswer.CANCEL)))
    box.open()
    return box
