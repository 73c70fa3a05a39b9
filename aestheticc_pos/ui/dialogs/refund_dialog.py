"""Refund or void a sale: which lines (and how many of each) go back, how the money goes back, why, and the
manager who allows it (DESIGN.md §7: refunds and voids are a manager's).

A receptionist at the till can start it: a manager then chooses their name and types their PIN here, and the
refund is recorded as theirs. The refund's id is made when the dialog opens, so a double click or a retry after
a lost answer records it once. What each line undoes is said beside it (a package's unused sessions closed at
package value, a session given back, a membership ended) before anything is written.
"""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.errors import InvalidInput
from aestheticc_pos.domain.refunds import RefundMethod
from aestheticc_pos.domain.staff import Action, Role
from aestheticc_pos.services import refunds as refunds_service
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.refunds import RefundableSale
from aestheticc_pos.services.sales import Receipt
from aestheticc_pos.services.staff import StaffMember
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.forms import Call, FormDialog, row

_WHAT_IT_DOES = {
    "money": "Money back",
    "package": "Closes its unused sessions, worth their package value",
    "session": "Gives the session back to the package",
    "membership": "The month is no longer paid; a first month ends the membership",
}
_TENDERS = {
    TenderKind.CASH: "cash",
    TenderKind.CARD: "card",
    TenderKind.DIRECT_DEBIT: "Direct Debit (refunded through GoCardless)",
    TenderKind.PAYMENT_LINK: "payment link (refunded through GoCardless)",
    TenderKind.DEPOSIT: "deposit (refunded through GoCardless)",
}


class RefundDialog(FormDialog):
    """Refund chosen lines of ``sale``, or void it all (``void=True``)."""

    field_aliases = {"lines": "lines", "method": "method"}

    def __init__(
        self,
        desk: Desk,
        sale: RefundableSale,
        managers: list[StaffMember],
        *,
        void: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        title = f"Void sale {sale.number}" if void else f"Refund sale {sale.number}"
        super().__init__(desk, title=title, save_text="Void sale" if void else "Refund", parent=parent)
        self.sale, self.void = sale, void
        self.document_id = str(uuid.uuid4())
        self.setMinimumWidth(760)
        tz = desk.settings.tz
        facts = QLabel(
            f"{fmt.date_time(sale.created_at, tz)} · {sale.client_name or 'No client'} · "
            f"total {fmt.money(sale.net)}"
            + (f" · already given back {fmt.money(sale.given_back)}" if sale.given_back else "")
        )
        facts.setObjectName("hint")
        self._outer.insertWidget(1, facts)

        self.lines = QTableWidget(len(sale.lines), 4)
        self.lines.setHorizontalHeaderLabels(["Line", "Paid", "Give back", "What it does"])
        self.lines.verticalHeader().hide()
        self.lines.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.lines.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.lines.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.units: dict[int, QSpinBox] = {}
        for index, line in enumerate(sale.lines):
            self.lines.setItem(index, 0, QTableWidgetItem(f"{line.name} × {line.quantity}"))
            paid = QTableWidgetItem(fmt.money(line.net))
            paid.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.lines.setItem(index, 1, paid)
            units = QSpinBox()
            units.setRange(0, line.returnable)
            units.setValue(line.returnable if void else 0)
            units.setEnabled(not void and line.returnable > 0)
            units.setSuffix(f" of {line.returnable}")
            units.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel scrolls the table, not the count
            self.units[line.position] = units
            self.lines.setCellWidget(index, 2, units)
            self.lines.setItem(
                index,
                3,
                QTableWidgetItem(_WHAT_IT_DOES[line.gives_back] if line.returnable else "Given back"),
            )
        caption = self.lines.horizontalHeader().fontMetrics().horizontalAdvance("Give back") + 40
        spin = max((box.sizeHint().width() for box in self.units.values()), default=0)
        self.lines.setColumnWidth(2, max(caption, spin + 8))  # neither the caption nor "1 of 2" cut
        self.lines.setMinimumHeight(min(260, 40 + 34 * len(sale.lines)))
        self.add_section("lines", "What goes back", self.lines)
        if not void:
            everything = QPushButton("Everything left")
            everything.setAutoDefault(False)
            everything.clicked.connect(self.choose_everything)
            self._outer.addWidget(row(everything, stretch=True))

        self.method = QComboBox()
        paid_by = ", ".join(dict.fromkeys(_TENDERS[t.tender.kind] for t in sale.tenders)) or "nothing"
        self.method.addItem(f"The way it was paid: {paid_by}", RefundMethod.ORIGINAL)
        if not void:
            self.method.addItem("Cash from the drawer", RefundMethod.CASH)
            self.method.addItem("Card, on the clinic's terminal", RefundMethod.CARD)
        self.method.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.add_field("method", "Money back by", self.method)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. Reaction to the peel; product returned sealed")
        self.add_field("reason", "Reason", self.reason)

        self.managers = managers
        self.manager = QComboBox()
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(8)
        self.pin.setPlaceholderText("Manager's PIN")
        self.asks_manager = not desk.may(Action.VOID if void else Action.REFUND)
        if self.asks_manager:
            for member in managers:
                self.manager.addItem(member.name, member.id)
            self.add_field(
                "manager",
                "Allowed by",
                row(self.manager, self.pin),
                hint="Refunds and voids are a manager's: they choose their name and type their PIN.",
            )
        self.finish_layout()
        self.reason.setFocus()

    def choose_everything(self) -> None:
        for line in self.sale.lines:
            self.units[line.position].setValue(line.returnable)

    def chosen(self) -> dict[int, int]:
        return {position: box.value() for position, box in self.units.items() if box.value()}

    def prepare(self) -> Call:
        if not self.void and not self.chosen():
            raise InvalidInput("Choose how many of a line go back.", field="lines")
        if not self.reason.text().strip():
            raise InvalidInput("Say why the money goes back.", field="reason")
        services, sale_id, document_id = self.desk.services, self.sale.sale_id, self.document_id
        reason, void, lines = self.reason.text(), self.void, self.chosen()
        method = self.method.currentData()
        if self.asks_manager:
            manager_id, pin = self.manager.currentData(), self.pin.text()
            if not manager_id:
                raise InvalidInput("No manager works here to allow it.", field="manager")
            if not pin:
                raise InvalidInput("The manager types their PIN to allow it.", field="manager")
        else:
            manager_id, pin = self.desk.staff_id, None

        def give_back() -> Receipt:
            if pin is not None:
                staff_service.log_in(services, manager_id, pin)  # the manager allows it: their PIN, counted
            if void:
                return refunds_service.void_sale(
                    services, sale_id=sale_id, reason=reason, staff_id=manager_id, void_id=document_id
                )
            return refunds_service.refund_sale(
                services,
                sale_id=sale_id,
                lines=lines,
                method=method,
                reason=reason,
                staff_id=manager_id,
                refund_id=document_id,
            )

        return give_back

    def saved_message(self, result: Any) -> str:
        word = "Voided" if self.void else "Refunded"
        return f"{word} {fmt.money(-result.net)} of sale {self.sale.number} ({result.number})."


def managers_of(desk: Desk) -> list[StaffMember]:
    """The managers who may allow a refund (for ``RefundDialog``); call off the GUI thread."""
    return staff_service.list_staff(desk.services, role=Role.MANAGER)
