"""A time of day typed as people type it: "11:00", "11", "1100", "9.30", "14h15".

    field = TimeField(QTime(9, 30))
    field.time()          # the time read from what is typed (the last good one while the text is unfinished)
    field.is_valid()      # False while what is typed is not a time: say so before using it

A ``QTimeEdit`` reads keys section by section, so "11:00" typed over "09:30" comes out as 09:00; this field
reads the whole text instead. ``timeChanged(QTime)`` fires when what is typed becomes another time.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QTime, Signal
from PySide6.QtWidgets import QLineEdit, QWidget

_TIME = re.compile(r"\s*(\d{1,2})(?:\s*[:.h]\s*(\d{2})|(\d{2}))?\s*")
NOT_A_TIME = "Type the time like 11:00 (hours and minutes, 24-hour clock)."


def read_time(text: str) -> QTime | None:
    """The time in ``text``, or None when it is not one ("25:00", "abc", "")."""
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2) or match.group(3) or 0)
    if hours > 23 or minutes > 59:
        return None
    return QTime(hours, minutes)


class TimeField(QLineEdit):
    timeChanged = Signal(QTime)  # noqa: N815 - the name QTimeEdit uses

    def __init__(self, time: QTime | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._time = QTime(9, 0)
        self.setPlaceholderText("e.g. 11:00")
        self.setMaxLength(8)
        self.textEdited.connect(self._read)
        self.editingFinished.connect(self._tidy)
        self.setTime(time or self._time)

    def time(self) -> QTime:
        return QTime(self._time)

    def setTime(self, time: QTime) -> None:  # noqa: N802 - Qt's name
        self.setText(time.toString("HH:mm"))
        self._read(self.text())

    def is_valid(self) -> bool:
        return read_time(self.text()) is not None

    def _read(self, text: str) -> None:
        typed = read_time(text)
        if typed is not None and typed != self._time:
            self._time = typed
            self.timeChanged.emit(QTime(typed))

    def _tidy(self) -> None:
        """Leaving the field writes a good time the usual way ("1100" becomes "11:00")."""
        typed = read_time(self.text())
        if typed is not None:
            self.setText(typed.toString("HH:mm"))
