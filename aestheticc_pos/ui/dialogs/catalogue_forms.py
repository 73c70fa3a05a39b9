"""Add or edit a catalogue item: a treatment, a product, a package with its steps, a membership tier.

    TreatmentForm(desk)              # a new treatment
    TreatmentForm(desk, treatment)   # edit that one
    PackageForm(desk, treatments, package=None)   # ``treatments``: the catalogue's, for the steps

Each form saves through ``services/catalogue.py`` on the desk's thread pool. What the clinic's rules refuse
("abc" as a price, a package with no steps) is shown as a sentence under the field it is about, or under the
form when it names no field here; nothing typed is cleared. On success the form tells the desk
(``notify("catalogue")`` and a message), emits ``saved`` with the item, and closes.

``FormDialog`` is the shared frame (fields with their sentences, busy state, Ctrl+S); the membership
dialogs use it too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.catalogue import (
    MAX_SESSIONS,
    MAX_VALIDITY_DAYS,
    BenefitsStart,
    DepositKind,
    Package,
    PackageStep,
    Product,
    Tier,
    Treatment,
)
from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.domain.money import Money
from aestheticc_pos.services import catalogue, inputs
from aestheticc_pos.services.catalogue import StepInput, VatRate
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import CATALOGUE, Desk

# What the forms add to the shared style sheet: hints, section captions, and a field whose value was refused.
FORM_STYLE = """
QLabel#hint { color: #6b6478; font-size: 12px; }
QLabel#section { font-weight: 600; color: #3d3550; margin-top: 8px; }
*[invalid="true"] { border: 1px solid #a4262c; }
QPushButton#primary:disabled { background: #c9c2d9; color: #f7f5f2; }
QListWidget { background: #ffffff; border: 1px solid #cfc8dc; border-radius: 5px; }
QListWidget::item { padding: 6px; }
QListWidget::item:selected { background: #d8cdf3; color: #2b2b2b; }
"""
Call = Callable[[], Any]
_NO_LIMIT = 16_777_215  # QWIDGETSIZE_MAX: a widget's maximum width when none was set


@dataclass(frozen=True, slots=True)
class Refused:
    """What a pool thread hands back when the rules refuse a field, so the form can say where."""

    field: str | None
    message: str


def catching_refusals(call: Call) -> Call:
    """``call``, made to return ``Refused`` instead of raising ``InvalidInput`` (which names the field)."""

    def work() -> Any:
        try:
            return call()
        except InvalidInput as error:
            return Refused(error.field, str(error))

    return work


class FieldGrid(QGridLayout):
    """Captioned fields, each with its sentence underneath (hidden until a refusal names that field).

    ``aliases`` maps the field names the services use in ``InvalidInput.field`` to the names here.
    """

    def __init__(self, aliases: dict[str, str] | None = None) -> None:
        super().__init__()
        self.setHorizontalSpacing(16)
        self.setVerticalSpacing(4)
        self.setColumnStretch(1, 1)
        self.aliases = aliases or {}
        self.fields: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}

    def add_field(
        self, name: str, caption: str, widget: QWidget, *, hint: str = "", top: bool = False
    ) -> QWidget:
        """A row: caption, the widget (or a layout holder), its hint if any, and its sentence underneath.
        ``top`` puts the caption level with the top of a tall widget."""
        row = self.rowCount()
        label = QLabel(caption)
        label.setBuddy(widget)
        label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        tall = top or isinstance(widget, QPlainTextEdit)
        level = Qt.AlignmentFlag.AlignTop if tall else Qt.AlignmentFlag.AlignVCenter
        self.addWidget(label, row, 0, Qt.AlignmentFlag.AlignLeft | level)
        if widget.maximumWidth() < _NO_LIMIT:  # a narrow field keeps to the left; the column still stretches
            self.addWidget(widget, row, 1, Qt.AlignmentFlag.AlignLeft)
        else:
            self.addWidget(widget, row, 1)
        if hint:
            note = QLabel(hint)
            note.setObjectName("hint")
            note.setWordWrap(True)
            row += 1
            self.addWidget(note, row, 1)
        error = error_label()
        self.addWidget(error, row + 1, 1)
        self.watch(name, widget, error)
        return widget

    def watch(self, name: str, widget: QWidget, error: QLabel) -> None:
        """Show refusals of ``name`` in ``error`` and mark ``widget`` (which may live elsewhere)."""
        self.fields[name] = widget
        self.errors[name] = error
        if isinstance(widget, QLineEdit):
            widget.textEdited.connect(lambda _text: self.clear_error(name))
        elif isinstance(widget, QPlainTextEdit):
            widget.textChanged.connect(lambda: self.clear_error(name))

    def show_error(self, field: str | None, message: str) -> bool:
        """Show ``message`` under ``field`` and focus it; False when no field here has that name."""
        name = self.aliases.get(field or "", field or "")
        label = self.errors.get(name)
        if label is None:
            return False
        label.setText(message)
        label.show()
        widget = self.fields[name]
        if isinstance(widget, QLineEdit | QPlainTextEdit | QComboBox | QAbstractSpinBox):
            mark_invalid(widget, True)
        widget.setFocus()
        if isinstance(widget, QLineEdit):
            widget.selectAll()
        return True

    def clear_error(self, name: str) -> None:
        label = self.errors[name]
        if label.isVisible() or label.text():
            label.clear()
            label.hide()
            mark_invalid(self.fields[name], False)

    def clear_errors(self) -> None:
        for name in self.errors:
            self.clear_error(name)


class FormDialog(QDialog):
    """A form that saves through one service call. Subclasses add fields, then implement ``prepare`` (check
    what is typed and return the call to make, or raise ``InvalidInput`` naming a field) and ``saved_message``.

    ``field_aliases`` maps the field names the services use in ``InvalidInput.field`` to this form's fields.
    """

    saved = Signal(object)  # what the service returned
    field_aliases: dict[str, str] = {}
    notifies: tuple[str, ...] = (CATALOGUE,)  # what a save changes, for ``desk.notify``

    def __init__(self, desk: Desk, *, title: str, save_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.setWindowTitle(title)
        self.setMinimumWidth(620)
        self.setStyleSheet(FORM_STYLE)
        self._save_text = save_text

        self._outer = QVBoxLayout(self)
        self._outer.setContentsMargins(24, 20, 24, 20)
        self._outer.setSpacing(12)
        heading = QLabel(title)
        heading.setObjectName("heading")
        self._outer.addWidget(heading)
        self.grid = FieldGrid(self.field_aliases)
        self.fields, self.errors = self.grid.fields, self.grid.errors
        self._outer.addLayout(self.grid)

        self.status = error_label()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.save_button = QPushButton(save_text)
        self.save_button.setObjectName("primary")
        self.save_button.setDefault(True)
        self.save_button.setToolTip("Enter or Ctrl+S")
        self.save_button.clicked.connect(self.save)
        self._buttons = QHBoxLayout()
        self._buttons.addStretch(1)
        self._buttons.addWidget(self.cancel_button)
        self._buttons.addWidget(self.save_button)
        QShortcut(QKeySequence.StandardKey.Save, self, activated=self.save)

    def add_field(
        self, name: str, caption: str, widget: QWidget, *, hint: str = "", top: bool = False
    ) -> QWidget:
        return self.grid.add_field(name, caption, widget, hint=hint, top=top)

    def add_section(self, name: str, caption: str, widget: QWidget) -> None:
        """A full-width part of the form (the steps editor) with its caption above and its sentence below."""
        heading = QLabel(caption)
        heading.setObjectName("section")
        self._outer.addWidget(heading)
        self._outer.addWidget(widget, 1)
        error = error_label()
        self._outer.addWidget(error)
        self.grid.watch(name, widget, error)

    def finish_layout(self) -> None:
        """Put the form's own sentence and the buttons under the fields (call once, after the last field)."""
        self._outer.addStretch(1)
        self._outer.addWidget(self.status)
        self._outer.addLayout(self._buttons)

    # --- saving --------------------------------------------------------------------------------------------

    def prepare(self) -> Call:  # pragma: no cover - every form implements it
        raise NotImplementedError

    def saved_message(self, result: Any) -> str:  # pragma: no cover - every form implements it
        raise NotImplementedError

    def save(self) -> None:
        """Check and save what is typed; refusals are shown where they belong and nothing is cleared."""
        if not self.save_button.isEnabled():
            return  # a save is on its way
        self.clear_errors()
        try:
            call = self.prepare()
        except InvalidInput as error:
            self.show_error(error.field, str(error))
            return
        self._set_busy(True)
        self.desk.run(catching_refusals(call), self._save_finished, self._save_failed)

    def refit(self) -> None:
        """Grow to fit sentences that arrived after the form was shown (wrapped labels do not ask for it)."""
        self.layout().activate()
        self.resize(self.width(), max(self.height(), self.sizeHint().height()))

    def show_error(self, field: str | None, message: str) -> None:
        """Show a sentence under ``field`` (or above the buttons when it names no field here)."""
        if not self.grid.show_error(field, message):
            self.status.setText(message)
            self.status.show()

    def clear_errors(self) -> None:
        self.grid.clear_errors()
        self.status.clear()
        self.status.hide()

    def _clear_error(self, name: str) -> None:
        self.grid.clear_error(name)

    def _save_finished(self, result: Any) -> None:
        self._set_busy(False)
        if isinstance(result, Refused):
            self.show_error(result.field, result.message)
            return
        self.desk.notify(*self.notifies)
        self.desk.message.emit(self.saved_message(result))
        self.saved.emit(result)
        self.accept()

    def _save_failed(self, message: str) -> None:
        self._set_busy(False)
        self.show_error(None, message)

    def _set_busy(self, busy: bool) -> None:
        self.save_button.setEnabled(not busy)
        self.save_button.setText("Saving…" if busy else self._save_text)
        self.cancel_button.setEnabled(not busy)


# --- Treatments and products ---------------------------------------------------------------------------------


class TreatmentForm(FormDialog):
    field_aliases = {"duration": "duration_minutes", "deposit": "deposit_value"}

    def __init__(self, desk: Desk, treatment: Treatment | None = None, parent: QWidget | None = None) -> None:
        super().__init__(
            desk,
            title=f"Edit {treatment.name}" if treatment else "New treatment",
            save_text="Save changes" if treatment else "Add treatment",
            parent=parent,
        )
        self.item = treatment
        self.name = QLineEdit()
        self.price = _amount_edit()
        self.vat_rate = _vat_combo()
        self.duration = number_field(5, 8 * 60, 200, " minutes")
        self.duration.setSingleStep(5)
        self.duration.setValue(30)
        self.deposit = QComboBox()
        self.deposit.setMinimumWidth(220)
        for caption, kind in (
            ("No deposit", DepositKind.NONE),
            ("A fixed amount", DepositKind.FIXED),
            ("A percentage of the price", DepositKind.PERCENT),
        ):
            self.deposit.addItem(caption, kind)
        self.deposit_value = QLineEdit()
        self.deposit_value.setMaximumWidth(160)
        deposit_row = _row(self.deposit, self.deposit_value, stretch=True)
        self.active = QCheckBox("Offered for sale and on the booking portal")
        self.active.setChecked(True)

        self.add_field("name", "Name", self.name)
        self.add_field("price", "Price (incl. VAT)", self.price)
        self.add_field("vat_rate", "VAT", self.vat_rate)
        self.add_field("duration_minutes", "Duration", self.duration)
        self.add_field("deposit", "Deposit at booking", deposit_row)
        self.grid.watch("deposit_value", self.deposit_value, self.errors["deposit"])
        self.add_field("active", "", self.active)
        self.finish_layout()
        self.deposit.currentIndexChanged.connect(self._deposit_kind_changed)
        if treatment is not None:
            self._fill(treatment)
        self._deposit_kind_changed()
        self.name.setFocus()

    def prepare(self) -> Call:
        currency = self.desk.settings.currency
        price = self.price.text()
        _check("price", lambda: inputs.money(price, what="The price", currency=currency))
        kind = DepositKind(self.deposit.currentData())  # Qt hands the enum back as a str
        typed = self.deposit_value.text()
        values: dict[str, Any] = dict(
            name=self.name.text(),
            price=price,
            vat_rate=self.vat_rate.currentData(),
            duration_minutes=self.duration.value(),
            deposit=kind,
            deposit_amount=None,
            deposit_percent=None,
            active=self.active.isChecked(),
        )
        if kind is DepositKind.FIXED:
            if typed.strip():
                _check("deposit_value", lambda: inputs.money(typed, what="The deposit", currency=currency))
            values["deposit_amount"] = typed
        elif kind is DepositKind.PERCENT:
            if typed.strip():
                _check("deposit_value", lambda: inputs.percent(typed, what="The deposit"))
            values["deposit_percent"] = typed
        return _save_call(self.desk, catalogue.add_treatment, catalogue.edit_treatment, self.item, values)

    def saved_message(self, result: Treatment) -> str:
        return f"{result.name} saved." if self.item else f"{result.name} is on the treatment menu."

    def _deposit_kind_changed(self) -> None:
        kind = DepositKind(self.deposit.currentData())  # Qt hands the enum back as a str
        self.deposit_value.setVisible(kind is not DepositKind.NONE)
        self.deposit_value.setPlaceholderText(
            {DepositKind.FIXED: "e.g. 25.00", DepositKind.PERCENT: "e.g. 20 (%)"}.get(kind, "")
        )
        if kind is DepositKind.NONE:
            self._clear_error("deposit_value")

    def _fill(self, t: Treatment) -> None:
        self.name.setText(t.name)
        self.price.setText(amount_text(t.price))
        _select(self.vat_rate, _vat_of(t.vat_rate_bp))
        self.duration.setValue(t.duration_minutes)
        rule = t.deposit_rule
        _select(self.deposit, rule.kind)
        if rule.kind is DepositKind.FIXED and rule.amount is not None:
            self.deposit_value.setText(amount_text(rule.amount))
        elif rule.kind is DepositKind.PERCENT:
            self.deposit_value.setText(percent_text(rule.percent_bp))
        self.active.setChecked(t.active)


class ProductForm(FormDialog):
    def __init__(self, desk: Desk, product: Product | None = None, parent: QWidget | None = None) -> None:
        super().__init__(
            desk,
            title=f"Edit {product.name}" if product else "New product",
            save_text="Save changes" if product else "Add product",
            parent=parent,
        )
        self.item = product
        self.name = QLineEdit()
        self.price = _amount_edit()
        self.vat_rate = _vat_combo()
        self.active = QCheckBox("Offered for sale")
        self.active.setChecked(True)
        self.add_field("name", "Name", self.name)
        self.add_field("price", "Price (incl. VAT)", self.price)
        self.add_field("vat_rate", "VAT", self.vat_rate)
        self.add_field("active", "", self.active)
        self.finish_layout()
        if product is not None:
            self.name.setText(product.name)
            self.price.setText(amount_text(product.price))
            _select(self.vat_rate, _vat_of(product.vat_rate_bp))
            self.active.setChecked(product.active)
        self.name.setFocus()

    def prepare(self) -> Call:
        price = self.price.text()
        currency = self.desk.settings.currency
        _check("price", lambda: inputs.money(price, what="The price", currency=currency))
        values = dict(
            name=self.name.text(),
            price=price,
            vat_rate=self.vat_rate.currentData(),
            active=self.active.isChecked(),
        )
        return _save_call(self.desk, catalogue.add_product, catalogue.edit_product, self.item, values)

    def saved_message(self, result: Product) -> str:
        return f"{result.name} saved." if self.item else f"{result.name} is in the catalogue."


# --- Packages ------------------------------------------------------------------------------------------------


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
        self.price = _amount_edit()
        self.vat_rate = _vat_combo()
        self.validity = number_field(1, MAX_VALIDITY_DAYS, 200, " days")
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
            self.price.setText(amount_text(package.price))
            _select(self.vat_rate, _vat_of(package.vat_rate_bp))
            self.validity.setValue(package.validity_days)
            self.active.setChecked(package.active)
            self.steps.set_steps(package.steps)
        self.name.setFocus()

    def prepare(self) -> Call:
        price = self.price.text()
        currency = self.desk.settings.currency
        _check("price", lambda: inputs.money(price, what="The price", currency=currency))
        values = dict(
            name=self.name.text(),
            description=self.description.toPlainText(),
            price=price,
            vat_rate=self.vat_rate.currentData(),
            validity_days=self.validity.value(),
            steps=self.steps.steps(),
            active=self.active.isChecked(),
        )
        return _save_call(self.desk, catalogue.add_package, catalogue.edit_package, self.item, values)

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
            _select(self.treatment, step.treatment_id)
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


# --- Membership tiers ----------------------------------------------------------------------------------------


class TierForm(FormDialog):
    field_aliases = {"grace": "grace_days", "price": "monthly_price"}

    def __init__(self, desk: Desk, tier: Tier | None = None, parent: QWidget | None = None) -> None:
        super().__init__(
            desk,
            title=f"Edit the {tier.name} tier" if tier else "New membership tier",
            save_text="Save changes" if tier else "Add tier",
            parent=parent,
        )
        self.item = tier
        self.name = QLineEdit()
        self.monthly_price = _amount_edit("e.g. 49.00")
        self.signup_fee = _amount_edit("e.g. 25.00")
        self.discount = _amount_edit("e.g. 20")
        self.covers_treatments = QCheckBox("Treatments")
        self.covers_treatments.setChecked(True)
        self.covers_products = QCheckBox("Products")
        self.covers_packages = QCheckBox("Package purchases")
        covers = _row(self.covers_treatments, self.covers_products, self.covers_packages, stretch=True)
        self.benefits_start = QComboBox()
        self.benefits_start.setMinimumWidth(280)
        self.benefits_start.setMaximumWidth(320)
        self.benefits_start.addItem("At the first collected payment", BenefitsStart.FIRST_PAYMENT)
        self.benefits_start.addItem("At sign-up", BenefitsStart.SIGN_UP)
        self.grace_days = number_field(0, 60, 200, " days")
        self.grace_days.setValue(desk.settings.grace_days)
        self.description = QLineEdit()
        self.description.setPlaceholderText("Optional: what members get, for the booking portal")
        self.active = QCheckBox("Offered to new members")
        self.active.setChecked(True)

        self.add_field("name", "Name", self.name)
        self.add_field(
            "monthly_price", "Monthly price", self.monthly_price, hint="Collected by Direct Debit."
        )
        self.add_field(
            "signup_fee",
            "Sign-up fee",
            self.signup_fee,
            hint="Optional: paid once, with the first month. Leave it empty for none.",
        )
        self.add_field("discount", "Member discount (%)", self.discount)
        self.add_field("covers", "The discount covers", covers)
        self.add_field("benefits_start", "Benefits start", self.benefits_start)
        self.add_field(
            "grace_days",
            "Grace period",
            self.grace_days,
            hint="How long the discount lasts after a failed payment, before the membership is suspended.",
        )
        self.add_field("description", "Description", self.description)
        self.add_field("active", "", self.active)
        self.finish_layout()
        if tier is not None:
            self._fill(tier)
        self.name.setFocus()

    def prepare(self) -> Call:
        price, discount = self.monthly_price.text(), self.discount.text()
        fee = self.signup_fee.text().strip()
        currency = self.desk.settings.currency
        _check("monthly_price", lambda: inputs.money(price, what="The monthly price", currency=currency))
        if fee:
            _check("signup_fee", lambda: inputs.money(fee, what="The sign-up fee", currency=currency))
        _check("discount", lambda: inputs.percent(discount, what="The member discount"))
        values = dict(
            name=self.name.text(),
            monthly_price=price,
            signup_fee=fee or "0",
            discount=discount,
            covers_treatments=self.covers_treatments.isChecked(),
            covers_products=self.covers_products.isChecked(),
            covers_packages=self.covers_packages.isChecked(),
            benefits_start=self.benefits_start.currentData(),
            grace_days=self.grace_days.value(),
            description=self.description.text(),
            active=self.active.isChecked(),
        )
        return _save_call(self.desk, catalogue.add_tier, catalogue.edit_tier, self.item, values)

    def saved_message(self, result: Tier) -> str:
        return f"The {result.name} tier is saved." if self.item else f"The {result.name} tier is added."

    def _fill(self, t: Tier) -> None:
        self.name.setText(t.name)
        self.monthly_price.setText(amount_text(t.monthly_price))
        self.signup_fee.setText(amount_text(t.signup_fee) if t.signup_fee else "")
        self.discount.setText(percent_text(t.discount_bp))
        self.covers_treatments.setChecked(t.covers_treatments)
        self.covers_products.setChecked(t.covers_products)
        self.covers_packages.setChecked(t.covers_packages)
        _select(self.benefits_start, t.benefits_start)
        self.grace_days.setValue(t.grace_days)
        self.description.setText(t.description)
        self.active.setChecked(t.active)


# --- Small helpers -------------------------------------------------------------------------------------------


def amount_text(amount: Money) -> str:
    """An amount as staff type it in a field: "1200.00" (no symbol, no thousands separator)."""
    whole, pence = divmod(amount.pence, 100)
    return f"{whole}.{pence:02d}"


def percent_text(basis_points: int) -> str:
    """Basis points as typed in a field: 2000 → "20", 1250 → "12.5"."""
    return fmt.percent(basis_points).removesuffix("%")


def _save_call(
    desk: Desk, add: Callable[..., Any], edit: Callable[..., Any], item: Any, values: dict[str, Any]
) -> Call:
    services, staff_id = desk.services, desk.staff_id
    if item is None:
        return lambda: add(services, staff_id=staff_id, **values)
    item_id = item.id
    return lambda: edit(services, item_id, staff_id=staff_id, **values)


def mark_invalid(widget: QWidget, invalid: bool) -> None:
    """Draw ``widget`` with a red border (``FORM_STYLE``) while what it holds is refused."""
    if bool(widget.property("invalid")) == invalid:
        return
    widget.setProperty("invalid", invalid)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def _check(field: str, check: Callable[[], object]) -> None:
    """Run a check of what was typed; its refusal names ``field`` so the sentence shows under it."""
    try:
        check()
    except InvalidInput as error:
        raise InvalidInput(str(error), field=field) from None


def error_label() -> QLabel:
    label = QLabel("")
    label.setObjectName("error")
    label.setWordWrap(True)
    label.hide()
    return label


def _amount_edit(placeholder: str = "e.g. 120.00") -> QLineEdit:
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setMaximumWidth(200)
    return edit


def _vat_combo() -> QComboBox:
    combo = QComboBox()
    combo.setMinimumWidth(280)
    combo.setMaximumWidth(320)
    combo.addItem("Standard rate (20%)", VatRate.STANDARD)
    combo.addItem("Exempt (medical treatment)", VatRate.EXEMPT)
    return combo


def _vat_of(basis_points: int) -> VatRate:
    return VatRate.STANDARD if basis_points == VatRate.STANDARD.basis_points else VatRate.EXEMPT


def number_field(minimum: int, maximum: int, width: int, suffix: str = "") -> QSpinBox:
    """A number typed (or stepped with the arrow keys and the wheel) with its unit after it."""
    spin = QSpinBox()
    spin.setRange(minimum, maximum)
    spin.setSuffix(suffix)
    # No step buttons: the shared style sheet draws them badly, and hiding them with NoButtons hides the text.
    spin.setStyleSheet("QSpinBox::up-button, QSpinBox::down-button { width: 0px; border: none; }")
    spin.setFixedWidth(width)
    return spin


def _select(combo: QComboBox, data: object) -> None:
    index = combo.findData(data)
    if index >= 0:
        combo.setCurrentIndex(index)


def _row(*widgets: QWidget, stretch: bool = False) -> QWidget:
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        row.addWidget(widget)
    if stretch:
        row.addStretch(1)
    return holder
