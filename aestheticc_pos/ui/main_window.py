"""The main window. Until the front-desk screens land it shows the clinic at a glance: who is set up, how
many clients, packages and members, today's appointments. It reads through services only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QMainWindow, QVBoxLayout, QWidget

from aestheticc_pos.services.context import Services
from aestheticc_pos.services.reports import ClinicOverview, clinic_overview

STYLE_SHEET = Path(__file__).resolve().parents[2] / "resources" / "style.qss"


@dataclass(frozen=True, slots=True)
class _Figure:
    caption: str
    value: str


class MainWindow(QMainWindow):
    def __init__(self, services: Services, *, training: bool = False) -> None:
        super().__init__()
        self._services = services
        self.setWindowTitle("Aestheticc POS — training" if training else "Aestheticc POS")
        self.resize(1280, 760)
        if STYLE_SHEET.exists():
            self.setStyleSheet(STYLE_SHEET.read_text(encoding="utf-8"))
        overview = clinic_overview(services)
        self.setCentralWidget(self._build(overview, training))
        self.statusBar().showMessage("Not signed in · Sync: not configured")

    def _build(self, overview: ClinicOverview, training: bool) -> QWidget:
        root = QWidget()
        layout = QVBoxLayout(root)
        layout.setContentsMargins(40, 32, 40, 32)
        layout.setSpacing(16)
        title = QLabel(overview.clinic_name or "Welcome to Aestheticc POS")
        title.setObjectName("title")
        subtitle = QLabel(
            f"Today, {overview.today:%A} {overview.today.day} {overview.today:%B %Y}"
            if overview.is_set_up
            else "This database is empty. Run “./run demo” to look around with a demo clinic."
        )
        subtitle.setObjectName("subtitle")
        layout.addWidget(title)
        layout.addWidget(subtitle)
        if training:
            banner = QLabel("Training mode: a separate practice database. Nothing here is real.")
            banner.setObjectName("banner")
            layout.addWidget(banner)
        grid = QGridLayout()
        grid.setSpacing(16)
        figures = [
            _Figure("Clients", f"{overview.clients:,}"),
            _Figure("Appointments today", f"{overview.appointments_today:,}"),
            _Figure("Active packages", f"{overview.active_packages:,}"),
            _Figure("Members", f"{overview.members:,}"),
            _Figure("Treatments on the menu", f"{overview.treatments:,}"),
            _Figure("Staff", f"{overview.staff:,}"),
        ]
        for index, figure in enumerate(figures):
            grid.addWidget(self._card(figure), index // 3, index % 3)
        layout.addLayout(grid)
        layout.addStretch(1)
        return root

    @staticmethod
    def _card(figure: _Figure) -> QFrame:
        card = QFrame()
        card.setObjectName("card")
        box = QVBoxLayout(card)
        box.setContentsMargins(20, 16, 20, 16)
        value = QLabel(figure.value)
        value.setObjectName("figure")
        caption = QLabel(figure.caption)
        caption.setObjectName("figureCaption")
        for label in (value, caption):
            label.setAlignment(Qt.AlignmentFlag.AlignLeft)
            box.addWidget(label)
        return card
