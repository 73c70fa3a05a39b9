"""The clinic at a glance: clients, today's appointments, packages, members, menu, team."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from aestheticc_pos.services.reports import ClinicOverview, clinic_overview
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk


class OverviewView(QWidget):
    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        self.title = QLabel("")
        self.title.setObjectName("title")
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("subtitle")
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        self.grid = QGridLayout()
        self.grid.setSpacing(16)
        self.figures: dict[str, QLabel] = {}
        captions = (
            "Clients",
            "Appointments today",
            "Active packages",
            "Members",
            "Treatments on the menu",
            "Staff",
        )
        for index, caption in enumerate(captions):
            card = QFrame()
            card.setObjectName("card")
            box = QVBoxLayout(card)
            value = QLabel("…")
            value.setObjectName("figure")
            label = QLabel(caption)
            label.setObjectName("figureCaption")
            box.addWidget(value)
            box.addWidget(label)
            self.figures[caption] = value
            self.grid.addWidget(card, index // 3, index % 3)
        layout.addLayout(self.grid)
        layout.addStretch(1)
        desk.changed.connect(lambda _what: self.refresh())

    def refresh(self) -> None:
        services, staff_id = self.desk.services, self.desk.staff_id
        self.desk.run(lambda: clinic_overview(services, staff_id=staff_id), self._show)

    def _show(self, o: ClinicOverview) -> None:
        self.title.setText(o.clinic_name or "Aestheticc POS")
        self.subtitle.setText(f"Today, {fmt.long_date(o.today)}")
        for caption, value in (
            ("Clients", o.clients),
            ("Appointments today", o.appointments_today),
            ("Active packages", o.active_packages),
            ("Members", o.members),
            ("Treatments on the menu", o.treatments),
            ("Staff", o.staff),
        ):
            self.figures[caption].setText(f"{value:,}")
