"""Add or edit a treatment: its price and VAT, how long it takes, and the deposit taken when it is booked.

    TreatmentForm(desk)              # a new treatment
    TreatmentForm(desk, treatment)   # edit that one

It saves through ``services/catalogue.py`` (``forms.py`` says how refusals are shown and what a save tells).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QWidget

from aestheticc_pos.domain.catalogue import DepositKind, Treatment
from aestheticc_pos.services import catalogue
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.forms import (
    Call,
    FormDialog,
    amount_edit,
    number_field,
    row,
    save_call,
    select,
    vat_combo,
    vat_of,
)


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
        self.price = amount_edit()
        self.vat_rate = vat_combo()
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
        deposit_row = row(self.deposit, self.deposit_value, stretch=True)
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
        """What is typed, as the service takes it: the service checks every field at once."""
        price = self.price.text()
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
            values["deposit_amount"] = typed
        elif kind is DepositKind.PERCENT:
            values["deposit_percent"] = typed
        return save_call(self.desk, catalogue.add_treatment, catalogue.edit_treatment, self.item, values)

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
        self.price.setText(fmt.editable_amount(t.price))
        select(self.vat_rate, vat_of(t.vat_rate_bp))
        self.duration.setValue(t.duration_minutes)
        rule = t.deposit_rule
        select(self.deposit, rule.kind)
        if rule.kind is DepositKind.FIXED and rule.amount is not None:
            self.deposit_value.setText(fmt.editable_amount(rule.amount))
        elif rule.kind is DepositKind.PERCENT:
            self.deposit_value.setText(fmt.editable_percent(rule.percent_bp))
        self.active.setChecked(t.active)
