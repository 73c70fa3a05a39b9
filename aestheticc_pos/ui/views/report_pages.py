"""The Reports screen's first two pages: the dashboard (the owner's daily figures) and takings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QComboBox, QDateEdit, QGridLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from aestheticc_pos.domain.checkout import TenderKind
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.reports import Grouping
from aestheticc_pos.services import report_takings
from aestheticc_pos.services import reports as reports_service
from aestheticc_pos.services.report_takings import Split, TakingsReport
from aestheticc_pos.services.reports import Dashboard
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.report_export import ReportTable
from aestheticc_pos.ui.views.report_parts import FigureCard, bar_chart, chart_view, page_layout, pounds
from aestheticc_pos.ui.widgets.wheel import calm_wheel

TENDERS = {
    TenderKind.CASH.value: "Cash",
    TenderKind.CARD.value: "Card",
    TenderKind.DIRECT_DEBIT.value: "Direct Debit",
    TenderKind.DEPOSIT.value: "Deposits",
    TenderKind.PAYMENT_LINK.value: "Payment links",
}
KINDS = {"treatment": "Treatments", "product": "Products", "package": "Packages", "membership": "Memberships"}
RIGHT_3 = frozenset({1, 2, 3})


def change_text(now: Money, before: Money, what: str) -> str:
    """ "+12% on the same days of last month" / "−5% …" / "" when there is nothing to compare with."""
    if before.pence <= 0:
        return f"Nothing {what}" if now.pence == 0 else ""
    change = round((now.pence - before.pence) * 100 / before.pence)
    sign = "+" if change >= 0 else "−"
    return f"{sign}{abs(change)}% {what}"


class DashboardPage(QWidget):
    def __init__(self, host: Any) -> None:
        super().__init__()
        self.host = host
        self.loaded = False
        self.range_set = False
        self.report: Dashboard | None = None
        layout = page_layout(self)
        self.heading = QLabel(" ")
        self.heading.setObjectName("subtitle")
        layout.addWidget(self.heading)
        grid = QGridLayout()
        grid.setSpacing(14)
        self.cards = {
            key: FigureCard(caption)
            for key, caption in (
                ("today", "Takings today"),
                ("month", "This month so far"),
                ("mrr", "Monthly recurring revenue"),
                ("arrears", "Members in arrears"),
                ("liability", "Owed in unused sessions"),
                ("expiring", "Packages expiring in 30 days"),
            )
        }
        for index, card in enumerate(self.cards.values()):
            grid.addWidget(card, index // 3, index % 3)
        layout.addLayout(grid)
        self.chart = chart_view(200)
        layout.addWidget(self.chart, 1)

    def load(self) -> None:
        services, staff_id = self.host.desk.services, self.host.desk.staff_id
        self.host.run(lambda: reports_service.dashboard(services, staff_id=staff_id), self.show_report)

    def show_report(self, d: Dashboard) -> None:
        self.loaded = True
        self.report = d
        self.heading.setText(f"{d.clinic_name or 'The clinic'} today, {fmt.long_date(d.today)}")
        self.cards["today"].show_figure(
            fmt.money(d.takings_today),
            f"{d.sales_today:,} sale{'s' if d.sales_today != 1 else ''}, {d.appointments_today:,} appointment"
            f"{'s' if d.appointments_today != 1 else ''} today",
        )
        self.cards["month"].show_figure(
            fmt.money(d.month_to_date),
            f"{change_text(d.month_to_date, d.last_month_to_date, 'on the same days of last month')}"
            f" ({fmt.money(d.last_month_to_date)}); all of last month {fmt.money(d.last_month)}",
        )
        self.cards["mrr"].show_figure(
            fmt.money(d.mrr), f"{d.members:,} member{'s' if d.members != 1 else ''}"
        )
        self.cards["arrears"].show_figure(
            f"{d.in_arrears:,}",
            f"{fmt.money(d.arrears)} failed or charged back" if d.in_arrears else "Nobody owes",
        )
        self.cards["liability"].show_figure(
            fmt.money(d.liability),
            f"{d.unredeemed_sessions:,} session{'s' if d.unredeemed_sessions != 1 else ''} not used yet",
        )
        self.cards["expiring"].show_figure(f"{d.expiring_packages:,}", "with sessions not booked yet")
        bar_chart(
            self.chart,
            [f"{day.day}" for day, _net in d.last_days],
            [("Net takings (£)", [pounds(net.pence) for _day, net in d.last_days])],
            title="The last 30 days",
        )


class TakingsPage(QWidget):
    def __init__(self, host: Any) -> None:
        super().__init__()
        self.host = host
        self.loaded = False
        self.range_set = False
        self.report: TakingsReport | None = None
        layout = page_layout(self)
        controls = QHBoxLayout()
        self.first = _date_edit()
        self.last = _date_edit()
        self.grouping = QComboBox()
        for grouping, caption in (
            (Grouping.DAY, "By day"),
            (Grouping.WEEK, "By week"),
            (Grouping.MONTH, "By month"),
        ):
            self.grouping.addItem(caption, grouping)
        calm_wheel(self.grouping)
        show = QPushButton("Show")
        show.clicked.connect(self.load)
        for widget in (QLabel("From"), self.first, QLabel("to"), self.last, self.grouping, show):
            controls.addWidget(widget)
        controls.addStretch(1)
        layout.addLayout(controls)
        self.totals = QLabel(" ")
        self.totals.setObjectName("subtitle")
        layout.addWidget(self.totals)
        self.chart = chart_view(280)
        layout.addWidget(self.chart)
        self.cards = {
            key: host.table_card(caption)
            for key, caption in (
                ("periods", "Takings by period"),
                ("tender", "By tender"),
                ("practitioner", "By practitioner"),
                ("kind", "By kind"),
                ("refunds", "Refunds and voids by reason"),
                ("discounts", "Discounts given by reason"),
                ("tiers", "Member discounts against what members paid"),
            )
        }
        pairs = QGridLayout()
        pairs.setSpacing(14)
        for index, key in enumerate(("tender", "practitioner", "kind", "refunds", "discounts", "tiers")):
            pairs.addWidget(self.cards[key], index // 2, index % 2)
        layout.addWidget(self.cards["periods"])
        layout.addLayout(pairs)

    def set_range(self, first: dt.date, last: dt.date, grouping: Grouping) -> None:
        self.first.setDate(QDate(first.year, first.month, first.day))
        self.last.setDate(QDate(last.year, last.month, last.day))
        self.grouping.setCurrentIndex(self.grouping.findData(grouping))

    def load(self) -> None:
        if not self.range_set:
            self.range_set = True
            today = self.host.desk.services.now().astimezone(self.host.desk.settings.tz).date()
            self.set_range(today - dt.timedelta(days=89), today, Grouping.WEEK)
        services, staff_id = self.host.desk.services, self.host.desk.staff_id
        first, last = self.first.date().toPython(), self.last.date().toPython()
        grouping = self.grouping.currentData()
        self.host.run(
            lambda: report_takings.takings_report(
                services, first=first, last=last, grouping=grouping, staff_id=staff_id
            ),
            self.show_report,
        )

    def show_report(self, r: TakingsReport) -> None:
        self.loaded = True
        self.report = r
        span = f"{fmt.date(r.first)} to {fmt.date(r.last)}"
        self.totals.setText(
            f"{span}: {r.sales} sales, taken {fmt.money(r.taken)}, refunded {fmt.money(-r.refunded)}, "
            f"net {fmt.money(r.net)}"
        )
        labels = [_period_label(p.period.first, r.grouping) for p in r.periods]
        bar_chart(
            self.chart,
            labels,
            [
                ("Taken (£)", [pounds(p.taken.pence) for p in r.periods]),
                ("Refunded (£)", [pounds(p.refunded.pence) for p in r.periods]),
            ],
            stacked=True,
            line=("Net (£)", [pounds(p.net.pence) for p in r.periods]),
        )
        for key, table in takings_tables(r).items():
            self.cards[key].show_table(table)


def takings_tables(r: TakingsReport) -> dict[str, ReportTable]:
    note = f"{fmt.date(r.first)} to {fmt.date(r.last)}; amounts include VAT; refunds are negative."

    def split_table(
        title: str, splits: tuple[Split, ...], names: dict[str, str] | None = None
    ) -> ReportTable:
        rows = tuple(((names or {}).get(s.key, s.name), s.taken, s.refunded, s.net) for s in splits)
        total = (
            "Total",
            _sum(s.taken for s in splits),
            _sum(s.refunded for s in splits),
            _sum(s.net for s in splits),
        )
        return ReportTable(
            title, ("", "Taken", "Refunded", "Net"), (*rows, total) if rows else (), RIGHT_3, note
        )

    return {
        "periods": ReportTable(
            "Takings by period",
            ("Period", "Sales", "Taken", "Refunded", "Net"),
            tuple(
                (_period_text(p.period.first, p.period.last), p.sales, p.taken, p.refunded, p.net)
                for p in r.periods
            )
            + (("Total", r.sales, r.taken, r.refunded, r.net),),
            frozenset({1, 2, 3, 4}),
            note,
        ),
        "tender": split_table("Takings by tender", r.by_tender, TENDERS),
        "practitioner": split_table("Takings by practitioner", r.by_practitioner),
        "kind": split_table("Takings by kind", r.by_kind, KINDS),
        "refunds": ReportTable(
            "Refunds and voids by reason",
            ("Reason", "Documents", "Amount"),
            tuple((x.reason, x.documents, x.amount) for x in r.refund_reasons),
            frozenset({1, 2}),
            note,
        ),
        "discounts": ReportTable(
            "Discounts given by reason",
            ("Reason", "Lines", "Discount"),
            tuple((x.reason, x.lines, x.amount) for x in r.discounts)
            + (("Package sessions used (list price, not a discount)", None, r.package_sessions_used),),
            frozenset({1, 2}),
            note,
        ),
        "tiers": ReportTable(
            "Member discounts against what members paid",
            ("Tier", "Discount given", "Members paid"),
            tuple((t.tier_name, t.discount, t.members_paid) for t in r.tier_costs),
            frozenset({1, 2}),
            "Membership payments collected in the range (Direct Debit, desk and till).",
        ),
    }


def _sum(amounts: Any) -> Money:
    """Adds the few figures of a table's total row (each already one aggregate)."""
    amounts = list(amounts)
    total = Money.zero(amounts[0].currency) if amounts else Money.zero()
    for amount in amounts:
        total = total + amount
    return total


def _period_label(first: dt.date, grouping: Grouping) -> str:
    if grouping is Grouping.MONTH:
        return f"{fmt.date(first)[-8:]}"
    return fmt.date(first)[:-5]


def _period_text(first: dt.date, last: dt.date) -> str:
    return fmt.date(first) if first == last else f"{fmt.date(first)} – {fmt.date(last)}"


def _date_edit() -> QDateEdit:
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("d MMM yyyy")
    edit.setMinimumWidth(130)
    edit.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    calm_wheel(edit)
    return edit
