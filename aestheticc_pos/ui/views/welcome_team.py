"""First-run set-up's team: the practitioners (and receptionists) who will sign in, each with a starting PIN.

``TeamRows`` holds a row per person (name, role, PIN). A PIN left empty is made up here and shown once on
``StartingPins`` after the set-up, for the manager to hand over; a person can be given a new one from Staff
later. Everything typed is checked before anything is written (``people``), so a set-up never stops halfway.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.domain.staff import Role, check_pin
from aestheticc_pos.ui.forms import FORM_STYLE

MAX_PEOPLE = 20
FIRST_ROWS = 3
ROLES = ((Role.PRACTITIONER, "Practitioner"), (Role.RECEPTIONIST, "Receptionist"))


@dataclass(frozen=True, slots=True)
class NewColleague:
    name: str
    role: Role
    pin: str
    made_up: bool  # the PIN was made up here: it is shown once, to hand over


@dataclass(frozen=True, slots=True)
class Added:
    """What the set-up did for one person: added with their PIN, or not (``refusal`` says why)."""

    person: NewColleague
    refusal: str = ""


def starting_pin() -> str:
    """A random 4-digit PIN (not all one digit, not a run like 1234)."""
    while True:
        pin = f"{secrets.randbelow(10_000):04d}"
        if len(set(pin)) > 1 and pin not in "01234567890" and pin not in "09876543210":
            return pin


class TeamRows(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setStyleSheet(FORM_STYLE)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        caption = QLabel("Your team (optional): who else signs in at this till")
        caption.setObjectName("section")
        hint = QLabel(
            "Leave a PIN empty and the till makes one up, shown once after the set-up to hand over."
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        holder = QWidget()
        self.grid = QGridLayout(holder)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(8)
        self.grid.setVerticalSpacing(4)
        for col, text in enumerate(("Name", "Role", "PIN")):
            label = QLabel(text)
            label.setObjectName("hint")
            self.grid.addWidget(label, 0, col)
        self.grid.setColumnStretch(0, 1)
        self.rows: list[tuple[QLineEdit, QComboBox, QLineEdit]] = []
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setStyleSheet(
            "QScrollArea, QScrollArea > QWidget > QWidget#qt_scrollarea_viewport { background: transparent; }"
        )
        self.scroll.setWidget(holder)
        self.scroll.setFixedHeight(132)
        self.add_button = QPushButton("Add another person")
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self.add_row)
        column.addWidget(caption)
        column.addWidget(hint)
        column.addWidget(self.scroll)
        column.addWidget(self.add_button, alignment=Qt.AlignmentFlag.AlignLeft)
        for _ in range(FIRST_ROWS):
            self.add_row()

    def add_row(self) -> tuple[QLineEdit, QComboBox, QLineEdit] | None:
        if len(self.rows) >= MAX_PEOPLE:
            return None
        name = QLineEdit()
        name.setPlaceholderText("e.g. Dr Priya Patel")
        role = QComboBox()
        role.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        for value, caption in ROLES:
            role.addItem(caption, value.value)
        pin = QLineEdit()
        pin.setEchoMode(QLineEdit.EchoMode.Password)
        pin.setMaxLength(8)
        pin.setPlaceholderText("Optional")
        pin.setFixedWidth(120)
        row = len(self.rows) + 1
        self.grid.addWidget(name, row, 0)
        self.grid.addWidget(role, row, 1)
        self.grid.addWidget(pin, row, 2)
        self.rows.append((name, role, pin))
        self.add_button.setEnabled(len(self.rows) < MAX_PEOPLE)
        if row > FIRST_ROWS:
            name.setFocus()
            self.scroll.ensureWidgetVisible(name)
        return name, role, pin

    def people(self) -> list[NewColleague]:
        """Everyone named, with their PIN (made up where none was typed). ``InvalidInput`` names the first row
        that is wrong, and nothing is written."""
        people = []
        for number, (name_edit, role_combo, pin_edit) in enumerate(self.rows, start=1):
            name = " ".join(name_edit.text().split())
            pin = pin_edit.text().strip()
            if not name:
                if pin:
                    raise InvalidInput(f"Row {number} of your team has a PIN but no name. Type the name.")
                continue
            if len(name) > 120:
                raise InvalidInput(f"{name[:30]}…: a name is 120 characters at most.")
            role = Role(role_combo.currentData())
            if pin:
                try:
                    check_pin(pin, role)
                except InvalidInput as refusal:
                    raise InvalidInput(f"{name}: {refusal}") from None
            people.append(NewColleague(name, role, pin or starting_pin(), made_up=not pin))
        return people


class StartingPins(QFrame):
    """After the set-up: each person's starting PIN, shown this once, then "Continue to sign in"."""

    done = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("card")
        column = QVBoxLayout(self)
        column.setContentsMargins(24, 20, 24, 20)
        column.setSpacing(10)
        heading = QLabel("Your team's starting PINs")
        heading.setObjectName("heading")
        note = QLabel(
            "These are shown this once: hand each person theirs, or write them down. A manager can give anyone "
            "a new PIN from the Staff screen."
        )
        note.setWordWrap(True)
        self.table = QLabel("")
        self.table.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems = QLabel("")
        self.problems.setObjectName("error")
        self.problems.setWordWrap(True)
        self.continue_button = QPushButton("Continue to sign in")
        self.continue_button.setObjectName("primary")
        self.continue_button.setDefault(True)
        self.continue_button.clicked.connect(self.done)
        column.addWidget(heading)
        column.addWidget(note)
        column.addWidget(self.table)
        column.addWidget(self.problems)
        column.addStretch(1)
        column.addWidget(self.continue_button, alignment=Qt.AlignmentFlag.AlignRight)

    def show_added(self, added: list[Added]) -> None:
        rows = "".join(
            f"<tr><td>{_escape(a.person.name)}</td><td>{a.person.role.value.capitalize()}</td>"
            f"<td><b>{a.person.pin}</b></td></tr>"
            for a in added
            if not a.refusal and a.person.made_up
        )
        self.table.setText(
            f'<table cellspacing="0" cellpadding="4"><tr><th align="left">Name</th><th align="left">Role</th>'
            f'<th align="left">Starting PIN</th></tr>{rows}</table>'
            if rows
            else ""
        )
        refused = [f"{a.person.name}: {a.refusal}" for a in added if a.refusal]
        self.problems.setText(
            ("Not added (add them from the Staff screen): " + " ".join(refused)) if refused else ""
        )
        self.continue_button.setFocus()

    def forget(self) -> None:
        """Nothing of the PINs stays on screen once the manager moves on."""
        self.table.setText("")
        self.problems.setText("")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
