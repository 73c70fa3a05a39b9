"""The Reports screen's memberships, package liability and redemption pages.

The liability page lists the clients whose sessions expire soon with a reminder written for each, to copy into
a text or to email to the client through the clinic's mail server (queued, sent in the background).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDate
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSpinBox, QWidget

from aestheticc_pos.domain.reports import months_back
from aestheticc_pos.services import report_memberships, report_packages, report_redemption
from aestheticc_pos.services.report_memberships import MembershipsReport, MembersInArrears
from aestheticc_pos.services.report_packages import ExpiringSessions, LiabilityReport
from aestheticc_pos.services.report_redemption import RedemptionReport
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.dialogs.send_to_client import EmailButton
from aestheticc_pos.ui.forms import Card
from aestheticc_pos.ui.report_export import ReportTable
from aestheticc_pos.ui.views.report_arrears import arrears_table
from aestheticc_pos.ui.views.report_pages import _date_edit
from aestheticc_pos.ui.views.report_parts import TableCard, bar_chart, chart_view, page_layout, pounds
from aestheticc_pos.ui.views.report_reminders import expiring_table, reminder_message, reminder_text
from aestheticc_pos.ui.widgets.wheel import calm_wheel

MONTHS_SHOWN = 12


def month_text(month: dt.date) -> str:
    return fmt.date(month)[-8:]  # "Nov 2026"


def _short_month(month: dt.date, count: int) -> str:
    """A chart's month under a narrow bar: "Nov", or "Nov 26" when the range spans more than a year."""
    text = month_text(month)
    return text[:3] if count <= 12 else f"{text[:3]} {text[-2:]}"


class _MonthsPage(QWidget):
    """A page over a range of months (the last twelve at first)."""

    def __init__(self, host: Any) -> None:
        super().__init__()
        self.host = host
        self.loaded = False
        self.range_set = False
        self.layout_ = page_layout(self)
        controls = QHBoxLayout()
        self.first = _date_edit()
        self.last = _date_edit()
        for edit in (self.first, self.last):
            edit.setDisplayFormat("MMM yyyy")
        show = QPushButton("Show")
        show.clicked.connect(self.load)
        for widget in (QLabel("Months from"), self.first, QLabel("to"), self.last, show):
            controls.addWidget(widget)
        self.extra_controls = controls
        controls.addStretch(1)
        self.layout_.addLayout(controls)

    def months(self) -> tuple[dt.date, dt.date]:
        if not self.range_set:
            self.range_set = True
            today = self.host.desk.services.now().astimezone(self.host.desk.settings.tz).date()
            first = months_back(today, MONTHS_SHOWN - 1)
            self.first.setDate(QDate(first.year, first.month, 1))
            self.last.setDate(QDate(today.year, today.month, today.day))
        return self.first.date().toPython(), self.last.date().toPython()


class MembershipsPage(_MonthsPage):
    def __init__(self, host: Any) -> None:
        super().__init__(host)
        self.report: MembershipsReport | None = None
        self.summary = QLabel(" ")
        self.summary.setObjectName("subtitle")
        self.layout_.addWidget(self.summary)
        charts = QHBoxLayout()
        self.members_chart = chart_view(260)
        self.mrr_chart = chart_view(260)
        charts.addWidget(self.members_chart)
        charts.addWidget(self.mrr_chart)
        self.layout_.addLayout(charts)
        self.cards = {
            key: host.table_card(caption)
            for key, caption in (
                ("mrr", "Monthly recurring revenue and its movements"),
                ("tiers", "Members by tier at each month's end"),
                ("collections", "Direct Debit collection"),
                ("coming", "Payments coming in the next 30 days"),
            )
        }
        # The screen lists the most overdue members; its CSV, PDF and print have every member in arrears.
        self.cards["arrears"] = TableCard(
            "Members in arrears",
            self.every_member(host.export_csv),
            self.every_member(host.export_pdf),
            self.every_member(host.print_table),
        )
        for key in ("mrr", "tiers", "arrears", "collections", "coming"):
            self.layout_.addWidget(self.cards[key])

    def every_member(self, act: Callable[[ReportTable], None]) -> Callable[[ReportTable], None]:
        """``act`` on the table shown, or, when the screen lists only the most overdue members, on the table of
        every member in arrears (read off the GUI thread first)."""

        def on(table: ReportTable) -> None:
            if self.report is None or not self.report.arrears_more:
                act(table)
                return
            services, staff_id = self.host.desk.services, self.host.desk.staff_id
            self.host.run(
                lambda: report_memberships.members_in_arrears(services, limit=None, staff_id=staff_id),
                lambda whole: act(arrears_table(whole)),
            )

        return on

    def load(self) -> None:
        first, last = self.months()
        services, staff_id = self.host.desk.services, self.host.desk.staff_id
        self.host.run(
            lambda: report_memberships.memberships_report(
                services, first_month=first, last_month=last, staff_id=staff_id
            ),
            self.show_report,
        )

    def show_report(self, r: MembershipsReport) -> None:
        self.loaded = True
        self.report = r
        latest = r.mrr[-1] if r.mrr else None
        rate = r.collection_rate_bp
        self.summary.setText(
            f"MRR {fmt.money(r.money(latest.closing)) if latest else '—'}; "
            f"{r.in_arrears:,} in arrears owing {fmt.money(r.arrears_total)}; "
            f"collection success {fmt.percent(rate) if rate is not None else '—'}; "
            f"{fmt.money(r.coming_total)} coming in the next 30 days"
        )
        labels = [_short_month(m, len(r.months)) for m in r.months]
        counts = {(t.month, t.tier_name): t.members for t in r.members_by_tier}
        bar_chart(
            self.members_chart,
            labels,
            [(tier, [counts.get((m, tier), 0) for m in r.months]) for tier in r.tiers],
            stacked=True,
            title="Members by tier",
        )
        bar_chart(
            self.mrr_chart,
            labels,
            [
                ("New (£)", [pounds(m.new) for m in r.mrr]),
                ("Upgrades (£)", [pounds(m.upgrades) for m in r.mrr]),
                ("Downgrades (£)", [-pounds(m.downgrades) for m in r.mrr]),
                ("Churn (£)", [-pounds(m.churn) for m in r.mrr]),
            ],
            stacked=True,
            title="MRR and its movements",
            line=("MRR (£)", [pounds(m.closing) for m in r.mrr]),
        )
        for key, table in memberships_tables(r).items():
            self.cards[key].show_table(table)


def memberships_tables(r: MembershipsReport) -> dict[str, ReportTable]:
    money = r.money
    counts = {(t.month, t.tier_name): t.members for t in r.members_by_tier}
    return {
        "mrr": ReportTable(
            "Monthly recurring revenue",
            ("Month", "Opening", "New", "Upgrades", "Downgrades", "Churn", "Closing"),
            tuple(
                (
                    month_text(m.month),
                    money(m.opening),
                    money(m.new),
                    money(m.upgrades),
                    money(m.downgrades),
                    money(m.churn),
                    money(m.closing),
                )
                for m in r.mrr
            ),
            frozenset(range(1, 7)),
            "Monthly prices of the members at each month's end (the month under way: today).",
        ),
        "tiers": ReportTable(
            "Members by tier",
            ("Month", *r.tiers),
            tuple((month_text(m), *(counts.get((m, t), 0) for t in r.tiers)) for m in r.months),
            frozenset(range(1, len(r.tiers) + 1)),
        ),
        "arrears": arrears_table(MembersInArrears(r.arrears, r.in_arrears, r.arrears_total, r.arrears_more)),
        "collections": ReportTable(
            "Direct Debit collection",
            ("Month", "Collected", "Failed", "Success", "Amount collected", "Amount failed"),
            tuple(
                (
                    month_text(c.month),
                    c.collected,
                    c.failed,
                    fmt.percent(c.rate_bp) if c.rate_bp is not None else "—",
                    c.collected_amount,
                    c.failed_amount,
                )
                for c in r.collections
            ),
            frozenset(range(1, 6)),
            "Payments by their charge date; failed counts charge-backs too.",
        ),
        "coming": ReportTable(
            "Payments coming in the next 30 days",
            ("Charge date", "Payments", "Amount"),
            tuple((c.charge_date, c.payments, c.amount) for c in r.coming)
            + ((("Total", sum(c.payments for c in r.coming), r.coming_total),) if r.coming else ()),
            frozenset({1, 2}),
        ),
    }


class LiabilityPage(_MonthsPage):
    def __init__(self, host: Any) -> None:
        super().__init__(host)
        self.report: LiabilityReport | None = None
        self.expiring: ExpiringSessions | None = None
        self.within = QSpinBox()
        self.within.setRange(1, 365)
        self.within.setValue(30)
        self.within.setSuffix(" days")
        calm_wheel(self.within)
        self.within.editingFinished.connect(self.load_expiring)  # other days: only the list is read again
        self.extra_controls.insertWidget(self.extra_controls.count() - 2, QLabel("Expiring within"))
        self.extra_controls.insertWidget(self.extra_controls.count() - 2, self.within)
        self.summary = QLabel(" ")
        self.summary.setObjectName("subtitle")
        self.summary.setWordWrap(True)
        self.layout_.addWidget(self.summary)
        self.chart = chart_view(260)
        self.layout_.addWidget(self.chart)
        self.cards = {
            key: host.table_card(caption)
            for key, caption in (
                ("packages", "Unused sessions by package"),
                ("months", "Roll-forward by month"),
            )
        }
        # The screen lists the clients of the soonest expiries; its CSV, PDF and print have every client.
        self.cards["expiring"] = TableCard(
            "Sessions expiring soon",
            self.every_client(host.export_csv),
            self.every_client(host.export_pdf),
            self.every_client(host.print_table),
        )
        for card in self.cards.values():
            self.layout_.addWidget(card)
        reminder = Card("Reminder for the client chosen above")
        self.reminder = QPlainTextEdit()
        self.reminder.setReadOnly(True)
        self.reminder.setFixedHeight(120)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self.copy_reminder)
        self.email_button = EmailButton("Email…", host.desk)
        self.email_button.setToolTip("Email the reminder to the client (sent in the background)")
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.email_button)
        buttons.addStretch(1)
        reminder.box.addWidget(self.reminder)
        reminder.box.addLayout(buttons)
        self.layout_.addWidget(reminder)
        self.cards["expiring"].view.selectionModel().currentRowChanged.connect(
            lambda current, _p: self.choose(current.row())
        )

    def load(self) -> None:
        """The liability and the sessions expiring soon, asked side by side (each off the GUI thread)."""
        first, last = self.months()
        services, staff_id = self.host.desk.services, self.host.desk.staff_id
        self.host.run(
            lambda: report_packages.liability_report(
                services, first_month=first, last_month=last, staff_id=staff_id
            ),
            self.show_report,
        )
        self.load_expiring()

    def load_expiring(self) -> None:
        within = self.within.value()
        services, staff_id = self.host.desk.services, self.host.desk.staff_id
        self.host.run(
            lambda: report_packages.expiring_sessions(
                services, within_days=within, limit=report_packages.EXPIRING_SHOWN, staff_id=staff_id
            ),
            self.show_expiring,
        )

    def show_report(self, r: LiabilityReport) -> None:
        self.loaded = True
        self.report = r
        self.summary.setText(
            f"On {fmt.date(r.as_of)} the clinic owes {fmt.money(r.value)} in {r.sessions:,} unused sessions, of which "
            f"{fmt.money(r.vat)} is VAT already accounted for when the packages were sold."
        )
        bar_chart(
            self.chart,
            [month_text(m.month) for m in r.months],
            [
                ("Sold (£)", [pounds(m.flows.sold + m.flows.adjusted) for m in r.months]),
                ("Redeemed (£)", [-pounds(m.flows.redeemed) for m in r.months]),
                ("Refunded (£)", [-pounds(m.flows.refunded) for m in r.months]),
                ("Expired (£)", [-pounds(m.flows.expired) for m in r.months]),
            ],
            stacked=True,
            title="Liability month by month",
            line=("Closing (£)", [pounds(m.closing) for m in r.months]),
        )
        for key, table in liability_tables(r).items():
            self.cards[key].show_table(table)

    def every_client(self, act: Callable[[ReportTable], None]) -> Callable[[ReportTable], None]:
        """``act`` on the table shown, or, when the screen lists only the soonest expiries, on the table of
        every client (read off the GUI thread first)."""

        def on(table: ReportTable) -> None:
            e = self.expiring
            if e is None or not e.more:
                act(table)
                return
            services, staff_id = self.host.desk.services, self.host.desk.staff_id
            self.host.run(
                lambda: report_packages.expiring_sessions(
                    services, within_days=e.within_days, limit=None, staff_id=staff_id
                ),
                lambda whole: act(expiring_table(whole)),
            )

        return on

    def show_expiring(self, e: ExpiringSessions) -> None:
        self.expiring = e
        self.cards["expiring"].show_table(expiring_table(e))
        self.choose(0 if e.clients else -1)

    def choose(self, row: int) -> None:
        e = self.expiring
        if e is None or not 0 <= row < len(e.clients):
            self.reminder.setPlainText("")
            self.copy_button.setEnabled(False)
            self.email_button.set_target(None)
            return
        client = e.clients[row]
        self.reminder.setPlainText(
            reminder_text(client, self.host.desk.settings.name, self.host.desk.settings.phone)
        )
        self.copy_button.setEnabled(True)
        self.email_button.set_target(
            lambda settings: reminder_message(client, settings), client_id=client.client_id
        )

    def copy_reminder(self) -> None:
        QGuiApplication.clipboard().setText(self.reminder.toPlainText())
        self.host.desk.message.emit("The reminder is copied: paste it into an email or a text to the client.")


def liability_tables(r: LiabilityReport) -> dict[str, ReportTable]:
    money = r.money
    return {
        "packages": ReportTable(
            "Unused sessions by package",
            ("Package", "Clients' packages", "Sessions", "Value", "of which VAT"),
            tuple((p.name, p.client_packages, p.sessions, p.value, p.vat) for p in r.by_package)
            + (("Total", sum(p.client_packages for p in r.by_package), r.sessions, r.value, r.vat),),
            frozenset({1, 2, 3, 4}),
            f"On {fmt.date(r.as_of)}, at package value (price ÷ sessions); booked sessions count until used.",
        ),
        "months": ReportTable(
            "Package liability roll-forward",
            ("Month", "Opening", "Sold", "Adjusted", "Redeemed", "Refunded", "Expired", "Closing"),
            tuple(
                (
                    month_text(m.month),
                    money(m.opening),
                    money(m.flows.sold),
                    money(m.flows.adjusted),
                    money(m.flows.redeemed),
                    money(m.flows.refunded),
                    money(m.flows.expired),
                    money(m.closing),
                )
                for m in r.months
            ),
            frozenset(range(1, 8)),
            "Expired is breakage: sessions left unused when a package expired.",
        ),
    }


class RedemptionPage(QWidget):
    def __init__(self, host: Any) -> None:
        super().__init__()
        self.host = host
        self.loaded = False
        self.range_set = False
        self.report: RedemptionReport | None = None
        layout = page_layout(self)
        self.chart = chart_view(260)
        layout.addWidget(self.chart)
        self.cards = {
            "packages": host.table_card("Redemption by package"),
            "steps": host.table_card("Days between steps"),
        }
        for card in self.cards.values():
            layout.addWidget(card)
        layout.addStretch(1)

    def load(self) -> None:
        services, staff_id = self.host.desk.services, self.host.desk.staff_id
        self.host.run(
            lambda: report_redemption.redemption_report(services, staff_id=staff_id), self.show_report
        )

    def show_report(self, r: RedemptionReport) -> None:
        self.loaded = True
        self.report = r
        bar_chart(
            self.chart,
            [p.name for p in r.packages],
            [("Sessions used (%)", [(p.rate_bp or 0) / 100 for p in r.packages])],
            title="Share of sessions used",
        )
        for key, table in redemption_tables(r).items():
            self.cards[key].show_table(table)


def redemption_tables(r: RedemptionReport) -> dict[str, ReportTable]:
    return {
        "packages": ReportTable(
            "Redemption by package",
            ("Package", "Sold", "Sessions", "Used", "Booked", "Refunded", "Expired unused", "Used %"),
            tuple(
                (
                    p.name,
                    p.sold,
                    p.sessions,
                    p.redeemed,
                    p.booked,
                    p.refunded,
                    p.expired,
                    fmt.percent(p.rate_bp) if p.rate_bp is not None else "—",
                )
                for p in r.packages
            ),
            frozenset(range(1, 8)),
        ),
        "steps": ReportTable(
            "Days between steps",
            ("Package", "Step", "Minimum days", "Clients", "Average days"),
            tuple(
                (s.package_name, f"{s.position}. {s.step_name}", s.min_days, s.clients, s.average_days)
                for s in r.steps
            ),
            frozenset({2, 3, 4}),
            "From the last session of the step before to the first session of this one.",
        ),
    }
