"""Add or edit a membership tier: its monthly price and sign-up fee, the member discount and what it covers,
when benefits start and how long they last after a failed payment.

    TierForm(desk)         # a new tier
    TierForm(desk, tier)   # edit that one

It saves through ``services/catalogue.py`` (``forms.py`` says how refusals are shown and what a save tells).
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QWidget

from aestheticc_pos.domain.catalogue import BenefitsStart, Tier
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
)


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
        self.monthly_price = amount_edit("e.g. 49.00")
        self.signup_fee = amount_edit("e.g. 25.00")
        self.discount = amount_edit("e.g. 20")
        self.covers_treatments = QCheckBox("Treatments")
        self.covers_treatments.setChecked(True)
        self.covers_products = QCheckBox("Products")
        self.covers_packages = QCheckBox("Package purchases")
        covers = row(self.covers_treatments, self.covers_products, self.covers_packages, stretch=True)
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
        fee = self.signup_fee.text().strip()
        values = dict(  # the service checks every field at once
            name=self.name.text(),
            monthly_price=self.monthly_price.text(),
            signup_fee=fee or "0",
            discount=self.discount.text(),
            covers_treatments=self.covers_treatments.isChecked(),
            covers_products=self.covers_products.isChecked(),
            covers_packages=self.covers_packages.isChecked(),
            benefits_start=self.benefits_start.currentData(),
            grace_days=self.grace_days.value(),
            description=self.description.text(),
            active=self.active.isChecked(),
        )
        return save_call(self.desk, catalogue.add_tier, catalogue.edit_tier, self.item, values)

    def saved_message(self, result: Tier) -> str:
        return f"The {result.name} tier is saved." if self.item else f"The {result.name} tier is added."

    def _fill(self, t: Tier) -> None:
        self.name.setText(t.name)
        self.monthly_price.setText(fmt.editable_amount(t.monthly_price))
        self.signup_fee.setText(fmt.editable_amount(t.signup_fee) if t.signup_fee else "")
        self.discount.setText(fmt.editable_percent(t.discount_bp))
        self.covers_treatments.setChecked(t.covers_treatments)
        self.covers_products.setChecked(t.covers_products)
        self.covers_packages.setChecked(t.covers_packages)
        select(self.benefits_start, t.benefits_start)
        self.grace_days.setValue(t.grace_days)
        self.description.setText(t.description)
        self.active.setChecked(t.active)
