"""The parts every Reports page is made of: a figure card, a table card (a ``ReportTable`` with its CSV, PDF and
Print buttons) and charts drawn with QtCharts from plain numbers (pounds for money)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QLineSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from aestheticc_pos.ui.forms import Card
from aestheticc_pos.ui.models.rows import LEFT, RIGHT, Column, RowsModel, rows_table
from aestheticc_pos.ui.report_export import ReportTable, shown

PALETTE = ("#5b4b8a", "#c48bb3", "#7fb8a4", "#e0b25c", "#8aa6d6", "#d9826b", "#9d97a8")
ROW_HEIGHT = 30


class FigureCard(Card):
    """A figure and what it is, with a line under it (a comparison, a count)."""

    def __init__(self, caption: str) -> None:
        super().__init__(caption)
        self.value = QLabel("…")
        self.value.setObjectName("figure")
        self.detail = QLabel(" ")
        self.detail.setObjectName("figureCaption")
        self.detail.setWordWrap(True)
        self.box.addWidget(self.value)
        self.box.addWidget(self.detail)
        self.box.addStretch(1)

    def show_figure(self, value: str, detail: str = " ") -> None:
        self.value.setText(value)
        self.detail.setText(detail or " ")


class TableCard(Card):
    """A ``ReportTable`` on screen with "CSV…", "PDF…" and "Print…": ``on_csv`` / ``on_pdf`` / ``on_print``
    are called with the table shown now. The table is as tall as its rows, up to ``max_rows``."""

    def __init__(
        self,
        heading: str,
        on_csv: Callable[[ReportTable], None],
        on_pdf: Callable[[ReportTable], None],
        on_print: Callable[[ReportTable], None],
        *,
        max_rows: int = 12,
    ) -> None:
        super().__init__(heading)
        self.table_value: ReportTable | None = None
        self.max_rows = max_rows
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)  # as tall as its rows
        self.note = QLabel(" ")
        self.note.setObjectName("hint")
        self.note.setWordWrap(True)
        self.box.addWidget(self.note)
        self.model = RowsModel([])
        self.view = rows_table(self.model)
        self.view.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.box.addWidget(self.view)
        buttons = QHBoxLayout()
        self.csv_button = QPushButton("CSV…")
        self.pdf_button = QPushButton("PDF…")
        self.print_button = QPushButton("Print…")
        for button, act in (
            (self.csv_button, on_csv),
            (self.pdf_button, on_pdf),
            (self.print_button, on_print),
        ):
            button.clicked.connect(
                lambda _c=False, act=act: self.table_value is not None and act(self.table_value)
            )
            button.setEnabled(False)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.box.addLayout(buttons)

    def show_table(self, table: ReportTable) -> None:
        self.table_value = table
        self.note.setText(table.note or " ")
        columns = [
            Column(caption, (lambda row, i=i: shown(row[i])), RIGHT if i in table.right else LEFT)
            for i, caption in enumerate(table.columns)
        ]
        self.model.beginResetModel()
        self.model.columns = columns
        self.model.endResetModel()
        self.model.set_rows(table.rows)
        header = self.view.horizontalHeader()
        header.setStretchLastSection(False)
        for i in range(len(columns)):
            header.setSectionResizeMode(i, header.ResizeMode.ResizeToContents)
        if columns:
            header.setSectionResizeMode(table.stretch, header.ResizeMode.Stretch)
        shown_rows = max(1, min(len(table.rows), self.max_rows))
        self.view.setFixedHeight(header.sizeHint().height() + shown_rows * ROW_HEIGHT + 4)
        for button in (self.csv_button, self.pdf_button, self.print_button):
            button.setEnabled(True)


def chart_view(height: int = 260) -> QChartView:
    view = QChartView()
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(height)
    view.setStyleSheet("background: transparent;")
    return view


def bar_chart(
    view: QChartView,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    stacked: bool = False,
    title: str = "",
    line: tuple[str, Sequence[float]] | None = None,
) -> QChart:
    """Bars (side by side or stacked) per category, and optionally a line over them on the same axis."""
    chart = QChart()
    chart.setTitle(title)
    chart.setMargins(QMargins(4, 4, 4, 4))
    chart.setBackgroundRoundness(0)
    chart.legend().setVisible(len(series) > 1 or line is not None)
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    bars = QStackedBarSeries() if stacked else QBarSeries()
    low, high = 0.0, 0.0
    for index, (name, values) in enumerate(series):
        bar_set = QBarSet(name)
        bar_set.setColor(QColor(PALETTE[index % len(PALETTE)]))
        bar_set.setBorderColor(QColor(PALETTE[index % len(PALETTE)]))
        bar_set.append([float(v) for v in values])
        bars.append(bar_set)
    if stacked:
        for i in range(len(categories)):
            up = sum(max(0.0, float(vals[i])) for _n, vals in series)
            down = sum(min(0.0, float(vals[i])) for _n, vals in series)
            high, low = max(high, up), min(low, down)
    else:
        for _name, values in series:
            high = max([high, *(float(v) for v in values)])
            low = min([low, *(float(v) for v in values)])
    chart.addSeries(bars)
    axis_x = QBarCategoryAxis()
    axis_x.append(list(categories))
    axis_x.setLabelsAngle(-45 if len(categories) > 12 else 0)
    axis_y = QValueAxis()
    chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
    bars.attachAxis(axis_x)
    bars.attachAxis(axis_y)
    if line is not None:
        curve = QLineSeries()
        curve.setName(line[0])
        curve.setColor(QColor("#2b2b2b"))
        for i, v in enumerate(line[1]):
            curve.append(float(i), float(v))
            high, low = max(high, float(v)), min(low, float(v))
        chart.addSeries(curve)
        curve.attachAxis(axis_y)
        hidden_x = QValueAxis()
        hidden_x.setRange(-0.5, len(categories) - 0.5)
        hidden_x.setVisible(False)
        chart.addAxis(hidden_x, Qt.AlignmentFlag.AlignBottom)
        curve.attachAxis(hidden_x)
    axis_y.setRange(low * 1.1, high * 1.1 if high > 0 else 1.0)
    axis_y.applyNiceNumbers()
    axis_y.setLabelFormat("%.0f")
    old = view.chart()
    view.setChart(chart)
    if old is not None:
        old.deleteLater()
    return chart


def page_layout(page: QWidget) -> QVBoxLayout:
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 8, 0)
    layout.setSpacing(14)
    return layout


def pounds(pence: int) -> float:
    """An amount for a chart's axis (charts only: money is never a float anywhere else)."""
    return pence / 100
