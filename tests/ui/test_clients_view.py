"""The Clients screen as a receptionist uses it: type to search, read the list, open a record, add a client."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from staffing import front_desk

from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.ui.models.clients import LOADING
from aestheticc_pos.ui.tasks import UNEXPECTED
from aestheticc_pos.ui.topics import CLIENTS
from aestheticc_pos.ui.views.clients import ClientsView


@pytest.fixture
def view(qtbot, demo_desk):
    view = ClientsView(demo_desk)
    qtbot.addWidget(view)
    view.resize(1166, 700)
    view.show()
    qtbot.waitExposed(view)
    view.refresh()
    qtbot.waitUntil(lambda: view.count.text() == "40 clients", timeout=5000)
    yield view
    qtbot.waitUntil(lambda: not demo_desk.runner.busy, timeout=10_000)  # nothing lands after the test


def _rows(qtbot, view: ClientsView) -> list[tuple[str, str, str, str]]:
    """The table as the receptionist reads it, once every row has arrived."""
    model = view.model

    def cell(row: int, column: int) -> str:
        return model.data(model.index(row, column))

    qtbot.waitUntil(lambda: all(cell(r, 0) != LOADING for r in range(model.rowCount())), timeout=5000)
    return [tuple(cell(r, c) for c in range(4)) for r in range(model.rowCount())]


def _search(qtbot, view: ClientsView, text: str) -> None:
    view.search.clear()
    qtbot.keyClicks(view.search, text)
    qtbot.waitUntil(lambda: view.searched_text == text, timeout=5000)


def test_the_screen_opens_on_the_search_box_and_lists_every_client(qtbot, view) -> None:
    qtbot.waitUntil(view.search.hasFocus, timeout=2000)
    rows = _rows(qtbot, view)
    assert len(rows) == 40
    surnames = [name.split()[-1] for name, *_ in rows]
    assert surnames == sorted(surnames)
    assert all(phone.startswith("07700 9") for _, phone, _, _ in rows)


def test_typing_a_name_searches_as_you_type(qtbot, view, demo_desk) -> None:
    qtbot.keyClicks(view.search, "sco")
    qtbot.waitUntil(lambda: view.count.text() == "4 found", timeout=5000)
    rows = _rows(qtbot, view)
    assert [name for name, *_ in rows] == ["Chloe Scott", "Ella Scott", "Ella Scott", "Poppy Scott"]
    assert view.current_client_id == view.model.client_id(0)  # Enter would open the top match

    _search(qtbot, view, "ella sc")
    assert [name for name, *_ in _rows(qtbot, view)] == ["Ella Scott", "Ella Scott"]
    assert view.count.text() == "2 found"


def test_a_phone_number_or_an_email_finds_the_client(qtbot, view) -> None:
    _search(qtbot, view, "07700 900 030")
    assert _rows(qtbot, view) == [("Chloe Scott", "07700 900030", "chloe.scott30@example.com", "24 Dec 1986")]

    _search(qtbot, view, "Chloe.Scott30@Ex")
    assert [email for _, _, email, _ in _rows(qtbot, view)] == ["chloe.scott30@example.com"]


def test_nothing_found_says_what_to_try(qtbot, view) -> None:
    _search(qtbot, view, "zzq")
    assert view.model.rowCount() == 0
    assert "No client matches “zzq”" in view.count.text()


def test_an_older_search_that_finishes_last_is_dropped(qtbot, view, demo_desk) -> None:
    _rows(qtbot, view)  # every row on screen has arrived: only the search is held below
    fast = demo_desk.services
    release = threading.Event()

    def held_uow(*args, **kwargs):
        release.wait(10)
        return fast.uow(*args, **kwargs)

    demo_desk.services = dataclasses.replace(fast, uow=held_uow)
    qtbot.keyClicks(view.search, "e")
    qtbot.wait(400)  # the debounce fired: the search for "e" is held on a pool thread
    demo_desk.services = fast
    _search(qtbot, view, "sco")
    assert view.count.text() == "4 found"

    release.set()  # now the search for "e" finishes, last
    qtbot.waitUntil(lambda: not demo_desk.runner.busy, timeout=5000)
    qtbot.wait(50)
    assert view.count.text() == "4 found"
    assert {name.split()[-1] for name, *_ in _rows(qtbot, view)} == {"Scott"}


def test_enter_in_the_search_opens_the_top_match_even_before_the_search_came_back(
    qtbot, view, demo_desk
) -> None:
    with qtbot.waitSignal(demo_desk.open_client, timeout=5000) as opened:
        qtbot.keyClicks(view.search, "poppy scott")
        qtbot.keyClick(view.search, Qt.Key.Key_Return)
    poppy = clients_service.search_client_ids(demo_desk.services, "poppy scott")
    assert opened.args == [poppy[0]]
    assert view.pages.currentWidget() is view.record_page
    qtbot.waitUntil(lambda: view.record.title.text() == "Poppy Scott", timeout=5000)

    qtbot.waitUntil(view.record.tabs.hasFocus, timeout=2000)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)  # back to the list, to type the next name
    assert view.pages.currentWidget() is view.list_page
    qtbot.waitUntil(view.search.hasFocus, timeout=2000)
    assert view.search.selectedText() == "poppy scott"


def test_down_then_enter_opens_the_next_client_without_the_mouse(qtbot, view, demo_desk) -> None:
    _search(qtbot, view, "sco")
    qtbot.keyClick(view.search, Qt.Key.Key_Down)
    assert view.table.hasFocus()
    assert view.table.currentIndex().row() == 1
    with qtbot.waitSignal(demo_desk.open_client, timeout=5000) as opened:
        qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert opened.args == [view.model.client_id(1)]
    qtbot.waitUntil(lambda: view.record.title.text() == "Ella Scott", timeout=5000)


def test_double_click_opens_the_record_and_back_returns_to_the_same_list(qtbot, view, demo_desk) -> None:
    _search(qtbot, view, "begum")
    rows = _rows(qtbot, view)
    rect = view.table.visualRect(view.model.index(2, 0))
    with qtbot.waitSignal(demo_desk.open_client, timeout=5000) as opened:
        # a real double-click starts with a click (QTest's double-click alone has no press before it)
        qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args == [view.model.client_id(2)]
    qtbot.waitUntil(lambda: view.record.title.text() == rows[2][0], timeout=5000)

    qtbot.mouseClick(view.back_button, Qt.MouseButton.LeftButton)
    assert view.pages.currentWidget() is view.list_page
    assert view.current_client_id == opened.args[0]
    assert _rows(qtbot, view) == rows


def test_ctrl_f_from_a_record_goes_back_to_the_search(qtbot, view) -> None:
    view.show_client(view.model.client_id(0))
    qtbot.waitUntil(lambda: view.record.record is not None, timeout=5000)
    qtbot.waitUntil(view.record.tabs.hasFocus, timeout=2000)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.pages.currentWidget() is view.list_page
    assert view.search.hasFocus()


def test_add_a_client_with_a_bad_email_fix_it_and_find_them_in_the_list(qtbot, view, demo_desk) -> None:
    qtbot.keyClick(view.search, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    form = view.form
    assert form is not None and form.isVisible()
    qtbot.keyClicks(form.first_name, "Nadia")
    qtbot.keyClicks(form.last_name, "Okafor")
    qtbot.keyClicks(form.phone, "07700 123456")
    qtbot.keyClicks(form.email, "nadia@okafor")
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.errors["email"].isVisible(), timeout=5000)
    assert form.errors["email"].text() == "“nadia@okafor” does not look like an email address."
    assert (form.first_name.text(), form.last_name.text(), form.phone.text()) == (
        "Nadia",
        "Okafor",
        "07700 123456",
    )
    assert form.isVisible()

    form.email.setFocus()
    form.email.selectAll()
    qtbot.keyClicks(form.email, "nadia@okafor.co.uk")
    assert not form.errors["email"].isVisible()  # typing clears the sentence
    with qtbot.waitSignal(demo_desk.changed, timeout=5000) as changed:
        qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    assert CLIENTS in changed.args[0]
    qtbot.waitUntil(lambda: not form.isVisible(), timeout=5000)

    qtbot.waitUntil(lambda: view.count.text() == "1 found", timeout=5000)
    assert view.search.text() == "Nadia Okafor"
    assert _rows(qtbot, view) == [("Nadia Okafor", "07700 123456", "nadia@okafor.co.uk", "")]
    assert view.current_client_id == view.model.client_id(0)
    view.search.clear()
    qtbot.waitUntil(lambda: view.count.text() == "41 clients", timeout=5000)


def test_a_change_elsewhere_refreshes_the_list_and_keeps_the_selected_client(qtbot, view, demo_desk) -> None:
    _search(qtbot, view, "scott")
    view.table.setCurrentIndex(view.model.index(2, 0))
    chosen = view.current_client_id
    clients_service.edit_client(
        demo_desk.services, chosen, staff_id=front_desk(demo_desk.services), first_name="Elspeth"
    )
    qtbot.waitUntil(lambda: "Elspeth Scott" in [name for name, *_ in _rows(qtbot, view)], timeout=5000)
    assert view.current_client_id == chosen


def test_an_empty_clinic_says_how_to_add_the_first_client(qtbot, desk) -> None:
    view = ClientsView(desk)
    qtbot.addWidget(view)
    view.refresh()
    qtbot.waitUntil(lambda: "No clients yet" in view.count.text(), timeout=5000)
    assert view.model.rowCount() == 0
    qtbot.waitUntil(lambda: not desk.runner.busy, timeout=5000)


def test_a_search_that_fails_says_so_in_a_sentence_and_keeps_the_list(qtbot, view, demo_desk) -> None:
    rows = _rows(qtbot, view)
    working = demo_desk.services

    def broken_uow(*args, **kwargs):
        raise OSError("disk I/O error")

    demo_desk.services = dataclasses.replace(working, uow=broken_uow)
    qtbot.keyClicks(view.search, "sco")
    qtbot.waitUntil(lambda: view.count.text() == UNEXPECTED, timeout=5000)
    assert _rows(qtbot, view) == rows

    demo_desk.services = working
    qtbot.keyClick(view.search, Qt.Key.Key_Return)  # once the till works again, Enter searches and opens
    qtbot.waitUntil(lambda: view.pages.currentWidget() is view.record_page, timeout=5000)
    qtbot.waitUntil(lambda: view.record.title.text() == "Chloe Scott", timeout=5000)


def test_opening_from_elsewhere_shows_the_record_here_as_the_main_window_wires_it(
    qtbot, view, demo_desk
) -> None:
    demo_desk.open_client.connect(view.show_client)  # the main window: desk.open_client → show_client
    loads: list[str] = []
    demo_desk.runner.busy_changed.connect(lambda busy: busy and loads.append("load"))
    poppy = clients_service.search_client_ids(demo_desk.services, "poppy scott")[0]
    demo_desk.open_client.emit(poppy)  # e.g. from the Today screen
    qtbot.waitUntil(lambda: view.record.title.text() == "Poppy Scott", timeout=5000)
    assert view.pages.currentWidget() is view.record_page

    view.show_list()
    _search(qtbot, view, "chloe")
    qtbot.waitUntil(lambda: not demo_desk.runner.busy, timeout=5000)
    loads.clear()
    qtbot.keyClick(view.search, Qt.Key.Key_Return)  # emits open_client, which comes back to show_client
    qtbot.waitUntil(lambda: view.record.title.text() == "Chloe Scott", timeout=5000)
    qtbot.waitUntil(lambda: not demo_desk.runner.busy, timeout=5000)
    assert view.record.client_id == view.model.client_id(0)
    assert len(loads) == 1  # the record was read once


def test_a_practitioner_looks_clients_up_but_adds_none(qtbot, view, demo_desk, switch_staff) -> None:
    assert view.new_button.isVisible()
    switch_staff(demo_desk, "Nurse Chloe Bennett")
    assert not view.new_button.isVisible()
    view.new_client()  # Ctrl+N does nothing for them
    assert view.form is None
    _search(qtbot, view, "poppy")
    assert _rows(qtbot, view)


def test_the_list_shows_tier_and_packages_and_filters_by_them(qtbot, view, demo_desk) -> None:
    qtbot.waitUntil(lambda: view.tier_filter.findText("Gold") >= 0, timeout=5000)
    view.tier_filter.setCurrentIndex(view.tier_filter.findText("Gold"))
    qtbot.waitUntil(lambda: view.count.text().endswith("found"), timeout=5000)
    rows = [
        tuple(view.model.data(view.model.index(r, c)) for c in range(6)) for r in range(view.model.rowCount())
    ]
    qtbot.waitUntil(lambda: all(row[0] != LOADING for row in rows), timeout=5000)
    gold = clients_service.ClientFilter(tier_id=view.tier_filter.currentData())
    expected = clients_service.search_client_page(demo_desk.services, "", filters=gold).rows
    assert expected and [row[0] for row in rows] == [c.full_name for c in expected]
    assert all(row[4].startswith("Gold") for row in rows)
    assert view.count.text() == f"{len(expected)} found"

    view.tier_filter.setCurrentIndex(0)

    def holders(index: int) -> list[str]:
        course = clients_service.ClientFilter(package_id=view.package_filter.itemData(index))
        return [c.id for c in clients_service.search_client_page(demo_desk.services, "", filters=course).rows]

    index = next(i for i in range(2, view.package_filter.count()) if holders(i))  # a package someone holds
    view.package_filter.setCurrentIndex(index)
    ids = lambda: [view.model.client_id(r) for r in range(view.model.rowCount())]  # noqa: E731
    qtbot.waitUntil(lambda: ids() == holders(index), timeout=5000)
    shown = [view.model.data(view.model.index(r, 5)) for r in range(view.model.rowCount())]
    assert all(view.package_filter.itemText(index) in text for text in shown)

    view.package_filter.setCurrentIndex(0)
    qtbot.waitUntil(lambda: view.count.text() == "40 clients", timeout=5000)


def test_typing_a_tiers_name_finds_its_members(qtbot, view) -> None:
    _search(qtbot, view, "gold")
    rows = _rows(qtbot, view)
    assert rows and all(view.model.summary(r).membership.startswith("Gold") for r in range(len(rows)))
