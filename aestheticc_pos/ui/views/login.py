"""Staff login: pick your name, type your PIN. The role decides what the desk offers.

Someone whose PIN a manager reset chooses a new one here, typed twice (``services.team.choose_new_pin``), and is
signed in with it. The screen keeps nothing of the last person: ``reset`` clears the name chosen, the PINs and
every sentence, and the main window calls it at each sign-out. The second PIN field keeps its space while
hidden, so the Sign in button never moves.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from aestheticc_pos.domain.staff import Role
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services import team as team_service
from aestheticc_pos.services.staff import PIN_WAS_RESET, StaffMember
from aestheticc_pos.ui.desk import Desk

CHOOSE_NAME = "Choose your name."
NOT_THE_SAME = "The two PINs are not the same. Type your new PIN twice again."


class LoginView(QWidget):
    signed_in = Signal(object)  # StaffMember

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self._chosen: StaffMember | None = None
        self.choosing_pin = False  # the chosen person sets a new PIN (a manager reset theirs)
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
        self.prompt = QLabel(CHOOSE_NAME)
        self.prompt.setWordWrap(True)
        self.prompt.setMinimumHeight(44)  # two lines kept: a longer prompt moves nothing under it
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText("PIN")
        self.pin.setMaxLength(8)
        self.pin.returnPressed.connect(self._pin_entered)
        self.confirm = QLineEdit()
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm.setPlaceholderText("The new PIN again")
        self.confirm.setMaxLength(8)
        self.confirm.returnPressed.connect(self._submit)
        policy = self.confirm.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.confirm.setSizePolicy(policy)
        self.sign_in_button = QPushButton("Sign in")
        self.sign_in_button.setObjectName("primary")
        self.sign_in_button.clicked.connect(self._submit)
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        for widget in (self.prompt, self.pin, self.confirm, self.sign_in_button, self.error):
            box.addWidget(widget)
        outer.addWidget(card, alignment=Qt.AlignmentFlag.AlignLeft)
        outer.addStretch(1)
        self.buttons: dict[str, QPushButton] = {}
        self.reset()

    def reload(self) -> None:
        """Start afresh (nobody chosen, nothing typed or said) and load who may sign in."""
        self.reset()
        self.desk.run(lambda: staff_service.list_staff(self.desk.services), self._show_staff)

    def reset(self) -> None:
        """Forget the person chosen, what was typed and every sentence."""
        self._chosen = None
        self.choosing_pin = False
        self.prompt.setText(CHOOSE_NAME)
        for field in (self.pin, self.confirm):
            field.clear()
            field.setEnabled(False)
        self.pin.setPlaceholderText("PIN")
        self.confirm.hide()
        self.sign_in_button.setText("Sign in")
        self.sign_in_button.setEnabled(False)
        self.error.clear()

    def _show_staff(self, members: list[StaffMember]) -> None:
        while self.people.count():
            item = self.people.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.buttons = {}
        for index, member in enumerate(members):
            role = member.role.value.title()
            button = QPushButton(
                f"{member.name}\n{role} · new PIN to choose" if member.pin_reset else f"{member.name}\n{role}"
            )
            button.setObjectName("person")
            button.setMinimumHeight(56)
            button.clicked.connect(lambda _=False, m=member: self._choose(m))
            self.people.addWidget(button, index // 3, index % 3)
            self.buttons[member.name] = button

    def _choose(self, member: StaffMember) -> None:
        self.reset()
        self._chosen = member
        if member.pin_reset:
            self._ask_for_new_pin(member)
            return
        self.prompt.setText(f"{member.name}, type your PIN and press Enter.")
        self.pin.setEnabled(True)
        self.sign_in_button.setEnabled(True)
        self.pin.setFocus()

    def _ask_for_new_pin(self, member: StaffMember) -> None:
        digits = "6 to 8" if member.role is Role.MANAGER else "4 to 8"
        self.choosing_pin = True
        self.prompt.setText(
            f"{member.name}, a manager reset your PIN. Choose a new one ({digits} digits), "
            "type it twice and press Enter."
        )
        self.pin.setPlaceholderText("Your new PIN")
        self.confirm.show()
        for field in (self.pin, self.confirm):
            field.clear()
            field.setEnabled(True)
        self.sign_in_button.setText("Save my PIN and sign in")
        self.sign_in_button.setEnabled(True)
        self.pin.setFocus()

    def _pin_entered(self) -> None:
        if self.choosing_pin and not self.confirm.text():
            self.confirm.setFocus()
            return
        self._submit()

    def _submit(self) -> None:
        if self._chosen is None or not self.pin.isEnabled():
            return
        staff_id, pin, again = self._chosen.id, self.pin.text(), self.confirm.text()
        services = self.desk.services
        self.pin.clear()
        self.confirm.clear()
        self.error.clear()
        if self.choosing_pin:
            if pin != again:
                self._refused(NOT_THE_SAME)
                return
            self._checking(True)
            self.desk.run(
                lambda: team_service.choose_new_pin(services, staff_id, pin), self._signed_in, self._refused
            )
            return
        self._checking(True)  # about a tenth of a second: one guess at a time, none typed ahead
        self.desk.run(lambda: staff_service.log_in(services, staff_id, pin), self._signed_in, self._refused)

    def _signed_in(self, member: StaffMember) -> None:
        self._checking(False)
        self.reset()
        self.signed_in.emit(member)

    def _refused(self, message: str) -> None:
        """Show the refusal as the service wrote it: tries left, locked until when, or how long is left. A PIN
        reset since the list was shown turns the screen into choosing a new one."""
        self._checking(False)
        if message == PIN_WAS_RESET and self._chosen is not None and not self.choosing_pin:
            self._ask_for_new_pin(self._chosen)
        self.error.setText(message)
        self.pin.setFocus()

    def _checking(self, busy: bool) -> None:
        self.pin.setEnabled(not busy)
        self.confirm.setEnabled(not busy)
        self.sign_in_button.setEnabled(not busy)
