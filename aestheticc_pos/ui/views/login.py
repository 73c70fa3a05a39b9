"""Staff login: pick your name, type your PIN. The role decides what the desk offers."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.staff import StaffMember
from aestheticc_pos.ui.desk import Desk


class LoginView(QWidget):
    signed_in = Signal(object)  # StaffMember

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self._chosen: StaffMember | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(60, 40, 60, 40)
        self.title = QLabel("Who is signing in?")
        self.title.setObjectName("title")
        outer.addWidget(self.title)
        card = QFrame()
        card.setObjectName("card")
        card.setMaximumWidth(720)
        box = QVBoxLayout(card)
        self.people = QGridLayout()
        self.people.setSpacing(10)
        box.addLayout(self.people)
        self.prompt = QLabel("Choose your name.")
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText("PIN")
        self.pin.setMaxLength(8)
        self.pin.setEnabled(False)
        self.pin.returnPressed.connect(self._submit)
        self.sign_in_button = QPushButton("Sign in")
        self.sign_in_button.setObjectName("primary")
        self.sign_in_button.setEnabled(False)
        self.sign_in_button.clicked.connect(self._submit)
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        for widget in (self.prompt, self.pin, self.sign_in_button, self.error):
            box.addWidget(widget)
        outer.addWidget(card, alignment=Qt.AlignmentFlag.AlignLeft)
        outer.addStretch(1)
        self.buttons: dict[str, QPushButton] = {}

    def reload(self) -> None:
        self.pin.clear()
        self.error.clear()
        self.desk.run(lambda: staff_service.list_staff(self.desk.services), self._show_staff)

    def _show_staff(self, members: list[StaffMember]) -> None:
        while self.people.count():
            item = self.people.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.buttons = {}
        for index, member in enumerate(members):
            button = QPushButton(f"{member.name}\n{member.role.value.title()}")
            button.setObjectName("person")
            button.setMinimumHeight(56)
            button.clicked.connect(lambda _=False, m=member: self._choose(m))
            self.people.addWidget(button, index // 3, index % 3)
            self.buttons[member.name] = button

    def _choose(self, member: StaffMember) -> None:
        self._chosen = member
        self.prompt.setText(f"{member.name}, type your PIN and press Enter.")
        self.pin.setEnabled(True)
        self.sign_in_button.setEnabled(True)
        self.pin.clear()
        self.pin.setFocus()

    def _submit(self) -> None:
        if self._chosen is None or not self.pin.isEnabled():
            return
        staff_id, pin = self._chosen.id, self.pin.text()
        services = self.desk.services
        self.pin.clear()
        self.error.clear()
        self._checking(True)  # about a tenth of a second: one guess at a time, none typed ahead
        self.desk.run(lambda: staff_service.log_in(services, staff_id, pin), self._signed_in, self._refused)

    def _signed_in(self, member: StaffMember) -> None:
        self._checking(False)
        self.signed_in.emit(member)

    def _refused(self, message: str) -> None:
        """Show the refusal as the service wrote it: tries left, locked until when, or how long is left."""
        self._checking(False)
        self.error.setText(message)
        self.pin.setFocus()

    def _checking(self, busy: bool) -> None:
        self.pin.setEnabled(not busy)
        self.sign_in_button.setEnabled(not busy)
