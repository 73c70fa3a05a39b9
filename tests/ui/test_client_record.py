"""The client record as the front desk reads it: details, packages, membership, appointments, purchases."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from sqlalchemy import select
from staffing import front_desk

from aestheticc_pos.domain import memberships as rules
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import membership_views
from aestheticc_pos.services import packages as packages_service
from aestheticc_pos.services.appointments import appointments_of_client
from aestheticc_pos.services.sales import sales_of_client
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.tables import MembershipPaymentRow
from aestheticc_pos.ui import format as fmt
from aestheticc_pos.ui.topics import APPOINTMENTS
from aestheticc_pos.ui.views.client_record import ClientRecordView
from aestheticc_pos.ui.widgets.package_progress import PackageProgress


@pytest.fixture
def record(qtbot, demo_desk):
    view = ClientRecordView(demo_desk)
    qtbot.addWidget(view)
    view.resize(1166, 700)
    view.show()
    yield view
    qtbot.waitUntil(lambda: not demo_desk.runner.busy, timeout=10_000)


def _open(qtbot, view: ClientRecordView, client_id: str) -> None:
    view.show_client(client_id)
    qtbot.waitUntil(lambda: view.record is not None and view.record.client.id == client_id, timeout=5000)


def _texts(widget) -> list[str]:
    return [label.text() for label in widget.findChildren(QLabel) if label.text()]


def _first(desk, wanted) -> str:
    return next(i for i in clients_service.search_client_ids(desk.services, "") if wanted(i))


def test_details_show_what_is_on_file(qtbot, record, demo_desk) -> None:
    chloe = clients_service.search_client_ids(demo_desk.services, "chloe scott")[0]
    clients_service.edit_client(
        demo_desk.services, chloe, staff_id=front_desk(demo_desk.services), notes="Allergic to lidocaine."
    )
    _open(qtbot, record, chloe)
    assert record.title.text() == "Chloe Scott"
    details = _texts(record.details_card)
    for text in (
        "07700 900030",
        "chloe.scott30@example.com",
        "24 Dec 1986 (age 39)",
        "Allergic to lidocaine.",
    ):
        assert text in details
    assert record.subtitle.text().startswith("Age 39")


def test_packages_show_used_booked_and_left_per_step_and_the_expiry(qtbot, record, demo_desk) -> None:
    services = demo_desk.services
    client_id = _first(demo_desk, lambda i: packages_service.client_packages_overview(services, i))
    summary = packages_service.client_packages_overview(services, client_id)[0]
    _open(qtbot, record, client_id)
    cards = record.findChildren(PackageProgress)
    assert [card.summary.name for card in cards] == [summary.name]
    texts = _texts(cards[0])
    assert any(fmt.date(summary.expires_on) in text for text in texts)
    for step in summary.steps:
        used, booked, left = (label.text() for label in cards[0].counts[step.position])
        assert (used, booked, left) == (str(step.used), str(step.booked), str(step.remaining))
    assert record.tabs.tabText(0) == "Packages (1)"
    assert f"{summary.remaining} package session" in record.subtitle.text()


def test_membership_shows_tier_status_direct_debit_and_paid_through(qtbot, record, demo_desk) -> None:
    services = demo_desk.services
    client_id = _first(demo_desk, lambda i: membership_views.membership_of(services, i))
    membership = membership_views.membership_of(services, client_id)
    _open(qtbot, record, client_id)
    texts = _texts(record.membership_card)
    assert f"{membership.tier_name} · {fmt.money(membership.monthly_price)} a month" in texts
    assert "Active" in texts  # status, and the mandate's state
    assert texts.count("Active") == 2
    assert fmt.date(membership.paid_through) in texts
    assert f"{fmt.percent(membership.discount_bp)} today" in texts
    assert f"{membership.tier_name} member" in record.subtitle.text()


def test_a_missed_payment_shows_when_gocardless_will_try_it_again(qtbot, record, demo_desk) -> None:
    services = demo_desk.services
    client_id = _first(demo_desk, lambda i: membership_views.membership_of(services, i))
    membership = membership_views.membership_of(services, client_id)
    with services.uow() as uow:  # as the sync engine records a failed payment GoCardless will retry
        s = uow.session
        payment = s.scalars(
            select(MembershipPaymentRow)
            .where(MembershipPaymentRow.membership_id == membership.id)
            .order_by(MembershipPaymentRow.period_start.desc())
            .limit(1)
        ).one()
        payment.gc_payment_id, payment.status, payment.charge_date = (
            "PM-RETRY",
            "failed",
            dt.date(2026, 11, 30),
        )
        m = rules.payment_charged_back(
            repo.load_membership(s, membership.id), payment.period_start, membership.today
        )
        repo.save_membership(s, rules.payment_failed(m, membership.today, True, "PM-RETRY"))
        uow.commit()

    _open(qtbot, record, client_id)
    texts = _texts(record.membership_card)
    assert "Payment missed" in texts
    assert "GoCardless will try the failed payment again on 30 Nov 2026." in texts


def test_someone_who_is_not_a_member_says_so(qtbot, record, demo_desk) -> None:
    services = demo_desk.services
    client_id = _first(demo_desk, lambda i: membership_views.membership_of(services, i) is None)
    _open(qtbot, record, client_id)
    assert "Not a member." in _texts(record.membership_card)


def test_appointments_are_split_into_upcoming_and_past_in_the_clinics_time(qtbot, record, demo_desk) -> None:
    services = demo_desk.services
    now = services.now()
    client_id = _first(
        demo_desk, lambda i: any(a.starts_at > now for a in appointments_of_client(services, i))
    )
    appointments = appointments_of_client(services, client_id)
    upcoming = sorted(
        (a for a in appointments if a.starts_at >= now and a.status == "booked"), key=lambda a: a.starts_at
    )
    _open(qtbot, record, client_id)
    table = record.upcoming_table
    assert table.rowCount() == len(upcoming)
    assert record.past_table.rowCount() == len(appointments) - len(upcoming)
    first = upcoming[0]
    local = first.starts_at.astimezone(demo_desk.settings.tz)
    assert [table.item(0, c).text() for c in (0, 1, 3, 4)] == [
        fmt.date(local.date()),
        f"{local:%H:%M}",
        first.practitioner_name,
        "Booked",
    ]
    assert table.item(0, 2).text().startswith(first.treatment_name)
    assert record.tabs.tabText(1) == f"Upcoming ({len(upcoming)})"

    with qtbot.waitSignal(demo_desk.open_appointment, timeout=2000) as opened:
        table.cellDoubleClicked.emit(0, 2)
    assert opened.args == [first.id]


def test_purchases_list_each_sale_with_its_lines_and_a_right_aligned_total(qtbot, record, demo_desk) -> None:
    services = demo_desk.services
    client_id = _first(demo_desk, lambda i: sales_of_client(services, i))
    sales = sales_of_client(services, client_id)
    _open(qtbot, record, client_id)
    tree = record.sales_tree
    assert tree.topLevelItemCount() == len(sales)
    top, sale = tree.topLevelItem(0), sales[0]
    assert top.text(1) == sale.number
    assert top.text(3) == fmt.money(sale.net) and top.text(3).startswith("£")
    assert top.textAlignment(3) & Qt.AlignmentFlag.AlignRight
    assert top.childCount() == len(sale.lines)
    assert [top.child(n).text(3) for n in range(top.childCount())] == [
        fmt.money(line.net) for line in sale.lines
    ]
    assert record.tabs.tabText(3) == f"Purchases ({len(sales)})"


def test_ctrl_e_opens_the_form_filled_in_and_the_record_shows_the_change(qtbot, record, demo_desk) -> None:
    client_id = clients_service.search_client_ids(demo_desk.services, "poppy scott")[0]
    _open(qtbot, record, client_id)
    record.tabs.setFocus()
    qtbot.keyClick(record.tabs, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    form = record.form
    assert form is not None and form.isVisible()
    assert (form.first_name.text(), form.phone.text(), form.date_of_birth.text()) == (
        "Poppy",
        "07700 900017",
        "12/09/1977",
    )
    form.phone.clear()
    qtbot.keyClicks(form.phone, "020 7946 0123")
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "020 7946 0123" in _texts(record.details_card), timeout=5000)
    assert not form.isVisible()


def test_a_change_elsewhere_reloads_the_record(qtbot, record, demo_desk) -> None:
    client_id = clients_service.search_client_ids(demo_desk.services, "poppy scott")[0]
    _open(qtbot, record, client_id)
    clients_service.edit_client(
        demo_desk.services, client_id, staff_id=front_desk(demo_desk.services), last_name="Scott-Hale"
    )
    qtbot.waitUntil(lambda: record.title.text() == "Poppy Scott-Hale", timeout=5000)  # from the commit

    before = record.record
    demo_desk.changed.emit(frozenset({"catalogue"}))  # not shown here: no reload
    qtbot.wait(100)
    assert record.record is before
    demo_desk.changed.emit(frozenset({APPOINTMENTS}))
    qtbot.waitUntil(lambda: record.record is not before, timeout=5000)


def test_an_unknown_client_is_a_sentence_not_a_traceback(qtbot, record) -> None:
    record.show_client("no-such-client")
    qtbot.waitUntil(lambda: record.title.text() == "This record could not be opened", timeout=5000)
    assert record.subtitle.text() == "That client is not on file (they may have been erased)."
    assert not record.edit_button.isEnabled()
