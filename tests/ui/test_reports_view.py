"""The Reports screen on the demo clinic: each page loads off the GUI thread and shows the services' figures; a
table exports as CSV and PDF."""

from __future__ import annotations

import csv
import datetime as dt

from sqlalchemy import select, update

from aestheticc_pos.domain.money import Money
from aestheticc_pos.services import report_memberships, report_packages
from aestheticc_pos.services import reports as reports_service
from aestheticc_pos.store.tables import MembershipRow
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.views.report_reminders import reminder_text
from aestheticc_pos.ui.views.reports import ReportsView


def _open(qtbot, demo_desk, switch_staff) -> ReportsView:
    switch_staff(demo_desk, "Sophie Laurent")
    view = ReportsView(demo_desk)
    qtbot.addWidget(view)
    view.resize(1150, 700)
    view.show()
    view.refresh()
    return view


def test_the_dashboard_shows_the_clinic_figures(qtbot, demo_desk, switch_staff) -> None:
    view = _open(qtbot, demo_desk, switch_staff)
    page = view.pages["dashboard"]
    qtbot.waitUntil(lambda: page.loaded and not view.busy, timeout=10_000)
    expected = reports_service.dashboard(demo_desk.services, staff_id=demo_desk.staff_id)
    assert page.cards["mrr"].value.text() == fmt.money(expected.mrr)
    assert page.cards["liability"].value.text() == fmt.money(expected.liability)
    assert page.cards["month"].value.text() == fmt.money(expected.month_to_date)
    assert page.cards["arrears"].value.text() == f"{expected.in_arrears:,}"
    assert expected.mrr.pence > 0 and expected.liability.pence > 0  # the demo clinic has members and packages
    assert page.chart.chart().series()[0].count() == 1  # one bar set: the last 30 days
    assert view.progress.maximum() == 1  # idle again


def test_every_page_loads_and_a_table_exports_as_csv_and_pdf(
    qtbot, demo_desk, switch_staff, tmp_path
) -> None:
    view = _open(qtbot, demo_desk, switch_staff)
    for key in ("takings", "memberships", "liability", "redemption"):
        view.show_page(key)
        qtbot.waitUntil(lambda key=key: view.pages[key].loaded and not view.busy, timeout=15_000)
    takings = view.pages["takings"]
    table = takings.cards["periods"].table_value
    assert table is not None and table.rows[-1][0] == "Total"
    assert table.rows[-1][4] == takings.report.net
    view.export_csv(table, str(tmp_path / "takings.csv"))
    with (tmp_path / "takings.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Period", "Sales", "Taken", "Refunded", "Net"]
    assert rows[-1][0] == "Total" and rows[-1][4] == fmt.editable_amount(takings.report.net)
    liability = view.pages["liability"]
    packages = liability.cards["packages"].table_value
    view.export_pdf(packages, str(tmp_path / "liability.pdf"))
    assert (tmp_path / "liability.pdf").read_bytes().startswith(b"%PDF")
    assert liability.report.months[-1].closing == liability.report.value.pence
    memberships = view.pages["memberships"]
    assert memberships.cards["mrr"].model.rowCount() == len(memberships.report.months)


def test_a_reminder_names_each_package_and_its_last_day() -> None:
    expires = dt.date(2026, 12, 10)
    package = report_packages.ExpiringPackage("cp1", "Peel trio", 2, 0, expires, Money(20000, "GBP"))
    client = report_packages.ClientWithExpiringSessions(
        "c1", "Ada", "Lovelace", "ada@example.com", (package,)
    )
    text = reminder_text(client, "Lumière Aesthetics", "01225 123456")
    assert text.startswith("Dear Ada,\n")
    assert f"You still have 2 sessions of your Peel trio to use by {fmt.long_date(expires)}." in text
    assert "call us on 01225 123456" in text and text.endswith("Lumière Aesthetics")


def test_the_expiring_list_shows_the_soonest_and_its_csv_has_every_client(
    qtbot, demo_desk, switch_staff, tmp_path, monkeypatch
) -> None:
    view = _open(qtbot, demo_desk, switch_staff)
    everyone = report_packages.expiring_sessions(
        demo_desk.services, within_days=365, limit=None, staff_id=demo_desk.staff_id
    ).clients
    assert len(everyone) >= 3  # the demo clinic: enough clients with sessions expiring within a year
    monkeypatch.setattr(report_packages, "EXPIRING_SHOWN", 1)
    saved = tmp_path / "expiring.csv"
    monkeypatch.setattr("aestheticc_pos.ui.views.reports.choose_save_path", lambda *_a, **_k: str(saved))
    view.show_page("liability")
    page = view.pages["liability"]
    qtbot.waitUntil(lambda: page.loaded and not view.busy, timeout=15_000)
    page.within.setValue(365)
    page.load_expiring()
    qtbot.waitUntil(lambda: page.expiring.within_days == 365 and not view.busy, timeout=15_000)
    card = page.cards["expiring"]
    assert page.expiring.more and card.model.rowCount() < len(everyone)
    assert "Only the clients of the 1 soonest expiries are listed here" in card.note.text()

    card.csv_button.click()  # every client, read again off the GUI thread, then saved
    qtbot.waitUntil(lambda: saved.exists() and not view.busy, timeout=15_000)
    with saved.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["Client", "Email", "Package"]
    assert [r[0] for r in rows[1:]] == [c.name for c in everyone]


def test_the_arrears_list_shows_the_most_overdue_and_its_csv_has_every_member(
    qtbot, demo_desk, switch_staff, tmp_path, monkeypatch
) -> None:
    view = _open(qtbot, demo_desk, switch_staff)
    with demo_desk.services.uow() as uow:  # three of the demo clinic's members fall behind, days apart
        chosen = uow.session.scalars(select(MembershipRow.id).order_by(MembershipRow.id).limit(3)).all()
        for days, membership_id in enumerate(chosen):
            uow.session.execute(
                update(MembershipRow)
                .where(MembershipRow.id == membership_id)
                .values(status="past_due", past_due_since=dt.date(2026, 11, 1) + dt.timedelta(days=days))
            )
        uow.commit()
    everyone = report_memberships.members_in_arrears(
        demo_desk.services, limit=None, staff_id=demo_desk.staff_id
    )
    assert everyone.count == len(everyone.members) == 3
    monkeypatch.setattr(report_memberships, "ARREARS_SHOWN", 1)
    saved = tmp_path / "arrears.csv"
    monkeypatch.setattr("aestheticc_pos.ui.views.reports.choose_save_path", lambda *_a, **_k: str(saved))
    view.show_page("memberships")
    page = view.pages["memberships"]
    qtbot.waitUntil(lambda: page.loaded and not view.busy, timeout=15_000)
    card = page.cards["arrears"]
    assert page.report.arrears_more and card.model.rowCount() == 1
    assert card.model.index(0, 0).data() == everyone.members[0].client_name
    assert f"Only the 1 longest overdue of the {everyone.count} members in arrears" in card.note.text()
    assert f"{everyone.count} in arrears owing {fmt.money(everyone.total)}" in page.summary.text()

    card.csv_button.click()  # every member, read again off the GUI thread, then saved
    qtbot.waitUntil(lambda: saved.exists() and not view.busy, timeout=15_000)
    with saved.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:4] == ["Client", "Tier", "Status", "Owed"]
    assert [r[0] for r in rows[1:]] == [m.client_name for m in everyone.members]
