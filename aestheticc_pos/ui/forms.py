"""The form kit: captioned fields with their sentences underneath, and a dialog that saves through one service
call off the GUI thread.

    class TreatmentForm(FormDialog):
        def __init__(self, desk, treatment=None):
            super().__init__(desk, title="New treatment", save_text="Add treatment")
            self.name = QLineEdit()
            self.add_field("name", "Name", self.name)
            self.finish_layout()
        def prepare(self) -> Call: ...          # check what is typed; the service call to make
        def saved_message(self, result) -> str: ...

What the clinic's rules refuse ("abc" as a price) is shown as a sentence under the field it is about, or under
the form when it names no field there; every refusal at once, top to bottom (``InvalidInputs``), the first
field taking the focus; nothing typed is cleared. ``question()`` may ask before saving (a package at £0).
On success the form says so on the message bar (screens showing what changed hear it from the commit, see
``UnitOfWorkFactory.on_commit``), emits ``saved`` with what the service returned, and closes. Closing it
with changes not saved asks Save / Discard / Cancel, and a wheel never changes a field that does not have
focus (``widgets/wheel.py``).
The small field makers after it (amounts, VAT, numbers, rows) and ``Card`` give every form the same look.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.domain.errors import InvalidInput, InvalidInputs
from aestheticc_pos.services.catalogue_items import VatRate
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.widgets.unsaved import UnsavedAnswer, ask_about_changes, field_state
from aestheticc_pos.ui.widgets.wheel import calm_wheels

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
T = TypeVar("T")
_NO_LIMIT = 16_777_215  # QWIDGETSIZE_MAX: a widget's maximum width when none was set


@dataclass(frozen=True, slots=True)
class Refused:
    """What a pool thread hands back when the rules refuse a field, so the form can say where; ``also`` holds
    the refusals of further fields when several were refused at once."""

    field: str | None
    message: str
    also: tuple[Refused, ...] = ()

    def each(self) -> tuple[Refused, ...]:
        return (Refused(self.field, self.message), *self.also)


def refused(error: InvalidInput) -> Refused:
    """``error`` (one refusal, or ``InvalidInputs``: several) as a ``Refused``."""
    if isinstance(error, InvalidInputs):
        first, *rest = error.refusals
        return Refused(first.field, str(first), tuple(Refused(r.field, str(r)) for r in rest))
    return Refused(error.field, str(error))


def catching_refusals(call: Call) -> Call:
    """``call``, made to return ``Refused`` instead of raising ``InvalidInput`` (which names the field)."""

    def work() -> Any:
        try:
            return call()
        except InvalidInput as error:
            return refused(error)

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

    def show_error(self, field: str | None, message: str, *, focus: bool = True) -> bool:
        """Show ``message`` under ``field`` and focus it; False when no field here has that name."""
        name = self.aliases.get(field or "", field or "")
        label = self.errors.get(name)
        if label is None:
            return False
        label.setText(f"{label.text()} {message}" if not label.isHidden() else message)
        label.show()
        widget = self.fields[name]
        if isinstance(widget, QLineEdit | QPlainTextEdit | QComboBox | QAbstractSpinBox):
            mark_invalid(widget, True)
        if focus:
            widget.setFocus()
            if isinstance(widget, QLineEdit):
                widget.selectAll()
        return True

    def show_refused(self, refusal: Refused) -> list[str]:
        """Show every refusal under its field and focus the topmost of them; the sentences that name no
        field here are returned, for the caller to show elsewhere."""
        elsewhere = [
            r.message for r in refusal.each() if not self.show_error(r.field, r.message, focus=False)
        ]
        shown = [name for name in self.fields if not self.errors[name].isHidden()]
        if shown:  # the fields were made top to bottom: the first one shown is the topmost
            widget = self.fields[shown[0]]
            widget.setFocus()
            if isinstance(widget, QLineEdit):
                widget.selectAll()
        return elsewhere

    def clear_error(self, name: str) -> None:
        label = self.errors[name]
        if not label.isHidden() or label.text():
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
    what: str = "this form"  # what the unsaved-changes question calls it ("Save your changes to …?")

    def __init__(self, desk: Desk, *, title: str, save_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.setWindowTitle(title)
        self.setMinimumWidth(620)
        self.setStyleSheet(FORM_STYLE)
        self._save_text = save_text
        self._as_opened: tuple[object, ...] | None = None  # the fields when shown, to tell what changed
        self.question_box: QMessageBox | None = None  # the question open now (unsaved changes, a £0 price)
        self._busy = False  # a save is on its way

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

    def question(self) -> str | None:
        """A sentence to confirm before saving what is typed (asked after ``prepare``), or None to save."""
        return None

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
            self.show_refused(refused(error))
            return
        question = self.question()
        if question is None:
            self._send(call)
            return
        box = QMessageBox(QMessageBox.Icon.Question, self.windowTitle(), question, parent=self)
        yes = box.addButton(self._save_text, QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Go back", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(yes)
        box.finished.connect(lambda _r: self._send(call) if box.clickedButton() is yes else None)
        self.question_box = box
        box.open()

    def _send(self, call: Call) -> None:
        self._set_busy(True)
        self.desk.run(catching_refusals(call), self._save_finished, self._save_failed)

    # --- leaving ---------------------------------------------------------------------------------------------

    def has_changes(self) -> bool:
        """Whether anything was typed, chosen or ticked since the form was shown."""
        return self._as_opened is not None and field_state(self) != self._as_opened

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        calm_wheels(self)
        if self._as_opened is None:
            self._as_opened = field_state(self)

    def reject(self) -> None:
        """Cancel, Esc or the window's close: asks first when something typed would be lost."""
        if self._busy:
            return  # a save is on its way: it closes the form when it is done
        if not self.has_changes():
            super().reject()
            return
        if self.question_box is not None and self.question_box.isVisible():
            return
        self.question_box = ask_about_changes(self, self.what, self._answered)

    def _answered(self, answer: UnsavedAnswer) -> None:
        if answer is UnsavedAnswer.SAVE:
            self.save()  # closes the form once saved; a refusal shows and the form stays
        elif answer is UnsavedAnswer.DISCARD:
            self._as_opened = None
            super().reject()

    def refit(self) -> None:
        """Grow to fit sentences that arrived after the form was shown (wrapped labels do not ask for it)."""
        self.layout().activate()
        self.resize(self.width(), max(self.height(), self.sizeHint().height()))

    def show_error(self, field: str | None, message: str) -> None:
        """Show a sentence under ``field`` (or above the buttons when it names no field here)."""
        self.show_refused(Refused(field, message))

    def show_refused(self, refusal: Refused) -> None:
        """Every sentence under its field, the topmost focused; the others above the buttons."""
        elsewhere = self.grid.show_refused(refusal)
        if elsewhere:
            self.status.setText(" ".join(elsewhere))
            self.status.show()
        self.refit()  # every sentence whole: the dialog grows to hold them

    def clear_errors(self) -> None:
        self.grid.clear_errors()
        self.status.clear()
        self.status.hide()

    def _clear_error(self, name: str) -> None:
        self.grid.clear_error(name)

    def _save_finished(self, result: Any) -> None:
        if not shiboken6.isValid(self):
            return  # closed with its window; the service call itself completed
        self._set_busy(False)
        if isinstance(result, Refused):
            self.show_refused(result)
            return
        self._as_opened = None  # saved: closing asks nothing
        self.desk.message.emit(self.saved_message(result))
        self.saved.emit(result)
        self.accept()

    def _save_failed(self, message: str) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_busy(False)
        self.show_error(None, message)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.save_button.setEnabled(not busy)
        self.save_button.setText("Saving…" if busy else self._save_text)
        self.cancel_button.setEnabled(not busy)


# --- Checking what is typed --------------------------------------------------------------------------------------


def check_field(field: str, check: Callable[[], T]) -> T:
    """Run a check of what was typed and return what it read; its refusal names ``field`` so the sentence
    shows under it."""
    try:
        return check()
    except InvalidInput as error:
        raise InvalidInput(str(error), field=field) from None


def save_call(
    desk: Desk, add: Callable[..., Any], edit: Callable[..., Any], item: Any, values: dict[str, Any]
) -> Call:
    """The service call that saves ``values``: ``add`` a new item (``item`` None), else ``edit`` that one."""
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


# --- Fields and their frames -------------------------------------------------------------------------------------


def error_label() -> QLabel:
    """A sentence in red, hidden until there is one."""
    label = QLabel("")
    label.setObjectName("error")
    label.setWordWrap(True)
    label.hide()
    return label


def amount_edit(placeholder: str = "e.g. 120.00") -> QLineEdit:
    """An amount of money, typed as "120.00" (read with ``services.inputs.money``)."""
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setMaximumWidth(200)
    return edit


def vat_combo() -> QComboBox:
    """The VAT rate of a price: standard, or exempt (medical treatment)."""
    combo = QComboBox()
    combo.setMinimumWidth(280)
    combo.setMaximumWidth(320)
    combo.addItem("Standard rate (20%)", VatRate.STANDARD)
    combo.addItem("Exempt (medical treatment)", VatRate.EXEMPT)
    return combo


def vat_of(basis_points: int) -> VatRate:
    """The choice of ``vat_combo`` for a rate kept in basis points."""
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


def select(combo: QComboBox, data: object) -> None:
    """Choose the entry of ``combo`` that holds ``data`` (nothing changes when none does)."""
    index = combo.findData(data)
    if index >= 0:
        combo.setCurrentIndex(index)


def row(*widgets: QWidget, stretch: bool = False) -> QWidget:
    """``widgets`` side by side, as one field of a ``FieldGrid``."""
    holder = QWidget()
    line = QHBoxLayout(holder)
    line.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        line.addWidget(widget)
    if stretch:
        line.addStretch(1)
    return holder


class Card(QFrame):
    """A white card with its heading; its parts go in ``box``, under the heading (the Settings screen's cards)."""

    def __init__(self, heading: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(20, 16, 20, 18)
        self.box.setSpacing(10)
        title = QLabel(heading)
        title.setObjectName("heading")
        self.box.addWidget(title)
