"""Book an appointment: find the client as you type, choose treatment, practitioner, date and time, and book.

A package covering the treatment is used unless the receptionist unticks it; a refusal by the package's step
rules is shown with its sentence and a button that books the earliest date allowed instead, at the same time.
Nothing typed is lost on a refusal or an error. Keyboard first: Enter picks the highlighted client, then books.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, QLocale, Qt, QTime, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.catalogue import Treatment
from aestheticc_pos.domain.errors import BookingRefused
from aestheticc_pos.domain.packages import ClientPackageStatus, PackageSummary
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import catalogue as catalogue_service
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import deposits as deposits_service
from aestheticc_pos.services import packages as packages_service
from aestheticc_pos.services.appointments import Booked
from aestheticc_pos.services.clients import ClientSummary
from aestheticc_pos.services.deposits import DepositView
from aestheticc_pos.services.staff import StaffMember
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.models.appointments import package_badge
from aestheticc_pos.ui.widgets.client_finder import ClientFinder
from aestheticc_pos.ui.widgets.package_progress import TONE_STYLE, set_tone
from aestheticc_pos.ui.widgets.time_field import NOT_A_TIME, TimeField

ENGLISH = QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom)


class BookAppointmentDialog(QDialog):
    """Emits ``booked(AppointmentView)`` once booked, then closes. Open with ``open()`` (window-modal)."""

    booked = Signal(object)

    def __init__(
        self,
        desk: Desk,
        parent: QWidget | None = None,
        *,
        client_id: str | None = None,
        day: dt.date | None = None,
        practitioner_id: str | None = None,
        treatment_id: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.desk = desk
        self.refusal: BookingRefused | None = None
        self._packages: list[PackageSummary] = []
        self._wanted = {"practitioner": practitioner_id, "treatment": treatment_id}
        self.setWindowTitle("Book appointment")
        self.setMinimumWidth(620)
        self.setStyleSheet(TONE_STYLE)
        self._build(day or self._today())
        self._load_choices()
        if client_id is not None:
            self._load_client(client_id)

    # --- building ----------------------------------------------------------------------------------------------

    def _build(self, day: dt.date) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        title = QLabel("Book an appointment")
        title.setObjectName("heading")
        layout.addWidget(title)
        form = QFormLayout()
        form.setHorizontalSpacing(16)
        form.setVerticalSpacing(10)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.finder = ClientFinder(self.desk)
        self.finder.chosen.connect(self._client_chosen)
        self.finder.cleared.connect(self._client_cleared)
        self.finder.grew.connect(self._grow_to_fit)
        self.finder.failed.connect(self._show_error)
        form.addRow("Client", self.finder)

        self.treatment = QComboBox()
        self.treatment.setPlaceholderText("Choose a treatment")
        self.treatment.currentIndexChanged.connect(self._changed)
        self.practitioner = QComboBox()
        self.practitioner.setPlaceholderText("Choose a practitioner")
        self.practitioner.currentIndexChanged.connect(self._changed)
        form.addRow("Treatment", self.treatment)
        form.addRow("Practitioner", self.practitioner)

        self.day = QDateEdit(QDate(day.year, day.month, day.day))
        self.day.setLocale(ENGLISH)
        self.day.setDisplayFormat("ddd d MMM yyyy")
        self.day.setCalendarPopup(True)
        today = self._today()
        self.day.setMinimumDate(QDate(today.year, today.month, today.day))
        self.day.dateChanged.connect(self._changed)
        self.time = TimeField(self._default_time(day))  # "11:00" typed is 11:00
        self.time.setMaximumWidth(120)
        self.time.timeChanged.connect(self._changed)
        self.time.textEdited.connect(self._changed)
        when = QHBoxLayout()
        when.addWidget(self.day, 2)
        when.addWidget(self.time, 1)
        form.addRow("Date and time", when)

        self.use_package = QCheckBox("Use the client's package when one covers it")
        self.use_package.setChecked(True)
        self.use_package.toggled.connect(self._changed)
        self.package_hint = QLabel("")
        self.package_hint.setWordWrap(True)
        set_tone(self.package_hint, "muted")
        package_box = QVBoxLayout()
        package_box.setSpacing(2)
        package_box.addWidget(self.use_package)
        package_box.addWidget(self.package_hint)
        form.addRow("", package_box)
        self.notes = QLineEdit()
        self.notes.setPlaceholderText("Optional: anything the practitioner should know")
        form.addRow("Notes", self.notes)
        layout.addLayout(form)

        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.earliest_button = QPushButton("")
        self.earliest_button.clicked.connect(self.book_on_earliest)
        self.earliest_button.hide()
        layout.addWidget(self.earliest_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        self.book_button = QPushButton("Book appointment")
        self.book_button.setObjectName("primary")
        self.book_button.setToolTip("Book (Enter)")
        self.book_button.setDefault(True)
        self.book_button.clicked.connect(self.book)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.book_button)
        layout.addLayout(buttons)
        for first, second in (
            (self.finder.search, self.finder.results),
            (self.finder.results, self.treatment),
            (self.treatment, self.practitioner),
            (self.practitioner, self.day),
            (self.day, self.time),
            (self.time, self.use_package),
            (self.use_package, self.notes),
            (self.notes, self.book_button),
            (self.book_button, self.close_button),
        ):
            QWidget.setTabOrder(first, second)

    # --- choices -----------------------------------------------------------------------------------------------

    def _load_choices(self) -> None:
        services = self.desk.services

        def work() -> tuple[list[Treatment], list[StaffMember]]:
            return catalogue_service.list_treatments(services), appointments_service.practitioners(services)

        self.desk.run(work, lambda result: self._fill_choices(*result), self._show_error)

    def _fill_choices(self, treatments: list[Treatment], team: list[StaffMember]) -> None:
        for combo, items, wanted in (
            (
                self.treatment,
                [
                    (t.id, f"{t.name}  ·  {fmt.money(t.price)}  ·  {t.duration_minutes} min")
                    for t in treatments
                ],
                self._wanted["treatment"],
            ),
            (self.practitioner, [(m.id, m.name) for m in team], self._wanted["practitioner"]),
        ):
            combo.blockSignals(True)
            combo.clear()
            for item_id, text in items:
                combo.addItem(text, item_id)
            combo.setCurrentIndex(combo.findData(wanted) if wanted is not None else -1)
            combo.blockSignals(False)
        self._show_package_hint()

    def _load_client(self, client_id: str) -> None:
        services = self.desk.services

        def done(found: dict[str, ClientSummary]) -> None:
            if client_id in found:
                self.finder.choose(found[client_id])

        self.desk.run(lambda: clients_service.client_summaries(services, [client_id]), done, self._show_error)

    # --- the client --------------------------------------------------------------------------------------------

    @property
    def client(self) -> ClientSummary | None:
        return self.finder.client

    def _client_chosen(self, client: ClientSummary) -> None:
        self._clear_refusal()
        self.treatment.setFocus()
        services, client_id = self.desk.services, client.id

        def done(packages: list[PackageSummary]) -> None:
            if self.client is not None and self.client.id == client_id:
                self._packages = packages
                self._show_package_hint()

        self.desk.run(
            lambda: packages_service.client_packages_overview(services, client_id), done, self._show_error
        )

    def _client_cleared(self) -> None:
        self._packages = []
        self._clear_refusal()
        self._show_package_hint()

    # --- booking -----------------------------------------------------------------------------------------------

    def book(self) -> None:
        """Book what the form says; refusals and errors are shown here and keep everything typed."""
        missing = self._missing()
        if missing is not None:
            sentence, widget = missing
            self._show_error(sentence)
            widget.setFocus()
            return
        assert self.client is not None
        services, staff_id = self.desk.services, self.desk.staff_id
        client_id, treatment_id = self.client.id, self.treatment.currentData()
        practitioner_id, starts_at = self.practitioner.currentData(), self.starts_at()
        use_package, notes = self.use_package.isChecked(), self.notes.text()

        def work() -> tuple[Booked | BookingRefused, DepositView | None]:
            try:
                booked = appointments_service.book_appointment(
                    services,
                    client_id=client_id,
                    treatment_id=treatment_id,
                    practitioner_id=practitioner_id,
                    starts_at=starts_at,
                    staff_id=staff_id,
                    use_package=use_package,
                    notes=notes,
                )
            except BookingRefused as refusal:
                # returned, not raised: Desk.run would keep only its sentence, not its date
                return refusal, None
            if booked.deposit_id is None:
                return booked, None
            return booked, deposits_service.deposit_of_appointment(services, booked.appointment.id)

        self._busy(True)
        self.desk.run(work, self._done, self._failed)

    def book_on_earliest(self) -> None:
        """Book the date the package's rules allow, at the same time."""
        if self.refusal is None or self.refusal.earliest is None:
            return
        earliest = self.refusal.earliest
        self.day.setDate(QDate(earliest.year, earliest.month, earliest.day))
        self.book()

    def starts_at(self) -> dt.datetime:
        """The chosen date and time in the clinic's time zone (aware)."""
        date, time = self.day.date(), self.time.time()
        return dt.datetime(
            date.year(), date.month(), date.day(), time.hour(), time.minute(), tzinfo=self.desk.settings.tz
        )

    def _done(self, outcome: tuple[Booked | BookingRefused, DepositView | None]) -> None:
        result, deposit = outcome
        self._busy(False)
        if isinstance(result, BookingRefused):
            self._show_refusal(result)
            return
        a = result.appointment
        tz = self.desk.settings.tz
        badge = package_badge(a)
        sentence = (
            f"Booked {a.client_name} for {a.treatment_name} with {a.practitioner_name} on "
            f"{fmt.long_date(a.starts_at.astimezone(tz).date())} at {fmt.time(a.starts_at, tz)}"
            + (f", from {badge}." if badge else ".")
        )
        said = [sentence, *result.warnings]
        if deposit is not None:
            said.append(
                f"A deposit link of {fmt.money(deposit.amount)} is being prepared; it shows on the appointment."
            )
        self.desk.message.emit(" ".join(said))
        self.booked.emit(a)
        self.accept()

    def _failed(self, sentence: str) -> None:
        self._busy(False)
        self._show_error(sentence)

    def _show_refusal(self, refusal: BookingRefused) -> None:
        self.refusal = refusal
        self._show_error(str(refusal))
        if refusal.earliest is not None:
            self.earliest_button.setText(f"Book on {fmt.date(refusal.earliest)} instead")
            self.earliest_button.show()
            self.earliest_button.setFocus()
            self._grow_to_fit()

    def _missing(self) -> tuple[str, QWidget] | None:
        if self.client is None:
            return (
                "Choose the client: type part of their name, phone number or email, then pick them "
                "from the list."
            ), self.finder.search
        if self.treatment.currentIndex() < 0:
            return "Choose a treatment.", self.treatment
        if self.practitioner.currentIndex() < 0:
            return "Choose a practitioner.", self.practitioner
        if not self.time.is_valid():
            return NOT_A_TIME, self.time
        return None

    # --- small helpers -----------------------------------------------------------------------------------------

    def _changed(self, *_args: object) -> None:
        self._clear_refusal()
        self._show_package_hint()

    def _clear_refusal(self) -> None:
        self.refusal = None
        self.earliest_button.hide()
        self.error.hide()

    def _show_error(self, sentence: str) -> None:
        self.error.setText(sentence)
        self.error.show()
        self._grow_to_fit()

    def _grow_to_fit(self) -> None:
        """Grow (never shrink: the form must not jump) so wrapped sentences are never clipped."""
        layout = self.layout()
        layout.activate()
        wanted = (
            layout.heightForWidth(self.width()) if layout.hasHeightForWidth() else layout.sizeHint().height()
        )
        if wanted > self.height():
            self.resize(self.width(), wanted)

    def _busy(self, busy: bool) -> None:
        self.book_button.setEnabled(not busy)
        self.earliest_button.setEnabled(not busy)
        self.book_button.setText("Booking…" if busy else "Book appointment")

    def _show_package_hint(self) -> None:
        """Which package the booking would use, as far as the desk can tell before the service decides."""
        treatment_id = self.treatment.currentData()
        if self.client is None or treatment_id is None:
            self.package_hint.hide()
            return
        covering = [
            (summary, step)
            for summary in self._packages
            for step in summary.steps
            if step.treatment_id == treatment_id
            and summary.status is ClientPackageStatus.ACTIVE
            and not summary.expired
        ]
        usable = [(summary, step) for summary, step in covering if step.remaining > 0]
        if not covering:
            text = "No package of this client covers it: it is paid at checkout."
        elif not self.use_package.isChecked():
            text = f"Paid at checkout: {covering[0][0].name} will not be used."
        elif not usable:
            summary, step = covering[0]
            text = f"{summary.name} has no session of {step.name} left: it is paid at checkout."
        else:
            summary, step = usable[0]
            text = (
                f"Uses a session of {summary.name} (step {step.position} of {len(summary.steps)}): "
                f"{step.remaining} of {step.total} left, expires {fmt.date(summary.expires_on)}."
            )
        self.package_hint.setText(text)
        self.package_hint.show()
        self._grow_to_fit()

    def _today(self) -> dt.date:
        return self.desk.services.now().astimezone(self.desk.settings.tz).date()

    def _default_time(self, day: dt.date) -> QTime:
        """09:00, or on today the next quarter hour from now."""
        if day != self._today():
            return QTime(9, 0)
        now = self.desk.services.now().astimezone(self.desk.settings.tz)
        minutes = min((now.hour * 60 + now.minute) // 15 * 15 + 15, 23 * 60 + 45)
        return QTime(minutes // 60, minutes % 60)

    # --- keys --------------------------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter books wherever it is pressed (the finder keeps the Enter that picks a client; a focused button
        # keeps its own); QDialog would only press the default button.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.book()
            return
        super().keyPressEvent(event)
