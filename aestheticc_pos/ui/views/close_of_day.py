"""Close of day, for the front desk: the day's report as it prints (an X report while the day is open, its Z
report once closed), the visits still "booked" although their time has passed (each marked attended, no-show
or cancelled through the appointment services), and the drawer counted against what it should hold.

Closing writes the Z report (``services.close_of_day.close_day``); a closed day shows its Z and cannot be closed
again. Every sentence (a refusal, what was done) goes in a space kept for it, so nothing moves under the mouse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QDate, QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QDateEdit,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import close_of_day as close_service
from aestheticc_pos.services import inputs
from aestheticc_pos.services.close_of_day import DayReport, VisitToSettle
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.day_report import day_report_html, file_name, print_day_report, save_day_report_pdf
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.dialogs.folders import choose_save_path, remember
from aestheticc_pos.ui.forms import FORM_STYLE, Card, amount_edit, mark_invalid
from aestheticc_pos.ui.models.rows import Column, RowsModel, rows_table

DAY_REPORT_PDF = "folders/day_report_pdf"
ERROR_COLOUR, DONE_COLOUR, MUTED_COLOUR = "#a4262c", "#2e7d5b", "#6b6478"
LINE_HEIGHT = 20  # a line of the style sheet's 14 px text
FRONT_DESK_ONLY = "Only a manager or a receptionist can cash up and close the day."


class CloseOfDayView(QWidget):
    """``refresh()`` loads the report of the day chosen (today at first)."""

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.report: DayReport | None = None
        self.setStyleSheet(FORM_STYLE)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 20, 32, 16)
        layout.setSpacing(10)

        top = QHBoxLayout()
        title = QLabel("Close of day")
        title.setObjectName("title")
        top.addWidget(title)
        top.addSpacing(24)
        self.day = QDateEdit()
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("ddd d MMM yyyy")
        self.day.setMinimumWidth(170)
        self.day.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._wheel_guard = _WheelOnlyWithFocus(self)
        self.day.installEventFilter(self._wheel_guard)
        self.day.dateChanged.connect(lambda _d: self.refresh())
        top.addWidget(self.day)
        self.state = QLabel(" ")  # open, or closed with its Z number
        self.state.setObjectName("subtitle")
        top.addWidget(self.state, 1)
        layout.addLayout(top)

        columns = QHBoxLayout()
        columns.setSpacing(16)
        columns.addWidget(self._report_card())
        right = QVBoxLayout()
        right.setSpacing(12)
        right.addWidget(self._visits_card(), 1)
        right.addWidget(self._drawer_card())
        columns.addLayout(right, 1)
        layout.addLayout(columns, 1)

    # --- building ------------------------------------------------------------------------------------------

    def _report_card(self) -> QFrame:
        card = Card("Report")
        card.setFixedWidth(370)
        self.preview = QTextBrowser()
        self.preview.setStyleSheet("QTextBrowser { background: #ffffff; border: none; }")
        card.box.addWidget(self.preview, 1)
        buttons = QHBoxLayout()
        self.print_button = QPushButton("Print…")
        self.print_button.clicked.connect(self.print_report)
        self.pdf_button = QPushButton("Save as PDF…")
        self.pdf_button.clicked.connect(lambda: self.save_pdf())
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.pdf_button)
        buttons.addStretch(1)
        card.box.addLayout(buttons)
        self.report_status = _sentence_space(2)
        card.box.addWidget(self.report_status)
        return card

    def _visits_card(self) -> QFrame:
        card = Card("Visits still booked")
        self.visits_hint = QLabel(" ")
        self.visits_hint.setWordWrap(True)
        card.box.addWidget(self.visits_hint)
        tz = lambda: self.desk.settings.tz  # noqa: E731 - read when shown: the settings may change
        self.visits_model = RowsModel(
            (
                Column("When", lambda v: fmt.date_time(v.starts_at, tz())),
                Column("Client", lambda v: v.client_name),
                Column("Treatment", lambda v: v.treatment_name),
                Column("Practitioner", lambda v: v.practitioner_name),
            ),
            parent=self,
        )
        self.visits = rows_table(self.visits_model, stretch=2)
        self.visits.setMinimumHeight(110)
        self.visits.selectionModel().selectionChanged.connect(lambda *_: self._enable_settling())
        card.box.addWidget(self.visits, 1)
        row = QHBoxLayout()
        self.attended_button = QPushButton("Attended")
        self.attended_button.setToolTip("The client was treated: their package session is used")
        self.no_show_button = QPushButton("No-show")
        self.no_show_button.setToolTip("The client did not come: the clinic's no-show rule applies")
        self.cancelled_button = QPushButton("Cancelled")
        self.cancelled_button.setToolTip("The visit was called off: a late cancellation, as the rules say")
        for button, settle in (
            (self.attended_button, self._attend),
            (self.no_show_button, self._no_show),
            (self.cancelled_button, self._cancel),
        ):
            button.clicked.connect(lambda _=False, settle=settle: self.settle(settle))
            row.addWidget(button)
        row.addStretch(1)
        card.box.addLayout(row)
        self.visits_status = _sentence_space(2)
        card.box.addWidget(self.visits_status)
        self._enable_settling()
        return card

    def _drawer_card(self) -> QFrame:
        card = Card("Count the drawer")
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(6)
        self.opening_float = amount_edit("e.g. 100.00")
        self.counted = amount_edit("e.g. 452.30")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Needed when the count differs from what is expected")
        self.reason.setMaxLength(500)
        self.expected = QLabel(" ")
        self.difference = QLabel(" ")
        for field in (self.opening_float, self.counted):
            field.textEdited.connect(lambda _t: self._recount())
        self.reason.textEdited.connect(lambda _t: mark_invalid(self.reason, False))
        self.cash_taken = QLabel(" ")
        # Typed fields on the left, what follows from them on the right; the reason under both.
        cells: list[tuple[int, int, str, QWidget]] = [
            (0, 0, "Float at opening", self.opening_float),
            (0, 2, "Cash taken less paid back", self.cash_taken),
            (1, 0, "Cash counted", self.counted),
            (1, 2, "Expected in the drawer", self.expected),
            (2, 2, "Difference", self.difference),
        ]
        for row, column, caption, widget in cells:
            label = QLabel(caption)
            label.setBuddy(widget)
            grid.addWidget(label, row, column)
            grid.addWidget(widget, row, column + 1)
        reason_label = QLabel("Reason")
        reason_label.setBuddy(self.reason)
        grid.addWidget(reason_label, 3, 0)
        grid.addWidget(self.reason, 3, 1, 1, 3)
        grid.setColumnStretch(3, 1)
        card.box.addLayout(grid)
        line = QHBoxLayout()
        self.drawer_status = _sentence_space(2)
        line.addWidget(self.drawer_status, 1)
        self.close_button = QPushButton("Close the day")
        self.close_button.setObjectName("primary")
        self.close_button.setToolTip("Write the Z report: the day's figures and the drawer, kept as they are")
        self.close_button.clicked.connect(self.close_day)
        line.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        card.box.addLayout(line)
        return card

    # --- what the window calls -----------------------------------------------------------------------------

    def refresh(self) -> None:
        if not self.desk.may(Action.CASH_UP):
            self._say(self.drawer_status, FRONT_DESK_ONLY, ERROR_COLOUR)
            self.close_button.setEnabled(False)
            return
        today = self.desk.services.now().astimezone(self.desk.settings.tz).date()
        self.day.blockSignals(True)
        self.day.setMaximumDate(QDate(today))
        if self.report is None:
            self.day.setDate(QDate(today))
        self.day.blockSignals(False)
        day = self.chosen_day()
        services, staff_id = self.desk.services, self.desk.staff_id
        self.desk.run(
            lambda: close_service.day_report(services, day, staff_id),
            lambda report: self._show(day, report),
            lambda sentence: self._say(self.report_status, sentence, ERROR_COLOUR),
        )

    def chosen_day(self) -> dt.date:
        return self.day.date().toPython()  # type: ignore[no-any-return]

    # --- settling visits -----------------------------------------------------------------------------------

    def selected_visit(self) -> VisitToSettle | None:
        rows = self.visits.selectionModel().selectedRows()
        return self.visits_model.row(rows[0].row()) if rows else None

    def settle(self, how: Callable[[VisitToSettle], tuple[Callable[[], Any], str]]) -> None:
        """Mark the chosen visit through its appointment service, then reload the report."""
        visit = self.selected_visit()
        if visit is None:
            self._say(self.visits_status, "Choose a visit in the list first.", ERROR_COLOUR)
            return
        work, done = how(visit)
        self._settling(True)
        self.desk.run(work, lambda _r: self._settled(done), self._settle_refused)

    def _attend(self, visit: VisitToSettle) -> tuple[Callable[[], Any], str]:
        services, staff_id, aid = self.desk.services, self.desk.staff_id, visit.appointment_id
        work = lambda: appointments_service.attend_appointment(  # noqa: E731
            services, appointment_id=aid, staff_id=staff_id
        )
        return work, f"{visit.client_name}'s {visit.treatment_name} is marked attended."

    def _no_show(self, visit: VisitToSettle) -> tuple[Callable[[], Any], str]:
        services, staff_id, aid = self.desk.services, self.desk.staff_id, visit.appointment_id
        work = lambda: appointments_service.mark_no_show(  # noqa: E731
            services, appointment_id=aid, staff_id=staff_id
        )
        return work, f"{visit.client_name} is marked as a no-show for {visit.treatment_name}."

    def _cancel(self, visit: VisitToSettle) -> tuple[Callable[[], Any], str]:
        services, staff_id, aid = self.desk.services, self.desk.staff_id, visit.appointment_id
        work = lambda: appointments_service.cancel_appointment(  # noqa: E731
            services, appointment_id=aid, staff_id=staff_id
        )
        return work, f"{visit.client_name}'s {visit.treatment_name} is marked cancelled."

    def _settled(self, sentence: str) -> None:
        if not shiboken6.isValid(self):
            return
        self._settling(False)
        self._say(self.visits_status, sentence, DONE_COLOUR)
        self.refresh()

    def _settle_refused(self, sentence: str) -> None:
        if not shiboken6.isValid(self):
            return
        self._settling(False)
        self._say(self.visits_status, sentence, ERROR_COLOUR)

    def _settling(self, busy: bool) -> None:
        for button in (self.attended_button, self.no_show_button, self.cancelled_button):
            button.setEnabled(not busy and self.selected_visit() is not None)

    def _enable_settling(self) -> None:
        self._settling(False)

    # --- closing -------------------------------------------------------------------------------------------

    def close_day(self) -> None:
        """Count the drawer and close the day (the Z report); a refusal is said under the count."""
        if self.report is None or self.report.closure is not None or not self.close_button.isEnabled():
            return
        day = self.chosen_day()
        opening_float, counted, reason = self.opening_float.text(), self.counted.text(), self.reason.text()
        for field, what in ((self.opening_float, "The float"), (self.counted, "The cash counted")):
            try:
                inputs.money(field.text(), what=what, currency=self.desk.settings.currency)
            except InvalidInput as error:
                self._refuse(str(error), field)
                return
        services, staff_id = self.desk.services, self.desk.staff_id
        self.close_button.setEnabled(False)
        self.close_button.setText("Closing…")
        self.desk.run(
            lambda: close_service.close_day(
                services, day, opening_float=opening_float, counted=counted, reason=reason, staff_id=staff_id
            ),
            lambda report: self._closed(day, report),
            self._close_refused,
        )

    def _closed(self, day: dt.date, report: DayReport) -> None:
        if not shiboken6.isValid(self):
            return
        self.close_button.setText("Close the day")
        self._show(day, report)
        z = report.closure.z_number if report.closure else ""
        self.desk.message.emit(
            f"{fmt.date(day)} is closed: Z report {z} written. Print it or save it as a PDF."
        )

    def _close_refused(self, sentence: str) -> None:
        if not shiboken6.isValid(self):
            return
        self.close_button.setText("Close the day")
        self.close_button.setEnabled(True)
        self._refuse(sentence, self.reason if "say why" in sentence else None)

    def _refuse(self, sentence: str, field: QWidget | None) -> None:
        self._say(self.drawer_status, sentence, ERROR_COLOUR)
        if field is not None:
            mark_invalid(field, True)
            field.setFocus()

    # --- the report ----------------------------------------------------------------------------------------

    def print_report(self) -> None:
        if self.report is not None and print_day_report(
            self.report, self.desk.settings, self.desk.services.now(), self
        ):
            self._say(self.report_status, "Sent to the printer.", DONE_COLOUR)

    def save_pdf(self, path: str | Path | None = None) -> Path | None:
        """Save the report shown as a PDF (asks where when ``path`` is None). None when cancelled or refused."""
        report = self.report
        if report is None:
            return None
        if path is None:
            chosen = choose_save_path(
                self, DAY_REPORT_PDF, "Save the report as a PDF", file_name(report), "PDF (*.pdf)"
            )
            if chosen is None:
                return None
            path = chosen if chosen.suffix.lower() == ".pdf" else chosen.with_suffix(".pdf")
        try:
            saved = save_day_report_pdf(report, self.desk.settings, self.desk.services.now(), path)
        except OSError:
            self._say(
                self.report_status,
                f"The report could not be saved to {path}. Choose another folder.",
                ERROR_COLOUR,
            )
            return None
        remember(DAY_REPORT_PDF, saved.parent)
        self._say(self.report_status, f"Saved to {saved}.", DONE_COLOUR)
        return saved

    def _show(self, day: dt.date, report: DayReport) -> None:
        if not shiboken6.isValid(self) or day != self.chosen_day():
            return  # another day was chosen while this one loaded
        previous, self.report = self.report, report
        if previous is not None and (previous.day != day or previous.closure is not None):
            for field in (self.opening_float, self.counted, self.reason):
                field.clear()  # another day's count is not this one's
        settings = self.desk.settings
        self.preview.setHtml(day_report_html(report, settings, self.desk.services.now()))
        cash = report.takings.line(TenderKind.CASH).net
        self.cash_taken.setText(fmt.money(cash))
        visits = list(report.to_settle)
        self.visits_model.set_rows(visits)
        if visits:
            n = len(visits)
            self.visits_hint.setText(
                f"{n} visit{'s are' if n > 1 else ' is'} still booked although {'their' if n > 1 else 'its'} "
                "time has passed. Choose each and say what happened; the day closes once none is left."
            )
            self.visits.selectRow(0)
        else:
            self.visits_hint.setText("Every visit up to now is settled.")
        self._enable_settling()
        closure = report.closure
        for field in (self.opening_float, self.counted, self.reason):
            field.setReadOnly(closure is not None)
            mark_invalid(field, False)
        if closure is None:
            self.state.setText(f"Open: X report, the day so far, till {report.till_prefix}.")
            self.close_button.setEnabled(True)
            self.close_button.setText("Close the day")
            self._recount()
            self._say(self.drawer_status, " ", MUTED_COLOUR)
        else:
            count = closure.cash
            when = fmt.date_time(closure.closed_at, settings.tz)
            self.state.setText(f"Closed: Z report {closure.z_number}, {when} by {closure.staff_name}.")
            self.opening_float.setText(fmt.editable_amount(count.opening_float))
            self.counted.setText(fmt.editable_amount(count.counted))
            self.reason.setText(count.reason)
            self.expected.setText(fmt.money(count.expected))
            self.difference.setText(_difference_text(count.difference))
            self.close_button.setEnabled(False)
            self.close_button.setText("Day closed")
            self._say(
                self.drawer_status,
                "This day is closed and cannot be changed: a correction is a new document on a later day.",
                MUTED_COLOUR,
            )

    def _recount(self) -> None:
        """Expected and difference, as the float and the count are typed (nothing is saved until Close)."""
        mark_invalid(self.opening_float, False)
        mark_invalid(self.counted, False)
        if self.report is None or self.report.closure is not None:
            return
        currency = self.desk.settings.currency
        cash = self.report.takings.line(TenderKind.CASH).net
        opening = _amount(self.opening_float.text(), currency)
        counted = _amount(self.counted.text(), currency)
        if opening is None:
            self.expected.setText(f"The float plus {fmt.money(cash)}")
            self.difference.setText(" ")
            return
        expected = opening + cash
        self.expected.setText(fmt.money(expected))
        self.difference.setText(" " if counted is None else _difference_text(counted - expected))

    def _say(self, label: QLabel, sentence: str, colour: str) -> None:
        label.setStyleSheet(f"color: {colour};")
        label.setText(sentence)


def _difference_text(difference: Money) -> str:
    if not difference:
        return "None: the drawer is right"
    if difference.is_negative:
        return f"{fmt.money(-difference)} short"
    return f"{fmt.money(difference)} over"


def _amount(text: str, currency: str) -> Money | None:
    try:
        return inputs.money(text, currency=currency) if text.strip() else None
    except InvalidInput:
        return None


def _sentence_space(lines: int) -> QLabel:
    """A label for sentences with room for ``lines`` lines kept, so nothing below moves when one arrives."""
    label = QLabel(" ")
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    label.setFixedHeight(LINE_HEIGHT * lines + 4)
    return label


class _WheelOnlyWithFocus(QObject):
    """A wheel turned over the day that does not have focus never changes it."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()
            return True
        return False
