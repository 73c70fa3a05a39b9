"""Add or edit a product the clinic sells over the counter: its name, price and VAT.

    ProductForm(desk)            # a new product
    ProductForm(desk, product)   # edit that one

It saves through ``services/catalogue.py`` (``forms.py`` says how refusals are shown and what a save tells).
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QLineEdit, QWidget

from aestheticc_pos.domain.catalogue import Product
from aestheticc_pos.services import catalogue
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.forms import (
    Call,
    FormDialog,
    amount_edit,
    save_call,
    select,
    vat_combo,
    vat_of,
)


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
        self.price = amount_edit()
        self.vat_rate = vat_combo()
        self.active = QCheckBox("Offered for sale")
        self.active.setChecked(True)
        self.add_field("name", "Name", self.name)
        self.add_field("price", "Price (incl. VAT)", self.price)
        self.add_field("vat_rate", "VAT", self.vat_rate)
        self.add_field("active", "", self.active)
        self.finish_layout()
        if product is not None:
            self.name.setText(product.name)
            self.price.setText(fmt.editable_amount(product.price))
            select(self.vat_rate, vat_of(product.vat_rate_bp))
            self.active.setChecked(product.active)
        self.name.setFocus()

    def prepare(self) -> Call:
        values = dict(  # the service checks every field at once
            name=self.name.text(),
            price=self.price.text(),
            vat_rate=self.vat_rate.currentData(),
            active=self.active.isChecked(),
        )
        return save_call(self.desk, catalogue.add_product, catalogue.edit_product, self.item, values)

    def saved_message(self, result: Product) -> str:
        return f"{result.name} saved." if self.item else f"{result.name} is in the catalogue."
