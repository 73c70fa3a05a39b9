"""Today: the day's appointments, one column per practitioner, each a card with time, client, treatment,
package badge and status. Move between days, open an appointment (click or Enter), book one (Ctrl+N).

Opening emits ``Desk.open_appointment``; the main window shows the appointment screen.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import (
    QDate,
    QEvent,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeySequence, QPainter, QPen, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.appointments import AppointmentStatus
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services.appointments import AppointmentView
from aestheticc_pos.services.staff import Role, StaffMember
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.dialogs.book_appointment import BookAppointmentDialog
from aestheticc_pos.ui.models.appointments import ENDED_WITHOUT_VISIT, BoardRole, DayBoardModel
from aestheticc_pos.ui.topics import APPOINTMENTS, STAFF

CARD_HEIGHT = 92


class TodayView(QWidget):
    """The day's appointments by practitioner; ``refresh()`` reloads the day shown (today at first)."""

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.day = self._today()
        self.booking_dialog: BookAppointmentDialog | None = None
        self._token = 0
        self.model = DayBoardModel(desk.settings.tz, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSpacing(12)
        layout.addLayout(self._heading())
        layout.addLayout(self._day_bar())
        self.pages = QStackedWidget()
        self.board = self._board()
        self.empty = QLabel("")
        self.empty.setObjectName("subtitle")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pages.addWidget(self.board)
        self.pages.addWidget(self.empty)
        layout.addWidget(self.pages, 1)
        self._shortcuts()
        desk.changed.connect(self._on_changed)
        self._show_day_heading()

    # --- public ------------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Load the shown day's practitioners and appointments in the background."""
        self._load()

    def show_day(self, day: dt.date) -> None:
        if day != self.day:
            self.day = day
            self._show_day_heading()
        self.refresh()

    def previous_day(self) -> None:
        self.show_day(self.day - dt.timedelta(days=1))

    def next_day(self) -> None:
        self.show_day(self.day + dt.timedelta(days=1))

    def go_to_today(self) -> None:
        self.show_day(self._today())

    def _apply_role(self) -> None:
        """Booking is the front desk's (a practitioner sees the day and opens appointments)."""
        self.book_button.setVisible(self.desk.may(Action.BOOK_APPOINTMENTS))

    def open_booking(self) -> BookAppointmentDialog | None:
        """Open the booking form for the shown day (and the practitioner whose column is current)."""
        if not self.desk.may(Action.BOOK_APPOINTMENTS):
            self.desk.message.emit("Only a manager or a receptionist can book appointments.")
            return None
        current = self.board.currentIndex()
        practitioner_id = self.model.practitioner_id(current.column()) if current.isValid() else None
        day = max(self.day, self._today())
        dialog = BookAppointmentDialog(self.desk, self, day=day, practitioner_id=practitioner_id)
        dialog.booked.connect(self._booked)
        dialog.finished.connect(dialog.deleteLater)
        self.booking_dialog = dialog
        dialog.open()
        return dialog

    def open_current(self) -> None:
        appointment_id = self.model.appointment_id(self.board.currentIndex())
        if appointment_id is not None:
            self.desk.open_appointment.emit(appointment_id)

    # --- building ----------------------------------------------------------------------------------------------

    def _heading(self) -> QHBoxLayout:
        row = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        self.title = QLabel("")
        self.title.setObjectName("title")
        self.summary = QLabel("")
        self.summary.setObjectName("subtitle")
        titles.addWidget(self.title)
        titles.addWidget(self.summary)
        row.addLayout(titles, 1)
        self.book_button = QPushButton("Book appointment")
        self.book_button.setObjectName("primary")
        self.book_button.setToolTip("Book an appointment (Ctrl+N)")
        self.book_button.clicked.connect(self.open_booking)
        row.addWidget(self.book_button, 0, Qt.AlignmentFlag.AlignTop)
        self.desk.staff_changed.connect(lambda _member: self._apply_role())
        self._apply_role()
        return row

    def _day_bar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        self.previous_button = QPushButton("‹  Previous day")
        self.previous_button.setToolTip("Previous day (Alt+Left)")
        self.previous_button.clicked.connect(self.previous_day)
        self.today_button = QPushButton("Today")
        self.today_button.setToolTip("Back to today (Alt+Home)")
        self.today_button.clicked.connect(self.go_to_today)
        self.next_button = QPushButton("Next day  ›")
        self.next_button.setToolTip("Next day (Alt+Right)")
        self.next_button.clicked.connect(self.next_day)
        self.date_picker = QDateEdit()
        self.date_picker.setLocale(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
        self.date_picker.setDisplayFormat("ddd d MMM yyyy")
        self.date_picker.setCalendarPopup(True)
        self.date_picker.setMinimumWidth(160)
        self.date_picker.setToolTip("Go to a date")
        self.date_picker.dateChanged.connect(self._picked)
        for widget in (self.previous_button, self.today_button, self.next_button, self.date_picker):
            row.addWidget(widget)
        row.addStretch(1)
        return row

    def _board(self) -> QTableView:
        board = QTableView()
        board.setModel(self.model)
        board.setItemDelegate(AppointmentCardDelegate(board))
        board.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        board.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        board.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        board.setShowGrid(False)
        board.setWordWrap(False)
        board.setMouseTracking(True)
        board.verticalHeader().hide()
        board.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        board.verticalHeader().setDefaultSectionSize(CARD_HEIGHT)
        board.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        board.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        board.horizontalHeader().setHighlightSections(False)
        board.setStyleSheet(
            "QTableView { background: #f7f5f2; border: none; selection-background-color: transparent; }"
        )
        board.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        board.clicked.connect(lambda _index: self.open_current())
        board.installEventFilter(self)
        board.setAccessibleName("Appointments by practitioner")
        return board

    def _shortcuts(self) -> None:
        # Window shortcuts: active while this screen is the one shown, whatever has the focus.
        for keys, slot in (
            ("Ctrl+N", self.open_booking),
            ("Alt+Left", self.previous_day),
            ("Alt+Right", self.next_day),
            ("Alt+Home", self.go_to_today),
        ):
            QShortcut(QKeySequence(keys), self, slot)

    # --- showing -----------------------------------------------------------------------------------------------

    def _show_day_heading(self) -> None:
        self.title.setText(fmt.long_date(self.day))
        self.date_picker.blockSignals(True)
        self.date_picker.setDate(QDate(self.day.year, self.day.month, self.day.day))
        self.date_picker.blockSignals(False)
        self.today_button.setEnabled(self.day != self._today())
        self.summary.setText(self._relative_day())

    def _show(self, team: list[StaffMember], appointments: list[AppointmentView]) -> None:
        selected = self.model.appointment_id(self.board.currentIndex())
        shown_columns = [m for m in team if m.role is Role.PRACTITIONER] or team
        self.model.set_day(shown_columns, appointments, self.desk.settings.tz)
        self.summary.setText(f"{self._relative_day()}  ·  {_count_sentence(appointments)}")
        if appointments:
            self.pages.setCurrentWidget(self.board)
        else:
            self.empty.setText(f"No appointments on {fmt.long_date(self.day)}.\nPress Ctrl+N to book one.")
            self.pages.setCurrentWidget(self.empty)
        if selected is not None:
            self.select(selected)

    def select(self, appointment_id: str) -> bool:
        index = self.model.index_of(appointment_id)
        if index.isValid():
            self.board.setCurrentIndex(index)
            self.board.scrollTo(index)
        return index.isValid()

    def _booked(self, appointment: AppointmentView) -> None:
        """Show the day of a new booking with it selected."""
        self.day = appointment.starts_at.astimezone(self.desk.settings.tz).date()
        self._show_day_heading()
        self._load(select=appointment.id)

    def _load(self, select: str | None = None) -> None:
        self._token += 1
        token, day, services = self._token, self.day, self.desk.services

        def work() -> tuple[list[StaffMember], list[AppointmentView]]:
            team = appointments_service.practitioners(services)
            return team, appointments_service.appointments_on(services, day, include_cancelled=True)

        def done(result: tuple[list[StaffMember], list[AppointmentView]]) -> None:
            if token == self._token:  # a later day was asked for meanwhile: that answer wins
                self._show(*result)
                if select is not None:
                    self.select(select)

        self.desk.run(work, done)

    def _relative_day(self) -> str:
        offset = (self.day - self._today()).days
        return {0: "Today", 1: "Tomorrow", -1: "Yesterday"}.get(
            offset, f"In {offset} days" if offset > 0 else f"{-offset} days ago"
        )

    def _picked(self, date: QDate) -> None:
        self.show_day(dt.date(date.year(), date.month(), date.day()))

    def _on_changed(self, what: frozenset[str]) -> None:
        if what & {APPOINTMENTS, STAFF}:
            self.refresh()

    def _today(self) -> dt.date:
        return self.desk.services.now().astimezone(self.desk.settings.tz).date()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.board
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):  # type: ignore[attr-defined]
            self.open_current()
            return True
        return super().eventFilter(watched, event)


def _count_sentence(appointments: list[AppointmentView]) -> str:
    """ "9 appointments: 2 attended · 1 cancelled"."""
    holding = [a for a in appointments if a.status not in ENDED_WITHOUT_VISIT]
    attended = sum(1 for a in holding if a.status is AppointmentStatus.ATTENDED)
    ended = len(appointments) - len(holding)
    text = f"{len(holding)} appointment{'s' if len(holding) != 1 else ''}"
    if attended:
        text += f", {attended} attended"
    if ended:
        text += f"  ·  {ended} cancelled or no-show"
    return text


class AppointmentCardDelegate(QStyledItemDelegate):
    """Paints a board cell as a card: time and client on the first line, the treatment under it, then the
    package badge and the status. Cancelled and no-show cards are faded."""

    ACCENTS = {
        AppointmentStatus.BOOKED: QColor("#5b4b8a"),
        AppointmentStatus.ATTENDED: QColor("#2e7d4f"),
        AppointmentStatus.CANCELLED: QColor("#b9b3c2"),
        AppointmentStatus.LATE_CANCELLED: QColor("#b9b3c2"),
        AppointmentStatus.NO_SHOW: QColor("#c58a1b"),
    }

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        appointment = index.data(BoardRole.APPOINTMENT)
        if appointment is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        faded = appointment.status in ENDED_WITHOUT_VISIT
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        card = option.rect.adjusted(6, 4, -6, -4)
        painter.setPen(QPen(QColor("#5b4b8a") if selected else QColor("#e4dfd8"), 2 if selected else 1))
        painter.setBrush(QColor("#f3f0fa") if selected or hovered else QColor("#ffffff"))
        painter.drawRoundedRect(card, 8, 8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.ACCENTS[appointment.status])
        painter.drawRoundedRect(QRect(card.left(), card.top(), 5, card.height()), 2, 2)

        text_colour = QColor("#9d97a8") if faded else QColor("#2b2b2b")
        muted = QColor("#9d97a8") if faded else QColor("#6b6478")
        inner = card.adjusted(16, 8, -12, -8)
        base = QFont(option.font)
        bold = QFont(base)
        bold.setWeight(QFont.Weight.DemiBold)
        small = QFont(base)
        if base.pixelSize() > 0:  # the style sheet sizes fonts in pixels
            small.setPixelSize(base.pixelSize() - 2)
        else:
            small.setPointSizeF(base.pointSizeF() - 1.5)
        line = QFontMetrics(base).height()

        time = index.data(BoardRole.TIME)
        painter.setFont(bold)
        painter.setPen(text_colour)
        time_width = QFontMetrics(bold).horizontalAdvance(time) + 12
        painter.drawText(QRect(inner.left(), inner.top(), time_width, line), Qt.AlignmentFlag.AlignLeft, time)
        client = QFontMetrics(bold).elidedText(
            index.data(BoardRole.CLIENT), Qt.TextElideMode.ElideRight, inner.width() - time_width
        )
        if faded:
            bold.setStrikeOut(appointment.status is not AppointmentStatus.NO_SHOW)
            painter.setFont(bold)
        painter.drawText(
            QRect(inner.left() + time_width, inner.top(), inner.width() - time_width, line),
            Qt.AlignmentFlag.AlignLeft,
            client,
        )

        painter.setFont(base)
        painter.setPen(muted if faded else text_colour)
        treatment = QFontMetrics(base).elidedText(
            index.data(BoardRole.TREATMENT), Qt.TextElideMode.ElideRight, inner.width()
        )
        painter.drawText(
            QRect(inner.left(), inner.top() + line + 2, inner.width(), line),
            Qt.AlignmentFlag.AlignLeft,
            treatment,
        )

        painter.setFont(small)
        small_metrics = QFontMetrics(small)
        third = inner.top() + 2 * line + 8
        status = index.data(BoardRole.STATUS)
        status_width = small_metrics.horizontalAdvance(status) + 4
        painter.setPen(self.ACCENTS[appointment.status] if not faded else muted)
        painter.drawText(
            QRect(inner.right() - status_width, third, status_width, small_metrics.height() + 4),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            status,
        )
        badge = index.data(BoardRole.BADGE)
        if badge:
            room = inner.width() - status_width - 28
            badge = small_metrics.elidedText(badge, Qt.TextElideMode.ElideRight, room)
            pill = QRect(
                inner.left(), third, small_metrics.horizontalAdvance(badge) + 16, small_metrics.height() + 4
            )
            painter.setPen(QPen(QColor("#d8cdf3"), 1))
            painter.setBrush(QColor("#efe9fb"))
            painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
            painter.setPen(muted if faded else QColor("#3d3550"))
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, badge)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(240, CARD_HEIGHT)
