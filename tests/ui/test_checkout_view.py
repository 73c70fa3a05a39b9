"""Checkout as the receptionist works it, on the demo clinic: find the client, add items, see the discounts,
take payment, read the receipt. Driven through the widgets (typing, keys, clicks) and read from what is shown."""

from __future__ import annotations

import datetime as dt
import re

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionViewItem
from staffing import front_desk

from aestheticc_pos.domain import memberships as membership_rules
from aestheticc_pos.domain.appointments import AppointmentStatus
from aestheticc_pos.services import appointments as appointments_service
from aestheticc_pos.services import catalogue as catalogue_service
from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.services import membership_views
from aestheticc_pos.services import packages as packages_service
from aestheticc_pos.services import staff as staff_service
from aestheticc_pos.store import catalogue_repo
from aestheticc_pos.store import repositories as repo
from aestheticc_pos.ui.desk import CheckoutRequest, Desk
from aestheticc_pos.ui.models.basket import ITEM, NET, REASON, VAT
from aestheticc_pos.ui.views.checkout import CheckoutView
from aestheticc_pos.ui.views.checkout_basket import item_of_each_line
from aestheticc_pos.ui.views.checkout_payment import TenderMode

SALE_NUMBER = re.compile(r"A-\d{6}")


# --- driving the screen -------------------------------------------------------------------------------------


def _open(qtbot, desk: Desk) -> CheckoutView:
    view = CheckoutView(desk)

    def settle(_view: CheckoutView) -> None:  # no answer may arrive for a view that is gone
        qtbot.waitUntil(lambda: not desk.runner.busy, timeout=10_000)

    qtbot.addWidget(view, before_close_func=settle)
    view.resize(1366, 768)
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    view.refresh()
    qtbot.waitUntil(lambda: len(view.catalogue) > 0, timeout=5000)
    return view


def _choose(qtbot, finder, field, typed: str, wanted: str) -> None:
    """Type into a search box, arrow down to ``wanted`` and press Enter."""
    qtbot.keyClicks(field, typed)
    qtbot.waitUntil(lambda: wanted in finder.matches(), timeout=5000)
    while finder.list.currentItem().text(0) != wanted:
        qtbot.keyClick(field, Qt.Key.Key_Down)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def _pick_client(qtbot, view: CheckoutView, name: str) -> None:
    _choose(qtbot, view.chooser.finder, view.chooser.search, name, name)
    qtbot.waitUntil(lambda: view.client is not None and view.client.name == name, timeout=5000)


def _add(qtbot, view: CheckoutView, typed: str, name: str) -> None:
    rows = view.model.rowCount()
    _choose(qtbot, view.item_finder, view.item_search, typed, name)
    qtbot.waitUntil(
        lambda: (
            _priced(view)
            and any(_cell(view, r, ITEM) == name for r in range(view.model.rowCount()))
            and view.model.rowCount() >= rows
        ),
        timeout=5000,
    )


def _priced(view: CheckoutView) -> bool:
    """The basket's quote is in (a membership with a sign-up fee is two lines of one item)."""
    quote = view.model.quote
    lines = 0 if quote is None else len(quote.lines)
    return (
        not view.payment.busy
        and lines == view.model.rowCount()
        and len(set(_items_of(view))) == len(view.items)
    )


def _items_of(view: CheckoutView) -> list[int]:
    return [] if view.model.quote is None else item_of_each_line(view.model.quote)


def _cell(view: CheckoutView, row: int, column: int) -> str:
    return view.model.index(row, column).data()


def _row_of(view: CheckoutView, name: str) -> int:
    return next(r for r in range(view.model.rowCount()) if _cell(view, r, ITEM) == name)


def _pay(qtbot, view: CheckoutView) -> None:
    qtbot.waitUntil(lambda: view.payment.pay_button.isEnabled(), timeout=5000)
    qtbot.mouseClick(view.payment.pay_button, Qt.MouseButton.LeftButton)


def _receipt_text(qtbot, view: CheckoutView) -> str:
    qtbot.waitUntil(
        lambda: view.last_sale.receipt_dialog is not None and view.last_sale.receipt_dialog.isVisible(),
        timeout=5000,
    )
    return view.last_sale.receipt_dialog.preview.toPlainText()


def _click_check_box(qtbot, view: CheckoutView, row: int) -> None:
    index = view.model.index(row, REASON)
    option = QStyleOptionViewItem()
    view.table.itemDelegateForIndex(index).initStyleOption(option, index)
    option.rect = view.table.visualRect(index)
    box = view.table.style().subElementRect(
        QStyle.SubElement.SE_ItemViewItemCheckIndicator, option, view.table
    )
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=box.center())


def _press(qtbot, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """A key pressed on the keyboard: it goes to whatever has the focus."""
    qtbot.keyClick(QApplication.focusWidget(), key, modifier)


def _type(qtbot, text: str) -> None:
    qtbot.keyClicks(QApplication.focusWidget(), text)


# --- the clinic's clients -----------------------------------------------------------------------------------


def _gold_member(desk: Desk) -> str:
    """A Gold member with the discount today whose packages do not cover Botox (made if the demo has none)."""
    services = desk.services
    for m in membership_views.memberships_list(services, "active"):
        covering = [
            s
            for p in packages_service.client_packages_overview(services, m.client_id)
            for s in p.steps
            if s.treatment_id == "tr-botox"
        ]
        if m.tier_name == "Gold" and m.discount_in_force and not covering:
            return m.client_name
    client = clients_service.add_client(
        services, staff_id=front_desk(services), first_name="Goldie", last_name="Hawn"
    )
    today = services.today()
    with services.uow() as uow:
        tier = catalogue_repo.load_tier(uow.session, "tier-gold")
        m = membership_rules.sign_up(tier, membership_id=services.new_id(), client_id=client.id, on=today)
        m = membership_rules.payment_confirmed(m, today + dt.timedelta(days=29), today)
        repo.save_membership(uow.session, m)
        uow.commit()
    return client.full_name


def _plain_client(desk: Desk) -> str:
    """A client with no membership and no package."""
    services = desk.services
    members = {m.client_id for m in membership_views.memberships_list(services)}
    for client in clients_service.search_clients(services, "", limit=100):
        if (
            client.id not in members
            and not packages_service.client_packages_overview(services, client.id)
            and len(clients_service.search_clients(services, client.full_name)) == 1
        ):
            return client.full_name
    raise AssertionError("the demo has no plain client")


# --- the tests ----------------------------------------------------------------------------------------------


def test_a_gold_member_gets_20_percent_off_botox_and_gets_change_from_cash(qtbot, demo_desk) -> None:
    view = _open(qtbot, demo_desk)
    name = _gold_member(demo_desk)
    _pick_client(qtbot, view, name)
    qtbot.waitUntil(lambda: "Gold member, 20% off" in view.chooser.card.text(), timeout=5000)
    _add(qtbot, view, "botox tr", "Botox treatment (up to 3 areas)")

    assert _cell(view, 0, REASON) == "Gold member 20%"
    assert (_cell(view, 0, NET), _cell(view, 0, VAT)) == ("£200.00", "£33.33")
    assert view.payment.total.text() == "£200.00"
    assert view.payment.vat.text() == "£33.33"
    assert view.payment.discounts.text() == "−£50.00"

    qtbot.keyClicks(view.payment.amount, "220")
    assert view.payment.hint.text() == "Change due £20.00"
    messages: list[str] = []
    demo_desk.message.connect(messages.append)
    _pay(qtbot, view)

    shown = _receipt_text(qtbot, view)
    number = SALE_NUMBER.search(shown)
    assert number is not None
    assert name in shown and "Botox treatment (up to 3 areas)" in shown and "Gold member 20%" in shown
    assert view.last_sale.receipt_dialog.change.text() == "Change due £20.00"
    assert messages == [f"Sale {number.group()} recorded: £200.00. Change due £20.00."]
    assert view.model.rowCount() == 0 and view.client is None  # ready for the next client
    assert view.payment.total.text() == "£0.00"


def test_a_walk_in_pays_by_card(qtbot, demo_desk) -> None:
    view = _open(qtbot, demo_desk)
    qtbot.mouseClick(view.chooser.walk_in_button, Qt.MouseButton.LeftButton)
    assert view.client is None and "Walk-in" in view.chooser.card.text()
    _add(qtbot, view, "vit", "Vitamin C serum")
    _add(qtbot, view, "vit", "Vitamin C serum")  # the same product again: one line, two of them
    assert view.model.rowCount() == 1 and _cell(view, 0, NET) == "£90.00"

    qtbot.mouseClick(view.payment.mode_buttons[TenderMode.CARD], Qt.MouseButton.LeftButton)
    assert view.payment.hint.text() == "Take £90.00 on the card terminal."
    _pay(qtbot, view)

    shown = _receipt_text(qtbot, view)
    assert "Walk-in" in shown and "Vitamin C serum" in shown and "2 × £45.00" in shown
    assert [(t.kind.value, t.amount.pence) for t in view.last_sale.receipt_dialog.receipt.tenders] == [
        ("card", 9000)
    ]
    assert not view.last_sale.receipt_dialog.change.isVisible()


def test_the_last_sale_stays_in_view_and_a_restarted_till_shows_it_with_its_receipt(qtbot, demo_desk) -> None:
    view = _open(qtbot, demo_desk)
    qtbot.mouseClick(view.chooser.walk_in_button, Qt.MouseButton.LeftButton)
    _add(qtbot, view, "vit", "Vitamin C serum")
    first_id = view._sale_id
    assert first_id is None  # given only when payment is taken
    qtbot.mouseClick(view.payment.mode_buttons[TenderMode.CARD], Qt.MouseButton.LeftButton)
    _pay(qtbot, view)
    _receipt_text(qtbot, view)
    receipt = view.last_sale.receipt_dialog.receipt
    view.last_sale.receipt_dialog.close()
    assert view.last_sale.label.text().startswith(f"Last sale on this till: {receipt.number} · £45.00 · ")
    assert view._sale_id is None  # the next basket is another sale

    restarted = _open(qtbot, demo_desk)  # the till comes back after a power cut
    restarted.refresh()
    qtbot.waitUntil(lambda: restarted.last_sale.button.isEnabled(), timeout=5000)
    assert receipt.number in restarted.last_sale.label.text()
    row_height = restarted.last_sale.height()
    qtbot.mouseClick(restarted.last_sale.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            restarted.last_sale.receipt_dialog is not None and restarted.last_sale.receipt_dialog.isVisible()
        )
    )
    assert restarted.last_sale.receipt_dialog.receipt.number == receipt.number
    assert restarted.last_sale.height() == row_height  # nothing moved


def test_underpaying_a_bad_amount_or_a_changed_total_is_a_sentence_and_the_basket_stays(
    qtbot, demo_desk
) -> None:
    view = _open(qtbot, demo_desk)
    _add(qtbot, view, "botox tr", "Botox treatment (up to 3 areas)")
    _add(qtbot, view, "spf", "SPF 50 daily sunscreen")
    assert view.payment.total.text() == "£282.00"

    qtbot.keyClicks(view.payment.amount, "232")
    assert view.payment.hint.text() == "£50.00 still due"
    _pay(qtbot, view)
    qtbot.waitUntil(lambda: view.payment.error.text() != "", timeout=5000)
    assert view.payment.error.text() == "£50.00 is still due. Add another payment."
    assert view.last_sale.receipt_dialog is None
    assert view.model.rowCount() == 2 and view.payment.total.text() == "£282.00"

    view.payment.amount.clear()
    qtbot.keyClicks(view.payment.amount, "2o0")
    _pay(qtbot, view)
    qtbot.waitUntil(lambda: "not an amount" in view.payment.error.text(), timeout=5000)
    assert view.model.rowCount() == 2

    # Another till changes the price after the client saw the total: the sale is refused with the new total.
    manager = next(m for m in staff_service.list_staff(demo_desk.services) if m.name == "Sophie Laurent")
    catalogue_service.edit_treatment(demo_desk.services, "tr-botox", staff_id=manager.id, price="300.00")
    view.payment.amount.clear()
    qtbot.keyClicks(view.payment.amount, "£282.00")
    _pay(qtbot, view)
    qtbot.waitUntil(lambda: "total changed" in view.payment.error.text(), timeout=5000)
    assert view.payment.error.text().startswith("The total changed to £332.00 since it was shown (£282.00).")
    qtbot.waitUntil(lambda: view.payment.total.text() == "£332.00", timeout=5000)  # the new total is shown
    assert view.model.rowCount() == 2 and view.last_sale.receipt_dialog is None

    view.payment.amount.clear()
    qtbot.keyClicks(view.payment.amount, "340")
    _pay(qtbot, view)
    assert "Change" in _receipt_text(qtbot, view)
    assert view.last_sale.receipt_dialog.change.text() == "Change due £8.00"


def test_a_split_payment_of_card_and_the_rest_in_cash(qtbot, demo_desk) -> None:
    view = _open(qtbot, demo_desk)
    _add(qtbot, view, "botox tr", "Botox treatment (up to 3 areas)")
    qtbot.mouseClick(view.payment.mode_buttons[TenderMode.SPLIT], Qt.MouseButton.LeftButton)
    assert view.payment.split_kind.currentText() == "Card"
    qtbot.keyClicks(view.payment.amount, "100")
    qtbot.keyClick(view.payment.amount, Qt.Key.Key_Return)  # adds the card payment
    assert view.payment.split_list.item(0).text().split() == ["Card", "£100.00"]
    assert view.payment.hint.text() == "£150.00 still due"
    view.payment.split_kind.setCurrentIndex(view.payment.split_kind.findText("Cash"))
    assert view.payment.amount.placeholderText().startswith("£150.00")
    qtbot.keyClicks(view.payment.amount, "160")
    assert view.payment.hint.text() == "Change due £10.00"  # only cash gives change
    view.payment.amount.clear()
    _pay(qtbot, view)  # the amount left empty: the rest, in cash

    shown = _receipt_text(qtbot, view)
    assert "Card" in shown and "£100.00" in shown and "£150.00" in shown
    tenders = [(t.kind.value, t.amount.pence) for t in view.last_sale.receipt_dialog.receipt.tenders]
    assert tenders == [("card", 10_000), ("cash", 15_000)]


def test_a_package_sold_here_pays_for_the_next_session_unless_declined(qtbot, demo_desk) -> None:
    view = _open(qtbot, demo_desk)
    name = _plain_client(demo_desk)
    _pick_client(qtbot, view, name)
    _add(qtbot, view, "micro", "Microneedling course of 6")
    assert view.payment.total.text() == "£1,000.00"
    qtbot.mouseClick(view.payment.mode_buttons[TenderMode.CARD], Qt.MouseButton.LeftButton)
    _pay(qtbot, view)
    assert "Microneedling course of 6" in _receipt_text(qtbot, view)
    qtbot.mouseClick(view.last_sale.receipt_dialog.new_sale_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.last_sale.receipt_dialog.isVisible(), timeout=2000)

    _pick_client(qtbot, view, name)
    qtbot.waitUntil(
        lambda: "Microneedling course of 6: 6 sessions left" in view.chooser.card.text(), timeout=5000
    )
    _add(qtbot, view, "microneedling", "Microneedling")
    row = _row_of(view, "Microneedling")
    assert _cell(view, row, REASON) == "Package: Microneedling course of 6, session 1 of 6"
    assert _cell(view, row, NET) == "£0.00" and view.payment.total.text() == "£0.00"
    assert view.model.index(row, REASON).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked

    _click_check_box(qtbot, view, row)  # untick "Use package": the client pays for this one
    qtbot.waitUntil(lambda: _priced(view) and _cell(view, row, NET) == "£200.00", timeout=5000)
    assert _cell(view, row, REASON) == "Use package: Microneedling course of 6"
    assert view.payment.total.text() == "£200.00"
    assert view.model.index(row, REASON).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked

    _click_check_box(qtbot, view, row)  # tick it again
    qtbot.waitUntil(lambda: _priced(view) and _cell(view, row, NET) == "£0.00", timeout=5000)
    assert view.payment.hint.text() == "Nothing to pay."
    _pay(qtbot, view)
    shown = _receipt_text(qtbot, view)
    assert "Package: Microneedling course of 6, session 1 of 6" in shown and "Nothing to pay" in shown


def test_the_whole_sale_without_the_mouse(qtbot, demo_desk) -> None:
    view = _open(qtbot, demo_desk)
    name = _gold_member(demo_desk)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is view.chooser.search, timeout=2000)

    _type(qtbot, name)
    qtbot.waitUntil(lambda: name in view.chooser.finder.matches(), timeout=5000)
    while view.chooser.finder.list.currentItem().text(0) != name:
        _press(qtbot, Qt.Key.Key_Down)
    _press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: view.client is not None and QApplication.focusWidget() is view.item_search, timeout=5000
    )

    for typed, wanted in (
        ("botox tr", "Botox treatment (up to 3 areas)"),
        ("aftercare", "Post-treatment aftercare balm"),
        ("spf", "SPF 50 daily sunscreen"),
    ):
        _type(qtbot, typed)
        qtbot.waitUntil(lambda w=wanted: w in view.item_finder.matches(), timeout=2000)
        assert view.item_finder.list.currentItem().text(0) == wanted
        _press(qtbot, Qt.Key.Key_Return)
        qtbot.waitUntil(
            lambda w=wanted: (
                _priced(view) and any(_cell(view, r, ITEM) == w for r in range(view.model.rowCount()))
            ),
            timeout=5000,
        )

    # Into the basket with Tab, then Delete removes the sunscreen (the current line) and + buys two balms.
    while QApplication.focusWidget() is not view.table:
        _press(qtbot, Qt.Key.Key_Tab)
    assert _cell(view, view.table.currentIndex().row(), ITEM) == "SPF 50 daily sunscreen"
    _press(qtbot, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: _priced(view) and view.model.rowCount() == 2, timeout=5000)
    assert _cell(view, view.table.currentIndex().row(), ITEM) == "Post-treatment aftercare balm"
    _press(qtbot, Qt.Key.Key_Plus)
    qtbot.waitUntil(lambda: _priced(view) and view.items[1].quantity == 2, timeout=5000)
    assert view.payment.total.text() == "£229.60"  # £200.00 + 2 × £18.50 less 20%

    _press(qtbot, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)  # Cash
    qtbot.waitUntil(lambda: QApplication.focusWidget() is view.payment.amount, timeout=2000)
    _type(qtbot, "250")
    assert view.payment.hint.text() == "Change due £20.40"
    _press(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    shown = _receipt_text(qtbot, view)
    assert SALE_NUMBER.search(shown) and "Post-treatment aftercare balm" in shown

    qtbot.waitUntil(
        lambda: QApplication.focusWidget() is view.last_sale.receipt_dialog.new_sale_button, timeout=2000
    )
    _press(qtbot, Qt.Key.Key_Return)  # New sale
    qtbot.waitUntil(lambda: not view.last_sale.receipt_dialog.isVisible(), timeout=2000)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is view.chooser.search, timeout=2000)
    assert view.model.rowCount() == 0


def test_checkout_opened_from_a_booked_appointment(qtbot, demo_desk) -> None:
    services = demo_desk.services
    booked = next(
        a
        for a in appointments_service.appointments_on(services, services.today())
        if a.status is AppointmentStatus.BOOKED
    )
    view = _open(qtbot, demo_desk)
    view.start_request(CheckoutRequest(booked.client_id, booked.id))
    qtbot.waitUntil(lambda: view.client is not None and view.client.name == booked.client_name, timeout=5000)
    qtbot.waitUntil(lambda: _priced(view) and view.model.rowCount() == 1, timeout=5000)
    assert _cell(view, 0, ITEM) == booked.treatment_name
    assert view.items[0].appointment_id == booked.id

    qtbot.mouseClick(view.payment.mode_buttons[TenderMode.CARD], Qt.MouseButton.LeftButton)
    _pay(qtbot, view)
    _receipt_text(qtbot, view)
    detail = appointments_service.appointment_detail(services, booked.id)
    assert detail.appointment.status is AppointmentStatus.ATTENDED


def test_the_screen_fits_a_small_laptop(qtbot, demo_desk, tmp_path) -> None:
    view = _open(qtbot, demo_desk)
    _add(qtbot, view, "botox tr", "Botox treatment (up to 3 areas)")
    qtbot.wait(100)
    bottom = view.payment.pay_button.mapTo(view, QPoint(0, view.payment.pay_button.height()))
    assert view.payment.pay_button.isVisible() and bottom.y() <= 768
    assert view.payment.total.width() >= view.payment.total.sizeHint().width()  # the total is never cut
    assert view.grab().save(str(tmp_path / "checkout.png"))


def test_a_gold_membership_sold_at_the_till_takes_the_first_month_and_waits_for_the_direct_debit(
    qtbot, demo_desk
) -> None:
    services = demo_desk.services
    view = _open(qtbot, demo_desk)
    name = _plain_client(demo_desk)
    _pick_client(qtbot, view, name)
    _add(qtbot, view, "botox tr", "Botox treatment (up to 3 areas)")
    assert view.payment.total.text() == "£250.00"

    qtbot.keyClicks(view.item_search, "gold")
    qtbot.waitUntil(lambda: "Gold membership" in view.item_finder.matches(), timeout=5000)
    offered = next(
        view.item_finder.list.topLevelItem(i)
        for i in range(view.item_finder.list.topLevelItemCount())
        if view.item_finder.list.topLevelItem(i).text(0) == "Gold membership"
    )
    assert [offered.text(c) for c in range(3)] == [
        "Gold membership",
        "Membership",
        "£49.00 a month, 20% off treatments and products",
    ]
    view.item_search.clear()
    _choose(qtbot, view.item_finder, view.item_search, "gold membership", "Gold membership")
    line = "Gold membership · first month 24 Nov–23 Dec 2026, then £49.00 a month by Direct Debit"
    qtbot.waitUntil(lambda: _priced(view) and view.model.rowCount() == 2, timeout=5000)
    row = _row_of(view, line)
    assert (_cell(view, row, NET), _cell(view, row, VAT), _cell(view, row, REASON)) == ("£49.00", "£8.17", "")
    # The first month is paid by this sale, so Gold's discount applies to the rest of the basket at once.
    assert view.payment.total.text() == "£249.00"

    messages: list[str] = []
    demo_desk.message.connect(messages.append)
    qtbot.mouseClick(view.payment.mode_buttons[TenderMode.CARD], Qt.MouseButton.LeftButton)
    _pay(qtbot, view)
    shown = _receipt_text(qtbot, view)
    assert line in shown
    (message,) = messages
    assert "costs nothing" not in message
    assert (
        f"The first month of the membership is paid; {name} must authorise the Direct Debit for the following "
        "months"
    ) in message

    client_id = clients_service.search_clients(services, name)[0].id
    member = membership_views.membership_of(services, client_id)
    assert member is not None
    assert (member.tier_name, member.status.value, member.direct_debit, member.paid_through) == (
        "Gold",
        "active",
        "waiting for the client to authorise",
        dt.date(2026, 12, 23),
    )


def test_a_tier_with_a_sign_up_fee_adds_the_fee_as_its_own_line(qtbot, demo_desk) -> None:
    manager = next(m for m in staff_service.list_staff(demo_desk.services) if m.name == "Sophie Laurent")
    catalogue_service.edit_tier(demo_desk.services, "tier-silver", staff_id=manager.id, signup_fee="25.00")
    view = _open(qtbot, demo_desk)
    _pick_client(qtbot, view, _plain_client(demo_desk))

    _choose(qtbot, view.item_finder, view.item_search, "silver membership", "Silver membership")
    qtbot.waitUntil(lambda: not view.payment.busy and view.model.rowCount() == 2, timeout=5000)  # one item
    first = _row_of(
        view, "Silver membership · first month 24 Nov–23 Dec 2026, then £29.00 a month by Direct Debit"
    )
    fee = _row_of(view, "Silver membership · sign-up fee")
    assert (_cell(view, first, NET), _cell(view, fee, NET)) == ("£29.00", "£25.00")
    assert view.payment.total.text() == "£54.00"

    # A serum after it, then Delete on the fee line: the membership goes (both its lines), the serum stays.
    _choose(qtbot, view.item_finder, view.item_search, "vit", "Vitamin C serum")
    qtbot.waitUntil(lambda: not view.payment.busy and view.model.rowCount() == 3, timeout=5000)
    view.remove_line(_row_of(view, "Silver membership · sign-up fee"))
    qtbot.waitUntil(lambda: not view.payment.busy and view.model.rowCount() == 1, timeout=5000)
    assert _cell(view, 0, ITEM) == "Vitamin C serum"


def test_a_membership_for_a_walk_in_is_refused_and_taken_out_of_the_basket(qtbot, demo_desk) -> None:
    view = _open(qtbot, demo_desk)
    _add(qtbot, view, "vit", "Vitamin C serum")
    _choose(qtbot, view.item_finder, view.item_search, "gold membership", "Gold membership")
    qtbot.waitUntil(lambda: view.basket_error.text() != "", timeout=5000)
    assert view.basket_error.text() == "Choose the client first: a membership belongs to a client."
    qtbot.waitUntil(lambda: _priced(view) and view.model.rowCount() == 1, timeout=5000)
    assert _cell(view, 0, ITEM) == "Vitamin C serum"
