"""Add or edit a package: its price, how long it is valid, and its ordered steps with their delays.

    PackageForm(desk, treatments)            # a new package; ``treatments``: the catalogue's, for the steps
    PackageForm(desk, treatments, package)   # edit that one

``StepsEditor`` is the steps as rows (treatment, sessions, days after the previous step, days between
sessions), each movable up and down, with the sessions and their list price summed underneath.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.catalogue import MAX_SESSIONS, MAX_VALIDITY_DAYS, Package, PackageStep, Treatment
from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.services import catalogue, inputs
from aestheticc_pos.services.catalogue_items import StepInput
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.forms import (
    Call,
    FormDialog,
    amount_edit,
    number_field,
    save_call,
    select,
    vat_combo,
    vat_of,
)
from aestheticc_pos.ui.widgets.wheel import calm_wheels


class PackageForm(FormDialog):
    """``treatments``: the catalogue's treatments (inactive ones are offered only where a step has them)."""

    field_aliases = {"validity": "validity_days", "sessions": "steps", "delay": "steps"}

    def __init__(
        self,
        desk: Desk,
        treatments: Sequence[Treatment],
        package: Package | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            desk,
            title=f"Edit {package.name}" if package else "New package",
            save_text="Save changes" if package else "Add package",
            parent=parent,
        )
        self.setMinimumWidth(940)
        self.item = package
        self.name = QLineEdit()
        self.description = QPlainTextEdit()
        self.description.setFixedHeight(64)
        self.description.setTabChangesFocus(True)
        self.description.setPlaceholderText("What the client gets, in a sentence or two")
        self.price = amount_edit()
        self.vat_rate = vat_combo()
        self.validity = number_field(0, MAX_VALIDITY_DAYS, 200, " days")  # 0 stays 0, to be refused
        self.validity.setValue(365)
        self.active = QCheckBox("Offered for sale and on the booking portal")
        self.active.setChecked(True)
        in_package = {s.treatment_id for s in package.steps} if package else set()
        self.steps = StepsEditor([t for t in treatments if t.active or t.id in in_package])

        self.add_field("name", "Name", self.name)
        self.add_field("description", "Description", self.description)
        self.add_field("price", "Price (incl. VAT)", self.price)
        self.add_field("vat_rate", "VAT", self.vat_rate)
        self.add_field(
            "validity_days", "Valid for", self.validity, hint="Counted from the day the client buys it."
        )
        self.add_field("active", "", self.active)
        self.add_section("steps", "Steps, in the order they are booked", self.steps)
        self.finish_layout()
        self.steps.changed.connect(lambda: self._clear_error("steps"))
        if package is not None:
            self.name.setText(package.name)
            self.description.setPlainText(package.description)
            self.price.setText(fmt.editable_amount(package.price))
            select(self.vat_rate, vat_of(package.vat_rate_bp))
            self.validity.setValue(package.validity_days)
            self.active.setChecked(package.active)
            self.steps.set_steps(package.steps)
        self.name.setFocus()

    def prepare(self) -> Call:
        values = dict(  # the service checks every field at once (a validity of 0 days is refused there)
            name=self.name.text(),
            description=self.description.toPlainText(),
            price=self.price.text(),
            vat_rate=self.vat_rate.currentData(),
            validity_days=self.validity.value(),
            steps=self.steps.steps(),
            active=self.active.isChecked(),
        )
        return save_call(self.desk, catalogue.add_package, catalogue.edit_package, self.item, values)

    def question(self) -> str | None:
        """A package at £0 is asked about: its sessions would be given away."""
        try:
            price = inputs.money(self.price.text(), currency=self.desk.settings.currency)
        except InvalidInput:
            return None  # not an amount: the service says so
        if price.pence:
            return None
        sessions = sum(int(step.sessions) for step in self.steps.steps())
        given = f"its {sessions} session{'s' if sessions != 1 else ''}" if sessions else "it"
        return (
            f"The price is {fmt.money(price)}: clients would get {given} for nothing. "
            f"Save it at {fmt.money(price)}, or go back and type the price?"
        )

    def saved_message(self, result: Package) -> str:
        return f"{result.name} saved." if self.item else f"{result.name} is in the catalogue."


class StepsEditor(QWidget):
    """The package's steps as ordered rows: treatment, sessions, days after the previous step, days between
    sessions; each row can move up or down or be removed. ``steps()`` is what the service takes."""

    changed = Signal()

    def __init__(self, treatments: Sequence[Treatment], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.treatments = list(treatments)
        self.rows: list[StepRow] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        head = QHBoxLayout()
        for caption, width in _STEP_COLUMNS:
            label = QLabel(caption)
            label.setObjectName("hint")
            if width:
                label.setFixedWidth(width)
            head.addWidget(label, 0 if width else 1)
        layout.addLayout(head)
        self._rows_box = QVBoxLayout()
        self._rows_box.setSpacing(6)
        layout.addLayout(self._rows_box)
        self.empty = QLabel("No steps yet. A package needs at least one: add the first treatment.")
        self.empty.setObjectName("hint")
        layout.addWidget(self.empty)
        bottom = QHBoxLayout()
        self.add_button = QPushButton("Add a step")
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(lambda: self.add_step())
        self.add_button.setEnabled(bool(self.treatments))
        self.summary = QLabel("")
        self.summary.setObjectName("hint")
        bottom.addWidget(self.add_button)
        bottom.addSpacing(12)
        bottom.addWidget(self.summary, 1)
        layout.addLayout(bottom)
        self._renumber()

    def set_steps(self, steps: Sequence[PackageStep]) -> None:
        for row in list(self.rows):
            self._drop(row)
        for s in steps:
            self.add_step(s.treatment_id, s.sessions, s.min_days_after_previous, s.min_days_between_sessions)

    def add_step(
        self, treatment_id: str | None = None, sessions: int = 1, after: int = 0, between: int = 0
    ) -> StepRow:
        row = StepRow(self.treatments)
        calm_wheels(row)  # rows come and go after the form was shown
        row.set_values(StepInput(treatment_id or "", sessions, after, between))
        row.up.clicked.connect(lambda: self.move_step(self.rows.index(row), -1))
        row.down.clicked.connect(lambda: self.move_step(self.rows.index(row), 1))
        row.remove.clicked.connect(lambda: self.remove_step(self.rows.index(row)))
        row.edited.connect(self._edited)
        self.rows.append(row)
        self._rows_box.addWidget(row)
        self._renumber()
        self._edited()
        row.treatment.setFocus()
        return row

    def remove_step(self, index: int) -> None:
        self._drop(self.rows[index])
        self._renumber()
        self._edited()

    def move_step(self, index: int, offset: int) -> None:
        """Swap step ``index`` with its neighbour ``offset`` (−1 up, +1 down) rows away."""
        other = index + offset
        if not (0 <= index < len(self.rows) and 0 <= other < len(self.rows)):
            return
        mine, theirs = self.rows[index].values(), self.rows[other].values()
        self.rows[index].set_values(theirs)
        self.rows[other].set_values(mine)
        self._renumber()
        self._edited()
        self.rows[other].treatment.setFocus()

    def steps(self) -> list[StepInput]:
        return [row.values() for row in self.rows]

    def _drop(self, row: StepRow) -> None:
        self.rows.remove(row)
        self._rows_box.removeWidget(row)
        row.deleteLater()

    def _renumber(self) -> None:
        for index, row in enumerate(self.rows):
            row.set_position(index + 1, last=index == len(self.rows) - 1)
        self.empty.setVisible(not self.rows)

    def _edited(self) -> None:
        prices = {t.id: t.price for t in self.treatments}
        steps = self.steps()
        sessions = sum(int(s.sessions) for s in steps)
        total = None
        for s in steps:
            if s.treatment_id in prices:
                line = prices[s.treatment_id] * int(s.sessions)
                total = line if total is None else total + line
        if not steps:
            self.summary.setText("")
        else:
            at_list = f"; at list prices they come to {fmt.money(total)}" if total is not None else ""
            self.summary.setText(f"{sessions} session{'s' if sessions != 1 else ''} in all{at_list}.")
        self.changed.emit()


_STEP_COLUMNS = (
    ("", 28),
    ("Treatment", 0),
    ("Sessions", 80),
    ("At least … after\nthe previous step", 130),
    ("At least … between\nits sessions", 130),
    ("", 170),
)


class StepRow(QWidget):
    """One step of the editor."""

    edited = Signal()

    def __init__(self, treatments: Sequence[Treatment], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.number = QLabel("")
        self.number.setFixedWidth(28)
        self.treatment = QComboBox()
        for t in treatments:
            self.treatment.addItem(t.name if t.active else f"{t.name} (no longer offered)", t.id)
        self.treatment.setMinimumWidth(240)
        self.sessions = number_field(1, MAX_SESSIONS, 80)
        self.after = number_field(0, MAX_VALIDITY_DAYS, 130, " days")
        self.between = number_field(0, MAX_VALIDITY_DAYS, 130, " days")
        for delay in (self.after, self.between):
            delay.setSpecialValueText("—")  # no minimum
            delay.setToolTip("No minimum: type a number of days")
        self.up, self.down, self.remove = QPushButton("↑"), QPushButton("↓"), QPushButton("Remove")
        self.up.setToolTip("Move this step earlier")
        self.down.setToolTip("Move this step later")
        for button in (self.up, self.down, self.remove):
            button.setAutoDefault(False)
        self.up.setFixedWidth(34)
        self.down.setFixedWidth(34)
        for widget in (self.number, self.treatment, self.sessions, self.after, self.between):
            row.addWidget(widget, 1 if widget is self.treatment else 0)
        for button in (self.up, self.down, self.remove):
            row.addWidget(button)
        self.treatment.currentIndexChanged.connect(lambda _i: self.edited.emit())
        for spin in (self.sessions, self.after, self.between):
            spin.valueChanged.connect(lambda _v: self.edited.emit())

    def values(self) -> StepInput:
        return StepInput(
            self.treatment.currentData() or "",
            self.sessions.value(),
            self.after.value(),
            self.between.value(),
        )

    def set_values(self, step: StepInput) -> None:
        if step.treatment_id:
            select(self.treatment, step.treatment_id)
        self.sessions.setValue(int(step.sessions))
        self.after.setValue(int(step.min_days_after_previous))
        self.between.setValue(int(step.min_days_between_sessions))

    def set_position(self, position: int, *, last: bool) -> None:
        self.number.setText(f"{position}.")
        first = position == 1
        self.after.setEnabled(not first)
        self.after.setToolTip("The first step can be booked straight away." if first else "")
        if first:
            self.after.setValue(0)
        self.up.setEnabled(not first)
        self.down.setEnabled(not last)
