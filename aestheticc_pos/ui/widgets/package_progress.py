"""One client package at a glance: per step, used / booked / remaining as a segmented bar and as numbers, and
the expiry date, coloured when it is close or past.

    progress = PackageProgress(summary, today)   # a PackageSummary from services
    progress.set_summary(newer_summary)          # after a booking, an attendance, a cancellation

Shared by the appointment detail and the client record. It only draws what it is given: no service calls.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from aestheticc_pos.domain.packages import (
    EXPIRING_SOON_DAYS,
    ClientPackageStatus,
    PackageSummary,
    StepSummary,
)
from aestheticc_pos.ui import format as fmt

USED = QColor("#5b4b8a")
BOOKED = QColor("#b7a6e6")
REMAINING = QColor("#ffffff")
CLOSED = QColor("#e4dfd8")  # refunded sessions
OUTLINE = QColor("#cfc8dc")
MAX_SEGMENTS = 24  # past this, one continuous bar in proportion

# Tones for the expiry line and the desk's small badges (the shared style sheet has no warning colour yet).
# ``set_tone`` gives a label its own style sheet: a dynamic property re-polished later would keep the old padding.
_PILL = "border-radius: 4px; padding: 2px 8px;"
TONES = {
    "ok": "color: #24663b;",
    "dangerText": "color: #a4262c;",
    "muted": "color: #6b6478; font-size: 12px;",
    "count": "font-size: 16px; font-weight: 600; color: #3d3550;",
    "columnHead": "font-size: 12px; color: #6b6478;",
    "badge": f"color: #3d3550; background: #efe9fb; border: 1px solid #d8cdf3; {_PILL}",
    "okBadge": f"color: #24663b; background: #e6f4ea; border: 1px solid #b7dcc2; {_PILL}",
    "mutedBadge": f"color: #6b6478; background: #f1eff4; border: 1px solid #e0dce6; {_PILL}",
    "warning": f"color: #7a4d00; background: #fff4d6; border: 1px solid #f0d98c; {_PILL}",
    "danger": f"color: #a4262c; background: #fde7e9; border: 1px solid #f1b6bb; {_PILL}",
}
# What the desk's screens add to the shared style sheet (candidates for resources/style.qss).
TONE_STYLE = """
QWidget#stepCaption { background: transparent; }
QPushButton#primary:disabled { background: #c9c1de; color: #f7f5fb; }
"""


class PackageProgress(QFrame):
    """Draws one ``PackageSummary`` as of ``today``."""

    def __init__(self, summary: PackageSummary, today: dt.date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.setStyleSheet(TONE_STYLE)
        self._today = today
        self.summary = summary
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.setSpacing(10)
        top = QHBoxLayout()
        self.name = QLabel("")
        self.name.setObjectName("heading")
        self.expiry = QLabel("")
        self.expiry.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(self.name, 1)
        top.addWidget(self.expiry, 0, Qt.AlignmentFlag.AlignRight)
        layout.addLayout(top)
        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(16)
        self._grid.setVerticalSpacing(6)
        self._grid.setColumnStretch(1, 1)
        layout.addLayout(self._grid)
        layout.addLayout(_legend())
        self.counts: dict[int, tuple[QLabel, QLabel, QLabel]] = {}  # step position -> used, booked, remaining
        self.bars: dict[int, SessionsBar] = {}
        self.set_summary(summary)

    def set_summary(self, summary: PackageSummary, today: dt.date | None = None) -> None:
        """Show ``summary`` (and move "today" on, when given)."""
        self.summary = summary
        if today is not None:
            self._today = today
        status = (
            ""
            if summary.status is ClientPackageStatus.ACTIVE
            else f"  ·  {summary.status.value.capitalize()}"
        )
        self.name.setText(f"{summary.name}{status}")
        text, tone = expiry_text(summary, self._today)
        self.expiry.setText(text)
        set_tone(self.expiry, tone)
        self._fill_steps(summary.steps)

    @property
    def today(self) -> dt.date:
        return self._today

    def _fill_steps(self, steps: tuple[StepSummary, ...]) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            old = item.widget()
            if old is not None:
                old.deleteLater()
                old.setParent(None)  # gone from the widget at once, not at the next event loop turn
        self.counts, self.bars = {}, {}
        for column, caption in ((2, "Used"), (3, "Booked"), (4, "Remaining")):
            head = QLabel(caption)
            set_tone(head, "columnHead")
            head.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self._grid.addWidget(head, 0, column)
        for row, step in enumerate(steps, start=1):
            self._grid.addWidget(self._step_caption(step), row, 0)
            bar = SessionsBar(step.total, step.used, step.booked, step.remaining)
            self._grid.addWidget(bar, row, 1, Qt.AlignmentFlag.AlignVCenter)
            labels = []
            for column, value in ((2, step.used), (3, step.booked), (4, step.remaining)):
                label = QLabel(str(value))
                set_tone(label, "count")
                label.setAlignment(Qt.AlignmentFlag.AlignCenter)
                label.setMinimumWidth(72)
                self._grid.addWidget(label, row, column)
                labels.append(label)
            self.counts[step.position] = (labels[0], labels[1], labels[2])
            self.bars[step.position] = bar

    def _step_caption(self, step: StepSummary) -> QWidget:
        box = QWidget()
        box.setObjectName("stepCaption")
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        name = QLabel(f"{step.position}. {step.name}")
        column.addWidget(name)
        hint = _next_booking_hint(step, self._today, self.summary)
        if hint:
            note = QLabel(hint)
            set_tone(note, "muted")
            column.addWidget(note)
        box.setMinimumWidth(170)
        return box


class SessionsBar(QWidget):
    """A step's sessions as segments: used (dark), booked (light), remaining (open), refunded (grey)."""

    def __init__(
        self, total: int, used: int, booked: int, remaining: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.total, self.used, self.booked, self.remaining = total, used, booked, remaining
        self.closed = max(0, total - used - booked - remaining)
        self.setMinimumWidth(120)
        self.setFixedHeight(16)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        text = f"{used} used, {booked} booked, {remaining} remaining of {total}"
        self.setAccessibleName(text)
        self.setToolTip(text)

    def sizeHint(self) -> QSize:
        return QSize(240, 16)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: ARG002
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        kinds = (
            [USED] * self.used
            + [BOOKED] * self.booked
            + [REMAINING] * self.remaining
            + [CLOSED] * self.closed
        )
        area = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        if not kinds:
            painter.setPen(QPen(OUTLINE, 1))
            painter.setBrush(CLOSED)
            painter.drawRoundedRect(area, 4, 4)
            return
        gap = 3.0 if len(kinds) <= MAX_SEGMENTS else 0.0
        width = (area.width() - gap * (len(kinds) - 1)) / len(kinds)
        x = area.left()
        for colour in kinds:
            painter.setPen(QPen(OUTLINE if colour in (REMAINING, CLOSED) else colour, 1))
            painter.setBrush(colour)
            painter.drawRoundedRect(QRectF(x, area.top(), width, area.height()), 3, 3)
            x += width + gap


def expiry_text(summary: PackageSummary, today: dt.date) -> tuple[str, str]:
    """The expiry line and its tone: "Expires 24 Mar 2027" (ok), "… in 12 days" (warning), "Expired on …" (danger)."""
    days = (summary.expires_on - today).days
    when = fmt.date(summary.expires_on)
    if summary.status is not ClientPackageStatus.ACTIVE:
        return f"Valid until {when}", "muted"
    if days < 0:
        return f"Expired on {when}", "danger"
    if days == 0:
        return f"Expires today, {when}", "warning"
    if days <= EXPIRING_SOON_DAYS:
        return f"Expires {when} — in {days} day{'s' if days != 1 else ''}", "warning"
    return f"Expires {when}", "ok"


def _next_booking_hint(step: StepSummary, today: dt.date, summary: PackageSummary) -> str:
    if step.remaining <= 0 or summary.status is not ClientPackageStatus.ACTIVE or summary.expires_on < today:
        return ""
    if step.next_booking_on is None:
        return "Book the previous step first"
    if step.next_booking_on > today:
        return f"Next can be booked from {fmt.date(step.next_booking_on)}"
    return ""


def _legend() -> QHBoxLayout:
    row = QHBoxLayout()
    row.setSpacing(6)
    for colour, caption in ((USED, "Used"), (BOOKED, "Booked"), (REMAINING, "Remaining")):
        swatch = QLabel()
        swatch.setFixedSize(12, 12)
        swatch.setStyleSheet(
            f"background: {colour.name()}; border: 1px solid {OUTLINE.name()}; border-radius: 2px;"
        )
        label = QLabel(caption)
        set_tone(label, "muted")
        row.addWidget(swatch)
        row.addWidget(label)
        row.addSpacing(10)
    row.addStretch(1)
    return row


def set_tone(label: QLabel, tone: str) -> None:
    """Colour ``label`` by one of the TONES ("ok", "warning", "danger", "badge", "muted"…)."""
    label.setProperty("tone", tone)
    label.setStyleSheet(f"QLabel {{ {TONES[tone]} }}")
