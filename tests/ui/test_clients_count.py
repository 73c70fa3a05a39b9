"""The Clients screen's count line on a large clinic: every list is counted no further than its cap, the whole
list of clients too, so a clinic group's million clients are never read just to be counted."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from aestheticc_pos.services import clients as clients_service
from aestheticc_pos.ui.models.clients import LOADING
from aestheticc_pos.ui.views import clients as clients_view
from aestheticc_pos.ui.views.clients import ClientsView

DEMO_CLIENTS = 40
ADDED = 25  # with the demo's: more than the first page holds, so the count is asked for


@pytest.fixture
def crowded_desk(demo_desk):
    for number in range(ADDED):
        clients_service.add_client(
            demo_desk.services,
            staff_id=demo_desk.staff_id,
            first_name="Zoe",
            last_name=f"Zimmer{number:02d}",
        )
    return demo_desk


def _open(qtbot, desk) -> ClientsView:
    view = ClientsView(desk)
    qtbot.addWidget(view)
    view.resize(1166, 700)
    view.show()
    view.refresh()
    return view


def _settled(qtbot, view: ClientsView) -> str:
    model = view.model
    qtbot.waitUntil(
        lambda: (
            model.rowCount() == clients_service.DEFAULT_PAGE
            and model.data(model.index(0, 0)) != LOADING
            and view.count.text() != "Counting…"
        ),
        timeout=5000,
    )
    qtbot.waitUntil(lambda: not view.desk.runner.busy, timeout=10_000)
    return view.count.text()


def test_every_client_is_counted_when_there_are_fewer_than_the_cap(qtbot, crowded_desk) -> None:
    view = _open(qtbot, crowded_desk)
    assert _settled(qtbot, view) == f"{DEMO_CLIENTS + ADDED} clients"


def test_a_list_longer_than_the_cap_says_more_than_and_reads_no_further(
    qtbot, crowded_desk, monkeypatch
) -> None:
    cap = DEMO_CLIENTS + ADDED - 5
    monkeypatch.setattr(clients_view, "COUNT_UP_TO", cap)
    counts: list[str] = []

    def seen(_conn, _cursor, statement, _parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if "count(" in statement.lower():
            counts.append(statement)

    engine = crowded_desk.services.uow.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        view = _open(qtbot, crowded_desk)
        assert _settled(qtbot, view) == f"More than {cap} clients"
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert counts, "the whole list was counted"
    assert all("LIMIT" in statement.upper() for statement in counts), counts
