"""Reports (managers, F6): a dashboard of the figures an owner checks every day, then takings, memberships,
package liability and redemption, each as charts and tables. Every table exports as CSV and prints or saves as
a PDF.

Each page asks its report of the services through ``Desk.run`` (off the GUI thread); while one is loading a
bar in its reserved space shows the work going on, so nothing moves and the window never waits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.dialogs.folders import choose_save_path, remember
from aestheticc_pos.ui.forms import FORM_STYLE
from aestheticc_pos.ui.report_export import ReportTable, print_tables, save_csv, save_pdf
from aestheticc_pos.ui.topics import CATALOGUE, MEMBERSHIPS, PACKAGES, SALES
from aestheticc_pos.ui.views.report_pages import DashboardPage, TakingsPage
from aestheticc_pos.ui.views.report_pages_more import LiabilityPage, MembershipsPage, RedemptionPage
from aestheticc_pos.ui.views.report_parts import TableCard

T = TypeVar("T")
REPORT_FILES = "folders/reports"
PAGES = (
    ("dashboard", "Dashboard"),
    ("takings", "Takings"),
    ("memberships", "Memberships"),
    ("liability", "Package liability"),
    ("redemption", "Redemption"),
)


class ReportsView(QWidget):
    """``refresh()`` reloads the page shown; ``show_page(key)`` switches page."""

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self._loading = 0
        self.setStyleSheet(FORM_STYLE)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 18, 20, 10)
        layout.setSpacing(8)

        top = QHBoxLayout()
        title = QLabel("Reports")
        title.setObjectName("title")
        top.addWidget(title)
        top.addSpacing(20)
        self.tabs = QButtonGroup(self)
        self.tabs.setExclusive(True)
        self.tab_buttons: dict[str, QPushButton] = {}
        for key, caption in PAGES:
            button = QPushButton(caption)
            button.setCheckable(True)
            button.setStyleSheet(
                "QPushButton { padding: 6px 14px; } QPushButton:checked { background: #5b4b8a; color: white; }"
            )
            button.clicked.connect(lambda _c=False, key=key: self.show_page(key))
            self.tabs.addButton(button)
            self.tab_buttons[key] = button
            top.addWidget(button)
        top.addStretch(1)
        layout.addLayout(top)

        self.progress = QProgressBar()  # reserved space: shown empty when idle, busy while a report loads
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(4)
        layout.addWidget(self.progress)

        self.stack = QStackedWidget()
        self.pages: dict[str, Any] = {
            "dashboard": DashboardPage(self),
            "takings": TakingsPage(self),
            "memberships": MembershipsPage(self),
            "liability": LiabilityPage(self),
            "redemption": RedemptionPage(self),
        }
        self.scrolls: dict[str, QScrollArea] = {}
        for key, _caption in PAGES:
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            scroll.setWidget(self.pages[key])
            self.scrolls[key] = scroll
            self.stack.addWidget(scroll)
        layout.addWidget(self.stack, 1)
        self.current = "dashboard"
        self.tab_buttons["dashboard"].setChecked(True)
        self._stale: set[str] = set()
        desk.changed.connect(self._changed)

    # --- pages ---------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        self.pages[self.current].load()

    def show_page(self, key: str) -> None:
        self.current = key
        self.tab_buttons[key].setChecked(True)
        self.stack.setCurrentWidget(self.scrolls[key])
        page = self.pages[key]
        if key in self._stale or not page.loaded:
            self._stale.discard(key)
            page.load()

    def _changed(self, topics: frozenset[str]) -> None:
        if topics & {SALES, MEMBERSHIPS, PACKAGES, CATALOGUE}:
            self._stale = {key for key, _c in PAGES}
            if self.isVisible() and self.desk.staff is not None:
                self._stale.discard(self.current)
                self.pages[self.current].load()

    # --- what the pages use --------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._loading > 0

    def run(self, work: Callable[[], T], done: Callable[[T], None]) -> None:
        """Run ``work`` off the GUI thread with the progress bar busy, then ``done`` with its result."""
        self._loading += 1
        self.progress.setRange(0, 0)

        def finish() -> None:
            self._loading -= 1
            if self._loading == 0:
                self.progress.setRange(0, 1)
                self.progress.setValue(0)

        def ok(result: T) -> None:
            finish()
            done(result)

        def failed(message: str) -> None:
            finish()
            self.desk.message.emit(message)

        self.desk.run(work, ok, failed)

    def table_card(self, heading: str, *, max_rows: int = 12) -> TableCard:
        return TableCard(heading, self.export_csv, self.export_pdf, self.print_table, max_rows=max_rows)

    def export_csv(self, table: ReportTable, path: str | None = None) -> None:
        chosen = path or choose_save_path(
            self, REPORT_FILES, "Save the table as CSV", table.file_name("csv"), "CSV (*.csv)"
        )
        if not chosen:
            return
        try:
            written = save_csv(table, chosen)
        except OSError as error:
            self.desk.message.emit(
                f"The CSV could not be saved ({error.strerror or error}). Choose another folder."
            )
            return
        remember(REPORT_FILES, written.parent)
        self.desk.message.emit(f"Saved {written.name}.")

    def export_pdf(self, table: ReportTable, path: str | None = None) -> None:
        chosen = path or choose_save_path(
            self, REPORT_FILES, "Save the table as a PDF", table.file_name("pdf"), "PDF (*.pdf)"
        )
        if not chosen:
            return
        try:
            written = save_pdf(table.title, [table], self.desk.settings.name, self._printed(), chosen)
        except OSError as error:
            self.desk.message.emit(f"The PDF could not be saved ({error}). Choose another folder.")
            return
        remember(REPORT_FILES, written.parent)
        self.desk.message.emit(f"Saved {written.name}.")

    def print_table(self, table: ReportTable) -> None:
        print_tables(table.title, [table], self.desk.settings.name, self._printed(), self)

    def _printed(self) -> str:
        return fmt.date_time(self.desk.services.now(), self.desk.settings.tz)
