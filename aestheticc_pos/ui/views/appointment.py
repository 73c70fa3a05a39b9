"""The appointment, as the practitioner sees it before treating: who, what, when, the sessions left on every
package covering the treatment, whether the booking respects the package's gaps (``appointment_facts.py``),
and the actions of the day (attend, check out, no-show, cancel). Cancelling and marking a no-show ask first,
in place, and say what happens to the package session under the clinic's policy.

Every service call runs through ``Desk.run``; a refusal is shown as the service's sentence.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.appointments import AppointmentStatus, NoShowPolicy, SessionOutcome
from aestheticc_pos.domain.staff import Action
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services.appointments import AppointmentDetail, Cancelled
from aestheticc_pos.services.deposits import DepositView
from aestheticc_pos.services.membership_views import MembershipView
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import CheckoutRequest, Desk
from aestheticc_pos.ui.models.appointments import STATUS_WORDS, time_span
from aestheticc_pos.ui.topics import APPOINTMENTS, PACKAGES, PAYMENTS, SYNC
from aestheticc_pos.ui.views.appointment_facts import AppointmentFacts, CoveringPackages
from aestheticc_pos.ui.widgets.package_progress import TONE_STYLE, set_tone

MAX_WIDTH = 960  # past this, a screen of facts reads worse, not better

_STATUS_TONES = {
    AppointmentStatus.BOOKED: "badge",
    AppointmentStatus.ATTENDED: "okBadge",
    AppointmentStatus.CANCELLED: "mutedBadge",
    AppointmentStatus.LATE_CANCELLED: "mutedBadge",
    AppointmentStatus.NO_SHOW: "warning",
}


class AppointmentView(QWidget):
    """``show_appointment(id)`` loads and shows one appointment; ``back`` asks to return to where it came from."""

    back = Signal()
    loaded = Signal(object)  # the AppointmentDetail now shown

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.detail: AppointmentDetail | None = None
        self.membership: MembershipView | None = None
        self.deposit: DepositView | None = None
        self._appointment_id: str | None = None
        self._pending: str | None = None  # the action awaiting "yes": "cancel" or "no_show"
        self._load_token = 0
        self.setStyleSheet(TONE_STYLE + "QPushButton#link { padding: 2px 0px; text-align: left; }")
        self._build()
        self._show_nothing()
        desk.changed.connect(self._on_changed)

    # --- public ------------------------------------------------------------------------------------------------

    @property
    def appointment_id(self) -> str | None:
        return self._appointment_id

    def show_appointment(self, appointment_id: str) -> None:
        """Load ``appointment_id`` in the background and show it (the previous one's notes are cleared)."""
        if appointment_id != self._appointment_id:
            self.result.clear()
            self.result.hide()
            self._hide_confirm()
        self._appointment_id = appointment_id
        self.error.clear()
        self._load()

    def refresh(self) -> None:
        if self._appointment_id is not None:
            self._load()

    # --- loading -----------------------------------------------------------------------------------------------

    def _load(self) -> None:
        self._load_token += 1
        token, appointment_id, services = self._load_token, self._appointment_id, self.desk.services
        assert appointment_id is not None

        def work() -> tuple[AppointmentDetail, MembershipView | None, DepositView | None]:
            screen = appointments_service.appointment_screen(services, appointment_id)  # one read
            return screen.detail, screen.membership, screen.deposit

        def done(result: tuple[AppointmentDetail, MembershipView | None, DepositView | None]) -> None:
            if token == self._load_token:
                detail, membership, deposit = result
                self._show_deposit(deposit)
                self._show(detail, membership)

        self.desk.run(work, done, self._show_error)

    def _on_changed(self, what: frozenset[str]) -> None:
        if (
            what & {APPOINTMENTS, PACKAGES, PAYMENTS, SYNC}
            and self._appointment_id is not None
            and self.isVisible()
        ):
            self._load()

    # --- what is shown -----------------------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(scroll)
        page = QWidget()
        scroll.setWidget(page)
        centre = QHBoxLayout(page)
        centre.setContentsMargins(32, 20, 32, 24)
        column = QWidget()
        column.setMaximumWidth(MAX_WIDTH)
        centre.addWidget(column, 1)
        centre.addStretch(0)
        layout = QVBoxLayout(column)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)

        self.back_button = QPushButton("← Back")
        self.back_button.setObjectName("link")
        self.back_button.setToolTip("Back (Esc)")
        self.back_button.clicked.connect(self.back)
        layout.addWidget(self.back_button, 0, Qt.AlignmentFlag.AlignLeft)

        heading = QHBoxLayout()
        self.title = QLabel("")
        self.title.setObjectName("title")
        self.status_badge = QLabel("")
        heading.addWidget(self.title)
        heading.addSpacing(12)
        heading.addWidget(self.status_badge, 0, Qt.AlignmentFlag.AlignVCenter)
        heading.addStretch(1)
        layout.addLayout(heading)
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("subtitle")
        layout.addWidget(self.subtitle)

        self.facts = AppointmentFacts()
        self.facts.open_client.connect(self._open_client)
        layout.addWidget(self.facts)
        self.packages = CoveringPackages()
        layout.addSpacing(4)
        layout.addWidget(self.packages)

        layout.addSpacing(6)
        layout.addLayout(self._actions())
        self.hint = QLabel("")
        set_tone(self.hint, "muted")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        layout.addWidget(self._confirm_card())
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.result.setObjectName("info")
        layout.addWidget(self.result)
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        layout.addStretch(1)

    def _actions(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(10)
        self.attend_button = QPushButton("Attend")
        self.attend_button.setObjectName("primary")
        self.attend_button.setToolTip(
            "The client was treated: record the visit and redeem the package session"
        )
        self.attend_button.clicked.connect(self.attend)
        self.checkout_button = QPushButton("Check out")
        self.checkout_button.clicked.connect(self.check_out)
        self.no_show_button = QPushButton("No-show")
        self.no_show_button.clicked.connect(lambda: self._ask("no_show"))
        self.cancel_button = QPushButton("Cancel appointment")
        self.cancel_button.clicked.connect(lambda: self._ask("cancel"))
        for button in (self.attend_button, self.checkout_button, self.no_show_button, self.cancel_button):
            button.setMinimumWidth(120)
            row.addWidget(button)
        row.addStretch(1)
        return row

    def _confirm_card(self) -> QFrame:
        self.confirm_card = QFrame()
        self.confirm_card.setObjectName("card")
        box = QVBoxLayout(self.confirm_card)
        box.setContentsMargins(18, 12, 18, 12)
        self.confirm_text = QLabel("")
        self.confirm_text.setWordWrap(True)
        buttons = QHBoxLayout()
        self.confirm_button = QPushButton("")
        self.confirm_button.setObjectName("primary")
        self.confirm_button.clicked.connect(self._confirmed)
        self.keep_button = QPushButton("Keep it")
        self.keep_button.clicked.connect(self._hide_confirm)
        buttons.addWidget(self.confirm_button)
        buttons.addWidget(self.keep_button)
        buttons.addStretch(1)
        box.addWidget(self.confirm_text)
        box.addLayout(buttons)
        self.confirm_card.hide()
        return self.confirm_card

    def _show_nothing(self) -> None:
        self.title.setText("Appointment")
        for widget in (self.attend_button, self.checkout_button, self.no_show_button, self.cancel_button):
            widget.setEnabled(False)

    def _show(self, detail: AppointmentDetail, membership: MembershipView | None) -> None:
        self.detail, self.membership = detail, membership
        a = detail.appointment
        tz = self.desk.settings.tz
        self.title.setText(a.treatment_name)
        self.status_badge.setText(STATUS_WORDS[a.status])
        set_tone(self.status_badge, _STATUS_TONES[a.status])
        day = a.starts_at.astimezone(tz).date()
        self.subtitle.setText(f"{fmt.long_date(day)}  ·  {time_span(a, tz)}  ·  {a.duration_minutes} min")
        self.facts.show_appointment(a, membership)
        self.packages.show_packages(detail, self._today())
        self._enable_actions(detail)
        self.loaded.emit(detail)

    def _show_deposit(self, deposit: DepositView | None) -> None:
        self.deposit = deposit
        self.facts.show_deposit(deposit)

    def _enable_actions(self, detail: AppointmentDetail) -> None:
        a = detail.appointment
        booked = a.status is AppointmentStatus.BOOKED
        now = self.desk.services.now()
        on_the_day = a.starts_at.astimezone(self.desk.settings.tz).date() == self._today()
        may_pay = self.desk.may(Action.TAKE_PAYMENTS)
        self.attend_button.setEnabled(booked and on_the_day and self.desk.may(Action.REDEEM_SESSIONS))
        self.checkout_button.setEnabled(
            a.status in (AppointmentStatus.BOOKED, AppointmentStatus.ATTENDED) and may_pay
        )
        self.no_show_button.setEnabled(
            booked and now >= a.starts_at and self.desk.may(Action.BOOK_APPOINTMENTS)
        )
        self.cancel_button.setEnabled(booked and self.desk.may(Action.BOOK_APPOINTMENTS))
        self.hint.setText(_hint(a, booked, on_the_day, now >= a.starts_at, may_pay))
        self.hint.setVisible(bool(self.hint.text()))

    def _show_error(self, sentence: str) -> None:
        self.error.setText(sentence)
        if self.detail is not None:
            self._enable_actions(self.detail)

    # --- actions -----------------------------------------------------------------------------------------------

    def attend(self) -> None:
        """Record the visit; the package session (if any) is redeemed and the new counts shown."""
        if self.detail is None:
            return
        services, staff_id, a = self.desk.services, self.desk.staff_id, self.detail.appointment
        self._busy()

        def done(detail: AppointmentDetail) -> None:
            redeemed = f" A session of {a.package_name} was used." if a.package_name else ""
            self._finished(detail, f"{a.client_name} attended {a.treatment_name}.{redeemed}")

        self.desk.run(
            lambda: appointments_service.attend_appointment(services, appointment_id=a.id, staff_id=staff_id),
            done,
            self._show_error,
        )

    def check_out(self) -> None:
        if self.detail is None:
            return
        a = self.detail.appointment
        if a.status is AppointmentStatus.ATTENDED and a.client_package_id is not None:
            # The package paid for the treatment at "Attend": checkout opens for anything else the client buys.
            self.desk.start_checkout.emit(CheckoutRequest(a.client_id))
            return
        self.desk.start_checkout.emit(CheckoutRequest(a.client_id, a.id, a.treatment_id))

    def _ask(self, action: str) -> None:
        if self.detail is None:
            return
        a = self.detail.appointment
        when = (
            f"{fmt.date(a.starts_at.astimezone(self.desk.settings.tz).date())} at "
            f"{fmt.time(a.starts_at, self.desk.settings.tz)}"
        )
        if action == "cancel":
            question = f"Cancel {a.client_name}'s {a.treatment_name} on {when}?"
            notice = a.starts_at - self.desk.services.now()
            if notice < dt.timedelta(hours=self.desk.settings.late_cancel_hours):
                question += (
                    f" It is less than {self.desk.settings.late_cancel_hours} hours away, so it counts as a "
                    f"late cancellation.{self._session_policy(a)}"
                )
            self.confirm_button.setText("Yes, cancel it")
        else:
            question = f"Mark {a.client_name} as a no-show for {a.treatment_name} on {when}?{self._session_policy(a)}"
            self.confirm_button.setText("Yes, mark as no-show")
        self._pending = action
        self.confirm_text.setText(question)
        self.confirm_card.show()
        self.keep_button.setFocus()

    def _session_policy(self, a: appointments_service.AppointmentView) -> str:
        if a.package_name is None:
            return ""
        if self.desk.settings.no_show_policy is NoShowPolicy.FORFEIT:
            return f" Under the clinic's policy the {a.package_name} session is used up."
        return f" Under the clinic's policy the {a.package_name} session is given back."

    def _confirmed(self) -> None:
        if self.detail is None or self._pending is None:
            return
        action, self._pending = self._pending, None
        self._hide_confirm()
        services, staff_id, appointment_id = (
            self.desk.services,
            self.desk.staff_id,
            self.detail.appointment.id,
        )
        change = (
            appointments_service.cancel_appointment
            if action == "cancel"
            else appointments_service.mark_no_show
        )
        self._busy()

        def work() -> tuple[Cancelled, AppointmentDetail]:
            cancelled = change(services, appointment_id=appointment_id, staff_id=staff_id)
            return cancelled, appointments_service.appointment_detail(services, appointment_id)

        def done(result: tuple[Cancelled, AppointmentDetail]) -> None:
            cancelled, detail = result
            self._finished(detail, _cancelled_sentence(cancelled), cancelled.warnings)

        self.desk.run(work, done, self._show_error)

    def _hide_confirm(self) -> None:
        self._pending = None
        self.confirm_card.hide()

    def _finished(self, detail: AppointmentDetail, sentence: str, warnings: tuple[str, ...] = ()) -> None:
        """An action's outcome: shown here while its appointment is still on screen, and on the message bar."""
        if detail.appointment.id == self._appointment_id:
            self._show(detail, self.membership)
            self._say(sentence, warnings)
        else:
            self.desk.message.emit(" ".join((sentence, *warnings)))

    def _busy(self) -> None:
        self._load_token += 1  # a load started before the action must not show the state before it
        self.error.clear()
        for button in (self.attend_button, self.checkout_button, self.no_show_button, self.cancel_button):
            button.setEnabled(False)

    def _say(self, sentence: str, warnings: tuple[str, ...] = ()) -> None:
        """A confirmation under the actions (and on the message bar); warnings about later bookings in red."""
        self.desk.message.emit(sentence)
        if warnings:
            lines = "\n".join(f"•  {w}" for w in warnings)
            self.result.setText(
                f"{sentence}\nLater bookings of this package that now break its minimum gaps: "
                f"move them.\n{lines}"
            )
            self.result.setObjectName("error")
        else:
            self.result.setText(sentence)
            self.result.setObjectName("info")
        self.result.style().unpolish(self.result)
        self.result.style().polish(self.result)
        self.result.show()

    def _open_client(self) -> None:
        if self.detail is not None:
            self.desk.open_client.emit(self.detail.appointment.client_id)

    def _today(self) -> dt.date:
        return self.desk.services.now().astimezone(self.desk.settings.tz).date()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            if self.confirm_card.isVisible():
                self._hide_confirm()
            else:
                self.back.emit()
            return
        super().keyPressEvent(event)


def _cancelled_sentence(cancelled: Cancelled) -> str:
    a = cancelled.appointment
    what = {
        AppointmentStatus.CANCELLED: "Cancelled",
        AppointmentStatus.LATE_CANCELLED: "Cancelled late",
        AppointmentStatus.NO_SHOW: "Marked as a no-show",
    }.get(a.status, STATUS_WORDS[a.status])
    sentence = f"{what}: {a.client_name}, {a.treatment_name}."
    if cancelled.session_outcome is SessionOutcome.RELEASE:
        sentence += f" The {a.package_name} session was given back."
    elif cancelled.session_outcome is SessionOutcome.FORFEIT:
        sentence += f" The {a.package_name} session is used up, under the clinic's policy."
    if cancelled.deposit:
        sentence += f" {cancelled.deposit}"
    return sentence


def _hint(
    a: appointments_service.AppointmentView, booked: bool, on_the_day: bool, started: bool, may_pay: bool
) -> str:
    """Why an action is not offered, in one line, when it is not obvious."""
    if not booked:
        return ""
    notes = []
    if not on_the_day:
        notes.append("Attend is available on the day of the appointment.")
    elif not started:
        notes.append("No-show is available once the appointment time has passed.")
    if not may_pay:
        notes.append("Reception takes payment at checkout.")
    return " ".join(notes)
