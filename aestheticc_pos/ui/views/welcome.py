"""First start on an empty database: look around with the demo clinic, or set up the real clinic with its
manager and, optionally, the rest of the team (``welcome_team.py``): each person's starting PIN is typed or made
up, and those made up are shown once after the set-up."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.errors import DomainError, InvalidInput
from aestheticc_pos.domain.staff import Role, check_pin
from aestheticc_pos.services import clinic as clinic_service
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.context import Services
from aestheticc_pos.services.demo import DEMO_MANAGER_PIN, DEMO_PIN, fill_demo_clinic
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.views.welcome_team import Added, NewColleague, StartingPins, TeamRows

TIME_ZONES = ("Europe/London", "Europe/Dublin", "Europe/Paris", "Europe/Madrid", "Europe/Berlin")


class WelcomeView(QWidget):
    """Emits ``ready`` once the database holds a clinic (demo or real)."""

    ready = Signal()

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        outer = QVBoxLayout(self)
        outer.setContentsMargins(60, 40, 60, 40)
        title = QLabel("Welcome to Aestheticc POS")
        title.setObjectName("title")
        self.intro = QLabel(
            "This till has no clinic yet. Look around with a demo clinic, or set up your own."
        )
        self.intro.setObjectName("subtitle")
        outer.addWidget(title)
        outer.addWidget(self.intro)
        self.cards = QWidget()
        row = QHBoxLayout(self.cards)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(24)
        row.addWidget(self._demo_card(), 1)
        row.addWidget(self._setup_card(), 2)
        outer.addWidget(self.cards)
        self.pins = StartingPins()
        self.pins.done.connect(self._pins_seen)
        self.pins.hide()
        outer.addWidget(self.pins)
        self.status = QLabel("")
        self.status.setObjectName("error")
        self.status.setWordWrap(True)
        outer.addWidget(self.status)
        outer.addStretch(1)

    def _demo_card(self) -> QFrame:
        card = QFrame()
        card.setObjectName("card")
        box = QVBoxLayout(card)
        heading = QLabel("Try the demo clinic")
        heading.setObjectName("heading")
        text = QLabel(
            "A clinic with practitioners, a treatment menu, the Botox starter and Microneedling packages, "
            "Silver, Gold and Platinum memberships and a few hundred clients. "
            f"The manager's PIN is {DEMO_MANAGER_PIN}, everyone else's {DEMO_PIN}."
        )
        text.setWordWrap(True)
        self.demo_button = QPushButton("Open the demo clinic")
        self.demo_button.setObjectName("primary")
        self.demo_button.clicked.connect(self._fill_demo)
        box.addWidget(heading)
        box.addWidget(text)
        box.addStretch(1)
        box.addWidget(self.demo_button)
        return card

    def _setup_card(self) -> QFrame:
        card = QFrame()
        card.setObjectName("card")
        box = QVBoxLayout(card)
        heading = QLabel("Set up your clinic")
        heading.setObjectName("heading")
        box.addWidget(heading)
        form = QFormLayout()
        self.name = QLineEdit()
        self.address = QPlainTextEdit()
        self.address.setFixedHeight(60)
        self.vat_number = QLineEdit()
        self.time_zone = QComboBox()
        self.time_zone.addItems(TIME_ZONES)
        self.manager_name = QLineEdit()
        self.manager_pin = QLineEdit()
        self.manager_pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.manager_pin.setPlaceholderText("6 to 8 digits")
        self.manager_pin.setMaxLength(8)
        form.addRow("Clinic name", self.name)
        form.addRow("Address", self.address)
        form.addRow("VAT number", self.vat_number)
        form.addRow("Time zone", self.time_zone)
        form.addRow("Your name (manager)", self.manager_name)
        form.addRow("Your PIN", self.manager_pin)
        box.addLayout(form)
        self.team = TeamRows()
        box.addWidget(self.team)
        self.setup_button = QPushButton("Set up the clinic")
        self.setup_button.setObjectName("primary")
        self.setup_button.clicked.connect(self._set_up)
        box.addWidget(self.setup_button, alignment=Qt.AlignmentFlag.AlignRight)
        return card

    def _busy(self, text: str) -> None:
        self._tone("info")  # work under way is not an error
        self.status.setText(text)
        self.demo_button.setEnabled(False)
        self.setup_button.setEnabled(False)

    def _failed(self, message: str) -> None:
        self._tone("error")
        self.status.setText(message)
        self.demo_button.setEnabled(True)
        self.setup_button.setEnabled(True)

    def _tone(self, name: str) -> None:
        self.status.setObjectName(name)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)

    def _fill_demo(self) -> None:
        self._busy("Preparing the demo clinic… this takes a few seconds.")
        services = self.desk.services
        self.desk.run(lambda: fill_demo_clinic(services), lambda _summary: self.ready.emit(), self._failed)

    def _set_up(self) -> None:
        try:  # a manager's PIN is 6 to 8 digits: said at once, before anything is written
            check_pin(self.manager_pin.text(), Role.MANAGER)
            people = self.team.people()  # the team too: nothing is written while a row is wrong
        except InvalidInput as refusal:
            self._failed(str(refusal))
            return
        services = self.desk.services
        values = dict(
            name=self.name.text(),
            address=self.address.toPlainText(),
            vat_number=self.vat_number.text(),
            time_zone=self.time_zone.currentText(),
            manager_name=self.manager_name.text(),
            manager_pin=self.manager_pin.text(),
        )
        self._busy("Setting up the clinic…")
        self.desk.run(lambda: _set_up_clinic(services, values, people), self._set_up_done, self._failed)

    def _set_up_done(self, added: list[Added]) -> None:
        if not any(a.person.made_up or a.refusal for a in added):
            self.ready.emit()
            return
        self.cards.hide()
        self.status.setText("")
        self.intro.setText(f"{self.name.text().strip()} is set up. One more thing before signing in:")
        self.pins.show_added(added)
        self.pins.show()

    def _pins_seen(self) -> None:
        self.pins.forget()
        self.pins.hide()
        self.ready.emit()


def _set_up_clinic(services: Services, values: dict[str, str], people: list[NewColleague]) -> list[Added]:
    """The clinic and its manager, then each member of the team (one refused is reported, the rest added)."""
    manager = clinic_service.set_up_clinic(services, **values)
    added = []
    for person in people:
        try:
            staff_service.add_staff(
                services, name=person.name, role=person.role, pin=person.pin, by_staff_id=manager.id
            )
        except DomainError as refusal:
            added.append(Added(person, str(refusal)))
        else:
            added.append(Added(person))
    return added
