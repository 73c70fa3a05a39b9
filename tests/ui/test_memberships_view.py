"""The Memberships screen at the desk: sign up, notice, arrears taken at the desk, and the filter."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QDate, QPoint, Qt
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from aestheticc_pos.domain import memberships as rules
from aestheticc_pos.services import catalogue, clinic, membership_views
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.services.membership_views import MembershipView
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.store.tables import MembershipPaymentRow
from aestheticc_pos.ui.desk import Desk
from aestheticc_pos.ui.dialogs.membership_forms import ArrearsDialog, NoticeDialog, SignUpDialog
from aestheticc_pos.ui.views.memberships import MembershipsView

WAIT = 5000
TODAY = dt.date(2026, 11, 24)


@pytest.fixture(autouse=True)
def _background_work_done(qtbot, request: pytest.FixtureRequest):
    """Let every service call the test started call back before its desk goes away (whichever desk it used:
    asked for here, before the test, so it is torn down after this waits)."""
    used: list[Desk] = [
        request.getfixturevalue(n) for n in ("desk", "demo_desk") if n in request.fixturenames
    ]
    yield
    for desk in used:
        qtbot.waitUntil(lambda desk=desk: not desk.runner.busy, timeout=WAIT)


@pytest.fixture
def view(qtbot, demo_desk: Desk) -> MembershipsView:
    """The screen as Rita Evans, the receptionist, sees it."""
    view = MembershipsView(demo_desk)
    qtbot.addWidget(view)
    view.resize(1366, 768)
    view.show()
    view.refresh()
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=WAIT)
    return view


def _click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _shown(view: MembershipsView) -> list[MembershipView]:
    return [view.model.row(r) for r in range(view.model.rowCount())]


def _cell(view: MembershipsView, client_name: str, column: str) -> str | None:
    columns = [c.caption for c in view.model.columns]
    for r, m in enumerate(_shown(view)):
        if m.client_name == client_name:
            return view.model.data(view.model.index(r, columns.index(column)))
    return None


def _select(view: MembershipsView, client_name: str) -> MembershipView:
    row = next(r for r, m in enumerate(_shown(view)) if m.client_name == client_name)
    view.table.selectRow(row)
    return view.selected()


def _a_client_who_is_not_a_member(desk: Desk) -> clients_service.ClientSummary:
    members = {m.client_id for m in membership_views.memberships_list(desk.services)}
    names = [m.client_name for m in membership_views.memberships_list(desk.services)]
    for client in clients_service.search_clients(desk.services, "", limit=100):
        if client.id not in members and client.full_name not in names:
            return client
    raise AssertionError("every demo client is a member")


def test_signing_a_client_up_to_gold_shows_them_pending_direct_debit(qtbot, view) -> None:
    client = _a_client_who_is_not_a_member(view.desk)
    _click(qtbot, view.sign_up_button)
    dialog = view.dialog
    assert isinstance(dialog, SignUpDialog)
    qtbot.waitUntil(lambda: dialog.tier_id.count() == 3, timeout=WAIT)
    _click(qtbot, dialog.save_button)
    assert dialog.errors["client"].text() == "Choose the client from the list."

    qtbot.keyClicks(dialog.search, client.last_name)
    qtbot.waitUntil(
        lambda: any(
            getattr(dialog.results.item(i).data(Qt.ItemDataRole.UserRole), "id", None) == client.id
            for i in range(dialog.results.count())
        ),
        timeout=WAIT,
    )
    row = next(
        i
        for i in range(dialog.results.count())
        if dialog.results.item(i).data(Qt.ItemDataRole.UserRole).id == client.id
    )
    dialog.results.setCurrentRow(row)
    dialog.tier_id.setCurrentIndex(dialog.tier_id.findData("tier-gold"))
    assert dialog.tier_terms.text() == (
        "£49.00 a month by Direct Debit. 20% off treatments and products, from the first collected payment."
    )
    _click(qtbot, dialog.save_button)

    qtbot.waitUntil(lambda: _cell(view, client.full_name, "Status") == "Pending Direct Debit", timeout=WAIT)
    assert not dialog.isVisible()
    assert _cell(view, client.full_name, "Tier") == "Gold"
    assert _cell(view, client.full_name, "Discount") == "Not in force"  # Gold starts at the first payment
    assert view.selected().client_name == client.full_name
    assert view.panel.values["Direct Debit"].text() == "Waiting for the client to authorise the Direct Debit"

    view.set_filter(rules.MembershipStatus.PENDING_MANDATE)
    assert [m.client_name for m in _shown(view)] == [client.full_name]
    assert view.chips[rules.MembershipStatus.PENDING_MANDATE].text() == "Pending Direct Debit  1"


def test_a_membership_just_saved_is_chosen_when_a_list_that_has_it_arrives(qtbot, view) -> None:
    everyone = _shown(view)
    newest, chosen = everyone[-1], everyone[0]
    _select(view, chosen.client_name)
    view._wanted = newest.id  # as the sign-up dialog's "saved" sets it
    view._show([m for m in everyone if m.id != newest.id])  # a refresh started before the save came back
    assert view.selected().id == chosen.id  # the row staff had chosen stays chosen
    view._show(everyone)  # the refresh that has it
    assert view.selected().id == newest.id
    _select(view, chosen.client_name)
    view._show(everyone)  # chosen once: later refreshes keep what staff choose
    assert view.selected().id == chosen.id
    view._choose(newest.id)  # the save's answer after the list that has it: chosen at once
    assert view.selected().id == newest.id and view._wanted is None


def test_the_sign_up_dialog_says_what_the_client_pays_and_when_for_the_chosen_tier(qtbot, view) -> None:
    services = view.desk.services
    catalogue.edit_tier(
        services, "tier-gold", staff_id=_staff_id(view.desk, "Sophie Laurent"), signup_fee="25"
    )
    client = _a_client_who_is_not_a_member(view.desk)
    dialog = view.sign_up()
    qtbot.waitUntil(lambda: dialog.tier_id.count() == 3, timeout=WAIT)
    dialog.tier_id.setCurrentIndex(dialog.tier_id.findData("tier-silver"))
    qtbot.waitUntil(
        lambda: dialog.billing.text().startswith("The client pays £29.00 (the first month"), timeout=WAIT
    )
    assert "sign-up fee" not in dialog.billing.text()
    buttons_at = dialog.save_button.mapToGlobal(QPoint(0, 0))

    dialog.tier_id.setCurrentIndex(dialog.tier_id.findData("tier-gold"))
    gold = (
        "The client pays £74.00 (the first month, 24 Nov–23 Dec 2026, and the £25.00 sign-up fee) when they "
        "authorise the Direct Debit (by instant bank payment), then £49.00 a month by Direct Debit from "
        "24 Dec 2026."
    )
    qtbot.waitUntil(lambda: dialog.billing.text() == gold, timeout=WAIT)
    qtbot.wait(50)  # a layout that grows does so on the next turn of the event loop
    assert dialog.save_button.mapToGlobal(QPoint(0, 0)) == buttons_at  # nothing moved under the mouse
    for label in (dialog.tier_terms, dialog.billing):
        assert label.heightForWidth(label.width()) <= label.height()  # never cut

    qtbot.waitUntil(lambda: not view.desk.runner.busy, timeout=WAIT)  # the first search has answered
    dialog._show_clients([client])
    dialog.results.setCurrentRow(0)
    dialog.tier_id.setCurrentIndex(dialog.tier_id.findData("tier-gold"))
    qtbot.waitUntil(lambda: dialog.billing.text() == gold, timeout=WAIT)
    _click(qtbot, dialog.save_button)
    qtbot.waitUntil(lambda: _cell(view, client.full_name, "Status") == "Pending Direct Debit", timeout=WAIT)
    assert view.selected().client_name == client.full_name
    assert view.panel.values["Sign-up fee"].isVisible()
    assert view.panel.values["Sign-up fee"].text() == "£25.00, with the first month"


def test_without_instant_payments_the_first_month_is_a_direct_debit_a_few_days_later(qtbot, view) -> None:
    services = view.desk.services
    clinic.update_clinic_settings(
        services, _staff_id(view.desk, "Sophie Laurent"), instant_first_payment=False
    )
    dialog = view.sign_up()
    qtbot.waitUntil(lambda: dialog.tier_id.count() == 3, timeout=WAIT)
    dialog.tier_id.setCurrentIndex(dialog.tier_id.findData("tier-silver"))
    qtbot.waitUntil(lambda: dialog.billing.text().startswith("The client pays"), timeout=WAIT)
    assert dialog.billing.text() == (
        "The client pays £29.00 (the first month, 24 Nov–23 Dec 2026) by Direct Debit as soon as their bank "
        "allows, then £29.00 a month by Direct Debit from 24 Dec 2026."
    )


def test_a_client_who_is_already_a_member_is_refused_with_a_sentence(qtbot, view) -> None:
    member = _shown(view)[0]
    dialog = view.sign_up()
    qtbot.waitUntil(lambda: dialog.tier_id.count() == 3, timeout=WAIT)
    summary = clients_service.client_summaries(view.desk.services, [member.client_id])[member.client_id]
    qtbot.waitUntil(lambda: not view.desk.runner.busy, timeout=WAIT)  # the first search has answered
    dialog._show_clients([summary])
    dialog.results.setCurrentRow(0)
    _click(qtbot, dialog.save_button)

    qtbot.waitUntil(lambda: dialog.status.isVisible(), timeout=WAIT)
    assert dialog.status.text() == (
        f"{member.client_name} is already a {member.tier_name} member. "
        "Change the tier, or end that membership first."
    )
    assert dialog.isVisible() and dialog.chosen_client() == summary


def test_giving_notice_shows_cancelling_with_the_end_date_and_withdrawing_it_undoes_that(qtbot, view) -> None:
    member = next(m for m in _shown(view) if m.status is rules.MembershipStatus.ACTIVE)
    _select(view, member.client_name)
    assert view.panel.give_notice.isVisible() and not view.panel.withdraw_notice.isVisible()
    _click(qtbot, view.panel.give_notice)
    dialog = view.dialog
    assert isinstance(dialog, NoticeDialog)
    dialog.last_day.setDate(QDate(2026, 12, 31))
    _click(qtbot, dialog.save_button)

    qtbot.waitUntil(lambda: _cell(view, member.client_name, "Status") == "Ends 31 Dec 2026", timeout=WAIT)
    assert _cell(view, member.client_name, "Discount").endswith("in force")  # benefits until the end date
    view.set_filter(rules.MembershipStatus.CANCELLING)
    assert [m.client_name for m in _shown(view)] == [member.client_name]

    _select(view, member.client_name)
    assert view.panel.withdraw_notice.isVisible()
    _click(qtbot, view.panel.withdraw_notice)
    qtbot.waitUntil(lambda: not _shown(view), timeout=WAIT)  # no longer cancelling
    view.set_filter(None)
    assert _cell(view, member.client_name, "Status") == "Active"


def test_arrears_are_taken_at_the_desk_after_a_refused_amount(qtbot, view) -> None:
    member = next(m for m in _shown(view) if m.status is rules.MembershipStatus.ACTIVE)
    _payment_failed(view.desk, member.id, on=TODAY - dt.timedelta(days=3))
    view.refresh()
    qtbot.waitUntil(
        lambda: (_cell(view, member.client_name, "Status") or "").startswith("Past due"), timeout=WAIT
    )
    owed = membership_views.arrears_of(view.desk.services, member.id)
    assert owed is not None

    _select(view, member.client_name)
    assert view.panel.take_arrears.isVisible()
    _click(qtbot, view.panel.take_arrears)
    dialog = view.dialog
    assert isinstance(dialog, ArrearsDialog)
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled(), timeout=WAIT)
    assert dialog.owed.text() == f"£{owed.amount.pence // 100:,}.{owed.amount.pence % 100:02d}"
    assert dialog.period.text().startswith(f"{owed.months} month")

    qtbot.keyClicks(dialog.amount, "10.00")
    _click(qtbot, dialog.save_button)
    qtbot.waitUntil(lambda: dialog.errors["amount"].isVisible(), timeout=WAIT)
    assert "Take exactly that amount." in dialog.errors["amount"].text()
    assert dialog.amount.text() == "10.00"

    dialog.amount.clear()
    qtbot.keyClicks(dialog.amount, f"{owed.amount.pence / 100:.2f}")
    _click(qtbot, dialog.save_button)
    qtbot.waitUntil(lambda: _cell(view, member.client_name, "Status") == "Active", timeout=WAIT)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)  # a refresh may show it paid first


def test_a_past_due_member_shows_when_gocardless_will_try_the_payment_again(qtbot, view) -> None:
    member, other = [m for m in _shown(view) if m.status is rules.MembershipStatus.ACTIVE][:2]
    _payment_failed(view.desk, member.id, on=TODAY - dt.timedelta(days=2), retry_on=dt.date(2026, 11, 30))
    view.refresh()
    qtbot.waitUntil(
        lambda: (_cell(view, member.client_name, "Status") or "").startswith("Past due"), timeout=WAIT
    )

    _select(view, member.client_name)
    assert view.panel.retry.isVisible()
    assert view.panel.retry.text() == "GoCardless will try the failed payment again on 30 Nov 2026."
    assert not view.panel.values["Sign-up fee"].isVisible()  # the demo's tiers have none
    _select(view, other.client_name)
    assert not view.panel.retry.isVisible()


def test_ending_a_membership_asks_first(qtbot, view) -> None:
    member = _select(view, _shown(view)[0].client_name)
    box = view.end_selected()
    assert f"End {member.client_name}'s {member.tier_name} membership today?" in box.text()
    _click(qtbot, box.button(QMessageBox.StandardButton.Cancel))
    assert membership_views.membership_of(view.desk.services, member.client_id) is not None

    box = view.end_selected()
    _click(qtbot, box.button(QMessageBox.StandardButton.Yes))
    qtbot.waitUntil(lambda: _cell(view, member.client_name, "Status") is None, timeout=WAIT)
    assert membership_views.membership_of(view.desk.services, member.client_id) is None


def test_a_practitioner_sees_the_members_but_cannot_act(qtbot, view) -> None:
    _sign_in(view.desk, "Dr Amira Shah")
    _select(view, _shown(view)[0].client_name)

    assert not view.sign_up_button.isEnabled()
    assert not any(button.isVisible() for button in view.panel.actions)
    assert view.sign_up() is None
    assert view.status.text() == "Only a manager or a receptionist can sign up, pause or end memberships."


def _payment_failed(desk: Desk, membership_id: str, *, on: dt.date, retry_on: dt.date | None = None) -> None:
    """GoCardless reported that the last monthly collection failed on ``on`` (as the sync engine records it);
    with ``retry_on``, it will try that payment again on that day (the payment keeps failing until then, with
    the retry's charge date)."""
    with desk.services.uow() as uow:
        s = uow.session
        m = repo.load_membership(s, membership_id)
        payment = s.scalars(
            select(MembershipPaymentRow)
            .where(
                MembershipPaymentRow.membership_id == membership_id, MembershipPaymentRow.period_start <= on
            )
            .order_by(MembershipPaymentRow.period_start.desc())
            .limit(1)
        ).one()
        payment.gc_payment_id = f"PM-{membership_id[:8]}"
        payment.status = "failed"
        payment.charge_date = retry_on or payment.charge_date
        m = rules.payment_charged_back(m, payment.period_start, on)  # the month marked paid is owed again
        m = rules.payment_failed(m, on, retry_on is not None, payment.gc_payment_id if retry_on else None)
        repo.save_membership(s, m)
        uow.commit()


def _sign_in(desk: Desk, name: str) -> None:
    """Another member of the demo staff takes over the till (as ``conftest.sign_in``)."""
    desk.sign_in(next(m for m in staff_service.list_staff(desk.services) if m.name == name))


def _staff_id(desk: Desk, name: str) -> str:
    return next(m.id for m in staff_service.list_staff(desk.services) if m.name == name)
